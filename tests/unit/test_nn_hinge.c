/* Hinge loss over distances with and without "keep the k largest
 * violations": gradient checks, hand values, ties, +inf slots, and the top-k
 * selection against a brute-force sort. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "device.h"
#include "nn/nn.h"

enum { B_ = 4, M_ = 9 };

typedef struct {
    int k;
    double dpos[B_], dneg[B_ * M_], ddpos[B_], ddneg[B_ * M_], loss[B_], w[B_];
    uint8_t keep[B_ * M_];
    int32_t scratch[B_ * M_];
} hg_case;

static double hg_loss(void *u)
{
    hg_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sbr_nn_hinge_forward_f64(&ctx, c->loss, c->keep, c->dpos, c->dneg, B_, M_, 0.5, c->k);
    return gc_dot(c->w, c->loss, B_);
}

static void hg_backward(void *u)
{
    hg_case *c = u;
    hg_loss(c);
    memset(c->ddpos, 0, sizeof c->ddpos), memset(c->ddneg, 0, sizeof c->ddneg);
    sbr_nn_ctx ctx = {0};
    sbr_nn_hinge_backward_f64(&ctx, c->ddpos, c->ddneg, c->w, c->keep, B_, M_);
}

TEST(nn_hinge_gradcheck)
{
    int ks[] = {0, 3, 1, M_};
    for (int v = 0; v < 4; v++) {
        hg_case *c = calloc(1, sizeof *c);
        c->k = ks[v];
        gc_fill(c->dpos, B_, 0, 1, 1 + v);
        gc_fill(c->dneg, B_ * M_, 0, 2, 5 + v);
        gc_fill(c->w, B_, -1, 1, 9 + v);
        c->dneg[M_ + 2] = INFINITY; /* an excluded slot */
        gc_spec s = {.op = "hinge", .loss = hg_loss, .backward = hg_backward, .user = c};
        gc_add(&s, "dpos", c->dpos, c->ddpos, B_);
        gc_add(&s, "dneg", c->dneg, c->ddneg, B_ * M_);
        /* the +inf slot is not a variable: check it separately */
        double saved = c->dneg[M_ + 2];
        CHECK(isinf(saved));
        c->dneg[M_ + 2] = 5; /* a large finite distance: never a violation */
        CHECK_EQ_I64(gradcheck(&s), 0);
        c->dneg[M_ + 2] = INFINITY;
        hg_backward(c);
        CHECK(c->keep[M_ + 2] == 0 && c->ddneg[M_ + 2] == 0);
        /* every row had some violation, so the checks were not vacuous */
        int kept = 0;
        for (int i = 0; i < B_ * M_; i++)
            kept += c->keep[i];
        CHECK(kept >= B_);
        if (c->k > 0 && c->k < M_)
            CHECK(kept <= B_ * c->k);
        free(c);
    }
}

TEST(nn_hinge_values_and_ties)
{
    int32_t scr[64];
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    double dpos = 1, dneg[4] = {0.5, 2, 1.2, 0.9}, loss;
    uint8_t keep[5];
    /* violations 0.3 + 1 - dneg = 0.8, -0.7, 0.1, 0.4 */
    sbr_nn_hinge_forward_f64(&ctx, &loss, keep, &dpos, dneg, 1, 4, 0.3, 0);
    CHECK_NEAR(loss, 1.3, 1e-15);
    CHECK(keep[0] && !keep[1] && keep[2] && keep[3]);
    sbr_nn_hinge_forward_f64(&ctx, &loss, keep, &dpos, dneg, 1, 4, 0.3, 2);
    CHECK_NEAR(loss, 1.2, 1e-15);
    CHECK(keep[0] && !keep[1] && !keep[2] && keep[3]);
    sbr_nn_hinge_forward_f64(&ctx, &loss, keep, &dpos, dneg, 1, 4, 0.3, 1);
    CHECK_NEAR(loss, 0.8, 1e-15);
    /* ties go to the smaller index */
    double tie[5] = {1, 0.5, 1, 0.5, 1};
    sbr_nn_hinge_forward_f64(&ctx, &loss, keep, &dpos, tie, 1, 5, 0.3, 3);
    CHECK(keep[0] && keep[1] && !keep[2] && keep[3] && !keep[4]);
    /* no violation: loss 0, nothing kept, no gradient */
    double far[3] = {9, 9, 9}, dd[3] = {0}, dp = 0, one = 1;
    sbr_nn_hinge_forward_f64(&ctx, &loss, keep, &dpos, far, 1, 3, 0.3, 2);
    CHECK(loss == 0 && !keep[0] && !keep[1] && !keep[2]);
    sbr_nn_hinge_backward_f64(&ctx, &dp, dd, &one, keep, 1, 3);
    CHECK(dp == 0 && dd[0] == 0);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

TEST(nn_hinge_topk_matches_sort)
{
    enum { B = 6, M = 1000, K = 37 };
    double *dpos = gc_zeros(B), *dneg = gc_zeros(B * M), *loss = gc_zeros(B), v[M];
    uint8_t *keep = malloc(B * M);
    float *dnf = gc_zeros_f(B * M), dpf[B], lf[B];
    size_t sb = sbr_nn_hinge_scratch_f64(B, M, K);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    gc_fill(dpos, B, 0, 1, 3), gc_fill(dneg, B * M, 0, 3, 4);
    sbr_nn_hinge_forward_f64(&ctx, loss, keep, dpos, dneg, B, M, 0.1, K);
    for (int b = 0; b < B; b++) {
        int n = 0;
        for (int j = 0; j < M; j++)
            if (0.1 + dpos[b] - dneg[b * M + j] > 0)
                v[n++] = 0.1 + dpos[b] - dneg[b * M + j];
        qsort(v, n, sizeof *v, cmp_desc);
        double s = 0;
        int kept = 0;
        for (int i = 0; i < n && i < K; i++)
            s += v[i];
        for (int j = 0; j < M; j++)
            kept += keep[b * M + j];
        CHECK_EQ_I64(kept, n < K ? n : K);
        CHECK_NEAR(loss[b], s, 1e-12);
    }
    for (int i = 0; i < B * M; i++)
        dnf[i] = (float)dneg[i], dneg[i] = dnf[i];
    for (int b = 0; b < B; b++)
        dpf[b] = (float)dpos[b], dpos[b] = dpf[b];
    sbr_nn_hinge_forward_f64(&ctx, loss, keep, dpos, dneg, B, M, 0.1, K);
    sbr_nn_hinge_forward_f32(&ctx, lf, keep, dpf, dnf, B, M, 0.1f, K);
    CHECK(gc_agree_f32(lf, loss, B, 1e-5, 1e-5) <= 1);
    free(dpos), free(dneg), free(loss), free(keep), free(dnf), free(scr);
}

/* The parallel path (B x M >= 2^20) gives the same bits with 1 and 2 threads. */
TEST(nn_hinge_thread_count_independent)
{
    enum { B = 30, M = 40000, K = 100 };
    float *dpos = gc_zeros_f(B), *dneg = gc_zeros_f((size_t)B * M), loss[2][B];
    uint8_t *keep[2] = {malloc((size_t)B * M), malloc((size_t)B * M)};
    gc_fill_f(dpos, B, 0.5f, 1, 1), gc_fill_f(dneg, (size_t)B * M, 0, 2, 2);
    size_t sb = sbr_nn_hinge_scratch_f32(B, M, K);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(t + 1);
        sbr_nn_hinge_forward_f32(&ctx, loss[t], keep[t], dpos, dneg, B, M, 0.1f, K);
    }
    sbr_set_threads(0);
    CHECK(memcmp(loss[0], loss[1], sizeof loss[0]) == 0);
    CHECK(memcmp(keep[0], keep[1], (size_t)B * M) == 0);
    free(dpos), free(dneg), free(keep[0]), free(keep[1]), free(scr);
}
