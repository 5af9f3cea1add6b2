/* Target-aware scoring (TAGNN) over packed clicks: against a plain loop
 * over every (row, item, click), gradient checks of S, V, Q and E with
 * several chunk sizes and rows of 0, 1 and L clicks, float vs double, top-K
 * against a sort, thread independence, the scratch bound. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int B, L, N, d, chunk, n; /* n: packed clicks */
    int32_t *target, *len, *off;
    double *S, *V, *Q, *E, *dS, *dV, *dQ, *dE, *loss, *lse, *w;
    void *scratch;
    sbr_nn_ctx ctx;
} ts_case;

static const int32_t ts_lens[] = {1, 4, 0, 2, 4, 3, 1};

static void ts_setup(ts_case *c, int B, int L, int N, int d, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->B = B, c->L = L, c->N = N, c->d = d, c->chunk = N;
    c->target = malloc(B * sizeof(int32_t)), c->len = malloc(B * sizeof(int32_t));
    c->off = malloc((B + 1) * sizeof(int32_t));
    c->off[0] = 0;
    for (int b = 0; b < B; b++) {
        c->target[b] = 1 + (int32_t)((b * 7 + 2) % N);
        int n = ts_lens[b % 7];
        c->len[b] = n < L ? n : L;
        c->off[b + 1] = c->off[b] + c->len[b];
    }
    c->n = c->off[B];
    size_t nS = (size_t)B * d, nV = (size_t)c->n * d, nE = (size_t)(N + 1) * d;
    c->S = gc_zeros(nS), c->V = gc_zeros(nV), c->Q = gc_zeros(nV), c->E = gc_zeros(nE);
    c->dS = gc_zeros(nS), c->dV = gc_zeros(nV), c->dQ = gc_zeros(nV), c->dE = gc_zeros(nE);
    c->loss = gc_zeros(B), c->lse = gc_zeros(B), c->w = gc_zeros(B);
    gc_fill(c->S, nS, -1, 1, seed), gc_fill(c->V, nV, -1, 1, seed + 1);
    gc_fill(c->Q, nV, -1.5, 1.5, seed + 2), gc_fill(c->E, nE, -1, 1, seed + 3);
    gc_fill(c->w, B, 0.1, 1, seed + 4);
    size_t need = 0; /* enough for every chunk size used below */
    for (int ch = 1; ch <= N; ch++) {
        size_t n = sbr_nn_target_score_scratch_f64((sbr_nn_scoring){B, 1, N, d, ch, 0}, c->n, 5);
        need = n > need ? n : need;
    }
    c->scratch = malloc(need);
    c->ctx.scratch = c->scratch, c->ctx.scratch_bytes = need;
}

static void ts_free(ts_case *c)
{
    free(c->target), free(c->len), free(c->off), free(c->S), free(c->V), free(c->Q), free(c->E);
    free(c->dS), free(c->dV), free(c->dQ), free(c->dE), free(c->loss), free(c->lse), free(c->w);
    free(c->scratch);
}

static sbr_nn_target_in_f64 ts_in(const ts_case *c)
{
    return (sbr_nn_target_in_f64){c->S, c->V, c->Q, c->E, c->off, c->n};
}

static double ts_loss(void *u)
{
    ts_case *c = u;
    sbr_nn_target_in_f64 in = ts_in(c);
    sbr_nn_target_score_forward_f64(&c->ctx, c->loss, c->lse, &in, c->target,
                                    (sbr_nn_scoring){c->B, 1, c->N, c->d, c->chunk, 0});
    return gc_dot(c->w, c->loss, c->B);
}

static void ts_backward(void *u)
{
    ts_case *c = u;
    ts_loss(c);
    size_t nS = (size_t)c->B * c->d, nV = (size_t)c->n * c->d, nE = (size_t)(c->N + 1) * c->d;
    memset(c->dS, 0, nS * sizeof(double)), memset(c->dV, 0, nV * sizeof(double));
    memset(c->dQ, 0, nV * sizeof(double)), memset(c->dE, 0, nE * sizeof(double));
    sbr_nn_target_in_f64 in = ts_in(c);
    sbr_nn_target_grad_f64 g = {c->dS, c->dV, c->dQ, c->dE};
    sbr_nn_target_score_backward_f64(&c->ctx, &g, c->w, &in, c->target, c->lse,
                                     (sbr_nn_scoring){c->B, 1, c->N, c->d, c->chunk, 0});
}

/* The equations, one (row, item) at a time. */
static double plain_score(const ts_case *c, int b, int i)
{
    const double *e = c->E + (size_t)i * c->d;
    double u[16], mx = -INFINITY, s = 0, t = 0, sc = 0;
    int n = c->len[b];
    for (int j = 0; j < n; j++) {
        const double *q = c->Q + ((size_t)c->off[b] + j) * c->d;
        u[j] = 0;
        for (int k = 0; k < c->d; k++)
            u[j] += e[k] * q[k];
        mx = fmax(mx, u[j]);
    }
    for (int j = 0; j < n; j++)
        s += exp(u[j] - mx);
    for (int j = 0; j < n; j++) {
        const double *v = c->V + ((size_t)c->off[b] + j) * c->d;
        double w = 0;
        for (int k = 0; k < c->d; k++)
            w += e[k] * v[k];
        t += exp(u[j] - mx) / s * w;
    }
    for (int k = 0; k < c->d; k++)
        sc += c->S[(size_t)b * c->d + k] * e[k];
    return sc + t;
}

static double plain_loss(const ts_case *c, int b)
{
    double mx = -INFINITY, s = 0;
    for (int i = 1; i <= c->N; i++)
        mx = fmax(mx, plain_score(c, b, i));
    for (int i = 1; i <= c->N; i++)
        s += exp(plain_score(c, b, i) - mx);
    return mx + log(s) - plain_score(c, b, c->target[b]);
}

TEST(nn_target_score_gradcheck_chunks)
{
    int chunks[] = {1, 3, 7, 17, 100};
    for (int k = 0; k < 5; k++) {
        ts_case c;
        ts_setup(&c, 7, 4, 17, 5, 70 + k);
        c.chunk = chunks[k];
        gc_spec s = {.op = "target_score", .loss = ts_loss, .backward = ts_backward, .user = &c};
        gc_add(&s, "S", c.S, c.dS, (size_t)c.B * c.d);
        gc_add(&s, "V", c.V, c.dV, (size_t)c.n * c.d);
        gc_add(&s, "Q", c.Q, c.dQ, (size_t)c.n * c.d);
        gc_add(&s, "E", c.E, c.dE, (size_t)(c.N + 1) * c.d);
        printf("    chunk %d\n", c.chunk);
        CHECK_EQ_I64(gradcheck(&s), 0);
        ts_backward(&c);
        for (int j = 0; j < c.d; j++) /* row 0 of E is never scored */
            CHECK(c.dE[j] == 0);
        ts_loss(&c);
        for (int b = 0; b < c.B; b++)
            CHECK_NEAR(c.loss[b], plain_loss(&c, b), 1e-12);
        ts_free(&c);
    }
}

/* A single click: beta = 1, so score = (S + v) . e exactly. */
TEST(nn_target_score_len1_is_plain_dot)
{
    ts_case c;
    ts_setup(&c, 1, 3, 9, 4, 5); /* its one row has one click */
    CHECK_EQ_I64(c.n, 1);
    c.chunk = 4;
    ts_loss(&c);
    double sv[4], mx = -INFINITY, s = 0, l[10];
    for (int k = 0; k < 4; k++)
        sv[k] = c.S[k] + c.V[k];
    for (int i = 1; i <= 9; i++) {
        l[i] = 0;
        for (int k = 0; k < 4; k++)
            l[i] += sv[k] * c.E[i * 4 + k];
        mx = fmax(mx, l[i]);
    }
    for (int i = 1; i <= 9; i++)
        s += exp(l[i] - mx);
    CHECK_NEAR(c.loss[0], mx + log(s) - l[c.target[0]], 1e-12);
    ts_free(&c);
}

TEST(nn_target_topk_matches_sort)
{
    ts_case c;
    ts_setup(&c, 7, 4, 23, 5, 90);
    int K = 5;
    int32_t off[8] = {0}, ex[14], idx[7 * 5];
    double score[7 * 5];
    for (int b = 0; b < 7; b++) { /* row b excludes items b + 1 and 2b + 3 */
        ex[2 * b] = b + 1, ex[2 * b + 1] = 2 * b + 3;
        off[b + 1] = 2 * (b + 1);
    }
    sbr_nn_target_in_f64 in = ts_in(&c);
    for (int chunk = 2; chunk <= 23; chunk += 7) {
        sbr_nn_target_topk_f64(&c.ctx, idx, score, &in, K, off, ex,
                               (sbr_nn_scoring){7, 1, 23, 5, chunk, 0});
        for (int b = 0; b < 7; b++) {
            int rank = 0;
            double best[23];
            for (int i = 1; i <= 23; i++)
                if (i != b + 1 && i != 2 * b + 3)
                    best[rank++] = plain_score(&c, b, i);
            for (int r = 0; r < K; r++) { /* the r-th score is the r-th best */
                int above = 0;
                for (int q = 0; q < rank; q++)
                    above += best[q] > score[b * K + r] + 1e-12;
                CHECK_EQ_I64(above, r);
                CHECK_NEAR(score[b * K + r], plain_score(&c, b, idx[b * K + r]), 1e-12);
                CHECK(idx[b * K + r] != b + 1 && idx[b * K + r] != 2 * b + 3);
            }
        }
    }
    ts_free(&c);
}

/* float against double on float-rounded inputs */
TEST(nn_target_score_f32_matches_f64)
{
    ts_case c;
    ts_setup(&c, 7, 4, 40, 6, 33);
    c.chunk = 9;
    size_t nS = 42, nV = (size_t)c.n * 6, nE = 41 * 6;
    float *S = gc_zeros_f(nS), *V = gc_zeros_f(nV), *Q = gc_zeros_f(nV), *E = gc_zeros_f(nE);
    float *dS = gc_zeros_f(nS), *dV = gc_zeros_f(nV), *dQ = gc_zeros_f(nV), *dE = gc_zeros_f(nE);
    float loss[7], lse[7], w[7];
    for (size_t i = 0; i < nS; i++)
        S[i] = (float)c.S[i], c.S[i] = S[i];
    for (size_t i = 0; i < nV; i++)
        V[i] = (float)c.V[i], c.V[i] = V[i], Q[i] = (float)c.Q[i], c.Q[i] = Q[i];
    for (size_t i = 0; i < nE; i++)
        E[i] = (float)c.E[i], c.E[i] = E[i];
    for (int b = 0; b < 7; b++)
        w[b] = (float)c.w[b], c.w[b] = w[b];
    sbr_nn_scoring sc = {7, 1, 40, 6, 9, 0};
    size_t need = sbr_nn_target_score_scratch_f32(sc, c.n, 0);
    sbr_nn_ctx ctx = {.scratch = malloc(need), .scratch_bytes = need};
    sbr_nn_target_in_f32 in = {S, V, Q, E, c.off, c.n};
    sbr_nn_target_grad_f32 g = {dS, dV, dQ, dE};
    sbr_nn_target_score_forward_f32(&ctx, loss, lse, &in, c.target, sc);
    sbr_nn_target_score_backward_f32(&ctx, &g, w, &in, c.target, lse, sc);
    ts_backward(&c);
    CHECK(gc_agree_f32(loss, c.loss, 7, 1e-5, 1e-5) <= 1);
    CHECK(gc_agree_f32(dS, c.dS, nS, 1e-4, 1e-6) <= 1);
    CHECK(gc_agree_f32(dV, c.dV, nV, 1e-4, 1e-6) <= 1);
    CHECK(gc_agree_f32(dQ, c.dQ, nV, 1e-4, 1e-6) <= 1);
    CHECK(gc_agree_f32(dE, c.dE, nE, 1e-4, 1e-6) <= 1);
    free(S), free(V), free(Q), free(E), free(dS), free(dV), free(dQ), free(dE), free(ctx.scratch);
    ts_free(&c);
}

/* The same bits with 1 or 2 threads, and with a scratch for one thread. */
TEST(nn_target_score_thread_independent)
{
    int B = 12, L = 6, N = 3000, d = 16, chunk = 64, nc = 0;
    int32_t target[12], off[13] = {0}, idx[3][12 * 10];
    for (int b = 0; b < B; b++)
        off[b + 1] = nc += 1 + b % L;
    size_t nS = (size_t)B * d, nV = (size_t)nc * d, nE = (size_t)(N + 1) * d;
    float *S = gc_zeros_f(nS), *V = gc_zeros_f(nV), *Q = gc_zeros_f(nV), *E = gc_zeros_f(nE);
    float w[12], loss[3][12], lse[12], *g[3][4];
    float top[3][12 * 10];
    gc_fill_f(S, nS, -1, 1, 1), gc_fill_f(V, nV, -1, 1, 2), gc_fill_f(Q, nV, -1, 1, 3);
    gc_fill_f(E, nE, -1, 1, 4);
    for (int b = 0; b < B; b++)
        target[b] = 1 + (b * 977) % N, w[b] = 1.0f / B;
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    size_t need = sbr_nn_target_score_scratch_f32(sc, nc, 10);
    void *scr = malloc(need);
    sbr_nn_target_in_f32 in = {S, V, Q, E, off, nc};
    int saved = omp_get_max_threads();
    for (int r = 0; r < 3; r++) {
        g[r][0] = gc_zeros_f(nS), g[r][1] = gc_zeros_f(nV), g[r][2] = gc_zeros_f(nV);
        g[r][3] = gc_zeros_f(nE);
        omp_set_num_threads(r == 0 ? 1 : 2);
        /* r = 2: lanes and one thread's buffers only (fewer threads run) */
        size_t one = sbr_nn_target_score_scratch_f32(sc, nc, 10);
        if (r == 2) {
            omp_set_num_threads(1);
            one = sbr_nn_target_score_scratch_f32(sc, nc, 10);
            omp_set_num_threads(2);
        }
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = one};
        sbr_nn_target_grad_f32 gr = {g[r][0], g[r][1], g[r][2], g[r][3]};
        sbr_nn_target_score_forward_f32(&ctx, loss[r], lse, &in, target, sc);
        sbr_nn_target_score_backward_f32(&ctx, &gr, w, &in, target, lse, sc);
        sbr_nn_target_topk_f32(&ctx, idx[r], top[r], &in, 10, NULL, NULL, sc);
    }
    omp_set_num_threads(saved);
    size_t n[4] = {nS, nV, nV, nE};
    for (int r = 1; r < 3; r++) {
        CHECK(memcmp(loss[0], loss[r], sizeof loss[0]) == 0);
        for (int k = 0; k < 4; k++)
            CHECK(memcmp(g[0][k], g[r][k], n[k] * sizeof(float)) == 0);
        CHECK(memcmp(idx[0], idx[r], sizeof idx[0]) == 0);
        CHECK(memcmp(top[0], top[r], sizeof top[0]) == 0);
    }
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 4; k++)
            free(g[r][k]);
    free(S), free(V), free(Q), free(E), free(scr);
}

/* A model reserves the scratch of its largest batch (B rows, n = B L
 * clicks): every smaller batch must fit in it, also where the chunk cap
 * (2^19 / n items) binds. */
TEST(nn_target_score_scratch_fits_smaller_batches)
{
    int N = 100000, d = 100, K = 20, worse = 0;
    for (int chunk = 64; chunk <= 4096; chunk *= 4) {
        size_t top = sbr_nn_target_score_scratch_f32((sbr_nn_scoring){40, 1, N, d, chunk, 0},
                                                     40 * 30, K);
        for (int B = 1; B <= 40; B++)
            for (int n = 0; n <= B * 30; n += 1 + n / 8)
                worse += sbr_nn_target_score_scratch_f32((sbr_nn_scoring){B, 1, N, d, chunk, 0}, n,
                                                         K) > top;
    }
    CHECK_EQ_I64(worse, 0);
}

