/* NP-MiSR (Bao et al. 2025; docs/MODELS.md): a neural process over similar
 * sessions, on any session encoder (a wrapper, model/def.h: "npmisr" runs
 * GCE-GNN, "npmisr-ENC" the model ENC). With x = the encoder's session
 * vector and y the embedding of a next item, for each sample (target pair):
 *   context  C best pairs of the pool by cos(x_T, x_c), never the sample's
 *            own session's (model/pool.c: one pair per drawn training session);
 *            with --np-causal 1 (default) a training sample's from the sessions
 *            before its own only, as a test sample's are
 *   r_C      = mean_c R([x_c ; y_c])            R, L: Linear-ReLU-Linear
 *   s_C      = mean_c L([x_c ; y_c]);  s_T = (C s_C + L([x_T ; y_T])) / (C + 1)
 *   mu, sig  = W_mu s + b,  0.1 + 0.9 softplus(W_sig s + b): prior from s_C,
 *              posterior from s_T (training only)
 *   z_k      = mu + sig eps_k, k = 1..K (training: the posterior, eps per row;
 *              evaluation: the prior, the same K draws for every row)
 *   S        = mean_k D([x_T ; r_C ; z_k])      D: Linear-ReLU-Linear
 *              (--np-residual 1, not the paper's: x_T + that)
 * scored against the item table like every model; loss CE + beta KL(post || prior)
 * (the model's own term, m->xloss: beta / B per row, a mean over the batch). */
#include "model/body.h"

#include "model/body/np.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_I("np_samples", 10, 1, 1000, "K: latent samples per session, decoded and averaged"),
    SBR_OPT_R("np_pool", 0.1, 1e-6, 1, "T: the fraction of training sessions whose pairs form the pool"),
    SBR_OPT_I("np_context", 10, 1, 4096, "C: the pool pairs most similar to a session (its context)"),
    SBR_OPT_R("np_beta", 1, 0, 1000, "beta: the weight of KL(posterior || prior) in the loss"),
    SBR_OPT_I("np_latent", 100, 1, 4096, "the latent size (of z)"),
    SBR_OPT_I("np_refresh", 1000, 0, 1 << 30, "recompute the pool's vectors every N training steps too (0: after every epoch only)"),
    SBR_OPT_I("np_causal", 1, 0, 1, "1: a training sample's context from the sessions before its own only, as a test sample's"),
    SBR_OPT_I("np_residual", 0, 0, 1, "1: S = x_T + mean_k D(...), the encoder's vector kept (not the paper's)"),
    {0}};

typedef struct {
    R(sbr_mlp2_w) det, lat; /* R and L, in = 2d */
    R(sbr_gauss_head_w) head; /* mu and sigma, [dz, d] */
    real *d1_w, *d1_b;    /* [d, 2d], [d]: D's first layer on [x_T ; r_C] */
    real *d1z_w;          /* [d, dz]: ... and on z_k */
    real *d2_w, *d2_b;    /* [d, d], [d] */
} weights;

typedef struct {
    real *x;               /* [B, d] the encoder's session vectors */
    R(sbr_np_ctx_a) c;     /* the context: its pool rows, items, pairs */
    R(sbr_mlp2_a) cr, cl;          /* [B C, d]: R and L on them */
    real *r2, *l2;         /* [B C, d] their outputs */
    real *rc, *sc;         /* [B, d] r_C, s_C */
    real *yt, *pt, *lt;    /* [B, d], [B, 2d], [B, d]: the target pair, L of it */
    R(sbr_mlp2_a) tl;              /* [B, d] */
    real *sa, *sb, *st;    /* [B, d]: the two parts of s_T, s_T */
    R(sbr_gauss_a) pri, post;     /* [B, dz] each */
    real *z, *eps;         /* [B, K, dz] */
    real *kl;              /* [B] */
    real *xr, *a1;         /* [B, 2d], [B, d]: [x_T ; r_C], D's first layer on it */
    real *zl;              /* [B K, d] ... on z_k */
    R(sbr_mlp2_a) dec;             /* [B K, d] */
    real *h2;              /* [B K, d] the K decoded vectors */
    real *spread;          /* [B] evaluation: their mean squared distance from S */
    R(sbr_spread_work) sw; /* its work: [B, d], [B K, d], [B K] */
    real *g;               /* the gradient buffers (grads), zeroed together */
} acts;

typedef struct {
    real *dx, *dpc, *dyc, *dr2, *dl2, *dcrh, *dcrha, *dclh, *dclha; /* context: as in acts */
    real *drc, *dsc, *dyt, *dpt, *dlt, *dtlh, *dtlha, *dst;         /* target */
    real *dmu_p, *dsp_p, *dpre_p, *dsig_p, *dmu_q, *dsp_q, *dpre_q, *dsig_q; /* [B, dz] */
    real *dz, *dkl, *dxr, *da1, *dzl, *ddh, *ddha, *dh2;
} grads;

typedef struct {
    weights w, g;
    acts a;
    int K, C, dz, residual, causal;
    double beta;
} state;

static size_t cut_grads(grads *g, real *base, size_t B, size_t C, size_t K, size_t d,
                        size_t dz)
{
    R(sbr_carve) c = {base, 0};
    size_t BC = B * C, BK = B * K;
    real **ctx[] = {&g->dpc, &g->dyc, &g->dr2, &g->dl2, &g->dcrh, &g->dcrha, &g->dclh, &g->dclha};
    g->dx = R(sbr_cut)(&c, B * d);
    for (size_t i = 0; i < sizeof ctx / sizeof *ctx; i++)
        *ctx[i] = R(sbr_cut)(&c, BC * d * (i == 0 ? 2 : 1));
    g->drc = R(sbr_cut)(&c, B * d), g->dsc = R(sbr_cut)(&c, B * d), g->dyt = R(sbr_cut)(&c, B * d);
    g->dpt = R(sbr_cut)(&c, 2 * B * d), g->dlt = R(sbr_cut)(&c, B * d);
    g->dtlh = R(sbr_cut)(&c, B * d), g->dtlha = R(sbr_cut)(&c, B * d), g->dst = R(sbr_cut)(&c, B * d);
    real **gs[] = {&g->dmu_p, &g->dsp_p, &g->dpre_p, &g->dsig_p,
                   &g->dmu_q, &g->dsp_q, &g->dpre_q, &g->dsig_q};
    for (size_t i = 0; i < sizeof gs / sizeof *gs; i++)
        *gs[i] = R(sbr_cut)(&c, B * dz);
    g->dz = R(sbr_cut)(&c, BK * dz), g->dkl = R(sbr_cut)(&c, B);
    g->dxr = R(sbr_cut)(&c, 2 * B * d), g->da1 = R(sbr_cut)(&c, B * d);
    g->dzl = R(sbr_cut)(&c, BK * d), g->ddh = R(sbr_cut)(&c, BK * d);
    g->ddha = R(sbr_cut)(&c, BK * d), g->dh2 = R(sbr_cut)(&c, BK * d);
    return c.n;
}

static int check(const sbr_model_cfg *c, sbr_err *e)
{
    const sbr_model_def *d = sbr_model_def_for(c->model, SBR_PREC_F32);
    return d && d->encoder && d->encoder->check ? d->encoder->check(c, e) : 0;
}

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d, dz;
    st->K = sbr_cfg_int(&m->cfg, "np_samples");
    st->C = sbr_cfg_int(&m->cfg, "np_context");
    st->dz = (int)(dz = sbr_cfg_int(&m->cfg, "np_latent"));
    st->beta = sbr_cfg_get(&m->cfg, "np_beta");
    st->residual = (int)sbr_cfg_get_or(&m->cfg, "np_residual", 0);
    st->causal = (int)sbr_cfg_get_or(&m->cfg, "np_causal", 0);
    m->pool_fraction = sbr_cfg_get(&m->cfg, "np_pool");
    m->pool_need = st->C + 1; /* C pairs besides a sample's own */
    m->pool_refresh_steps = sbr_cfg_int(&m->cfg, "np_refresh");
    sbr_encoder_declare(m);   /* the item table first: the front's */
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    R(sbr_mlp2_declare)(m, &st->w.det, "np.det", 2 * d, d);
    R(sbr_mlp2_declare)(m, &st->w.lat, "np.lat", 2 * d, d);
    R(sbr_gauss_head_declare)(m, &st->w.head, "np", d, dz);
    sbr_init_kind u = SBR_INIT_UNIFORM;
    sbr_param(m, &st->w.d1_w, "np.dec.w1", SBR_SHAPE(d, 2 * d), u, 0);
    sbr_param(m, &st->w.d1_b, "np.dec.b1", SBR_SHAPE(d), u, 0);
    sbr_param(m, &st->w.d1z_w, "np.dec.w1z", SBR_SHAPE(d, dz), u, 0);
    sbr_param(m, &st->w.d2_w, "np.dec.w2", SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &st->w.d2_b, "np.dec.b2", SBR_SHAPE(d), u, 0);
}

static void layout_gauss(sbr_lay *l, R(sbr_gauss_a) *g, size_t n)
{
    SBR_LAY(l, g->mu, n), SBR_LAY(l, g->pre, n), SBR_LAY(l, g->sp, n), SBR_LAY(l, g->sig, n);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, d = (size_t)m->d, BC = B * st->C, BK = B * st->K, dz = st->dz;
    sbr_encoder_layout(m, l, dm);
    SBR_LAY(l, a->x, B * d), SBR_LAY(l, a->c.idx, BC), SBR_LAY(l, a->c.citem, BC);
    SBR_LAY(l, a->c.sim, BC), SBR_LAY(l, a->c.xc, BC * d), SBR_LAY(l, a->c.yc, BC * d);
    SBR_LAY(l, a->c.pc, 2 * BC * d);
    SBR_LAY(l, a->cr.h, BC * d), SBR_LAY(l, a->cr.ha, BC * d), SBR_LAY(l, a->r2, BC * d);
    SBR_LAY(l, a->cl.h, BC * d), SBR_LAY(l, a->cl.ha, BC * d), SBR_LAY(l, a->l2, BC * d);
    SBR_LAY(l, a->rc, B * d), SBR_LAY(l, a->sc, B * d), SBR_LAY(l, a->yt, B * d);
    SBR_LAY(l, a->pt, 2 * B * d), SBR_LAY(l, a->lt, B * d);
    SBR_LAY(l, a->tl.h, B * d), SBR_LAY(l, a->tl.ha, B * d);
    SBR_LAY(l, a->sa, B * d), SBR_LAY(l, a->sb, B * d), SBR_LAY(l, a->st, B * d);
    layout_gauss(l, &a->pri, B * dz), layout_gauss(l, &a->post, B * dz);
    SBR_LAY(l, a->z, BK * dz), SBR_LAY(l, a->eps, BK * dz), SBR_LAY(l, a->kl, B);
    SBR_LAY(l, a->xr, 2 * B * d), SBR_LAY(l, a->a1, B * d), SBR_LAY(l, a->zl, BK * d);
    SBR_LAY(l, a->dec.h, BK * d), SBR_LAY(l, a->dec.ha, BK * d), SBR_LAY(l, a->h2, BK * d);
    SBR_LAY(l, a->spread, B), SBR_LAY(l, a->sw.neg, B * d), SBR_LAY(l, a->sw.dev, BK * d);
    SBR_LAY(l, a->sw.sq, BK);
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, st->C, st->K, d, dz));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    size_t r = R(sbr_np_context_scratch)(m, dm->B, SBR_STATE(const state, m)->C);
    size_t s = sbr_encoder_scratch(m, dm);
    return r > s ? r : s;
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    sbr_nn_ctx *ctx = &m->ctx;
    if (m->encode_only) { /* the pool's vectors (model/pool.c) */
        sbr_encoder_forward(m, b, Sv, 0);
        return;
    }
    int B = b->B, d = m->d, C = st->C, K = st->K, dz = st->dz, BC = B * C, BK = B * K;
    const real *E = sbr_arena_ptr(&m->params, m->p_items);
    sbr_encoder_forward(m, b, a->x, train);
    R(sbr_np_context)(m, &a->c, b, a->x, C, st->causal);
    R(sbr_mlp2_forward)(ctx, &w->det, &a->cr, a->r2, a->c.pc, BC, 2 * d, d);
    R(sbr_nn_seq_mean_forward)(ctx, a->rc, a->r2, NULL, B, C, d);
    R(sbr_mlp2_forward)(ctx, &w->lat, &a->cl, a->l2, a->c.pc, BC, 2 * d, d);
    R(sbr_nn_seq_mean_forward)(ctx, a->sc, a->l2, NULL, B, C, d);
    R(sbr_gauss_head_forward)(ctx, &w->head, &a->pri, a->sc, B, d, dz);
    const R(sbr_gauss_a) *q = &a->pri;
    uint64_t seed = m->cfg.seed ^ 0x6A055ull, at = 0;
    if (train) { /* the posterior, from the context and the target pair */
        R(sbr_nn_embedding_forward)(ctx, a->yt, E, b->target, B, m->cfg.n_items + 1, d, -1);
        R(sbr_nn_concat_forward)(ctx, a->pt, a->x, a->yt, B, d, d);
        R(sbr_mlp2_forward)(ctx, &w->lat, &a->tl, a->lt, a->pt, B, 2 * d, d);
        R(sbr_nn_scale_forward)(ctx, a->sa, a->sc, B * d, (real)C / (real)(C + 1));
        R(sbr_nn_scale_forward)(ctx, a->sb, a->lt, B * d, (real)1 / (real)(C + 1));
        R(sbr_nn_add_forward)(ctx, a->st, a->sa, a->sb, B * d);
        R(sbr_gauss_head_forward)(ctx, &w->head, &a->post, a->st, B, d, dz);
        R(sbr_nn_gauss_kl_forward)(ctx, a->kl, a->post.mu, a->post.sig, a->pri.mu, a->pri.sig, B, dz);
        m->xloss = a->kl;
        m->xloss_w = st->beta / B;
        q = &a->post;
        seed = m->drop_seed, at = sbr_drop_take(m, 2 * (uint64_t)BK * (uint64_t)dz, 1);
    }
    R(sbr_nn_gauss_sample_k_forward)(ctx, a->z, a->eps, q->mu, q->sig, B, K, dz, seed, at, !train);
    R(sbr_nn_concat_forward)(ctx, a->xr, a->x, a->rc, B, d, d);
    R(sbr_nn_linear_forward)(ctx, a->a1, a->xr, w->d1_w, w->d1_b, B, 2 * d, d);
    R(sbr_nn_linear_forward)(ctx, a->zl, a->z, w->d1z_w, NULL, BK, dz, d);
    R(sbr_nn_add_rows_forward)(ctx, a->dec.h, a->zl, a->a1, B, K, d);
    R(sbr_nn_relu_forward)(ctx, a->dec.ha, a->dec.h, BK * d);
    R(sbr_nn_linear_forward)(ctx, a->h2, a->dec.ha, w->d2_w, w->d2_b, BK, d, d);
    R(sbr_nn_seq_mean_forward)(ctx, Sv, a->h2, NULL, B, K, d);
    m->spread = NULL;
    if (!train) { /* how far apart the K samples decode (sbr-infer --uncertainty) */
        R(sbr_np_spread)(ctx, a->spread, &a->sw, a->h2, Sv, B, K, d);
        m->spread = a->spread;
    }
    if (st->residual)
        R(sbr_nn_add_forward)(ctx, Sv, Sv, a->x, B * d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d, C = st->C, K = st->K, dz = st->dz, BC = B * C, BK = B * K;
    grads r;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&r, a->g, B, C, K, d, dz));
    real *dE = sbr_arena_ptr(&m->grads, m->p_items);
    int V = m->cfg.n_items + 1;
    /* the decoder */
    R(sbr_nn_seq_mean_backward)(ctx, r.dh2, dSv, NULL, B, K, d);
    if (st->residual)
        R(sbr_nn_add_backward)(ctx, r.dx, NULL, dSv, B * d);
    R(sbr_nn_linear_backward)(ctx, r.ddha, g->d2_w, g->d2_b, r.dh2, a->dec.ha, w->d2_w, BK, d, d);
    R(sbr_nn_relu_backward)(ctx, r.ddh, r.ddha, a->dec.h, BK * d);
    R(sbr_nn_add_rows_backward)(ctx, r.dzl, r.da1, r.ddh, B, K, d);
    R(sbr_nn_linear_backward)(ctx, r.dz, g->d1z_w, NULL, r.dzl, a->z, w->d1z_w, BK, dz, d);
    R(sbr_nn_linear_backward)(ctx, r.dxr, g->d1_w, g->d1_b, r.da1, a->xr, w->d1_w, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, r.dx, r.drc, r.dxr, B, d, d);
    /* the samples and the KL: the posterior's, and the prior's through the KL */
    R(sbr_nn_gauss_sample_k_backward)(ctx, r.dmu_q, r.dsig_q, r.dz, a->eps, B, K, dz);
    R(sbr_fill)(m, r.dkl, st->beta / B, B);
    R(sbr_nn_gauss_kl_backward)(ctx, r.dmu_q, r.dsig_q, r.dmu_p, r.dsig_p, r.dkl, a->post.mu,
                                a->post.sig, a->pri.mu, a->pri.sig, B, dz);
    R(sbr_gauss_head_backward)(ctx, &w->head, &g->head, &a->post, r.dst, (real *const[4]){r.dmu_q, r.dsp_q, r.dpre_q, r.dsig_q},
                   a->st, B, d, dz);
    R(sbr_gauss_head_backward)(ctx, &w->head, &g->head, &a->pri, r.dsc, (real *const[4]){r.dmu_p, r.dsp_p, r.dpre_p, r.dsig_p},
                   a->sc, B, d, dz);
    /* s_T = (C s_C + L(target)) / (C + 1); the target pair */
    R(sbr_nn_scale_backward)(ctx, r.dsc, r.dst, B * d, (real)C / (real)(C + 1));
    R(sbr_nn_scale_backward)(ctx, r.dlt, r.dst, B * d, (real)1 / (real)(C + 1));
    R(sbr_mlp2_backward)(ctx, &w->lat, &g->lat, &a->tl, r.dpt, (real *const[2]){r.dtlh, r.dtlha}, r.dlt,
                 a->pt, B, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, r.dx, r.dyt, r.dpt, B, d, d);
    R(sbr_nn_embedding_backward)(ctx, dE, r.dyt, b->target, B, V, d, -1);
    /* the context: r_C and s_C; its x are the pool's (no gradient), its y the table's */
    R(sbr_nn_seq_mean_backward)(ctx, r.dr2, r.drc, NULL, B, C, d);
    R(sbr_mlp2_backward)(ctx, &w->det, &g->det, &a->cr, r.dpc, (real *const[2]){r.dcrh, r.dcrha}, r.dr2,
                 a->c.pc, BC, 2 * d, d);
    R(sbr_nn_seq_mean_backward)(ctx, r.dl2, r.dsc, NULL, B, C, d);
    R(sbr_mlp2_backward)(ctx, &w->lat, &g->lat, &a->cl, r.dpc, (real *const[2]){r.dclh, r.dclha}, r.dl2,
                 a->c.pc, BC, 2 * d, d);
    R(sbr_nn_concat_backward)(ctx, NULL, r.dyc, r.dpc, BC, d, d);
    R(sbr_nn_embedding_backward)(ctx, dE, r.dyc, a->c.citem, BC, V, d, 0);
    sbr_encoder_backward(m, b, r.dx);
}

SBR_MODEL_DEF(npmisr) = {
    .name = "npmisr",
    .about = "NP-MiSR: a neural process over the most similar training sessions, on an encoder",
    .paper = "Bao et al., NP-MiSR: Neural Process-based Multi-Interest Learning for "
             "Session-Based Recommendation, 2025 (no official code; docs/MODELS.md)",
    .needs = SBR_NEEDS_POOL,
    .opts = opts,
    .state_size = sizeof(state),
    .check = check,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
    .default_encoder = "gcegnn",
};
