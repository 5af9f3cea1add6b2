/* retrieve (NP-MiSR's context): against a plain loop over every pool row and
 * a sort, for chunk sizes from 1 to past M, C = 1 to past the eligible rows,
 * exclusions, exact ties, zero and NaN rows; float against double; the same
 * bits with 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    double s;
    int32_t r;
} rt_cand;

/* best first: larger cosine, then the smaller row */
static int rt_cmp(const void *a, const void *b)
{
    const rt_cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->r > y->r) - (x->r < y->r);
}

static double rt_dot(const double *a, const double *b, int d)
{
    double s = 0;
    for (int k = 0; k < d; k++)
        s += a[k] * b[k];
    return s;
}

/* The cosine as the definition reads (api.inc): the product times both
 * inverse norms (0 for a row of zeros), in float when as_float. */
static double rt_cos(const double *x, const double *p, int d, int as_float)
{
    double xx = rt_dot(x, x, d), pp = rt_dot(p, p, d), dot = rt_dot(x, p, d);
    double ix = xx > 0 ? 1 / sqrt(xx) : 0, ip = pp > 0 ? 1 / sqrt(pp) : 0;
    if (as_float)
        return (float)dot * (float)ix * (float)ip;
    return dot * ix * ip;
}

/* Every pool row of every query scored, sorted, the first C kept (-1 and
 * -inf past the eligible rows: not excluded, not NaN). */
static const int32_t *rt_lim; /* the limits the next runs use (NULL: none) */

static void rt_reference(int32_t *idx, double *sim, const double *X, const double *P,
                         const int32_t *excl, sbr_nn_retrieve_shape sh, int as_float)
{
    rt_cand *all = malloc(sizeof(rt_cand) * sh.M);
    for (int b = 0; b < sh.B; b++) {
        int n = 0;
        for (int r = 0; r < sh.M; r++) {
            double s = rt_cos(X + (size_t)b * sh.d, P + (size_t)r * sh.d, sh.d, as_float);
            if ((!excl || excl[b] != r) && (!rt_lim || r < rt_lim[b]) && s == s)
                all[n++] = (rt_cand){s, r};
        }
        qsort(all, n, sizeof(rt_cand), rt_cmp);
        for (int j = 0; j < sh.C; j++) {
            idx[(size_t)b * sh.C + j] = j < n ? all[j].r : -1;
            sim[(size_t)b * sh.C + j] = j < n ? all[j].s : -INFINITY;
        }
    }
    free(all);
}

/* The float op on X, P (doubles holding floats) with a scratch of its own. */
static void rt_run_f32(int32_t *idx, float *sim, const double *X, const double *P,
                       const int32_t *excl, sbr_nn_retrieve_shape sh)
{
    float *xf = gc_zeros_f((size_t)sh.B * sh.d + 1), *pf = gc_zeros_f((size_t)sh.M * sh.d);
    for (size_t i = 0; i < (size_t)sh.B * sh.d; i++)
        xf[i] = (float)X[i];
    for (size_t i = 0; i < (size_t)sh.M * sh.d; i++)
        pf[i] = (float)P[i];
    size_t need = sbr_nn_retrieve_scratch_f32(sh);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_retrieve_f32(&ctx, idx, sim, xf, pf, excl, rt_lim, sh);
    free(scr), free(xf), free(pf);
}

static void rt_run_f64(int32_t *idx, double *sim, const double *X, const double *P,
                       const int32_t *excl, sbr_nn_retrieve_shape sh)
{
    size_t need = sbr_nn_retrieve_scratch_f64(sh);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_retrieve_f64(&ctx, idx, sim, X, P, excl, rt_lim, sh);
    free(scr);
}

/* Small integers: every product and sum is exact in float, so the op's
 * cosines must equal the plain loop's bit for bit, and the equal cosines
 * (a row and its double, the zero rows, a zero query) test the tie rule. */
static void rt_integer_data(double *X, double *P, int B, int M, int d)
{
    static const double p9[8] = {1, 2, -1, 0, 2, 1, -2, 1};
    gc_fill(X, (size_t)B * d, -2.5, 2.5, 45), gc_fill(P, (size_t)M * d, -2.5, 2.5, 46);
    for (size_t i = 0; i < (size_t)B * d; i++)
        X[i] = round(X[i]);
    for (size_t i = 0; i < (size_t)M * d; i++)
        P[i] = round(P[i]);
    for (int k = 0; k < d; k++) {
        X[1 * d + k] = 0;                 /* a zero query: every cosine 0 */
        P[3 * d + k] = P[20 * d + k] = 0; /* zero rows: cosine 0 */
        P[9 * d + k] = P[31 * d + k] = p9[k % 8];
        P[30 * d + k] = 2 * p9[k % 8]; /* the same direction as row 9 */
        X[2 * d + k] = p9[k % 8];      /* query 2's best: rows 9, 30, 31, tied */
    }
}

static void rt_check_exact(const double *X, const double *P, const int32_t *excl,
                           sbr_nn_retrieve_shape sh)
{
    size_t n = (size_t)sh.B * sh.C;
    int32_t *ri = malloc(n * sizeof(int32_t)), *oi = malloc(n * sizeof(int32_t));
    double *rs = gc_zeros(n);
    float *os = gc_zeros_f(n);
    rt_reference(ri, rs, X, P, excl, sh, 1);
    rt_run_f32(oi, os, X, P, excl, sh);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += oi[i] != ri[i] || (double)os[i] != rs[i];
    if (bad)
        harness_fail(__FILE__, __LINE__, "chunk %d C %d: %d slots differ from the plain loop",
                     sh.chunk, sh.C, bad);
    free(ri), free(oi), free(rs), free(os);
}

TEST(nn_retrieve_matches_plain_loop)
{
    enum { B = 6, M = 53, d = 8 };
    double *X = gc_zeros((size_t)B * d), *P = gc_zeros((size_t)M * d);
    rt_integer_data(X, P, B, M, d);
    /* query 0: none; 1 (zero): row 0; 2: row 30 (one of its tied best);
     * 3: out of range (none); 4: row 52, the last; 5: row 3 (a zero row) */
    int32_t excl[B] = {-1, 0, 30, M + 3, M - 1, 3};
    int chunks[] = {1, 2, 7, 16, 17, M - 1, M, M + 5};
    int cs[] = {1, 4, M - 1, M, M + 3}; /* M: one slot empty where a row is excluded */
    for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++)
        for (size_t k = 0; k < sizeof cs / sizeof *cs; k++) {
            sbr_nn_retrieve_shape sh = {B, M, d, cs[k], chunks[ci]};
            rt_check_exact(X, P, excl, sh);
            rt_check_exact(X, P, NULL, sh);
            /* limits: none past M, some inside a chunk, none left (0, -2),
             * one at the excluded row */
            static const int32_t lim[B] = {M + 9, 17, 30, 0, 53, -2};
            rt_lim = lim;
            rt_check_exact(X, P, excl, sh);
            rt_check_exact(X, P, NULL, sh);
            rt_lim = NULL;
        }
    /* the ties by hand: query 2 gets rows 9, 30, 31 in row order (30
     * excluded: 9, 31); the zero query every row in order, cosine 0 */
    int32_t idx[B * 4];
    float sim[B * 4];
    rt_run_f32(idx, sim, X, P, NULL, (sbr_nn_retrieve_shape){B, M, d, 4, 7});
    CHECK(idx[8] == 9 && idx[9] == 30 && idx[10] == 31 && sim[8] == sim[10]);
    CHECK(idx[4] == 0 && idx[5] == 1 && idx[6] == 2 && idx[7] == 3 && sim[4] == 0);
    rt_run_f32(idx, sim, X, P, excl, (sbr_nn_retrieve_shape){B, M, d, 4, 7});
    CHECK(idx[8] == 9 && idx[9] == 31 && idx[4] == 1);
    static const int32_t lim2[B] = {M, 2, 31, 0, M, M}; /* query 2: rows 9 and 30 only */
    rt_lim = lim2;
    rt_run_f32(idx, sim, X, P, NULL, (sbr_nn_retrieve_shape){B, M, d, 4, 7});
    rt_lim = NULL;
    CHECK(idx[8] == 9 && idx[9] == 30 && idx[4] == 0 && idx[5] == 1 && idx[6] == -1);
    CHECK(idx[12] == -1 && sim[12] == -INFINITY); /* query 3: nothing below 0 */
    free(X), free(P);
}

/* Random vectors at NP-MiSR's width: the float op against the double plain
 * loop (cosines within float rounding, the same rows but for near ties),
 * the double op against it exactly, and every chunk size the same rows. */
TEST(nn_retrieve_float_vs_double)
{
    enum { B = 20, M = 3000, d = 100, C = 10 };
    double *X = gc_zeros((size_t)B * d), *P = gc_zeros((size_t)M * d);
    float *xf = gc_zeros_f((size_t)B * d), *pf = gc_zeros_f((size_t)M * d);
    gc_fill_f(xf, (size_t)B * d, -1, 1, 41), gc_fill_f(pf, (size_t)M * d, -1, 1, 42);
    for (size_t i = 0; i < (size_t)B * d; i++)
        X[i] = xf[i];
    for (size_t i = 0; i < (size_t)M * d; i++)
        P[i] = pf[i];
    int32_t excl[B], ri[B * C], di[B * C], fi[B * C], f0[B * C];
    for (int b = 0; b < B; b++)
        excl[b] = b % 3 ? (b * 149) % M : -1;
    double rs[B * C], ds[B * C];
    float fs[B * C];
    sbr_nn_retrieve_shape sh = {B, M, d, C, 256};
    rt_reference(ri, rs, X, P, excl, sh, 0);
    rt_run_f64(di, ds, X, P, excl, sh);
    CHECK(memcmp(di, ri, sizeof ri) == 0);
    for (int i = 0; i < B * C; i++)
        CHECK_NEAR(ds[i], rs[i], 1e-13);
    int chunks[] = {1, 100, 256, 2048, M + 1};
    for (int ci = 0; ci < 5; ci++) {
        sh.chunk = chunks[ci];
        rt_run_f32(fi, fs, X, P, excl, sh);
        for (int i = 0; i < B * C; i++) {
            CHECK_NEAR(fs[i], rs[i], 1e-6);
            /* a different row only where the double cosines nearly tie */
            CHECK(fi[i] == ri[i] || (i % C && fabs(rs[i] - rs[i - 1]) < 1e-6) ||
                  (i % C < C - 1 && fabs(rs[i] - rs[i + 1]) < 1e-6));
        }
        if (ci == 0)
            memcpy(f0, fi, sizeof f0);
        CHECK(memcmp(fi, f0, sizeof f0) == 0);
    }
    free(X), free(P), free(xf), free(pf);
}

/* The same bits with 1 and 2 threads: whole chunks per thread, exact heaps. */
TEST(nn_retrieve_thread_independent)
{
    enum { B = 30, M = 20000, d = 32, C = 50 };
    float *X = gc_zeros_f((size_t)B * d), *P = gc_zeros_f((size_t)M * d);
    gc_fill_f(X, (size_t)B * d, -1, 1, 43), gc_fill_f(P, (size_t)M * d, -1, 1, 44);
    int32_t excl[B], *idx[2];
    float *sim[2];
    for (int b = 0; b < B; b++)
        excl[b] = b * 613;
    sbr_nn_retrieve_shape sh = {B, M, d, C, 512};
    sbr_set_threads(2);
    size_t need = sbr_nn_retrieve_scratch_f32(sh); /* enough for both runs */
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(2 - t);
        idx[t] = malloc(sizeof(int32_t) * B * C), sim[t] = gc_zeros_f((size_t)B * C);
        sbr_nn_retrieve_f32(&ctx, idx[t], sim[t], X, P, excl, NULL, sh);
    }
    sbr_set_threads(0);
    CHECK(memcmp(idx[0], idx[1], sizeof(int32_t) * B * C) == 0);
    CHECK(memcmp(sim[0], sim[1], sizeof(float) * B * C) == 0);
    for (int b = 0; b < B; b++) /* and the exclusion held */
        for (int j = 0; j < C; j++)
            CHECK(idx[0][b * C + j] != excl[b]);
    free(X), free(P), free(scr), free(idx[0]), free(idx[1]), free(sim[0]), free(sim[1]);
}

/* NaN rows are never ranked; a NaN query gets no row; slots past the
 * eligible rows hold -1 and -inf. */
TEST(nn_retrieve_nan_and_short_lists)
{
    enum { B = 3, M = 4, d = 2, C = 6 };
    double X[B * d] = {1, 0, NAN, 1, 0, 1};
    double P[M * d] = {1, 1, NAN, 0, 1, 0, -1, 0};
    int32_t excl[B] = {2, -1, 3}, idx[B * C];
    double sim[B * C];
    rt_run_f64(idx, sim, X, P, excl, (sbr_nn_retrieve_shape){B, M, d, C, 3});
    /* query 0 = (1, 0): row 2 (cosine 1) excluded, rows 0 (0.707), 3 (-1) */
    CHECK(idx[0] == 0 && idx[1] == 3 && idx[2] == -1 && isinf(sim[2]) && sim[2] < 0);
    CHECK_NEAR(sim[0], sqrt(0.5), 1e-15);
    CHECK(sim[1] == -1);
    for (int j = 0; j < C; j++) /* query 1 is NaN */
        CHECK(idx[C + j] == -1 && isinf(sim[C + j]));
    /* query 2 = (0, 1): rows 0 (0.707), 2 (0) */
    CHECK(idx[2 * C] == 0 && idx[2 * C + 1] == 2 && sim[2 * C + 1] == 0 && idx[2 * C + 2] == -1);
}

static void rt_too_little_scratch(void *arg)
{
    (void)arg;
    float X[4] = {1, 0, 0, 1}, P[6] = {1, 0, 0, 1, 1, 1}, sim[2];
    int32_t idx[2];
    char scr[64];
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sizeof scr};
    sbr_nn_retrieve_f32(&ctx, idx, sim, X, P, NULL, NULL, (sbr_nn_retrieve_shape){2, 3, 2, 1, 3});
}

static void rt_no_rows_kept(void *arg)
{
    (void)arg;
    float X[2] = {1, 0}, P[2] = {1, 0}, sim[1];
    int32_t idx[1];
    sbr_nn_retrieve_f32(NULL, idx, sim, X, P, NULL, NULL, (sbr_nn_retrieve_shape){1, 1, 2, 0, 1});
}

TEST(nn_retrieve_contract)
{
    CHECK(harness_aborts(rt_too_little_scratch, NULL));
    CHECK(harness_aborts(rt_no_rows_kept, NULL));
}
