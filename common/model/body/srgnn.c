/* SR-GNN's session encoder (body/srgnn.h), compiled per precision. */
#include "model/body.h"

#include "model/body/srgnn.h"

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dc;                 /* [B, 2d] */
    real *dra, *dvl, *dq1;    /* [B, d] */
    real *dhseq, *dsg, *dpre; /* [B L, d] */
    real *dalpha, *dlogit;    /* [B L] */
} grads;

static size_t R(cut_grads)(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    g->dc = R(sbr_cut)(&c, 2 * B * d);
    g->dra = R(sbr_cut)(&c, B * d), g->dvl = R(sbr_cut)(&c, B * d), g->dq1 = R(sbr_cut)(&c, B * d);
    g->dhseq = R(sbr_cut)(&c, B * L * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d), g->dalpha = R(sbr_cut)(&c, B * L);
    g->dlogit = R(sbr_cut)(&c, B * L);
    return c.n;
}

void R(sbr_srgnn_declare)(sbr_model *m, R(sbr_srgnn) *s, int softmax)
{
    R(sbr_srgnn_w) *w = &s->w;
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    s->a.sg.steps = sbr_cfg_int(&m->cfg, "layers");
    s->a.sg.p = sbr_cfg_get(&m->cfg, "dropout");
    s->softmax = softmax;
    R(sbr_front_declare)(m, &s->front);
    sbr_weights(m, &s->w, &s->g, sizeof s->w);
    R(sbr_ggnn_declare)(m, &w->gnn, "gnn", u, 0);
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
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d;
    R(sbr_sgraph_layout)(&s->front, &a->sg, l, dm, m->d);
    SBR_LAY(l, a->gate, BL * d), SBR_LAY(l, a->alpha, BL), SBR_LAY(l, a->logit, BL);
    SBR_LAY(l, a->q1, B * d), SBR_LAY(l, a->ra, B * d), SBR_LAY(l, a->c, 2 * B * d);
    SBR_LAY(l, a->g, R(cut_grads)(&(grads){0}, NULL, B, dm->L, d));
}

size_t R(sbr_srgnn_scratch)(const sbr_dims *dm, int d)
{
    return R(sbr_sgraph_scratch)(dm, d);
}

void R(sbr_srgnn_forward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, real *S, int train)
{
    R(sbr_srgnn_act) *a = &s->a;
    const R(sbr_srgnn_w) *w = &s->w;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    R(sbr_sgraph_forward)(m, &s->front, &w->gnn, &a->sg, b, train);
    const real *hseq = a->sg.hseq, *vl = a->sg.vl;
    /* readout: gate = sigmoid(W2 v_i + b2 + W1 v_last + b1), alpha = gate w3 */
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_forward)(ctx, a->gate, a->q1, hseq, vl, &gate, sh);
    if (s->softmax) {
        R(sbr_nn_linear_forward)(ctx, a->logit, a->gate, w->w3, NULL, B * L, d, 1);
        R(sbr_nn_masked_softmax_forward)(ctx, a->alpha, a->logit, b->len, B, L);
        R(sbr_nn_seq_weighted_sum_forward)(ctx, a->ra, a->alpha, hseq, b->len, B, L, d);
    } else {
        R(sbr_nn_attn_pool_forward)(ctx, a->ra, a->alpha, a->gate, w->w3, hseq, b->len, sh);
    }
    R(sbr_nn_concat_forward)(ctx, a->c, a->ra, vl, B, d, d);
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
                                     a->alpha, a->gate, w->w3, a->sg.hseq, b->len, sh);
        return;
    }
    R(sbr_nn_seq_weighted_sum_backward)(ctx, gr->dalpha, gr->dhseq, gr->dra, a->alpha,
                                        a->sg.hseq, b->len, B, L, d);
    R(sbr_nn_masked_softmax_backward)(ctx, gr->dlogit, gr->dalpha, a->alpha, b->len, B, L);
    R(sbr_nn_linear_backward)(ctx, gr->dsg, gw->w3, NULL, gr->dlogit, a->gate, w->w3, B * L, d,
                              1);
}

void R(sbr_srgnn_backward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, const real *dS,
                           const real *dhseq)
{
    R(sbr_srgnn_act) *a = &s->a;
    const R(sbr_srgnn_w) *w = &s->w, *gw = &s->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)R(cut_grads)(&gr, a->g, B, L, d));
    if (dhseq)
        R(sbr_nn_add_backward)(ctx, gr.dhseq, NULL, dhseq, B * L * d);
    R(sbr_nn_linear_backward)(ctx, gr.dc, gw->wt, gw->bt, dS, a->c, w->wt, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, gr.dra, gr.dvl, gr.dc, B, d, d);
    R(readout_backward)(m, s, b, &gr);
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1},
                              dgate = {gw->w2, gw->b2, gw->w1, gw->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_backward)(ctx, gr.dhseq, gr.dvl, &dgate, gr.dpre, gr.dq1, gr.dsg,
                                     a->gate, a->sg.hseq, a->sg.vl, &gate, sh);
    R(sbr_sgraph_backward)(m, &s->front, &w->gnn, &gw->gnn, &a->sg, b, gr.dhseq, gr.dvl);
}
