/* The global neighbours of a graph batch's nodes (batch.h,
 * sbr_batch_global), gathered from the model's table. */
#include <string.h>

#include "model/batch_parts.h"

/* int32: gids and cgids [T (1 + K)] each, gn [T], T <= B L */
size_t sbr_global_ints(int B, int L, int K) { return (size_t)B * L * (3 + 2 * (size_t)K); }

/* reals: gw [T K] */
size_t sbr_global_reals(int B, int L, int K) { return (size_t)B * L * (size_t)K + 1; }

void sbr_global_layout(sbr_batch_global *p, int32_t *buf, void *w, int B, int L, int K)
{
    size_t BL = (size_t)B * L;
    p->K = K;
    p->gids = buf, buf += BL * (1 + (size_t)K);
    p->cgids = buf, buf += BL * (1 + (size_t)K);
    p->gn = buf;
    p->gw = w;
}

void sbr_global_build(sbr_batch_global *p, const sbr_batch_nodes *nd, const sbr_global_table *t,
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

void sbr_global_upload(sbr_upload *u, sbr_batch_global *d, int T, size_t elem)
{
    size_t nt = (size_t)T, TK = nt * (size_t)d->K, i4 = sizeof(int32_t);
    sbr_upload_array(u, &d->gids, nt + TK, i4);
    d->gnbr = d->gids + nt;
    sbr_upload_array(u, &d->cgids, nt + TK, i4);
    sbr_upload_array(u, &d->gn, nt, i4);
    sbr_upload_array(u, &d->gw, TK, elem);
}
