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

/* A parallel loop over `work` elements that stays serial below ~64K: the
 * threads' start-up costs more than small loops. schedule(static) keeps the
 * split fixed; loops under it must not reduce across iterations. */
#define NN_PRAGMA(x) _Pragma(#x)
#define NN_PAR(work) NN_PRAGMA(omp parallel for schedule(static) if ((size_t)(work) > 65536))

#endif
