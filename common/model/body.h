/* What a model body sees: compiled once per precision by the Makefile, with
 * SBR_BODY_F32 (real = float, names suffixed _f32, the CPU path),
 * SBR_BODY_F64 (double, _f64: the whole-model gradient checks) or
 * SBR_BODY_CUDA (float on device pointers, _cuda: the GPU path; plain C
 * calling the CUDA mirror of the ops). Include it first. */
#ifndef SBR_MODEL_BODY_H
#define SBR_MODEL_BODY_H

#include "nn/ops_common.h"

#include "model/def.h"
#include "model/devmem.h"

#if defined(SBR_BODY_F64)
#include "nn/real_f64.h"
#elif defined(SBR_BODY_CUDA)
#if !(defined(SBR_HAVE_CUDA) && SBR_HAVE_CUDA)
#error "a _cuda model body in a build without CUDA"
#endif
#include "cuda/nn_cuda.h"
#define real float
#define R(name) name##_cuda
#elif defined(SBR_BODY_F32)
#include "nn/real_f32.h"
#else
#error "compile a model body with SBR_BODY_F32, SBR_BODY_F64 or SBR_BODY_CUDA"
#endif

#include "model/body/front.h"
#include "model/body/dropout.h"

/* A model's state: m->state, of its own type (def->state_size bytes). */
#define SBR_STATE(type, m) ((type *)(m)->state)

/* Consecutive pieces of one buffer: the backward's gradient buffers, zeroed
 * together by one fill. The same cuts size the block in layout (base NULL)
 * and carve it in backward (for the batch at hand), so the two cannot
 * disagree. */
typedef struct {
    real *base;
    size_t n; /* reals cut so far */
} R(sbr_carve);

static inline real *R(sbr_cut)(R(sbr_carve) *c, size_t n)
{
    real *p = c->base ? c->base + c->n : NULL;
    c->n += n;
    return p;
}

/* dst [n] = v on the model's device. */
static inline void R(sbr_fill)(sbr_model *m, real *dst, double v, int64_t n)
{
    sbr_dev_fill(m->prec, dst, v, n);
}

#endif
