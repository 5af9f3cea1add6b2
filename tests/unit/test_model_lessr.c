/* LESSR: whole-model gradient checks (the shared fixture, options, and the
 * forward fixture's prefixes, where nodes have two in-edges so that the
 * EOPA's GRU runs a second step), its graphs as the batch builds them for a
 * session by hand, the largest shapes, and the forward against plain loops
 * written from the official lessr.py (no batch norm). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "model/batch.h"
#include "model_check.h"
#include "sessions.h"

TEST(model_lessr_gradcheck)
{
    CHECK(model_gradcheck("lessr", 0) == 0);
}

TEST(model_lessr_clip_gradcheck)
{
    CHECK(model_gradcheck("lessr", 1) == 0);
}

static void two_layers_dropout(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "layers", 2);
    sbr_cfg_set_if(c, "dropout", 0.3);
}

static void one_layer(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "layers", 1);
}

TEST(model_lessr_options_gradcheck)
{
    CHECK(model_gradcheck_cfg("lessr", 0, two_layers_dropout) == 0);
    CHECK(model_gradcheck_cfg("lessr", 0, one_layer) == 0);
}

/* ---- the whole model on the forward fixture (every prefix in one batch) ---- */

static double fx_loss(void *u)
{
    model_fx *f = u;
    return sbr_model_loss_grad(&f->m, &f->bb.b, 1, 4);
}

static double *fx_grads[SBR_MODEL_MAX_PARAMS];

static void fx_backward(void *u)
{
    model_fx *f = u;
    fx_loss(u);
    for (int i = 0; i < f->m.grads.n; i++)
        memcpy(fx_grads[i], f->m.grads.views[i].data,
               sizeof(double) * (size_t)f->m.grads.views[i].numel);
}

TEST(model_lessr_repeats_gradcheck)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "lessr", 3) == 0);
    CHECK(f.bb.b.eop->D == 2); /* [1 2 3 2]: node 2 has two in-edges */
    int bad = 0, n = f.m.params.n;
    for (int i = 0; i < n; i++)
        fx_grads[i] = gc_zeros((size_t)f.m.params.views[i].numel);
    for (int p0 = 0; p0 < n; p0 += GC_MAX_VARS) {
        gc_spec s = {.op = "lessr (repeats)", .loss = fx_loss, .backward = fx_backward,
                     .user = &f, .h = 1e-6, .rtol = 1e-5, .atol = 1e-8, .max_checks = 40};
        for (int i = p0; i < n && s.nvars < GC_MAX_VARS; i++)
            gc_add(&s, f.m.params.views[i].name, f.m.params.views[i].data, fx_grads[i],
                   (size_t)f.m.params.views[i].numel);
        bad += gradcheck(&s);
    }
    CHECK_EQ_I64(bad, 0);
    for (int i = 0; i < n; i++)
        free(fx_grads[i]);
    model_fx_free(&f);
}

TEST(model_lessr_fullsize)
{
    CHECK(model_fullsize_check("lessr", 0) == 0);
    CHECK(model_fullsize_check("lessr", 1) == 0);
}

/* ---- the graphs, by hand ---- */

/* Prefixes [5 6 5 7 5] (nodes 5, 6, 7 = 0, 1, 2) and [9] (node 3). EOP
 * edges in click order: 5->6, 6->5, 5->7, 7->5; in-degrees 2, 1, 1, 0. */
TEST(model_lessr_graphs_by_hand)
{
    static int64_t off[3] = {0, 6, 8};
    static int32_t items[8] = {5, 6, 5, 7, 5, 1, /**/ 9, 2};
    sbr_split sp = {2, off, items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[2] = {-1, -1};
    for (int64_t i = 0; i < smp.n; i++) { /* the 5-click prefix, the second session's */
        if (smp.prefix_len[i] == 5)
            order[0] = i;
        if (smp.prefix_len[i] == 1 && smp.session[i] == 1)
            order[1] = i;
    }
    REQUIRE(order[0] >= 0 && order[1] >= 0);
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 2, 8, SBR_NEEDS_EOP, sizeof(double));
    sbr_batch_fill(&bb, &sp, &smp, order, 2, 9, NULL);
    const sbr_batch_eop *g = bb.b.eop;
    REQUIRE(g && bb.b.nodes->T == 4);
    CHECK(g->E == 4 && g->D == 2);
    /* rows by decreasing in-degree: node 0 (2), 1, 2 (1 each); node 3 none */
    CHECK(g->step_off[0] == 0 && g->step_off[1] == 3 && g->step_off[2] == 4);
    /* step 0: first in-edges of 0, 1, 2 (from 1, 0, 0); step 1: node 0's second, from 2 */
    CHECK(g->e_src[0] == 1 && g->e_src[1] == 0 && g->e_src[2] == 0 && g->e_src[3] == 2);
    CHECK(g->last_edge[0] == 3 && g->last_edge[1] == 1 && g->last_edge[2] == 2);
    CHECK(g->last_edge[3] == 4); /* none: E */
    /* grouped by source: 0 -> edges 1, 2; 1 -> 0; 2 -> 3 */
    CHECK(g->e_ord[0] == 1 && g->e_ord[1] == 2 && g->e_ord[2] == 0 && g->e_ord[3] == 3);
    /* shortcut: node v's sources are the nodes first clicked by v's last
     * click: 0 <- {0,1,2}, 1 <- {0,1} (7 comes after the last 6), 2 <-
     * {0,1,2}; node 3 only itself */
    CHECK(g->nnz == 9);
    static const int32_t off4[5] = {0, 3, 5, 8, 9}, src[9] = {0, 1, 2, 0, 1, 0, 1, 2, 3},
                         dst[9] = {0, 0, 0, 1, 1, 2, 2, 2, 3};
    for (int v = 0; v < 5; v++)
        CHECK(g->sc_off[v] == off4[v]);
    for (int e = 0; e < 9; e++)
        CHECK(g->sc_src[e] == src[e] && g->sc_dst[e] == dst[e]);
    /* the transpose: out of 0 -> positions 0, 3, 5; 1 -> 1, 4, 6; 2 -> 2, 7; 3 -> 8 */
    static const int32_t toff[5] = {0, 3, 6, 8, 9}, tpos[9] = {0, 3, 5, 1, 4, 6, 2, 7, 8};
    for (int v = 0; v < 5; v++)
        CHECK(g->sct_off[v] == toff[v]);
    for (int e = 0; e < 9; e++)
        CHECK(g->sct_pos[e] == tpos[e]);
    /* the nodes as a padded batch: row 0 slots 0..2, padding -> its first node */
    CHECK(g->slot[0] == 0 && g->slot[2] == 2 && g->slot[3] == 0 && g->slot[bb.b.L] == 3);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
}

/* Prefix [1 2 3 2 4 3]-style shortcut rule: a node's sources are those
 * first clicked at or before its last click. */
TEST(model_lessr_shortcut_rule)
{
    static int64_t off[2] = {0, 6};
    static int32_t items[6] = {1, 2, 3, 2, 4, 8};
    sbr_split sp = {1, off, items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[1] = {-1};
    for (int64_t i = 0; i < smp.n; i++)
        if (smp.prefix_len[i] == 5) /* the prefix [1 2 3 2 4] */
            order[0] = i;
    REQUIRE(order[0] >= 0);
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 1, 8, SBR_NEEDS_EOP, sizeof(double));
    sbr_batch_fill(&bb, &sp, &smp, order, 1, 9, NULL);
    const sbr_batch_eop *g = bb.b.eop;
    /* nodes 1, 2, 3, 4 = 0..3; sources: 0 <- {0}, 1 <- {0,1,2}, 2 <- {0,1,2}, 3 <- all */
    static const int want[4] = {1, 3, 3, 4};
    for (int v = 0; v < 4; v++)
        CHECK(g->sc_off[v + 1] - g->sc_off[v] == want[v]);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
}

/* ---- the forward against lessr.py, one prefix at a time ---- */

enum { MX = 8, DMAX = 4, WMAX = 5 * DMAX };

static const double *lp(const model_fx *f, int l, const char *part)
{
    char name[64];
    snprintf(name, sizeof name, "layers.%d.%s", l, part);
    return model_fx_param(f, name);
}

/* EOPA: a GRU over node i's in-neighbours in click order (h = 0 without any). */
static void ref_eopa(const model_fx *f, int l, double feat[MX][WMAX], const int *alias, int len,
                     int i, int n, double *pre)
{
    int d = f->m.d;
    double h[WMAX] = {0}, gi[3 * WMAX], gh[3 * WMAX], hn[WMAX];
    for (int j = 0; j + 1 < len; j++) {
        if (alias[j + 1] != i)
            continue;
        ref_linear(gi, lp(f, l, "gru.w_ih"), lp(f, l, "gru.b_ih"), feat[alias[j]], n, 3 * n);
        ref_linear(gh, lp(f, l, "gru.w_hh"), lp(f, l, "gru.b_hh"), h, n, 3 * n);
        for (int k = 0; k < n; k++) {
            double r = ref_sigmoid(gi[k] + gh[k]), z = ref_sigmoid(gi[n + k] + gh[n + k]);
            double c = tanh(gi[2 * n + k] + r * gh[2 * n + k]);
            hn[k] = (1 - z) * c + z * h[k];
        }
        memcpy(h, hn, sizeof(double) * n);
    }
    double a[DMAX], b[DMAX];
    ref_linear(a, lp(f, l, "fc_self.w"), NULL, feat[i], n, d);
    ref_linear(b, lp(f, l, "fc_neigh.w"), NULL, h, n, d);
    for (int k = 0; k < d; k++)
        pre[k] = a[k] + b[k];
}

/* SGAT: attention over the edges u -> i, u clicked at or before some click of i. */
static void ref_sgat(const model_fx *f, int l, double feat[MX][WMAX], const int *alias, int len,
                     int nu, int i, int n, double *pre)
{
    int d = f->m.d;
    double e[MX], mx = -INFINITY, sum = 0, q[DMAX], k[DMAX], v[MX][DMAX];
    int edge[MX] = {0};
    for (int a = 0; a < len; a++)
        for (int b = a; b < len; b++)
            if (alias[b] == i)
                edge[alias[a]] = 1;
    ref_linear(k, lp(f, l, "fc_k.w"), NULL, feat[i], n, d);
    for (int u = 0; u < nu; u++) {
        ref_linear(q, lp(f, l, "fc_q.w"), lp(f, l, "fc_q.b"), feat[u], n, d);
        ref_linear(v[u], lp(f, l, "fc_v.w"), NULL, feat[u], n, d);
        e[u] = 0;
        for (int c = 0; c < d; c++)
            e[u] += lp(f, l, "attn_e.w")[c] * ref_sigmoid(q[c] + k[c]);
        if (edge[u])
            mx = fmax(mx, e[u]);
    }
    memset(pre, 0, sizeof(double) * d);
    for (int u = 0; u < nu; u++)
        sum += edge[u] ? exp(e[u] - mx) : 0;
    for (int u = 0; u < nu; u++)
        for (int c = 0; edge[u] && c < d; c++)
            pre[c] += exp(e[u] - mx) / sum * v[u][c];
}

static void lessr_reference(const model_fx *f, const int32_t *it, int len, int layers, double *S)
{
    int d = f->m.d, nu = 0, alias[MX];
    int32_t node[MX];
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < nu && node[u] != it[j])
            u++;
        if (u == nu)
            node[nu++] = it[j];
        alias[j] = u;
    }
    const double *E = model_fx_param(f, "items");
    double feat[MX][WMAX], nf[MX][WMAX];
    for (int i = 0; i < nu; i++)
        memcpy(feat[i], E + (size_t)node[i] * d, sizeof(double) * d);
    for (int l = 0; l < layers; l++) {
        int n = (l + 1) * d;
        for (int i = 0; i < nu; i++) {
            double pre[DMAX];
            if (l % 2 == 0)
                ref_eopa(f, l, feat, alias, len, i, n, pre);
            else
                ref_sgat(f, l, feat, alias, len, nu, i, n, pre);
            for (int k = 0; k < d; k++) /* [PReLU(pre) ; feat] */
                nf[i][k] = pre[k] > 0 ? pre[k] : lp(f, l, "prelu")[k] * pre[k];
            memcpy(nf[i] + d, feat[i], sizeof(double) * n);
        }
        memcpy(feat, nf, sizeof feat);
    }
    int D = (layers + 1) * d;
    const double *Fl = feat[alias[len - 1]], *we = model_fx_param(f, "readout.attn_e.w");
    double qv[DMAX], u[DMAX], e[MX], mx = -INFINITY, sum = 0, ro[WMAX] = {0}, c[WMAX + DMAX];
    ref_linear(qv, model_fx_param(f, "readout.fc_v.w"), model_fx_param(f, "readout.fc_v.b"), Fl,
               D, d);
    for (int i = 0; i < nu; i++) {
        ref_linear(u, model_fx_param(f, "readout.fc_u.w"), NULL, feat[i], D, d);
        e[i] = 0;
        for (int k = 0; k < d; k++)
            e[i] += we[k] * ref_sigmoid(u[k] + qv[k]);
        mx = fmax(mx, e[i]);
    }
    for (int i = 0; i < nu; i++)
        sum += exp(e[i] - mx);
    for (int i = 0; i < nu; i++)
        for (int k = 0; k < D; k++)
            ro[k] += exp(e[i] - mx) / sum * feat[i][k];
    memcpy(c, Fl, sizeof(double) * D);
    ref_linear(c + D, model_fx_param(f, "readout.fc_out.w"), NULL, ro, D, d);
    ref_linear(S, model_fx_param(f, "fc_sr.w"), NULL, c, D + d, d);
}

static void lessr_check_reference(int layers)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "lessr", layers) == 0);
    int d = f.m.d, L = f.bb.b.L;
    double worst = 0, S[DMAX];
    for (int b = 0; b < f.B; b++) {
        lessr_reference(&f, f.bb.b.items + b * L, f.bb.b.len[b], layers, S);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(S[k] - f.S[b * d + k]));
    }
    printf("    lessr, %d layer(s): %d prefixes, worst |S - reference| %.3g\n", layers, f.B,
           worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}

TEST(model_lessr_matches_reference)
{
    lessr_check_reference(1);
    lessr_check_reference(2);
    lessr_check_reference(4);
}
