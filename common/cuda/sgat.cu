// LESSR's shortcut-graph attention on the GPU (see api.inc and
// common/nn/sgat.inc for the equations). One warp per destination node for
// the scores, the softmax and y (and, backward, dx_e, dk and the node's
// partial sum of dw); one warp per source node for dq and dv over the
// transpose's edges, in its order; dw sums the nodes' partials in node
// order, a thread per column. No atomics.
#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(sgat)

// The source of edge e when it is a node, else -1 (recorded).
__device__ __forceinline__ int sg_src(const int32_t *src, int e, int T)
{
    return sbr_cv_index(src, (size_t)e, T, SBR_CVOP_SGAT);
}

// Row i's edge range, empty (and recorded) when the offsets are broken.
__device__ __forceinline__ void sg_range(const int32_t *ptr, int i, int lane, int *e0, int *e1)
{
    *e0 = ptr[i], *e1 = ptr[i + 1];
    if ((i == 0 && *e0 != 0) || *e1 < *e0) {
        if (lane == 0)
            sbr_cv_record(SBR_CV_OFF, SBR_CVOP_SGAT, (long long)i, *e0, *e1);
        *e1 = *e0;
    }
}

// w . sigmoid(q_j + k_i) for the whole warp (lanes over c).
__device__ __forceinline__ float sg_score(const float *w, const float *qj, const float *ki, int h,
                                          int lane)
{
    float s = 0;
    for (int c = lane; c < h; c += 32)
        s += w[c] * sbr_sigmoidf(qj[c] + ki[c]);
    return sbr_warp_sum(s);
}

__global__ void k_sgat_f(float *y, float *alpha, const float *q, const float *k, const float *v,
                         const float *w, const int32_t *ptr, const int32_t *src, int T, int h,
                         int dv)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, T) {
        int e0, e1;
        sg_range(ptr, (int)i, lane, &e0, &e1);
        float mx = -INFINITY;
        for (int e = e0; e < e1; e++) {
            int j = sg_src(src, e, T);
            float x = j < 0 ? -INFINITY : sg_score(w, q + (size_t)j * h, k + i * h, h, lane);
            if (lane == 0)
                alpha[e] = x;
            mx = fmaxf(mx, x);
        }
        __syncwarp();
        float sum = 0;
        for (int e = e0; e < e1; e++)
            sum += expf(alpha[e] - mx); // every lane, the same order
        __syncwarp();
        if (lane == 0)
            for (int e = e0; e < e1; e++)
                alpha[e] = expf(alpha[e] - mx) / sum;
        __syncwarp();
        for (int c = lane; c < dv; c += 32) {
            float acc = 0;
            for (int e = e0; e < e1; e++) {
                int j = src[e];
                if (j >= 0 && j < T)
                    acc += alpha[e] * v[(size_t)j * dv + c];
            }
            y[i * dv + c] = acc;
        }
    }
}

// Pass 1, a warp per destination node: dx_e, dk_i and the partial dwp_i.
__global__ void k_sgat_b1(float *dxe, float *dwp, float *dk, const float *dy, const float *alpha,
                          const float *q, const float *k, const float *v, const float *w,
                          const int32_t *ptr, const int32_t *src, int T, int h, int dv)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, T) {
        int e0, e1;
        sg_range(ptr, (int)i, lane, &e0, &e1);
        const float *gi = dy + i * dv, *ki = k + i * h;
        float s = 0;
        for (int e = e0; e < e1; e++) {
            int j = sg_src(src, e, T);
            float da = 0;
            for (int c = lane; j >= 0 && c < dv; c += 32)
                da += gi[c] * v[(size_t)j * dv + c];
            da = sbr_warp_sum(da);
            if (lane == 0)
                dxe[e] = alpha[e] * da; // alpha dalpha; the row's sum comes off below
            s += alpha[e] * da;
        }
        __syncwarp();
        if (lane == 0)
            for (int e = e0; e < e1; e++)
                dxe[e] -= alpha[e] * s;
        __syncwarp();
        for (int c = lane; c < h; c += 32) {
            float adw = 0, adk = 0;
            for (int e = e0; e < e1; e++) {
                int j = src[e];
                if (j < 0 || j >= T)
                    continue;
                float sg = sbr_sigmoidf(q[(size_t)j * h + c] + ki[c]);
                adw += dxe[e] * sg;
                adk += dxe[e] * w[c] * sg * (1 - sg);
            }
            dwp[i * h + c] = adw;
            if (dk)
                dk[i * h + c] += adk;
        }
    }
}

// Pass 2, a warp per source node: dq_j and dv_j over its edges (tpos order).
__global__ void k_sgat_b2(float *dq, float *dvv, const float *dxe, const float *dy,
                          const float *alpha, const float *q, const float *k, const float *w,
                          const int32_t *tptr, const int32_t *tpos, const int32_t *dst, int T,
                          int nnz, int h, int dv)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(j, T) {
        int t0, t1;
        sg_range(tptr, (int)j, lane, &t0, &t1);
        for (int c = lane; dq && c < h; c += 32) {
            float acc = 0;
            for (int t = t0; t < t1; t++) {
                int e = tpos[t], i = e >= 0 && e < nnz ? dst[e] : -1;
                if (i < 0 || i >= T)
                    continue;
                float sg = sbr_sigmoidf(q[j * h + c] + k[(size_t)i * h + c]);
                acc += dxe[e] * w[c] * sg * (1 - sg);
            }
            dq[j * h + c] += acc;
        }
        for (int c = lane; dvv && c < dv; c += 32) {
            float acc = 0;
            for (int t = t0; t < t1; t++) {
                int e = tpos[t], i = e >= 0 && e < nnz ? dst[e] : -1;
                if (i >= 0 && i < T)
                    acc += alpha[e] * dy[(size_t)i * dv + c];
            }
            dvv[j * dv + c] += acc;
        }
    }
}

// dw[c] += sum over nodes of dwp[i, c], in node order.
__global__ void k_sgat_dw(float *dw, const float *dwp, int T, int h)
{
    SBR_CUDA_FOR(c, h) {
        float s = 0;
        for (int i = 0; i < T; i++)
            s += dwp[(size_t)i * h + c];
        dw[c] += s;
    }
}

extern "C" size_t sbr_nn_sgat_scratch_cuda(int nnz, int T, int h)
{
    return ((size_t)nnz + (size_t)T * h) * sizeof(float);
}

void sbr_nn_sgat_forward_cuda(sbr_nn_ctx *ctx, float *y, float *alpha, const sbr_nn_qkv_cuda *x,
                              const float *w, const sbr_nn_tcsr *g, int h, int dv)
{
    SBR_NN_REQUIRE(g->T >= 0 && h >= 0 && dv >= 0, "sgat_forward", "negative size");
    if (g->T == 0)
        return;
    k_sgat_f<<<sbr_cuda_grid_warps(g->T), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, alpha, x->q, x->k, x->v, w, g->ptr, g->src, g->T, h, dv);
    SBR_CUDA_LAUNCHED("sgat_forward");
}

void sbr_nn_sgat_backward_cuda(sbr_nn_ctx *ctx, const sbr_nn_qkv_cuda *dx, float *dw,
                               const float *dy, const float *alpha, const sbr_nn_qkv_cuda *x,
                               const float *w, const sbr_nn_tcsr *g, int h, int dv)
{
    const char *op = "sgat_backward";
    int T = g->T;
    SBR_NN_REQUIRE(T >= 0 && h >= 0 && dv >= 0, op, "negative size");
    if (T == 0)
        return;
    int nnz = sbr_cuda_read_int(ctx, g->ptr + T); /* told by the feeder: no wait */
    size_t need = sbr_nn_sgat_scratch_cuda(nnz, T, h);
    SBR_NN_REQUIRE(ctx && ctx->scratch && ctx->scratch_bytes >= need, op,
                   "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0, need);
    float *dxe = (float *)ctx->scratch, *dwp = dxe + nnz;
    cudaStream_t s = sbr_cuda_stream(ctx);
    unsigned gw = sbr_cuda_grid_warps(T);
    k_sgat_b1<<<gw, SBR_CUDA_BLOCK, 0, s>>>(dxe, dwp, dx ? dx->k : NULL, dy, alpha, x->q, x->k,
                                           x->v, w, g->ptr, g->src, T, h, dv);
    SBR_CUDA_LAUNCHED(op);
    if (dx && (dx->q || dx->v)) {
        k_sgat_b2<<<gw, SBR_CUDA_BLOCK, 0, s>>>(dx->q, dx->v, dxe, dy, alpha, x->q, x->k, w,
                                               g->tptr, g->tpos, g->dst, T, nnz, h, dv);
        SBR_CUDA_LAUNCHED(op);
    }
    if (dw) {
        k_sgat_dw<<<sbr_cuda_grid(h), SBR_CUDA_BLOCK, 0, s>>>(dw, dwp, T, h);
        SBR_CUDA_LAUNCHED(op);
    }
}
