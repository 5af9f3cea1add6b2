/* cuBLAS and cuBLASLt are loaded at run time (common/cuda/cublas_load.cu):
 * sbr_cublas_load opens them once (the toolkit directory the build found,
 * then the loader's search path) and binds every function the op library
 * calls; 0, or -1 with e set ("cannot load cuBLAS (libcublas.so.13): ...").
 * sbr_nn_cuda_ctx_init calls it, so a tool pays for cuBLAS only when it
 * makes a GPU context. */
#ifndef SBR_CUDA_CUBLAS_LOAD_H
#define SBR_CUDA_CUBLAS_LOAD_H

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif
int sbr_cublas_load(sbr_err *e);
#ifdef __cplusplus
}
#endif

#endif
