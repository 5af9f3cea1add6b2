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

/* int32 arrays of the core: items, citems, rpos, cusers [B, L]; len, target,
 * last, user [B]; ids_ord, cids_ord and their sort's spare [B*L]. */
size_t sbr_batch_core_ints(int B, int L) { return (size_t)B * L * 7 + (size_t)B * 4; }

const sbr_batch_part *const sbr_batch_parts[] = {&sbr_batch_part_nodes, &sbr_batch_part_adj,
                                                   &sbr_batch_part_local4, &sbr_batch_part_global,
                                                   &sbr_batch_part_eop, &sbr_batch_part_clicks,
                                                   &sbr_batch_part_pool, NULL};

/* Buffers of the parts needs asks for (K: global neighbours per node). */
static void alloc_parts(sbr_batch_buf *bb, unsigned needs, int K)
{
    bb->needs = needs;
    bb->K = K;
    for (int k = 0; sbr_batch_parts[k]; k++) {
        const sbr_batch_part *p = sbr_batch_parts[k];
        if (k >= SBR_BATCH_MAX_PARTS)
            sbr_fatal("internal error: more than %d batch parts", SBR_BATCH_MAX_PARTS);
        if (!(needs & p->need))
            continue;
        bb->part_ints[k] = sbr_xcalloc(p->ints(bb->max_B, bb->max_L, K) + 1, sizeof(int32_t));
        bb->part_reals[k] = sbr_xcalloc(p->reals(bb->max_B, bb->max_L, K) + 1, bb->elem);
    }
}

void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, unsigned needs, size_t elem)
{
    memset(bb, 0, sizeof *bb);
    bb->max_B = max_B;
    bb->max_L = max_L;
    bb->backward = 1;
    bb->elem = elem;
    bb->core = sbr_xcalloc(sbr_batch_core_ints(max_B, max_L), sizeof(int32_t));
    bb->core_r = sbr_xcalloc((size_t)max_B + 1, elem);
    alloc_parts(bb, needs, 0); /* the global part gets its K from sbr_batch_buf_model */
}

static void free_parts(sbr_batch_buf *bb)
{
    for (int k = 0; k < SBR_BATCH_MAX_PARTS; k++) {
        free(bb->part_ints[k]);
        free(bb->part_reals[k]);
        bb->part_ints[k] = NULL;
        bb->part_reals[k] = NULL;
    }
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
    free_parts(bb);
    alloc_parts(bb, m->def->needs, (m->def->needs & SBR_NEEDS_GLOBAL) ? m->global_k : 0);
    bb->tab_nbr = m->gtab_nbr;
    bb->tab_n = m->gtab_n;
    bb->tab_w = m->gtab_w;
    bb->tab_rows = m->gtab_nbr ? (int64_t)m->cfg.n_items + 1 : 0;
    bb->user_ids = m->user_ids;
    bb->n_users = m->user_ids ? m->cfg.n_users : 0;
    bb->user_prompts = m->cfg.user_prompts && m->user_ids;
    bb->pool_split = m->pool.split;
    bb->pool_row_of = m->pool.row_of;
    bb->pool_rows_before = m->pool.rows_before;
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
    b->cusers = p, p += BL;
    b->len = p, p += B;
    b->target = p, p += B;
    b->last = p, p += B;
    b->user = p, p += B;
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
    memset(b->items, 0, sizeof(int32_t) * (size_t)B * L * 4); /* items, citems, rpos, cusers */
    for (int i = 0; i < B; i++) {
        int64_t s = smp->session[order[i]];
        int full = smp->prefix_len[order[i]];
        int len = full > bb->max_L ? bb->max_L : full;
        const int32_t *src = sp->items + sp->offsets[s] + (full - len);
        b->len[i] = len;
        b->target[i] = sp->items[sp->offsets[s] + full];
        b->last[i] = i * L + len - 1;
        b->user[i] = bb->user_ids && sp->users
                         ? sbr_user_index(bb->user_ids, bb->n_users, sp->users[s])
                         : 0;
        sbr_batch_set_real(b->flen, bb->elem, (size_t)i, len);
        for (int j = 0; j < len; j++) {
            b->items[i * L + j] = src[j] <= n_items ? src[j] : 0;
            b->rpos[i * L + j] = len - 1 - j;
            if (bb->user_prompts)
                b->cusers[i * L + j] = b->user[i];
        }
        if (clip)
            sbr_unseen_assign(clip->cluster, n_items, clip->frequent, src, len, b->citems + i * L);
    }
}

/* The parts the buffer was set up for, each on what came before. */
static void fill_parts(sbr_batch_buf *bb, const sbr_clip_map *clip)
{
    sbr_batch *b = &bb->b;
    b->nodes = NULL, b->adj = NULL, b->local4 = NULL, b->global = NULL;
    b->eop = NULL, b->clicks = NULL, b->pool = NULL;
    for (int k = 0; sbr_batch_parts[k]; k++)
        if (bb->needs & sbr_batch_parts[k]->need)
            sbr_batch_parts[k]->fill(bb, bb->part_ints[k], bb->part_reals[k], clip);
}

void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const sbr_clip_map *clip)
{
    if (B > bb->max_B)
        sbr_fatal("internal error: batch of %d over its capacity %d", B, bb->max_B);
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
    b->cusers = bb->user_prompts ? b->cusers : NULL;
    fill_core(bb, sp, smp, order, n_items, clip);
    bb->fill_sp = sp, bb->fill_smp = smp, bb->fill_order = order;
    fill_parts(bb, clip);
    bb->fill_sp = NULL, bb->fill_smp = NULL, bb->fill_order = NULL;
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
