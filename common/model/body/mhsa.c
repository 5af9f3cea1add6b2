/* A self-attention block's weights as a model's tensors (body/mhsa.h),
 * compiled per precision. */
#include "model/body.h"

#include "model/body/mhsa.h"

int R(sbr_mhsa_declare)(sbr_model *m, R(sbr_nn_mhsa_w) *w, R(sbr_nn_mhsa_w) *g,
                        const char *prefix, int dff, int flags, sbr_init_kind init, double arg)
{
    int64_t d = m->d, f = dff;
    int proxysr = (flags & SBR_NN_MHSA_PROXYSR) != 0;
    const struct {
        real **member;
        const char *name;
        int64_t rows, cols; /* cols 0: a vector [rows] */
        sbr_init_kind init;
        int proxysr; /* read by the ProxySR layout */
    } t[] = {{&w->wq, "wq", d, d, SBR_INIT_UNIFORM, 1},   {&w->bq, "bq", d, 0, SBR_INIT_ZERO, 1},
             {&w->wk, "wk", d, d, SBR_INIT_UNIFORM, 1},   {&w->bk, "bk", d, 0, SBR_INIT_ZERO, 1},
             {&w->wv, "wv", d, d, SBR_INIT_UNIFORM, 0},   {&w->bv, "bv", d, 0, SBR_INIT_ZERO, 0},
             {&w->wo, "wo", d, d, SBR_INIT_UNIFORM, 0},   {&w->bo, "bo", d, 0, SBR_INIT_ZERO, 0},
             {&w->ln1_g, "ln1_g", d, 0, SBR_INIT_ONE, 0}, {&w->ln1_b, "ln1_b", d, 0, SBR_INIT_ZERO, 0},
             {&w->w1, "w1", f, d, SBR_INIT_UNIFORM, 0},   {&w->b1, "b1", f, 0, SBR_INIT_ZERO, 0},
             {&w->w2, "w2", d, f, SBR_INIT_UNIFORM, 0},   {&w->b2, "b2", d, 0, SBR_INIT_ZERO, 0},
             {&w->ln2_g, "ln2_g", d, 0, SBR_INIT_ONE, 0}, {&w->ln2_b, "ln2_b", d, 0, SBR_INIT_ZERO, 0}};
    sbr_weights(m, w, g, sizeof *w);
    int first = -1;
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        if (proxysr && !t[k].proxysr) {
            sbr_param_none(m, t[k].member);
            continue;
        }
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, t[k].name);
        int64_t shape[2] = {t[k].rows, t[k].cols};
        int matrix = t[k].init == SBR_INIT_UNIFORM;
        int i = sbr_param(m, t[k].member, name, t[k].cols ? 2 : 1, shape,
                          matrix ? init : t[k].init, matrix ? arg : 0);
        first = first < 0 ? i : first;
    }
    return first;
}
