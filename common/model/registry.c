/* The registry: every model of common/models/models.def at every precision
 * it was built for. */
#include <string.h>

#include "model/def.h"

#define SBR_MODEL(n) extern const sbr_model_def sbr_model_##n##_f32, sbr_model_##n##_f64;
#include "models/models.def"
#undef SBR_MODEL

static const sbr_model_def *const defs_f32[] = {
#define SBR_MODEL(n) &sbr_model_##n##_f32,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

static const sbr_model_def *const defs_f64[] = {
#define SBR_MODEL(n) &sbr_model_##n##_f64,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

#if defined(SBR_HAVE_CUDA) && defined(SBR_CUDA_MODELS)
#define SBR_MODEL(n) extern const sbr_model_def sbr_model_##n##_cuda;
#include "models/models.def"
#undef SBR_MODEL
static const sbr_model_def *const defs_cuda[] = {
#define SBR_MODEL(n) &sbr_model_##n##_cuda,
#include "models/models.def"
#undef SBR_MODEL
    NULL};
#else
static const sbr_model_def *const defs_cuda[] = {NULL}; /* no GPU path in this build */
const sbr_model_steps sbr_model_steps_cuda = {NULL, NULL, NULL, NULL, NULL};
#endif

const char *const sbr_model_names[] = {
#define SBR_MODEL(n) #n,
#include "models/models.def"
#undef SBR_MODEL
    NULL};

const sbr_model_def *sbr_model_def_for(const char *name, sbr_prec prec)
{
    const sbr_model_def *const *d = prec == SBR_PREC_F64    ? defs_f64
                                    : prec == SBR_PREC_CUDA ? defs_cuda
                                                            : defs_f32;
    for (; name && *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}
