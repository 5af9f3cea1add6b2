// Hinge loss over distances on the GPU (see api.inc). The kept set is
// defined by ranks, so no heap is needed: entry j of row b is kept when its
// violation m + dpos - dneg[j] is positive and (with top-k) fewer than k
// positive entries rank before it (a smaller distance, or an equal one at a
// smaller j): one thread per entry, O(M) each. The row's loss is then summed
// in increasing j by one thread, as on the CPU. No scratch.
#include "cuda/kernels.cuh"

extern "C" size_t sbr_nn_hinge_scratch_cuda(int B, int M, int k)
{
    (void)B, (void)M, (void)k;
    return 0;
}

__global__ void k_hinge_keep(uint8_t *keep, const float *dpos, const float *dneg, int B, int M,
                             float margin, int k)
{
    SBR_CUDA_FOR(t, (size_t)B * M) {
        size_t b = t / M;
        int j = (int)(t % M);
        const float *dn = dneg + b * M;
        float base = margin + dpos[b];
        bool on = base - dn[j] > 0;
        if (on && k > 0 && k < M) {
            int rank = 0;
            float dj = dn[j];
            for (int q = 0; q < M && rank < k; q++)
                if (base - dn[q] > 0 && (dn[q] < dj || (dn[q] == dj && q < j)))
                    rank++;
            on = rank < k;
        }
        keep[t] = (uint8_t)on;
    }
}

__global__ void k_hinge_loss(float *loss, const uint8_t *keep, const float *dpos,
                             const float *dneg, int B, int M, float margin)
{
    SBR_CUDA_FOR(b, B) {
        float base = margin + dpos[b], s = 0;
        for (int j = 0; j < M; j++)
            if (keep[b * M + j])
                s += base - dneg[b * M + j];
        loss[b] = s;
    }
}

__global__ void k_hinge_b(float *ddpos, float *ddneg, const float *dloss, const uint8_t *keep,
                          int B, int M)
{
    SBR_CUDA_FOR(b, B) {
        float g = dloss[b];
        int cnt = 0;
        for (int j = 0; j < M; j++)
            if (keep[b * M + j]) {
                cnt++;
                if (ddneg)
                    ddneg[b * M + j] -= g;
            }
        if (ddpos)
            ddpos[b] += g * cnt;
    }
}

void sbr_nn_hinge_forward_cuda(sbr_nn_ctx *ctx, float *loss, uint8_t *keep, const float *dpos,
                               const float *dneg, int B, int M, float margin, int k)
{
    SBR_NN_REQUIRE(B >= 0 && M >= 0, "hinge_forward", "negative size");
    if (B == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (M > 0) {
        k_hinge_keep<<<sbr_cuda_grid((size_t)B * M), SBR_CUDA_BLOCK, 0, s>>>(keep, dpos, dneg, B,
                                                                             M, margin, k);
        SBR_CUDA_LAUNCHED("hinge_forward");
    }
    k_hinge_loss<<<sbr_cuda_grid(B), SBR_CUDA_BLOCK, 0, s>>>(loss, keep, dpos, dneg, B, M, margin);
    SBR_CUDA_LAUNCHED("hinge_forward");
}

void sbr_nn_hinge_backward_cuda(sbr_nn_ctx *ctx, float *ddpos, float *ddneg, const float *dloss,
                                const uint8_t *keep, int B, int M)
{
    SBR_NN_REQUIRE(B >= 0 && M >= 0, "hinge_backward", "negative size");
    if (B == 0 || (!ddpos && !ddneg))
        return;
    k_hinge_b<<<sbr_cuda_grid(B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(ddpos, ddneg, dloss,
                                                                             keep, B, M);
    SBR_CUDA_LAUNCHED("hinge_backward");
}
