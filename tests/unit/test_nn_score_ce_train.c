/* score_ce_train (forward and backward in one call, logits kept between the
 * passes) against score_ce_forward + score_ce_backward: same loss, lse, dS,
 * dE up to rounding, for every chunk size, with dS or dE absent, with large
 * logits; the same bits for 1 and 2 threads. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    int B, N, d;
    int32_t target[8];
    double *S, *E, w[8];
    double *scratch;
    size_t scratch_bytes;
} tr_case;

static void tr_setup(tr_case *c, int B, int N, int d, double scale, uint64_t seed)
{
    c->B = B, c->N = N, c->d = d;
    c->S = gc_zeros((size_t)B * d), c->E = gc_zeros((size_t)(N + 1) * d);
    gc_fill(c->S, (size_t)B * d, -scale, scale, seed);
    gc_fill(c->E, (size_t)(N + 1) * d, -1.5, 1.5, seed + 1);
    gc_fill(c->w, B, 0.1, 1, seed + 2);
    for (int b = 0; b < B; b++) /* first, last and middle items of chunks */
        c->target[b] = b == 0 ? 1 : b == 1 ? N : 1 + (b * 5) % N;
    c->scratch_bytes = sbr_nn_score_ce_scratch_f64((sbr_nn_scoring){B, 1, N, d, 1, 0}) +
                       sbr_nn_score_ce_scratch_f64((sbr_nn_scoring){B, 1, N, d, N, 0});
    c->scratch = gc_zeros(c->scratch_bytes / sizeof(double) + 1);
}

/* loss, lse, dS, dE of one way of computing them (train: score_ce_train). */
static void tr_run(const tr_case *c, int train, int chunk, int want_dS, int want_dE,
                   double *loss, double *lse, double *dS, double *dE)
{
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = c->scratch_bytes};
    memset(dS, 0, sizeof(double) * (size_t)c->B * c->d);
    memset(dE, 0, sizeof(double) * (size_t)(c->N + 1) * c->d);
    double *pdS = want_dS ? dS : NULL, *pdE = want_dE ? dE : NULL;
    sbr_nn_scoring sc = {c->B, 1, c->N, c->d, chunk, 0};
    if (train) {
        double *keep = gc_zeros((size_t)c->B * c->N);
        sbr_nn_score_ce_train_f64(&ctx, loss, lse, pdS, pdE, c->w, c->S, c->E, c->target, keep,
                                  sc);
        free(keep);
    } else {
        sbr_nn_score_ce_forward_f64(&ctx, loss, lse, c->S, c->E, c->target, sc);
        sbr_nn_score_ce_backward_f64(&ctx, pdS, pdE, c->w, c->S, c->E, c->target, lse, sc);
    }
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / fmax(1e-3, fabs(b[i]));
        worst = e > worst ? e : worst;
    }
    return worst;
}

static void tr_compare(const tr_case *c, int chunk, int want_dS, int want_dE, double tol)
{
    size_t nS = (size_t)c->B * c->d, nE = (size_t)(c->N + 1) * c->d;
    double l0[8], l1[8], s0[8], s1[8];
    double *dS0 = gc_zeros(nS), *dS1 = gc_zeros(nS), *dE0 = gc_zeros(nE), *dE1 = gc_zeros(nE);
    tr_run(c, 0, chunk, want_dS, want_dE, l0, s0, dS0, dE0);
    tr_run(c, 1, chunk, want_dS, want_dE, l1, s1, dS1, dE1);
    CHECK(max_rel(l1, l0, c->B) < tol);
    CHECK(max_rel(s1, s0, c->B) < tol);
    CHECK(max_rel(dS1, dS0, nS) < tol);
    CHECK(max_rel(dE1, dE0, nE) < tol);
    for (int j = 0; j < c->d; j++) /* row 0 of E (padding) is never scored */
        CHECK(dE1[j] == 0);
    free(dS0), free(dS1), free(dE0), free(dE1);
}

TEST(nn_score_ce_train_matches_forward_backward)
{
    int chunks[] = {1, 3, 7, 16, 17, 100};
    tr_case c;
    tr_setup(&c, 6, 17, 5, 1.5, 60);
    for (int k = 0; k < 6; k++) {
        printf("    chunk %d\n", chunks[k]);
        tr_compare(&c, chunks[k], 1, 1, 1e-12);
        tr_compare(&c, chunks[k], 1, 0, 1e-12);
        tr_compare(&c, chunks[k], 0, 1, 1e-12);
    }
    free(c.S), free(c.E), free(c.scratch);
}

TEST(nn_score_ce_train_large_logits)
{
    /* Logits of several hundred: each chunk's exponentials are kept against
     * its own maximum and rescaled, never overflowing. */
    tr_case c;
    tr_setup(&c, 8, 300, 16, 60, 61);
    tr_compare(&c, 64, 1, 1, 1e-10);
    tr_compare(&c, 300, 1, 1, 1e-10);
    free(c.S), free(c.E), free(c.scratch);
}

/* Same bits with 1 and 2 threads (f32, a catalogue of many chunks). */
TEST(nn_score_ce_train_thread_independent)
{
    int B = 20, N = 5000, d = 32, chunk = 256;
    size_t nS = (size_t)B * d, nE = (size_t)(N + 1) * d;
    float *S = gc_zeros_f(nS), *E = gc_zeros_f(nE), w[20], loss[2][20], lse[20];
    float *dS[2], *dE[2], *keep = gc_zeros_f((size_t)B * N);
    int32_t target[20];
    gc_fill_f(S, nS, -1, 1, 1);
    gc_fill_f(E, nE, -1, 1, 2);
    for (int b = 0; b < B; b++)
        target[b] = 1 + (b * 977) % N, w[b] = 1.0f / B;
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    size_t need = sbr_nn_score_ce_scratch_f32(sc);
    void *scr = malloc(need);
    int saved = omp_get_max_threads();
    for (int r = 0; r < 2; r++) {
        dS[r] = gc_zeros_f(nS), dE[r] = gc_zeros_f(nE);
        omp_set_num_threads(r + 1);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_score_ce_train_f32(&ctx, loss[r], lse, dS[r], dE[r], w, S, E, target, keep, sc);
    }
    omp_set_num_threads(saved);
    CHECK(memcmp(loss[0], loss[1], sizeof loss[0]) == 0);
    CHECK(memcmp(dS[0], dS[1], nS * sizeof(float)) == 0);
    CHECK(memcmp(dE[0], dE[1], nE * sizeof(float)) == 0);
    for (int r = 0; r < 2; r++)
        free(dS[r]), free(dE[r]);
    free(S), free(E), free(scr), free(keep);
}
