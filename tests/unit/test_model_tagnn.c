/* TAGNN: whole-model gradient checks (with and without CLIP-SBR prompts, two
 * GNN steps with dropout), the largest default shapes, and its loss and
 * top-K scores against a plain loop over every candidate written from the
 * equations (SR-GNN's reference forward, then the target-aware term). */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model/model.h"
#include "model_check.h"

TEST(model_tagnn_gradcheck)
{
    CHECK(model_gradcheck("tagnn", 0) == 0);
}

TEST(model_tagnn_clip_gradcheck)
{
    CHECK(model_gradcheck("tagnn", 1) == 0);
}

static void two_steps(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "layers", 2);
    sbr_cfg_set_if(c, "dropout", 0.3);
}

TEST(model_tagnn_two_steps_gradcheck)
{
    CHECK(model_gradcheck_cfg("tagnn", 0, two_steps) == 0);
}

TEST(model_tagnn_fullsize)
{
    CHECK(model_fullsize_check("tagnn", 0) == 0);
    CHECK(model_fullsize_check("tagnn", 1) == 0);
}

/* score(i) = S . e_i + sum_j beta_ij (v_j . e_i), beta_i = softmax_j (e_i . W_tgt v_j). */
static double tagnn_score(const model_fx *f, const double *S, const double *V, int len, int i)
{
    int d = f->m.d;
    const double *e = model_fx_param(f, "items") + (size_t)i * d;
    const double *wq = model_fx_param(f, "linear_t.w");
    double u[8], w[8], mx = -INFINITY, sum = 0, s = 0;
    for (int j = 0; j < len; j++) {
        double q[8];
        ref_linear(q, wq, NULL, V + (size_t)j * d, d, d);
        u[j] = w[j] = 0;
        for (int k = 0; k < d; k++)
            u[j] += e[k] * q[k], w[j] += e[k] * V[(size_t)j * d + k];
        mx = fmax(mx, u[j]);
    }
    for (int j = 0; j < len; j++)
        sum += exp(u[j] - mx);
    for (int j = 0; j < len; j++)
        s += exp(u[j] - mx) / sum * w[j];
    for (int k = 0; k < d; k++)
        s += S[k] * e[k];
    return s;
}

static void tagnn_check_reference(int steps)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "tagnn", steps) == 0);
    int d = f.m.d, L = f.bb.b.L, N = f.m.cfg.n_items, K = 3;
    double worst_S = 0, worst_top = 0, loss = 0, S[8], V[8 * 8], sc[16];
    int32_t idx[32 * 3];
    float top[32 * 3];
    sbr_model_topk(&f.m, &f.bb.b, K, 2, idx, top, NULL, NULL);
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        srgnn_reference(&f, f.bb.b.items + b * L, len, steps, 1, S, V);
        for (int k = 0; k < d; k++)
            worst_S = fmax(worst_S, fabs(S[k] - f.S[b * d + k]));
        double mx = -INFINITY, sum = 0;
        for (int i = 1; i <= N; i++)
            sc[i] = tagnn_score(&f, S, V, len, i), mx = fmax(mx, sc[i]);
        for (int i = 1; i <= N; i++)
            sum += exp(sc[i] - mx);
        loss += mx + log(sum) - sc[f.bb.b.target[b]];
        for (int r = 0; r < K; r++) { /* the r-th of the list has r better items */
            int better = 0, id = idx[b * K + r];
            for (int i = 1; i <= N; i++)
                better += sc[i] > sc[id] + 1e-12;
            CHECK_EQ_I64(better, r);
            worst_top = fmax(worst_top, fabs(top[b * K + r] - sc[id]) / fmax(1, fabs(sc[id])));
        }
    }
    loss /= f.B;
    double got = sbr_model_loss_grad(&f.m, &f.bb.b, 0, 2);
    printf("    tagnn, %d step(s): %d prefixes, |S - ref| %.3g, loss %.15g |loss - ref| %.3g, top-K %.3g\n",
           steps, f.B, worst_S, got, fabs(got - loss), worst_top);
    CHECK(worst_S < 1e-12);
    CHECK(fabs(got - loss) < 1e-12);
    CHECK(worst_top < 1e-6);
    model_fx_free(&f);
}

TEST(model_tagnn_matches_reference)
{
    tagnn_check_reference(1);
    tagnn_check_reference(2);
}
