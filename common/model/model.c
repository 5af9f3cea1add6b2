/* Model life cycle: options to a model with its typed weights bound, its
 * parameters initialised and its activations laid out; the steps dispatched
 * by precision. (Files: model_file.c; the global table: model_global.c.) */
#include "model/model.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/def.h"
#include "model/devmem.h"
#include "model/model_params.h"
#ifdef SBR_HAVE_CUDA
#include "cuda/nn_cuda.h"
#endif

void sbr_model_defaults_of(const sbr_model_def *def, sbr_model_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "%s", def->name);
    c->opts = def->opts;
    for (int i = 0; def->opts[i].name; i++) {
        if (i >= SBR_MODEL_MAX_OPTS)
            sbr_fatal("internal error: model %s has more than %d options", def->name,
                      SBR_MODEL_MAX_OPTS);
        c->opt[i] = def->opts[i].def;
    }
    c->seed = 1;
    c->chunk = 2048; /* the fastest in make bench (score_ce rows) */
    c->max_k = 100;
}

int sbr_model_defaults(const char *name, sbr_model_cfg *c)
{
    const sbr_model_def *def = sbr_model_def_for(name, SBR_PREC_F32);
    if (!def) {
        memset(c, 0, sizeof *c);
        return -1;
    }
    sbr_model_defaults_of(def, c);
    return 0;
}

unsigned sbr_model_needs(const char *name)
{
    const sbr_model_def *def = sbr_model_def_for(name, SBR_PREC_F32);
    return def ? def->needs : 0;
}

static const sbr_model_steps *steps_of(sbr_prec p)
{
    return p == SBR_PREC_F64 ? &sbr_model_steps_f64
         : p == SBR_PREC_CUDA ? &sbr_model_steps_cuda
                              : &sbr_model_steps_f32;
}

void *sbr_lay_take(sbr_lay *l, size_t bytes)
{
    size_t start = (l->used + SBR_ARENA_ALIGN - 1) / SBR_ARENA_ALIGN * SBR_ARENA_ALIGN;
    l->used = start + bytes;
    return l->base ? l->base + start : NULL;
}

/* --- sizes ------------------------------------------------------------------ */

/* Items per chunk of the catalogue ops for batches of B x U session vectors.
 * On the GPU, as many as keep the chunk's logits [B U, chunk] within
 * SBR_CUDA_CHUNK_BYTES (never fewer than asked): the whole catalogue of the
 * benchmarks, one sgemm per pass instead of several (diginetica score + CE
 * forward and backward 0.38 -> 0.25 ms per batch of 100 on an H200). On the
 * CPU, the catalogue cut into a multiple of NN_LANES chunks of one size (at
 * most the request): the lanes are dealt to the threads, so an uneven cut
 * leaves a core idle (diginetica's 43,097 items in chunks of 2048 made 22
 * chunks: 11 for one thread, 10 and a sliver for the other). */
#define SBR_CUDA_CHUNK_BYTES ((int64_t)256 << 20)
static int op_chunk(sbr_prec prec, int N, int chunk, int B, int U)
{
    if (prec == SBR_PREC_CUDA && N > 0 && chunk > 0) {
        int64_t rows = (int64_t)(B > 0 ? B : 1) * (U > 0 ? U : 1);
        int64_t fit = SBR_CUDA_CHUNK_BYTES / (rows * (int64_t)sizeof(float));
        int want = fit < N ? (int)fit : N;
        return chunk > want ? chunk : want;
    }
    if (prec == SBR_PREC_CUDA || N <= 0 || chunk <= 0)
        return chunk;
    int64_t per = (int64_t)SBR_NN_LANES * chunk;
    int64_t n_chunks = SBR_NN_LANES * ((N + per - 1) / per);
    int ce = (int)((N + n_chunks - 1) / n_chunks);
    return ce < 1 ? 1 : ce;
}

/* Scratch of the catalogue ops (fused score + CE and top-K, single or
 * multi-interest) of a precision, for its largest call. */
static size_t catalogue_scratch(sbr_prec prec, int B, int U, int N, int d, int K, int chunk)
{
#define CATALOGUE_SCRATCH(sfx)                                                            \
    do {                                                                                  \
        a = sbr_nn_score_ce_scratch_##sfx(one);                                           \
        b = sbr_nn_topk_scratch_##sfx(one, K);                                            \
        u = sbr_nn_uncertainty_scratch_##sfx(U > 1 ? multi : one);                        \
        if (U > 1) {                                                                      \
            size_t c = sbr_nn_score_multi_scratch_##sfx(multi);                           \
            size_t x = sbr_nn_topk_multi_scratch_##sfx(multi, K);                         \
            a = c > a ? c : a;                                                            \
            b = x > b ? x : b;                                                            \
        }                                                                                 \
    } while (0)
    /* the single ops take one vector per row, the multi ops U */
    sbr_nn_scoring one = {B, 1, N, d, chunk, 0}, multi = {B, U, N, d, chunk, 0};
    size_t a, b, u; /* training, ranking, its uncertainty (the same call) */
    switch (prec) {
    case SBR_PREC_F64: CATALOGUE_SCRATCH(f64); break;
#ifdef SBR_HAVE_CUDA
    case SBR_PREC_CUDA: CATALOGUE_SCRATCH(cuda); break;
#endif
    default: CATALOGUE_SCRATCH(f32); break;
    }
#undef CATALOGUE_SCRATCH
    a = a > u ? a : u;
    return a > b ? a : b;
}

/* Scratch of the step's scoring for batches up to B x L: the model's own
 * (def->score) or the catalogue ops'. */
static size_t scoring_scratch(const sbr_model *m, int B, int L, int K, int chunk)
{
    if (m->def->score) {
        sbr_dims dm = {B, L, 0, 0, 0};
        return m->def->score->scratch(m, &dm, chunk, K);
    }
    return catalogue_scratch(m->prec, B, m->interests, m->cfg.n_items, m->d, K, chunk);
}

/* --- creation ------------------------------------------------------------- */

int sbr_model_resolve(sbr_model *m, const sbr_model_def *def, sbr_err *e)
{
    const sbr_model_cfg *c = &m->cfg;
    if (sbr_cfg_check(c, e) || (def->check && def->check(c, e)))
        return -1;
    m->d = (int)sbr_cfg_get_or(c, "dim", 0);
    m->max_len = (int)sbr_cfg_get_or(c, "max_len", 0);
    m->global_k = (def->needs & SBR_NEEDS_GLOBAL) ? sbr_cfg_int(c, "global_k") : 0;
    m->pool_sum = (int)sbr_cfg_get_or(c, "interest_pool", 0);
    int U = (int)sbr_cfg_get_or(c, "interests", 1);
    m->interests = (def->needs & SBR_NEEDS_INTERESTS) && U > 1 ? U : 1;
    if (c->n_items < 1 || c->n_clusters < 0)
        return sbr_errf(e, "model %s has %d items and %d clusters", c->model, c->n_items,
                        c->n_clusters);
    if (m->d < 1 || m->max_len < 1)
        return sbr_errf(e, "model %s has dim %d and max_len %d (each at least 1)", c->model,
                        m->d, m->max_len);
    if ((int64_t)m->max_B * m->max_L * 3 > INT_MAX) /* the batch's edge count is an int */
        return sbr_errf(e, "batches of %d prefixes of %d clicks are too large for model %s",
                        m->max_B, m->max_L, c->model);
    if ((def->needs & SBR_NEEDS_EOP) && /* the shortcut edges: L (L + 1) / 2 per prefix */
        (int64_t)m->max_B * m->max_L * (m->max_L + 1) / 2 > INT_MAX)
        return sbr_errf(e, "batches of %d prefixes of %d clicks have too many shortcut edges "
                        "for model %s", m->max_B, m->max_L, c->model);
    if (m->interests > SBR_MAX_INTERESTS)
        return sbr_errf(e, "%d interests: at most %d", m->interests, SBR_MAX_INTERESTS);
    if ((def->needs & SBR_NEEDS_GLOBAL) && m->global_k < 1)
        return sbr_errf(e, "model \"%s\" needs global_k >= 1", c->model);
    return 0;
}

/* Declares the parameters into the (uncommitted) arenas' layout and checks
 * the typed weights against them. */
static void declare(sbr_model *m)
{
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
    sbr_arena_init(&m->params, "params", m->elem, al);
    m->p_items = -1;
    m->def->declare(m);
    sbr_model_check_weights(m);
    sbr_arena_clone_layout(&m->grads, &m->params, "grads", m->elem, al);
    sbr_arena_clone_layout(&m->adam_m, &m->params, "adam.m", m->elem, al);
    sbr_arena_clone_layout(&m->adam_v, &m->params, "adam.v", m->elem, al);
}

/* Activations (the step's, then the model's: laid out once, for the
 * largest batch) and op scratch. */
static int compute_memory(sbr_model *m, sbr_err *e)
{
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
    const sbr_model_cfg *c = &m->cfg;
    sbr_batch_caps cap = sbr_batch_caps_for(m->max_B, m->max_L, m->global_k);
    sbr_dims dm = {cap.B, cap.L, cap.T, cap.E, cap.K};
    size_t step_bytes = steps_of(m->prec)->layout(m, NULL, m->max_B);
    sbr_lay sizing = {NULL, 0};
    m->def->layout(m, &sizing, &dm);
    m->act_bytes = (step_bytes + SBR_ARENA_ALIGN) + sizing.used + SBR_ARENA_ALIGN;
    int N = c->n_items, chunk = c->chunk > 0 ? c->chunk : 2048, K = c->max_k > 0 ? c->max_k : 100;
    size_t sc = m->def->scratch(m, &dm);
    size_t s1 = scoring_scratch(m, m->max_B, cap.L, K,
                                op_chunk(m->prec, N, chunk, m->max_B, m->interests));
    m->scratch_bytes = sc > s1 ? sc : s1;
    if (!(m->act_mem = al->alloc(m->act_bytes, al->user)))
        return sbr_errf(e, "out of %s memory for activations (%zu bytes)",
                        m->prec == SBR_PREC_CUDA ? "GPU" : "host", m->act_bytes);
    size_t at = steps_of(m->prec)->layout(m, m->act_mem, m->max_B);
    sbr_lay l = {(char *)m->act_mem + (at + SBR_ARENA_ALIGN - 1) / SBR_ARENA_ALIGN * SBR_ARENA_ALIGN,
                 0};
    m->def->layout(m, &l, &dm);
    return 0;
}

int sbr_model_create(sbr_model *m, const sbr_model_cfg *cfg, sbr_prec prec, int max_B,
                     int max_L, sbr_err *e)
{
    const sbr_model_def *def = sbr_model_def_for(cfg->model, prec);
    if (!def) {
        memset(m, 0, sizeof *m);
        return sbr_errf(e, "model \"%s\" is not available on %s", cfg->model,
                        prec == SBR_PREC_CUDA ? "the GPU path" : "this path");
    }
    return sbr_model_create_def(m, def, cfg, prec, (int[2]){max_B, max_L}, e);
}

int sbr_model_create_def(sbr_model *m, const sbr_model_def *def, const sbr_model_cfg *cfg,
                         sbr_prec prec, const int max_BL[2], sbr_err *e)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->prec = prec;
    m->cfg.opts = def->opts;
    m->max_B = max_BL[0];
    m->max_L = max_BL[1];
    if (sbr_model_resolve(m, def, e))
        return -1;
    m->def = def;
    m->elem = prec == SBR_PREC_F64 ? sizeof(double) : sizeof(float);
    m->state = sbr_xcalloc(1, def->state_size);
    declare(m);
    if (sbr_arena_commit(&m->params, e) || sbr_arena_commit(&m->grads, e) ||
        sbr_arena_commit(&m->adam_m, e) || sbr_arena_commit(&m->adam_v, e))
        return -1;
    sbr_model_bind_params(m);
    sbr_model_init_params(m);
    if (compute_memory(m, e))
        return -1;
    /* before the device split: the GPU's dropout draws the CPU's numbers */
    m->drop_seed = cfg->seed ^ 0xD50F5EEDull;
#ifdef SBR_HAVE_CUDA
    if (prec == SBR_PREC_CUDA) /* a cuBLAS handle, a stream and device scratch */
        return sbr_nn_cuda_ctx_init(&m->ctx, m->scratch_bytes, e) < 0 ? -1 : 0;
#endif
    const sbr_allocator *al = sbr_dev_allocator(prec);
    if (!(m->scratch_mem = al->alloc(m->scratch_bytes, al->user)))
        return sbr_errf(e, "out of host memory for op scratch (%zu bytes)", m->scratch_bytes);
    m->ctx.scratch = m->scratch_mem;
    m->ctx.scratch_bytes = m->scratch_bytes;
    return 0;
}

void sbr_model_free(sbr_model *m)
{
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA && m->def)
        sbr_nn_cuda_ctx_free(&m->ctx);
    if (m->dev_loss_sums)
        sbr_cuda_free(m->dev_loss_sums);
#endif
    if (m->def && m->step)
        steps_of(m->prec)->free(m);
    if (m->act_mem)
        al->free(m->act_mem, al->user);
    if (m->scratch_mem)
        al->free(m->scratch_mem, al->user);
    free(m->keep_mem);
    sbr_model_pool_free(m);
    free(m->state);
    sbr_arena_free(&m->params);
    sbr_arena_free(&m->grads);
    sbr_arena_free(&m->adam_m);
    sbr_arena_free(&m->adam_v);
    free(m->user_ids);
    free(m->gtab_nbr);
    free(m->gtab_n);
    free(m->gtab_w);
    memset(m, 0, sizeof *m);
}

/* --- steps ------------------------------------------------------------------ */

/* The op scratch was reserved at creation for (cfg.chunk, cfg.max_k): a
 * call with other sizes must still fit, or it is a caller's bug. */
static void check_fits(const sbr_model *m, const sbr_batch *b, int K, int chunk)
{
    size_t need = scoring_scratch(m, b->B, b->L, K, chunk);
    if (need > m->scratch_bytes || b->B > m->max_B || b->L > m->max_L || K > m->cfg.max_k)
        sbr_fatal("internal error: a batch of %d x %d with chunk %d and K %d needs %zu bytes of "
                  "op scratch; the model reserved %zu for batch %d x %d, chunk %d, K %d", b->B,
                  b->L, chunk, K, need, m->scratch_bytes, m->max_B, m->max_L, m->cfg.chunk,
                  m->cfg.max_k);
}

double sbr_model_train_step(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc)
{
    sbr_step_cfg c = *sc;
    c.chunk = op_chunk(m->prec, m->cfg.n_items, sc->chunk, m->max_B, m->interests);
    check_fits(m, b, 1, c.chunk);
    return steps_of(m->prec)->train(m, b, &c);
}

double sbr_model_loss_grad(sbr_model *m, const sbr_batch *b, int train, int chunk)
{
    chunk = op_chunk(m->prec, m->cfg.n_items, chunk, m->max_B, m->interests);
    check_fits(m, b, 1, chunk);
    return steps_of(m->prec)->loss_grad(m, b, train, chunk);
}

void sbr_model_forward(sbr_model *m, const sbr_batch *b, void *S)
{
    check_fits(m, b, 1, 1);
    m->xloss = NULL;
    m->def->forward(m, b, S, 0);
}

void sbr_model_topk(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                    float *score, const int32_t *excl_off, const int32_t *excl)
{
    sbr_model_topk_unc(m, b, K, chunk, idx, score, NULL, NULL, excl_off, excl);
}

void sbr_model_topk_unc(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                        float *score, float *ent, float *p1, const int32_t *excl_off,
                        const int32_t *excl)
{
    const char *no = ent ? sbr_model_no_uncertainty(m) : NULL;
    if (no)
        sbr_fatal("internal error: uncertainty asked of model %s: %s", m->cfg.model, no);
    chunk = op_chunk(m->prec, m->cfg.n_items, chunk, m->max_B, m->interests);
    check_fits(m, b, K, chunk);
    steps_of(m->prec)->topk(m, b, K, chunk, idx, score, ent, p1, excl_off, excl);
}

/* The uncertainty op scores S . E (pooled over interests): a model with
 * its own scoring hook ranks by something else. */
const char *sbr_model_no_uncertainty(const sbr_model *m)
{
    if (!m->def->score)
        return NULL;
    return m->def->score->ce ? "it scores the catalogue through its own hook (a term per "
                               "candidate beyond S . E), which the uncertainty op does not cover"
                             : "its scores are distances ranked by a margin loss, not a softmax "
                               "over the catalogue";
}

void sbr_model_loss_sums_reset(sbr_model *m)
{
    m->loss_sums_on = 1;
    m->host_loss_sums[0] = m->host_loss_sums[1] = 0;
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA) {
        sbr_err e;
        if (!m->dev_loss_sums && !(m->dev_loss_sums = sbr_cuda_malloc(2 * sizeof(double), &e)))
            sbr_fatal("%s", e.msg);
        double zero[2] = {0, 0};
        sbr_cuda_h2d(m->dev_loss_sums, zero, sizeof zero);
    }
#endif
}

void sbr_model_loss_sums_off(sbr_model *m) { m->loss_sums_on = 0; }

void sbr_model_loss_sums(sbr_model *m, double sums[2])
{
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA && m->dev_loss_sums) {
        sbr_cuda_d2h(sums, m->dev_loss_sums, 2 * sizeof(double));
        return;
    }
#endif
    sums[0] = m->host_loss_sums[0];
    sums[1] = m->host_loss_sums[1];
}

void sbr_model_sync(sbr_model *m)
{
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA)
        sbr_nn_cuda_sync(&m->ctx);
#else
    (void)m;
#endif
}

void sbr_model_prof_begin(sbr_model *m)
{
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA)
        sbr_cuda_prof_begin(&m->ctx);
#else
    (void)m;
#endif
}

void sbr_model_prof_end(sbr_model *m)
{
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA)
        sbr_cuda_prof_end();
#else
    (void)m;
#endif
}

void sbr_model_prof_report(sbr_model *m, FILE *out, const char *title)
{
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA)
        sbr_cuda_prof_report(out, title);
#else
    (void)m, (void)out, (void)title;
#endif
}

int sbr_model_gemm_plans(const sbr_model *m, int *none)
{
    *none = 0;
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA)
        return sbr_cuda_gemm_lt_plans(&m->ctx, none);
#else
    (void)m;
#endif
    return 0;
}
