// Top-K over the catalogue on the GPU (see api.inc): per chunk of items, a
// cuBLAS sgemm writes the scores [B, cn] into scratch, excluded items become
// NaN, and one block per row merges the chunk with the row's running top-K
// (kept in the output arrays) by K rounds of a block-wide arg-max under the
// ranking order (higher score, then smaller id; NaN never ranked). The order
// is total, so the result is the exact top K, the same as the CPU's up to
// the last bits of the scores.
#include "cuda/gemm.cuh"
#include "cuda/topk_merge.cuh"

#define SBR_CUDA_TOPK_MIN_CHUNK 8192

static int topk_chunk(int N, int chunk)
{
    int ce = chunk > SBR_CUDA_TOPK_MIN_CHUNK ? chunk : SBR_CUDA_TOPK_MIN_CHUNK;
    return ce < N ? ce : N;
}

extern "C" size_t sbr_nn_topk_scratch_cuda(sbr_nn_scoring sc, int K)
{
    (void)K;
    int B = sc.B, N = sc.N, chunk = sc.chunk;
    if (B <= 0 || N <= 0)
        return 0;
    return sbr_cuda_chunk_scratch(0, (size_t)B * sizeof(float),
                                  topk_chunk(N, chunk < 1 ? 1 : chunk), 1);
}

void sbr_nn_topk_cuda(sbr_nn_ctx *ctx, int32_t *idx, float *score, const float *S,
                      const float *E, int K, const int32_t *excl_off, const int32_t *excl,
                      sbr_nn_scoring sc)
{
    const char *op = "topk";
    SBR_NN_REQUIRE(sc.U == 1, op, "U = %d: one session vector per row (topk_multi takes more)",
                   sc.U);
    int B = sc.B, N = sc.N, d = sc.d, chunk = sc.chunk;
    SBR_NN_REQUIRE(B >= 0 && N >= 1 && d >= 1 && K >= 1 && chunk >= 1, op,
                   "bad sizes B=%d N=%d d=%d K=%d chunk=%d", B, N, d, K, chunk);
    SBR_NN_REQUIRE(K <= SBR_CUDA_TOPK_MAX_K, op, "K = %d: the GPU top-K takes at most %d", K,
                   SBR_CUDA_TOPK_MAX_K);
    SBR_NN_REQUIRE((excl_off == NULL) == (excl == NULL), op,
                   "excl_off and excl go together on the GPU");
    if (B == 0)
        return;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    int least = chunk < N ? chunk : N;
    int ce = sbr_cuda_fit_chunk(ctx, 0, (size_t)B * sizeof(float), topk_chunk(N, chunk), least, 1);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch(0, (size_t)B * sizeof(float), least, 1));
    cudaStream_t s = sbr_cuda_stream(ctx);
    float *lg = (float *)ctx->scratch; /* [B, cn] */
    topk_lists t = {s, op, idx, score, B, K};
    topk_begin(&t);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, B, d,
                                        E + (size_t)c0 * d, d, S, d, 0, lg, cn, NULL));
        topk_merge_chunk(&t, lg, excl_off, excl, cn, c0);
    }
}

/* ---- top-K over pooled multi-interest scores ------------------------------------
 * Per chunk: one sgemm over the B*U interest rows, the pooling kernel
 * (score_pool.cuh), then the same exclusions and merge on the pooled
 * scores P [B, cn]. scratch: lg [B*U, ce] + P [B, ce]. */
#include "cuda/score_pool.cuh"

extern "C" size_t sbr_nn_topk_multi_scratch_cuda(sbr_nn_scoring sc, int K)
{
    (void)K;
    int B = sc.B, U = sc.U, N = sc.N, chunk = sc.chunk;
    if (B <= 0 || N <= 0 || U <= 0)
        return 0;
    return sbr_cuda_chunk_scratch(0, (size_t)B * U * sizeof(float) + (size_t)B * sizeof(float),
                                  topk_chunk(N, chunk < 1 ? 1 : chunk), 2);
}

void sbr_nn_topk_multi_cuda(sbr_nn_ctx *ctx, int32_t *idx, float *score, const float *S,
                            const float *E, int K, const int32_t *excl_off, const int32_t *excl,
                            sbr_nn_scoring sc)
{
    int B = sc.B, U = sc.U, N = sc.N, d = sc.d, chunk = sc.chunk, pool = sc.pool;
    const char *op = "topk_multi";
    SBR_NN_REQUIRE(B >= 0 && U >= 1 && U <= 255 && N >= 1 && d >= 1 && K >= 1 && chunk >= 1, op,
                   "bad sizes B=%d U=%d N=%d d=%d K=%d chunk=%d", B, U, N, d, K, chunk);
    SBR_NN_REQUIRE(pool == 0 || pool == 1, op, "pool = %d, not 0 (max) or 1 (sum)", pool);
    SBR_NN_REQUIRE(K <= SBR_CUDA_TOPK_MAX_K, op, "K = %d: the GPU top-K takes at most %d", K,
                   SBR_CUDA_TOPK_MAX_K);
    SBR_NN_REQUIRE((excl_off == NULL) == (excl == NULL), op,
                   "excl_off and excl go together on the GPU");
    if (B == 0)
        return;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    int least = chunk < N ? chunk : N;
    int ce = sbr_cuda_fit_chunk(ctx, 0, (size_t)B * U * sizeof(float) + (size_t)B * sizeof(float),
                                topk_chunk(N, chunk), least, 2);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch(0, (size_t)B * U * sizeof(float) + (size_t)B * sizeof(float),
                                          least, 2));
    cudaStream_t s = sbr_cuda_stream(ctx);
    int BU = B * U;
    float *lg = (float *)ctx->scratch; /* [B*U, cn] */
    float *P = (float *)((char *)ctx->scratch +
                         sbr_cuda_align256((size_t)BU * ce * sizeof(float))); /* [B, cn] */
    topk_lists t = {s, op, idx, score, B, K};
    topk_begin(&t);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, BU, d,
                                        E + (size_t)c0 * d, d, S, d, 0, lg, cn, NULL));
        sbr_cuda_score_pool(ctx, P, NULL, lg, B, U, cn, pool, op);
        topk_merge_chunk(&t, P, excl_off, excl, cn, c0);
    }
}
