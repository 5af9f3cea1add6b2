/* A model's parameters (model_params.c): the typed weights bound by name
 * from the arena (def.h: sbr_weights, sbr_param), the check that ties each
 * weight struct to its declarations, and the seeded initialisation.
 * Internal to model.c. */
#ifndef SBR_MODEL_PARAMS_H
#define SBR_MODEL_PARAMS_H

#include "model/model.h"

/* The options the framework reads into m (d, max_len, global_k, pool_sum,
 * interests), from m->cfg for batches of m->max_B x m->max_L, and what must
 * hold of them: -1 with e set otherwise. */
int sbr_model_resolve(sbr_model *m, const sbr_model_def *def, sbr_err *e);
/* Every member of every weight struct declared (or left NULL on purpose):
 * a struct and its declare that disagree stop here, naming the model. */
void sbr_model_check_weights(const sbr_model *m);
/* Points every declared member, and its gradient, at its arena tensor. */
void sbr_model_bind_params(sbr_model *m);
/* Initialises every parameter from the seed (on the host, then uploaded). */
void sbr_model_init_params(sbr_model *m);

#endif
