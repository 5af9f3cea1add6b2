/* add, mul, add_rows, concat, scale, affine: gradient checks and values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

enum { E_ADD, E_MUL, E_ADDROWS, E_CONCAT, E_SCALE, E_AFFINE, E_N };
static const char *ew_names[E_N] = {"add", "mul", "add_rows", "concat", "scale", "affine"};

typedef struct {
    int kind, B, L, d, d2;
    size_t na, nb, ny;
    double *a, *b, *da, *db, *y, *w;
} ew_case;

static void ew_fwd(ew_case *c)
{
    sbr_nn_ctx x = {0};
    switch (c->kind) {
    case E_ADD: sbr_nn_add_forward_f64(&x, c->y, c->a, c->b, (int)c->na); break;
    case E_MUL: sbr_nn_mul_forward_f64(&x, c->y, c->a, c->b, (int)c->na); break;
    case E_ADDROWS: sbr_nn_add_rows_forward_f64(&x, c->y, c->a, c->b, c->B, c->L, c->d); break;
    case E_CONCAT: sbr_nn_concat_forward_f64(&x, c->y, c->a, c->b, c->B, c->d, c->d2); break;
    case E_AFFINE: sbr_nn_affine_forward_f64(&x, c->y, c->a, (int)c->na, -1.7, 0.3); break;
    default: sbr_nn_scale_forward_f64(&x, c->y, c->a, (int)c->na, -1.7); break;
    }
}

static double ew_loss(void *u)
{
    ew_case *c = u;
    ew_fwd(c);
    return gc_dot(c->w, c->y, c->ny);
}

static void ew_backward(void *u)
{
    ew_case *c = u;
    sbr_nn_ctx x = {0};
    memset(c->da, 0, c->na * sizeof(double));
    memset(c->db, 0, c->nb * sizeof(double));
    switch (c->kind) {
    case E_ADD: sbr_nn_add_backward_f64(&x, c->da, c->db, c->w, (int)c->na); break;
    case E_MUL: sbr_nn_mul_backward_f64(&x, c->da, c->db, c->w, c->a, c->b, (int)c->na); break;
    case E_ADDROWS:
        sbr_nn_add_rows_backward_f64(&x, c->da, c->db, c->w, c->B, c->L, c->d);
        break;
    case E_CONCAT: sbr_nn_concat_backward_f64(&x, c->da, c->db, c->w, c->B, c->d, c->d2); break;
    case E_AFFINE: sbr_nn_affine_backward_f64(&x, c->da, c->w, (int)c->na, -1.7); break;
    default: sbr_nn_scale_backward_f64(&x, c->da, c->w, (int)c->na, -1.7); break;
    }
}

TEST(nn_elementwise_gradcheck)
{
    for (int k = 0; k < E_N; k++) {
        ew_case c = {.kind = k, .B = 3, .L = 5, .d = 4, .d2 = 6};
        c.na = (size_t)c.B * c.L * c.d;
        c.nb = k == E_ADDROWS ? (size_t)c.B * c.d : c.na;
        c.ny = c.na;
        if (k == E_CONCAT) {
            c.na = (size_t)c.B * c.d, c.nb = (size_t)c.B * c.d2, c.ny = c.na + c.nb;
        }
        c.a = gc_zeros(c.na), c.da = gc_zeros(c.na), c.b = gc_zeros(c.nb), c.db = gc_zeros(c.nb);
        c.y = gc_zeros(c.ny), c.w = gc_zeros(c.ny);
        gc_fill(c.a, c.na, -2, 2, 10 + k);
        gc_fill(c.b, c.nb, -2, 2, 20 + k);
        gc_fill(c.w, c.ny, -1, 1, 30 + k);
        gc_spec s = {.op = ew_names[k], .loss = ew_loss, .backward = ew_backward, .user = &c};
        gc_add(&s, "a", c.a, c.da, c.na);
        if (k != E_SCALE && k != E_AFFINE)
            gc_add(&s, "b", c.b, c.db, c.nb);
        CHECK_EQ_I64(gradcheck(&s), 0);
        /* Values. */
        ew_fwd(&c);
        if (k == E_ADDROWS) /* y[1, 2, 3] = a[1, 2, 3] + r[1, 3] */
            CHECK_NEAR(c.y[(1 * 5 + 2) * 4 + 3], c.a[(1 * 5 + 2) * 4 + 3] + c.b[1 * 4 + 3], 0);
        if (k == E_CONCAT) { /* row 2 = [a[2] ; b[2]] */
            CHECK(c.y[2 * 10 + 1] == c.a[2 * 4 + 1]);
            CHECK(c.y[2 * 10 + 4 + 5] == c.b[2 * 6 + 5]);
        }
        if (k == E_MUL)
            CHECK(c.y[7] == c.a[7] * c.b[7]);
        free(c.a), free(c.da), free(c.b), free(c.db), free(c.y), free(c.w);
    }
}

/* affine: a x + c against a plain loop (the product rounded, then the sum:
 * the same bits), in place, the backward's accumulation; NP-MiSR's sigma =
 * 0.1 + 0.9 softplus(x) through softplus then affine. */
TEST(nn_affine_values)
{
    enum { N = 33 };
    float x[N], y[N], dx[N], dy[N];
    gc_fill_f(x, N, -3, 3, 51), gc_fill_f(dy, N, -1, 1, 52);
    const float a = 0.9f, c = 0.1f;
    sbr_nn_affine_forward_f32(NULL, y, x, N, a, c);
    for (int i = 0; i < N; i++) {
        float p = a * x[i];
        CHECK(y[i] == p + c);
    }
    float z[N];
    memcpy(z, x, sizeof z);
    sbr_nn_affine_forward_f32(NULL, z, z, N, a, c); /* y may be x */
    CHECK(memcmp(z, y, sizeof z) == 0);
    for (int i = 0; i < N; i++)
        dx[i] = 0.25f;
    sbr_nn_affine_backward_f32(NULL, dx, dy, N, a);
    for (int i = 0; i < N; i++) {
        float p = a * dy[i];
        CHECK(dx[i] == 0.25f + p);
    }
    double xd[N], sp[N], sg[N];
    for (int i = 0; i < N; i++)
        xd[i] = x[i];
    sbr_nn_softplus_forward_f64(NULL, sp, xd, N);
    sbr_nn_affine_forward_f64(NULL, sg, sp, N, 0.9, 0.1);
    for (int i = 0; i < N; i++) {
        CHECK_NEAR(sg[i], 0.1 + 0.9 * log1p(exp(xd[i])), 1e-14);
        CHECK(sg[i] > 0.1);
    }
    y[0] = 5;
    sbr_nn_affine_forward_f32(NULL, y, x, 0, a, c); /* n = 0 writes nothing */
    CHECK(y[0] == 5);
}
