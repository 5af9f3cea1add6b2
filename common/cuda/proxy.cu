// ProxySR's ops on the GPU (see api.inc, proxy.inc): the row ops one warp
// per row; the ranking per chunk of items as two cuBLAS sgemms (Q E_c^T,
// V E_c^T) into scratch, a kernel turning them into -distance (NaN where a
// row's limit or target masks an entry), then topk's exclusions and merge
// (topk_merge.cuh). The loss's backward: the rows' gradients one block per
// row, entries in the CPU's order; the items' through a dense coefficient
// matrix C [B, N + 1] (zero but at the kept entries) and two sgemms, so the
// sums over rows have a fixed order (no atomics).
#include "cuda/gemm.cuh"
#include "cuda/topk_merge.cuh"

#define PROXY_MIN_CHUNK 8192

// ---- row ops ------------------------------------------------------------------------

__device__ __forceinline__ float warp_dot(const float *a, const float *b, int d)
{
    float s = 0;
    for (int k = threadIdx.x & 31; k < d; k += 32)
        s += a[k] * b[k];
    return sbr_warp_sum(s);
}

__global__ void k_row_scale_f(float *y, const float *x, const float *s, int n, int d)
{
    SBR_CUDA_FOR(i, (size_t)n * d)
        y[i] = s[i / d] * x[i];
}

__global__ void k_row_scale_b(float *dx, float *ds, const float *dy, const float *x,
                              const float *s, int n, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, n) {
        const float *g = dy + r * d, *xr = x + r * d;
        if (dx)
            for (int k = lane; k < d; k += 32)
                dx[r * d + k] += s[r] * g[k];
        if (ds) {
            float t = warp_dot(xr, g, d);
            if (lane == 0)
                ds[r] += t;
        }
    }
}

__global__ void k_row_dot_f(float *y, const float *a, const float *b, int n, int d, int absval)
{
    SBR_CUDA_FOR_WARP_ROWS(r, n) {
        float t = warp_dot(a + r * d, b + r * d, d);
        if ((threadIdx.x & 31) == 0)
            y[r] = absval && t < 0 ? -t : t;
    }
}

__global__ void k_row_dot_b(float *da, float *db, const float *dy, const float *a, const float *b,
                            int n, int d, int absval)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, n) {
        float g = dy[r];
        if (absval) {
            float t = warp_dot(a + r * d, b + r * d, d);
            g = t > 0 ? g : t < 0 ? -g : 0.0f;
        }
        for (int k = lane; k < d; k += 32) {
            if (da)
                da[r * d + k] += g * b[r * d + k];
            if (db)
                db[r * d + k] += g * a[r * d + k];
        }
    }
}

__global__ void k_hyperplane_f(float *y, const float *x, const float *v, int B, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        const float *xb = x + b * d, *vb = v + b * d;
        float s = warp_dot(vb, xb, d);
        for (int k = lane; k < d; k += 32)
            y[b * d + k] = xb[k] - s * vb[k];
    }
}

__global__ void k_hyperplane_b(float *dx, float *dv, const float *dy, const float *x,
                               const float *v, int B, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        const float *xb = x + b * d, *vb = v + b * d, *gb = dy + b * d;
        float s = warp_dot(vb, xb, d), t = warp_dot(vb, gb, d);
        for (int k = lane; k < d; k += 32) {
            if (dx)
                dx[b * d + k] += gb[k] - t * vb[k];
            if (dv)
                dv[b * d + k] -= s * gb[k] + t * xb[k];
        }
    }
}

__global__ void k_max_norm_rows(float *x, int n, int d, double max_norm, int exact)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(r, n) {
        float *xr = x + r * d;
        double s = 0;
        for (int k = lane; k < d; k += 32)
            s += (double)xr[k] * (double)xr[k];
        for (int m = 16; m > 0; m >>= 1)
            s += __shfl_xor_sync(0xffffffffu, s, m);
        double nrm = sqrt(s);
        if (nrm > 0 && (exact || nrm > max_norm)) {
            float f = (float)(max_norm / nrm);
            for (int k = lane; k < d; k += 32)
                xr[k] *= f;
        }
    }
}

#define WARP_ROWS_LAUNCH(kernel, op, rows, ...)                                           \
    do {                                                                                 \
        if ((rows) > 0) {                                                                \
            kernel<<<sbr_cuda_grid_warps(rows), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>( \
                __VA_ARGS__);                                                            \
            SBR_CUDA_LAUNCHED(op);                                                       \
        }                                                                                \
    } while (0)

void sbr_nn_row_scale_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *s,
                                   int n, int d)
{
    if ((size_t)n * d == 0)
        return;
    k_row_scale_f<<<sbr_cuda_grid((size_t)n * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, x, s, n, d);
    SBR_CUDA_LAUNCHED("row_scale_forward");
}

void sbr_nn_row_scale_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *ds, const float *dy,
                                    const float *x, const float *s, int n, int d)
{
    WARP_ROWS_LAUNCH(k_row_scale_b, "row_scale_backward", n, dx, ds, dy, x, s, n, d);
}

void sbr_nn_row_dot_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *a, const float *b, int n,
                                 int d, int absval)
{
    WARP_ROWS_LAUNCH(k_row_dot_f, "row_dot_forward", n, y, a, b, n, d, absval);
}

void sbr_nn_row_dot_backward_cuda(sbr_nn_ctx *ctx, float *da, float *db, const float *dy,
                                  const float *a, const float *b, int n, int d, int absval)
{
    WARP_ROWS_LAUNCH(k_row_dot_b, "row_dot_backward", n, da, db, dy, a, b, n, d, absval);
}

void sbr_nn_hyperplane_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const float *v,
                                    int B, int d)
{
    WARP_ROWS_LAUNCH(k_hyperplane_f, "hyperplane_forward", B, y, x, v, B, d);
}

void sbr_nn_hyperplane_backward_cuda(sbr_nn_ctx *ctx, float *dx, float *dv, const float *dy,
                                     const float *x, const float *v, int B, int d)
{
    WARP_ROWS_LAUNCH(k_hyperplane_b, "hyperplane_backward", B, dx, dv, dy, x, v, B, d);
}

void sbr_nn_max_norm_rows_cuda(sbr_nn_ctx *ctx, float *x, int n, int d, double max_norm,
                               int exact)
{
    WARP_ROWS_LAUNCH(k_max_norm_rows, "max_norm_rows", n, x, n, d, max_norm, exact);
}

// ---- distances ------------------------------------------------------------------------

// The expanded distance of proxy.inc: |q|^2 - 2 q.e + |e|^2 + 2 (e.v)(q.v) - (e.v)^2.
__global__ void k_proxy_dist(float *dist, const float *Q, const float *V, const float *E,
                             const int32_t *items, int B, int d)
{
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        const float *q = Q + b * d, *v = V + b * d, *e = E + (size_t)items[b] * d;
        float qq = warp_dot(q, q, d), qe = warp_dot(q, e, d), ee = warp_dot(e, e, d);
        float ev = warp_dot(e, v, d), qv = warp_dot(q, v, d);
        if ((threadIdx.x & 31) == 0)
            dist[b] = qq - 2 * qe + ee + 2 * ev * qv - ev * ev;
    }
}

// rq [B] = |q|^2, rv [B] = q.v
__global__ void k_proxy_rows(float *rq, float *rv, const float *Q, const float *V, int B, int d)
{
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        float qq = warp_dot(Q + b * d, Q + b * d, d), qv = warp_dot(Q + b * d, V + b * d, d);
        if ((threadIdx.x & 31) == 0)
            rq[b] = qq, rv[b] = qv;
    }
}

// ee [cn] = |e_i|^2 of the chunk's items
__global__ void k_proxy_norms(float *ee, const float *Ec, int cn, int d)
{
    SBR_CUDA_FOR_WARP_ROWS(j, cn) {
        float s = warp_dot(Ec + j * d, Ec + j * d, d);
        if ((threadIdx.x & 31) == 0)
            ee[j] = s;
    }
}

// lg [B, cn] = -dist from lg = Q E_c^T and g2 = V E_c^T; with dpos, entries
// not below margin + dpos[b] and the target become NaN.
__global__ void k_proxy_chunk(float *lg, const float *g2, const float *rq, const float *rv,
                              const float *ee, const float *dpos, float margin,
                              const int32_t *target, int B, int cn, int c0)
{
    SBR_CUDA_FOR(t, (size_t)B * cn) {
        int b = (int)(t / cn), j = (int)(t % cn);
        float g = g2[t];
        float dist = rq[b] - 2 * lg[t] + ee[j] + 2 * g * rv[b] - g * g;
        float out = -dist;
        if (dpos && (!(dist < margin + dpos[b]) || c0 + j == target[b]))
            out = NAN;
        lg[t] = out;
    }
}

typedef struct {
    const float *dpos;
    float margin;
    const int32_t *target;
} proxy_mask;

static int proxy_chunk(int N, int chunk)
{
    int ce = chunk > PROXY_MIN_CHUNK ? chunk : PROXY_MIN_CHUNK;
    return ce < N ? ce : N;
}

// scratch: rq, rv [B] fixed; per item lg, g2 [B] and ee: (2B + 1) floats
extern "C" size_t sbr_nn_proxy_topk_scratch_cuda(sbr_nn_scoring sc, int K)
{
    (void)K;
    if (sc.B <= 0 || sc.N <= 0)
        return 0;
    return sbr_cuda_chunk_scratch(2 * (size_t)sc.B * sizeof(float),
                                  (2 * (size_t)sc.B + 1) * sizeof(float),
                                  proxy_chunk(sc.N, sc.chunk < 1 ? 1 : sc.chunk), 4);
}

static void proxy_rank(sbr_nn_ctx *ctx, const char *op, int32_t *idx, float *score,
                       const sbr_nn_proxy_in_cuda *in, int K, const int32_t *excl_off,
                       const int32_t *excl, const proxy_mask *mk, sbr_nn_scoring sc)
{
    int B = sc.B, N = sc.N, d = sc.d, chunk = sc.chunk;
    SBR_NN_REQUIRE(sc.U == 1 && B >= 0 && N >= 1 && d >= 1 && K >= 1 && chunk >= 1, op,
                   "bad sizes B=%d N=%d d=%d K=%d chunk=%d", B, N, d, K, chunk);
    SBR_NN_REQUIRE(K <= SBR_CUDA_TOPK_MAX_K, op, "K = %d: the GPU takes at most %d", K,
                   SBR_CUDA_TOPK_MAX_K);
    SBR_NN_REQUIRE((excl_off == NULL) == (excl == NULL), op,
                   "excl_off and excl go together on the GPU");
    if (B == 0)
        return;
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    size_t fixed = 2 * (size_t)B * sizeof(float), per = (2 * (size_t)B + 1) * sizeof(float);
    int least = chunk < N ? chunk : N;
    int ce = sbr_cuda_fit_chunk(ctx, fixed, per, proxy_chunk(N, chunk), least, 4);
    SBR_NN_REQUIRE(ce > 0, op, "scratch of %zu bytes, needs at least %zu", ctx->scratch_bytes,
                   sbr_cuda_chunk_scratch(fixed, per, least, 4));
    cudaStream_t s = sbr_cuda_stream(ctx);
    char *p = (char *)ctx->scratch;
    float *rq = (float *)p, *rv = rq + B;
    p += sbr_cuda_align256(fixed);
    float *lg = (float *)p; // [B, ce]
    p += sbr_cuda_align256((size_t)B * ce * sizeof(float));
    float *g2 = (float *)p; // [B, ce]
    p += sbr_cuda_align256((size_t)B * ce * sizeof(float));
    float *ee = (float *)p; // [ce]
    k_proxy_rows<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, s>>>(rq, rv, in->Q, in->V, B, d);
    SBR_CUDA_LAUNCHED(op);
    topk_lists t = {s, op, idx, score, B, K};
    topk_begin(&t);
    for (int c0 = 1; c0 <= N; c0 += ce) {
        int cn = N + 1 - c0 < ce ? N + 1 - c0 : ce;
        const float *Ec = in->E + (size_t)c0 * d;
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, B, d, Ec, d, in->Q,
                                        d, 0, lg, cn, NULL));
        SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_T, CUBLAS_OP_N, cn, B, d, Ec, d, in->V,
                                        d, 0, g2, cn, NULL));
        k_proxy_norms<<<sbr_cuda_grid_warps(cn), SBR_CUDA_BLOCK, 0, s>>>(ee, Ec, cn, d);
        SBR_CUDA_LAUNCHED(op);
        k_proxy_chunk<<<sbr_cuda_grid((size_t)B * cn), SBR_CUDA_BLOCK, 0, s>>>(
            lg, g2, rq, rv, ee, mk ? mk->dpos : NULL, mk ? mk->margin : 0,
            mk ? mk->target : NULL, B, cn, c0);
        SBR_CUDA_LAUNCHED(op);
        topk_merge_chunk(&t, lg, excl_off, excl, cn, c0);
    }
}

void sbr_nn_proxy_dist_cuda(sbr_nn_ctx *ctx, float *dist, const sbr_nn_proxy_in_cuda *in,
                            const int32_t *items, int B, int d)
{
    WARP_ROWS_LAUNCH(k_proxy_dist, "proxy_dist", B, dist, in->Q, in->V, in->E, items, B, d);
}

void sbr_nn_proxy_topk_cuda(sbr_nn_ctx *ctx, int32_t *idx, float *score,
                            const sbr_nn_proxy_in_cuda *in, int K, const int32_t *excl_off,
                            const int32_t *excl, sbr_nn_scoring sc)
{
    proxy_rank(ctx, "proxy_topk", idx, score, in, K, excl_off, excl, NULL, sc);
}

// ---- the margin loss ------------------------------------------------------------------

// Backward scratch: C and C2 [B, N + 1], cs [N + 1], X1 [B, d].
static size_t proxy_back_scratch(sbr_nn_scoring sc)
{
    size_t V = (size_t)sc.N + 1, B = (size_t)sc.B;
    return 3 * 256 + (2 * B * V + V + B * sc.d) * sizeof(float) + 256;
}

extern "C" size_t sbr_nn_proxy_loss_scratch_cuda(sbr_nn_scoring sc, int k)
{
    size_t a = sbr_nn_proxy_topk_scratch_cuda(sc, k), b = proxy_back_scratch(sc);
    return a > b ? a : b;
}

__global__ void k_proxy_loss(float *loss, const int32_t *idx, const float *score,
                             const float *dpos, int B, int k, float margin, float scale,
                             float lam)
{
    SBR_CUDA_FOR(b, B) {
        float s = 0, base = margin + dpos[b];
        for (int j = 0; j < k && idx[b * k + j]; j++)
            s += base + score[b * k + j];
        loss[b] = scale * s + lam * dpos[b];
    }
}

void sbr_nn_proxy_loss_forward_cuda(sbr_nn_ctx *ctx, float *loss, const sbr_nn_proxy_kept_cuda *kp,
                                    const sbr_nn_proxy_in_cuda *in, const int32_t *target,
                                    const sbr_nn_proxy_loss_cfg *cf, sbr_nn_scoring sc)
{
    const char *op = "proxy_loss_forward";
    if (sc.B == 0)
        return;
    sbr_nn_proxy_dist_cuda(ctx, kp->dpos, in, target, sc.B, sc.d);
    proxy_mask mk = {kp->dpos, (float)cf->margin, target};
    proxy_rank(ctx, op, kp->idx, kp->score, in, cf->k, NULL, NULL, &mk, sc);
    k_proxy_loss<<<sbr_cuda_grid(sc.B), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        loss, kp->idx, kp->score, kp->dpos, sc.B, cf->k, (float)cf->margin, (float)cf->scale,
        (float)cf->lam_dist);
    SBR_CUDA_LAUNCHED(op);
}

// The entries of row b: entry 0 the target, then the kept items; their count.
__device__ __forceinline__ int proxy_entries(const int32_t *idx, int b, int k)
{
    int n = 0;
    while (n < k && idx[b * k + n])
        n++;
    return n;
}

// One block per row: dQ, dV of its entries in order; C, C2 at its entries.
__global__ void k_proxy_rows_b(float *dQ, float *dV, float *C, float *C2, const float *dloss,
                               const int32_t *idx, const float *Q, const float *V, const float *E,
                               const int32_t *target, int B, int d, int k, int Nv, float scale,
                               float lam)
{
    __shared__ float sh[32];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *q = Q + (size_t)b * d, *v = V + (size_t)b * d;
        int n = proxy_entries(idx, b, k);
        float ct = dloss[b] * (scale * n + lam), ck = -dloss[b] * scale;
        float qv = 0;
        for (int c = threadIdx.x; c < d; c += blockDim.x)
            qv += q[c] * v[c];
        qv = sbr_block_sum(qv, sh);
        for (int j = -1; j < n; j++) {
            int item = j < 0 ? target[b] : idx[b * k + j];
            float co = j < 0 ? ct : ck;
            const float *e = E + (size_t)item * d;
            float iv = 0;
            for (int c = threadIdx.x; c < d; c += blockDim.x)
                iv += e[c] * v[c];
            iv = sbr_block_sum(iv, sh);
            for (int c = threadIdx.x; c < d; c += blockDim.x) {
                if (dQ)
                    dQ[(size_t)b * d + c] += co * (2 * (q[c] - e[c]) + 2 * iv * v[c]);
                if (dV)
                    dV[(size_t)b * d + c] += co * (2 * iv * q[c] + 2 * (qv - iv) * e[c]);
            }
            if (C && threadIdx.x == 0) { // the target is never a kept item
                C[(size_t)b * Nv + item] = co;
                C2[(size_t)b * Nv + item] = co * iv;
            }
            __syncthreads();
        }
    }
}

// X1 [B, d] = -2 q + 2 (q.v) v
__global__ void k_proxy_x1(float *X1, const float *Q, const float *V, int B, int d)
{
    int lane = threadIdx.x & 31;
    SBR_CUDA_FOR_WARP_ROWS(b, B) {
        float qv = warp_dot(Q + b * d, V + b * d, d);
        for (int c = lane; c < d; c += 32)
            X1[b * d + c] = -2 * Q[b * d + c] + 2 * qv * V[b * d + c];
    }
}

__global__ void k_proxy_neg2(float *y, const float *x, size_t n)
{
    SBR_CUDA_FOR(i, n)
        y[i] = -2 * x[i];
}

// dE [i] += 2 cs[i] E[i]
__global__ void k_proxy_self(float *dE, const float *cs, const float *E, int Nv, int d)
{
    SBR_CUDA_FOR(t, (size_t)Nv * d)
        dE[t] += 2 * cs[t / d] * E[t];
}

void sbr_nn_proxy_loss_backward_cuda(sbr_nn_ctx *ctx, const sbr_nn_proxy_grad_cuda *g,
                                     const float *dloss, const sbr_nn_proxy_kept_cuda *kp,
                                     const sbr_nn_proxy_in_cuda *in, const int32_t *target,
                                     const sbr_nn_proxy_loss_cfg *cf, sbr_nn_scoring sc)
{
    const char *op = "proxy_loss_backward";
    int B = sc.B, d = sc.d, Nv = sc.N + 1;
    if (B == 0)
        return;
    cudaStream_t s = sbr_cuda_stream(ctx);
    float *C = NULL, *C2 = NULL, *cs = NULL, *X1 = NULL;
    if (g->dE) {
        SBR_NN_REQUIRE(ctx && ctx->cublas && ctx->scratch_bytes >= proxy_back_scratch(sc), op,
                       "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0,
                       proxy_back_scratch(sc));
        char *p = (char *)ctx->scratch;
        C = (float *)p, p += sbr_cuda_align256(sizeof(float) * (size_t)B * Nv);
        C2 = (float *)p, p += sbr_cuda_align256(sizeof(float) * (size_t)B * Nv);
        cs = (float *)p, p += sbr_cuda_align256(sizeof(float) * (size_t)Nv);
        X1 = (float *)p;
        SBR_CUDA_CHECK(cudaMemsetAsync(C, 0, sizeof(float) * (size_t)B * Nv, s));
        SBR_CUDA_CHECK(cudaMemsetAsync(C2, 0, sizeof(float) * (size_t)B * Nv, s));
        SBR_CUDA_CHECK(cudaMemsetAsync(cs, 0, sizeof(float) * (size_t)Nv, s));
    }
    k_proxy_rows_b<<<sbr_cuda_grid_rows(B), SBR_CUDA_BLOCK, 0, s>>>(
        g->dQ, g->dV, C, C2, dloss, kp->idx, in->Q, in->V, in->E, target, B, d, cf->k, Nv,
        (float)cf->scale, (float)cf->lam_dist);
    SBR_CUDA_LAUNCHED(op);
    if (!g->dE)
        return;
    k_proxy_x1<<<sbr_cuda_grid_warps(B), SBR_CUDA_BLOCK, 0, s>>>(X1, in->Q, in->V, B, d);
    SBR_CUDA_LAUNCHED(op);
    // dE^T [d, Nv] += X1^T [d, B] C [B, Nv], then -= 2 V^T C2
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, d, Nv, B, X1, d, C, Nv, 1,
                                    g->dE, d, NULL));
    sbr_cuda_colsum_acc(ctx, cs, C, B, Nv);
    k_proxy_self<<<sbr_cuda_grid((size_t)Nv * d), SBR_CUDA_BLOCK, 0, s>>>(g->dE, cs, in->E, Nv, d);
    SBR_CUDA_LAUNCHED(op);
    // the -2 (e.v) v term: dE^T += (-2 V)^T C2, X1 free again
    k_proxy_neg2<<<sbr_cuda_grid((size_t)B * d), SBR_CUDA_BLOCK, 0, s>>>(X1, in->V, (size_t)B * d);
    SBR_CUDA_LAUNCHED(op);
    SBR_CUBLAS_CHECK(sbr_cuda_sgemm(ctx, op, CUBLAS_OP_N, CUBLAS_OP_T, d, Nv, B, X1, d, C2, Nv, 1,
                                    g->dE, d, NULL));
}
