/* LESSR's EOP multigraph and shortcut graph over the nodes (batch.h,
 * sbr_batch_eop): the official collate.py's two graphs per prefix, packed
 * over the batch's nodes. */
#include <string.h>

#include "model/batch_parts.h"

/* The shortcut edges a batch of B x L may hold: each prefix at most
 * L (L + 1) / 2 (one per pair of clicks i <= j). */
static size_t sc_cap(int B, int L)
{
    return (size_t)B * L * (L + 1) / 2;
}

/* int32: step_off [L + 1]; e_src, e_ord, last_edge, slot [B L]; sc_off,
 * sct_off [B L + 1]; sc_src, sc_dst, sct_pos [sc_cap]; the build's work arrays
 * indeg, rank, seen [B L] and count [L + 1]. */
static size_t ints(int B, int L, int K)
{
    (void)K;
    size_t BL = (size_t)B * L;
    return 2 * ((size_t)L + 1) + 7 * BL + 2 * (BL + 1) + 3 * sc_cap(B, L);
}

typedef struct {
    int32_t *indeg, *rank, *seen, *count; /* work arrays */
    int32_t *step_off;
} eop_work;

static void layout(sbr_batch_eop *p, eop_work *w, int32_t *buf, int B, int L)
{
    size_t BL = (size_t)B * L, nc = sc_cap(B, L);
    w->step_off = buf, p->step_off = buf, buf += L + 1;
    p->e_src = buf, buf += BL;
    p->e_ord = buf, buf += BL;
    p->last_edge = buf, buf += BL;
    p->slot = buf, buf += BL;
    p->sc_off = buf, buf += BL + 1;
    p->sct_off = buf, buf += BL + 1;
    p->sc_src = buf, buf += nc;
    p->sc_dst = buf, buf += nc;
    p->sct_pos = buf, buf += nc;
    w->indeg = buf, buf += BL;
    w->rank = buf, buf += BL;
    w->seen = buf, buf += BL;
    w->count = buf;
}

/* In-degrees, and the rows of the step-major layout: nodes by decreasing
 * in-degree, ties by node (a counting sort); step_off from the counts. */
static void eop_steps(sbr_batch_eop *p, eop_work *w, const sbr_batch *b, int T)
{
    const int32_t *alias = b->nodes->alias;
    memset(w->indeg, 0, sizeof(int32_t) * (size_t)T);
    int E = 0, D = 0;
    for (int i = 0; i < b->B; i++)
        for (int j = 0; j + 1 < b->len[i]; j++, E++) {
            int v = alias[(size_t)i * b->L + j + 1];
            D = ++w->indeg[v] > D ? w->indeg[v] : D;
        }
    p->E = E, p->D = D;
    memset(w->count, 0, sizeof(int32_t) * ((size_t)D + 1));
    for (int t = 0; t < T; t++)
        w->count[w->indeg[t]]++;
    /* step s holds the nodes of in-degree > s: from the histogram */
    int above = T - w->count[0];
    w->step_off[0] = 0;
    for (int s = 0; s < D; s++) {
        w->step_off[s + 1] = w->step_off[s] + above;
        above -= w->count[s + 1];
    }
    /* count[k] -> the first row of in-degree k (rows by decreasing degree) */
    for (int k = D, at = 0; k >= 0; k--) {
        int c = w->count[k];
        w->count[k] = at;
        at += c;
    }
    for (int t = 0; t < T; t++)
        w->rank[t] = w->count[w->indeg[t]]++;
}

/* Each edge, in click order, at its step-major position; each node's last
 * in-edge; the positions grouped by source (a counting sort, stable). */
static void eop_edges(sbr_batch_eop *p, eop_work *w, const sbr_batch *b, int T)
{
    const int32_t *alias = b->nodes->alias;
    memset(w->seen, 0, sizeof(int32_t) * (size_t)T);
    for (int t = 0; t < T; t++)
        p->last_edge[t] = p->E;
    for (int i = 0; i < b->B; i++)
        for (int j = 0; j + 1 < b->len[i]; j++) {
            int u = alias[(size_t)i * b->L + j], v = alias[(size_t)i * b->L + j + 1];
            int pos = w->step_off[w->seen[v]++] + w->rank[v];
            p->e_src[pos] = u;
            p->last_edge[v] = pos;
        }
    /* e_ord: seen[] reused as each source's first slot */
    memset(w->seen, 0, sizeof(int32_t) * (size_t)T);
    for (int e = 0; e < p->E; e++)
        w->seen[p->e_src[e]]++;
    for (int t = 0, at = 0; t < T; t++) {
        int c = w->seen[t];
        w->seen[t] = at;
        at += c;
    }
    for (int e = 0; e < p->E; e++)
        p->e_ord[w->seen[p->e_src[e]]++] = e;
}

/* Row i's shortcut graph. Its nodes are numbered in order of first click,
 * so the sources of node v (the nodes first clicked at or before v's last
 * click) are the row's nodes 0..m_v, m_v the largest local node among
 * clicks 0..last(v). */
static void shortcut_row(sbr_batch_eop *p, const sbr_batch *b, int i, int *nnz, int32_t *m)
{
    const sbr_batch_nodes *nd = b->nodes;
    int n0 = nd->node_off[i], nu = nd->n_uniq[i], len = b->len[i];
    const int32_t *al = nd->alias + (size_t)i * b->L;
    for (int j = 0, mx = 0; j < len; j++) {
        mx = al[j] - n0 > mx ? al[j] - n0 : mx;
        m[al[j] - n0] = mx; /* the last write is at v's last click */
    }
    for (int v = 0; v < nu; v++) {
        p->sc_off[n0 + v] = *nnz;
        for (int u = 0; u <= m[v]; u++, (*nnz)++)
            p->sc_src[*nnz] = n0 + u, p->sc_dst[*nnz] = n0 + v;
    }
    /* the transpose: source u's edges go to every v with m_v >= u */
    int at = p->sc_off[n0];
    for (int u = 0; u < nu; u++) {
        p->sct_off[n0 + u] = at;
        for (int v = 0; v < nu; v++)
            if (m[v] >= u)
                p->sct_pos[at++] = p->sc_off[n0 + v] + u;
    }
}

static void build(sbr_batch_eop *p, eop_work *w, const sbr_batch *b)
{
    const sbr_batch_nodes *nd = b->nodes;
    int T = nd->T, nnz = 0;
    eop_steps(p, w, b, T);
    eop_edges(p, w, b, T);
    for (int i = 0; i < b->B; i++) {
        shortcut_row(p, b, i, &nnz, w->seen); /* seen: [n_uniq] work here */
        int n0 = nd->node_off[i];
        for (int u = 0; u < b->L; u++)
            p->slot[(size_t)i * b->L + u] = n0 + (u < nd->n_uniq[i] ? u : 0);
    }
    p->sc_off[T] = p->sct_off[T] = nnz;
    p->nnz = nnz;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    eop_work w;
    layout(&bb->eop, &w, buf, bb->max_B, bb->max_L);
    build(&bb->eop, &w, &bb->b);
    bb->b.eop = &bb->eop;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_eop *d = &u->f->deop;
    const sbr_batch_eop *h = hb->b.eop;
    size_t i4 = sizeof(int32_t), T = (size_t)hb->b.nodes->T, E = (size_t)h->E;
    *d = *h; /* step_off stays on the host */
    sbr_upload_array(u, &d->e_src, E, i4);
    sbr_upload_array(u, &d->e_ord, E, i4);
    sbr_upload_array(u, &d->last_edge, T, i4);
    sbr_upload_array(u, &d->sc_off, T + 1, i4);
    sbr_upload_array(u, &d->sct_off, T + 1, i4);
    sbr_upload_csr_end(u, d->sc_off, h->sc_off, T);
    sbr_upload_csr_end(u, d->sct_off, h->sct_off, T);
    sbr_upload_array(u, &d->sc_src, (size_t)h->nnz, i4);
    sbr_upload_array(u, &d->sc_dst, (size_t)h->nnz, i4);
    sbr_upload_array(u, &d->sct_pos, (size_t)h->nnz, i4);
    sbr_upload_array(u, &d->slot, (size_t)hb->b.B * hb->b.L, i4);
    u->f->dev.eop = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_eop = {"eop", SBR_NEEDS_EOP, ints, no_reals, fill, upload};
