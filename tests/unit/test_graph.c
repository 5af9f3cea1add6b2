/* Graph building (three kinds) against hand counts and a brute-force
 * reference; file round trip and validation of bad graph files. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "harness.h"
#include "tfile.h"

/* --- sessions built by hand ------------------------------------------------ */

typedef struct {
    sbr_sessions s;
    int64_t off[3][256];
    int32_t items[3][1024];
} hand_sessions;

/* Fills split sp from a list of sessions terminated by 0 between sessions
 * and -1 at the end, e.g. {1,2,3,0, 2,3,0, -1}. */
static void hand_split(hand_sessions *h, int sp, const int32_t *list)
{
    sbr_split *x = &h->s.split[sp];
    int64_t n = 0, k = 0;
    h->off[sp][0] = 0;
    for (int i = 0; list[i] >= 0; i++) {
        if (list[i] == 0)
            h->off[sp][++k] = n;
        else
            h->items[sp][n++] = list[i];
        if (k >= 255 || n >= 1024)
            abort(); /* the test's own lists must fit */
    }
    x->n_sessions = k;
    x->offsets = h->off[sp];
    x->items = h->items[sp];
}

static void hand_init(hand_sessions *h, int64_t n_items)
{
    memset(h, 0, sizeof *h);
    h->s.n_items = n_items;
    h->s.n_ids = n_items;
    for (int sp = 0; sp < SBR_NSPLITS; sp++) {
        h->s.split[sp].offsets = h->off[sp];
        h->s.split[sp].items = h->items[sp];
    }
}

static sbr_graph_opts opts(sbr_graph_kind kind, int window, int topk)
{
    sbr_graph_opts o = {kind, window, topk, 0, 1 << SBR_TRAIN};
    return o;
}

/* Weight of entry u -> v, 0 when absent. */
static double wt(const sbr_graph *g, int64_t u, int32_t v)
{
    for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++)
        if (g->neighbors[p] == v)
            return g->weights[p];
    return 0;
}

static int64_t deg(const sbr_graph *g, int64_t u) { return g->offsets[u + 1] - g->offsets[u]; }

static const int32_t SMALL[] = {1, 2, 3, 2, 0, 2, 3, 0, 4, 4, 5, 0, 6, 0, -1};

TEST(graph_adjacent_hand_counts)
{
    hand_sessions h;
    hand_init(&h, 7);
    hand_split(&h, SBR_TRAIN, SMALL);
    sbr_graph g;
    sbr_err e;
    sbr_graph_opts o = opts(SBR_GRAPH_ADJACENT, 1, 0);
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK_EQ_I64(g.n_nodes, 8);
    CHECK_EQ_I64(g.build.sessions, 4);
    CHECK_EQ_I64(g.build.clicks, 10);
    CHECK_EQ_I64(g.build.pairs, 6);
    CHECK_EQ_I64(g.build.self_dropped, 1);
    CHECK_EQ_I64(g.n_edges, 3);
    CHECK_EQ_I64(g.nnz, 6);
    CHECK(g.symmetric && !g.directed);
    CHECK_EQ_I64(wt(&g, 1, 2), 1);
    CHECK_EQ_I64(wt(&g, 2, 1), 1);
    CHECK_EQ_I64(wt(&g, 2, 3), 3);
    CHECK_EQ_I64(wt(&g, 3, 2), 3);
    CHECK_EQ_I64(wt(&g, 4, 5), 1);
    CHECK_EQ_I64(wt(&g, 4, 4), 0);
    CHECK_EQ_I64(deg(&g, 0), 0);
    CHECK_EQ_I64(deg(&g, 6), 0);
    CHECK_EQ_I64(sbr_graph_count_isolated(&g), 2); /* 6 (alone) and 7 (never clicked) */
    sbr_graph_summary s;
    sbr_graph_summarize(&g, &s);
    CHECK_EQ_I64(s.isolated, 2);
    CHECK_NEAR(s.total_weight, 10, 0);
    CHECK_NEAR(s.weight.max, 3, 0);
    CHECK_NEAR(s.weight.min, 1, 0);
    CHECK_NEAR(s.degree.max, 2, 0);
    sbr_graph_free(&g);

    /* With --self-loops the repeated click 4,4 is an edge 4-4 of weight 1. */
    o.self_loops = 1;
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK_EQ_I64(wt(&g, 4, 4), 1);
    CHECK_EQ_I64(g.build.self_dropped, 0);
    CHECK_EQ_I64(g.nnz, 7);
    CHECK_EQ_I64(g.n_edges, 4);
    sbr_graph_free(&g);
}

TEST(graph_window_hand_counts_and_topk)
{
    hand_sessions h;
    hand_init(&h, 6);
    hand_split(&h, SBR_TRAIN, SMALL);
    sbr_graph g;
    sbr_err e;
    sbr_graph_opts o = opts(SBR_GRAPH_WINDOW, 2, 0);
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    /* distance 1: 1-2, 2-3, 3-2, 2-3, 4-4, 4-5; distance 2: 1-3, 2-2, 4-5 */
    CHECK_EQ_I64(g.build.pairs, 9);
    CHECK_EQ_I64(g.build.self_dropped, 2);
    CHECK_EQ_I64(wt(&g, 1, 2), 1);
    CHECK_EQ_I64(wt(&g, 1, 3), 1);
    CHECK_EQ_I64(wt(&g, 3, 1), 1);
    CHECK_EQ_I64(wt(&g, 2, 3), 3);
    CHECK_EQ_I64(wt(&g, 5, 4), 2);
    CHECK(g.symmetric);
    sbr_graph_free(&g);

    /* top-1: row 1 holds {2:1, 3:1}, a tie kept by the smaller id. */
    o.topk = 1;
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK_EQ_I64(deg(&g, 1), 1);
    CHECK_EQ_I64(wt(&g, 1, 2), 1);
    CHECK_EQ_I64(wt(&g, 2, 3), 3);
    CHECK_EQ_I64(wt(&g, 2, 1), 0);
    CHECK_EQ_I64(wt(&g, 3, 2), 3);
    CHECK_EQ_I64(g.build.topk_dropped, 3); /* 1-3, 2-1, 3-1 */
    CHECK(!g.symmetric && !g.directed);
    CHECK_EQ_I64(g.n_edges, g.nnz);
    sbr_graph_free(&g);
}

TEST(graph_transition_hand_counts)
{
    hand_sessions h;
    hand_init(&h, 6);
    hand_split(&h, SBR_TRAIN, SMALL);
    sbr_graph g, u;
    sbr_err e;
    sbr_graph_opts o = opts(SBR_GRAPH_TRANSITION, 1, 0);
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK(g.directed && !g.symmetric);
    CHECK_EQ_I64(wt(&g, 1, 2), 1);
    CHECK_EQ_I64(wt(&g, 2, 1), 0);
    CHECK_EQ_I64(wt(&g, 2, 3), 2);
    CHECK_EQ_I64(wt(&g, 3, 2), 1);
    CHECK_EQ_I64(wt(&g, 4, 5), 1);
    CHECK_EQ_I64(g.nnz, 4);
    /* Its undirected form is the adjacency graph. */
    sbr_graph_undirected(&g, &u);
    CHECK(u.symmetric);
    CHECK_EQ_I64(wt(&u, 2, 3), 3);
    CHECK_EQ_I64(wt(&u, 3, 2), 3);
    CHECK_EQ_I64(wt(&u, 2, 1), 1);
    CHECK_EQ_I64(u.n_edges, 3);
    sbr_graph_free(&u);
    sbr_graph_free(&g);
}

/* Random sessions; every kind compared with a dense count matrix. */
TEST(graph_matches_bruteforce)
{
    enum { NI = 23 };
    hand_sessions h;
    hand_init(&h, NI);
    int32_t list[512];
    uint64_t x = 12345;
    int n = 0;
    for (int s = 0; s < 40; s++) {
        int len = 1 + (int)((x >> 33) % 9);
        for (int i = 0; i < len; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            list[n++] = 1 + (int32_t)((x >> 33) % NI);
        }
        list[n++] = 0;
    }
    list[n] = -1;
    hand_split(&h, SBR_TRAIN, list);
    for (int kind = 0; kind < 3; kind++)
        for (int w = 1; w <= (kind == SBR_GRAPH_WINDOW ? 3 : 1); w++)
            for (int self = 0; self < 2; self++) {
                static double ref[NI + 1][NI + 1];
                memset(ref, 0, sizeof ref);
                const sbr_split *sp = &h.s.split[SBR_TRAIN];
                for (int64_t k = 0; k < sp->n_sessions; k++)
                    for (int64_t i = sp->offsets[k]; i < sp->offsets[k + 1]; i++)
                        for (int64_t j = i + 1; j < sp->offsets[k + 1] && j - i <= w; j++) {
                            int a = sp->items[i], b = sp->items[j];
                            if (a == b && !self)
                                continue;
                            ref[a][b]++;
                            if (kind != SBR_GRAPH_TRANSITION && a != b)
                                ref[b][a]++;
                        }
                sbr_graph g;
                sbr_err e;
                sbr_graph_opts o = opts((sbr_graph_kind)kind, w, 0);
                o.self_loops = self;
                REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
                int bad = 0;
                for (int a = 0; a <= NI; a++) {
                    for (int b = 0; b <= NI; b++)
                        bad += wt(&g, a, b) != ref[a][b];
                    for (int64_t p = g.offsets[a] + 1; p < g.offsets[a + 1]; p++)
                        bad += g.neighbors[p] <= g.neighbors[p - 1];
                }
                if (bad)
                    harness_fail(__FILE__, __LINE__, "kind %d w %d self %d: %d cells differ",
                                 kind, w, self, bad);
                sbr_graph_free(&g);
            }
}

TEST(graph_valid_split_and_unknown_items)
{
    hand_sessions h;
    hand_init(&h, 5);
    h.s.n_ids = 7;
    static const int32_t train[] = {1, 2, 0, -1};
    /* one valid session 3,4,5,6 stored as pre-expanded samples (last_only). */
    static const int32_t valid[] = {3, 4, 0, 3, 4, 5, 0, 3, 4, 5, 6, 0, -1};
    hand_split(&h, SBR_TRAIN, train);
    hand_split(&h, SBR_VALID, valid);
    h.s.split[SBR_VALID].last_only = 1;
    sbr_graph g;
    sbr_err e;
    sbr_graph_opts o = opts(SBR_GRAPH_ADJACENT, 1, 0);
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK_EQ_I64(g.nnz, 2); /* train only by default */
    sbr_graph_free(&g);
    o.splits |= 1 << SBR_VALID;
    REQUIRE(sbr_graph_build(&h.s, &o, &g, &e) == 0);
    CHECK_EQ_I64(wt(&g, 3, 4), 1); /* once, not once per sample */
    CHECK_EQ_I64(wt(&g, 4, 5), 1);
    CHECK_EQ_I64(wt(&g, 5, 6), 0); /* 6 is not in the catalogue */
    CHECK_EQ_I64(g.build.unknown_dropped, 1);
    CHECK_EQ_I64(g.n_edges, 3);
    sbr_graph_free(&g);
}

TEST(graph_empty_is_an_error)
{
    hand_sessions h;
    hand_init(&h, 3);
    static const int32_t train[] = {1, 0, 2, 2, 0, -1};
    hand_split(&h, SBR_TRAIN, train);
    sbr_graph g;
    sbr_err e = {{0}};
    sbr_graph_opts o = opts(SBR_GRAPH_ADJACENT, 1, 0);
    CHECK(sbr_graph_build(&h.s, &o, &g, &e) < 0);
    CHECK(strstr(e.msg, "empty graph") != NULL);
    CHECK(strstr(e.msg, "1 self-loops dropped") != NULL);
}

/* --- files ------------------------------------------------------------------ */

static sbr_graph small_graph(sbr_graph_kind kind, int topk)
{
    static hand_sessions h;
    hand_init(&h, 6);
    hand_split(&h, SBR_TRAIN, SMALL);
    sbr_graph g;
    sbr_err e;
    sbr_graph_opts o = opts(kind, 2, topk);
    if (sbr_graph_build(&h.s, &o, &g, &e) < 0)
        abort();
    return g;
}

/* Serialises g (with an optional metadata override) and parses it back. */
static int roundtrip(const sbr_graph *g, const char *key, const char *value, const char *kind,
                     sbr_tfile *f, sbr_graph *out, sbr_err *e)
{
    sbr_tw *w = sbr_tw_new(kind ? kind : "sbr.graph");
    sbr_graph_add_to(g, w);
    if (key)
        sbr_tw_meta(w, key, value);
    uint8_t *bytes;
    size_t n;
    int rc = sbr_tw_to_memory(w, &bytes, &n, e);
    sbr_tw_free(w);
    if (rc < 0)
        return -1;
    rc = sbr_tfile_parse(bytes, n, f, e);
    free(bytes);
    if (rc < 0)
        return -1;
    return sbr_graph_from_tfile(f, out, e);
}

TEST(graph_file_roundtrip)
{
    for (int kind = 0; kind < 3; kind++)
        for (int topk = 0; topk < 2; topk++) {
            sbr_graph g = small_graph((sbr_graph_kind)kind, topk), r;
            sbr_tfile f;
            sbr_err e = {{0}};
            if (roundtrip(&g, NULL, NULL, NULL, &f, &r, &e) < 0) {
                harness_fail(__FILE__, __LINE__, "kind %d: %s", kind, e.msg);
                sbr_graph_free(&g);
                continue;
            }
            CHECK_EQ_I64(r.kind, g.kind);
            CHECK_EQ_I64(r.nnz, g.nnz);
            CHECK_EQ_I64(r.n_edges, g.n_edges);
            CHECK_EQ_I64(r.symmetric, g.symmetric);
            CHECK_EQ_I64(r.directed, g.directed);
            CHECK_EQ_I64(r.splits, 1 << SBR_TRAIN);
            CHECK(!memcmp(r.offsets, g.offsets, (size_t)(g.n_nodes + 1) * sizeof *g.offsets));
            CHECK(!memcmp(r.neighbors, g.neighbors, (size_t)g.nnz * sizeof *g.neighbors));
            CHECK(!memcmp(r.weights, g.weights, (size_t)g.nnz * sizeof *g.weights));
            sbr_tfile_free(&f);
            sbr_graph_free(&g);
        }
}

/* A corrupted copy of the small adjacency graph must be refused with msg. */
static void expect_bad(sbr_graph *g, const char *key, const char *value, const char *kind,
                       const char *msg, int line)
{
    sbr_tfile f;
    sbr_graph r;
    sbr_err e = {{0}};
    memset(&f, 0, sizeof f);
    int rc = roundtrip(g, key, value, kind, &f, &r, &e);
    if (rc == 0 || !strstr(e.msg, msg))
        harness_fail(__FILE__, line, "wanted an error with \"%s\", got rc %d \"%s\"", msg, rc,
                     e.msg);
    sbr_tfile_free(&f);
}

TEST(graph_file_validation)
{
    sbr_graph g = small_graph(SBR_GRAPH_ADJACENT, 0);
    expect_bad(&g, NULL, NULL, "sbr.sessions", "expected sbr.graph", __LINE__);
    expect_bad(&g, "graph.kind", "bigram", NULL, "graph.kind", __LINE__);
    expect_bad(&g, "n_nodes", "99", NULL, "n_nodes", __LINE__);
    expect_bad(&g, "n_edges", "99", NULL, "n_edges", __LINE__);
    expect_bad(&g, "graph.directed", "1", NULL, "graph.directed", __LINE__);
    expect_bad(&g, "graph.symmetric", "2", NULL, "graph.symmetric", __LINE__);

    int32_t v = g.neighbors[0];
    g.neighbors[0] = 99;
    expect_bad(&g, NULL, NULL, NULL, "out of range", __LINE__);
    g.neighbors[0] = 0;
    expect_bad(&g, NULL, NULL, NULL, "out of range", __LINE__);
    g.neighbors[0] = v;

    float w = g.weights[1];
    g.weights[1] = -1;
    expect_bad(&g, NULL, NULL, NULL, "positive", __LINE__);
    g.weights[1] = 0.0f / 0.0f;
    expect_bad(&g, NULL, NULL, NULL, "positive", __LINE__);
    g.weights[1] = 7; /* breaks symmetry */
    expect_bad(&g, NULL, NULL, NULL, "symmetric", __LINE__);
    g.weights[1] = w;

    /* Row 2 holds {1, 3}; swap them. */
    int64_t p = g.offsets[2];
    g.neighbors[p] = 3;
    g.neighbors[p + 1] = 1;
    expect_bad(&g, NULL, NULL, NULL, "ascending", __LINE__);
    g.neighbors[p] = 1;
    g.neighbors[p + 1] = 3;

    int64_t o = g.offsets[3];
    g.offsets[3] = g.offsets[4] + 1;
    expect_bad(&g, NULL, NULL, NULL, "offsets", __LINE__);
    g.offsets[3] = o;
    g.offsets[1] = 1;
    expect_bad(&g, NULL, NULL, NULL, "node 0", __LINE__);
    g.offsets[1] = 0;

    /* Self-loop without graph.self_loops. */
    sbr_graph gs = small_graph(SBR_GRAPH_ADJACENT, 0);
    sbr_graph_free(&gs);
    {
        hand_sessions h;
        hand_init(&h, 6);
        hand_split(&h, SBR_TRAIN, SMALL);
        sbr_err e;
        sbr_graph_opts op = opts(SBR_GRAPH_ADJACENT, 1, 0);
        op.self_loops = 1;
        REQUIRE(sbr_graph_build(&h.s, &op, &gs, &e) == 0);
        expect_bad(&gs, "graph.self_loops", "0", NULL, "self-loop", __LINE__);
        sbr_graph_free(&gs);
    }

    /* The untouched graph still reads. */
    sbr_tfile f;
    sbr_graph r;
    sbr_err e = {{0}};
    CHECK(roundtrip(&g, NULL, NULL, NULL, &f, &r, &e) == 0);
    sbr_tfile_free(&f);
    sbr_graph_free(&g);
}

TEST(graph_file_written_and_read_from_disk)
{
    sbr_graph g = small_graph(SBR_GRAPH_WINDOW, 1), r;
    char path[512];
    snprintf(path, sizeof path, "%s/g.sbr", harness_tmpdir());
    sbr_tw *w = sbr_tw_new("sbr.graph");
    sbr_graph_add_to(&g, w);
    sbr_err e = {{0}};
    int rc = sbr_tw_write(w, path, SBR_ZSTD_LEVEL, &e);
    sbr_tw_free(w);
    REQUIRE(rc == 0);
    REQUIRE(sbr_graph_read(path, &r, &e) == 0);
    CHECK_EQ_I64(r.nnz, g.nnz);
    CHECK_EQ_I64(r.topk, 1);
    CHECK_EQ_I64(r.window, 2);
    CHECK(!memcmp(r.weights, g.weights, (size_t)g.nnz * sizeof *g.weights));
    sbr_graph_free(&r);
    sbr_graph_free(&g);
}

/* The parallel passes split nodes among threads: any thread count must give
 * the same graph. */
TEST(graph_same_for_any_thread_count)
{
    enum { NI = 300 };
    static hand_sessions h;
    hand_init(&h, NI);
    static int32_t list[512];
    uint64_t x = 99;
    int n = 0;
    while (n < 480) {
        int len = 2 + (int)((x >> 40) % 6);
        for (int i = 0; i < len; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            list[n++] = 1 + (int32_t)((x >> 33) % NI);
        }
        list[n++] = 0;
    }
    list[n] = -1;
    hand_split(&h, SBR_TRAIN, list);
    int saved = omp_get_max_threads();
    for (int kind = 0; kind < 3; kind++) {
        sbr_graph g1, g3;
        sbr_err e;
        sbr_graph_opts o = opts((sbr_graph_kind)kind, 3, 4);
        omp_set_num_threads(1);
        REQUIRE(sbr_graph_build(&h.s, &o, &g1, &e) == 0);
        omp_set_num_threads(3);
        REQUIRE(sbr_graph_build(&h.s, &o, &g3, &e) == 0);
        CHECK_EQ_I64(g1.nnz, g3.nnz);
        CHECK_EQ_I64(g1.build.pairs, g3.build.pairs);
        CHECK_EQ_I64(g1.build.topk_dropped, g3.build.topk_dropped);
        CHECK(!memcmp(g1.offsets, g3.offsets, (NI + 2) * sizeof *g1.offsets));
        CHECK(!memcmp(g1.neighbors, g3.neighbors, (size_t)g1.nnz * sizeof *g1.neighbors));
        CHECK(!memcmp(g1.weights, g3.weights, (size_t)g1.nnz * sizeof *g1.weights));
        sbr_graph_free(&g1);
        sbr_graph_free(&g3);
    }
    omp_set_num_threads(saved);
}
