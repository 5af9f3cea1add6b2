/* seq_mean and segment pooling: gradient checks with variable lengths
 * (including empty), values. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int B, L, d, S, mean, seg;
    int32_t *len, *off;
    double *x, *dx, *y, *w;
    size_t nx, ny;
} pool_case;

static double pool_loss(void *u)
{
    pool_case *c = u;
    sbr_nn_ctx x = {0};
    if (c->seg)
        sbr_nn_segment_pool_forward_f64(&x, c->y, c->x, c->off, c->S, c->d, c->mean);
    else
        sbr_nn_seq_mean_forward_f64(&x, c->y, c->x, c->len, c->B, c->L, c->d);
    return gc_dot(c->w, c->y, c->ny);
}

static void pool_backward(void *u)
{
    pool_case *c = u;
    sbr_nn_ctx x = {0};
    memset(c->dx, 0, c->nx * sizeof(double));
    if (c->seg)
        sbr_nn_segment_pool_backward_f64(&x, c->dx, c->w, c->off, c->S, c->d, c->mean);
    else
        sbr_nn_seq_mean_backward_f64(&x, c->dx, c->w, c->len, c->B, c->L, c->d);
}

TEST(nn_seq_mean_gradcheck)
{
    int32_t len[5] = {3, 0, 6, 1, 4};
    pool_case c = {.B = 5, .L = 6, .d = 4, .len = len};
    c.nx = (size_t)c.B * c.L * c.d, c.ny = (size_t)c.B * c.d;
    c.x = gc_zeros(c.nx), c.dx = gc_zeros(c.nx), c.y = gc_zeros(c.ny), c.w = gc_zeros(c.ny);
    gc_fill(c.x, c.nx, -1, 1, 1);
    gc_fill(c.w, c.ny, -1, 1, 2);
    gc_spec s = {.op = "seq_mean", .loss = pool_loss, .backward = pool_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, c.nx);
    CHECK_EQ_I64(gradcheck(&s), 0);
    pool_loss(&c);
    /* y[0] = mean of the first 3 positions; y[1] = 0 (empty). */
    CHECK_NEAR(c.y[2], (c.x[2] + c.x[4 + 2] + c.x[8 + 2]) / 3, 1e-15);
    CHECK(c.y[4] == 0 && c.y[7] == 0);
    free(c.x), free(c.dx), free(c.y), free(c.w);
}

TEST(nn_segment_pool_gradcheck)
{
    int32_t off[5] = {0, 2, 2, 7, 8};
    for (int mean = 0; mean <= 1; mean++) {
        pool_case c = {.S = 4, .d = 3, .off = off, .mean = mean, .seg = 1};
        c.nx = (size_t)8 * c.d, c.ny = (size_t)c.S * c.d;
        c.x = gc_zeros(c.nx), c.dx = gc_zeros(c.nx), c.y = gc_zeros(c.ny), c.w = gc_zeros(c.ny);
        gc_fill(c.x, c.nx, -1, 1, 3 + mean);
        gc_fill(c.w, c.ny, -1, 1, 5);
        gc_spec s = {.op = mean ? "segment_mean" : "segment_sum", .loss = pool_loss,
                     .backward = pool_backward, .user = &c};
        gc_add(&s, "x", c.x, c.dx, c.nx);
        CHECK_EQ_I64(gradcheck(&s), 0);
        pool_loss(&c);
        double want = (c.x[0] + c.x[3]) / (mean ? 2 : 1);
        CHECK_NEAR(c.y[0], want, 1e-15);
        CHECK(c.y[3] == 0); /* segment 1 is empty */
        free(c.x), free(c.dx), free(c.y), free(c.w);
    }
}

/* len NULL: every row averages its whole L. Against a plain loop, the same
 * bits as a len of L per row (forward and backward), finite differences,
 * float against double; L = 0 gives rows of 0. */
TEST(nn_seq_mean_without_len)
{
    enum { B = 4, L = 5, D = 3, NX = B * L * D, NY = B * D };
    pool_case c = {.B = B, .L = L, .d = D, .len = NULL, .nx = NX, .ny = NY};
    c.x = gc_zeros(NX), c.dx = gc_zeros(NX), c.y = gc_zeros(NY), c.w = gc_zeros(NY);
    gc_fill(c.x, NX, -1, 1, 41);
    gc_fill(c.w, NY, -1, 1, 42);
    gc_spec s = {.op = "seq_mean (no len)", .loss = pool_loss, .backward = pool_backward,
                 .user = &c};
    gc_add(&s, "x", c.x, c.dx, NX);
    CHECK_EQ_I64(gradcheck(&s), 0);
    pool_loss(&c);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < D; k++) {
            double want = 0;
            for (int j = 0; j < L; j++)
                want += c.x[((size_t)b * L + j) * D + k];
            CHECK_NEAR(c.y[b * D + k], want / L, 1e-15);
        }
    pool_backward(&c); /* dx = w[b] / L at every position */
    for (int b = 0; b < B; b++)
        for (int j = 0; j < L; j++)
            for (int k = 0; k < D; k++)
                CHECK_NEAR(c.dx[((size_t)b * L + j) * D + k], c.w[b * D + k] / L, 1e-15);

    sbr_nn_ctx ctx = {0};
    int32_t full[B] = {L, L, L, L};
    double y2[NY], dx2[NX] = {0}, dx1[NX] = {0};
    sbr_nn_seq_mean_forward_f64(&ctx, y2, c.x, full, B, L, D);
    CHECK(memcmp(y2, c.y, sizeof y2) == 0);
    sbr_nn_seq_mean_backward_f64(&ctx, dx1, c.w, NULL, B, L, D);
    sbr_nn_seq_mean_backward_f64(&ctx, dx2, c.w, full, B, L, D);
    CHECK(memcmp(dx1, dx2, sizeof dx1) == 0);

    float xf[NX], yf[NY];
    for (int i = 0; i < NX; i++)
        xf[i] = (float)c.x[i], c.x[i] = xf[i];
    pool_loss(&c);
    sbr_nn_seq_mean_forward_f32(&ctx, yf, xf, NULL, B, L, D);
    CHECK(gc_agree_f32(yf, c.y, NY, 1e-6, 1e-7) <= 1);

    double y0[NY];
    for (int i = 0; i < NY; i++)
        y0[i] = 7;
    sbr_nn_seq_mean_forward_f64(&ctx, y0, c.x, NULL, B, 0, D); /* L = 0 */
    for (int i = 0; i < NY; i++)
        CHECK(y0[i] == 0);
    free(c.x), free(c.dx), free(c.y), free(c.w);
}
