/* The pieces of a neural process (body/np.h), compiled per precision. */
#include "model/body.h"

#include "model/body/np.h"

void R(sbr_mlp2_declare)(sbr_model *m, R(sbr_mlp2_w) *w, const char *prefix, int64_t in,
                         int64_t d)
{
    char n[4][96];
    const char *const part[4] = {"w1", "b1", "w2", "b2"};
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof n[i], "%s.%s", prefix, part[i]);
    sbr_init_kind u = SBR_INIT_UNIFORM;
    sbr_param(m, &w->w1, n[0], SBR_SHAPE(d, in), u, 0);
    sbr_param(m, &w->b1, n[1], SBR_SHAPE(d), u, 0);
    sbr_param(m, &w->w2, n[2], SBR_SHAPE(d, d), u, 0);
    sbr_param(m, &w->b2, n[3], SBR_SHAPE(d), u, 0);
}

void R(sbr_mlp2_forward)(sbr_nn_ctx *ctx, const R(sbr_mlp2_w) *w, R(sbr_mlp2_a) *a, real *y,
                         const real *x, int n, int in, int d)
{
    R(sbr_nn_linear_forward)(ctx, a->h, x, w->w1, w->b1, n, in, d);
    R(sbr_nn_relu_forward)(ctx, a->ha, a->h, n * d);
    R(sbr_nn_linear_forward)(ctx, y, a->ha, w->w2, w->b2, n, d, d);
}

void R(sbr_mlp2_backward)(sbr_nn_ctx *ctx, const R(sbr_mlp2_w) *w, const R(sbr_mlp2_w) *g,
                          const R(sbr_mlp2_a) *a, real *dx, real *const dh[2], const real *dy,
                          const real *x, int n, int in, int d)
{
    R(sbr_nn_linear_backward)(ctx, dh[1], g->w2, g->b2, dy, a->ha, w->w2, n, d, d);
    R(sbr_nn_relu_backward)(ctx, dh[0], dh[1], a->h, n * d);
    R(sbr_nn_linear_backward)(ctx, dx, g->w1, g->b1, dh[0], x, w->w1, n, in, d);
}

void R(sbr_gauss_head_declare)(sbr_model *m, R(sbr_gauss_head_w) *w, const char *prefix,
                               int64_t d, int64_t dz)
{
    char n[4][96];
    const char *const part[4] = {"mu.w", "mu.b", "sigma.w", "sigma.b"};
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof n[i], "%s.%s", prefix, part[i]);
    sbr_init_kind u = SBR_INIT_UNIFORM;
    sbr_param(m, &w->mu_w, n[0], SBR_SHAPE(dz, d), u, 0);
    sbr_param(m, &w->mu_b, n[1], SBR_SHAPE(dz), u, 0);
    sbr_param(m, &w->sg_w, n[2], SBR_SHAPE(dz, d), u, 0);
    sbr_param(m, &w->sg_b, n[3], SBR_SHAPE(dz), u, 0);
}

void R(sbr_gauss_head_forward)(sbr_nn_ctx *ctx, const R(sbr_gauss_head_w) *w, R(sbr_gauss_a) *g,
                               const real *s, int B, int d, int dz)
{
    R(sbr_nn_linear_forward)(ctx, g->mu, s, w->mu_w, w->mu_b, B, d, dz);
    R(sbr_nn_linear_forward)(ctx, g->pre, s, w->sg_w, w->sg_b, B, d, dz);
    R(sbr_nn_softplus_forward)(ctx, g->sp, g->pre, B * dz);
    R(sbr_nn_affine_forward)(ctx, g->sig, g->sp, B * dz, (real)0.9, (real)0.1);
}

void R(sbr_gauss_head_backward)(sbr_nn_ctx *ctx, const R(sbr_gauss_head_w) *w,
                                const R(sbr_gauss_head_w) *g, const R(sbr_gauss_a) *a, real *ds,
                                real *const dg[4], const real *s, int B, int d, int dz)
{
    real *dmu = dg[0], *dsp = dg[1], *dpre = dg[2], *dsig = dg[3];
    R(sbr_nn_affine_backward)(ctx, dsp, dsig, B * dz, (real)0.9);
    R(sbr_nn_softplus_backward)(ctx, dpre, dsp, a->pre, B * dz);
    R(sbr_nn_linear_backward)(ctx, ds, g->sg_w, g->sg_b, dpre, s, w->sg_w, B, d, dz);
    R(sbr_nn_linear_backward)(ctx, ds, g->mu_w, g->mu_b, dmu, s, w->mu_w, B, d, dz);
}

void R(sbr_np_spread)(sbr_nn_ctx *ctx, real *var, const R(sbr_spread_work) *w, const real *h,
                      const real *S, int B, int K, int d)
{
    R(sbr_nn_scale_forward)(ctx, w->neg, S, B * d, (real)-1);
    R(sbr_nn_add_rows_forward)(ctx, w->dev, h, w->neg, B, K, d);
    R(sbr_nn_row_dot_forward)(ctx, w->sq, w->dev, w->dev, B * K, d, 0);
    R(sbr_nn_seq_mean_forward)(ctx, var, w->sq, NULL, B, K, 1);
}

#define POOL_CHUNK 2048 /* pool rows per retrieval GEMM */

size_t R(sbr_np_context_scratch)(const sbr_model *m, int B, int C)
{
    sbr_nn_retrieve_shape sh = {B, POOL_CHUNK, m->d, C, POOL_CHUNK};
    return R(sbr_nn_retrieve_scratch)(sh);
}

void R(sbr_np_context)(sbr_model *m, R(sbr_np_ctx_a) *a, const sbr_batch *b, const real *x,
                       int C, int causal)
{
    sbr_nn_ctx *ctx = &m->ctx;
    int B = b->B, d = m->d, BC = B * C, M = (int)m->pool.n;
    if (M < C + 1)
        sbr_fatal("internal error: model %s runs without a context pool of %d pairs",
                  m->cfg.model, C + 1);
    const real *E = sbr_arena_ptr(&m->params, m->p_items);
    sbr_nn_retrieve_shape sh = {B, M, d, C, POOL_CHUNK};
    const sbr_batch_pool *bp = b->pool;
    R(sbr_nn_retrieve)(ctx, a->idx, a->sim, x, m->pool.x, bp ? bp->excl : NULL,
                       bp && causal ? bp->lim : NULL, sh);
    R(sbr_nn_take_i32)(ctx, a->citem, m->pool.item, a->idx, BC, M);
    R(sbr_nn_embedding_forward)(ctx, a->xc, m->pool.x, a->idx, BC, M, d, -1);
    /* an empty slot's item 0: a zero row, no gradient (pad 0) */
    R(sbr_nn_embedding_forward)(ctx, a->yc, E, a->citem, BC, m->cfg.n_items + 1, d, 0);
    R(sbr_nn_concat_forward)(ctx, a->pc, a->xc, a->yc, BC, d, d);
}
