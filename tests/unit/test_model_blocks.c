/* A model outside the registry, written here as a model file is (in double:
 * this file is its f64 instance), for what no registered model uses yet:
 *   X  = front(items)                    the clicks' embeddings (front use 1)
 *   Y  = mhsa(X)                         a post-norm self-attention block, its
 *                                        sixteen weights the model's own named
 *                                        tensors (body/mhsa.h), gains from 1
 *   X2 = front(items), x_t = X2[last]    the front again (use 2): the last click
 *   S  = mean_j Y_j + x_t
 * gradient-checked end to end like the registered models, with and without
 * CLIP-SBR prompts: the item table's gradient is the sum of both uses' and
 * the scoring's, which is what one activation struct per use is for. */
#define SBR_BODY_F64
#include "model/body.h"

#include "harness.h"
#include "model/body/mhsa.h"
#include "model_check.h"

static const sbr_opt opts[] = {SBR_OPT_DIM(4), SBR_OPT_MAX_LEN(4), {0}};

typedef struct {
    sbr_front_act_f64 front, front2; /* the two uses of the front */
    real *X, *Y, *X2;                /* [B L, d] */
    real *act;                       /* the block's saved activations */
    real *mean, *xt;                 /* [B, d] */
    real *dY, *dX, *dX2;             /* [B L, d] */
} acts;

typedef struct {
    sbr_front_f64 front;
    sbr_nn_mhsa_w_f64 w, g;
    acts a;
    sbr_nn_mhsa_cfg blk;
} state;

static void declare(sbr_model *m)
{
    state *st = m->state;
    sbr_front_declare_f64(m, &st->front);
    st->blk = (sbr_nn_mhsa_cfg){m->d, 2, 2 * m->d, 0, 1e-5, 0, 0, 0, 0};
    sbr_mhsa_declare_f64(m, &st->w, &st->g, "blk", st->blk.dff, st->blk.flags,
                         SBR_INIT_UNIFORM, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    state *st = m->state;
    acts *a = &st->a;
    size_t BL = (size_t)dm->B * dm->L, d = (size_t)m->d;
    sbr_front_layout_f64(&st->front, &a->front, l, (int)BL);
    sbr_front_layout_f64(&st->front, &a->front2, l, (int)BL);
    SBR_LAY(l, a->X, BL * d), SBR_LAY(l, a->Y, BL * d), SBR_LAY(l, a->X2, BL * d);
    SBR_LAY(l, a->act, sbr_nn_mhsa_act_count_f64(dm->B, dm->L, m->d, 2, 2 * m->d));
    SBR_LAY(l, a->mean, dm->B * d), SBR_LAY(l, a->xt, dm->B * d);
    SBR_LAY(l, a->dY, BL * d), SBR_LAY(l, a->dX, BL * d), SBR_LAY(l, a->dX2, BL * d);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return sbr_nn_mhsa_scratch_f64(dm->B, dm->L, m->d, 2 * m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *Sv, int train)
{
    state *st = m->state;
    acts *a = &st->a;
    int B = b->B, L = b->L, d = m->d, BL = B * L;
    (void)train;
    sbr_front_forward_f64(m, &st->front, &a->front, a->X, b->items, b->citems, BL, b);
    sbr_nn_mhsa_forward_f64(&m->ctx, a->Y, a->act, a->X, b->len, &st->w, B, L, &st->blk);
    sbr_nn_seq_mean_forward_f64(&m->ctx, a->mean, a->Y, b->len, B, L, d);
    sbr_front_forward_f64(m, &st->front, &a->front2, a->X2, b->items, b->citems, BL, NULL);
    sbr_nn_embedding_forward_f64(&m->ctx, a->xt, a->X2, b->last, B, BL, d, -1);
    sbr_nn_add_forward_f64(&m->ctx, Sv, a->mean, a->xt, B * d);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dSv)
{
    state *st = m->state;
    acts *a = &st->a;
    int B = b->B, L = b->L, d = m->d, BLd = B * L * d;
    sbr_fill_f64(m, a->dY, 0, BLd), sbr_fill_f64(m, a->dX, 0, BLd), sbr_fill_f64(m, a->dX2, 0, BLd);
    sbr_nn_embedding_backward_f64(&m->ctx, a->dX2, dSv, b->last, B, B * L, d, -1);
    sbr_front_backward_f64(m, &st->front, &a->front2, a->dX2);
    sbr_nn_seq_mean_backward_f64(&m->ctx, a->dY, dSv, b->len, B, L, d);
    sbr_nn_mhsa_backward_f64(&m->ctx, a->dX, &st->g, a->dY, a->act, a->X, b->len, &st->w, B, L,
                             &st->blk);
    sbr_front_backward_f64(m, &st->front, &a->front, a->dX);
}

static const sbr_model_def blocks = {
    .name = "blocks", .about = "a test", .paper = "none", .opts = opts,
    .state_size = sizeof(state), .declare = declare, .layout = layout, .scratch = scratch,
    .forward = forward, .backward = backward};

TEST(model_front_twice_and_mhsa_gradcheck)
{
    CHECK(model_gradcheck_def(&blocks, 0, NULL) == 0);
    CHECK(model_gradcheck_def(&blocks, 1, NULL) == 0);
}

/* The block's weights: named tensors of the model, gains from 1, biases 0. */
TEST(model_mhsa_weights_declared)
{
    sbr_model_cfg c;
    sbr_model_defaults_of(&blocks, &c);
    c.n_items = 5, c.init_scale = 0.5;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create_def(&m, &blocks, &c, SBR_PREC_F64, (int[2]){2, 4}, &e) == 0);
    state *st = m.state;
    CHECK(st->w.ln1_g == sbr_arena_ptr(&m.params, sbr_arena_find(&m.params, "blk.ln1_g")));
    CHECK(st->g.w2 == sbr_arena_ptr(&m.grads, sbr_arena_find(&m.params, "blk.w2")));
    for (int k = 0; k < 4; k++) {
        CHECK(st->w.ln1_g[k] == 1 && st->w.ln2_g[k] == 1);
        CHECK(st->w.bq[k] == 0 && st->w.ln2_b[k] == 0);
    }
    CHECK(st->w.wq[0] != 0 && fabs(st->w.wq[0]) <= 0.5);
    CHECK_EQ_I64(m.params.n, 1 + 16);
    sbr_model_free(&m);
}
