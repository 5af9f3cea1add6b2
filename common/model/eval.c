#include "model/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/devmem.h"
#include "progress.h"

/* The prefix's items of each row of the batch, which a next-unseen ranking
 * leaves out: off [B + 1], ids. */
static void exclusions(const sbr_split *sp, const sbr_samples *smp, const int64_t *order, int B,
                       int64_t n_items, int32_t *off, int32_t *ids)
{
    int n = 0;
    for (int i = 0; i < B; i++) {
        off[i] = n;
        int64_t s = smp->session[order[i]];
        n += sbr_task_prefix_items(sp->items + sp->offsets[s], smp->prefix_len[order[i]], n_items,
                                   ids + n);
    }
    off[B] = n;
}

/* A host buffer for what a forward leaves on the device, as floats. */
typedef struct {
    float *p;
    size_t n;
} float_buf;

/* The model's device reals src [n] into h's floats. */
static const float *download(sbr_model *m, float_buf *h, const void *src, size_t n)
{
    if (n > h->n)
        h->p = sbr_xrealloc(h->p, sizeof(float) * (h->n = n));
    sbr_dev_download_f32(m->prec, h->p, src, n);
    return h->p;
}

/* The interest weights of the last forward, device [U, B, L], into out
 * [B, U, Lw] floats (rows zero past their length). */
static void copy_weights(sbr_model *m, const sbr_batch *b, float_buf *h, float *out, int U, int Lw)
{
    const float *w = download(m, h, m->iw, (size_t)U * b->B * b->L);
    for (int u = 0; u < U; u++)
        for (int i = 0; i < b->B; i++)
            for (int j = 0; j < b->len[i] && j < Lw; j++)
                out[((size_t)i * U + u) * Lw + j] = w[((size_t)u * b->B + i) * b->L + j];
}

/* A sampling model's spread of the last forward, device [B] mean squared
 * distances, into out [B] floats as RMS distances. */
static void copy_spread(sbr_model *m, int B, float_buf *h, float *out)
{
    const float *v = download(m, h, m->spread, (size_t)B);
    for (int i = 0; i < B; i++) /* a rounding below 0 is no distance */
        out[i] = (float)sqrt(v[i] > 0 ? v[i] : 0);
}

void sbr_eval_split(sbr_model *m, const sbr_split *sp, int min_prefix, const sbr_clip_map *clip,
                    const sbr_eval_cfg *ec, sbr_topk *t)
{
    sbr_samples smp;
    sbr_samples_build(sp, min_prefix, &smp);
    memset(t, 0, sizeof *t);
    t->n = smp.n;
    t->k = ec->K;
    t->n_items = m->cfg.n_items;
    t->task = ec->task;
    t->exclude_seen = sbr_task_excludes(ec->task);
    t->items = sbr_xcalloc((size_t)smp.n * ec->K + 1, sizeof(int32_t));
    t->scores = sbr_xcalloc((size_t)smp.n * ec->K + 1, sizeof(float));
    t->targets = sbr_xcalloc((size_t)smp.n + 1, sizeof(int32_t));
    t->prefix_len = sbr_xcalloc((size_t)smp.n + 1, sizeof(int32_t));
    t->repeat = sbr_xcalloc((size_t)smp.n + 1, 1);
    if (ec->uncertainty) {
        t->entropy = sbr_xcalloc((size_t)smp.n + 1, sizeof(float));
        t->top1 = sbr_xcalloc((size_t)smp.n + 1, sizeof(float));
    }
    sbr_feeder f;
    sbr_feeder_init(&f, m, ec->batch);
    f.host.backward = 0; /* forward only: no transposes, no grouped ids */
    int U = m->interests, Lw = m->max_L;
    float *iw = NULL;
    float_buf host = {NULL, 0};
    if (ec->interest_weights)
        iw = *ec->interest_weights = sbr_xcalloc((size_t)smp.n * U * Lw + 1, sizeof(float));
    int64_t *order = sbr_xmalloc(sizeof(int64_t) * (size_t)ec->batch);
    int32_t *xoff = NULL, *xids = NULL;
    size_t xcap = 0;
    sbr_progress p;
    sbr_progress_start(&p, "ranking", smp.n, "samples");
    if (!ec->progress)
        p.active = 0;
    for (int64_t at = 0; at < smp.n; at += ec->batch) {
        int B = smp.n - at < ec->batch ? (int)(smp.n - at) : ec->batch;
        size_t need = 0;
        for (int i = 0; i < B; i++) {
            order[i] = at + i;
            need += (size_t)smp.prefix_len[at + i];
        }
        const sbr_batch *b = sbr_feeder_fill(&f, sp, &smp, order, B, m->cfg.n_items, clip);
        if (t->exclude_seen) {
            if (need + 1 > xcap) {
                xcap = 2 * need + 1;
                xids = sbr_xrealloc(xids, sizeof(int32_t) * xcap);
            }
            xoff = sbr_xrealloc(xoff, sizeof(int32_t) * (size_t)(B + 1));
            exclusions(sp, &smp, order, B, m->cfg.n_items, xoff, xids);
        }
        sbr_model_topk_unc(m, b, ec->K, ec->chunk, t->items + (size_t)at * ec->K,
                           t->scores + (size_t)at * ec->K, t->entropy ? t->entropy + at : NULL,
                           t->top1 ? t->top1 + at : NULL, t->exclude_seen ? xoff : NULL,
                           t->exclude_seen ? xids : NULL);
        if (iw && m->iw)
            copy_weights(m, &f.host.b, &host, iw + (size_t)at * U * Lw, U, Lw);
        if (t->entropy && m->spread) { /* a sampling model's (NP-MiSR) */
            if (!t->spread)
                t->spread = sbr_xcalloc((size_t)smp.n + 1, sizeof(float));
            copy_spread(m, B, &host, t->spread + at);
        }
        for (int i = 0; i < B; i++) {
            int64_t s = smp.session[at + i];
            int len = smp.prefix_len[at + i];
            const int32_t *row = sp->items + sp->offsets[s];
            t->targets[at + i] = row[len];
            t->prefix_len[at + i] = len;
            t->repeat[at + i] = (uint8_t)sbr_task_is_repeat(row, len, row[len]);
        }
        sbr_progress_update(&p, at + B, NULL);
    }
    sbr_progress_end(&p, NULL);
    free(host.p);
    free(order);
    free(xoff);
    free(xids);
    sbr_feeder_free(&f);
    sbr_samples_free(&smp);
}

void sbr_eval_topk_free(sbr_topk *t)
{
    free(t->items);
    free(t->scores);
    free(t->targets);
    free(t->prefix_len);
    free(t->repeat);
    free(t->entropy);
    free(t->top1);
    free(t->spread);
    memset(t, 0, sizeof *t);
}
