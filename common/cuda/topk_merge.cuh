// The merge of a chunk's scores into each row's running top-K on the GPU,
// shared by topk.cu (S . E and the multi-interest scores), target_score.cu
// (TAGNN), proxy.cu (ProxySR's distances) and retrieve.cu (NP-MiSR's
// context): init, exclusions (NaN), and one block per row
// taking K rounds of a block-wide arg-max under the ranking order (higher
// score, then smaller id; NaN never ranked). Included by .cu files only;
// static kernels, one copy per file.
#ifndef SBR_CUDA_TOPK_MERGE_CUH
#define SBR_CUDA_TOPK_MERGE_CUH

#include <limits.h>

#include "cuda/kernels.cuh"

#define SBR_CUDA_TOPK_MAX_K 4096 /* the merge keeps 2 K entries in shared memory */

static __device__ __forceinline__ bool better(float sa, int ia, float sb, int ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

static __global__ void k_topk_init(int32_t *idx, float *score, size_t n)
{
    SBR_CUDA_FOR(i, n) {
        idx[i] = 0;
        score[i] = -INFINITY;
    }
}

// Excluded items of the chunk become NaN: one thread per (row, list entry).
static __global__ void k_topk_excl(float *lg, const int32_t *excl_off, const int32_t *excl, int B,
                            int cn, int c0)
{
    for (int b = blockIdx.x; b < B; b += gridDim.x)
        for (int k = excl_off[b] + threadIdx.x; k < excl_off[b + 1]; k += blockDim.x) {
            int it = excl[k];
            if (it >= c0 && it < c0 + cn)
                lg[(size_t)b * cn + (it - c0)] = NAN;
        }
}

// One block per row. Candidates: the row's current list (idx/score, id 0 =
// empty) and the chunk's scores lg. Shared: the new list (K scores, K ids)
// and a taken flag per old entry.
static __global__ void k_topk_merge(int32_t *idx, float *score, float *lg, int B, int K, int cn,
                             int c0)
{
    extern __shared__ unsigned char smem[];
    float *ns = (float *)smem;                    /* [K] */
    int *ni = (int *)(ns + K);                    /* [K] */
    unsigned char *taken = (unsigned char *)(ni + K); /* [K] */
    __shared__ float wsc[32];
    __shared__ int wid[32];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        float *l = lg + (size_t)b * cn;
        int32_t *oi = idx + (size_t)b * K;
        float *os = score + (size_t)b * K;
        for (int o = threadIdx.x; o < K; o += blockDim.x)
            taken[o] = 0;
        __syncthreads();
        int filled = 0;
        for (int r = 0; r < K; r++) {
            // This thread's best candidate: src >= 0 a chunk slot, < 0 an old entry.
            float bs = -INFINITY;
            int bi = INT_MAX, src = 0;
            for (int o = threadIdx.x; o < K; o += blockDim.x) {
                int id = oi[o];
                if (id > 0 && !taken[o] && better(os[o], id, bs, bi))
                    bs = os[o], bi = id, src = -1 - o;
            }
            for (int j = threadIdx.x; j < cn; j += blockDim.x) {
                float s = l[j];
                if (s == s && better(s, c0 + j, bs, bi))
                    bs = s, bi = c0 + j, src = j;
            }
            // Block arg-max: warp trees, then warp 0 over the warp winners.
            float ws = bs;
            int wi = bi;
            for (int m = 16; m > 0; m >>= 1) {
                float so = __shfl_xor_sync(0xffffffffu, ws, m);
                int io = __shfl_xor_sync(0xffffffffu, wi, m);
                if (better(so, io, ws, wi))
                    ws = so, wi = io;
            }
            int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
            if (lane == 0)
                wsc[w] = ws, wid[w] = wi;
            __syncthreads();
            ws = lane < nw ? wsc[lane] : -INFINITY;
            wi = lane < nw ? wid[lane] : INT_MAX;
            for (int m = 16; m > 0; m >>= 1) {
                float so = __shfl_xor_sync(0xffffffffu, ws, m);
                int io = __shfl_xor_sync(0xffffffffu, wi, m);
                if (better(so, io, ws, wi))
                    ws = so, wi = io;
            }
            if (wi == INT_MAX) // no candidate left
                break;
            if (bi == wi) { // the owner takes it (ids are unique)
                if (src >= 0)
                    l[src] = NAN;
                else
                    taken[-1 - src] = 1;
            }
            if (threadIdx.x == 0)
                ns[r] = ws, ni[r] = wi;
            filled = r + 1;
            __syncthreads();
        }
        __syncthreads();
        for (int o = threadIdx.x; o < K; o += blockDim.x) {
            oi[o] = o < filled ? ni[o] : 0;
            os[o] = o < filled ? ns[o] : -INFINITY;
        }
        __syncthreads();
    }
}

// The host side every catalogue top-K runs chunk by chunk: the rows' running
// lists (idx, score [B, K]) emptied before the first chunk, then each chunk's
// scores lg [B, cn] of items c0.. merged in after its exclusions (excl_off
// NULL: none).
typedef struct {
    cudaStream_t s;
    const char *op;
    int32_t *idx;
    float *score;
    int B, K;
} topk_lists;

static void topk_begin(const topk_lists *t)
{
    size_t n = (size_t)t->B * t->K;
    k_topk_init<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, t->s>>>(t->idx, t->score, n);
    SBR_CUDA_LAUNCHED(t->op);
}

static void topk_merge_chunk(const topk_lists *t, float *lg, const int32_t *excl_off,
                             const int32_t *excl, int cn, int c0)
{
    unsigned rows = sbr_cuda_grid_rows(t->B);
    if (excl_off) {
        k_topk_excl<<<rows, SBR_CUDA_BLOCK, 0, t->s>>>(lg, excl_off, excl, t->B, cn, c0);
        SBR_CUDA_LAUNCHED(t->op);
    }
    size_t shm = (size_t)t->K * (sizeof(float) + sizeof(int) + 1);
    k_topk_merge<<<rows, SBR_CUDA_BLOCK, shm, t->s>>>(t->idx, t->score, lg, t->B, t->K, cn, c0);
    SBR_CUDA_LAUNCHED(t->op);
}

#endif
