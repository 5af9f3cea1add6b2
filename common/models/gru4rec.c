/* GRU4Rec (Hidasi et al. 2016) as RecBole and the SR-GNN lineage's tables run
 * it: item embeddings -> dropout -> one GRU layer -> last hidden state ->
 * linear to d -> full-catalogue softmax (docs/MODELS.md). */
#include "model/body.h"

#include "model/body/gru.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_I("hidden", 100, 1, 4096, "the GRU's hidden size H"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0.25, 0, 0.99, "dropout on the input embeddings"),
    {0}};

typedef struct {
    R(sbr_nn_gru_w) gru; /* w_ih [3H, d], b_ih [3H], w_hh [3H, H], b_hh [3H] */
    real *out_w;         /* [d, H] */
    real *out_b;         /* [d] */
} weights;

typedef struct {
    R(sbr_front_act) front; /* the front's use on the clicks */
    real *X, *Xd;           /* [B L, d] the clicks' vectors; after dropout */
    uint8_t *mask;          /* [B L, d] */
    real *xin;              /* the GRU's input: Xd, or X without dropout */
    R(sbr_nn_gru_out) gru;  /* hs, ghn [B, L, H], gates [B, L, 3H], hlast [B, H] */
    real *dhl;              /* [B, H] the last hidden state's gradient */
    real *dXd, *dX;         /* [B L, d] */
} acts;

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
    int H;
    double p, p_used;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int64_t d = m->d, H = st->H = sbr_cfg_int(&m->cfg, "hidden");
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->p = sbr_cfg_get(&m->cfg, "dropout");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    R(sbr_gru_declare)(m, &w->gru, "gru", d, H);
    sbr_param(m, &w->out_w, "out.w", SBR_SHAPE(d, H), u, 0);
    sbr_param(m, &w->out_b, "out.b", SBR_SHAPE(d), u, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t BL = (size_t)dm->B * dm->L, d = (size_t)m->d, H = (size_t)st->H;
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    SBR_LAY(l, a->X, BL * d), SBR_LAY(l, a->Xd, BL * d), SBR_LAY(l, a->mask, BL * d);
    SBR_LAY(l, a->gru.hs, BL * H), SBR_LAY(l, a->gru.ghn, BL * H);
    SBR_LAY(l, a->gru.gates, BL * 3 * H), SBR_LAY(l, a->gru.hlast, dm->B * H);
    SBR_LAY(l, a->dhl, dm->B * H);
    SBR_LAY(l, a->dXd, BL * d), SBR_LAY(l, a->dX, BL * d);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_nn_gru_scratch)(dm->B, dm->L, SBR_STATE(state, m)->H);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    int B = b->B, L = b->L, d = m->d, H = st->H, BLd = B * L * d;
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    st->p_used = train ? st->p : 0;
    a->xin = R(sbr_dropout)(m, a->Xd, a->mask, a->X, BLd, st->p_used, train);
    R(sbr_nn_gru_forward)(&m->ctx, &a->gru, a->xin, b->len, NULL, &w->gru,
                          (sbr_nn_seq_shape){B, L, d, H});
    R(sbr_nn_linear_forward)(&m->ctx, Sv, a->gru.hlast, w->out_w, w->out_b, B, H, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    int B = b->B, L = b->L, d = m->d, H = st->H, BLd = B * L * d;
    R(sbr_fill)(m, a->dhl, 0, (int64_t)B * H);
    R(sbr_fill)(m, a->dXd, 0, BLd);
    R(sbr_fill)(m, a->dX, 0, BLd);
    R(sbr_nn_linear_backward)(&m->ctx, a->dhl, g->out_w, g->out_b, dSv, a->gru.hlast, w->out_w, B,
                              H, d);
    R(sbr_nn_gru_backward)(&m->ctx, a->dXd, NULL, &g->gru, NULL, a->dhl, &a->gru, a->xin, b->len,
                           NULL, &w->gru, (sbr_nn_seq_shape){B, L, d, H});
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, a->dX, a->dXd, a->mask, BLd, st->p_used));
}

SBR_MODEL_DEF(gru4rec) = {
    .name = "gru4rec",
    .about = "GRU4Rec: one GRU layer over the clicks, its last state mapped to d",
    .paper = "Hidasi et al., Session-based recommendations with recurrent neural networks, "
             "ICLR 2016 (as RecBole runs it)",
    .opts = opts,
    .state_size = sizeof(state),
    .front_seq = 1,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
