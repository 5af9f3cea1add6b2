/* A GRU layer's weights as a model holds them (body/gru.c): the gru op's
 * R(sbr_nn_gru_w) as a member of the model's weight struct. */
#ifndef SBR_MODEL_BODY_GRU_H
#define SBR_MODEL_BODY_GRU_H

/* Declares PREFIX.w_ih [3H, in], PREFIX.b_ih [3H], PREFIX.w_hh [3H, H],
 * PREFIX.b_hh [3H] (uniform, the model's scale) for w, a member of the
 * weight group being declared (sbr_weights). */
void R(sbr_gru_declare)(sbr_model *m, R(sbr_nn_gru_w) *w, const char *prefix, int64_t in,
                        int64_t H);

#endif
