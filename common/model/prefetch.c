#include "model/prefetch.h"

#include <string.h>

#include "err.h"

void sbr_prefetch_init(sbr_prefetch *p, const sbr_feeder *f, const sbr_model *m)
{
    memset(p, 0, sizeof *p);
    const sbr_batch_buf *h = &f->host;
    for (int k = 0; k < 2; k++) {
        sbr_batch_buf_init(&p->buf[k], h->max_B, h->max_L, 0, h->elem);
        sbr_batch_buf_model(&p->buf[k], m);
        p->buf[k].backward = h->backward;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->in_use = -1;
}

void sbr_prefetch_free(sbr_prefetch *p)
{
    sbr_prefetch_stop(p);
    for (int k = 0; k < 2; k++)
        sbr_batch_buf_free(&p->buf[k]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

static void *fill_loop(void *arg)
{
    sbr_prefetch *p = arg;
    int k = 0;
    for (int64_t at = 0; at < p->n; at += p->batch) {
        pthread_mutex_lock(&p->mu);
        while (p->state[k] != 0 && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        if (!stop)
            p->state[k] = 1;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        int B = p->n - at < p->batch ? (int)(p->n - at) : p->batch;
        sbr_batch_fill(&p->buf[k], p->sp, p->smp, p->order + at, B, p->n_items, p->clip);
        pthread_mutex_lock(&p->mu);
        p->state[k] = 2;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        k = 1 - k;
    }
    return NULL;
}

void sbr_prefetch_start(sbr_prefetch *p, const sbr_split *sp, const sbr_samples *smp,
                        const int64_t *order, int64_t n, int batch, int n_items,
                        const sbr_clip_map *clip)
{
    sbr_prefetch_stop(p);
    p->sp = sp, p->smp = smp, p->order = order, p->n = n;
    p->batch = batch, p->n_items = n_items, p->clip = clip;
    p->state[0] = p->state[1] = 0;
    p->next = 0, p->in_use = -1, p->stop = 0;
    if (pthread_create(&p->thread, NULL, fill_loop, p) != 0)
        sbr_fatal("cannot start the batch thread");
    p->running = 1;
}

const sbr_batch_buf *sbr_prefetch_next(sbr_prefetch *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->in_use >= 0) {
        p->state[p->in_use] = 0;
        pthread_cond_broadcast(&p->cv);
    }
    int k = p->next;
    while (p->state[k] != 2)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    p->in_use = k;
    p->next = 1 - k;
    return &p->buf[k];
}

void sbr_prefetch_stop(sbr_prefetch *p)
{
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->running = 0;
}
