/* What every op body (*.inc) may use; included once at the top of ops_f32.c
 * and ops_f64.c before the element type is defined. */
#ifndef SBR_NN_OPS_COMMON_H
#define SBR_NN_OPS_COMMON_H

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "rng.h"

#endif
