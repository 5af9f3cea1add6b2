// PReLU with one slope per channel on the GPU (see api.inc and
// common/nn/prelu.inc): one thread per element; the slopes' gradient one
// block per column with a fixed reduction tree (no atomics).
#include "cuda/kernels.cuh"

__global__ void k_prelu_f(float *y, const float *x, const float *a, size_t n, int d)
{
    SBR_CUDA_FOR(i, n) y[i] = x[i] > 0 ? x[i] : a[i % d] * x[i];
}

__global__ void k_prelu_bx(float *dx, const float *dy, const float *x, const float *a, size_t n,
                           int d)
{
    SBR_CUDA_FOR(i, n) dx[i] += dy[i] * (x[i] > 0 ? 1.0f : a[i % d]);
}

// Block c: da[c] += sum over rows of dy x where x <= 0 (threads stride the
// rows, then the block's tree).
__global__ void k_prelu_ba(float *da, const float *dy, const float *x, int n, int d)
{
    __shared__ float sh[32];
    for (int c = blockIdx.x; c < d; c += gridDim.x) {
        float s = 0;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            size_t o = (size_t)i * d + c;
            s += x[o] > 0 ? 0.0f : dy[o] * x[o];
        }
        s = sbr_block_sum(s, sh);
        if (threadIdx.x == 0)
            da[c] += s;
    }
}

void sbr_nn_prelu_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *a, int n,
                               int d)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "prelu_forward", "negative size");
    size_t nd = (size_t)n * d;
    if (nd == 0)
        return;
    k_prelu_f<<<sbr_cuda_grid(nd), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(y, x, a, nd, d);
    SBR_CUDA_LAUNCHED("prelu_forward");
}

void sbr_nn_prelu_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *da, const float *dy,
                                const float *x, const float *a, int n, int d)
{
    SBR_NN_REQUIRE(n >= 0 && d >= 0, "prelu_backward", "negative size");
    size_t nd = (size_t)n * d;
    if (nd == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (dx) {
        k_prelu_bx<<<sbr_cuda_grid(nd), SBR_CUDA_BLOCK, 0, s>>>(dx, dy, x, a, nd, d);
        SBR_CUDA_LAUNCHED("prelu_backward");
    }
    if (da) {
        k_prelu_ba<<<sbr_cuda_grid_rows((size_t)d), SBR_CUDA_BLOCK, 0, s>>>(da, dy, x, n, d);
        SBR_CUDA_LAUNCHED("prelu_backward");
    }
}
