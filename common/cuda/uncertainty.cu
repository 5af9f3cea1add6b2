// Predictive uncertainty of the catalogue softmax on the GPU (api.inc,
// uncertainty.inc): per chunk of items, a cuBLAS sgemm writes the scores
// [B U, cn] into scratch (pooled into [B, cn] when U > 1, as topk_multi's),
// then one block per row sets the row's excluded items to -inf and folds the
// chunk into the row's running (max m, Z = sum exp(P - m), T = sum exp(P - m)
// (P - m)) with fixed-order block reductions; the last chunk's block writes
// ent = log Z - T / Z, p1 = 1 / Z, lse = m + log Z. Chunks run in order (no
// lanes): the same bits every run, the CPU's up to rounding.
#include "cuda/gemm.cuh"
#include "cuda/score_pool.cuh"

#define SBR_CUDA_UNC_MIN_CHUNK 8192

static int unc_chunk(int N, int chunk)
{
    int ce = chunk > SBR_CUDA_UNC_MIN_CHUNK ? chunk : SBR_CUDA_UNC_MIN_CHUNK;
    return ce < N ? ce : N;
}

// Scratch per item of a chunk: the scores of the B U rows, and the pooled
// scores when U > 1.
static size_t unc_per_item(int B, int U)
{
    return (size_t)B * U * sizeof(float) + (U > 1 ? (size_t)B * sizeof(float) : 0);
}

extern "C" size_t sbr_nn_uncertainty_scratch_cuda(sbr_nn_scoring sc)
{
    int B = sc.B, U = sc.U < 1 ? 1 : sc.U, N = sc.N, chunk = sc.chunk;
    if (B <= 0 || N <= 0)
        return 0;
    return sbr_cuda_chunk_scratch((size_t)B * 3 * sizeof(float), unc_per_item(B, U),
                                  unc_chunk(N, chunk < 1 ? 1 : chunk), U > 1 ? 3 : 2);
}

// a (m, Z, T) += (m2, Z2, T2), both rescaled to the larger max; Z = 0:
// nothing yet (as the CPU's nn_unc_merge).
__device__ void unc_merge(float *a, float m2, float z2, float t2)
{
    if (z2 == 0)
        return;
    if (a[1] == 0) {
        a[0] = m2, a[1] = z2, a[2] = t2;
        return;
    }
    float M = fmaxf(a[0], m2), r1 = expf(a[0] - M), r2 = expf(m2 - M);
    float T = r1 * (a[2] + (a[0] - M) * a[1]) + r2 * (t2 + (m2 - M) * z2);
    a[1] = r1 * a[1] + r2 * z2;
    a[0] = M, a[2] = T;
}

// One block per row: exclusions, then the chunk P [B, cn] into acc [B, 3]
// (first: a fresh start); with ent given (the last chunk) the row's results.
__global__ void k_unc_fold(float *acc, float *P, int B, int cn, int c0, const int32_t *excl_off,
                           const int32_t *excl, int first, float *ent, float *p1, float *lse)
{
    __shared__ float sh[32];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        float *l = P + (size_t)b * cn;
        if (excl_off) {
            for (int k = excl_off[b] + threadIdx.x; k < excl_off[b + 1]; k += blockDim.x) {
                int it = excl[k];
                if (it >= c0 && it < c0 + cn)
                    l[it - c0] = -INFINITY;
            }
            __syncthreads();
        }
        float mx = -INFINITY;
        for (int j = threadIdx.x; j < cn; j += blockDim.x)
            mx = fmaxf(mx, l[j]); // NaN skipped, as the CPU's max
        mx = sbr_block_max(mx, sh);
        float sft = mx == -INFINITY ? 0.0f : mx, z = 0, t = 0; // all -inf: Z 0; a NaN: Z NaN
        for (int j = threadIdx.x; j < cn; j += blockDim.x) {
            float v = l[j] - sft, e = expf(v);
            z += e;
            t += e > 0 ? e * v : 0.0f;
        }
        z = sbr_block_sum(z, sh);
        t = sbr_block_sum(t, sh);
        if (threadIdx.x == 0) {
            float a[3] = {-INFINITY, 0, 0};
            if (!first)
                a[0] = acc[3 * b], a[1] = acc[3 * b + 1], a[2] = acc[3 * b + 2];
            unc_merge(a, sft, z, t);
            acc[3 * b] = a[0], acc[3 * b + 1] = a[1], acc[3 * b + 2] = a[2];
            if (ent) {
                int none = a[1] == 0;
                float lz = none ? 0.0f : logf(a[1]);
                ent[b] = none ? 0.0f : lz - a[2] / a[1];
                p1[b] = none ? 0.0f : 1.0f / a[1];
                if (lse)
                    lse[b] = none ? -INFINITY : a[0] + lz;
            }
        }
        __syncthreads(); // sh free for the next row
    }
}

// The GPU chunk for this call (see sbr_cuda_fit_chunk), or abort.
static int unc_check(sbr_nn_ctx *ctx, const char *op, const sbr_nn_scoring *sc,
                     const int32_t *excl_off, const int32_t *excl)
{
    int B = sc->B, U = sc->U, N = sc->N, d = sc->d, chunk = sc->chunk;
    SBR_NN_REQUIRE(B >= 0 && U >= 1 && U <= 255 && N >= 1 && d >= 1 && chunk >= 1, op,
                   "bad sizes B=%d U=%d N=%d d=%d chunk=%d", B, U, N, d, chunk);
    SBR_NN_REQUIRE(U == 1 || sc->pool == 0 || sc->pool == 1, op,
                   "pool = %d, not 0 (max) or 1 (sum)", sc->pool);
    SBR_NN_REQUIRE((excl_off == NULL) == (excl == NULL), op,
                   "excl_off and excl go together on the GPU");
    if (B == 0)
        return 1;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    int least = chunk < N ? chunk : N, parts = U > 1 ? 3 : 2;
    size_t fixed = (size_t)B * 3 * sizeof(float), per = unc_per_item(B, U);
    int ce = sbr_cuda_fit_chunk(ctx, fixed, per, unc_chunk(N, chunk), least, parts);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch(fixed, per, least, parts));
    return ce;
}

void sbr_nn_uncertainty_cuda(sbr_nn_ctx *ctx, float *ent, float *p1, float *lse, const float *S,
                             const float *E, const int32_t *excl_off, const int32_t *excl,
                             sbr_nn_scoring sc)
{
    const char *op = "uncertainty";
    int ce = unc_check(ctx, op, &sc, excl_off, excl);
    int B = sc.B, U = sc.U, N = sc.N, d = sc.d, BU = B * U;
    if (B == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    char *base = (char *)ctx->scratch;
    float *acc = (float *)base; /* [B, 3] */
    float *lg = (float *)(base + sbr_cuda_align256((size_t)B * 3 * sizeof(float))); /* [B U, ce] */
    float *P = U > 1 ? (float *)((char *)lg + sbr_cuda_align256((size_t)BU * ce * sizeof(float)))
                     : lg; /* [B, ce] */
    unsigned rows = sbr_cuda_grid_rows(B);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce, last = c0 + cn > N;
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, BU, d,
                                        E + (size_t)c0 * d, d, S, d, 0, lg, cn, NULL));
        if (U > 1)
            sbr_cuda_score_pool(ctx, P, NULL, lg, B, U, cn, sc.pool, op);
        k_unc_fold<<<rows, SBR_CUDA_BLOCK, 0, s>>>(acc, P, B, cn, c0, excl_off, excl, c0 == 1,
                                                   last ? ent : NULL, p1, lse);
        SBR_CUDA_LAUNCHED(op);
    }
}
