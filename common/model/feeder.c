/* Feeding batches to the device a model computes on (batch.h, sbr_feeder):
 * the host batch itself on the CPU, a packed copy on the GPU. */
#include <stdlib.h>
#include <string.h>

#include "model/batch_parts.h"
#include "model/devmem.h"
#include "model/model.h"
#ifdef SBR_HAVE_CUDA
#include "cuda/nn_cuda.h"
#endif

/* Bytes of the device copy of a batch at capacity: the core's arrays, every
 * part's, and 16 bytes of alignment for each of at most 64 arrays. */
static size_t device_bytes(const sbr_batch_buf *h)
{
    int B = h->max_B, L = h->max_L, K = h->K;
    size_t i4 = sizeof(int32_t), es = h->elem;
    size_t n = sbr_batch_core_ints(B, L) * i4 + ((size_t)B + 1) * es;
    for (int k = 0; sbr_batch_parts[k]; k++)
        if (h->needs & sbr_batch_parts[k]->need)
            n += sbr_batch_parts[k]->ints(B, L, K) * i4 + sbr_batch_parts[k]->reals(B, L, K) * es;
    return n + 64 * 16;
}

void sbr_feeder_init(sbr_feeder *f, const sbr_model *m, int max_B)
{
    memset(f, 0, sizeof *f);
    f->cuda = m->prec == SBR_PREC_CUDA;
    sbr_batch_buf_init(&f->host, max_B, m->max_L, 0, m->elem);
    sbr_batch_buf_model(&f->host, m);
    if (!f->cuda)
        return;
    f->dev_bytes = device_bytes(&f->host);
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
    f->dev_mem = al->alloc(f->dev_bytes, al->user);
    if (!f->dev_mem)
        sbr_fatal("out of GPU memory for a batch (%zu bytes)", f->dev_bytes);
    f->ctx = (sbr_nn_ctx *)&m->ctx; /* the ops take a mutable context */
}

#ifdef SBR_HAVE_CUDA
static void stage_init(sbr_feeder *f)
{
    for (int k = 0; k < 2; k++) {
        f->stage[k] = sbr_cuda_host_alloc(f->dev_bytes);
        f->stage_done[k] = sbr_cuda_event_new();
    }
}

static void stage_free(sbr_feeder *f)
{
    for (int k = 0; k < 2; k++) {
        if (f->stage_done[k]) {
            sbr_cuda_event_wait(f->stage_done[k]);
            sbr_cuda_event_free(f->stage_done[k]);
        }
        sbr_cuda_host_free(f->stage[k]);
    }
}

/* Takes the next staging buffer, once its last copy has completed. */
static void stage_begin(sbr_feeder *f)
{
    int k = f->stage_next;
    sbr_cuda_event_wait(f->stage_done[k]);
    f->stage_cur = f->stage[k];
}

/* Sends the packed bytes [0, used) in one copy on the model's stream. */
static void stage_send(sbr_feeder *f, size_t used)
{
    int k = f->stage_next;
    sbr_cuda_h2d_async(f->ctx, f->dev_mem, f->stage_cur, used);
    sbr_cuda_event_record(f->stage_done[k], f->ctx);
    f->stage_next = 1 - k;
    f->stage_cur = NULL;
}
#endif

void sbr_feeder_free(sbr_feeder *f)
{
#ifdef SBR_HAVE_CUDA
    if (f->stage[0])
        stage_free(f);
    if (f->cuda)
        sbr_cuda_known_clear();
#endif
    if (f->dev_mem) {
        const sbr_allocator *al = sbr_dev_allocator(SBR_PREC_CUDA);
        al->free(f->dev_mem, al->user);
    }
    sbr_batch_buf_free(&f->host);
    memset(f, 0, sizeof *f);
}

void sbr_upload_csr_end(sbr_upload *u, const int32_t *dev, const int32_t *host, size_t T)
{
#ifdef SBR_HAVE_CUDA
    if (u->f->cuda && dev && host)
        sbr_cuda_known_int(dev + T, host[T]);
#else
    (void)u, (void)dev, (void)host, (void)T;
#endif
}

void sbr_upload_array(sbr_upload *u, void *ptr_to_ptr, size_t n, size_t elem_size)
{
    void **ptr = ptr_to_ptr;
    sbr_feeder *f = u->f;
    if (!*ptr)
        return;
    size_t bytes = n * elem_size;
    if ((size_t)(u->cur - (char *)f->dev_mem) + bytes > f->dev_bytes)
        sbr_fatal("internal error: a batch over its device capacity (%zu bytes)", f->dev_bytes);
    if (f->stage_cur)
        memcpy(f->stage_cur + (u->cur - (char *)f->dev_mem), *ptr, bytes);
    else
        sbr_dev_upload(SBR_PREC_CUDA, u->cur, *ptr, bytes);
    *ptr = u->cur;
    u->cur += (bytes + 15) & ~(size_t)15;
}

const sbr_batch *sbr_feeder_fill(sbr_feeder *f, const sbr_split *sp, const sbr_samples *smp,
                                 const int64_t *order, int B, int n_items,
                                 const sbr_clip_map *clip)
{
    sbr_batch_fill(&f->host, sp, smp, order, B, n_items, clip);
    return sbr_feeder_put(f, &f->host);
}

/* The core's arrays, then each part's, into the device copy. */
static void upload_all(sbr_upload *u, const sbr_batch_buf *hb)
{
    sbr_feeder *f = u->f;
    sbr_batch *d = &f->dev;
    size_t B = (size_t)d->B, BL = B * (size_t)d->L, i4 = sizeof(int32_t);
    sbr_upload_array(u, &d->items, BL, i4);
    sbr_upload_array(u, &d->citems, BL, i4);
    sbr_upload_array(u, &d->cusers, BL, i4);
    sbr_upload_array(u, &d->len, B, i4);
    sbr_upload_array(u, &d->target, B, i4);
    sbr_upload_array(u, &d->last, B, i4);
    sbr_upload_array(u, &d->user, B, i4);
    sbr_upload_array(u, &d->rpos, BL, i4);
    sbr_upload_array(u, &d->ids_ord, (size_t)d->n_ord, i4);
    sbr_upload_array(u, &d->cids_ord, (size_t)d->n_cord, i4);
    sbr_upload_array(u, &d->flen, B, hb->elem);
    for (int k = 0; sbr_batch_parts[k]; k++)
        if (hb->needs & sbr_batch_parts[k]->need)
            sbr_batch_parts[k]->upload(u, hb);
}

const sbr_batch *sbr_feeder_put(sbr_feeder *f, const sbr_batch_buf *hb)
{
    if (!f->cuda)
        return &hb->b;
    f->dev = hb->b;
    sbr_upload u = {f, f->dev_mem};
#ifdef SBR_HAVE_CUDA
    /* staging pays from the second batch on (sbr-infer's text mode fills one
     * batch per line: page-locked buffers would cost more than they save) */
    if (!f->stage[0] && f->fills > 0)
        stage_init(f);
    if (f->stage[0])
        stage_begin(f);
    sbr_cuda_known_clear(); /* this buffer's old values are stale */
#endif
    f->fills++;
    upload_all(&u, hb);
#ifdef SBR_HAVE_CUDA
    if (f->stage_cur)
        stage_send(f, (size_t)(u.cur - (char *)f->dev_mem));
#endif
    return &f->dev;
}
