// GRU on the GPU (see api.inc and common/nn/gru.inc for the equations): the
// hidden projection of each step is a cuBLAS sgemm, the gates one fused
// element-wise kernel; the sequence op runs the input projections of all
// steps as one GEMM, then the steps in order (forward) or reverse (backward),
// mirroring the CPU op call for call. Row strides let the cell read and
// write the [B, L, .] sequence tensors in place.
#include "cuda/gemm.cuh"

SBR_CUDA_VIOLATION_SLOT(gru)

// Row i active: len == NULL or t < len[i].
__device__ __forceinline__ bool gru_active(const int32_t *len, size_t i, int t, int L)
{
    if (!len)
        return true;
    int n = len[i];
    if (n < 0 || n > L) {
        sbr_cv_record(SBR_CV_LEN, SBR_CVOP_GRU, (long long)i, n, L);
        return false;
    }
    return t < n;
}

// gh NULL: no h (the hidden projection is its bias alone); b_ih / b_hh NULL:
// nothing to add (gi has its bias, or there is none).
__global__ void k_gru_cell_fw(float *hnew, size_t ldo, float *gates, float *ghn, size_t ldn,
                              const float *gi, size_t ldg, const float *b_ih, const float *h,
                              size_t ldh, const float *gh, const float *b_hh, int n, int H,
                              const int32_t *len, int t, int L)
{
    SBR_CUDA_FOR(e, (size_t)n * H) {
        size_t i = e / H;
        int k = (int)(e % H);
        float *ho = hnew + i * ldo, *ga = gates + i * ldg, *gn = ghn + i * ldn;
        if (!gru_active(len, i, t, L)) {
            ho[k] = 0;
            ga[k] = ga[H + k] = ga[2 * H + k] = 0;
            gn[k] = 0;
            continue;
        }
        const float *gii = gi + i * ldg;
        float xr = gii[k], xz = gii[H + k], xn = gii[2 * H + k], hr = 0, hz = 0, hn = 0;
        if (b_ih)
            xr += b_ih[k], xz += b_ih[H + k], xn += b_ih[2 * H + k];
        if (gh) {
            const float *ghi = gh + i * 3 * (size_t)H;
            hr = ghi[k], hz = ghi[H + k], hn = ghi[2 * H + k];
        }
        if (b_hh)
            hr += b_hh[k], hz += b_hh[H + k], hn += b_hh[2 * H + k];
        float r = sbr_sigmoidf(xr + hr);
        float z = sbr_sigmoidf(xz + hz);
        float nv = tanhf(xn + r * hn);
        float hp = h ? h[i * ldh + k] : 0.0f;
        ga[k] = r, ga[H + k] = z, ga[2 * H + k] = nv;
        gn[k] = hn;
        ho[k] = nv + z * (hp - nv);
    }
}

__global__ void k_gru_cell_bw(float *dgi, size_t ldg, float *dh, float *dgh, const float *g,
                              size_t ldgr, const float *gates, const float *ghn, size_t ldn,
                              const float *h, size_t ldh, int n, int H, const int32_t *len, int t,
                              int L)
{
    SBR_CUDA_FOR(e, (size_t)n * H) {
        size_t i = e / H, H3 = 3 * (size_t)H;
        int k = (int)(e % H);
        float *dgr = dgh + i * H3;
        if (!gru_active(len, i, t, L)) {
            dgr[k] = dgr[H + k] = dgr[2 * H + k] = 0;
            continue;
        }
        const float *ga = gates + i * ldg;
        float r = ga[k], z = ga[H + k], nv = ga[2 * H + k];
        float hp = h ? h[i * ldh + k] : 0.0f;
        float gk = g[i * ldgr + k];
        float dn = gk * (1 - z);
        float dz = gk * (hp - nv);
        float dpn = dn * (1 - nv * nv);
        float dr = dpn * ghn[i * ldn + k];
        float dpr = dr * r * (1 - r), dpz = dz * z * (1 - z);
        float *di = dgi + i * ldg;
        di[k] += dpr, di[H + k] += dpz, di[2 * H + k] += dpn;
        dgr[k] = dpr, dgr[H + k] = dpz, dgr[2 * H + k] = dpn * r;
        if (dh)
            dh[i * H + k] += gk * z;
    }
}

static void gru_need(sbr_nn_ctx *ctx, size_t bytes, const char *op)
{
    SBR_NN_REQUIRE(ctx && (bytes == 0 || (ctx->scratch && ctx->scratch_bytes >= bytes)), op,
                   "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0, bytes);
}

void sbr_cuda_gru_cell_fw(sbr_nn_ctx *ctx, float *hnew, size_t ldo, float *gates, float *ghn,
                          size_t ldn, const float *gi, size_t ldg, const float *gi_bias,
                          const float *h, size_t ldh, const float *w_hh, const float *b_hh, int n,
                          int H, float *gh, const int32_t *len, int t, int L)
{
    if (n == 0 || H == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    int H3 = 3 * H;
    // gh^T [3H, n] = W_hh [3H, H] h^T [H, n]; without h no GEMM (gh = 0);
    // b_hh is the kernel's to add (one launch fewer than a fill)
    if (h)
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, "gru_forward", CUBLAS_OP_T, CUBLAS_OP_N, H3, n, H,
                                        w_hh, H, h, (int)ldh, 0, gh, H3, NULL));
    k_gru_cell_fw<<<sbr_cuda_grid((size_t)n * H), SBR_CUDA_BLOCK, 0, s>>>(
        hnew, ldo, gates, ghn, ldn, gi, ldg, gi_bias, h, ldh, h ? gh : NULL, b_hh, n, H, len, t,
        L);
    SBR_CUDA_LAUNCHED("gru_forward");
}

void sbr_cuda_gru_cell_bw(sbr_nn_ctx *ctx, float *dgi, size_t ldg, float *dh, float *dw_hh,
                          float *db_hh, const float *g, size_t ldgr, const float *gates,
                          const float *ghn, size_t ldn, const float *h, size_t ldh,
                          const float *w_hh, int n, int H, float *dgh, const int32_t *len, int t,
                          int L)
{
    if (n == 0 || H == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    int H3 = 3 * H;
    k_gru_cell_bw<<<sbr_cuda_grid((size_t)n * H), SBR_CUDA_BLOCK, 0, s>>>(
        dgi, ldg, dh, dgh, g, ldgr, gates, ghn, ldn, h, ldh, n, H, len, t, L);
    SBR_CUDA_LAUNCHED("gru_backward");
    const char *op = "gru_backward";
    if (dh) // dh^T [H, n] += W_hh^T [H, 3H] dgh^T [3H, n]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_N, H, n, H3, w_hh, H, dgh,
                                        H3, 1, dh, H, NULL));
    if (dw_hh && h) // dW_hh^T [H, 3H] += h^T [H, n] dgh [n, 3H]
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, H, H3, n, h, (int)ldh,
                                        dgh, H3, 1, dw_hh, H, NULL));
    if (db_hh)
        sbr_cuda_colsum_acc(ctx, db_hh, dgh, n, H3);
}

extern "C" size_t sbr_nn_gru_cell_scratch_cuda(int n, int H)
{
    return (size_t)n * 3 * (size_t)H * sizeof(float);
}

void sbr_nn_gru_cell_forward_cuda(sbr_nn_ctx *ctx, float *hnew, float *gates, float *ghn,
                                  const float *gi, const float *h, const float *w_hh,
                                  const float *b_hh, int n, int H)
{
    SBR_NN_REQUIRE(n >= 0 && H >= 0, "gru_cell_forward", "negative size");
    gru_need(ctx, sbr_nn_gru_cell_scratch_cuda(n, H), "gru_cell_forward");
    sbr_cuda_gru_cell_fw(ctx, hnew, H, gates, ghn, H, gi, 3 * (size_t)H, NULL, h, H, w_hh, b_hh,
                         n, H, (float *)ctx->scratch, NULL, 0, 0);
}

void sbr_nn_gru_cell_backward_cuda(sbr_nn_ctx *ctx, float *dgi, float *dh, float *dw_hh,
                                   float *db_hh, const float *dhnew, const float *gates,
                                   const float *ghn, const float *h, const float *w_hh, int n,
                                   int H)
{
    SBR_NN_REQUIRE(n >= 0 && H >= 0, "gru_cell_backward", "negative size");
    SBR_NN_REQUIRE(dgi, "gru_cell_backward", "dgi is required (the input-projection gradient)");
    gru_need(ctx, sbr_nn_gru_cell_scratch_cuda(n, H), "gru_cell_backward");
    sbr_cuda_gru_cell_bw(ctx, dgi, 3 * (size_t)H, dh, dw_hh, db_hh, dhnew, H, gates, ghn, H, h,
                         H, w_hh, n, H, (float *)ctx->scratch, NULL, 0, 0);
}

extern "C" size_t sbr_nn_gru_scratch_cuda(int B, int L, int H)
{
    size_t BL = (size_t)B * L, H3 = 3 * (size_t)H;
    return (BL * H3 + (size_t)B * H3 + 2 * (size_t)B * H) * sizeof(float);
}

// hlast [B, H] = hs[b, len[b] - 1], or h0[b] (0 without h0) when len[b] = 0.
__global__ void k_gru_hlast(float *hlast, const float *hs, const float *h0, const int32_t *len,
                            int B, int L, int H)
{
    SBR_CUDA_FOR(e, (size_t)B * H) {
        size_t b = e / H, k = e % H;
        int n = len[b];
        if (n > 0 && n <= L)
            hlast[e] = hs[(b * L + n - 1) * H + k];
        else
            hlast[e] = h0 ? h0[e] : 0.0f;
    }
}

// dcur [B, H] += dhs[b, t] (+ dhlast[b] at the last valid step), active rows.
__global__ void k_gru_upstream(float *dcur, const float *dhs, const float *dhlast,
                               const int32_t *len, int B, int L, int H, int t)
{
    SBR_CUDA_FOR(e, (size_t)B * H) {
        size_t b = e / H, k = e % H;
        int n = len[b];
        if (t >= n)
            continue;
        float v = dcur[e];
        if (dhs)
            v += dhs[(b * L + t) * H + k];
        if (dhlast && t == n - 1)
            v += dhlast[e];
        dcur[e] = v;
    }
}

__global__ void k_gru_dh0(float *dh0, const float *dcur, const float *dhlast, const float *h0,
                          const int32_t *len, int B, int H)
{
    SBR_CUDA_FOR(e, (size_t)B * H) {
        size_t b = e / H;
        int n = len[b];
        if (n > 0)
            dh0[e] += dcur[e];
        else if (dhlast && h0)
            dh0[e] += dhlast[e];
    }
}

void sbr_nn_gru_forward_cuda(sbr_nn_ctx *ctx, const sbr_nn_gru_out_cuda *y, const float *x,
                             const int32_t *len, const float *h0, const sbr_nn_gru_w_cuda *w,
                             sbr_nn_seq_shape sh)
{
    float *hs = y->hs, *hlast = y->hlast, *gates = y->gates, *ghn = y->ghn;
    const float *w_ih = w->w_ih, *b_ih = w->b_ih, *w_hh = w->w_hh, *b_hh = w->b_hh;
    int B = sh.B, L = sh.L, In = sh.in, H = sh.out;
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && In >= 0 && H >= 0, "gru_forward", "negative size");
    gru_need(ctx, sbr_nn_gru_scratch_cuda(B, L, H), "gru_forward");
    if (B == 0 || H == 0)
        return;
    size_t H3 = 3 * (size_t)H, BL = (size_t)B * L;
    float *gi = (float *)ctx->scratch; /* [B, L, 3H] */
    float *gh = gi + BL * H3;          /* [B, 3H] */
    if (L > 0)
        sbr_nn_linear_forward_cuda(ctx, gi, x, w_ih, b_ih, (int)BL, In, 3 * H);
    for (int t = 0; t < L; t++) {
        const float *hp = t == 0 ? h0 : hs + (size_t)(t - 1) * H;
        size_t ldh = t == 0 ? (size_t)H : (size_t)L * H;
        sbr_cuda_gru_cell_fw(ctx, hs + (size_t)t * H, (size_t)L * H, gates + (size_t)t * H3,
                             ghn + (size_t)t * H, (size_t)L * H, gi + (size_t)t * H3,
                             (size_t)L * H3, NULL, hp, ldh, w_hh, b_hh, B, H, gh, len, t, L);
    }
    if (hlast) {
        k_gru_hlast<<<sbr_cuda_grid((size_t)B * H), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
            hlast, hs, h0, len, B, L, H);
        SBR_CUDA_LAUNCHED("gru_forward");
    }
}

void sbr_nn_gru_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dh0, const sbr_nn_gru_w_cuda *dw,
                              const float *dhs, const float *dhlast, const sbr_nn_gru_out_cuda *y,
                              const float *x, const int32_t *len, const float *h0,
                              const sbr_nn_gru_w_cuda *w, sbr_nn_seq_shape sh)
{
    float *dw_ih = dw ? dw->w_ih : NULL, *db_ih = dw ? dw->b_ih : NULL;
    float *dw_hh = dw ? dw->w_hh : NULL, *db_hh = dw ? dw->b_hh : NULL;
    const float *hs = y->hs, *gates = y->gates, *ghn = y->ghn;
    const float *w_ih = w->w_ih, *w_hh = w->w_hh;
    int B = sh.B, L = sh.L, In = sh.in, H = sh.out;
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && In >= 0 && H >= 0, "gru_backward", "negative size");
    gru_need(ctx, sbr_nn_gru_scratch_cuda(B, L, H), "gru_backward");
    if (B == 0 || H == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    size_t H3 = 3 * (size_t)H, BL = (size_t)B * L, BH = (size_t)B * H;
    float *dgi = (float *)ctx->scratch; /* [B, L, 3H] */
    float *dgh = dgi + BL * H3;         /* [B, 3H] */
    float *dcur = dgh + (size_t)B * H3; /* [B, H] dL/dh_t */
    float *dprev = dcur + BH;           /* [B, H] dL/dh_{t-1} */
    SBR_CUDA_CHECK(cudaMemsetAsync(dgi, 0, BL * H3 * sizeof(float), s));
    SBR_CUDA_CHECK(cudaMemsetAsync(dcur, 0, BH * sizeof(float), s));
    for (int t = L - 1; t >= 0; t--) {
        k_gru_upstream<<<sbr_cuda_grid(BH), SBR_CUDA_BLOCK, 0, s>>>(dcur, dhs, dhlast, len, B, L,
                                                                    H, t);
        SBR_CUDA_LAUNCHED("gru_backward");
        SBR_CUDA_CHECK(cudaMemsetAsync(dprev, 0, BH * sizeof(float), s));
        const float *hp = t == 0 ? h0 : hs + (size_t)(t - 1) * H;
        size_t ldh = t == 0 ? (size_t)H : (size_t)L * H;
        sbr_cuda_gru_cell_bw(ctx, dgi + (size_t)t * H3, (size_t)L * H3, dprev, dw_hh, db_hh,
                             dcur, H, gates + (size_t)t * H3, ghn + (size_t)t * H, (size_t)L * H,
                             hp, ldh, w_hh, B, H, dgh, len, t, L);
        float *sw = dcur;
        dcur = dprev, dprev = sw;
    }
    if (dh0) {
        k_gru_dh0<<<sbr_cuda_grid(BH), SBR_CUDA_BLOCK, 0, s>>>(dh0, dcur, dhlast, h0, len, B, H);
        SBR_CUDA_LAUNCHED("gru_backward");
    }
    if (L > 0)
        sbr_nn_linear_backward_cuda(ctx, dx, dw_ih, db_ih, dgi, x, w_ih, (int)BL, In, 3 * H);
}
