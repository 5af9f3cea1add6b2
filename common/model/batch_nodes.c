/* The nodes of a graph batch (batch.h, sbr_batch_nodes): each prefix's
 * unique items in order of first click, packed row after row, and every
 * click's node. */
#include <string.h>

#include "model/batch_parts.h"

/* int32 arrays: uniq, cuniq, node_sess, alias [B L] (T <= B L); n_uniq,
 * last_node [B]; node_off [B + 1]. */
static size_t ints(int B, int L, int K)
{
    (void)K;
    return (size_t)B * L * 4 + (size_t)B * 3 + 1;
}

static void layout(sbr_batch_nodes *p, int32_t *buf, int B, int L)
{
    size_t BL = (size_t)B * L;
    p->uniq = buf, buf += BL;
    p->cuniq = buf, buf += BL;
    p->node_sess = buf, buf += BL;
    p->alias = buf, buf += BL;
    p->n_uniq = buf, buf += B;
    p->last_node = buf, buf += B;
    p->node_off = buf;
}

/* Unique items of a row in order of first click; alias[j] = index of click j. */
static int unique_row(const int32_t *items, int len, int32_t *uniq, int32_t *alias)
{
    int n = 0;
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < n && uniq[u] != items[j])
            u++;
        if (u == n)
            uniq[n++] = items[j];
        alias[j] = u;
    }
    return n;
}

static void build(sbr_batch_nodes *p, const sbr_batch *b)
{
    int B = b->B, L = b->L, U = 0, T = 0;
    for (int i = 0; i < B; i++) { /* uniq at stride L, alias row-local */
        int nu = unique_row(b->items + (size_t)i * L, b->len[i], p->uniq + (size_t)i * L,
                            p->alias + (size_t)i * L);
        p->n_uniq[i] = nu;
        U = nu > U ? nu : U;
    }
    /* Pack uniq from stride L to the rows' node ranges (node_off[i] <= i*L:
     * front to back never overwrites a row not yet moved); point the clicks
     * (padding: the row's first node) at their nodes. */
    for (int i = 0; i < B; i++) {
        int nu = p->n_uniq[i];
        p->node_off[i] = T;
        memmove(p->uniq + T, p->uniq + (size_t)i * L, sizeof(int32_t) * (size_t)nu);
        for (int u = 0; u < nu; u++)
            p->node_sess[T + u] = i;
        int32_t *al = p->alias + (size_t)i * L;
        for (int j = 0; j < L; j++)
            al[j] = T + (j < b->len[i] ? al[j] : 0);
        p->last_node[i] = al[b->len[i] - 1];
        T += nu;
    }
    p->node_off[B] = T;
    p->T = T;
    p->U = U;
    p->cuniq = b->citems ? p->cuniq : NULL;
    if (p->cuniq) /* the cluster of a node: that of its first click */
        for (int i = 0; i < B; i++)
            for (int j = b->len[i] - 1; j >= 0; j--)
                p->cuniq[p->alias[(size_t)i * L + j]] = b->citems[(size_t)i * L + j];
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    layout(&bb->nodes, buf, bb->max_B, bb->max_L);
    build(&bb->nodes, &bb->b);
    bb->b.nodes = &bb->nodes;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_nodes *d = &u->f->dnodes;
    const sbr_batch *b = &hb->b;
    size_t B = (size_t)b->B, BL = B * (size_t)b->L, T = (size_t)b->nodes->T, i4 = sizeof(int32_t);
    *d = *b->nodes;
    sbr_upload_array(u, &d->node_off, B + 1, i4);
    sbr_upload_array(u, &d->node_sess, T, i4);
    sbr_upload_array(u, &d->uniq, T, i4);
    sbr_upload_array(u, &d->cuniq, T, i4);
    sbr_upload_array(u, &d->n_uniq, B, i4);
    sbr_upload_array(u, &d->alias, BL, i4);
    sbr_upload_array(u, &d->last_node, B, i4);
    u->f->dev.nodes = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_nodes = {"nodes", SBR_NEEDS_NODES, ints, no_reals, fill, upload};
