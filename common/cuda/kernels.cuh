/* What every op file of the CUDA mirror uses: the stream of a context,
 * launch shapes, fixed-order warp reductions and the record of contract
 * violations found on the device. Included by the .cu files of common/cuda only. */
#ifndef SBR_CUDA_KERNELS_CUH
#define SBR_CUDA_KERNELS_CUH

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cuda/cuda_check.h"
#include "cuda/nn_cuda.h"

#define SBR_CUDA_BLOCK 256      /* threads of a block, everywhere */
#define SBR_CUDA_WARPS (SBR_CUDA_BLOCK / 32)
#define SBR_CUDA_MAX_GRID 16384 /* grid-stride loops cover the rest */

static inline cudaStream_t sbr_cuda_stream(const sbr_nn_ctx *ctx)
{
    return ctx ? (cudaStream_t)ctx->stream : (cudaStream_t)0;
}

/* Blocks for n independent work items, one per thread (grid-stride beyond). */
static inline unsigned sbr_cuda_grid(size_t n)
{
    size_t g = (n + SBR_CUDA_BLOCK - 1) / SBR_CUDA_BLOCK;
    if (g < 1)
        g = 1;
    return (unsigned)(g < SBR_CUDA_MAX_GRID ? g : SBR_CUDA_MAX_GRID);
}

/* Blocks for n rows handled by one block each (grid-stride beyond). */
static inline unsigned sbr_cuda_grid_rows(size_t rows)
{
    if (rows < 1)
        rows = 1;
    return (unsigned)(rows < SBR_CUDA_MAX_GRID ? rows : SBR_CUDA_MAX_GRID);
}

/* Blocks for n rows handled by one warp each. */
static inline unsigned sbr_cuda_grid_warps(size_t rows)
{
    return sbr_cuda_grid((rows + SBR_CUDA_WARPS - 1) / SBR_CUDA_WARPS * SBR_CUDA_BLOCK);
}

#define SBR_CUDA_FOR(i, n)                                                         \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n); \
         i += (size_t)gridDim.x * blockDim.x)

/* One warp per row: `row` runs over 0..rows-1, `lane` is 0..31. */
#define SBR_CUDA_FOR_WARP_ROWS(row, rows)                                          \
    for (size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;        \
         row < (size_t)(rows); row += ((size_t)gridDim.x * blockDim.x) / 32)

/* The logistic function, stable on both sides, as on the CPU (activations,
 * the GRU's gates, the additive gate). */
__device__ __forceinline__ float sbr_sigmoidf(float x)
{
    if (x >= 0)
        return 1 / (1 + expf(-x));
    float e = expf(x);
    return e / (1 + e);
}

/* Butterfly sums over the 32 lanes: a fixed tree (the same bits every run),
 * and every lane ends with the same value (a + b == b + a exactly). */
__device__ __forceinline__ float sbr_warp_sum(float v)
{
    for (int m = 16; m > 0; m >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, m);
    return v;
}

__device__ __forceinline__ float sbr_warp_max(float v)
{
    for (int m = 16; m > 0; m >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
    return v;
}

/* Sum / max over a whole block (blockDim.x a multiple of 32, <= 1024): warp
 * trees, then warp 0 over the warp results; a fixed order. Every thread gets
 * the result. sh: __shared__ float[32] of the caller. */
__device__ __forceinline__ float sbr_block_sum(float v, float *sh)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = sbr_warp_sum(v);
    __syncthreads(); /* sh may still be read by a previous call */
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0f;
    return sbr_warp_sum(v); /* every warp reduces the same values: same bits */
}

__device__ __forceinline__ float sbr_block_max(float v, float *sh)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = sbr_warp_max(v);
    __syncthreads();
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return sbr_warp_max(v);
}

static inline size_t sbr_cuda_align256(size_t x) { return (x + 255) / 256 * 256; }

/* The chunk of the catalogue ops (score_ce, topk and their multi-interest
 * forms): `pref` items when the scratch holds fixed + pref * per_item bytes
 * (in `parts` 256-aligned pieces), else as many as it holds but at least
 * `least` (the caller's chunk: a scratch sized for the CPU op always holds
 * that); 0 when even that does not fit. It depends only on the sizes and
 * the context's scratch, so a run repeats. */
/* The scratch bytes for which sbr_cuda_fit_chunk(fixed, per_item, chunk,
 * ..., parts) gives `chunk` items: what the catalogue ops' scratch
 * functions reserve (their 256-aligned pieces never need more). */
static inline size_t sbr_cuda_chunk_scratch(size_t fixed, size_t per_item, int chunk, int parts)
{
    return fixed + (size_t)parts * 256 + (size_t)chunk * per_item;
}

static inline int sbr_cuda_fit_chunk(const sbr_nn_ctx *ctx, size_t fixed, size_t per_item,
                                     int pref, int least, int parts)
{
    size_t have = ctx && ctx->scratch ? ctx->scratch_bytes : 0;
    size_t slack = fixed + (size_t)parts * 256;
    if (have < slack || per_item == 0)
        return 0;
    size_t fit = (have - slack) / per_item;
    if (fit >= (size_t)pref)
        return pref;
    return fit >= (size_t)least ? (int)fit : 0;
}

/* ---- column reductions --------------------------------------------------------
 * acc[j] += sum over rows i < n of f(i, j), for columns j < m: bias gradients
 * and every other sum over many rows. One thread per column summing all n
 * rows in turn (the CPU's order) left the GPU idle: 100 threads for 7,000
 * rows took 0.3 ms. Here a block of 1024 threads takes 8 columns; its 128
 * row lanes each sum rows lane, lane + 128, ... in increasing order, and the
 * 128 partial sums of a column are added in a fixed tree. The order depends
 * on n only: the same bits on every run (not the CPU's bits). F: a functor
 * with `__device__ float operator()(size_t i, size_t j) const`. */
#define SBR_COLRED_COLS 8
#define SBR_COLRED_LANES 128

/* One block's columns cb * SBR_COLRED_COLS + 0..7: the body of
 * sbr_k_colreduce and of linear.cu's k_colsum_multi, so that a column gets
 * the same bits either way. */
template <class F>
__device__ __forceinline__ void sbr_colreduce_block(float *acc, size_t n, size_t m, F f,
                                                   size_t cb)
{
    __shared__ float part[SBR_COLRED_LANES][SBR_COLRED_COLS];
    unsigned x = threadIdx.x % SBR_COLRED_COLS, y = threadIdx.x / SBR_COLRED_COLS;
    size_t j = cb * SBR_COLRED_COLS + x;
    float s = 0;
    if (j < m)
        for (size_t i = y; i < n; i += SBR_COLRED_LANES)
            s += f(i, j);
    part[y][x] = s;
    __syncthreads();
    for (unsigned w = SBR_COLRED_LANES / 2; w > 0; w >>= 1) {
        if (y < w)
            part[y][x] += part[y + w][x];
        __syncthreads();
    }
    if (y == 0 && j < m)
        acc[j] += part[0][x];
}

template <class F> __global__ void sbr_k_colreduce(float *acc, size_t n, size_t m, F f)
{
    sbr_colreduce_block(acc, n, m, f, blockIdx.x);
}

template <class F>
static inline void sbr_cuda_colreduce(sbr_nn_ctx *ctx, float *acc, size_t n, size_t m, F f,
                                      const char *op)
{
    if (m == 0 || n == 0)
        return;
    size_t blocks = (m + SBR_COLRED_COLS - 1) / SBR_COLRED_COLS;
    sbr_k_colreduce<<<(unsigned)blocks, SBR_COLRED_COLS * SBR_COLRED_LANES, 0,
                      sbr_cuda_stream(ctx)>>>(acc, n, m, f);
    SBR_CUDA_LAUNCHED(op);
}

/* acc [m] += the sum of the rows of a [n, m] (linear.cu; also the bias-like
 * sums of other ops), by sbr_cuda_colreduce. */
void sbr_cuda_colsum_acc(sbr_nn_ctx *ctx, float *acc, const float *a, int n, int m);
/* The same over rows of stride lda. */
void sbr_cuda_colsum_acc_ld(sbr_nn_ctx *ctx, float *acc, const float *a, size_t lda, int n, int m);
/* (several in one launch: sbr_cuda_colsum_multi, nn_cuda.h) */

/* The GRU cell steps of gru.cu with row strides (ggnn.cu reuses them);
 * len NULL: every row active. gh / dgh: scratch [n, 3H]. The forward adds
 * b_hh in its gate kernel (not by a fill before the GEMM), and gi_bias [3H]
 * too when gi comes without its bias (NULL: gi has it or there is none). */
void sbr_cuda_gru_cell_fw(sbr_nn_ctx *ctx, float *hnew, size_t ldo, float *gates, float *ghn,
                          size_t ldn, const float *gi, size_t ldg, const float *gi_bias,
                          const float *h, size_t ldh, const float *w_hh, const float *b_hh, int n,
                          int H, float *gh, const int32_t *len, int t, int L);
void sbr_cuda_gru_cell_bw(sbr_nn_ctx *ctx, float *dgi, size_t ldg, float *dh, float *dw_hh,
                          float *db_hh, const float *g, size_t ldgr, const float *gates,
                          const float *ghn, size_t ldn, const float *h, size_t ldh,
                          const float *w_hh, int n, int H, float *dgh, const int32_t *len, int t,
                          int L);

/* ---- contract violations seen by kernels -------------------------------------
 * A CPU op aborts at once on an index or a length out of range; a kernel
 * cannot. It skips the bad element (never touching memory out of bounds)
 * and records the first violation in its file's slot; sbr_nn_cuda_sync()
 * reads every slot and aborts with "sbr nn: OP: what" like the CPU.
 * SBR_CUDA_VIOLATION_SLOT(name) in one .cu file defines that file's slot and
 * the host reader sbr_cuda_violation_<name> (listed in runtime.cu). */
enum {
    SBR_CV_NONE = 0,
    SBR_CV_INDEX, /* [1] = position, [2] = value, [3] = limit: value outside 0..limit-1 */
    SBR_CV_LEN,   /* value outside 0..limit */
    SBR_CV_OFF,   /* offsets decrease at segment [1] (or off[0] != 0) */
    SBR_CV_SESSION, /* [1] = row, [2] = node, [3] = the node's session: not the row's */
    SBR_CV_ORDER,   /* [1] = j, [2] = order[j], [3] = order[j - 1]: not in (idx, position) order */
};

#define SBR_CUDA_VIOLATION_SLOT(name)                                              \
    static __device__ int sbr_cv_slot[5]; /* kind, op, position, value, limit */    \
    static __device__ __noinline__ void sbr_cv_record(int kind, int op, long long pos,  \
                                                      long long value, long long limit) \
    {                                                                              \
        if (atomicCAS(&sbr_cv_slot[0], 0, kind) == 0) {                            \
            sbr_cv_slot[1] = op;                                                   \
            sbr_cv_slot[2] = (int)pos;                                             \
            sbr_cv_slot[3] = (int)value;                                           \
            sbr_cv_slot[4] = (int)limit;                                           \
        }                                                                          \
    }                                                                              \
    /* len[b] when it is in 0..L, else 0 (no work) and a record. */            \
    [[maybe_unused]] static __device__ __forceinline__ int sbr_cv_len(const int32_t *len, int b, int L, int op) \
    {                                                                              \
        int n_ = len[b];                                                           \
        if (n_ < 0 || n_ > L) {                                                    \
            sbr_cv_record(SBR_CV_LEN, op, b, n_, L);                               \
            return 0;                                                              \
        }                                                                          \
        return n_;                                                                 \
    }                                                                              \
    /* idx[i] when it is in 0..V-1, else -1 (skipped) and a record. */            \
    [[maybe_unused]] static __device__ __forceinline__ int sbr_cv_index(const int32_t *idx, size_t i, int V, int op) \
    {                                                                              \
        int v_ = idx[i];                                                           \
        if (v_ < 0 || v_ >= V) {                                                   \
            sbr_cv_record(SBR_CV_INDEX, op, (long long)i, v_, V);                  \
            return -1;                                                             \
        }                                                                          \
        return v_;                                                                 \
    }                                                                              \
    extern "C" void sbr_cuda_violation_##name(int out[5])                          \
    {                                                                              \
        SBR_CUDA_CHECK(cudaMemcpyFromSymbol(out, sbr_cv_slot, sizeof sbr_cv_slot)); \
        if (out[0] != SBR_CV_NONE) {                                               \
            static const int zero[5] = {0, 0, 0, 0, 0};                            \
            SBR_CUDA_CHECK(cudaMemcpyToSymbol(sbr_cv_slot, zero, sizeof zero));    \
        }                                                                          \
    }

/* Names of the ops that record violations (the `op` of a record). */
enum {
    SBR_CVOP_EMBEDDING_FORWARD = 1,
    SBR_CVOP_EMBEDDING_BACKWARD,
    SBR_CVOP_SEQ_MEAN_FORWARD,
    SBR_CVOP_SEQ_MEAN_BACKWARD,
    SBR_CVOP_SEGMENT_POOL_FORWARD,
    SBR_CVOP_SEGMENT_POOL_BACKWARD,
    SBR_CVOP_MASKED_SOFTMAX_FORWARD,
    SBR_CVOP_MASKED_SOFTMAX_BACKWARD,
    SBR_CVOP_SEQ_WEIGHTED_SUM_FORWARD,
    SBR_CVOP_SEQ_WEIGHTED_SUM_BACKWARD,
    SBR_CVOP_SEQ_DOT_FORWARD,
    SBR_CVOP_SEQ_DOT_BACKWARD,
    SBR_CVOP_SCORE_CE,
    SBR_CVOP_TOPK,
    SBR_CVOP_GRU,
    SBR_CVOP_GGNN,
    SBR_CVOP_EDGE_ATTN,
    SBR_CVOP_MHA,
    SBR_CVOP_SESSION_NODES,
    SBR_CVOP_ATTN_POOL_FORWARD,
    SBR_CVOP_ATTN_POOL_BACKWARD,
    SBR_CVOP_EMBEDDING_BACKWARD_GROUPED,
    SBR_CVOP_SGAT,
    SBR_CVOP_TARGET_SCORE,
    SBR_CVOP_PACK_ROWS,
    SBR_CVOP_COUNT
};

#endif
