// Element-wise activations on the GPU (see api.inc): one thread per element.
#include "cuda/kernels.cuh"

#define ACT_LAUNCH(kernel, op, n, ...)                                             \
    do {                                                                           \
        SBR_NN_REQUIRE((n) >= 0, op, "negative size");                             \
        if ((n) > 0) {                                                             \
            kernel<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(__VA_ARGS__); \
            SBR_CUDA_LAUNCHED(op);                                                 \
        }                                                                          \
    } while (0)

__global__ void k_sigmoid_f(float *y, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) y[i] = sbr_sigmoidf(x[i]);
}
__global__ void k_sigmoid_b(float *dx, const float *dy, const float *y, int n)
{
    SBR_CUDA_FOR(i, n) dx[i] += dy[i] * y[i] * (1 - y[i]);
}
__global__ void k_tanh_f(float *y, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) y[i] = tanhf(x[i]);
}
__global__ void k_tanh_b(float *dx, const float *dy, const float *y, int n)
{
    SBR_CUDA_FOR(i, n) dx[i] += dy[i] * (1 - y[i] * y[i]);
}
__global__ void k_relu_f(float *y, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) y[i] = x[i] > 0 ? x[i] : 0;
}
__global__ void k_relu_b(float *dx, const float *dy, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) dx[i] += x[i] > 0 ? dy[i] : 0;
}
__global__ void k_leaky_f(float *y, const float *x, int n, float slope)
{
    SBR_CUDA_FOR(i, n) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}
__global__ void k_leaky_b(float *dx, const float *dy, const float *x, int n, float slope)
{
    SBR_CUDA_FOR(i, n) dx[i] += x[i] > 0 ? dy[i] : slope * dy[i];
}
__global__ void k_softplus_f(float *y, const float *x, int n)
{
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
    SBR_CUDA_FOR(i, n) y[i] = (x[i] > 0 ? x[i] : 0) + log1pf(expf(-fabsf(x[i])));
}
__global__ void k_softplus_b(float *dx, const float *dy, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) dx[i] += dy[i] * sbr_sigmoidf(x[i]);
}

// gelu(x) = x Phi(x) (erf form), gelu' = Phi(x) + x phi(x)
__global__ void k_gelu_f(float *y, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) y[i] = x[i] * 0.5f * (1.0f + erff(x[i] * 0.70710678118654752440f));
}
__global__ void k_gelu_b(float *dx, const float *dy, const float *x, int n)
{
    SBR_CUDA_FOR(i, n) {
        float v = x[i], cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752440f));
        dx[i] += dy[i] * (cdf + v * 0.39894228040143267794f * expf(-0.5f * v * v));
    }
}

void sbr_nn_sigmoid_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n)
{
    ACT_LAUNCH(k_sigmoid_f, "sigmoid_forward", n, y, x, n);
}
void sbr_nn_sigmoid_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *y,
                                  int n)
{
    ACT_LAUNCH(k_sigmoid_b, "sigmoid_backward", n, dx, dy, y, n);
}
void sbr_nn_tanh_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n)
{
    ACT_LAUNCH(k_tanh_f, "tanh_forward", n, y, x, n);
}
void sbr_nn_tanh_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *y,
                               int n)
{
    ACT_LAUNCH(k_tanh_b, "tanh_backward", n, dx, dy, y, n);
}
void sbr_nn_relu_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n)
{
    ACT_LAUNCH(k_relu_f, "relu_forward", n, y, x, n);
}
void sbr_nn_relu_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *x,
                               int n)
{
    ACT_LAUNCH(k_relu_b, "relu_backward", n, dx, dy, x, n);
}
void sbr_nn_leaky_relu_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n,
                                    float slope)
{
    ACT_LAUNCH(k_leaky_f, "leaky_relu_forward", n, y, x, n, slope);
}
void sbr_nn_leaky_relu_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                     const float *x, int n, float slope)
{
    ACT_LAUNCH(k_leaky_b, "leaky_relu_backward", n, dx, dy, x, n, slope);
}
void sbr_nn_softplus_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n)
{
    ACT_LAUNCH(k_softplus_f, "softplus_forward", n, y, x, n);
}
void sbr_nn_softplus_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *x,
                                   int n)
{
    ACT_LAUNCH(k_softplus_b, "softplus_backward", n, dx, dy, x, n);
}
void sbr_nn_gelu_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, int n)
{
    ACT_LAUNCH(k_gelu_f, "gelu_forward", n, y, x, n);
}
void sbr_nn_gelu_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy, const float *x,
                               int n)
{
    ACT_LAUNCH(k_gelu_b, "gelu_backward", n, dx, dy, x, n);
}
