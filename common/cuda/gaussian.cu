// Reparameterised Gaussian sample and Gaussian KL on the GPU (see api.inc):
// eps is the CPU's draw sbr_rng_normal_at(seed, offset + 2i), computed in
// double from the ported counter-based RNG.
#include "cuda/kernels.cuh"
#include "cuda/rng_cuda.cuh"

__global__ void k_gauss_f(float *z, float *eps, const float *mu, const float *sigma, int n,
                          uint64_t seed, uint64_t offset)
{
    SBR_CUDA_FOR(i, n) {
        float e = (float)sbr_rng_normal_at_dev(seed, offset + 2 * (uint64_t)i);
        eps[i] = e;
        z[i] = mu[i] + sigma[i] * e;
    }
}

__global__ void k_gauss_b(float *dmu, float *dsigma, const float *dz, const float *eps, int n)
{
    SBR_CUDA_FOR(i, n) {
        if (dmu)
            dmu[i] += dz[i];
        if (dsigma)
            dsigma[i] += dz[i] * eps[i];
    }
}

// gauss_sample_k: one thread per element of z [B, K, n]; element t = (b K +
// k) n + j draws at offset + 2 t, or shared at offset + 2 (k n + j).
__global__ void k_gauss_k_f(float *z, float *eps, const float *mu, const float *sigma, int B,
                            int K, int n, uint64_t seed, uint64_t offset, int shared)
{
    size_t kn = (size_t)K * n;
    SBR_CUDA_FOR(t, (size_t)B * kn) {
        size_t b = t / kn, j = t % n;
        uint64_t draw = shared ? t % kn : t;
        float e = (float)sbr_rng_normal_at_dev(seed, offset + 2 * draw);
        eps[t] = e;
        z[t] = mu[b * n + j] + sigma[b * n + j] * e;
    }
}

// One thread per (b, j): its K terms summed from 0 in increasing k, as on the CPU.
__global__ void k_gauss_k_b(float *dmu, float *dsigma, const float *dz, const float *eps, int B,
                            int K, int n)
{
    SBR_CUDA_FOR(i, (size_t)B * n) {
        size_t b = i / n, j = i % n;
        float sm = 0, ss = 0;
        for (int k = 0; k < K; k++) {
            size_t o = (b * K + k) * n + j;
            sm += dz[o];
            ss += dz[o] * eps[o];
        }
        if (dmu)
            dmu[i] += sm;
        if (dsigma)
            dsigma[i] += ss;
    }
}

// kl [B]: one thread per row, k from left to right as on the CPU.
__global__ void k_kl_f(float *kl, const float *mu_q, const float *sigma_q, const float *mu_p,
                       const float *sigma_p, int B, int d)
{
    SBR_CUDA_FOR(b, B) {
        size_t o = b * (size_t)d;
        float s = 0;
        for (int k = 0; k < d; k++) {
            float sq = sigma_q[o + k], sp = sigma_p[o + k], dm = mu_q[o + k] - mu_p[o + k];
            s += logf(sp / sq) + (sq * sq + dm * dm) / (2 * sp * sp) - 0.5f;
        }
        kl[b] = s;
    }
}

__global__ void k_kl_b(float *dmu_q, float *dsigma_q, float *dmu_p, float *dsigma_p,
                       const float *dkl, const float *mu_q, const float *sigma_q,
                       const float *mu_p, const float *sigma_p, int B, int d)
{
    SBR_CUDA_FOR(i, (size_t)B * d) {
        float g = dkl[i / d];
        float sq = sigma_q[i], sp = sigma_p[i], dm = mu_q[i] - mu_p[i];
        float isp2 = 1 / (sp * sp);
        if (dmu_q)
            dmu_q[i] += g * dm * isp2;
        if (dmu_p)
            dmu_p[i] -= g * dm * isp2;
        if (dsigma_q)
            dsigma_q[i] += g * (sq * isp2 - 1 / sq);
        if (dsigma_p)
            dsigma_p[i] += g * (1 / sp - (sq * sq + dm * dm) * isp2 / sp);
    }
}

void sbr_nn_gauss_sample_forward_cuda(sbr_nn_ctx *ctx, float *z, float *eps, const float *mu,
                                      const float *sigma, int n, uint64_t seed, uint64_t offset)
{
    SBR_NN_REQUIRE(n >= 0, "gauss_sample_forward", "negative size");
    if (n == 0)
        return;
    k_gauss_f<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(z, eps, mu, sigma, n,
                                                                             seed, offset);
    SBR_CUDA_LAUNCHED("gauss_sample_forward");
}

void sbr_nn_gauss_sample_backward_cuda(sbr_nn_ctx *ctx, float *dmu, float *dsigma,
                                       const float *dz, const float *eps, int n)
{
    SBR_NN_REQUIRE(n >= 0, "gauss_sample_backward", "negative size");
    if (n == 0 || (!dmu && !dsigma))
        return;
    k_gauss_b<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(dmu, dsigma, dz, eps,
                                                                             n);
    SBR_CUDA_LAUNCHED("gauss_sample_backward");
}

void sbr_nn_gauss_sample_k_forward_cuda(sbr_nn_ctx *ctx, float *z, float *eps, const float *mu,
                                        const float *sigma, int B, int K, int n, uint64_t seed,
                                        uint64_t offset, int shared)
{
    SBR_NN_REQUIRE(B >= 0 && K >= 0 && n >= 0, "gauss_sample_k_forward", "negative size");
    size_t total = (size_t)B * K * n;
    if (total == 0)
        return;
    k_gauss_k_f<<<sbr_cuda_grid(total), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        z, eps, mu, sigma, B, K, n, seed, offset, shared);
    SBR_CUDA_LAUNCHED("gauss_sample_k_forward");
}

void sbr_nn_gauss_sample_k_backward_cuda(sbr_nn_ctx *ctx, float *dmu, float *dsigma,
                                         const float *dz, const float *eps, int B, int K, int n)
{
    SBR_NN_REQUIRE(B >= 0 && K >= 0 && n >= 0, "gauss_sample_k_backward", "negative size");
    if ((size_t)B * n == 0 || (!dmu && !dsigma))
        return;
    k_gauss_k_b<<<sbr_cuda_grid((size_t)B * n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dmu, dsigma, dz, eps, B, K, n);
    SBR_CUDA_LAUNCHED("gauss_sample_k_backward");
}

void sbr_nn_gauss_kl_forward_cuda(sbr_nn_ctx *ctx, float *kl, const float *mu_q,
                                  const float *sigma_q, const float *mu_p, const float *sigma_p,
                                  int B, int d)
{
    SBR_NN_REQUIRE(B >= 0 && d >= 0, "gauss_kl_forward", "negative size");
    if (B == 0)
        return;
    k_kl_f<<<sbr_cuda_grid(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(kl, mu_q, sigma_q, mu_p,
                                                                          sigma_p, B, d);
    SBR_CUDA_LAUNCHED("gauss_kl_forward");
}

void sbr_nn_gauss_kl_backward_cuda(sbr_nn_ctx *ctx, float *dmu_q, float *dsigma_q, float *dmu_p,
                                   float *dsigma_p, const float *dkl, const float *mu_q,
                                   const float *sigma_q, const float *mu_p, const float *sigma_p,
                                   int B, int d)
{
    SBR_NN_REQUIRE(B >= 0 && d >= 0, "gauss_kl_backward", "negative size");
    if ((size_t)B * d == 0)
        return;
    k_kl_b<<<sbr_cuda_grid((size_t)B * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dmu_q, dsigma_q, dmu_p, dsigma_p, dkl, mu_q, sigma_q, mu_p, sigma_p, B, d);
    SBR_CUDA_LAUNCHED("gauss_kl_backward");
}
