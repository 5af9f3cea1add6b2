/* The context pool of a model that retrieves training pairs (model.h,
 * sbr_model_pool; NP-MiSR): one pair per drawn training session, as the
 * paper's inference takes them (a session's clicks but the last -> its last
 * click), so that excluding a training sample's own session excludes every
 * pair that could hold its target. The pairs' vectors are the encoder's, in
 * evaluation mode, recomputed by the trainer after every epoch (train.c):
 * the pool a model file keeps is the one of its selected weights. */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/devmem.h"
#include "rng.h"

void sbr_model_pool_free(sbr_model *m)
{
    sbr_model_pool *p = &m->pool;
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
    if (p->x)
        al->free(p->x, al->user);
    if (p->item)
        al->free(p->item, al->user);
    free(p->host_item);
    free(p->session);
    free(p->row_of);
    free(p->rows_before);
    memset(p, 0, sizeof *p);
}

/* Device arrays for P pairs, and the items uploaded. */
static int pool_alloc(sbr_model *m, int64_t P, sbr_err *e)
{
    sbr_model_pool *p = &m->pool;
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
    size_t xb = (size_t)P * (size_t)m->d * m->elem, ib = (size_t)P * sizeof(int32_t);
    p->n = P;
    if (!(p->x = al->alloc(xb, al->user)) || !(p->item = al->alloc(ib, al->user)))
        return sbr_errf(e, "out of %s memory for a context pool of %lld pairs",
                        m->prec == SBR_PREC_CUDA ? "GPU" : "host", (long long)P);
    sbr_dev_fill(m->prec, p->x, 0, P * m->d);
    sbr_dev_upload(m->prec, p->item, p->host_item, ib);
    return 0;
}

int sbr_model_pool_draw(sbr_model *m, const sbr_split *sp, int min_prefix, sbr_err *e)
{
    double fraction = m->pool_fraction;
    int64_t need = m->pool_need;
    sbr_model_pool_free(m);
    sbr_model_pool *p = &m->pool;
    int64_t S = sp->n_sessions, P = 0, eligible = 0;
    p->row_of = sbr_xmalloc(sizeof(int32_t) * (size_t)(S + 1));
    p->rows_before = sbr_xmalloc(sizeof(int32_t) * (size_t)(S + 1));
    p->session = sbr_xmalloc(sizeof(int64_t) * (size_t)(S + 1));
    p->host_item = sbr_xmalloc(sizeof(int32_t) * (size_t)(S + 1));
    /* keep u < fraction: the same sessions for the same seed, nested as the
     * fraction grows */
    const double scale = 1.0 / 18446744073709551616.0;
    for (int64_t s = 0; s < S; s++) {
        int64_t len = sp->offsets[s + 1] - sp->offsets[s];
        int32_t last = len > 0 ? sp->items[sp->offsets[s + 1] - 1] : 0;
        p->row_of[s] = -1;
        p->rows_before[s] = (int32_t)P;
        if (len - 1 < (min_prefix > 1 ? min_prefix : 1) || last < 1 || last > m->cfg.n_items)
            continue;
        eligible++;
        double u = (double)sbr_rng_hash(m->cfg.seed ^ 0x9001F00Dull, (uint64_t)s) * scale;
        if (u >= fraction || P >= INT32_MAX)
            continue;
        p->row_of[s] = (int32_t)P;
        p->session[P] = s;
        p->host_item[P++] = last;
    }
    if (P < need || P == 0) {
        sbr_model_pool_free(m);
        return sbr_errf(e, "a pool fraction of %g keeps %lld of the %lld training sessions with "
                           "a pair: fewer than the %lld pairs a context needs (raise --np-pool "
                           "or lower --np-context)",
                        fraction, (long long)P, (long long)eligible, (long long)need);
    }
    p->split = sp;
    p->min_prefix = min_prefix;
    return pool_alloc(m, P, e);
}

void sbr_model_pool_refresh(sbr_model *m, const sbr_clip_map *clip)
{
    sbr_model_pool *p = &m->pool;
    if (!p->split || p->n == 0)
        sbr_fatal("internal error: refreshing a context pool that was not drawn");
    const sbr_split *sp = p->split;
    sbr_samples smp = {p->n, p->session, sbr_xmalloc(sizeof(int32_t) * (size_t)p->n)};
    for (int64_t r = 0; r < p->n; r++)
        smp.prefix_len[r] = (int32_t)(sp->offsets[p->session[r] + 1] - sp->offsets[p->session[r]] - 1);
    int B = m->max_B;
    int64_t *order = sbr_xmalloc(sizeof(int64_t) * (size_t)B);
    sbr_feeder f;
    sbr_feeder_init(&f, m, B);
    f.host.backward = 0;
    m->encode_only = 1;
    for (int64_t at = 0; at < p->n; at += B) {
        int n = p->n - at < B ? (int)(p->n - at) : B;
        for (int i = 0; i < n; i++)
            order[i] = at + i;
        const sbr_batch *b = sbr_feeder_fill(&f, sp, &smp, order, n, m->cfg.n_items, clip);
        sbr_model_forward(m, b, (char *)p->x + (size_t)at * (size_t)m->d * m->elem);
    }
    m->encode_only = 0;
    sbr_model_sync(m);
    sbr_feeder_free(&f);
    free(order);
    free(smp.prefix_len);
}

int sbr_model_pool_set(sbr_model *m, const float *x, const int32_t *item, int64_t P, sbr_err *e)
{
    if (P < 1 || P > INT32_MAX)
        return sbr_errf(e, "a context pool of %lld pairs", (long long)P);
    for (int64_t r = 0; r < P; r++) {
        if (item[r] < 1 || item[r] > m->cfg.n_items)
            return sbr_errf(e, "pool pair %lld has item %d, outside 1..%d", (long long)r,
                            item[r], m->cfg.n_items);
        for (int k = 0; k < m->d; k++)
            if (!isfinite(x[r * m->d + k]))
                return sbr_errf(e, "pool pair %lld has a vector that is not finite", (long long)r);
    }
    sbr_model_pool_free(m);
    m->pool.host_item = sbr_xmalloc(sizeof(int32_t) * (size_t)P);
    memcpy(m->pool.host_item, item, sizeof(int32_t) * (size_t)P);
    if (pool_alloc(m, P, e))
        return -1;
    sbr_dev_upload_f32(m->prec, m->pool.x, x, (size_t)P * (size_t)m->d);
    return 0;
}
