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

#include <omp.h>

#include "nn/nn.h"
#include "nn/simd.h"
#include "rng.h"

/* A parallel loop over `work` elements that stays serial below NN_PAR_MIN.
 * Per-step ops of a batch (a few 100K elements) are memory-bound and take
 * well under a millisecond on one core, while an OpenMP barrier costs a
 * scheduler time slice (~4-8 ms) whenever a worker is descheduled — on a
 * busy machine, or next to OpenBLAS's own spinning threads. So only large
 * loops (optimizer steps over every parameter) go parallel. schedule(static)
 * keeps the split fixed; loops under it must not reduce across iterations. */
#define NN_PAR_MIN (1u << 20)
#define NN_PRAGMA(x) _Pragma(#x)
#define NN_PAR(work) NN_PRAGMA(omp parallel for schedule(static) if ((size_t)(work) >= NN_PAR_MIN))
/* The same for element-wise loops the compiler may vectorise. */
#define NN_PAR_SIMD(work) \
    NN_PRAGMA(omp parallel for simd schedule(static) if ((size_t)(work) >= NN_PAR_MIN))

/* Chunked item loops (score_ce, topk) split the catalogue into chunks and
 * the chunks into NN_LANES lanes: lane v takes chunks v, v + NN_LANES, ...
 * in order and owns its accumulators; lanes are merged in lane order. So the
 * result depends on the chunk size but not on the thread count. */
#define NN_LANES SBR_NN_LANES

static inline size_t nn_align64(size_t n) { return (n + 63) / 64 * 64; }

/* Inside our own parallel regions every BLAS call must be single-threaded
 * (OpenBLAS's pthreads would fight OpenMP's for the cores). */
static inline int nn_blas_serial_begin(int nt)
{
    int n = openblas_get_num_threads();
    if (nt > 1 && n > 1)
        openblas_set_num_threads(1);
    return n;
}

static inline void nn_blas_serial_end(int nt, int saved)
{
    if (nt > 1 && saved > 1)
        openblas_set_num_threads(saved);
}

#endif
