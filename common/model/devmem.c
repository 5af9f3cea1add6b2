#include "model/devmem.h"

#include <math.h>
#include <string.h>

#include "err.h"
#ifdef SBR_HAVE_CUDA
#include "cuda/nn_cuda.h"
#endif

void sbr_dev_upload(sbr_prec p, void *dst, const void *src, size_t bytes)
{
#ifdef SBR_HAVE_CUDA
    if (p == SBR_PREC_CUDA) {
        sbr_cuda_h2d(dst, src, bytes);
        return;
    }
#endif
    (void)p;
    if (bytes)
        memcpy(dst, src, bytes);
}

void sbr_dev_download(sbr_prec p, void *dst, const void *src, size_t bytes)
{
#ifdef SBR_HAVE_CUDA
    if (p == SBR_PREC_CUDA) {
        sbr_cuda_d2h(dst, src, bytes);
        return;
    }
#endif
    (void)p;
    if (bytes)
        memcpy(dst, src, bytes);
}

void sbr_dev_download_f32(sbr_prec p, float *dst, const void *src, size_t n)
{
    if (p != SBR_PREC_F64) {
        sbr_dev_download(p, dst, src, n * sizeof(float));
        return;
    }
    const double *h = src; /* f64 models live on the host */
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)h[i];
}

void sbr_dev_upload_f32(sbr_prec p, void *dst, const float *src, size_t n)
{
    if (p != SBR_PREC_F64) {
        sbr_dev_upload(p, dst, src, n * sizeof(float));
        return;
    }
    double *h = dst;
    for (size_t i = 0; i < n; i++)
        h[i] = src[i];
}

/* Host fills: the models clear megabytes of gradient buffers per step, which
 * a serial loop did while the other cores waited. */
#define FILL_PAR ((int64_t)1 << 16)

void sbr_dev_fill(sbr_prec p, void *dst, double v, int64_t n)
{
    size_t es = p == SBR_PREC_F64 ? sizeof(double) : sizeof(float);
    if (p != SBR_PREC_CUDA && v == 0 && !signbit(v)) {
        if (n < FILL_PAR) {
            if (n > 0)
                memset(dst, 0, (size_t)n * es);
            return;
        }
        int64_t blocks = (n + FILL_PAR - 1) / FILL_PAR;
#pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < blocks; k++) {
            int64_t i0 = k * FILL_PAR, len = n - i0 < FILL_PAR ? n - i0 : FILL_PAR;
            memset((char *)dst + (size_t)i0 * es, 0, (size_t)len * es);
        }
        return;
    }
    switch (p) {
    case SBR_PREC_F64:
#pragma omp parallel for schedule(static) if (n >= FILL_PAR)
        for (int64_t i = 0; i < n; i++)
            ((double *)dst)[i] = v;
        break;
    case SBR_PREC_F32:
#pragma omp parallel for schedule(static) if (n >= FILL_PAR)
        for (int64_t i = 0; i < n; i++)
            ((float *)dst)[i] = (float)v;
        break;
    case SBR_PREC_CUDA:
#ifdef SBR_HAVE_CUDA
        sbr_cuda_fill_f32(dst, (float)v, n);
#else
        sbr_fatal("internal error: CUDA fill in a build without CUDA");
#endif
        break;
    }
}

const sbr_allocator *sbr_dev_allocator(sbr_prec p)
{
#ifdef SBR_HAVE_CUDA
    if (p == SBR_PREC_CUDA)
        return &sbr_cuda_allocator;
#endif
    (void)p;
    return &sbr_host_allocator;
}
