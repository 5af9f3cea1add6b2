// Embedding gather and its deterministic scatter-add on the GPU, the int
// gather take_i32, and the session-nodes pair built on them (api.inc).
//
// The backward reproduces the CPU's order exactly: dtable[v] receives
// dy[i] for every i with idx[i] == v in increasing i, added one by one into
// dtable[v] (the same float operations as the CPU, so the same bits). The
// positions are grouped by a stable radix sort of (idx[i], i) in scratch
// (sbr_nn_embedding_backward_scratch_cuda bytes; with less, a slower
// O(n^2 d) kernel gives the same bits); one thread per (group, column)
// then walks its group: no atomics.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(embedding)

__global__ void k_embedding_f(float *y, const float *table, const int32_t *idx, int n, int V,
                              int d, int pad)
{
    SBR_CUDA_FOR(t, (size_t)n * d) {
        size_t i = t / d, k = t % d;
        int v = sbr_cv_index(idx, i, V, SBR_CVOP_EMBEDDING_FORWARD);
        y[t] = v < 0 || v == pad ? 0.0f : table[(size_t)v * d + k];
    }
}

// keys[i] = idx[i], or V (sorted last, skipped) for pad and bad indices;
// pos[i] = i.
__global__ void k_embedding_keys(int32_t *keys, int32_t *pos, const int32_t *idx, int n, int V,
                                 int pad)
{
    SBR_CUDA_FOR(i, n) {
        int v = sbr_cv_index(idx, i, V, SBR_CVOP_EMBEDDING_BACKWARD);
        keys[i] = v < 0 || v == pad ? V : v;
        pos[i] = (int32_t)i;
    }
}

// dtable[v, k] += the rows pos[j..] of dy's column k whose key(q) is v, in
// order: the group that starts at sorted position j (of n). It finds the
// group's end first, so that the loads of the sum do not wait on one another
// (a popular item's group runs to hundreds of rows in GCE-GNN's neighbours).
template <class Key>
__device__ __forceinline__ void add_group(float *dtable, const float *dy, Key key,
                                          const int32_t *pos, size_t j, size_t n, int v, int d,
                                          size_t k)
{
    size_t end = j + 1;
    while (end < n && key(end) == v)
        end++;
    float *dst = dtable + (size_t)v * d + k;
    float acc = *dst;
#pragma unroll 8
    for (size_t q = j; q < end; q++)
        acc += dy[(size_t)pos[q] * d + k];
    *dst = acc;
}

namespace {
struct sorted_key { // the key of sorted position q
    const int32_t *keys;
    __device__ int operator()(size_t q) const { return keys[q]; }
};
} // namespace

// One thread per (sorted position j, column k); only the first position of
// each group works: it adds the group's rows in increasing i (add_group).
__global__ void k_embedding_b(float *dtable, const float *dy, const int32_t *keys,
                              const int32_t *pos, int n, int V, int d)
{
    SBR_CUDA_FOR(t, (size_t)n * d) {
        size_t j = t / d, k = t % d;
        int v = keys[j];
        if (v >= V || (j > 0 && keys[j - 1] == v))
            continue;
        add_group(dtable, dy, sorted_key{keys}, pos, j, (size_t)n, v, d, k);
    }
}

// Without scratch for the sort: the same order by brute force. Thread (i, k)
// works only when i is the first position of its index, and walks every
// later position with the same index: O(n^2 d), fine for batches of a few
// thousand rows.
__global__ void k_embedding_b_noscratch(float *dtable, const float *dy, const int32_t *idx, int n,
                                        int V, int d, int pad)
{
    SBR_CUDA_FOR(t, (size_t)n * d) {
        size_t i = t / d, k = t % d;
        int v = sbr_cv_index(idx, i, V, SBR_CVOP_EMBEDDING_BACKWARD);
        if (v < 0 || v == pad)
            continue;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = idx[j] != v;
        if (!first)
            continue;
        float *dst = dtable + (size_t)v * d + k;
        float acc = *dst;
        for (size_t j = i; j < (size_t)n; j++)
            if (idx[j] == v)
                acc += dy[j * d + k];
        *dst = acc;
    }
}

static int key_bits(int V)
{
    int bits = 1;
    while (bits < 31 && (1LL << bits) <= (long long)V) // keys go up to V
        bits++;
    return bits;
}

static size_t align256(size_t x) { return (x + 255) / 256 * 256; }

static size_t sort_temp_bytes(int n, int V)
{
    size_t temp = 0;
    SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, temp, (const int32_t *)NULL,
                                                   (int32_t *)NULL, (const int32_t *)NULL,
                                                   (int32_t *)NULL, n, 0, key_bits(V)));
    return temp;
}

extern "C" size_t sbr_nn_embedding_backward_scratch_cuda(int n, int V)
{
    if (n <= 0)
        return 0;
    return 4 * align256((size_t)n * sizeof(int32_t)) + align256(sort_temp_bytes(n, V));
}

void sbr_nn_embedding_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *table,
                                   const int32_t *idx, int n, int V, int d, int pad)
{
    SBR_NN_REQUIRE(n >= 0 && V >= 0 && d >= 0, "embedding_forward", "negative size");
    if ((size_t)n * d == 0)
        return;
    k_embedding_f<<<sbr_cuda_grid((size_t)n * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, table, idx, n, V, d, pad);
    SBR_CUDA_LAUNCHED("embedding_forward");
}

// take_i32: an index out of 0..V-1 gives 0 (data, not a violation).
__global__ void k_take_i32(int32_t *y, const int32_t *table, const int32_t *idx, int n, int V)
{
    SBR_CUDA_FOR(i, (size_t)n) {
        int32_t v = idx[i];
        y[i] = v >= 0 && v < V ? table[v] : 0;
    }
}

void sbr_nn_take_i32_cuda(sbr_nn_ctx *ctx, int32_t *y, const int32_t *table, const int32_t *idx,
                          int n, int V)
{
    SBR_NN_REQUIRE(n >= 0 && V >= 0, "take_i32", "negative size");
    if (n == 0)
        return;
    k_take_i32<<<sbr_cuda_grid((size_t)n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(y, table, idx,
                                                                                  n, V);
    SBR_CUDA_LAUNCHED("take_i32");
}

void sbr_nn_embedding_backward_cuda(sbr_nn_ctx *ctx, float *dtable, const float *dy,
                                    const int32_t *idx, int n, int V, int d, int pad)
{
    SBR_NN_REQUIRE(n >= 0 && V >= 0 && d >= 0, "embedding_backward", "negative size");
    if ((size_t)n * d == 0)
        return;
    size_t need = sbr_nn_embedding_backward_scratch_cuda(n, V);
    cudaStream_t s = sbr_cuda_stream(ctx);
    if (!ctx || !ctx->scratch || ctx->scratch_bytes < need) {
        // The CPU op needs no scratch, so callers may give too little: the
        // same result (same order, same bits) the slow way.
        k_embedding_b_noscratch<<<sbr_cuda_grid((size_t)n * d), SBR_CUDA_BLOCK, 0, s>>>(
            dtable, dy, idx, n, V, d, pad);
        SBR_CUDA_LAUNCHED("embedding_backward");
        return;
    }
    char *p = (char *)ctx->scratch;
    size_t an = align256((size_t)n * sizeof(int32_t));
    int32_t *keys = (int32_t *)p, *pos = (int32_t *)(p + an);
    int32_t *keys_s = (int32_t *)(p + 2 * an), *pos_s = (int32_t *)(p + 3 * an);
    void *temp = p + 4 * an;
    size_t temp_bytes = need - 4 * an;
    k_embedding_keys<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, s>>>(keys, pos, idx, n, V, pad);
    SBR_CUDA_LAUNCHED("embedding_backward");
    // Stable: equal keys keep increasing positions.
    SBR_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_s, pos, pos_s, n,
                                                   0, key_bits(V), s));
    k_embedding_b<<<sbr_cuda_grid((size_t)n * d), SBR_CUDA_BLOCK, 0, s>>>(dtable, dy, keys_s,
                                                                          pos_s, n, V, d);
    SBR_CUDA_LAUNCHED("embedding_backward");
}

// Grouped backward: order [m] lists the positions not pad, sorted by (idx,
// position) (api.inc), so the groups are there without a sort. Thread (j, k)
// works when j starts its group: it adds the group's rows in order
// (add_group, as k_embedding_b with the sorted keys: the same bits). Column
// 0's threads check the order; a bad entry is recorded and skipped (a group
// ends before it).
__device__ __forceinline__ int grouped_key(const int32_t *idx, const int32_t *order, size_t j,
                                           int n)
{
    int p = order[j];
    return p < 0 || p >= n ? -1 : idx[p];
}

namespace {
struct order_key { // the key of position q of order: idx[order[q]], -1 when out of range
    const int32_t *idx, *order;
    int n;
    __device__ int operator()(size_t q) const { return grouped_key(idx, order, q, n); }
};
} // namespace

__global__ void k_embedding_b_grouped(float *dtable, const float *dy, const int32_t *idx,
                                      const int32_t *order, int m, int n, int V, int d, int pad)
{
    SBR_CUDA_FOR(t, (size_t)m * d) {
        int j = (int)(t / d);
        size_t k = t % d;
        int p = order[j], v = grouped_key(idx, order, j, n);
        int prev = j > 0 ? grouped_key(idx, order, j - 1, n) : -1;
        if (k == 0) {
            if (p < 0 || p >= n)
                sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_EMBEDDING_BACKWARD_GROUPED, j, p, n);
            else if (v == pad || (j > 0 && (prev > v || (prev == v && order[j - 1] >= p))))
                sbr_cv_record(SBR_CV_ORDER, SBR_CVOP_EMBEDDING_BACKWARD_GROUPED, j, p,
                              j > 0 ? order[j - 1] : -1);
            else if (v < 0 || v >= V)
                sbr_cv_record(SBR_CV_INDEX, SBR_CVOP_EMBEDDING_BACKWARD, p, v, V);
        }
        if (v < 0 || v >= V || v == pad || (j > 0 && prev == v))
            continue;
        add_group(dtable, dy, order_key{idx, order, n}, order, (size_t)j, (size_t)m, v, d, k);
    }
}

void sbr_nn_embedding_backward_grouped_cuda(sbr_nn_ctx *ctx, float *dtable, const float *dy,
                                            const int32_t *idx, const int32_t *order, int m,
                                            int n, int V, int d, int pad)
{
    const char *op = "embedding_backward_grouped";
    SBR_NN_REQUIRE(m >= 0 && m <= n && V >= 0 && d >= 0, op, "bad sizes m=%d n=%d V=%d d=%d", m,
                   n, V, d);
    if ((size_t)m * d == 0)
        return;
    k_embedding_b_grouped<<<sbr_cuda_grid((size_t)m * d), SBR_CUDA_BLOCK, 0,
                            sbr_cuda_stream(ctx)>>>(dtable, dy, idx, order, m, n, V, d, pad);
    SBR_CUDA_LAUNCHED(op);
}

/* ---- session nodes (api.inc) ---------------------------------------------------
 * Forward: one thread per (row, column) of [y ; ylast], the clicks' rows then
 * the last clicks'. Backward: one thread per (node, column) walks the L
 * clicks of the node's session in order, then its last click: the order of
 * the CPU's two scatter-adds, with no sort (a session has a few nodes). */
__global__ void k_session_nodes_f(float *y, float *ylast, const float *H, const int32_t *alias,
                                  const int32_t *last, const int32_t *node_sess, int B, int L,
                                  int T, int d)
{
    size_t BL = (size_t)B * L;
    SBR_CUDA_FOR(t, (BL + B) * d) {
        size_t r = t / d, k = t % d;
        bool click = r < BL;
        size_t i = click ? r : r - BL;
        int v = sbr_cv_index(click ? alias : last, i, T, SBR_CVOP_SESSION_NODES);
        int sess = click ? (int)(i / L) : (int)i;
        if (v >= 0 && k == 0 && node_sess[v] != sess)
            sbr_cv_record(SBR_CV_SESSION, SBR_CVOP_SESSION_NODES, (long long)r, v, node_sess[v]);
        (click ? y : ylast)[i * d + k] = v < 0 ? 0.0f : H[(size_t)v * d + k];
    }
}

__global__ void k_session_nodes_b(float *dH, const float *dy, const float *dylast,
                                  const int32_t *alias, const int32_t *last,
                                  const int32_t *node_sess, int B, int L, int T, int d)
{
    SBR_CUDA_FOR(q, (size_t)T * d) {
        size_t t = q / d, k = q % d;
        int b = sbr_cv_index(node_sess, t, B, SBR_CVOP_SESSION_NODES);
        if (b < 0)
            continue;
        const int32_t *al = alias + (size_t)b * L;
        float acc = dH[q];
        for (int j = 0; j < L; j++)
            if (al[j] == (int)t)
                acc += dy[((size_t)b * L + j) * d + k];
        if (last[b] == (int)t)
            acc += dylast[(size_t)b * d + k];
        dH[q] = acc;
    }
}

void sbr_nn_session_nodes_forward_cuda(sbr_nn_ctx *ctx, float *y, float *ylast, const float *H,
                                       const int32_t *alias, const int32_t *last,
                                       const int32_t *node_sess, int B, int L, int T, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 1 && T >= 0 && d >= 0, "session_nodes_forward",
                   "bad sizes B=%d L=%d T=%d d=%d", B, L, T, d);
    size_t n = ((size_t)B * L + B) * d;
    if (n == 0)
        return;
    k_session_nodes_f<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, ylast, H, alias, last, node_sess, B, L, T, d);
    SBR_CUDA_LAUNCHED("session_nodes_forward");
}

void sbr_nn_session_nodes_backward_cuda(sbr_nn_ctx *ctx, float *dH, const float *dy,
                                        const float *dylast, const int32_t *alias,
                                        const int32_t *last, const int32_t *node_sess, int B,
                                        int L, int T, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 1 && T >= 0 && d >= 0, "session_nodes_backward",
                   "bad sizes B=%d L=%d T=%d d=%d", B, L, T, d);
    size_t n = (size_t)T * d;
    if (n == 0 || B == 0)
        return;
    k_session_nodes_b<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dH, dy, dylast, alias, last, node_sess, B, L, T, d);
    SBR_CUDA_LAUNCHED("session_nodes_backward");
}

// Packing rows: one thread per (row b, position j, column k) of the padded
// batch; positions past the row's count are skipped. A count outside 0..L
// (or off[0] != 0) is recorded and its row skipped.
__device__ __forceinline__ int pack_count(const int32_t *off, int b, int L)
{
    int c = off[b + 1] - off[b];
    if (b == 0 && off[0] != 0) {
        sbr_cv_record(SBR_CV_OFF, SBR_CVOP_PACK_ROWS, 0, off[0], 0);
        return 0;
    }
    if (c < 0 || c > L) {
        sbr_cv_record(SBR_CV_LEN, SBR_CVOP_PACK_ROWS, b, c, L);
        return 0;
    }
    return c;
}

__global__ void k_pack_rows(float *y, const float *x, const int32_t *off, int B, int L, int d,
                            int backward)
{
    SBR_CUDA_FOR(t, (size_t)B * L * d) {
        size_t r = t / d, k = t % d;
        int b = (int)(r / L), j = (int)(r % L);
        if (j >= pack_count(off, b, L))
            continue;
        size_t p = ((size_t)off[b] + j) * d + k;
        if (backward)
            y[t] += x[p]; // y is dx [B, L, d], x is dy [n, d]
        else
            y[p] = x[t];
    }
}

void sbr_nn_pack_rows_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const int32_t *off,
                                   int B, int L, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "pack_rows_forward", "negative size");
    if ((size_t)B * L * d == 0)
        return;
    k_pack_rows<<<sbr_cuda_grid((size_t)B * L * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, x, off, B, L, d, 0);
    SBR_CUDA_LAUNCHED("pack_rows_forward");
}

void sbr_nn_pack_rows_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                    const int32_t *off, int B, int L, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "pack_rows_backward", "negative size");
    if ((size_t)B * L * d == 0)
        return;
    k_pack_rows<<<sbr_cuda_grid((size_t)B * L * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dx, dy, off, B, L, d, 1);
    SBR_CUDA_LAUNCHED("pack_rows_backward");
}
