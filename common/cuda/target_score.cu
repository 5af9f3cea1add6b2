// Target-aware scoring over the catalogue (TAGNN) on the GPU (api.inc).
//
// Chunks of items run one after the other, as score_ce's: per chunk three
// sgemms give U = E_c Q^T, W = E_c V^T [cn, n] over the n packed clicks and
// P = S E_c^T [B, cn] (row-major, as the CPU's); one warp per (item, row)
// softmaxes the row's stretch off[b] .. off[b+1]-1 of U and adds
// t = beta . w to P. The forward folds
// P into each row's running (max, sum of exp) with one block per row; the
// backward recomputes a chunk, turns P into g, U into dU and W into dW in
// place, and accumulates dE_c (three sgemms), dS, dV, dQ (one each) with
// beta = 1, chunks in order: no lanes are needed, no atomics, the same bits
// every run. Top-K merges each chunk's P with topk's kernels
// (topk_merge.cuh). Memory: 2 cn n + B cn floats, cn capped at 2^22 / n
// items.
#include "cuda/gemm.cuh"
#include "cuda/topk_merge.cuh"

#define SBR_CUDA_TS_CELLS (1 << 22)

SBR_CUDA_VIOLATION_SLOT(target_score)

// Items per chunk: chunk, at most N and SBR_CUDA_TS_CELLS / n.
static int ts_chunk(int n, int N, int chunk)
{
    long long cells = n > 0 ? n : 1;
    long long cap = SBR_CUDA_TS_CELLS / cells;
    int ce = chunk < N ? chunk : N;
    if (cap < ce)
        ce = cap > 1 ? (int)cap : 1;
    return ce;
}

// Scratch layout (bytes): acc [B, 2], tsc [B], U and W [ce, n], P [B, ce].
static void ts_layout(int B, int n, int ce, size_t off[5])
{
    size_t cells = (size_t)ce * n * sizeof(float);
    off[0] = 0;
    off[1] = off[0] + sbr_cuda_align256((size_t)B * 2 * sizeof(float));
    off[2] = off[1] + sbr_cuda_align256((size_t)B * sizeof(float));
    off[3] = off[2] + sbr_cuda_align256(cells);
    off[4] = off[3] + sbr_cuda_align256(cells);
}

// An upper bound for every B' <= B, n' <= n (the cap makes ce n at most
// max(cells, n) and at most min(chunk, N) n).
extern "C" size_t sbr_nn_target_score_scratch_cuda(sbr_nn_scoring sc, int n, int K)
{
    (void)K;
    int B = sc.B, N = sc.N, chunk = sc.chunk < 1 ? 1 : sc.chunk;
    if (B <= 0 || N <= 0)
        return 0;
    size_t nn = (size_t)(n > 0 ? n : 0), c0 = (size_t)(chunk < N ? chunk : N);
    size_t cells = nn > SBR_CUDA_TS_CELLS ? nn : SBR_CUDA_TS_CELLS;
    cells = cells < c0 * nn ? cells : c0 * nn;
    return 5 * 256 + (size_t)B * 3 * sizeof(float) + 2 * cells * sizeof(float) +
           (size_t)B * c0 * sizeof(float);
}

static int ts_check(sbr_nn_ctx *ctx, const char *op, const sbr_nn_target_in_cuda *in,
                    sbr_nn_scoring sc)
{
    SBR_NN_REQUIRE(sc.U == 1, op, "U = %d: one session vector per row", sc.U);
    SBR_NN_REQUIRE(sc.B >= 0 && sc.N >= 1 && sc.d >= 1 && sc.chunk >= 1 && in->n >= 0, op,
                   "bad sizes B=%d N=%d d=%d chunk=%d n=%d", sc.B, sc.N, sc.d, sc.chunk, in->n);
    if (sc.B == 0)
        return 1;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    int ce = ts_chunk(in->n, sc.N, sc.chunk);
    size_t off[5];
    ts_layout(sc.B, in->n, ce, off);
    size_t need = off[4] + sbr_cuda_align256((size_t)sc.B * ce * sizeof(float));
    SBR_NN_REQUIRE(ctx->scratch_bytes >= need, op, "scratch of %zu bytes, needs %zu",
                   ctx->scratch_bytes, need);
    return ce;
}

// Row-major C [m, n] (beta 0 or 1) += op(A) op(B), as cblas_Xgemm on the CPU.
static void rm_gemm(sbr_nn_ctx *ctx, const char *op, bool ta, bool tb, int m, int n, int k,
                    const float *A, int lda, const float *B, int ldb, float beta, float *C,
                    int ldc)
{
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, B, ldb, A, lda, beta,
                                    C, ldc, NULL));
}

// Row b's clicks: off[b] .. off[b] + count - 1, the count 0 (no work) and a
// record when the offsets leave 0..n or decrease.
__device__ __forceinline__ int ts_count(const int32_t *off, int b, int n)
{
    int o = off[b], c = off[b + 1] - o;
    if (o < 0 || c < 0 || o + c > n) {
        sbr_cv_record(SBR_CV_OFF, SBR_CVOP_TARGET_SCORE, b, c, n);
        return 0;
    }
    return c;
}

// One warp per (item i, row b): beta = softmax of u over the row's clicks
// (in place), P[b, i] += beta . w.
__global__ void k_ts_attend(float *P, float *U, const float *W, const int32_t *roff, int B,
                            int nr, int cn)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)cn * B) {
        size_t i = r / B, b = r % B;
        int n = ts_count(roff, (int)b, nr);
        size_t o = i * nr + (n ? roff[b] : 0);
        if (n == 0)
            continue;
        float *u = U + o;
        const float *w = W + o;
        float mx = -INFINITY, s = 0, t = 0;
        for (int j = lane; j < n; j += 32)
            mx = fmaxf(mx, u[j]);
        mx = sbr_warp_max(mx);
        for (int j = lane; j < n; j += 32)
            s += expf(u[j] - mx);
        s = sbr_warp_sum(s);
        for (int j = lane; j < n; j += 32) {
            float beta = expf(u[j] - mx) / s;
            u[j] = beta;
            t += beta * w[j];
        }
        t = sbr_warp_sum(t);
        if (lane == 0)
            P[b * cn + i] += t;
    }
}

// Scores of items c0 .. c0 + cn - 1: P [B, cn], beta in U, w in W.
static void ts_chunk_scores(sbr_nn_ctx *ctx, const char *op, float *P, float *U, float *W,
                            const sbr_nn_target_in_cuda *in, int c0, int cn, int B, int d)
{
    int n = in->n;
    const float *Ec = in->E + (size_t)c0 * d;
    if (n > 0) {
        rm_gemm(ctx, op, false, true, cn, n, d, Ec, d, in->Q, d, 0, U, n);
        rm_gemm(ctx, op, false, true, cn, n, d, Ec, d, in->V, d, 0, W, n);
    }
    rm_gemm(ctx, op, false, true, B, cn, d, in->S, d, Ec, d, 0, P, cn);
    k_ts_attend<<<sbr_cuda_grid_warps((size_t)cn * B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        P, U, W, in->off, B, n, cn);
    SBR_CUDA_LAUNCHED(op);
}

// One block per row: the target's score when it is in the chunk, and the
// chunk folded into acc [B, 2] (first: a fresh start).
__global__ void k_ts_fold(float *acc, float *tsc, const float *P, const int32_t *target, int B,
                          int N, int cn, int c0, int first)
{
    __shared__ float sh[32];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *l = P + (size_t)b * cn;
        int t = target[b];
        if (threadIdx.x == 0 && (t < 1 || t > N))
            sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_TARGET_SCORE, b, t, N + 1);
        if (threadIdx.x == 0 && t >= c0 && t < c0 + cn)
            tsc[b] = l[t - c0];
        float mx = -INFINITY;
        for (int j = threadIdx.x; j < cn; j += blockDim.x)
            mx = fmaxf(mx, l[j]);
        mx = sbr_block_max(mx, sh);
        float m_old = first ? -INFINITY : acc[2 * b], m = fmaxf(m_old, mx), s = 0;
        for (int j = threadIdx.x; j < cn; j += blockDim.x)
            s += expf(l[j] - m);
        s = sbr_block_sum(s, sh);
        if (threadIdx.x == 0) {
            float s_old = first ? 0.0f : acc[2 * b + 1];
            acc[2 * b + 1] = (s_old > 0 ? s_old * expf(m_old - m) : 0.0f) + s;
            acc[2 * b] = m;
        }
        __syncthreads();
    }
}

__global__ void k_ts_finish(float *loss, float *lse, const float *acc, const float *tsc, int B)
{
    SBR_CUDA_FOR(b, B) {
        float l = acc[2 * b] + logf(acc[2 * b + 1]);
        lse[b] = l;
        loss[b] = l - tsc[b];
    }
}

void sbr_nn_target_score_forward_cuda(sbr_nn_ctx *ctx, float *loss, float *lse,
                                      const sbr_nn_target_in_cuda *in, const int32_t *target,
                                      sbr_nn_scoring sc)
{
    const char *op = "target_score_forward";
    int ce = ts_check(ctx, op, in, sc), B = sc.B, N = sc.N, d = sc.d;
    if (B == 0)
        return;
    size_t off[5];
    ts_layout(B, in->n, ce, off);
    char *base = (char *)ctx->scratch;
    float *acc = (float *)(base + off[0]), *tsc = (float *)(base + off[1]);
    float *U = (float *)(base + off[2]), *W = (float *)(base + off[3]), *P = (float *)(base + off[4]);
    cudaStream_t s = sbr_cuda_stream(ctx);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        ts_chunk_scores(ctx, op, P, U, W, in, c0, cn, B, d);
        k_ts_fold<<<sbr_cuda_grid_rows(B), SBR_CUDA_BLOCK, 0, s>>>(acc, tsc, P, target, B, N, cn,
                                                                   c0, c0 == 1);
        SBR_CUDA_LAUNCHED(op);
    }
    k_ts_finish<<<sbr_cuda_grid(B), SBR_CUDA_BLOCK, 0, s>>>(loss, lse, acc, tsc, B);
    SBR_CUDA_LAUNCHED(op);
}

// P into g = (softmax - onehot) dloss, in place.
__global__ void k_ts_grad(float *P, const float *lse, const float *dloss, const int32_t *target,
                          int B, int cn, int c0)
{
    SBR_CUDA_FOR(i, (size_t)B * cn) {
        size_t b = i / cn;
        int j = (int)(i % cn);
        float w = dloss[b], v = expf(P[i] - lse[b]) * w;
        if (target[b] - c0 == j)
            v -= w;
        P[i] = v;
    }
}

// One warp per (item, row): U into dU = g beta (w - t), W into dW = g beta
// over the row's clicks.
__global__ void k_ts_attend_grad(float *U, float *W, const float *P, const int32_t *roff, int B,
                                 int nr, int cn)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)cn * B) {
        size_t i = r / B, b = r % B;
        int n = ts_count(roff, (int)b, nr);
        size_t o = i * nr + (n ? roff[b] : 0);
        float *u = U + o, *w = W + o, g = P[b * cn + i], t = 0;
        for (int j = lane; j < n; j += 32)
            t += u[j] * w[j];
        t = sbr_warp_sum(t);
        for (int j = lane; j < n; j += 32) {
            float gb = g * u[j];
            u[j] = gb * (w[j] - t);
            w[j] = gb;
        }
    }
}

void sbr_nn_target_score_backward_cuda(sbr_nn_ctx *ctx, const sbr_nn_target_grad_cuda *gr,
                                       const float *dloss, const sbr_nn_target_in_cuda *in,
                                       const int32_t *target, const float *lse, sbr_nn_scoring sc)
{
    const char *op = "target_score_backward";
    int ce = ts_check(ctx, op, in, sc), B = sc.B, N = sc.N, d = sc.d, n = in->n;
    if (B == 0 || (!gr->dS && !gr->dV && !gr->dQ && !gr->dE))
        return;
    size_t off[5];
    ts_layout(B, n, ce, off);
    char *base = (char *)ctx->scratch;
    float *U = (float *)(base + off[2]), *W = (float *)(base + off[3]), *P = (float *)(base + off[4]);
    cudaStream_t s = sbr_cuda_stream(ctx);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        const float *Ec = in->E + (size_t)c0 * d;
        ts_chunk_scores(ctx, op, P, U, W, in, c0, cn, B, d);
        k_ts_grad<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, s>>>(P, lse, dloss, target,
                                                                           B, cn, c0);
        SBR_CUDA_LAUNCHED(op);
        k_ts_attend_grad<<<sbr_cuda_grid_warps((size_t)cn * B), SBR_CUDA_BLOCK, 0, s>>>(
            U, W, P, in->off, B, n, cn);
        SBR_CUDA_LAUNCHED(op);
        if (gr->dE) { // [cn, d] += dW V + dU Q + g^T S
            float *dEc = gr->dE + (size_t)c0 * d;
            if (n > 0) {
                rm_gemm(ctx, op, false, false, cn, d, n, W, n, in->V, d, 1, dEc, d);
                rm_gemm(ctx, op, false, false, cn, d, n, U, n, in->Q, d, 1, dEc, d);
            }
            rm_gemm(ctx, op, true, false, cn, d, B, P, cn, in->S, d, 1, dEc, d);
        }
        if (gr->dS)
            rm_gemm(ctx, op, false, false, B, d, cn, P, cn, Ec, d, 1, gr->dS, d);
        if (gr->dV && n > 0)
            rm_gemm(ctx, op, true, false, n, d, cn, W, n, Ec, d, 1, gr->dV, d);
        if (gr->dQ && n > 0)
            rm_gemm(ctx, op, true, false, n, d, cn, U, n, Ec, d, 1, gr->dQ, d);
    }
}

void sbr_nn_target_topk_cuda(sbr_nn_ctx *ctx, int32_t *idx, float *score,
                             const sbr_nn_target_in_cuda *in, int K, const int32_t *excl_off,
                             const int32_t *excl, sbr_nn_scoring sc)
{
    const char *op = "target_topk";
    int ce = ts_check(ctx, op, in, sc), B = sc.B, N = sc.N, d = sc.d;
    SBR_NN_REQUIRE(K >= 1 && K <= SBR_CUDA_TOPK_MAX_K, op, "K = %d: the GPU top-K takes 1..%d",
                   K, SBR_CUDA_TOPK_MAX_K);
    SBR_NN_REQUIRE((excl_off == NULL) == (excl == NULL), op,
                   "excl_off and excl go together on the GPU");
    if (B == 0)
        return;
    size_t off[5];
    ts_layout(B, in->n, ce, off);
    char *base = (char *)ctx->scratch;
    float *U = (float *)(base + off[2]), *W = (float *)(base + off[3]), *P = (float *)(base + off[4]);
    topk_lists t = {sbr_cuda_stream(ctx), op, idx, score, B, K};
    topk_begin(&t);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        ts_chunk_scores(ctx, op, P, U, W, in, c0, cn, B, d);
        topk_merge_chunk(&t, P, excl_off, excl, cn, c0);
    }
}
