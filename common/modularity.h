/* Modularity of a partition, computed in plain C straight from the CSR graph
 * (independent of igraph, so tests can check what sbr-cluster reports):
 *
 *   Q = sum over clusters c of  L_c / (2m)  -  gamma * (K_c / (2m))^2
 *
 * where, on the undirected graph, L_c is the total weight of entries u->v
 * with u and v in c (both directions of an edge; a self-loop counts twice),
 * K_c the total degree (strength) of the nodes of c, and 2m the total degree.
 * A self-loop of weight w adds 2w to the degree of its node. */
#ifndef SBR_MODULARITY_H
#define SBR_MODULARITY_H

#include <stdint.h>

#include "graph.h"

/* g must be symmetric (sbr_graph_undirected gives one). membership[u] for
 * u in 0..n_nodes-1 is any non-negative label (node 0 has no edge and does
 * not count); labels need not be contiguous but must be < n_labels.
 * Returns NAN when the graph has no edge weight or g is not symmetric. */
double sbr_modularity(const sbr_graph *g, const int32_t *membership, int64_t n_labels,
                      double gamma);

#endif
