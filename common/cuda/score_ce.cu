// Fused full-catalogue scoring + softmax cross-entropy on the GPU (api.inc).
//
// Chunks of items run one after the other: a cuBLAS sgemm writes the chunk's
// logits [B, cn] into scratch, then one block per row folds them into the
// row's running (max, sum of exp) with fixed-order block reductions. The
// backward recomputes each chunk's logits (unless score_ce_train's forward
// left them, the catalogue in one chunk), turns them into
// G = (softmax - onehot) * dloss in place, and accumulates dS += G E_c and
// dE_c += G^T S with two more sgemms (beta = 1; chunks in order). Memory is
// B x chunk floats whatever N is. No atomics: the same bits every run.
//
// GPU chunks hold at least SBR_CUDA_CE_MIN_CHUNK items (smaller sgemms
// waste the GPU); the scratch function accounts for it.
#include "cuda/gemm.cuh"

#define SBR_CUDA_CE_MIN_CHUNK 8192

SBR_CUDA_VIOLATION_SLOT(score_ce)

static int ce_chunk(int N, int chunk)
{
    int ce = chunk > SBR_CUDA_CE_MIN_CHUNK ? chunk : SBR_CUDA_CE_MIN_CHUNK;
    return ce < N ? ce : N;
}

extern "C" size_t sbr_nn_score_ce_scratch_cuda(sbr_nn_scoring sc)
{
    int B = sc.B, N = sc.N, chunk = sc.chunk;
    if (B <= 0 || N <= 0)
        return 0;
    return sbr_cuda_chunk_scratch((size_t)B * 2 * sizeof(float), (size_t)B * sizeof(float),
                                  ce_chunk(N, chunk < 1 ? 1 : chunk), 2);
}

// Row b's end, by one warp: lse[b] = m + log(s); loss[b] = lse[b] - S[b] .
// E[target[b]].
__device__ void ce_finish_row(float *loss, float *lse, float m, float s, const float *S,
                              const float *E, const int32_t *target, int b, int N, int d)
{
    int lane = threadIdx.x & 31, t = target[b];
    float dot = 0;
    if (t < 1 || t > N) {
        if (lane == 0)
            sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_SCORE_CE, (long long)b, t, N + 1);
        dot = NAN;
    } else {
        for (int k = lane; k < d; k += 32)
            dot += S[(size_t)b * d + k] * E[(size_t)t * d + k];
        dot = sbr_warp_sum(dot);
    }
    if (lane == 0) {
        float l = m + logf(s);
        lse[b] = l;
        loss[b] = l - dot;
    }
}

// One block per row: fold the chunk's logits lg [B, cn] into acc [B, 2]
// (the running max and sum of exp; `first`: a fresh start, acc unread). On
// the last chunk (loss given) the block's first warp also ends the row
// (ce_finish_row), which saves two launches a call: no init, no finish.
__global__ void k_ce_fold(float *acc, const float *lg, int B, int cn, int first, float *loss,
                          float *lse, const float *S, const float *E, const int32_t *target,
                          int N, int d)
{
    __shared__ float sh[32], fin[2];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *l = lg + (size_t)b * cn;
        float mx = -INFINITY;
        for (int j = threadIdx.x; j < cn; j += blockDim.x)
            mx = fmaxf(mx, l[j]);
        mx = sbr_block_max(mx, sh);
        float m_old = first ? -INFINITY : acc[2 * b], m = fmaxf(m_old, mx);
        float s = 0;
        for (int j = threadIdx.x; j < cn; j += blockDim.x)
            s += expf(l[j] - m);
        s = sbr_block_sum(s, sh);
        if (threadIdx.x == 0) {
            float s_old = first ? 0.0f : acc[2 * b + 1];
            float s_new = (s_old > 0 ? s_old * expf(m_old - m) : 0.0f) + s;
            acc[2 * b] = m;
            acc[2 * b + 1] = s_new;
            fin[0] = m, fin[1] = s_new;
        }
        __syncthreads();
        if (loss && threadIdx.x < 32)
            ce_finish_row(loss, lse, fin[0], fin[1], S, E, target, b, N, d);
        __syncthreads(); // fin and sh free for the next row
    }
}

// g = exp(l - lse[b]) * dloss[b], minus dloss[b] at the target: in place.
__global__ void k_ce_grad(float *g, const float *lse, const float *dloss, const int32_t *target,
                          int B, int cn, int c0)
{
    SBR_CUDA_FOR(i, (size_t)B * cn) {
        size_t b = i / cn;
        int j = (int)(i % cn);
        float w = dloss[b];
        float v = expf(g[i] - lse[b]) * w;
        if (target[b] - c0 == j)
            v -= w;
        g[i] = v;
    }
}

// The GPU chunk for this call (see sbr_cuda_fit_chunk), or abort.
static int ce_check(sbr_nn_ctx *ctx, const char *op, int B, int N, int d, int chunk)
{
    SBR_NN_REQUIRE(B >= 0 && N >= 1 && d >= 1 && chunk >= 1, op,
                   "bad sizes B=%d N=%d d=%d chunk=%d", B, N, d, chunk);
    if (B == 0)
        return 1;
    int least = chunk < N ? chunk : N;
    int ce = sbr_cuda_fit_chunk(ctx, (size_t)B * 2 * sizeof(float), (size_t)B * sizeof(float),
                                ce_chunk(N, chunk), least, 2);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu",
                   ctx ? ctx->scratch_bytes : 0,
                   sbr_cuda_chunk_scratch((size_t)B * 2 * sizeof(float), (size_t)B * sizeof(float),
                                          least, 2));
    return ce;
}

// logits [B, cn] = S [B, d] E_c^T (row-major), E_c = E + c0 * d.
static void ce_logits(sbr_nn_ctx *ctx, const char *op, float *lg, const float *S, const float *Ec,
                      int B, int cn, int d)
{
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, B, d, Ec, d, S, d, 0, lg,
                                    cn, NULL));
}

void sbr_nn_score_ce_forward_cuda(sbr_nn_ctx *ctx, float *loss, float *lse, const float *S,
                                  const float *E, const int32_t *target, sbr_nn_scoring sc)
{
    const char *op = "score_ce_forward";
    SBR_NN_REQUIRE(sc.U == 1, op, "U = %d: one session vector per row (score_multi takes more)",
                   sc.U);
    int B = sc.B, N = sc.N, d = sc.d, chunk = sc.chunk;
    int ce = ce_check(ctx, op, B, N, d, chunk);
    if (B == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    float *acc = (float *)ctx->scratch; /* [B, 2] running max, sum */
    float *lg = (float *)((char *)ctx->scratch + sbr_cuda_align256((size_t)B * 2 * sizeof(float)));
    unsigned rows = sbr_cuda_grid_rows(B);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce, last = c0 + cn > N;
        ce_logits(ctx, op, lg, S, E + (size_t)c0 * d, B, cn, d);
        k_ce_fold<<<rows, SBR_CUDA_BLOCK, 0, s>>>(acc, lg, B, cn, c0 == 1, last ? loss : NULL,
                                                  lse, S, E, target, N, d);
        SBR_CUDA_LAUNCHED("score_ce_forward");
    }
}

// The backward's chunk loop; have_logits: the forward has just left the
// logits of the whole catalogue (one chunk) in scratch, so the first sgemm
// would only write the same bits again.
static void ce_backward(sbr_nn_ctx *ctx, float *dS, float *dE, const float *dloss,
                        const float *S, const float *E, const int32_t *target, const float *lse,
                        int B, int N, int d, int chunk, int have_logits)
{
    const char *op = "score_ce_backward";
    int ce = ce_check(ctx, op, B, N, d, chunk);
    if (B == 0 || (!dS && !dE))
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    float *g = (float *)((char *)ctx->scratch + sbr_cuda_align256((size_t)B * 2 * sizeof(float)));
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        const float *Ec = E + (size_t)c0 * d;
        if (!(have_logits && cn == N))
            ce_logits(ctx, op, g, S, Ec, B, cn, d);
        k_ce_grad<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, s>>>(g, lse, dloss, target,
                                                                           B, cn, c0);
        SBR_CUDA_LAUNCHED("score_ce_backward");
        if (dS) // dS^T [d, B] += E_c^T [d, cn] G^T [cn, B]
            SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_N, d, B, cn, Ec, d, g,
                                            cn, 1, dS, d, NULL));
        if (dE) // dE_c^T [d, cn] += S^T [d, B] G [B, cn]
            SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, d, cn, B, S, d, g,
                                            cn, 1, dE + (size_t)c0 * d, d, NULL));
    }
}

void sbr_nn_score_ce_backward_cuda(sbr_nn_ctx *ctx, float *dS, float *dE, const float *dloss,
                                   const float *S, const float *E, const int32_t *target,
                                   const float *lse, sbr_nn_scoring sc)
{
    const char *op = "score_ce_backward";
    SBR_NN_REQUIRE(sc.U == 1, op, "U = %d: one session vector per row (score_multi takes more)",
                   sc.U);
    ce_backward(ctx, dS, dE, dloss, S, E, target, lse, sc.B, sc.N, sc.d, sc.chunk, 0);
}

// keep is not used: when the catalogue fits one chunk (the scratch the model
// reserves for training asks for it), the forward's logits are still in
// scratch for the backward; otherwise each chunk's logits are recomputed,
// which is cheap on the GPU, where keeping [B, N] would double the memory
// traffic.
void sbr_nn_score_ce_train_cuda(sbr_nn_ctx *ctx, float *loss, float *lse, float *dS, float *dE,
                                const float *dloss, const float *S, const float *E,
                                const int32_t *target, float *keep, sbr_nn_scoring sc)
{
    (void)keep;
    sbr_nn_score_ce_forward_cuda(ctx, loss, lse, S, E, target, sc);
    ce_backward(ctx, dS, dE, dloss, S, E, target, lse, sc.B, sc.N, sc.d, sc.chunk, 1);
}

/* ---- several session vectors per row (score_multi_ce) ------------------------------
 * The same chunk loop on the B*U interest rows: one sgemm gives their logits
 * [B*U, cn], a pooling kernel turns them into P [B, cn] (and the winners),
 * the fold / gradient kernels above run on P, and for the backward G goes
 * back into the interest rows (the winner's, or every one for the sum) so
 * that dS and dE are again two sgemms per chunk. */
#include "cuda/score_pool.cuh"

// scratch: acc [B, 2], lg [B*U, ce], P [B, ce], am [B, ce] (bytes).
static void sm_layout(int B, int U, int ce, size_t off[4])
{
    off[0] = 0;
    off[1] = off[0] + sbr_cuda_align256((size_t)B * 2 * sizeof(float));
    off[2] = off[1] + sbr_cuda_align256((size_t)B * U * ce * sizeof(float));
    off[3] = off[2] + sbr_cuda_align256((size_t)B * ce * sizeof(float));
}

extern "C" size_t sbr_nn_score_multi_scratch_cuda(sbr_nn_scoring sc)
{
    int B = sc.B, U = sc.U, N = sc.N, chunk = sc.chunk;
    if (B <= 0 || N <= 0 || U <= 0)
        return 0;
    size_t per = (size_t)B * U * sizeof(float) + (size_t)B * sizeof(float) + (size_t)B;
    return sbr_cuda_chunk_scratch((size_t)B * 2 * sizeof(float), per,
                                  ce_chunk(N, chunk < 1 ? 1 : chunk), 4);
}

// The GPU chunk for this call (see sbr_cuda_fit_chunk), or abort.
static int sm_check(sbr_nn_ctx *ctx, const char *op, int B, int U, int N, int d, int chunk,
                    int pool)
{
    SBR_NN_REQUIRE(B >= 0 && U >= 1 && U <= 255 && N >= 1 && d >= 1 && chunk >= 1, op,
                   "bad sizes B=%d U=%d N=%d d=%d chunk=%d", B, U, N, d, chunk);
    SBR_NN_REQUIRE(pool == 0 || pool == 1, op, "pool = %d, not 0 (max) or 1 (sum)", pool);
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    if (B == 0)
        return 1;
    int least = chunk < N ? chunk : N;
    size_t per = (size_t)B * U * sizeof(float) + (size_t)B * sizeof(float) + (size_t)B;
    int ce = sbr_cuda_fit_chunk(ctx, (size_t)B * 2 * sizeof(float), per, ce_chunk(N, chunk),
                                least, 4);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch((size_t)B * 2 * sizeof(float), per, least, 4));
    return ce;
}

// The target's pooled logit, then lse and loss: a warp per row.
__global__ void k_sm_finish(float *loss, float *lse, const float *acc, const float *S,
                            const float *E, const int32_t *target, int B, int U, int N, int d,
                            int pool)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        int tg = target[b];
        float t = NAN;
        if (tg < 1 || tg > N) {
            if (lane == 0)
                sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_SCORE_CE, (long long)b, tg, N + 1);
        } else {
            for (int u = 0; u < U; u++) {
                const float *su = S + (b * U + u) * (size_t)d, *e = E + (size_t)tg * d;
                float x = 0;
                for (int k = lane; k < d; k += 32)
                    x += su[k] * e[k];
                x = sbr_warp_sum(x);
                t = u == 0 ? x : pool ? t + x : (x > t ? x : t);
            }
        }
        if (lane == 0) {
            float l = acc[2 * b] + logf(acc[2 * b + 1]);
            lse[b] = l;
            loss[b] = l - t;
        }
    }
}

// lg [B*U, cn] = G for the interest that won (sum pool: every interest).
__global__ void k_sm_scatter(float *lg, const float *G, const uint8_t *am, int B, int U, int cn,
                             int pool)
{
    SBR_CUDA_FOR(t, (size_t)B * U * cn) {
        size_t bu = t / cn, j = t % cn, b = bu / U;
        int u = (int)(bu % U);
        float g = G[b * cn + j];
        lg[t] = pool || am[b * cn + j] == u ? g : 0.0f;
    }
}

void sbr_nn_score_multi_ce_forward_cuda(sbr_nn_ctx *ctx, float *loss, float *lse, const float *S,
                                        const float *E, const int32_t *target, sbr_nn_scoring sc)
{
    int B = sc.B, U = sc.U, N = sc.N, d = sc.d, chunk = sc.chunk, pool = sc.pool;
    const char *op = "score_multi_ce_forward";
    int ce = sm_check(ctx, op, B, U, N, d, chunk, pool);
    if (B == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    size_t off[4];
    sm_layout(B, U, ce, off);
    char *base = (char *)ctx->scratch;
    float *acc = (float *)(base + off[0]), *lg = (float *)(base + off[1]);
    float *P = (float *)(base + off[2]);
    unsigned rows = sbr_cuda_grid_rows(B);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        ce_logits(ctx, op, lg, S, E + (size_t)c0 * d, B * U, cn, d);
        sbr_cuda_score_pool(ctx, P, NULL, lg, B, U, cn, pool, op);
        k_ce_fold<<<rows, SBR_CUDA_BLOCK, 0, s>>>(acc, P, B, cn, c0 == 1, NULL, NULL, NULL, NULL,
                                                  NULL, N, d);
        SBR_CUDA_LAUNCHED(op);
    }
    k_sm_finish<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, s>>>(loss, lse, acc, S, E, target, B,
                                                                  U, N, d, pool);
    SBR_CUDA_LAUNCHED(op);
}

void sbr_nn_score_multi_ce_backward_cuda(sbr_nn_ctx *ctx, float *dS, float *dE,
                                         const float *dloss, const float *S, const float *E,
                                         const int32_t *target, const float *lse,
                                         sbr_nn_scoring sc)
{
    int B = sc.B, U = sc.U, N = sc.N, d = sc.d, chunk = sc.chunk, pool = sc.pool;
    const char *op = "score_multi_ce_backward";
    int ce = sm_check(ctx, op, B, U, N, d, chunk, pool);
    if (B == 0 || (!dS && !dE))
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    int BU = B * U;
    size_t off[4];
    sm_layout(B, U, ce, off);
    char *base = (char *)ctx->scratch;
    float *lg = (float *)(base + off[1]), *P = (float *)(base + off[2]);
    uint8_t *am = (uint8_t *)(base + off[3]);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        const float *Ec = E + (size_t)c0 * d;
        ce_logits(ctx, op, lg, S, Ec, BU, cn, d);
        sbr_cuda_score_pool(ctx, P, am, lg, B, U, cn, pool, op);
        k_ce_grad<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, s>>>(P, lse, dloss, target,
                                                                           B, cn, c0);
        SBR_CUDA_LAUNCHED(op);
        k_sm_scatter<<<sbr_cuda_grid((size_t)BU * cn), SBR_CUDA_BLOCK, 0, s>>>(lg, P, am, B, U,
                                                                               cn, pool);
        SBR_CUDA_LAUNCHED(op);
        if (dS) // dS^T [d, BU] += E_c^T [d, cn] G^T [cn, BU]
            SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_N, d, BU, cn, Ec, d, lg,
                                            cn, 1, dS, d, NULL));
        if (dE) // dE_c^T [d, cn] += S^T [d, BU] G [BU, cn]
            SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, d, cn, BU, S, d, lg,
                                            cn, 1, dE + (size_t)c0 * d, d, NULL));
    }
}
