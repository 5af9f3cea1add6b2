/* GC-SAN: whole-model gradient checks (with and without CLIP-SBR prompts;
 * two blocks, two graph steps, two heads, ReLU, no causal mask), the
 * largest default shapes, and its forward against plain loops: SR-GNN's
 * gated graph steps and RecBole's transformer layer written out
 * (model_check.c), the omega mix. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_gcsan_gradcheck)
{
    CHECK(model_gradcheck("gcsan", 0) == 0);
    CHECK(model_gradcheck("gcsan", 1) == 0);
}

/* k = 2 blocks over two graph steps, two heads, ReLU, attention to every
 * click: the options that change the computation. */
static void variant(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "layers", 2);
    sbr_cfg_set_if(c, "steps", 2);
    sbr_cfg_set_if(c, "heads", 2);
    sbr_cfg_set_if(c, "inner", 6);
    sbr_cfg_set_if(c, "act", 1);
    sbr_cfg_set_if(c, "causal", 0);
    sbr_cfg_set_if(c, "weight", 0.3);
}

TEST(model_gcsan_variant_gradcheck)
{
    CHECK(model_gradcheck_cfg("gcsan", 0, variant) == 0);
    CHECK(model_gradcheck_cfg("gcsan", 1, variant) == 0);
}

TEST(model_gcsan_fullsize)
{
    CHECK(model_fullsize_check("gcsan", 0) == 0);
    CHECK(model_fullsize_check("gcsan", 1) == 0);
}

/* S = omega a_last + (1 - omega) h_last, with a = the blocks over the
 * clicks' node states, from the item ids. */
static void gcsan_check_reference(int layers)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "gcsan", layers) == 0);
    int d = f.m.d, L = f.bb.b.L;
    double omega = sbr_cfg_get(&f.m.cfg, "weight"), worst = 0;
    ref_blk_cfg bc = {sbr_cfg_int(&f.m.cfg, "heads"), sbr_cfg_int(&f.m.cfg, "inner"),
                      sbr_cfg_int(&f.m.cfg, "causal"), sbr_cfg_int(&f.m.cfg, "act") == 0, 1e-12};
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        double h[64], x[64], y[64];
        ref_ggnn_clicks(&f, f.bb.b.items + b * L, len, sbr_cfg_int(&f.m.cfg, "steps"), h);
        memcpy(x, h, sizeof(double) * len * d);
        for (int i = 0; i < layers; i++) {
            char prefix[16];
            snprintf(prefix, sizeof prefix, "sa%d", i);
            ref_trm_block(&f, prefix, x, len, &bc, y);
            memcpy(x, y, sizeof(double) * len * d);
        }
        for (int k = 0; k < d; k++) {
            double s = omega * x[(len - 1) * d + k] + (1 - omega) * h[(len - 1) * d + k];
            worst = fmax(worst, fabs(s - f.S[b * d + k]));
        }
    }
    printf("    gcsan, %d block(s): %d prefixes, worst |S - reference| %.3g\n", layers, f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}

TEST(model_gcsan_matches_reference)
{
    gcsan_check_reference(1);
    gcsan_check_reference(2);
}

/* Without --init-scale: RecBole's initialisation (normal(0, 0.02) matrices
 * and items, zero biases, unit gains). */
TEST(model_gcsan_recbole_init)
{
    sbr_model_cfg c;
    REQUIRE(sbr_model_defaults("gcsan", &c) == 0);
    c.n_items = 2000;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &c, SBR_PREC_F64, 4, 8, &e) == 0);
    const char *normal[] = {"items", "gnn.w_in", "gnn.w_ih", "sa0.wq", "sa0.w1"};
    for (int p = 0; p < 5; p++) {
        const sbr_view *v = &m.params.views[sbr_arena_find(&m.params, normal[p])];
        const double *x = v->data;
        double ss = 0;
        for (int64_t i = 0; i < v->numel; i++)
            ss += x[i] * x[i];
        double sd = sqrt(ss / (double)v->numel);
        CHECK(fabs(sd - 0.02) < 0.002);
    }
    const char *zero[] = {"gnn.b_in", "gnn.b_iah", "gnn.b_hh", "sa0.bq", "sa0.ln1_b"};
    for (int p = 0; p < 5; p++) {
        const sbr_view *v = &m.params.views[sbr_arena_find(&m.params, zero[p])];
        for (int64_t i = 0; i < v->numel; i++)
            CHECK(((const double *)v->data)[i] == 0);
    }
    const double *g = m.params.views[sbr_arena_find(&m.params, "sa0.ln2_g")].data;
    CHECK(g[0] == 1 && g[63] == 1);
    sbr_model_free(&m);
}
