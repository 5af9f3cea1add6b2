// Gated graph propagation of SR-GNN on the GPU (see api.inc and
// common/nn/ggnn.inc): the same sequence of linear / sparse / GRU-cell
// steps as the CPU op. A x runs one thread per (row, column), entries in CSR
// order. A^T dy runs without atomics: given the transposes' values over the
// other matrix's pattern (api.inc), it is A x again; without them a stable
// radix sort of the entries by column (once per backward call, both
// matrices) groups them, and one thread per (column group, feature) adds its
// entries in CSR order. Either way the CPU's order.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(ggnn)

// y [T, d] (row strides ldy, ldx) = A (x + xb) (+ b): a thread per (i, k);
// xb [d], the bias of x's rows (a linear layer's, added here rather than by
// a fill before its GEMM), or NULL.
__global__ void k_ggnn_spmm(float *y, size_t ldy, const int32_t *ptr, const int32_t *col,
                            const float *val, const float *x, size_t ldx, const float *xb,
                            const float *b, int T, int d)
{
    SBR_CUDA_FOR(t, (size_t)T * d) {
        size_t i = t / d, k = t % d;
        float acc = 0;
        int e0 = ptr[i], e1 = ptr[i + 1];
        if (e1 < e0 || (i == 0 && e0 != 0))
            sbr_cv_record(SBR_CV_OFF, SBR_CVOP_GGNN, (long long)i, e0, e1);
        for (int e = e0; e < e1; e++) {
            int c = col[e];
            if (c < 0 || c >= T) {
                sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_GGNN, e, c, T);
                continue;
            }
            float xv = x[(size_t)c * ldx + k];
            if (xb)
                xv += xb[k];
            acc += val[e] * xv;
        }
        if (b)
            acc += b[k];
        y[i * ldy + k] = acc;
    }
}

// Sort input: keys = col[e] (T for a bad column: sorted last, skipped),
// pos = e; row[e] = the row of entry e.
__global__ void k_ggnn_keys(int32_t *keys, int32_t *pos, const int32_t *col, int nnz, int T)
{
    SBR_CUDA_FOR(e, nnz) {
        int c = col[e];
        keys[e] = c < 0 || c >= T ? T : c;
        pos[e] = (int32_t)e;
    }
}

__global__ void k_ggnn_rows(int32_t *row, const int32_t *ptr, int T, int nnz)
{
    SBR_CUDA_FOR(i, T) {
        int e1 = ptr[i + 1] < nnz ? ptr[i + 1] : nnz;
        for (int e = ptr[i] < 0 ? 0 : ptr[i]; e < e1; e++)
            row[e] = (int32_t)i;
    }
}

// dx [T, d] += A^T dy (dy row stride ldy): a thread per (sorted entry, k);
// the first entry of each column group walks the group.
__global__ void k_ggnn_spmm_t(float *dx, const int32_t *keys, const int32_t *pos,
                              const int32_t *row, const float *val, const float *dy, size_t ldy,
                              int nnz, int T, int d)
{
    SBR_CUDA_FOR(t, (size_t)nnz * d) {
        size_t j = t / d, k = t % d;
        int c = keys[j];
        if (c >= T || (j > 0 && keys[j - 1] == c))
            continue;
        float acc = dx[(size_t)c * d + k];
        for (size_t q = j; q < (size_t)nnz && keys[q] == c; q++) {
            int e = pos[q];
            acc += val[e] * dy[(size_t)row[e] * ldy + k];
        }
        dx[(size_t)c * d + k] = acc;
    }
}

static int col_bits(int T)
{
    int bits = 1;
    while (bits < 31 && (1LL << bits) <= (long long)T)
        bits++;
    return bits;
}

static size_t sort_temp(int nnz, int T)
{
    size_t temp = 0;
    SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, temp, (const int32_t *)NULL,
                                                   (int32_t *)NULL, (const int32_t *)NULL,
                                                   (int32_t *)NULL, nnz > 0 ? nnz : 1, 0,
                                                   col_bits(T)));
    return temp;
}

// Bytes of the backward's sort for nnz_in + nnz_out entries.
static size_t sort_bytes(int nnz_in, int nnz_out, int T)
{
    size_t per_in = sbr_cuda_align256((size_t)(nnz_in > 0 ? nnz_in : 1) * sizeof(int32_t));
    size_t per_out = sbr_cuda_align256((size_t)(nnz_out > 0 ? nnz_out : 1) * sizeof(int32_t));
    int mx = nnz_in > nnz_out ? nnz_in : nnz_out;
    return 5 * per_in + 5 * per_out + sbr_cuda_align256(sort_temp(mx, T));
}

static size_t dense_bytes(int T, int d)
{
    return sbr_cuda_align256((size_t)12 * T * d * sizeof(float));
}

// The scratch bound: the dense buffers of the CPU op plus the sort, for up
// to T^2 entries per matrix when T <= 256, else 16 T (session graphs have
// about as many edges as clicks); a call with more entries says so.
extern "C" size_t sbr_nn_ggnn_scratch_cuda(int T, int d)
{
    if (T <= 0)
        return 0;
    long long cap = T <= 256 ? (long long)T * T : 16LL * T;
    int nnz = cap < (1LL << 30) ? (int)cap : (1 << 30);
    return dense_bytes(T, d) + sort_bytes(nnz, nnz, T);
}


static void spmm(sbr_nn_ctx *ctx, const char *op, float *y, size_t ldy, const int32_t *ptr,
                 const int32_t *col, const float *val, const float *x, size_t ldx,
                 const float *xb, const float *b, int T, int d)
{
    size_t Td = (size_t)T * d;
    k_ggnn_spmm<<<sbr_cuda_grid(Td), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, ldy, ptr, col, val, x, ldx, xb, b, T, d);
    SBR_CUDA_LAUNCHED(op);
}

static void ggnn_check(sbr_nn_ctx *ctx, const char *op, int T, int d, int steps, size_t need)
{
    SBR_NN_REQUIRE(T >= 0 && d >= 0 && steps >= 1, op, "bad sizes T=%d d=%d steps=%d", T, d,
                   steps);
    SBR_NN_REQUIRE(ctx && (need == 0 || (ctx->scratch && ctx->scratch_bytes >= need)), op,
                   "scratch of %zu bytes, needs %zu", ctx ? ctx->scratch_bytes : 0, need);
}

void sbr_nn_ggnn_forward_cuda(sbr_nn_ctx *ctx, float *hout, const sbr_nn_ggnn_saved_cuda *sv,
                              const float *h0, const sbr_nn_ggnn_graph_cuda *g,
                              const sbr_nn_ggnn_w_cuda *w, int d, int steps)
{
    float *hsteps = sv->hsteps, *a = sv->a, *gates = sv->gates, *ghn = sv->ghn;
    const int32_t *in_ptr = g->in_ptr, *in_col = g->in_col, *out_ptr = g->out_ptr,
                  *out_col = g->out_col;
    const float *in_val = g->in_val, *out_val = g->out_val;
    const float *w_in = w->w_in, *b_in = w->b_in, *w_out = w->w_out, *b_out = w->b_out,
                *b_iah = w->b_iah, *b_oah = w->b_oah, *w_ih = w->w_ih, *b_ih = w->b_ih,
                *w_hh = w->w_hh, *b_hh = w->b_hh;
    int T = g->T;
    const char *op = "ggnn_forward";
    ggnn_check(ctx, op, T, d, steps, T > 0 ? dense_bytes(T, d) : 0);
    if (T == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    size_t Td = (size_t)T * d;
    float *ein = (float *)ctx->scratch, *eout = ein + Td, *gi = eout + Td, *gh = gi + 3 * Td;
    for (int s = 0; s < steps; s++) {
        float *hs = hsteps + s * Td;
        if (s == 0 && hs != h0)
            SBR_CUDA_CHECK(cudaMemcpyAsync(hs, h0, Td * sizeof(float), cudaMemcpyDeviceToDevice,
                                           st));
        float *as = a + s * 2 * Td;
        // the biases of ein, eout and gi are added where they are read (the
        // sparse products, the GRU cell): three fill launches fewer a step
        sbr_nn_linear_forward_cuda(ctx, ein, hs, w_in, NULL, T, d, d);
        sbr_nn_linear_forward_cuda(ctx, eout, hs, w_out, NULL, T, d, d);
        spmm(ctx, op, as, (size_t)2 * d, in_ptr, in_col, in_val, ein, (size_t)d, b_in, b_iah, T,
             d);
        spmm(ctx, op, as + d, (size_t)2 * d, out_ptr, out_col, out_val, eout, (size_t)d, b_out,
             b_oah, T, d);
        sbr_nn_linear_forward_cuda(ctx, gi, as, w_ih, NULL, T, 2 * d, 3 * d);
        float *next = s + 1 < steps ? hsteps + (s + 1) * Td : hout;
        sbr_cuda_gru_cell_fw(ctx, next, (size_t)d, gates + s * 3 * Td, ghn + s * Td, (size_t)d,
                             gi, (size_t)3 * d, b_ih, hs, (size_t)d, w_hh, b_hh, T, d, gh, NULL, 0,
                             0);
    }
}

// One matrix's sorted entries, in scratch.
typedef struct {
    int32_t *keys, *pos, *keys_s, *pos_s, *row;
    int nnz;
} ggnn_sorted;

static char *sort_prep(sbr_nn_ctx *ctx, ggnn_sorted *m, char *p, const int32_t *ptr,
                       const int32_t *col, int nnz, int T, void *temp, size_t temp_bytes)
{
    cudaStream_t st = sbr_cuda_stream(ctx);
    size_t an = sbr_cuda_align256((size_t)(nnz > 0 ? nnz : 1) * sizeof(int32_t));
    m->keys = (int32_t *)p;
    m->pos = (int32_t *)(p + an);
    m->keys_s = (int32_t *)(p + 2 * an);
    m->pos_s = (int32_t *)(p + 3 * an);
    m->row = (int32_t *)(p + 4 * an);
    m->nnz = nnz;
    if (nnz > 0) {
        // rows stay 0 where bad offsets leave entries uncovered (a violation
        // is recorded): never an index out of range
        SBR_CUDA_CHECK(cudaMemsetAsync(m->row, 0, (size_t)nnz * sizeof(int32_t), st));
        k_ggnn_keys<<<sbr_cuda_grid(nnz), SBR_CUDA_BLOCK, 0, st>>>(m->keys, m->pos, col, nnz, T);
        SBR_CUDA_LAUNCHED("ggnn_backward");
        k_ggnn_rows<<<sbr_cuda_grid(T), SBR_CUDA_BLOCK, 0, st>>>(m->row, ptr, T, nnz);
        SBR_CUDA_LAUNCHED("ggnn_backward");
        SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, m->keys, m->keys_s,
                                                       m->pos, m->pos_s, nnz, 0, col_bits(T),
                                                       st));
    }
    return p + 5 * an;
}

static void spmm_t(sbr_nn_ctx *ctx, float *dx, const ggnn_sorted *m, const float *val,
                   const float *dy, size_t ldy, int T, int d)
{
    if (m->nnz == 0)
        return;
    k_ggnn_spmm_t<<<sbr_cuda_grid((size_t)m->nnz * d), SBR_CUDA_BLOCK, 0,
                    sbr_cuda_stream(ctx)>>>(dx, m->keys_s, m->pos_s, m->row, val, dy, ldy,
                                            m->nnz, T, d);
    SBR_CUDA_LAUNCHED("ggnn_backward");
}

// Groups both matrices' entries by column in scratch, after the dense
// buffers (the backward without transposes).
static void sort_both(sbr_nn_ctx *ctx, ggnn_sorted *min_, ggnn_sorted *mout,
                      const int32_t *in_ptr, const int32_t *in_col, const int32_t *out_ptr,
                      const int32_t *out_col, int T, int d, int steps)
{
    const char *op = "ggnn_backward";
    int nnz_in = sbr_cuda_read_int(ctx, in_ptr + T), nnz_out = sbr_cuda_read_int(ctx, out_ptr + T);
    SBR_NN_REQUIRE(nnz_in >= 0 && nnz_out >= 0, op, "ptr[T] < 0");
    ggnn_check(ctx, op, T, d, steps, dense_bytes(T, d) + sort_bytes(nnz_in, nnz_out, T));
    char *p = (char *)ctx->scratch + dense_bytes(T, d);
    int mx = nnz_in > nnz_out ? nnz_in : nnz_out;
    size_t temp_bytes = sbr_cuda_align256(sort_temp(mx, T));
    size_t an_in = sbr_cuda_align256((size_t)(nnz_in > 0 ? nnz_in : 1) * sizeof(int32_t));
    size_t an_out = sbr_cuda_align256((size_t)(nnz_out > 0 ? nnz_out : 1) * sizeof(int32_t));
    void *temp = p + 5 * an_in + 5 * an_out;
    p = sort_prep(ctx, min_, p, in_ptr, in_col, nnz_in, T, temp, temp_bytes);
    sort_prep(ctx, mout, p, out_ptr, out_col, nnz_out, T, temp, temp_bytes);
}

void sbr_nn_ggnn_backward_cuda(sbr_nn_ctx *ctx, float *dh0, const sbr_nn_ggnn_w_cuda *dw,
                               const float *dhout, const sbr_nn_ggnn_saved_cuda *sv,
                               const sbr_nn_ggnn_graph_cuda *g, const sbr_nn_ggnn_w_cuda *w, int d,
                               int steps)
{
    static const sbr_nn_ggnn_w_cuda none = {};
    if (!dw)
        dw = &none;
    float *dw_in = dw->w_in, *db_in = dw->b_in, *dw_out = dw->w_out, *db_out = dw->b_out,
          *db_iah = dw->b_iah, *db_oah = dw->b_oah, *dw_ih = dw->w_ih, *db_ih = dw->b_ih,
          *dw_hh = dw->w_hh, *db_hh = dw->b_hh;
    const float *hsteps = sv->hsteps, *a = sv->a, *gates = sv->gates, *ghn = sv->ghn;
    const int32_t *in_ptr = g->in_ptr, *in_col = g->in_col, *out_ptr = g->out_ptr,
                  *out_col = g->out_col;
    const float *in_val = g->in_val, *out_val = g->out_val, *in_tval = g->in_tval,
                *out_tval = g->out_tval;
    const float *w_in = w->w_in, *w_out = w->w_out, *w_ih = w->w_ih, *w_hh = w->w_hh;
    int T = g->T;
    const char *op = "ggnn_backward";
    SBR_NN_REQUIRE(T >= 0 && d >= 0 && steps >= 1, op, "bad sizes T=%d d=%d steps=%d", T, d,
                   steps);
    SBR_NN_REQUIRE(!in_tval == !out_tval, op, "in_tval and out_tval: both or neither");
    if (T == 0 || d == 0)
        return;
    cudaStream_t st = sbr_cuda_stream(ctx);
    size_t Td = (size_t)T * d;
    ggnn_sorted min_ = {}, mout = {};
    if (in_tval)
        ggnn_check(ctx, op, T, d, steps, dense_bytes(T, d));
    else
        sort_both(ctx, &min_, &mout, in_ptr, in_col, out_ptr, out_col, T, d, steps);
    // [T, d] each but da [T, 2d], dgi and dgh [T, 3d]; dein, deout, da and
    // dgi in a row, zeroed by one memset a step
    float *g0 = (float *)ctx->scratch, *g1 = g0 + Td, *dein = g1 + Td;
    float *deout = dein + Td, *da = deout + Td, *dgi = da + 2 * Td, *dgh = dgi + 3 * Td;

    // g_in: the gradient at step s's output (dhout itself for the last step,
    // read only); g_out: the one at its input, built in g0 or g1, or for
    // step 0 added straight onto dh0 (and not formed without dh0)
    const float *g_in = dhout;
    float *g_out = g0;
    for (int s = steps - 1; s >= 0; s--) {
        const float *hs = hsteps + s * Td, *as = a + s * 2 * Td;
        if (s == 0)
            g_out = dh0;
        else
            SBR_CUDA_CHECK(cudaMemsetAsync(g_out, 0, Td * sizeof(float), st));
        SBR_CUDA_CHECK(cudaMemsetAsync(dein, 0, 7 * Td * sizeof(float), st));
        // the bias gradients: one launch after the step (below)
        sbr_cuda_gru_cell_bw(ctx, dgi, (size_t)3 * d, g_out, dw_hh, NULL, g_in, (size_t)d,
                             gates + s * 3 * Td, ghn + s * Td, (size_t)d, hs, (size_t)d, w_hh, T,
                             d, dgh, NULL, 0, 0);
        sbr_nn_linear_backward_cuda(ctx, da, dw_ih, NULL, dgi, as, w_ih, T, 2 * d, 3 * d);
        if (in_tval) { // A_in^T over A_out's pattern, A_out^T over A_in's
            spmm(ctx, op, dein, (size_t)d, out_ptr, out_col, in_tval, da, (size_t)2 * d, NULL,
                 NULL, T, d);
            spmm(ctx, op, deout, (size_t)d, in_ptr, in_col, out_tval, da + d, (size_t)2 * d,
                 NULL, NULL, T, d);
        } else {
            spmm_t(ctx, dein, &min_, in_val, da, (size_t)2 * d, T, d);
            spmm_t(ctx, deout, &mout, out_val, da + d, (size_t)2 * d, T, d);
        }
        sbr_nn_linear_backward_cuda(ctx, g_out, dw_in, NULL, dein, hs, w_in, T, d, d);
        sbr_nn_linear_backward_cuda(ctx, g_out, dw_out, NULL, deout, hs, w_out, T, d, d);
        size_t d3 = (size_t)3 * d, d2 = (size_t)2 * d;
        const sbr_colsum_job db[6] = {
            {db_hh, dgh, d3, T, 3 * d},       {db_ih, dgi, d3, T, 3 * d},
            {db_iah, da, d2, T, d},           {db_oah, da + d, d2, T, d},
            {db_in, dein, (size_t)d, T, d},   {db_out, deout, (size_t)d, T, d}};
        sbr_cuda_colsum_multi(ctx, db, 6, op);
        g_in = g_out;
        g_out = g_out == g0 ? g1 : g0;
    }
}
