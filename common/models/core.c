/* CORE (Hou et al. 2022) as its official code (RUCAIBox/CORE: core_ave.py,
 * core_trm.py, props/) runs it. The session vector is a weighted sum of the
 * clicks' own embeddings, so it stays in the item space:
 *   x_j = sess_dropout(E[i_j])
 *   ave: alpha_j = 1 / len
 *   trm: z = dropout(LN(x + P[0..L-1])), Y = two post-norm self-attention
 *        blocks over z (the mhsa op: causal and key-padding masks, GELU,
 *        eps 1e-12), alpha = softmax_{j < len}(Y_j w)
 *   s = sum_{j < len} alpha_j x_j,   S = normalize(s) / tau
 * scored against the L2-normalised item table (SBR_NEEDS_NORM_ITEMS), after
 * the item dropout on the table in training (m->cand_dropout). Init as the
 * official code: the item table uniform(-1/sqrt(d), 1/sqrt(d)); the trm
 * net's matrices and position table normal(0, 0.02), biases 0, layer-norm
 * gains 1 (--init-scale s: uniform(-s, s) for all). docs/MODELS.md. */
#include "model/body.h"

#include "model/body/mhsa.h"

#define CORE_MAX_LAYERS 8

static const char *const encoders[] = {"trm", "ave", NULL};

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_C("encoder", 0, encoders, "trm: a transformer's weights; ave: the mean"),
    SBR_OPT_R("sess_dropout", 0.2, 0, 0.99, "dropout on the clicks' embeddings"),
    SBR_OPT_R("item_dropout", 0.2, 0, 0.99, "dropout on the candidate table (training)"),
    SBR_OPT_R("temperature", 0.07, 1e-4, 100, "tau: S = normalize(s) / tau"),
    SBR_OPT_I("layers", 2, 1, CORE_MAX_LAYERS, "trm: self-attention blocks"),
    SBR_OPT_I("heads", 2, 1, 64, "trm: attention heads (dim must be a multiple)"),
    SBR_OPT_I("inner", 256, 1, 65536, "trm: the point-wise FFN's hidden size"),
    SBR_OPT_R("hidden_dropout", 0.5, 0, 0.99, "trm: dropout on its input and branches"),
    SBR_OPT_R("attn_dropout", 0.5, 0, 0.99, "trm: dropout on the attention probabilities"),
    {0}};

typedef struct {
    real *pos;          /* [max_len, d] position embeddings (trm), or NULL */
    real *ln_g, *ln_b;  /* [d] the input's layer norm (trm), or NULL */
    real *fn_w;         /* [1, d] the weight of each position (trm; its bias cancels in the
                           softmax), or NULL */
} weights;

typedef struct {
    R(sbr_front_act) front;
    real *X, *Xd;       /* [B L, d] the clicks' embeddings, after the session dropout */
    uint8_t *mask, *zmask; /* [B L, d] the two dropouts' masks */
    real *Z, *Zn, *Zd;  /* [B L, d] trm: x + P, its layer norm, after dropout */
    real *mu, *rstd;    /* [B L] the layer norm's */
    real *Y;            /* [layers, B L, d] each block's output */
    real *act;          /* [layers, mhsa_act_count] */
    real *e, *alpha;    /* [B, L] the positions' scores and weights */
    real *s, *sn, *nrm; /* [B, d] s, normalize(s); [B] ||s|| */
    real *g;            /* the backward's buffers (cut_grads) */
} acts;

typedef struct {
    real *dsn, *ds;            /* [B, d] */
    real *dalpha, *de;         /* [B, L] */
    real *dXd, *dX, *dY, *dY2; /* [B L, d] */
    real *dZn, *dZ;            /* [B L, d] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    size_t BLd = B * L * d;
    g->dsn = R(sbr_cut)(&c, B * d), g->ds = R(sbr_cut)(&c, B * d);
    g->dalpha = R(sbr_cut)(&c, B * L), g->de = R(sbr_cut)(&c, B * L);
    g->dXd = R(sbr_cut)(&c, BLd), g->dX = R(sbr_cut)(&c, BLd), g->dY = R(sbr_cut)(&c, BLd);
    g->dY2 = R(sbr_cut)(&c, BLd), g->dZn = R(sbr_cut)(&c, BLd), g->dZ = R(sbr_cut)(&c, BLd);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    weights w, g;
    R(sbr_nn_mhsa_w) blk[CORE_MAX_LAYERS], gblk[CORE_MAX_LAYERS];
    acts a;
    sbr_nn_mhsa_cfg cfg;
    int trm, layers;
    double p_sess, p_hidden, p_attn, tau, p_used, pz_used;
} state;

static int check(const sbr_model_cfg *c, sbr_err *e)
{
    int d = sbr_cfg_int(c, "dim"), h = sbr_cfg_int(c, "heads");
    if (sbr_cfg_int(c, "encoder") == 0 && d % h)
        return sbr_errf(e, "core: dim %d is not a multiple of heads %d", d, h);
    return 0;
}

static void declare_trm(sbr_model *m, state *st, int own)
{
    int64_t d = m->d;
    sbr_init_kind init = own ? SBR_INIT_NORMAL : SBR_INIT_UNIFORM;
    double arg = own ? 0.02 : 0;
    weights *w = &st->w;
    sbr_param(m, &w->pos, "pos", SBR_SHAPE(m->max_len, d), init, arg);
    sbr_param(m, &w->ln_g, "ln.g", SBR_SHAPE(d), SBR_INIT_ONE, 0);
    sbr_param(m, &w->ln_b, "ln.b", SBR_SHAPE(d), SBR_INIT_ZERO, 0);
    sbr_param(m, &w->fn_w, "fn.w", SBR_SHAPE(1, d), init, arg);
    for (int i = 0; i < st->layers; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "trm%d", i);
        R(sbr_mhsa_declare)(m, &st->blk[i], &st->gblk[i], prefix, st->cfg.dff, st->cfg.flags,
                            init, arg);
    }
}

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    const sbr_model_cfg *c = &m->cfg;
    st->trm = sbr_cfg_int(c, "encoder") == 0;
    st->layers = st->trm ? sbr_cfg_int(c, "layers") : 0;
    st->p_sess = sbr_cfg_get(c, "sess_dropout");
    st->p_hidden = sbr_cfg_get(c, "hidden_dropout");
    st->p_attn = sbr_cfg_get(c, "attn_dropout");
    st->tau = sbr_cfg_get(c, "temperature");
    m->cand_dropout = sbr_cfg_get(c, "item_dropout");
    st->cfg = (sbr_nn_mhsa_cfg){m->d, sbr_cfg_int(c, "heads"), sbr_cfg_int(c, "inner"),
                                SBR_NN_MHSA_CAUSAL | SBR_NN_MHSA_GELU, 1e-12, 0, 0, 0, 0};
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    if (st->trm) {
        declare_trm(m, st, !(c->init_scale > 0));
    } else {
        sbr_param_none(m, &st->w.pos), sbr_param_none(m, &st->w.ln_g);
        sbr_param_none(m, &st->w.ln_b), sbr_param_none(m, &st->w.fn_w);
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
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, BLd = BL * d;
    size_t k = (size_t)st->layers, t = st->trm ? 1 : 0; /* trm's buffers: 0 for ave */
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    SBR_LAY(l, a->X, BLd), SBR_LAY(l, a->Xd, BLd), SBR_LAY(l, a->mask, BLd);
    SBR_LAY(l, a->zmask, t * BLd), SBR_LAY(l, a->Z, t * BLd), SBR_LAY(l, a->Zn, t * BLd);
    SBR_LAY(l, a->Zd, t * BLd), SBR_LAY(l, a->mu, t * BL), SBR_LAY(l, a->rstd, t * BL);
    SBR_LAY(l, a->Y, k * BLd), SBR_LAY(l, a->act, k * act_count(st, dm->B, dm->L));
    SBR_LAY(l, a->e, BL), SBR_LAY(l, a->alpha, BL);
    SBR_LAY(l, a->s, B * d), SBR_LAY(l, a->sn, B * d), SBR_LAY(l, a->nrm, B);
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    const state *st = SBR_STATE(state, m);
    return st->trm ? R(sbr_nn_mhsa_scratch)(dm->B, dm->L, m->d, st->cfg.dff) : 0;
}

/* trm: alpha [B, L] from the clicks' vectors x. */
static void trm_forward(sbr_model *m, state *st, const sbr_batch *b, const real *x, int train)
{
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    size_t BLd = (size_t)BL * d, na = act_count(st, B, L);
    /* z = x + P[0..L-1] for every row: add_rows over B "positions" of L d */
    R(sbr_nn_add_rows_forward)(ctx, a->Z, x, st->w.pos, 1, B, L * d);
    R(sbr_nn_layernorm_forward)(ctx, a->Zn, a->mu, a->rstd, a->Z, st->w.ln_g, st->w.ln_b, BL, d,
                                (real)st->cfg.eps);
    st->pz_used = train ? st->p_hidden : 0;
    const real *y = R(sbr_dropout)(m, a->Zd, a->zmask, a->Zn, (int)BLd, st->pz_used, train);
    st->cfg.p_attn = train ? st->p_attn : 0;
    st->cfg.p_hidden = train ? st->p_hidden : 0;
    st->cfg.seed = m->drop_seed;
    for (int i = 0; i < st->layers; i++) {
        st->cfg.offset = sbr_drop_take(m, R(sbr_nn_mhsa_rng_count)(B, L, d, st->cfg.nh), train);
        R(sbr_nn_mhsa_forward)(ctx, a->Y + i * BLd, a->act + i * na, y, b->len, &st->blk[i], B, L,
                               &st->cfg);
        y = a->Y + i * BLd;
    }
    R(sbr_nn_linear_forward)(ctx, a->e, y, st->w.fn_w, NULL, BL, d, 1);
    R(sbr_nn_masked_softmax_forward)(ctx, a->alpha, a->e, b->len, B, L);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BLd = B * L * d;
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    st->p_used = train ? st->p_sess : 0;
    const real *x = R(sbr_dropout)(m, a->Xd, a->mask, a->X, BLd, st->p_used, train);
    if (st->trm) {
        trm_forward(m, st, b, x, train);
        R(sbr_nn_seq_weighted_sum_forward)(ctx, a->s, a->alpha, x, b->len, B, L, d);
    } else {
        R(sbr_nn_seq_mean_forward)(ctx, a->s, x, b->len, B, L, d);
    }
    R(sbr_nn_l2norm_forward)(ctx, a->sn, a->nrm, a->s, B, d, (real)1e-12);
    R(sbr_nn_scale_forward)(ctx, Sv, a->sn, B * d, (real)(1 / st->tau));
}

/* trm: from dalpha, the net's gradients and dx += its part. */
static void trm_backward(sbr_model *m, state *st, const sbr_batch *b, grads *gr, real *dx)
{
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    size_t BLd = (size_t)BL * d, na = act_count(st, B, L);
    R(sbr_nn_masked_softmax_backward)(ctx, gr->de, gr->dalpha, a->alpha, b->len, B, L);
    const real *ylast = a->Y + (st->layers - 1) * BLd;
    R(sbr_nn_linear_backward)(ctx, gr->dY, st->g.fn_w, NULL, gr->de, ylast, st->w.fn_w, BL, d, 1);
    real *dy = gr->dY, *dxb = gr->dY2;
    for (int i = st->layers - 1; i >= 0; i--) {
        const real *x = i ? a->Y + (i - 1) * BLd : (st->pz_used > 0 ? a->Zd : a->Zn);
        R(sbr_fill)(m, dxb, 0, (int64_t)BLd);
        R(sbr_nn_mhsa_backward)(ctx, dxb, &st->gblk[i], dy, a->act + i * na, x, b->len,
                                &st->blk[i], B, L, &st->cfg);
        real *t = dy;
        dy = dxb, dxb = t;
    }
    const real *dzn = R(sbr_dropout_backward)(m, gr->dZn, dy, a->zmask, (int)BLd, st->pz_used);
    R(sbr_nn_layernorm_backward)(ctx, gr->dZ, st->g.ln_g, st->g.ln_b, dzn, a->Z, a->mu, a->rstd,
                                 st->w.ln_g, BL, d);
    R(sbr_nn_add_rows_backward)(ctx, dx, st->g.pos, gr->dZ, 1, B, L * d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BLd = B * L * d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d));
    R(sbr_nn_scale_backward)(ctx, gr.dsn, dSv, B * d, (real)(1 / st->tau));
    R(sbr_nn_l2norm_backward)(ctx, gr.ds, gr.dsn, a->sn, a->nrm, B, d, (real)1e-12);
    const real *x = st->p_used > 0 ? a->Xd : a->X;
    if (st->trm) {
        R(sbr_nn_seq_weighted_sum_backward)(ctx, gr.dalpha, gr.dXd, gr.ds, a->alpha, x, b->len,
                                            B, L, d);
        trm_backward(m, st, b, &gr, gr.dXd);
    } else {
        R(sbr_nn_seq_mean_backward)(ctx, gr.dXd, gr.ds, b->len, B, L, d);
    }
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, gr.dX, gr.dXd, a->mask, BLd, st->p_used));
}

SBR_MODEL_DEF(core) = {
    .name = "core",
    .about = "CORE: the clicks' embeddings weighted (mean or transformer), cosine scores / tau",
    .paper = "Hou et al., CORE: Simple and Effective Session-based Recommendation within "
             "Consistent Representation Space, SIGIR 2022 (as its official code runs it)",
    .needs = SBR_NEEDS_NORM_ITEMS,
    .front_seq = 1,
    .opts = opts,
    .state_size = sizeof(state),
    .check = check,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
