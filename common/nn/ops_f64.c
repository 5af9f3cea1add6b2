/* The double-precision CPU ops (the reference of the gradient checks): each
 * op body (*.inc) compiled with real = double and names suffixed _f64. Keep
 * the #include list identical to ops_f32.c. */
#include "nn/ops_common.h"

#include "nn/real_f64.h"

#include "nn/gemm.inc"
#include "nn/linear.inc"
#include "nn/activations.inc"
#include "nn/elementwise.inc"
#include "nn/embedding.inc"
#include "nn/layernorm.inc"
#include "nn/dropout.inc"
#include "nn/l2norm.inc"
#include "nn/pooling.inc"
#include "nn/attention.inc"
#include "nn/score_ce.inc"
#include "nn/topk.inc"
#include "nn/optim.inc"
#include "nn/init.inc"
#include "nn/gru.inc"
#include "nn/ggnn.inc"
#include "nn/gaussian.inc"
#include "nn/hinge.inc"
#include "nn/edge_attention.inc"
#include "nn/mhsa.inc"
#include "nn/score_multi.inc"
#include "nn/target_score.inc"
