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

// ---- small GEMMs --------------------------------------------------------------
// The linear layers of the session encoders multiply thousands of rows by a
// 100 x 100 (or so) matrix. cuBLAS does that well on the GPU but costs the
// host about 11 us per call on the lent machines (docs/BENCH-GPU.md: the
// step profile), against about 4 us for a plain kernel launch, and SR-GNN's
// step makes 21 such calls; with the bias added in the same kernel the
// forward also saves the launch of the bias fill. So the products with a
// short inner dimension (y = x W^T + b, dx += dy W) run here: 64 x 64 output
// tiles, 16 x 16 threads of 4 x 4 outputs, each output summing k in
// increasing order (deterministic; not cuBLAS's bits). The products with a
// long inner dimension (dW += dy^T x over the rows) stay with cuBLAS, which
// splits that dimension.
//
//   C [M, N] (ldc) = (acc ? C : 0) + sum_k A'[m, k] B'[k, n] (+ bias[n])
//   A'[m, k] = a[m * lda + k], or a[k * lda + m] when TA
//   B'[k, n] = b[k * ldb + n], or b[n * ldb + k] when TB
#define GEMM_TILE 64
#define GEMM_KT 16
#define GEMM_MAX_K 1024 // longer inner dimensions go to cuBLAS

template <int TA, int TB>
__global__ void __launch_bounds__(256) k_gemm_small(float *c, const float *a, const float *b,
                                                    const float *bias, int M, int N, int K,
                                                    int lda, int ldb, int ldc, int acc)
{
    __shared__ float As[GEMM_KT][GEMM_TILE + 4]; // [k][m]
    __shared__ float Bs[GEMM_KT][GEMM_TILE + 4]; // [k][n]
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    int m0 = blockIdx.y * GEMM_TILE, n0 = blockIdx.x * GEMM_TILE;
    float r[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            r[i][j] = 0;
    for (int k0 = 0; k0 < K; k0 += GEMM_KT) {
        for (int l = 0; l < 4; l++) { // 64 x 16 of A', 16 x 64 of B': 4 each per thread
            int e = threadIdx.x + l * 256;
            int am = TA ? e % GEMM_TILE : e / GEMM_KT, ak = TA ? e / GEMM_TILE : e % GEMM_KT;
            int gm = m0 + am, gk = k0 + ak;
            As[ak][am] = gm < M && gk < K
                             ? (TA ? a[(size_t)gk * lda + gm] : a[(size_t)gm * lda + gk])
                             : 0.0f;
            int bn = TB ? e / GEMM_KT : e % GEMM_TILE, bk = TB ? e % GEMM_KT : e / GEMM_TILE;
            int gn = n0 + bn;
            gk = k0 + bk;
            Bs[bk][bn] = gk < K && gn < N
                             ? (TB ? b[(size_t)gn * ldb + gk] : b[(size_t)gk * ldb + gn])
                             : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GEMM_KT; kk++) {
            float av[4], bv[4];
            for (int i = 0; i < 4; i++)
                av[i] = As[kk][ty + 16 * i];
            for (int j = 0; j < 4; j++)
                bv[j] = Bs[kk][tx + 16 * j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    r[i][j] = fmaf(av[i], bv[j], r[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++) {
        int gm = m0 + ty + 16 * i;
        if (gm >= M)
            continue;
        for (int j = 0; j < 4; j++) {
            int gn = n0 + tx + 16 * j;
            if (gn >= N)
                continue;
            float v = r[i][j];
            if (bias)
                v += bias[gn];
            float *dst = c + (size_t)gm * ldc + gn;
            *dst = acc ? *dst + v : v;
        }
    }
}

int sbr_cuda_gemm_small(sbr_nn_ctx *ctx, int ta, int tb, float *c, const float *a,
                        const float *b, const float *bias, int M, int N, int K, size_t lda,
                        size_t ldb, size_t ldc, int acc, const char *op)
{
    if (K <= 0 || K > GEMM_MAX_K || M > 65535 * GEMM_TILE || lda > INT32_MAX ||
        ldb > INT32_MAX || ldc > INT32_MAX)
        return 0;
    if (M <= 0 || N <= 0)
        return 1;
    dim3 grid((unsigned)((N + GEMM_TILE - 1) / GEMM_TILE),
              (unsigned)((M + GEMM_TILE - 1) / GEMM_TILE));
    cudaStream_t s = sbr_cuda_stream(ctx);
    int la = (int)lda, lb = (int)ldb, lc = (int)ldc;
    if (!ta && !tb)
        k_gemm_small<0, 0><<<grid, 256, 0, s>>>(c, a, b, bias, M, N, K, la, lb, lc, acc);
    else if (!ta && tb)
        k_gemm_small<0, 1><<<grid, 256, 0, s>>>(c, a, b, bias, M, N, K, la, lb, lc, acc);
    else if (ta && !tb)
        k_gemm_small<1, 0><<<grid, 256, 0, s>>>(c, a, b, bias, M, N, K, la, lb, lc, acc);
    else
        k_gemm_small<1, 1><<<grid, 256, 0, s>>>(c, a, b, bias, M, N, K, la, lb, lc, acc);
    SBR_CUDA_LAUNCHED(op);
    return 1;
}

void sbr_nn_linear_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *w,
                                const float *b, int n, int in, int out)
{
    SBR_NN_REQUIRE(n >= 0 && in >= 0 && out >= 0, "linear_forward", "negative size");
    cublasHandle_t h = blas(ctx, "linear_forward");
    if (n == 0 || out == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (sbr_cuda_gemm_small(ctx, 0, 1, y, x, w, b, n, out, in, (size_t)in, (size_t)in,
                            (size_t)out, 0, "linear_forward")) // y = x W^T + b, one kernel
        return;
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
    if (dx && sbr_cuda_gemm_small(ctx, 0, 0, dx, dy, w, NULL, n, in, out, (size_t)out,
                                  (size_t)in, (size_t)in, 1, "linear_backward"))
        ; // dx [n, in] += dy [n, out] W [out, in]
    else if (dx) // dx^T [in, n] += W^T [in, out] dy^T [out, n]
        SBR_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w, in, dy,
                                     out, &one, dx, in));
    if (dw) // dw^T [in, out] += x^T [in, n] dy [n, out]
        SBR_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy,
                                     out, &one, dw, in));
}
