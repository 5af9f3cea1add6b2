/* STAMP (Liu et al. 2018): x_i the prefix's item embeddings, x_t the last
 * one, m_s their mean over the prefix;
 *   alpha_i = w0^T sigmoid(W1 x_i + W2 x_t + W3 m_s + b_a)   (no softmax)
 *   m_a = sum_{i < len} alpha_i x_i
 *   h_s = tanh(W_s m_a + b_s),  h_t = tanh(W_t x_t + b_t)
 *   S = h_s * h_t  (the trilinear score <h_s, h_t, e_i> = S . e_i).
 * W1, W2, W3, w0 have no bias (b_a is the attention's one bias).
 * Initialisation as the paper (section 4.3): weights N(0, 0.05^2), biases 0,
 * item embeddings N(0, 0.002^2); an explicit init_scale > 0 (the gradient
 * checks) gives every parameter uniform(-s, s) instead. Optional dropout on
 * the input embeddings (0 by default: the paper has none). docs/MODELS.md. */
#include "model/body.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the input embeddings (the paper has none)"),
    {0}};

typedef struct {
    real *w1, *w2, *w3; /* [d, d] on x_i, x_t, m_s */
    real *b_a;          /* [d] */
    real *w0;           /* [1, d] */
    real *ws, *bs;      /* [d, d], [d] the MLP cell of m_a */
    real *wt, *bt;      /* [d, d], [d] the MLP cell of x_t */
} weights;

typedef struct {
    R(sbr_front_act) front;
    real *X, *Xd, *sg;  /* [B L, d] the clicks' vectors, after dropout, the gates */
    uint8_t *mask;      /* [B L, d] */
    real *xin;          /* the attention's input: Xd, or X */
    real *alpha;        /* [B, L] */
    real *xt, *ms, *q, *t, *ma, *hs, *ht; /* [B, d] */
    real *g;            /* the gradient buffers (grads), zeroed together */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dhs, *dht, *dps, *dpt, *dma, *dxt, *dq, *dms; /* [B, d] */
    real *dXd, *dX, *dsg, *dpre;                        /* [B L, d] */
    real *dalpha;                                       /* [B, L] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d)
{
    R(sbr_carve) c = {base, 0};
    real **small[] = {&g->dhs, &g->dht, &g->dps, &g->dpt, &g->dma, &g->dxt, &g->dq, &g->dms},
         **big[] = {&g->dXd, &g->dX, &g->dsg, &g->dpre};
    for (size_t k = 0; k < 8; k++)
        *small[k] = R(sbr_cut)(&c, B * d);
    for (size_t k = 0; k < 4; k++)
        *big[k] = R(sbr_cut)(&c, B * L * d);
    g->dalpha = R(sbr_cut)(&c, B * L);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
    double p, p_used;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int64_t d = m->d;
    int paper = !(m->cfg.init_scale > 0);
    sbr_init_kind n = paper ? SBR_INIT_NORMAL : SBR_INIT_UNIFORM,
                  z = paper ? SBR_INIT_ZERO : SBR_INIT_UNIFORM;
    double wa = paper ? 0.05 : 0;
    st->p = sbr_cfg_get(&m->cfg, "dropout");
    R(sbr_front_declare)(m, &st->front);
    if (paper)
        sbr_param_init(m, m->p_items, SBR_INIT_NORMAL, 0.002);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    sbr_param(m, &w->w1, "attn.w1", SBR_SHAPE(d, d), n, wa);
    sbr_param(m, &w->w2, "attn.w2", SBR_SHAPE(d, d), n, wa);
    sbr_param(m, &w->w3, "attn.w3", SBR_SHAPE(d, d), n, wa);
    sbr_param(m, &w->b_a, "attn.b_a", SBR_SHAPE(d), z, 0);
    sbr_param(m, &w->w0, "attn.w0", SBR_SHAPE(1, d), n, wa);
    sbr_param(m, &w->ws, "mlp_s.w", SBR_SHAPE(d, d), n, wa);
    sbr_param(m, &w->bs, "mlp_s.b", SBR_SHAPE(d), z, 0);
    sbr_param(m, &w->wt, "mlp_t.w", SBR_SHAPE(d, d), n, wa);
    sbr_param(m, &w->bt, "mlp_t.b", SBR_SHAPE(d), z, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d;
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    SBR_LAY(l, a->X, BL * d), SBR_LAY(l, a->Xd, BL * d), SBR_LAY(l, a->sg, BL * d);
    SBR_LAY(l, a->mask, BL * d), SBR_LAY(l, a->alpha, BL);
    SBR_LAY(l, a->xt, B * d), SBR_LAY(l, a->ms, B * d), SBR_LAY(l, a->q, B * d);
    SBR_LAY(l, a->t, B * d), SBR_LAY(l, a->ma, B * d), SBR_LAY(l, a->hs, B * d);
    SBR_LAY(l, a->ht, B * d), SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, d));
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    (void)m, (void)dm;
    return 0;
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L, Bd = B * d, BLd = BL * d;
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    st->p_used = train ? st->p : 0;
    real *x = a->xin = R(sbr_dropout)(m, a->Xd, a->mask, a->X, BLd, st->p_used, train);
    /* x_t: row `last` of the [B*L, d] inputs; m_s: the prefix mean */
    R(sbr_nn_embedding_forward)(ctx, a->xt, x, b->last, B, BL, d, -1);
    R(sbr_nn_seq_mean_forward)(ctx, a->ms, x, b->len, B, L, d);
    /* q = W2 x_t + W3 m_s + b_a; sg = sigmoid(W1 x_i + q); alpha = sg w0 */
    R(sbr_nn_linear_forward)(ctx, a->q, a->xt, w->w2, NULL, B, d, d);
    R(sbr_nn_linear_forward)(ctx, a->t, a->ms, w->w3, w->b_a, B, d, d);
    R(sbr_nn_add_forward)(ctx, a->q, a->q, a->t, Bd);
    R(sbr_nn_linear_forward)(ctx, a->sg, x, w->w1, NULL, BL, d, d);
    R(sbr_nn_add_rows_forward)(ctx, a->sg, a->sg, a->q, B, L, d);
    R(sbr_nn_sigmoid_forward)(ctx, a->sg, a->sg, BLd);
    R(sbr_nn_linear_forward)(ctx, a->alpha, a->sg, w->w0, NULL, BL, d, 1);
    R(sbr_nn_seq_weighted_sum_forward)(ctx, a->ma, a->alpha, x, b->len, B, L, d);
    /* the two MLP cells and their product */
    R(sbr_nn_linear_forward)(ctx, a->hs, a->ma, w->ws, w->bs, B, d, d);
    R(sbr_nn_tanh_forward)(ctx, a->hs, a->hs, Bd);
    R(sbr_nn_linear_forward)(ctx, a->ht, a->xt, w->wt, w->bt, B, d, d);
    R(sbr_nn_tanh_forward)(ctx, a->ht, a->ht, Bd);
    R(sbr_nn_mul_forward)(ctx, Sv, a->hs, a->ht, Bd);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, BL = B * L, Bd = B * d;
    size_t BLd = (size_t)BL * d;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d));
    real *dhs = gr.dhs, *dht = gr.dht, *dps = gr.dps, *dpt = gr.dpt, *dma = gr.dma, *dxt = gr.dxt,
         *dq = gr.dq, *dms = gr.dms, *dXd = gr.dXd, *dX = gr.dX, *dsg = gr.dsg, *dpre = gr.dpre,
         *dalpha = gr.dalpha;
    R(sbr_nn_mul_backward)(ctx, dhs, dht, dSv, a->hs, a->ht, Bd);
    R(sbr_nn_tanh_backward)(ctx, dps, dhs, a->hs, Bd);
    R(sbr_nn_tanh_backward)(ctx, dpt, dht, a->ht, Bd);
    R(sbr_nn_linear_backward)(ctx, dma, g->ws, g->bs, dps, a->ma, w->ws, B, d, d);
    R(sbr_nn_linear_backward)(ctx, dxt, g->wt, g->bt, dpt, a->xt, w->wt, B, d, d);
    R(sbr_nn_seq_weighted_sum_backward)(ctx, dalpha, dXd, dma, a->alpha, a->xin, b->len, B, L, d);
    R(sbr_nn_linear_backward)(ctx, dsg, g->w0, NULL, dalpha, a->sg, w->w0, BL, d, 1);
    R(sbr_nn_sigmoid_backward)(ctx, dpre, dsg, a->sg, (int)BLd);
    /* the gradient at W1 x_i is dpre itself: only the row sums go on */
    R(sbr_nn_add_rows_backward)(ctx, NULL, dq, dpre, B, L, d);
    R(sbr_nn_linear_backward)(ctx, dXd, g->w1, NULL, dpre, a->xin, w->w1, BL, d, d);
    R(sbr_nn_linear_backward)(ctx, dxt, g->w2, NULL, dq, a->xt, w->w2, B, d, d);
    R(sbr_nn_linear_backward)(ctx, dms, g->w3, g->b_a, dq, a->ms, w->w3, B, d, d);
    R(sbr_nn_seq_mean_backward)(ctx, dXd, dms, b->len, B, L, d);
    R(sbr_nn_embedding_backward)(ctx, dXd, dxt, b->last, B, BL, d, -1);
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, dX, dXd, a->mask, (int)BLd, st->p_used));
}

SBR_MODEL_DEF(stamp) = {
    .name = "stamp",
    .about = "STAMP: attention over the clicks with the last click and the mean, trilinear",
    .paper = "Liu et al., STAMP: Short-Term Attention/Memory Priority Model for Session-based "
             "Recommendation, KDD 2018",
    .opts = opts,
    .state_size = sizeof(state),
    .front_seq = 1,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
