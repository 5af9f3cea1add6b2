// Element-wise arithmetic and shape glue on the GPU (see api.inc).
#include "cuda/kernels.cuh"

#define EW_LAUNCH(kernel, op, n, ...)                                              \
    do {                                                                           \
        if ((size_t)(n) > 0) {                                                     \
            kernel<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(__VA_ARGS__); \
            SBR_CUDA_LAUNCHED(op);                                                 \
        }                                                                          \
    } while (0)

__global__ void k_add(float *y, const float *a, const float *b, size_t n)
{
    SBR_CUDA_FOR(i, n) y[i] = a[i] + b[i];
}
__global__ void k_acc(float *d, const float *g, size_t n)
{
    SBR_CUDA_FOR(i, n) d[i] += g[i];
}
__global__ void k_mul(float *y, const float *a, const float *b, size_t n)
{
    SBR_CUDA_FOR(i, n) y[i] = a[i] * b[i];
}
__global__ void k_acc_mul(float *d, const float *g, const float *o, size_t n)
{
    SBR_CUDA_FOR(i, n) d[i] += g[i] * o[i];
}
__global__ void k_add_rows(float *y, const float *a, const float *r, int B, int L, int d)
{
    SBR_CUDA_FOR(i, (size_t)B * L * d) {
        size_t k = i % d, b = i / ((size_t)L * d);
        y[i] = a[i] + r[b * d + k];
    }
}
// dr [B, d] += sum over l (increasing) of dy [B, L, d]: one thread per (b, k).
__global__ void k_add_rows_dr(float *dr, const float *dy, int B, int L, int d)
{
    SBR_CUDA_FOR(i, (size_t)B * d) {
        size_t k = i % d, b = i / d;
        float s = 0;
        for (int l = 0; l < L; l++)
            s += dy[(b * L + l) * d + k];
        dr[i] += s;
    }
}
__global__ void k_concat(float *y, const float *a, const float *b, int n, int d1, int d2)
{
    size_t d = (size_t)d1 + d2;
    SBR_CUDA_FOR(i, (size_t)n * d) {
        size_t r = i / d, k = i % d;
        y[i] = k < (size_t)d1 ? a[r * d1 + k] : b[r * d2 + (k - d1)];
    }
}
// One thread per element of the gradient (da or db), so no two write the same.
__global__ void k_concat_b(float *dpart, const float *dy, int n, int dpart_w, int d, int off)
{
    SBR_CUDA_FOR(i, (size_t)n * dpart_w) {
        size_t r = i / dpart_w, k = i % dpart_w;
        dpart[i] += dy[r * d + off + k];
    }
}
__global__ void k_scale(float *y, const float *x, size_t n, float s)
{
    SBR_CUDA_FOR(i, n) y[i] = s * x[i];
}
__global__ void k_scale_acc(float *dx, const float *dy, size_t n, float s)
{
    SBR_CUDA_FOR(i, n) dx[i] += s * dy[i];
}
// affine rounds the product and then the sum, as the CPU does (no FMA
// contraction): the same bits.
__global__ void k_affine(float *y, const float *x, size_t n, float a, float c)
{
    SBR_CUDA_FOR(i, n) y[i] = __fadd_rn(__fmul_rn(a, x[i]), c);
}
__global__ void k_affine_acc(float *dx, const float *dy, size_t n, float a)
{
    SBR_CUDA_FOR(i, n) dx[i] = __fadd_rn(dx[i], __fmul_rn(a, dy[i]));
}

void sbr_nn_add_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a, const float *b, int n)
{
    EW_LAUNCH(k_add, "add_forward", n, y, a, b, (size_t)n);
}

void sbr_nn_add_backward_cuda(sbr_nn_ctx *ctx, float *da, float *db, const float *dy, int n)
{
    if (da)
        EW_LAUNCH(k_acc, "add_backward", n, da, dy, (size_t)n);
    if (db)
        EW_LAUNCH(k_acc, "add_backward", n, db, dy, (size_t)n);
}

void sbr_nn_mul_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a, const float *b, int n)
{
    EW_LAUNCH(k_mul, "mul_forward", n, y, a, b, (size_t)n);
}

void sbr_nn_mul_backward_cuda(sbr_nn_ctx *ctx, float *da, float *db, const float *dy,
                              const float *a, const float *b, int n)
{
    if (da)
        EW_LAUNCH(k_acc_mul, "mul_backward", n, da, dy, b, (size_t)n);
    if (db)
        EW_LAUNCH(k_acc_mul, "mul_backward", n, db, dy, a, (size_t)n);
}

void sbr_nn_add_rows_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a, const float *r,
                                  int B, int L, int d)
{
    EW_LAUNCH(k_add_rows, "add_rows_forward", (size_t)B * L * d, y, a, r, B, L, d);
}

void sbr_nn_add_rows_backward_cuda(sbr_nn_ctx *ctx, float *da, float *dr, const float *dy,
                                   int B, int L, int d)
{
    size_t n = (size_t)B * L * d;
    if (da)
        EW_LAUNCH(k_acc, "add_rows_backward", n, da, dy, n);
    if (dr)
        EW_LAUNCH(k_add_rows_dr, "add_rows_backward", (size_t)B * d, dr, dy, B, L, d);
}

void sbr_nn_concat_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a, const float *b,
                                int n, int d1, int d2)
{
    EW_LAUNCH(k_concat, "concat_forward", (size_t)n * (d1 + d2), y, a, b, n, d1, d2);
}

void sbr_nn_concat_backward_cuda(sbr_nn_ctx *ctx, float *da, float *db, const float *dy, int n,
                                 int d1, int d2)
{
    if (da)
        EW_LAUNCH(k_concat_b, "concat_backward", (size_t)n * d1, da, dy, n, d1, d1 + d2, 0);
    if (db)
        EW_LAUNCH(k_concat_b, "concat_backward", (size_t)n * d2, db, dy, n, d2, d1 + d2, d1);
}

void sbr_nn_scale_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n, float s)
{
    EW_LAUNCH(k_scale, "scale_forward", n, y, x, (size_t)n, s);
}

void sbr_nn_scale_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, int n, float s)
{
    EW_LAUNCH(k_scale_acc, "scale_backward", n, dx, dy, (size_t)n, s);
}

void sbr_nn_affine_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n, float a, float c)
{
    SBR_NN_REQUIRE(n >= 0, "affine_forward", "negative size");
    EW_LAUNCH(k_affine, "affine_forward", n, y, x, (size_t)n, a, c);
}

void sbr_nn_affine_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, int n, float a)
{
    SBR_NN_REQUIRE(n >= 0, "affine_backward", "negative size");
    EW_LAUNCH(k_affine_acc, "affine_backward", n, dx, dy, (size_t)n, a);
}
