/* GCE-GNN's context layer and positional part (body/gce.h), compiled per
 * precision. */
#include "model/body.h"

#include "model/body/gce.h"

void R(sbr_gce_declare)(sbr_model *m, R(sbr_gce) *c, int norm_local)
{
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    c->d = m->d;
    c->P = m->max_len > 0 ? m->max_len : 1;
    c->norm_local = norm_local;
    c->p_local = sbr_cfg_get(&m->cfg, "dropout");
    c->p_global = sbr_cfg_get(&m->cfg, "dropout_hidden");
    c->p_gcn = sbr_cfg_get(&m->cfg, "dropout_gcn");
    sbr_weights(m, &c->w, &c->g, sizeof c->w);
    sbr_param(m, &c->w.a, "local.a", SBR_SHAPE(4, d), u, 0);
    sbr_param(m, &c->w.agg.w1, "global.w1", SBR_SHAPE(d, d + 1), u, 0);
    sbr_param(m, &c->w.agg.q1, "global.q1", SBR_SHAPE(d), u, 0);
    sbr_param(m, &c->w.agg.w2, "global.w2", SBR_SHAPE(d, 2 * d), u, 0);
    sbr_param(m, &c->w.pos, "read.pos", SBR_SHAPE(c->P, d), u, 0);
    sbr_param(m, &c->w.w3, "read.w3", SBR_SHAPE(d, 2 * d), u, 0);
}

/* The context's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dh, *dhgd, *dhld, *dhg, *dhl, *dhin, *dsT; /* [T, d] */
    real *dXf;                                       /* [T (1 + K), d] */
    real *dsm;                                       /* [B, d] */
    real *dXs;                                       /* [B L, d] */
} ctx_grads;

static size_t R(cut_ctx_grads)(ctx_grads *g, real *base, size_t B, size_t L, size_t T,
                               size_t K, size_t d)
{
    R(sbr_carve) c = {base, 0};
    real **node[] = {&g->dh, &g->dhgd, &g->dhld, &g->dhg, &g->dhl, &g->dhin, &g->dsT};
    for (size_t k = 0; k < 7; k++)
        *node[k] = R(sbr_cut)(&c, T * d);
    g->dXf = R(sbr_cut)(&c, T * (1 + K) * d);
    g->dsm = R(sbr_cut)(&c, B * d), g->dXs = R(sbr_cut)(&c, B * L * d);
    return c.n;
}

/* The positions' gradient buffers: dzz, dpos [B L, d], dcat [B L, 2d]. */
static size_t R(cut_pos_grads)(real **dzz, real **dcat, real **dpos, real *base, size_t n)
{
    R(sbr_carve) c = {base, 0};
    *dzz = R(sbr_cut)(&c, n), *dcat = R(sbr_cut)(&c, 2 * n), *dpos = R(sbr_cut)(&c, n);
    return c.n;
}

void R(sbr_gce_layout)(const R(sbr_front) *f, R(sbr_gce) *c, sbr_lay *l, const sbr_dims *dm)
{
    R(sbr_gce_act) *a = &c->a;
    size_t d = (size_t)c->d, K = (size_t)dm->K, T = (size_t)dm->T, Td = T * d;
    size_t BL = (size_t)dm->B * dm->L, nf = T * (1 + K);
    R(sbr_front_layout)(f, &a->front, l, (int)nf);
    SBR_LAY(l, a->Xf, nf * d), SBR_LAY(l, a->Xs, BL * d), SBR_LAY(l, a->sm, (size_t)dm->B * d);
    SBR_LAY(l, a->sT, Td);
    if (c->norm_local)
        SBR_LAY(l, a->hn, Td), SBR_LAY(l, a->nin, T);
    SBR_LAY(l, a->hl, Td), SBR_LAY(l, a->alpha, (size_t)dm->E + 1);
    SBR_LAY(l, a->agg.y, Td), SBR_LAY(l, a->agg.u, Td * K), SBR_LAY(l, a->agg.alpha, T * K + 1);
    SBR_LAY(l, a->agg.cat, 2 * Td), SBR_LAY(l, a->dtab, 2 * Td), SBR_LAY(l, a->dmask, 2 * Td);
    SBR_LAY(l, a->mg, Td), SBR_LAY(l, a->ml, Td);
    SBR_LAY(l, a->hgd, Td), SBR_LAY(l, a->hld, Td), SBR_LAY(l, a->h, Td);
    SBR_LAY(l, a->hs, BL * d);
    SBR_LAY(l, a->pe, BL * d), SBR_LAY(l, a->pcat, 2 * BL * d), SBR_LAY(l, a->z, BL * d);
    real *p;
    SBR_LAY(l, a->g, R(cut_ctx_grads)(&(ctx_grads){0}, NULL, dm->B, dm->L, T, K, d));
    SBR_LAY(l, a->gp, R(cut_pos_grads)(&p, &p, &p, NULL, BL * d));
}

size_t R(sbr_gce_scratch)(const sbr_dims *dm, int d)
{
    size_t a = R(sbr_nn_edge_attn_global_scratch)(dm->T, dm->K, d);
    size_t b = R(sbr_nn_edge_attn_local_scratch)(dm->E);
    return (a > b ? a : b) + 64;
}

/* The context layer: hs [B L, d]. */
static void R(gce_context_forward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c,
                                   const sbr_batch *b, int train)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_gce_act) *a = &c->a;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_global *gl = b->global;
    const sbr_batch_local4 *lo = b->local4;
    int B = b->B, L = b->L, d = c->d, K = gl->K, T = nd->T, Td = T * d;
    R(sbr_front_forward)(m, f, &a->front, a->Xf, gl->gids, gl->cgids, T + T * K, NULL);
    real *Xn = a->Xf, *Xk = a->Xf + Td;
    /* the session info: mean over the clicks, for each node */
    R(sbr_nn_embedding_forward)(ctx, a->Xs, Xn, nd->alias, B * L, T, d, -1);
    R(sbr_nn_seq_mean_forward)(ctx, a->sm, a->Xs, b->len, B, L, d);
    R(sbr_nn_embedding_forward)(ctx, a->sT, a->sm, nd->node_sess, T, B, d, -1);
    /* session graph */
    a->hin = Xn;
    if (c->norm_local) {
        a->hin = a->hn;
        R(sbr_nn_l2norm_forward)(ctx, a->hn, a->nin, Xn, T, d, (real)1e-12);
    }
    sbr_nn_typed_csr lg = {lo->le_off, lo->le_idx, lo->le_type, T};
    R(sbr_nn_edge_attn_local_forward)(ctx, a->hl, a->alpha, a->hin, &lg, c->w.a, d, SBR_GCE_SLOPE);
    /* global graph; dropout_gcn's factors: the dropout of a table of ones */
    c->used[2] = train ? c->p_gcn : 0;
    a->drop = NULL;
    if (c->used[2] > 0) {
        a->drop = a->dtab;
        R(sbr_fill)(m, a->dtab, 1, 2 * (int64_t)Td);
        R(sbr_dropout)(m, a->dtab, a->dmask, a->dtab, 2 * Td, c->used[2], train);
    }
    R(sbr_nn_edge_attn_global_in) gx = {Xk, gl->gw, a->sT};
    sbr_nn_nbr_table nb = {gl->gn, T, K};
    R(sbr_nn_edge_attn_global_forward)(ctx, &a->agg, Xn, &gx, &nb, &c->w.agg, a->drop, d,
                                       SBR_GCE_SLOPE);
    /* h = dropout(h^g) + dropout(h^s) */
    c->used[1] = train ? c->p_global : 0;
    c->used[0] = train ? c->p_local : 0;
    real *hgd = R(sbr_dropout)(m, a->hgd, a->mg, a->agg.y, Td, c->used[1], train);
    real *hld = R(sbr_dropout)(m, a->hld, a->ml, a->hl, Td, c->used[0], train);
    R(sbr_nn_add_forward)(ctx, a->h, hgd, hld, Td);
    R(sbr_nn_embedding_forward)(ctx, a->hs, a->h, nd->alias, B * L, T, d, -1);
}

/* From dhs [B L, d] (the clicks' vectors) to the parameters and the front. */
static void R(gce_context_backward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c,
                                    const sbr_batch *b, const real *dhs)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_gce_act) *a = &c->a;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_global *gl = b->global;
    const sbr_batch_local4 *lo = b->local4;
    int B = b->B, L = b->L, d = c->d, K = gl->K, T = nd->T;
    size_t Td = (size_t)T * d;
    ctx_grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)R(cut_ctx_grads)(&gr, a->g, B, L, T, K, d));
    real *dh = gr.dh, *dhgd = gr.dhgd, *dhld = gr.dhld, *dhg = gr.dhg, *dhl = gr.dhl,
         *dhin = gr.dhin, *dsT = gr.dsT, *dXf = gr.dXf, *dsm = gr.dsm, *dXs = gr.dXs;
    real *dXn = dXf, *dXk = dXf + Td;
    R(sbr_nn_embedding_backward)(ctx, dh, dhs, nd->alias, B * L, T, d, -1);
    R(sbr_nn_add_backward)(ctx, dhgd, dhld, dh, (int)Td);
    dhg = R(sbr_dropout_backward)(m, dhg, dhgd, a->mg, (int)Td, c->used[1]);
    dhl = R(sbr_dropout_backward)(m, dhl, dhld, a->ml, (int)Td, c->used[0]);
    R(sbr_nn_edge_attn_global_in) gx = {a->Xf + Td, gl->gw, a->sT}, dgx = {dXk, NULL, dsT};
    sbr_nn_nbr_table nb = {gl->gn, T, K};
    R(sbr_nn_edge_attn_global_backward)(ctx, dXn, &dgx, &c->g.agg, dhg, &a->agg, &gx, &nb,
                                        &c->w.agg, a->drop, d, SBR_GCE_SLOPE);
    sbr_nn_typed_csr lg = {lo->le_off, lo->le_idx, lo->le_type, T};
    R(sbr_nn_edge_attn_local_backward)(ctx, c->norm_local ? dhin : dXn, c->g.a, dhl, a->alpha,
                                       a->hin, &lg, c->w.a, d, SBR_GCE_SLOPE);
    if (c->norm_local)
        R(sbr_nn_l2norm_backward)(ctx, dXn, dhin, a->hn, a->nin, T, d, (real)1e-12);
    R(sbr_nn_embedding_backward)(ctx, dsm, dsT, nd->node_sess, T, B, d, -1);
    R(sbr_nn_seq_mean_backward)(ctx, dXs, dsm, b->len, B, L, d);
    R(sbr_nn_embedding_backward)(ctx, dXn, dXs, nd->alias, B * L, T, d, -1);
    R(sbr_front_backward)(m, f, &a->front, dXf);
}

void R(sbr_gce_forward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c, const sbr_batch *b,
                        int train)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_gce_act) *a = &c->a;
    int BL = b->B * b->L, d = c->d;
    R(gce_context_forward)(m, f, c, b, train);
    /* z = tanh(W3 [P[rpos] ; hs]) */
    R(sbr_nn_embedding_forward)(ctx, a->pe, c->w.pos, b->rpos, BL, c->P, d, -1);
    R(sbr_nn_concat_forward)(ctx, a->pcat, a->pe, a->hs, BL, d, d);
    R(sbr_nn_linear_forward)(ctx, a->z, a->pcat, c->w.w3, NULL, BL, 2 * d, d);
    R(sbr_nn_tanh_forward)(ctx, a->z, a->z, BL * d);
}

void R(sbr_gce_backward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c, const sbr_batch *b,
                         const real *dz, real *dhs)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_gce_act) *a = &c->a;
    int BL = b->B * b->L, d = c->d;
    real *dzz, *dcat, *dpos;
    R(sbr_fill)(m, a->gp, 0, (int64_t)R(cut_pos_grads)(&dzz, &dcat, &dpos, a->gp, (size_t)BL * d));
    R(sbr_nn_tanh_backward)(ctx, dzz, dz, a->z, BL * d);
    R(sbr_nn_linear_backward)(ctx, dcat, c->g.w3, NULL, dzz, a->pcat, c->w.w3, BL, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, dpos, dhs, dcat, BL, d, d);
    R(sbr_nn_embedding_backward)(ctx, c->g.pos, dpos, b->rpos, BL, c->P, d, -1);
    R(gce_context_backward)(m, f, c, b, dhs);
}
