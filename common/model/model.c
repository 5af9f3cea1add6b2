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

const char *const sbr_model_names[] = {"gru4rec", "narm", "stamp", "srgnn", NULL};

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
    int N = cfg->n_items, chunk = 8192, K = 100;
    size_t step_reals = (size_t)max_B * (4 * (size_t)cfg->d + 8 + 2 * K) + 1024;
    m->act_bytes = (m->impl->act_reals(cfg, max_B, max_L, max_L) + step_reals) * m->elem;
    size_t sc = m->impl->scratch(cfg, max_B, max_L, max_L);
    size_t s1 = prec == SBR_PREC_F64 ? sbr_nn_score_ce_scratch_f64(max_B, N, cfg->d, chunk)
                                     : sbr_nn_score_ce_scratch_f32(max_B, N, cfg->d, chunk);
    size_t s2 = prec == SBR_PREC_F64 ? sbr_nn_topk_scratch_f64(max_B, N, K, chunk)
                                     : sbr_nn_topk_scratch_f32(max_B, N, K, chunk);
    m->scratch_bytes = sc > s1 ? sc : s1;
    m->scratch_bytes = s2 > m->scratch_bytes ? s2 : m->scratch_bytes;
    m->act_mem = al->alloc(m->act_bytes, al->user);
    if (!m->act_mem)
        return sbr_errf(e, "out of %s memory for activations (%zu bytes)",
                        prec == SBR_PREC_CUDA ? "GPU" : "host", m->act_bytes);
    sbr_bump_init(&m->acts, m->act_mem, m->act_bytes);
#ifdef SBR_HAVE_CUDA
    if (prec == SBR_PREC_CUDA) /* a cuBLAS handle, a stream and device scratch */
        return sbr_nn_cuda_ctx_init(&m->ctx, m->scratch_bytes, e) < 0 ? -1 : 0;
#endif
    m->scratch_mem = al->alloc(m->scratch_bytes, al->user);
    if (!m->scratch_mem)
        return sbr_errf(e, "out of host memory for op scratch (%zu bytes)", m->scratch_bytes);
    m->ctx.scratch = m->scratch_mem;
    m->ctx.scratch_bytes = m->scratch_bytes;
    m->drop_seed = cfg->seed ^ 0xD50F5EEDull;
    return 0;
}

void sbr_model_free(sbr_model *m)
{
    const sbr_allocator *al = sbr_dev_allocator(m->prec);
#ifdef SBR_HAVE_CUDA
    if (m->prec == SBR_PREC_CUDA && m->impl)
        sbr_nn_cuda_ctx_free(&m->ctx);
#endif
    if (m->act_mem)
        al->free(m->act_mem, al->user);
    if (m->scratch_mem)
        al->free(m->scratch_mem, al->user);
    sbr_arena_free(&m->params);
    sbr_arena_free(&m->grads);
    sbr_arena_free(&m->adam_m);
    sbr_arena_free(&m->adam_v);
    memset(m, 0, sizeof *m);
}

double sbr_model_train_step(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc)
{
    return steps_of(m->prec)->train(m, b, sc);
}

double sbr_model_loss_grad(sbr_model *m, const sbr_batch *b, int train, int chunk)
{
    return steps_of(m->prec)->loss_grad(m, b, train, chunk);
}

void sbr_model_topk(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                    float *score, const int32_t *excl_off, const int32_t *excl)
{
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

int sbr_model_load(sbr_model *m, const sbr_tfile *f, int optimizer, sbr_err *e)
{
    if (load_arena(m, &m->params, f, "param.", e))
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
