/* The uncertainty op (entropy, top-1 probability and lse of the catalogue
 * softmax): against a plain loop over every item, with exclusions, every
 * chunk size 1..N+2, one and several vectors per row (max and sum pool);
 * float against double; hand-known values (uniform, all excluded, one
 * dominant item); the lse of score_ce; thread independence; NaN rows. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

/* Plain loop over items 1..N of row b: the pooled logit of each item not
 * excluded, then the softmax's entropy, max probability and lse, in long
 * double from the definitions (-sum p log p, not the op's log Z - T / Z). */
static void ref_row(const double *S, const double *E, int b, int U, int N, int d, int pool,
                    const int32_t *ex, int nx, double out[3])
{
    long double *z = malloc(sizeof(long double) * (size_t)(N + 1));
    long double m = -INFINITY;
    int n = 0;
    for (int i = 1; i <= N; i++) {
        int skip = 0;
        for (int k = 0; k < nx; k++)
            skip |= ex[k] == i;
        z[i] = NAN;
        if (skip)
            continue;
        long double p = 0;
        for (int u = 0; u < U; u++) {
            long double x = 0;
            for (int k = 0; k < d; k++)
                x += (long double)S[((size_t)b * U + u) * d + k] * E[(size_t)i * d + k];
            p = u == 0 ? x : pool ? p + x : (x > p ? x : p);
        }
        z[i] = p, n++;
        m = p > m ? p : m;
    }
    long double s = 0, h = 0;
    for (int i = 1; i <= N; i++)
        if (z[i] == z[i])
            s += expl(z[i] - m);
    long double lse = m + logl(s), pmax = 0;
    for (int i = 1; i <= N; i++)
        if (z[i] == z[i]) {
            long double p = expl(z[i] - lse);
            h -= p > 0 ? p * (z[i] - lse) : 0;
            pmax = p > pmax ? p : pmax;
        }
    out[0] = n ? (double)h : 0, out[1] = n ? (double)pmax : 0, out[2] = n ? (double)lse : -INFINITY;
    free(z);
}

typedef struct {
    int B, U, N, d, pool;
    int32_t off[8], ex[16];
} unc_case;

/* Rows: none excluded; two (one twice, one out of range); items 1 and N;
 * every item (no distribution); and further rows without exclusions. */
static void unc_case_excl(unc_case *c)
{
    int32_t lists[4][8] = {{0}, {3, 3, 9999, 7}, {1, c->N}, {0}};
    int lens[4] = {0, 4, 2, c->N};
    int n = 0;
    for (int b = 0; b < c->B; b++) {
        c->off[b] = n;
        for (int k = 0; b < 4 && k < lens[b]; k++)
            c->ex[n++] = b == 3 ? k + 1 : lists[b][k];
    }
    c->off[c->B] = n;
}

static void check_against_loop(int U, int pool)
{
    unc_case c = {6, U, 9, 5, pool, {0}, {0}};
    unc_case_excl(&c);
    double *S = gc_zeros((size_t)c.B * U * c.d), *E = gc_zeros((size_t)(c.N + 1) * c.d);
    gc_fill(S, (size_t)c.B * U * c.d, -2, 2, 11 + U);
    gc_fill(E, (size_t)(c.N + 1) * c.d, -1, 1, 12);
    double ent[6], p1[6], lse[6];
    for (int chunk = 1; chunk <= c.N + 2; chunk++) {
        sbr_nn_scoring sc = {c.B, U, c.N, c.d, chunk, pool};
        size_t need = sbr_nn_uncertainty_scratch_f64(sc);
        void *scr = malloc(need);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_uncertainty_f64(&ctx, ent, p1, lse, S, E, c.off, c.ex, sc);
        for (int b = 0; b < c.B; b++) {
            double r[3];
            ref_row(S, E, b, U, c.N, c.d, pool, c.ex + c.off[b], c.off[b + 1] - c.off[b], r);
            CHECK_NEAR(ent[b], r[0], 1e-12);
            CHECK_NEAR(p1[b], r[1], 1e-13);
            if (isinf(r[2]))
                CHECK(isinf(lse[b]) && lse[b] < 0);
            else
                CHECK_NEAR(lse[b], r[2], 1e-12);
        }
        free(scr);
    }
    /* row 3 excludes everything: no distribution */
    CHECK(ent[3] == 0 && p1[3] == 0);
    free(S), free(E);
}

TEST(nn_uncertainty_matches_plain_loop)
{
    check_against_loop(1, 0);
}

TEST(nn_uncertainty_multi_matches_plain_loop)
{
    check_against_loop(3, 0); /* DMI-GNN's max pool */
    check_against_loop(3, 1); /* the sum pool of its ablation */
}

/* Float on the float-rounded inputs against double: peaked rows (large
 * logits) and flat ones, a catalogue long enough for the vector kernel. */
TEST(nn_uncertainty_float_vs_double)
{
    int B = 8, N = 5003, d = 16, U = 2;
    for (int u = 1; u <= U; u++) {
        size_t ns = (size_t)B * u * d, ne = (size_t)(N + 1) * d;
        float *Sf = gc_zeros_f(ns), *Ef = gc_zeros_f(ne);
        double *Sd = gc_zeros(ns), *Ed = gc_zeros(ne);
        gc_fill_f(Sf, ns, -1, 1, 21);
        gc_fill_f(Ef, ne, -1, 1, 22);
        for (size_t i = 0; i < ns; i++) /* rows from flat (x 0.1) to peaked (x 8) */
            Sf[i] *= (float)(0.1 + (i / ((size_t)u * d)) * 1.1);
        for (size_t i = 0; i < ns; i++)
            Sd[i] = Sf[i];
        for (size_t i = 0; i < ne; i++)
            Ed[i] = Ef[i];
        int32_t off[9] = {0, 2, 2, 2, 2, 2, 2, 2, 2}, ex[2] = {17, 4000};
        sbr_nn_scoring sc = {B, u, N, d, 700, 0};
        size_t need = sbr_nn_uncertainty_scratch_f64(sc);
        void *scr = malloc(need);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        float ef[8], pf[8], lf[8];
        double ed[8], pd[8], ld[8];
        sbr_nn_uncertainty_f32(&ctx, ef, pf, lf, Sf, Ef, off, ex, sc);
        sbr_nn_uncertainty_f64(&ctx, ed, pd, ld, Sd, Ed, off, ex, sc);
        CHECK(gc_agree_f32(ef, ed, B, 1e-5, 1e-5) <= 1);
        CHECK(gc_agree_f32(pf, pd, B, 1e-5, 1e-7) <= 1);
        CHECK(gc_agree_f32(lf, ld, B, 1e-5, 1e-5) <= 1);
        CHECK(ed[0] > 8 && ed[0] <= log(N - 2.0)); /* the flat row: near log N */
        CHECK(ed[B - 1] < ed[0] && pd[B - 1] > pd[0]);
        free(Sf), free(Ef), free(Sd), free(Ed), free(scr);
    }
}

/* Known values: equal scores give log n and 1/n over the n items left; one
 * item far ahead gives entropy ~0 and probability ~1. */
TEST(nn_uncertainty_hand_values)
{
    int B = 3, N = 40, d = 2;
    float S[6] = {0, 0, 0, 0, 1, 0}, E[82] = {0};
    E[7 * d] = 60; /* row 2: item 7 scores 60, every other 0 */
    int32_t off[4] = {0, 0, 10, 10}, ex[10];
    for (int k = 0; k < 10; k++)
        ex[k] = 2 * k + 1; /* row 1: ten items out */
    float ent[3], p1[3], lse[3];
    for (int chunk = 1; chunk <= N; chunk += 13) {
        sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
        size_t need = sbr_nn_uncertainty_scratch_f32(sc);
        void *scr = malloc(need);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_uncertainty_f32(&ctx, ent, p1, lse, S, E, off, ex, sc);
        CHECK_NEAR(ent[0], log(40.0), 1e-5);
        CHECK_NEAR(p1[0], 1 / 40.0, 1e-7);
        CHECK_NEAR(lse[0], log(40.0), 1e-5);
        CHECK_NEAR(ent[1], log(30.0), 1e-5);
        CHECK_NEAR(p1[1], 1 / 30.0, 1e-7);
        CHECK(ent[2] >= 0 && ent[2] < 1e-20);
        CHECK_NEAR(p1[2], 1, 1e-7);
        CHECK_NEAR(lse[2], 60, 1e-5);
        free(scr);
    }
}

/* Without exclusions the lse is score_ce's (the softmax the model trains). */
TEST(nn_uncertainty_lse_is_score_ce)
{
    int B = 5, N = 300, d = 7;
    double *S = gc_zeros((size_t)B * d), *E = gc_zeros((size_t)(N + 1) * d);
    gc_fill(S, (size_t)B * d, -3, 3, 31);
    gc_fill(E, (size_t)(N + 1) * d, -1, 1, 32);
    int32_t target[5] = {1, 2, 3, 4, 5};
    double loss[5], l1[5], l2[5], ent[5], p1[5];
    sbr_nn_scoring sc = {B, 1, N, d, 64, 0};
    size_t a = sbr_nn_score_ce_scratch_f64(sc), b = sbr_nn_uncertainty_scratch_f64(sc);
    void *scr = malloc(a > b ? a : b);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = a > b ? a : b};
    sbr_nn_score_ce_forward_f64(&ctx, loss, l1, S, E, target, sc);
    sbr_nn_uncertainty_f64(&ctx, ent, p1, l2, S, E, NULL, NULL, sc);
    for (int i = 0; i < B; i++) {
        CHECK_NEAR(l2[i], l1[i], 1e-12);
        CHECK(ent[i] > 0 && ent[i] < log((double)N) && p1[i] > 1.0 / N && p1[i] <= 1);
    }
    sbr_nn_uncertainty_f64(&ctx, ent, p1, NULL, S, E, NULL, NULL, sc); /* lse not wanted */
    CHECK(ent[0] > 0);
    free(S), free(E), free(scr);
}

TEST(nn_uncertainty_thread_independent)
{
    int B = 30, N = 20000, d = 16;
    float *S = gc_zeros_f((size_t)B * d), *E = gc_zeros_f((size_t)(N + 1) * d);
    gc_fill_f(S, (size_t)B * d, -2, 2, 41);
    gc_fill_f(E, (size_t)(N + 1) * d, -1, 1, 42);
    float r1[3][30], r2[3][30];
    sbr_nn_scoring sc = {B, 1, N, d, 512, 0};
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    size_t need = sbr_nn_uncertainty_scratch_f32(sc);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_uncertainty_f32(&ctx, r1[0], r1[1], r1[2], S, E, NULL, NULL, sc);
    omp_set_num_threads(1);
    sbr_nn_uncertainty_f32(&ctx, r2[0], r2[1], r2[2], S, E, NULL, NULL, sc);
    omp_set_num_threads(saved);
    CHECK(memcmp(r1, r2, sizeof r1) == 0);
    free(S), free(E), free(scr);
}

/* A NaN score (a broken model) makes its row NaN, whichever chunk holds it
 * alone or among finite scores: never a plausible number. */
TEST(nn_uncertainty_nan_poisons_the_row)
{
    int B = 2, N = 12, d = 2;
    float S[4] = {1, 0, 0, 1}, E[26];
    gc_fill_f(E, 26, -1, 1, 51);
    E[5 * d] = NAN; /* item 5: NaN for row 0, 0 * NaN = NaN for row 1 too */
    for (int chunk = 1; chunk <= N; chunk++) {
        float ent[2], p1[2], lse[2];
        sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
        size_t need = sbr_nn_uncertainty_scratch_f32(sc);
        void *scr = malloc(need);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_uncertainty_f32(&ctx, ent, p1, lse, S, E, NULL, NULL, sc);
        CHECK(isnan(ent[0]) && isnan(p1[0]) && isnan(lse[0]));
        CHECK(isnan(ent[1]) && isnan(p1[1]));
        free(scr);
    }
}

static void too_little_scratch(void *arg)
{
    (void)arg;
    float S[2] = {1, 0}, E[8] = {0}, ent, p1;
    char scr[16];
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    sbr_nn_uncertainty_f32(&ctx, &ent, &p1, NULL, S, E, NULL, NULL,
                           (sbr_nn_scoring){1, 1, 3, 2, 1, 0});
}

TEST(nn_uncertainty_scratch_contract)
{
    CHECK(harness_aborts(too_little_scratch, NULL));
}
