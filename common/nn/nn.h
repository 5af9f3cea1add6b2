/* The op library of the training core: every layer of every model, written
 * once as a CPU reference and mirrored on CUDA with identical signatures.
 *
 * Each op is a pair of functions, NAME_forward and NAME_backward, declared in
 * common/nn/api.inc for an element type `real` and a name suffix:
 *   NAME_f32   float, OpenBLAS sgemm, OpenMP    (common/nn/ops_f32.c)
 *   NAME_f64   double, dgemm: the reference of the gradient checks (ops_f64.c)
 *   NAME_cuda  float on device pointers, cuBLAS (the CUDA mirror, *.cu)
 * The rules every op follows (docs/OPS.md):
 *   - pointers + sizes + a context; no allocation, no I/O, no global state;
 *     temporaries come from ctx->scratch, of the size NAME_scratch() says;
 *   - shapes of every buffer are written beside the parameter: [B, L, d] is
 *     row-major, the last index fastest;
 *   - backward ACCUMULATES (+=) into every gradient it is given, parameter and
 *     input gradients alike (llm.c style): zero gradient buffers before the
 *     backward pass. A NULL gradient pointer means "not needed";
 *   - deterministic: no float atomics, every reduction in a fixed order that
 *     does not depend on the thread count (docs/OPS.md says which order);
 *   - a violated contract (a size that does not fit, scratch too small) is a
 *     programming error: sbr_nn_fail prints it and aborts. Bad *data* (an
 *     item id out of range) is checked by the caller when it is read. */
#ifndef SBR_NN_H
#define SBR_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "nn/arena.h"

typedef struct {
    void *scratch;        /* temporaries of one op call: host memory for _f32/_f64,
                             device memory for _cuda; reused by the next op */
    size_t scratch_bytes;
    void *cublas;         /* cublasHandle_t of the _cuda ops; NULL on the CPU */
    void *stream;         /* cudaStream_t of the _cuda ops; NULL on the CPU */
    void *gemm;           /* cublasLt state of the _cuda GEMMs (SBR_GEMM=lt), or NULL */
} sbr_nn_ctx;

/* "sbr nn: OP: what" on stderr, then abort(): contract violations only. */
void sbr_nn_fail(const char *op, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

#define SBR_NN_REQUIRE(cond, op, ...)                                              \
    do {                                                                           \
        if (!(cond))                                                               \
            sbr_nn_fail(op, __VA_ARGS__);                                          \
    } while (0)

/* A good chunk size for score_ce / topk on the CPU at d ~ 100 (bench-ops:
 * 512..4096 are within noise of each other; smaller chunks pay per-call
 * overhead, larger ones leave the core's cache). */
#define SBR_NN_CHUNK 2048
/* Lanes the chunks of score_ce / topk are dealt to (ops_common.h). */
#define SBR_NN_LANES 16

/* Adam hyper-parameters (see the optimisation section of api.inc). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int decoupled; /* 0: Adam with coupled L2 (torch Adam); 1: AdamW */
    /* 1: g is zeroed as it is read (the training step's next backward
     * accumulates into it), sparing a separate pass over every gradient. */
    int zero_grad;
} sbr_nn_adam_cfg;

/* Step decay of the learning rate: lr0 * gamma^floor(epoch / step_size)
 * (torch StepLR; SR-GNN: gamma 0.1 every 3 epochs). step_size <= 0: lr0. */
double sbr_nn_lr_step(double lr0, double gamma, int step_size, int epoch);

/* The API for each element type. */
#include "nn/real_f32.h"
#include "nn/api.inc"
#include "nn/real_undef.h"

#include "nn/real_f64.h"
#include "nn/api.inc"
#include "nn/real_undef.h"

#if defined(SBR_HAVE_CUDA) && SBR_HAVE_CUDA
/* The CUDA mirror: the same parameter lists on device pointers. */
#define real float
#define R(name) name##_cuda
#define SBR_NN_API_CUDA 1
#include "nn/api.inc"
#undef SBR_NN_API_CUDA
#include "nn/real_undef.h"
#endif

#ifdef __cplusplus
}
#endif

#endif
