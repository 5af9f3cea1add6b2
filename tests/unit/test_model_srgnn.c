#include <math.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_srgnn_gradcheck)
{
    CHECK(model_gradcheck("srgnn", 0) == 0);
}

TEST(model_srgnn_clip_gradcheck)
{
    CHECK(model_gradcheck("srgnn", 1) == 0);
}

/* The official code's SR-GNN: prompts without normalisation. */
static void no_norm(sbr_model_cfg *c)
{
    c->prompt_norm = SBR_PROMPT_NORM_NONE;
}

TEST(model_srgnn_clip_no_norm_gradcheck)
{
    CHECK(model_gradcheck_cfg("srgnn", 1, no_norm) == 0);
}

/* Two GNN steps and the optional node-embedding dropout. */
static void two_steps(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "layers", 2);
    sbr_cfg_set_if(c, "dropout", 0.3);
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

/* The official model.py's compute_scores on one prefix: the hybrid readout
 * over the clicks' node states (ref_ggnn_clicks: `steps` GNNCell steps;
 * softmax: the readout's weights softmaxed over the prefix, TAGNN).
 * V [len, d]: the clicks' states, or NULL. */
void srgnn_reference(const model_fx *f, const int32_t *it, int len, int steps, int softmax,
                     double *S, double *V)
{
    enum { MX = 8, D = 8 };
    int d = f->m.d;
    double h[MX * D];
    ref_ggnn_clicks(f, it, len, steps, h);
    const double *vl = h + (len - 1) * d;
    double q1[D], t[D], c[2 * D] = {0};
    ref_linear(q1, model_fx_param(f, "linear_one.w"), model_fx_param(f, "linear_one.b"), vl, d, d);
    const double *w3 = model_fx_param(f, "linear_three.w");
    double alpha[MX], mx = -INFINITY, sum = 0;
    for (int j = 0; j < len; j++) {
        const double *v = h + j * d;
        ref_linear(t, model_fx_param(f, "linear_two.w"), model_fx_param(f, "linear_two.b"), v, d,
                   d);
        alpha[j] = 0;
        for (int k = 0; k < d; k++)
            alpha[j] += w3[k] * ref_sigmoid(q1[k] + t[k]);
        mx = fmax(mx, alpha[j]);
        if (V)
            memcpy(V + (size_t)j * d, v, sizeof(double) * d);
    }
    for (int j = 0; softmax && j < len; j++)
        sum += exp(alpha[j] - mx);
    for (int j = 0; j < len; j++)
        for (int k = 0; k < d; k++)
            c[k] += (softmax ? exp(alpha[j] - mx) / sum : alpha[j]) * h[j * d + k];
    memcpy(c + d, vl, sizeof(double) * d);
    ref_linear(S, model_fx_param(f, "linear_transform.w"), model_fx_param(f, "linear_transform.b"),
               c, 2 * d, d);
}

static void srgnn_check_reference(int steps)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "srgnn", steps) == 0);
    int d = f.m.d, L = f.bb.b.L;
    double worst = 0, S[8];
    for (int b = 0; b < f.B; b++) {
        srgnn_reference(&f, f.bb.b.items + b * L, f.bb.b.len[b], steps, 0, S, NULL);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(S[k] - f.S[b * d + k]));
    }
    printf("    srgnn, %d step(s): %d prefixes, worst |S - reference| %.3g\n", steps, f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}

TEST(model_srgnn_matches_reference)
{
    srgnn_check_reference(1);
    srgnn_check_reference(3);
}
