/* linear: gradient check (with and without bias), float vs double forward,
 * accumulation, and the proof that the checker catches a wrong gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "device.h"
#include "nn/nn.h"

typedef struct {
    int n, in, out, bias;
    double *x, *w, *b;       /* [n, in] [out, in] [out] */
    double *dx, *dw, *db;
    double *y, *proj, *dy;   /* [n, out]: output, loss weights, dL/dy */
    int sabotage;            /* 1: backward adds an error to dw[3] */
} lin_case;

static double lin_loss(void *u)
{
    lin_case *c = u;
    sbr_nn_ctx ctx = {0};
    sbr_nn_linear_forward_f64(&ctx, c->y, c->x, c->w, c->bias ? c->b : NULL, c->n, c->in,
                              c->out);
    return gc_dot(c->proj, c->y, (size_t)c->n * c->out);
}

static void lin_backward(void *u)
{
    lin_case *c = u;
    sbr_nn_ctx ctx = {0};
    memset(c->dx, 0, (size_t)c->n * c->in * sizeof(double));
    memset(c->dw, 0, (size_t)c->out * c->in * sizeof(double));
    memset(c->db, 0, (size_t)c->out * sizeof(double));
    sbr_nn_linear_backward_f64(&ctx, c->dx, c->dw, c->bias ? c->db : NULL, c->proj, c->x, c->w,
                               c->n, c->in, c->out);
    if (c->sabotage)
        c->dw[3] += 1e-3; /* a small but real error */
}

static void lin_setup(lin_case *c, int n, int in, int out, int bias, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->n = n, c->in = in, c->out = out, c->bias = bias;
    c->x = gc_zeros((size_t)n * in), c->dx = gc_zeros((size_t)n * in);
    c->w = gc_zeros((size_t)out * in), c->dw = gc_zeros((size_t)out * in);
    c->b = gc_zeros(out), c->db = gc_zeros(out);
    c->y = gc_zeros((size_t)n * out), c->proj = gc_zeros((size_t)n * out);
    gc_fill(c->x, (size_t)n * in, -1, 1, seed);
    gc_fill(c->w, (size_t)out * in, -1, 1, seed + 1);
    gc_fill(c->b, out, -1, 1, seed + 2);
    gc_fill(c->proj, (size_t)n * out, -1, 1, seed + 3);
}

static void lin_free(lin_case *c)
{
    free(c->x), free(c->dx), free(c->w), free(c->dw), free(c->b), free(c->db), free(c->y),
        free(c->proj);
}

static gc_spec lin_spec(lin_case *c)
{
    gc_spec s = {.op = "linear", .loss = lin_loss, .backward = lin_backward, .user = c};
    gc_add(&s, "x", c->x, c->dx, (size_t)c->n * c->in);
    gc_add(&s, "w", c->w, c->dw, (size_t)c->out * c->in);
    if (c->bias)
        gc_add(&s, "b", c->b, c->db, c->out);
    return s;
}

TEST(nn_linear_gradcheck)
{
    int shapes[][3] = {{5, 7, 4}, {1, 3, 9}, {13, 16, 11}};
    for (int k = 0; k < 3; k++)
        for (int bias = 0; bias <= 1; bias++) {
            lin_case c;
            lin_setup(&c, shapes[k][0], shapes[k][1], shapes[k][2], bias, 100 + k);
            gc_spec s = lin_spec(&c);
            CHECK_EQ_I64(gradcheck(&s), 0);
            lin_free(&c);
        }
}

TEST(nn_gradcheck_catches_wrong_gradient)
{
    lin_case c;
    lin_setup(&c, 5, 7, 4, 1, 7);
    c.sabotage = 1;
    gc_spec s = lin_spec(&c);
    s.quiet = 1;
    int bad = gradcheck(&s);
    CHECK_EQ_I64(bad, 1); /* exactly the perturbed element of dw */
    /* A sampled check that misses no element of a small tensor also catches it. */
    s.max_checks = 1000;
    CHECK(gradcheck(&s) == 1);
    lin_free(&c);
}

TEST(nn_linear_backward_accumulates)
{
    lin_case c;
    lin_setup(&c, 4, 5, 3, 1, 11);
    lin_backward(&c);
    double *dx1 = gc_zeros(20), *dw1 = gc_zeros(15), *db1 = gc_zeros(3);
    memcpy(dx1, c.dx, 20 * sizeof(double));
    memcpy(dw1, c.dw, 15 * sizeof(double));
    memcpy(db1, c.db, 3 * sizeof(double));
    sbr_nn_ctx ctx = {0};
    sbr_nn_linear_backward_f64(&ctx, c.dx, c.dw, c.db, c.proj, c.x, c.w, 4, 5, 3);
    for (int i = 0; i < 20; i++)
        CHECK_NEAR(c.dx[i], 2 * dx1[i], 1e-12);
    for (int i = 0; i < 15; i++)
        CHECK_NEAR(c.dw[i], 2 * dw1[i], 1e-12);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(c.db[i], 2 * db1[i], 1e-12);
    /* A hand-computed value: y[0][0] = sum_k x[0][k] w[0][k] + b[0]. */
    lin_loss(&c);
    double y00 = c.b[0];
    for (int k = 0; k < 5; k++)
        y00 += c.x[k] * c.w[k];
    CHECK_NEAR(c.y[0], y00, 1e-12);
    free(dx1), free(dw1), free(db1);
    lin_free(&c);
}

TEST(nn_linear_f32_matches_f64)
{
    int n = 37, in = 50, out = 29;
    lin_case c;
    lin_setup(&c, n, in, out, 1, 21);
    float *x = gc_zeros_f((size_t)n * in), *w = gc_zeros_f((size_t)out * in), *b = gc_zeros_f(out);
    float *y = gc_zeros_f((size_t)n * out);
    for (int i = 0; i < n * in; i++)
        x[i] = (float)c.x[i];
    for (int i = 0; i < out * in; i++)
        w[i] = (float)c.w[i];
    for (int i = 0; i < out; i++)
        b[i] = (float)c.b[i];
    /* The double reference on the float-rounded inputs. */
    for (int i = 0; i < n * in; i++)
        c.x[i] = x[i];
    for (int i = 0; i < out * in; i++)
        c.w[i] = w[i];
    for (int i = 0; i < out; i++)
        c.b[i] = b[i];
    sbr_nn_ctx ctx = {0};
    sbr_nn_linear_forward_f32(&ctx, y, x, w, b, n, in, out);
    lin_loss(&c);
    CHECK(gc_agree_f32(y, c.y, (size_t)n * out, 1e-5, 1e-5) <= 1);
    free(x), free(w), free(b), free(y);
    lin_free(&c);
}

/* Large enough for nn_gemm's row blocks (gemm.inc): the same bits with 1 and
 * 2 threads, forward and backward, and the forward still agrees with a
 * double-precision product. */
TEST(nn_linear_row_blocks_thread_independent)
{
    enum { N = 790, IN = 100, OUT = 300 };
    float *x = gc_zeros_f((size_t)N * IN), *w = gc_zeros_f((size_t)OUT * IN), *b = gc_zeros_f(OUT);
    float *dy = gc_zeros_f((size_t)N * OUT);
    gc_fill_f(x, (size_t)N * IN, -1, 1, 31), gc_fill_f(w, (size_t)OUT * IN, -0.1f, 0.1f, 32);
    gc_fill_f(b, OUT, -0.1f, 0.1f, 33), gc_fill_f(dy, (size_t)N * OUT, -1, 1, 34);
    float *y[2], *dx[2], *dw[2], *db[2];
    sbr_nn_ctx ctx = {0};
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(t + 1);
        y[t] = gc_zeros_f((size_t)N * OUT), dx[t] = gc_zeros_f((size_t)N * IN);
        dw[t] = gc_zeros_f((size_t)OUT * IN), db[t] = gc_zeros_f(OUT);
        sbr_nn_linear_forward_f32(&ctx, y[t], x, w, b, N, IN, OUT);
        sbr_nn_linear_backward_f32(&ctx, dx[t], dw[t], db[t], dy, x, w, N, IN, OUT);
    }
    sbr_set_threads(0);
    CHECK(memcmp(y[0], y[1], sizeof(float) * N * OUT) == 0);
    CHECK(memcmp(dx[0], dx[1], sizeof(float) * N * IN) == 0);
    CHECK(memcmp(dw[0], dw[1], sizeof(float) * OUT * IN) == 0);
    CHECK(memcmp(db[0], db[1], sizeof(float) * OUT) == 0);
    double worst = 0;
    for (int i = 0; i < N; i += 7)
        for (int o = 0; o < OUT; o++) {
            double s = b[o];
            for (int k = 0; k < IN; k++)
                s += (double)x[(size_t)i * IN + k] * w[(size_t)o * IN + k];
            double e = fabs(s - y[0][(size_t)i * OUT + o]);
            worst = e > worst ? e : worst;
        }
    CHECK(worst < 1e-5);
    for (int t = 0; t < 2; t++)
        free(y[t]), free(dx[t]), free(dw[t]), free(db[t]);
    free(x), free(w), free(b), free(dy);
}
