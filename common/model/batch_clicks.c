/* The batch's clicks packed without padding (batch.h, sbr_batch_clicks):
 * each row's offset among the sum of the prefix lengths. */
#include "model/batch_parts.h"

/* int32: off [B + 1]. */
static size_t ints(int B, int L, int K)
{
    (void)L, (void)K;
    return (size_t)B + 1;
}

static void fill(sbr_batch_buf *bb, int32_t *buf, void *reals, const sbr_clip_map *clip)
{
    (void)reals, (void)clip;
    sbr_batch_clicks *p = &bb->clicks;
    const sbr_batch *b = &bb->b;
    p->off = buf;
    p->off[0] = 0;
    for (int i = 0; i < b->B; i++)
        p->off[i + 1] = p->off[i] + b->len[i];
    p->n = p->off[b->B];
    bb->b.clicks = p;
}

static void upload(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_batch_clicks *d = &u->f->dclicks;
    const sbr_batch_clicks *h = hb->b.clicks;
    *d = *h;
    sbr_upload_array(u, &d->off, (size_t)hb->b.B + 1, sizeof(int32_t));
    u->f->dev.clicks = d;
}

static size_t no_reals(int B, int L, int K)
{
    (void)B, (void)L, (void)K;
    return 0;
}

const sbr_batch_part sbr_batch_part_clicks = {"clicks", SBR_NEEDS_CLICKS, ints, no_reals, fill,
                                              upload};
