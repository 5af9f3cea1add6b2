// linear on the GPU: y = x W^T + b with cuBLAS sgemm (see api.inc).
//
// cuBLAS is column-major: a row-major [r, c] matrix is the column-major
// [c, r] matrix, its transpose. So y [n, out] = x W^T is, column-major,
// y^T [out, n] = W [out, in] x^T, i.e. sgemm(T, N) on the stored arrays.
#include "cuda/gemm.cuh"

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

namespace {
struct colsum_jobs { // by value, in the kernel's parameters
    sbr_colsum_job job[SBR_COLSUM_JOBS];
    unsigned first_block[SBR_COLSUM_JOBS + 1]; // job q: blocks first_block[q] ..
    int n;
};
} // namespace

__global__ void k_colsum_multi(colsum_jobs js)
{
    int q = 0;
    while (q + 1 < js.n && blockIdx.x >= js.first_block[q + 1])
        q++;
    const sbr_colsum_job &jb = js.job[q];
    sbr_colreduce_block(jb.acc, (size_t)jb.n, (size_t)jb.m, rows_of{jb.a, jb.lda},
                        blockIdx.x - js.first_block[q]);
}

void sbr_cuda_colsum_multi(sbr_nn_ctx *ctx, const sbr_colsum_job *jobs, int n_jobs,
                           const char *op)
{
    SBR_NN_REQUIRE(n_jobs >= 0 && n_jobs <= SBR_COLSUM_JOBS, op, "%d column sums, at most %d",
                   n_jobs, SBR_COLSUM_JOBS);
    colsum_jobs js;
    js.n = 0;
    unsigned blocks = 0;
    for (int q = 0; q < n_jobs; q++) {
        if (!jobs[q].acc || jobs[q].n <= 0 || jobs[q].m <= 0)
            continue;
        js.job[js.n] = jobs[q];
        js.first_block[js.n++] = blocks;
        blocks += (unsigned)((jobs[q].m + SBR_COLRED_COLS - 1) / SBR_COLRED_COLS);
    }
    if (js.n == 0)
        return;
    js.first_block[js.n] = blocks;
    k_colsum_multi<<<blocks, SBR_COLRED_COLS * SBR_COLRED_LANES, 0, sbr_cuda_stream(ctx)>>>(js);
    SBR_CUDA_LAUNCHED(op);
}

// Misuse is reported even for an empty call.
static void need_cublas(const sbr_nn_ctx *ctx, const char *op)
{
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle "
                                           "(sbr_nn_cuda_ctx_init)");
}

void sbr_nn_linear_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *w,
                                const float *b, int n, int in, int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 0 && out >= 0, "linear_forward", "negative size");
    need_cublas(ctx, "linear_forward");
    if (n == 0 || out == 0)
        return;
    // (in = 0: y = b, or 0)
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, "linear_forward", CUBLAS_OP_T, CUBLAS_OP_N, out, n, in,
                                    w, in, x, in, 0, y, out, b));
}

void sbr_nn_linear_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dw, float *db,
                                 const float *dy, const float *x, const float *w, int n, int in,
                                 int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 0 && out >= 0, "linear_backward", "negative size");
    need_cublas(ctx, "linear_backward");
    if (n == 0 || out == 0)
        return;
    if (db)
        sbr_cuda_colsum_acc(ctx, db, dy, n, out);
    if (in == 0)
        return;
    const char *op = "linear_backward";
    if (dx) // dx^T [in, n] += W^T [in, out] dy^T [out, n]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, w, in, dy,
                                        out, 1, dx, in, NULL));
    if (dw) // dw^T [in, out] += x^T [in, n] dy [n, out]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy,
                                        out, 1, dw, in, NULL));
}

// matmul: y [n, out] = x [n, in] W [in, out]; column-major y^T = W^T x^T.
void sbr_nn_matmul_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *w, int n,
                                int in, int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 1 && out >= 0, "matmul_forward", "bad sizes");
    need_cublas(ctx, "matmul_forward");
    if (n == 0 || out == 0)
        return;
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, "matmul_forward", CUBLAS_OP_N, CUBLAS_OP_N, out, n, in,
                                    w, out, x, in, 0, y, out, NULL));
}

void sbr_nn_matmul_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dw, const float *dy,
                                 const float *x, const float *w, int n, int in, int out)
{
    const char *op = "matmul_backward";
    SBR_NN_REQUIRE(n >= 0 && in >= 1 && out >= 0, op, "bad sizes");
    need_cublas(ctx, op);
    if (n == 0 || out == 0)
        return;
    if (dx) // dx^T [in, n] += W [in, out] dy^T [out, n]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, in, n, out, w, out, dy,
                                        out, 1, dx, in, NULL));
    if (dw) // dw^T [out, in] += dy^T [out, n] x [n, in]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, out, in, n, dy, out, x,
                                        in, 1, dw, out, NULL));
}
