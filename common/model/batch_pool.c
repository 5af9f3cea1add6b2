/* The pool row of each sample's own session (batch.h, sbr_batch_pool): a
 * training sample never retrieves its own session's pair as context. */
#include "model/batch_parts.h"

/* int32: excl [B]. */
static size_t ints(int B, int L, int K)
{
    (void)L, (void)K;
    return (size_t)B;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    sbr_batch_pool *p = &bb->pool;
    int B = bb->b.B;
    int own = bb->pool_row_of && bb->fill_sp && bb->fill_sp == bb->pool_split;
    p->excl = buf;
    for (int i = 0; i < B; i++)
        p->excl[i] = own ? bb->pool_row_of[bb->fill_smp->session[bb->fill_order[i]]] : -1;
    bb->b.pool = p;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_pool *d = &u->f->dpool;
    *d = *hb->b.pool;
    sbr_upload_array(u, &d->excl, (size_t)hb->b.B, sizeof(int32_t));
    u->f->dev.pool = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_pool = {"pool", SBR_NEEDS_POOL, ints, no_reals, fill, upload};
