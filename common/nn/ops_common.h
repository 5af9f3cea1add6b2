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
 * A batch's per-step ops (10^4..10^6 elements) take tens to hundreds of
 * microseconds on one core, an OpenMP fork and barrier a few microseconds
 * while the team spins. At 2^20 every such op ran serial and the second
 * core waited a quarter of an SR-GNN step; at 2^15 (make bench, idle
 * 2-core machine) SR-GNN trains 7% and GCE-GNN 16% faster, 2^13 no better.
 * The cost: where a worker is descheduled (a machine busy with other jobs)
 * a barrier waits for it, and libgomp's long default spinning made that
 * wait hold the very core it needed: the tools cut the spin count at start
 * (common/cli.c, set_omp_spin). schedule(static) keeps the split
 * fixed; loops under it must not reduce across iterations. */
#define NN_PAR_MIN (1u << 15)
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

/* Thread t's share [*c0, *c1) of m columns, cut at multiples of 8: loops
 * that add rows in order, each thread on its own columns, give every column
 * the same sum whatever the thread count, and the shares stay even (blocks of
 * 16 columns dealt whole left one of two threads 64 of 100). */
static inline void nn_col_share(int m, int t, int nt, int *c0, int *c1)
{
    *c0 = t == 0 ? 0 : (int)(((int64_t)m * t / nt + 4) / 8 * 8);
    *c1 = t == nt - 1 ? m : (int)(((int64_t)m * (t + 1) / nt + 4) / 8 * 8);
    if (*c1 > m)
        *c1 = m;
    if (*c0 > *c1)
        *c0 = *c1;
}

/* memset(p, 0, bytes), in parallel above NN_PAR_MIN floats. */
static inline void nn_par_zero(void *p, size_t bytes)
{
    size_t blk = (size_t)NN_PAR_MIN * 4, nb = (bytes + blk - 1) / blk;
#pragma omp parallel for schedule(static) if (nb > 1)
    for (size_t k = 0; k < nb; k++)
        memset((char *)p + k * blk, 0, bytes - k * blk < blk ? bytes - k * blk : blk);
}

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
