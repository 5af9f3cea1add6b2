/* SR-GNN gated graph propagation: per-session graphs built from real click
 * sequences (repeats, a one-click session without edges), gradient-checked
 * with 1 and 2 steps, with and without the transposes' values, compared with
 * a dense plain-loop reference, float vs double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "device.h"
#include "nn/nn.h"

enum { D_ = 3, TMAX = 16, NZMAX = 64 };

/* Block-diagonal graphs of a batch of sessions, SR-GNN style: nodes are the
 * unique items of each session; edge u -> v for each consecutive pair (once);
 * A_out[u][v] = 1 / outdeg(u), A_in[v][u] = 1 / indeg(v). */
typedef struct {
    int T;
    double Ain[TMAX][TMAX], Aout[TMAX][TMAX];
    int32_t in_ptr[TMAX + 1], in_col[NZMAX], out_ptr[TMAX + 1], out_col[NZMAX];
    double in_val[NZMAX], out_val[NZMAX];
    /* A_in^T over A_out's pattern, A_out^T over A_in's */
    double in_tval[NZMAX], out_tval[NZMAX];
} graphs;

static void dense_to_csr(double A[TMAX][TMAX], int T, int32_t *ptr, int32_t *col, double *val)
{
    int nz = 0;
    ptr[0] = 0;
    for (int i = 0; i < T; i++) {
        for (int j = 0; j < T; j++)
            if (A[i][j] != 0)
                col[nz] = j, val[nz] = A[i][j], nz++;
        ptr[i + 1] = nz;
    }
}

static void build_graphs(graphs *g, const int *const *sess, const int *lens, int S)
{
    memset(g, 0, sizeof *g);
    int base = 0;
    for (int s = 0; s < S; s++) {
        int items[TMAX], n = 0, node[32];
        for (int t = 0; t < lens[s]; t++) {
            int k = 0;
            while (k < n && items[k] != sess[s][t])
                k++;
            if (k == n)
                items[n++] = sess[s][t];
            node[t] = base + k;
        }
        double U[TMAX][TMAX] = {{0}};
        for (int t = 0; t + 1 < lens[s]; t++)
            U[node[t]][node[t + 1]] = 1;
        for (int i = base; i < base + n; i++) {
            double od = 0, id = 0;
            for (int j = base; j < base + n; j++)
                od += U[i][j], id += U[j][i];
            for (int j = base; j < base + n; j++) {
                if (U[i][j] != 0)
                    g->Aout[i][j] = U[i][j] / od;
                if (U[j][i] != 0)
                    g->Ain[i][j] = U[j][i] / id;
            }
        }
        base += n;
    }
    g->T = base;
    dense_to_csr(g->Ain, g->T, g->in_ptr, g->in_col, g->in_val);
    dense_to_csr(g->Aout, g->T, g->out_ptr, g->out_col, g->out_val);
    for (int i = 0; i < g->T; i++) {
        for (int e = g->out_ptr[i]; e < g->out_ptr[i + 1]; e++)
            g->in_tval[e] = g->Ain[g->out_col[e]][i];
        for (int e = g->in_ptr[i]; e < g->in_ptr[i + 1]; e++)
            g->out_tval[e] = g->Aout[g->in_col[e]][i];
    }
}

enum { P_WIN, P_BIN, P_WOUT, P_BOUT, P_BIAH, P_BOAH, P_WIH, P_BIH, P_WHH, P_BHH, NP };
static const int psize[NP] = {D_ * D_, D_, D_ * D_, D_, D_, D_, 3 * D_ * 2 * D_, 3 * D_,
                              3 * D_ * D_, 3 * D_};
static const char *pname[NP] = {"w_in", "b_in", "w_out", "b_out", "b_iah", "b_oah",
                                "w_ih", "b_ih", "w_hh",  "b_hh"};

typedef struct {
    graphs g;
    int steps, transposed; /* transposed: the backward gets in_tval / out_tval */
    double *p[NP], *dp[NP];
    double h0[TMAX * D_], dh0[TMAX * D_], hout[TMAX * D_], w[TMAX * D_];
    double hsteps[3 * TMAX * D_], a[3 * TMAX * 2 * D_], gates[3 * TMAX * 3 * D_],
        ghn[3 * TMAX * D_];
    double scratch[12 * TMAX * D_];
} gg_case;

/* The op's structs over a case's arrays (P_* runs in the weights' order). */
static sbr_nn_ggnn_w_f64 gg_w(double *const *p)
{
    return (sbr_nn_ggnn_w_f64){p[P_WIN], p[P_BIN], p[P_WOUT], p[P_BOUT], p[P_BIAH],
                               p[P_BOAH], p[P_WIH], p[P_BIH], p[P_WHH],  p[P_BHH]};
}

static sbr_nn_ggnn_w_f32 gg_wf(float *const *p)
{
    return (sbr_nn_ggnn_w_f32){p[P_WIN], p[P_BIN], p[P_WOUT], p[P_BOUT], p[P_BIAH],
                               p[P_BOAH], p[P_WIH], p[P_BIH], p[P_WHH],  p[P_BHH]};
}

static sbr_nn_ggnn_graph_f64 gg_graph(const graphs *g, int transposed)
{
    return (sbr_nn_ggnn_graph_f64){g->in_ptr,  g->in_col,  g->in_val,
                                   g->out_ptr, g->out_col, g->out_val,
                                   transposed ? g->in_tval : NULL,
                                   transposed ? g->out_tval : NULL, g->T};
}

static sbr_nn_ggnn_saved_f64 gg_saved(gg_case *c)
{
    return (sbr_nn_ggnn_saved_f64){c->hsteps, c->a, c->gates, c->ghn};
}

static double gg_loss(void *u)
{
    gg_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    graphs *g = &c->g;
    sbr_nn_ggnn_graph_f64 gr = gg_graph(g, 0);
    sbr_nn_ggnn_saved_f64 sv = gg_saved(c);
    sbr_nn_ggnn_w_f64 w = gg_w(c->p);
    sbr_nn_ggnn_forward_f64(&ctx, c->hout, &sv, c->h0, &gr, &w, D_, c->steps);
    return gc_dot(c->w, c->hout, (size_t)g->T * D_);
}

static void gg_backward(void *u)
{
    gg_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    graphs *g = &c->g;
    gg_loss(c);
    memset(c->dh0, 0, sizeof c->dh0);
    for (int k = 0; k < NP; k++)
        memset(c->dp[k], 0, psize[k] * sizeof(double));
    sbr_nn_ggnn_graph_f64 gr = gg_graph(g, c->transposed);
    sbr_nn_ggnn_saved_f64 sv = gg_saved(c);
    sbr_nn_ggnn_w_f64 w = gg_w(c->p), dw = gg_w(c->dp);
    sbr_nn_ggnn_backward_f64(&ctx, c->dh0, &dw, c->w, &sv, &gr, &w, D_, c->steps);
}

static const int s0[] = {3, 7, 3, 9}, s1[] = {5}, s2[] = {2, 4, 6, 2, 4};
static const int *const sess[] = {s0, s1, s2};
static const int slens[] = {4, 1, 5};

/* A case on the S sessions given. */
static gg_case *gg_new_on(int steps, uint64_t seed, const int *const *ss, const int *lens, int S)
{
    gg_case *c = calloc(1, sizeof *c);
    build_graphs(&c->g, ss, lens, S);
    c->steps = steps;
    for (int k = 0; k < NP; k++) {
        c->p[k] = gc_zeros(psize[k]), c->dp[k] = gc_zeros(psize[k]);
        gc_fill(c->p[k], psize[k], -0.7, 0.7, seed + k);
    }
    gc_fill(c->h0, (size_t)c->g.T * D_, -1, 1, seed + 20);
    gc_fill(c->w, (size_t)c->g.T * D_, -1, 1, seed + 21);
    return c;
}

static gg_case *gg_new(int steps, uint64_t seed) { return gg_new_on(steps, seed, sess, slens, 3); }

/* Stars: item 1 (and 5) clicked between every other, so that node 0's
 * column of A_in and row of A_out hold 3 entries, whose sum's order shows in
 * the bits (two terms added to 0 come out the same either way). */
static const int st0[] = {1, 2, 1, 3, 1, 4, 1}, st1[] = {5, 6, 5, 7, 5, 8, 5};
static const int *const stars[] = {st0, st1, s2};
static const int star_lens[] = {7, 7, 5};

static void gg_free(gg_case *c)
{
    for (int k = 0; k < NP; k++)
        free(c->p[k]), free(c->dp[k]);
    free(c);
}

TEST(nn_ggnn_gradcheck)
{
    for (int run = 0; run < 4; run++) {
        int steps = 1 + run % 2;
        gg_case *c = gg_new(steps, 300 + steps);
        c->transposed = run / 2;
        CHECK_EQ_I64(c->g.T, 7); /* 3 + 1 + 3 unique items */
        REQUIRE(sbr_nn_ggnn_scratch_f64(c->g.T, D_) <= sizeof c->scratch);
        gc_spec s = {.op = "ggnn", .loss = gg_loss, .backward = gg_backward, .user = c};
        gc_add(&s, "h0", c->h0, c->dh0, (size_t)c->g.T * D_);
        for (int k = 0; k < NP; k++)
            gc_add(&s, pname[k], c->p[k], c->dp[k], psize[k]);
        CHECK_EQ_I64(gradcheck(&s), 0);
        gg_free(c);
    }
}

static double sigm(double x) { return 1 / (1 + exp(-x)); }

/* One step written densely from the SR-GNN GNNCell formulas. */
TEST(nn_ggnn_matches_dense_reference)
{
    gg_case *c = gg_new(1, 9);
    gg_loss(c);
    int T = c->g.T;
    double ein[TMAX][D_], eout[TMAX][D_], a[TMAX][2 * D_];
    for (int i = 0; i < T; i++)
        for (int o = 0; o < D_; o++) {
            ein[i][o] = c->p[P_BIN][o], eout[i][o] = c->p[P_BOUT][o];
            for (int k = 0; k < D_; k++) {
                ein[i][o] += c->p[P_WIN][o * D_ + k] * c->h0[i * D_ + k];
                eout[i][o] += c->p[P_WOUT][o * D_ + k] * c->h0[i * D_ + k];
            }
        }
    for (int i = 0; i < T; i++)
        for (int o = 0; o < D_; o++) {
            a[i][o] = c->p[P_BIAH][o], a[i][D_ + o] = c->p[P_BOAH][o];
            for (int j = 0; j < T; j++) {
                a[i][o] += c->g.Ain[i][j] * ein[j][o];
                a[i][D_ + o] += c->g.Aout[i][j] * eout[j][o];
            }
        }
    for (int i = 0; i < T; i++) {
        double gi[3 * D_], gh[3 * D_];
        for (int o = 0; o < 3 * D_; o++) {
            gi[o] = c->p[P_BIH][o], gh[o] = c->p[P_BHH][o];
            for (int k = 0; k < 2 * D_; k++)
                gi[o] += c->p[P_WIH][o * 2 * D_ + k] * a[i][k];
            for (int k = 0; k < D_; k++)
                gh[o] += c->p[P_WHH][o * D_ + k] * c->h0[i * D_ + k];
        }
        for (int k = 0; k < D_; k++) {
            double r = sigm(gi[k] + gh[k]), z = sigm(gi[D_ + k] + gh[D_ + k]);
            double n = tanh(gi[2 * D_ + k] + r * gh[2 * D_ + k]);
            double h = n + z * (c->h0[i * D_ + k] - n);
            CHECK_NEAR(c->hout[i * D_ + k], h, 1e-13);
        }
    }
    /* The one-click session (node 3) has no edges: its message is the biases alone. */
    for (int o = 0; o < D_; o++)
        CHECK_NEAR(c->a[3 * 2 * D_ + o], c->p[P_BIAH][o], 0);
    gg_free(c);
}

TEST(nn_ggnn_f32_matches_f64)
{
    gg_case *c = gg_new(2, 55);
    int T = c->g.T;
    float *pf[NP];
    for (int k = 0; k < NP; k++) {
        pf[k] = gc_zeros_f(psize[k]);
        for (int i = 0; i < psize[k]; i++)
            pf[k][i] = (float)c->p[k][i], c->p[k][i] = pf[k][i];
    }
    float h0[TMAX * D_], hout[TMAX * D_], hst[2 * TMAX * D_], a[2 * TMAX * 2 * D_],
        gates[2 * TMAX * 3 * D_], ghn[2 * TMAX * D_], inv[NZMAX], outv[NZMAX];
    float scr[12 * TMAX * D_];
    for (int i = 0; i < T * D_; i++)
        h0[i] = (float)c->h0[i], c->h0[i] = h0[i];
    for (int e = 0; e < c->g.in_ptr[T]; e++)
        inv[e] = (float)c->g.in_val[e], c->g.in_val[e] = inv[e];
    for (int e = 0; e < c->g.out_ptr[T]; e++)
        outv[e] = (float)c->g.out_val[e], c->g.out_val[e] = outv[e];
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    graphs *g = &c->g;
    sbr_nn_ggnn_graph_f32 gr = {g->in_ptr, g->in_col, inv, g->out_ptr, g->out_col, outv,
                                NULL,      NULL,      T};
    sbr_nn_ggnn_w_f32 w = gg_wf(pf);
    sbr_nn_ggnn_forward_f32(&ctx, hout, &(sbr_nn_ggnn_saved_f32){hst, a, gates, ghn}, h0, &gr, &w,
                            D_, 2);
    gg_loss(c);
    CHECK(gc_agree_f32(hout, c->hout, (size_t)T * D_, 1e-5, 1e-6) <= 1);
    for (int k = 0; k < NP; k++)
        free(pf[k]);
    gg_free(c);
}

/* The parallel paths (large batches) give the same bits with 1 and 2 threads. */
TEST(nn_ggnn_thread_count_independent)
{
    enum { T = 12000, D = 100 };
    int32_t *ptr = malloc((T + 1) * sizeof(int32_t)), *col = malloc(2 * T * sizeof(int32_t));
    float *val = gc_zeros_f(2 * T);
    int nz = 0;
    for (int i = 0; i < T; i++) { /* chains of 8 nodes, and a back edge */
        ptr[i] = nz;
        if (i % 8)
            col[nz] = i - 1, val[nz++] = 0.5f;
        if (i % 8 == 7)
            col[nz] = i - 7, val[nz++] = 0.5f;
    }
    ptr[T] = nz;
    size_t TD = (size_t)T * D;
    float *p[NP];
    const int bsize[NP] = {D * D, D, D * D, D, D, D, 6 * D * D, 3 * D, 3 * D * D, 3 * D};
    for (int k = 0; k < NP; k++) {
        int n = bsize[k];
        p[k] = gc_zeros_f(n);
        gc_fill_f(p[k], n, -0.1f, 0.1f, 10 + k);
    }
    float *h0 = gc_zeros_f(TD), *dh = gc_zeros_f(TD);
    gc_fill_f(h0, TD, -1, 1, 1), gc_fill_f(dh, TD, -1, 1, 2);
    size_t sb = sbr_nn_ggnn_scratch_f32(T, D);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    float *out[2][3];
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(t + 1);
        float *hout = gc_zeros_f(TD), *hs = gc_zeros_f(2 * TD), *a = gc_zeros_f(4 * TD),
              *g = gc_zeros_f(6 * TD), *n = gc_zeros_f(2 * TD), *dh0 = gc_zeros_f(TD),
              *dwin = gc_zeros_f(D * D);
        sbr_nn_ggnn_graph_f32 gr = {ptr, col, val, ptr, col, val, NULL, NULL, T};
        sbr_nn_ggnn_saved_f32 sv = {hs, a, g, n};
        sbr_nn_ggnn_w_f32 w = gg_wf(p);
        sbr_nn_ggnn_forward_f32(&ctx, hout, &sv, h0, &gr, &w, D, 2);
        sbr_nn_ggnn_backward_f32(&ctx, dh0, &(sbr_nn_ggnn_w_f32){.w_in = dwin}, dh, &sv, &gr, &w,
                                 D, 2);
        out[t][0] = hout, out[t][1] = dh0, out[t][2] = dwin;
        free(hs), free(a), free(g), free(n);
    }
    sbr_set_threads(0);
    CHECK(memcmp(out[0][0], out[1][0], TD * sizeof(float)) == 0);
    CHECK(memcmp(out[0][1], out[1][1], TD * sizeof(float)) == 0);
    CHECK(memcmp(out[0][2], out[1][2], D * D * sizeof(float)) == 0);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 3; i++)
            free(out[t][i]);
    for (int k = 0; k < NP; k++)
        free(p[k]);
    free(ptr), free(col), free(val), free(h0), free(dh), free(scr);
}

TEST(nn_ggnn_empty_batch)
{
    double w[64] = {0}, s[8], out[4] = {7, 7, 7, 7};
    int32_t ptr[1] = {0}, col[1] = {0};
    sbr_nn_ctx ctx = {.scratch = s, .scratch_bytes = sizeof s};
    sbr_nn_ggnn_graph_f64 gr = {ptr, col, w, ptr, col, w, NULL, NULL, 0};
    sbr_nn_ggnn_saved_f64 sv = {out, out, out, out};
    sbr_nn_ggnn_w_f64 ws = {w, w, w, w, w, w, w, w, w, w};
    sbr_nn_ggnn_forward_f64(&ctx, out, &sv, w, &gr, &ws, 4, 2);
    sbr_nn_ggnn_backward_f64(&ctx, out, &ws, out, &sv, &gr, &ws, 4, 2);
    CHECK(out[0] == 7);
    for (int i = 0; i < 64; i++)
        CHECK(w[i] == 0);
}

/* The backward with the transposes' values gives the same bits as the one
 * that groups the entries by column itself, in float and double. */
TEST(nn_ggnn_transposes_same_bits)
{
    for (int steps = 1; steps <= 2; steps++) {
        gg_case *c = gg_new_on(steps, 40 + steps, stars, star_lens, 3);
        REQUIRE(c->g.in_ptr[1] - c->g.in_ptr[0] == 3 && c->g.out_ptr[1] - c->g.out_ptr[0] == 3);
        size_t n = (size_t)c->g.T * D_;
        double dh0[TMAX * D_], dwin[D_ * D_], dwih[3 * D_ * 2 * D_];
        for (int t = 0; t < 2; t++) {
            c->transposed = t;
            gg_backward(c);
            if (t == 0) {
                memcpy(dh0, c->dh0, n * sizeof(double));
                memcpy(dwin, c->dp[P_WIN], sizeof dwin);
                memcpy(dwih, c->dp[P_WIH], sizeof dwih);
            }
        }
        CHECK(memcmp(dh0, c->dh0, n * sizeof(double)) == 0);
        CHECK(memcmp(dwin, c->dp[P_WIN], sizeof dwin) == 0);
        CHECK(memcmp(dwih, c->dp[P_WIH], sizeof dwih) == 0);
        gg_free(c);
    }
    /* float: the same graphs, the one-step op */
    gg_case *c = gg_new_on(1, 77, stars, star_lens, 3);
    graphs *g = &c->g;
    int T = g->T, nz = g->in_ptr[T];
    float pf[NP][3 * D_ * 2 * D_], h0[TMAX * D_], hout[TMAX * D_], hst[TMAX * D_],
        a[TMAX * 2 * D_], gates[TMAX * 3 * D_], ghn[TMAX * D_], dh[TMAX * D_];
    float v[4][NZMAX], dh0[2][TMAX * D_], dw[2][3 * D_ * 2 * D_], scr[12 * TMAX * D_];
    for (int k = 0; k < NP; k++)
        for (int i = 0; i < psize[k]; i++)
            pf[k][i] = (float)c->p[k][i];
    for (int i = 0; i < T * D_; i++)
        h0[i] = (float)c->h0[i], dh[i] = (float)c->w[i];
    for (int e = 0; e < nz; e++)
        v[0][e] = (float)g->in_val[e], v[1][e] = (float)g->out_val[e],
        v[2][e] = (float)g->in_tval[e], v[3][e] = (float)g->out_tval[e];
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    float *pp[NP];
    for (int k = 0; k < NP; k++)
        pp[k] = pf[k];
    sbr_nn_ggnn_w_f32 w = gg_wf(pp);
    sbr_nn_ggnn_saved_f32 sv = {hst, a, gates, ghn};
    sbr_nn_ggnn_graph_f32 gr = {g->in_ptr, g->in_col, v[0], g->out_ptr, g->out_col, v[1],
                                NULL,      NULL,      T};
    sbr_nn_ggnn_forward_f32(&ctx, hout, &sv, h0, &gr, &w, D_, 1);
    for (int t = 0; t < 2; t++) {
        memset(dh0[t], 0, sizeof dh0[t]), memset(dw[t], 0, sizeof dw[t]);
        gr.in_tval = t ? v[2] : NULL, gr.out_tval = t ? v[3] : NULL;
        sbr_nn_ggnn_backward_f32(&ctx, dh0[t], &(sbr_nn_ggnn_w_f32){.w_ih = dw[t]}, dh, &sv, &gr,
                                 &w, D_, 1);
    }
    CHECK(memcmp(dh0[0], dh0[1], sizeof dh0[0]) == 0);
    CHECK(memcmp(dw[0], dw[1], sizeof dw[0]) == 0);
    gg_free(c);
}

/* Transposes that do not match the patterns are refused (the op aborts,
 * naming the missing entry) instead of giving a wrong gradient. */
TEST(nn_ggnn_transposes_checked)
{
    gg_case *c = gg_new(1, 5);
    gg_loss(c);
    graphs *g = &c->g;
    int e = g->out_ptr[0]; /* node 0's first out-edge, 0 -> 1 (session 3 7 3 9) */
    REQUIRE(g->out_ptr[1] > e && g->out_col[e] == 1);
    g->out_col[e] = 3; /* 0 -> 3, another session's node: no longer A_in's transposed */
    c->transposed = 1;
    CHECK(harness_aborts(gg_backward, c));
    gg_free(c);
}

/* GC-SAN-shaped composition, the forward read in reverse: gated graph
 * propagation over the session graphs, the node states gathered back into
 * click order, a causal post-norm self-attention block, the last click's state
 * as the session vector. Checks that the ops' accumulate-and-mask contracts
 * compose; padded positions point at node 0 and must not matter. */
enum { CB = 3, CL = 5, CFF = 4 };
static const int32_t clen[CB] = {4, 1, 5};

typedef struct {
    gg_case *g;
    int32_t alias[CB * CL], last[CB];
    size_t np, na;
    double *prm, *dprm, *act;  /* the block's parameters in one array */
    sbr_nn_mhsa_w_f64 pw, dpw; /* ... as the op takes them */
    double x[CB * CL * D_], y[CB * CL * D_], s[CB * D_], w[CB * D_];
    double dx[CB * CL * D_], dy[CB * CL * D_], ds[CB * D_], dhout[TMAX * D_];
    double scr[8 * CB * CL * D_ + CB * CL * CFF + 12 * TMAX * D_];
} gcsan;

static double gcsan_forward(void *u)
{
    gcsan *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scr, .scratch_bytes = sizeof c->scr};
    gg_loss(c->g); /* hout = ggnn(h0) */
    int T = c->g->g.T;
    sbr_nn_embedding_forward_f64(&ctx, c->x, c->g->hout, c->alias, CB * CL, T, D_, -1);
    sbr_nn_mhsa_cfg cfg = {D_, 1, CFF, SBR_NN_MHSA_CAUSAL, 1e-5, 0.1, 0.2, 9, 0};
    sbr_nn_mhsa_forward_f64(&ctx, c->y, c->act, c->x, clen, &c->pw, CB, CL, &cfg);
    sbr_nn_embedding_forward_f64(&ctx, c->s, c->y, c->last, CB, CB * CL, D_, -1);
    return gc_dot(c->w, c->s, CB * D_);
}

static void gcsan_backward(void *u)
{
    gcsan *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scr, .scratch_bytes = sizeof c->scr};
    gcsan_forward(c);
    gg_case *g = c->g;
    int T = g->g.T;
    memset(c->dy, 0, sizeof c->dy), memset(c->dx, 0, sizeof c->dx);
    memset(c->dhout, 0, sizeof c->dhout), memset(c->dprm, 0, c->np * sizeof(double));
    memset(g->dh0, 0, sizeof g->dh0);
    for (int k = 0; k < NP; k++)
        memset(g->dp[k], 0, psize[k] * sizeof(double));
    sbr_nn_embedding_backward_f64(&ctx, c->dy, c->w, c->last, CB, CB * CL, D_, -1);
    sbr_nn_mhsa_cfg cfg = {D_, 1, CFF, SBR_NN_MHSA_CAUSAL, 1e-5, 0.1, 0.2, 9, 0};
    sbr_nn_mhsa_backward_f64(&ctx, c->dx, &c->dpw, c->dy, c->act, c->x, clen, &c->pw, CB, CL, &cfg);
    sbr_nn_embedding_backward_f64(&ctx, c->dhout, c->dx, c->alias, CB * CL, T, D_, -1);
    sbr_nn_ggnn_graph_f64 gr = gg_graph(&g->g, 0);
    sbr_nn_ggnn_saved_f64 sv = gg_saved(g);
    sbr_nn_ggnn_w_f64 w = gg_w(g->p), dw = gg_w(g->dp);
    sbr_nn_ggnn_backward_f64(&ctx, g->dh0, &dw, c->dhout, &sv, &gr, &w, D_, g->steps);
}

TEST(nn_gcsan_composed_gradcheck)
{
    gcsan *c = calloc(1, sizeof *c);
    c->g = gg_new(1, 70);
    /* click order -> node: s0 {3,7,3,9} = nodes 0 1 0 2; s1 {5} = 3; s2 {2,4,6,4,2} = 4 5 6 5 4 */
    static const int32_t al[CB * CL] = {0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 4, 5, 6, 5, 4};
    memcpy(c->alias, al, sizeof al);
    for (int b = 0; b < CB; b++)
        c->last[b] = b * CL + clen[b] - 1;
    c->np = sbr_nn_mhsa_w_flat_f64(&c->pw, NULL, D_, CFF);
    c->na = sbr_nn_mhsa_act_count_f64(CB, CL, D_, 1, CFF);
    c->prm = gc_zeros(c->np), c->dprm = gc_zeros(c->np), c->act = gc_zeros(c->na);
    sbr_nn_mhsa_w_flat_f64(&c->pw, c->prm, D_, CFF), sbr_nn_mhsa_w_flat_f64(&c->dpw, c->dprm, D_, CFF);
    gc_fill(c->prm, c->np, -0.8, 0.8, 71);
    gc_fill(c->w, CB * D_, -1, 1, 72);
    REQUIRE(sbr_nn_mhsa_scratch_f64(CB, CL, D_, CFF) + sbr_nn_ggnn_scratch_f64(7, D_) <= sizeof c->scr);
    gc_spec s = {.op = "gcsan_composed", .loss = gcsan_forward, .backward = gcsan_backward,
                 .user = c};
    gc_add(&s, "h0", c->g->h0, c->g->dh0, (size_t)c->g->g.T * D_);
    gc_add(&s, "w_ih", c->g->p[P_WIH], c->g->dp[P_WIH], psize[P_WIH]);
    gc_add(&s, "w_in", c->g->p[P_WIN], c->g->dp[P_WIN], psize[P_WIN]);
    gc_add(&s, "mhsa", c->prm, c->dprm, c->np);
    CHECK_EQ_I64(gradcheck(&s), 0);
    gg_free(c->g);
    free(c->prm), free(c->dprm), free(c->act), free(c);
}
