/* DMI-GNN (Lv et al. 2025) as its official code runs it (docs/MODELS.md):
 * GCE-GNN's context layer (body/gce.h) with the session-graph input
 * L2-normalised, then multiple positional patterns, one session vector per
 * interest u = 1..U:
 *   a_u[j]    = q_u . sigmoid(W4_u z_j + b4_u)         (no softmax, no s' term)
 *   S_u       = sum_{j < len} a_u[j] hs_j
 * scored against L2-normalised item vectors, max over the interests (or the
 * sum, --interest-pool sum) by the step (score_multi.inc). With U > 1 and
 * dmi_beta > 0 the DMI regulariser (body/dmi_reg.h) on the weights a_u.
 *
 * What is normalised, precisely (the official code): the item embeddings
 * entering the session-graph attention (not those of the global aggregation,
 * its neighbours or the session mean), and every candidate row of E at
 * scoring. The readout's hs is not normalised. */
#include "model/body.h"

#include "model/body/dmi_reg.h"
#include "model/body/gce.h"

static const char *const pools[] = {"max", "sum", NULL};

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_I("global_k", 12, 1, 1000, "neighbours kept per item of the global graph, heaviest first"),
    SBR_OPT_R("dropout", 0, 0, 1, "dropout on the session-graph branch (the official dropout_local)"),
    SBR_OPT_R("dropout_hidden", 0.5, 0, 1, "dropout on the global branch (dropout_global; 1: off)"),
    SBR_OPT_R("dropout_gcn", 0.8, 0, 1, "dropout on [h_v ; agg] in the global aggregator"),
    SBR_OPT_I("interests", 3, 1, SBR_MAX_INTERESTS, "session vectors per sample U (1: single interest)"),
    SBR_OPT_C("interest_pool", 0, pools, "an item's score: its best interest's (max) or the sum"),
    SBR_OPT_R("dmi_eta", 12, -1e6, 1e6, "the DMI regulariser's length offset eta"),
    SBR_OPT_R("dmi_beta", 0.005, 0, 1e6, "the DMI regulariser's weight beta (0: off)"),
    {0}};

/* The official code's per-dataset settings (RetailRocket's are the defaults). */
static const sbr_preset presets[] = {
    {"retailrocket", "interests=3 dmi_eta=12 dmi_beta=0.005 dropout_hidden=0.5 dropout_gcn=0.8 "
                     "dropout=0", "the official RetailRocket setting (the defaults)"},
    {"tmall", "interests=5 dmi_eta=8 dmi_beta=0.02 dropout_hidden=1 dropout_gcn=1 dropout=0.7",
     "the official Tmall setting (the global branch untrained: dropout 1)"},
    {"lastfm", "interests=5 dmi_eta=18 dmi_beta=0.005 dropout_hidden=0.1 dropout_gcn=0 dropout=0",
     "the official LastFM setting"},
    {0}};

typedef struct {
    real *w4[SBR_MAX_INTERESTS]; /* [d, d] read.w4.u (NULL past U) */
    real *b4[SBR_MAX_INTERESTS]; /* [d] read.b4.u */
    real *q[SBR_MAX_INTERESTS];  /* [1, d] read.q.u */
} weights;

typedef struct {
    real *a;                      /* [U, B, L] the interests' weights */
    real *sg[SBR_MAX_INTERESTS];  /* [B L, d] each interest's gates */
    real *su[SBR_MAX_INTERESTS];  /* [B, d] S_u (U > 1) */
    real *acc[SBR_MAX_INTERESTS]; /* [B, (u + 1) d] the concat chain's partial S (U > 2) */
    real *g;                      /* the gradient buffers (grads), zeroed together */
    real *dpre;                   /* [B L, d] */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dhs, *dz; /* [B L, d] */
    real *da;       /* [U, B, L] */
    real *dSu;      /* [U, B, d] */
    real *chain;    /* [U, U, B, d] the concat chain's partial gradients */
    real *dsg;      /* [B L, d] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d, size_t U)
{
    R(sbr_carve) c = {base, 0};
    g->dhs = R(sbr_cut)(&c, B * L * d), g->dz = R(sbr_cut)(&c, B * L * d);
    g->da = R(sbr_cut)(&c, U * B * L), g->dSu = R(sbr_cut)(&c, U * B * d);
    g->chain = R(sbr_cut)(&c, U * U * B * d), g->dsg = R(sbr_cut)(&c, B * L * d);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    R(sbr_gce) ctx;
    R(sbr_dmi_reg) reg; /* with U > 1 and dmi_beta > 0 */
    weights w, g;
    acts a;
    int U, reg_on; /* the last forward added the regulariser */
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->U = st->reg.U = m->interests;
    st->reg.eta = sbr_cfg_get(&m->cfg, "dmi_eta");
    st->reg.beta = sbr_cfg_get(&m->cfg, "dmi_beta");
    R(sbr_front_declare)(m, &st->front);
    R(sbr_gce_declare)(m, &st->ctx, 1);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    for (int k = 0; k < SBR_MAX_INTERESTS; k++) {
        char n4[32], nb[32], nq[32];
        snprintf(n4, sizeof n4, "read.w4.%d", k);
        snprintf(nb, sizeof nb, "read.b4.%d", k);
        snprintf(nq, sizeof nq, "read.q.%d", k);
        if (k >= st->U) {
            sbr_param_none(m, &st->w.w4[k]), sbr_param_none(m, &st->w.b4[k]);
            sbr_param_none(m, &st->w.q[k]);
            continue;
        }
        sbr_param(m, &st->w.w4[k], n4, SBR_SHAPE(d, d), u, 0);
        sbr_param(m, &st->w.b4[k], nb, SBR_SHAPE(d), u, 0);
        sbr_param(m, &st->w.q[k], nq, SBR_SHAPE(1, d), u, 0);
    }
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, n = BL * d, U = (size_t)st->U;
    R(sbr_gce_layout)(&st->front, &st->ctx, l, dm);
    SBR_LAY(l, a->a, U * BL);
    for (size_t u = 0; u < U; u++) {
        SBR_LAY(l, a->sg[u], n);
        if (U > 1)
            SBR_LAY(l, a->su[u], B * d);
        if (u > 0 && u < U - 1)
            SBR_LAY(l, a->acc[u], (u + 1) * B * d);
    }
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, d, U)), SBR_LAY(l, a->dpre, n);
    if (U > 1)
        R(sbr_dmi_reg_layout)(&st->reg, l, dm);
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
    int B = b->B, L = b->L, BL = B * L, d = m->d, U = st->U;
    size_t n = (size_t)BL * d;
    R(sbr_gce_forward)(m, &st->front, &st->ctx, b, train);
    real *hs = st->ctx.a.hs, *z = st->ctx.a.z, *acc = NULL;
    for (int u = 0; u < U; u++) {
        real *sg = a->sg[u], *au = a->a + (size_t)u * BL, *Su = U == 1 ? (real *)Sv : a->su[u];
        R(sbr_nn_linear_forward)(ctx, sg, z, w->w4[u], w->b4[u], BL, d, d);
        R(sbr_nn_sigmoid_forward)(ctx, sg, sg, (int)n);
        R(sbr_nn_attn_pool_forward)(ctx, Su, au, sg, w->q[u], hs, b->len,
                                    (sbr_nn_seq_shape){B, L, d, d});
        /* S [B, U, d]: the interests side by side, [S_0 .. S_u] grown by concat */
        if (u > 0) {
            real *next = u == U - 1 ? (real *)Sv : a->acc[u];
            R(sbr_nn_concat_forward)(ctx, next, acc, Su, B, u * d, d);
            acc = next;
        } else
            acc = Su;
    }
    m->iw = a->a;
    st->reg_on = U > 1 && st->reg.beta > 0;
    if (st->reg_on)
        R(sbr_dmi_reg_forward)(m, &st->reg, b, a->a);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, BL = B * L, d = m->d, U = st->U;
    size_t n = (size_t)BL * d, Bd = (size_t)B * d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d, U));
    real *dhs = gr.dhs, *dz = gr.dz, *da = gr.da, *dSu = gr.dSu, *chain = gr.chain, *dsg = gr.dsg;
    /* undo the concat chain: dS [B, U*d] -> dS_u [B, d] */
    if (U == 1)
        R(sbr_nn_add_forward)(ctx, dSu, dSu, dSv, (int)Bd);
    else {
        const real *dacc = dSv;
        for (int u = U - 1; u >= 1; u--) {
            real *prev = u == 1 ? dSu : chain + (size_t)u * U * Bd;
            R(sbr_nn_concat_backward)(ctx, prev, dSu + (size_t)u * Bd, dacc, B, u * d, d);
            dacc = prev;
        }
    }
    if (st->reg_on)
        R(sbr_dmi_reg_backward)(m, &st->reg, b, a->a, da);
    real *hs = st->ctx.a.hs, *z = st->ctx.a.z;
    for (int u = 0; u < U; u++) {
        real *au = a->a + (size_t)u * BL, *dau = da + (size_t)u * BL;
        if (u > 0)
            R(sbr_fill)(m, dsg, 0, (int64_t)n);
        R(sbr_nn_attn_pool_backward)(ctx, dsg, g->q[u], dhs, dau, dSu + (size_t)u * Bd, au,
                                     a->sg[u], w->q[u], hs, b->len, (sbr_nn_seq_shape){B, L, d, d});
        R(sbr_fill)(m, a->dpre, 0, (int64_t)n);
        R(sbr_nn_sigmoid_backward)(ctx, a->dpre, dsg, a->sg[u], (int)n);
        R(sbr_nn_linear_backward)(ctx, dz, g->w4[u], g->b4[u], a->dpre, z, w->w4[u], BL, d, d);
    }
    R(sbr_gce_backward)(m, &st->front, &st->ctx, b, dz, dhs);
}

SBR_MODEL_DEF(dmignn) = {
    .name = "dmignn",
    .about = "DMI-GNN: GCE-GNN's context with several interests and the DMI regulariser",
    .paper = "Lv et al., Dynamic Multi-Interest Graph Neural Network for Session-Based "
             "Recommendation, AAAI 2025 (as its official code runs it)",
    .needs = SBR_NEEDS_LOCAL4 | SBR_NEEDS_GLOBAL | SBR_NEEDS_NORM_ITEMS | SBR_NEEDS_INTERESTS,
    .opts = opts,
    .presets = presets,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
