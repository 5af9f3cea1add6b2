#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_narm_gradcheck)
{
    CHECK(model_gradcheck("narm", 0) == 0);
}

TEST(model_narm_clip_gradcheck)
{
    CHECK(model_gradcheck("narm", 1) == 0);
}


TEST(model_narm_fullsize)
{
    CHECK(model_fullsize_check("narm", 0) == 0);
    CHECK(model_fullsize_check("narm", 1) == 0);
}


/* One torch GRU step: h [H] updated in place from x [In]. */
static void ref_gru_step(double *h, const double *x, const double *wih, const double *bih,
                         const double *whh, const double *bhh, int In, int H)
{
    double gi[3 * 16], gh[3 * 16];
    ref_linear(gi, wih, bih, x, In, 3 * H);
    ref_linear(gh, whh, bhh, h, H, 3 * H);
    for (int k = 0; k < H; k++) {
        double r = ref_sigmoid(gi[k] + gh[k]), z = ref_sigmoid(gi[H + k] + gh[H + k]);
        double n = tanh(gi[2 * H + k] + r * gh[2 * H + k]);
        h[k] = (1 - z) * n + z * h[k];
    }
}

TEST(model_narm_matches_reference)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "narm", 1) == 0);
    int d = f.m.d, H = sbr_cfg_int(&f.m.cfg, "hidden"), L = f.bb.b.L;
    const double *E = model_fx_param(&f, "items"), *wih = model_fx_param(&f, "gru.w_ih"),
                 *bih = model_fx_param(&f, "gru.b_ih"), *whh = model_fx_param(&f, "gru.w_hh"),
                 *bhh = model_fx_param(&f, "gru.b_hh"), *A1 = model_fx_param(&f, "attn.a1"),
                 *A2 = model_fx_param(&f, "attn.a2"), *v = model_fx_param(&f, "attn.v"),
                 *Bw = model_fx_param(&f, "decoder.b");
    double worst = 0;
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        double hs[8][16] = {{0}}, h[16] = {0}, c[32], q1[16], t[16], S[16];
        for (int j = 0; j < len; j++) {
            ref_gru_step(h, E + (size_t)f.bb.b.items[b * L + j] * d, wih, bih, whh, bhh, d, H);
            memcpy(hs[j], h, sizeof(double) * H);
        }
        ref_linear(q1, A1, NULL, h, H, H);
        memcpy(c, h, sizeof(double) * H); /* c_g */
        for (int k = 0; k < H; k++)
            c[H + k] = 0;
        for (int j = 0; j < len; j++) {
            ref_linear(t, A2, NULL, hs[j], H, H);
            double alpha = 0;
            for (int k = 0; k < H; k++)
                alpha += v[k] * ref_sigmoid(t[k] + q1[k]);
            for (int k = 0; k < H; k++)
                c[H + k] += alpha * hs[j][k];
        }
        ref_linear(S, Bw, NULL, c, 2 * H, d);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(S[k] - f.S[b * d + k]));
    }
    printf("    narm: %d prefixes, worst |S - reference| %.3g\n", f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}

static void seq_axis(sbr_model_cfg *c)
{
    c->prompt_norm = SBR_PROMPT_NORM_SEQUENCE;
}

static void no_norm(sbr_model_cfg *c)
{
    c->prompt_norm = SBR_PROMPT_NORM_NONE;
}

/* CLIP-SBR's other normalisations (--prompt-norm). */
TEST(model_narm_clip_variants_gradcheck)
{
    CHECK(model_gradcheck_cfg("narm", 1, seq_axis) == 0);
    CHECK(model_gradcheck_cfg("narm", 1, no_norm) == 0);
    CHECK(model_fullsize_check_cfg("narm", 1, seq_axis) == 0);
}

static void user_prompts_seq(sbr_model_cfg *c)
{
    c->n_users = 2;
    c->user_prompts = 1;
    c->prompt_norm = SBR_PROMPT_NORM_SEQUENCE;
}

/* Cluster and user prompts together, along the sequence axis. */
TEST(model_narm_user_prompts_gradcheck)
{
    CHECK(model_gradcheck_cfg("narm", 1, user_prompts_seq) == 0);
}
