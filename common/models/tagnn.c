/* TAGNN (Yu et al. 2020) as its official code (CRIPAC-DIG/TAGNN, model.py)
 * runs it, on SR-GNN's session encoder (body/srgnn.h, the readout's weights
 * softmaxed as the official compute_scores does) plus the target-aware
 * embedding: for every candidate item e_i, over the prefix's click states
 * v_j (j < len),
 *   q_j = W_tgt v_j                          (linear_t, no bias)
 *   beta_ij = softmax_j (e_i . q_j),   s_t(i) = sum_j beta_ij v_j
 *   score(i) = (S + s_t(i)) . e_i = S . e_i + sum_j beta_ij (v_j . e_i)
 * with softmax cross-entropy over items 1..N. Each candidate has its own
 * session vector, so the model scores the catalogue itself (the scoring
 * hook, model/def.h) with the chunked target_score op: never B x N x L. The
 * op works on the batch's real clicks only: the encoder's padded click
 * states [B L, d] are packed into [n, d] (n = sum len, the batch part
 * b->clicks) before it, their gradient unpacked after.
 * Where the official code softmaxes over the whole padded length (padding
 * zeroed, exp(0) in the denominators) we mask both softmaxes to the prefix
 * (docs/MODELS.md). */
#include "model/body.h"

#include "model/body/srgnn.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_I("layers", 1, 1, 64, "gated graph steps"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the node embeddings (the official model has none)"),
    {0}};

typedef struct {
    real *wq; /* linear_t [d, d]: the clicks' keys q_j = W_tgt v_j */
} weights;

typedef struct {
    real *V, *Q;   /* [n, d] the clicks' states packed, and their keys */
    real *dV, *dQ; /* [n, d] the target term's gradients of those */
    real *dhseq;   /* [B L, d] dV unpacked, for the encoder */
} acts;

typedef struct {
    R(sbr_srgnn) enc;
    weights w, g;
    acts a;
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d;
    R(sbr_srgnn_declare)(m, &st->enc, 1);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    sbr_param(m, &st->w.wq, "linear_t.w", SBR_SHAPE(d, d), SBR_INIT_UNIFORM, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    size_t BLd = (size_t)dm->B * dm->L * m->d;
    R(sbr_srgnn_layout)(m, &st->enc, l, dm);
    SBR_LAY(l, st->a.V, BLd), SBR_LAY(l, st->a.Q, BLd), SBR_LAY(l, st->a.dV, BLd);
    SBR_LAY(l, st->a.dQ, BLd), SBR_LAY(l, st->a.dhseq, BLd);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_srgnn_scratch)(dm, m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *S, int train)
{
    state *st = SBR_STATE(state, m);
    const sbr_batch_clicks *ck = b->clicks;
    R(sbr_srgnn_forward)(m, &st->enc, b, S, train);
    R(sbr_nn_pack_rows_forward)(&m->ctx, st->a.V, st->enc.a.sg.hseq, ck->off, b->B, b->L, m->d);
    R(sbr_nn_linear_forward)(&m->ctx, st->a.Q, st->a.V, st->w.wq, NULL, ck->n, m->d, m->d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dS)
{
    state *st = SBR_STATE(state, m);
    R(sbr_srgnn_backward)(m, &st->enc, b, dS, st->a.dhseq);
}

/* --- the scoring hook -------------------------------------------------------- */

static R(sbr_nn_target_in) target_in(sbr_model *m, const sbr_batch *b, const sbr_score_call *c)
{
    state *st = SBR_STATE(state, m);
    return (R(sbr_nn_target_in)){c->S, st->a.V, st->a.Q, c->E, b->clicks->off, b->clicks->n};
}

static size_t score_scratch(const sbr_model *m, const sbr_dims *dm, int chunk, int K)
{
    sbr_nn_scoring sc = {dm->B, 1, m->cfg.n_items, m->d, chunk, 0};
    return R(sbr_nn_target_score_scratch)(sc, dm->B * dm->L, K); /* n <= B L */
}

/* Loss, then the gradients: dS, dE, and the packed click states' dV (the
 * target term's, plus the keys' through linear_t), unpacked into dhseq,
 * which backward hands to the encoder. */
static void score_train(sbr_model *m, const sbr_batch *b, const sbr_score_call *c)
{
    state *st = SBR_STATE(state, m);
    int B = b->B, n = b->clicks->n, d = m->d;
    sbr_nn_scoring sc = {B, 1, m->cfg.n_items, d, c->chunk, 0};
    R(sbr_nn_target_in) in = target_in(m, b, c);
    R(sbr_fill)(m, st->a.dV, 0, (int64_t)n * d);
    R(sbr_fill)(m, st->a.dQ, 0, (int64_t)n * d);
    R(sbr_nn_target_score_forward)(&m->ctx, c->loss, c->lse, &in, b->target, sc);
    R(sbr_nn_target_grad) gr = {c->dS, st->a.dV, st->a.dQ, c->dE};
    R(sbr_nn_target_score_backward)(&m->ctx, &gr, c->dloss, &in, b->target, c->lse, sc);
    R(sbr_nn_linear_backward)(&m->ctx, st->a.dV, st->g.wq, NULL, st->a.dQ, st->a.V, st->w.wq, n,
                              d, d);
    R(sbr_fill)(m, st->a.dhseq, 0, (int64_t)B * b->L * d);
    R(sbr_nn_pack_rows_backward)(&m->ctx, st->a.dhseq, st->a.dV, b->clicks->off, B, b->L, d);
}

static void score_topk(sbr_model *m, const sbr_batch *b, const sbr_score_call *c)
{
    sbr_nn_scoring sc = {b->B, 1, m->cfg.n_items, m->d, c->chunk, 0};
    R(sbr_nn_target_in) in = target_in(m, b, c);
    R(sbr_nn_target_topk)(&m->ctx, c->idx, c->score, &in, c->K, c->excl_off, c->excl, sc);
}

static const sbr_model_scoring scoring = {1, score_scratch, score_train, score_topk};

SBR_MODEL_DEF(tagnn) = {
    .name = "tagnn",
    .about = "TAGNN: SR-GNN with a target-aware session vector for every candidate item",
    .paper = "Yu et al., TAGNN: Target Attentive Graph Neural Networks for Session-based "
             "Recommendation, SIGIR 2020 (as its official code runs it)",
    .needs = SBR_NEEDS_GRAPH | SBR_NEEDS_CLICKS,
    .opts = opts,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
    .score = &scoring,
};
