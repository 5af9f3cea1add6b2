/* ProxySR: whole-model gradient checks (with and without CLIP-SBR prompts,
 * dropout and the orthogonality term on, some or all violations kept), the
 * largest default shapes, and the session vector q = p + s_perp of every
 * prefix against plain loops written from the paper's equations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

static void small(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "proxies", 5);
    sbr_cfg_set_if(c, "dropout", 0.2);
    sbr_cfg_set_if(c, "lambda_orth", 0.3);
    sbr_cfg_set_if(c, "t0", 0.7);
}

static void few_kept(sbr_model_cfg *c)
{
    small(c);
    sbr_cfg_set_if(c, "violators", 3);
    sbr_cfg_set_if(c, "margin", 0.5);
}

/* with the users' biases (two known users, one unknown, anonymous rows) */
static void with_users(sbr_model_cfg *c)
{
    small(c);
    sbr_cfg_set_if(c, "users", 1);
    c->n_users = 2;
}

TEST(model_proxysr_gradcheck)
{
    CHECK(model_gradcheck_cfg("proxysr", 0, small) == 0);
    CHECK(model_gradcheck_cfg("proxysr", 1, small) == 0);
    CHECK(model_gradcheck_cfg("proxysr", 0, few_kept) == 0);
    CHECK(model_gradcheck_cfg("proxysr", 1, with_users) == 0);
}

/* The user index: ascending ids, 0 for the anonymous and the unknown. */
TEST(model_users_index_and_collect)
{
    const int64_t ids[3] = {4, 10, 99};
    CHECK_EQ_I64(sbr_user_index(ids, 3, 4), 1);
    CHECK_EQ_I64(sbr_user_index(ids, 3, 99), 3);
    CHECK_EQ_I64(sbr_user_index(ids, 3, 5), 0);
    CHECK_EQ_I64(sbr_user_index(ids, 3, -1), 0);
    CHECK_EQ_I64(sbr_user_index(ids, 0, 4), 0);
    int64_t off[6] = {0, 2, 4, 6, 8, 10}, us[5] = {7, -1, 3, 7, 12};
    int32_t it[10] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2};
    sbr_split sp = {5, off, it, NULL, us, 0};
    int64_t *got;
    CHECK_EQ_I64(sbr_users_collect(&sp, 1, 1, &got), 3);
    CHECK(got[0] == 3 && got[1] == 7 && got[2] == 12);
    free(got);
    CHECK_EQ_I64(sbr_users_collect(&sp, 0, 1, &got), 0);
    CHECK(got == NULL);
    /* a fraction keeps a subset, the same one for the same seed */
    int64_t many_off[1001], many_us[1000];
    int32_t many_it[2000];
    for (int i = 0; i <= 1000; i++)
        many_off[i] = 2 * i;
    for (int i = 0; i < 1000; i++)
        many_us[i] = i, many_it[2 * i] = 1, many_it[2 * i + 1] = 2;
    sbr_split big = {1000, many_off, many_it, NULL, many_us, 0};
    int64_t *a, *b, na = sbr_users_collect(&big, 0.25, 7, &a), nb = sbr_users_collect(&big, 0.25, 7, &b);
    CHECK(na == nb && na > 200 && na < 300);
    CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)na) == 0);
    free(a), free(b);
}

TEST(model_proxysr_fullsize)
{
    CHECK(model_fullsize_check("proxysr", 0) == 0);
    CHECK(model_fullsize_check("proxysr", 1) == 0);
}

static double dot(const double *a, const double *b, int d)
{
    double s = 0;
    for (int k = 0; k < d; k++)
        s += a[k] * b[k];
    return s;
}

/* p and v of one prefix (the proxy and its hyperplane's normal). */
static void ref_proxy(const model_fx *f, const int32_t *it, int len, double *p, double *v)
{
    int d = f->m.d, K = sbr_cfg_int(&f->m.cfg, "proxies"), h = (d + K) / 2;
    const double *E = model_fx_param(f, "items"), *PP = model_fx_param(f, "pos_p");
    const double *w1 = model_fx_param(f, "select.w1"), *w2 = model_fx_param(f, "select.w2");
    const double *P = model_fx_param(f, "proxies"), *V = model_fx_param(f, "normals");
    double abar[512] = {0}, alpha[512], x[8], a1[512], mx = -INFINITY, sum = 0;
    for (int j = 0; j < len; j++) {
        for (int k = 0; k < d; k++)
            x[k] = E[it[j] * d + k] + PP[(len - 1 - j) * d + k];
        ref_linear(a1, w1, NULL, x, d, h);
        for (int u = 0; u < h; u++)
            abar[u] += (a1[u] > 0 ? a1[u] : 0.1 * a1[u]) / len;
    }
    ref_linear(alpha, w2, NULL, abar, h, K);
    double tau = sbr_cfg_get(&f->m.cfg, "t0"); /* epoch 0 */
    for (int u = 0; u < K; u++)
        mx = fmax(mx, alpha[u] / tau);
    for (int u = 0; u < K; u++)
        sum += (alpha[u] = exp(alpha[u] / tau - mx));
    double praw[8] = {0}, nw = 0, vn = 0, pn = 0;
    memset(v, 0, sizeof(double) * d);
    for (int u = 0; u < K; u++) {
        double pi = alpha[u] / sum;
        nw += pi * sqrt(dot(P + u * d, P + u * d, d));
        for (int k = 0; k < d; k++)
            praw[k] += pi * P[u * d + k], v[k] += pi * V[u * d + k];
    }
    pn = sqrt(dot(praw, praw, d)), vn = sqrt(dot(v, v, d));
    for (int k = 0; k < d; k++)
        p[k] = praw[k] / pn * nw, v[k] /= vn;
}

/* s of one prefix: the attention of the last click over x + P^S, the FFN. */
static void ref_short(const model_fx *f, const int32_t *it, int len, double *s)
{
    int d = f->m.d;
    const double *E = model_fx_param(f, "items"), *PS = model_fx_param(f, "pos_s");
    const double *wq = model_fx_param(f, "san.wq"), *bq = model_fx_param(f, "san.bq");
    const double *wk = model_fx_param(f, "san.wk"), *bk = model_fx_param(f, "san.bk");
    double xs[8][8], q[8], kk[8][8], a[8], z[8] = {0}, t[8], mx = -INFINITY, sum = 0;
    for (int j = 0; j < len; j++) {
        for (int k = 0; k < d; k++)
            xs[j][k] = E[it[j] * d + k] + PS[(len - 1 - j) * d + k];
        ref_linear(kk[j], wk, bk, xs[j], d, d);
        for (int k = 0; k < d; k++)
            kk[j][k] = fmax(kk[j][k], 0);
    }
    ref_linear(q, wq, bq, xs[len - 1], d, d);
    for (int k = 0; k < d; k++)
        q[k] = fmax(q[k], 0);
    for (int j = 0; j < len; j++)
        mx = fmax(mx, a[j] = dot(q, kk[j], d) / sqrt((double)d));
    for (int j = 0; j < len; j++)
        sum += (a[j] = exp(a[j] - mx));
    for (int j = 0; j < len; j++)
        for (int k = 0; k < d; k++)
            z[k] += a[j] / sum * xs[j][k];
    for (int k = 0; k < d; k++)
        z[k] += xs[len - 1][k];
    ref_linear(t, model_fx_param(f, "short.w1"), model_fx_param(f, "short.b1"), z, d, d);
    for (int k = 0; k < d; k++)
        t[k] = fmax(t[k], 0);
    ref_linear(s, model_fx_param(f, "short.w2"), model_fx_param(f, "short.b2"), t, d, d);
}

TEST(model_proxysr_matches_reference)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "proxysr", 1) == 0);
    int d = f.m.d, L = f.bb.b.L;
    double worst = 0;
    for (int b = 0; b < f.B; b++) {
        const int32_t *it = f.bb.b.items + b * L;
        int len = f.bb.b.len[b];
        double p[8], v[8], s[8];
        ref_proxy(&f, it, len, p, v);
        ref_short(&f, it, len, s);
        double vs = dot(v, s, d);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(p[k] + s[k] - vs * v[k] - f.S[b * d + k]));
    }
    printf("    proxysr: %d prefixes, worst |q - reference| %.3g\n", f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}
