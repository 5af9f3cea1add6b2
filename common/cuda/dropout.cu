// Inverted dropout on the GPU (see api.inc). The mask of element i is drawn
// from sbr_rng_hash(seed, offset + i) and thresholded in double, exactly as
// on the CPU: the same mask bit for bit, and y = x * keep with keep computed
// in float the same way, so the same y too.
#include "cuda/kernels.cuh"
#include "cuda/rng_cuda.cuh"

__global__ void k_dropout_f(float *y, uint8_t *mask, const float *x, int n, float keep, double p,
                            uint64_t seed, uint64_t offset)
{
    SBR_CUDA_FOR(i, n) {
        int on = sbr_rng_u01_dev(sbr_rng_hash_dev(seed, offset + (uint64_t)i)) >= p;
        mask[i] = (uint8_t)on;
        y[i] = on ? x[i] * keep : 0.0f;
    }
}

__global__ void k_dropout_copy(float *y, uint8_t *mask, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) {
        y[i] = x[i];
        mask[i] = 1;
    }
}

__global__ void k_dropout_b(float *dx, const float *dy, const uint8_t *mask, int n, float keep)
{
    SBR_CUDA_FOR(i, n) {
        if (mask[i])
            dx[i] += dy[i] * keep;
    }
}

void sbr_nn_dropout_forward_cuda(sbr_nn_ctx *ctx, float *y, uint8_t *mask, const float *x,
                                 int n, float p, uint64_t seed, uint64_t offset)
{
    SBR_NN_REQUIRE(p >= 0 && p < 1, "dropout_forward", "p = %g is outside [0, 1)", (double)p);
    SBR_NN_REQUIRE(n >= 0, "dropout_forward", "negative size");
    if (n == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (p == 0)
        k_dropout_copy<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, s>>>(y, mask, x, n);
    else
        k_dropout_f<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, s>>>(y, mask, x, n, 1 / (1 - p),
                                                                (double)p, seed, offset);
    SBR_CUDA_LAUNCHED("dropout_forward");
}

void sbr_nn_dropout_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                  const uint8_t *mask, int n, float p)
{
    SBR_NN_REQUIRE(n >= 0, "dropout_backward", "negative size");
    if (n == 0)
        return;
    k_dropout_b<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(dx, dy, mask, n,
                                                                               1 / (1 - p));
    SBR_CUDA_LAUNCHED("dropout_backward");
}

// The host copy of the port, for tests/cuda (which compare it with
// common/rng.c without needing a GPU).
extern "C" uint64_t sbr_cuda_test_rng_hash_host(uint64_t seed, uint64_t index)
{
    return sbr_rng_hash_dev(seed, index);
}

extern "C" double sbr_cuda_test_rng_u01_host(uint64_t bits) { return sbr_rng_u01_dev(bits); }
