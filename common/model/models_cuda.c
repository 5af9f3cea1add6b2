/* Every model body compiled for the CUDA path: float on device pointers,
 * calling the _cuda ops (plain C: the kernels live in common/cuda/ .cu files).
 * The Makefile defines SBR_CUDA_MODELS with SBR_HAVE_CUDA (nvcc found); the
 * mirror covers every op (make test-cuda checks that api.inc has no op
 * without its _cuda twin). */
#if defined(SBR_HAVE_CUDA) && defined(SBR_CUDA_MODELS)
#include "nn/ops_common.h"

#include "model/devmem.h"
#include "model/model.h"

#include "cuda/nn_cuda.h"

#define real float
#define R(name) name##_cuda
#define SBR_STEP_CUDA 1 /* step.inc: the loss sums stay on the device */
#include "model/front.inc"
#include "model/step.inc"
#include "model/gru4rec.inc"
#include "model/narm.inc"
#include "model/stamp.inc"
#include "model/srgnn.inc"
#include "model/gcegnn.inc"
#include "model/dmignn.inc"

static const sbr_model_impl *const impls[] = {&R(sbr_model_gru4rec), &R(sbr_model_narm),
                                               &R(sbr_model_stamp), &R(sbr_model_srgnn),
                                               &R(sbr_model_gcegnn), &R(sbr_model_dmignn), NULL};
const sbr_model_steps sbr_model_steps_cuda = {R(step_loss_grad), R(step_train), R(step_topk),
                                              impls};
#else
#include "model/model.h"
/* No models on the GPU path in this build. */
static const sbr_model_impl *const impls[] = {NULL};
const sbr_model_steps sbr_model_steps_cuda = {NULL, NULL, NULL, impls};
#endif
