/* The vectorised float sigmoid / tanh / GRU-row kernels (nn/simd.c) against
 * double-precision libm: a sweep over every float exponent (both signs,
 * subnormals included), a dense sweep where the formulas switch, and the
 * special values. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"
#include "nn/simd.h"
#include "rng.h"

/* The bound of simd.h: |y - exact| <= SIMD_ACT_TOL * max(|exact|, FLT_MIN),
 * i.e. relative in the normal range and absolute (FLT_MIN * 3e-7, a fraction
 * of the subnormal spacing) below it. Measured max: see test output with
 * SBR_TEST_VERBOSE set. */
#define SIMD_ACT_TOL 3e-7

static double sig_ref(double x)
{
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

static float f_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* The inputs: every 4099th bit pattern of each sign (all exponents, many
 * subnormals), every float step of 2^-12 in [-128, 128], and dense runs of
 * consecutive floats around 0.625, 87, 104 (the switch points). */
static float *sweep_inputs(int *n_out)
{
    int cap = 3000000, n = 0;
    float *x = malloc((size_t)cap * sizeof(float));
    for (uint64_t u = 0; u < 0x7F800000u; u += 4099) {
        x[n++] = f_of_bits((uint32_t)u);
        x[n++] = -f_of_bits((uint32_t)u);
    }
    for (int i = -(128 << 12); i <= (128 << 12); i++)
        x[n++] = (float)i / 4096;
    const float centres[] = {0.625f, 0.3125f, 87.0f, 87.34f, 103.9f, 104.0f, 9.0f, 17.0f};
    for (size_t c = 0; c < sizeof centres / sizeof *centres; c++)
        for (int k = -2000; k <= 2000; k++) {
            float v = f_of_bits(bits_of(centres[c]) + (uint32_t)k);
            x[n++] = v, x[n++] = -v;
        }
    if (n > cap)
        abort();
    *n_out = n;
    return x;
}

static double rel_err(float y, double ref)
{
    double a = fabs(ref) > FLT_MIN ? fabs(ref) : FLT_MIN;
    return fabs((double)y - ref) / a;
}

TEST(nn_simd_sigmoid_tanh_vs_libm)
{
    int n;
    float *x = sweep_inputs(&n), *ys = malloc((size_t)n * sizeof(float)),
          *yt = malloc((size_t)n * sizeof(float));
    REQUIRE(x && ys && yt);
    sbr_nn_sigmoid_f32(ys, x, n);
    sbr_nn_tanh_f32(yt, x, n);
    double es = 0, et = 0;
    float xs = 0, xt = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        double d = x[i];
        double e1 = rel_err(ys[i], sig_ref(d)), e2 = rel_err(yt[i], tanh(d));
        if (e1 > es)
            es = e1, xs = x[i];
        if (e2 > et)
            et = e2, xt = x[i];
        /* Ranges: sigmoid in [0, 1], tanh in [-1, 1] with x's sign. */
        bad += !(ys[i] >= 0 && ys[i] <= 1) || !(yt[i] >= -1 && yt[i] <= 1) ||
               (signbit(yt[i]) != signbit(x[i]) && yt[i] != 0);
    }
    if (getenv("SBR_TEST_VERBOSE"))
        printf("  simd over %d inputs: sigmoid max rel err %.3g (x = %.9g), "
               "tanh %.3g (x = %.9g)\n",
               n, es, (double)xs, et, (double)xt);
    CHECK(es <= SIMD_ACT_TOL);
    CHECK(et <= SIMD_ACT_TOL);
    CHECK_EQ_I64(bad, 0);

    /* Lane independence: each value alone (the tail path) is bit-identical
     * to the same value inside a full vector. */
    int mism = 0;
    for (int i = 0; i < n; i += 997) {
        float a, b;
        sbr_nn_sigmoid_f32(&a, x + i, 1);
        sbr_nn_tanh_f32(&b, x + i, 1);
        mism += bits_of(a) != bits_of(ys[i]) || bits_of(b) != bits_of(yt[i]);
    }
    CHECK_EQ_I64(mism, 0);
    free(x), free(ys), free(yt);
}

TEST(nn_simd_sigmoid_tanh_specials)
{
    float nan = nanf(""), inf = INFINITY;
    float x[] = {0.0f, -0.0f, inf, -inf, nan, -nan, FLT_MAX, -FLT_MAX, 1e30f, -1e30f,
                 200.0f, -200.0f, 104.5f, -104.5f, FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MIN,
                 -FLT_MIN, 1e-30f, -1e-30f, 20.0f, -20.0f};
    enum { N = sizeof x / sizeof *x };
    float s[N], t[N];
    sbr_nn_sigmoid_f32(s, x, N);
    sbr_nn_tanh_f32(t, x, N);
    CHECK(s[0] == 0.5f && s[1] == 0.5f);
    CHECK(t[0] == 0 && !signbit(t[0]) && t[1] == 0 && signbit(t[1]));
    CHECK(s[2] == 1 && s[3] == 0 && t[2] == 1 && t[3] == -1);
    CHECK(isnan(s[4]) && isnan(s[5]) && isnan(t[4]) && isnan(t[5]));
    for (int i = 6; i < 14; i += 2) { /* saturated */
        CHECK(s[i] == 1 && s[i + 1] == 0);
        CHECK(t[i] == 1 && t[i + 1] == -1);
    }
    for (int i = 14; i < 20; i++) { /* tiny: sigmoid 1/2, tanh(x) = x */
        CHECK(s[i] == 0.5f);
        CHECK(bits_of(t[i]) == bits_of(x[i]));
    }
    /* sigmoid(-20) = 2.06e-9: relative accuracy where 1 - sigmoid(20) is 0. */
    CHECK(s[20] == 1 && fabs(s[21] / sig_ref(-20.0) - 1) <= SIMD_ACT_TOL);
    CHECK(t[20] == 1 && t[21] == -1);
    /* sigmoid(-100) = 3.7e-44: a subnormal, not flushed. */
    float xm = -100, ym;
    sbr_nn_sigmoid_f32(&ym, &xm, 1);
    CHECK(ym > 0 && fabs(ym - sig_ref(-100)) <= FLT_TRUE_MIN);
    /* In place. */
    float v[3] = {1, -2, 0.5f}, w[3];
    sbr_nn_tanh_f32(w, v, 3);
    sbr_nn_tanh_f32(v, v, 3);
    CHECK(memcmp(v, w, sizeof v) == 0);
}

/* The GRU-row kernel against the double formula of nn/gru.inc, for widths
 * around the vector length (tails) and with / without a previous state. */
TEST(nn_simd_gru_gates)
{
    const int Hs[] = {0, 1, 7, 8, 9, 16, 100};
    for (size_t c = 0; c < sizeof Hs / sizeof *Hs; c++) {
        int H = Hs[c];
        for (int withh = 0; withh < 2; withh++) {
            size_t n3 = 3 * (size_t)H + 1, n1 = (size_t)H + 1;
            float *gi = gc_zeros_f(n3), *gh = gc_zeros_f(n3), *h = gc_zeros_f(n1);
            float *ho = gc_zeros_f(n1), *ga = gc_zeros_f(n3), *gn = gc_zeros_f(n1);
            gc_fill_f(gi, n3, -6, 6, 100 + c);
            gc_fill_f(gh, n3, -6, 6, 200 + c);
            gc_fill_f(h, n1, -1, 1, 300 + c);
            /* Sentinels past the row: the tail must not write them. */
            ho[H] = gn[H] = ga[3 * H] = 42;
            sbr_nn_gru_gates_f32(ho, ga, gn, gi, gh, withh ? h : NULL, H);
            CHECK(ho[H] == 42 && gn[H] == 42 && ga[3 * H] == 42);
            double worst = 0;
            for (int k = 0; k < H; k++) {
                double r = sig_ref((double)gi[k] + gh[k]);
                double z = sig_ref((double)gi[H + k] + gh[H + k]);
                /* n from the float r, as the kernel does. */
                double nv = tanh((double)gi[2 * H + k] + (double)(ga[k] * gh[2 * H + k]));
                double hp = withh ? h[k] : 0, o = nv + z * (hp - nv);
                double e = fabs(ga[k] - r) + fabs(ga[H + k] - z) + fabs(ga[2 * H + k] - nv) +
                           fabs(ho[k] - o);
                worst = e > worst ? e : worst;
                CHECK(gn[k] == gh[2 * H + k]);
            }
            CHECK(worst <= 4e-6);
            free(gi), free(gh), free(h), free(ho), free(ga), free(gn);
        }
    }
}

/* The float ops take the kernels: bit-identical to them, at any size
 * (blocks, and the parallel split above NN_PAR_MIN). */
TEST(nn_simd_ops_use_kernels)
{
    int n = (1 << 20) + 4099;
    float *x = gc_zeros_f(n), *a = gc_zeros_f(n), *b = gc_zeros_f(n);
    gc_fill_f(x, n, -30, 30, 7);
    sbr_nn_ctx c = {0};
    sbr_nn_sigmoid_forward_f32(&c, a, x, n);
    sbr_nn_sigmoid_f32(b, x, n);
    CHECK(memcmp(a, b, (size_t)n * sizeof(float)) == 0);
    sbr_nn_tanh_forward_f32(&c, a, x, n);
    sbr_nn_tanh_f32(b, x, n);
    CHECK(memcmp(a, b, (size_t)n * sizeof(float)) == 0);
    free(x), free(a), free(b);
}

/* The dot kernels against a double sum, for every length 0..40 (tails of
 * every size) and at unaligned starts; NaN in u propagates; the order is
 * fixed (8 lanes, then lanes 0..7, then the tail), checked by recomputing it. */
TEST(nn_simd_dots)
{
    enum { N = 40 };
    float a[N + 3], b[N + 3];
    gc_fill_f(a, N + 3, -1, 1, 71);
    gc_fill_f(b, N + 3, -1, 1, 72);
    for (int off = 0; off < 3; off++)
        for (int n = 0; n <= N; n++) {
            const float *x = a + off, *y = b + off;
            double ref = 0, refl = 0, mag = 0;
            for (int j = 0; j < n; j++) {
                ref += (double)x[j] * y[j];
                refl += (double)x[j] * (y[j] > 0 ? y[j] : 0.2f * y[j]);
                mag += fabs((double)x[j] * y[j]);
            }
            float got = sbr_nn_dot_f32(x, y, n), gotl = sbr_nn_dot_lrelu_f32(x, y, n, 0.2f);
            CHECK(fabs(got - ref) <= 1e-6 * (mag + 1e-30) + 1e-30);
            CHECK(fabs(gotl - refl) <= 1e-6 * (mag + 1e-30) + 1e-30);
            float lane[8] = {0}, want = 0;
            int j = 0;
            for (; j + 8 <= n; j += 8)
                for (int k = 0; k < 8; k++)
                    lane[k] += x[j + k] * y[j + k];
            for (int k = 0; k < 8; k++)
                want += lane[k];
            for (; j < n; j++)
                want += x[j] * y[j];
            CHECK(memcmp(&got, &want, sizeof got) == 0);
        }
    b[5] = NAN;
    CHECK(isnan(sbr_nn_dot_lrelu_f32(a, b, 16, 0.2f)));
    CHECK(isnan(sbr_nn_dot_f32(a, b, 16)));
}

/* The entropy kernel of the uncertainty op against double sums for every
 * length 0..40 (tails of every size): sum exp(x - m) and sum exp(x - m)
 * (x - m); -inf (an excluded item) adds 0 to both, not NaN; x unchanged. */
TEST(nn_simd_expent)
{
    enum { N = 40 };
    float x[N], keep[N];
    gc_fill_f(x, N, -30, 0, 81);
    x[3] = -INFINITY, x[17] = -INFINITY, x[39] = -INFINITY;
    x[9] = -95; /* below the exp's cut at -87: 0 in both sums */
    memcpy(keep, x, sizeof x);
    for (int n = 0; n <= N; n++) {
        double z = 0, t = 0;
        for (int j = 0; j < n; j++) {
            double v = (double)x[j] + 2, e = v < -87 ? 0 : exp(v);
            z += e, t += e > 0 ? e * v : 0;
        }
        float tf, zf = sbr_nn_expent_f32(x, n, -2.0f, &tf);
        CHECK(fabs(zf - z) <= 2e-6 * z + 1e-30);
        CHECK(fabs(tf - t) <= 2e-6 * fabs(t) + 1e-6 * z + 1e-30);
        CHECK(!isnan(zf) && !isnan(tf));
    }
    CHECK(memcmp(x, keep, sizeof x) == 0);
    x[20] = NAN;
    float t;
    CHECK(isnan(sbr_nn_expent_f32(x, N, 0, &t)));
}

/* The dropout mask kernel against the definition (u01 of the draw >= p, in
 * double), over lengths with and without a tail, offsets, and p equal to a
 * draw (kept: u >= p) or just above it. */
TEST(nn_simd_dropout_mask_vs_definition)
{
    uint8_t mask[1031];
    uint64_t seed = 99, off = 123456789;
    double ps[] = {0, 0.1, 0.5, 0.9, 0.999, 1e-12,
                   sbr_rng_u01(sbr_rng_hash(99, 123456789 + 5)),
                   nextafter(sbr_rng_u01(sbr_rng_hash(99, 123456789 + 5)), 1)};
    int bad = 0;
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
        for (long n = 1; n <= 1031; n += 257) {
            sbr_nn_dropout_mask(mask, n, seed, off, sbr_nn_dropout_threshold(ps[k]));
            for (long i = 0; i < n; i++)
                bad += mask[i] != (sbr_rng_u01(sbr_rng_hash(seed, off + (uint64_t)i)) >= ps[k]);
        }
    CHECK_EQ_I64(bad, 0);
    /* the boundary draw itself: kept at p = u, dropped just above */
    sbr_nn_dropout_mask(mask, 8, seed, off, sbr_nn_dropout_threshold(ps[6]));
    CHECK_EQ_I64(mask[5], 1);
    sbr_nn_dropout_mask(mask, 8, seed, off, sbr_nn_dropout_threshold(ps[7]));
    CHECK_EQ_I64(mask[5], 0);
}
