/* Reparameterised Gaussian sample (seeded, slice-reproducible) and the KL
 * between diagonal Gaussians: gradient checks, hand values, invariants. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"
#include "rng.h"

enum { B_ = 4, D_ = 5, N_ = B_ * D_ };

typedef struct {
    double mq[N_], sq[N_], mp[N_], sp[N_], dmq[N_], dsq[N_], dmp[N_], dsp[N_];
    double z[N_], eps[N_], kl[B_], w[N_];
    int kind; /* 0 sample, 1 kl */
} gs_case;

static double gs_loss(void *u)
{
    gs_case *c = u;
    sbr_nn_ctx ctx = {0};
    if (c->kind == 0) {
        sbr_nn_gauss_sample_forward_f64(&ctx, c->z, c->eps, c->mq, c->sq, N_, 42, 1000);
        return gc_dot(c->w, c->z, N_);
    }
    sbr_nn_gauss_kl_forward_f64(&ctx, c->kl, c->mq, c->sq, c->mp, c->sp, B_, D_);
    return gc_dot(c->w, c->kl, B_);
}

static void gs_backward(void *u)
{
    gs_case *c = u;
    sbr_nn_ctx ctx = {0};
    gs_loss(c);
    memset(c->dmq, 0, sizeof c->dmq), memset(c->dsq, 0, sizeof c->dsq);
    memset(c->dmp, 0, sizeof c->dmp), memset(c->dsp, 0, sizeof c->dsp);
    if (c->kind == 0)
        sbr_nn_gauss_sample_backward_f64(&ctx, c->dmq, c->dsq, c->w, c->eps, N_);
    else
        sbr_nn_gauss_kl_backward_f64(&ctx, c->dmq, c->dsq, c->dmp, c->dsp, c->w, c->mq, c->sq,
                                     c->mp, c->sp, B_, D_);
}

TEST(nn_gaussian_gradcheck)
{
    for (int kind = 0; kind < 2; kind++) {
        gs_case *c = calloc(1, sizeof *c);
        c->kind = kind;
        gc_fill(c->mq, N_, -1, 1, 1), gc_fill(c->sq, N_, 0.2, 2, 2);
        gc_fill(c->mp, N_, -1, 1, 3), gc_fill(c->sp, N_, 0.2, 2, 4);
        gc_fill(c->w, N_, -1, 1, 5);
        gc_spec s = {.op = kind ? "gauss_kl" : "gauss_sample", .loss = gs_loss,
                     .backward = gs_backward, .user = c};
        gc_add(&s, "mu_q", c->mq, c->dmq, N_);
        gc_add(&s, "sigma_q", c->sq, c->dsq, N_);
        if (kind) {
            gc_add(&s, "mu_p", c->mp, c->dmp, N_);
            gc_add(&s, "sigma_p", c->sp, c->dsp, N_);
        }
        CHECK_EQ_I64(gradcheck(&s), 0);
        free(c);
    }
}

TEST(nn_gaussian_kl_values)
{
    sbr_nn_ctx ctx = {0};
    /* 1-D: KL(N(1, 4) || N(0, 1)) = log(1/2) + (4 + 1)/2 - 1/2 */
    double mq = 1, sq = 2, mp = 0, sp = 1, kl;
    sbr_nn_gauss_kl_forward_f64(&ctx, &kl, &mq, &sq, &mp, &sp, 1, 1);
    CHECK_NEAR(kl, log(0.5) + 2.0, 1e-15);
    /* KL(q || q) = 0 and KL >= 0 on random pairs. */
    double a[N_], s[N_], b[N_], t[N_], k[B_];
    gc_fill(a, N_, -2, 2, 9), gc_fill(s, N_, 0.1, 3, 10);
    gc_fill(b, N_, -2, 2, 11), gc_fill(t, N_, 0.1, 3, 12);
    sbr_nn_gauss_kl_forward_f64(&ctx, k, a, s, a, s, B_, D_);
    for (int i = 0; i < B_; i++)
        CHECK_NEAR(k[i], 0, 1e-15);
    sbr_nn_gauss_kl_forward_f64(&ctx, k, a, s, b, t, B_, D_);
    for (int i = 0; i < B_; i++)
        CHECK(k[i] > 0);
    float af[N_], sf[N_], bf[N_], tf[N_], kf[B_];
    for (int i = 0; i < N_; i++)
        af[i] = (float)a[i], sf[i] = (float)s[i], bf[i] = (float)b[i], tf[i] = (float)t[i],
        a[i] = af[i], s[i] = sf[i], b[i] = bf[i], t[i] = tf[i];
    sbr_nn_gauss_kl_forward_f64(&ctx, k, a, s, b, t, B_, D_);
    sbr_nn_gauss_kl_forward_f32(&ctx, kf, af, sf, bf, tf, B_, D_);
    CHECK(gc_agree_f32(kf, k, B_, 1e-5, 1e-6) <= 1);
}

TEST(nn_gaussian_sample_seeded)
{
    enum { N = 200000 };
    sbr_nn_ctx ctx = {0};
    double *mu = gc_zeros(N), *sg = gc_zeros(N), *z = gc_zeros(N), *e = gc_zeros(N);
    double *z2 = gc_zeros(N), *e2 = gc_zeros(N);
    for (int i = 0; i < N; i++)
        mu[i] = 3, sg[i] = 0.5;
    sbr_nn_gauss_sample_forward_f64(&ctx, z, e, mu, sg, N, 7, 0);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++)
        m += e[i];
    m /= N;
    for (int i = 0; i < N; i++)
        v += (e[i] - m) * (e[i] - m);
    v /= N - 1;
    CHECK(fabs(m) < 0.01);
    CHECK(fabs(v - 1) < 0.02);
    CHECK_NEAR(z[17], 3 + 0.5 * e[17], 1e-15);
    /* Same seed, same draws; a slice at offset 2i reproduces element i. */
    sbr_nn_gauss_sample_forward_f64(&ctx, z2, e2, mu, sg, 100, 7, 2 * 50);
    for (int i = 0; i < 100; i++)
        CHECK(e2[i] == e[50 + i]);
    sbr_nn_gauss_sample_forward_f64(&ctx, z2, e2, mu, sg, 100, 8, 0);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += e2[i] == e[i];
    CHECK(same == 0);
    /* float draws the same eps, rounded. */
    float mf[8] = {0}, sf[8] = {1, 1, 1, 1, 1, 1, 1, 1}, zf[8], ef[8];
    sbr_nn_gauss_sample_forward_f32(&ctx, zf, ef, mf, sf, 8, 7, 0);
    for (int i = 0; i < 8; i++)
        CHECK(ef[i] == (float)e[i]);
    free(mu), free(sg), free(z), free(e), free(z2), free(e2);
}

/* gauss_sample_k: K draws per row, mu and sigma broadcast over K. */
enum { KB = 3, KK = 4, KN = 5, KZ = KB * KK * KN, KM = KB * KN };

typedef struct {
    double mu[KM], sg[KM], dmu[KM], dsg[KM], z[KZ], eps[KZ], w[KZ];
    int shared;
} gk_case;

static double gk_loss(void *u)
{
    gk_case *c = u;
    sbr_nn_ctx ctx = {0};
    sbr_nn_gauss_sample_k_forward_f64(&ctx, c->z, c->eps, c->mu, c->sg, KB, KK, KN, 42, 1000,
                                      c->shared);
    return gc_dot(c->w, c->z, KZ);
}

static void gk_backward(void *u)
{
    gk_case *c = u;
    sbr_nn_ctx ctx = {0};
    gk_loss(c);
    memset(c->dmu, 0, sizeof c->dmu), memset(c->dsg, 0, sizeof c->dsg);
    sbr_nn_gauss_sample_k_backward_f64(&ctx, c->dmu, c->dsg, c->w, c->eps, KB, KK, KN);
}

TEST(nn_gauss_sample_k_gradcheck)
{
    for (int shared = 0; shared <= 1; shared++) {
        gk_case *c = calloc(1, sizeof *c);
        c->shared = shared;
        gc_fill(c->mu, KM, -1, 1, 21), gc_fill(c->sg, KM, 0.2, 2, 22);
        gc_fill(c->w, KZ, -1, 1, 23);
        gc_spec s = {.op = shared ? "gauss_sample_k (shared)" : "gauss_sample_k",
                     .loss = gk_loss, .backward = gk_backward, .user = c};
        gc_add(&s, "mu", c->mu, c->dmu, KM);
        gc_add(&s, "sigma", c->sg, c->dsg, KM);
        CHECK_EQ_I64(gradcheck(&s), 0);
        /* the sums over k, in increasing k, from a plain loop; a NULL
         * gradient is skipped, and the other one still accumulates */
        double dm[KM], ds[KM];
        for (int i = 0; i < KM; i++)
            dm[i] = 0.5, ds[i] = -0.25;
        sbr_nn_ctx ctx = {0};
        sbr_nn_gauss_sample_k_backward_f64(&ctx, dm, NULL, c->w, c->eps, KB, KK, KN);
        sbr_nn_gauss_sample_k_backward_f64(&ctx, NULL, ds, c->w, c->eps, KB, KK, KN);
        for (int b = 0; b < KB; b++)
            for (int j = 0; j < KN; j++) {
                double sm = 0, ss = 0;
                for (int k = 0; k < KK; k++) {
                    int o = (b * KK + k) * KN + j;
                    sm += c->w[o], ss += c->w[o] * c->eps[o];
                }
                CHECK(dm[b * KN + j] == 0.5 + sm);
                CHECK(ds[b * KN + j] == -0.25 + ss);
            }
        free(c);
    }
}

/* The forward against a plain loop over sbr_rng_normal_at; not shared, the
 * draws of gauss_sample over the flat [B K n]; shared, every row the same K
 * draws, so identical rows of mu and sigma give identical samples wherever
 * they sit in the batch; float draws the same eps, rounded. */
TEST(nn_gauss_sample_k_draws)
{
    sbr_nn_ctx ctx = {0};
    double mu[KM], sg[KM], z[KZ], eps[KZ], z1[KZ], e1[KZ], mflat[KZ], sflat[KZ];
    gc_fill(mu, KM, -1, 1, 31), gc_fill(sg, KM, 0.1, 2, 32);
    const uint64_t seed = 9, off = 77;
    for (int shared = 0; shared <= 1; shared++) {
        sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, KK, KN, seed, off, shared);
        for (int b = 0; b < KB; b++)
            for (int k = 0; k < KK; k++)
                for (int j = 0; j < KN; j++) {
                    int o = (b * KK + k) * KN + j;
                    uint64_t draw = shared ? (uint64_t)(k * KN + j) : (uint64_t)o;
                    double e = sbr_rng_normal_at(seed, off + 2 * draw);
                    CHECK(eps[o] == e);
                    CHECK(z[o] == mu[b * KN + j] + sg[b * KN + j] * e);
                }
        float mf[KM], sf[KM], zf[KZ], ef[KZ];
        for (int i = 0; i < KM; i++)
            mf[i] = (float)mu[i], sf[i] = (float)sg[i];
        sbr_nn_gauss_sample_k_forward_f32(&ctx, zf, ef, mf, sf, KB, KK, KN, seed, off, shared);
        for (int i = 0; i < KZ; i++)
            CHECK(ef[i] == (float)eps[i]);
    }
    /* not shared: gauss_sample's draws over the flat [B K n] */
    for (int r = 0; r < KB * KK; r++)
        for (int j = 0; j < KN; j++) {
            mflat[r * KN + j] = mu[(r / KK) * KN + j];
            sflat[r * KN + j] = sg[(r / KK) * KN + j];
        }
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, KK, KN, seed, off, 0);
    sbr_nn_gauss_sample_forward_f64(&ctx, z1, e1, mflat, sflat, KZ, seed, off);
    CHECK(memcmp(z, z1, sizeof z) == 0 && memcmp(eps, e1, sizeof eps) == 0);
    /* shared: rows 0 and 2 given the same mu and sigma have the same
     * samples, and row 1's draws are row 0's; a batch of one row gives
     * that row's result */
    for (int j = 0; j < KN; j++)
        mu[2 * KN + j] = mu[j], sg[2 * KN + j] = sg[j];
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, KK, KN, seed, off, 1);
    CHECK(memcmp(z, z + 2 * KK * KN, KK * KN * sizeof(double)) == 0);
    CHECK(memcmp(eps, eps + KK * KN, KK * KN * sizeof(double)) == 0);
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z1, e1, mu + 2 * KN, sg + 2 * KN, 1, KK, KN, seed,
                                      off, 1);
    CHECK(memcmp(z1, z + 2 * KK * KN, KK * KN * sizeof(double)) == 0);
    /* not shared, the rows differ */
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, KK, KN, seed, off, 0);
    int same = 0;
    for (int i = 0; i < KK * KN; i++)
        same += z[i] == z[2 * KK * KN + i];
    CHECK(same == 0);
    /* K = 0 and n = 0 write nothing */
    z[0] = 5;
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, 0, KN, seed, off, 0);
    sbr_nn_gauss_sample_k_forward_f64(&ctx, z, eps, mu, sg, KB, KK, 0, seed, off, 1);
    CHECK(z[0] == 5);
}
