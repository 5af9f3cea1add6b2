/* Helpers of the GPU-vs-CPU tests (tests/cuda): paired buffers that hold the
 * same data on the host (for the CPU f32 reference) and on the device (for
 * the _cuda op), and the comparison |gpu - cpu| <= atol + rtol |cpu|.
 *
 *   TEST(cuda_relu) {
 *       CT_BEGIN();                              // SKIP when no GPU is visible
 *       ct_buf x = ct_in(n, -1, 1), y = ct_out(n);
 *       sbr_nn_relu_forward_f32(NULL, y.h, x.h, n);
 *       sbr_nn_relu_forward_cuda(ct_ctx(), y.d, x.d, n);
 *       ct_check("y", y, 1e-6, 1e-7);
 *   }
 * Every buffer is freed by the next CT_BEGIN (or at exit). */
#ifndef SBR_CUDA_TEST_H
#define SBR_CUDA_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "../unit/harness.h"
#include "cuda/nn_cuda.h"

typedef struct {
    float *h; /* [n] host: input of the CPU op, or its output */
    float *d; /* [n] device: the same input, or the GPU op's output */
    size_t n;
} ct_buf;

typedef struct {
    int32_t *h, *d;
    size_t n;
} ct_ibuf;

typedef struct {
    uint8_t *h, *d;
    size_t n;
} ct_bbuf;

/* 1 when a GPU is usable (and frees the previous test's buffers); else 0
 * with the reason in ct_skip_reason(). */
int ct_begin(void);
const char *ct_skip_reason(void);
#define CT_BEGIN()                                                                 \
    do {                                                                           \
        if (!ct_begin())                                                           \
            SKIP("%s", ct_skip_reason());                                          \
    } while (0)

sbr_nn_ctx *ct_ctx(void); /* the shared context (64 MiB of scratch) */
/* A CPU context with `bytes` of host scratch (freed by the next CT_BEGIN). */
sbr_nn_ctx *ct_cpu_ctx(size_t bytes);

/* Fresh random data (a new stream per call), the same on both sides. */
ct_buf ct_in(size_t n, float lo, float hi);
/* An output: host zeros, device poisoned with NaN (every byte 0xFF), so an
 * element the kernel forgets to write fails the comparison. */
ct_buf ct_out(size_t n);
/* A gradient that ops accumulate into: random, the same on both sides. */
#define ct_acc(n) ct_in((n), -0.5f, 0.5f)
ct_ibuf ct_ints(size_t n, int lo, int hi); /* uniform in lo..hi */
/* A fresh host copy of n floats of dev, after waiting for the GPU (freed
 * with the test's buffers). */
float *ct_download(const float *dev, size_t n);
ct_ibuf ct_ints_from(const int32_t *v, size_t n);
ct_bbuf ct_bytes_out(size_t n);

/* Waits for the GPU, downloads b.d and compares it with b.h: returns the
 * number of elements outside atol + rtol |cpu| (NaN counts), reports the
 * first few with harness_fail. */
int ct_check(const char *what, ct_buf b, double rtol, double atol);
/* The same, bit for bit. */
int ct_check_bits(const char *what, const void *dev, const void *host, size_t bytes);
/* A top-K of the GPU (idx->d, sc->d) against the CPU's (idx->h, sc->h), [B,
 * K]: scores within 1e-5 + 1e-4 |cpu| rank by rank, the same items but for
 * near ties (reported through harness_fail). */
void ct_topk_compare(const ct_ibuf *idx, const ct_buf *sc, int B, int K);
/* Largest |gpu - cpu| / (atol + rtol |cpu|) of the last ct_check (for reports). */
double ct_last_ratio(void);

#endif
