/* DMI-GNN: whole-model gradient checks (double precision, a tiny global
 * graph): the published setting (U = 3, max over interests, the DMI
 * regulariser), a large beta so that the regulariser's gradient dominates,
 * the sum pool, a single interest, and CLIP-SBR prompts. */
#include "harness.h"
#include "model_check.h"

TEST(model_dmignn_gradcheck)
{
    CHECK(model_gradcheck("dmignn", 0) == 0);
}

TEST(model_dmignn_clip_gradcheck)
{
    CHECK(model_gradcheck("dmignn", 1) == 0);
}

static void strong_reg(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "dmi_beta", 2);
    sbr_cfg_set_if(c, "dmi_eta", 2); /* the tiny prefixes are 1..4 clicks long: both signs of len - eta */
    sbr_cfg_set_if(c, "interests", 4);
}

static void sum_pool(sbr_model_cfg *c) { sbr_cfg_set_if(c, "interest_pool", 1); }

static void one_interest(sbr_model_cfg *c) { sbr_cfg_set_if(c, "interests", 1); }

TEST(model_dmignn_gradcheck_variants)
{
    CHECK(model_gradcheck_cfg("dmignn", 0, strong_reg) == 0);
    CHECK(model_gradcheck_cfg("dmignn", 0, sum_pool) == 0);
    CHECK(model_gradcheck_cfg("dmignn", 0, one_interest) == 0);
}

int gce_fullsize_check(const char *name, int clip); /* test_model_gcegnn.c */

TEST(model_dmignn_fullsize)
{
    CHECK(gce_fullsize_check("dmignn", 0) == 0);
    CHECK(gce_fullsize_check("dmignn", 1) == 0);
}

int gce_reference_check(const char *name, int interests); /* test_model_gcegnn.c */

TEST(model_dmignn_reference)
{
    CHECK(gce_reference_check("dmignn", 3) == 0);
    CHECK(gce_reference_check("dmignn", 1) == 0);
}
