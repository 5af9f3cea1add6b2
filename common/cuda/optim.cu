// Adam / AdamW and gradient-norm clipping on the GPU (see api.inc): the same
// float arithmetic per element as the CPU (bias corrections in double on the
// host); the sum of squares over the same 256 fixed blocks, each reduced in
// double by a fixed tree, the blocks added in order.
#include "cuda/kernels.cuh"

#define SUMSQ_BLOCKS 256 /* as NN_SUMSQ_BLOCKS of optim.inc */

typedef struct {
    float b1, b2, eps, wd, lr, step, bc2;
    int dec;
} adam_k;

// One element's update: the CPU's float arithmetic.
__device__ __forceinline__ void adam_one(float &p, float &m, float &v, float g, const adam_k &c)
{
    if (c.dec)
        p -= c.lr * c.wd * p;
    else
        g += c.wd * p;
    m = c.b1 * m + (1 - c.b1) * g;
    v = c.b2 * v + (1 - c.b2) * g * g;
    p = p - c.step * m / (sqrtf(v) / c.bc2 + c.eps);
}

__global__ void k_adam(float *p, float *g, float *m, float *v, int64_t n, adam_k c, int zero_grad)
{
    SBR_CUDA_FOR(i, n) {
        float gi = g[i], pi = p[i], mi = m[i], vi = v[i];
        if (zero_grad)
            g[i] = 0;
        adam_one(pi, mi, vi, gi, c);
        m[i] = mi, v[i] = vi, p[i] = pi;
    }
}

// The same, four elements a thread through 16-byte loads (all four arrays
// 16-byte aligned; n4 = n / 4 quads): the same arithmetic per element.
__global__ void k_adam4(float4 *p, float4 *g, float4 *m, float4 *v, int64_t n4, adam_k c,
                        int zero_grad)
{
    SBR_CUDA_FOR(q, n4) {
        float4 pq = p[q], gq = g[q], mq = m[q], vq = v[q];
        if (zero_grad)
            g[q] = make_float4(0, 0, 0, 0);
        adam_one(pq.x, mq.x, vq.x, gq.x, c);
        adam_one(pq.y, mq.y, vq.y, gq.y, c);
        adam_one(pq.z, mq.z, vq.z, gq.z, c);
        adam_one(pq.w, mq.w, vq.w, gq.w, c);
        p[q] = pq, m[q] = mq, v[q] = vq;
    }
}

static int aligned16(const void *x) { return ((uintptr_t)x & 15) == 0; }

void sbr_nn_adam_step_cuda(sbr_nn_ctx *ctx, float *p, float *g, float *m, float *v,
                           int64_t n, const sbr_nn_adam_cfg *cfg, int64_t t)
{
    SBR_NN_REQUIRE(t >= 1, "adam_step", "step t = %lld, must start at 1", (long long)t);
    SBR_NN_REQUIRE(n >= 0, "adam_step", "negative size");
    if (n == 0)
        return;
    float step = (float)(cfg->lr / (1 - pow(cfg->beta1, (double)t)));
    float bc2 = (float)sqrt(1 - pow(cfg->beta2, (double)t));
    adam_k c = {(float)cfg->beta1, (float)cfg->beta2, (float)cfg->eps, (float)cfg->weight_decay,
                (float)cfg->lr, step, bc2, cfg->decoupled};
    cudaStream_t s = sbr_cuda_stream(ctx);
    int64_t done = 0;
    if (aligned16(p) && aligned16(g) && aligned16(m) && aligned16(v) && n >= 4) {
        int64_t n4 = n / 4;
        k_adam4<<<sbr_cuda_grid((size_t)n4), SBR_CUDA_BLOCK, 0, s>>>(
            (float4 *)p, (float4 *)g, (float4 *)m, (float4 *)v, n4, c, cfg->zero_grad);
        SBR_CUDA_LAUNCHED("adam_step");
        done = 4 * n4;
    }
    if (done < n) {
        k_adam<<<sbr_cuda_grid((size_t)(n - done)), SBR_CUDA_BLOCK, 0, s>>>(
            p + done, g + done, m + done, v + done, n - done, c, cfg->zero_grad);
        SBR_CUDA_LAUNCHED("adam_step");
    }
}

__device__ __forceinline__ double warp_sum_d(double v)
{
    for (int mask = 16; mask > 0; mask >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, mask);
    return v;
}

// Block k sums g[k * per .. min((k + 1) * per, n)) squared, in double.
__global__ void k_sumsq_part(double *part, const float *g, int64_t n, int64_t per)
{
    __shared__ double sh[32];
    int k = blockIdx.x;
    int64_t i0 = (int64_t)k * per, i1 = i0 + per < n ? i0 + per : n;
    double s = 0;
    for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x)
        s += (double)g[i] * (double)g[i];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    s = warp_sum_d(s);
    if (lane == 0)
        sh[w] = s;
    __syncthreads();
    if (w == 0) {
        s = lane < nw ? sh[lane] : 0.0;
        s = warp_sum_d(s);
        if (lane == 0)
            part[k] = s;
    }
}

__global__ void k_sumsq_total(double *out, const double *part)
{
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        double s = 0;
        for (int k = 0; k < SUMSQ_BLOCKS; k++)
            s += part[k];
        out[0] = s;
    }
}

double sbr_nn_sumsq_cuda(sbr_nn_ctx *ctx, const float *g, int64_t n)
{
    SBR_NN_REQUIRE(n >= 0, "sumsq", "negative size");
    SBR_NN_REQUIRE(ctx && ctx->scratch && ctx->scratch_bytes >= (SUMSQ_BLOCKS + 1) * sizeof(double),
                   "sumsq", "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0,
                   (SUMSQ_BLOCKS + 1) * sizeof(double));
    if (n == 0)
        return 0;
    cudaStream_t s = sbr_cuda_stream(ctx);
    double *part = (double *)ctx->scratch, *out = part + SUMSQ_BLOCKS;
    int64_t per = (n + SUMSQ_BLOCKS - 1) / SUMSQ_BLOCKS;
    k_sumsq_part<<<SUMSQ_BLOCKS, SBR_CUDA_BLOCK, 0, s>>>(part, g, n, per);
    SBR_CUDA_LAUNCHED("sumsq");
    k_sumsq_total<<<1, 32, 0, s>>>(out, part);
    SBR_CUDA_LAUNCHED("sumsq");
    double r = 0;
    SBR_CUDA_CHECK(cudaMemcpyAsync(&r, out, sizeof r, cudaMemcpyDeviceToHost, s));
    SBR_CUDA_CHECK(cudaStreamSynchronize(s));
    return r;
}

__global__ void k_scale_inplace(float *g, int64_t n, float f)
{
    SBR_CUDA_FOR(i, n) g[i] *= f;
}

double sbr_nn_clip_grad_norm_cuda(sbr_nn_ctx *ctx, float *g, int64_t n, double max_norm)
{
    double norm = sqrt(sbr_nn_sumsq_cuda(ctx, g, n));
    if (norm > max_norm) {
        float f = (float)(max_norm / (norm + 1e-6));
        k_scale_inplace<<<sbr_cuda_grid((size_t)n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
            g, n, f);
        SBR_CUDA_LAUNCHED("clip_grad_norm");
    }
    return norm;
}
