/* Vectorised float kernels: see simd.h. */
#include "nn/simd.h"

#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));

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

/* e^x for x <= 0 (or NaN), down into the subnormals: as EXP8, but 2^k is
 * applied as 2^(k+64) (exact) then 2^-64 (one rounding, into a subnormal
 * when k < -126), so e^x is right down to -103.9; below -104 it is 0. The
 * shift is on unsigned lanes: no signed overflow even for a NaN's bits. */
#define EXPN8(out, xin)                                                            \
    do {                                                                           \
        v8f ex_ = (xin), ez_ = {0};                                                \
        v8i eu_ = ex_ < -104.0f;                                                   \
        v8f ec_ = BLEND(eu_, ez_ - 104.0f, ex_);                                   \
        v8f et_ = ec_ * 1.44269504f + 12582912.0f;                                 \
        v8f ek_ = et_ - 12582912.0f;                                               \
        v8f er_ = ec_ - ek_ * 0.693359375f + ek_ * 2.12194440e-4f;                 \
        v8f ep_ = er_ * 1.9875691500e-4f + 1.3981999507e-3f;                       \
        ep_ = ep_ * er_ + 8.3334519073e-3f;                                        \
        ep_ = ep_ * er_ + 4.1665795894e-2f;                                        \
        ep_ = ep_ * er_ + 1.6666665459e-1f;                                        \
        ep_ = ep_ * er_ + 5.0000001201e-1f;                                        \
        ep_ = ep_ * er_ * er_ + er_ + 1.0f;                                        \
        v8u eb_ = ((v8u)et_ - 0x4B400000u + (64u + 127u)) << 23;                   \
        (out) = (v8f)((v8i)(ep_ * (v8f)eb_ * 5.42101086e-20f) & ~eu_); /* 2^-64 */ \
    } while (0)

/* sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0, e^-|x| / (1 + e^-|x|) below:
 * e^ of a non-positive number only, so nothing overflows; one division. */
#define SIGMOID8(out, xin)                                                         \
    do {                                                                           \
        v8f sx_ = (xin), so_ = {0}, se_;                                           \
        so_ += 1.0f;                                                               \
        v8f sa_ = (v8f)((v8i)sx_ & INT32_MAX);                                     \
        EXPN8(se_, -sa_);                                                          \
        (out) = BLEND(sx_ < 0.0f, se_, so_) / (so_ + se_);                         \
    } while (0)

/* tanh(|x|): below 0.625 the odd polynomial of Cephes' tanhf (no
 * cancellation near 0), else (1 - e^-2|x|) / (1 + e^-2|x|) (1 at large |x|);
 * then x's sign bit (so -0 stays -0, NaN stays NaN). */
#define TANH8(out, xin)                                                            \
    do {                                                                           \
        v8f tx_ = (xin), te_;                                                      \
        v8i ts_ = (v8i)tx_ & INT32_MIN;                                            \
        v8f ta_ = (v8f)((v8i)tx_ ^ ts_);                                           \
        v8f tz_ = ta_ * ta_;                                                       \
        v8f tp_ = tz_ * -5.70498872745e-3f + 2.06390887954e-2f;                    \
        tp_ = tp_ * tz_ - 5.37397155531e-2f;                                       \
        tp_ = tp_ * tz_ + 1.33314422036e-1f;                                       \
        tp_ = tp_ * tz_ - 3.33332819422e-1f;                                       \
        tp_ = tp_ * tz_ * ta_ + ta_;                                               \
        EXPN8(te_, ta_ * -2.0f);                                                   \
        v8f tq_ = (1.0f - te_) / (1.0f + te_);                                     \
        (out) = (v8f)((v8i)BLEND(ta_ < 0.625f, tp_, tq_) | ts_);                   \
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

SBR_CLONES float sbr_nn_expent_f32(const float *x, int n, float m, float *t)
{
    v8f acc = {0}, tac = {0}, zero = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f v, e;
        memcpy(&v, x + j, sizeof v);
        v -= m;
        EXP8(e, v);
        acc += e;
        tac += BLEND(e > 0.0f, e * v, zero); /* e = 0 at -inf: 0, not 0 * -inf */
    }
    float s = 0, ts = 0;
    if (j < n) {
        v8f v = {0}, e;
        memcpy(&v, x + j, (size_t)(n - j) * sizeof(float));
        v -= m;
        EXP8(e, v);
        for (int k = 0; k < n - j; k++) {
            s += e[k];
            ts += e[k] > 0 ? e[k] * v[k] : 0;
        }
    }
    for (int k = 0; k < 8; k++)
        s += acc[k], ts += tac[k];
    *t = ts;
    return s;
}

SBR_CLONES float sbr_nn_dot_f32(const float *a, const float *b, int n)
{
    v8f acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f va, vb;
        memcpy(&va, a + j, sizeof va);
        memcpy(&vb, b + j, sizeof vb);
        acc += va * vb;
    }
    float s = 0;
    for (int k = 0; k < 8; k++)
        s += acc[k];
    for (; j < n; j++)
        s += a[j] * b[j];
    return s;
}

SBR_CLONES float sbr_nn_dot_lrelu_f32(const float *q, const float *u, int n, float slope)
{
    v8f acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f vq, vu;
        memcpy(&vq, q + j, sizeof vq);
        memcpy(&vu, u + j, sizeof vu);
        acc += vq * BLEND(vu > 0.0f, vu, vu * slope);
    }
    float s = 0;
    for (int k = 0; k < 8; k++)
        s += acc[k];
    for (; j < n; j++)
        s += q[j] * (u[j] > 0 ? u[j] : slope * u[j]);
    return s;
}

SBR_CLONES void sbr_nn_adam_f32(float *p, float *g, float *m, float *v, long n, float b1,
                                float b2, float cw, float dw, float step, float bc2, float eps,
                                int zero_grad)
{
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float pi = p[i] - dw * p[i], gi = g[i] + cw * p[i];
        float mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        g[i] = zero_grad ? 0 : g[i];
        p[i] = pi - step * mi / (sqrtf(vi) / bc2 + eps);
    }
}

/* y[0..n) = f(x[0..n)): full vectors, then the tail through a zeroed one.
 * Each lane's result depends on its input alone. */
#define MAP8(KERNEL, y, x, n)                                                      \
    do {                                                                           \
        int j_ = 0;                                                                \
        for (; j_ + 8 <= (n); j_ += 8) {                                           \
            v8f v_;                                                                \
            memcpy(&v_, (x) + j_, sizeof v_);                                      \
            KERNEL(v_, v_);                                                        \
            memcpy((y) + j_, &v_, sizeof v_);                                      \
        }                                                                          \
        if (j_ < (n)) {                                                            \
            v8f v_ = {0};                                                          \
            memcpy(&v_, (x) + j_, (size_t)((n) - j_) * sizeof(float));             \
            KERNEL(v_, v_);                                                        \
            memcpy((y) + j_, &v_, (size_t)((n) - j_) * sizeof(float));             \
        }                                                                          \
    } while (0)

SBR_CLONES void sbr_nn_sigmoid_f32(float *y, const float *x, int n)
{
    MAP8(SIGMOID8, y, x, n);
}

SBR_CLONES void sbr_nn_tanh_f32(float *y, const float *x, int n)
{
    MAP8(TANH8, y, x, n);
}

/* Lanes j..j+m of one GRU row (m = 8 in the main loop, a constant, so the
 * copies are plain vector loads; the tail's lanes past m are zeros). */
#define GRU8(j, m)                                                                 \
    do {                                                                           \
        size_t b_ = (size_t)(m) * sizeof(float);                                   \
        v8f ir_ = {0}, iz_ = {0}, in_ = {0}, hr_ = {0}, hz_ = {0}, hn_ = {0};      \
        v8f hv_ = {0}, r_, z_, n_;                                                 \
        memcpy(&ir_, gi + (j), b_), memcpy(&hr_, gh + (j), b_);                    \
        memcpy(&iz_, gi + H + (j), b_), memcpy(&hz_, gh + H + (j), b_);            \
        memcpy(&in_, gi + 2 * H + (j), b_), memcpy(&hn_, gh + 2 * H + (j), b_);    \
        if (h)                                                                     \
            memcpy(&hv_, h + (j), b_);                                             \
        SIGMOID8(r_, ir_ + hr_);                                                   \
        SIGMOID8(z_, iz_ + hz_);                                                   \
        TANH8(n_, in_ + r_ * hn_);                                                 \
        v8f o_ = n_ + z_ * (hv_ - n_);                                             \
        memcpy(gates + (j), &r_, b_), memcpy(gates + H + (j), &z_, b_);            \
        memcpy(gates + 2 * H + (j), &n_, b_), memcpy(ghn + (j), &hn_, b_);         \
        memcpy(hnew + (j), &o_, b_);                                               \
    } while (0)

SBR_CLONES void sbr_nn_gru_gates_f32(float *hnew, float *gates, float *ghn, const float *gi,
                                     const float *gh, const float *h, int H)
{
    int j = 0;
    for (; j + 8 <= H; j += 8)
        GRU8(j, 8);
    if (j < H)
        GRU8(j, H - j);
}

/* The dropout mask: a counter-based hash per element (common/rng.h's
 * sbr_rng_hash, its seed's key hoisted) and an integer threshold, four lanes
 * at a time. A 64-bit multiply per lane is what the AVX2 clone emulates with
 * 32-bit ones; the scalar loop took a quarter of a CORE step, masking its
 * 4.3 M item embeddings. */
typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* integers: every clone gives the same bits; skylake-avx512 (AVX-512DQ) multiplies 64-bit
 * lanes natively */
#ifdef SBR_NO_TARGET_CLONES
#define SBR_CLONES_INT
#else
#define SBR_CLONES_INT __attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif

SBR_CLONES_INT void sbr_nn_dropout_mask(uint8_t *mask, long n, uint64_t seed, uint64_t offset,
                                    uint64_t thr)
{
    const uint64_t golden = 0x9e3779b97f4a7c15ULL;
    uint64_t key = sbr_rng_mix64(seed + golden);
    v4u64 lane = {1, 2, 3, 4};
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        v4u64 z = key + (offset + (uint64_t)i + lane) * golden;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z = ((z ^ (z >> 31)) >> 11) >= thr; /* all ones where kept */
        for (int k = 0; k < 4; k++)
            mask[i + k] = (uint8_t)(z[k] & 1);
    }
    for (; i < n; i++)
        mask[i] = (uint8_t)((sbr_rng_mix64(key + (offset + (uint64_t)i + 1) * golden) >> 11) >= thr);
}
