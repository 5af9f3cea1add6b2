/* SR-GNN's session-graph encoder (body/sessgraph.h), compiled per precision. */
#include "model/body.h"

#include "model/body/sessgraph.h"

void R(sbr_ggnn_declare)(sbr_model *m, R(sbr_nn_ggnn_w) *w, const char *prefix,
                         sbr_init_kind init, double arg)
{
    int64_t d = m->d;
    int normal = init == SBR_INIT_NORMAL;
    sbr_init_kind mat = normal ? SBR_INIT_NORMAL : SBR_INIT_UNIFORM,
                  bias = normal ? SBR_INIT_ZERO : SBR_INIT_UNIFORM;
    double a = normal ? arg : 0;
    const struct {
        real **member;
        const char *name;
        int64_t rows, cols; /* cols 0: a bias [rows] */
    } t[] = {{&w->w_in, "w_in", d, d},           {&w->b_in, "b_in", d, 0},
             {&w->w_out, "w_out", d, d},         {&w->b_out, "b_out", d, 0},
             {&w->b_iah, "b_iah", d, 0},         {&w->b_oah, "b_oah", d, 0},
             {&w->w_ih, "w_ih", 3 * d, 2 * d},   {&w->b_ih, "b_ih", 3 * d, 0},
             {&w->w_hh, "w_hh", 3 * d, d},       {&w->b_hh, "b_hh", 3 * d, 0}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, t[k].name);
        int64_t shape[2] = {t[k].rows, t[k].cols};
        int matrix = t[k].cols != 0;
        sbr_param(m, t[k].member, name, matrix ? 2 : 1, shape, matrix ? mat : bias,
                  matrix ? a : 0);
    }
}

void R(sbr_sgraph_layout)(const R(sbr_front) *f, R(sbr_sgraph) *s, sbr_lay *l,
                          const sbr_dims *dm, int d)
{
    size_t B = (size_t)dm->B, BL = B * dm->L, Td = (size_t)dm->T * d, n = (size_t)s->steps;
    R(sbr_front_layout)(f, &s->front, l, dm->T);
    SBR_LAY(l, s->gg.hsteps, n * Td), SBR_LAY(l, s->gg.a, n * 2 * Td);
    SBR_LAY(l, s->gg.gates, n * 3 * Td), SBR_LAY(l, s->gg.ghn, n * Td);
    SBR_LAY(l, s->H0d, Td), SBR_LAY(l, s->Hout, Td), SBR_LAY(l, s->mask, Td);
    SBR_LAY(l, s->hseq, BL * d), SBR_LAY(l, s->vl, B * d), SBR_LAY(l, s->dH, 3 * Td);
}

size_t R(sbr_sgraph_scratch)(const sbr_dims *dm, int d)
{
    return R(sbr_nn_ggnn_scratch)(dm->T, d);
}

void R(sbr_sgraph_forward)(sbr_model *m, const R(sbr_front) *f, const R(sbr_nn_ggnn_w) *w,
                           R(sbr_sgraph) *s, const sbr_batch *b, int train)
{
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    /* the front writes H0 into the GGNN's first saved input, hsteps[0] (no
     * copy there when the dropout hands H0 on) */
    real *H0 = s->gg.hsteps;
    R(sbr_front_forward)(m, f, &s->front, H0, nd->uniq, nd->cuniq, T, b);
    s->p_used = train ? s->p : 0;
    s->hin = R(sbr_dropout)(m, s->H0d, s->mask, H0, T * d, s->p_used, train);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               NULL, NULL, T};
    R(sbr_nn_ggnn_forward)(&m->ctx, s->Hout, &s->gg, s->hin, &gg, w, d, s->steps);
    R(sbr_nn_session_nodes_forward)(&m->ctx, s->hseq, s->vl, s->Hout, nd->alias, nd->last_node,
                                     nd->node_sess, B, L, T, d);
}

void R(sbr_sgraph_backward)(sbr_model *m, const R(sbr_front) *f, const R(sbr_nn_ggnn_w) *w,
                            const R(sbr_nn_ggnn_w) *gw, R(sbr_sgraph) *s, const sbr_batch *b,
                            const real *dhseq, const real *dvl)
{
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *g = b->adj;
    int B = b->B, L = b->L, d = m->d, T = nd->T;
    size_t Td = (size_t)T * d;
    real *dHout = s->dH, *dH0d = dHout + Td, *dH0 = dH0d + Td;
    R(sbr_fill)(m, s->dH, 0, (int64_t)(3 * Td));
    R(sbr_nn_session_nodes_backward)(&m->ctx, dHout, dhseq, dvl, nd->alias, nd->last_node,
                                      nd->node_sess, B, L, T, d);
    R(sbr_nn_ggnn_graph) gg = {g->in_off, g->in_idx, g->in_w, g->out_off, g->out_idx, g->out_w,
                               g->in_tw, g->out_tw, T};
    R(sbr_nn_ggnn_backward)(&m->ctx, dH0d, gw, dHout, &s->gg, &gg, w, d, s->steps);
    R(sbr_front_backward)(m, f, &s->front,
                          R(sbr_dropout_backward)(m, dH0, dH0d, s->mask, (int)Td, s->p_used));
}
