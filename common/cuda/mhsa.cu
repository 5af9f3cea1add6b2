// Multi-head self-attention on the GPU (see api.inc and common/nn/mhsa.inc):
// the attention core with one warp per (row, head, query), and the block as
// the CPU's sequence of ops, call for call, on the _cuda ops.
//
// The core's backward has no float atomics: kernel A (a warp per query i)
// computes sdot_i = sum_j p_ij f_ij dp_ij and dq_i (keys j in increasing
// order); kernel B (a warp per key j) adds dk_j and dv_j over the queries i
// in increasing order, the CPU's order, recomputing dp_ij. sdot lives in
// device scratch: B * heads * L floats (sbr_nn_mha_backward_scratch_cuda).
#include "cuda/kernels.cuh"
#include "cuda/rng_cuda.cuh"

SBR_CUDA_VIOLATION_SLOT(mhsa)

static void mha_check(const char *op, int B, int L, int d, int nh)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0 && nh >= 1 && d % nh == 0, op,
                   "bad sizes B=%d L=%d d=%d heads=%d (d must be a multiple of heads)", B, L, d,
                   nh);
}

// One warp per (b, h, i).
__global__ void k_mha_f(float *o, float *p, const float *q, const float *k, const float *v,
                        const float *drop, const int32_t *len, int B, int L, int d, int nh,
                        int causal, float scale)
{
    int lane = threadIdx.x & 31, dh = d / nh;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)B * nh * L) {
        size_t bh = r / L;
        int i = (int)(r % L), b = (int)(bh / nh), h = (int)(bh % nh);
        int n = sbr_cv_len(len, b, L, SBR_CVOP_MHA);
        size_t base = (size_t)b * L * d + (size_t)h * dh;
        float *pi = p + r * L;
        int nj = i < n ? (causal ? i + 1 : n) : 0;
        const float *qi = q + base + (size_t)i * d;
        float mx = -INFINITY;
        for (int j = 0; j < nj; j++) {
            const float *kj = k + base + (size_t)j * d;
            float s = 0;
            for (int c = lane; c < dh; c += 32)
                s += qi[c] * kj[c];
            s = sbr_warp_sum(s) * scale;
            if (lane == 0)
                pi[j] = s;
            mx = fmaxf(mx, s);
        }
        __syncwarp();
        float sum = 0;
        for (int j = 0; j < nj; j++)
            sum += expf(pi[j] - mx);
        __syncwarp();
        for (int j = lane; j < L; j += 32)
            pi[j] = j < nj ? expf(pi[j] - mx) / sum : 0.0f;
        __syncwarp();
        const float *fi = drop ? drop + r * L : NULL;
        for (int c = lane; c < dh; c += 32) {
            float acc = 0;
            for (int j = 0; j < nj; j++) {
                float w = fi ? pi[j] * fi[j] : pi[j];
                acc += w * v[base + (size_t)j * d + c];
            }
            o[base + (size_t)i * d + c] = acc;
        }
    }
}

__device__ __forceinline__ float mha_dp(const float *gi, const float *vj, int dh, int lane)
{
    float s = 0;
    for (int c = lane; c < dh; c += 32)
        s += gi[c] * vj[c];
    return sbr_warp_sum(s);
}

// Kernel A: sdot [B, nh, L] and dq, a warp per (b, h, i < len).
__global__ void k_mha_bq(float *sdot, float *dq, const float *dout, const float *p,
                         const float *k, const float *v, const float *drop, const int32_t *len,
                         int B, int L, int d, int nh, int causal, float scale)
{
    int lane = threadIdx.x & 31, dh = d / nh;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)B * nh * L) {
        size_t bh = r / L;
        int i = (int)(r % L), b = (int)(bh / nh), h = (int)(bh % nh);
        int n = sbr_cv_len(len, b, L, SBR_CVOP_MHA);
        if (i >= n) {
            if (lane == 0)
                sdot[r] = 0;
            continue;
        }
        size_t base = (size_t)b * L * d + (size_t)h * dh;
        const float *pi = p + r * L, *gi = dout + base + (size_t)i * d;
        const float *fi = drop ? drop + r * L : NULL;
        int nj = causal ? i + 1 : n;
        float sd = 0;
        for (int j = 0; j < nj; j++) {
            float dp = mha_dp(gi, v + base + (size_t)j * d, dh, lane);
            sd += pi[j] * (fi ? fi[j] * dp : dp);
        }
        if (lane == 0)
            sdot[r] = sd;
        if (!dq)
            continue;
        for (int j = 0; j < nj; j++) {
            float dp = mha_dp(gi, v + base + (size_t)j * d, dh, lane);
            float f = fi ? fi[j] : 1.0f;
            float ds = pi[j] * (f * dp - sd) * scale;
            const float *kj = k + base + (size_t)j * d;
            for (int c = lane; c < dh; c += 32)
                dq[base + (size_t)i * d + c] += ds * kj[c];
        }
    }
}

// Kernel B: dk and dv, a warp per (b, h, j), queries i in increasing order.
__global__ void k_mha_bkv(float *dk, float *dv, const float *sdot, const float *dout,
                          const float *p, const float *q, const float *v, const float *drop,
                          const int32_t *len, int B, int L, int d, int nh, int causal,
                          float scale)
{
    int lane = threadIdx.x & 31, dh = d / nh;
    SBR_CUDA_FOR_WARP_ROWS(r, (size_t)B * nh * L) {
        size_t bh = r / L;
        int j = (int)(r % L), b = (int)(bh / nh), h = (int)(bh % nh);
        int n = sbr_cv_len(len, b, L, SBR_CVOP_MHA);
        if (j >= n)
            continue;
        size_t base = (size_t)b * L * d + (size_t)h * dh;
        const float *vj = v + base + (size_t)j * d;
        for (int i = causal ? j : 0; i < n; i++) {
            size_t ri = bh * L + i;
            float pij = p[ri * L + j], f = drop ? drop[ri * L + j] : 1.0f;
            const float *gi = dout + base + (size_t)i * d, *qi = q + base + (size_t)i * d;
            float dp = mha_dp(gi, vj, dh, lane);
            float ds = pij * (f * dp - sdot[ri]) * scale;
            float w = pij * f;
            for (int c = lane; c < dh; c += 32) {
                if (dk)
                    dk[base + (size_t)j * d + c] += ds * qi[c];
                if (dv)
                    dv[base + (size_t)j * d + c] += w * gi[c];
            }
        }
    }
}

extern "C" size_t sbr_nn_mha_backward_scratch_cuda(int B, int L, int nh)
{
    return sbr_cuda_align256((size_t)B * nh * L * sizeof(float));
}

void sbr_nn_mha_forward_cuda(sbr_nn_ctx *ctx, float *o, float *p, const sbr_nn_qkv_cuda *x,
                             const float *drop, const int32_t *len, int B, int L, int d, int nh,
                             int causal)
{
    const float *q = x->q, *k = x->k, *v = x->v;
    mha_check("mha_forward", B, L, d, nh);
    size_t rows = (size_t)B * nh * L;
    if (rows == 0 || d == 0)
        return;
    float scale = 1 / sqrtf((float)(d / nh));
    k_mha_f<<<sbr_cuda_grid_warps(rows), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        o, p, q, k, v, drop, len, B, L, d, nh, causal, scale);
    SBR_CUDA_LAUNCHED("mha_forward");
}

// The backward with sdot in a given buffer (the block passes its own).
static void mha_backward(sbr_nn_ctx *ctx, float *sdot, float *dq, float *dk, float *dv,
                         const float *dout, const float *p, const float *q, const float *k,
                         const float *v, const float *drop, const int32_t *len, int B, int L,
                         int d, int nh, int causal)
{
    size_t rows = (size_t)B * nh * L;
    if (rows == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    float scale = 1 / sqrtf((float)(d / nh));
    k_mha_bq<<<sbr_cuda_grid_warps(rows), SBR_CUDA_BLOCK, 0, st>>>(
        sdot, dq, dout, p, k, v, drop, len, B, L, d, nh, causal, scale);
    SBR_CUDA_LAUNCHED("mha_backward");
    if (dk || dv) {
        k_mha_bkv<<<sbr_cuda_grid_warps(rows), SBR_CUDA_BLOCK, 0, st>>>(
            dk, dv, sdot, dout, p, q, v, drop, len, B, L, d, nh, causal, scale);
        SBR_CUDA_LAUNCHED("mha_backward");
    }
}

void sbr_nn_mha_backward_cuda(sbr_nn_ctx *ctx, const sbr_nn_qkv_cuda *dx, const float *dout,
                              const float *p, const sbr_nn_qkv_cuda *x, const float *drop,
                              const int32_t *len, int B, int L, int d, int nh, int causal)
{
    float *dq = dx ? dx->q : NULL, *dk = dx ? dx->k : NULL, *dv = dx ? dx->v : NULL;
    const float *q = x->q, *k = x->k, *v = x->v;
    const char *op = "mha_backward";
    mha_check(op, B, L, d, nh);
    size_t need = sbr_nn_mha_backward_scratch_cuda(B, L, nh);
    SBR_NN_REQUIRE(ctx && ctx->scratch && ctx->scratch_bytes >= need, op,
                   "scratch of %zu bytes, needs %zu on the GPU", ctx ? ctx->scratch_bytes : 0,
                   need);
    mha_backward(ctx, (float *)ctx->scratch, dq, dk, dv, dout, p, q, k, v, drop, len, B, L, d, nh,
                 causal);
}

/* ---- the block ----------------------------------------------------------------- */

// The layouts are element counts, the same for every element type (the
// parameters' as mhsa.inc's: the struct's order, on a device base pointer).
extern "C" size_t sbr_nn_mhsa_w_flat_cuda(sbr_nn_mhsa_w_cuda *w, float *base, int d, int dff)
{
    size_t dd = (size_t)d * d, t = 0;
#define TAKE(f, n) (w->f = base ? base + t : NULL, t += (n))
    TAKE(wq, dd), TAKE(bq, d), TAKE(wk, dd), TAKE(bk, d), TAKE(wv, dd), TAKE(bv, d);
    TAKE(wo, dd), TAKE(bo, d), TAKE(ln1_g, d), TAKE(ln1_b, d);
    TAKE(w1, (size_t)dff * d), TAKE(b1, dff), TAKE(w2, (size_t)d * dff), TAKE(b2, d);
    TAKE(ln2_g, d), TAKE(ln2_b, d);
#undef TAKE
    return t;
}
extern "C" size_t sbr_nn_mhsa_act_count_cuda(int B, int L, int d, int nh, int dff)
{
    return sbr_nn_mhsa_act_count_f32(B, L, d, nh, dff);
}
extern "C" size_t sbr_nn_mhsa_rng_count_cuda(int B, int L, int d, int nh)
{
    return sbr_nn_mhsa_rng_count_f32(B, L, d, nh);
}

// g0..g3, datt, dq, dk, dv [BL, d], df, fh [BL, dff]: the CPU's scratch
static size_t mhsa_scratch_floats(int B, int L, int d, int dff)
{
    size_t BL = (size_t)B * L;
    return 8 * BL * d + 2 * BL * dff;
}

// The CPU's scratch (g0..g3, datt, dq, dk, dv [BL, d], df, fh [BL, dff]) plus
// sdot [B, nh, L] for the core's backward. heads are not an argument: the
// bound takes nh <= d.
extern "C" size_t sbr_nn_mhsa_scratch_cuda(int B, int L, int d, int dff)
{
    size_t BL = (size_t)B * L;
    return sbr_cuda_align256(mhsa_scratch_floats(B, L, d, dff) * sizeof(float)) +
           sbr_cuda_align256(BL * (size_t)(d > 1 ? d : 1) * sizeof(float));
}

typedef struct {
    float *n1, *q, *k, *v, *p, *att, *r1, *n2, *f1, *r2, *m1, *s1, *m2, *s2, *fa, *fo, *ff;
} mhsa_act;

// The CPU's activation layout (mhsa.inc), on a device base pointer.
static void mhsa_acts(mhsa_act *a, float *base, int B, int L, int d, int nh, int dff)
{
    size_t BL = (size_t)B * L, BLd = BL * d, t = 0, A = (size_t)B * nh * L * L;
#define TAKE(f, n) (a->f = base + t, t += (n))
    TAKE(n1, BLd), TAKE(q, BLd), TAKE(k, BLd), TAKE(v, BLd);
    TAKE(p, A), TAKE(att, BLd), TAKE(r1, BLd), TAKE(n2, BLd);
    TAKE(f1, BL * dff), TAKE(r2, BLd), TAKE(m1, BL), TAKE(s1, BL), TAKE(m2, BL), TAKE(s2, BL);
    TAKE(fa, A), TAKE(fo, BLd), TAKE(ff, BLd);
#undef TAKE
}

__global__ void k_mhsa_factors(float *f, size_t n, float p, float keep, uint64_t seed,
                               uint64_t offset)
{
    SBR_CUDA_FOR(i, n) {
        if (p == 0)
            f[i] = 1.0f;
        else
            f[i] = sbr_rng_u01_dev(sbr_rng_hash_dev(seed, offset + i)) >= (double)p ? keep : 0.0f;
    }
}

__global__ void k_mhsa_mask_rows(float *y, const int32_t *len, int B, int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * L * d) {
        size_t b = t / ((size_t)L * d);
        int j = (int)((t / d) % L);
        if (j >= sbr_cv_len(len, (int)b, L, SBR_CVOP_MHA))
            y[t] = 0;
    }
}

__global__ void k_mhsa_relu_mask(float *g, const float *y, size_t n)
{
    SBR_CUDA_FOR(i, n) {
        if (!(y[i] > 0))
            g[i] = 0;
    }
}

static void factors(sbr_nn_ctx *ctx, float *f, size_t n, float p, uint64_t seed, uint64_t off)
{
    if (n == 0)
        return;
    k_mhsa_factors<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        f, n, p, 1 / (1 - p), seed, off);
    SBR_CUDA_LAUNCHED("mhsa_forward");
}

static void mask_rows(sbr_nn_ctx *ctx, float *y, const int32_t *len, int B, int L, int d)
{
    if ((size_t)B * L * d == 0)
        return;
    k_mhsa_mask_rows<<<sbr_cuda_grid((size_t)B * L * d), SBR_CUDA_BLOCK, 0,
                       sbr_cuda_stream(ctx)>>>(y, len, B, L, d);
    SBR_CUDA_LAUNCHED("mhsa");
}

static void relu_mask(sbr_nn_ctx *ctx, float *g, const float *y, size_t n)
{
    if (n == 0)
        return;
    k_mhsa_relu_mask<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(g, y, n);
    SBR_CUDA_LAUNCHED("mhsa_backward");
}

static void d2d(sbr_nn_ctx *ctx, float *dst, const float *src, size_t n)
{
    if (n)
        SBR_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice,
                                       sbr_cuda_stream(ctx)));
}

static void zero(sbr_nn_ctx *ctx, float *dst, size_t n)
{
    if (n)
        SBR_CUDA_CHECK(cudaMemsetAsync(dst, 0, n * sizeof(float), sbr_cuda_stream(ctx)));
}

static void mhsa_check(const char *op, sbr_nn_ctx *ctx, int B, int L, int d, int nh, int dff,
                       int flags)
{
    mha_check(op, B, L, d, nh);
    SBR_NN_REQUIRE(dff >= 0, op, "negative dff");
    SBR_NN_REQUIRE(!((flags & SBR_NN_MHSA_PRENORM) && (flags & SBR_NN_MHSA_PROXYSR)), op,
                   "PRENORM and PROXYSR do not combine");
    SBR_NN_REQUIRE(!((flags & SBR_NN_MHSA_GELU) && (flags & SBR_NN_MHSA_PROXYSR)), op,
                   "GELU and PROXYSR do not combine (ProxySR has no FFN)");
    size_t need = sbr_nn_mhsa_scratch_cuda(B, L, d, dff);
    SBR_NN_REQUIRE(ctx && (need == 0 || (ctx->scratch && ctx->scratch_bytes >= need)), op,
                   "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0, need);
}

void sbr_nn_mhsa_forward_cuda(sbr_nn_ctx *ctx, float *y, float *act, const float *x,
                              const int32_t *len, const sbr_nn_mhsa_w_cuda *w, int B, int L,
                              const sbr_nn_mhsa_cfg *cfg)
{
    int d = cfg->d, nh = cfg->nh, dff = cfg->dff, flags = cfg->flags;
    float eps = (float)cfg->eps, p_attn = (float)cfg->p_attn, p_hidden = (float)cfg->p_hidden;
    uint64_t seed = cfg->seed, offset = cfg->offset;
    mhsa_check("mhsa_forward", ctx, B, L, d, nh, dff, flags);
    SBR_NN_REQUIRE(p_attn >= 0 && p_attn < 1 && p_hidden >= 0 && p_hidden < 1, "mhsa_forward",
                   "dropout rates %g, %g are outside [0, 1)", (double)p_attn, (double)p_hidden);
    mhsa_act a;
    mhsa_acts(&a, act, B, L, d, nh, dff);
    int BL = B * L, causal = (flags & SBR_NN_MHSA_CAUSAL) != 0;
    size_t BLd = (size_t)BL * d, nA = (size_t)B * nh * L * L;
    factors(ctx, a.fa, nA, p_attn, seed, offset);
    factors(ctx, a.fo, BLd, p_hidden, seed, offset + nA);
    factors(ctx, a.ff, BLd, p_hidden, seed, offset + nA + BLd);
    if (flags & SBR_NN_MHSA_PROXYSR) {
        sbr_nn_linear_forward_cuda(ctx, a.q, x, w->wq, w->bq, BL, d, d);
        sbr_nn_linear_forward_cuda(ctx, a.k, x, w->wk, w->bk, BL, d, d);
        sbr_nn_relu_forward_cuda(ctx, a.q, a.q, (int)BLd);
        sbr_nn_relu_forward_cuda(ctx, a.k, a.k, (int)BLd);
        sbr_nn_qkv_cuda qkv = {a.q, a.k, (float *)x}; // V = x itself (read only)
        sbr_nn_mha_forward_cuda(ctx, a.att, a.p, &qkv, a.fa, len, B, L, d, nh, causal);
        sbr_nn_mul_forward_cuda(ctx, y, a.att, a.fo, (int)BLd);
        sbr_nn_add_forward_cuda(ctx, y, y, x, (int)BLd);
        mask_rows(ctx, y, len, B, L, d);
        return;
    }
    int pre = (flags & SBR_NN_MHSA_PRENORM) != 0;
    const float *qin = x;
    if (pre) {
        sbr_nn_layernorm_forward_cuda(ctx, a.n1, a.m1, a.s1, x, w->ln1_g, w->ln1_b, BL, d, eps);
        qin = a.n1;
    }
    sbr_nn_linear_forward_cuda(ctx, a.q, qin, w->wq, w->bq, BL, d, d);
    sbr_nn_linear_forward_cuda(ctx, a.k, x, w->wk, w->bk, BL, d, d);
    sbr_nn_linear_forward_cuda(ctx, a.v, x, w->wv, w->bv, BL, d, d);
    sbr_nn_qkv_cuda qkv = {a.q, a.k, a.v};
    sbr_nn_mha_forward_cuda(ctx, a.att, a.p, &qkv, a.fa, len, B, L, d, nh, causal);
    sbr_nn_linear_forward_cuda(ctx, a.r1, a.att, w->wo, w->bo, BL, d, d);
    sbr_nn_mul_forward_cuda(ctx, a.r1, a.r1, a.fo, (int)BLd);
    sbr_nn_add_forward_cuda(ctx, a.r1, a.r1, qin, (int)BLd);
    if (pre)
        sbr_nn_layernorm_forward_cuda(ctx, a.n2, a.m2, a.s2, a.r1, w->ln2_g, w->ln2_b, BL, d, eps);
    else
        sbr_nn_layernorm_forward_cuda(ctx, a.n2, a.m1, a.s1, a.r1, w->ln1_g, w->ln1_b, BL, d, eps);
    sbr_nn_linear_forward_cuda(ctx, a.f1, a.n2, w->w1, w->b1, BL, d, dff);
    const float *h = a.f1; // the FFN's hidden activation
    if (flags & SBR_NN_MHSA_GELU) { // f1 keeps the pre-activation, GELU's output in scratch
        float *fh = (float *)ctx->scratch + 8 * BLd + (size_t)BL * dff;
        sbr_nn_gelu_forward_cuda(ctx, fh, a.f1, BL * dff);
        h = fh;
    } else {
        sbr_nn_relu_forward_cuda(ctx, a.f1, a.f1, BL * dff);
    }
    sbr_nn_linear_forward_cuda(ctx, a.r2, h, w->w2, w->b2, BL, dff, d);
    sbr_nn_mul_forward_cuda(ctx, a.r2, a.r2, a.ff, (int)BLd);
    sbr_nn_add_forward_cuda(ctx, a.r2, a.r2, a.n2, (int)BLd);
    if (pre)
        d2d(ctx, y, a.r2, BLd);
    else
        sbr_nn_layernorm_forward_cuda(ctx, y, a.m2, a.s2, a.r2, w->ln2_g, w->ln2_b, BL, d, eps);
    mask_rows(ctx, y, len, B, L, d);
}

void sbr_nn_mhsa_backward_cuda(sbr_nn_ctx *ctx, float *dx, const sbr_nn_mhsa_w_cuda *dw,
                               const float *dy, const float *act, const float *x,
                               const int32_t *len, const sbr_nn_mhsa_w_cuda *w, int B, int L,
                               const sbr_nn_mhsa_cfg *cfg)
{
    int d = cfg->d, nh = cfg->nh, dff = cfg->dff, flags = cfg->flags;
    mhsa_check("mhsa_backward", ctx, B, L, d, nh, dff, flags);
    mhsa_act a;
    mhsa_acts(&a, (float *)act, B, L, d, nh, dff);
    int BL = B * L, causal = (flags & SBR_NN_MHSA_CAUSAL) != 0;
    size_t BLd = (size_t)BL * d;
    if (BLd == 0)
        return;
    // no dw: no parameter gradients (every field NULL)
    sbr_nn_mhsa_w_cuda G = {};
    if (dw)
        G = *dw;
    float *g0 = (float *)ctx->scratch, *g1 = g0 + BLd, *g2 = g1 + BLd, *g3 = g2 + BLd;
    float *datt = g3 + BLd, *dq = datt + BLd, *dk = dq + BLd, *dv = dk + BLd, *df = dv + BLd;
    float *sdot = (float *)((char *)ctx->scratch +
                            sbr_cuda_align256(mhsa_scratch_floats(B, L, d, dff) * sizeof(float)));
    d2d(ctx, g0, dy, BLd);
    mask_rows(ctx, g0, len, B, L, d);
    zero(ctx, dq, 3 * BLd);
    zero(ctx, datt, BLd);
    if (flags & SBR_NN_MHSA_PROXYSR) {
        if (dx)
            sbr_nn_add_backward_cuda(ctx, NULL, dx, g0, (int)BLd);
        sbr_nn_mul_forward_cuda(ctx, g3, g0, a.fo, (int)BLd);
        mha_backward(ctx, sdot, dq, dk, dv, g3, a.p, a.q, a.k, x, a.fa, len, B, L, d, nh, causal);
        if (dx)
            sbr_nn_add_backward_cuda(ctx, dx, NULL, dv, (int)BLd);
        relu_mask(ctx, dq, a.q, BLd);
        relu_mask(ctx, dk, a.k, BLd);
        sbr_nn_linear_backward_cuda(ctx, dx, G.wq, G.bq, dq, x, w->wq, BL, d, d);
        sbr_nn_linear_backward_cuda(ctx, dx, G.wk, G.bk, dk, x, w->wk, BL, d, d);
        return;
    }
    int pre = (flags & SBR_NN_MHSA_PRENORM) != 0;
    if (pre) {
        d2d(ctx, g1, g0, BLd);
    } else {
        zero(ctx, g1, BLd);
        sbr_nn_layernorm_backward_cuda(ctx, g1, G.ln2_g, G.ln2_b, g0, a.r2,
                                       a.m2, a.s2, w->ln2_g, BL, d);
    }
    d2d(ctx, g2, g1, BLd);
    sbr_nn_mul_forward_cuda(ctx, g3, g1, a.ff, (int)BLd);
    size_t nf = (size_t)BL * dff;
    zero(ctx, df, nf);
    float *du = df; // dL/d(the FFN's pre-activation)
    if (flags & SBR_NN_MHSA_GELU) { // f1: the pre-activation u; du through fh
        float *fh = df + nf;
        sbr_nn_gelu_forward_cuda(ctx, fh, a.f1, (int)nf);
        sbr_nn_linear_backward_cuda(ctx, df, G.w2, G.b2, g3, fh, w->w2, BL, dff, d);
        zero(ctx, fh, nf);
        sbr_nn_gelu_backward_cuda(ctx, fh, df, a.f1, (int)nf);
        du = fh;
    } else {
        sbr_nn_linear_backward_cuda(ctx, df, G.w2, G.b2, g3, a.f1, w->w2, BL, dff, d);
        relu_mask(ctx, df, a.f1, nf);
    }
    sbr_nn_linear_backward_cuda(ctx, g2, G.w1, G.b1, du, a.n2, w->w1, BL, d, dff);
    zero(ctx, g1, BLd);
    if (pre)
        sbr_nn_layernorm_backward_cuda(ctx, g1, G.ln2_g, G.ln2_b, g2, a.r1,
                                       a.m2, a.s2, w->ln2_g, BL, d);
    else
        sbr_nn_layernorm_backward_cuda(ctx, g1, G.ln1_g, G.ln1_b, g2, a.r1,
                                       a.m1, a.s1, w->ln1_g, BL, d);
    d2d(ctx, g2, g1, BLd);
    sbr_nn_mul_forward_cuda(ctx, g1, g1, a.fo, (int)BLd);
    sbr_nn_linear_backward_cuda(ctx, datt, G.wo, G.bo, g1, a.att, w->wo, BL, d, d);
    mha_backward(ctx, sdot, dq, dk, dv, datt, a.p, a.q, a.k, a.v, a.fa, len, B, L, d, nh, causal);
    const float *qin = pre ? a.n1 : x;
    sbr_nn_linear_backward_cuda(ctx, g2, G.wq, G.bq, dq, qin, w->wq, BL, d, d);
    sbr_nn_linear_backward_cuda(ctx, dx, G.wk, G.bk, dk, x, w->wk, BL, d, d);
    sbr_nn_linear_backward_cuda(ctx, dx, G.wv, G.bv, dv, x, w->wv, BL, d, d);
    if (pre) {
        if (dx || G.ln1_g || G.ln1_b)
            sbr_nn_layernorm_backward_cuda(ctx, dx, G.ln1_g, G.ln1_b, g2,
                                           x, a.m1, a.s1, w->ln1_g, BL, d);
    } else if (dx) {
        sbr_nn_add_backward_cuda(ctx, dx, NULL, g2, (int)BLd);
    }
}
