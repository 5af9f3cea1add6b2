/* Global item graphs built from sessions (kind "sbr.graph"), in CSR form.
 *
 * Three kinds (docs/GRAPH.md):
 *   adjacent    CLIP-SBR: undirected, an edge for each pair of consecutive
 *               clicks, weight = number of times the pair occurs.
 *   window      GCE-GNN: undirected co-occurrence within +-w positions,
 *               weight = number of position pairs (i, j), 0 < j - i <= w;
 *               then each item keeps its top-k neighbours by weight (ties:
 *               the smaller neighbour id), so rows need not be symmetric.
 *   transition  directed next-item counts: row u lists the items clicked
 *               right after u, weight = count.
 * Self-loops (an item next to itself) are dropped and counted unless asked.
 *
 * Nodes are item ids 0..n_items (node 0 is padding and has no edges). Rows are
 * sorted by neighbour id, without duplicates; weights are positive. In an
 * undirected graph an edge u-v (u != v) is stored in both rows and a self-loop
 * u-u once in row u; its weight w counts 2w in the degree of u (the usual
 * convention of modularity, and igraph's). */
#ifndef SBR_GRAPH_H
#define SBR_GRAPH_H

#include <stdint.h>

#include "err.h"
#include "sessions.h"
#include "tfile.h"

typedef enum { SBR_GRAPH_ADJACENT = 0, SBR_GRAPH_WINDOW = 1, SBR_GRAPH_TRANSITION = 2 } sbr_graph_kind;
extern const char *const sbr_graph_kind_names[]; /* "adjacent", "window", "transition", NULL */

typedef struct {
    sbr_graph_kind kind;
    int window;     /* window kind: +-w positions (>= 1) */
    int topk;       /* window kind: neighbours kept per item (0 = all) */
    int self_loops; /* keep self-loops */
    int splits;     /* bit mask of splits used: 1 << SBR_TRAIN (default), | 1 << SBR_VALID ... */
} sbr_graph_opts;

/* What the builder read and what it dropped; every dropped pair is counted. */
typedef struct {
    int64_t sessions, clicks;
    int64_t pairs;          /* position pairs seen (before any rule) */
    int64_t self_dropped;   /* pairs of an item with itself, dropped */
    int64_t unknown_dropped; /* pairs touching an item outside 1..n_items (valid/test-only items) */
    int64_t topk_dropped;   /* row entries removed by the top-k rule */
} sbr_graph_build_stats;

typedef struct {
    sbr_graph_kind kind;
    int directed;      /* 1 for transition */
    int symmetric;     /* 1 when v in row u (weight w) <=> u in row v (weight w) */
    int window, topk, self_loops, splits;
    int64_t n_items;   /* nodes are 0..n_items */
    int64_t n_nodes;   /* n_items + 1 */
    int64_t nnz;       /* stored row entries */
    int64_t n_edges;   /* symmetric: distinct unordered pairs (self-loops once); else nnz */
    int64_t *offsets;  /* [n_nodes + 1] */
    int32_t *neighbors; /* [nnz] ascending within each row */
    float *weights;    /* [nnz] > 0, finite */
    sbr_graph_build_stats build; /* zero when read from a file */
    sbr_tfile *file;   /* backing storage when read from a file, else NULL */
} sbr_graph;

/* Builds the graph of the chosen splits of s. Valid/test sessions stored one
 * pre-expanded sample each (last_only) count only the pairs that end at their
 * target, so that overlapping prefixes count each click pair once.
 * Fails when the graph has no edge. Uses the OpenMP threads (--threads). */
int sbr_graph_build(const sbr_sessions *s, const sbr_graph_opts *o, sbr_graph *g, sbr_err *e);

/* Reads and fully validates a graph file: kind, dtypes and shapes, metadata,
 * offsets monotone, neighbours in 1..n_items, rows strictly ascending,
 * weights finite and > 0, symmetry when the file claims it, node 0 empty. */
int sbr_graph_read(const char *path, sbr_graph *g, sbr_err *e);
/* Same on a tensor file already read (e.g. parsed from memory). g keeps
 * pointers into f; f must outlive g. */
int sbr_graph_from_tfile(const sbr_tfile *f, sbr_graph *g, sbr_err *e);
/* Adds the tensors and metadata of g to a writer. */
void sbr_graph_add_to(const sbr_graph *g, sbr_tw *w);
void sbr_graph_free(sbr_graph *g);

/* An undirected symmetric copy for clustering: a symmetric graph is copied
 * as is; otherwise an edge u-v exists when either row has it, weight
 * w(u,v) + w(v,u) for a directed graph (so transition gives back the
 * adjacency counts) and max(w(u,v), w(v,u)) for an undirected one whose rows
 * were cut by top-k (both directions hold the same count). */
void sbr_graph_undirected(const sbr_graph *g, sbr_graph *out);

/* Items 1..n_items with no edge at all (no row entry and in no row). */
int64_t sbr_graph_count_isolated(const sbr_graph *g);

/* Summary of the weight and degree distributions (over items that have an
 * edge): min, median, mean, 99th percentile, max. */
typedef struct {
    double min, median, mean, p99, max;
} sbr_dist;
typedef struct {
    int64_t isolated;
    int64_t self_loops; /* stored self-loop entries */
    double total_weight;
    sbr_dist weight; /* over stored entries */
    sbr_dist degree; /* row lengths of items with an edge */
    sbr_dist strength; /* weighted degree of items with an edge */
} sbr_graph_summary;
void sbr_graph_summarize(const sbr_graph *g, sbr_graph_summary *s);

#endif
