/* GCE-GNN's four-type session graph over the nodes (batch.h,
 * sbr_batch_local4), as the official utils.Data builds it. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model/batch_parts.h"

/* int32: le_off [B L + 1] (T <= B L), le_idx and le_type [3 B L] each (a
 * node's self edge plus at most two edges per click pair). */
static size_t ints(int B, int L, int K)
{
    (void)K;
    return (size_t)B * L * 7 + 1;
}

static void layout(sbr_batch_local4 *p, int32_t *buf, int B, int L)
{
    size_t BL = (size_t)B * L;
    p->le_off = buf, buf += BL + 1;
    p->le_idx = buf, buf += 3 * BL;
    p->le_type = buf;
}

/* Row i: every real node has its self edge (type 0); for nodes u != v,
 * type 1 when v was clicked right before u somewhere in the prefix, 2 when
 * right after, 3 both. */
static void local4_row(sbr_batch_local4 *p, const sbr_batch_nodes *nd, const sbr_batch *b, int i,
                       int *nnz)
{
    int nu = nd->n_uniq[i], len = b->len[i], n0 = nd->node_off[i];
    static _Thread_local uint8_t adj[256 * 256];
    uint8_t *a = nu <= 256 ? adj : sbr_xcalloc((size_t)nu * nu, 1);
    memset(a, 0, (size_t)nu * nu);
    const int32_t *al = nd->alias + (size_t)i * b->L;
    for (int j = 0; j + 1 < len; j++) { /* a[x * nu + y]: y clicked right after x */
        int x = al[j] - n0, y = al[j + 1] - n0;
        if (x != y)
            a[x * nu + y] = 1;
    }
    for (int u = 0; u < nu; u++) {
        int node = n0 + u;
        p->le_off[node] = *nnz;
        p->le_idx[*nnz] = node;
        p->le_type[(*nnz)++] = 0;
        for (int v = 0; v < nu; v++) {
            if (v == u)
                continue;
            int before = a[v * nu + u], after = a[u * nu + v];
            if (!before && !after)
                continue;
            p->le_idx[*nnz] = n0 + v;
            p->le_type[(*nnz)++] = before && after ? 3 : before ? 1 : 2;
        }
    }
    if (a != adj)
        free(a);
}

static void build(sbr_batch_local4 *p, const sbr_batch_nodes *nd, const sbr_batch *b)
{
    int nnz = 0;
    for (int i = 0; i < b->B; i++)
        local4_row(p, nd, b, i, &nnz);
    p->le_off[nd->T] = nnz;
    p->nnz_le = nnz;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    layout(&bb->local4, buf, bb->max_B, bb->max_L);
    build(&bb->local4, bb->b.nodes, &bb->b);
    bb->b.local4 = &bb->local4;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_local4 *d = &u->f->dlocal4;
    const sbr_batch_local4 *h = hb->b.local4;
    size_t i4 = sizeof(int32_t), T = (size_t)hb->b.nodes->T;
    *d = *h;
    sbr_upload_array(u, &d->le_off, T + 1, i4);
    sbr_upload_csr_end(u, d->le_off, h->le_off, T);
    sbr_upload_array(u, &d->le_idx, (size_t)d->nnz_le, i4);
    sbr_upload_array(u, &d->le_type, (size_t)d->nnz_le, i4);
    u->f->dev.local4 = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_local4 = {"local4", SBR_NEEDS_LOCAL4, ints, no_reals, fill,
                                              upload};
