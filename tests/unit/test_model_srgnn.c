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

/* The official model.py on one prefix, dense, from the item ids: nodes are
 * the unique items, A_in[i][j] = edge(j -> i) / indeg(i), A_out[i][j] =
 * edge(i -> j) / outdeg(i) (utils.get_slice, each edge counted once), `steps`
 * GNNCell steps, then compute_scores' hybrid readout (softmax: its weights
 * softmaxed over the prefix, TAGNN). V [len, d]: the clicks' states, or NULL. */
void srgnn_reference(const model_fx *f, const int32_t *it, int len, int steps, int softmax,
                     double *S, double *V)
{
    enum { MX = 8, D = 8 };
    int d = f->m.d, n = 0, alias[MX];
    int32_t node[MX];
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < n && node[u] != it[j])
            u++;
        if (u == n)
            node[n++] = it[j];
        alias[j] = u;
    }
    double A[MX][MX] = {{0}}, ain[MX][MX] = {{0}}, aout[MX][MX] = {{0}};
    for (int j = 0; j + 1 < len; j++)
        A[alias[j]][alias[j + 1]] = 1;
    for (int i = 0; i < n; i++) {
        double indeg = 0, outdeg = 0;
        for (int j = 0; j < n; j++)
            indeg += A[j][i], outdeg += A[i][j];
        for (int j = 0; j < n; j++) {
            ain[i][j] = indeg > 0 ? A[j][i] / indeg : 0;
            aout[i][j] = outdeg > 0 ? A[i][j] / outdeg : 0;
        }
    }
    const double *E = model_fx_param(f, "items");
    double h[MX][D];
    for (int i = 0; i < n; i++)
        memcpy(h[i], E + (size_t)node[i] * d, sizeof(double) * d);
    const double *win = model_fx_param(f, "gnn.w_in"), *bin = model_fx_param(f, "gnn.b_in"),
                 *wout = model_fx_param(f, "gnn.w_out"), *bout = model_fx_param(f, "gnn.b_out"),
                 *biah = model_fx_param(f, "gnn.b_iah"), *boah = model_fx_param(f, "gnn.b_oah"),
                 *wih = model_fx_param(f, "gnn.w_ih"), *bih = model_fx_param(f, "gnn.b_ih"),
                 *whh = model_fx_param(f, "gnn.w_hh"), *bhh = model_fx_param(f, "gnn.b_hh");
    for (int s = 0; s < steps; s++) {
        double ein[MX][D], eout[MX][D], hn[MX][D];
        for (int i = 0; i < n; i++) {
            ref_linear(ein[i], win, bin, h[i], d, d);
            ref_linear(eout[i], wout, bout, h[i], d, d);
        }
        for (int i = 0; i < n; i++) {
            double a[2 * D], gi[3 * D], gh[3 * D];
            for (int k = 0; k < d; k++) {
                a[k] = biah[k], a[d + k] = boah[k];
                for (int j = 0; j < n; j++)
                    a[k] += ain[i][j] * ein[j][k], a[d + k] += aout[i][j] * eout[j][k];
            }
            ref_linear(gi, wih, bih, a, 2 * d, 3 * d);
            ref_linear(gh, whh, bhh, h[i], d, 3 * d);
            for (int k = 0; k < d; k++) {
                double r = ref_sigmoid(gi[k] + gh[k]), z = ref_sigmoid(gi[d + k] + gh[d + k]);
                double nn = tanh(gi[2 * d + k] + r * gh[2 * d + k]);
                hn[i][k] = nn + z * (h[i][k] - nn);
            }
        }
        memcpy(h, hn, sizeof h);
    }
    const double *vl = h[alias[len - 1]];
    double q1[D], t[D], c[2 * D] = {0};
    ref_linear(q1, model_fx_param(f, "linear_one.w"), model_fx_param(f, "linear_one.b"), vl, d, d);
    const double *w3 = model_fx_param(f, "linear_three.w");
    double alpha[MX], mx = -INFINITY, sum = 0;
    for (int j = 0; j < len; j++) {
        const double *v = h[alias[j]];
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
            c[k] += (softmax ? exp(alpha[j] - mx) / sum : alpha[j]) * h[alias[j]][k];
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
