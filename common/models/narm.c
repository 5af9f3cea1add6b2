/* NARM (Li et al. 2017) as its official code runs it: item embeddings ->
 * dropout (0.25) -> one GRU layer (hidden H) -> a global encoder c_g = h_last
 * and a local one, additive attention over the valid positions WITHOUT a
 * softmax (official code),
 *   alpha_j = v^T sigmoid(A1 h_last + A2 h_j),  c_l = sum_{j < len} alpha_j h_j,
 * then dropout (0.5) on c = [c_g ; c_l] and the bilinear decoder
 * score_i = e_i^T B c, i.e. S = B c with B: 2H -> d (no bias) scored against
 * the item table. A1, A2, v have no bias (official code). docs/MODELS.md. */
#include "model/body.h"

#include "model/body/gru.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_I("hidden", 100, 1, 4096, "the GRU's hidden size H"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0.25, 0, 0.99, "dropout on the input embeddings"),
    SBR_OPT_R("dropout_hidden", 0.5, 0, 0.99, "dropout on [c_g ; c_l] before the decoder"),
    {0}};

typedef struct {
    R(sbr_nn_gru_w) gru;             /* w_ih [3H, d], b_ih [3H], w_hh [3H, H], b_hh [3H] */
    real *a1, *a2;                   /* [H, H] attention on h_last, on h_j */
    real *v;                         /* [1, H] */
    real *dec;                       /* [d, 2H] the bilinear decoder B */
} weights;

typedef struct {
    R(sbr_front_act) front;
    real *X, *Xd;        /* [B L, d] the clicks' vectors; after dropout */
    uint8_t *mask;       /* [B L, d] */
    real *xin;           /* the GRU's input: Xd, or X */
    R(sbr_nn_gru_out) gru; /* hs, ghn [B, L, H], gates [B, L, 3H], hlast [B, H] */
    real *sg;            /* [B, L, H] attention gates */
    real *alpha;         /* [B, L] */
    real *q1, *cl;       /* [B, H] A1 h_last, c_l */
    real *c, *cd;        /* [B, 2H] [c_g ; c_l], after dropout */
    uint8_t *mask2;      /* [B, 2H] */
    real *cin;           /* the decoder's input: cd, or c */
    real *g;             /* the gradient buffers (grads), zeroed together */
    real *dq1;           /* [B, H] */
} acts;

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
    int H;
    double p_emb, p_hid, p_emb_used, p_hid_used;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int64_t d = m->d, H = st->H = sbr_cfg_int(&m->cfg, "hidden");
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->p_emb = sbr_cfg_get(&m->cfg, "dropout");
    st->p_hid = sbr_cfg_get(&m->cfg, "dropout_hidden");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    R(sbr_gru_declare)(m, &w->gru, "gru", d, H);
    sbr_param(m, &w->a1, "attn.a1", SBR_SHAPE(H, H), u, 0);
    sbr_param(m, &w->a2, "attn.a2", SBR_SHAPE(H, H), u, 0);
    sbr_param(m, &w->v, "attn.v", SBR_SHAPE(1, H), u, 0);
    sbr_param(m, &w->dec, "decoder.b", SBR_SHAPE(d, 2 * H), u, 0);
}

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dcd, *dc;          /* [B, 2H] */
    real *dhl, *dcl;         /* [B, H] */
    real *dXd, *dX;          /* [B L, d] */
    real *dhs, *dsg, *dpre;  /* [B, L, H] */
    real *dalpha;            /* [B, L] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t d, size_t H)
{
    R(sbr_carve) c = {base, 0};
    g->dcd = R(sbr_cut)(&c, 2 * B * H), g->dc = R(sbr_cut)(&c, 2 * B * H);
    g->dhl = R(sbr_cut)(&c, B * H), g->dcl = R(sbr_cut)(&c, B * H);
    g->dXd = R(sbr_cut)(&c, B * L * d), g->dX = R(sbr_cut)(&c, B * L * d);
    g->dhs = R(sbr_cut)(&c, B * L * H), g->dsg = R(sbr_cut)(&c, B * L * H);
    g->dpre = R(sbr_cut)(&c, B * L * H), g->dalpha = R(sbr_cut)(&c, B * L);
    return c.n;
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, H = (size_t)st->H;
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    SBR_LAY(l, a->X, BL * d), SBR_LAY(l, a->Xd, BL * d), SBR_LAY(l, a->mask, BL * d);
    SBR_LAY(l, a->gru.hs, BL * H), SBR_LAY(l, a->gru.ghn, BL * H), SBR_LAY(l, a->sg, BL * H);
    SBR_LAY(l, a->gru.gates, BL * 3 * H), SBR_LAY(l, a->alpha, BL);
    SBR_LAY(l, a->gru.hlast, B * H), SBR_LAY(l, a->q1, B * H), SBR_LAY(l, a->cl, B * H);
    SBR_LAY(l, a->c, B * 2 * H), SBR_LAY(l, a->cd, B * 2 * H), SBR_LAY(l, a->mask2, B * 2 * H);
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, (size_t)dm->L, d, H));
    SBR_LAY(l, a->dq1, B * H);
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
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, H = st->H, BL = B * L;
    /* encoder: embeddings, dropout, GRU */
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    st->p_emb_used = train ? st->p_emb : 0;
    a->xin = R(sbr_dropout)(m, a->Xd, a->mask, a->X, BL * d, st->p_emb_used, train);
    R(sbr_nn_gru_forward)(ctx, &a->gru, a->xin, b->len, NULL, &w->gru,
                          (sbr_nn_seq_shape){B, L, d, H});
    /* local attention: sg = sigmoid(A2 h_j + A1 h_last), alpha = sg v */
    R(sbr_nn_additive_gate_w) gate = {w->a2, NULL, w->a1, NULL};
    sbr_nn_seq_shape sh = {B, L, H, H};
    R(sbr_nn_additive_gate_forward)(ctx, a->sg, a->q1, a->gru.hs, a->gru.hlast, &gate, sh);
    R(sbr_nn_attn_pool_forward)(ctx, a->cl, a->alpha, a->sg, w->v, a->gru.hs, b->len, sh);
    /* decoder: dropout on [c_g ; c_l], S = B c */
    R(sbr_nn_concat_forward)(ctx, a->c, a->gru.hlast, a->cl, B, H, H);
    st->p_hid_used = train ? st->p_hid : 0;
    a->cin = R(sbr_dropout)(m, a->cd, a->mask2, a->c, B * 2 * H, st->p_hid_used, train);
    R(sbr_nn_linear_forward)(ctx, Sv, a->cin, w->dec, NULL, B, 2 * H, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *g = &st->g;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, H = st->H, BL = B * L;
    size_t BH = (size_t)B * H;
    grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&gr, a->g, B, L, d, H));
    real *dcd = gr.dcd, *dc = gr.dc, *dhl = gr.dhl, *dcl = gr.dcl, *dXd = gr.dXd, *dX = gr.dX,
         *dhs = gr.dhs, *dsg = gr.dsg, *dpre = gr.dpre, *dalpha = gr.dalpha;
    R(sbr_fill)(m, a->dq1, 0, (int64_t)BH);
    R(sbr_nn_linear_backward)(ctx, dcd, g->dec, NULL, dSv, a->cin, w->dec, B, 2 * H, d);
    dc = R(sbr_dropout_backward)(m, dc, dcd, a->mask2, B * 2 * H, st->p_hid_used);
    R(sbr_nn_concat_backward)(ctx, dhl, dcl, dc, B, H, H);
    R(sbr_nn_additive_gate_w) gate = {w->a2, NULL, w->a1, NULL}, dgate = {g->a2, NULL, g->a1, NULL};
    sbr_nn_seq_shape sh = {B, L, H, H};
    R(sbr_nn_attn_pool_backward)(ctx, dsg, g->v, dhs, dalpha, dcl, a->alpha, a->sg, w->v,
                                 a->gru.hs, b->len, sh);
    R(sbr_nn_additive_gate_backward)(ctx, dhs, dhl, &dgate, dpre, a->dq1, dsg, a->sg, a->gru.hs,
                                     a->gru.hlast, &gate, sh);
    R(sbr_nn_gru_backward)(ctx, dXd, NULL, &g->gru, dhs, dhl, &a->gru, a->xin, b->len, NULL,
                           &w->gru, (sbr_nn_seq_shape){B, L, d, H});
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, dX, dXd, a->mask, BL * d, st->p_emb_used));
}

SBR_MODEL_DEF(narm) = {
    .name = "narm",
    .about = "NARM: a GRU with a global and an attentive local encoder, bilinear decoder",
    .paper = "Li et al., Neural Attentive Session-based Recommendation, CIKM 2017 (as its "
             "official code runs it)",
    .opts = opts,
    .state_size = sizeof(state),
    .front_seq = 1,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
