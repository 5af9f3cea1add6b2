/* Dropout as a model uses it (body/dropout.c): drawn from the model's
 * dropout stream, whose counter moves by n at every training call whatever
 * the rate, so that the layers after draw the masks they always did. */
#ifndef SBR_MODEL_BODY_DROPOUT_H
#define SBR_MODEL_BODY_DROPOUT_H

/* The offset in the model's dropout stream of n draws: its counter, moved
 * by n in training (evaluation draws nothing and leaves it). Every random op
 * of a model takes its offset here, so that the layers after draw the masks
 * they always did. */
static inline uint64_t sbr_drop_take(sbr_model *m, uint64_t n, int train)
{
    uint64_t at = m->drop_counter;
    if (train)
        m->drop_counter += n;
    return at;
}

/* Dropout of x [n] into y when training with p > 0; otherwise x itself, not
 * a copy (two launches fewer on the GPU). p >= 1 drops everything (y = 0:
 * torch's dropout at 1, which the official presets use to turn a branch
 * off). Returns the tensor to go on with. */
real *R(sbr_dropout)(sbr_model *m, real *y, uint8_t *mask, const real *x, int n, double p,
                     int train);
/* The gradient at a dropout's input for dy at its output: accumulated into
 * dx (zeroed by the caller), or dy itself where the forward was the
 * identity (p = 0 as the step used it: 0 in evaluation). */
real *R(sbr_dropout_backward)(sbr_model *m, real *dx, real *dy, const uint8_t *mask, int n,
                              double p);

#endif
