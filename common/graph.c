/* Global item graphs: building from sessions, reading and writing sbr.graph.
 *
 * The builder never sorts: it emits every (src, dst) entry twice through a
 * counting sort (first bucketed by dst, then transposed into rows by src, which
 * leaves each row ascending in dst), then run-length encodes each row into
 * (neighbour, count). Time and memory are linear in the number of entries. */
#include "graph.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sbr_graph_kind_names[] = {"adjacent", "window", "transition", NULL};

/* --- building ------------------------------------------------------------- */

/* One pass over the sessions of the chosen splits, for the entries whose
 * dst is in [lo, hi) (threads split the node range; each reads every session
 * but writes only its own buckets). fill = 0: counts entries per dst into
 * cur[dst] (and the build stats when st is not NULL); fill = 1: writes src
 * into buf[cur[dst]++]. key = dst, value = src. */
static void emit_pass(const sbr_sessions *s, const sbr_graph_opts *o, int fill, int64_t *cur,
                      int32_t *buf, sbr_graph_build_stats *st, int64_t lo, int64_t hi)
{
    const int64_t n_items = s->n_items;
    const int w = o->kind == SBR_GRAPH_WINDOW ? o->window : 1;
    const int directed = o->kind == SBR_GRAPH_TRANSITION;
    int64_t pairs = 0, self_dropped = 0, unknown = 0, sessions = 0, clicks = 0;
#define EMIT(a, b)                                                                 \
    do {                                                                           \
        if ((b) >= lo && (b) < hi) {                                               \
            if (fill)                                                              \
                buf[cur[b]++] = (a);                                               \
            else                                                                   \
                cur[b]++;                                                          \
        }                                                                          \
    } while (0)
    for (int sp = 0; sp < SBR_NSPLITS; sp++) {
        if (!(o->splits & (1 << sp)))
            continue;
        const sbr_split *x = &s->split[sp];
        sessions += x->n_sessions;
        for (int64_t k = 0; k < x->n_sessions; k++) {
            const int32_t *it = x->items + x->offsets[k];
            int64_t n = x->offsets[k + 1] - x->offsets[k];
            clicks += n;
            for (int64_t j = 1; j < n; j++) {
                /* A pre-expanded sample adds only the pairs ending at its target. */
                if (x->last_only && j != n - 1)
                    continue;
                for (int64_t i = j - 1; i >= 0 && j - i <= w; i--) {
                    int32_t a = it[i], b = it[j];
                    pairs++;
                    if (a < 1 || a > n_items || b < 1 || b > n_items) {
                        unknown++;
                        continue;
                    }
                    if (a == b && !o->self_loops) {
                        self_dropped++;
                        continue;
                    }
                    EMIT(a, b);
                    if (!directed && a != b)
                        EMIT(b, a);
                }
            }
        }
    }
#undef EMIT
    if (st) {
        st->sessions = sessions;
        st->clicks = clicks;
        st->pairs = pairs;
        st->self_dropped = self_dropped;
        st->unknown_dropped = unknown;
    }
}

/* Exclusive prefix sum of cnt[0..n) into off[0..n]; returns off[n]. */
static int64_t prefix_sum(const int64_t *cnt, int64_t n, int64_t *off)
{
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++) {
        off[i] = acc;
        acc += cnt[i];
    }
    off[n] = acc;
    return acc;
}

typedef struct {
    int32_t id;
    float w;
} nbr_w;

/* Is a better than b for top-k: larger weight, then smaller id. */
static int better(nbr_w a, nbr_w b) { return a.w > b.w || (a.w == b.w && a.id < b.id); }

/* Restores the heap below p in row[0..k): a min-heap rooted at the worst of
 * the k best so far. */
static void sift_down(nbr_w *row, int64_t k, int64_t p)
{
    for (;;) {
        int64_t c = 2 * p + 1, worst = p;
        if (c < k && better(row[worst], row[c]))
            worst = c;
        if (c + 1 < k && better(row[worst], row[c + 1]))
            worst = c + 1;
        if (worst == p)
            return;
        nbr_w t = row[p];
        row[p] = row[worst];
        row[worst] = t;
        p = worst;
    }
}

/* Keeps the k best of row[0..n) in row[0..k) (any order). O(n log k). */
static void top_k(nbr_w *row, int64_t n, int64_t k)
{
    for (int64_t i = k / 2 - 1; i >= 0; i--) /* heapify row[0..k) */
        sift_down(row, k, i);
    for (int64_t i = k; i < n; i++) {
        if (!better(row[i], row[0]))
            continue;
        row[0] = row[i];
        sift_down(row, k, 0);
    }
}

static int cmp_id(const void *pa, const void *pb)
{
    const nbr_w *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

/* Run-length encodes row r of the sorted buffer into scratch; keeps the top k
 * (k = 0: all) in ascending id order. Returns the number kept, *unique the
 * number before top-k. */
static int64_t encode_row(const int32_t *row, int64_t len, int k, nbr_w *scratch, int64_t *unique)
{
    int64_t u = 0;
    for (int64_t i = 0; i < len;) {
        int64_t j = i + 1;
        while (j < len && row[j] == row[i])
            j++;
        scratch[u].id = row[i];
        scratch[u].w = (float)(j - i);
        u++;
        i = j;
    }
    *unique = u;
    if (k > 0 && u > k) {
        top_k(scratch, u, k);
        qsort(scratch, (size_t)k, sizeof *scratch, cmp_id);
        return k;
    }
    return u;
}

/* This thread's share [lo, hi) of the nodes 0..n-1: equal shares of the
 * entries when off (a prefix sum over nodes) is given, else of the nodes. */
static void node_range(int64_t n, const int64_t *off, int64_t *lo, int64_t *hi)
{
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    if (!off) {
        *lo = n * t / T;
        *hi = n * (t + 1) / T;
        return;
    }
    /* First node whose offset reaches the share's start. */
    int64_t bounds[2];
    for (int k = 0; k < 2; k++) {
        int64_t target = (int64_t)((double)off[n] * (t + k) / T), a = 0, b = n;
        while (a < b) {
            int64_t m = a + (b - a) / 2;
            if (off[m] < target)
                a = m + 1;
            else
                b = m;
        }
        bounds[k] = t + k == T ? n : a;
    }
    *lo = t == 0 ? 0 : bounds[0];
    *hi = bounds[1];
}

static void set_edge_count(sbr_graph *g)
{
    if (!g->symmetric) {
        g->n_edges = g->nnz;
        return;
    }
    int64_t loops = 0;
    for (int64_t u = 0; u < g->n_nodes; u++)
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++)
            loops += g->neighbors[p] == u;
    g->n_edges = (g->nnz + loops) / 2;
}

int sbr_graph_build(const sbr_sessions *s, const sbr_graph_opts *o, sbr_graph *g, sbr_err *e)
{
    memset(g, 0, sizeof *g);
    if (o->kind == SBR_GRAPH_WINDOW && o->window < 1)
        return sbr_errf(e, "window must be at least 1 (got %d)", o->window);
    if (o->topk < 0)
        return sbr_errf(e, "topk must be >= 0 (got %d)", o->topk);
    if (s->n_items < 1)
        return sbr_errf(e, "empty graph: the sessions have no catalogue items (n_items = %lld)",
                        (long long)s->n_items);
    if (s->n_items >= INT32_MAX)
        return sbr_errf(e, "n_items %lld out of range", (long long)s->n_items);
    const int64_t N = s->n_items + 1; /* nodes */

    /* Pass 1: bucket by dst, holding src. Each thread owns a range of dst. */
    int64_t *cnt = sbr_xcalloc((size_t)N + 1, sizeof *cnt);
    int64_t *off1 = sbr_xmalloc(((size_t)N + 1) * sizeof *off1);
#pragma omp parallel
    {
        int64_t lo, hi;
        node_range(N, NULL, &lo, &hi);
        emit_pass(s, o, 0, cnt, NULL, omp_get_thread_num() == 0 ? &g->build : NULL, lo, hi);
    }
    int64_t nnz1 = prefix_sum(cnt, N, off1);
    if (nnz1 == 0) {
        free(cnt);
        free(off1);
        return sbr_errf(e,
                        "empty graph: no item pairs in the %s split(s) (%lld sessions, %lld "
                        "clicks, %lld self-loops dropped, %lld pairs with unknown items)",
                        o->splits == (1 << SBR_TRAIN) ? "train" : "chosen",
                        (long long)g->build.sessions, (long long)g->build.clicks,
                        (long long)g->build.self_dropped, (long long)g->build.unknown_dropped);
    }
    int32_t *buf1 = sbr_xmalloc((size_t)nnz1 * sizeof *buf1);
    memcpy(cnt, off1, (size_t)N * sizeof *cnt);
#pragma omp parallel
    {
        int64_t lo, hi;
        node_range(N, off1, &lo, &hi);
        emit_pass(s, o, 1, cnt, buf1, NULL, lo, hi);
    }

    /* Pass 2: transpose into rows by src; rows come out ascending in dst.
     * Each thread owns a range of src. */
    memset(cnt, 0, ((size_t)N + 1) * sizeof *cnt);
    for (int64_t p = 0; p < nnz1; p++)
        cnt[buf1[p]]++;
    int64_t *off2 = sbr_xmalloc(((size_t)N + 1) * sizeof *off2);
    prefix_sum(cnt, N, off2);
    memcpy(cnt, off2, (size_t)N * sizeof *cnt);
    int32_t *buf2 = sbr_xmalloc((size_t)nnz1 * sizeof *buf2);
#pragma omp parallel
    {
        int64_t lo, hi;
        node_range(N, off2, &lo, &hi);
        for (int64_t d = 0; d < N; d++)
            for (int64_t p = off1[d]; p < off1[d + 1]; p++) {
                int32_t a = buf1[p];
                if (a >= lo && a < hi)
                    buf2[cnt[a]++] = (int32_t)d;
            }
    }
    free(buf1);
    free(off1);

    /* Pass 3: run-length encode each row (parallel over rows), twice: sizes,
     * then the entries at their final place. */
    const int k = o->kind == SBR_GRAPH_WINDOW ? o->topk : 0;
    int64_t maxlen = 0;
    for (int64_t r = 0; r < N; r++)
        if (off2[r + 1] - off2[r] > maxlen)
            maxlen = off2[r + 1] - off2[r];
    int64_t topk_dropped = 0;
#pragma omp parallel reduction(+ : topk_dropped)
    {
        nbr_w *scr = sbr_xmalloc((size_t)maxlen * sizeof *scr);
#pragma omp for schedule(dynamic, 1024)
        for (int64_t r = 0; r < N; r++) {
            int64_t u;
            cnt[r] = encode_row(buf2 + off2[r], off2[r + 1] - off2[r], k, scr, &u);
            topk_dropped += u - cnt[r];
        }
        free(scr);
    }
    g->offsets = sbr_xmalloc(((size_t)N + 1) * sizeof *g->offsets);
    g->nnz = prefix_sum(cnt, N, g->offsets);
    g->neighbors = sbr_xmalloc((size_t)g->nnz * sizeof *g->neighbors);
    g->weights = sbr_xmalloc((size_t)g->nnz * sizeof *g->weights);
#pragma omp parallel
    {
        nbr_w *scr = sbr_xmalloc((size_t)maxlen * sizeof *scr);
#pragma omp for schedule(dynamic, 1024)
        for (int64_t r = 0; r < N; r++) {
            int64_t u, m = encode_row(buf2 + off2[r], off2[r + 1] - off2[r], k, scr, &u);
            for (int64_t i = 0; i < m; i++) {
                g->neighbors[g->offsets[r] + i] = scr[i].id;
                g->weights[g->offsets[r] + i] = scr[i].w;
            }
        }
        free(scr);
    }
    free(buf2);
    free(off2);
    free(cnt);

    g->build.topk_dropped = topk_dropped;
    g->kind = o->kind;
    g->directed = o->kind == SBR_GRAPH_TRANSITION;
    g->symmetric = !g->directed && topk_dropped == 0;
    g->window = o->kind == SBR_GRAPH_WINDOW ? o->window : 1;
    g->topk = k;
    g->self_loops = o->self_loops;
    g->splits = o->splits;
    g->n_items = s->n_items;
    g->n_nodes = N;
    set_edge_count(g);
    return 0;
}

/* --- reading and validation ---------------------------------------------- */

static int meta_flag(const sbr_tfile *f, const char *key, int *out, sbr_err *e)
{
    int64_t v;
    if (sbr_tfile_meta_i64(f, key, &v, e) < 0)
        return -1;
    if (v != 0 && v != 1)
        return sbr_errf(e, "metadata %s must be 0 or 1 (got %lld)", key, (long long)v);
    *out = (int)v;
    return 0;
}

/* Position of v in the ascending row u, or -1. */
static int64_t find_in_row(const sbr_graph *g, int64_t u, int32_t v)
{
    int64_t lo = g->offsets[u], hi = g->offsets[u + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (g->neighbors[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->offsets[u + 1] && g->neighbors[lo] == v ? lo : -1;
}

static int parse_splits(const char *v, int *mask)
{
    *mask = 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int sp = 0; sp < SBR_NSPLITS; sp++)
            if (strlen(sbr_split_names[sp]) == n && !strncmp(p, sbr_split_names[sp], n)) {
                *mask |= 1 << sp;
                found = 1;
            }
        if (!found)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return *mask ? 0 : -1;
}

int sbr_graph_from_tfile(const sbr_tfile *f, sbr_graph *g, sbr_err *e)
{
    memset(g, 0, sizeof *g);
    if (sbr_tfile_expect_kind(f, "sbr.graph", e) < 0)
        return -1;
    int kind, got = sbr_tfile_meta_choice(f, "graph.kind", sbr_graph_kind_names, &kind, e);
    if (got <= 0)
        return got < 0 ? -1 : sbr_errf(e, "metadata graph.kind is missing");
    g->kind = (sbr_graph_kind)kind;
    int64_t n_items, n_nodes, nnz, window, topk;
    if (sbr_tfile_meta_i64(f, "n_items", &n_items, e) < 0 ||
        sbr_tfile_meta_i64(f, "n_nodes", &n_nodes, e) < 0 ||
        sbr_tfile_meta_i64(f, "nnz", &nnz, e) < 0 ||
        sbr_tfile_meta_i64(f, "graph.window", &window, e) < 0 ||
        sbr_tfile_meta_i64(f, "graph.topk", &topk, e) < 0 ||
        meta_flag(f, "graph.directed", &g->directed, e) < 0 ||
        meta_flag(f, "graph.symmetric", &g->symmetric, e) < 0 ||
        meta_flag(f, "graph.self_loops", &g->self_loops, e) < 0)
        return -1;
    if (n_items < 0 || n_items >= INT32_MAX)
        return sbr_errf(e, "n_items %lld out of range", (long long)n_items);
    if (n_nodes != n_items + 1)
        return sbr_errf(e, "n_nodes %lld != n_items + 1 = %lld", (long long)n_nodes,
                        (long long)n_items + 1);
    if (window < 1 || window > 1000000 || topk < 0 || topk > INT32_MAX)
        return sbr_errf(e, "graph.window %lld or graph.topk %lld out of range",
                        (long long)window, (long long)topk);
    if (g->directed != (g->kind == SBR_GRAPH_TRANSITION))
        return sbr_errf(e, "graph.directed = %d does not match kind %s", g->directed,
                        sbr_graph_kind_names[g->kind]);
    if (g->directed && g->symmetric)
        return sbr_errf(e, "a directed graph cannot be marked symmetric");
    const char *splits = sbr_tfile_meta(f, "graph.splits");
    if (!splits || parse_splits(splits, &g->splits) < 0)
        return sbr_errf(e, "metadata graph.splits is missing or not a list of train,valid,test");

    const sbr_tensor *to = sbr_tfile_need(f, "offsets", SBR_I64, 1, e);
    if (!to)
        return -1;
    const sbr_tensor *tn = sbr_tfile_need(f, "neighbors", SBR_I32, 1, e);
    if (!tn)
        return -1;
    const sbr_tensor *tw = sbr_tfile_need(f, "weights", SBR_F32, 1, e);
    if (!tw)
        return -1;
    if (to->shape[0] != n_nodes + 1)
        return sbr_errf(e, "offsets has %lld entries, expected n_nodes + 1 = %lld",
                        (long long)to->shape[0], (long long)n_nodes + 1);
    if (tn->shape[0] != nnz || tw->shape[0] != nnz)
        return sbr_errf(e, "neighbors (%lld) and weights (%lld) must both have nnz = %lld entries",
                        (long long)tn->shape[0], (long long)tw->shape[0], (long long)nnz);
    g->n_items = n_items;
    g->n_nodes = n_nodes;
    g->nnz = nnz;
    g->window = (int)window;
    g->topk = (int)topk;
    g->offsets = to->data;
    g->neighbors = tn->data;
    g->weights = tw->data;

    const int64_t *off = g->offsets;
    if (off[0] != 0)
        return sbr_errf(e, "offsets[0] is %lld, expected 0", (long long)off[0]);
    if (off[n_nodes] != nnz)
        return sbr_errf(e, "offsets[%lld] is %lld, expected nnz = %lld", (long long)n_nodes,
                        (long long)off[n_nodes], (long long)nnz);
    for (int64_t u = 0; u < n_nodes; u++)
        if (off[u + 1] < off[u] || off[u + 1] > nnz)
            return sbr_errf(e, "offsets not non-decreasing at node %lld (%lld then %lld)",
                            (long long)u, (long long)off[u], (long long)off[u + 1]);
    if (off[1] != 0)
        return sbr_errf(e, "node 0 (padding) has %lld neighbours, expected none",
                        (long long)off[1]);
    for (int64_t u = 1; u < n_nodes; u++)
        for (int64_t p = off[u]; p < off[u + 1]; p++) {
            int32_t v = g->neighbors[p];
            float w = g->weights[p];
            if (v < 1 || v > n_items)
                return sbr_errf(e, "neighbour %d of node %lld out of range 1..%lld", v,
                                (long long)u, (long long)n_items);
            if (p > off[u] && v <= g->neighbors[p - 1])
                return sbr_errf(e, "row of node %lld not strictly ascending at neighbour %d",
                                (long long)u, v);
            if (!(w > 0) || !isfinite(w))
                return sbr_errf(e, "weight of edge %lld-%d is %g, expected a positive number",
                                (long long)u, v, (double)w);
            if (v == u && !g->self_loops)
                return sbr_errf(e, "self-loop at node %lld but graph.self_loops = 0",
                                (long long)u);
        }
    if (g->symmetric)
        for (int64_t u = 1; u < n_nodes; u++)
            for (int64_t p = off[u]; p < off[u + 1]; p++) {
                int64_t q = find_in_row(g, g->neighbors[p], (int32_t)u);
                if (q < 0 || g->weights[q] != g->weights[p])
                    return sbr_errf(e,
                                    "graph.symmetric = 1 but edge %lld-%d (weight %g) has no "
                                    "equal reverse edge",
                                    (long long)u, g->neighbors[p], (double)g->weights[p]);
            }
    int64_t n_edges;
    if (sbr_tfile_meta_i64(f, "n_edges", &n_edges, e) < 0)
        return -1;
    set_edge_count(g);
    if (n_edges != g->n_edges)
        return sbr_errf(e, "metadata n_edges = %lld but the arrays hold %lld edges",
                        (long long)n_edges, (long long)g->n_edges);
    return 0;
}

int sbr_graph_read(const char *path, sbr_graph *g, sbr_err *e)
{
    sbr_tfile *f = sbr_xcalloc(1, sizeof *f);
    if (sbr_tfile_read(path, f, e) < 0 || sbr_graph_from_tfile(f, g, e) < 0) {
        sbr_tfile_free(f);
        free(f);
        memset(g, 0, sizeof *g);
        return -1;
    }
    g->file = f;
    return 0;
}

/* --- writing ---------------------------------------------------------------- */

static void splits_string(int mask, char *buf, size_t n)
{
    buf[0] = 0;
    for (int sp = 0; sp < SBR_NSPLITS; sp++)
        if (mask & (1 << sp)) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? "," : "", sbr_split_names[sp]);
        }
}

void sbr_graph_add_to(const sbr_graph *g, sbr_tw *w)
{
    char splits[64];
    splits_string(g->splits, splits, sizeof splits);
    sbr_tw_add1(w, "offsets", SBR_I64, g->n_nodes + 1, g->offsets);
    sbr_tw_add1(w, "neighbors", SBR_I32, g->nnz, g->neighbors);
    sbr_tw_add1(w, "weights", SBR_F32, g->nnz, g->weights);
    sbr_tw_meta(w, "graph.kind", sbr_graph_kind_names[g->kind]);
    sbr_tw_metaf(w, "graph.directed", "%d", g->directed);
    sbr_tw_metaf(w, "graph.symmetric", "%d", g->symmetric);
    sbr_tw_metaf(w, "graph.self_loops", "%d", g->self_loops);
    sbr_tw_metaf(w, "graph.window", "%d", g->window);
    sbr_tw_metaf(w, "graph.topk", "%d", g->topk);
    sbr_tw_meta(w, "graph.splits", splits);
    sbr_tw_metaf(w, "n_items", "%lld", (long long)g->n_items);
    sbr_tw_metaf(w, "n_nodes", "%lld", (long long)g->n_nodes);
    sbr_tw_metaf(w, "nnz", "%lld", (long long)g->nnz);
    sbr_tw_metaf(w, "n_edges", "%lld", (long long)g->n_edges);
    if (g->build.sessions || g->build.pairs) {
        sbr_tw_metaf(w, "graph.sessions", "%lld", (long long)g->build.sessions);
        sbr_tw_metaf(w, "graph.clicks", "%lld", (long long)g->build.clicks);
        sbr_tw_metaf(w, "graph.pairs", "%lld", (long long)g->build.pairs);
        sbr_tw_metaf(w, "graph.dropped_self_loops", "%lld", (long long)g->build.self_dropped);
        sbr_tw_metaf(w, "graph.dropped_unknown_items", "%lld",
                     (long long)g->build.unknown_dropped);
        sbr_tw_metaf(w, "graph.dropped_topk", "%lld", (long long)g->build.topk_dropped);
    }
}

void sbr_graph_free(sbr_graph *g)
{
    if (g->file) {
        sbr_tfile_free(g->file);
        free(g->file);
    } else {
        free(g->offsets);
        free(g->neighbors);
        free(g->weights);
    }
    memset(g, 0, sizeof *g);
}

/* --- derived graphs and summaries ---------------------------------------- */

void sbr_graph_undirected(const sbr_graph *g, sbr_graph *out)
{
    memset(out, 0, sizeof *out);
    *out = *g;
    out->file = NULL;
    out->directed = 0;
    out->symmetric = 1;
    const int64_t N = g->n_nodes;
    out->offsets = sbr_xmalloc(((size_t)N + 1) * sizeof *out->offsets);
    if (g->symmetric) {
        memcpy(out->offsets, g->offsets, ((size_t)N + 1) * sizeof *out->offsets);
        out->neighbors = sbr_xmalloc((size_t)g->nnz * sizeof *out->neighbors);
        out->weights = sbr_xmalloc((size_t)g->nnz * sizeof *out->weights);
        memcpy(out->neighbors, g->neighbors, (size_t)g->nnz * sizeof *out->neighbors);
        memcpy(out->weights, g->weights, (size_t)g->nnz * sizeof *out->weights);
        return;
    }
    /* Every stored entry u->v goes into rows u and v; duplicates (both
     * directions stored) are merged per row after sorting. */
    int64_t *cnt = sbr_xcalloc((size_t)N + 1, sizeof *cnt);
    for (int64_t u = 0; u < N; u++)
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++) {
            cnt[u]++;
            if (g->neighbors[p] != u)
                cnt[g->neighbors[p]]++;
        }
    int64_t *off = sbr_xmalloc(((size_t)N + 1) * sizeof *off);
    int64_t tot = prefix_sum(cnt, N, off);
    memcpy(cnt, off, (size_t)N * sizeof *cnt);
    nbr_w *buf = sbr_xmalloc((size_t)(tot ? tot : 1) * sizeof *buf);
    for (int64_t u = 0; u < N; u++)
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++) {
            int32_t v = g->neighbors[p];
            buf[cnt[u]++] = (nbr_w){v, g->weights[p]};
            if (v != u)
                buf[cnt[v]++] = (nbr_w){(int32_t)u, g->weights[p]};
        }
    int64_t nnz = 0;
    for (int64_t u = 0; u < N; u++) {
        nbr_w *row = buf + off[u];
        int64_t len = off[u + 1] - off[u], m = 0;
        qsort(row, (size_t)len, sizeof *row, cmp_id);
        for (int64_t i = 0; i < len; i++) {
            if (m > 0 && row[m - 1].id == row[i].id) {
                if (g->directed)
                    row[m - 1].w += row[i].w;
                else if (row[i].w > row[m - 1].w)
                    row[m - 1].w = row[i].w;
            } else
                row[m++] = row[i];
        }
        cnt[u] = m;
        nnz += m;
    }
    out->nnz = prefix_sum(cnt, N, out->offsets);
    out->neighbors = sbr_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *out->neighbors);
    out->weights = sbr_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *out->weights);
    for (int64_t u = 0; u < N; u++)
        for (int64_t i = 0; i < cnt[u]; i++) {
            out->neighbors[out->offsets[u] + i] = buf[off[u] + i].id;
            out->weights[out->offsets[u] + i] = buf[off[u] + i].w;
        }
    free(buf);
    free(off);
    free(cnt);
    set_edge_count(out);
}

int64_t sbr_graph_count_isolated(const sbr_graph *g)
{
    uint8_t *seen = sbr_xcalloc((size_t)g->n_nodes, 1);
    for (int64_t u = 1; u < g->n_nodes; u++) {
        if (g->offsets[u + 1] > g->offsets[u])
            seen[u] = 1;
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++)
            seen[g->neighbors[p]] = 1;
    }
    int64_t n = 0;
    for (int64_t u = 1; u < g->n_nodes; u++)
        n += !seen[u];
    free(seen);
    return n;
}

/* k-th smallest of a[0..n) (quickselect; reorders a). */
static double select_kth(double *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

static void dist_of(double *a, int64_t n, sbr_dist *d)
{
    memset(d, 0, sizeof *d);
    if (n == 0)
        return;
    double sum = 0;
    d->min = d->max = a[0];
    for (int64_t i = 0; i < n; i++) {
        sum += a[i];
        if (a[i] < d->min)
            d->min = a[i];
        if (a[i] > d->max)
            d->max = a[i];
    }
    d->mean = sum / (double)n;
    d->median = select_kth(a, n, (n - 1) / 2);
    d->p99 = select_kth(a, n, (int64_t)((double)(n - 1) * 0.99));
}

void sbr_graph_summarize(const sbr_graph *g, sbr_graph_summary *s)
{
    memset(s, 0, sizeof *s);
    s->isolated = sbr_graph_count_isolated(g);
    double *a = sbr_xmalloc((size_t)(g->nnz > g->n_nodes ? g->nnz : g->n_nodes) * sizeof *a);
    for (int64_t u = 0; u < g->n_nodes; u++)
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++) {
            a[p] = g->weights[p];
            s->total_weight += g->weights[p];
            s->self_loops += g->neighbors[p] == u;
        }
    dist_of(a, g->nnz, &s->weight);
    int64_t n = 0;
    for (int64_t u = 1; u < g->n_nodes; u++)
        if (g->offsets[u + 1] > g->offsets[u])
            a[n++] = (double)(g->offsets[u + 1] - g->offsets[u]);
    dist_of(a, n, &s->degree);
    n = 0;
    for (int64_t u = 1; u < g->n_nodes; u++)
        if (g->offsets[u + 1] > g->offsets[u]) {
            double k = 0;
            for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++)
                k += g->neighbors[p] == u && !g->directed ? 2 * g->weights[p] : g->weights[p];
            a[n++] = k;
        }
    dist_of(a, n, &s->strength);
    free(a);
}
