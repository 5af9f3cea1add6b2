/* L2 normalisation: gradient check, unit norms, the eps clamp. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int n, d;
    double eps;
    double *x, *dx, *y, *norm, *w;
} l2_case;

static double l2_loss(void *u)
{
    l2_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_l2norm_forward_f64(&x, c->y, c->norm, c->x, c->n, c->d, c->eps);
    return gc_dot(c->w, c->y, (size_t)c->n * c->d);
}

static void l2_backward(void *u)
{
    l2_case *c = u;
    sbr_nn_ctx x = {0};
    l2_loss(c);
    memset(c->dx, 0, (size_t)c->n * c->d * sizeof(double));
    sbr_nn_l2norm_backward_f64(&x, c->dx, c->w, c->y, c->norm, c->n, c->d, c->eps);
}

TEST(nn_l2norm_gradcheck)
{
    l2_case c = {.n = 6, .d = 10, .eps = 1e-12};
    size_t nd = (size_t)c.n * c.d;
    c.x = gc_zeros(nd), c.dx = gc_zeros(nd), c.y = gc_zeros(nd), c.w = gc_zeros(nd);
    c.norm = gc_zeros(c.n);
    gc_fill(c.x, nd, -1, 1, 1);
    gc_fill(c.w, nd, -1, 1, 2);
    gc_spec s = {.op = "l2norm", .loss = l2_loss, .backward = l2_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, nd);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* Row 5 made tiny: below eps = 0.01 it is clamped (y = x / eps). */
    for (int k = 0; k < c.d; k++)
        c.x[5 * c.d + k] *= 1e-3;
    c.eps = 0.01;
    CHECK_EQ_I64(gradcheck(&s), 0);
    l2_loss(&c);
    for (int i = 0; i < 5; i++) {
        double s2 = 0;
        for (int k = 0; k < c.d; k++)
            s2 += c.y[i * c.d + k] * c.y[i * c.d + k];
        CHECK_NEAR(s2, 1, 1e-12);
    }
    CHECK_NEAR(c.y[5 * c.d], c.x[5 * c.d] / 0.01, 1e-15);
    free(c.x), free(c.dx), free(c.y), free(c.w), free(c.norm);
}
