/* ProxySR (Cho et al. 2021) as its paper and official code (main.py,
 * model.py) define it; docs/MODELS.md says where ours differs and why.
 *
 * Proxy selection, on the clicks' embeddings x_j plus positions P^P (counted
 * from the last click, as the official code indexes them):
 *   alpha = W2 mean_j LeakyReLU_0.1(W1 dropout(x_j + P^P_j))   (no biases;
 *           the mean is taken before W2, the same number)
 *   pi = softmax(alpha / tau),  tau = max(T0 (TE/T0)^(e/E), TE) at epoch e
 *   p = normalize(pi P) * (pi . |P_j|)    (the proxy, rescaled)
 *   v = normalize(pi V)                   (its hyperplane's unit normal)
 * Short-term interest: one self-attention layer (ReLU on Q and K, no V
 * projection, causal, residual; the mhsa op's PROXYSR layout) over
 * x_j + P^S_j (positions counted back from the last click, as the paper
 * says), then s = W_S2 ReLU(W_S1 z_last + b1) + b2.
 * The session: q = p + s_perp, s_perp = s - (v.s) v; an item's distance
 * |q - I_perp|^2 over the whole catalogue in two GEMMs (the proxy ops),
 * trained with the margin loss over the 100 largest violations (mean over
 * the 100 slots) + lambda_dist dist(target) [+ lambda_orth |v.p| / |p|];
 * the items nearest are recommended (score = -distance). Items, proxies,
 * positions stay in the unit ball and V's rows on the unit sphere
 * (sbr_param_max_norm, after every update). */
#include "model/body.h"

#include "model/body/mhsa.h"
#include "model/body/proxysel.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(128),
    SBR_OPT_I("max_len", 50, 1, 100000, "keep the last N clicks (the positions' table size)"),
    SBR_OPT_I("proxies", 300, 1, 100000, "K: proxies to select from"),
    SBR_OPT_R("margin", 0.1, 0, 100, "m of the margin loss"),
    SBR_OPT_I("violators", 100, 1, 100000, "the largest violations the loss keeps"),
    SBR_OPT_R("lambda_dist", 0.2, 0, 100, "weight of the target's distance in the loss"),
    SBR_OPT_R("lambda_orth", 0, 0, 100, "weight of |v.p| / |p| (proxy off its hyperplane)"),
    SBR_OPT_R("t0", 3, 1e-6, 1e6, "the selection's temperature at epoch 0"),
    SBR_OPT_R("te", 0.01, 1e-6, 1e6, "its floor, reached at epoch E"),
    SBR_OPT_I("anneal_epochs", 10, 1, 100000, "E: the epochs tau takes from t0 to te"),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the selection's input and the attention"),
    SBR_OPT_I("users", 0, 0, 1, "1: a learnable bias per logged-in user on the proxy logits"),
    SBR_OPT_R("user_fraction", 1, 0, 1, "the fraction of users who log in (by a hash of the id)"),
    {0}};

typedef struct {
    real *pos_s;     /* [max_len, d] the short-term encoder's positions */
    real *ws1, *bs1; /* [d, d], [d] its FFN */
    real *ws2, *bs2; /* [d, d], [d] */
} weights;

typedef struct {
    R(sbr_front_act) front;
    real *X;                     /* [B L, d] the clicks' embeddings */
    real *Xs, *Z, *act;          /* [B L, d] x + P^S, attention out; mhsa's saved */
    real *zl, *t1, *r1, *s, *sp; /* [B, d] each: z_last, FFN, s, s_perp */
    real *orth, *wo;             /* [B] |v . u|, the term's weights (lambda_orth) */
    real *dv;                    /* [B, d] the scoring's gradient of v */
    int32_t *kept;               /* [B, k] the loss's kept items */
    real *kscore, *dpos;         /* [B, k], [B] */
    real *g;                     /* the backward's buffers (cut_grads) */
} acts;

typedef struct {
    real *dsp, *ds, *dr1, *dt1, *dzl, *dp, *du; /* [B, d] */
    real *dZ, *dXs, *dX;                        /* [B L, d] */
} grads;

typedef struct {
    R(sbr_front) front;
    R(sbr_proxysel) sel;
    weights w, g;
    R(sbr_nn_mhsa_w) san, gsan;
    acts a;
    sbr_nn_mhsa_cfg cfg;
    int k;
    double p_drop, lambda_orth;
} state;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    size_t Bd = B * d, BLd = B * L * d;
    g->dsp = R(sbr_cut)(&c, Bd), g->ds = R(sbr_cut)(&c, Bd), g->dr1 = R(sbr_cut)(&c, Bd);
    g->dt1 = R(sbr_cut)(&c, Bd), g->dzl = R(sbr_cut)(&c, Bd), g->dp = R(sbr_cut)(&c, Bd);
    g->du = R(sbr_cut)(&c, Bd), g->dZ = R(sbr_cut)(&c, BLd), g->dXs = R(sbr_cut)(&c, BLd);
    g->dX = R(sbr_cut)(&c, BLd);
    return c.n;
}

static int check(const sbr_model_cfg *c, sbr_err *e)
{
    if (sbr_cfg_int(c, "users") && c->n_users < 1)
        return sbr_errf(e, "proxysr --users 1: no user is known (the training sessions carry "
                           "no user ids, or --user-fraction kept none)");
    return 0;
}

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    const sbr_model_cfg *c = &m->cfg;
    int64_t d = m->d, P = m->max_len;
    st->k = sbr_cfg_int(c, "violators");
    st->p_drop = sbr_cfg_get(c, "dropout");
    st->lambda_orth = sbr_cfg_get(c, "lambda_orth");
    st->cfg = (sbr_nn_mhsa_cfg){m->d, 1, m->d, SBR_NN_MHSA_PROXYSR | SBR_NN_MHSA_CAUSAL, 1e-12,
                                0, 0, 0, 0};
    int own = !(c->init_scale > 0); /* the official init; else uniform(-s, s) for all */
    sbr_init_kind emb = own ? SBR_INIT_NORMAL : SBR_INIT_UNIFORM;
    double ea = own ? 0.01 : 0;
    R(sbr_front_declare)(m, &st->front);
    if (own)
        sbr_param_init(m, m->p_items, SBR_INIT_NORMAL, 0.01);
    sbr_param_max_norm(m, m->p_items, 1, 0);
    R(sbr_proxysel_declare)(m, &st->sel, emb, ea, own ? 1.0 : 0);
    weights *w = &st->w;
    sbr_weights(m, w, &st->g, sizeof *w);
    sbr_param_max_norm(m, sbr_param(m, &w->pos_s, "pos_s", SBR_SHAPE(P, d), emb, ea), 1, 0);
    sbr_param(m, &w->ws1, "short.w1", SBR_SHAPE(d, d), SBR_INIT_UNIFORM, 0);
    sbr_param(m, &w->bs1, "short.b1", SBR_SHAPE(d), SBR_INIT_UNIFORM, 0);
    sbr_param(m, &w->ws2, "short.w2", SBR_SHAPE(d, d), SBR_INIT_UNIFORM, 0);
    sbr_param(m, &w->bs2, "short.b2", SBR_SHAPE(d), SBR_INIT_UNIFORM, 0);
    R(sbr_mhsa_declare)(m, &st->san, &st->gsan, "san", m->d, st->cfg.flags, SBR_INIT_UNIFORM, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, BLd = BL * d, Bd = B * d;
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    R(sbr_proxysel_layout)(m, &st->sel, l, dm);
    SBR_LAY(l, a->X, BLd), SBR_LAY(l, a->Xs, BLd), SBR_LAY(l, a->Z, BLd);
    SBR_LAY(l, a->act, R(sbr_nn_mhsa_act_count)(dm->B, dm->L, m->d, 1, m->d));
    SBR_LAY(l, a->zl, Bd), SBR_LAY(l, a->t1, Bd), SBR_LAY(l, a->r1, Bd);
    SBR_LAY(l, a->s, Bd), SBR_LAY(l, a->sp, Bd), SBR_LAY(l, a->orth, B), SBR_LAY(l, a->wo, B);
    SBR_LAY(l, a->dv, Bd), SBR_LAY(l, a->kept, B * st->k), SBR_LAY(l, a->kscore, B * st->k);
    SBR_LAY(l, a->dpos, B), SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_nn_mhsa_scratch)(dm->B, dm->L, m->d, m->d);
}

/* s [B, d]: the short-term interest. */
static void short_forward(sbr_model *m, state *st, const sbr_batch *b, int train)
{
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    R(sbr_nn_embedding_forward)(ctx, a->Xs, st->w.pos_s, b->rpos, BL, m->max_len, d, -1);
    R(sbr_nn_add_forward)(ctx, a->Xs, a->Xs, a->X, BL * d);
    st->cfg.p_attn = 0;
    st->cfg.p_hidden = train ? st->p_drop : 0;
    st->cfg.seed = m->drop_seed;
    st->cfg.offset = sbr_drop_take(m, R(sbr_nn_mhsa_rng_count)(B, L, d, 1), train);
    R(sbr_nn_mhsa_forward)(ctx, a->Z, a->act, a->Xs, b->len, &st->san, B, L, &st->cfg);
    R(sbr_nn_embedding_forward)(ctx, a->zl, a->Z, b->last, B, BL, d, -1);
    R(sbr_nn_linear_forward)(ctx, a->t1, a->zl, st->w.ws1, st->w.bs1, B, d, d);
    R(sbr_nn_relu_forward)(ctx, a->r1, a->t1, B * d);
    R(sbr_nn_linear_forward)(ctx, a->s, a->r1, st->w.ws2, st->w.bs2, B, d, d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d;
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    R(sbr_proxysel_forward)(m, &st->sel, b, a->X, train);
    short_forward(m, st, b, train);
    R(sbr_nn_hyperplane_forward)(ctx, a->sp, a->s, st->sel.a.v, B, d);
    R(sbr_nn_add_forward)(ctx, Sv, st->sel.a.p, a->sp, B * d);
    if (st->lambda_orth > 0) { /* |v . p| / |p| = |v . u| */
        R(sbr_nn_row_dot_forward)(ctx, a->orth, st->sel.a.v, st->sel.a.u, B, d, 1);
        m->xloss = a->orth;
        m->xloss_w = st->lambda_orth / B;
    }
}

static void short_backward(sbr_model *m, state *st, const sbr_batch *b, grads *gr)
{
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    R(sbr_nn_linear_backward)(ctx, gr->dr1, st->g.ws2, st->g.bs2, gr->ds, a->r1, st->w.ws2, B, d,
                              d);
    R(sbr_nn_relu_backward)(ctx, gr->dt1, gr->dr1, a->t1, B * d);
    R(sbr_nn_linear_backward)(ctx, gr->dzl, st->g.ws1, st->g.bs1, gr->dt1, a->zl, st->w.ws1, B, d,
                              d);
    R(sbr_nn_embedding_backward)(ctx, gr->dZ, gr->dzl, b->last, B, BL, d, -1);
    R(sbr_nn_mhsa_backward)(ctx, gr->dXs, &st->gsan, gr->dZ, a->act, a->Xs, b->len, &st->san, B,
                            L, &st->cfg);
    R(sbr_nn_add_backward)(ctx, gr->dX, NULL, gr->dXs, BL * d);
    R(sbr_nn_embedding_backward)(ctx, st->g.pos_s, gr->dXs, b->rpos, BL, m->max_len, d, -1);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, b->L, d));
    R(sbr_nn_add_backward)(ctx, gr.dp, gr.dsp, dSv, B * d); /* q = p + s_perp */
    R(sbr_nn_hyperplane_backward)(ctx, gr.ds, a->dv, gr.dsp, a->s, st->sel.a.v, B, d);
    if (st->lambda_orth > 0) { /* the term's gradient: lambda_orth / B per row */
        R(sbr_fill)(m, a->wo, st->lambda_orth / B, B);
        R(sbr_nn_row_dot_backward)(ctx, a->dv, gr.du, a->wo, st->sel.a.v, st->sel.a.u, B, d, 1);
    }
    short_backward(m, st, b, &gr);
    R(sbr_proxysel_backward)(m, &st->sel, b, gr.dp, a->dv, st->lambda_orth > 0 ? gr.du : NULL,
                             gr.dX);
    R(sbr_front_backward)(m, &st->front, &a->front, gr.dX);
}

/* --- the scoring hook: distances instead of S . E ------------------------------- */

static sbr_nn_proxy_loss_cfg loss_cfg(const sbr_model *m, const state *st)
{
    int k = st->k, slots = k < m->cfg.n_items - 1 ? k : m->cfg.n_items - 1;
    return (sbr_nn_proxy_loss_cfg){sbr_cfg_get(&m->cfg, "margin"), 1.0 / (slots > 0 ? slots : 1),
                                   sbr_cfg_get(&m->cfg, "lambda_dist"), k};
}

static size_t score_scratch(const sbr_model *m, const sbr_dims *dm, int chunk, int K)
{
    const state *st = SBR_STATE(state, m);
    sbr_nn_scoring sc = {dm->B, 1, m->cfg.n_items, m->d, chunk, 0};
    size_t a = R(sbr_nn_proxy_loss_scratch)(sc, st->k), t = R(sbr_nn_proxy_topk_scratch)(sc, K);
    return a > t ? a : t;
}

/* The margin loss of every row (lse: 0, there is no softmax), its gradient
 * into dS, dE and the normals' dv, which backward takes on. */
static void score_train(sbr_model *m, const sbr_batch *b, const sbr_score_call *c)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    int B = b->B, d = m->d;
    sbr_nn_scoring sc = {B, 1, m->cfg.n_items, d, c->chunk, 0};
    R(sbr_nn_proxy_in) in = {c->S, st->sel.a.v, c->E};
    R(sbr_nn_proxy_kept) kp = {a->kept, a->kscore, a->dpos};
    sbr_nn_proxy_loss_cfg cf = loss_cfg(m, st);
    R(sbr_nn_proxy_loss_forward)(&m->ctx, c->loss, &kp, &in, b->target, &cf, sc);
    R(sbr_fill)(m, c->lse, 0, B);
    R(sbr_fill)(m, a->dv, 0, (int64_t)B * d);
    R(sbr_nn_proxy_grad) g = {c->dS, a->dv, c->dE};
    R(sbr_nn_proxy_loss_backward)(&m->ctx, &g, c->dloss, &kp, &in, b->target, &cf, sc);
}

static void score_topk(sbr_model *m, const sbr_batch *b, const sbr_score_call *c)
{
    state *st = SBR_STATE(state, m);
    sbr_nn_scoring sc = {b->B, 1, m->cfg.n_items, m->d, c->chunk, 0};
    R(sbr_nn_proxy_in) in = {c->S, st->sel.a.v, c->E};
    R(sbr_nn_proxy_topk)(&m->ctx, c->idx, c->score, &in, c->K, c->excl_off, c->excl, sc);
}

static const sbr_model_scoring scoring = {0, score_scratch, score_train, score_topk};

static const sbr_preset presets[] = {
    {"paper", "dim=128 proxies=300 margin=0.1 lambda_dist=0.2 lambda_orth=0 max_len=50",
     "the official main.py's defaults (lr 2e-4, batch 64 are sbr-train's --lr, --batch)"},
    {0}};

SBR_MODEL_DEF(proxysr) = {
    .name = "proxysr",
    .about = "ProxySR: a selected proxy plus the short-term interest, nearest items by distance",
    .paper = "Cho et al., Unsupervised Proxy Selection for Session-based Recommender Systems, "
             "SIGIR 2021 (its paper and official code)",
    .needs = 0,
    .front_seq = 1,
    .opts = opts,
    .presets = presets,
    .state_size = sizeof(state),
    .check = check,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
    .score = &scoring,
};
