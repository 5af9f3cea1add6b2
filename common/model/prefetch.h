/* Batches built on a second host thread while the first one queues the GPU
 * work of the step before (train.c, on CUDA): building a batch's session
 * graphs took a tenth of SR-GNN's step on the lent H200, where the host, not
 * the GPU, sets the pace. Two buffers: the thread fills one while the
 * trainer uses the other. The batches are exactly those of sbr_batch_fill
 * in the same order, so a run gives the same bits with or without it. */
#ifndef SBR_MODEL_PREFETCH_H
#define SBR_MODEL_PREFETCH_H

#include <pthread.h>
#include <stdint.h>

#include "model/batch.h"
#include "model/model.h"

typedef struct {
    sbr_batch_buf buf[2];
    /* the epoch's work, read by the thread */
    const sbr_split *sp;
    const sbr_samples *smp;
    const int64_t *order;
    int64_t n;
    int batch, n_items;
    const sbr_clip_map *clip;
    /* state[k]: 0 free, 1 being filled, 2 ready; guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state[2];
    int next;   /* the buffer sbr_prefetch_next returns next */
    int in_use; /* the buffer the trainer holds, or -1 */
    int stop, running;
    pthread_t thread;
} sbr_prefetch;

/* Buffers set up like the feeder's host batch (its sizes, after
 * sbr_feeder_init for model m), so that sbr_feeder_put takes them. */
void sbr_prefetch_init(sbr_prefetch *p, const sbr_feeder *f, const sbr_model *m);
void sbr_prefetch_free(sbr_prefetch *p);
/* Starts building the batches of order[0..n), batch samples each (the last
 * may be smaller), on the thread. */
void sbr_prefetch_start(sbr_prefetch *p, const sbr_split *sp, const sbr_samples *smp,
                        const int64_t *order, int64_t n, int batch, int n_items,
                        const sbr_clip_map *clip);
/* The next batch, in order (waits for it); the one returned before goes
 * back to the thread. */
const sbr_batch_buf *sbr_prefetch_next(sbr_prefetch *p);
/* Stops the thread (at the end of an epoch, or early) and waits for it. */
void sbr_prefetch_stop(sbr_prefetch *p);

#endif
