/* mean: the session vector is the mean of the prefix's item embeddings,
 *   x_j = dropout(E[i_j]),  m = (1 / len) sum_{j < len} x_j,
 *   S = m                 (--proj none, the default)
 *   S = W m + b           (--proj linear)
 * scored against the item table like every model. A baseline (the
 * bag-of-items encoder), and the model docs/CONTRIBUTING.md walks through:
 * this file and one line in models.def are all it took. */
#include "model/body.h"

static const char *const projections[] = {"none", "linear", NULL};

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the input embeddings"),
    SBR_OPT_C("proj", 0, projections, "none: S is the mean; linear: S = W mean + b"),
    {0}};

typedef struct {
    real *proj_w; /* [d, d] W, or NULL (--proj none) */
    real *proj_b; /* [d] b, or NULL */
} weights;

typedef struct {
    R(sbr_front_act) front; /* the front's use on the clicks */
    real *X, *Xd;           /* [B L, d] the clicks' vectors, after dropout */
    uint8_t *mask;          /* [B L, d] the dropout mask */
    real *mean;             /* [B, d] m (--proj linear) */
    real *dmean;            /* [B, d] its gradient */
    real *dXd, *dX;         /* [B L, d] the clicks' gradients, before dropout */
} acts;

typedef struct {
    R(sbr_front) front; /* the item table (and CLIP-SBR's prompts) */
    weights w, g;       /* parameters, gradients */
    acts a;
    int proj;
    double p, p_used; /* the dropout rate, and the one the last forward used */
} state;

static void declare(sbr_model *m)
{
    state *st = SBR_STATE(state, m);
    int64_t d = m->d;
    st->p = sbr_cfg_get(&m->cfg, "dropout");
    st->proj = sbr_cfg_int(&m->cfg, "proj");
    R(sbr_front_declare)(m, &st->front);
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    if (st->proj) {
        sbr_param(m, &st->w.proj_w, "proj.w", SBR_SHAPE(d, d), SBR_INIT_UNIFORM, 0);
        sbr_param(m, &st->w.proj_b, "proj.b", SBR_SHAPE(d), SBR_INIT_UNIFORM, 0);
    } else {
        sbr_param_none(m, &st->w.proj_w);
        sbr_param_none(m, &st->w.proj_b);
    }
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    size_t BL = (size_t)dm->B * dm->L, d = (size_t)m->d;
    R(sbr_front_layout)(&st->front, &a->front, l, (int)BL);
    SBR_LAY(l, a->X, BL * d), SBR_LAY(l, a->Xd, BL * d), SBR_LAY(l, a->mask, BL * d);
    SBR_LAY(l, a->mean, dm->B * d), SBR_LAY(l, a->dmean, dm->B * d);
    SBR_LAY(l, a->dXd, BL * d), SBR_LAY(l, a->dX, BL * d);
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
    int B = b->B, L = b->L, d = m->d, BLd = B * L * d;
    R(sbr_front_clicks)(m, &st->front, &a->front, a->X, b);
    st->p_used = train ? st->p : 0;
    real *x = R(sbr_dropout)(m, a->Xd, a->mask, a->X, BLd, st->p_used, train);
    real *mean = st->proj ? a->mean : (real *)Sv;
    R(sbr_nn_seq_mean_forward)(&m->ctx, mean, x, b->len, B, L, d);
    if (st->proj)
        R(sbr_nn_linear_forward)(&m->ctx, Sv, mean, st->w.proj_w, st->w.proj_b, B, d, d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = SBR_STATE(state, m);
    acts *a = &st->a;
    int B = b->B, L = b->L, d = m->d, BLd = B * L * d;
    const real *dmean = dSv;
    if (st->proj) {
        R(sbr_fill)(m, a->dmean, 0, (int64_t)B * d);
        R(sbr_nn_linear_backward)(&m->ctx, a->dmean, st->g.proj_w, st->g.proj_b, dSv, a->mean,
                                  st->w.proj_w, B, d, d);
        dmean = a->dmean;
    }
    R(sbr_fill)(m, a->dXd, 0, BLd);
    R(sbr_fill)(m, a->dX, 0, BLd);
    R(sbr_nn_seq_mean_backward)(&m->ctx, a->dXd, dmean, b->len, B, L, d);
    R(sbr_front_backward)(m, &st->front, &a->front,
                          R(sbr_dropout_backward)(m, a->dX, a->dXd, a->mask, BLd, st->p_used));
}

SBR_MODEL_DEF(mean) = {
    .name = "mean",
    .about = "Mean: the prefix's item embeddings averaged (a baseline; the walkthrough model)",
    .paper = "the bag-of-items encoder (docs/CONTRIBUTING.md, \"Adding a model\")",
    .opts = opts,
    .state_size = sizeof(state),
    .front_seq = 1,
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
