/* mean, the walkthrough model of docs/CONTRIBUTING.md: whole-model gradient
 * checks (with and without CLIP-SBR prompts, with its linear projection and
 * dropout), the largest default shapes, and its forward against a plain
 * loop (the mean of the prefix's embeddings). */
#include <string.h>

#include "harness.h"
#include "model_check.h"

TEST(model_mean_gradcheck)
{
    CHECK(model_gradcheck("mean", 0) == 0);
    CHECK(model_gradcheck("mean", 1) == 0);
}

static void proj_dropout(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "proj", 1);
    sbr_cfg_set_if(c, "dropout", 0.3);
}

TEST(model_mean_proj_gradcheck)
{
    CHECK(model_gradcheck_cfg("mean", 0, proj_dropout) == 0);
    CHECK(model_gradcheck_cfg("mean", 1, proj_dropout) == 0);
}

TEST(model_mean_fullsize)
{
    CHECK(model_fullsize_check("mean", 0) == 0);
    CHECK(model_fullsize_check("mean", 1) == 0);
}

TEST(model_mean_matches_reference)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "mean", 1) == 0);
    int d = f.m.d, L = f.bb.b.L;
    const double *E = model_fx_param(&f, "items");
    double worst = 0;
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        for (int k = 0; k < d; k++) {
            double s = 0;
            for (int j = 0; j < len; j++)
                s += E[(size_t)f.bb.b.items[b * L + j] * d + k];
            worst = fmax(worst, fabs(s / len - f.S[(size_t)b * d + k]));
        }
    }
    CHECK(worst < 1e-14);
    model_fx_free(&f);
}
