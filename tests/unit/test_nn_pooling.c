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
