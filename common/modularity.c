/* Plain modularity of a partition; see modularity.h. Sums in double, in a
 * fixed order, so the value is reproducible. */
#include "modularity.h"

#include <math.h>
#include <stdlib.h>

double sbr_modularity(const sbr_graph *g, const int32_t *membership, int64_t n_labels,
                      double gamma)
{
    if (!g->symmetric || n_labels < 1)
        return NAN;
    double *inside = sbr_xcalloc((size_t)n_labels, sizeof *inside); /* L_c */
    double *degree = sbr_xcalloc((size_t)n_labels, sizeof *degree); /* K_c */
    double two_m = 0;
    for (int64_t u = 0; u < g->n_nodes; u++) {
        int32_t cu = membership[u];
        if (g->offsets[u + 1] > g->offsets[u] && (cu < 0 || cu >= n_labels)) {
            free(inside);
            free(degree);
            return NAN;
        }
        for (int64_t p = g->offsets[u]; p < g->offsets[u + 1]; p++) {
            int32_t v = g->neighbors[p];
            double w = g->weights[p] * (v == u ? 2.0 : 1.0);
            degree[cu] += w;
            two_m += w;
            if (membership[v] == cu)
                inside[cu] += w;
        }
    }
    double q = NAN;
    if (two_m > 0) {
        q = 0;
        for (int64_t c = 0; c < n_labels; c++)
            q += inside[c] / two_m - gamma * (degree[c] / two_m) * (degree[c] / two_m);
    }
    free(inside);
    free(degree);
    return q;
}
