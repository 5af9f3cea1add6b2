/* sigmoid, tanh, relu, leaky_relu, softplus, gelu: gradient checks, float vs
 * double, and known values. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

enum { A_SIGMOID, A_TANH, A_RELU, A_LEAKY, A_SOFTPLUS, A_GELU, A_N };
static const char *act_names[A_N] = {"sigmoid", "tanh", "relu", "leaky_relu", "softplus",
                                   "gelu"};

typedef struct {
    int kind, n;
    double *x, *dx, *y, *w; /* [n] */
} act_case;

static void act_fwd64(int kind, double *y, const double *x, int n)
{
    sbr_nn_ctx c = {0};
    switch (kind) {
    case A_SIGMOID: sbr_nn_sigmoid_forward_f64(&c, y, x, n); break;
    case A_TANH: sbr_nn_tanh_forward_f64(&c, y, x, n); break;
    case A_RELU: sbr_nn_relu_forward_f64(&c, y, x, n); break;
    case A_LEAKY: sbr_nn_leaky_relu_forward_f64(&c, y, x, n, 0.2); break;
    case A_GELU: sbr_nn_gelu_forward_f64(&c, y, x, n); break;
    default: sbr_nn_softplus_forward_f64(&c, y, x, n); break;
    }
}

static void act_fwd32(int kind, float *y, const float *x, int n)
{
    sbr_nn_ctx c = {0};
    switch (kind) {
    case A_SIGMOID: sbr_nn_sigmoid_forward_f32(&c, y, x, n); break;
    case A_TANH: sbr_nn_tanh_forward_f32(&c, y, x, n); break;
    case A_RELU: sbr_nn_relu_forward_f32(&c, y, x, n); break;
    case A_LEAKY: sbr_nn_leaky_relu_forward_f32(&c, y, x, n, 0.2f); break;
    case A_GELU: sbr_nn_gelu_forward_f32(&c, y, x, n); break;
    default: sbr_nn_softplus_forward_f32(&c, y, x, n); break;
    }
}

static double act_loss(void *u)
{
    act_case *a = u;
    act_fwd64(a->kind, a->y, a->x, a->n);
    return gc_dot(a->w, a->y, a->n);
}

static void act_backward(void *u)
{
    act_case *a = u;
    sbr_nn_ctx c = {0};
    memset(a->dx, 0, a->n * sizeof(double));
    act_fwd64(a->kind, a->y, a->x, a->n);
    switch (a->kind) {
    case A_SIGMOID: sbr_nn_sigmoid_backward_f64(&c, a->dx, a->w, a->y, a->n); break;
    case A_TANH: sbr_nn_tanh_backward_f64(&c, a->dx, a->w, a->y, a->n); break;
    case A_RELU: sbr_nn_relu_backward_f64(&c, a->dx, a->w, a->x, a->n); break;
    case A_LEAKY: sbr_nn_leaky_relu_backward_f64(&c, a->dx, a->w, a->x, a->n, 0.2); break;
    case A_GELU: sbr_nn_gelu_backward_f64(&c, a->dx, a->w, a->x, a->n); break;
    default: sbr_nn_softplus_backward_f64(&c, a->dx, a->w, a->x, a->n); break;
    }
}

TEST(nn_activations_gradcheck)
{
    int n = 300;
    for (int k = 0; k < A_N; k++) {
        act_case a = {k, n, gc_zeros(n), gc_zeros(n), gc_zeros(n), gc_zeros(n)};
        gc_fill(a.x, n, -4, 4, 50 + k);
        /* Also saturated inputs (small weights keep the loss's rounding low). */
        a.x[0] = 30, a.x[1] = -30;
        gc_fill(a.w, n, -1, 1, 60 + k);
        gc_spec s = {.op = act_names[k], .loss = act_loss, .backward = act_backward, .user = &a};
        gc_add(&s, "x", a.x, a.dx, n);
        CHECK_EQ_I64(gradcheck(&s), 0);
        /* Large inputs, where a naive sigmoid/softplus overflows. */
        a.x[0] = 700, a.x[1] = -700, a.x[2] = 1e30, a.x[3] = -1e30;
        act_backward(&a);
        for (int i = 0; i < 4; i++)
            CHECK(isfinite(a.y[i]) && isfinite(a.dx[i]));
        free(a.x), free(a.dx), free(a.y), free(a.w);
    }
}

TEST(nn_activations_values_and_f32)
{
    double x[6] = {-2, -0.5, 0, 0.5, 3, 40}, y[6];
    act_fwd64(A_SIGMOID, y, x, 6);
    CHECK_NEAR(y[2], 0.5, 1e-15);
    CHECK_NEAR(y[4], 1 / (1 + exp(-3.0)), 1e-15);
    act_fwd64(A_SOFTPLUS, y, x, 6);
    CHECK_NEAR(y[2], log(2.0), 1e-15);
    CHECK_NEAR(y[5], 40, 1e-12);
    act_fwd64(A_LEAKY, y, x, 6);
    CHECK_NEAR(y[0], -0.4, 1e-15);
    CHECK_NEAR(y[3], 0.5, 1e-15);
    act_fwd64(A_RELU, y, x, 6);
    CHECK(y[1] == 0 && y[4] == 3);
    act_fwd64(A_GELU, y, x, 6); /* x Phi(x): Phi(-2) = 0.02275013194817921 */
    CHECK_NEAR(y[0], -2 * 0.02275013194817921, 1e-15);
    CHECK(y[2] == 0 && y[5] == 40);

    int n = 1000;
    double *xd = gc_zeros(n), *yd = gc_zeros(n);
    float *xf = gc_zeros_f(n), *yf = gc_zeros_f(n);
    gc_fill_f(xf, n, -8, 8, 5);
    for (int i = 0; i < n; i++)
        xd[i] = xf[i];
    for (int k = 0; k < A_N; k++) {
        act_fwd64(k, yd, xd, n);
        act_fwd32(k, yf, xf, n);
        CHECK(gc_agree_f32(yf, yd, n, 1e-6, 1e-7) <= 1);
    }
    /* In place is allowed: the same bits as out of place. */
    for (int k = A_SIGMOID; k <= A_TANH; k++) {
        float *yo = gc_zeros_f(n);
        act_fwd32(k, yo, xf, n);
        memcpy(yf, xf, n * sizeof(float));
        act_fwd32(k, yf, yf, n);
        CHECK(memcmp(yf, yo, n * sizeof(float)) == 0);
        free(yo);
    }
    free(xd), free(yd), free(xf), free(yf);
}
