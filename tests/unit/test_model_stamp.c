#include <math.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_stamp_gradcheck)
{
    CHECK(model_gradcheck("stamp", 0) == 0);
}

TEST(model_stamp_clip_gradcheck)
{
    CHECK(model_gradcheck("stamp", 1) == 0);
}

/* STAMP has no dropout by default: check the optional embedding dropout. */
static void with_dropout(sbr_model_cfg *c) { sbr_cfg_set_if(c, "dropout", 0.3); }

TEST(model_stamp_dropout_gradcheck)
{
    CHECK(model_gradcheck_cfg("stamp", 0, with_dropout) == 0);
}

TEST(model_stamp_fullsize)
{
    CHECK(model_fullsize_check("stamp", 0) == 0);
    CHECK(model_fullsize_check("stamp", 1) == 0);
}

/* Without an explicit init_scale the paper's initialisation: item
 * embeddings N(0, 0.002^2), weights N(0, 0.05^2), biases 0. */
TEST(model_stamp_paper_init)
{
    sbr_model_cfg cfg;
    REQUIRE(sbr_model_defaults("stamp", &cfg) == 0);
    cfg.n_items = 2000;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &cfg, SBR_PREC_F64, 4, 5, &e) == 0);
    for (int i = 0; i < m.params.n; i++) {
        const sbr_view *v = &m.params.views[i];
        const double *p = v->data;
        double s2 = 0;
        for (int64_t k = 0; k < v->numel; k++)
            s2 += p[k] * p[k];
        double sd = sqrt(s2 / (double)v->numel);
        const char *nm = v->name;
        if (i == m.p_items)
            CHECK(sd > 0.0018 && sd < 0.0022);
        else if (v->ndim == 1)
            CHECK(sd == 0);
        else if (v->numel >= 10000)
            CHECK(sd > 0.045 && sd < 0.055);
        if (harness_failed()) {
            printf("    %s: rms %g\n", nm, sd);
            break;
        }
    }
    sbr_model_free(&m);
}

TEST(model_stamp_matches_reference)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "stamp", 1) == 0);
    int d = f.m.d, L = f.bb.b.L;
    const double *E = model_fx_param(&f, "items"), *W1 = model_fx_param(&f, "attn.w1"),
                 *W2 = model_fx_param(&f, "attn.w2"), *W3 = model_fx_param(&f, "attn.w3"),
                 *ba = model_fx_param(&f, "attn.b_a"), *w0 = model_fx_param(&f, "attn.w0"),
                 *Ws = model_fx_param(&f, "mlp_s.w"), *bs = model_fx_param(&f, "mlp_s.b"),
                 *Wt = model_fx_param(&f, "mlp_t.w"), *bt = model_fx_param(&f, "mlp_t.b");
    double worst = 0;
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        const int32_t *it = f.bb.b.items + b * L;
        const double *xt = E + (size_t)it[len - 1] * d;
        double ms[16] = {0}, ma[16] = {0}, q[16], t[16], hs[16], ht[16];
        for (int i = 0; i < len; i++)
            for (int k = 0; k < d; k++)
                ms[k] += E[(size_t)it[i] * d + k] / len;
        ref_linear(q, W2, ba, xt, d, d);
        ref_linear(t, W3, NULL, ms, d, d);
        for (int k = 0; k < d; k++)
            q[k] += t[k];
        for (int i = 0; i < len; i++) {
            const double *x = E + (size_t)it[i] * d;
            ref_linear(t, W1, NULL, x, d, d);
            double alpha = 0;
            for (int k = 0; k < d; k++)
                alpha += w0[k] * ref_sigmoid(t[k] + q[k]);
            for (int k = 0; k < d; k++)
                ma[k] += alpha * x[k];
        }
        ref_linear(hs, Ws, bs, ma, d, d);
        ref_linear(ht, Wt, bt, xt, d, d);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(tanh(hs[k]) * tanh(ht[k]) - f.S[b * d + k]));
    }
    printf("    stamp: %d prefixes, worst |S - reference| %.3g\n", f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}
