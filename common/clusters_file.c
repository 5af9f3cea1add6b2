/* sbr.clusters files: reading, writing and the summary counts (no igraph:
 * the tools that read clusters need not load it; Leiden is cluster.c). */
#include "cluster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sbr_isolated_names[] = {"single", "frequent", NULL};

static int meta_double(const sbr_tfile *f, const char *key, double *out, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, key);
    char *end;
    if (!v)
        return sbr_errf(e, "metadata %s is missing", key);
    *out = strtod(v, &end);
    if (end == v || *end || !isfinite(*out))
        return sbr_errf(e, "metadata %s is not a number: \"%.40s\"", key, v);
    return 0;
}

int sbr_clusters_from_tfile(const sbr_tfile *f, sbr_clusters *c, sbr_err *e)
{
    memset(c, 0, sizeof *c);
    if (sbr_tfile_expect_kind(f, "sbr.clusters", e) < 0)
        return -1;
    int64_t n_items, n_clusters, frequent, iterations, stable, seed;
    if (sbr_tfile_meta_i64(f, "n_items", &n_items, e) < 0 ||
        sbr_tfile_meta_i64(f, "n_clusters", &n_clusters, e) < 0 ||
        sbr_tfile_meta_i64(f, "clusters.frequent", &frequent, e) < 0 ||
        sbr_tfile_meta_i64(f, "clusters.iterations", &iterations, e) < 0 ||
        sbr_tfile_meta_i64(f, "clusters.stable", &stable, e) < 0 ||
        sbr_tfile_meta_i64(f, "clusters.seed", &seed, e) < 0 ||
        meta_double(f, "clusters.modularity", &c->modularity, e) < 0 ||
        meta_double(f, "clusters.resolution", &c->resolution, e) < 0)
        return -1;
    if (n_items < 1 || n_items >= INT32_MAX)
        return sbr_errf(e, "n_items %lld out of range", (long long)n_items);
    if (n_clusters < 1 || n_clusters > n_items)
        return sbr_errf(e, "n_clusters %lld out of range 1..%lld", (long long)n_clusters,
                        (long long)n_items);
    if (frequent < 1 || frequent > n_clusters)
        return sbr_errf(e, "clusters.frequent %lld out of range 1..%lld", (long long)frequent,
                        (long long)n_clusters);
    const sbr_tensor *tc = sbr_tfile_need(f, "cluster", SBR_I32, 1, e);
    if (!tc)
        return -1;
    const sbr_tensor *ts = sbr_tfile_need(f, "sizes", SBR_I64, 1, e);
    if (!ts)
        return -1;
    if (tc->shape[0] != n_items + 1)
        return sbr_errf(e, "cluster has %lld entries, expected n_items + 1 = %lld",
                        (long long)tc->shape[0], (long long)n_items + 1);
    if (ts->shape[0] != n_clusters + 1)
        return sbr_errf(e, "sizes has %lld entries, expected n_clusters + 1 = %lld",
                        (long long)ts->shape[0], (long long)n_clusters + 1);
    const int32_t *cl = tc->data;
    const int64_t *sz = ts->data;
    if (cl[0] != 0)
        return sbr_errf(e, "cluster[0] (padding) is %d, expected 0", cl[0]);
    if (sz[0] != 0)
        return sbr_errf(e, "sizes[0] is %lld, expected 0", (long long)sz[0]);
    int64_t *count = sbr_xcalloc((size_t)n_clusters + 1, sizeof *count);
    for (int64_t u = 1; u <= n_items; u++) {
        if (cl[u] < 1 || cl[u] > n_clusters) {
            free(count);
            return sbr_errf(e, "cluster of item %lld is %d, out of range 1..%lld", (long long)u,
                            cl[u], (long long)n_clusters);
        }
        count[cl[u]]++;
    }
    for (int64_t k = 1; k <= n_clusters; k++)
        if (count[k] != sz[k] || count[k] == 0) {
            int64_t got = count[k];
            free(count);
            return sbr_errf(e, "cluster %lld holds %lld items but sizes says %lld", (long long)k,
                            (long long)got, (long long)sz[k]);
        }
    free(count);
    c->n_items = n_items;
    c->n_clusters = n_clusters;
    c->cluster = (int32_t *)cl;
    c->sizes = (int64_t *)sz;
    c->frequent = (int32_t)frequent;
    c->iterations = iterations;
    c->stable = stable != 0;
    c->seed = (uint64_t)seed;
    int iso = SBR_ISOLATED_SINGLE; /* files from before the rule: single */
    if (sbr_tfile_meta_choice(f, "clusters.isolated", sbr_isolated_names, &iso, e) < 0)
        return -1;
    c->isolated = (sbr_isolated_rule)iso;
    return 0;
}

int sbr_clusters_read(const char *path, sbr_clusters *c, sbr_err *e)
{
    sbr_tfile *f = sbr_xcalloc(1, sizeof *f);
    if (sbr_tfile_read(path, f, e) < 0 || sbr_clusters_from_tfile(f, c, e) < 0) {
        sbr_tfile_free(f);
        free(f);
        memset(c, 0, sizeof *c);
        return -1;
    }
    c->file = f;
    return 0;
}

void sbr_clusters_add_to(const sbr_clusters *c, sbr_tw *w)
{
    sbr_tw_add1(w, "cluster", SBR_I32, c->n_items + 1, c->cluster);
    sbr_tw_add1(w, "sizes", SBR_I64, c->n_clusters + 1, c->sizes);
    sbr_tw_metaf(w, "n_items", "%lld", (long long)c->n_items);
    sbr_tw_metaf(w, "n_clusters", "%lld", (long long)c->n_clusters);
    sbr_tw_meta(w, "clusters.method", "leiden-modularity (igraph)");
    sbr_tw_metaf(w, "clusters.modularity", "%.17g", c->modularity);
    sbr_tw_metaf(w, "clusters.quality", "%.17g", c->quality);
    sbr_tw_metaf(w, "clusters.resolution", "%.17g", c->resolution);
    sbr_tw_metaf(w, "clusters.beta", "%.17g", c->beta);
    sbr_tw_metaf(w, "clusters.seed", "%llu", (unsigned long long)c->seed);
    sbr_tw_metaf(w, "clusters.restarts", "%d", c->restarts);
    sbr_tw_metaf(w, "clusters.best_seed", "%llu", (unsigned long long)c->best_seed);
    sbr_tw_metaf(w, "clusters.iterations", "%lld", (long long)c->iterations);
    sbr_tw_metaf(w, "clusters.stable", "%d", c->stable);
    sbr_tw_metaf(w, "clusters.graph_clusters", "%lld", (long long)c->n_graph_clusters);
    sbr_tw_metaf(w, "clusters.isolated_items", "%lld", (long long)c->n_isolated);
    sbr_tw_meta(w, "clusters.isolated", sbr_isolated_names[c->isolated]);
    sbr_tw_metaf(w, "clusters.frequent", "%d", c->frequent);
}

void sbr_clusters_free(sbr_clusters *c)
{
    if (c->file) {
        sbr_tfile_free(c->file);
        free(c->file);
    } else {
        free(c->cluster);
        free(c->sizes);
    }
    memset(c, 0, sizeof *c);
}

int64_t sbr_clusters_largest(const sbr_clusters *c)
{
    int64_t m = 0;
    for (int64_t k = 1; k <= c->n_clusters; k++)
        if (c->sizes[k] > m)
            m = c->sizes[k];
    return m;
}

int64_t sbr_clusters_singletons(const sbr_clusters *c)
{
    int64_t n = 0;
    for (int64_t k = 1; k <= c->n_clusters; k++)
        n += c->sizes[k] == 1;
    return n;
}
