/* GPU vs CPU: the RNG port, linear, activations, element-wise glue. */
#include <stdlib.h>
#include <string.h>

#include "cuda_test.h"
#include "rng.h"

/* Tolerances: element-wise ops differ by a few ulps (expf, tanhf), sums and
 * GEMMs by their summation order. */
#define EW_RTOL 2e-6
#define EW_ATOL 1e-7
#define RED_RTOL 1e-4
#define RED_ATOL 1e-5

/* The dropout mask and noise of the GPU rely on this being exact. Runs
 * without a GPU: the port is host+device code (checked on the device by
 * cuda_dropout, whose mask must match bit for bit). */
uint64_t sbr_cuda_test_rng_hash_host(uint64_t seed, uint64_t index);
double sbr_cuda_test_rng_u01_host(uint64_t bits);

TEST(cuda_rng_port_matches_cpu)
{
    uint64_t seeds[] = {0, 1, 42, 0xffffffffffffffffULL, 0x123456789abcdefULL};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
        for (uint64_t i = 0; i < 20000; i += 7) {
            uint64_t a = sbr_rng_hash(seeds[s], i), b = sbr_cuda_test_rng_hash_host(seeds[s], i);
            if (a != b) {
                harness_fail(__FILE__, __LINE__, "seed %llu index %llu: %llx vs %llx",
                             (unsigned long long)seeds[s], (unsigned long long)i,
                             (unsigned long long)a, (unsigned long long)b);
                return;
            }
            CHECK(sbr_rng_u01(a) == sbr_cuda_test_rng_u01_host(a));
        }
}

/* shift: every GPU input and output starts that many floats into its buffer
 * (views of a larger tensor, as the models pass them: not 16-byte aligned). */
static void linear_case_on(sbr_nn_ctx *ctx, int n, int in, int out, int bias, int shift)
{
    ct_buf x = ct_in((size_t)n * in + shift, -1, 1), w = ct_in((size_t)out * in + shift, -1, 1);
    ct_buf b = ct_in(out + shift, -1, 1), y = ct_out((size_t)n * out + shift);
    ct_buf dy = ct_in((size_t)n * out + shift, -1, 1);
    ct_buf dx = ct_acc((size_t)n * in + shift), dw = ct_acc((size_t)out * in + shift);
    ct_buf db = ct_acc(out + shift);
    ct_buf *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        all[i]->h += shift, all[i]->d += shift;
        all[i]->n -= (size_t)shift;
    }
    const float *bh = bias ? b.h : NULL, *bd = bias ? b.d : NULL;
    sbr_nn_linear_forward_f32(NULL, y.h, x.h, w.h, bh, n, in, out);
    sbr_nn_linear_forward_cuda(ctx, y.d, x.d, w.d, bd, n, in, out);
    ct_check("linear y", y, RED_RTOL, RED_ATOL);

    sbr_nn_linear_backward_f32(NULL, dx.h, dw.h, bias ? db.h : NULL, dy.h, x.h, w.h, n, in, out);
    sbr_nn_linear_backward_cuda(ctx, dx.d, dw.d, bias ? db.d : NULL, dy.d, x.d, w.d, n, in, out);
    ct_check("linear dx", dx, RED_RTOL, RED_ATOL);
    ct_check("linear dw", dw, RED_RTOL, RED_ATOL);
    ct_check("linear db", db, RED_RTOL, RED_ATOL);
}

static void linear_case(int n, int in, int out, int bias)
{
    linear_case_on(ct_ctx(), n, in, out, bias, 0);
}

TEST(cuda_linear)
{
    CT_BEGIN();
    linear_case(37, 53, 29, 1);
    linear_case(100, 100, 300, 0);
    linear_case(1, 7, 1, 1);
    linear_case(5, 0, 3, 1); /* in = 0: y = b */
    linear_case(5, 0, 3, 0); /* in = 0: y = 0 */
    linear_case_on(ct_ctx(), 37, 53, 29, 1, 1);
}

/* A context set up under the environment variable name=value (-1: refused,
 * with the reason in e). */
static int ctx_under(sbr_nn_ctx *c, const char *name, const char *value, sbr_err *e)
{
    const char *was = getenv(name);
    char *old = was ? strdup(was) : NULL;
    setenv(name, value, 1);
    int r = sbr_nn_cuda_ctx_init(c, (size_t)16 << 20, e);
    if (old)
        setenv(name, old, 1);
    else
        unsetenv(name);
    free(old);
    return r;
}

/* SBR_GEMM=lt: every GEMM through cublasLt with cached plans and the bias in
 * its epilogue; the same results as the CPU, aligned or not, a shape met
 * again reuses its plan and gives the same bits. (make test-cuda under
 * SBR_GEMM=lt runs every other GPU test through it too.) */
TEST(cuda_gemm_lt)
{
    CT_BEGIN();
    sbr_nn_ctx lt;
    sbr_err e = {{0}};
    if (ctx_under(&lt, "SBR_GEMM", "lt", &e) < 0) {
        harness_fail(__FILE__, __LINE__, "SBR_GEMM=lt: %s", e.msg);
        return;
    }
    CHECK(lt.gemm != NULL);
    for (int shift = 0; shift < 2; shift++) {
        linear_case_on(&lt, 37, 53, 29, 1, shift);
        linear_case_on(&lt, 100, 100, 300, 1, shift);
        linear_case_on(&lt, 700, 200, 300, 0, shift);
        linear_case_on(&lt, 1, 7, 1, 1, shift);
        linear_case_on(&lt, 5, 0, 3, 1, shift); /* in = 0: y = b */
        linear_case_on(&lt, 5, 0, 3, 0, shift); /* in = 0: y = 0 */
    }
    int n = 64, in = 96, out = 128;
    ct_buf x = ct_in((size_t)n * in, -1, 1), w = ct_in((size_t)out * in, -1, 1);
    ct_buf b = ct_in(out, -1, 1);
    ct_buf y1 = ct_out((size_t)n * out), y2 = ct_out((size_t)n * out);
    sbr_nn_linear_forward_cuda(&lt, y1.d, x.d, w.d, b.d, n, in, out);
    sbr_nn_linear_forward_cuda(&lt, y2.d, x.d, w.d, b.d, n, in, out);
    sbr_nn_cuda_sync(&lt);
    sbr_cuda_d2h(y1.h, y1.d, y1.n * sizeof(float));
    ct_check_bits("lt: second run", y2.d, y1.h, y1.n * sizeof(float));
    int none = 0, algo = sbr_cuda_gemm_lt_plans(&lt, &none);
    CHECK(algo > 0); /* cublasLt did run them, not only the fallback */
    printf("    cublasLt plans: %d with an algorithm, %d without\n", algo, none);
    sbr_nn_cuda_ctx_free(&lt);
}

TEST(cuda_gemm_switches_refuse_unknown_values)
{
    CT_BEGIN();
    sbr_nn_ctx c;
    sbr_err e = {{0}};
    CHECK(ctx_under(&c, "SBR_GEMM", "fast", &e) < 0);
    CHECK(strstr(e.msg, "SBR_GEMM=fast") != NULL);
    memset(&e, 0, sizeof e);
    CHECK(ctx_under(&c, "SBR_CUBLAS_MATH", "fp16", &e) < 0);
    CHECK(strstr(e.msg, "SBR_CUBLAS_MATH=fp16") != NULL);
}

TEST(cuda_linear_repeats_bit_for_bit)
{
    CT_BEGIN();
    int n = 64, in = 96, out = 128;
    ct_buf x = ct_in((size_t)n * in, -1, 1), w = ct_in((size_t)out * in, -1, 1);
    ct_buf y1 = ct_out((size_t)n * out), y2 = ct_out((size_t)n * out);
    sbr_nn_linear_forward_cuda(ct_ctx(), y1.d, x.d, w.d, NULL, n, in, out);
    sbr_nn_linear_forward_cuda(ct_ctx(), y2.d, x.d, w.d, NULL, n, in, out);
    sbr_nn_cuda_sync(ct_ctx());
    sbr_cuda_d2h(y1.h, y1.d, y1.n * sizeof(float));
    ct_check_bits("second run", y2.d, y1.h, y1.n * sizeof(float));
}

typedef void (*act_f32)(sbr_nn_ctx *, float *, const float *, int);
typedef void (*act_bwd)(sbr_nn_ctx *, float *, const float *, const float *, int);

/* from_output: the backward differentiates from y (sigmoid, tanh), else x. */
static void act_case(const char *name, act_f32 fc, act_f32 fg, act_bwd bc, act_bwd bg,
                     int from_output)
{
    int n = 70001;
    ct_buf x = ct_in(n, -8, 8), y = ct_out(n);
    x.h[0] = 0; /* relu'(0) = 0 */
    x.h[1] = 30;
    x.h[2] = -30;
    sbr_cuda_h2d(x.d, x.h, 3 * sizeof(float));
    fc(NULL, y.h, x.h, n);
    fg(ct_ctx(), y.d, x.d, n);
    char what[64];
    snprintf(what, sizeof what, "%s y", name);
    ct_check(what, y, EW_RTOL, EW_ATOL);
    ct_buf dy = ct_in(n, -1, 1), dx = ct_acc(n);
    bc(NULL, dx.h, dy.h, from_output ? y.h : x.h, n);
    /* Both backwards read the CPU's y, so that only the backward is compared. */
    if (from_output)
        sbr_cuda_h2d(y.d, y.h, (size_t)n * sizeof(float));
    bg(ct_ctx(), dx.d, dy.d, from_output ? y.d : x.d, n);
    snprintf(what, sizeof what, "%s dx", name);
    ct_check(what, dx, EW_RTOL, EW_ATOL);
}

static void leaky_f32(sbr_nn_ctx *c, float *y, const float *x, int n)
{
    sbr_nn_leaky_relu_forward_f32(c, y, x, n, 0.01f);
}
static void leaky_cuda(sbr_nn_ctx *c, float *y, const float *x, int n)
{
    sbr_nn_leaky_relu_forward_cuda(c, y, x, n, 0.01f);
}
static void leaky_b_f32(sbr_nn_ctx *c, float *dx, const float *dy, const float *x, int n)
{
    sbr_nn_leaky_relu_backward_f32(c, dx, dy, x, n, 0.01f);
}
static void leaky_b_cuda(sbr_nn_ctx *c, float *dx, const float *dy, const float *x, int n)
{
    sbr_nn_leaky_relu_backward_cuda(c, dx, dy, x, n, 0.01f);
}

/* Several column sums in one launch: each gives the bits of its own sum
 * (linear's db, the single-launch path), strided rows and skipped jobs
 * included. */
TEST(cuda_colsum_multi)
{
    CT_BEGIN();
    int n1 = 1000, m1 = 301, n2 = 37, m2 = 50, ld2 = 64;
    ct_buf a1 = ct_in((size_t)n1 * m1, -1, 1), a2 = ct_in((size_t)n2 * ld2, -1, 1);
    ct_buf acc1 = ct_acc(m1), acc2 = ct_acc(m2), ref1 = ct_out(m1), none = ct_acc(8);
    sbr_cuda_d2d(ref1.d, acc1.d, (size_t)m1 * sizeof(float));
    const sbr_colsum_job jobs[4] = {{acc1.d, a1.d, (size_t)m1, n1, m1},
                                    {NULL, a1.d, (size_t)m1, n1, m1},
                                    {none.d, a1.d, (size_t)m1, 0, 8},
                                    {acc2.d, a2.d, (size_t)ld2, n2, m2}};
    sbr_cuda_colsum_multi(ct_ctx(), jobs, 4, "test");
    sbr_nn_linear_backward_cuda(ct_ctx(), NULL, NULL, ref1.d, a1.d, NULL, NULL, n1, 0, m1);
    ct_check_bits("colsum_multi = linear's db", acc1.d, ct_download(ref1.d, m1),
                  (size_t)m1 * sizeof(float));
    ct_check_bits("colsum_multi: a job with no rows is skipped", none.d, none.h, 8 * sizeof(float));
    for (int j = 0; j < m2; j++) {
        double s = acc2.h[j];
        for (int i = 0; i < n2; i++)
            s += a2.h[(size_t)i * ld2 + j];
        acc2.h[j] = (float)s;
    }
    ct_check("colsum_multi strided", acc2, RED_RTOL, RED_ATOL);
}

TEST(cuda_activations)
{
    CT_BEGIN();
    act_case("sigmoid", sbr_nn_sigmoid_forward_f32, sbr_nn_sigmoid_forward_cuda,
             sbr_nn_sigmoid_backward_f32, sbr_nn_sigmoid_backward_cuda, 1);
    act_case("tanh", sbr_nn_tanh_forward_f32, sbr_nn_tanh_forward_cuda, sbr_nn_tanh_backward_f32,
             sbr_nn_tanh_backward_cuda, 1);
    act_case("relu", sbr_nn_relu_forward_f32, sbr_nn_relu_forward_cuda, sbr_nn_relu_backward_f32,
             sbr_nn_relu_backward_cuda, 0);
    act_case("leaky_relu", leaky_f32, leaky_cuda, leaky_b_f32, leaky_b_cuda, 0);
    act_case("softplus", sbr_nn_softplus_forward_f32, sbr_nn_softplus_forward_cuda,
             sbr_nn_softplus_backward_f32, sbr_nn_softplus_backward_cuda, 0);
    act_case("gelu", sbr_nn_gelu_forward_f32, sbr_nn_gelu_forward_cuda, sbr_nn_gelu_backward_f32,
             sbr_nn_gelu_backward_cuda, 0);
}

TEST(cuda_elementwise)
{
    CT_BEGIN();
    int n = 5003, B = 7, L = 11, d = 13, d2 = 5;
    ct_buf a = ct_in(n, -2, 2), b = ct_in(n, -2, 2), y = ct_out(n);
    sbr_nn_add_forward_f32(NULL, y.h, a.h, b.h, n);
    sbr_nn_add_forward_cuda(ct_ctx(), y.d, a.d, b.d, n);
    ct_check("add y", y, 0, 0);
    ct_buf dy = ct_in(n, -1, 1), da = ct_acc(n), db = ct_acc(n);
    sbr_nn_add_backward_f32(NULL, da.h, db.h, dy.h, n);
    sbr_nn_add_backward_cuda(ct_ctx(), da.d, db.d, dy.d, n);
    ct_check("add da", da, 0, 0);
    ct_check("add db", db, 0, 0);

    y = ct_out(n);
    sbr_nn_mul_forward_f32(NULL, y.h, a.h, b.h, n);
    sbr_nn_mul_forward_cuda(ct_ctx(), y.d, a.d, b.d, n);
    ct_check("mul y", y, 0, 0);
    da = ct_acc(n), db = ct_acc(n);
    sbr_nn_mul_backward_f32(NULL, da.h, db.h, dy.h, a.h, b.h, n);
    sbr_nn_mul_backward_cuda(ct_ctx(), da.d, db.d, dy.d, a.d, b.d, n);
    ct_check("mul da", da, EW_RTOL, EW_ATOL); /* the GPU may fuse into an FMA */
    ct_check("mul db", db, EW_RTOL, EW_ATOL);

    size_t m = (size_t)B * L * d;
    ct_buf x3 = ct_in(m, -1, 1), r = ct_in((size_t)B * d, -1, 1), y3 = ct_out(m);
    sbr_nn_add_rows_forward_f32(NULL, y3.h, x3.h, r.h, B, L, d);
    sbr_nn_add_rows_forward_cuda(ct_ctx(), y3.d, x3.d, r.d, B, L, d);
    ct_check("add_rows y", y3, 0, 0);
    ct_buf dy3 = ct_in(m, -1, 1), dx3 = ct_acc(m), dr = ct_acc((size_t)B * d);
    sbr_nn_add_rows_backward_f32(NULL, dx3.h, dr.h, dy3.h, B, L, d);
    sbr_nn_add_rows_backward_cuda(ct_ctx(), dx3.d, dr.d, dy3.d, B, L, d);
    ct_check("add_rows da", dx3, 0, 0);
    ct_check("add_rows dr", dr, RED_RTOL, RED_ATOL);

    int rows = 301;
    ct_buf ca = ct_in((size_t)rows * d, -1, 1), cb = ct_in((size_t)rows * d2, -1, 1);
    ct_buf cy = ct_out((size_t)rows * (d + d2));
    sbr_nn_concat_forward_f32(NULL, cy.h, ca.h, cb.h, rows, d, d2);
    sbr_nn_concat_forward_cuda(ct_ctx(), cy.d, ca.d, cb.d, rows, d, d2);
    ct_check("concat y", cy, 0, 0);
    ct_buf cdy = ct_in(cy.n, -1, 1), cda = ct_acc(ca.n), cdb = ct_acc(cb.n);
    sbr_nn_concat_backward_f32(NULL, cda.h, cdb.h, cdy.h, rows, d, d2);
    sbr_nn_concat_backward_cuda(ct_ctx(), cda.d, cdb.d, cdy.d, rows, d, d2);
    ct_check("concat da", cda, 0, 0);
    ct_check("concat db", cdb, 0, 0);

    y = ct_out(n);
    sbr_nn_scale_forward_f32(NULL, y.h, a.h, n, 0.37f);
    sbr_nn_scale_forward_cuda(ct_ctx(), y.d, a.d, n, 0.37f);
    ct_check("scale y", y, 0, 0);
    da = ct_acc(n);
    sbr_nn_scale_backward_f32(NULL, da.h, dy.h, n, 0.37f);
    sbr_nn_scale_backward_cuda(ct_ctx(), da.d, dy.d, n, 0.37f);
    ct_check("scale dx", da, EW_RTOL, EW_ATOL);

    /* affine rounds the product, then the sum, on both sides: the same bits */
    y = ct_out(n);
    sbr_nn_affine_forward_f32(NULL, y.h, a.h, n, 0.9f, 0.1f);
    sbr_nn_affine_forward_cuda(ct_ctx(), y.d, a.d, n, 0.9f, 0.1f);
    ct_check("affine y", y, 0, 0);
    ct_buf yi = ct_in(n, -2, 2); /* in place */
    sbr_nn_affine_forward_f32(NULL, yi.h, yi.h, n, -1.3f, 0.7f);
    sbr_nn_affine_forward_cuda(ct_ctx(), yi.d, yi.d, n, -1.3f, 0.7f);
    ct_check("affine y (in place)", yi, 0, 0);
    da = ct_acc(n);
    sbr_nn_affine_backward_f32(NULL, da.h, dy.h, n, 0.9f);
    sbr_nn_affine_backward_cuda(ct_ctx(), da.d, dy.d, n, 0.9f);
    ct_check("affine dx", da, 0, 0);
}
