/* Every model body compiled for double: the reference of the whole-model gradient checks (_f64). */
#include "nn/ops_common.h"

#include "model/devmem.h"
#include "model/model.h"

#include "nn/real_f64.h"
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
const sbr_model_steps sbr_model_steps_f64 = {R(step_loss_grad), R(step_train), R(step_topk),
                                             impls};
