/* Every FP32 GEMM of the CUDA mirror goes through sbr_cuda_sgemm, so that the
 * library behind it is picked in one place (SBR_GEMM, docs/GPU.md):
 *
 *   cublas (default)  cublasSgemm; a bias is filled into C by a kernel first
 *                     and the product added onto it (beta = 1).
 *   lt                cublasLt with the algorithm of each shape chosen once
 *                     and cached (the host's cost per call is what bounds
 *                     SR-GNN's small GEMMs), the bias added by cublasLt's
 *                     epilogue in the same kernel. A shape cublasLt has no
 *                     algorithm for falls back to the cublas path.
 *
 * Column-major, as cuBLAS: C [m, n] (ldc) = op(A) op(B) + beta C, alpha 1,
 * beta 0 or 1 (nothing else is needed, and k = 0 relies on it);
 * with bias [m] (beta must then be 0): C = op(A) op(B) + bias broadcast over
 * C's columns, i.e. over the rows of the row-major matrix C^T. k = 0 (no
 * product; A, B and their lds unread): C = bias, or 0 (beta 0), or left
 * (beta 1), without a library call. Returns the
 * cuBLAS status; call it inside SBR_CUBLAS_CHECK, which names the call site
 * (and marks it for the step profiler). Included by .cu files only. */
#ifndef SBR_CUDA_GEMM_CUH
#define SBR_CUDA_GEMM_CUH

#include "cuda/kernels.cuh"

cublasStatus_t sbr_cuda_sgemm(sbr_nn_ctx *ctx, const char *op, cublasOperation_t ta,
                              cublasOperation_t tb, int m, int n, int k, const float *A, int lda,
                              const float *B, int ldb, float beta, float *C, int ldc,
                              const float *bias);

/* SBR_GEMM at context set-up (runtime.cu): sets ctx->gemm for lt, or -1
 * with the reason in e; and its release. */
extern "C" int sbr_cuda_gemm_init(sbr_nn_ctx *ctx, sbr_err *e);
/* (sbr_cuda_gemm_lt_plans: nn_cuda.h) */
extern "C" void sbr_cuda_gemm_free(sbr_nn_ctx *ctx);

#endif
