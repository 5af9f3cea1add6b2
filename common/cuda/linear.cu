// linear on the GPU: y = x W^T + b with cuBLAS sgemm (see api.inc).
//
// cuBLAS is column-major: a row-major [r, c] matrix is the column-major
// [c, r] matrix, its transpose. So y [n, out] = x W^T is, column-major,
// y^T [out, n] = W [out, in] x^T, i.e. sgemm(T, N) on the stored arrays.
#include "cuda/kernels.cuh"

// y [n, out] = b broadcast over rows.
__global__ void k_linear_bias_fill(float *y, const float *b, int n, int out)
{
    SBR_CUDA_FOR(i, (size_t)n * out)
        y[i] = b[i % (size_t)out];
}

namespace {
struct rows_of { // a[i, j] of a row-major [n, m] array of row stride lda
    const float *a;
    size_t lda;
    __device__ float operator()(size_t i, size_t j) const { return a[i * lda + j]; }
};
} // namespace

void sbr_cuda_colsum_acc_ld(sbr_nn_ctx *ctx, float *acc, const float *a, size_t lda, int n, int m)
{
    if (m <= 0 || n <= 0)
        return;
    sbr_cuda_colreduce(ctx, acc, (size_t)n, (size_t)m, rows_of{a, lda}, "colsum_acc");
}

void sbr_cuda_colsum_acc(sbr_nn_ctx *ctx, float *acc, const float *a, int n, int m)
{
    sbr_cuda_colsum_acc_ld(ctx, acc, a, (size_t)m, n, m);
}

static cublasHandle_t blas(sbr_nn_ctx *ctx, const char *op)
{
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle "
                                           "(sbr_nn_cuda_ctx_init)");
    return (cublasHandle_t)ctx->cublas;
}

void sbr_nn_linear_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *w,
                                const float *b, int n, int in, int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 0 && out >= 0, "linear_forward", "negative size");
    cublasHandle_t h = blas(ctx, "linear_forward");
    if (n == 0 || out == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    float one = 1, beta = 0;
    if (b) {
        k_linear_bias_fill<<<sbr_cuda_grid((size_t)n * out), SBR_CUDA_BLOCK, 0, s>>>(y, b, n,
                                                                                    out);
        SBR_CUDA_LAUNCHED("linear_forward");
        beta = 1;
    }
    if (in == 0) {
        if (!b)
            SBR_CUDA_CHECK(cudaMemsetAsync(y, 0, (size_t)n * out * sizeof(float), s));
        return;
    }
    SBR_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, in, x, in,
                                 &beta, y, out));
}

void sbr_nn_linear_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dw, float *db,
                                 const float *dy, const float *x, const float *w, int n, int in,
                                 int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 0 && out >= 0, "linear_backward", "negative size");
    cublasHandle_t h = blas(ctx, "linear_backward");
    if (n == 0 || out == 0)
        return;
    if (db)
        sbr_cuda_colsum_acc(ctx, db, dy, n, out);
    if (in == 0)
        return;
    float one = 1;
    if (dx) // dx^T [in, n] += W^T [in, out] dy^T [out, n]
        SBR_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w, in, dy,
                                     out, &one, dx, in));
    if (dw) // dw^T [in, out] += x^T [in, n] dy [n, out]
        SBR_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy,
                                     out, &one, dw, in));
}
