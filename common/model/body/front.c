/* The item front (body/front.h), compiled per precision. */
#include "model/body.h"

/* CLIP-SBR's prompt tables and gates, each member NULL where unused. */
static void R(front_declare_prompts)(sbr_model *m, R(sbr_front) *f)
{
    int64_t d = f->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    if (!f->C)
        sbr_param_none(m, &f->w.prompts);
    if (!f->U)
        sbr_param_none(m, &f->w.uprompts);
    if (!f->C && !f->U) {
        sbr_param_none(m, &f->w.ge_w), sbr_param_none(m, &f->w.ge_b);
        sbr_param_none(m, &f->w.gp_w), sbr_param_none(m, &f->w.gp_b);
        return;
    }
    if (f->C) {
        int p = sbr_param(m, &f->w.prompts, "clip.prompts", SBR_SHAPE(f->C, d), u, 0);
        sbr_param_pad_row0(m, p);
        m->l2_group[p] = SBR_L2_PROMPT;
    }
    if (f->U) {
        int p = sbr_param(m, &f->w.uprompts, "clip.user_prompts", SBR_SHAPE(f->U, d), u, 0);
        sbr_param_pad_row0(m, p);
        m->l2_group[p] = SBR_L2_PROMPT;
    }
    int g[4] = {sbr_param(m, &f->w.ge_w, "clip.gate_e.w", SBR_SHAPE(d, d), u, 0),
                sbr_param(m, &f->w.ge_b, "clip.gate_e.b", SBR_SHAPE(d), u, 0),
                sbr_param(m, &f->w.gp_w, "clip.gate_p.w", SBR_SHAPE(d, d), u, 0),
                sbr_param(m, &f->w.gp_b, "clip.gate_p.b", SBR_SHAPE(d), u, 0)};
    for (int k = 0; k < 4; k++)
        m->l2_group[g[k]] = SBR_L2_GATE;
    if (m->cfg.has_gate_bias)
        sbr_param_init(m, g[3], SBR_INIT_CONST, m->cfg.gate_bias);
}

void R(sbr_front_declare)(sbr_model *m, R(sbr_front) *f)
{
    f->d = m->d;
    f->V = m->cfg.n_items + 1;
    f->C = m->cfg.n_clusters > 0 ? m->cfg.n_clusters + 1 : 0;
    f->norm = m->cfg.prompt_norm;
    f->U = m->cfg.user_prompts && m->cfg.n_users > 0 ? m->cfg.n_users + 1 : 0;
    sbr_weights(m, &f->w, &f->g, sizeof f->w);
    m->p_items = sbr_param(m, &f->w.items, "items", SBR_SHAPE(f->V, (int64_t)f->d),
                           SBR_INIT_UNIFORM, 0);
    sbr_param_pad_row0(m, m->p_items);
    R(front_declare_prompts)(m, f);
}

/* Along the sequence only where this use embeds sessions of clicks. */
static int R(front_seq)(const R(sbr_front) *f, const R(sbr_front_act) *a)
{
    return f->norm == SBR_PROMPT_NORM_SEQUENCE && a->L > 0;
}

/* y = norm(x) [n, d], its norms into nrm (the front's axis). */
static void R(front_norm)(sbr_model *m, const R(sbr_front) *f, const R(sbr_front_act) *a,
                          real *y, real *nrm, const real *x)
{
    if (R(front_seq)(f, a))
        R(sbr_nn_l2norm_seq_forward)(&m->ctx, y, nrm, x, a->n / a->L, a->L, f->d, (real)1e-12);
    else
        R(sbr_nn_l2norm_forward)(&m->ctx, y, nrm, x, a->n, f->d, (real)1e-12);
}

static void R(front_norm_backward)(sbr_model *m, const R(sbr_front) *f, const R(sbr_front_act) *a,
                                   real *dx, const real *dy, const real *y, const real *nrm)
{
    if (R(front_seq)(f, a))
        R(sbr_nn_l2norm_seq_backward)(&m->ctx, dx, dy, y, nrm, a->n / a->L, a->L, f->d,
                                      (real)1e-12);
    else
        R(sbr_nn_l2norm_backward)(&m->ctx, dx, dy, y, nrm, a->n, f->d, (real)1e-12);
}

/* The backward's eight gradient buffers [n d] each, cut from one block
 * (base NULL: sized only). */
static size_t R(front_grads)(real *g[8], real *base, size_t nd)
{
    R(sbr_carve) c = {base, 0};
    for (int k = 0; k < 8; k++)
        g[k] = R(sbr_cut)(&c, nd);
    return c.n;
}

void R(sbr_front_layout)(const R(sbr_front) *f, R(sbr_front_act) *a, sbr_lay *l, int n)
{
    if (!f->C && !f->U)
        return;
    size_t nd = (size_t)n * f->d;
    SBR_LAY(l, a->e, nd), SBR_LAY(l, a->p, nd);
    SBR_LAY(l, a->ge, nd), SBR_LAY(l, a->gp, nd), SBR_LAY(l, a->t, nd);
    if (f->norm != SBR_PROMPT_NORM_NONE) { /* none: ê = e, p̂ = p */
        /* the norms: [n] per vector, or [B, d] <= [n, d] along the sessions */
        size_t nn = f->norm == SBR_PROMPT_NORM_SEQUENCE ? nd : (size_t)n;
        SBR_LAY(l, a->eh, nd), SBR_LAY(l, a->en, nn);
        SBR_LAY(l, a->ph, nd), SBR_LAY(l, a->pn, nn);
    }
    real *g[8];
    SBR_LAY(l, a->g, R(front_grads)(g, NULL, nd));
}

/* a->p [n, d]: the clusters' prompts plus the users' (either may be absent). */
static void R(front_prompts)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a)
{
    sbr_nn_ctx *ctx = &m->ctx;
    int d = f->d, n = a->n, users = f->U && a->uids;
    if (f->C)
        R(sbr_nn_embedding_forward)(ctx, a->p, f->w.prompts, a->cids, n, f->C, d, 0);
    if (users && !f->C)
        R(sbr_nn_embedding_forward)(ctx, a->p, f->w.uprompts, a->uids, n, f->U, d, 0);
    else if (users) { /* a->t is free until the gates */
        R(sbr_nn_embedding_forward)(ctx, a->t, f->w.uprompts, a->uids, n, f->U, d, 0);
        R(sbr_nn_add_forward)(ctx, a->p, a->p, a->t, n * d);
    } else if (!f->C)
        sbr_dev_fill(m->prec, a->p, 0, (int64_t)n * d);
}

/* X = g_e ⊙ ê + g_p ⊙ p̂ for the use's ids (ê = e without normalisation). */
static void R(front_clip)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X)
{
    sbr_nn_ctx *ctx = &m->ctx;
    int d = f->d, n = a->n, nd = n * d, none = f->norm == SBR_PROMPT_NORM_NONE;
    const real *eh = none ? a->e : a->eh, *ph = none ? a->p : a->ph;
    R(sbr_nn_embedding_forward)(ctx, a->e, f->w.items, a->ids, n, f->V, d, 0);
    R(front_prompts)(m, f, a);
    if (!none) {
        R(front_norm)(m, f, a, a->eh, a->en, a->e);
        R(front_norm)(m, f, a, a->ph, a->pn, a->p);
    }
    R(sbr_nn_linear_forward)(ctx, a->ge, eh, f->w.ge_w, f->w.ge_b, n, d, d);
    R(sbr_nn_sigmoid_forward)(ctx, a->ge, a->ge, nd);
    R(sbr_nn_linear_forward)(ctx, a->gp, ph, f->w.gp_w, f->w.gp_b, n, d, d);
    R(sbr_nn_sigmoid_forward)(ctx, a->gp, a->gp, nd);
    R(sbr_nn_mul_forward)(ctx, X, a->ge, eh, nd);
    R(sbr_nn_mul_forward)(ctx, a->t, a->gp, ph, nd);
    R(sbr_nn_add_forward)(ctx, X, X, a->t, nd);
}

/* One use of the front: ids [n], as sessions of L clicks when L > 0. */
static void R(front_use)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X,
                         const int32_t *ids, const int32_t *cids, int n, int L,
                         const sbr_batch *grouped)
{
    a->ids = ids, a->cids = cids, a->n = n, a->L = L;
    a->uids = L > 0 && grouped ? grouped->cusers : NULL;
    a->ord = grouped ? grouped->ids_ord : NULL, a->n_ord = grouped ? grouped->n_ord : 0;
    a->cord = grouped ? grouped->cids_ord : NULL, a->n_cord = grouped ? grouped->n_cord : 0;
    if (f->C || f->U)
        R(front_clip)(m, f, a, X);
    else
        R(sbr_nn_embedding_forward)(&m->ctx, X, f->w.items, ids, n, f->V, f->d, 0);
}

void R(sbr_front_forward)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X,
                          const int32_t *ids, const int32_t *cids, int n,
                          const sbr_batch *grouped)
{
    R(front_use)(m, f, a, X, ids, cids, n, 0, grouped);
}

void R(sbr_front_clicks)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X,
                         const sbr_batch *b)
{
    R(front_use)(m, f, a, X, b->items, b->citems, b->B * b->L, b->L, b);
}

/* table [V, d] += the scatter-add of dy [n, d] by ids, grouped by ord [m]
 * when the batch gave it. */
static void R(front_scatter)(sbr_model *m, real *table, const real *dy, const int32_t *ids,
                             const int32_t *ord, int n_ord, int n, int V)
{
    int d = m->d;
    if (ord)
        R(sbr_nn_embedding_backward_grouped)(&m->ctx, table, dy, ids, ord, n_ord, n, V, d, 0);
    else
        R(sbr_nn_embedding_backward)(&m->ctx, table, dy, ids, n, V, d, 0);
}

void R(sbr_front_backward)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a,
                           const real *dX)
{
    sbr_nn_ctx *ctx = &m->ctx;
    int d = f->d, n = a->n;
    if (!f->C && !f->U) {
        R(front_scatter)(m, f->g.items, dX, a->ids, a->ord, a->n_ord, n, f->V);
        return;
    }
    size_t nd = (size_t)n * d;
    /* eight gradient buffers [n, d], zeroed together (backward ops accumulate) */
    real *g[8];
    sbr_dev_fill(m->prec, a->g, 0, (int64_t)R(front_grads)(g, a->g, nd));
    real *dge = g[0], *dgp = g[1], *dgep = g[2], *dgpp = g[3], *deh = g[4], *dph = g[5],
         *de = g[6], *dp = g[7];
    int none = f->norm == SBR_PROMPT_NORM_NONE;
    const real *eh = none ? a->e : a->eh, *ph = none ? a->p : a->ph;
    R(sbr_nn_mul_backward)(ctx, dge, deh, dX, a->ge, eh, (int)nd);
    R(sbr_nn_mul_backward)(ctx, dgp, dph, dX, a->gp, ph, (int)nd);
    R(sbr_nn_sigmoid_backward)(ctx, dgep, dge, a->ge, (int)nd);
    R(sbr_nn_sigmoid_backward)(ctx, dgpp, dgp, a->gp, (int)nd);
    R(sbr_nn_linear_backward)(ctx, deh, f->g.ge_w, f->g.ge_b, dgep, eh, f->w.ge_w, n, d, d);
    R(sbr_nn_linear_backward)(ctx, dph, f->g.gp_w, f->g.gp_b, dgpp, ph, f->w.gp_w, n, d, d);
    if (none) /* the gradients at ê and p̂ are those at e and p */
        de = deh, dp = dph;
    else {
        R(front_norm_backward)(m, f, a, de, deh, a->eh, a->en);
        R(front_norm_backward)(m, f, a, dp, dph, a->ph, a->pn);
    }
    R(front_scatter)(m, f->g.items, de, a->ids, a->ord, a->n_ord, n, f->V);
    if (f->C)
        R(front_scatter)(m, f->g.prompts, dp, a->cids, a->cord, a->n_cord, n, f->C);
    if (f->U && a->uids)
        R(front_scatter)(m, f->g.uprompts, dp, a->uids, NULL, 0, n, f->U);
}
