/* LESSR (Chen and Wong, KDD 2020) as its official code (twchen/lessr,
 * lessr.py) runs it, without its batch norms (docs/MODELS.md). The front
 * embeds the batch's nodes (each prefix's unique items: b->nodes); `layers`
 * (default 3) alternate EOPA over the EOP multigraph and SGAT over the
 * shortcut graph (b->eop; the layers in body/lessr.c), densely connected:
 *   f_0 = X,  f_{l+1} = [layer_l(f_l) ; f_l]   (width (l + 2) d)
 * Readout (AttnReadout) over the session's nodes i, with F = f_layers
 * (width D = (layers + 1) d) and F_last the last click's node:
 *   e_i = w_e . sigmoid(W_u F_i + W_v F_last + b_v),  alpha = softmax_i(e)
 *   r = W_out sum_i alpha_i F_i,   S = W_sr [F_last ; r]   (no biases)
 * Optional dropout on the node embeddings (0: the official model has none). */
#include "model/body.h"

#include <math.h>

#include "model/body/lessr.h"

enum { MAX_LAYERS = 8 };

static const sbr_opt opts[] = {
    SBR_OPT_DIM(32),
    SBR_OPT_I("layers", 3, 1, MAX_LAYERS, "EOPA and SGAT layers, alternating (EOPA first)"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the node embeddings (the official model has none)"),
    {0}};

typedef struct {
    R(sbr_lessr_w) layer[MAX_LAYERS]; /* layer l: input width n = (l + 1) d */
    real *wu;                         /* readout.fc_u [d, D] */
    real *wv, *bv;                    /* readout.fc_v [d, D], [d] */
    real *we;                         /* readout.attn_e [1, d] */
    real *wout;                       /* readout.fc_out [d, D] */
    real *wsr;                        /* fc_sr [d, D + d] */
} weights;

typedef struct {
    R(sbr_front_act) front;             /* the front's use on the nodes */
    real *X, *Xd;                       /* [T, d] node embeddings; after dropout */
    uint8_t *mask;                      /* [T, d] */
    real *f[MAX_LAYERS + 1];            /* f[l] [T, (l + 1) d]: f[0] the input (X or Xd) */
    real *out;                          /* [T, d] a layer's output (before the concat) */
    R(sbr_lessr_act) layer[MAX_LAYERS]; /* what each layer's backward reads */
    real *Fp, *Fl;                      /* [B L, D] nodes as a padded batch, [B, D] last */
    real *sg, *q;                       /* [B L, d], [B, d] the readout's gate */
    real *e, *alpha;                    /* [B L] */
    real *ro, *r, *c;                   /* [B, D], [B, d], [B, D + d] */
    real *g, *gl;                       /* the backward's blocks: grads, a layer's */
} acts;

/* The backward's gradient buffers, cut from one block (base NULL: sized only). */
typedef struct {
    real *dc, *dr, *dro, *dFl, *dq; /* [B, D + d], [B, d], [B, D], [B, D], [B, d] */
    real *dFp, *dsg, *dpre;         /* [B L, D], [B L, d], [B L, d] */
    real *de, *dalpha;              /* [B L] */
    real *df[MAX_LAYERS + 1];       /* df[l] [T, (l + 1) d] */
    real *dout, *dX;                /* [T, d] */
} grads;

static size_t cut_grads(grads *g, real *base, size_t B, size_t L, size_t T, size_t d, int nl)
{
    size_t D = (size_t)(nl + 1) * d;
    R(sbr_carve) c = {base, 0};
    g->dc = R(sbr_cut)(&c, B * (D + d)), g->dr = R(sbr_cut)(&c, B * d);
    g->dro = R(sbr_cut)(&c, B * D), g->dFl = R(sbr_cut)(&c, B * D), g->dq = R(sbr_cut)(&c, B * d);
    g->dFp = R(sbr_cut)(&c, B * L * D), g->dsg = R(sbr_cut)(&c, B * L * d);
    g->dpre = R(sbr_cut)(&c, B * L * d);
    g->de = R(sbr_cut)(&c, B * L), g->dalpha = R(sbr_cut)(&c, B * L);
    for (int l = 0; l <= nl; l++)
        g->df[l] = R(sbr_cut)(&c, T * (size_t)(l + 1) * d);
    g->dout = R(sbr_cut)(&c, T * d), g->dX = R(sbr_cut)(&c, T * d);
    return c.n;
}

typedef struct {
    R(sbr_front) front;
    weights w, g;
    acts a;
    int layers;
    double p, p_used;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    weights *w = &st->w;
    int nl = st->layers = sbr_cfg_int(&m->cfg, "layers");
    int64_t d = m->d, D = (nl + 1) * d;
    double aD = 1 / sqrt((double)D), ad = 1 / sqrt((double)d);
    sbr_init_kind u = SBR_INIT_UNIFORM;
    st->p = sbr_cfg_get(&m->cfg, "dropout");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    for (int l = 0; l < MAX_LAYERS; l++) {
        if (l < nl) {
            R(sbr_lessr_declare)(m, &w->layer[l], l, (l + 1) * m->d);
            continue;
        }
        real **p = (real **)&w->layer[l]; /* a struct of real * only */
        for (size_t k = 0; k < sizeof w->layer[l] / sizeof(real *); k++)
            sbr_param_none(m, &p[k]);
    }
    sbr_param(m, &w->wu, "readout.fc_u.w", SBR_SHAPE(d, D), u, aD);
    sbr_param(m, &w->wv, "readout.fc_v.w", SBR_SHAPE(d, D), u, aD);
    sbr_param(m, &w->bv, "readout.fc_v.b", SBR_SHAPE(d), u, aD);
    sbr_param(m, &w->we, "readout.attn_e.w", SBR_SHAPE(1, d), u, ad);
    sbr_param(m, &w->wout, "readout.fc_out.w", SBR_SHAPE(d, D), u, aD);
    sbr_param(m, &w->wsr, "fc_sr.w", SBR_SHAPE(d, D + d), u, 1 / sqrt((double)(D + d)));
}

static sbr_lessr_dims layer_dims(const sbr_model *m, const sbr_dims *dm, int l)
{
    int BL = dm->B * dm->L;
    /* EOP edges: len - 1 per prefix; shortcut edges: L (L + 1) / 2 */
    return (sbr_lessr_dims){dm->T, BL, (int)((size_t)BL * (dm->L + 1) / 2), (l + 1) * m->d, m->d};
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    int nl = st->layers;
    size_t B = (size_t)dm->B, BL = B * dm->L, d = (size_t)m->d, T = (size_t)dm->T,
           D = (size_t)(nl + 1) * d, gl = 0;
    R(sbr_front_layout)(&st->front, &a->front, l, dm->T);
    SBR_LAY(l, a->X, T * d), SBR_LAY(l, a->Xd, T * d), SBR_LAY(l, a->mask, T * d);
    for (int k = 1; k <= nl; k++)
        SBR_LAY(l, a->f[k], T * (size_t)(k + 1) * d);
    SBR_LAY(l, a->out, T * d);
    for (int k = 0; k < nl; k++) {
        sbr_lessr_dims ld = layer_dims(m, dm, k);
        R(sbr_lessr_layout)(&a->layer[k], l, k, &ld);
        size_t s = R(sbr_lessr_grad_size)(k, &ld);
        gl = s > gl ? s : gl;
    }
    SBR_LAY(l, a->Fp, BL * D), SBR_LAY(l, a->Fl, B * D), SBR_LAY(l, a->sg, BL * d);
    SBR_LAY(l, a->q, B * d), SBR_LAY(l, a->e, BL), SBR_LAY(l, a->alpha, BL);
    SBR_LAY(l, a->ro, B * D), SBR_LAY(l, a->r, B * d), SBR_LAY(l, a->c, B * (D + d));
    SBR_LAY(l, a->g, cut_grads(&(grads){0}, NULL, B, dm->L, T, d, nl));
    SBR_LAY(l, a->gl, gl);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    size_t s = 0;
    for (int k = 0; k < SBR_STATE(state, m)->layers; k++) {
        sbr_lessr_dims ld = layer_dims(m, dm, k);
        size_t x = R(sbr_lessr_scratch)(k, &ld);
        s = x > s ? x : s;
    }
    return s;
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w;
    const sbr_batch_nodes *nd = b->nodes;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T, nl = st->layers, D = (nl + 1) * d;
    R(sbr_front_forward)(m, &st->front, &a->front, a->X, nd->uniq, nd->cuniq, T, b);
    st->p_used = train ? st->p : 0;
    a->f[0] = R(sbr_dropout)(m, a->Xd, a->mask, a->X, T * d, st->p_used, train);
    for (int l = 0; l < nl; l++) {
        int n = (l + 1) * d;
        R(sbr_lessr_forward)(m, l, &a->layer[l], &w->layer[l], a->out, a->f[l], b, n);
        R(sbr_nn_concat_forward)(ctx, a->f[l + 1], a->out, a->f[l], T, d, n);
    }
    /* readout over each row's nodes (slot, n_uniq) with its last node */
    const real *F = a->f[nl];
    R(sbr_nn_session_nodes_forward)(ctx, a->Fp, a->Fl, F, b->eop->slot, nd->last_node,
                                     nd->node_sess, B, L, T, D);
    R(sbr_nn_additive_gate_w) gate = {w->wu, NULL, w->wv, w->bv};
    R(sbr_nn_additive_gate_forward)(ctx, a->sg, a->q, a->Fp, a->Fl, &gate,
                                     (sbr_nn_seq_shape){B, L, D, d});
    R(sbr_nn_linear_forward)(ctx, a->e, a->sg, w->we, NULL, B * L, d, 1);
    R(sbr_nn_masked_softmax_forward)(ctx, a->alpha, a->e, nd->n_uniq, B, L);
    R(sbr_nn_seq_weighted_sum_forward)(ctx, a->ro, a->alpha, a->Fp, nd->n_uniq, B, L, D);
    R(sbr_nn_linear_forward)(ctx, a->r, a->ro, w->wout, NULL, B, D, d);
    R(sbr_nn_concat_forward)(ctx, a->c, a->Fl, a->r, B, D, d);
    R(sbr_nn_linear_forward)(ctx, Sv, a->c, w->wsr, NULL, B, D + d, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    const weights *w = &st->w, *gw = &st->g;
    const sbr_batch_nodes *nd = b->nodes;
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, L = b->L, d = m->d, T = nd->T, nl = st->layers, D = (nl + 1) * d;
    grads g;
    R(sbr_fill)(m, a->g, 0, (int64_t)cut_grads(&g, a->g, B, L, T, d, nl));
    R(sbr_nn_linear_backward)(ctx, g.dc, gw->wsr, NULL, dSv, a->c, w->wsr, B, D + d, d);
    R(sbr_nn_concat_backward)(ctx, g.dFl, g.dr, g.dc, B, D, d);
    R(sbr_nn_linear_backward)(ctx, g.dro, gw->wout, NULL, g.dr, a->ro, w->wout, B, D, d);
    R(sbr_nn_seq_weighted_sum_backward)(ctx, g.dalpha, g.dFp, g.dro, a->alpha, a->Fp, nd->n_uniq,
                                        B, L, D);
    R(sbr_nn_masked_softmax_backward)(ctx, g.de, g.dalpha, a->alpha, nd->n_uniq, B, L);
    R(sbr_nn_linear_backward)(ctx, g.dsg, gw->we, NULL, g.de, a->sg, w->we, B * L, d, 1);
    R(sbr_nn_additive_gate_w) gate = {w->wu, NULL, w->wv, w->bv},
                              dgate = {gw->wu, NULL, gw->wv, gw->bv};
    R(sbr_nn_additive_gate_backward)(ctx, g.dFp, g.dFl, &dgate, g.dpre, g.dq, g.dsg, a->sg, a->Fp,
                                      a->Fl, &gate, (sbr_nn_seq_shape){B, L, D, d});
    R(sbr_nn_session_nodes_backward)(ctx, g.df[nl], g.dFp, g.dFl, b->eop->slot, nd->last_node,
                                      nd->node_sess, B, L, T, D);
    for (int l = nl - 1; l >= 0; l--) {
        int n = (l + 1) * d;
        R(sbr_nn_concat_backward)(ctx, g.dout, g.df[l], g.df[l + 1], T, d, n);
        R(sbr_lessr_backward)(m, l, &a->layer[l], &w->layer[l], &gw->layer[l], g.df[l], g.dout,
                              a->f[l], b, n, a->gl);
        R(sbr_fill)(m, g.dout, 0, (int64_t)T * d);
    }
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, g.dX, g.df[0], a->mask, T * d, st->p_used));
}

SBR_MODEL_DEF(lessr) = {
    .name = "lessr",
    .about = "LESSR: EOPA and SGAT layers over each session's multigraph and shortcut graph",
    .paper = "Chen and Wong, Handling Information Loss of Graph Neural Networks for "
             "Session-based Recommendation, KDD 2020 (as its official code runs it, without "
             "batch norm)",
    .needs = SBR_NEEDS_EOP,
    .opts = opts,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
