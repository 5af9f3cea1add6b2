/* A model's parameters (model_params.h): typed weights bound by name, their
 * check and their initialisation. */
#include "model/model_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/def.h"
#include "model/devmem.h"

void sbr_weights(sbr_model *m, void *w, void *g, size_t bytes)
{
    if (m->n_groups == SBR_MODEL_MAX_GROUPS || bytes % sizeof(void *) ||
        bytes / sizeof(void *) > 128)
        sbr_fatal("internal error: model %s: weight group %d of %zu bytes", m->cfg.model,
                  m->n_groups, bytes);
    m->groups[m->n_groups++] = (sbr_weight_group){w, g, bytes / sizeof(void *), {0, 0}};
}

/* The member's slot in the last group: its index, and the matching
 * gradient member. */
static size_t member_of(sbr_model *m, void *member, void ***grad)
{
    sbr_weight_group *gr = m->n_groups ? &m->groups[m->n_groups - 1] : NULL;
    char *at = member;
    if (!gr || at < gr->w || at >= gr->w + gr->n * sizeof(void *) ||
        (size_t)(at - gr->w) % sizeof(void *))
        sbr_fatal("internal error: model %s: a parameter bound outside its weight struct",
                  m->cfg.model);
    size_t k = (size_t)(at - gr->w) / sizeof(void *);
    if (gr->bound[k / 64] >> (k % 64) & 1)
        sbr_fatal("internal error: model %s: member %zu of weight struct %d declared twice",
                  m->cfg.model, k, m->n_groups - 1);
    gr->bound[k / 64] |= (uint64_t)1 << (k % 64);
    *grad = (void **)(gr->g + k * sizeof(void *));
    return k;
}

int sbr_param(sbr_model *m, void *member, const char *name, int ndim, const int64_t *dims,
              sbr_init_kind init, double arg)
{
    if (sbr_arena_find(&m->params, name) >= 0)
        sbr_fatal("internal error: model %s declares \"%s\" twice", m->cfg.model, name);
    void **grad;
    member_of(m, member, &grad);
    int i = sbr_arena_add(&m->params, name, ndim, dims);
    if (i >= SBR_MODEL_MAX_PARAMS)
        sbr_fatal("internal error: more than %d parameters", SBR_MODEL_MAX_PARAMS);
    m->init[i] = init;
    m->init_arg[i] = arg;
    m->bind_w[i] = member;
    m->bind_g[i] = grad;
    return i;
}

void sbr_param_none(sbr_model *m, void *member)
{
    void **grad;
    member_of(m, member, &grad);
    *(void **)member = NULL;
    *grad = NULL;
}

void sbr_param_max_norm(sbr_model *m, int index, double max_norm, int exact)
{
    m->max_norm[index] = max_norm;
    m->max_norm_exact[index] = (uint8_t)(exact != 0);
}

void sbr_param_init(sbr_model *m, int index, sbr_init_kind init, double arg)
{
    m->init[index] = init;
    m->init_arg[index] = arg;
}

void sbr_param_pad_row0(sbr_model *m, int index) { m->pad_row0[index] = 1; }

/* Every member of every weight struct declared: a struct and its declare
 * that disagree stop here, naming the model. */
void sbr_model_check_weights(const sbr_model *m)
{
    for (int g = 0; g < m->n_groups; g++)
        for (size_t k = 0; k < m->groups[g].n; k++)
            if (!(m->groups[g].bound[k / 64] >> (k % 64) & 1))
                sbr_fatal("internal error: model %s: member %zu of weight struct %d is declared "
                          "by no sbr_param (nor sbr_param_none)", m->cfg.model, k, g);
}

void sbr_model_bind_params(sbr_model *m)
{
    for (int i = 0; i < m->params.n; i++) {
        *m->bind_w[i] = sbr_arena_ptr(&m->params, i);
        *m->bind_g[i] = sbr_arena_ptr(&m->grads, i);
    }
}

/* Initialises every parameter on the host (so that the CPU and the GPU start
 * from the same bits), then uploads. Padding rows are zero. Parameter i
 * draws from (seed, i << 40). */
void sbr_model_init_params(sbr_model *m)
{
    double scale = m->cfg.init_scale > 0 ? m->cfg.init_scale : 1.0 / sqrt((double)m->d);
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
        case SBR_INIT_CONST:
            for (int64_t k = 0; k < v->numel; k++)
                h[k] = m->init_arg[i];
            break;
        case SBR_INIT_ZERO:
            break;
        }
        if (m->pad_row0[i])
            memset(h, 0, sizeof(double) * (size_t)v->shape[1]);
        if (m->max_norm[i] > 0)
            sbr_nn_max_norm_rows_f64(NULL, h, (int)v->shape[0], (int)(v->numel / v->shape[0]),
                                     m->max_norm[i], m->max_norm_exact[i]);
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
