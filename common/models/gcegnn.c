/* GCE-GNN (Wang et al. 2020) as its official code runs it (docs/MODELS.md):
 * the context layer and positional part of body/gce.h (hs, z), then the
 * position-aware readout (the official compute_scores):
 *   s'   = mean_j hs_j
 *   b_j  = q2 . sigmoid(W4 z_j + b4 + W5 s')  (no softmax)
 *   S    = sum_j b_j hs_j */
#include "model/body.h"

#include "model/body/gce.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_I("global_k", 12, 1, 1000, "neighbours kept per item of the global graph, heaviest first"),
    SBR_OPT_R("dropout", 0, 0, 1, "dropout on the session-graph branch (the official dropout_local)"),
    SBR_OPT_R("dropout_hidden", 0.5, 0, 1, "dropout on the global branch (dropout_global; 1: off)"),
    SBR_OPT_R("dropout_gcn", 0, 0, 1, "dropout on [h_v ; agg] in the global aggregator"),
    {0}};

/* The official main.py's per-dataset settings. Its diginetica setting also
 * takes n_iter = 2 hops in the global aggregator, which sbr does not have
 * (one hop). */
static const sbr_preset presets[] = {
    {"diginetica", "dropout_gcn=0.2 dropout=0", "the official diginetica setting (but 1 hop, not 2)"},
    {"tmall", "dropout_gcn=0.6 dropout=0.5", "the official Tmall setting"},
    {"nowplaying", "dropout_gcn=0 dropout=0", "the official Nowplaying setting"},
    {0}};

typedef struct {
    real *w4; /* [d, d] read.w4 */
    real *b4; /* [d] */
    real *w5; /* [d, d] read.w5 (no bias) */
    real *q2; /* [1, d] */
} weights;

typedef struct {
    real *sp, *g5; /* [B, d] s'; W5 s' */
    real *sg;      /* [B L, d] the readout's gates */
    real *beta;    /* [B, L] its weights */
    real *g;       /* the gradient buffers (grads), zeroed together */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dhs, *dsg, *dpre, *dz; /* [B L, d] */
    real *dbeta;                 /* [B, L] */
    real *dg5, *dsp;             /* [B, d] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    g->dhs = R(sbr_cut)(&c, B * L * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d), g->dz = R(sbr_cut)(&c, B * L * d);
    g->dbeta = R(sbr_cut)(&c, B * L);
    g->dg5 = R(sbr_cut)(&c, B * d), g->dsp = R(sbr_cut)(&c, B * d);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    R(sbr_gce) ctx;
    weights w, g;
    acts a;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    R(sbr_front_declare)(m, &st->front);
    R(sbr_gce_declare)(m, &st->ctx, 0);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    sbr_param(m, &st->w.w4, "read.w4", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &st->w.b4, "read.b4", SBR_SHAPE(d), u, 0);
    sbr_param(m, &st->w.w5, "read.w5", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &st->w.q2, "read.q2", SBR_SHAPE(1, d), u, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d;
    R(sbr_gce_layout)(&st->front, &st->ctx, l, dm);
    SBR_LAY(l, st->a.sp, B * d), SBR_LAY(l, st->a.g5, B * d), SBR_LAY(l, st->a.sg, BL * d);
    SBR_LAY(l, st->a.beta, BL), SBR_LAY(l, st->a.g, cut_grads(&(grads){0}, NULL, B, dm->L, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_gce_scratch)(dm, m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    R(sbr_gce_forward)(m, &st->front, &st->ctx, b, train);
    real *hs = st->ctx.a.hs, *z = st->ctx.a.z;
    R(sbr_nn_seq_mean_forward)(ctx, a->sp, hs, b->len, B, L, d);
    R(sbr_nn_additive_gate_w) gate = {w->w4, w->b4, w->w5, NULL};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_additive_gate_forward)(ctx, a->sg, a->g5, z, a->sp, &gate, sh);
    R(sbr_nn_attn_pool_forward)(ctx, Sv, a->beta, a->sg, w->q2, hs, b->len, sh);
    m->iw = a->beta; /* [1, B, L]: the readout's weights, for sbr-infer --interest-weights */
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d));
    real *dhs = gr.dhs, *dsg = gr.dsg, *dpre = gr.dpre, *dz = gr.dz, *dbeta = gr.dbeta,
         *dg5 = gr.dg5, *dsp = gr.dsp;
    real *hs = st->ctx.a.hs, *z = st->ctx.a.z;
    R(sbr_nn_additive_gate_w) gate = {w->w4, w->b4, w->w5, NULL}, dgate = {g->w4, g->b4, g->w5, NULL};
    sbr_nn_seq_shape sh = {B, L, d, d};
    R(sbr_nn_attn_pool_backward)(ctx, dsg, g->q2, dhs, dbeta, dSv, a->beta, a->sg, w->q2, hs,
                                 b->len, sh);
    R(sbr_nn_additive_gate_backward)(ctx, dz, dsp, &dgate, dpre, dg5, dsg, a->sg, z, a->sp, &gate,
                                     sh);
    R(sbr_nn_seq_mean_backward)(ctx, dhs, dsp, b->len, B, L, d);
    R(sbr_gce_backward)(m, &st->front, &st->ctx, b, dz, dhs);
}

SBR_MODEL_DEF(gcegnn) = {
    .name = "gcegnn",
    .about = "GCE-GNN: session-graph and global-graph attention, position-aware readout",
    .paper = "Wang et al., Global Context Enhanced Graph Neural Networks for Session-based "
             "Recommendation, SIGIR 2020 (as its official code runs it)",
    .needs = SBR_NEEDS_LOCAL4 | SBR_NEEDS_GLOBAL,
    .opts = opts,
    .presets = presets,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
