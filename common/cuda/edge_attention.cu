// GCE-GNN edge attention on the GPU (see api.inc and
// common/nn/edge_attention.inc for the equations).
//
// Local: one warp per node for the edge scores, the row softmax and y; the
// backward's scatter to the neighbours groups the edges by column with a
// stable radix sort (as ggnn.cu) and adds each group in CSR order, the CPU's
// order; da sums every edge of a type in CSR order, a thread per (type,
// column). Global: cuBLAS for the two projections, one warp per node for
// the attention over its neighbours, column threads for the sums over rows.
// No atomics.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(edge_attention)

__device__ __forceinline__ float ea_lrelu(float x, float slope) { return x > 0 ? x : slope * x; }

// A valid edge of row i (records and returns -1 for a bad column or type).
__device__ __forceinline__ int ea_edge(const int32_t *col, const int32_t *etype, int e, int T)
{
    int c = col[e], t = etype[e];
    if (c < 0 || c >= T || t < 0 || t > 3) {
        sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_EDGE_ATTN, e, c < 0 || c >= T ? c : t,
                      c < 0 || c >= T ? T : 4);
        return -1;
    }
    return c;
}

// pre_e = a_t . (h_i * h_j) for the whole warp (lanes over k).
__device__ __forceinline__ float ea_pre(const float *at, const float *hi, const float *hj, int d,
                                        int lane)
{
    float s = 0;
    for (int k = lane; k < d; k += 32)
        s += at[k] * hi[k] * hj[k];
    return sbr_warp_sum(s);
}

__global__ void k_ea_local_f(float *y, float *alpha, const float *h, const int32_t *ptr,
                             const int32_t *col, const int32_t *etype, const float *a, int T,
                             int d, float slope)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, T) {
        const float *hi = h + i * d;
        int e0 = ptr[i], e1 = ptr[i + 1];
        if ((i == 0 && e0 != 0) || e1 < e0) {
            if (lane == 0)
                sbr_cv_record(SBR_CV_OFF, SBR_CVOP_EDGE_ATTN, (long long)i, e0, e1);
            e1 = e0;
        }
        float mx = -INFINITY;
        for (int e = e0; e < e1; e++) {
            int j = ea_edge(col, etype, e, T);
            float x = j < 0 ? -INFINITY
                            : ea_lrelu(ea_pre(a + (size_t)etype[e] * d, hi, h + (size_t)j * d,
                                              d, lane),
                                       slope);
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
        for (int k = lane; k < d; k += 32) {
            float acc = 0;
            for (int e = e0; e < e1; e++) {
                int j = col[e];
                if (j >= 0 && j < T)
                    acc += alpha[e] * h[(size_t)j * d + k];
            }
            y[i * d + k] = acc;
        }
    }
}

// Pass 1: dpre [nnz] and the row's own dh_i.
__global__ void k_ea_local_b1(float *dpre, float *dh, const float *dy, const float *alpha,
                              const float *h, const int32_t *ptr, const int32_t *col,
                              const int32_t *etype, const float *a, int T, int d, float slope)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(i, T) {
        const float *hi = h + i * d, *gi = dy + i * d;
        int e0 = ptr[i], e1 = ptr[i + 1] > e0 ? ptr[i + 1] : e0;
        float s = 0;
        for (int e = e0; e < e1; e++) {
            int j = ea_edge(col, etype, e, T);
            float v = 0;
            if (j >= 0) {
                const float *hj = h + (size_t)j * d;
                for (int k = lane; k < d; k += 32)
                    v += gi[k] * hj[k];
                v = sbr_warp_sum(v);
            }
            if (lane == 0)
                dpre[e] = v;
            s += alpha[e] * v;
        }
        __syncwarp();
        for (int e = e0; e < e1; e++) {
            int j = col[e];
            if (j < 0 || j >= T || etype[e] < 0 || etype[e] > 3)
                continue;
            const float *at = a + (size_t)etype[e] * d, *hj = h + (size_t)j * d;
            float pre = ea_pre(at, hi, hj, d, lane);
            float dp = alpha[e] * (dpre[e] - s) * (pre > 0 ? 1.0f : slope);
            __syncwarp();
            if (lane == 0)
                dpre[e] = dp;
            if (dh)
                for (int k = lane; k < d; k += 32)
                    dh[i * d + k] += dp * at[k] * hj[k];
        }
    }
}

__global__ void k_ea_keys(int32_t *keys, int32_t *pos, int32_t *row, const int32_t *ptr,
                          const int32_t *col, const int32_t *etype, int nnz, int T)
{
    SBR_CUDA_FOR(e, nnz) {
        int c = col[e], t = etype[e];
        keys[e] = c < 0 || c >= T || t < 0 || t > 3 ? T : c;
        pos[e] = (int32_t)e;
    }
    SBR_CUDA_FOR(i, T) {
        int e1 = ptr[i + 1] < nnz ? ptr[i + 1] : nnz;
        for (int e = ptr[i] < 0 ? 0 : ptr[i]; e < e1; e++)
            row[e] = (int32_t)i;
    }
}

// Pass 2: dh_j += dpre_e a_t * h_i + alpha_e g_i over the edges into j.
__global__ void k_ea_local_b2(float *dh, const int32_t *keys, const int32_t *pos,
                              const int32_t *row, const float *dpre, const float *alpha,
                              const float *dy, const float *h, const int32_t *etype,
                              const float *a, int nnz, int T, int d)
{
    SBR_CUDA_FOR(t, (size_t)nnz * d) {
        size_t j = t / d, k = t % d;
        int c = keys[j];
        if (c >= T || (j > 0 && keys[j - 1] == c))
            continue;
        float acc = dh[(size_t)c * d + k];
        for (size_t q = j; q < (size_t)nnz && keys[q] == c; q++) {
            int e = pos[q];
            size_t i = (size_t)row[e];
            acc += dpre[e] * a[(size_t)etype[e] * d + k] * h[i * d + k] + alpha[e] * dy[i * d + k];
        }
        dh[(size_t)c * d + k] = acc;
    }
}

namespace {
// da [4, d] += dpre_e h_i * h_j over the edges e = (i, j) of each type.
struct local_da_terms {
    const float *dpre, *h;
    const int32_t *row, *col, *etype;
    int T;
    size_t d;
    __device__ float operator()(size_t e, size_t t) const
    {
        int c = col[e];
        if ((size_t)etype[e] != t / d || c < 0 || c >= T)
            return 0.0f;
        size_t k = t % d;
        return dpre[e] * h[(size_t)row[e] * d + k] * h[(size_t)c * d + k];
    }
};
} // namespace

static int ea_bits(int T)
{
    int bits = 1;
    while (bits < 31 && (1LL << bits) <= (long long)T)
        bits++;
    return bits;
}

static size_t ea_temp(int nnz, int bits)
{
    size_t temp = 0;
    SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, temp, (const int32_t *)NULL,
                                                   (int32_t *)NULL, (const int32_t *)NULL,
                                                   (int32_t *)NULL, nnz > 0 ? nnz : 1, 0, bits));
    return temp;
}

// dpre [nnz] floats + keys, pos, sorted keys, sorted pos, row [nnz] + sort temp.
static size_t ea_local_bytes(int nnz, int bits)
{
    size_t an = sbr_cuda_align256((size_t)(nnz > 0 ? nnz : 1) * 4);
    return 6 * an + sbr_cuda_align256(ea_temp(nnz, bits));
}

extern "C" size_t sbr_nn_edge_attn_local_scratch_cuda(int nnz)
{
    return nnz > 0 ? ea_local_bytes(nnz, 31) : 0;
}

void sbr_nn_edge_attn_local_forward_cuda(sbr_nn_ctx *ctx, float *y, float *alpha, const float *h,
                                         const sbr_nn_typed_csr *g, const float *a, int d,
                                         float slope)
{
    const int32_t *ptr = g->ptr, *col = g->col, *etype = g->etype;
    int T = g->T;
    SBR_NN_REQUIRE(T >= 0 && d >= 0, "edge_attn_local_forward", "negative size");
    if (T == 0)
        return;
    k_ea_local_f<<<sbr_cuda_grid_warps(T), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, alpha, h, ptr, col, etype, a, T, d, slope);
    SBR_CUDA_LAUNCHED("edge_attn_local_forward");
}

void sbr_nn_edge_attn_local_backward_cuda(sbr_nn_ctx *ctx, float *dh, float *da, const float *dy,
                                          const float *alpha, const float *h,
                                          const sbr_nn_typed_csr *g, const float *a, int d,
                                          float slope)
{
    const int32_t *ptr = g->ptr, *col = g->col, *etype = g->etype;
    int T = g->T;
    const char *op = "edge_attn_local_backward";
    SBR_NN_REQUIRE(T >= 0 && d >= 0, op, "negative size");
    if (T == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    int32_t nnz = sbr_cuda_read_int(ctx, ptr + T);
    SBR_NN_REQUIRE(nnz >= 0, op, "ptr[T] = %d", (int)nnz);
    if (nnz == 0)
        return;
    int bits = ea_bits(T);
    size_t need = ea_local_bytes(nnz, bits);
    SBR_NN_REQUIRE(ctx && ctx->scratch && ctx->scratch_bytes >= need, op,
                   "scratch of %zu bytes, needs %zu for %d edges", ctx ? ctx->scratch_bytes : 0,
                   need, (int)nnz);
    size_t an = sbr_cuda_align256((size_t)nnz * 4);
    char *p = (char *)ctx->scratch;
    float *dpre = (float *)p;
    int32_t *keys = (int32_t *)(p + an), *pos = (int32_t *)(p + 2 * an);
    int32_t *keys_s = (int32_t *)(p + 3 * an), *pos_s = (int32_t *)(p + 4 * an);
    int32_t *row = (int32_t *)(p + 5 * an);
    void *temp = p + 6 * an;
    size_t temp_bytes = need - 6 * an;
    k_ea_local_b1<<<sbr_cuda_grid_warps(T), SBR_CUDA_BLOCK, 0, st>>>(dpre, dh, dy, alpha, h, ptr,
                                                                     col, etype, a, T, d, slope);
    SBR_CUDA_LAUNCHED(op);
    // rows stay 0 where bad offsets leave edges uncovered (recorded by the
    // forward): never an index out of range
    SBR_CUDA_CHECK(cudaMemsetAsync(row, 0, (size_t)nnz * sizeof(int32_t), st));
    k_ea_keys<<<sbr_cuda_grid(nnz > T ? nnz : T), SBR_CUDA_BLOCK, 0, st>>>(keys, pos, row, ptr,
                                                                           col, etype, nnz, T);
    SBR_CUDA_LAUNCHED(op);
    if (dh) {
        SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_s, pos, pos_s,
                                                       nnz, 0, bits, st));
        k_ea_local_b2<<<sbr_cuda_grid((size_t)nnz * d), SBR_CUDA_BLOCK, 0, st>>>(
            dh, keys_s, pos_s, row, dpre, alpha, dy, h, etype, a, nnz, T, d);
        SBR_CUDA_LAUNCHED(op);
    }
    if (da) {
        local_da_terms f = {dpre, h, row, col, etype, T, (size_t)d};
        sbr_cuda_colreduce(ctx, da, (size_t)nnz, (size_t)4 * d, f, op);
    }
}

/* ---- (b) global aggregation --------------------------------------------------- */

extern "C" size_t sbr_nn_edge_attn_global_scratch_cuda(int M, int K, int d)
{
    size_t MK = (size_t)M * K;
    return (MK * (3 * (size_t)d + 3) + 3 * (size_t)M * d) * sizeof(float);
}

__device__ __forceinline__ int ea_nk(const int32_t *nk, size_t m, int K)
{
    int n = nk[m];
    if (n < 0 || n > K) {
        sbr_cv_record(SBR_CV_LEN, SBR_CVOP_EDGE_ATTN, (long long)m, n, K);
        return 0;
    }
    return n;
}

// X [M*K, d + 1] = [s_m * hn_mk ; wn_mk], zero rows for k >= nk[m].
__global__ void k_ea_build_x(float *X, const float *hn, const float *wn, const float *s,
                             const int32_t *nk, int M, int K, int d)
{
    size_t d1 = (size_t)d + 1;
    SBR_CUDA_FOR(t, (size_t)M * K * d1) {
        size_t r = t / d1, c = t % d1, m = r / K;
        int k = (int)(r % K);
        float v = 0;
        if (k < ea_nk(nk, m, K))
            v = c < (size_t)d ? s[m * d + c] * hn[r * d + c] : wn[r];
        X[t] = v;
    }
}

// One warp per node: alpha [M, K] and cat [M, 2d].
__global__ void k_ea_global_attn(float *alpha, float *cat, const float *u, const float *hv,
                                 const float *hn, const int32_t *nk, const float *q1, int M,
                                 int K, int d, float slope)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(m, M) {
        float *al = alpha + m * K, *cm = cat + m * 2 * d;
        int n = ea_nk(nk, m, K);
        float mx = -INFINITY;
        for (int k = 0; k < n; k++) {
            const float *ur = u + (m * K + k) * d;
            float p = 0;
            for (int c = lane; c < d; c += 32)
                p += q1[c] * ea_lrelu(ur[c], slope);
            p = sbr_warp_sum(p);
            if (lane == 0)
                al[k] = p;
            mx = fmaxf(mx, p);
        }
        __syncwarp();
        float sum = 0;
        for (int k = 0; k < n; k++)
            sum += expf(al[k] - mx);
        __syncwarp();
        if (lane == 0) {
            for (int k = 0; k < n; k++)
                al[k] = expf(al[k] - mx) / sum;
            for (int k = n; k < K; k++)
                al[k] = 0;
        }
        __syncwarp();
        for (int c = lane; c < d; c += 32) {
            cm[c] = hv[m * d + c];
            float acc = 0;
            for (int k = 0; k < n; k++)
                acc += al[k] * hn[(m * K + k) * d + c];
            cm[d + c] = acc;
        }
    }
}

__global__ void k_ea_relu_grad(float *dz, const float *y, const float *dy, size_t n)
{
    SBR_CUDA_FOR(i, n) dz[i] = y[i] > 0 ? dy[i] : 0.0f;
}

// One warp per node: dhv, dpi [M, K], dhn (the weighted-sum part), dlr [MK, d].
__global__ void k_ea_global_b1(float *dhv, float *dhn, float *dpi, float *dlr, const float *dcat,
                               const float *alpha, const float *hn, const int32_t *nk,
                               const float *q1, int M, int K, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(m, M) {
        const float *gc = dcat + m * 2 * d, *ga = gc + d, *al = alpha + m * K;
        float *dp = dpi + m * K;
        int n = ea_nk(nk, m, K);
        if (dhv)
            for (int c = lane; c < d; c += 32)
                dhv[m * d + c] += gc[c];
        float sdot = 0;
        for (int k = 0; k < n; k++) {
            const float *hk = hn + (m * K + k) * d;
            float v = 0;
            for (int c = lane; c < d; c += 32)
                v += ga[c] * hk[c];
            v = sbr_warp_sum(v);
            if (lane == 0)
                dp[k] = v;
            sdot += al[k] * v;
        }
        __syncwarp();
        for (int k = 0; k < K; k++) {
            size_t r = m * K + k;
            float *dl = dlr + r * d;
            if (k >= n) {
                if (lane == 0)
                    dp[k] = 0;
                for (int c = lane; c < d; c += 32)
                    dl[c] = 0;
                continue;
            }
            float g = al[k] * (dp[k] - sdot);
            __syncwarp();
            if (lane == 0)
                dp[k] = g;
            for (int c = lane; c < d; c += 32) {
                if (dhn)
                    dhn[r * d + c] += al[k] * ga[c];
                dl[c] = g * q1[c];
            }
        }
    }
}

namespace {
// dq1 [d] += sum_r dpi_r LeakyReLU(u_r): the terms of sbr_cuda_colreduce.
struct dq1_terms {
    const float *dpi, *u;
    size_t d;
    float slope;
    __device__ float operator()(size_t r, size_t c) const
    {
        return dpi[r] != 0 ? dpi[r] * ea_lrelu(u[r * d + c], slope) : 0.0f;
    }
};

} // namespace

__global__ void k_ea_lrelu_grad(float *dlr, const float *u, size_t n, float slope)
{
    SBR_CUDA_FOR(i, n) {
        if (!(u[i] > 0))
            dlr[i] *= slope;
    }
}

// dhn += dX[:, :d] * s_m; dwn += dX[:, d] (one thread per (r, c) / r).
__global__ void k_ea_global_dhn(float *dhn, float *dwn, const float *dX, const float *s,
                                const int32_t *nk, int M, int K, int d)
{
    size_t d1 = (size_t)d + 1;
    SBR_CUDA_FOR(t, (size_t)M * K * d1) {
        size_t r = t / d1, c = t % d1, m = r / K;
        int k = (int)(r % K);
        if (k >= ea_nk(nk, m, K))
            continue;
        if (c < (size_t)d) {
            if (dhn)
                dhn[r * d + c] += dX[t] * s[m * d + c];
        } else if (dwn) {
            dwn[r] += dX[t];
        }
    }
}

// ds [M, d] += sum over k < nk (increasing) of dX[m, k, :d] * hn[m, k].
__global__ void k_ea_global_ds(float *ds, const float *dX, const float *hn, const int32_t *nk,
                               int M, int K, int d)
{
    size_t d1 = (size_t)d + 1;
    SBR_CUDA_FOR(t, (size_t)M * d) {
        size_t m = t / d, c = t % d;
        int n = ea_nk(nk, m, K);
        float acc = ds[t];
        for (int k = 0; k < n; k++) {
            size_t r = m * K + k;
            acc += dX[r * d1 + c] * hn[r * d + c];
        }
        ds[t] = acc;
    }
}

static void ea_global_need(sbr_nn_ctx *ctx, const char *op, int M, int K, int d)
{
    SBR_NN_REQUIRE(M >= 0 && K >= 0 && d >= 0, op, "negative size");
    size_t need = sbr_nn_edge_attn_global_scratch_cuda(M, K, d);
    SBR_NN_REQUIRE(ctx && (need == 0 || (ctx->scratch && ctx->scratch_bytes >= need)), op,
                   "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0, need);
}

void sbr_nn_edge_attn_global_forward_cuda(sbr_nn_ctx *ctx,
                                          const sbr_nn_edge_attn_global_out_cuda *o,
                                          const float *hv, const sbr_nn_edge_attn_global_in_cuda *x,
                                          const sbr_nn_nbr_table *nb,
                                          const sbr_nn_edge_attn_global_w_cuda *w,
                                          const float *drop, int d, float slope)
{
    float *y = o->y, *u = o->u, *alpha = o->alpha, *cat = o->cat;
    const float *hn = x->hn, *wn = x->wn, *s = x->s;
    const float *w1 = w->w1, *q1 = w->q1, *w2 = w->w2;
    const int32_t *nk = nb->nk;
    int M = nb->M, K = nb->K;
    const char *op = "edge_attn_global_forward";
    ea_global_need(ctx, op, M, K, d);
    if (M == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    size_t MK = (size_t)M * K;
    float *X = (float *)ctx->scratch; /* [MK, d + 1] */
    if (MK > 0) {
        k_ea_build_x<<<sbr_cuda_grid(MK * (d + 1)), SBR_CUDA_BLOCK, 0, st>>>(X, hn, wn, s, nk, M,
                                                                             K, d);
        SBR_CUDA_LAUNCHED(op);
        sbr_nn_linear_forward_cuda(ctx, u, X, w1, NULL, (int)MK, d + 1, d);
    }
    k_ea_global_attn<<<sbr_cuda_grid_warps(M), SBR_CUDA_BLOCK, 0, st>>>(alpha, cat, u, hv, hn, nk,
                                                                        q1, M, K, d, slope);
    SBR_CUDA_LAUNCHED(op);
    if (drop)
        sbr_nn_mul_forward_cuda(ctx, cat, cat, drop, M * 2 * d);
    sbr_nn_linear_forward_cuda(ctx, y, cat, w2, NULL, M, 2 * d, d);
    sbr_nn_relu_forward_cuda(ctx, y, y, M * d);
}

void sbr_nn_edge_attn_global_backward_cuda(sbr_nn_ctx *ctx, float *dhv,
                                           const sbr_nn_edge_attn_global_in_cuda *dx,
                                           const sbr_nn_edge_attn_global_w_cuda *dw,
                                           const float *dy,
                                           const sbr_nn_edge_attn_global_out_cuda *o,
                                           const sbr_nn_edge_attn_global_in_cuda *x,
                                           const sbr_nn_nbr_table *nb,
                                           const sbr_nn_edge_attn_global_w_cuda *w,
                                           const float *drop, int d, float slope)
{
    float *dhn = dx ? dx->hn : NULL, *dwn = dx ? dx->wn : NULL, *ds = dx ? dx->s : NULL;
    float *dw1 = dw ? dw->w1 : NULL, *dq1 = dw ? dw->q1 : NULL, *dw2 = dw ? dw->w2 : NULL;
    const float *y = o->y, *u = o->u, *alpha = o->alpha, *cat = o->cat;
    const float *hn = x->hn, *wn = x->wn, *s = x->s;
    const float *w1 = w->w1, *q1 = w->q1, *w2 = w->w2;
    const int32_t *nk = nb->nk;
    int M = nb->M, K = nb->K;
    const char *op = "edge_attn_global_backward";
    ea_global_need(ctx, op, M, K, d);
    if (M == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    size_t MK = (size_t)M * K, d1 = (size_t)d + 1, Md = (size_t)M * d;
    float *X = (float *)ctx->scratch, *dX = X + MK * d1, *dlr = dX + MK * d1;
    float *dz = dlr + MK * d, *dcat = dz + Md, *dpi = dcat + 2 * Md;
    k_ea_relu_grad<<<sbr_cuda_grid(Md), SBR_CUDA_BLOCK, 0, st>>>(dz, y, dy, Md);
    SBR_CUDA_LAUNCHED(op);
    SBR_CUDA_CHECK(cudaMemsetAsync(dcat, 0, 2 * Md * sizeof(float), st));
    sbr_nn_linear_backward_cuda(ctx, dcat, dw2, NULL, dz, cat, w2, M, 2 * d, d);
    if (drop)
        sbr_nn_mul_forward_cuda(ctx, dcat, dcat, drop, (int)(2 * Md));
    k_ea_global_b1<<<sbr_cuda_grid_warps(M), SBR_CUDA_BLOCK, 0, st>>>(dhv, dhn, dpi, dlr, dcat,
                                                                      alpha, hn, nk, q1, M, K, d);
    SBR_CUDA_LAUNCHED(op);
    if (MK == 0)
        return;
    if (dq1) {
        sbr_cuda_colreduce(ctx, dq1, MK, (size_t)d, dq1_terms{dpi, u, (size_t)d, slope}, op);
    }
    k_ea_lrelu_grad<<<sbr_cuda_grid(MK * d), SBR_CUDA_BLOCK, 0, st>>>(dlr, u, MK * d, slope);
    SBR_CUDA_LAUNCHED(op);
    k_ea_build_x<<<sbr_cuda_grid(MK * d1), SBR_CUDA_BLOCK, 0, st>>>(X, hn, wn, s, nk, M, K, d);
    SBR_CUDA_LAUNCHED(op);
    SBR_CUDA_CHECK(cudaMemsetAsync(dX, 0, MK * d1 * sizeof(float), st));
    sbr_nn_linear_backward_cuda(ctx, dX, dw1, NULL, dlr, X, w1, (int)MK, d + 1, d);
    if (dhn || dwn) {
        k_ea_global_dhn<<<sbr_cuda_grid(MK * d1), SBR_CUDA_BLOCK, 0, st>>>(dhn, dwn, dX, s, nk, M,
                                                                           K, d);
        SBR_CUDA_LAUNCHED(op);
    }
    if (ds) {
        k_ea_global_ds<<<sbr_cuda_grid(Md), SBR_CUDA_BLOCK, 0, st>>>(ds, dX, hn, nk, M, K, d);
        SBR_CUDA_LAUNCHED(op);
    }
}
