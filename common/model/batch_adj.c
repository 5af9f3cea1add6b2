/* SR-GNN's session graph over the nodes (batch.h, sbr_batch_adj): the
 * official utils.get_slice's degree-normalised in/out adjacency, CSR. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model/batch_parts.h"

/* int32: in_off, out_off [B L + 1]; in_idx, out_idx [B L] (nnz <= B L: a
 * session of len clicks has at most len - 1 edges). */
static size_t ints(int B, int L, int K)
{
    (void)K;
    return 4 * ((size_t)B * L + 1);
}

/* reals: in_w, out_w, in_tw, out_tw [B L] each */
static size_t reals(int B, int L, int K)
{
    (void)K;
    return (size_t)B * L * 4;
}

static void layout(sbr_batch_adj *p, int32_t *buf, void *w, size_t elem, int B, int L)
{
    size_t BL = (size_t)B * L;
    p->in_off = buf, buf += BL + 1;
    p->out_off = buf, buf += BL + 1;
    p->in_idx = buf, buf += BL + 1;
    p->out_idx = buf;
    p->in_w = w;
    p->out_w = (char *)w + BL * elem;
    p->in_tw = (char *)w + 2 * BL * elem;
    p->out_tw = (char *)w + 3 * BL * elem;
}

typedef struct {
    sbr_batch_adj *p;
    size_t elem;
    int tw; /* the transposes' weights too */
    int nnz_in, nnz_out;
} adj_cursor;

/* One row's graph (utils.get_slice): an edge u -> v for each consecutive
 * pair (counted once), in-weights 1/indeg(v), out-weights 1/outdeg(u).
 * Appends the row's nu nodes (from node n0 on); alias: the row's clicks as
 * indices 0..nu-1. A_in^T has A_out's pattern and A_out^T A_in's, in the
 * same order: in_tw / out_tw are the transposes' weights over those
 * patterns (the GGNN backward's A^T dy). */
static void graph_row(adj_cursor *c, int n0, const int32_t *alias, int len, int nu)
{
    sbr_batch_adj *p = c->p;
    /* edges as a dense nu x nu bitmap, and the degrees: sessions are short */
    static _Thread_local uint8_t adj[256 * 256];
    static _Thread_local int deg[2 * 256];
    uint8_t *a = nu <= 256 ? adj : sbr_xcalloc((size_t)nu * nu, 1);
    int *indeg = nu <= 256 ? deg : sbr_xcalloc(2 * (size_t)nu, sizeof(int)), *outdeg = indeg + nu;
    if (nu <= 256)
        memset(a, 0, (size_t)nu * nu);
    for (int j = 0; j + 1 < len; j++)
        a[alias[j] * nu + alias[j + 1]] = 1;
    for (int u = 0; u < nu; u++) {
        indeg[u] = outdeg[u] = 0;
        for (int v = 0; v < nu; v++) {
            indeg[u] += a[v * nu + u];
            outdeg[u] += a[u * nu + v];
        }
    }
    for (int u = 0; u < nu; u++) {
        p->in_off[n0 + u] = c->nnz_in;
        p->out_off[n0 + u] = c->nnz_out;
        for (int v = 0; v < nu; v++) {
            if (a[v * nu + u]) { /* A_in[u][v] = A_out^T[u][v] */
                p->in_idx[c->nnz_in] = n0 + v;
                sbr_batch_set_real(p->in_w, c->elem, (size_t)c->nnz_in, 1.0 / indeg[u]);
                if (c->tw)
                    sbr_batch_set_real(p->out_tw, c->elem, (size_t)c->nnz_in, 1.0 / outdeg[v]);
                c->nnz_in++;
            }
            if (a[u * nu + v]) { /* A_out[u][v] = A_in^T[u][v] */
                p->out_idx[c->nnz_out] = n0 + v;
                sbr_batch_set_real(p->out_w, c->elem, (size_t)c->nnz_out, 1.0 / outdeg[u]);
                if (c->tw)
                    sbr_batch_set_real(p->in_tw, c->elem, (size_t)c->nnz_out, 1.0 / indeg[v]);
                c->nnz_out++;
            }
        }
    }
    if (a != adj)
        free(a);
    if (indeg != deg)
        free(indeg);
}

static void build(sbr_batch_adj *p, const sbr_batch_nodes *nd, const sbr_batch *b, size_t elem,
                  int backward)
{
    if (!backward)
        p->in_tw = p->out_tw = NULL;
    adj_cursor c = {p, elem, backward, 0, 0};
    int32_t *local = sbr_xmalloc(sizeof(int32_t) * (size_t)b->L);
    for (int i = 0; i < b->B; i++) {
        int n0 = nd->node_off[i];
        for (int j = 0; j < b->len[i]; j++)
            local[j] = nd->alias[(size_t)i * b->L + j] - n0;
        graph_row(&c, n0, local, b->len[i], nd->n_uniq[i]);
    }
    free(local);
    p->in_off[nd->T] = c.nnz_in;
    p->out_off[nd->T] = c.nnz_out;
    p->nnz_in = c.nnz_in;
    p->nnz_out = c.nnz_out;
}

/* backward: also the transposes' weights (else in_tw = out_tw = NULL). */
static void fill(sbr_batch_buf *bb, int32_t *buf, void *w, const sbr_clip_map *clip)
{
    (void)clip;
    layout(&bb->adj, buf, w, bb->elem, bb->max_B, bb->max_L);
    build(&bb->adj, bb->b.nodes, &bb->b, bb->elem, bb->backward);
    bb->b.adj = &bb->adj;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_adj *d = &u->f->dadj;
    const sbr_batch_adj *h = hb->b.adj;
    size_t i4 = sizeof(int32_t), es = hb->elem, nt = (size_t)hb->b.nodes->T;
    *d = *h;
    sbr_upload_array(u, &d->in_off, nt + 1, i4);
    sbr_upload_array(u, &d->out_off, nt + 1, i4);
    sbr_upload_csr_end(u, d->in_off, h->in_off, nt);
    sbr_upload_csr_end(u, d->out_off, h->out_off, nt);
    sbr_upload_array(u, &d->in_idx, (size_t)d->nnz_in, i4);
    sbr_upload_array(u, &d->out_idx, (size_t)d->nnz_out, i4);
    sbr_upload_array(u, &d->in_w, (size_t)d->nnz_in, es);
    sbr_upload_array(u, &d->out_w, (size_t)d->nnz_out, es);
    sbr_upload_array(u, &d->in_tw, (size_t)d->nnz_out, es);
    sbr_upload_array(u, &d->out_tw, (size_t)d->nnz_in, es);
    u->f->dev.adj = d;
}

const sbr_batch_part sbr_batch_part_adj = {"adj", SBR_NEEDS_GRAPH, ints, reals, fill, upload};
