/* Adam / AdamW against a scalar re-derivation, convergence on a quadratic,
 * gradient clipping, deterministic sum of squares, LR step decay,
 * initialisers. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

TEST(nn_adam_matches_formula)
{
    for (int dec = 0; dec <= 1; dec++) {
        sbr_nn_adam_cfg cfg = {1e-2, 0.9, 0.999, 1e-8, 0.1, dec, 0};
        double p[3] = {1, -2, 0.5}, g[3], m[3] = {0}, v[3] = {0};
        double rp[3] = {1, -2, 0.5}, rm[3] = {0}, rv[3] = {0};
        sbr_nn_ctx ctx = {0};
        for (int t = 1; t <= 5; t++) {
            for (int i = 0; i < 3; i++)
                g[i] = 0.3 * i - 0.2 + 0.05 * t;
            sbr_nn_adam_step_f64(&ctx, p, g, m, v, 3, &cfg, t);
            for (int i = 0; i < 3; i++) {
                double gi = g[i];
                if (dec)
                    rp[i] *= 1 - 1e-2 * 0.1;
                else
                    gi += 0.1 * rp[i];
                rm[i] = 0.9 * rm[i] + 0.1 * gi;
                rv[i] = 0.999 * rv[i] + 0.001 * gi * gi;
                double mh = rm[i] / (1 - pow(0.9, t)), vh = rv[i] / (1 - pow(0.999, t));
                /* The textbook form; torch's sqrt(v) / sqrt(1 - b2^t) + eps is the same. */
                rp[i] -= 1e-2 * mh / (sqrt(vh) + 1e-8);
            }
        }
        for (int i = 0; i < 3; i++)
            CHECK_NEAR(p[i], rp[i], 1e-12);
    }
}

TEST(nn_adam_zero_grad_same_bits)
{
    /* zero_grad: the same p, m, v bits, and g cleared (float, vectorised) */
    int n = 1000;
    for (int dec = 0; dec <= 1; dec++) {
        float *p[2], *g[2], *m[2], *v[2];
        for (int k = 0; k < 2; k++) {
            p[k] = gc_zeros_f(n), g[k] = gc_zeros_f(n), m[k] = gc_zeros_f(n), v[k] = gc_zeros_f(n);
            gc_fill_f(p[k], n, -1, 1, 5);
        }
        sbr_nn_ctx ctx = {0};
        for (int t = 1; t <= 3; t++)
            for (int k = 0; k < 2; k++) {
                gc_fill_f(g[k], n, -1, 1, 10 + t);
                sbr_nn_adam_cfg cfg = {1e-2, 0.9, 0.999, 1e-8, 0.1, dec, k};
                sbr_nn_adam_step_f32(&ctx, p[k], g[k], m[k], v[k], n, &cfg, t);
            }
        CHECK(memcmp(p[0], p[1], sizeof(float) * (size_t)n) == 0);
        CHECK(memcmp(m[0], m[1], sizeof(float) * (size_t)n) == 0);
        CHECK(memcmp(v[0], v[1], sizeof(float) * (size_t)n) == 0);
        int zero = 1, kept = 0;
        for (int i = 0; i < n; i++)
            zero &= g[1][i] == 0, kept += g[0][i] != 0;
        CHECK(zero);
        CHECK(kept > n / 2);
        for (int k = 0; k < 2; k++)
            free(p[k]), free(g[k]), free(m[k]), free(v[k]);
    }
}

TEST(nn_adam_converges)
{
    /* minimise sum (p_i - c_i)^2 */
    int n = 50;
    float *p = gc_zeros_f(n), *g = gc_zeros_f(n), *m = gc_zeros_f(n), *v = gc_zeros_f(n);
    float *c = gc_zeros_f(n);
    gc_fill_f(c, n, -2, 2, 3);
    sbr_nn_adam_cfg cfg = {0.05, 0.9, 0.999, 1e-8, 0, 0, 0};
    sbr_nn_ctx ctx = {0};
    for (int t = 1; t <= 2000; t++) {
        for (int i = 0; i < n; i++)
            g[i] = 2 * (p[i] - c[i]);
        sbr_nn_adam_step_f32(&ctx, p, g, m, v, n, &cfg, t);
    }
    for (int i = 0; i < n; i++)
        CHECK_NEAR(p[i], c[i], 1e-3);
    free(p), free(g), free(m), free(v), free(c);
}

TEST(nn_clip_grad_norm_and_sumsq)
{
    int n = (1 << 20) + 12345; /* above NN_PAR_MIN: the parallel path */
    float *g = gc_zeros_f(n);
    gc_fill_f(g, n, -1, 1, 5);
    double ref = 0;
    for (int i = 0; i < n; i++)
        ref += (double)g[i] * g[i];
    sbr_nn_ctx ctx = {0};
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    double s1 = sbr_nn_sumsq_f32(&ctx, g, n);
    omp_set_num_threads(2);
    double s2 = sbr_nn_sumsq_f32(&ctx, g, n);
    omp_set_num_threads(saved);
    CHECK(s1 == s2); /* bit-identical whatever the thread count */
    CHECK_NEAR(s1, ref, 1e-9 * ref);
    double norm = sbr_nn_clip_grad_norm_f32(&ctx, g, n, 5.0);
    CHECK_NEAR(norm, sqrt(ref), 1e-6 * sqrt(ref));
    CHECK_NEAR(sqrt(sbr_nn_sumsq_f32(&ctx, g, n)), 5.0, 1e-4);
    /* Below the threshold nothing changes. */
    float before = g[7];
    CHECK_NEAR(sbr_nn_clip_grad_norm_f32(&ctx, g, n, 100.0), 5.0, 1e-4);
    CHECK(g[7] == before);
    free(g);
}

TEST(nn_lr_step_decay)
{
    CHECK_NEAR(sbr_nn_lr_step(1e-3, 0.1, 3, 0), 1e-3, 1e-18);
    CHECK_NEAR(sbr_nn_lr_step(1e-3, 0.1, 3, 2), 1e-3, 1e-18);
    CHECK_NEAR(sbr_nn_lr_step(1e-3, 0.1, 3, 3), 1e-4, 1e-18);
    CHECK_NEAR(sbr_nn_lr_step(1e-3, 0.1, 3, 7), 1e-5, 1e-18);
    CHECK_NEAR(sbr_nn_lr_step(1e-3, 0.1, 0, 7), 1e-3, 1e-18);
}

TEST(nn_initialisers)
{
    int n = 200000;
    double *p = gc_zeros(n), *q = gc_zeros(n);
    double a = 0.1;
    sbr_nn_init_uniform_f64(p, n, a, 42, 0);
    double mn = 1, mx = -1, mean = 0, var = 0;
    for (int i = 0; i < n; i++) {
        mn = fmin(mn, p[i]), mx = fmax(mx, p[i]);
        mean += p[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (p[i] - mean) * (p[i] - mean);
    var /= n;
    CHECK(mn >= -a && mx < a && mn < -0.099 && mx > 0.099);
    CHECK_NEAR(mean, 0, 0.001);
    CHECK_NEAR(var, a * a / 3, 0.02 * a * a / 3);
    /* Same seed: same values; a slice at an offset reproduces the tail. */
    sbr_nn_init_uniform_f64(q, n - 100, a, 42, 100);
    CHECK(memcmp(p + 100, q, (n - 100) * sizeof(double)) == 0);
    sbr_nn_init_uniform_f64(q, n, a, 43, 0);
    CHECK(memcmp(p, q, n * sizeof(double)) != 0);
    /* Normal. */
    sbr_nn_init_normal_f64(p, n, 1.0, 0.5, 7, 0);
    mean = 0, var = 0;
    for (int i = 0; i < n; i++)
        mean += p[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (p[i] - mean) * (p[i] - mean);
    var /= n;
    CHECK_NEAR(mean, 1.0, 0.005);
    CHECK_NEAR(sqrt(var), 0.5, 0.005);
    /* Xavier bound. */
    float w[30 * 20];
    sbr_nn_init_xavier_f32(w, 30, 20, 1, 0);
    double bound = sqrt(6.0 / 50), wmax = 0;
    for (int i = 0; i < 600; i++)
        wmax = fmax(wmax, fabs(w[i]));
    CHECK(wmax <= bound && wmax > 0.9 * bound);
    free(p), free(q);
}
