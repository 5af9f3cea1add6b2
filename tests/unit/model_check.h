/* Whole-model checks shared by the tests of every model: a tiny instance in
 * double precision, its loss gradient against central finite differences of
 * every parameter, with and without CLIP-SBR prompts. */
#ifndef SBR_MODEL_CHECK_H
#define SBR_MODEL_CHECK_H

#include "model/model.h"

/* Gradient-checks model `name` (tiny sizes, dropout on with a fixed mask):
 * returns the number of disagreeing elements (0 = pass), or -1 when the
 * model could not be built. clip: 1 with cluster prompts. */
int model_gradcheck(const char *name, int clip);
/* Adjust the tiny config (e.g. a model that needs layers = 2). */
typedef void (*model_cfg_fn)(sbr_model_cfg *c);
int model_gradcheck_cfg(const char *name, int clip, model_cfg_fn adjust);

#endif
