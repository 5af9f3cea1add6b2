#include "harness.h"
#include "model_check.h"

TEST(model_gru4rec_gradcheck)
{
    CHECK(model_gradcheck("gru4rec", 0) == 0);
}

TEST(model_gru4rec_clip_gradcheck)
{
    CHECK(model_gradcheck("gru4rec", 1) == 0);
}

/* CLIP-SBR's other normalisations (--prompt-norm) and a gate bias. */
static void seq_axis(sbr_model_cfg *c)
{
    c->prompt_norm = SBR_PROMPT_NORM_SEQUENCE;
}

static void no_norm(sbr_model_cfg *c)
{
    c->prompt_norm = SBR_PROMPT_NORM_NONE;
    c->has_gate_bias = 1, c->gate_bias = -1.5;
}

TEST(model_gru4rec_clip_variants_gradcheck)
{
    CHECK(model_gradcheck_cfg("gru4rec", 1, seq_axis) == 0);
    CHECK(model_gradcheck_cfg("gru4rec", 1, no_norm) == 0);
}

/* User prompts (the paper's U and CU): two known users, one unknown and the
 * anonymous rows, which add no prompt. */
static void user_prompts(sbr_model_cfg *c)
{
    c->n_users = 2;
    c->user_prompts = 1;
}

TEST(model_gru4rec_user_prompts_gradcheck)
{
    CHECK(model_gradcheck_cfg("gru4rec", 0, user_prompts) == 0); /* U */
    CHECK(model_gradcheck_cfg("gru4rec", 1, user_prompts) == 0); /* CU */
    CHECK(model_fullsize_check_cfg("gru4rec", 1, user_prompts) == 0);
}
