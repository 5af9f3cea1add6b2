/* LESSR's EOPA and SGAT layers (body/lessr.h), compiled per precision. */
#include "model/body.h"

#include <math.h>

#include "model/body/lessr.h"

#define EOPA(l) ((l) % 2 == 0)

/* torch's default initialisations: Linear and GRU uniform(1/sqrt(fan in)),
 * PReLU 0.25 */
void R(sbr_lessr_declare)(sbr_model *m, R(sbr_lessr_w) *w, int l, int n)
{
    char name[96];
    int64_t d = m->d;
    double a = 1 / sqrt((double)n), ad = 1 / sqrt((double)d);
    sbr_init_kind u = SBR_INIT_UNIFORM;
#define P(member, part, init, arg, ...)                                      \
    (snprintf(name, sizeof name, "layers.%d.%s", l, part),                 \
     sbr_param(m, &w->member, name, SBR_SHAPE(__VA_ARGS__), init, arg))
    if (EOPA(l)) {
        P(gru.w_ih, "gru.w_ih", u, a, 3 * n, n), P(gru.b_ih, "gru.b_ih", u, a, 3 * n);
        P(gru.w_hh, "gru.w_hh", u, a, 3 * n, n), P(gru.b_hh, "gru.b_hh", u, a, 3 * n);
        P(w_self, "fc_self.w", u, a, d, n), P(w_neigh, "fc_neigh.w", u, a, d, n);
        sbr_param_none(m, &w->wq), sbr_param_none(m, &w->bq), sbr_param_none(m, &w->wk);
        sbr_param_none(m, &w->wv), sbr_param_none(m, &w->we);
    } else {
        sbr_param_none(m, &w->gru.w_ih), sbr_param_none(m, &w->gru.b_ih);
        sbr_param_none(m, &w->gru.w_hh), sbr_param_none(m, &w->gru.b_hh);
        sbr_param_none(m, &w->w_self), sbr_param_none(m, &w->w_neigh);
        P(wq, "fc_q.w", u, a, d, n), P(bq, "fc_q.b", u, a, d);
        P(wk, "fc_k.w", u, a, d, n), P(wv, "fc_v.w", u, a, d, n);
        P(we, "attn_e.w", u, ad, 1, d);
    }
    P(prelu, "prelu", SBR_INIT_CONST, 0.25, d);
#undef P
}

void R(sbr_lessr_layout)(R(sbr_lessr_act) *a, sbr_lay *lay, int l, const sbr_lessr_dims *dm)
{
    size_t T = (size_t)dm->T, E = (size_t)dm->E, n = (size_t)dm->n, d = (size_t)dm->d;
    *a = (R(sbr_lessr_act)){0};
    SBR_LAY(lay, a->pre, T * d);
    if (EOPA(l)) {
        SBR_LAY(lay, a->gi, T * 3 * n), SBR_LAY(lay, a->gie, E * 3 * n);
        SBR_LAY(lay, a->gates, E * 3 * n), SBR_LAY(lay, a->hs, (E + 1) * n);
        SBR_LAY(lay, a->ghn, E * n), SBR_LAY(lay, a->neigh, T * n), SBR_LAY(lay, a->tmp, T * d);
    } else {
        SBR_LAY(lay, a->q, T * d), SBR_LAY(lay, a->k, T * d), SBR_LAY(lay, a->v, T * d);
        SBR_LAY(lay, a->alpha, (size_t)dm->nnz);
    }
}

/* The backward's buffers, cut from gbuf (base NULL: sized only). */
typedef struct {
    real *dpre;              /* [T, d] */
    real *dgi, *dgie, *dhs;  /* EOPA: [T, 3n], [E, 3n], [E + 1, n] */
    real *dneigh;            /* EOPA: [T, n] */
    real *dq, *dk, *dv;      /* SGAT: [T, d] */
} grads;

static size_t cut_grads(grads *g, real *base, int l, const sbr_lessr_dims *dm)
{
    size_t T = (size_t)dm->T, E = (size_t)dm->E, n = (size_t)dm->n, d = (size_t)dm->d;
    R(sbr_carve) c = {base, 0};
    g->dpre = R(sbr_cut)(&c, T * d);
    if (EOPA(l)) {
        g->dgi = R(sbr_cut)(&c, T * 3 * n), g->dgie = R(sbr_cut)(&c, E * 3 * n);
        g->dhs = R(sbr_cut)(&c, (E + 1) * n), g->dneigh = R(sbr_cut)(&c, T * n);
    } else {
        g->dq = R(sbr_cut)(&c, T * d), g->dk = R(sbr_cut)(&c, T * d);
        g->dv = R(sbr_cut)(&c, T * d);
    }
    return c.n;
}

size_t R(sbr_lessr_grad_size)(int l, const sbr_lessr_dims *dm)
{
    return cut_grads(&(grads){0}, NULL, l, dm);
}

size_t R(sbr_lessr_scratch)(int l, const sbr_lessr_dims *dm)
{
    size_t s = EOPA(l) ? R(sbr_nn_gru_cell_scratch)(dm->T, dm->n)
                       : R(sbr_nn_sgat_scratch)(dm->nnz, dm->T, dm->d);
#ifdef SBR_BODY_CUDA /* the embedding backwards' sort (less: a slower path) */
    size_t e = sbr_nn_embedding_backward_scratch_cuda(dm->T, dm->E + 1);
    s = e > s ? e : s;
#endif
    return s;
}

/* The GRU over each node's in-edges: gi = x W_ih^T + b_ih per node, gathered
 * to the edges; step s runs the cell on its rows from the first rows of
 * step s - 1; each node's message is its last edge's state (row E: zero). */
static void eopa_gru(sbr_nn_ctx *ctx, R(sbr_lessr_act) *a, const R(sbr_nn_gru_w) *w,
                     const real *x, const sbr_batch_eop *g, int T, int n)
{
    const int32_t *so = g->step_off;
    R(sbr_nn_linear_forward)(ctx, a->gi, x, w->w_ih, w->b_ih, T, n, 3 * n);
    R(sbr_nn_embedding_forward)(ctx, a->gie, a->gi, g->e_src, g->E, T, 3 * n, -1);
    for (int s = 0; s < g->D; s++) {
        size_t o = (size_t)so[s];
        const real *h = s ? a->hs + (size_t)so[s - 1] * n : NULL;
        R(sbr_nn_gru_cell_forward)(ctx, a->hs + o * n, a->gates + o * 3 * n, a->ghn + o * n,
                                   a->gie + o * 3 * n, h, w->w_hh, w->b_hh, so[s + 1] - so[s], n);
    }
    R(sbr_nn_embedding_forward)(ctx, a->neigh, a->hs, g->last_edge, T, g->E + 1, n, g->E);
}

static void eopa_gru_backward(sbr_nn_ctx *ctx, const R(sbr_lessr_act) *a, const grads *gr,
                              const R(sbr_nn_gru_w) *w, const R(sbr_nn_gru_w) *dw, real *dx,
                              const real *x, const sbr_batch_eop *g, int T, int n)
{
    const int32_t *so = g->step_off;
    R(sbr_nn_embedding_backward)(ctx, gr->dhs, gr->dneigh, g->last_edge, T, g->E + 1, n, g->E);
    for (int s = g->D - 1; s >= 0; s--) {
        size_t o = (size_t)so[s], p = s ? (size_t)so[s - 1] : 0;
        R(sbr_nn_gru_cell_backward)(ctx, gr->dgie + o * 3 * n, s ? gr->dhs + p * n : NULL,
                                    dw->w_hh, dw->b_hh, gr->dhs + o * n, a->gates + o * 3 * n,
                                    a->ghn + o * n, s ? a->hs + p * n : NULL, w->w_hh,
                                    so[s + 1] - so[s], n);
    }
    R(sbr_nn_embedding_backward_grouped)(ctx, gr->dgi, gr->dgie, g->e_src, g->e_ord, g->E, g->E,
                                         T, 3 * n, -1);
    R(sbr_nn_linear_backward)(ctx, dx, dw->w_ih, dw->b_ih, gr->dgi, x, w->w_ih, T, n, 3 * n);
}

static sbr_nn_tcsr shortcut(const sbr_batch_eop *g, int T)
{
    return (sbr_nn_tcsr){g->sc_off, g->sc_src, g->sc_dst, g->sct_off, g->sct_pos, T};
}

void R(sbr_lessr_forward)(sbr_model *m, int l, R(sbr_lessr_act) *a, const R(sbr_lessr_w) *w,
                          real *out, const real *x, const sbr_batch *b, int n)
{
    sbr_nn_ctx *ctx = &m->ctx;
    const sbr_batch_eop *g = b->eop;
    int T = b->nodes->T, d = m->d;
    if (EOPA(l)) {
        eopa_gru(ctx, a, &w->gru, x, g, T, n);
        R(sbr_nn_linear_forward)(ctx, a->pre, x, w->w_self, NULL, T, n, d);
        R(sbr_nn_linear_forward)(ctx, a->tmp, a->neigh, w->w_neigh, NULL, T, n, d);
        R(sbr_nn_add_forward)(ctx, a->pre, a->pre, a->tmp, T * d);
    } else {
        R(sbr_nn_linear_forward)(ctx, a->q, x, w->wq, w->bq, T, n, d);
        R(sbr_nn_linear_forward)(ctx, a->k, x, w->wk, NULL, T, n, d);
        R(sbr_nn_linear_forward)(ctx, a->v, x, w->wv, NULL, T, n, d);
        sbr_nn_tcsr sc = shortcut(g, T);
        R(sbr_nn_sgat_forward)(ctx, a->pre, a->alpha, &(R(sbr_nn_qkv)){a->q, a->k, a->v}, w->we,
                               &sc, d, d);
    }
    R(sbr_nn_prelu_forward)(ctx, out, a->pre, w->prelu, T, d);
}

void R(sbr_lessr_backward)(sbr_model *m, int l, const R(sbr_lessr_act) *a,
                           const R(sbr_lessr_w) *w, const R(sbr_lessr_w) *dw, real *dx,
                           const real *dout, const real *x, const sbr_batch *b, int n,
                           real *gbuf)
{
    sbr_nn_ctx *ctx = &m->ctx;
    const sbr_batch_eop *g = b->eop;
    int T = b->nodes->T, d = m->d;
    sbr_lessr_dims dm = {T, g->E, g->nnz, n, d};
    grads gr;
    R(sbr_fill)(m, gbuf, 0, (int64_t)cut_grads(&gr, gbuf, l, &dm));
    R(sbr_nn_prelu_backward)(ctx, gr.dpre, dw->prelu, dout, a->pre, w->prelu, T, d);
    if (EOPA(l)) { /* pre = x W_self^T + neigh W_neigh^T: dpre reaches both */
        R(sbr_nn_linear_backward)(ctx, dx, dw->w_self, NULL, gr.dpre, x, w->w_self, T, n, d);
        R(sbr_nn_linear_backward)(ctx, gr.dneigh, dw->w_neigh, NULL, gr.dpre, a->neigh,
                                  w->w_neigh, T, n, d);
        eopa_gru_backward(ctx, a, &gr, &w->gru, &dw->gru, dx, x, g, T, n);
    } else {
        sbr_nn_tcsr sc = shortcut(g, T);
        R(sbr_nn_sgat_backward)(ctx, &(R(sbr_nn_qkv)){gr.dq, gr.dk, gr.dv}, dw->we, gr.dpre,
                                a->alpha, &(R(sbr_nn_qkv)){a->q, a->k, a->v}, w->we, &sc, d, d);
        R(sbr_nn_linear_backward)(ctx, dx, dw->wq, dw->bq, gr.dq, x, w->wq, T, n, d);
        R(sbr_nn_linear_backward)(ctx, dx, dw->wk, NULL, gr.dk, x, w->wk, T, n, d);
        R(sbr_nn_linear_backward)(ctx, dx, dw->wv, NULL, gr.dv, x, w->wv, T, n, d);
    }
}
