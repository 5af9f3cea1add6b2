/* GC-SAN (Xu et al. 2019) as RecBole-GNN's GCSAN runs it. SR-GNN's
 * session-graph encoder (body/sessgraph.h: the front on the nodes, `steps`
 * gated graph steps) gives each click's node state h_j (by alias) and the
 * last click's h_last; then `layers` self-attention blocks over h (the mhsa
 * op, post-norm as RecBole's TransformerEncoder: multi-head attention,
 * residual, layer norm, point-wise FFN, residual, layer norm; GELU, causal
 * and key-padding masks, layer-norm eps 1e-12, dropout on the attention
 * probabilities and on each branch):
 *   Y_0 = h,  Y_i = block_i(Y_{i-1}),  a_last = Y_layers[len - 1]
 *   S = omega a_last + (1 - omega) h_last.
 * Initialisation as RecBole's _init_weights: every matrix and the item table
 * normal(0, 0.02), every bias 0, layer-norm gains 1 (--init-scale s > 0:
 * uniform(-s, s) for the matrices instead). docs/MODELS.md. */
#include "model/body.h"

#include "model/body/mhsa.h"
#include "model/body/sessgraph.h"

#define GCSAN_MAX_LAYERS 8

static const char *const activations[] = {"gelu", "relu", NULL};

static const sbr_opt opts[] = {
    SBR_OPT_DIM(64),
    SBR_OPT_I("steps", 1, 1, 64, "gated graph steps (RecBole-GNN's step)"),
    SBR_OPT_I("layers", 1, 1, GCSAN_MAX_LAYERS, "self-attention blocks k"),
    SBR_OPT_I("heads", 1, 1, 64, "attention heads (dim must be a multiple)"),
    SBR_OPT_I("inner", 256, 1, 65536, "the point-wise FFN's hidden size"),
    SBR_OPT_R("weight", 0.6, 0, 1, "omega: S = omega a_last + (1 - omega) h_last"),
    SBR_OPT_R("hidden_dropout", 0.2, 0, 0.99, "dropout on each block's branches"),
    SBR_OPT_R("attn_dropout", 0.2, 0, 0.99, "dropout on the attention probabilities"),
    SBR_OPT_C("act", 0, activations, "the FFN's activation (RecBole-GNN: gelu)"),
    SBR_OPT_I("causal", 1, 0, 1, "1: position j attends to clicks up to j (RecBole-GNN)"),
    SBR_OPT_MAX_LEN(50),
    {0}};

typedef struct {
    /* w_in, w_out [d, d], b_in, b_out, b_iah, b_oah [d], w_ih [3d, 2d], b_ih [3d],
     * w_hh [3d, d], b_hh [3d] */
    R(sbr_nn_ggnn_w) gnn;
} weights;

typedef struct {
    R(sbr_sgraph) sg;  /* the session-graph encoder: hseq [B L, d], vl [B, d] */
    real *Y;           /* [layers, B L, d] each block's output */
    real *act;         /* [layers, mhsa_act_count] each block's saved activations */
    real *al, *hw;     /* [B, d] a_last; (1 - omega) h_last */
    real *dY, *dX;     /* [B L, d] a block's output and input gradients */
    real *dal, *dvl;   /* [B, d] */
} acts;

typedef struct {
    R(sbr_front) front;
    weights w, g;
    R(sbr_nn_mhsa_w) blk[GCSAN_MAX_LAYERS], gblk[GCSAN_MAX_LAYERS]; /* the blocks, their grads */
    acts a;
    sbr_nn_mhsa_cfg cfg; /* sizes and flags; the rates and the stream set per forward */
    int layers;
    double omega, p_attn, p_hidden;
} state;

static int check(const sbr_model_cfg *c, sbr_err *e)
{
    int d = sbr_cfg_int(c, "dim"), h = sbr_cfg_int(c, "heads");
    if (d % h)
        return sbr_errf(e, "gcsan: dim %d is not a multiple of heads %d", d, h);
    return 0;
}

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int own = !(m->cfg.init_scale > 0); /* RecBole's init, unless a scale is given */
    sbr_init_kind init = own ? SBR_INIT_NORMAL : SBR_INIT_UNIFORM;
    double arg = own ? 0.02 : 0;
    st->layers = sbr_cfg_int(&m->cfg, "layers");
    st->omega = sbr_cfg_get(&m->cfg, "weight");
    st->p_attn = sbr_cfg_get(&m->cfg, "attn_dropout");
    st->p_hidden = sbr_cfg_get(&m->cfg, "hidden_dropout");
    int flags = (sbr_cfg_int(&m->cfg, "causal") ? SBR_NN_MHSA_CAUSAL : 0) |
                (sbr_cfg_int(&m->cfg, "act") == 0 ? SBR_NN_MHSA_GELU : 0);
    st->cfg = (sbr_nn_mhsa_cfg){m->d, sbr_cfg_int(&m->cfg, "heads"),
                                sbr_cfg_int(&m->cfg, "inner"), flags, 1e-12, 0, 0, 0, 0};
    st->a.sg.steps = sbr_cfg_int(&m->cfg, "steps");
    st->a.sg.p = 0; /* RecBole-GNN's GC-SAN has no dropout on the node embeddings */
    R(sbr_front_declare)(m, &st->front);
    if (own)
        sbr_param_init(m, m->p_items, SBR_INIT_NORMAL, 0.02);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    R(sbr_ggnn_declare)(m, &st->w.gnn, "gnn", init, arg);
    for (int i = 0; i < st->layers; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "sa%d", i);
        R(sbr_mhsa_declare)(m, &st->blk[i], &st->gblk[i], prefix, st->cfg.dff, flags, init, arg);
    }
}

static size_t act_count(const state *st, int B, int L)
{
    return R(sbr_nn_mhsa_act_count)(B, L, st->cfg.d, st->cfg.nh, st->cfg.dff);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BLd = B * dm->L * m->d, k = (size_t)st->layers;
    R(sbr_sgraph_layout)(&st->front, &a->sg, l, dm, m->d);
    SBR_LAY(l, a->Y, k * BLd), SBR_LAY(l, a->act, k * act_count(st, dm->B, dm->L));
    SBR_LAY(l, a->al, B * m->d), SBR_LAY(l, a->hw, B * m->d), SBR_LAY(l, a->dY, BLd), SBR_LAY(l, a->dX, BLd);
    SBR_LAY(l, a->dal, B * m->d), SBR_LAY(l, a->dvl, B * m->d);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    const state *st = SBR_STATE(state, m);
    size_t g = R(sbr_sgraph_scratch)(dm, m->d),
           s = R(sbr_nn_mhsa_scratch)(dm->B, dm->L, m->d, st->cfg.dff);
    return g > s ? g : s;
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    size_t BLd = (size_t)BL * d, na = act_count(st, B, L);
    R(sbr_sgraph_forward)(m, &st->front, &st->w.gnn, &a->sg, b, train);
    /* the blocks draw their dropout from the model's stream, which moves by
     * what each would draw at every training call (as R(sbr_dropout)) */
    st->cfg.p_attn = train ? st->p_attn : 0;
    st->cfg.p_hidden = train ? st->p_hidden : 0;
    st->cfg.seed = m->drop_seed;
    const real *x = a->sg.hseq;
    for (int i = 0; i < st->layers; i++) {
        st->cfg.offset = sbr_drop_take(m, R(sbr_nn_mhsa_rng_count)(B, L, d, st->cfg.nh), train);
        real *y = a->Y + i * BLd;
        R(sbr_nn_mhsa_forward)(ctx, y, a->act + i * na, x, b->len, &st->blk[i], B, L, &st->cfg);
        x = y;
    }
    /* S = omega a_last + (1 - omega) h_last */
    R(sbr_nn_embedding_forward)(ctx, a->al, x, b->last, B, BL, d, -1);
    R(sbr_nn_scale_forward)(ctx, a->hw, a->sg.vl, B * d, (real)(1 - st->omega));
    R(sbr_nn_scale_forward)(ctx, Sv, a->al, B * d, (real)st->omega);
    R(sbr_nn_add_forward)(ctx, Sv, Sv, a->hw, B * d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    size_t BLd = (size_t)BL * d, na = act_count(st, B, L);
    R(sbr_fill)(m, a->dal, 0, (int64_t)B * d), R(sbr_fill)(m, a->dvl, 0, (int64_t)B * d);
    R(sbr_nn_scale_backward)(ctx, a->dal, dSv, B * d, (real)st->omega);
    R(sbr_nn_scale_backward)(ctx, a->dvl, dSv, B * d, (real)(1 - st->omega));
    R(sbr_fill)(m, a->dY, 0, (int64_t)BLd);
    R(sbr_nn_embedding_backward)(ctx, a->dY, a->dal, b->last, B, BL, d, -1);
    real *dy = a->dY, *dx = a->dX;
    for (int i = st->layers - 1; i >= 0; i--) {
        const real *x = i ? a->Y + (i - 1) * BLd : a->sg.hseq;
        R(sbr_fill)(m, dx, 0, (int64_t)BLd);
        R(sbr_nn_mhsa_backward)(ctx, dx, &st->gblk[i], dy, a->act + i * na, x, b->len,
                                &st->blk[i], B, L, &st->cfg);
        real *t = dy;
        dy = dx, dx = t;
    }
    R(sbr_sgraph_backward)(m, &st->front, &st->w.gnn, &st->g.gnn, &a->sg, b, dy, a->dvl);
}

SBR_MODEL_DEF(gcsan) = {
    .name = "gcsan",
    .about = "GC-SAN: SR-GNN's gated graph steps, then self-attention blocks over the clicks",
    .paper = "Xu et al., Graph Contextualized Self-Attention Network for Session-based "
             "Recommendation, IJCAI 2019 (as RecBole-GNN's GCSAN runs it)",
    .needs = SBR_NEEDS_GRAPH,
    .opts = opts,
    .presets = NULL,
    .state_size = sizeof(state),
    .check = check,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
