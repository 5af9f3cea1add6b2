#include "harness.h"
#include "model_check.h"

int model_fullsize_check(const char *name, int clip); /* test_model_narm.c */

TEST(model_srgnn_gradcheck)
{
    CHECK(model_gradcheck("srgnn", 0) == 0);
}

TEST(model_srgnn_clip_gradcheck)
{
    CHECK(model_gradcheck("srgnn", 1) == 0);
}

/* Two GNN steps and the optional node-embedding dropout. */
static void two_steps(sbr_model_cfg *c)
{
    c->layers = 2;
    c->dropout_emb = 0.3;
}

TEST(model_srgnn_two_steps_gradcheck)
{
    CHECK(model_gradcheck_cfg("srgnn", 0, two_steps) == 0);
}

TEST(model_srgnn_fullsize)
{
    CHECK(model_fullsize_check("srgnn", 0) == 0);
    CHECK(model_fullsize_check("srgnn", 1) == 0);
}
