/* Leiden clusters: planted structure recovered, modularity recomputed in
 * plain C equals what is reported, determinism, isolated items, files, and
 * the unseen-item rule. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "graph.h"
#include "harness.h"
#include "modularity.h"
#include "unseen.h"

/* A symmetric graph from an edge list (u < v or u == v), weights given. */
static void graph_from_edges(int64_t n_items, const int32_t (*ed)[2], const float *w, int64_t m,
                             sbr_graph *g)
{
    memset(g, 0, sizeof *g);
    g->kind = SBR_GRAPH_ADJACENT;
    g->symmetric = 1;
    g->self_loops = 1;
    g->window = 1;
    g->splits = 1 << SBR_TRAIN;
    g->n_items = n_items;
    g->n_nodes = n_items + 1;
    int64_t *cnt = calloc((size_t)g->n_nodes + 1, sizeof *cnt);
    for (int64_t k = 0; k < m; k++) {
        cnt[ed[k][0]]++;
        if (ed[k][1] != ed[k][0])
            cnt[ed[k][1]]++;
    }
    g->offsets = malloc(((size_t)g->n_nodes + 1) * sizeof *g->offsets);
    g->offsets[0] = 0;
    for (int64_t u = 0; u < g->n_nodes; u++)
        g->offsets[u + 1] = g->offsets[u] + cnt[u];
    g->nnz = g->offsets[g->n_nodes];
    g->neighbors = malloc((size_t)(g->nnz ? g->nnz : 1) * sizeof *g->neighbors);
    g->weights = malloc((size_t)(g->nnz ? g->nnz : 1) * sizeof *g->weights);
    /* Insert keeping rows ascending (tiny graphs: insertion sort). */
    memset(cnt, 0, ((size_t)g->n_nodes + 1) * sizeof *cnt);
    for (int64_t k = 0; k < m; k++)
        for (int side = 0; side < 2; side++) {
            int32_t u = ed[k][side], v = ed[k][1 - side];
            if (side == 1 && u == v)
                break;
            int64_t base = g->offsets[u], n = cnt[u]++;
            int64_t i = n;
            while (i > 0 && g->neighbors[base + i - 1] > v) {
                g->neighbors[base + i] = g->neighbors[base + i - 1];
                g->weights[base + i] = g->weights[base + i - 1];
                i--;
            }
            g->neighbors[base + i] = v;
            g->weights[base + i] = w[k];
        }
    int64_t loops = 0;
    for (int64_t k = 0; k < m; k++)
        loops += ed[k][0] == ed[k][1];
    g->n_edges = (g->nnz + loops) / 2;
    free(cnt);
}

/* Two 4-cliques (1-4, 5-8) joined by one light edge; item 9 isolated. */
static void two_cliques(sbr_graph *g)
{
    static int32_t ed[13][2];
    static float w[13];
    int m = 0;
    for (int base = 1; base <= 5; base += 4)
        for (int a = 0; a < 4; a++)
            for (int b = a + 1; b < 4; b++) {
                ed[m][0] = base + a;
                ed[m][1] = base + b;
                w[m++] = 3;
            }
    ed[m][0] = 4;
    ed[m][1] = 5;
    w[m++] = 1;
    graph_from_edges(9, (const int32_t(*)[2])ed, w, m, g);
}

static sbr_leiden_opts lopts(uint64_t seed)
{
    sbr_leiden_opts o = {.resolution = 1.0, .beta = 0.01, .seed = seed, .restarts = 1,
                         .max_iterations = -1, .isolated = SBR_ISOLATED_SINGLE};
    return o;
}

TEST(cluster_two_cliques)
{
    sbr_graph g;
    two_cliques(&g);
    sbr_clusters c;
    sbr_err e = {{0}};
    sbr_leiden_opts o = lopts(1);
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    CHECK_EQ_I64(c.n_graph_clusters, 2);
    CHECK_EQ_I64(c.n_clusters, 3); /* + the singleton of item 9 */
    CHECK_EQ_I64(c.n_isolated, 1);
    CHECK_EQ_I64(c.cluster[0], 0);
    CHECK_EQ_I64(c.cluster[1], 1); /* equal sizes: the cluster of item 1 first */
    for (int u = 2; u <= 4; u++)
        CHECK_EQ_I64(c.cluster[u], 1);
    for (int u = 5; u <= 8; u++)
        CHECK_EQ_I64(c.cluster[u], 2);
    CHECK_EQ_I64(c.cluster[9], 3);
    CHECK_EQ_I64(c.sizes[1], 4);
    CHECK_EQ_I64(c.sizes[3], 1);
    CHECK(c.stable);
    CHECK(c.iterations >= 2);
    /* By hand: 2m = 2*(12*3+1) = 74; each clique: L = 36, K = 37.
     * Q = 2 * (36/74 - (37/74)^2) = 72/74 - 0.5. */
    double want = 72.0 / 74.0 - 0.5;
    CHECK_NEAR(c.modularity, want, 1e-12);
    CHECK_NEAR(sbr_modularity(&g, c.cluster, c.n_clusters + 1, 1.0), want, 1e-12);
    CHECK_NEAR(c.quality, want, 1e-9);
    CHECK_EQ_I64(c.frequent, 1);
    CHECK_EQ_I64(sbr_clusters_largest(&c), 4);
    CHECK_EQ_I64(sbr_clusters_singletons(&c), 1);
    sbr_clusters_free(&c);

    o.isolated = SBR_ISOLATED_FREQUENT;
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    CHECK_EQ_I64(c.n_clusters, 2);
    CHECK_EQ_I64(c.cluster[9], c.frequent);
    CHECK_EQ_I64(c.sizes[c.frequent], 5);
    sbr_clusters_free(&c);
    sbr_graph_free(&g);
}

TEST(modularity_by_hand)
{
    /* Triangle 1-2-3 (weight 1) plus a self-loop 3-3 of weight 2. Degrees:
     * k1 = 2, k2 = 2, k3 = 2 + 4 = 6; 2m = 10. All in one cluster: Q = 1 - 1 = 0.
     * {1,2} vs {3}: L12 = 2, K12 = 4; L3 = 4, K3 = 6:
     * Q = 2/10 - 0.16 + 4/10 - 0.36 = 0.08. */
    static const int32_t ed[4][2] = {{1, 2}, {1, 3}, {2, 3}, {3, 3}};
    static const float w[4] = {1, 1, 1, 2};
    sbr_graph g;
    graph_from_edges(3, ed, w, 4, &g);
    int32_t one[4] = {0, 1, 1, 1}, two[4] = {0, 1, 1, 2};
    CHECK_NEAR(sbr_modularity(&g, one, 3, 1.0), 0.0, 1e-12);
    CHECK_NEAR(sbr_modularity(&g, two, 3, 1.0), 0.08, 1e-12);
    /* gamma scales only the expected term: 0.6 - 0.52 * 2. */
    CHECK_NEAR(sbr_modularity(&g, two, 3, 2.0), 0.6 - 1.04, 1e-12);
    sbr_graph_free(&g);
}

/* A planted-partition graph: 6 groups of 40 items, dense inside, sparse
 * across, random integer weights. */
static void planted(sbr_graph *g, uint64_t seed)
{
    enum { G = 6, S = 40, N = G * S };
    static int32_t ed[N * N / 2][2];
    static float w[N * N / 2];
    int64_t m = 0;
    uint64_t x = seed;
    for (int a = 1; a <= N; a++)
        for (int b = a + 1; b <= N; b++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            double r = (double)(x >> 11) / 9007199254740992.0;
            int same = (a - 1) / S == (b - 1) / S;
            if (r < (same ? 0.3 : 0.01)) {
                ed[m][0] = a;
                ed[m][1] = b;
                w[m++] = 1 + (float)((x >> 20) % 4);
            }
        }
    graph_from_edges(N, (const int32_t(*)[2])ed, w, m, g);
}

TEST(cluster_modularity_matches_plain_c_and_seeds)
{
    sbr_graph g;
    planted(&g, 7);
    sbr_clusters a, b, c;
    sbr_err e = {{0}};
    sbr_leiden_opts o = lopts(42);
    REQUIRE(sbr_cluster_leiden(&g, &o, &a, NULL, NULL, &e) == 0);
    REQUIRE(sbr_cluster_leiden(&g, &o, &b, NULL, NULL, &e) == 0);
    o.seed = 7;
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    double qa = sbr_modularity(&g, a.cluster, a.n_clusters + 1, 1.0);
    CHECK_NEAR(a.modularity, qa, 1e-9);
    CHECK_NEAR(a.quality, qa, 1e-9);
    CHECK(qa > 0.5);
    CHECK_EQ_I64(a.n_clusters, 6);
    /* Same seed: identical partition. */
    CHECK(!memcmp(a.cluster, b.cluster, (size_t)(g.n_items + 1) * sizeof *a.cluster));
    CHECK_EQ_I64(a.iterations, b.iterations);
    /* Another seed: a valid partition whose sizes add up. */
    int64_t tot = 0;
    for (int64_t k = 1; k <= c.n_clusters; k++) {
        CHECK(c.sizes[k] > 0);
        tot += c.sizes[k];
    }
    CHECK_EQ_I64(tot, g.n_items);
    CHECK_NEAR(c.modularity, sbr_modularity(&g, c.cluster, c.n_clusters + 1, 1.0), 1e-9);
    /* Resolution 2 gives at least as many clusters and its modularity (at
     * gamma 2) is reported consistently too. */
    sbr_clusters d;
    o.resolution = 2.0;
    REQUIRE(sbr_cluster_leiden(&g, &o, &d, NULL, NULL, &e) == 0);
    CHECK(d.n_clusters >= a.n_clusters);
    CHECK_NEAR(d.modularity, sbr_modularity(&g, d.cluster, d.n_clusters + 1, 2.0), 1e-9);
    sbr_clusters_free(&a);
    sbr_clusters_free(&b);
    sbr_clusters_free(&c);
    sbr_clusters_free(&d);
    sbr_graph_free(&g);
}

/* Restarts keep the best of the runs from seed, seed+1, ... */
TEST(cluster_restarts_keep_the_best)
{
    sbr_graph g;
    planted(&g, 5);
    /* Make the structure ambiguous: many light random edges. */
    sbr_err e = {{0}};
    double best = -1;
    uint64_t best_seed = 0;
    for (uint64_t s = 10; s < 14; s++) {
        sbr_clusters c;
        sbr_leiden_opts o = lopts(s);
        o.resolution = 3.0; /* many small clusters: runs differ */
        REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
        if (c.modularity > best) {
            best = c.modularity;
            best_seed = s;
        }
        sbr_clusters_free(&c);
    }
    sbr_clusters c;
    sbr_leiden_opts o = lopts(10);
    o.resolution = 3.0;
    o.restarts = 4;
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    CHECK(c.modularity == best);
    CHECK_EQ_I64(c.best_seed, best_seed);
    CHECK_EQ_I64(c.restarts, 4);
    CHECK(c.total_iterations >= c.iterations);
    CHECK_NEAR(c.modularity, sbr_modularity(&g, c.cluster, c.n_clusters + 1, 3.0), 1e-9);
    /* Restarts run as parallel processes: any process count, same result. */
    int saved = omp_get_max_threads();
    for (int th = 1; th <= 3; th += 2) {
        sbr_clusters d;
        omp_set_num_threads(th);
        REQUIRE(sbr_cluster_leiden(&g, &o, &d, NULL, NULL, &e) == 0);
        CHECK(d.modularity == c.modularity);
        CHECK_EQ_I64(d.best_seed, c.best_seed);
        CHECK_EQ_I64(d.total_iterations, c.total_iterations);
        CHECK(!memcmp(d.cluster, c.cluster, (size_t)(g.n_items + 1) * sizeof *c.cluster));
        sbr_clusters_free(&d);
    }
    omp_set_num_threads(saved);
    sbr_clusters_free(&c);
    sbr_graph_free(&g);
}

TEST(cluster_iteration_limit_and_errors)
{
    sbr_graph g;
    planted(&g, 3);
    sbr_clusters c;
    sbr_err e = {{0}};
    sbr_leiden_opts o = lopts(1);
    o.max_iterations = 1;
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    CHECK_EQ_I64(c.iterations, 1);
    CHECK_EQ_I64(c.stable, 0);
    sbr_clusters_free(&c);
    o.resolution = -1;
    CHECK(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) < 0);
    CHECK(strstr(e.msg, "resolution") != NULL);
    sbr_graph_free(&g);

    static const int32_t none[1][2] = {{0, 0}};
    static const float w0[1] = {1};
    graph_from_edges(5, none, w0, 0, &g);
    o = lopts(1);
    CHECK(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) < 0);
    CHECK(strstr(e.msg, "empty graph") != NULL);
    sbr_graph_free(&g);
}

/* The top-k window graph is not symmetric: clustered on its union. */
TEST(cluster_asymmetric_graph_is_symmetrised)
{
    sbr_graph g, u;
    planted(&g, 11);
    /* Drop every entry of row 1 but its first: rows now disagree. */
    sbr_graph cut = g;
    cut.symmetric = 0;
    cut.offsets = malloc(((size_t)g.n_nodes + 1) * sizeof *cut.offsets);
    cut.neighbors = malloc((size_t)g.nnz * sizeof *cut.neighbors);
    cut.weights = malloc((size_t)g.nnz * sizeof *cut.weights);
    int64_t q = 0;
    cut.offsets[0] = 0;
    for (int64_t r = 0; r < g.n_nodes; r++) {
        for (int64_t p = g.offsets[r]; p < g.offsets[r + 1]; p++)
            if (r != 1 || p == g.offsets[r]) {
                cut.neighbors[q] = g.neighbors[p];
                cut.weights[q++] = g.weights[p];
            }
        cut.offsets[r + 1] = q;
    }
    cut.nnz = cut.n_edges = q;
    sbr_graph_undirected(&cut, &u);
    CHECK(u.symmetric);
    CHECK_EQ_I64(u.nnz, g.nnz); /* the union gives back every edge */
    CHECK(!memcmp(u.neighbors, g.neighbors, (size_t)g.nnz * sizeof *g.neighbors));
    CHECK(!memcmp(u.weights, g.weights, (size_t)g.nnz * sizeof *g.weights));
    sbr_clusters a, b;
    sbr_err e;
    sbr_leiden_opts o = lopts(5);
    REQUIRE(sbr_cluster_leiden(&cut, &o, &a, NULL, NULL, &e) == 0);
    REQUIRE(sbr_cluster_leiden(&g, &o, &b, NULL, NULL, &e) == 0);
    CHECK(!memcmp(a.cluster, b.cluster, (size_t)(g.n_items + 1) * sizeof *a.cluster));
    sbr_clusters_free(&a);
    sbr_clusters_free(&b);
    sbr_graph_free(&u);
    sbr_graph_free(&cut);
    sbr_graph_free(&g);
}

/* --- files ------------------------------------------------------------------ */

static int clusters_roundtrip(const sbr_clusters *c, const char *key, const char *value,
                              const char *kind, sbr_tfile *f, sbr_clusters *out, sbr_err *e)
{
    sbr_tw *w = sbr_tw_new(kind ? kind : "sbr.clusters");
    sbr_clusters_add_to(c, w);
    if (key)
        sbr_tw_meta(w, key, value);
    uint8_t *bytes;
    size_t n;
    int rc = sbr_tw_to_memory(w, &bytes, &n, e);
    sbr_tw_free(w);
    memset(f, 0, sizeof *f);
    if (rc < 0)
        return -1;
    rc = sbr_tfile_parse(bytes, n, f, e);
    free(bytes);
    return rc < 0 ? -1 : sbr_clusters_from_tfile(f, out, e);
}

static void expect_bad_clusters(const sbr_clusters *c, const char *key, const char *value,
                                const char *kind, const char *msg, int line)
{
    sbr_tfile f;
    sbr_clusters r;
    sbr_err e = {{0}};
    int rc = clusters_roundtrip(c, key, value, kind, &f, &r, &e);
    if (rc == 0 || !strstr(e.msg, msg))
        harness_fail(__FILE__, line, "wanted an error with \"%s\", got rc %d \"%s\"", msg, rc,
                     e.msg);
    sbr_tfile_free(&f);
}

TEST(clusters_file_roundtrip_and_validation)
{
    sbr_graph g;
    two_cliques(&g);
    sbr_clusters c, r;
    sbr_err e = {{0}};
    sbr_leiden_opts o = lopts(3);
    REQUIRE(sbr_cluster_leiden(&g, &o, &c, NULL, NULL, &e) == 0);
    sbr_tfile f;
    REQUIRE(clusters_roundtrip(&c, NULL, NULL, NULL, &f, &r, &e) == 0);
    CHECK_EQ_I64(r.n_clusters, c.n_clusters);
    CHECK_EQ_I64(r.frequent, c.frequent);
    CHECK_EQ_I64(r.iterations, c.iterations);
    CHECK_EQ_I64(r.seed, 3);
    CHECK(r.modularity == c.modularity); /* %.17g round-trips exactly */
    CHECK(!memcmp(r.cluster, c.cluster, (size_t)(c.n_items + 1) * sizeof *c.cluster));
    sbr_tfile_free(&f);

    expect_bad_clusters(&c, NULL, NULL, "sbr.graph", "expected sbr.clusters", __LINE__);
    expect_bad_clusters(&c, "n_clusters", "2", NULL, "sizes", __LINE__);
    expect_bad_clusters(&c, "clusters.frequent", "9", NULL, "frequent", __LINE__);
    expect_bad_clusters(&c, "clusters.modularity", "x", NULL, "not a number", __LINE__);
    c.cluster[2] = 7;
    expect_bad_clusters(&c, NULL, NULL, NULL, "out of range", __LINE__);
    c.cluster[2] = 2; /* moves item 2 to cluster 2: sizes now disagree */
    expect_bad_clusters(&c, NULL, NULL, NULL, "sizes says", __LINE__);
    c.cluster[2] = 1;
    c.cluster[0] = 1;
    expect_bad_clusters(&c, NULL, NULL, NULL, "padding", __LINE__);
    c.cluster[0] = 0;
    sbr_clusters_free(&c);
    sbr_graph_free(&g);
}

/* --- unseen items -------------------------------------------------------- */

TEST(unseen_items_rule)
{
    /* items 1..6 known: clusters 1,1,2,2,3,3 */
    static const int32_t cl[7] = {0, 1, 1, 2, 2, 3, 3};
    int32_t out[8];
    /* All known: unchanged. */
    static const int32_t s1[] = {1, 3, 5};
    CHECK_EQ_I64(sbr_unseen_assign(cl, 6, 2, s1, 3, out), 0);
    CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3);
    /* 9 unseen; known items 3, 4 (cluster 2) and 1 (cluster 1): majority 2. */
    static const int32_t s2[] = {1, 9, 3, 4};
    CHECK_EQ_I64(sbr_unseen_assign(cl, 6, 3, s2, 4, out), 1);
    CHECK_EQ_I64(out[1], 2);
    /* Repeated item 1 counts once: 1,1 (cluster 1) vs 3 (2): tie, nearest wins. */
    static const int32_t s3[] = {1, 1, 8, 3};
    sbr_unseen_assign(cl, 6, 3, s3, 4, out);
    CHECK_EQ_I64(out[2], 1); /* distance 1 both sides: the earlier (item 1) */
    static const int32_t s4[] = {1, 1, 0, 8, 3};
    sbr_unseen_assign(cl, 6, 3, s4, 5, out);
    CHECK_EQ_I64(out[3], 2); /* item 3 is nearer; 0 (padding) is not known */
    /* No known item: the most frequent cluster. */
    static const int32_t s5[] = {7, 8};
    CHECK_EQ_I64(sbr_unseen_assign(cl, 6, 3, s5, 2, out), 2);
    CHECK(out[0] == 3 && out[1] == 3);
    /* An item with cluster 0 counts as unseen. */
    static const int32_t cl0[4] = {0, 1, 0, 2};
    static const int32_t s6[] = {2, 3};
    CHECK_EQ_I64(sbr_unseen_assign(cl0, 3, 1, s6, 2, out), 1);
    CHECK_EQ_I64(out[0], 2);
}
