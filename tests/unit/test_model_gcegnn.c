/* GCE-GNN: whole-model gradient checks (double precision, dropout on with
 * fixed masks, a tiny global graph), with and without CLIP-SBR prompts, and
 * the batch builder's four-type session graph against a hand-made one. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_gcegnn_gradcheck)
{
    CHECK(model_gradcheck("gcegnn", 0) == 0);
}

TEST(model_gcegnn_clip_gradcheck)
{
    CHECK(model_gradcheck("gcegnn", 1) == 0);
}

static void no_dropout(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "dropout", 0);
    sbr_cfg_set_if(c, "dropout_hidden", 0);
}

/* Both branches' dropout off, and the local one on (the official default is 0). */
static void local_dropout(sbr_model_cfg *c) { sbr_cfg_set_if(c, "dropout", 0.3); }

/* The aggregator's dropout on [h_v ; agg] (the official dropout_gcn). */
static void gcn_dropout(sbr_model_cfg *c) { sbr_cfg_set_if(c, "dropout_gcn", 0.3); }

TEST(model_gcegnn_gradcheck_dropouts)
{
    CHECK(model_gradcheck_cfg("gcegnn", 0, no_dropout) == 0);
    CHECK(model_gradcheck_cfg("gcegnn", 0, local_dropout) == 0);
    CHECK(model_gradcheck_cfg("gcegnn", 0, gcn_dropout) == 0);
}

/* The session graph of the prefix 5 6 5 7 7 (nodes 5, 6, 7 in order of first
 * click): 5->6, 6->5, 5->7 (7->7 is a repeat, no edge). Row of node 5: self,
 * 6 both ways (type 3), 7 clicked after (type 2); node 6: self, 5 both (3);
 * node 7: self, 5 before (type 1). As the official code's adjacency codes
 * 1..4 minus one. */
TEST(model_gcegnn_session_graph)
{
    int64_t off[2] = {0, 6};
    int32_t it[6] = {5, 6, 5, 7, 7, 1};
    sbr_split sp = {1, off, it, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    sbr_model_cfg cfg;
    sbr_model_defaults("gcegnn", &cfg);
    sbr_cfg_set_if(&cfg, "dim", 4), sbr_cfg_set_if(&cfg, "max_len", 8);
    sbr_cfg_set_if(&cfg, "global_k", 2), cfg.n_items = 9;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &cfg, SBR_PREC_F64, 4, 8, &e) == 0);
    int32_t nbr[20] = {0}, n[10] = {0};
    float w[20] = {0};
    nbr[5 * 2] = 9, w[5 * 2] = 3, n[5] = 1; /* item 5 has one neighbour, 9 (weight 3) */
    REQUIRE(sbr_model_set_global_table(&m, nbr, w, n, &e) == 0);
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 4, 8, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    int64_t order[1] = {0}; /* the longest prefix: 5 6 5 7 7 -> 1 */
    sbr_batch_fill(&bb, &sp, &smp, order, 1, 9, NULL);
    const sbr_batch *b = &bb.b;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_local4 *lo = b->local4;
    const sbr_batch_global *gl = b->global;
    REQUIRE(nd && lo && gl);
    REQUIRE(nd->U == 3);
    int32_t want_off[4] = {0, 3, 5, 7}, want_idx[7] = {0, 1, 2, 1, 0, 2, 0},
            want_type[7] = {0, 3, 2, 0, 3, 0, 1};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_I64(lo->le_off[i], want_off[i]);
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_I64(lo->le_idx[i], want_idx[i]);
        CHECK_EQ_I64(lo->le_type[i], want_type[i]);
    }
    /* global neighbours: node 0 (item 5) has 9, the others none */
    CHECK_EQ_I64(gl->K, 2);
    CHECK_EQ_I64(nd->T, 3); /* nodes: the three unique items */
    CHECK_EQ_I64(nd->node_off[1], 3);
    CHECK_EQ_I64(nd->node_sess[2], 0);
    CHECK_EQ_I64(gl->gn[0], 1);
    CHECK_EQ_I64(gl->gn[1], 0);
    CHECK_EQ_I64(gl->gnbr[0], 9);
    CHECK_EQ_I64(gl->gnbr[1], 0);
    CHECK(((double *)gl->gw)[0] == 3);
    CHECK_EQ_I64(gl->gids[0], 5);
    CHECK_EQ_I64(gl->gids[2], 7);
    CHECK(((double *)b->flen)[0] == 5);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
}

/* A table that does not fit is refused with a clear message. */
TEST(model_gcegnn_bad_table)
{
    sbr_model_cfg cfg;
    sbr_model_defaults("gcegnn", &cfg);
    sbr_cfg_set_if(&cfg, "dim", 4), sbr_cfg_set_if(&cfg, "max_len", 8);
    sbr_cfg_set_if(&cfg, "global_k", 2), cfg.n_items = 9;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &cfg, SBR_PREC_F64, 4, 8, &e) == 0);
    int32_t nbr[20] = {0}, n[10] = {0};
    float w[20] = {0};
    n[3] = 1, nbr[6] = 12, w[6] = 1; /* item 12 is outside the catalogue */
    CHECK(sbr_model_set_global_table(&m, nbr, w, n, &e) == -1);
    CHECK(strstr(e.msg, "item 3") != NULL);
    n[3] = 3; /* more than K */
    CHECK(sbr_model_set_global_table(&m, nbr, w, n, &e) == -1);
    sbr_model_free(&m);
}

/* The largest shapes by default (model_fullsize_check): B = 100 prefixes of
 * max_len = 50 distinct clicks (U = L = 50 nodes each), and every item with
 * K = 12 global neighbours. Shared with the DMI-GNN tests. */
static int full_global_table(sbr_model *m, sbr_err *e)
{
    enum { K = 12 };
    int N = m->cfg.n_items;
    int32_t *nbr = calloc((size_t)(N + 1) * K, sizeof(int32_t)), *n = calloc(N + 1, sizeof(int32_t));
    float *w = calloc((size_t)(N + 1) * K, sizeof(float));
    for (int i = 1; i <= N; i++)
        for (int k = 0; k < K; k++)
            nbr[i * K + k] = (i + 3 * k) % N + 1, w[i * K + k] = (float)(K - k), n[i] = K;
    int r = sbr_model_set_global_table(m, nbr, w, n, e);
    free(nbr);
    free(n);
    free(w);
    return r;
}

int gce_fullsize_check(const char *name, int clip);
int gce_fullsize_check(const char *name, int clip)
{
    return model_fullsize_check_with(name, clip, full_global_table);
}

TEST(model_gcegnn_fullsize)
{
    CHECK(gce_fullsize_check("gcegnn", 0) == 0);
    CHECK(gce_fullsize_check("gcegnn", 1) == 0);
}

/* --- the forward against plain loops written from the equations -------------- */

static const double *prm(const sbr_model *m, const char *name)
{
    int i = sbr_arena_find(&m->params, name);
    return i < 0 ? NULL : (const double *)m->params.views[i].data;
}

static double lrelu(double x) { return x > 0 ? x : 0.2 * x; }
static double sigm(double x) { return 1 / (1 + exp(-x)); }

/* S [U, d] of one prefix p[0..len) from the parameters and the ids alone
 * (no dropout, no CLIP). dmi: normalised session-graph input, U interests. */
static void reference_S(const sbr_model *m, const int32_t *p, int len, int dmi, double *S)
{
    enum { MX = 16, DM = 8 };
    int d = m->d, K = m->global_k, nu = 0, node[MX], U = dmi ? m->interests : 1;
    int32_t uniq[MX];
    const double *E = prm(m, "items"), *A = prm(m, "local.a"), *W1 = prm(m, "global.w1"),
                 *q1 = prm(m, "global.q1"), *W2 = prm(m, "global.w2"), *P = prm(m, "read.pos"),
                 *W3 = prm(m, "read.w3");
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < nu && uniq[u] != p[j])
            u++;
        if (u == nu)
            uniq[nu++] = p[j];
        node[j] = u;
    }
    double x[MX][DM], xl[MX][DM], s[DM] = {0}, h[MX][DM];
    for (int u = 0; u < nu; u++) {
        double nr = 0;
        for (int k = 0; k < d; k++)
            x[u][k] = E[uniq[u] * d + k], nr += x[u][k] * x[u][k];
        for (int k = 0; k < d; k++)
            xl[u][k] = dmi ? x[u][k] / fmax(sqrt(nr), 1e-12) : x[u][k];
    }
    for (int j = 0; j < len; j++)
        for (int k = 0; k < d; k++)
            s[k] += E[p[j] * d + k] / len;
    for (int u = 0; u < nu; u++) {
        /* session graph: self, then the others by type */
        double e[MX], mx = -INFINITY, sum = 0;
        int type[MX];
        for (int v = 0; v < nu; v++) {
            int before = 0, after = 0;
            for (int j = 0; j + 1 < len; j++) {
                before |= node[j] == v && node[j + 1] == u && u != v;
                after |= node[j] == u && node[j + 1] == v && u != v;
            }
            type[v] = v == u ? 0 : before && after ? 3 : before ? 1 : after ? 2 : -1;
            if (type[v] < 0)
                continue;
            double pre = 0;
            for (int k = 0; k < d; k++)
                pre += A[type[v] * d + k] * xl[u][k] * xl[v][k];
            e[v] = lrelu(pre);
            mx = fmax(mx, e[v]);
        }
        for (int v = 0; v < nu; v++)
            if (type[v] >= 0)
                sum += exp(e[v] - mx);
        double hl[DM] = {0};
        for (int v = 0; v < nu; v++)
            if (type[v] >= 0)
                for (int k = 0; k < d; k++)
                    hl[k] += exp(e[v] - mx) / sum * xl[v][k];
        /* global: the item's neighbours in the model's table */
        int it = uniq[u], n = m->gtab_n[it];
        double pi[32], agg[DM] = {0}, cat[2 * DM];
        mx = -INFINITY, sum = 0;
        for (int q = 0; q < n; q++) {
            const double *xn = E + m->gtab_nbr[it * K + q] * d;
            pi[q] = 0;
            for (int r = 0; r < d; r++) {
                double pre = W1[r * (d + 1) + d] * m->gtab_w[it * K + q];
                for (int k = 0; k < d; k++)
                    pre += W1[r * (d + 1) + k] * s[k] * xn[k];
                pi[q] += q1[r] * lrelu(pre);
            }
            mx = fmax(mx, pi[q]);
        }
        for (int q = 0; q < n; q++)
            sum += exp(pi[q] - mx);
        for (int q = 0; q < n; q++)
            for (int k = 0; k < d; k++)
                agg[k] += exp(pi[q] - mx) / sum * E[m->gtab_nbr[it * K + q] * d + k];
        for (int k = 0; k < d; k++)
            cat[k] = x[u][k], cat[d + k] = agg[k];
        for (int r = 0; r < d; r++) {
            double y = 0;
            for (int k = 0; k < 2 * d; k++)
                y += W2[r * 2 * d + k] * cat[k];
            h[u][r] = fmax(y, 0) + hl[r];
        }
    }
    /* readout */
    double z[MX][DM], sp[DM] = {0};
    for (int j = 0; j < len; j++) {
        const double *hj = h[node[j]], *pj = P + (len - 1 - j) * d;
        for (int r = 0; r < d; r++) {
            double y = 0;
            for (int k = 0; k < d; k++)
                y += W3[r * 2 * d + k] * pj[k] + W3[r * 2 * d + d + k] * hj[k];
            z[j][r] = tanh(y);
            sp[r] += hj[r] / len;
        }
    }
    for (int u = 0; u < U; u++) {
        char n4[32], nb[32], nq[32];
        snprintf(n4, sizeof n4, dmi ? "read.w4.%d" : "read.w4", u);
        snprintf(nb, sizeof nb, dmi ? "read.b4.%d" : "read.b4", u);
        snprintf(nq, sizeof nq, dmi ? "read.q.%d" : "read.q2", u);
        const double *W4 = prm(m, n4), *b4 = prm(m, nb), *q = prm(m, nq), *W5 = prm(m, "read.w5");
        double *Su = S + u * d;
        for (int k = 0; k < d; k++)
            Su[k] = 0;
        for (int j = 0; j < len; j++) {
            double beta = 0;
            for (int r = 0; r < d; r++) {
                double y = b4[r];
                for (int k = 0; k < d; k++)
                    y += W4[r * d + k] * z[j][k] + (dmi ? 0 : W5[r * d + k] * sp[k]);
                beta += q[r] * sigm(y);
            }
            for (int k = 0; k < d; k++)
                Su[k] += beta * h[node[j]][k];
        }
    }
}

/* Prefixes of four sessions with repeats, one longer than max_len = 6. */
int gce_reference_check(const char *name, int interests);
int gce_reference_check(const char *name, int interests)
{
    static int64_t off[5] = {0, 5, 9, 17, 20};
    static int32_t it[20] = {3, 1, 3, 2, 4, /**/ 5, 5, 6, 1, /**/ 2, 7, 8, 7, 2, 9, 3, 1,
                             /**/ 6, 4, 6};
    int dmi = strcmp(name, "dmignn") == 0;
    sbr_model_cfg cfg;
    sbr_model_defaults(name, &cfg);
    sbr_cfg_set_if(&cfg, "dim", 5), sbr_cfg_set_if(&cfg, "max_len", 6);
    sbr_cfg_set_if(&cfg, "global_k", 3), sbr_cfg_set_if(&cfg, "interests", interests);
    cfg.n_items = 9, cfg.seed = 4, cfg.init_scale = 0.7;
    sbr_model m;
    sbr_err e;
    if (sbr_model_create(&m, &cfg, SBR_PREC_F64, 16, 6, &e))
        return printf("    %s\n", e.msg), 1;
    int32_t nbr[30] = {0}, n[10] = {0};
    float w[30] = {0};
    for (int i = 1; i <= 9; i++) /* item i: (i % 4) neighbours, heavier first */
        for (int k = 0; k < i % 4; k++)
            nbr[i * 3 + k] = (i + 2 * k) % 9 + 1, w[i * 3 + k] = (float)(5 - k), n[i]++;
    int bad = sbr_model_set_global_table(&m, nbr, w, n, &e) != 0;
    sbr_split sp = {4, off, it, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int B = (int)smp.n < 16 ? (int)smp.n : 16;
    int64_t order[16];
    for (int i = 0; i < B; i++)
        order[i] = i;
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 16, 6, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    sbr_batch_fill(&bb, &sp, &smp, order, B, 9, NULL);
    int U = m.interests, d = m.d;
    double *S = calloc((size_t)B * U * d, sizeof(double)), ref[8 * 5], worst = 0;
    sbr_model_forward(&m, &bb.b, S);
    for (int i = 0; i < B; i++) {
        int full = smp.prefix_len[order[i]], len = full > 6 ? 6 : full;
        const int32_t *p = it + off[smp.session[order[i]]] + (full - len);
        reference_S(&m, p, len, dmi, ref);
        for (int k = 0; k < U * d; k++)
            worst = fmax(worst, fabs(ref[k] - S[(size_t)i * U * d + k]));
    }
    printf("    %s (U %d): %d prefixes, largest |S - reference| %.3g\n", name, U, B, worst);
    bad |= !(worst < 1e-12);
    if (dmi && U > 1) { /* the DMI regulariser from the interest weights */
        const double *a = m.iw, *xl = m.xloss;
        int L = bb.b.L;
        double wr = 0;
        bad |= !xl || m.xloss_w != sbr_cfg_get(&cfg, "dmi_beta");
        for (int i = 0; xl && i < B; i++) {
            int len = bb.b.len[i], pairs = 0;
            double c = 0;
            for (int u = 0; u < U; u++)
                for (int v = u + 1; v < U; v++, pairs++) {
                    double uv = 0, uu = 0, vv = 0;
                    for (int j = 0; j < len; j++) {
                        double x = a[((size_t)u * B + i) * L + j], y = a[((size_t)v * B + i) * L + j];
                        uv += x * y, uu += x * x, vv += y * y;
                    }
                    c += fabs(uv / (fmax(sqrt(uu), 1e-12) * fmax(sqrt(vv), 1e-12)));
                }
            wr = fmax(wr, fabs(xl[i] - sigm((len - sbr_cfg_get(&cfg, "dmi_eta")) * c / pairs)));
        }
        printf("    DMI regulariser: largest |L_DMI - reference| %.3g\n", wr);
        bad |= !(wr < 1e-12);
    }
    free(S);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
    return bad;
}

TEST(model_gcegnn_reference)
{
    CHECK(gce_reference_check("gcegnn", 1) == 0);
}
