/* Error checking of every CUDA runtime and cuBLAS call of the CUDA mirror.
 *
 *   SBR_CUDA_CHECK(cudaMemcpy(...));
 *   SBR_CUBLAS_CHECK(cublasSgemm(...));
 *   kernel<<<g, b, 0, s>>>(...); SBR_CUDA_LAUNCHED("linear_forward");
 *
 * SBR_CUDA_LAUNCHED names the op (any string) in its message.
 * A failing call inside an op is a programming error or a lost device (the
 * ops return void, like their CPU twins): it prints
 *   sbr cuda: FILE:LINE: CALL: cudaErrorXxx: what the runtime says
 * and aborts. Code that can report (context set-up, allocation) returns -1
 * with an sbr_err instead (see nn_cuda.h). Only .cu files include this. */
#ifndef SBR_CUDA_CHECK_H
#define SBR_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Prints "sbr cuda: file:line: what: why" and aborts. */
void sbr_cuda_fail(const char *file, int line, const char *what, const char *why)
    __attribute__((noreturn));
/* The step profiler (cuda/profile.cu, nn_cuda.h): while it is on, every
 * checked launch and cuBLAS call records an event after itself. */
extern int sbr_cuda_prof_on;
void sbr_cuda_prof_mark(const char *file, int line, const char *what);
#ifdef __cplusplus
}
#endif

#define SBR_CUDA_CHECK(call)                                                       \
    do {                                                                           \
        cudaError_t err_ = (call);                                                 \
        if (err_ != cudaSuccess)                                                   \
            sbr_cuda_fail(__FILE__, __LINE__, #call, cudaGetErrorString(err_));   \
    } while (0)

#define SBR_CUBLAS_CHECK(call)                                                     \
    do {                                                                           \
        cublasStatus_t st_ = (call);                                               \
        if (st_ != CUBLAS_STATUS_SUCCESS)                                          \
            sbr_cuda_fail(__FILE__, __LINE__, #call, cublasGetStatusString(st_));  \
        if (sbr_cuda_prof_on)                                                      \
            sbr_cuda_prof_mark(__FILE__, __LINE__, __func__);                      \
    } while (0)

/* After a kernel launch: a bad configuration shows here, a fault in the
 * kernel at the next synchronising call. */
#define SBR_CUDA_LAUNCHED(op)                                                      \
    do {                                                                           \
        cudaError_t err_ = cudaGetLastError();                                     \
        if (err_ != cudaSuccess)                                                   \
            sbr_cuda_fail(__FILE__, __LINE__, op, cudaGetErrorString(err_));       \
        if (sbr_cuda_prof_on)                                                      \
            sbr_cuda_prof_mark(__FILE__, __LINE__, op);                            \
    } while (0)

#endif
