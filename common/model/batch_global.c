/* The global neighbours of a graph batch's nodes (batch.h,
 * sbr_batch_global), gathered from the model's table. */
#include <string.h>

#include "err.h"
#include "model/batch_parts.h"

/* int32: gids and cgids [T (1 + K)] each, gn [T], T <= B L */
static size_t ints(int B, int L, int K) { return (size_t)B * L * (3 + 2 * (size_t)K); }

/* reals: gw [T K] */
static size_t reals(int B, int L, int K) { return (size_t)B * L * (size_t)K + 1; }

static void layout(sbr_batch_global *p, int32_t *buf, void *w, int B, int L, int K)
{
    size_t BL = (size_t)B * L;
    p->K = K;
    p->gids = buf, buf += BL * (1 + (size_t)K);
    p->cgids = buf, buf += BL * (1 + (size_t)K);
    p->gn = buf;
    p->gw = w;
}

/* The model's table: for item i, nbr [i K ..] its neighbours, w their
 * weights, n [i] how many. */
typedef struct {
    int K;
    const int32_t *nbr, *n; /* [rows, K], [rows] */
    const float *w;         /* [rows, K] */
    int64_t rows;
} global_table;

/* clusters: the items' clusters (CLIP) or NULL. */
static void build(sbr_batch_global *p, const sbr_batch_nodes *nd, const global_table *t,
                  const int32_t *clusters, size_t elem)
{
    size_t T = (size_t)nd->T;
    int K = t->K;
    p->gnbr = p->gids + T;
    memcpy(p->gids, nd->uniq, sizeof(int32_t) * T);
    if (clusters)
        memcpy(p->cgids, nd->cuniq, sizeof(int32_t) * T);
    for (size_t r = 0; r < T; r++) {
        int32_t it = nd->uniq[r];
        int cnt = it > 0 && it < t->rows ? t->n[it] : 0;
        p->gn[r] = cnt;
        for (int k = 0; k < K; k++) {
            size_t at = r * K + k;
            int32_t nb = k < cnt ? t->nbr[(size_t)it * K + k] : 0;
            p->gnbr[at] = nb;
            sbr_batch_set_real(p->gw, elem, at, k < cnt ? t->w[(size_t)it * K + k] : 0);
            if (clusters)
                p->cgids[T + at] = nb ? clusters[nb] : 0;
        }
    }
    if (!clusters)
        p->cgids = NULL;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *w, const sbr_clip_map *clip)
{
    global_table t = {bb->K, bb->tab_nbr, bb->tab_n, bb->tab_w, bb->tab_rows};
    if (!bb->tab_nbr)
        sbr_fatal("internal error: a batch for a model without its global table");
    layout(&bb->global, buf, w, bb->max_B, bb->max_L, bb->K);
    build(&bb->global, bb->b.nodes, &t, clip ? clip->cluster : NULL, bb->elem);
    bb->b.global = &bb->global;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_global *d = &u->f->dglobal;
    size_t nt = (size_t)hb->b.nodes->T, i4 = sizeof(int32_t);
    *d = *hb->b.global;
    size_t TK = nt * (size_t)d->K;
    sbr_upload_array(u, &d->gids, nt + TK, i4);
    d->gnbr = d->gids + nt;
    sbr_upload_array(u, &d->cgids, nt + TK, i4);
    sbr_upload_array(u, &d->gn, nt, i4);
    sbr_upload_array(u, &d->gw, TK, hb->elem);
    u->f->dev.global = d;
}

const sbr_batch_part sbr_batch_part_global = {"global", SBR_NEEDS_GLOBAL, ints, reals, fill, upload};
