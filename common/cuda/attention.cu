// Masked attention pieces on the GPU (see api.inc): masked softmax, weighted
// sum, per-row dot products and the fused attention pool over padded [B, L]
// sequences. Row reductions run one warp per row (fixed butterfly tree);
// sums over j run one thread per output element in increasing j.
#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(attention)

__global__ void k_msoftmax_f(float *y, const float *x, const int32_t *len, int B, int L)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        int n = len ? sbr_cv_len(len, (int)b, L, SBR_CVOP_MASKED_SOFTMAX_FORWARD) : L;
        const float *xb = x + b * L;
        float *yb = y + b * L;
        float m = -INFINITY;
        for (int j = lane; j < n; j += 32)
            m = fmaxf(m, xb[j]);
        m = sbr_warp_max(m);
        float s = 0;
        for (int j = lane; j < n; j += 32) {
            float e = expf(xb[j] - m);
            yb[j] = e;
            s += e;
        }
        s = sbr_warp_sum(s);
        for (int j = lane; j < L; j += 32)
            yb[j] = j < n ? yb[j] / s : 0.0f;
    }
}

__global__ void k_msoftmax_b(float *dx, const float *dy, const float *y, const int32_t *len,
                             int B, int L)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        int n = len ? sbr_cv_len(len, (int)b, L, SBR_CVOP_MASKED_SOFTMAX_BACKWARD) : L;
        const float *yb = y + b * L, *gb = dy + b * L;
        float dot = 0;
        for (int j = lane; j < n; j += 32)
            dot += yb[j] * gb[j];
        dot = sbr_warp_sum(dot);
        for (int j = lane; j < n; j += 32)
            dx[b * L + j] += yb[j] * (gb[j] - dot);
    }
}

__global__ void k_wsum_f(float *y, const float *a, const float *x, const int32_t *len, int B,
                         int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * d) {
        size_t b = t / d, k = t % d;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_WEIGHTED_SUM_FORWARD);
        float s = 0;
        for (int j = 0; j < n; j++)
            s += a[b * L + j] * x[(b * L + j) * d + k];
        y[t] = s;
    }
}

// da [B, L] += dy[b] . x[b, j]: one warp per (b, j).
__global__ void k_wsum_da(float *da, const float *dy, const float *x, const int32_t *len, int B,
                          int L, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)B * L) {
        size_t b = r / L, j = r % L;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_WEIGHTED_SUM_BACKWARD);
        if ((int)j >= n)
            continue;
        float s = 0;
        for (int k = lane; k < d; k += 32)
            s += dy[b * d + k] * x[r * d + k];
        s = sbr_warp_sum(s);
        if (lane == 0)
            da[r] += s;
    }
}

// dx [B, L, d] += a[b, j] dy[b] (unmasked j).
__global__ void k_wsum_dx(float *dx, const float *dy, const float *a, const int32_t *len, int B,
                          int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * L * d) {
        size_t k = t % d, r = t / d, b = r / L, j = r % L;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_WEIGHTED_SUM_BACKWARD);
        if ((int)j < n)
            dx[t] += a[r] * dy[b * d + k];
    }
}

// s [B, L] = x[b, j] . q[b] (0 when masked): one warp per (b, j).
__global__ void k_sdot_f(float *s, const float *x, const float *q, const int32_t *len, int B,
                         int L, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)B * L) {
        size_t b = r / L, j = r % L;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_DOT_FORWARD);
        float v = 0;
        if ((int)j < n) {
            for (int k = lane; k < d; k += 32)
                v += x[r * d + k] * q[b * d + k];
            v = sbr_warp_sum(v);
        }
        if (lane == 0)
            s[r] = v;
    }
}

__global__ void k_sdot_dx(float *dx, const float *ds, const float *q, const int32_t *len, int B,
                          int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * L * d) {
        size_t k = t % d, r = t / d, b = r / L, j = r % L;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_DOT_BACKWARD);
        if ((int)j < n)
            dx[t] += ds[r] * q[b * d + k];
    }
}

// dq [B, d] += sum over j < len (increasing) of ds[b, j] x[b, j].
__global__ void k_sdot_dq(float *dq, const float *ds, const float *x, const int32_t *len, int B,
                          int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * d) {
        size_t b = t / d, k = t % d;
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_DOT_BACKWARD);
        float acc = dq[t];
        for (int j = 0; j < n; j++)
            acc += ds[b * L + j] * x[(b * L + j) * d + k];
        dq[t] = acc;
    }
}

#define ATT_REQUIRE(op) SBR_NN_REQUIRE(B >= 0 && L >= 0, op, "negative size")

void sbr_nn_masked_softmax_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x,
                                        const int32_t *len, int B, int L)
{
    ATT_REQUIRE("masked_softmax_forward");
    if ((size_t)B * L == 0)
        return;
    k_msoftmax_f<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(y, x, len,
                                                                                     B, L);
    SBR_CUDA_LAUNCHED("masked_softmax_forward");
}

void sbr_nn_masked_softmax_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                         const float *y, const int32_t *len, int B, int L)
{
    ATT_REQUIRE("masked_softmax_backward");
    if ((size_t)B * L == 0 || !dx)
        return;
    k_msoftmax_b<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(dx, dy, y,
                                                                                     len, B, L);
    SBR_CUDA_LAUNCHED("masked_softmax_backward");
}

void sbr_nn_seq_weighted_sum_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a,
                                          const float *x, const int32_t *len, int B, int L,
                                          int d)
{
    ATT_REQUIRE("seq_weighted_sum_forward");
    SBR_NN_REQUIRE(d >= 0, "seq_weighted_sum_forward", "negative size");
    if ((size_t)B * d == 0)
        return;
    k_wsum_f<<<sbr_cuda_grid((size_t)B * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, a, x, len, B, L, d);
    SBR_CUDA_LAUNCHED("seq_weighted_sum_forward");
}

void sbr_nn_seq_weighted_sum_backward_cuda(sbr_nn_ctx *ctx, float *da, float *dx,
                                           const float *dy, const float *a, const float *x,
                                           const int32_t *len, int B, int L, int d)
{
    ATT_REQUIRE("seq_weighted_sum_backward");
    SBR_NN_REQUIRE(d >= 0, "seq_weighted_sum_backward", "negative size");
    if ((size_t)B * L * d == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (da) {
        k_wsum_da<<<sbr_cuda_grid_warps((size_t)B * L), SBR_CUDA_BLOCK, 0, s>>>(da, dy, x, len, B,
                                                                                L, d);
        SBR_CUDA_LAUNCHED("seq_weighted_sum_backward");
    }
    if (dx) {
        k_wsum_dx<<<sbr_cuda_grid((size_t)B * L * d), SBR_CUDA_BLOCK, 0, s>>>(dx, dy, a, len, B,
                                                                              L, d);
        SBR_CUDA_LAUNCHED("seq_weighted_sum_backward");
    }
}

void sbr_nn_seq_dot_forward_cuda(sbr_nn_ctx *ctx, float *s, const float *x, const float *q,
                                 const int32_t *len, int B, int L, int d)
{
    ATT_REQUIRE("seq_dot_forward");
    SBR_NN_REQUIRE(d >= 0, "seq_dot_forward", "negative size");
    if ((size_t)B * L == 0)
        return;
    k_sdot_f<<<sbr_cuda_grid_warps((size_t)B * L), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        s, x, q, len, B, L, d);
    SBR_CUDA_LAUNCHED("seq_dot_forward");
}

void sbr_nn_seq_dot_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dq, const float *ds,
                                  const float *x, const float *q, const int32_t *len, int B,
                                  int L, int d)
{
    ATT_REQUIRE("seq_dot_backward");
    SBR_NN_REQUIRE(d >= 0, "seq_dot_backward", "negative size");
    if ((size_t)B * L * d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    if (dx) {
        k_sdot_dx<<<sbr_cuda_grid((size_t)B * L * d), SBR_CUDA_BLOCK, 0, st>>>(dx, ds, q, len, B,
                                                                               L, d);
        SBR_CUDA_LAUNCHED("seq_dot_backward");
    }
    if (dq) {
        k_sdot_dq<<<sbr_cuda_grid((size_t)B * d), SBR_CUDA_BLOCK, 0, st>>>(dq, ds, x, len, B, L,
                                                                           d);
        SBR_CUDA_LAUNCHED("seq_dot_backward");
    }
}

// attn_pool forward: a block per row b. Its warps take the positions j and
// write alpha[b, j] = sg[b, j] . q (butterfly sum); after the barrier (which
// makes those global writes visible to the block) each thread takes columns
// k and sums alpha[b, j] x[b, j, k] over j < len[b] in increasing j, as
// seq_weighted_sum does.
__global__ void k_apool_f(float *y, float *alpha, const float *sg, const float *q,
                          const float *x, const int32_t *len, int B, int L, int h, int d)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        size_t r0 = (size_t)b * L;
        for (int j = warp; j < L; j += warps) {
            const float *sj = sg + (r0 + j) * h;
            float v = 0;
            for (int k = lane; k < h; k += 32)
                v += sj[k] * q[k];
            v = sbr_warp_sum(v);
            if (lane == 0)
                alpha[r0 + j] = v;
        }
        __syncthreads();
        int n = sbr_cv_len(len, b, L, SBR_CVOP_ATTN_POOL_FORWARD);
        for (int k = threadIdx.x; k < d; k += blockDim.x) {
            float s = 0;
            for (int j = 0; j < n; j++)
                s += alpha[r0 + j] * x[(r0 + j) * d + k];
            y[(size_t)b * d + k] = s;
        }
        __syncthreads(); // alpha of this row read before the next row's
    }
}

// attn_pool backward, a block per row b: dalpha[b, j] += dy[b] . x[b, j] for
// j < len (a warp per j); after the barrier, dx[b, j] += alpha dy[b] (j <
// len) and dsg[b, j] += dalpha[b, j] q (every j).
__global__ void k_apool_b(float *dsg, float *dx, float *dalpha, const float *dy,
                          const float *alpha, const float *q, const float *x,
                          const int32_t *len, int B, int L, int h, int d)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        size_t r0 = (size_t)b * L;
        int n = sbr_cv_len(len, b, L, SBR_CVOP_ATTN_POOL_BACKWARD);
        const float *g = dy + (size_t)b * d;
        for (int j = warp; j < n; j += warps) {
            const float *xj = x + (r0 + j) * d;
            float v = 0;
            for (int k = lane; k < d; k += 32)
                v += g[k] * xj[k];
            v = sbr_warp_sum(v);
            if (lane == 0)
                dalpha[r0 + j] += v;
        }
        __syncthreads();
        if (dx)
            for (size_t t = threadIdx.x; t < (size_t)n * d; t += blockDim.x)
                dx[r0 * d + t] += alpha[r0 + t / d] * g[t % d];
        if (dsg)
            for (size_t t = threadIdx.x; t < (size_t)L * h; t += blockDim.x)
                dsg[r0 * h + t] += dalpha[r0 + t / h] * q[t % h];
        __syncthreads(); // dalpha of this row read before the next row's
    }
}

namespace {
// dq [h] += sum over the B L positions of dalpha_r sg_r: sbr_cuda_colreduce's terms.
struct apool_dq_terms {
    const float *dalpha, *sg;
    size_t h;
    __device__ float operator()(size_t r, size_t k) const { return dalpha[r] * sg[r * h + k]; }
};
} // namespace

void sbr_nn_attn_pool_forward_cuda(sbr_nn_ctx *ctx, float *y, float *alpha, const float *sg,
                                   const float *q, const float *x, const int32_t *len,
                                   sbr_nn_seq_shape sh)
{
    int B = sh.B, L = sh.L, h = sh.in, d = sh.out;
    ATT_REQUIRE("attn_pool_forward");
    SBR_NN_REQUIRE(h >= 0 && d >= 0, "attn_pool_forward", "negative size");
    if ((size_t)B * L == 0)
        return;
    k_apool_f<<<sbr_cuda_grid_rows(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, alpha, sg, q, x, len, B, L, h, d);
    SBR_CUDA_LAUNCHED("attn_pool_forward");
}

void sbr_nn_attn_pool_backward_cuda(sbr_nn_ctx *ctx, float *dsg, float *dq, float *dx,
                                    float *dalpha, const float *dy, const float *alpha,
                                    const float *sg, const float *q, const float *x,
                                    const int32_t *len, sbr_nn_seq_shape sh)
{
    int B = sh.B, L = sh.L, h = sh.in, d = sh.out;
    ATT_REQUIRE("attn_pool_backward");
    SBR_NN_REQUIRE(h >= 0 && d >= 0, "attn_pool_backward", "negative size");
    if ((size_t)B * L == 0)
        return;
    k_apool_b<<<sbr_cuda_grid_rows(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dsg, dx, dalpha, dy, alpha, q, x, len, B, L, h, d);
    SBR_CUDA_LAUNCHED("attn_pool_backward");
    if (dq)
        sbr_cuda_colreduce(ctx, dq, (size_t)B * L, (size_t)h, apool_dq_terms{dalpha, sg, (size_t)h},
                           "attn_pool_backward");
}

// sg [B, L, h] = sigmoid((sg + b_x) + (q[b] + b_v)): sg and q hold the GEMMs
// without their biases; the order of the CPU's linear, add_rows, sigmoid.
__global__ void k_gate_f(float *sg, const float *q, const float *b_x, const float *b_v, int B,
                         int L, int h)
{
    SBR_CUDA_FOR(t, (size_t)B * L * h) {
        size_t k = t % h, b = t / ((size_t)L * h);
        float u = sg[t], r = q[b * h + k];
        if (b_x)
            u += b_x[k];
        if (b_v)
            r += b_v[k];
        sg[t] = sbr_sigmoidf(u + r);
    }
}

// dpre += dsg sg (1 - sg); dq [B, h] += the sum over j (increasing) of the
// new dpre: one thread per (b, k).
__global__ void k_gate_b(float *dpre, float *dq, const float *dsg, const float *sg, int B, int L,
                         int h)
{
    SBR_CUDA_FOR(i, (size_t)B * h) {
        size_t k = i % h, b = i / h;
        float s = 0;
        for (int j = 0; j < L; j++) {
            size_t t = (b * L + j) * h + k;
            float p = dpre[t] + dsg[t] * sg[t] * (1 - sg[t]);
            dpre[t] = p;
            s += p;
        }
        dq[i] += s;
    }
}

void sbr_nn_additive_gate_forward_cuda(sbr_nn_ctx *ctx, float *sg, float *q, const float *x,
                                       const float *v, const sbr_nn_additive_gate_w_cuda *w,
                                       sbr_nn_seq_shape sh)
{
    const float *w_x = w->w_x, *b_x = w->b_x, *w_v = w->w_v, *b_v = w->b_v;
    int B = sh.B, L = sh.L, in = sh.in, h = sh.out;
    ATT_REQUIRE("additive_gate_forward");
    SBR_NN_REQUIRE(in >= 0 && h >= 0, "additive_gate_forward", "negative size");
    if ((size_t)B * h == 0)
        return;
    sbr_nn_linear_forward_cuda(ctx, q, v, w_v, NULL, B, in, h);
    if (L == 0)
        return;
    sbr_nn_linear_forward_cuda(ctx, sg, x, w_x, NULL, B * L, in, h);
    k_gate_f<<<sbr_cuda_grid((size_t)B * L * h), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        sg, q, b_x, b_v, B, L, h);
    SBR_CUDA_LAUNCHED("additive_gate_forward");
}

void sbr_nn_additive_gate_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dv,
                                        const sbr_nn_additive_gate_w_cuda *dw, float *dpre,
                                        float *dq, const float *dsg, const float *sg,
                                        const float *x, const float *v,
                                        const sbr_nn_additive_gate_w_cuda *w, sbr_nn_seq_shape sh)
{
    float *dw_x = dw ? dw->w_x : NULL, *db_x = dw ? dw->b_x : NULL;
    float *dw_v = dw ? dw->w_v : NULL, *db_v = dw ? dw->b_v : NULL;
    const float *w_x = w->w_x, *w_v = w->w_v;
    int B = sh.B, L = sh.L, in = sh.in, h = sh.out;
    ATT_REQUIRE("additive_gate_backward");
    SBR_NN_REQUIRE(in >= 0 && h >= 0, "additive_gate_backward", "negative size");
    if ((size_t)B * h == 0)
        return;
    const char *op = "additive_gate_backward";
    k_gate_b<<<sbr_cuda_grid((size_t)B * h), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dpre, dq, dsg, sg, B, L, h);
    SBR_CUDA_LAUNCHED(op);
    sbr_nn_linear_backward_cuda(ctx, dx, dw_x, NULL, dpre, x, w_x, B * L, in, h);
    sbr_nn_linear_backward_cuda(ctx, dv, dw_v, NULL, dq, v, w_v, B, in, h);
    const sbr_colsum_job db[2] = {{db_x, dpre, (size_t)h, B * L, h}, {db_v, dq, (size_t)h, B, h}};
    sbr_cuda_colsum_multi(ctx, db, 2, op); // both bias gradients in one launch
}
