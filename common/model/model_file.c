/* Model files (kind sbr.model): the resolved options and the parameters out,
 * and back in through the same ranges; files of format 1 (before the models
 * declared their options) through a table of their keys. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/def.h"
#include "model/devmem.h"
#include "model/model_params.h"

static void add_arena(sbr_tw *w, sbr_model *m, const sbr_arena *a, const char *prefix,
                      void **keep)
{
    /* Read back to the host once (for CUDA) and write each tensor as F32
     * (f64 models, the tests', too). */
    size_t n = a->bytes / m->elem;
    float *f = sbr_xmalloc(n * sizeof(float) + 4);
    sbr_dev_download_f32(m->prec, f, a->base, n);
    for (int i = 0; i < a->n; i++) {
        const sbr_view *v = &a->views[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, v->name);
        sbr_tw_add(w, name, SBR_F32, v->ndim, v->shape, f + v->offset / m->elem);
    }
    *keep = f;
}

/* The context pool's vectors (as floats) and items. */
static void add_pool(sbr_tw *w, sbr_model *m, void **keep)
{
    size_t n = (size_t)m->pool.n * (size_t)m->d;
    float *f = sbr_xmalloc(n * sizeof(float) + 4);
    sbr_dev_download_f32(m->prec, f, m->pool.x, n);
    sbr_tw_add(w, "pool.x", SBR_F32, 2, (int64_t[]){m->pool.n, m->d}, f);
    sbr_tw_add1(w, "pool.item", SBR_I32, m->pool.n, m->pool.host_item);
    *keep = f;
}

void sbr_model_add_to(sbr_model *m, sbr_tw *w, int optimizer)
{
    static void *keep[4]; /* host copies live until the file is written */
    for (int i = 0; i < 4; i++) {
        free(keep[i]);
        keep[i] = NULL;
    }
    const sbr_model_cfg *c = &m->cfg;
    sbr_tw_meta(w, "model", c->model);
    sbr_tw_metaf(w, "model_format", "%d", SBR_MODEL_FORMAT);
    if (c->preset[0])
        sbr_tw_meta(w, "preset", c->preset);
    for (int i = 0; c->opts[i].name; i++) {
        char v[64];
        sbr_opt_format(&c->opts[i], c->opt[i], v, sizeof v);
        sbr_tw_meta(w, c->opts[i].name, v);
    }
    sbr_tw_metaf(w, "n_items", "%d", c->n_items);
    sbr_tw_metaf(w, "n_clusters", "%d", c->n_clusters);
    if (c->n_clusters > 0 || c->user_prompts) {
        sbr_tw_meta(w, "clip.prompt_norm", sbr_prompt_norm_names[c->prompt_norm]);
        if (c->user_prompts)
            sbr_tw_meta(w, "clip.user_prompts", "1");
        if (c->has_gate_bias)
            sbr_tw_metaf(w, "clip.gate_bias", "%.17g", c->gate_bias);
    }
    if (c->n_users > 0) {
        sbr_tw_metaf(w, "n_users", "%d", c->n_users);
        sbr_tw_add1(w, "users.original", SBR_I64, c->n_users, m->user_ids);
    }
    sbr_tw_metaf(w, "init_scale", "%.17g", c->init_scale);
    sbr_tw_metaf(w, "seed", "%llu", (unsigned long long)c->seed);
    sbr_tw_metaf(w, "adam_t", "%lld", (long long)m->adam_t);
    sbr_tw_metaf(w, "drop_counter", "%llu", (unsigned long long)m->drop_counter);
    sbr_tw_metaf(w, "schedule_epoch", "%d", m->epoch);
    if (m->gtab_nbr) { /* the global graph table: inference needs no graph file */
        int64_t rows = (int64_t)c->n_items + 1, K = m->global_k;
        sbr_tw_add(w, "global.nbr", SBR_I32, 2, (int64_t[]){rows, K}, m->gtab_nbr);
        sbr_tw_add(w, "global.w", SBR_F32, 2, (int64_t[]){rows, K}, m->gtab_w);
        sbr_tw_add1(w, "global.n", SBR_I32, rows, m->gtab_n);
    }
    if (m->pool.n > 0) /* the context pool: inference needs no training data */
        add_pool(w, m, &keep[3]);
    add_arena(w, m, &m->params, "param.", &keep[0]);
    if (optimizer) {
        add_arena(w, m, &m->adam_m, "adam.m.", &keep[1]);
        add_arena(w, m, &m->adam_v, "adam.v.", &keep[2]);
    }
}

/* Format 1 wrote some options under other keys. */
static const char *legacy_key(const char *name)
{
    static const char *const map[][2] = {
        {"dim", "d"}, {"dropout", "dropout_emb"}, {"interest_pool", "pool_sum"}};
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (strcmp(map[k][0], name) == 0)
            return map[k][1];
    return name;
}

/* Option i from the file's metadata (absent: its default, the behaviour of
 * the models written before the option existed). */
static int read_option(const sbr_tfile *f, sbr_model_cfg *c, int i, int format, sbr_err *e)
{
    const sbr_opt *o = &c->opts[i];
    const char *key = format == 1 ? legacy_key(o->name) : o->name;
    const char *v = sbr_tfile_meta(f, key);
    if (!v)
        return 0;
    char *end;
    double x = strtod(v, &end); /* format 1 wrote choices as their index */
    if (o->type == SBR_OPT_CHOICE && format == 1 && end != v && !*end)
        return sbr_cfg_set(c, o->name, x, e) ? sbr_err_prefix(e, "metadata \"%s\"", key) : 0;
    if (sbr_cfg_parse_value(c, i, v, e))
        return sbr_err_prefix(e, "metadata \"%s\"", key);
    return 0;
}

static int meta_int(const sbr_tfile *f, const char *key, int lo, int hi, int *out, sbr_err *e)
{
    int64_t v;
    if (sbr_tfile_meta_i64(f, key, &v, e))
        return -1;
    if (v < lo || v > hi)
        return sbr_errf(e, "metadata \"%s\" = %lld is out of range (%d..%d)", key, (long long)v,
                        lo, hi);
    *out = (int)v;
    return 0;
}

static int meta_double(const sbr_tfile *f, const char *key, double *out, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, key);
    char *end;
    if (!v)
        return sbr_errf(e, "missing metadata \"%s\"", key);
    *out = strtod(v, &end);
    if (end == v || *end || !isfinite(*out))
        return sbr_errf(e, "metadata \"%s\" is not a number: \"%s\"", key, v);
    return 0;
}

/* CLIP-SBR's front: its normalisation (files before it: the feature axis)
 * and the gate bias it started from. */
static int read_clip(const sbr_tfile *f, sbr_model_cfg *c, sbr_err *e)
{
    int norm = SBR_PROMPT_NORM_FEATURE;
    if (sbr_tfile_meta_choice(f, "clip.prompt_norm", sbr_prompt_norm_names, &norm, e) < 0)
        return -1;
    c->prompt_norm = (sbr_prompt_norm)norm;
    c->user_prompts = sbr_tfile_meta(f, "clip.user_prompts") != NULL;
    if (c->user_prompts && c->n_users < 1)
        return sbr_errf(e, "metadata \"clip.user_prompts\" without the users (n_users)");
    c->has_gate_bias = sbr_tfile_meta(f, "clip.gate_bias") != NULL;
    return c->has_gate_bias ? meta_double(f, "clip.gate_bias", &c->gate_bias, e) : 0;
}

int sbr_model_read_cfg(const sbr_tfile *f, sbr_model_cfg *c, sbr_err *e)
{
    if (sbr_tfile_expect_kind(f, "sbr.model", e))
        return -1;
    const char *name = sbr_tfile_meta(f, "model"), *fmt = sbr_tfile_meta(f, "model_format");
    if (!name || sbr_model_defaults(name, c))
        return sbr_errf(e, "unknown model \"%s\"", name ? name : "(none)");
    int format = 1;
    if (fmt && (meta_int(f, "model_format", 1, 1000, &format, e) || format > SBR_MODEL_FORMAT))
        return fmt && format > SBR_MODEL_FORMAT
                   ? sbr_errf(e, "a model file of format %d: this sbr reads formats 1..%d (a "
                                 "newer sbr wrote it)", format, SBR_MODEL_FORMAT)
                   : -1;
    for (int i = 0; c->opts[i].name; i++)
        if (read_option(f, c, i, format, e))
            return -1;
    const char *preset = sbr_tfile_meta(f, "preset");
    snprintf(c->preset, sizeof c->preset, "%s", preset ? preset : "");
    int64_t seed;
    if (meta_int(f, "n_items", 1, 1 << 30, &c->n_items, e) ||
        meta_int(f, "n_clusters", 0, 1 << 30, &c->n_clusters, e) ||
        (sbr_tfile_meta(f, "n_users") && meta_int(f, "n_users", 0, 1 << 30, &c->n_users, e)) ||
        meta_double(f, "init_scale", &c->init_scale, e) || sbr_tfile_meta_i64(f, "seed", &seed, e))
        return -1;
    c->seed = (uint64_t)seed;
    if (read_clip(f, c, e))
        return -1;
    const sbr_model_def *def = sbr_model_def_for(name, SBR_PREC_F32);
    if (def->check && def->check(c, e))
        return -1;
    if (sbr_cfg_get_or(c, "max_len", 1) < 1)
        return sbr_errf(e, "metadata \"max_len\" = 0: a model file keeps the length it was "
                           "trained with (1..)");
    return 0;
}

int sbr_model_check_file(const sbr_model_cfg *c, const sbr_tfile *f, sbr_err *e)
{
    /* the declarations alone: a model on the f64 path not committed */
    sbr_model m;
    memset(&m, 0, sizeof m);
    m.cfg = *c;
    m.prec = SBR_PREC_F64;
    m.elem = sizeof(double);
    m.def = sbr_model_def_for(c->model, SBR_PREC_F64);
    m.max_B = m.max_L = 1;
    if (sbr_model_resolve(&m, m.def, e))
        return -1;
    m.state = sbr_xcalloc(1, m.def->state_size);
    sbr_arena_init(&m.params, "params", m.elem, NULL);
    m.def->declare(&m);
    int rc = 0;
    for (int i = 0; i < m.params.n && rc == 0; i++) {
        const sbr_view *v = &m.params.views[i];
        char name[128];
        snprintf(name, sizeof name, "param.%s", v->name);
        const sbr_tensor *t = sbr_tfile_need(f, name, SBR_F32, v->ndim, e);
        int same = t != NULL;
        for (int k = 0; t && k < v->ndim; k++)
            same &= t->shape[k] == v->shape[k];
        if (!t)
            rc = -1;
        else if (!same)
            rc = sbr_errf(e, "tensor \"%s\" does not have the shape its metadata declares: the "
                             "file is damaged or its metadata was changed", name);
    }
    for (int i = 0; i < f->n_tensors && rc == 0; i++) /* and nothing the model lacks */
        if (strncmp(f->tensors[i].name, "param.", 6) == 0 &&
            sbr_arena_find(&m.params, f->tensors[i].name + 6) < 0)
            rc = sbr_errf(e, "tensor \"%s\" is no parameter of %s with the options its metadata "
                             "declares: the file is damaged or its metadata was changed",
                          f->tensors[i].name, c->model);
    sbr_arena_free(&m.params);
    free(m.state);
    return rc;
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
    int64_t rows = (int64_t)m->cfg.n_items + 1, K = m->global_k;
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

/* The context pool of a model file (models with SBR_NEEDS_POOL). */
static int load_pool(sbr_model *m, const sbr_tfile *f, sbr_err *e)
{
    const sbr_tensor *tx, *ti;
    if (!(tx = sbr_tfile_need(f, "pool.x", SBR_F32, 2, e)) ||
        !(ti = sbr_tfile_need(f, "pool.item", SBR_I32, 1, e)))
        return -1;
    if (tx->shape[1] != m->d || ti->numel != tx->shape[0])
        return sbr_errf(e, "the context pool does not fit the model (pool.x %lld x %lld, "
                           "pool.item %lld, d %d)",
                        (long long)tx->shape[0], (long long)tx->shape[1], (long long)ti->numel,
                        m->d);
    return sbr_model_pool_set(m, tx->data, ti->data, ti->numel, e);
}

int sbr_model_load(sbr_model *m, const sbr_tfile *f, int optimizer, sbr_err *e)
{
    if (load_arena(m, &m->params, f, "param.", e))
        return -1;
    if ((m->def->needs & SBR_NEEDS_GLOBAL) && load_global(m, f, e))
        return -1;
    if ((m->def->needs & SBR_NEEDS_POOL) && load_pool(m, f, e))
        return -1;
    if (m->cfg.n_users > 0) {
        const sbr_tensor *u = sbr_tfile_need(f, "users.original", SBR_I64, 1, e);
        if (!u)
            return -1;
        if (u->numel != m->cfg.n_users)
            return sbr_errf(e, "users.original has %lld entries for %d users",
                            (long long)u->numel, m->cfg.n_users);
        if (sbr_model_set_users(m, u->data, u->numel, e))
            return -1;
    }
    int64_t t = 0, dc = 0, ep = 0;
    /* files from before the key: epoch 0 */
    if (sbr_tfile_meta(f, "schedule_epoch") && sbr_tfile_meta_i64(f, "schedule_epoch", &ep, e))
        return -1;
    if (ep < 0 || ep > 1000000)
        return sbr_errf(e, "schedule_epoch %lld out of range", (long long)ep);
    m->epoch = (int)ep;
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
