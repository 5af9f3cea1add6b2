/* A GRU layer's weights as a model's tensors (body/gru.h), compiled per
 * precision. */
#include "model/body.h"

#include "model/body/gru.h"

void R(sbr_gru_declare)(sbr_model *m, R(sbr_nn_gru_w) *w, const char *prefix, int64_t in,
                        int64_t H)
{
    char name[4][96];
    const char *const part[4] = {"w_ih", "b_ih", "w_hh", "b_hh"};
    for (int k = 0; k < 4; k++)
        snprintf(name[k], sizeof name[k], "%s.%s", prefix, part[k]);
    sbr_init_kind u = SBR_INIT_UNIFORM;
    sbr_param(m, &w->w_ih, name[0], SBR_SHAPE(3 * H, in), u, 0);
    sbr_param(m, &w->b_ih, name[1], SBR_SHAPE(3 * H), u, 0);
    sbr_param(m, &w->w_hh, name[2], SBR_SHAPE(3 * H, H), u, 0);
    sbr_param(m, &w->b_hh, name[3], SBR_SHAPE(3 * H), u, 0);
}
