/* The pool row of each sample's own session (batch.h, sbr_batch_pool): a
 * training sample never retrieves its own session's pair as context; and
 * the pool rows of the sessions before its own, its past. */
#include "model/batch_parts.h"

#include <stdint.h>

/* int32: excl, lim [B]. */
static size_t ints(int B, int L, int K)
{
    (void)L, (void)K;
    return 2 * (size_t)B;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    sbr_batch_pool *p = &bb->pool;
    int B = bb->b.B;
    int own = bb->pool_row_of && bb->fill_sp && bb->fill_sp == bb->pool_split;
    p->excl = buf, p->lim = buf + B;
    for (int i = 0; i < B; i++) {
        int64_t s = own ? bb->fill_smp->session[bb->fill_order[i]] : -1;
        p->excl[i] = own ? bb->pool_row_of[s] : -1;
        p->lim[i] = own ? bb->pool_rows_before[s] : INT32_MAX;
    }
    bb->b.pool = p;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_pool *d = &u->f->dpool;
    *d = *hb->b.pool;
    sbr_upload_array(u, &d->excl, (size_t)hb->b.B, sizeof(int32_t));
    sbr_upload_array(u, &d->lim, (size_t)hb->b.B, sizeof(int32_t));
    u->f->dev.pool = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_pool = {"pool", SBR_NEEDS_POOL, ints, no_reals, fill, upload};
