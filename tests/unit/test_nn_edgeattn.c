/* GCE-GNN edge attention: the four-type session-graph attention over a
 * sparse graph built from click sequences (plus a node without edges), and
 * the session-aware global aggregation with variable neighbour counts
 * (0, partial, full). Gradient checks, plain-loop references, float vs double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "device.h"
#include "nn/nn.h"

enum { D_ = 4, TMAX = 12, NZ = 80 };

/* GCE-GNN session graph: nodes = unique items; edge type between i and j:
 * 0 self (every real node), 1 i -> j only, 2 j -> i only, 3 both. */
typedef struct {
    int T;
    int32_t ptr[TMAX + 1], col[NZ], typ[NZ];
} lgraph;

static void build_local(lgraph *g, const int *const *sess, const int *lens, int S, int pad_nodes)
{
    memset(g, 0, sizeof *g);
    int base = 0, nz = 0;
    int adj[TMAX][TMAX];
    memset(adj, 0, sizeof adj);
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
        for (int t = 0; t + 1 < lens[s]; t++)
            if (node[t] != node[t + 1])
                adj[node[t]][node[t + 1]] = 1;
        base += n;
    }
    g->T = base + pad_nodes;
    for (int i = 0; i < g->T; i++) {
        g->ptr[i] = nz;
        if (i < base)
            for (int j = 0; j < base; j++) {
                int t = i == j ? 0 : adj[i][j] && adj[j][i] ? 3 : adj[i][j] ? 1 : adj[j][i] ? 2 : -1;
                if (t >= 0)
                    g->col[nz] = j, g->typ[nz] = t, nz++;
            }
    }
    g->ptr[g->T] = nz;
}

/* The op's view of a test graph. */
static sbr_nn_typed_csr loc_csr(const lgraph *g)
{
    return (sbr_nn_typed_csr){g->ptr, g->col, g->typ, g->T};
}

static const int s0[] = {3, 7, 3, 9}, s1[] = {5}, s2[] = {2, 4, 6, 4, 2};
static const int *const sess[] = {s0, s1, s2};
static const int slens[] = {4, 1, 5};

typedef struct {
    lgraph g;
    double h[TMAX * D_], a[4 * D_], dh[TMAX * D_], da[4 * D_];
    double y[TMAX * D_], alpha[NZ], w[TMAX * D_], scratch[NZ];
} loc_case;

static double loc_loss(void *u)
{
    loc_case *c = u;
    sbr_nn_ctx ctx = {0};
    sbr_nn_typed_csr g = loc_csr(&c->g);
    sbr_nn_edge_attn_local_forward_f64(&ctx, c->y, c->alpha, c->h, &g, c->a, D_, 0.2);
    return gc_dot(c->w, c->y, (size_t)c->g.T * D_);
}

static void loc_backward(void *u)
{
    loc_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    loc_loss(c);
    memset(c->dh, 0, sizeof c->dh), memset(c->da, 0, sizeof c->da);
    sbr_nn_typed_csr g = loc_csr(&c->g);
    sbr_nn_edge_attn_local_backward_f64(&ctx, c->dh, c->da, c->w, c->alpha, c->h, &g, c->a, D_,
                                        0.2);
}

static loc_case *loc_new(uint64_t seed)
{
    loc_case *c = calloc(1, sizeof *c);
    build_local(&c->g, sess, slens, 3, 1);
    gc_fill(c->h, (size_t)c->g.T * D_, -1.5, 1.5, seed);
    gc_fill(c->a, 4 * D_, -1.5, 1.5, seed + 1);
    gc_fill(c->w, (size_t)c->g.T * D_, -1, 1, seed + 2);
    return c;
}

TEST(nn_edge_attn_local_gradcheck)
{
    loc_case *c = loc_new(10);
    CHECK_EQ_I64(c->g.T, 8); /* 3 + 1 + 3 nodes and one padding node */
    int types[4] = {0};
    for (int e = 0; e < c->g.ptr[c->g.T]; e++)
        types[c->g.typ[e]]++;
    CHECK(types[0] == 7 && types[1] > 0 && types[2] > 0 && types[3] > 0); /* all four occur */
    gc_spec s = {.op = "edge_attn_local", .loss = loc_loss, .backward = loc_backward, .user = c};
    gc_add(&s, "h", c->h, c->dh, (size_t)c->g.T * D_);
    gc_add(&s, "a", c->a, c->da, 4 * D_);
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c);
}

TEST(nn_edge_attn_local_matches_dense_reference)
{
    loc_case *c = loc_new(20);
    loc_loss(c);
    int T = c->g.T;
    for (int i = 0; i < T; i++) {
        double e[TMAX], mx = -INFINITY, sum = 0, y[D_] = {0};
        int cols[TMAX], n = 0;
        for (int q = c->g.ptr[i]; q < c->g.ptr[i + 1]; q++) {
            int j = c->g.col[q], t = c->g.typ[q];
            double p = 0;
            for (int k = 0; k < D_; k++)
                p += c->a[t * D_ + k] * c->h[i * D_ + k] * c->h[j * D_ + k];
            e[n] = p > 0 ? p : 0.2 * p;
            cols[n++] = j;
            mx = fmax(mx, e[n - 1]);
        }
        for (int q = 0; q < n; q++)
            sum += exp(e[q] - mx);
        for (int q = 0; q < n; q++)
            for (int k = 0; k < D_; k++)
                y[k] += exp(e[q] - mx) / sum * c->h[cols[q] * D_ + k];
        for (int k = 0; k < D_; k++)
            CHECK_NEAR(c->y[i * D_ + k], y[k], 1e-14);
    }
    for (int k = 0; k < D_; k++) /* the padding node: no edges, output 0 */
        CHECK(c->y[(T - 1) * D_ + k] == 0);
    /* float vs double */
    float hf[TMAX * D_], af[4 * D_], yf[TMAX * D_], alf[NZ];
    for (int i = 0; i < T * D_; i++)
        hf[i] = (float)c->h[i], c->h[i] = hf[i];
    for (int i = 0; i < 4 * D_; i++)
        af[i] = (float)c->a[i], c->a[i] = af[i];
    sbr_nn_ctx ctx = {0};
    sbr_nn_typed_csr g = loc_csr(&c->g);
    sbr_nn_edge_attn_local_forward_f32(&ctx, yf, alf, hf, &g, af, D_, 0.2f);
    loc_loss(c);
    CHECK(gc_agree_f32(yf, c->y, (size_t)T * D_, 1e-5, 1e-6) <= 1);
    free(c);
}

/* ---- global aggregation ---- */
enum { M_ = 5, K_ = 4 };
static const int32_t gnk[M_] = {4, 0, 2, 1, 4};

typedef struct {
    double hv[M_ * D_], hn[M_ * K_ * D_], wn[M_ * K_], s[M_ * D_], w1[D_ * (D_ + 1)], q1[D_],
        w2[D_ * 2 * D_];
    double dhv[M_ * D_], dhn[M_ * K_ * D_], dwn[M_ * K_], ds[M_ * D_], dw1[D_ * (D_ + 1)],
        dq1[D_], dw2[D_ * 2 * D_];
    double y[M_ * D_], u[M_ * K_ * D_], alpha[M_ * K_], cat[M_ * 2 * D_], w[M_ * D_];
    double scratch[M_ * K_ * (3 * D_ + 3) + 3 * M_ * D_];
    const double *drop; /* dropout factors on cat [M_, 2 D_], or NULL */
} glob_case;

static double glob_loss(void *p)
{
    glob_case *c = p;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sbr_nn_edge_attn_global_out_f64 o = {c->y, c->u, c->alpha, c->cat};
    sbr_nn_edge_attn_global_in_f64 x = {c->hn, c->wn, c->s};
    sbr_nn_edge_attn_global_w_f64 w = {c->w1, c->q1, c->w2};
    sbr_nn_edge_attn_global_forward_f64(&ctx, &o, c->hv, &x, &(sbr_nn_nbr_table){gnk, M_, K_}, &w,
                                        c->drop, D_, 0.2);
    return gc_dot(c->w, c->y, M_ * D_);
}

static void glob_backward(void *p)
{
    glob_case *c = p;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    glob_loss(c);
    memset(c->dhv, 0, sizeof c->dhv), memset(c->dhn, 0, sizeof c->dhn);
    memset(c->dwn, 0, sizeof c->dwn), memset(c->ds, 0, sizeof c->ds);
    memset(c->dw1, 0, sizeof c->dw1), memset(c->dq1, 0, sizeof c->dq1);
    memset(c->dw2, 0, sizeof c->dw2);
    sbr_nn_edge_attn_global_out_f64 o = {c->y, c->u, c->alpha, c->cat};
    sbr_nn_edge_attn_global_in_f64 x = {c->hn, c->wn, c->s}, dx = {c->dhn, c->dwn, c->ds};
    sbr_nn_edge_attn_global_w_f64 w = {c->w1, c->q1, c->w2}, dw = {c->dw1, c->dq1, c->dw2};
    sbr_nn_edge_attn_global_backward_f64(&ctx, c->dhv, &dx, &dw, c->w, &o, &x,
                                         &(sbr_nn_nbr_table){gnk, M_, K_}, &w, c->drop, D_, 0.2);
}

static glob_case *glob_new(uint64_t seed)
{
    glob_case *c = calloc(1, sizeof *c);
    gc_fill(c->hv, M_ * D_, -1, 1, seed);
    gc_fill(c->hn, M_ * K_ * D_, -1, 1, seed + 1);
    gc_fill(c->wn, M_ * K_, 0, 3, seed + 2);
    gc_fill(c->s, M_ * D_, -1, 1, seed + 3);
    gc_fill(c->w1, D_ * (D_ + 1), -1, 1, seed + 4);
    gc_fill(c->q1, D_, -1, 1, seed + 5);
    gc_fill(c->w2, D_ * 2 * D_, -1, 1, seed + 6);
    gc_fill(c->w, M_ * D_, -1, 1, seed + 7);
    return c;
}

/* The official dropout on [hv ; agg] as fixed factors: dropped entries get
 * no gradient through cat, kept ones are scaled by 1/(1-p). */
TEST(nn_edge_attn_global_gradcheck_dropout)
{
    glob_case *c = glob_new(31);
    static double drop[M_ * 2 * D_];
    for (int i = 0; i < M_ * 2 * D_; i++)
        drop[i] = (i * 7) % 3 == 0 ? 0 : 1 / (1 - 0.4);
    c->drop = drop;
    gc_spec s = {.op = "edge_attn_global (dropout)", .loss = glob_loss, .backward = glob_backward,
                 .user = c};
    gc_add(&s, "hv", c->hv, c->dhv, M_ * D_);
    gc_add(&s, "hn", c->hn, c->dhn, M_ * K_ * D_);
    gc_add(&s, "wn", c->wn, c->dwn, M_ * K_);
    gc_add(&s, "s", c->s, c->ds, M_ * D_);
    gc_add(&s, "w1", c->w1, c->dw1, D_ * (D_ + 1));
    gc_add(&s, "q1", c->q1, c->dq1, D_);
    gc_add(&s, "w2", c->w2, c->dw2, D_ * 2 * D_);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* an own-vector entry that is dropped gets no gradient */
    for (int m = 0; m < M_; m++)
        for (int j = 0; j < D_; j++)
            if (drop[m * 2 * D_ + j] == 0)
                CHECK(c->dhv[m * D_ + j] == 0);
    free(c);
}

TEST(nn_edge_attn_global_gradcheck)
{
    glob_case *c = glob_new(30);
    REQUIRE(sbr_nn_edge_attn_global_scratch_f64(M_, K_, D_) <= sizeof c->scratch);
    gc_spec s = {.op = "edge_attn_global", .loss = glob_loss, .backward = glob_backward,
                 .user = c};
    gc_add(&s, "hv", c->hv, c->dhv, M_ * D_);
    gc_add(&s, "hn", c->hn, c->dhn, M_ * K_ * D_);
    gc_add(&s, "wn", c->wn, c->dwn, M_ * K_);
    gc_add(&s, "s", c->s, c->ds, M_ * D_);
    gc_add(&s, "w1", c->w1, c->dw1, D_ * (D_ + 1));
    gc_add(&s, "q1", c->q1, c->dq1, D_);
    gc_add(&s, "w2", c->w2, c->dw2, D_ * 2 * D_);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* padded neighbours get no gradient; some outputs are active (relu > 0) */
    for (int c2 = 0; c2 < D_; c2++)
        CHECK(c->dhn[(1 * K_ + 0) * D_ + c2] == 0 && c->dhn[(2 * K_ + 3) * D_ + c2] == 0);
    int active = 0;
    for (int i = 0; i < M_ * D_; i++)
        active += c->y[i] > 0;
    CHECK(active > 3 && active < M_ * D_);
    free(c);
}

TEST(nn_edge_attn_global_matches_reference)
{
    glob_case *c = glob_new(40);
    glob_loss(c);
    for (int m = 0; m < M_; m++) {
        double pi[K_], mx = -INFINITY, sum = 0, cat[2 * D_] = {0};
        for (int k = 0; k < gnk[m]; k++) {
            double x[D_ + 1];
            for (int q = 0; q < D_; q++)
                x[q] = c->s[m * D_ + q] * c->hn[(m * K_ + k) * D_ + q];
            x[D_] = c->wn[m * K_ + k];
            pi[k] = 0;
            for (int o = 0; o < D_; o++) {
                double v = 0;
                for (int q = 0; q <= D_; q++)
                    v += c->w1[o * (D_ + 1) + q] * x[q];
                pi[k] += c->q1[o] * (v > 0 ? v : 0.2 * v);
            }
            mx = fmax(mx, pi[k]);
        }
        for (int k = 0; k < gnk[m]; k++)
            sum += exp(pi[k] - mx);
        for (int q = 0; q < D_; q++)
            cat[q] = c->hv[m * D_ + q];
        for (int k = 0; k < gnk[m]; k++)
            for (int q = 0; q < D_; q++)
                cat[D_ + q] += exp(pi[k] - mx) / sum * c->hn[(m * K_ + k) * D_ + q];
        for (int o = 0; o < D_; o++) {
            double z = 0;
            for (int q = 0; q < 2 * D_; q++)
                z += c->w2[o * 2 * D_ + q] * cat[q];
            CHECK_NEAR(c->y[m * D_ + o], z > 0 ? z : 0, 1e-14);
        }
    }
    /* float vs double on the same rounded inputs */
    float hv[M_ * D_], hn[M_ * K_ * D_], wn[M_ * K_], s[M_ * D_], w1[D_ * (D_ + 1)], q1[D_],
        w2[D_ * 2 * D_], y[M_ * D_], u[M_ * K_ * D_], al[M_ * K_], cat[M_ * 2 * D_];
    float scr[sizeof c->scratch / sizeof(double)];
#define ROUND(fa, da, n) for (int i = 0; i < (n); i++) fa[i] = (float)da[i], da[i] = fa[i]
    ROUND(hv, c->hv, M_ * D_);
    ROUND(hn, c->hn, M_ * K_ * D_);
    ROUND(wn, c->wn, M_ * K_);
    ROUND(s, c->s, M_ * D_);
    ROUND(w1, c->w1, D_ * (D_ + 1));
    ROUND(q1, c->q1, D_);
    ROUND(w2, c->w2, D_ * 2 * D_);
#undef ROUND
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    sbr_nn_edge_attn_global_forward_f32(&ctx, &(sbr_nn_edge_attn_global_out_f32){y, u, al, cat},
                                        hv, &(sbr_nn_edge_attn_global_in_f32){hn, wn, s},
                                        &(sbr_nn_nbr_table){gnk, M_, K_},
                                        &(sbr_nn_edge_attn_global_w_f32){w1, q1, w2}, NULL, D_,
                                        0.2f);
    glob_loss(c);
    CHECK(gc_agree_f32(y, c->y, M_ * D_, 1e-5, 1e-6) <= 1);
    free(c);
}

/* The parallel paths (large graphs) give the same bits with 1 and 2 threads. */
TEST(nn_edge_attn_thread_count_independent)
{
    enum { T = 4000, D = 100, K = 12 };
    int32_t *ptr = malloc((T + 1) * sizeof(int32_t)), *col = malloc(3 * T * sizeof(int32_t)),
            *typ = malloc(3 * T * sizeof(int32_t)), *nk = malloc(T * sizeof(int32_t));
    int nz = 0;
    for (int i = 0; i < T; i++) { /* chains of 10 nodes: self, previous, next */
        ptr[i] = nz;
        col[nz] = i, typ[nz++] = 0;
        if (i % 10)
            col[nz] = i - 1, typ[nz++] = 2;
        if ((i + 1) % 10)
            col[nz] = i + 1, typ[nz++] = 1 + 2 * (i % 2);
        nk[i] = i % (K + 1);
    }
    ptr[T] = nz;
    size_t TD = (size_t)T * D, TK = (size_t)T * K;
    float *h = gc_zeros_f(TD), *a = gc_zeros_f(4 * D), *dy = gc_zeros_f(TD);
    float *hn = gc_zeros_f(TK * D), *wn = gc_zeros_f(TK), *w1 = gc_zeros_f(D * (D + 1)),
          *q1 = gc_zeros_f(D), *w2 = gc_zeros_f(2 * D * D);
    gc_fill_f(h, TD, -1, 1, 1), gc_fill_f(a, 4 * D, -0.3f, 0.3f, 2), gc_fill_f(dy, TD, -1, 1, 3);
    gc_fill_f(hn, TK * D, -1, 1, 4), gc_fill_f(wn, TK, 0, 2, 5);
    gc_fill_f(w1, D * (D + 1), -0.1f, 0.1f, 6), gc_fill_f(q1, D, -0.3f, 0.3f, 7);
    gc_fill_f(w2, 2 * D * D, -0.1f, 0.1f, 8);
    size_t sb = sbr_nn_edge_attn_global_scratch_f32(T, K, D);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    enum { NO = 9 };
    float *out[2][NO];
    size_t sz[NO] = {TD, (size_t)nz, TD, 4 * D, TD, TD, TK * D, D * (D + 1), D};
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(t + 1);
        for (int i = 0; i < NO; i++)
            out[t][i] = gc_zeros_f(sz[i]);
        float *u = gc_zeros_f(TK * D), *al = gc_zeros_f(TK), *cat = gc_zeros_f(2 * TD);
        sbr_nn_typed_csr g = {ptr, col, typ, T};
        sbr_nn_nbr_table nb = {nk, T, K};
        sbr_nn_edge_attn_global_out_f32 o = {out[t][4], u, al, cat};
        sbr_nn_edge_attn_global_in_f32 x = {hn, wn, dy}, dx = {out[t][6], NULL, NULL};
        sbr_nn_edge_attn_global_w_f32 w = {w1, q1, w2}, dw = {out[t][7], out[t][8], NULL};
        sbr_nn_edge_attn_local_forward_f32(&ctx, out[t][0], out[t][1], h, &g, a, D, 0.2f);
        sbr_nn_edge_attn_local_backward_f32(&ctx, out[t][2], out[t][3], dy, out[t][1], h, &g, a, D,
                                            0.2f);
        sbr_nn_edge_attn_global_forward_f32(&ctx, &o, h, &x, &nb, &w, NULL, D, 0.2f);
        sbr_nn_edge_attn_global_backward_f32(&ctx, out[t][5], &dx, &dw, dy, &o, &x, &nb, &w, NULL,
                                             D, 0.2f);
        free(u), free(al), free(cat);
    }
    sbr_set_threads(0);
    for (int i = 0; i < NO; i++) {
        if (memcmp(out[0][i], out[1][i], sz[i] * sizeof(float)) != 0)
            harness_fail(__FILE__, __LINE__, "output %d differs between 1 and 2 threads", i);
        free(out[0][i]), free(out[1][i]);
    }
    free(ptr), free(col), free(typ), free(nk), free(h), free(a), free(dy), free(hn), free(wn);
    free(w1), free(q1), free(w2), free(scr);
}

TEST(nn_edge_attn_empty_batch)
{
    double w[64] = {0}, s[8], out[4] = {7, 7, 7, 7};
    int32_t ptr[1] = {0}, col[1] = {0}, nk[1] = {0};
    sbr_nn_ctx ctx = {.scratch = s, .scratch_bytes = sizeof s};
    sbr_nn_typed_csr g = {ptr, col, col, 0};
    sbr_nn_nbr_table nb = {nk, 0, 12};
    sbr_nn_edge_attn_global_out_f64 o = {out, out, out, out};
    sbr_nn_edge_attn_global_in_f64 x = {w, w, w};
    sbr_nn_edge_attn_global_w_f64 ws = {w, w, w};
    sbr_nn_edge_attn_local_forward_f64(&ctx, out, out, w, &g, w, 4, 0.2);
    sbr_nn_edge_attn_local_backward_f64(&ctx, w, w, out, out, w, &g, w, 4, 0.2);
    sbr_nn_edge_attn_global_forward_f64(&ctx, &o, w, &x, &nb, &ws, NULL, 4, 0.2);
    sbr_nn_edge_attn_global_backward_f64(&ctx, w, &x, &ws, out, &o, &x, &nb, &ws, NULL, 4, 0.2);
    CHECK(out[0] == 7);
    for (int i = 0; i < 64; i++)
        CHECK(w[i] == 0);
}

/* GCE-GNN-shaped composition: node embeddings gathered from an item table;
 * h = session-graph attention + global aggregation over each item's
 * neighbours (also gathered from the table) with the session mean as s.
 * The table gets gradient along four paths; the forward read in reverse. */
enum { CV = 10, CK = 3, CS = 4 };
typedef struct {
    lgraph g;
    int32_t item[TMAX], seg[TMAX], off[CS + 1], nb[TMAX * CK], nk[TMAX];
    double E[CV * D_], a[4 * D_], w1[D_ * (D_ + 1)], q1[D_], w2[D_ * 2 * D_], wn[TMAX * CK];
    double dE[CV * D_], da[4 * D_], dw1[D_ * (D_ + 1)], dq1[D_], dw2[D_ * 2 * D_], dwn[TMAX * CK];
    double x[TMAX * D_], yl[TMAX * D_], alpha[NZ], S[CS * D_], s[TMAX * D_], hn[TMAX * CK * D_];
    double yg[TMAX * D_], u[TMAX * CK * D_], ag[TMAX * CK], cat[TMAX * 2 * D_], h[TMAX * D_],
        w[TMAX * D_];
    double dx[TMAX * D_], dS[CS * D_], ds[TMAX * D_], dhn[TMAX * CK * D_];
    double scr[TMAX * CK * (3 * D_ + 3) + 3 * TMAX * D_ + NZ];
} gce;

static double gce_forward(void *p)
{
    gce *c = p;
    sbr_nn_ctx ctx = {.scratch = c->scr, .scratch_bytes = sizeof c->scr};
    int T = c->g.T;
    sbr_nn_embedding_forward_f64(&ctx, c->x, c->E, c->item, T, CV, D_, -1);
    sbr_nn_typed_csr g = loc_csr(&c->g);
    sbr_nn_edge_attn_local_forward_f64(&ctx, c->yl, c->alpha, c->x, &g, c->a, D_, 0.2);
    sbr_nn_segment_pool_forward_f64(&ctx, c->S, c->x, c->off, CS, D_, 1);
    sbr_nn_embedding_forward_f64(&ctx, c->s, c->S, c->seg, T, CS, D_, -1);
    sbr_nn_embedding_forward_f64(&ctx, c->hn, c->E, c->nb, T * CK, CV, D_, -1);
    sbr_nn_edge_attn_global_forward_f64(&ctx, &(sbr_nn_edge_attn_global_out_f64){c->yg, c->u, c->ag,
                                                                                  c->cat},
                                        c->x, &(sbr_nn_edge_attn_global_in_f64){c->hn, c->wn, c->s},
                                        &(sbr_nn_nbr_table){c->nk, T, CK},
                                        &(sbr_nn_edge_attn_global_w_f64){c->w1, c->q1, c->w2},
                                        NULL, D_, 0.2);
    sbr_nn_add_forward_f64(&ctx, c->h, c->yl, c->yg, T * D_);
    return gc_dot(c->w, c->h, (size_t)T * D_);
}

static void gce_backward(void *p)
{
    gce *c = p;
    sbr_nn_ctx ctx = {.scratch = c->scr, .scratch_bytes = sizeof c->scr};
    int T = c->g.T;
    gce_forward(c);
    memset(c->dE, 0, sizeof c->dE), memset(c->da, 0, sizeof c->da);
    memset(c->dw1, 0, sizeof c->dw1), memset(c->dq1, 0, sizeof c->dq1);
    memset(c->dw2, 0, sizeof c->dw2), memset(c->dwn, 0, sizeof c->dwn);
    memset(c->dx, 0, sizeof c->dx), memset(c->dS, 0, sizeof c->dS);
    memset(c->ds, 0, sizeof c->ds), memset(c->dhn, 0, sizeof c->dhn);
    /* h = yl + yg: both get w */
    sbr_nn_edge_attn_global_out_f64 o = {c->yg, c->u, c->ag, c->cat};
    sbr_nn_edge_attn_global_in_f64 x = {c->hn, c->wn, c->s}, dx = {c->dhn, c->dwn, c->ds};
    sbr_nn_edge_attn_global_w_f64 w = {c->w1, c->q1, c->w2}, dw = {c->dw1, c->dq1, c->dw2};
    sbr_nn_edge_attn_global_backward_f64(&ctx, c->dx, &dx, &dw, c->w, &o, &x,
                                         &(sbr_nn_nbr_table){c->nk, T, CK}, &w, NULL, D_, 0.2);
    sbr_nn_embedding_backward_f64(&ctx, c->dE, c->dhn, c->nb, T * CK, CV, D_, -1);
    sbr_nn_embedding_backward_f64(&ctx, c->dS, c->ds, c->seg, T, CS, D_, -1);
    sbr_nn_segment_pool_backward_f64(&ctx, c->dx, c->dS, c->off, CS, D_, 1);
    sbr_nn_typed_csr g = loc_csr(&c->g);
    sbr_nn_edge_attn_local_backward_f64(&ctx, c->dx, c->da, c->w, c->alpha, c->x, &g, c->a, D_,
                                        0.2);
    sbr_nn_embedding_backward_f64(&ctx, c->dE, c->dx, c->item, T, CV, D_, -1);
}

TEST(nn_gcegnn_composed_gradcheck)
{
    gce *c = calloc(1, sizeof *c);
    build_local(&c->g, sess, slens, 3, 1);
    int T = c->g.T; /* 7 nodes + 1 padding node */
    static const int32_t items[8] = {3, 7, 9, 5, 2, 4, 6, 0}, segs[8] = {0, 0, 0, 1, 2, 2, 2, 3};
    static const int32_t offs[CS + 1] = {0, 3, 4, 7, 8};
    memcpy(c->item, items, sizeof items), memcpy(c->seg, segs, sizeof segs);
    memcpy(c->off, offs, sizeof offs);
    for (int i = 0; i < T; i++) {
        int v = items[i];
        c->nb[i * CK] = (v + 1) % CV, c->nb[i * CK + 1] = (v + 3) % CV, c->nb[i * CK + 2] = (v + 7) % CV;
        c->nk[i] = i == T - 1 ? 0 : i % 2 ? CK : 2;
    }
    gc_fill(c->E, CV * D_, -1, 1, 81), gc_fill(c->a, 4 * D_, -1, 1, 82);
    gc_fill(c->w1, D_ * (D_ + 1), -1, 1, 83), gc_fill(c->q1, D_, -1, 1, 84);
    gc_fill(c->w2, D_ * 2 * D_, -1, 1, 85), gc_fill(c->wn, TMAX * CK, 0, 3, 86);
    gc_fill(c->w, TMAX * D_, -1, 1, 87);
    REQUIRE(sbr_nn_edge_attn_global_scratch_f64(T, CK, D_) <= sizeof c->scr);
    gc_spec s = {.op = "gcegnn_composed", .loss = gce_forward, .backward = gce_backward, .user = c};
    gc_add(&s, "E", c->E, c->dE, CV * D_);
    gc_add(&s, "a", c->a, c->da, 4 * D_);
    gc_add(&s, "w1", c->w1, c->dw1, D_ * (D_ + 1));
    gc_add(&s, "q1", c->q1, c->dq1, D_);
    gc_add(&s, "w2", c->w2, c->dw2, D_ * 2 * D_);
    gc_add(&s, "wn", c->wn, c->dwn, (size_t)T * CK);
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c);
}
