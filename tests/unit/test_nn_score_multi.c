/* Multi-interest scoring (score_multi.inc): fused score + CE against a naive
 * pooled softmax, gradient checks for both pools and several chunk sizes,
 * the tie rule of the max pool, U = 1 against score_ce, top-K against a
 * naive ranking, float vs double and thread-count independence. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int B, U, N, d, chunk, pool;
    int32_t *target;
    double *S, *E, *dS, *dE, *loss, *lse, *w;
    double *scratch;
    sbr_nn_ctx ctx;
} sm_case;

static void sm_setup(sm_case *c, int B, int U, int N, int d, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->B = B, c->U = U, c->N = N, c->d = d;
    size_t nS = (size_t)B * U * d, nE = (size_t)(N + 1) * d;
    c->target = malloc(B * sizeof(int32_t));
    for (int b = 0; b < B; b++)
        c->target[b] = 1 + (int32_t)((b * 7 + 3) % N);
    c->S = gc_zeros(nS), c->dS = gc_zeros(nS), c->E = gc_zeros(nE), c->dE = gc_zeros(nE);
    c->loss = gc_zeros(B), c->lse = gc_zeros(B), c->w = gc_zeros(B);
    gc_fill(c->S, nS, -1.5, 1.5, seed);
    gc_fill(c->E, nE, -1.5, 1.5, seed + 1);
    gc_fill(c->w, B, 0.1, 1, seed + 2);
    size_t need = sbr_nn_score_multi_scratch_f64((sbr_nn_scoring){B, U, N, d, 1, 0}) +
                  sbr_nn_score_multi_scratch_f64((sbr_nn_scoring){B, U, N, d, N, 0}) +
                  sbr_nn_topk_multi_scratch_f64((sbr_nn_scoring){B, U, N, d, 1, 0}, N);
    c->scratch = gc_zeros(need / sizeof(double) + 1);
    c->ctx.scratch = c->scratch;
    c->ctx.scratch_bytes = need;
}

static void sm_free(sm_case *c)
{
    free(c->target), free(c->S), free(c->dS), free(c->E), free(c->dE), free(c->loss);
    free(c->lse), free(c->w), free(c->scratch);
}

static double sm_loss(void *u)
{
    sm_case *c = u;
    sbr_nn_scoring sc = {c->B, c->U, c->N, c->d, c->chunk, c->pool};
    sbr_nn_score_multi_ce_forward_f64(&c->ctx, c->loss, c->lse, c->S, c->E, c->target, sc);
    return gc_dot(c->w, c->loss, c->B);
}

static void sm_backward(void *u)
{
    sm_case *c = u;
    sm_loss(c);
    memset(c->dS, 0, (size_t)c->B * c->U * c->d * sizeof(double));
    memset(c->dE, 0, (size_t)(c->N + 1) * c->d * sizeof(double));
    sbr_nn_scoring sc = {c->B, c->U, c->N, c->d, c->chunk, c->pool};
    sbr_nn_score_multi_ce_backward_f64(&c->ctx, c->dS, c->dE, c->w, c->S, c->E, c->target, c->lse,
                                       sc);
}

/* The pooled logit of item i for row b, computed plainly. */
static double pooled(const sm_case *c, int b, int i)
{
    double p = 0;
    for (int u = 0; u < c->U; u++) {
        double x = 0;
        for (int k = 0; k < c->d; k++)
            x += c->S[((size_t)b * c->U + u) * c->d + k] * c->E[(size_t)i * c->d + k];
        p = u == 0 ? x : c->pool ? p + x : fmax(p, x);
    }
    return p;
}

static double naive_loss(const sm_case *c, int b)
{
    double mx = -INFINITY, s = 0;
    for (int i = 1; i <= c->N; i++)
        mx = fmax(mx, pooled(c, b, i));
    for (int i = 1; i <= c->N; i++)
        s += exp(pooled(c, b, i) - mx);
    return mx + log(s) - pooled(c, b, c->target[b]);
}

TEST(nn_score_multi_gradcheck)
{
    int chunks[] = {1, 5, 17, 100};
    for (int pool = 0; pool < 2; pool++)
        for (int k = 0; k < 4; k++) {
            sm_case c;
            sm_setup(&c, 5, 3, 17, 4, 60 + k + 10 * pool);
            c.chunk = chunks[k];
            c.pool = pool;
            gc_spec s = {.op = pool ? "score_multi_ce (sum)" : "score_multi_ce (max)",
                         .loss = sm_loss, .backward = sm_backward, .user = &c};
            gc_add(&s, "S", c.S, c.dS, (size_t)c.B * c.U * c.d);
            gc_add(&s, "E", c.E, c.dE, (size_t)(c.N + 1) * c.d);
            printf("    pool %s, chunk %d\n", pool ? "sum" : "max", c.chunk);
            CHECK_EQ_I64(gradcheck(&s), 0);
            for (int j = 0; j < c.d; j++)
                CHECK(c.dE[j] == 0); /* padding row never scored */
            sm_loss(&c);
            for (int b = 0; b < c.B; b++)
                CHECK_NEAR(c.loss[b], naive_loss(&c, b), 1e-12);
            sm_free(&c);
        }
}

/* Two equal interests: every item is a tie between them, and the lower one
 * takes it all: the gradients equal those of the same rows without the copy. */
TEST(nn_score_multi_ties_to_lower_interest)
{
    sm_case c, two;
    sm_setup(&c, 4, 3, 11, 5, 9);
    sm_setup(&two, 4, 2, 11, 5, 9);
    c.chunk = two.chunk = 4;
    for (int b = 0; b < c.B; b++) {
        memcpy(c.S + ((size_t)b * 3 + 2) * c.d, c.S + ((size_t)b * 3 + 1) * c.d,
               (size_t)c.d * sizeof(double)); /* interest 2 := interest 1 */
        memcpy(two.S + (size_t)b * 2 * c.d, c.S + (size_t)b * 3 * c.d,
               2 * (size_t)c.d * sizeof(double));
    }
    memcpy(two.E, c.E, (size_t)(c.N + 1) * c.d * sizeof(double));
    memcpy(two.w, c.w, (size_t)c.B * sizeof(double));
    sm_backward(&c);
    sm_backward(&two);
    int any = 0;
    for (int b = 0; b < c.B; b++)
        for (int k = 0; k < c.d; k++) {
            CHECK(c.dS[((size_t)b * 3 + 2) * c.d + k] == 0);
            for (int u = 0; u < 2; u++)
                CHECK_NEAR(c.dS[((size_t)b * 3 + u) * c.d + k],
                           two.dS[((size_t)b * 2 + u) * c.d + k], 1e-13);
            any |= c.dS[((size_t)b * 3 + 1) * c.d + k] != 0;
        }
    CHECK(any); /* interest 1 won some items */
    for (size_t i = 0; i < (size_t)(c.N + 1) * c.d; i++)
        CHECK_NEAR(c.dE[i], two.dE[i], 1e-13);
    sm_free(&c);
    sm_free(&two);
}

/* U = 1: the same numbers as score_ce, for both pools. */
TEST(nn_score_multi_one_interest_is_score_ce)
{
    for (int pool = 0; pool < 2; pool++) {
        sm_case c;
        sm_setup(&c, 6, 1, 40, 7, 3);
        c.chunk = 9;
        c.pool = pool;
        sm_backward(&c);
        size_t nS = (size_t)6 * 7, nE = (size_t)41 * 7;
        double *dS = gc_zeros(nS), *dE = gc_zeros(nE), loss[6], lse[6];
        sbr_nn_scoring sc = {6, 1, 40, 7, 9, 0};
        sbr_nn_score_ce_forward_f64(&c.ctx, loss, lse, c.S, c.E, c.target, sc);
        sbr_nn_score_ce_backward_f64(&c.ctx, dS, dE, c.w, c.S, c.E, c.target, lse, sc);
        for (int b = 0; b < 6; b++)
            CHECK_NEAR(loss[b], c.loss[b], 1e-13);
        for (size_t i = 0; i < nS; i++)
            CHECK_NEAR(dS[i], c.dS[i], 1e-13);
        for (size_t i = 0; i < nE; i++)
            CHECK_NEAR(dE[i], c.dE[i], 1e-13);
        free(dS), free(dE);
        sm_free(&c);
    }
}

/* Top-K by the pooled score: against a plain sort, with exclusions. */
TEST(nn_topk_multi_naive)
{
    for (int pool = 0; pool < 2; pool++) {
        sm_case c;
        int B = 5, U = 3, N = 60, d = 6, K = 7;
        sm_setup(&c, B, U, N, d, 21 + pool);
        c.pool = pool;
        int32_t idx[5 * 7], excl_off[6], excl[10];
        double score[5 * 7];
        int n = 0;
        for (int b = 0; b < B; b++) {
            excl_off[b] = n;
            excl[n++] = 1 + (b * 13) % N;
            excl[n++] = 1 + (b * 29 + 5) % N;
        }
        excl_off[B] = n;
        sbr_nn_topk_multi_f64(&c.ctx, idx, score, c.S, c.E, K, excl_off, excl,
                              (sbr_nn_scoring){B, U, N, d, 8, pool});
        for (int b = 0; b < B; b++) {
            /* naive: best K by (score desc, id asc), skipping the excluded */
            int used[61] = {0};
            for (int k = excl_off[b]; k < excl_off[b + 1]; k++)
                used[excl[k]] = 1;
            for (int j = 0; j < K; j++) {
                int best = 0;
                double bs = -INFINITY;
                for (int i = 1; i <= N; i++)
                    if (!used[i] && (best == 0 || pooled(&c, b, i) > bs))
                        best = i, bs = pooled(&c, b, i);
                used[best] = 1;
                CHECK_EQ_I64(idx[b * K + j], best);
                CHECK_NEAR(score[b * K + j], bs, 1e-12);
            }
        }
        sm_free(&c);
    }
}

/* float against double, and the same bits with 1 and 2 threads. */
TEST(nn_score_multi_f32_threads)
{
    int B = 12, U = 3, N = 3000, d = 16, chunk = 256;
    size_t nS = (size_t)B * U * d, nE = (size_t)(N + 1) * d;
    float *S = gc_zeros_f(nS), *E = gc_zeros_f(nE), w[12], loss[2][12], lse[12];
    float *dS[2], *dE[2];
    int32_t target[12];
    gc_fill_f(S, nS, -1, 1, 5);
    gc_fill_f(E, nE, -1, 1, 6);
    for (int b = 0; b < B; b++)
        target[b] = 1 + (b * 211) % N, w[b] = 1.0f / B;
    sbr_nn_scoring sc = {B, U, N, d, chunk, 0};
    size_t need = sbr_nn_score_multi_scratch_f32(sc);
    void *scr = malloc(need);
    int saved = omp_get_max_threads();
    for (int r = 0; r < 2; r++) {
        dS[r] = gc_zeros_f(nS), dE[r] = gc_zeros_f(nE);
        omp_set_num_threads(r + 1);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_score_multi_ce_forward_f32(&ctx, loss[r], lse, S, E, target, sc);
        sbr_nn_score_multi_ce_backward_f32(&ctx, dS[r], dE[r], w, S, E, target, lse, sc);
    }
    omp_set_num_threads(saved);
    CHECK(memcmp(loss[0], loss[1], sizeof loss[0]) == 0);
    CHECK(memcmp(dS[0], dS[1], nS * sizeof(float)) == 0);
    CHECK(memcmp(dE[0], dE[1], nE * sizeof(float)) == 0);
    /* double reference on the same (rounded) inputs */
    sm_case c;
    sm_setup(&c, B, U, N, d, 1);
    for (size_t i = 0; i < nS; i++)
        c.S[i] = S[i];
    for (size_t i = 0; i < nE; i++)
        c.E[i] = E[i];
    for (int b = 0; b < B; b++)
        c.w[b] = w[b], c.target[b] = target[b];
    c.chunk = chunk;
    sm_backward(&c);
    CHECK(gc_agree_f32(loss[0], c.loss, (size_t)B, 1e-5, 1e-5) <= 1);
    CHECK(gc_agree_f32(dS[0], c.dS, nS, 1e-4, 1e-6) <= 1);
    CHECK(gc_agree_f32(dE[0], c.dE, nE, 1e-4, 1e-6) <= 1);
    sm_free(&c);
    for (int r = 0; r < 2; r++)
        free(dS[r]), free(dE[r]);
    free(S), free(E), free(scr);
}
