// Row-wise L2 normalisation on the GPU (see api.inc): one warp per row.
#include "cuda/kernels.cuh"
#include "cuda/rng_cuda.cuh"

// One row by one warp: y = x / max(||x||, eps) (y may be x); ||x|| to every
// lane.
__device__ static float row_l2norm(float *y, const float *x, int d, float eps, int lane)
{
    float s = 0;
    for (int k = lane; k < d; k += 32)
        s += x[k] * x[k];
    float nr = sqrtf(sbr_warp_sum(s));
    float inv = 1.0f / (nr > eps ? nr : eps);
    for (int k = lane; k < d; k += 32)
        y[k] = x[k] * inv;
    return nr;
}

// One row's gradient by one warp: dx += (dy - y (y . dy)) / ||x||, or dy / eps
// where clamped; with mask, only where kept, times keep (dropout_backward's).
__device__ static void row_l2norm_b(float *dx, const float *dy, const float *y, float nrm,
                                    const uint8_t *mask, float keep, int d, float eps, int lane)
{
    float dot = 0;
    if (nrm > eps) {
        for (int k = lane; k < d; k += 32)
            dot += y[k] * dy[k];
        dot = sbr_warp_sum(dot);
    }
    for (int k = lane; k < d; k += 32) {
        float v = nrm > eps ? (dy[k] - y[k] * dot) * (1.0f / nrm) : dy[k] / eps;
        if (!mask)
            dx[k] += v;
        else if (mask[k])
            dx[k] += v * keep;
    }
}

__global__ void k_l2norm_f(float *y, float *norm, const float *x, int n, int d, float eps)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        float nr = row_l2norm(y + i * d, x + i * d, d, eps, lane);
        if (lane == 0)
            norm[i] = nr;
    }
}

__global__ void k_l2norm_b(float *dx, const float *dy, const float *y, const float *norm, int n,
                           int d, float eps)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        row_l2norm_b(dx + i * d, dy + i * d, y + i * d, norm[i], NULL, 1, d, eps, lane);
    }
}

void sbr_nn_l2norm_forward_cuda(sbr_nn_ctx *ctx, float *y, float *norm, const float *x, int n,
                                int d, float eps)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "l2norm_forward", "negative size");
    if (n == 0)
        return;
    k_l2norm_f<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(y, norm, x,
                                                                                   n, d, eps);
    SBR_CUDA_LAUNCHED("l2norm_forward");
}

void sbr_nn_l2norm_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *y,
                                 const float *norm, int n, int d, float eps)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "l2norm_backward", "negative size");
    if (n == 0 || !dx)
        return;
    k_l2norm_b<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dx, dy, y, norm, n, d, eps);
    SBR_CUDA_LAUNCHED("l2norm_backward");
}

// Along the sequence axis: one thread per column (b, k), its L positions d
// apart, so a warp reads 32 adjacent columns of one position at a time.
__global__ void k_l2norm_seq_f(float *y, float *norm, const float *x, int B, int L, int d,
                               float eps)
{
    SBR_CUDA_FOR(c, (int64_t)B * d) {
        int64_t b = c / d, k = c % d;
        const float *xc = x + b * L * d + k;
        float s = 0;
        for (int l = 0; l < L; l++)
            s += xc[(int64_t)l * d] * xc[(int64_t)l * d];
        float nr = sqrtf(s), inv = 1.0f / (nr > eps ? nr : eps);
        norm[c] = nr;
        float *yc = y + b * L * d + k;
        for (int l = 0; l < L; l++)
            yc[(int64_t)l * d] = xc[(int64_t)l * d] * inv;
    }
}

__global__ void k_l2norm_seq_b(float *dx, const float *dy, const float *y, const float *norm,
                               int B, int L, int d, float eps)
{
    SBR_CUDA_FOR(c, (int64_t)B * d) {
        int64_t b = c / d, k = c % d, o = b * L * d + k;
        if (norm[c] > eps) {
            float dot = 0;
            for (int l = 0; l < L; l++)
                dot += y[o + (int64_t)l * d] * dy[o + (int64_t)l * d];
            float inv = 1.0f / norm[c];
            for (int l = 0; l < L; l++)
                dx[o + (int64_t)l * d] += (dy[o + (int64_t)l * d] - y[o + (int64_t)l * d] * dot) * inv;
        } else {
            for (int l = 0; l < L; l++)
                dx[o + (int64_t)l * d] += dy[o + (int64_t)l * d] / eps;
        }
    }
}

void sbr_nn_l2norm_seq_forward_cuda(sbr_nn_ctx *ctx, float *y, float *norm, const float *x, int B,
                                    int L, int d, float eps)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "l2norm_seq_forward", "negative size");
    if ((int64_t)B * d == 0)
        return;
    k_l2norm_seq_f<<<sbr_cuda_grid((int64_t)B * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, norm, x, B, L, d, eps);
    SBR_CUDA_LAUNCHED("l2norm_seq_forward");
}

void sbr_nn_l2norm_seq_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *y,
                                     const float *norm, int B, int L, int d, float eps)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "l2norm_seq_backward", "negative size");
    if ((int64_t)B * d == 0 || !dx)
        return;
    k_l2norm_seq_b<<<sbr_cuda_grid((int64_t)B * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dx, dy, y, norm, B, L, d, eps);
    SBR_CUDA_LAUNCHED("l2norm_seq_backward");
}

// dropout_l2norm (api.inc): one warp per row; the mask as k_dropout_f draws
// it, the dropped row in y, then the row functions above.
__global__ void k_dropout_l2norm_f(float *y, float *norm, uint8_t *mask, const float *x, int n,
                                   int d, float keep, double p, uint64_t seed, uint64_t offset,
                                   float eps)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        int64_t at = (int64_t)i * d;
        for (int k = lane; k < d; k += 32) {
            int on = p == 0 ||
                     sbr_rng_u01_dev(sbr_rng_hash_dev(seed, offset + (uint64_t)(at + k))) >= p;
            mask[at + k] = (uint8_t)on;
            y[at + k] = on ? (p == 0 ? x[at + k] : x[at + k] * keep) : 0.0f;
        }
        __syncwarp();
        float nr = row_l2norm(y + at, y + at, d, eps, lane);
        if (lane == 0)
            norm[i] = nr;
    }
}

__global__ void k_dropout_l2norm_b(float *dx, const float *dy, const float *y, const float *norm,
                                   const uint8_t *mask, int n, int d, float keep, float eps)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        int64_t at = (int64_t)i * d;
        row_l2norm_b(dx + at, dy + at, y + at, norm[i], mask + at, keep, d, eps, lane);
    }
}

void sbr_nn_dropout_l2norm_forward_cuda(sbr_nn_ctx *ctx, float *y, float *norm, uint8_t *mask,
                                        const float *x, int n, int d, float p, uint64_t seed,
                                        uint64_t offset, float eps)
{
    SBR_NN_REQUIRE(p >= 0 && p < 1, "dropout_l2norm_forward", "p = %g is outside [0, 1)",
                   (double)p);
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "dropout_l2norm_forward", "negative size");
    if (n == 0)
        return;
    k_dropout_l2norm_f<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, norm, mask, x, n, d, 1 / (1 - p), (double)p, seed, offset, eps);
    SBR_CUDA_LAUNCHED("dropout_l2norm_forward");
}

void sbr_nn_dropout_l2norm_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                         const float *y, const float *norm, const uint8_t *mask,
                                         int n, int d, float p, float eps)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "dropout_l2norm_backward", "negative size");
    if (n == 0 || !dx)
        return;
    k_dropout_l2norm_b<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dx, dy, y, norm, mask, n, d, 1 / (1 - p), eps);
    SBR_CUDA_LAUNCHED("dropout_l2norm_backward");
}
