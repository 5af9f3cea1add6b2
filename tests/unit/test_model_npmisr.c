/* NP-MiSR: whole-model gradient checks over three encoders (with and
 * without CLIP-SBR prompts), the largest default shapes, the forward against
 * plain loops written from the equations (docs/MODELS.md), the context pool
 * (one pair per drawn training session, never a test session's, never a
 * sample's own), and scores that do not depend on the other samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model/def.h"
#include "model/eval.h"
#include "model_check.h"
#include "rng.h"

static void residual(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "np_residual", 1);
}

static void any_time(sbr_model_cfg *c) /* contexts from any other session */
{
    sbr_cfg_set_if(c, "np_causal", 0);
}

static void half_beta(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "np_beta", 0.5);
    sbr_cfg_set_if(c, "dropout", 0.2); /* the encoder's own dropout too (NARM's, GCE-GNN's) */
}

TEST(model_npmisr_gradcheck)
{
    CHECK(model_gradcheck("npmisr", 0) == 0);
    CHECK(model_gradcheck("npmisr", 1) == 0);
    CHECK(model_gradcheck_cfg("npmisr-srgnn", 0, half_beta) == 0);
    CHECK(model_gradcheck_cfg("npmisr-narm", 1, half_beta) == 0);
    CHECK(model_gradcheck_cfg("npmisr-srgnn", 1, residual) == 0);
    CHECK(model_gradcheck_cfg("npmisr-narm", 0, any_time) == 0);
}

int gce_fullsize_check(const char *name, int clip);
TEST(model_npmisr_fullsize)
{
    CHECK(gce_fullsize_check("npmisr", 0) == 0);
    CHECK(model_fullsize_check("npmisr-narm", 1) == 0);
}

/* The registry's wrappers: names, merged options, encoders refused. */
TEST(model_npmisr_registry)
{
    const sbr_model_def *d = sbr_model_def_for("npmisr", SBR_PREC_F32);
    REQUIRE(d && d->encoder);
    CHECK_STR(d->encoder->name, "gcegnn");
    CHECK(d->needs & SBR_NEEDS_GLOBAL);
    CHECK(d->needs & SBR_NEEDS_POOL);
    const sbr_model_def *s = sbr_model_def_for("npmisr-srgnn", SBR_PREC_F32);
    REQUIRE(s && s->encoder);
    CHECK_STR(s->name, "npmisr-srgnn");
    CHECK(!(s->needs & SBR_NEEDS_GLOBAL));
    CHECK(s == sbr_model_def_for("npmisr-srgnn", SBR_PREC_F32)); /* made once */
    CHECK(sbr_model_def_for("npmisr-npmisr", SBR_PREC_F32) == NULL);
    CHECK(sbr_model_def_for("npmisr-tagnn", SBR_PREC_F32) == NULL);   /* its own scoring */
    CHECK(sbr_model_def_for("npmisr-dmignn", SBR_PREC_F32) == NULL);  /* interests */
    CHECK(sbr_model_def_for("npmisr-nothing", SBR_PREC_F32) == NULL);
    CHECK(sbr_model_def_for("srgnn-narm", SBR_PREC_F32) == NULL);     /* not a wrapper */
    sbr_model_cfg c;
    REQUIRE(sbr_model_defaults("npmisr", &c) == 0);
    CHECK(sbr_cfg_find(&c, "np_samples") >= 0 && sbr_cfg_find(&c, "global_k") >= 0);
    CHECK_EQ_I64(sbr_cfg_int(&c, "np_samples"), 10);
}

/* --- the forward against plain loops ------------------------------------- */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* y [d] = W2 relu(W1 p + b1) + b2, the pair MLP "np.NAME.*" on p [2d]. */
static void ref_mlp(const model_fx *f, const char *name, const double *p, double *y)
{
    int d = f->m.d;
    char n[4][32];
    const char *part[4] = {"w1", "b1", "w2", "b2"};
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof n[i], "np.%s.%s", name, part[i]);
    double h[8];
    ref_linear(h, model_fx_param(f, n[0]), model_fx_param(f, n[1]), p, 2 * d, d);
    for (int k = 0; k < d; k++)
        h[k] = h[k] > 0 ? h[k] : 0;
    ref_linear(y, model_fx_param(f, n[2]), model_fx_param(f, n[3]), h, d, d);
}

/* S [d] of sample i from x [d], as docs/MODELS.md writes NP-MiSR's
 * evaluation: the context (its own session's pair excluded), r_C, the
 * prior, K samples with the draws shared by every row, the decoder. */
static void ref_npmisr(const model_fx *f, int i, const double *x, double *S, double *spread)
{
    enum { D = 8, CMAX = 4, KMAX = 4 };
    const sbr_model *m = &f->m;
    int d = m->d, C = 2, K = 3, dz = 3, M = (int)m->pool.n;
    const double *P = m->pool.x, *E = model_fx_param(f, "items");
    int64_t s_i = f->smp.session[i];
    int excl = m->pool.row_of[s_i], lim = m->pool.rows_before[s_i]; /* its own, its past */
    int best[CMAX];
    double bsim[CMAX], nx = 0;
    for (int k = 0; k < d; k++)
        nx += x[k] * x[k];
    for (int c = 0; c < C; c++)
        best[c] = -1, bsim[c] = -INFINITY;
    for (int r = 0; r < M; r++) { /* the C best cosines, ties to the smaller row */
        if (r == excl || r >= lim)
            continue;
        double dot = 0, np = 0;
        for (int k = 0; k < d; k++)
            dot += x[k] * P[r * d + k], np += P[r * d + k] * P[r * d + k];
        double s = dot / sqrt(nx * np);
        for (int c = 0; c < C; c++)
            if (s > bsim[c]) {
                for (int q = C - 1; q > c; q--)
                    best[q] = best[q - 1], bsim[q] = bsim[q - 1];
                best[c] = r, bsim[c] = s;
                break;
            }
    }
    double rc[D] = {0}, sc[D] = {0}, pair[2 * D], y[D];
    for (int c = 0; c < C; c++) {
        int r = best[c], it = r >= 0 ? m->pool.host_item[r] : 0; /* an empty slot: zeros */
        memset(pair, 0, sizeof pair);
        if (r >= 0)
            memcpy(pair, P + r * d, sizeof(double) * d);
        memcpy(pair + d, E + it * d, sizeof(double) * d);
        ref_mlp(f, "det", pair, y);
        for (int k = 0; k < d; k++)
            rc[k] += y[k] / C;
        ref_mlp(f, "lat", pair, y);
        for (int k = 0; k < d; k++)
            sc[k] += y[k] / C;
    }
    double mu[D], pre[D];
    ref_linear(mu, model_fx_param(f, "np.mu.w"), model_fx_param(f, "np.mu.b"), sc, d, dz);
    ref_linear(pre, model_fx_param(f, "np.sigma.w"), model_fx_param(f, "np.sigma.b"), sc, d, dz);
    double xr[2 * D], a1[D];
    memcpy(xr, x, sizeof(double) * d);
    memcpy(xr + d, rc, sizeof(double) * d);
    ref_linear(a1, model_fx_param(f, "np.dec.w1"), model_fx_param(f, "np.dec.b1"), xr, 2 * d, d);
    memset(S, 0, sizeof(double) * d);
    double hk[KMAX][D];
    for (int k = 0; k < K; k++) {
        double z[D], zl[D], h[D], *h2 = hk[k];
        for (int j = 0; j < dz; j++) {
            double eps = sbr_rng_normal_at(m->cfg.seed ^ 0x6A055ull, 2 * (uint64_t)(k * dz + j));
            z[j] = mu[j] + (0.1 + 0.9 * softplus(pre[j])) * eps;
        }
        ref_linear(zl, model_fx_param(f, "np.dec.w1z"), NULL, z, dz, d);
        for (int q = 0; q < d; q++)
            h[q] = a1[q] + zl[q] > 0 ? a1[q] + zl[q] : 0;
        ref_linear(h2, model_fx_param(f, "np.dec.w2"), model_fx_param(f, "np.dec.b2"), h, d, d);
        for (int q = 0; q < d; q++)
            S[q] += h2[q] / K;
    }
    *spread = 0; /* the K decoded vectors' mean squared distance from S */
    for (int k = 0; k < K; k++)
        for (int q = 0; q < d; q++)
            *spread += (hk[k][q] - S[q]) * (hk[k][q] - S[q]) / K;
}

/* x [B, d]: the encoder's session vectors of the fixture's batch. */
static double *encode(model_fx *f)
{
    double *x = calloc((size_t)f->B * f->m.d, sizeof(double));
    f->m.encode_only = 1;
    sbr_model_forward(&f->m, &f->bb.b, x);
    f->m.encode_only = 0;
    return x;
}

TEST(model_npmisr_forward_matches_reference)
{
    const char *enc[2] = {"npmisr-mean", "npmisr-narm"};
    for (int e = 0; e < 2; e++) {
        model_fx f;
        REQUIRE(model_fx_run(&f, enc[e], 1) == 0);
        CHECK_EQ_I64(f.m.pool.n, 5); /* every fixture session has a pair */
        const double *spread = f.m.spread;
        REQUIRE(spread != NULL);
        double *x = encode(&f), S[8], sp;
        for (int i = 0; i < f.B; i++) {
            ref_npmisr(&f, i, x + (size_t)i * f.m.d, S, &sp);
            if (fabs(sp - spread[i]) > 1e-12 * (1 + sp))
                harness_fail(__FILE__, __LINE__, "%s row %d: spread %.17g, reference %.17g",
                             enc[e], i, spread[i], sp);
            for (int k = 0; k < f.m.d; k++)
                if (fabs(S[k] - f.S[(size_t)i * f.m.d + k]) > 1e-12)
                    harness_fail(__FILE__, __LINE__, "%s row %d [%d]: %.17g, reference %.17g",
                                 enc[e], i, k, f.S[(size_t)i * f.m.d + k], S[k]);
        }
        free(x);
        model_fx_free(&f);
    }
}

/* The spread as sbr-infer --uncertainty writes it (sbr_eval_split): each
 * sample's RMS distance of the K decoded vectors from S, the square root of
 * the reference's mean squared distance, in batches of 3 (the evaluation's
 * draws are shared by every row: no batch dependence); none without the
 * uncertainty, and none for a model that does not sample. */
TEST(model_npmisr_eval_spread)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "npmisr-narm", 1) == 0);
    double *x = encode(&f), S[8], sp;
    sbr_eval_cfg ec = {5, 3, SBR_TASK_STANDARD, 4, 0, NULL, 1};
    sbr_topk t;
    sbr_eval_split(&f.m, &f.sp, 1, NULL, &ec, &t);
    REQUIRE(t.n == f.B && t.entropy && t.spread);
    int positive = 0;
    for (int i = 0; i < f.B; i++) {
        ref_npmisr(&f, i, x + (size_t)i * f.m.d, S, &sp);
        double want = sqrt(sp);
        if (!isfinite(t.spread[i]) || fabs(t.spread[i] - want) > 1e-6 * (1 + want))
            harness_fail(__FILE__, __LINE__, "row %d: spread %.9g, reference %.9g", i,
                         t.spread[i], want);
        positive += t.spread[i] > 0;
    }
    CHECK_EQ_I64(positive, f.B);
    sbr_eval_topk_free(&t);
    ec.uncertainty = 0;
    sbr_eval_split(&f.m, &f.sp, 1, NULL, &ec, &t);
    CHECK(!t.entropy && !t.spread);
    sbr_eval_topk_free(&t);
    free(x);
    model_fx_free(&f);
    REQUIRE(model_fx_run(&f, "narm", 1) == 0); /* a plain model: no spread */
    ec.uncertainty = 1;
    sbr_eval_split(&f.m, &f.sp, 1, NULL, &ec, &t);
    CHECK(t.entropy && !t.spread);
    sbr_eval_topk_free(&t);
    model_fx_free(&f);
}

/* --- the pool and leakage ------------------------------------------------- */

/* Training sessions over items 1..8 and a test split where item 9, in the
 * catalogue, is clicked only there: it is never a pool pair's item, and a
 * test sample's scores are the same whatever else is in its batch and
 * wherever it sits (the context comes from the pool alone; the evaluation's
 * draws are shared by every row). */
static int64_t lk_off[6] = {0, 4, 7, 10, 13, 16};
static int32_t lk_items[16] = {1, 2, 3, 4, /**/ 5, 6, 7, /**/ 8, 1, 2, /**/ 3, 5, 7, /**/ 2, 4, 8};
static int64_t lk_toff[4] = {0, 3, 6, 9};
static int32_t lk_titems[9] = {9, 1, 2, /**/ 3, 9, 4, /**/ 5, 6, 9};

TEST(model_npmisr_no_leakage_and_order_free)
{
    sbr_model_cfg c;
    REQUIRE(sbr_model_defaults("npmisr-narm", &c) == 0);
    sbr_cfg_set_if(&c, "dim", 4), sbr_cfg_set_if(&c, "max_len", 4);
    model_cfg_tiny_pool(&c);
    c.n_items = 9, c.seed = 4, c.init_scale = 0.8;
    sbr_split tr = {5, lk_off, lk_items, NULL, NULL, 0}, te = {3, lk_toff, lk_titems, NULL, NULL, 0};
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &c, SBR_PREC_F64, 8, 4, &e) == 0);
    REQUIRE(model_pool_prepare(&m, &tr, NULL, &e) == 0);
    CHECK_EQ_I64(m.pool.n, 5);
    for (int64_t r = 0; r < m.pool.n; r++) {
        CHECK(m.pool.host_item[r] != 9);
        CHECK_EQ_I64(m.pool.host_item[r], lk_items[lk_off[m.pool.session[r] + 1] - 1]);
    }
    sbr_samples smp;
    sbr_samples_build(&te, 1, &smp);
    int B = (int)smp.n, d = m.d;
    int64_t fwd[8], rev[8];
    for (int i = 0; i < B; i++)
        fwd[i] = i, rev[i] = B - 1 - i;
    double *S = calloc((size_t)B * d, sizeof(double)), *R = calloc((size_t)B * d, sizeof(double));
    double S1[8];
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 8, 4, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    sbr_batch_fill(&bb, &te, &smp, fwd, B, 9, NULL);
    for (int i = 0; i < B; i++) { /* not the pool's split: nothing to exclude */
        CHECK_EQ_I64(bb.b.pool->excl[i], -1);
        CHECK_EQ_I64(bb.b.pool->lim[i], INT32_MAX);
    }
    sbr_model_forward(&m, &bb.b, S);
    sbr_batch_fill(&bb, &te, &smp, rev, B, 9, NULL);
    sbr_model_forward(&m, &bb.b, R);
    for (int i = 0; i < B; i++) {
        sbr_batch_fill(&bb, &te, &smp, fwd + i, 1, 9, NULL);
        sbr_model_forward(&m, &bb.b, S1);
        for (int k = 0; k < d; k++) {
            double s = S[(size_t)i * d + k];
            CHECK(fabs(s - R[(size_t)(B - 1 - i) * d + k]) <= 1e-12 * (1 + fabs(s)));
            CHECK(fabs(s - S1[k]) <= 1e-12 * (1 + fabs(s)));
        }
    }
    free(S), free(R);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
}

/* A training batch marks each sample's own session's pair; the draw keeps
 * what the fraction says, nested as it grows, and refuses a pool too small. */
TEST(model_npmisr_pool_draw)
{
    sbr_model_cfg c;
    REQUIRE(sbr_model_defaults("npmisr-mean", &c) == 0);
    sbr_cfg_set_if(&c, "dim", 4), sbr_cfg_set_if(&c, "max_len", 4);
    sbr_cfg_set_if(&c, "np_context", 2);
    c.n_items = 9;
    sbr_split tr = {5, lk_off, lk_items, NULL, NULL, 0};
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &c, SBR_PREC_F64, 8, 4, &e) == 0);
    m.pool_fraction = 0.1; /* the default: too few of five sessions */
    CHECK(sbr_model_pool_draw(&m, &tr, 1, &e) == -1);
    CHECK(strstr(e.msg, "fewer than the 3 pairs") != NULL);
    m.pool_fraction = 1;
    REQUIRE(sbr_model_pool_draw(&m, &tr, 1, &e) == 0);
    CHECK_EQ_I64(m.pool.n, 5);
    sbr_samples smp;
    sbr_samples_build(&tr, 1, &smp);
    int64_t order[8];
    int B = smp.n < 8 ? (int)smp.n : 8;
    for (int i = 0; i < B; i++)
        order[i] = smp.n - 1 - i;
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 8, 4, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    sbr_batch_fill(&bb, &tr, &smp, order, B, 9, NULL);
    for (int i = 0; i < B; i++) {
        int64_t s = smp.session[order[i]];
        CHECK_EQ_I64(bb.b.pool->excl[i], m.pool.row_of[s]);
        CHECK_EQ_I64(bb.b.pool->lim[i], s); /* every session has a pair: s before it */
    }
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
}
