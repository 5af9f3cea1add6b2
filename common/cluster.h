/* Item clusters (kind "sbr.clusters"): Leiden through igraph on a graph
 * file, with the modularity objective, then a cluster for every item.
 *
 * Cluster ids run from 1 to n_clusters, numbered by decreasing size (ties:
 * the cluster holding the smaller item id first); 0 is padding. Items that
 * have no edge in the graph ("isolated") do not take part in Leiden; the
 * --isolated rule gives them a cluster afterwards: SINGLE (default) a new
 * singleton cluster each, numbered after the Leiden clusters in item order;
 * FREQUENT the most frequent cluster. The most frequent cluster is the one
 * with the largest volume (total weighted degree of its items, which follows
 * how often its items are clicked), ties: the smaller id. */
#ifndef SBR_CLUSTER_H
#define SBR_CLUSTER_H

#include <stdint.h>

#include "err.h"
#include "graph.h"
#include "tfile.h"

typedef enum { SBR_ISOLATED_SINGLE = 0, SBR_ISOLATED_FREQUENT = 1 } sbr_isolated_rule;
extern const char *const sbr_isolated_names[]; /* "single", "frequent", NULL */

typedef struct {
    double resolution;       /* gamma of modularity (1.0) */
    double beta;             /* Leiden randomness of the refinement (0.01) */
    uint64_t seed;           /* igraph RNG seed of the first restart */
    int restarts;            /* Leiden runs from seeds seed, seed+1, ...; the best
                                modularity is kept (ties: the earlier run) */
    int64_t max_iterations;  /* < 0: until the partition no longer changes */
    sbr_isolated_rule isolated;
} sbr_leiden_opts;

#define SBR_LEIDEN_STABLE_CAP 1000 /* "until stable" stops here, with stable = 0 */

typedef struct {
    int64_t n_items;
    int64_t n_clusters;
    int32_t *cluster; /* [n_items + 1] id in 1..n_clusters; [0] = 0 */
    int64_t *sizes;   /* [n_clusters + 1] items per cluster; [0] = 0 */
    int32_t frequent; /* the most frequent cluster (see above) */
    /* Leiden run (zero when read from a file unless stored): */
    double modularity;  /* igraph_modularity of the graph partition, gamma = resolution */
    double quality;     /* Leiden's own quality value */
    double resolution, beta;
    uint64_t seed;
    int restarts;
    uint64_t best_seed; /* seed of the run kept */
    int64_t total_iterations; /* over all restarts */
    int64_t iterations; /* Leiden iterations of the run kept */
    int stable;         /* 1 when the last iteration changed nothing */
    int64_t n_graph_clusters; /* clusters found by Leiden (over non-isolated items) */
    int64_t n_isolated;       /* items with no edge */
    sbr_isolated_rule isolated;
    double seconds;           /* Leiden wall time */
    sbr_tfile *file;
} sbr_clusters;

/* Runs Leiden on g (made undirected first when it is not symmetric; see
 * sbr_graph_undirected). Fails on a graph without edges and on igraph
 * errors. iter_cb (may be NULL) is called after each iteration with the
 * number of iterations run so far (over all restarts). */
typedef void (*sbr_leiden_cb)(int64_t iteration, int64_t n_clusters, double quality, void *arg);
int sbr_cluster_leiden(const sbr_graph *g, const sbr_leiden_opts *o, sbr_clusters *c,
                       sbr_leiden_cb iter_cb, void *cb_arg, sbr_err *e);

/* Reads and validates a clusters file: kind, shapes, cluster[0] = 0, ids in
 * 1..n_clusters, sizes equal to the counts, no empty cluster, frequent in
 * range. */
int sbr_clusters_read(const char *path, sbr_clusters *c, sbr_err *e);
int sbr_clusters_from_tfile(const sbr_tfile *f, sbr_clusters *c, sbr_err *e);
void sbr_clusters_add_to(const sbr_clusters *c, sbr_tw *w);
void sbr_clusters_free(sbr_clusters *c);

/* Summary numbers: the largest cluster's size and the number of singletons. */
int64_t sbr_clusters_largest(const sbr_clusters *c);
int64_t sbr_clusters_singletons(const sbr_clusters *c);

#endif
