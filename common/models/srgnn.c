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

#include "model/body/sessgraph.h"

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
    R(sbr_sgraph) sg;         /* the session-graph encoder: hseq [B L, d], vl [B, d] */
    real *gate;               /* [B L, d] the readout's gates */
    real *alpha;              /* [B, L] */
    real *q1, *ra;            /* [B, d] */
    real *c;                  /* [B, 2d] [a ; v_last] */
    real *g;                  /* the gradient buffers (grads), zeroed together */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dc;                 /* [B, 2d] */
    real *dra, *dvl, *dq1;    /* [B, d] */
    real *dhseq, *dsg, *dpre; /* [B L, d] */
    real *dalpha;             /* [B L] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    g->dc = R(sbr_cut)(&c, 2 * B * d);
    g->dra = R(sbr_cut)(&c, B * d), g->dvl = R(sbr_cut)(&c, B * d), g->dq1 = R(sbr_cut)(&c, B * d);
    g->dhseq = R(sbr_cut)(&c, B * L * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d), g->dalpha = R(sbr_cut)(&c, B * L);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->a.sg.steps = sbr_cfg_int(&m->cfg, "layers");
    st->a.sg.p = sbr_cfg_get(&m->cfg, "dropout");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    R(sbr_ggnn_declare)(m, &w->gnn, "gnn", u, 0);
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
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d;
    R(sbr_sgraph_layout)(&st->front, &a->sg, l, dm, m->d);
    SBR_LAY(l, a->gate, BL * d), SBR_LAY(l, a->alpha, BL), SBR_LAY(l, a->q1, B * d);
    SBR_LAY(l, a->ra, B * d), SBR_LAY(l, a->c, 2 * B * d);
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_sgraph_scratch)(dm, m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    R(sbr_sgraph_forward)(m, &st->front, &w->gnn, &a->sg, b, train);
    const real *hseq = a->sg.hseq, *vl = a->sg.vl;
    /* readout: gate = sigmoid(W2 v_i + b2 + W1 v_last + b1), alpha = gate w3 */
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_forward)(ctx, a->gate, a->q1, hseq, vl, &gate, sh);
    R(sbr_nn_attn_pool_forward)(ctx, a->ra, a->alpha, a->gate, w->w3, hseq, b->len, sh);
    R(sbr_nn_concat_forward)(ctx, a->c, a->ra, vl, B, d, d);
    R(sbr_nn_linear_forward)(ctx, Sv, a->c, w->wt, w->bt, B, 2 * d, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *gw = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    const real *hseq = a->sg.hseq, *vl = a->sg.vl;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d));
    R(sbr_nn_linear_backward)(ctx, gr.dc, gw->wt, gw->bt, dSv, a->c, w->wt, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, gr.dra, gr.dvl, gr.dc, B, d, d);
    R(sbr_nn_additive_gate_w) gate = {w->w2, w->b2, w->w1, w->b1},
                              dgate = {gw->w2, gw->b2, gw->w1, gw->b1};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_attn_pool_backward)(ctx, gr.dsg, gw->w3, gr.dhseq, gr.dalpha, gr.dra, a->alpha,
                                 a->gate, w->w3, hseq, b->len, sh);
    R(sbr_nn_additive_gate_backward)(ctx, gr.dhseq, gr.dvl, &dgate, gr.dpre, gr.dq1, gr.dsg,
                                     a->gate, hseq, vl, &gate, sh);
    R(sbr_sgraph_backward)(m, &st->front, &w->gnn, &gw->gnn, &a->sg, b, gr.dhseq, gr.dvl);
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
