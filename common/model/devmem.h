/* Moving tensors between the host and the device a model computes on. For
 * the CPU precisions these are memcpy; for CUDA, cudaMemcpy (synchronous). */
#ifndef SBR_MODEL_DEVMEM_H
#define SBR_MODEL_DEVMEM_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

void sbr_dev_upload(sbr_prec p, void *dst, const void *src, size_t bytes);
void sbr_dev_download(sbr_prec p, void *dst, const void *src, size_t bytes);
/* Floats out of and into the model's memory, whatever its precision (the
 * gradient checks' f64 models keep doubles): dst [n] floats from src [n]
 * reals of precision p on its device, and dst [n] reals from src [n] floats. */
void sbr_dev_download_f32(sbr_prec p, float *dst, const void *src, size_t n);
void sbr_dev_upload_f32(sbr_prec p, void *dst, const float *src, size_t n);
/* dst [n] of the precision's real = v. */
void sbr_dev_fill(sbr_prec p, void *dst, double v, int64_t n);
/* Allocator of the precision's memory (host or CUDA). */
const sbr_allocator *sbr_dev_allocator(sbr_prec p);

#ifdef SBR_HAVE_CUDA
/* common/cuda/device_info.cu; the rest comes from cuda/nn_cuda.h. The fill
 * runs on the legacy default stream: ordered with the models' work only
 * because their context's stream is a blocking one (cuda/nn_cuda.h). */
void sbr_cuda_fill_f32(float *dst, float v, int64_t n);
extern const sbr_allocator sbr_cuda_allocator;
#endif

#endif
