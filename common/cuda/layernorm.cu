// Layer norm on the GPU (see api.inc): one warp per row for the row
// statistics and dx, the column reduction of kernels.cuh for dgamma/dbeta.
#include "cuda/kernels.cuh"

__global__ void k_layernorm_f(float *y, float *mean, float *rstd, const float *x,
                              const float *gamma, const float *beta, int n, int d, float eps)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        const float *xi = x + i * d;
        float s = 0;
        for (int k = lane; k < d; k += 32)
            s += xi[k];
        float m = sbr_warp_sum(s) / (float)d;
        float v = 0;
        for (int k = lane; k < d; k += 32)
            v += (xi[k] - m) * (xi[k] - m);
        v = sbr_warp_sum(v) / (float)d;
        float r = 1.0f / sqrtf(v + eps);
        if (lane == 0) {
            mean[i] = m;
            rstd[i] = r;
        }
        float *yi = y + i * d;
        for (int k = lane; k < d; k += 32)
            yi[k] = (xi[k] - m) * r * gamma[k] + beta[k];
    }
}

__global__ void k_layernorm_dx(float *dx, const float *dy, const float *x, const float *mean,
                               const float *rstd, const float *gamma, int n, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, n) {
        const float *xi = x + i * d, *gi = dy + i * d;
        float m = mean[i], r = rstd[i], sg = 0, sgx = 0;
        for (int k = lane; k < d; k += 32) {
            float g = gi[k] * gamma[k];
            sg += g;
            sgx += g * (xi[k] - m) * r;
        }
        sg = sbr_warp_sum(sg) / (float)d;
        sgx = sbr_warp_sum(sgx) / (float)d;
        float *dxi = dx + i * d;
        for (int k = lane; k < d; k += 32) {
            float xh = (xi[k] - m) * r;
            dxi[k] += r * (gi[k] * gamma[k] - sg - xh * sgx);
        }
    }
}

namespace {
// dgamma [d] += sum_i dy_i * xhat_i, dbeta [d] += sum_i dy_i (sbr_cuda_colreduce).
struct dgamma_terms {
    const float *dy, *x, *mean, *rstd;
    size_t d;
    __device__ float operator()(size_t i, size_t k) const
    {
        return dy[i * d + k] * (x[i * d + k] - mean[i]) * rstd[i];
    }
};
struct dbeta_terms {
    const float *dy;
    size_t d;
    __device__ float operator()(size_t i, size_t k) const { return dy[i * d + k]; }
};
} // namespace

void sbr_nn_layernorm_forward_cuda(sbr_nn_ctx *ctx, float *y, float *mean, float *rstd,
                                   const float *x, const float *gamma, const float *beta, int n,
                                   int d, float eps)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "layernorm_forward", "negative size");
    if (n == 0)
        return;
    k_layernorm_f<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, mean, rstd, x, gamma, beta, n, d, eps);
    SBR_CUDA_LAUNCHED("layernorm_forward");
}

void sbr_nn_layernorm_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dgamma, float *dbeta,
                                    const float *dy, const float *x, const float *mean,
                                    const float *rstd, const float *gamma, int n, int d)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "layernorm_backward", "negative size");
    if (n == 0 || d == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (dx) {
        k_layernorm_dx<<<sbr_cuda_grid_warps(n), SBR_CUDA_BLOCK, 0, s>>>(dx, dy, x, mean, rstd,
                                                                         gamma, n, d);
        SBR_CUDA_LAUNCHED("layernorm_backward");
    }
    if (dgamma)
        sbr_cuda_colreduce(ctx, dgamma, (size_t)n, (size_t)d,
                           dgamma_terms{dy, x, mean, rstd, (size_t)d}, "layernorm_backward");
    if (dbeta)
        sbr_cuda_colreduce(ctx, dbeta, (size_t)n, (size_t)d, dbeta_terms{dy, (size_t)d},
                           "layernorm_backward");
}
