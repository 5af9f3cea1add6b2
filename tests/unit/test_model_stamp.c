#include "harness.h"
#include "model_check.h"

int model_fullsize_check(const char *name, int clip); /* test_model_narm.c */

TEST(model_stamp_gradcheck)
{
    CHECK(model_gradcheck("stamp", 0) == 0);
}

TEST(model_stamp_clip_gradcheck)
{
    CHECK(model_gradcheck("stamp", 1) == 0);
}

/* STAMP has no dropout by default: check the optional embedding dropout. */
static void with_dropout(sbr_model_cfg *c) { c->dropout_emb = 0.3; }

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
