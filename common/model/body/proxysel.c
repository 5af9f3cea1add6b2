/* ProxySR's proxy selection (body/proxysel.h), compiled per precision. */
#include "model/body.h"

#include <math.h>

#include "model/body/proxysel.h"

typedef struct {
    real *du, *dnw, *dpraw, *dvraw;  /* [B, d], [B], [B, d], [B, d] */
    real *dpi, *dalpha, *dabar, *dpn; /* [B, K], [B, K], [B, h], [K] */
    real *dXpd, *dXp;                 /* [B L, d] */
    real *dA1, *dH1;                  /* [B L, h] */
} R(proxysel_grads);

static size_t R(proxysel_cut)(R(proxysel_grads) *g, real *base, size_t B, size_t L, size_t d,
                              size_t K, size_t h)
{
    R(sbr_carve) c = {base, 0};
    g->du = R(sbr_cut)(&c, B * d), g->dnw = R(sbr_cut)(&c, B), g->dpraw = R(sbr_cut)(&c, B * d);
    g->dvraw = R(sbr_cut)(&c, B * d), g->dpi = R(sbr_cut)(&c, B * K);
    g->dalpha = R(sbr_cut)(&c, B * K), g->dabar = R(sbr_cut)(&c, B * h);
    g->dpn = R(sbr_cut)(&c, K), g->dXpd = R(sbr_cut)(&c, B * L * d);
    g->dXp = R(sbr_cut)(&c, B * L * d), g->dA1 = R(sbr_cut)(&c, B * L * h);
    g->dH1 = R(sbr_cut)(&c, B * L * h);
    return c.n;
}

void R(sbr_proxysel_declare)(sbr_model *m, R(sbr_proxysel) *ps, sbr_init_kind emb, double ea,
                             double wa)
{
    const sbr_model_cfg *c = &m->cfg;
    int64_t d = m->d, P = m->max_len;
    ps->K = sbr_cfg_int(c, "proxies");
    ps->h = (m->d + ps->K) / 2;
    ps->p_drop = sbr_cfg_get(c, "dropout");
    ps->users = sbr_cfg_int(c, "users");
    R(sbr_proxysel_w) *w = &ps->w;
    sbr_weights(m, w, &ps->g, sizeof *w);
    sbr_param_max_norm(m, sbr_param(m, &w->pos, "pos_p", SBR_SHAPE(P, d), emb, ea), 1, 0);
    sbr_param(m, &w->w1, "select.w1", SBR_SHAPE(ps->h, d), emb, wa);
    sbr_param(m, &w->w2, "select.w2", SBR_SHAPE(ps->K, ps->h), emb, wa);
    sbr_param_max_norm(m, sbr_param(m, &w->P, "proxies", SBR_SHAPE(ps->K, d), emb, ea), 1, 0);
    sbr_param_max_norm(m, sbr_param(m, &w->V, "normals", SBR_SHAPE(ps->K, d), emb, ea), 1, 1);
    if (ps->users) /* row 0, the anonymous path, stays 0 */
        sbr_param_pad_row0(m, sbr_param(m, &w->ubias, "user_bias",
                                        SBR_SHAPE(c->n_users + 1, ps->K), SBR_INIT_ZERO, 0));
    else
        sbr_param_none(m, &w->ubias);
}

void R(sbr_proxysel_layout)(sbr_model *m, R(sbr_proxysel) *ps, sbr_lay *l, const sbr_dims *dm)
{
    R(sbr_proxysel_act) *a = &ps->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, K = (size_t)ps->K;
    size_t h = (size_t)ps->h;
    SBR_LAY(l, a->Xp, BL * d), SBR_LAY(l, a->Xpd, BL * d), SBR_LAY(l, a->H1, BL * h);
    SBR_LAY(l, a->A1, BL * h), SBR_LAY(l, a->mask, BL * d), SBR_LAY(l, a->abar, B * h);
    SBR_LAY(l, a->alpha, B * K), SBR_LAY(l, a->pi, B * K), SBR_LAY(l, a->ub, ps->users ? B * K : 0);
    SBR_LAY(l, a->Pn, K * d), SBR_LAY(l, a->pn, K);
    SBR_LAY(l, a->praw, B * d), SBR_LAY(l, a->u, B * d), SBR_LAY(l, a->unrm, B);
    SBR_LAY(l, a->nw, B), SBR_LAY(l, a->p, B * d), SBR_LAY(l, a->vraw, B * d);
    SBR_LAY(l, a->v, B * d), SBR_LAY(l, a->vnrm, B);
    SBR_LAY(l, a->g, R(proxysel_cut)(&(R(proxysel_grads)){0}, NULL, B, dm->L, d, K, h));
}

/* tau at the model's epoch: max(T0 (TE/T0)^(e/E), TE) */
static double R(proxysel_tau)(const sbr_model *m)
{
    double t0 = sbr_cfg_get(&m->cfg, "t0"), te = sbr_cfg_get(&m->cfg, "te");
    double E = sbr_cfg_get(&m->cfg, "anneal_epochs");
    double t = t0 * pow(te / t0, m->epoch / E);
    return t > te ? t : te;
}

/* pi [B, K]: the proxies' weights. */
static void R(proxysel_pi)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b, const real *X,
                           int train)
{
    R(sbr_proxysel_act) *a = &ps->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L, K = ps->K, h = ps->h;
    R(sbr_nn_embedding_forward)(ctx, a->Xp, ps->w.pos, b->rpos, BL, m->max_len, d, -1);
    R(sbr_nn_add_forward)(ctx, a->Xp, a->Xp, X, BL * d);
    ps->p_used = train ? ps->p_drop : 0;
    const real *x = R(sbr_dropout)(m, a->Xpd, a->mask, a->Xp, BL * d, ps->p_used, train);
    R(sbr_nn_linear_forward)(ctx, a->H1, x, ps->w.w1, NULL, BL, d, h);
    R(sbr_nn_leaky_relu_forward)(ctx, a->A1, a->H1, BL * h, (real)0.1);
    R(sbr_nn_seq_mean_forward)(ctx, a->abar, a->A1, b->len, B, L, h);
    R(sbr_nn_linear_forward)(ctx, a->alpha, a->abar, ps->w.w2, NULL, B, h, K);
    if (ps->users) { /* the logged-in user's bias, before the temperature */
        R(sbr_nn_embedding_forward)(ctx, a->ub, ps->w.ubias, b->user, B, m->cfg.n_users + 1, K, 0);
        R(sbr_nn_add_forward)(ctx, a->alpha, a->alpha, a->ub, B * K);
    }
    ps->tau = R(proxysel_tau)(m);
    R(sbr_nn_scale_forward)(ctx, a->alpha, a->alpha, B * K, (real)(1 / ps->tau));
    R(sbr_nn_masked_softmax_forward)(ctx, a->pi, a->alpha, NULL, B, K); /* over all K */
}

void R(sbr_proxysel_forward)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b,
                             const real *X, int train)
{
    R(sbr_proxysel_act) *a = &ps->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d, K = ps->K;
    R(proxysel_pi)(m, ps, b, X, train);
    R(sbr_nn_l2norm_forward)(ctx, a->Pn, a->pn, ps->w.P, K, d, (real)1e-12);
    R(sbr_nn_linear_forward)(ctx, a->nw, a->pi, a->pn, NULL, B, K, 1); /* pi . |P_j| */
    R(sbr_nn_matmul_forward)(ctx, a->praw, a->pi, ps->w.P, B, K, d);
    R(sbr_nn_l2norm_forward)(ctx, a->u, a->unrm, a->praw, B, d, (real)1e-12);
    R(sbr_nn_row_scale_forward)(ctx, a->p, a->u, a->nw, B, d);
    R(sbr_nn_matmul_forward)(ctx, a->vraw, a->pi, ps->w.V, B, K, d);
    R(sbr_nn_l2norm_forward)(ctx, a->v, a->vnrm, a->vraw, B, d, (real)1e-12);
}

/* From dalpha (of the logits before the temperature): dX += */
static void R(proxysel_pi_backward)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b,
                                    R(proxysel_grads) *gr, real *dX)
{
    R(sbr_proxysel_act) *a = &ps->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L, K = ps->K, h = ps->h;
    R(sbr_nn_linear_backward)(ctx, gr->dabar, ps->g.w2, NULL, gr->dalpha, a->abar, ps->w.w2, B, h,
                              K);
    if (ps->users)
        R(sbr_nn_embedding_backward)(ctx, ps->g.ubias, gr->dalpha, b->user, B,
                                     m->cfg.n_users + 1, K, 0);
    R(sbr_nn_seq_mean_backward)(ctx, gr->dA1, gr->dabar, b->len, B, L, h);
    R(sbr_nn_leaky_relu_backward)(ctx, gr->dH1, gr->dA1, a->H1, BL * h, (real)0.1);
    const real *x = ps->p_used > 0 ? a->Xpd : a->Xp;
    R(sbr_nn_linear_backward)(ctx, gr->dXpd, ps->g.w1, NULL, gr->dH1, x, ps->w.w1, BL, d, h);
    const real *dxp = R(sbr_dropout_backward)(m, gr->dXp, gr->dXpd, a->mask, BL * d, ps->p_used);
    R(sbr_nn_add_backward)(ctx, dX, NULL, dxp, BL * d);
    R(sbr_nn_embedding_backward)(ctx, ps->g.pos, dxp, b->rpos, BL, m->max_len, d, -1);
}

void R(sbr_proxysel_backward)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b,
                              const real *dp, const real *dv, const real *du_extra, real *dX)
{
    R(sbr_proxysel_act) *a = &ps->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d, K = ps->K;
    R(proxysel_grads) gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)R(proxysel_cut)(&gr, a->g, B, b->L, d, K, ps->h));
    if (du_extra)
        R(sbr_nn_add_backward)(ctx, gr.du, NULL, du_extra, B * d);
    R(sbr_nn_row_scale_backward)(ctx, gr.du, gr.dnw, dp, a->u, a->nw, B, d);
    R(sbr_nn_l2norm_backward)(ctx, gr.dpraw, gr.du, a->u, a->unrm, B, d, (real)1e-12);
    R(sbr_nn_matmul_backward)(ctx, gr.dpi, ps->g.P, gr.dpraw, a->pi, ps->w.P, B, K, d);
    R(sbr_nn_linear_backward)(ctx, gr.dpi, gr.dpn, NULL, gr.dnw, a->pi, a->pn, B, K, 1);
    /* d|P_j| / dP_j = P_j / |P_j|: dP += dpn_j Pn_j (row_scale's dx term) */
    R(sbr_nn_row_scale_backward)(ctx, ps->g.P, NULL, a->Pn, a->Pn, gr.dpn, K, d);
    R(sbr_nn_l2norm_backward)(ctx, gr.dvraw, dv, a->v, a->vnrm, B, d, (real)1e-12);
    R(sbr_nn_matmul_backward)(ctx, gr.dpi, ps->g.V, gr.dvraw, a->pi, ps->w.V, B, K, d);
    R(sbr_nn_masked_softmax_backward)(ctx, gr.dalpha, gr.dpi, a->pi, NULL, B, K);
    /* alpha was scaled by 1 / tau in place: so is its gradient */
    R(sbr_nn_scale_forward)(ctx, gr.dalpha, gr.dalpha, B * K, (real)(1 / ps->tau));
    R(proxysel_pi_backward)(m, ps, b, &gr, dX);
}
