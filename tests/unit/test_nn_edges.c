/* Edge sizes: empty batches, a one-item catalogue, zero-width inputs. None may
 * crash, read out of bounds (ASan) or produce NaN. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

TEST(nn_edges_linear)
{
    sbr_nn_ctx c = {0};
    double x[1] = {0}, w[3] = {1, 2, 3}, b[3] = {0.5, -1, 2}, y[6], dx[1] = {0}, dw[3] = {0},
           db[3] = {0}, dy[6] = {1, 1, 1, 1, 1, 1};
    /* in = 0: y = b, dW has no entries, db sums dy */
    sbr_nn_linear_forward_f64(&c, y, x, w, b, 2, 0, 3);
    CHECK(y[0] == 0.5 && y[4] == -1 && y[5] == 2);
    sbr_nn_linear_forward_f64(&c, y, x, w, NULL, 2, 0, 3);
    CHECK(y[0] == 0 && y[5] == 0);
    sbr_nn_linear_backward_f64(&c, dx, dw, db, dy, x, w, 2, 0, 3);
    CHECK(db[0] == 2 && db[2] == 2);
    /* n = 0 and out = 0: nothing happens */
    sbr_nn_linear_forward_f64(&c, NULL, NULL, w, b, 0, 1, 3);
    sbr_nn_linear_backward_f64(&c, dx, dw, db, NULL, NULL, w, 0, 1, 3);
    sbr_nn_linear_forward_f64(&c, NULL, x, NULL, NULL, 2, 1, 0);
    CHECK(db[0] == 2 && dw[0] == 0);
}

TEST(nn_edges_one_item_catalogue)
{
    /* N = 1: every row's only candidate is its target: loss 0, no gradient. */
    double S[2 * 3] = {1, 2, 3, -1, 0, 4}, E[2 * 3] = {9, 9, 9, 0.5, -0.2, 0.1};
    double loss[2], lse[2], dS[6] = {0}, dE[6] = {0}, dl[2] = {0.5, 0.5};
    int32_t t[2] = {1, 1};
    sbr_nn_scoring sc = {.B = 2, .U = 1, .N = 1, .d = 3, .chunk = 100};
    size_t need = sbr_nn_score_ce_scratch_f64(sc);
    void *scr = malloc(need);
    sbr_nn_ctx c = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_score_ce_forward_f64(&c, loss, lse, S, E, t, sc);
    CHECK_NEAR(loss[0], 0, 1e-15);
    CHECK_NEAR(loss[1], 0, 1e-15);
    sbr_nn_score_ce_backward_f64(&c, dS, dE, dl, S, E, t, lse, sc);
    for (int i = 0; i < 6; i++) {
        CHECK_NEAR(dS[i], 0, 1e-15);
        CHECK_NEAR(dE[i], 0, 1e-15);
    }
    /* B = 0 */
    sbr_nn_score_ce_forward_f64(&c, loss, lse, S, E, t, (sbr_nn_scoring){0, 1, 1, 3, 100, 0});
    sc.chunk = 7;
    free(scr);
    /* top-1 of a one-item catalogue */
    int32_t idx[2];
    double score[2];
    need = sbr_nn_topk_scratch_f64(sc, 1);
    scr = malloc(need);
    sbr_nn_ctx c2 = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_topk_f64(&c2, idx, score, S, E, 1, NULL, NULL, sc);
    CHECK(idx[0] == 1 && idx[1] == 1);
    CHECK_NEAR(score[0], 0.5 - 0.4 + 0.3, 1e-15);
    free(scr);
}

TEST(nn_edges_empty_sequences)
{
    sbr_nn_ctx c = {0};
    int32_t len[3] = {0, 0, 0};
    double x[3 * 4], y[3 * 4], dx[3 * 4] = {0}, dy[3 * 4];
    gc_fill(x, 12, -1, 1, 1);
    gc_fill(dy, 12, -1, 1, 2);
    sbr_nn_masked_softmax_forward_f64(&c, y, x, len, 3, 4);
    for (int i = 0; i < 12; i++)
        CHECK(y[i] == 0);
    sbr_nn_masked_softmax_backward_f64(&c, dx, dy, y, len, 3, 4);
    for (int i = 0; i < 12; i++)
        CHECK(dx[i] == 0);
    /* zero segments, zero rows */
    int32_t off[1] = {0};
    sbr_nn_segment_pool_forward_f64(&c, y, x, off, 0, 4, 1);
    sbr_nn_embedding_forward_f64(&c, y, x, NULL, 0, 3, 4, -1);
    uint8_t mask[1];
    sbr_nn_dropout_forward_f64(&c, y, mask, x, 0, 0.5, 1, 0);
    CHECK(!isnan(y[0]));
}
