/* Pooling of per-interest logits for the multi-interest scoring ops
 * (score_multi_ce in score_ce.cu, topk_multi in topk.cu): lg [B*U, cn] ->
 * P [B, cn] and, for the max pool, the winning interest am [B, cn] (the
 * lowest u on ties: a later interest replaces only a strictly larger
 * logit, as the CPU's nn_sm_pool). Sum pool adds u = 0, 1, ... in order. */
#ifndef SBR_CUDA_SCORE_POOL_CUH
#define SBR_CUDA_SCORE_POOL_CUH

#include "cuda/kernels.cuh"

static __global__ void k_score_pool(float *P, uint8_t *am, const float *lg, int B, int U, int cn,
                                    int pool)
{
    SBR_CUDA_FOR(t, (size_t)B * cn) {
        size_t b = t / cn, j = t % cn;
        const float *l = lg + b * U * (size_t)cn + j;
        float p = l[0];
        int a = 0;
        for (int u = 1; u < U; u++) {
            float x = l[(size_t)u * cn];
            if (pool)
                p += x;
            else if (x > p)
                p = x, a = u;
        }
        P[t] = p;
        if (am)
            am[t] = (uint8_t)a;
    }
}

static inline void sbr_cuda_score_pool(sbr_nn_ctx *ctx, float *P, uint8_t *am, const float *lg,
                                       int B, int U, int cn, int pool, const char *op)
{
    k_score_pool<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        P, am, lg, B, U, cn, pool);
    SBR_CUDA_LAUNCHED(op);
}

#endif
