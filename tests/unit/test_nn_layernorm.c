/* layer norm: gradient check of x, gamma, beta; normalised statistics. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int n, d;
    double *x, *g, *b, *dx, *dg, *db, *y, *mean, *rstd, *w;
} ln_case;

static double ln_loss(void *u)
{
    ln_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_layernorm_forward_f64(&x, c->y, c->mean, c->rstd, c->x, c->g, c->b, c->n, c->d, 1e-5);
    return gc_dot(c->w, c->y, (size_t)c->n * c->d);
}

static void ln_backward(void *u)
{
    ln_case *c = u;
    sbr_nn_ctx x = {0};
    ln_loss(c);
    memset(c->dx, 0, (size_t)c->n * c->d * sizeof(double));
    memset(c->dg, 0, c->d * sizeof(double));
    memset(c->db, 0, c->d * sizeof(double));
    sbr_nn_layernorm_backward_f64(&x, c->dx, c->dg, c->db, c->w, c->x, c->mean, c->rstd, c->g,
                                  c->n, c->d);
}

TEST(nn_layernorm_gradcheck)
{
    ln_case c = {.n = 7, .d = 13};
    size_t nd = (size_t)c.n * c.d;
    c.x = gc_zeros(nd), c.dx = gc_zeros(nd), c.y = gc_zeros(nd), c.w = gc_zeros(nd);
    c.g = gc_zeros(c.d), c.b = gc_zeros(c.d), c.dg = gc_zeros(c.d), c.db = gc_zeros(c.d);
    c.mean = gc_zeros(c.n), c.rstd = gc_zeros(c.n);
    gc_fill(c.x, nd, -3, 2, 1);
    gc_fill(c.g, c.d, 0.5, 1.5, 2);
    gc_fill(c.b, c.d, -1, 1, 3);
    gc_fill(c.w, nd, -1, 1, 4);
    gc_spec s = {.op = "layernorm", .loss = ln_loss, .backward = ln_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, nd);
    gc_add(&s, "gamma", c.g, c.dg, c.d);
    gc_add(&s, "beta", c.b, c.db, c.d);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* With gamma = 1, beta = 0 each row has mean 0 and variance ~1. */
    for (int k = 0; k < c.d; k++)
        c.g[k] = 1, c.b[k] = 0;
    ln_loss(&c);
    for (int i = 0; i < c.n; i++) {
        double m = 0, v = 0;
        for (int k = 0; k < c.d; k++)
            m += c.y[i * c.d + k];
        m /= c.d;
        for (int k = 0; k < c.d; k++)
            v += (c.y[i * c.d + k] - m) * (c.y[i * c.d + k] - m);
        CHECK_NEAR(m, 0, 1e-12);
        CHECK_NEAR(v / c.d, 1, 1e-3);
    }
    /* float agrees with double */
    float *xf = gc_zeros_f(nd), *yf = gc_zeros_f(nd), *gf = gc_zeros_f(c.d), *bf = gc_zeros_f(c.d);
    float mf[7], rf[7];
    for (size_t i = 0; i < nd; i++)
        xf[i] = (float)c.x[i], c.x[i] = xf[i];
    for (int k = 0; k < c.d; k++)
        gf[k] = 1, bf[k] = 0;
    sbr_nn_ctx x = {0};
    sbr_nn_layernorm_forward_f32(&x, yf, mf, rf, xf, gf, bf, c.n, c.d, 1e-5f);
    ln_loss(&c);
    CHECK(gc_agree_f32(yf, c.y, nd, 1e-5, 1e-5) <= 1);
    free(xf), free(yf), free(gf), free(bf);
    free(c.x), free(c.dx), free(c.y), free(c.w), free(c.g), free(c.b), free(c.dg), free(c.db);
    free(c.mean), free(c.rstd);
}
