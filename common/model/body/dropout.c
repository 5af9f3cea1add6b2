/* Dropout as a model uses it (body/dropout.h), compiled per precision. */
#include "model/body.h"

real *R(sbr_dropout)(sbr_model *m, real *y, uint8_t *mask, const real *x, int n, double p,
                     int train)
{
    uint64_t at = sbr_drop_take(m, (uint64_t)n, train);
    if (!train || p <= 0)
        return (real *)x;
    if (p >= 1) {
        sbr_dev_fill(m->prec, y, 0, n);
        return y;
    }
    R(sbr_nn_dropout_forward)(&m->ctx, y, mask, x, n, (real)p, m->drop_seed, at);
    return y;
}

real *R(sbr_dropout_backward)(sbr_model *m, real *dx, real *dy, const uint8_t *mask, int n,
                              double p)
{
    if (p <= 0)
        return dy;
    if (p < 1)
        R(sbr_nn_dropout_backward)(&m->ctx, dx, dy, mask, n, (real)p);
    return dx;
}
