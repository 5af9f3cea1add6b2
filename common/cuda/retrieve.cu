// NP-MiSR's context retrieval on the GPU (api.inc, retrieve.inc): the
// queries' inverse norms once; per chunk of pool rows, a cuBLAS sgemm writes
// X P_c^T [B, cn] into scratch, a warp per row gives the chunk rows' inverse
// norms, one kernel turns the products into cosines (an excluded row NaN),
// then topk's merge (topk_merge.cuh) folds the chunk into each row's running
// list. The merge's id 0 means an empty slot, so pool row r is ranked as id
// r + 1, as on the CPU, and shifted back at the end (empty: -1). Chunks run
// in order; the order is total, so the rows are the CPU's but for near ties.
#include "cuda/gemm.cuh"
#include "cuda/topk_merge.cuh"

#define RETRIEVE_MIN_CHUNK 8192

// inv [n] = 1 / |A[i]| for the rows of A [n, d] (0 for a row of zeros),
// the squares summed in double as on the CPU; a warp per row.
__global__ void k_retrieve_inv_norms(float *inv, const float *A, int n, int d)
{
    SBR_CUDA_FOR_WARP_ROWS(r, n) {
        const float *a = A + r * d;
        double s = 0;
        for (int k = threadIdx.x & 31; k < d; k += 32)
            s += (double)a[k] * a[k];
        for (int m = 16; m > 0; m >>= 1)
            s += __shfl_xor_sync(0xffffffffu, s, m);
        if ((threadIdx.x & 31) == 0)
            inv[r] = s > 0 ? (float)(1 / sqrt(s)) : 0.0f;
    }
}

// lg [B, cn]: X P_c^T -> cosines, query b's excluded row (r0 + j) and the
// rows from its limit on NaN.
__global__ void k_retrieve_cos(float *lg, const float *rx, const float *rp, const int32_t *excl,
                               const int32_t *lim, int B, int cn, int r0)
{
    SBR_CUDA_FOR(t, (size_t)B * cn) {
        int b = (int)(t / cn), j = (int)(t % cn);
        float s = lg[t] * rx[b] * rp[j];
        int out = (excl && excl[b] == r0 + j) || (lim && (int64_t)r0 + j >= lim[b]);
        lg[t] = out ? NAN : s;
    }
}

// ids r + 1 back to rows r, an empty slot's 0 to -1
__global__ void k_retrieve_shift(int32_t *idx, size_t n)
{
    SBR_CUDA_FOR(i, n)
        idx[i] -= 1;
}

static int retrieve_chunk(int M, int chunk)
{
    int ce = chunk > RETRIEVE_MIN_CHUNK ? chunk : RETRIEVE_MIN_CHUNK;
    return ce < M ? ce : M;
}

// scratch: rx [B] fixed; per pool row of a chunk its scores [B] and its
// inverse norm: (B + 1) floats
extern "C" size_t sbr_nn_retrieve_scratch_cuda(sbr_nn_retrieve_shape sh)
{
    if (sh.B <= 0 || sh.M <= 0)
        return 0;
    return sbr_cuda_chunk_scratch((size_t)sh.B * sizeof(float), ((size_t)sh.B + 1) * sizeof(float),
                                  retrieve_chunk(sh.M, sh.chunk < 1 ? 1 : sh.chunk), 3);
}

void sbr_nn_retrieve_cuda(sbr_nn_ctx *ctx, int32_t *idx, float *sim, const float *X,
                          const float *P, const int32_t *excl, const int32_t *lim,
                          sbr_nn_retrieve_shape sh)
{
    const char *op = "retrieve";
    int B = sh.B, M = sh.M, d = sh.d, C = sh.C, chunk = sh.chunk;
    SBR_NN_REQUIRE(B >= 0 && M >= 1 && d >= 1 && C >= 1 && chunk >= 1, op,
                   "bad sizes B=%d M=%d d=%d C=%d chunk=%d", B, M, d, C, chunk);
    SBR_NN_REQUIRE(C <= SBR_CUDA_TOPK_MAX_K, op, "C = %d: the GPU keeps at most %d rows per query",
                   C, SBR_CUDA_TOPK_MAX_K);
    SBR_NN_REQUIRE(X && P && idx && sim, op, "missing input or output");
    if (B == 0)
        return;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    size_t fixed = (size_t)B * sizeof(float), per = ((size_t)B + 1) * sizeof(float);
    int least = chunk < M ? chunk : M;
    int ce = sbr_cuda_fit_chunk(ctx, fixed, per, retrieve_chunk(M, chunk), least, 3);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch(fixed, per, least, 3));
    cudaStream_t s = sbr_cuda_stream(ctx);
    char *p = (char *)ctx->scratch;
    float *rx = (float *)p; // [B]
    p += sbr_cuda_align256(fixed);
    float *lg = (float *)p; // [B, ce]
    p += sbr_cuda_align256((size_t)B * ce * sizeof(float));
    float *rp = (float *)p; // [ce]
    k_retrieve_inv_norms<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, s>>>(rx, X, B, d);
    SBR_CUDA_LAUNCHED(op);
    topk_lists t = {s, op, idx, sim, B, C};
    topk_begin(&t);
    for (int r0 = 0; r0 < M; r0 += ce) {
        int cn = M - r0 < ce ? M - r0 : ce;
        const float *Pc = P + (size_t)r0 * d;
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, B, d, Pc, d, X, d, 0,
                                        lg, cn, NULL));
        k_retrieve_inv_norms<<<sbr_cuda_grid_warps(cn), SBR_CUDA_BLOCK, 0, s>>>(rp, Pc, cn, d);
        SBR_CUDA_LAUNCHED(op);
        k_retrieve_cos<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, s>>>(lg, rx, rp, excl,
                                                                                lim, B, cn, r0);
        SBR_CUDA_LAUNCHED(op);
        topk_merge_chunk(&t, lg, NULL, NULL, cn, r0 + 1);
    }
    k_retrieve_shift<<<sbr_cuda_grid((size_t)B * C), SBR_CUDA_BLOCK, 0, s>>>(idx, (size_t)B * C);
    SBR_CUDA_LAUNCHED(op);
}
