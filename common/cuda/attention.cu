// Masked attention pieces on the GPU (see api.inc): masked softmax, weighted
// sum and per-row dot products over padded [B, L] sequences. Row reductions
// run one warp per row (fixed butterfly tree); sums over j run one thread per
// output element in increasing j.
#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(attention)

__global__ void k_msoftmax_f(float *y, const float *x, const int32_t *len, int B, int L)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_MASKED_SOFTMAX_FORWARD);
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
        int n = sbr_cv_len(len, (int)b, L, SBR_CVOP_MASKED_SOFTMAX_BACKWARD);
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
