/* libFuzzer harness: the sbr.graph and sbr.clusters readers must never crash,
 * hang or leak, and whatever they accept must be safe to use: every graph
 * that validates is walked (summary, undirected copy, modularity). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cluster.h"
#include "graph.h"
#include "modularity.h"
#include "tfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbr_tfile f;
    sbr_err e;
    if (sbr_tfile_parse(data, size, &f, &e) != 0)
        return 0;
    sbr_graph g;
    if (sbr_graph_from_tfile(&f, &g, &e) == 0 && g.n_nodes < (1 << 20)) {
        sbr_graph_summary s;
        sbr_graph_summarize(&g, &s);
        sbr_graph u;
        sbr_graph_undirected(&g, &u);
        int32_t *one = calloc((size_t)u.n_nodes, sizeof *one); /* everything in cluster 0 */
        volatile double q = sbr_modularity(&u, one, 1, 1.0);
        (void)q;
        free(one);
        sbr_graph_free(&u);
    }
    sbr_clusters c;
    if (sbr_clusters_from_tfile(&f, &c, &e) == 0) {
        volatile int64_t n = sbr_clusters_largest(&c) + sbr_clusters_singletons(&c);
        (void)n;
    }
    sbr_tfile_free(&f);
    return 0;
}
