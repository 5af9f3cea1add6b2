/* The host side of a batch (batch.h): the core every model reads, and the
 * parts its model asks for (batch_*.c). */
#include "model/batch.h"

#include <stdlib.h>
#include <string.h>

#include "model/batch_parts.h"
#include "model/def.h"
#include "unseen.h"

sbr_batch_caps sbr_batch_caps_for(int max_B, int max_L, int K)
{
    int BL = max_B * max_L;
    return (sbr_batch_caps){max_B, max_L, BL, 3 * BL, K};
}

void sbr_batch_set_real(void *w, size_t elem, size_t i, double v)
{
    if (elem == sizeof(double))
        ((double *)w)[i] = v;
    else
        ((float *)w)[i] = (float)v;
}

/* int32 arrays of the core: items, citems, rpos [B, L]; len, target, last
 * [B]; ids_ord, cids_ord and their sort's spare [B*L]. */
static size_t core_ints(int B, int L) { return (size_t)B * L * 6 + (size_t)B * 3; }

/* Buffers of the parts of needs (K: global neighbours per node). */
static void alloc_parts(sbr_batch_buf *bb, unsigned needs, int K)
{
    int B = bb->max_B, L = bb->max_L;
    bb->needs = needs;
    bb->K = K;
    if (needs & SBR_NEEDS_NODES)
        bb->nodes_buf = sbr_xcalloc(sbr_nodes_ints(B, L), sizeof(int32_t));
    if (needs & SBR_NEEDS_GRAPH) {
        bb->adj_buf = sbr_xcalloc(sbr_adj_ints(B, L), sizeof(int32_t));
        bb->adj_w = sbr_xcalloc(sbr_adj_reals(B, L), bb->elem);
    }
    if (needs & SBR_NEEDS_LOCAL4)
        bb->local4_buf = sbr_xcalloc(sbr_local4_ints(B, L), sizeof(int32_t));
    if (needs & SBR_NEEDS_GLOBAL) {
        bb->global_buf = sbr_xcalloc(sbr_global_ints(B, L, K), sizeof(int32_t));
        bb->global_w = sbr_xcalloc(sbr_global_reals(B, L, K), bb->elem);
    }
}

void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, unsigned needs, size_t elem)
{
    memset(bb, 0, sizeof *bb);
    bb->max_B = max_B;
    bb->max_L = max_L;
    bb->backward = 1;
    bb->elem = elem;
    bb->core = sbr_xcalloc(core_ints(max_B, max_L), sizeof(int32_t));
    bb->core_r = sbr_xcalloc((size_t)max_B + 1, elem);
    /* the global part needs the model's table: sbr_batch_buf_model */
    alloc_parts(bb, needs & (SBR_NEEDS_NODES & ~SBR_NEEDS_GLOBAL), 0);
}

static void free_parts(sbr_batch_buf *bb)
{
    free(bb->nodes_buf), free(bb->adj_buf), free(bb->adj_w), free(bb->local4_buf);
    free(bb->global_buf), free(bb->global_w);
    bb->nodes_buf = bb->adj_buf = bb->local4_buf = bb->global_buf = NULL;
    bb->adj_w = bb->global_w = NULL;
}

void sbr_batch_buf_free(sbr_batch_buf *bb)
{
    free(bb->core);
    free(bb->core_r);
    free_parts(bb);
    memset(bb, 0, sizeof *bb);
}

void sbr_batch_buf_model(sbr_batch_buf *bb, const sbr_model *m)
{
    unsigned needs = m->def->needs & SBR_NEEDS_NODES;
    free_parts(bb);
    alloc_parts(bb, needs, (needs & SBR_NEEDS_GLOBAL) ? m->global_k : 0);
    bb->tab_nbr = m->gtab_nbr;
    bb->tab_n = m->gtab_n;
    bb->tab_w = m->gtab_w;
    bb->tab_rows = m->gtab_nbr ? (int64_t)m->cfg.n_items + 1 : 0;
}

/* Points the core's arrays into its buffer for B x L. */
static void core_layout(sbr_batch_buf *bb, int B, int L)
{
    sbr_batch *b = &bb->b;
    int32_t *p = bb->core;
    size_t BL = (size_t)B * L;
    b->items = p, p += BL;
    b->citems = p, p += BL;
    b->rpos = p, p += BL;
    b->len = p, p += B;
    b->target = p, p += B;
    b->last = p, p += B;
    b->ids_ord = p, p += BL;
    b->cids_ord = p, p += BL;
    bb->ord_spare = p;
    b->flen = bb->core_r;
}

/* ord [m] = the positions i < n with ids[i] != 0, sorted by (ids[i], i), as
 * embedding_backward_grouped takes them: a stable radix sort of 11-bit
 * digits (ids >= 0: items, clusters). spare: n ints. Returns m. */
static int group_ids(const int32_t *ids, int n, int32_t *ord, int32_t *spare)
{
    int m = 0;
    uint32_t mx = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] != 0) {
            ord[m++] = i;
            mx = (uint32_t)ids[i] > mx ? (uint32_t)ids[i] : mx;
        }
    for (int shift = 0; shift < 32 && (mx >> shift) > 0; shift += 11) {
        int count[2049] = {0};
        for (int j = 0; j < m; j++)
            count[(((uint32_t)ids[ord[j]] >> shift) & 2047) + 1]++;
        for (int c = 0; c < 2048; c++)
            count[c + 1] += count[c];
        for (int j = 0; j < m; j++)
            spare[count[((uint32_t)ids[ord[j]] >> shift) & 2047]++] = ord[j];
        memcpy(ord, spare, sizeof(int32_t) * (size_t)m);
    }
    return m;
}

/* The core: every row's (truncated) prefix, lengths, targets, positions. */
static void fill_core(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                      const int64_t *order, int n_items, const sbr_clip_map *clip)
{
    sbr_batch *b = &bb->b;
    int B = b->B, L = b->L;
    memset(b->items, 0, sizeof(int32_t) * (size_t)B * L * 3); /* items, citems, rpos */
    for (int i = 0; i < B; i++) {
        int64_t s = smp->session[order[i]];
        int full = smp->prefix_len[order[i]];
        int len = full > bb->max_L ? bb->max_L : full;
        const int32_t *src = sp->items + sp->offsets[s] + (full - len);
        b->len[i] = len;
        b->target[i] = sp->items[sp->offsets[s] + full];
        b->last[i] = i * L + len - 1;
        sbr_batch_set_real(b->flen, bb->elem, (size_t)i, len);
        for (int j = 0; j < len; j++) {
            b->items[i * L + j] = src[j] <= n_items ? src[j] : 0;
            b->rpos[i * L + j] = len - 1 - j;
        }
        if (clip)
            sbr_unseen_assign(clip->cluster, n_items, clip->frequent, src, len, b->citems + i * L);
    }
}

/* The parts the buffer was set up for, each on what came before. */
static void fill_parts(sbr_batch_buf *bb, const sbr_clip_map *clip)
{
    sbr_batch *b = &bb->b;
    int B = bb->max_B, L = bb->max_L;
    b->nodes = NULL, b->adj = NULL, b->local4 = NULL, b->global = NULL;
    if (!(bb->needs & SBR_NEEDS_NODES))
        return;
    sbr_nodes_layout(&bb->nodes, bb->nodes_buf, B, L);
    sbr_nodes_build(&bb->nodes, b);
    b->nodes = &bb->nodes;
    if (bb->needs & SBR_NEEDS_GRAPH) {
        sbr_adj_layout(&bb->adj, bb->adj_buf, bb->adj_w, bb->elem, B, L);
        sbr_adj_build(&bb->adj, &bb->nodes, b, bb->elem, bb->backward);
        b->adj = &bb->adj;
    }
    if (bb->needs & SBR_NEEDS_LOCAL4) {
        sbr_local4_layout(&bb->local4, bb->local4_buf, B, L);
        sbr_local4_build(&bb->local4, &bb->nodes, b);
        b->local4 = &bb->local4;
    }
    if (bb->needs & SBR_NEEDS_GLOBAL) {
        sbr_global_table t = {bb->K, bb->tab_nbr, bb->tab_n, bb->tab_w, bb->tab_rows};
        sbr_global_layout(&bb->global, bb->global_buf, bb->global_w, B, L, bb->K);
        sbr_global_build(&bb->global, &bb->nodes, &t, clip ? clip->cluster : NULL, bb->elem);
        b->global = &bb->global;
    }
}

void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const sbr_clip_map *clip)
{
    if (B > bb->max_B)
        sbr_fatal("internal error: batch of %d over its capacity %d", B, bb->max_B);
    if ((bb->needs & SBR_NEEDS_GLOBAL) && !bb->tab_nbr)
        sbr_fatal("internal error: a batch for a model without its global table");
    /* L: the longest (truncated) prefix of this batch. */
    int L = 1;
    for (int i = 0; i < B; i++) {
        int len = smp->prefix_len[order[i]];
        len = len > bb->max_L ? bb->max_L : len;
        L = len > L ? len : L;
    }
    core_layout(bb, B, L);
    sbr_batch *b = &bb->b;
    b->B = B;
    b->L = L;
    b->citems = clip ? b->citems : NULL;
    fill_core(bb, sp, smp, order, n_items, clip);
    fill_parts(bb, clip);
    /* the front's ids (the nodes' items for graph batches, else the clicks')
     * grouped for its embedding backward */
    const int32_t *ids = b->nodes ? b->nodes->uniq : b->items;
    const int32_t *cids = b->nodes ? b->nodes->cuniq : b->citems;
    int n = b->nodes ? b->nodes->T : B * L;
    if (!bb->backward)
        b->ids_ord = NULL, cids = NULL;
    b->n_ord = b->ids_ord ? group_ids(ids, n, b->ids_ord, bb->ord_spare) : 0;
    b->n_cord = cids ? group_ids(cids, n, b->cids_ord, bb->ord_spare) : 0;
    if (!cids)
        b->cids_ord = NULL;
}
