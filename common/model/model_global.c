/* The global graph table of GCE-GNN and DMI-GNN (SBR_NEEDS_GLOBAL): every
 * item's global_k heaviest neighbours, from a window graph or from a model
 * file, kept on the host for the batch builder. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int sbr_model_set_global_table(sbr_model *m, const int32_t *nbr, const float *w,
                               const int32_t *n, sbr_err *e)
{
    int64_t rows = (int64_t)m->cfg.n_items + 1, K = m->global_k;
    if (K < 1)
        return sbr_errf(e, "model \"%s\" keeps no global neighbours (global_k = 0)",
                        m->cfg.model);
    for (int64_t i = 0; i < rows; i++) {
        if (n[i] < 0 || n[i] > K || (i == 0 && n[i] != 0))
            return sbr_errf(e, "global table: item %lld has %d neighbours (0..%lld)", (long long)i,
                            n[i], (long long)K);
        for (int64_t k = 0; k < n[i]; k++) {
            int32_t v = nbr[i * K + k];
            float x = w[i * K + k];
            if (v < 1 || v > m->cfg.n_items || !(x >= 0) || !isfinite(x))
                return sbr_errf(e, "global table: item %lld, neighbour %lld: id %d weight %g",
                                (long long)i, (long long)k, v, (double)x);
        }
    }
    free(m->gtab_nbr), free(m->gtab_n), free(m->gtab_w);
    m->gtab_nbr = sbr_xcalloc((size_t)(rows * K), sizeof(int32_t));
    m->gtab_w = sbr_xcalloc((size_t)(rows * K), sizeof(float));
    m->gtab_n = sbr_xcalloc((size_t)rows, sizeof(int32_t));
    for (int64_t i = 0; i < rows; i++) { /* entries past n stay 0 */
        m->gtab_n[i] = n[i];
        memcpy(m->gtab_nbr + i * K, nbr + i * K, sizeof(int32_t) * (size_t)n[i]);
        memcpy(m->gtab_w + i * K, w + i * K, sizeof(float) * (size_t)n[i]);
    }
    return 0;
}

typedef struct {
    int32_t id;
    float w;
} nbr_entry;

/* Heavier first; ties: the smaller id. */
static int by_weight(const void *a, const void *b)
{
    const nbr_entry *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int sbr_model_set_global(sbr_model *m, const sbr_graph *g, sbr_err *e)
{
    if (g->kind != SBR_GRAPH_WINDOW)
        return sbr_errf(e, "a graph of kind %s: %s needs sbr-graph --kind window",
                        sbr_graph_kind_names[g->kind], m->cfg.model);
    if (g->n_nodes != (int64_t)m->cfg.n_items + 1)
        return sbr_errf(e, "a graph of %lld items, the model has %d: made from another sessions "
                           "file?", (long long)g->n_items, m->cfg.n_items);
    int64_t rows = g->n_nodes, K = m->global_k, maxdeg = 0;
    for (int64_t i = 0; i < rows; i++)
        maxdeg = g->offsets[i + 1] - g->offsets[i] > maxdeg ? g->offsets[i + 1] - g->offsets[i]
                                                            : maxdeg;
    int32_t *nbr = sbr_xcalloc((size_t)(rows * K) + 1, sizeof(int32_t));
    int32_t *n = sbr_xcalloc((size_t)rows, sizeof(int32_t));
    float *w = sbr_xcalloc((size_t)(rows * K) + 1, sizeof(float));
    nbr_entry *row = sbr_xmalloc(sizeof(nbr_entry) * (size_t)(maxdeg + 1));
    for (int64_t i = 1; i < rows; i++) {
        int64_t deg = 0;
        for (int64_t k = g->offsets[i]; k < g->offsets[i + 1]; k++)
            if (g->neighbors[k] != i) /* a self-loop is no neighbour */
                row[deg].id = g->neighbors[k], row[deg++].w = g->weights[k];
        qsort(row, (size_t)deg, sizeof *row, by_weight);
        n[i] = (int32_t)(deg < K ? deg : K);
        for (int64_t k = 0; k < n[i]; k++)
            nbr[i * K + k] = row[k].id, w[i * K + k] = row[k].w;
    }
    int rc = sbr_model_set_global_table(m, nbr, w, n, e);
    free(nbr), free(n), free(w), free(row);
    return rc;
}
