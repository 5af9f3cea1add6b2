/* Fused score + cross-entropy: against a naive full softmax, gradient checks
 * with several chunk sizes, float vs double, memory bound. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

static size_t nn_test_align(size_t n) { return (n + 63) / 64 * 64; }

typedef struct {
    int B, N, d, chunk;
    int32_t *target;
    double *S, *E, *dS, *dE, *loss, *lse, *w; /* w: dL/dloss */
    double *scratch;
    sbr_nn_ctx ctx;
} ce_case;

static void ce_setup(ce_case *c, int B, int N, int d, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->B = B, c->N = N, c->d = d;
    c->target = malloc(B * sizeof(int32_t));
    for (int b = 0; b < B; b++)
        c->target[b] = 1 + (int32_t)((b * 7 + 2) % N);
    c->S = gc_zeros((size_t)B * d), c->dS = gc_zeros((size_t)B * d);
    c->E = gc_zeros((size_t)(N + 1) * d), c->dE = gc_zeros((size_t)(N + 1) * d);
    c->loss = gc_zeros(B), c->lse = gc_zeros(B), c->w = gc_zeros(B);
    gc_fill(c->S, (size_t)B * d, -1.5, 1.5, seed);
    gc_fill(c->E, (size_t)(N + 1) * d, -1.5, 1.5, seed + 1);
    gc_fill(c->w, B, 0.1, 1, seed + 2);
    /* Enough for any chunk size: the largest lane and logits needs. */
    size_t need = sbr_nn_score_ce_scratch_f64((sbr_nn_scoring){B, 1, N, d, 1, 0}) +
                  sbr_nn_score_ce_scratch_f64((sbr_nn_scoring){B, 1, N, d, N, 0});
    c->scratch = gc_zeros(need / sizeof(double) + 1);
    c->ctx.scratch = c->scratch;
    c->ctx.scratch_bytes = need;
}

static void ce_free(ce_case *c)
{
    free(c->target), free(c->S), free(c->dS), free(c->E), free(c->dE), free(c->loss);
    free(c->lse), free(c->w), free(c->scratch);
}

static double ce_loss(void *u)
{
    ce_case *c = u;
    sbr_nn_score_ce_forward_f64(&c->ctx, c->loss, c->lse, c->S, c->E, c->target,
                                (sbr_nn_scoring){c->B, 1, c->N, c->d, c->chunk, 0});
    return gc_dot(c->w, c->loss, c->B);
}

static void ce_backward(void *u)
{
    ce_case *c = u;
    ce_loss(c);
    memset(c->dS, 0, (size_t)c->B * c->d * sizeof(double));
    memset(c->dE, 0, (size_t)(c->N + 1) * c->d * sizeof(double));
    sbr_nn_score_ce_backward_f64(&c->ctx, c->dS, c->dE, c->w, c->S, c->E, c->target, c->lse,
                                 (sbr_nn_scoring){c->B, 1, c->N, c->d, c->chunk, 0});
}

/* The textbook computation over the whole [B, N] logits. */
static double naive_loss(const ce_case *c, int b)
{
    double *l = gc_zeros(c->N + 1), mx = -INFINITY, s = 0;
    for (int i = 1; i <= c->N; i++) {
        for (int k = 0; k < c->d; k++)
            l[i] += c->S[(size_t)b * c->d + k] * c->E[(size_t)i * c->d + k];
        mx = fmax(mx, l[i]);
    }
    for (int i = 1; i <= c->N; i++)
        s += exp(l[i] - mx);
    double r = mx + log(s) - l[c->target[b]];
    free(l);
    return r;
}

TEST(nn_score_ce_gradcheck_chunks)
{
    int chunks[] = {1, 3, 7, 16, 17, 100};
    for (int k = 0; k < 6; k++) {
        ce_case c;
        ce_setup(&c, 6, 17, 5, 40 + k);
        c.chunk = chunks[k];
        gc_spec s = {.op = "score_ce", .loss = ce_loss, .backward = ce_backward, .user = &c};
        gc_add(&s, "S", c.S, c.dS, (size_t)c.B * c.d);
        gc_add(&s, "E", c.E, c.dE, (size_t)(c.N + 1) * c.d);
        printf("    chunk %d\n", c.chunk);
        CHECK_EQ_I64(gradcheck(&s), 0);
        /* Row 0 of E (padding) is never scored: no gradient. */
        for (int j = 0; j < c.d; j++)
            CHECK(c.dE[j] == 0);
        ce_loss(&c);
        for (int b = 0; b < c.B; b++)
            CHECK_NEAR(c.loss[b], naive_loss(&c, b), 1e-12);
        ce_free(&c);
    }
}

TEST(nn_score_ce_large_logits_and_f32)
{
    /* Logits of several hundred: a naive exp overflows; the running max does not. */
    ce_case c;
    ce_setup(&c, 9, 300, 16, 7);
    for (size_t i = 0; i < (size_t)9 * 16; i++)
        c.S[i] *= 40;
    c.chunk = 64;
    ce_loss(&c);
    for (int b = 0; b < c.B; b++) {
        CHECK(isfinite(c.loss[b]) && c.loss[b] >= 0);
        CHECK_NEAR(c.loss[b], naive_loss(&c, b), 1e-9 * fmax(1, c.loss[b]));
    }
    /* float forward and backward against double on the same inputs. */
    for (size_t i = 0; i < (size_t)9 * 16; i++)
        c.S[i] /= 40;
    size_t nS = (size_t)9 * 16, nE = (size_t)301 * 16;
    float *S = gc_zeros_f(nS), *E = gc_zeros_f(nE), *dS = gc_zeros_f(nS), *dE = gc_zeros_f(nE);
    float loss[9], lse[9], w[9];
    for (size_t i = 0; i < nS; i++)
        S[i] = (float)c.S[i], c.S[i] = S[i];
    for (size_t i = 0; i < nE; i++)
        E[i] = (float)c.E[i], c.E[i] = E[i];
    for (int b = 0; b < 9; b++)
        w[b] = (float)c.w[b], c.w[b] = w[b];
    sbr_nn_scoring sc = {9, 1, 300, 16, 64, 0};
    size_t need = sbr_nn_score_ce_scratch_f32(sc);
    float *scr = gc_zeros_f(need / sizeof(float) + 1);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_score_ce_forward_f32(&ctx, loss, lse, S, E, c.target, sc);
    sbr_nn_score_ce_backward_f32(&ctx, dS, dE, w, S, E, c.target, lse, sc);
    ce_backward(&c);
    CHECK(gc_agree_f32(loss, c.loss, 9, 1e-5, 1e-5) <= 1);
    CHECK(gc_agree_f32(dS, c.dS, nS, 1e-4, 1e-6) <= 1);
    CHECK(gc_agree_f32(dE, c.dE, nE, 1e-4, 1e-6) <= 1);
    free(S), free(E), free(dS), free(dE), free(scr);
    ce_free(&c);
}

/* Same bits with 1 or 2 threads, and with a scratch that fits one thread. */
TEST(nn_score_ce_thread_independent)
{
    int B = 20, N = 5000, d = 32, chunk = 256;
    size_t nS = (size_t)B * d, nE = (size_t)(N + 1) * d;
    float *S = gc_zeros_f(nS), *E = gc_zeros_f(nE), w[20], loss[3][20], lse[20];
    float *dS[3], *dE[3];
    int32_t target[20];
    gc_fill_f(S, nS, -1, 1, 1);
    gc_fill_f(E, nE, -1, 1, 2);
    for (int b = 0; b < B; b++)
        target[b] = 1 + (b * 977) % N, w[b] = 1.0f / B;
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    size_t need = sbr_nn_score_ce_scratch_f32(sc);
    void *scr = malloc(need);
    int saved = omp_get_max_threads();
    for (int r = 0; r < 3; r++) {
        dS[r] = gc_zeros_f(nS), dE[r] = gc_zeros_f(nE);
        omp_set_num_threads(r == 0 ? 1 : 2);
        /* r = 2: just enough scratch for the lanes and one logits buffer. */
        size_t one = sbr_nn_score_ce_scratch_f32(sc) -
                     (omp_get_max_threads() - 1) * nn_test_align((size_t)B * chunk * sizeof(float));
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = r == 2 ? one : need};
        sbr_nn_score_ce_forward_f32(&ctx, loss[r], lse, S, E, target, sc);
        sbr_nn_score_ce_backward_f32(&ctx, dS[r], dE[r], w, S, E, target, lse, sc);
    }
    omp_set_num_threads(saved);
    for (int r = 1; r < 3; r++) {
        CHECK(memcmp(loss[0], loss[r], sizeof loss[0]) == 0);
        CHECK(memcmp(dS[0], dS[r], nS * sizeof(float)) == 0);
        CHECK(memcmp(dE[0], dE[r], nE * sizeof(float)) == 0);
    }
    for (int r = 0; r < 3; r++)
        free(dS[r]), free(dE[r]);
    free(S), free(E), free(scr);
}

/* The single-vector ops refuse sc.U != 1 (a caller that meant score_multi):
 * a contract violation, not a silent read of the first vector only. */
static void ce_two_vectors(void *u)
{
    ce_case *c = u;
    sbr_nn_score_ce_forward_f64(&c->ctx, c->loss, c->lse, c->S, c->E, c->target,
                                (sbr_nn_scoring){c->B, 2, c->N, c->d, c->chunk, 0});
}

static void topk_two_vectors(void *u)
{
    ce_case *c = u;
    int32_t idx[4 * 3];
    double sc[4 * 3];
    sbr_nn_scoring one = {c->B, 1, c->N, c->d, c->chunk, 0};
    size_t need = sbr_nn_topk_scratch_f64(one, 3); /* enough: only U may abort */
    sbr_nn_ctx ctx = {.scratch = malloc(need), .scratch_bytes = need};
    sbr_nn_topk_f64(&ctx, idx, sc, c->S, c->E, 3, NULL, NULL,
                    (sbr_nn_scoring){c->B, 2, c->N, c->d, c->chunk, 0});
    free(ctx.scratch);
}

TEST(nn_score_ce_and_topk_need_one_vector)
{
    ce_case c;
    ce_setup(&c, 4, 30, 5, 61);
    c.chunk = 7;
    CHECK(harness_aborts(ce_two_vectors, &c));
    CHECK(harness_aborts(topk_two_vectors, &c));
    ce_free(&c);
}
