/* The CUDA mirror of the op library: how to set up a context and move data.
 *
 * The ops themselves, sbr_nn_OP_forward_cuda / _backward_cuda, are declared
 * by common/nn/nn.h from the same common/nn/api.inc as the CPU ops (with
 * real = float and R(name) = name##_cuda), so their parameter lists cannot
 * drift from the CPU's: every pointer is a DEVICE pointer (index, length and
 * mask arrays too), sizes and hyper-parameters are host values.
 *
 *   sbr_nn_ctx ctx; sbr_err e;
 *   if (sbr_nn_cuda_ctx_init(&ctx, 64 << 20, &e) < 0) die(e.msg);
 *   float *x = sbr_cuda_malloc(n * sizeof *x, &e);    // or a CUDA arena
 *   sbr_cuda_h2d(x, host_x, n * sizeof *x);
 *   sbr_nn_linear_forward_cuda(&ctx, y, x, w, b, n, in, out);
 *   sbr_nn_cuda_sync(&ctx);                 // errors and violations surface here
 *   sbr_nn_cuda_ctx_free(&ctx);
 *
 * Every op runs on ctx->stream (a blocking stream: the plain copies below,
 * on the default stream, wait for it). Deterministic like the CPU: no float
 * atomics, fixed reduction trees; cuBLAS runs with atomics disallowed and
 * full FP32 (no TF32), so a run repeats bit for bit on the same GPU. Results
 * differ from the CPU's in the last bits (other summation orders); tests/cuda
 * bounds the difference by atol + rtol |cpu|. Dropout and the other random
 * ops draw exactly the CPU's numbers (cuda/rng_cuda.cuh).
 *
 * Contract violations inside a kernel (an index or a length out of range)
 * cannot abort at once: the kernel skips the bad element and records it, and
 * the next sbr_nn_cuda_sync() or sbr_cuda_d2h() prints "sbr nn: OP (cuda):
 * what" and aborts. */
#ifndef SBR_NN_CUDA_H
#define SBR_NN_CUDA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* err.h is C11 (_Noreturn); the .cu files that include it are C++. */
#if defined(__cplusplus) && !defined(_Noreturn)
#define _Noreturn [[noreturn]]
#endif
#ifdef __cplusplus
extern "C" {
#endif
#include "err.h"
#ifdef __cplusplus
}
#endif
#include "nn/nn.h"

#if !(defined(SBR_HAVE_CUDA) && SBR_HAVE_CUDA)
#error "cuda/nn_cuda.h needs a build with SBR_HAVE_CUDA=1 (nvcc found)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A context on the current device: a cuBLAS handle bound to a new stream
 * and scratch_bytes of device scratch. -1 with e set when no GPU is usable,
 * or SBR_GEMM / SBR_CUBLAS_MATH hold a value not known (docs/GPU.md). */
int sbr_nn_cuda_ctx_init(sbr_nn_ctx *ctx, size_t scratch_bytes, sbr_err *e);
void sbr_nn_cuda_ctx_free(sbr_nn_ctx *ctx);
/* Under SBR_GEMM=lt: the GEMM shapes cached with a cublasLt algorithm, and in
 * *none those cublasLt had none for (they run on cuBLAS); 0 otherwise. */
int sbr_cuda_gemm_lt_plans(const sbr_nn_ctx *ctx, int *none);
/* Waits for the context's stream; aborts with a clear message on a CUDA
 * error or on a contract violation recorded by a kernel since the last call. */
void sbr_nn_cuda_sync(sbr_nn_ctx *ctx);

/* Device memory: NULL with e set when short. */
void *sbr_cuda_malloc(size_t bytes, sbr_err *e);
void sbr_cuda_free(void *p);
/* Synchronous copies and fill (they wait for the context streams' work).
 * A failure here is a lost device or a bad pointer: message and abort. */
void sbr_cuda_h2d(void *dst, const void *src, size_t bytes);
void sbr_cuda_d2h(void *dst, const void *src, size_t bytes);
void sbr_cuda_d2d(void *dst, const void *src, size_t bytes);
void sbr_cuda_memset(void *dst, int byte, size_t bytes);
/* A fill queued on the context's stream, in order with its ops. */
void sbr_cuda_memset_async(sbr_nn_ctx *ctx, void *dst, int byte, size_t bytes);

/* Device scratch (ctx->scratch_bytes) the CUDA ops need beyond the CPU's:
 * embedding_backward groups positions by index with a radix sort (with less
 * scratch it falls back to an O(n^2 d) kernel with the same result). */
size_t sbr_nn_embedding_backward_scratch_cuda(int n, int V);
/* mha_backward keeps a row sum per (row, head, query) (no float atomics):
 * B * heads * L floats. sbr_nn_mhsa_scratch_cuda already counts them. */
size_t sbr_nn_mha_backward_scratch_cuda(int B, int L, int nh);

/* Arenas in device memory use sbr_cuda_allocator (common/cuda/device_info.cu). */

/* Asynchronous uploads, for the training loop: a copy from page-locked host
 * memory (sbr_cuda_host_alloc) queued on the context's stream, so the host
 * goes on to prepare the next batch while the GPU works. The source must
 * stay untouched until an event recorded after the copy has completed. */
void *sbr_cuda_host_alloc(size_t bytes); /* page-locked; aborts when short */
void sbr_cuda_host_free(void *p);
void sbr_cuda_h2d_async(sbr_nn_ctx *ctx, void *dst, const void *src, size_t bytes);
void *sbr_cuda_event_new(void);                        /* a cudaEvent_t (no timing) */
void sbr_cuda_event_record(void *ev, sbr_nn_ctx *ctx); /* after the stream's work so far */
void sbr_cuda_event_wait(void *ev);                    /* host waits for it */
void sbr_cuda_event_free(void *ev);

/* The count at the end of a CSR offset array on the device (ptr[T]), which
 * the backward passes need on the host to size their sorts. The batch
 * feeder tells the runtime the values it has just uploaded
 * (sbr_cuda_known_int, forgotten at the next sbr_cuda_known_clear); a
 * value not told is read back, which waits for the GPU. */
void sbr_cuda_known_clear(void);
void sbr_cuda_known_int(const int32_t *dev_addr, int32_t value);
int32_t sbr_cuda_read_int(sbr_nn_ctx *ctx, const int32_t *dev_addr);

/* acc[0] += ce + xl and acc[1] += xl on the device, where ce = sum(loss[0..B))
 * / B and xl = xw * sum(xloss[0..B)) (0 when xloss is NULL), each sum in
 * double in increasing index: the same arithmetic as the host reading the
 * losses back, without waiting for the step to finish. acc: 2 doubles. */
void sbr_cuda_loss_accumulate(sbr_nn_ctx *ctx, double *acc, const float *loss, int B,
                              const float *xloss, double xw);

/* Column sums acc [m] += the sum of the rows of a [n, m] (row stride lda),
 * several in one launch (the bias gradients of one backward), each with the
 * bits its own sum would give (kernels.cuh: sbr_cuda_colsum_acc_ld, which
 * linear's db uses). Jobs with acc NULL or nothing to sum are skipped; the
 * jobs' acc may not overlap (their blocks add at once). */
#define SBR_COLSUM_JOBS 8
typedef struct {
    float *acc;     /* [m] += */
    const float *a; /* [n, m], row stride lda */
    size_t lda;
    int n, m;
} sbr_colsum_job;
void sbr_cuda_colsum_multi(sbr_nn_ctx *ctx, const sbr_colsum_job *jobs, int n_jobs,
                           const char *op);

/* "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB" into buf; -1 when no GPU. */
int sbr_cuda_describe(char *buf, size_t n);

/* Wall time of GPU work between two marks, in milliseconds (CUDA events on
 * the context's stream). Used by tests/cuda and the benchmarks. */
typedef struct {
    void *start, *stop; /* cudaEvent_t */
} sbr_cuda_timer;
void sbr_cuda_timer_start(sbr_cuda_timer *t, sbr_nn_ctx *ctx);
double sbr_cuda_timer_stop_ms(sbr_cuda_timer *t, sbr_nn_ctx *ctx); /* waits; frees the events */

/* The step profiler (cuda/profile.cu): between begin and end, every checked
 * kernel launch and cuBLAS call on ctx's stream records an event after
 * itself, behind a 20 ms hold that lets the host queue the whole step first
 * (so no idle time is counted). report prints, per launch site, its calls
 * and GPU milliseconds per profiled step, the largest first, and starts
 * over. For diagnosis only: a profiled step waits for the GPU twice. */
void sbr_cuda_prof_begin(sbr_nn_ctx *ctx);
void sbr_cuda_prof_end(void);
void sbr_cuda_prof_report(FILE *out, const char *title);

#ifdef __cplusplus
}
#endif

#endif
