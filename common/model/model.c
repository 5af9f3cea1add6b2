/* Model life cycle, parameters, files: the precision-agnostic half of
 * model.h (the bodies are in the *.inc files, per precision). */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "model/devmem.h"
#ifdef SBR_HAVE_CUDA
#include "cuda/nn_cuda.h"
#endif

const char *const sbr_model_names[] = {"gru4rec", "narm", "stamp", "srgnn", "gcegnn", "dmignn",
                                       NULL};

int sbr_model_defaults(const char *name, sbr_model_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "%s", name);
    c->d = 100; /* the SR-GNN lineage's size, used by every table we compare with */
    c->hidden = 100;
    c->layers = 1;
    c->heads = 1;
    c->max_len = 50;
    c->seed = 1;
    c->chunk = 2048; /* the fastest in make bench (score_ce rows) */
    c->max_k = 100;
    c->interests = 1;
    if (strcmp(name, "gru4rec") == 0) {
        c->dropout_emb = 0.25;
        return 0;
    }
    if (strcmp(name, "narm") == 0) { /* Li et al. 2017: embedding 0.25, context 0.5 */
        c->dropout_emb = 0.25;
        c->dropout_hidden = 0.5;
        return 0;
    }
    if (strcmp(name, "stamp") == 0) /* Liu et al. 2018: no dropout, d 100 */
        return 0;
    if (strcmp(name, "srgnn") == 0) /* Wu et al. 2019: hidden = d = 100, one GNN step */
        return 0;
    if (strcmp(name, "gcegnn") == 0) { /* Wang et al. 2020, official code's defaults */
        c->dropout_emb = 0;      /* dropout_local (on the session-graph branch) */
        c->dropout_hidden = 0.5; /* dropout_global (on the global branch) */
        c->global_k = 12;
        return 0;
    }
    if (strcmp(name, "dmignn") == 0) { /* Lv et al. 2025, the official RetailRocket settings */
        c->dropout_emb = 0;
        c->dropout_hidden = 0.5;
        c->global_k = 12;
        c->dropout_gcn = 0.8;
        c->interests = 3;
        c->dmi_eta = 12;
        c->dmi_beta = 0.005;
        return 0;
    }
    return -1;
}

static const sbr_model_steps *steps_of(sbr_prec p)
{
    return p == SBR_PREC_F64 ? &sbr_model_steps_f64
         : p == SBR_PREC_CUDA ? &sbr_model_steps_cuda
                              : &sbr_model_steps_f32;
}

const sbr_model_impl *sbr_model_impl_for(const char *name, sbr_prec prec)
{
    for (const sbr_model_impl *const *i = steps_of(prec)->impls; *i; i++)
        if (strcmp((*i)->name, name) == 0)
            return *i;
    return NULL;
}

int sbr_model_param(sbr_model *m, const char *name, int ndim, const int64_t *shape,
                    sbr_init_kind init, double arg)
{
    int i = sbr_arena_add(&m->params, name, ndim, shape);
    if (i >= SBR_MODEL_MAX_PARAMS)
        sbr_fatal("internal error: more than %d parameters", SBR_MODEL_MAX_PARAMS);
    m->init[i] = init;
    m->init_arg[i] = arg;
    return i;
}

void *sbr_model_act(sbr_model *m, size_t reals)
{
    void *p = sbr_bump_take(&m->acts, reals * m->elem);
    if (!p)
        sbr_fatal("internal error: %s activations exceed the %zu bytes reserved "
                  "(batch %d x %d)", m->cfg.model, m->act_bytes, m->max_B, m->max_L);
    return p;
}

static void declare_front(sbr_model *m)
{
    int64_t d = m->cfg.d;
    m->p_items = sbr_model_param(m, "items", 2, (int64_t[]){m->cfg.n_items + 1, d},
                                 SBR_INIT_UNIFORM, 0);
    m->p_prompts = m->p_ge_w = m->p_ge_b = m->p_gp_w = m->p_gp_b = -1;
    if (m->cfg.n_clusters > 0) {
        m->p_prompts = sbr_model_param(m, "clip.prompts", 2, (int64_t[]){m->cfg.n_clusters + 1, d},
                                       SBR_INIT_UNIFORM, 0);
        m->p_ge_w = sbr_model_param(m, "clip.gate_e.w", 2, (int64_t[]){d, d}, SBR_INIT_UNIFORM, 0);
        m->p_ge_b = sbr_model_param(m, "clip.gate_e.b", 1, (int64_t[]){d}, SBR_INIT_UNIFORM, 0);
        m->p_gp_w = sbr_model_param(m, "clip.gate_p.w", 2, (int64_t[]){d, d}, SBR_INIT_UNIFORM, 0);
        m->p_gp_b = sbr_model_param(m, "clip.gate_p.b", 1, (int64_t[]){d}, SBR_INIT_UNIFORM, 0);
    }
}

/* Initialises every parameter on the host (so that the CPU and the GPU start
 * from the same bits), then uploads. Row 0 of the item and prompt tables is
 * padding: zero. Parameter i draws from (seed, i << 40). */
static void init_params(sbr_model *m)
{
    double scale = m->cfg.init_scale > 0 ? m->cfg.init_scale : 1.0 / sqrt((double)m->cfg.d);
    for (int i = 0; i < m->params.n; i++) {
        sbr_view *v = &m->params.views[i];
        double *h = sbr_xcalloc((size_t)v->numel + 1, sizeof(double));
        uint64_t off = (uint64_t)i << 40;
        switch (m->init[i]) {
        case SBR_INIT_UNIFORM:
            sbr_nn_init_uniform_f64(h, v->numel, m->init_arg[i] > 0 ? m->init_arg[i] : scale,
                                    m->cfg.seed, off);
            break;
        case SBR_INIT_NORMAL:
            sbr_nn_init_normal_f64(h, v->numel, 0, m->init_arg[i], m->cfg.seed, off);
            break;
        case SBR_INIT_ONE:
            for (int64_t k = 0; k < v->numel; k++)
                h[k] = 1;
            break;
        case SBR_INIT_ZERO:
            break;
        }
        if (i == m->p_items || i == m->p_prompts)
            memset(h, 0, sizeof(double) * (size_t)v->shape[1]);
        if (m->elem == sizeof(double))
            memcpy(v->data, h, sizeof(double) * (size_t)v->numel);
        else {
            float *f = sbr_xmalloc(sizeof(float) * (size_t)v->numel + 1);
            for (int64_t k = 0; k < v->numel; k++)
                f[k] = (float)h[k];
            sbr_dev_upload(m->prec, v->data, f, sizeof(float) * (size_t)v->numel);
            free(f);
        }
        free(h);
    }
}

/* The chunk the CPU catalogue ops run with for a requested one: the
 * catalogue cut into a multiple of NN_LANES chunks of one size (at most the
 * request). The lanes are dealt to the threads, so an uneven cut leaves a
 * core idle (diginetica's 43,097 items in chunks of 2048 made 22 chunks: 11
 * for one thread, 10 and a sliver for the other). CUDA takes it as asked. */
/* Items per chunk of the catalogue ops for batches of B x U session vectors.
 * On the GPU, as many as keep the chunk's logits [B U, chunk] within
 * SBR_CUDA_CHUNK_BYTES (never fewer than asked): the whole catalogue of the
 * benchmarks, one sgemm per pass instead of several (diginetica score + CE
 * forward and backward 0.38 -> 0.25 ms per batch of 100 on an H200). */
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
        if (U > 1) {                                                                      \
            size_t c = sbr_nn_score_multi_scratch_##sfx(multi);                           \
            size_t x = sbr_nn_topk_multi_scratch_##sfx(multi, K);                         \
            a = c > a ? c : a;                                                            \
            b = x > b ? x : b;                                                            \
        }                                                                                 \
    } while (0)
    /* the single ops take one vector per row, the multi ops U */
    sbr_nn_scoring one = {B, 1, N, d, chunk, 0}, multi = {B, U, N, d, chunk, 0};
    size_t a, b;
    switch (prec) {
    case SBR_PREC_F64: CATALOGUE_SCRATCH(f64); break;
#ifdef SBR_HAVE_CUDA
    case SBR_PREC_CUDA: CATALOGUE_SCRATCH(cuda); break;
#endif
    default: CATALOGUE_SCRATCH(f32); break;
    }
#undef CATALOGUE_SCRATCH
    return a > b ? a : b;
}

int sbr_model_create(sbr_model *m, const sbr_model_cfg *cfg, sbr_prec prec, int max_B,
                     int max_L, sbr_err *e)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->prec = prec;
    m->impl = sbr_model_impl_for(cfg->model, prec);
    if (!m->impl)
        return sbr_errf(e, "model \"%s\" is not available on %s", cfg->model,
                        prec == SBR_PREC_CUDA ? "the GPU path" : "this path");
    m->interests = (m->impl->needs & SBR_NEEDS_INTERESTS) && cfg->interests > 1 ? cfg->interests : 1;
    if (m->interests > SBR_MAX_INTERESTS)
        return sbr_errf(e, "%d interests: at most %d", m->interests, SBR_MAX_INTERESTS);
    if ((m->impl->needs & SBR_NEEDS_GLOBAL) && cfg->global_k < 1)
        return sbr_errf(e, "model \"%s\" needs global_k >= 1", cfg->model);
    m->elem = prec == SBR_PREC_F64 ? sizeof(double) : sizeof(float);
    const sbr_allocator *al = sbr_dev_allocator(prec);
    sbr_arena_init(&m->params, "params", m->elem, al);
    declare_front(m);
    m->impl->declare(m);
    sbr_arena_clone_layout(&m->grads, &m->params, "grads", m->elem, al);
    sbr_arena_clone_layout(&m->adam_m, &m->params, "adam.m", m->elem, al);
    sbr_arena_clone_layout(&m->adam_v, &m->params, "adam.v", m->elem, al);
    if (sbr_arena_commit(&m->params, e) || sbr_arena_commit(&m->grads, e) ||
        sbr_arena_commit(&m->adam_m, e) || sbr_arena_commit(&m->adam_v, e))
        return -1;
    init_params(m);
    /* Activations and op scratch, sized for the largest batch. */
    m->max_B = max_B;
    m->max_L = max_L;
    m->max_U = max_L;
    int N = cfg->n_items, chunk = cfg->chunk > 0 ? cfg->chunk : 2048,
        K = cfg->max_k > 0 ? cfg->max_k : 100, U = m->interests;
    size_t step_reals = (size_t)max_B * (4 * (size_t)U * cfg->d + 8 + 2 * K) + 1024;
    if (m->impl->needs & SBR_NEEDS_NORM_ITEMS) /* the normalised table, its gradient, norms */
        step_reals += ((size_t)N + 1) * (2 * (size_t)cfg->d + 1) + 64;
    m->act_bytes = (m->impl->act_reals(cfg, max_B, max_L, max_L) + step_reals) * m->elem;
    size_t sc = m->impl->scratch(cfg, max_B, max_L, max_L);
    size_t s1 = catalogue_scratch(prec, max_B, U, N, cfg->d, K, op_chunk(prec, N, chunk, max_B, U));
    m->scratch_bytes = sc > s1 ? sc : s1;
    m->act_mem = al->alloc(m->act_bytes, al->user);
    if (!m->act_mem)
        return sbr_errf(e, "out of %s memory for activations (%zu bytes)",
                        prec == SBR_PREC_CUDA ? "GPU" : "host", m->act_bytes);
    sbr_bump_init(&m->acts, m->act_mem, m->act_bytes);
    /* before the device split: the GPU's dropout draws the CPU's numbers
     * (it ran with seed 0 while this line came after the CUDA return) */
    m->drop_seed = cfg->seed ^ 0xD50F5EEDull;
#ifdef SBR_HAVE_CUDA
    if (prec == SBR_PREC_CUDA) /* a cuBLAS handle, a stream and device scratch */
        return sbr_nn_cuda_ctx_init(&m->ctx, m->scratch_bytes, e) < 0 ? -1 : 0;
#endif
    m->scratch_mem = al->alloc(m->scratch_bytes, al->user);
    if (!m->scratch_mem)
        return sbr_errf(e, "out of host memory for op scratch (%zu bytes)", m->scratch_bytes);
    m->ctx.scratch = m->scratch_mem;
    m->ctx.scratch_bytes = m->scratch_bytes;
    return 0;
}

void sbr_model_free(sbr_model *m)
{
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA && m->impl)
        sbr_nn_cuda_ctx_free(&m->ctx);
    if (m->dev_loss_sums)
        sbr_cuda_free(m->dev_loss_sums);
#endif
    if (m->act_mem)
        al->free(m->act_mem, al->user);
    if (m->scratch_mem)
        al->free(m->scratch_mem, al->user);
    free(m->keep_mem);
    sbr_arena_free(&m->params);
    sbr_arena_free(&m->grads);
    sbr_arena_free(&m->adam_m);
    sbr_arena_free(&m->adam_v);
    free(m->gtab_nbr);
    free(m->gtab_n);
    free(m->gtab_w);
    memset(m, 0, sizeof *m);
}

/* The op scratch was reserved at creation for (cfg.chunk, cfg.max_k): a
 * call with other sizes must still fit, or it is a caller's bug. */
static void check_fits(const sbr_model *m, const sbr_batch *b, int K, int chunk)
{
    size_t need = catalogue_scratch(m->prec, b->B, m->interests, m->cfg.n_items, m->cfg.d, K, chunk);
    if (need > m->scratch_bytes || b->B > m->max_B)
        sbr_fatal("internal error: a batch of %d with chunk %d and K %d needs %zu bytes of op "
                  "scratch; the model reserved %zu for batch %d, chunk %d, K %d",
                  b->B, chunk, K, need, m->scratch_bytes, m->max_B, m->cfg.chunk, m->cfg.max_k);
}

double sbr_model_train_step(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc)
{
    sbr_step_cfg c = *sc;
    c.chunk = op_chunk(m->prec, m->cfg.n_items, sc->chunk, m->max_B, m->interests);
    check_fits(m, b, 1, c.chunk);
    return steps_of(m->prec)->train(m, b, &c);
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

void sbr_model_loss_sums_off(sbr_model *m)
{
    m->loss_sums_on = 0;
}

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

double sbr_model_loss_grad(sbr_model *m, const sbr_batch *b, int train, int chunk)
{
    chunk = op_chunk(m->prec, m->cfg.n_items, chunk, m->max_B, m->interests);
    check_fits(m, b, 1, chunk);
    return steps_of(m->prec)->loss_grad(m, b, train, chunk);
}

void sbr_model_topk(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                    float *score, const int32_t *excl_off, const int32_t *excl)
{
    chunk = op_chunk(m->prec, m->cfg.n_items, chunk, m->max_B, m->interests);
    check_fits(m, b, K, chunk);
    steps_of(m->prec)->topk(m, b, K, chunk, idx, score, excl_off, excl);
}

/* --- files ---------------------------------------------------------------- */

static const char *const cfg_int_keys[] = {"d", "hidden", "layers", "heads", "max_len",
                                           "n_items", "n_clusters", NULL};

static int *cfg_int(sbr_model_cfg *c, int i)
{
    int *f[] = {&c->d, &c->hidden, &c->layers, &c->heads, &c->max_len, &c->n_items,
                &c->n_clusters};
    return f[i];
}

/* Keys added with GCE-GNN / DMI-GNN: optional when reading (older files). */
static const char *const cfg_opt_int_keys[] = {"interests", "pool_sum", "global_k", NULL};

static int *cfg_opt_int(sbr_model_cfg *c, int i)
{
    int *f[] = {&c->interests, &c->pool_sum, &c->global_k};
    return f[i];
}

static void add_arena(sbr_tw *w, sbr_model *m, const sbr_arena *a, const char *prefix,
                      void **keep)
{
    /* Read back to the host once (for CUDA) and write each tensor as F32. */
    size_t bytes = a->bytes;
    void *host = sbr_xmalloc(bytes);
    sbr_dev_download(m->prec, host, a->base, bytes);
    float *f = host;
    if (m->elem == sizeof(double)) { /* f64 models (tests) are written as F32 too */
        f = sbr_xmalloc(bytes / 2 + 1);
        for (size_t k = 0; k < bytes / sizeof(double); k++)
            f[k] = (float)((double *)host)[k];
        free(host);
        host = f;
    }
    for (int i = 0; i < a->n; i++) {
        const sbr_view *v = &a->views[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, v->name);
        sbr_tw_add(w, name, SBR_F32, v->ndim, v->shape, f + v->offset / m->elem);
    }
    *keep = host;
}

void sbr_model_add_to(sbr_model *m, sbr_tw *w, int optimizer)
{
    static void *keep[3]; /* host copies live until the file is written */
    for (int i = 0; i < 3; i++) {
        free(keep[i]);
        keep[i] = NULL;
    }
    sbr_tw_meta(w, "model", m->cfg.model);
    for (int i = 0; cfg_int_keys[i]; i++)
        sbr_tw_metaf(w, cfg_int_keys[i], "%d", *cfg_int(&m->cfg, i));
    sbr_tw_metaf(w, "dropout_emb", "%.17g", m->cfg.dropout_emb);
    sbr_tw_metaf(w, "dropout_hidden", "%.17g", m->cfg.dropout_hidden);
    sbr_tw_metaf(w, "init_scale", "%.17g", m->cfg.init_scale);
    sbr_tw_metaf(w, "seed", "%llu", (unsigned long long)m->cfg.seed);
    sbr_tw_metaf(w, "adam_t", "%lld", (long long)m->adam_t);
    sbr_tw_metaf(w, "drop_counter", "%llu", (unsigned long long)m->drop_counter);
    for (int i = 0; cfg_opt_int_keys[i]; i++)
        sbr_tw_metaf(w, cfg_opt_int_keys[i], "%d", *cfg_opt_int(&m->cfg, i));
    sbr_tw_metaf(w, "dropout_gcn", "%.17g", m->cfg.dropout_gcn);
    sbr_tw_metaf(w, "dmi_eta", "%.17g", m->cfg.dmi_eta);
    sbr_tw_metaf(w, "dmi_beta", "%.17g", m->cfg.dmi_beta);
    if (m->gtab_nbr) { /* the global graph table: inference needs no graph file */
        int64_t rows = (int64_t)m->cfg.n_items + 1, K = m->cfg.global_k;
        sbr_tw_add(w, "global.nbr", SBR_I32, 2, (int64_t[]){rows, K}, m->gtab_nbr);
        sbr_tw_add(w, "global.w", SBR_F32, 2, (int64_t[]){rows, K}, m->gtab_w);
        sbr_tw_add1(w, "global.n", SBR_I32, rows, m->gtab_n);
    }
    add_arena(w, m, &m->params, "param.", &keep[0]);
    if (optimizer) {
        add_arena(w, m, &m->adam_m, "adam.m.", &keep[1]);
        add_arena(w, m, &m->adam_v, "adam.v.", &keep[2]);
    }
}

static int meta_double(const sbr_tfile *f, const char *key, double *out, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, key);
    char *end;
    if (!v)
        return sbr_errf(e, "missing metadata \"%s\"", key);
    *out = strtod(v, &end);
    if (end == v || *end)
        return sbr_errf(e, "metadata \"%s\" is not a number: \"%s\"", key, v);
    return 0;
}

int sbr_model_read_cfg(const sbr_tfile *f, sbr_model_cfg *c, sbr_err *e)
{
    if (sbr_tfile_expect_kind(f, "sbr.model", e))
        return -1;
    const char *name = sbr_tfile_meta(f, "model");
    if (!name || sbr_model_defaults(name, c))
        return sbr_errf(e, "unknown model \"%s\"", name ? name : "(none)");
    for (int i = 0; cfg_int_keys[i]; i++) {
        int64_t v;
        if (sbr_tfile_meta_i64(f, cfg_int_keys[i], &v, e))
            return -1;
        if (v < 0 || v > (1 << 30))
            return sbr_errf(e, "metadata \"%s\" out of range: %lld", cfg_int_keys[i], (long long)v);
        *cfg_int(c, i) = (int)v;
    }
    if (c->d < 1 || c->n_items < 1)
        return sbr_errf(e, "model has d = %d and %d items", c->d, c->n_items);
    int64_t seed;
    if (meta_double(f, "dropout_emb", &c->dropout_emb, e) ||
        meta_double(f, "dropout_hidden", &c->dropout_hidden, e) ||
        meta_double(f, "init_scale", &c->init_scale, e) || sbr_tfile_meta_i64(f, "seed", &seed, e))
        return -1;
    c->seed = (uint64_t)seed;
    for (int i = 0; cfg_opt_int_keys[i]; i++) {
        int64_t v;
        if (!sbr_tfile_meta(f, cfg_opt_int_keys[i]))
            continue;
        if (sbr_tfile_meta_i64(f, cfg_opt_int_keys[i], &v, e))
            return -1;
        if (v < 0 || v > 4096)
            return sbr_errf(e, "metadata \"%s\" out of range: %lld", cfg_opt_int_keys[i],
                            (long long)v);
        *cfg_opt_int(c, i) = (int)v;
    }
    /* dropout_gcn: absent from models written before it existed (0) */
    if ((sbr_tfile_meta(f, "dropout_gcn") && meta_double(f, "dropout_gcn", &c->dropout_gcn, e)) ||
        (sbr_tfile_meta(f, "dmi_eta") && meta_double(f, "dmi_eta", &c->dmi_eta, e)) ||
        (sbr_tfile_meta(f, "dmi_beta") && meta_double(f, "dmi_beta", &c->dmi_beta, e)))
        return -1;
    if (c->interests < 1 || c->interests > 255)
        return sbr_errf(e, "model has %d interests (1..255)", c->interests);
    return 0;
}

static int load_arena(sbr_model *m, sbr_arena *a, const sbr_tfile *f, const char *prefix,
                      sbr_err *e)
{
    void *host = sbr_xcalloc(1, a->bytes);
    for (int i = 0; i < a->n; i++) {
        const sbr_view *v = &a->views[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, v->name);
        const sbr_tensor *t = sbr_tfile_need(f, name, SBR_F32, v->ndim, e);
        if (!t || t->numel != v->numel) {
            free(host);
            return t ? sbr_errf(e, "tensor \"%s\" has %lld values, the model needs %lld", name,
                                (long long)t->numel, (long long)v->numel)
                     : -1;
        }
        const float *src = t->data;
        for (int64_t k = 0; k < v->numel; k++) {
            if (!isfinite(src[k])) {
                free(host);
                return sbr_errf(e, "tensor \"%s\" holds a non-finite value", name);
            }
            if (m->elem == sizeof(double))
                ((double *)host)[v->offset / 8 + (size_t)k] = src[k];
            else
                ((float *)host)[v->offset / 4 + (size_t)k] = src[k];
        }
    }
    sbr_dev_upload(m->prec, a->base, host, a->bytes);
    free(host);
    return 0;
}

/* The global graph table of a model file (models with SBR_NEEDS_GLOBAL). */
static int load_global(sbr_model *m, const sbr_tfile *f, sbr_err *e)
{
    int64_t rows = (int64_t)m->cfg.n_items + 1, K = m->cfg.global_k;
    const sbr_tensor *tn, *tw, *tc;
    if (!(tn = sbr_tfile_need(f, "global.nbr", SBR_I32, 2, e)) ||
        !(tw = sbr_tfile_need(f, "global.w", SBR_F32, 2, e)) ||
        !(tc = sbr_tfile_need(f, "global.n", SBR_I32, 1, e)))
        return -1;
    if (tn->shape[0] != rows || tn->shape[1] != K || tw->shape[0] != rows || tw->shape[1] != K ||
        tc->numel != rows)
        return sbr_errf(e, "the global graph table does not fit the model (%lld x %lld)",
                        (long long)rows, (long long)K);
    return sbr_model_set_global_table(m, tn->data, tw->data, tc->data, e);
}

int sbr_model_load(sbr_model *m, const sbr_tfile *f, int optimizer, sbr_err *e)
{
    if (load_arena(m, &m->params, f, "param.", e))
        return -1;
    if ((m->impl->needs & SBR_NEEDS_GLOBAL) && load_global(m, f, e))
        return -1;
    int64_t t = 0, dc = 0;
    if (optimizer) {
        if (load_arena(m, &m->adam_m, f, "adam.m.", e) ||
            load_arena(m, &m->adam_v, f, "adam.v.", e) ||
            sbr_tfile_meta_i64(f, "adam_t", &t, e) || sbr_tfile_meta_i64(f, "drop_counter", &dc, e))
            return -1;
        m->adam_t = t;
        m->drop_counter = (uint64_t)dc;
    }
    return 0;
}

/* --- the global graph table ------------------------------------------------ */

int sbr_model_set_global_table(sbr_model *m, const int32_t *nbr, const float *w,
                               const int32_t *n, sbr_err *e)
{
    int64_t rows = (int64_t)m->cfg.n_items + 1, K = m->cfg.global_k;
    if (K < 1)
        return sbr_errf(e, "model \"%s\" keeps no global neighbours (global_k = 0)",
                        m->cfg.model);
    for (int64_t i = 0; i < rows; i++) {
        if (n[i] < 0 || n[i] > K || (i == 0 && n[i] != 0))
            return sbr_errf(e, "global table: item %lld has %d neighbours (0..%lld)", (long long)i,
                            n[i], (long long)K);
        for (int64_t k = 0; k < n[i]; k++) {
            int32_t v = nbr[i * K + k];
            float x = w[i * K + k];
            if (v < 1 || v > m->cfg.n_items || !(x >= 0) || !isfinite(x))
                return sbr_errf(e, "global table: item %lld, neighbour %lld: id %d weight %g",
                                (long long)i, (long long)k, v, (double)x);
        }
    }
    free(m->gtab_nbr), free(m->gtab_n), free(m->gtab_w);
    m->gtab_nbr = sbr_xcalloc((size_t)(rows * K), sizeof(int32_t));
    m->gtab_w = sbr_xcalloc((size_t)(rows * K), sizeof(float));
    m->gtab_n = sbr_xcalloc((size_t)rows, sizeof(int32_t));
    for (int64_t i = 0; i < rows; i++) { /* entries past n stay 0 */
        m->gtab_n[i] = n[i];
        memcpy(m->gtab_nbr + i * K, nbr + i * K, sizeof(int32_t) * (size_t)n[i]);
        memcpy(m->gtab_w + i * K, w + i * K, sizeof(float) * (size_t)n[i]);
    }
    return 0;
}

typedef struct {
    int32_t id;
    float w;
} nbr_entry;

/* Heavier first; ties: the smaller id. */
static int by_weight(const void *a, const void *b)
{
    const nbr_entry *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int sbr_model_set_global(sbr_model *m, const sbr_graph *g, sbr_err *e)
{
    if (g->kind != SBR_GRAPH_WINDOW)
        return sbr_errf(e, "a graph of kind %s: %s needs sbr-graph --kind window",
                        sbr_graph_kind_names[g->kind], m->cfg.model);
    if (g->n_nodes != (int64_t)m->cfg.n_items + 1)
        return sbr_errf(e, "a graph of %lld items, the model has %d: made from another sessions "
                           "file?", (long long)g->n_items, m->cfg.n_items);
    int64_t rows = g->n_nodes, K = m->cfg.global_k, maxdeg = 0;
    for (int64_t i = 0; i < rows; i++)
        maxdeg = g->offsets[i + 1] - g->offsets[i] > maxdeg ? g->offsets[i + 1] - g->offsets[i]
                                                            : maxdeg;
    int32_t *nbr = sbr_xcalloc((size_t)(rows * K) + 1, sizeof(int32_t));
    int32_t *n = sbr_xcalloc((size_t)rows, sizeof(int32_t));
    float *w = sbr_xcalloc((size_t)(rows * K) + 1, sizeof(float));
    nbr_entry *row = sbr_xmalloc(sizeof(nbr_entry) * (size_t)(maxdeg + 1));
    for (int64_t i = 1; i < rows; i++) {
        int64_t deg = 0;
        for (int64_t k = g->offsets[i]; k < g->offsets[i + 1]; k++)
            if (g->neighbors[k] != i) /* a self-loop is no neighbour */
                row[deg].id = g->neighbors[k], row[deg++].w = g->weights[k];
        qsort(row, (size_t)deg, sizeof *row, by_weight);
        n[i] = (int32_t)(deg < K ? deg : K);
        for (int64_t k = 0; k < n[i]; k++)
            nbr[i * K + k] = row[k].id, w[i * K + k] = row[k].w;
    }
    int rc = sbr_model_set_global_table(m, nbr, w, n, e);
    free(nbr), free(n), free(w), free(row);
    return rc;
}
