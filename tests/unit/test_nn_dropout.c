/* dropout: gradient check for a fixed mask, the drop rate, reproducibility
 * from (seed, offset), and p = 0. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"
#include "rng.h"

typedef struct {
    int n;
    double p;
    uint8_t *mask;
    double *x, *dx, *y, *w;
} do_case;

static double do_loss(void *u)
{
    do_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_dropout_forward_f64(&x, c->y, c->mask, c->x, c->n, c->p, 77, 1000);
    return gc_dot(c->w, c->y, c->n);
}

static void do_backward(void *u)
{
    do_case *c = u;
    sbr_nn_ctx x = {0};
    do_loss(c);
    memset(c->dx, 0, c->n * sizeof(double));
    sbr_nn_dropout_backward_f64(&x, c->dx, c->w, c->mask, c->n, c->p);
}

TEST(nn_dropout_gradcheck)
{
    do_case c = {.n = 500, .p = 0.3};
    c.mask = malloc(c.n);
    c.x = gc_zeros(c.n), c.dx = gc_zeros(c.n), c.y = gc_zeros(c.n), c.w = gc_zeros(c.n);
    gc_fill(c.x, c.n, -2, 2, 1);
    gc_fill(c.w, c.n, -1, 1, 2);
    gc_spec s = {.op = "dropout", .loss = do_loss, .backward = do_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, c.n);
    CHECK_EQ_I64(gradcheck(&s), 0);
    do_loss(&c);
    int kept = 0;
    for (int i = 0; i < c.n; i++) {
        kept += c.mask[i];
        CHECK_NEAR(c.y[i], c.mask[i] ? c.x[i] / 0.7 : 0, 1e-15);
        /* The mask is the documented function of (seed, offset + i). */
        CHECK(c.mask[i] == (sbr_rng_u01(sbr_rng_hash(77, 1000 + (uint64_t)i)) >= 0.3));
    }
    CHECK(kept > 300 && kept < 400); /* 350 expected; sd ~10 */
    free(c.mask), free(c.x), free(c.dx), free(c.y), free(c.w);
}

TEST(nn_dropout_reproducible)
{
    int n = 100000;
    float *x = gc_zeros_f(n), *y1 = gc_zeros_f(n), *y2 = gc_zeros_f(n);
    uint8_t *m1 = malloc(n), *m2 = malloc(n);
    gc_fill_f(x, n, -1, 1, 3);
    sbr_nn_ctx c = {0};
    sbr_nn_dropout_forward_f32(&c, y1, m1, x, n, 0.5f, 5, 0);
    sbr_nn_dropout_forward_f32(&c, y2, m2, x, n, 0.5f, 5, 0);
    CHECK(memcmp(m1, m2, n) == 0 && memcmp(y1, y2, n * sizeof(float)) == 0);
    /* float and double draw the same mask. */
    double *xd = gc_zeros(n), *yd = gc_zeros(n);
    sbr_nn_dropout_forward_f64(&c, yd, m2, xd, n, 0.5, 5, 0);
    CHECK(memcmp(m1, m2, n) == 0);
    /* Another seed or offset gives another mask; the offset shifts it. */
    sbr_nn_dropout_forward_f32(&c, y2, m2, x, n, 0.5f, 6, 0);
    CHECK(memcmp(m1, m2, n) != 0);
    sbr_nn_dropout_forward_f32(&c, y2, m2, x, n - 10, 0.5f, 5, 10);
    CHECK(memcmp(m1 + 10, m2, n - 10) == 0);
    /* p = 0: identity. */
    sbr_nn_dropout_forward_f32(&c, y2, m2, x, n, 0, 5, 0);
    CHECK(memcmp(x, y2, n * sizeof(float)) == 0);
    free(x), free(y1), free(y2), free(m1), free(m2), free(xd), free(yd);
}
