/* DMI-GNN (Lv et al. 2025) as its official code runs it (docs/MODELS.md):
 * GCE-GNN's context layer (body/gce.h) with the session-graph input
 * L2-normalised, then multiple positional patterns, one session vector per
 * interest u = 1..U:
 *   a_u[j]    = q_u . sigmoid(W4_u z_j + b4_u)         (no softmax, no s' term)
 *   S_u       = sum_{j < len} a_u[j] hs_j
 * scored against L2-normalised item vectors, max over the interests (or the
 * sum, --interest-pool sum) by the step (score_multi.inc). With U > 1 and
 * dmi_beta > 0 the DMI regulariser, per sample,
 *   L_DMI = sigmoid((len - eta) * mean_{u<w} |cos(a_u, a_w)|)
 * (a_u over the prefix's positions), added as beta * sum over the batch (the
 * official code sums it; the CE is a mean).
 *
 * What is normalised, precisely (the official code): the item embeddings
 * entering the session-graph attention (not those of the global aggregation,
 * its neighbours or the session mean), and every candidate row of E at
 * scoring. The readout's hs is not normalised. */
#include "model/body.h"

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
    /* the regulariser: ones [B], am, an [U, B, L], nr [U, B], c [2 P, B] (P
     * pairs: |cos| and its abs), cs [6, B] (sum, mean, terms, xloss); its
     * gradient buffers (reg_grads), zeroed together */
    real *ones, *am, *an, *nr, *c, *cs, *rg;
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

/* The regulariser's gradient buffers, likewise (P pairs of interests). */
typedef struct {
    real *dxl, *dt, *dt1, *dt2, *dcm, *dcs; /* [B] */
    real *dc;                               /* [P, B] */
    real *dan, *dam;                        /* [U, B, L] */
} reg_grads;

static size_t cut_reg_grads(reg_grads *g, real *base, size_t B, size_t L, size_t U)
{
    R(sbr_carve) c = {base, 0};
    real **row[] = {&g->dxl, &g->dt, &g->dt1, &g->dt2, &g->dcm, &g->dcs};
    for (size_t k = 0; k < 6; k++)
        *row[k] = R(sbr_cut)(&c, B);
    g->dc = R(sbr_cut)(&c, U * (U - 1) / 2 * B);
    g->dan = R(sbr_cut)(&c, U * B * L), g->dam = R(sbr_cut)(&c, U * B * L);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    R(sbr_gce) ctx;
    weights w, g;
    acts a;
    int U, reg_on; /* the last forward added the regulariser */
    double eta, beta;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d;
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->U = m->interests;
    st->eta = sbr_cfg_get(&m->cfg, "dmi_eta");
    st->beta = sbr_cfg_get(&m->cfg, "dmi_beta");
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
    size_t P = U * (U - 1) / 2;
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
    SBR_LAY(l, a->ones, B), SBR_LAY(l, a->am, U * BL), SBR_LAY(l, a->an, U * BL);
    SBR_LAY(l, a->nr, U * B), SBR_LAY(l, a->c, 2 * P * B), SBR_LAY(l, a->cs, 6 * B);
    SBR_LAY(l, a->rg, cut_reg_grads(&(reg_grads){0}, NULL, B, dm->L, U));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_gce_scratch)(dm, m->d);
}

/* The DMI regulariser's forward from the interest weights a [U, B, L]:
 * m->xloss = sigmoid((len - eta) * mean |cos|) [B], weight beta. */
static void reg_forward(sbr_model *m, state *st, const sbr_batch *b)
{
    sbr_nn_ctx *ctx = &m->ctx;
    acts *a = &st->a;
    int B = b->B, L = b->L, BL = B * L, U = st->U, P = U * (U - 1) / 2;
    real *ab = a->c + (size_t)P * B, *cs = a->cs, *cm = cs + B, *t1 = cs + 2 * B,
         *t2 = cs + 3 * B, *t = cs + 4 * B, *xl = cs + 5 * B;
    R(sbr_fill)(m, a->ones, 1, B);
    R(sbr_fill)(m, cs, 0, B);
    for (int u = 0; u < U; u++) { /* a_u masked to the prefix, then normalised over positions */
        size_t o = (size_t)u * BL;
        R(sbr_nn_seq_dot_forward)(ctx, a->am + o, a->a + o, a->ones, b->len, B, L, 1);
        R(sbr_nn_l2norm_forward)(ctx, a->an + o, a->nr + (size_t)u * B, a->am + o, B, L,
                                 (real)1e-12);
    }
    for (int u = 0, p = 0; u < U; u++)
        for (int w = u + 1; w < U; w++, p++) { /* |cos(a_u, a_w)|, summed over the pairs */
            real *cp = a->c + (size_t)p * B, *abp = ab + (size_t)p * B;
            R(sbr_nn_seq_weighted_sum_forward)(ctx, cp, a->an + (size_t)u * BL,
                                               a->an + (size_t)w * BL, b->len, B, L, 1);
            R(sbr_nn_leaky_relu_forward)(ctx, abp, cp, B, -1); /* slope -1: |x| */
            R(sbr_nn_add_forward)(ctx, cs, cs, abp, B);
        }
    R(sbr_nn_scale_forward)(ctx, cm, cs, B, (real)(1.0 / P));
    R(sbr_nn_mul_forward)(ctx, t1, b->flen, cm, B);
    R(sbr_nn_scale_forward)(ctx, t2, cm, B, (real)-st->eta);
    R(sbr_nn_add_forward)(ctx, t, t1, t2, B);
    R(sbr_nn_sigmoid_forward)(ctx, xl, t, B);
    m->xloss = xl;
    m->xloss_w = st->beta;
}

/* Adds beta * dL_DMI / da into da [U, B, L]. */
static void reg_backward(sbr_model *m, state *st, const sbr_batch *b, real *da)
{
    sbr_nn_ctx *ctx = &m->ctx;
    acts *a = &st->a;
    int B = b->B, L = b->L, BL = B * L, U = st->U, P = U * (U - 1) / 2;
    real *cm = a->cs + B, *xl = a->cs + 5 * B;
    reg_grads gr;
    R(sbr_fill)(m, a->rg, 0, (int64_t)cut_reg_grads(&gr, a->rg, B, L, U));
    real *dxl = gr.dxl, *dt = gr.dt, *dt1 = gr.dt1, *dt2 = gr.dt2, *dcm = gr.dcm, *dcs = gr.dcs,
         *dc = gr.dc, *dan = gr.dan, *dam = gr.dam;
    R(sbr_fill)(m, dxl, st->beta, B);
    R(sbr_nn_sigmoid_backward)(ctx, dt, dxl, xl, B);
    R(sbr_nn_add_backward)(ctx, dt1, dt2, dt, B);
    R(sbr_nn_mul_backward)(ctx, NULL, dcm, dt1, b->flen, cm, B);
    R(sbr_nn_scale_backward)(ctx, dcm, dt2, B, (real)-st->eta);
    R(sbr_nn_scale_backward)(ctx, dcs, dcm, B, (real)(1.0 / P));
    for (int u = 0, p = 0; u < U; u++)
        for (int w = u + 1; w < U; w++, p++) {
            real *cp = a->c + (size_t)p * B, *dcp = dc + (size_t)p * B;
            R(sbr_nn_leaky_relu_backward)(ctx, dcp, dcs, cp, B, -1);
            R(sbr_nn_seq_weighted_sum_backward)(ctx, dan + (size_t)u * BL, dan + (size_t)w * BL,
                                                dcp, a->an + (size_t)u * BL,
                                                a->an + (size_t)w * BL, b->len, B, L, 1);
        }
    for (int u = 0; u < U; u++) {
        size_t o = (size_t)u * BL;
        R(sbr_nn_l2norm_backward)(ctx, dam + o, dan + o, a->an + o, a->nr + (size_t)u * B, B, L,
                                  (real)1e-12);
        R(sbr_nn_seq_dot_backward)(ctx, da + o, NULL, dam + o, a->a + o, a->ones, b->len, B, L, 1);
    }
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
    st->reg_on = U > 1 && st->beta > 0;
    if (st->reg_on)
        reg_forward(m, st, b);
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
        reg_backward(m, st, b, da);
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
