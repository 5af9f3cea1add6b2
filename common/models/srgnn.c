/* SR-GNN (Wu et al. 2019) as its official code (srgnn/pytorch_code/model.py)
 * runs it. The front embeds the batch's unique items (the nodes of the
 * per-session graphs, packed: b->nodes); `layers` (default 1) gated graph
 * steps over the degree-normalised in/out adjacency (the ggnn op, with the
 * GNNCell's b_iah / b_oah); the per-click node states v_i are gathered by
 * `alias`, the last click's v_last by `last_node`; then the soft-attention
 * readout
 *   alpha_i = w3^T sigmoid(W1 v_last + b1 + W2 v_i + b2)   (no softmax)
 *   a = sum_{i < len} alpha_i v_i
 *   S = W_t [a ; v_last] + b_t   (linear_transform, 2d -> d).
 * Every parameter uniform(-1/sqrt(d), 1/sqrt(d)) (official reset_parameters).
 * Optional dropout on the node embeddings (0 by default: the official model
 * has none). docs/MODELS.md. */
#include "model/body.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_I("layers", 1, 1, 64, "gated graph steps"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the node embeddings (the official model has none)"),
    {0}};

typedef struct {
    /* w_in, w_out [d, d], b_in, b_out, b_iah, b_oah [d], w_ih [3d, 2d], b_ih [3d],
     * w_hh [3d, d], b_hh [3d] */
    R(sbr_nn_ggnn_w) gnn;
    real *w1, *b1, *w2, *b2;           /* linear_one, linear_two: [d, d], [d] */
    real *w3;                          /* linear_three [1, d] */
    real *wt, *bt;                     /* linear_transform [d, 2d], [d] */
} weights;

typedef struct {
    R(sbr_front_act) front;   /* the front's use on the nodes */
    /* the GGNN's saved hsteps [layers, T, d] (its inputs; hsteps[0] is the front's
     * H0), a [layers, T, 2d], gates [layers, T, 3d], ghn [layers, T, d] */
    R(sbr_nn_ggnn_saved) gg;
    real *H0d, *Hout;         /* [T, d] H0 after dropout; the GGNN's output */
    uint8_t *mask;            /* [T, d] */
    real *hin;                /* the GGNN's input: H0d, or H0 */
    real *hseq, *sg;          /* [B L, d] the clicks' node states; the readout's gates */
    real *alpha;              /* [B, L] */
    real *vl, *q1, *ra;       /* [B, d] */
    real *c;                  /* [B, 2d] [a ; v_last] */
    real *g;                  /* the gradient buffers (grads), zeroed together */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dc;                 /* [B, 2d] */
    real *dra, *dvl, *dq1;    /* [B, d] */
    real *dhseq, *dsg, *dpre; /* [B L, d] */
    real *dalpha;             /* [B L] */
    real *dHout, *dH0d, *dH0; /* [T, d] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t T, size_t d)
{
    R(sbr_carve) c = {base, 0};
    g->dc = R(sbr_cut)(&c, 2 * B * d);
    g->dra = R(sbr_cut)(&c, B * d), g->dvl = R(sbr_cut)(&c, B * d), g->dq1 = R(sbr_cut)(&c, B * d);
    g->dhseq = R(sbr_cut)(&c, B * L * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d), g->dalpha = R(sbr_cut)(&c, B * L);
    g->dHout = R(sbr_cut)(&c, T * d), g->dH0d = R(sbr_cut)(&c, T * d), g->dH0 = R(sbr_cut)(&c, T * d);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
    int steps;
    double p, p_used;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->steps = sbr_cfg_int(&m->cfg, "layers");
    st->p = sbr_cfg_get(&m->cfg, "dropout");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
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

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, Td = (size_t)dm->T * d,
           s = (size_t)st->steps;
    R(sbr_front_layout)(&st->front, &a->front, l, dm->T);
    SBR_LAY(l, a->gg.hsteps, s * Td), SBR_LAY(l, a->H0d, Td), SBR_LAY(l, a->Hout, Td);
    SBR_LAY(l, a->mask, Td), SBR_LAY(l, a->gg.a, s * 2 * Td), SBR_LAY(l, a->gg.gates, s * 3 * Td);
    SBR_LAY(l, a->gg.ghn, s * Td), SBR_LAY(l, a->hseq, BL * d), SBR_LAY(l, a->sg, BL * d);
    SBR_LAY(l, a->alpha, BL), SBR_LAY(l, a->vl, B * d), SBR_LAY(l, a->q1, B * d);
    SBR_LAY(l, a->ra, B * d), SBR_LAY(l, a->c, 2 * B * d);
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, dm->T, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_nn_ggnn_scratch)(dm->T, m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    /* node states: the front writes H0 into the GGNN's first saved input,
     * hsteps[0] (no copy there when the dropout hands H0 on) */
    real *H0 = a->gg.hsteps;
    R(sbr_front_forward)(m, &st->front, &a->front, H0, nd->uniq, nd->cuniq, T, b);
    st->p_used = train ? st->p : 0;
    a->hin = R(sbr_dropout)(m, a->H0d, a->mask, H0, T * d, st->p_used, train);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               NULL, NULL, T};
    R(sbr_nn_ggnn_forward)(ctx, a->Hout, &a->gg, a->hin, &gg, &w->gnn, d, st->steps);
    /* per-click states and the last click's */
    R(sbr_nn_session_nodes_forward)(ctx, a->hseq, a->vl, a->Hout, nd->alias, nd->last_node,
                                     nd->node_sess, B, L, T, d);
    /* readout: sg = sigmoid(W2 v_i + b2 + W1 v_last + b1), alpha = sg w3 */
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_forward)(ctx, a->sg, a->q1, a->hseq, a->vl, &gate, sh);
    R(sbr_nn_attn_pool_forward)(ctx, a->ra, a->alpha, a->sg, w->w3, a->hseq, b->len, sh);
    R(sbr_nn_concat_forward)(ctx, a->c, a->ra, a->vl, B, d, d);
    R(sbr_nn_linear_forward)(ctx, Sv, a->c, w->wt, w->bt, B, 2 * d, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *gw = &st->g;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, T, d));
    real *dc = gr.dc, *dra = gr.dra, *dvl = gr.dvl, *dq1 = gr.dq1, *dhseq = gr.dhseq,
         *dsg = gr.dsg, *dpre = gr.dpre, *dalpha = gr.dalpha, *dHout = gr.dHout, *dH0d = gr.dH0d,
         *dH0 = gr.dH0;
    R(sbr_nn_linear_backward)(ctx, dc, gw->wt, gw->bt, dSv, a->c, w->wt, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, dra, dvl, dc, B, d, d);
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1},
                              dgate = {gw->w2, gw->b2, gw->w1, gw->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_attn_pool_backward)(ctx, dsg, gw->w3, dhseq, dalpha, dra, a->alpha, a->sg, w->w3,
                                 a->hseq, b->len, sh);
    R(sbr_nn_additive_gate_backward)(ctx, dhseq, dvl, &dgate, dpre, dq1, dsg, a->sg, a->hseq,
                                     a->vl, &gate, sh);
    R(sbr_nn_session_nodes_backward)(ctx, dHout, dhseq, dvl, nd->alias, nd->last_node,
                                      nd->node_sess, B, L, T, d);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               g->in_tw, g->out_tw, T};
    R(sbr_nn_ggnn_backward)(ctx, dH0d, &gw->gnn, dHout, &a->gg, &gg, &w->gnn, d, st->steps);
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, dH0, dH0d, a->mask, T * d, st->p_used));
}

SBR_MODEL_DEF(srgnn) = {
    .name = "srgnn",
    .about = "SR-GNN: gated graph steps over each session's graph, soft-attention readout",
    .paper = "Wu et al., Session-based Recommendation with Graph Neural Networks, AAAI 2019 (as "
             "its official code runs it)",
    .needs = SBR_NEEDS_GRAPH,
    .opts = opts,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
