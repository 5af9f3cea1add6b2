/* SR-GNN's session encoder (body/srgnn.h), compiled per precision. */
#include "model/body.h"

#include "model/body/srgnn.h"

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dc;                 /* [B, 2d] */
    real *dra, *dvl, *dq1;    /* [B, d] */
    real *dhseq, *dsg, *dpre; /* [B L, d] */
    real *dalpha, *dlogit;    /* [B L] */
    real *dHout, *dH0d, *dH0; /* [T, d] */
} grads;

static size_t R(cut_grads)(grads *g, real *base, size_t B, size_t L, size_t T, size_t d)
{
    R(sbr_carve) c = {base, 0};
    g->dc = R(sbr_cut)(&c, 2 * B * d);
    g->dra = R(sbr_cut)(&c, B * d), g->dvl = R(sbr_cut)(&c, B * d), g->dq1 = R(sbr_cut)(&c, B * d);
    g->dhseq = R(sbr_cut)(&c, B * L * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d), g->dalpha = R(sbr_cut)(&c, B * L);
    g->dlogit = R(sbr_cut)(&c, B * L);
    g->dHout = R(sbr_cut)(&c, T * d), g->dH0d = R(sbr_cut)(&c, T * d), g->dH0 = R(sbr_cut)(&c, T * d);
    return c.n;
}

void R(sbr_srgnn_declare)(sbr_model *m, R(sbr_srgnn) *s, int softmax)
{
    R(sbr_srgnn_w) *w = &s->w;
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    s->steps = sbr_cfg_int(&m->cfg, "layers");
    s->p = sbr_cfg_get(&m->cfg, "dropout");
    s->softmax = softmax;
    R(sbr_front_declare)(m, &s->front);
    sbr_weights(m, &s->w, &s->g, sizeof s->w);
    sbr_param(m, &w->gnn.w_in, "gnn.w_in", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &w->gnn.b_in, "gnn.b_in", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->gnn.w_out, "gnn.w_out", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &w->gnn.b_out, "gnn.b_out", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->gnn.b_iah, "gnn.b_iah", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->gnn.b_oah, "gnn.b_oah", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->gnn.w_ih, "gnn.w_ih", SBR_SHAPE(3 * d, 2 * d), u, 0);
    sbr_param(m, &w->gnn.b_ih, "gnn.b_ih", SBR_SHAPE(3 * d), u, 0);
    sbr_param(m, &w->gnn.w_hh, "gnn.w_hh", SBR_SHAPE(3 * d, d), u, 0);
    sbr_param(m, &w->gnn.b_hh, "gnn.b_hh", SBR_SHAPE(3 * d), u, 0);
    sbr_param(m, &w->w1, "linear_one.w", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &w->b1, "linear_one.b", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->w2, "linear_two.w", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &w->b2, "linear_two.b", SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->w3, "linear_three.w", SBR_SHAPE(1, d), u, 0);
    sbr_param(m, &w->wt, "linear_transform.w", SBR_SHAPE(d, 2 * d), u, 0);
    sbr_param(m, &w->bt, "linear_transform.b", SBR_SHAPE(d), u, 0);
}

void R(sbr_srgnn_layout)(sbr_model *m, R(sbr_srgnn) *s, sbr_lay *l, const sbr_dims *dm)
{
    R(sbr_srgnn_act) *a = &s->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, Td = (size_t)dm->T * d,
           st = (size_t)s->steps;
    R(sbr_front_layout)(&s->front, &a->front, l, dm->T);
    SBR_LAY(l, a->gg.hsteps, st * Td), SBR_LAY(l, a->H0d, Td), SBR_LAY(l, a->Hout, Td);
    SBR_LAY(l, a->mask, Td), SBR_LAY(l, a->gg.a, st * 2 * Td), SBR_LAY(l, a->gg.gates, st * 3 * Td);
    SBR_LAY(l, a->gg.ghn, st * Td), SBR_LAY(l, a->hseq, BL * d), SBR_LAY(l, a->sg, BL * d);
    SBR_LAY(l, a->alpha, BL), SBR_LAY(l, a->logit, BL), SBR_LAY(l, a->vl, B * d);
    SBR_LAY(l, a->q1, B * d), SBR_LAY(l, a->ra, B * d), SBR_LAY(l, a->c, 2 * B * d);
    SBR_LAY(l, a->g, R(cut_grads)(&(grads){0}, NULL, B, dm->L, dm->T, d));
}

size_t R(sbr_srgnn_scratch)(const sbr_dims *dm, int d)
{
    return R(sbr_nn_ggnn_scratch)(dm->T, d);
}

void R(sbr_srgnn_forward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, real *S, int train)
{
    R(sbr_srgnn_act) *a = &s->a;
    const R(sbr_srgnn_w) *w = &s->w;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    /* node states: the front writes H0 into the GGNN's first saved input,
     * hsteps[0] (no copy there when the dropout hands H0 on) */
    real *H0 = a->gg.hsteps;
    R(sbr_front_forward)(m, &s->front, &a->front, H0, nd->uniq, nd->cuniq, T, b);
    s->p_used = train ? s->p : 0;
    a->hin = R(sbr_dropout)(m, a->H0d, a->mask, H0, T * d, s->p_used, train);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               NULL, NULL, T};
    R(sbr_nn_ggnn_forward)(ctx, a->Hout, &a->gg, a->hin, &gg, &w->gnn, d, s->steps);
    /* per-click states and the last click's */
    R(sbr_nn_session_nodes_forward)(ctx, a->hseq, a->vl, a->Hout, nd->alias, nd->last_node,
                                     nd->node_sess, B, L, T, d);
    /* readout: sg = sigmoid(W2 v_i + b2 + W1 v_last + b1), alpha = sg w3 */
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_forward)(ctx, a->sg, a->q1, a->hseq, a->vl, &gate, sh);
    if (s->softmax) {
        R(sbr_nn_linear_forward)(ctx, a->logit, a->sg, w->w3, NULL, B * L, d, 1);
        R(sbr_nn_masked_softmax_forward)(ctx, a->alpha, a->logit, b->len, B, L);
        R(sbr_nn_seq_weighted_sum_forward)(ctx, a->ra, a->alpha, a->hseq, b->len, B, L, d);
    } else {
        R(sbr_nn_attn_pool_forward)(ctx, a->ra, a->alpha, a->sg, w->w3, a->hseq, b->len, sh);
    }
    R(sbr_nn_concat_forward)(ctx, a->c, a->ra, a->vl, B, d, d);
    R(sbr_nn_linear_forward)(ctx, S, a->c, w->wt, w->bt, B, 2 * d, d);
}

/* The readout's weights back to the gates (dhseq gets the pooling's share). */
static void R(readout_backward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, grads *gr)
{
    R(sbr_srgnn_act) *a = &s->a;
    const R(sbr_srgnn_w) *w = &s->w, *gw = &s->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    sbr_nn_seq_shape sh = {B, L, d, d};
    if (!s->softmax) {
        R(sbr_nn_attn_pool_backward)(ctx, gr->dsg, gw->w3, gr->dhseq, gr->dalpha, gr->dra,
                                     a->alpha, a->sg, w->w3, a->hseq, b->len, sh);
        return;
    }
    R(sbr_nn_seq_weighted_sum_backward)(ctx, gr->dalpha, gr->dhseq, gr->dra, a->alpha, a->hseq,
                                        b->len, B, L, d);
    R(sbr_nn_masked_softmax_backward)(ctx, gr->dlogit, gr->dalpha, a->alpha, b->len, B, L);
    R(sbr_nn_linear_backward)(ctx, gr->dsg, gw->w3, NULL, gr->dlogit, a->sg, w->w3, B * L, d, 1);
}

void R(sbr_srgnn_backward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, const real *dS,
                           const real *dhseq)
{
    R(sbr_srgnn_act) *a = &s->a;
    const R(sbr_srgnn_w) *w = &s->w, *gw = &s->g;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)R(cut_grads)(&gr, a->g, B, L, T, d));
    if (dhseq)
        R(sbr_nn_add_backward)(ctx, gr.dhseq, NULL, dhseq, B * L * d);
    R(sbr_nn_linear_backward)(ctx, gr.dc, gw->wt, gw->bt, dS, a->c, w->wt, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, gr.dra, gr.dvl, gr.dc, B, d, d);
    R(readout_backward)(m, s, b, &gr);
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1},
                              dgate = {gw->w2, gw->b2, gw->w1, gw->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_backward)(ctx, gr.dhseq, gr.dvl, &dgate, gr.dpre, gr.dq1, gr.dsg,
                                     a->sg, a->hseq, a->vl, &gate, sh);
    R(sbr_nn_session_nodes_backward)(ctx, gr.dHout, gr.dhseq, gr.dvl, nd->alias, nd->last_node,
                                      nd->node_sess, B, L, T, d);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               g->in_tw, g->out_tw, T};
    R(sbr_nn_ggnn_backward)(ctx, gr.dH0d, &gw->gnn, gr.dHout, &a->gg, &gg, &w->gnn, d, s->steps);
    R(sbr_front_backward)(m, &s->front, &a->front,
                          R(sbr_dropout_backward)(m, gr.dH0, gr.dH0d, a->mask, T * d, s->p_used));
}
