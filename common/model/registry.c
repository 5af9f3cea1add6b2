/* The registry: every model of common/models/models.def at every precision
 * it was built for. */
#include <stdio.h>
#include <string.h>

#include "model/def.h"

#define SBR_MODEL(n) extern const sbr_model_def sbr_model_##n##_f32, sbr_model_##n##_f64;
#include "models/models.def"
#undef SBR_MODEL

static const sbr_model_def *const defs_f32[] = {
#define SBR_MODEL(n) &sbr_model_##n##_f32,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

static const sbr_model_def *const defs_f64[] = {
#define SBR_MODEL(n) &sbr_model_##n##_f64,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

#if defined(SBR_HAVE_CUDA) && defined(SBR_CUDA_MODELS)
#define SBR_MODEL(n) extern const sbr_model_def sbr_model_##n##_cuda;
#include "models/models.def"
#undef SBR_MODEL
static const sbr_model_def *const defs_cuda[] = {
#define SBR_MODEL(n) &sbr_model_##n##_cuda,
#include "models/models.def"
#undef SBR_MODEL
    NULL};
#else
static const sbr_model_def *const defs_cuda[] = {NULL}; /* no GPU path in this build */
const sbr_model_steps sbr_model_steps_cuda = {NULL, NULL, NULL, NULL, NULL};
#endif

const char *const sbr_model_names[] = {
#define SBR_MODEL(n) #n,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

static const sbr_model_def *find(const sbr_model_def *const *d, const char *name)
{
    for (; name && *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}

/* A wrapper over an encoder (model/def.h), made on first use and kept for
 * the program's life: one per (precision, name). */
typedef struct {
    sbr_model_def def;
    const sbr_model_def *wrapper;
    char name[32];
    sbr_opt opts[SBR_MODEL_MAX_OPTS + 1];
} composite;
static composite comps[64];
static int n_comps;

/* The wrapper's options, then the encoder's it does not have itself. */
static void merge_opts(composite *c, const sbr_model_def *w, const sbr_model_def *enc)
{
    int n = 0;
    for (int i = 0; w->opts[i].name; i++)
        c->opts[n++] = w->opts[i];
    for (int i = 0; enc->opts[i].name; i++) {
        int dup = 0;
        for (int j = 0; j < n && !dup; j++)
            dup = strcmp(c->opts[j].name, enc->opts[i].name) == 0;
        if (dup)
            continue;
        if (n >= SBR_MODEL_MAX_OPTS)
            sbr_fatal("internal error: %s over %s has more than %d options", w->name, enc->name,
                      SBR_MODEL_MAX_OPTS);
        c->opts[n++] = enc->opts[i];
    }
    memset(&c->opts[n], 0, sizeof c->opts[n]);
}

static const sbr_model_def *compose(const sbr_model_def *const *defs, const sbr_model_def *w,
                                    const char *name, const char *enc_name)
{
    for (int i = 0; i < n_comps; i++)
        if (comps[i].wrapper == w && strcmp(comps[i].name, name) == 0)
            return &comps[i].def;
    const sbr_model_def *enc = find(defs, enc_name);
    if (!enc || sbr_encoder_unfit(enc) || strlen(name) >= sizeof comps[0].name)
        return NULL;
    if (n_comps == (int)(sizeof comps / sizeof comps[0]))
        sbr_fatal("internal error: more than %d wrapped models", n_comps);
    composite *c = &comps[n_comps++];
    c->def = *w;
    c->wrapper = w;
    snprintf(c->name, sizeof c->name, "%s", name);
    merge_opts(c, w, enc);
    c->def.name = c->name;
    c->def.opts = c->opts;
    c->def.encoder = enc;
    c->def.needs = w->needs | enc->needs;
    c->def.front_seq = enc->front_seq;
    c->def.presets = enc->presets;
    c->def.encoder_at = (w->state_size + 63) / 64 * 64;
    c->def.state_size = c->def.encoder_at + enc->state_size;
    return &c->def;
}

const sbr_model_def *sbr_model_def_for(const char *name, sbr_prec prec)
{
    const sbr_model_def *const *defs = prec == SBR_PREC_F64    ? defs_f64
                                       : prec == SBR_PREC_CUDA ? defs_cuda
                                                               : defs_f32;
    if (!name)
        return NULL;
    const sbr_model_def *d = find(defs, name);
    if (d)
        return d->default_encoder ? compose(defs, d, name, d->default_encoder) : d;
    const char *dash = strchr(name, '-');
    char base[32];
    if (!dash || dash - name >= (long)sizeof base)
        return NULL;
    memcpy(base, name, (size_t)(dash - name));
    base[dash - name] = 0;
    d = find(defs, base);
    return d && d->default_encoder ? compose(defs, d, name, dash + 1) : NULL;
}
