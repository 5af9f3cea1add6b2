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

/* Along the sequence axis: the gradient, and every column of y equal to the
 * row op on the transposed column (padding rows of zeros included). */
typedef struct {
    int B, L, d;
    double eps;
    double *x, *dx, *y, *norm, *w;
} l2s_case;

static double l2s_loss(void *u)
{
    l2s_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_l2norm_seq_forward_f64(&x, c->y, c->norm, c->x, c->B, c->L, c->d, c->eps);
    return gc_dot(c->w, c->y, (size_t)c->B * c->L * c->d);
}

static void l2s_backward(void *u)
{
    l2s_case *c = u;
    sbr_nn_ctx x = {0};
    l2s_loss(c);
    size_t n = (size_t)c->B * c->L * c->d;
    memset(c->dx, 0, n * sizeof(double));
    sbr_nn_l2norm_seq_backward_f64(&x, c->dx, c->w, c->y, c->norm, c->B, c->L, c->d, c->eps);
}

TEST(nn_l2norm_seq_gradcheck)
{
    l2s_case c = {.B = 3, .L = 5, .d = 7, .eps = 1e-12};
    size_t n = (size_t)c.B * c.L * c.d;
    c.x = gc_zeros(n), c.dx = gc_zeros(n), c.y = gc_zeros(n), c.w = gc_zeros(n);
    c.norm = gc_zeros((size_t)c.B * c.d);
    gc_fill(c.x, n, -1, 1, 3);
    gc_fill(c.w, n, -1, 1, 4);
    for (int k = 0; k < c.d; k++) /* session 1's last two positions: padding */
        c.x[(1 * c.L + 3) * c.d + k] = c.x[(1 * c.L + 4) * c.d + k] = 0;
    gc_spec s = {.op = "l2norm_seq", .loss = l2s_loss, .backward = l2s_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, n);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* against the row op on each column written out as a row */
    l2s_loss(&c);
    double col[5], ycol[5], nr;
    sbr_nn_ctx x = {0};
    for (int b = 0; b < c.B; b++)
        for (int k = 0; k < c.d; k++) {
            for (int l = 0; l < c.L; l++)
                col[l] = c.x[((size_t)b * c.L + l) * c.d + k];
            sbr_nn_l2norm_forward_f64(&x, ycol, &nr, col, 1, c.L, c.eps);
            CHECK_NEAR(c.norm[b * c.d + k], nr, 1e-15);
            for (int l = 0; l < c.L; l++)
                CHECK_NEAR(c.y[((size_t)b * c.L + l) * c.d + k], ycol[l], 1e-15);
        }
    /* a column of session 2 made tiny: clamped below eps = 0.01 */
    for (int l = 0; l < c.L; l++)
        c.x[((size_t)2 * c.L + l) * c.d + 4] *= 1e-3;
    c.eps = 0.01;
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c.x), free(c.dx), free(c.y), free(c.w), free(c.norm);
}

/* dropout_l2norm: finite differences (the mask fixed by its seed), and the
 * same bits as dropout_forward then l2norm_forward, and as their backwards in
 * turn, in float (the step's precision) with p = 0.3 and p = 0. */
typedef struct {
    int n, d;
    double p, *x, *dx, *y, *norm, *w;
    uint8_t *mask;
} dl_case;

static double dl_loss(void *u)
{
    dl_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_dropout_l2norm_forward_f64(&x, c->y, c->norm, c->mask, c->x, c->n, c->d, c->p, 5, 77,
                                      1e-12);
    return gc_dot(c->w, c->y, (size_t)c->n * c->d);
}

static void dl_backward(void *u)
{
    dl_case *c = u;
    sbr_nn_ctx x = {0};
    dl_loss(c);
    memset(c->dx, 0, (size_t)c->n * c->d * sizeof(double));
    sbr_nn_dropout_l2norm_backward_f64(&x, c->dx, c->w, c->y, c->norm, c->mask, c->n, c->d, c->p,
                                       1e-12);
}

TEST(nn_dropout_l2norm_gradcheck)
{
    dl_case c = {.n = 6, .d = 10, .p = 0.3};
    size_t nd = (size_t)c.n * c.d;
    c.x = gc_zeros(nd), c.dx = gc_zeros(nd), c.y = gc_zeros(nd), c.w = gc_zeros(nd);
    c.norm = gc_zeros(c.n), c.mask = calloc(nd, 1);
    gc_fill(c.x, nd, -1, 1, 3);
    gc_fill(c.w, nd, -1, 1, 4);
    gc_spec s = {.op = "dropout_l2norm", .loss = dl_loss, .backward = dl_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, nd);
    CHECK_EQ_I64(gradcheck(&s), 0);
    int dropped = 0;
    for (size_t i = 0; i < nd; i++)
        dropped += !c.mask[i];
    CHECK(dropped > 0 && dropped < (int)nd);
    free(c.x), free(c.dx), free(c.y), free(c.w), free(c.norm), free(c.mask);
}

TEST(nn_dropout_l2norm_is_the_two_ops)
{
    enum { N = 37, D = 100 };
    static float x[N * D], w[N * D], yd[N * D], y1[N * D], y2[N * D], n1[N], n2[N];
    static float g1[N * D], g2[N * D], gd[N * D];
    static uint8_t m1[N * D], m2[N * D];
    for (int i = 0; i < N * D; i++)
        x[i] = (float)((i * 7919 % 1000) / 500.0 - 1), w[i] = (float)((i * 104729 % 997) / 498.5 - 1);
    for (int i = 0; i < D; i++)
        x[3 * D + i] = 0; /* a zero row: clamped by eps */
    sbr_nn_ctx ctx = {0};
    float ps[2] = {0.3f, 0};
    for (int t = 0; t < 2; t++) {
        sbr_nn_dropout_forward_f32(&ctx, yd, m1, x, N * D, ps[t], 9, 1234);
        sbr_nn_l2norm_forward_f32(&ctx, y1, n1, yd, N, D, 1e-12f);
        sbr_nn_dropout_l2norm_forward_f32(&ctx, y2, n2, m2, x, N, D, ps[t], 9, 1234, 1e-12f);
        CHECK(memcmp(y1, y2, sizeof y1) == 0);
        CHECK(memcmp(n1, n2, sizeof n1) == 0);
        CHECK(memcmp(m1, m2, sizeof m1) == 0);
        memset(gd, 0, sizeof gd), memset(g1, 0, sizeof g1), memset(g2, 0, sizeof g2);
        sbr_nn_l2norm_backward_f32(&ctx, gd, w, y1, n1, N, D, 1e-12f);
        sbr_nn_dropout_backward_f32(&ctx, g1, gd, m1, N * D, ps[t]);
        sbr_nn_dropout_l2norm_backward_f32(&ctx, g2, w, y2, n2, m2, N, D, ps[t], 1e-12f);
        CHECK(memcmp(g1, g2, sizeof g1) == 0);
    }
}
