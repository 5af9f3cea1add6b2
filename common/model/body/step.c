/* The steps every model shares, compiled per precision: loss and gradients
 * through the fused score + CE, the Adam update, top-K ranking. A model with
 * its own scoring (def->score: TAGNN) takes the place of the catalogue ops
 * and nothing else. */
#include "model/body.h"

/* The step's own buffers, laid out with the model's activations. */
typedef struct {
    real *S, *dS;             /* [B, U, d] session vectors and their gradient */
    real *loss, *lse, *dloss; /* [B] */
    real *En, *nrm, *dEn;     /* SBR_NEEDS_NORM_ITEMS: [N + 1, d], [N + 1], [N + 1, d] */
    uint8_t *Emask;           /* [N + 1, d] with m->cand_dropout: its mask */
    double p_used;            /* the candidate dropout of the last step (0: none) */
    real *score;              /* [B, K] top-K scores */
    int32_t *idx;             /* [B, K] top-K items */
    real *ent, *p1;           /* [B] the lists' softmax: entropy, top-1 probability */
    int32_t *xoff;            /* [B + 1] exclusion offsets */
    int32_t *xids;            /* [xcap] exclusion ids (grown as needed) */
    size_t xcap;
} step_bufs;

static size_t R(step_layout)(sbr_model *m, void *base, int max_B)
{
    step_bufs *s = base ? (m->step = sbr_xcalloc(1, sizeof(step_bufs))) : &(step_bufs){0};
    size_t BUd = (size_t)max_B * m->interests * m->d, V = (size_t)m->cfg.n_items + 1;
    size_t BK = (size_t)max_B * (m->cfg.max_k > 0 ? m->cfg.max_k : 1);
    sbr_lay l = {base, 0};
    SBR_LAY(&l, s->S, BUd), SBR_LAY(&l, s->dS, BUd);
    SBR_LAY(&l, s->loss, max_B), SBR_LAY(&l, s->lse, max_B), SBR_LAY(&l, s->dloss, max_B);
    if (m->def->needs & SBR_NEEDS_NORM_ITEMS) /* the normalised table, its norms, its gradient */
        SBR_LAY(&l, s->En, V * m->d), SBR_LAY(&l, s->nrm, V), SBR_LAY(&l, s->dEn, V * m->d);
    if ((m->def->needs & SBR_NEEDS_NORM_ITEMS) && m->cand_dropout > 0)
        SBR_LAY(&l, s->Emask, V * m->d);
    SBR_LAY(&l, s->score, BK), SBR_LAY(&l, s->idx, BK), SBR_LAY(&l, s->xoff, max_B + 1);
    SBR_LAY(&l, s->ent, max_B), SBR_LAY(&l, s->p1, max_B);
    return l.used;
}

static void R(step_free)(sbr_model *m)
{
    step_bufs *s = m->step;
    if (s->xids) {
        const sbr_allocator *al = sbr_dev_allocator(m->prec);
        al->free(s->xids, al->user);
    }
    free(s);
    m->step = NULL;
}

/* The candidate table the step scores against: E, or for models with
 * SBR_NEEDS_NORM_ITEMS each row L2-normalised (the step's En, norms nrm),
 * in training after the model's candidate dropout (m->cand_dropout, drawn
 * from the model's stream before its forward). */
static const real *R(step_candidates)(sbr_model *m, step_bufs *s, int train)
{
    const real *E = sbr_arena_ptr(&m->params, m->p_items);
    if (!(m->def->needs & SBR_NEEDS_NORM_ITEMS))
        return E;
    int V = m->cfg.n_items + 1, d = m->d;
    uint64_t at = sbr_drop_take(m, s->Emask ? (uint64_t)V * d : 0, train);
    s->p_used = train && s->Emask ? m->cand_dropout : 0;
    if (s->p_used > 0) /* the dropped table is never stored: one pass */
        R(sbr_nn_dropout_l2norm_forward)(&m->ctx, s->En, s->nrm, s->Emask, E, V, d,
                                         (real)s->p_used, m->drop_seed, at, (real)1e-12);
    else
        R(sbr_nn_l2norm_forward)(&m->ctx, s->En, s->nrm, E, V, d, (real)1e-12);
    return s->En;
}

/* The gradient of the normalised table (s->dEn) into the item table's,
 * back through the norm of E (the candidates before it) and the dropout. */
static void R(step_candidates_backward)(sbr_model *m, step_bufs *s)
{
    int V = m->cfg.n_items + 1, d = m->d;
    real *dE = sbr_arena_ptr(&m->grads, m->p_items);
    if (s->p_used > 0)
        R(sbr_nn_dropout_l2norm_backward)(&m->ctx, dE, s->dEn, s->En, s->nrm, s->Emask, V, d,
                                          (real)s->p_used, (real)1e-12);
    else
        R(sbr_nn_l2norm_backward)(&m->ctx, dE, s->dEn, s->En, s->nrm, V, d, (real)1e-12);
}

/* Sum of a [n] device vector, in double on the host. */
static double R(step_sum)(sbr_model *m, const real *x, int n)
{
    real host[512];
    double sum = 0;
    for (int i = 0; i < n; i += 512) {
        int k = n - i < 512 ? n - i : 512;
        sbr_dev_download(m->prec, host, x + i, sizeof(real) * (size_t)k);
        for (int j = 0; j < k; j++)
            sum += host[j];
    }
    return sum;
}

/* The step's mean loss (with the model's own term), added to the model's
 * loss sums when they are on; on the GPU those are kept on the device and
 * the step returns NAN rather than wait for it (model.h). */
static double R(step_loss_value)(sbr_model *m, const real *loss, int B)
{
#ifdef SBR_BODY_CUDA
    if (m->loss_sums_on) {
        sbr_cuda_loss_accumulate(&m->ctx, m->dev_loss_sums, loss, B, m->xloss, m->xloss_w);
        return NAN;
    }
#endif
    double ce = R(step_sum)(m, loss, B) / B;
    if (m->xloss) /* the model's own term: xloss_w * sum_b xloss[b] */
        m->last_xloss = m->xloss_w * R(step_sum)(m, m->xloss, B);
    if (m->loss_sums_on) {
        m->host_loss_sums[0] += ce + m->last_xloss;
        m->host_loss_sums[1] += m->last_xloss;
    }
    return ce + m->last_xloss;
}

/* The workspace score_ce_train keeps the logits in, or NULL (recompute). */
static real *R(step_keep)(sbr_model *m)
{
    if (m->prec == SBR_PREC_CUDA)
        return NULL;
    if (!m->keep_mem)
        m->keep_mem = malloc(sizeof(real) * (size_t)m->max_B * (size_t)m->cfg.n_items);
    return m->keep_mem;
}

static double R(step_loss_grad)(sbr_model *m, const sbr_batch *b, int train, int chunk)
{
    step_bufs *s = m->step;
    if (!m->grads_clean) {
#ifdef SBR_BODY_CUDA /* on the model's stream, in order with the last step's Adam */
        sbr_cuda_memset_async(&m->ctx, m->grads.base, 0, m->grads.bytes);
#else
        sbr_arena_zero(&m->grads);
#endif
    }
    m->grads_clean = 0;
    int B = b->B, d = m->d, N = m->cfg.n_items, U = m->interests;
    m->xloss = NULL;
    m->xloss_w = 0;
    m->last_xloss = 0;
    const real *E = R(step_candidates)(m, s, train);
    real *dE = sbr_arena_ptr(&m->grads, m->p_items);
    if (s->En) { /* the gradient of the normalised table, taken back through the norm below */
        dE = s->dEn;
        sbr_dev_fill(m->prec, dE, 0, (int64_t)(N + 1) * d);
    }
    m->def->forward(m, b, s->S, train);
    sbr_dev_fill(m->prec, s->dloss, 1.0 / B, B);
    sbr_dev_fill(m->prec, s->dS, 0, (int64_t)B * U * d);
    sbr_nn_scoring cat = {B, U, N, d, chunk, m->pool_sum != 0};
    if (m->def->score) { /* the model scores the catalogue itself (def.h) */
        sbr_score_call c = {.S = s->S, .E = E, .chunk = chunk, .loss = s->loss, .lse = s->lse,
                            .dloss = s->dloss, .dS = s->dS, .dE = dE};
        m->def->score->train(m, b, &c);
    } else if (U == 1) {
        R(sbr_nn_score_ce_train)(&m->ctx, s->loss, s->lse, s->dS, dE, s->dloss, s->S, E,
                                 b->target, R(step_keep)(m), cat);
    } else {
        R(sbr_nn_score_multi_ce_forward)(&m->ctx, s->loss, s->lse, s->S, E, b->target, cat);
        R(sbr_nn_score_multi_ce_backward)(&m->ctx, s->dS, dE, s->dloss, s->S, E, b->target,
                                          s->lse, cat);
    }
    if (s->En)
        R(step_candidates_backward)(m, s);
    m->def->backward(m, b, s->dS);
    return R(step_loss_value)(m, s->loss, B);
}

/* Adam over the arena, in runs of parameters that take the same L2 (one
 * run, the whole arena and its padding, unless the prompts and gates of
 * CLIP-SBR have their own). */
static void R(step_adam)(sbr_model *m, const sbr_step_cfg *sc, int zero)
{
    double l2[3] = {sc->l2, sc->l2_prompt, sc->l2_gate};
    real *p = m->params.base, *g = m->grads.base, *am = m->adam_m.base, *av = m->adam_v.base;
    int64_t t = ++m->adam_t, end = sbr_arena_numel(&m->params);
    const sbr_view *v = m->params.views;
    for (int i = 0; i < m->params.n;) {
        int j = i + 1;
        while (j < m->params.n && l2[m->l2_group[j]] == l2[m->l2_group[i]])
            j++;
        int64_t a = i ? (int64_t)(v[i].offset / sizeof(real)) : 0;
        int64_t z = j < m->params.n ? (int64_t)(v[j].offset / sizeof(real)) : end;
        sbr_nn_adam_cfg ac = {sc->lr, 0.9, 0.999, 1e-8, l2[m->l2_group[i]], sc->adamw, zero};
        R(sbr_nn_adam_step)(&m->ctx, p + a, g + a, am + a, av + a, z - a, &ac, t);
        i = j;
    }
}

static double R(step_train)(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc)
{
    double loss = R(step_loss_grad)(m, b, 1, sc->chunk);
    int64_t n = sbr_arena_numel(&m->params);
    real *g = m->grads.base;
    if (sc->clip > 0)
        R(sbr_nn_clip_grad_norm)(&m->ctx, g, n, sc->clip);
    /* Adam zeroes the gradient as it reads it, except on the GPU: there a
     * plain memset at the next step is faster (bench-cuda on the H200: Adam
     * over 4.4 M parameters 0.037 ms, zeroing the gradient too 0.088 ms) */
    int zero = m->prec != SBR_PREC_CUDA;
    R(step_adam)(m, sc, zero);
    for (int i = 0; i < m->params.n; i++) /* the parameters kept in a ball */
        if (m->max_norm[i] > 0) {
            const sbr_view *v = &m->params.views[i];
            R(sbr_nn_max_norm_rows)(&m->ctx, v->data, (int)v->shape[0],
                                    (int)(v->numel / v->shape[0]), m->max_norm[i],
                                    m->max_norm_exact[i]);
        }
    m->grads_clean = zero;
    return loss;
}

/* The exclusion lists on the device: offsets [B + 1] and ids (host). */
static void R(step_exclusions)(sbr_model *m, step_bufs *s, int B, const int32_t *off,
                               const int32_t *ids)
{
    size_t n = (size_t)off[B] + 1;
    if (n > s->xcap) {
        const sbr_allocator *al = sbr_dev_allocator(m->prec);
        if (s->xids)
            al->free(s->xids, al->user);
        s->xcap = 2 * n;
        if (!(s->xids = al->alloc(s->xcap * sizeof(int32_t), al->user)))
            sbr_fatal("out of memory for %zu excluded items", s->xcap);
    }
    sbr_dev_upload(m->prec, s->xoff, off, sizeof(int32_t) * (size_t)(B + 1));
    sbr_dev_upload(m->prec, s->xids, ids, sizeof(int32_t) * (size_t)off[B]);
}

/* n reals of the device into host floats. */
static void R(step_download_f)(sbr_model *m, float *dst, const real *src, size_t n)
{
    real host[1024];
    for (size_t i = 0; i < n; i += 1024) {
        size_t k = n - i < 1024 ? n - i : 1024;
        sbr_dev_download(m->prec, host, src + i, sizeof(real) * k);
        for (size_t j = 0; j < k; j++)
            dst[i + j] = (float)host[j];
    }
}

/* The top-K of the batch and, with ent (model.h: sbr_model_topk_unc), the
 * entropy and top-1 probability of the softmax it ranked from: the same
 * forward, candidates and exclusions. */
static void R(step_topk)(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                         float *score, float *ent, float *p1, const int32_t *excl_off,
                         const int32_t *excl)
{
    step_bufs *s = m->step;
    int B = b->B, d = m->d, N = m->cfg.n_items, U = m->interests;
    const int32_t *doff = NULL, *dex = NULL;
    if (excl_off) {
        R(step_exclusions)(m, s, B, excl_off, excl);
        doff = s->xoff, dex = s->xids;
    }
    const real *E = R(step_candidates)(m, s, 0);
    m->xloss = NULL;
    m->def->forward(m, b, s->S, 0);
    sbr_nn_scoring cat = {B, U, N, d, chunk, m->pool_sum != 0};
    if (m->def->score) {
        sbr_score_call c = {.S = s->S, .E = E, .chunk = chunk, .K = K, .idx = s->idx,
                            .score = s->score, .excl_off = doff, .excl = dex};
        m->def->score->topk(m, b, &c);
    } else if (U == 1)
        R(sbr_nn_topk)(&m->ctx, s->idx, s->score, s->S, E, K, doff, dex, cat);
    else
        R(sbr_nn_topk_multi)(&m->ctx, s->idx, s->score, s->S, E, K, doff, dex, cat);
    if (ent) { /* never with a scoring hook: sbr_model_topk_unc refuses */
        R(sbr_nn_uncertainty)(&m->ctx, s->ent, s->p1, NULL, s->S, E, doff, dex, cat);
        R(step_download_f)(m, ent, s->ent, (size_t)B);
        R(step_download_f)(m, p1, s->p1, (size_t)B);
    }
    sbr_dev_download(m->prec, idx, s->idx, sizeof(int32_t) * (size_t)B * K);
    R(step_download_f)(m, score, s->score, (size_t)B * K);
}

const sbr_model_steps R(sbr_model_steps) = {R(step_loss_grad), R(step_train), R(step_topk),
                                            R(step_layout), R(step_free)};
