/* Vectorised float kernels: see simd.h. */
#include "nn/simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* m ? a : b, lane by lane (macros, not functions: a 32-byte vector argument
 * of a baseline-ISA function is an ABI question Clang refuses). */
#define BLEND(m, a, b) ((v8f)(((v8i)(a) & (m)) | ((v8i)(b) & ~(m))))

/* e^x = 2^k e^r with k = round(x / ln 2) and |r| <= ln2 / 2: r by a two-part
 * ln 2 (Cody-Waite), e^r by a degree-7 polynomial, 2^k built in the exponent
 * bits. Below -87 the result is 0; above 88 it saturates at e^88. */
#define EXP8(out, xin)                                                             \
    do {                                                                           \
        v8f x_ = (xin), zero_ = {0};                                               \
        v8i under_ = x_ < -87.0f;                                                  \
        v8f xc_ = BLEND(under_, zero_ - 87.0f, x_);                                \
        xc_ = BLEND(xc_ > 88.0f, zero_ + 88.0f, xc_);                              \
        v8f t_ = xc_ * 1.44269504f + 12582912.0f; /* + 1.5 * 2^23 rounds */        \
        v8f kf_ = t_ - 12582912.0f;                                                \
        v8f r_ = xc_ - kf_ * 0.693359375f + kf_ * 2.12194440e-4f;                  \
        v8f p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f;                         \
        p_ = p_ * r_ + 8.3334519073e-3f;                                           \
        p_ = p_ * r_ + 4.1665795894e-2f;                                           \
        p_ = p_ * r_ + 1.6666665459e-1f;                                           \
        p_ = p_ * r_ + 5.0000001201e-1f;                                           \
        p_ = p_ * r_ * r_ + r_ + 1.0f;                                             \
        v8i k_ = (v8i)t_ - 0x4B400000; /* k in the low mantissa bits of t */       \
        v8f scale_ = (v8f)((k_ + 127) << 23);                                      \
        (out) = (v8f)((v8i)(p_ * scale_) & ~under_);                               \
    } while (0)

/* An AVX2 clone beside the baseline, chosen at load time. Builds that cannot
 * resolve clones (clang's fuzzer builds) define SBR_NO_TARGET_CLONES and
 * get the baseline alone. */
#ifdef SBR_NO_TARGET_CLONES
#define SBR_CLONES
#else
#define SBR_CLONES __attribute__((target_clones("avx2", "default")))
#endif

SBR_CLONES float sbr_nn_max_f32(const float *x, int n)
{
    v8f zero = {0}, m = zero - INFINITY;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f v;
        memcpy(&v, x + j, sizeof v);
        m = BLEND(v > m, v, m);
    }
    float r = -INFINITY;
    for (int k = 0; k < 8; k++)
        r = m[k] > r ? m[k] : r;
    for (; j < n; j++)
        r = x[j] > r ? x[j] : r;
    return r;
}

SBR_CLONES float sbr_nn_expsum_f32(float *x, int n,
                                                                           float m, float w)
{
    v8f acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f v;
        memcpy(&v, x + j, sizeof v);
        EXP8(v, v - m);
        acc += v;
        v *= w;
        memcpy(x + j, &v, sizeof v);
    }
    float s = 0;
    if (j < n) {
        v8f v = {0};
        memcpy(&v, x + j, (size_t)(n - j) * sizeof(float));
        EXP8(v, v - m);
        for (int k = 0; k < n - j; k++)
            s += v[k];
        v *= w;
        memcpy(x + j, &v, (size_t)(n - j) * sizeof(float));
    }
    for (int k = 0; k < 8; k++)
        s += acc[k];
    return s;
}
