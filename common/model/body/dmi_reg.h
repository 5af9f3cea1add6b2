/* The DMI regulariser (body/dmi_reg.c) of DMI-GNN (common/models/dmignn.c)
 * over the interest weights a [U, B, L] of a multi-interest readout, per
 * sample
 *   L_DMI = sigmoid((len - eta) * mean_{u<w} |cos(a_u, a_w)|)
 * (a_u over the prefix's positions, normalised with eps 1e-12 as
 * F.normalize): the model's own loss term (m->xloss with weight beta, summed
 * over the batch as the official code does; the CE is a mean). U >= 2. */
#ifndef SBR_MODEL_BODY_DMI_REG_H
#define SBR_MODEL_BODY_DMI_REG_H

typedef struct {
    real *ones;    /* [B] */
    real *am, *an; /* [U, B, L] a masked to the prefix; normalised over positions */
    real *nr;      /* [U, B] their norms */
    real *c;       /* [2 P, B] each of the P pairs' cosine, then its absolute value */
    real *cs;      /* [6, B] the sum, the mean, the terms, L_DMI */
    real *g;       /* the backward's gradient buffers, zeroed together */
} R(sbr_dmi_reg_act);

typedef struct {
    R(sbr_dmi_reg_act) a;
    int U;
    double eta, beta;
} R(sbr_dmi_reg);

void R(sbr_dmi_reg_layout)(R(sbr_dmi_reg) *r, sbr_lay *l, const sbr_dims *dm);
/* m->xloss = L_DMI [B], m->xloss_w = beta. */
void R(sbr_dmi_reg_forward)(sbr_model *m, R(sbr_dmi_reg) *r, const sbr_batch *b, const real *a);
/* Adds beta * dL_DMI / da into da [U, B, L]. */
void R(sbr_dmi_reg_backward)(sbr_model *m, R(sbr_dmi_reg) *r, const sbr_batch *b, const real *a,
                             real *da);

#endif
