/* The DMI regulariser (body/dmi_reg.h), compiled per precision. */
#include "model/body.h"

#include "model/body/dmi_reg.h"

/* The backward's gradient buffers, cut from one block (base NULL: sized only;
 * P pairs of interests). */
typedef struct {
    real *dxl, *dt, *dt1, *dt2, *dcm, *dcs; /* [B] */
    real *dc;                               /* [P, B] */
    real *dan, *dam;                        /* [U, B, L] */
} reg_grads;

static size_t R(cut_reg_grads)(reg_grads *g, real *base, size_t B, size_t L, size_t U)
{
    R(sbr_carve) c = {base, 0};
    real **row[] = {&g->dxl, &g->dt, &g->dt1, &g->dt2, &g->dcm, &g->dcs};
    for (size_t k = 0; k < 6; k++)
        *row[k] = R(sbr_cut)(&c, B);
    g->dc = R(sbr_cut)(&c, U * (U - 1) / 2 * B);
    g->dan = R(sbr_cut)(&c, U * B * L), g->dam = R(sbr_cut)(&c, U * B * L);
    return c.n;
}

void R(sbr_dmi_reg_layout)(R(sbr_dmi_reg) *r, sbr_lay *l, const sbr_dims *dm)
{
    R(sbr_dmi_reg_act) *a = &r->a;
    size_t B = (size_t)dm->B, BL = B * dm->L, U = (size_t)r->U, P = U * (U - 1) / 2;
    SBR_LAY(l, a->ones, B), SBR_LAY(l, a->am, U * BL), SBR_LAY(l, a->an, U * BL);
    SBR_LAY(l, a->nr, U * B), SBR_LAY(l, a->c, 2 * P * B), SBR_LAY(l, a->cs, 6 * B);
    SBR_LAY(l, a->g, R(cut_reg_grads)(&(reg_grads){0}, NULL, B, dm->L, U));
}

void R(sbr_dmi_reg_forward)(sbr_model *m, R(sbr_dmi_reg) *r, const sbr_batch *b, const real *aw)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_dmi_reg_act) *a = &r->a;
    int B = b->B, L = b->L, BL = B * L, U = r->U, P = U * (U - 1) / 2;
    real *ab = a->c + (size_t)P * B, *cs = a->cs, *cm = cs + B, *t1 = cs + 2 * B,
         *t2 = cs + 3 * B, *t = cs + 4 * B, *xl = cs + 5 * B;
    R(sbr_fill)(m, a->ones, 1, B);
    R(sbr_fill)(m, cs, 0, B);
    for (int u = 0; u < U; u++) { /* a_u masked to the prefix, then normalised over positions */
        size_t o = (size_t)u * BL;
        R(sbr_nn_seq_dot_forward)(ctx, a->am + o, aw + o, a->ones, b->len, B, L, 1);
        R(sbr_nn_l2norm_forward)(ctx, a->an + o, a->nr + (size_t)u * B, a->am + o, B, L,
                                 (real)1e-12);
    }
    for (int u = 0, p = 0; u < U; u++)
        for (int w = u + 1; w < U; w++, p++) { /* |cos(a_u, a_w)|, summed over the pairs */
            real *cp = a->c + (size_t)p * B, *abp = ab + (size_t)p * B;
            R(sbr_nn_seq_weighted_sum_forward)(ctx, cp, a->an + (size_t)u * BL,
                                               a->an + (size_t)w * BL, b->len, B, L, 1);
            R(sbr_nn_leaky_relu_forward)(ctx, abp, cp, B, -1); /* slope -1: |x| */
            R(sbr_nn_add_forward)(ctx, cs, cs, abp, B);
        }
    R(sbr_nn_scale_forward)(ctx, cm, cs, B, (real)(1.0 / P));
    R(sbr_nn_mul_forward)(ctx, t1, b->flen, cm, B);
    R(sbr_nn_scale_forward)(ctx, t2, cm, B, (real)-r->eta);
    R(sbr_nn_add_forward)(ctx, t, t1, t2, B);
    R(sbr_nn_sigmoid_forward)(ctx, xl, t, B);
    m->xloss = xl;
    m->xloss_w = r->beta;
}

void R(sbr_dmi_reg_backward)(sbr_model *m, R(sbr_dmi_reg) *r, const sbr_batch *b, const real *aw,
                             real *da)
{
    sbr_nn_ctx *ctx = &m->ctx;
    R(sbr_dmi_reg_act) *a = &r->a;
    int B = b->B, L = b->L, BL = B * L, U = r->U, P = U * (U - 1) / 2;
    real *cm = a->cs + B, *xl = a->cs + 5 * B;
    reg_grads gr;
    R(sbr_fill)(m, a->g, 0, (int64_t)R(cut_reg_grads)(&gr, a->g, B, L, U));
    real *dxl = gr.dxl, *dt = gr.dt, *dt1 = gr.dt1, *dt2 = gr.dt2, *dcm = gr.dcm, *dcs = gr.dcs,
         *dc = gr.dc, *dan = gr.dan, *dam = gr.dam;
    R(sbr_fill)(m, dxl, r->beta, B);
    R(sbr_nn_sigmoid_backward)(ctx, dt, dxl, xl, B);
    R(sbr_nn_add_backward)(ctx, dt1, dt2, dt, B);
    R(sbr_nn_mul_backward)(ctx, NULL, dcm, dt1, b->flen, cm, B);
    R(sbr_nn_scale_backward)(ctx, dcm, dt2, B, (real)-r->eta);
    R(sbr_nn_scale_backward)(ctx, dcs, dcm, B, (real)(1.0 / P));
    for (int u = 0, p = 0; u < U; u++)
        for (int w = u + 1; w < U; w++, p++) {
            real *cp = a->c + (size_t)p * B, *dcp = dc + (size_t)p * B;
            R(sbr_nn_leaky_relu_backward)(ctx, dcp, dcs, cp, B, -1);
            R(sbr_nn_seq_weighted_sum_backward)(ctx, dan + (size_t)u * BL, dan + (size_t)w * BL,
                                                dcp, a->an + (size_t)u * BL,
                                                a->an + (size_t)w * BL, b->len, B, L, 1);
        }
    for (int u = 0; u < U; u++) {
        size_t o = (size_t)u * BL;
        R(sbr_nn_l2norm_backward)(ctx, dam + o, dan + o, a->an + o, a->nr + (size_t)u * B, B, L,
                                  (real)1e-12);
        R(sbr_nn_seq_dot_backward)(ctx, da + o, NULL, dam + o, aw + o, a->ones, b->len, B, L, 1);
    }
}
