/* CPU speed of the ops (float path): time per call (median of repeats) and
 * GFLOP/s or GB/s, as Markdown table rows; and the fused score + CE at the
 * SR-GNN shape against the plain sgemm calls it contains, in the same run;
 * and NP-MiSR's context retrieval against the one sgemm it chunks.
 *
 *   build/bench-ops [--quick] [--repeats N] [--smoke]
 *
 * --smoke: tiny shapes and one repeat, the same calls: make test runs it
 * (tests/suites/bench_smoke.sh) so that a benchmark that no longer builds or
 * crashes is noticed; its figures mean nothing. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "nn/nn.h"
#include "progress.h"
#include "rng.h"

static int repeats = 7;

/* The shapes: a batch of B sessions of length L (B L rows), width d, a
 * catalogue of n_items (diginetica's), m elements for the element-wise ops;
 * tiny with --smoke. */
static struct {
    int B, L, d, n_items, m, chunk;
} sz = {100, 20, 100, 43097, 1 << 20, 2048};
static int smoke;

static float *randf(size_t n, uint64_t seed, float a)
{
    float *p = sbr_xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2 * sbr_rng_u01(sbr_rng_hash(seed, i)) - 1) * a);
    return p;
}

static float *zerosf(size_t n) { return sbr_xcalloc(n, sizeof(float)); }

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds of `repeats` timed calls after one warm-up. */
#define TIME_MEDIAN(out, body)                                                     \
    do {                                                                           \
        double ts_[64];                                                            \
        body;                                                                      \
        for (int r_ = 0; r_ < repeats; r_++) {                                     \
            double t0_ = sbr_now();                                                \
            body;                                                                  \
            ts_[r_] = sbr_now() - t0_;                                             \
        }                                                                          \
        qsort(ts_, repeats, sizeof(double), cmp_d);                                \
        (out) = ts_[repeats / 2];                                                  \
    } while (0)

static void row(const char *op, const char *shape, double sec, double flops, double bytes)
{
    char rate[64];
    if (flops > 0)
        snprintf(rate, sizeof rate, "%.1f GFLOP/s", flops / sec * 1e-9);
    else
        snprintf(rate, sizeof rate, "%.2f GB/s", bytes / sec * 1e-9);
    printf("| %s | %s | %.3f | %s |\n", op, shape, sec * 1e3, rate);
}

/* The GRU at the GRU4Rec / SR-GNN shape: one cell step over B rows (the
 * recurrent GEMM and the gates) and the whole padded-batch forward and
 * backward (lengths 1..L). Rates count the GEMM flops only. */
static void bench_gru(int B, int L, int H)
{
    double t;
    char shape[96];
    size_t H3 = 3 * (size_t)H, BL = (size_t)B * L;
    size_t need = sbr_nn_gru_scratch_f32(B, L, H);
    void *scr = sbr_xmalloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    float *gi = randf(B * H3, 31, 1), *h = randf((size_t)B * H, 32, 1),
          *w = randf(H3 * H, 33, 0.1f), *bb = randf(H3, 34, 0.1f);
    float *hn = zerosf((size_t)B * H), *ga = zerosf(BL * H3), *gn = zerosf(BL * H);
    snprintf(shape, sizeof shape, "n=%d H=%d", B, H);
    TIME_MEDIAN(t, sbr_nn_gru_cell_forward_f32(&ctx, hn, ga, gn, gi, h, w, bb, B, H));
    row("gru_cell forward", shape, t, 2.0 * B * H3 * H, 0);

    int32_t len[512];
    for (int i = 0; i < B; i++)
        len[i] = 1 + (i * 7) % L;
    float *x = randf(BL * H, 35, 1), *hs = zerosf(BL * H), *dhs = randf(BL * H, 36, 0.1f);
    float *dx = zerosf(BL * H), *dwi = zerosf(H3 * H), *dwh = zerosf(H3 * H);
    float *dbi = zerosf(H3), *dbh = zerosf(H3);
    snprintf(shape, sizeof shape, "B=%d L=%d In=H=%d", B, L, H);
    sbr_nn_gru_out_f32 gy = {hs, NULL, ga, gn};
    sbr_nn_gru_w_f32 gw = {w, bb, w, bb}, gdw = {dwi, dbi, dwh, dbh};
    sbr_nn_seq_shape sh = {B, L, H, H};
    TIME_MEDIAN(t, sbr_nn_gru_forward_f32(&ctx, &gy, x, len, NULL, &gw, sh));
    row("gru forward", shape, t, 4.0 * BL * H3 * H, 0);
    TIME_MEDIAN(t, sbr_nn_gru_backward_f32(&ctx, dx, NULL, &gdw, dhs, NULL, &gy, x, len, NULL,
                                           &gw, sh));
    row("gru backward", shape, t, 8.0 * BL * H3 * H, 0);
    free(scr), free(gi), free(h), free(w), free(bb), free(hn), free(ga), free(gn), free(x);
    free(hs), free(dhs), free(dx), free(dwi), free(dwh), free(dbi), free(dbh);
}

static void bench_small_ops(void)
{
    sbr_nn_ctx ctx = {0};
    double t;
    char shape[96];
    /* A batch of 100 sessions of length 20, d = 100: 2000 rows (tiny with --smoke). */
    int B = sz.B, L = sz.L, n = B * L, d = sz.d;
    size_t nd = (size_t)n * d;
    float *x = randf(nd, 1, 1), *y = zerosf(nd), *dx = zerosf(nd), *dy = randf(nd, 2, 1);
    float *w = randf((size_t)d * d, 3, 0.1f), *b = randf(d, 4, 0.1f), *dw = zerosf((size_t)d * d),
          *db = zerosf(d);
    snprintf(shape, sizeof shape, "n=%d in=out=%d", n, d);
    TIME_MEDIAN(t, sbr_nn_linear_forward_f32(&ctx, y, x, w, b, n, d, d));
    row("linear forward", shape, t, 2.0 * n * d * d, 0);
    TIME_MEDIAN(t, sbr_nn_linear_backward_f32(&ctx, dx, dw, db, dy, x, w, n, d, d));
    row("linear backward", shape, t, 4.0 * n * d * d, 0);

    int N = sz.n_items;
    float *E = randf((size_t)(N + 1) * d, 5, 0.1f), *dE = zerosf((size_t)(N + 1) * d);
    int32_t *idx = sbr_xmalloc(n * sizeof(int32_t));
    for (int i = 0; i < n; i++)
        idx[i] = (int32_t)(1 + sbr_rng_below(&(sbr_rng){9, (uint64_t)i}, N));
    snprintf(shape, sizeof shape, "n=%d d=%d V=%d", n, d, N + 1);
    TIME_MEDIAN(t, sbr_nn_embedding_forward_f32(&ctx, y, E, idx, n, N + 1, d, 0));
    row("embedding forward", shape, t, 0, 2.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_embedding_backward_f32(&ctx, dE, dy, idx, n, N + 1, d, 0));
    row("embedding backward (scatter-add)", shape, t, 0, 3.0 * nd * 4);

    int m = sz.m;
    float *xa = randf(m, 6, 3), *ya = zerosf(m), *dxa = zerosf(m), *dya = randf(m, 7, 1);
    snprintf(shape, sizeof shape, "n=%d", m);
    TIME_MEDIAN(t, sbr_nn_sigmoid_forward_f32(&ctx, ya, xa, m));
    row("sigmoid forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_sigmoid_backward_f32(&ctx, dxa, dya, ya, m));
    row("sigmoid backward", shape, t, 0, 4.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_tanh_forward_f32(&ctx, ya, xa, m));
    row("tanh forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_relu_forward_f32(&ctx, ya, xa, m));
    row("relu forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_leaky_relu_forward_f32(&ctx, ya, xa, m, 0.2f));
    row("leaky_relu forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_softplus_forward_f32(&ctx, ya, xa, m));
    row("softplus forward", shape, t, 0, 2.0 * m * 4);
    bench_gru(B, L, d);

    uint8_t *mask = sbr_xmalloc(m);
    TIME_MEDIAN(t, sbr_nn_dropout_forward_f32(&ctx, ya, mask, xa, m, 0.5f, 1, 0));
    row("dropout forward (p=0.5)", shape, t, 0, 2.0 * m * 4 + m);
    TIME_MEDIAN(t, sbr_nn_dropout_backward_f32(&ctx, dxa, dya, mask, m, 0.5f));
    row("dropout backward", shape, t, 0, 3.0 * m * 4 + m);

    float mean[2000], rstd[2000], norm[2000];
    snprintf(shape, sizeof shape, "n=%d d=%d", n, d);
    TIME_MEDIAN(t, sbr_nn_layernorm_forward_f32(&ctx, y, mean, rstd, x, w, b, n, d, 1e-5f));
    row("layernorm forward", shape, t, 0, 2.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_layernorm_backward_f32(&ctx, dx, dw, db, dy, x, mean, rstd, w, n, d));
    row("layernorm backward", shape, t, 0, 4.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_l2norm_forward_f32(&ctx, y, norm, x, n, d, 1e-12f));
    row("l2norm forward", shape, t, 0, 2.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_l2norm_backward_f32(&ctx, dx, dy, y, norm, n, d, 1e-12f));
    row("l2norm backward", shape, t, 0, 3.0 * nd * 4);

    int32_t len[100];
    for (int i = 0; i < B; i++)
        len[i] = 1 + (i * 7) % L;
    float *a = randf((size_t)B * L, 8, 1), *q = randf((size_t)B * d, 9, 1);
    float *s = zerosf((size_t)B * L), *da = zerosf((size_t)B * L), *dq = zerosf((size_t)B * d);
    snprintf(shape, sizeof shape, "B=%d L=%d d=%d", B, L, d);
    TIME_MEDIAN(t, sbr_nn_masked_softmax_forward_f32(&ctx, s, a, len, B, L));
    row("masked_softmax forward", shape, t, 0, 2.0 * B * L * 4);
    TIME_MEDIAN(t, sbr_nn_seq_weighted_sum_forward_f32(&ctx, q, a, x, len, B, L, d));
    row("seq_weighted_sum forward", shape, t, 2.0 * B * L * d, 0);
    TIME_MEDIAN(t, sbr_nn_seq_weighted_sum_backward_f32(&ctx, da, dx, q, a, x, len, B, L, d));
    row("seq_weighted_sum backward", shape, t, 4.0 * B * L * d, 0);
    TIME_MEDIAN(t, sbr_nn_seq_dot_forward_f32(&ctx, s, x, q, len, B, L, d));
    row("seq_dot forward", shape, t, 2.0 * B * L * d, 0);
    TIME_MEDIAN(t, sbr_nn_seq_mean_forward_f32(&ctx, q, x, len, B, L, d));
    row("seq_mean forward", shape, t, 0, (double)nd * 4);

    /* Adam over a SR-GNN-sized parameter arena: E plus a few d x d. */
    int64_t np = (int64_t)(N + 1) * d + 10 * d * d;
    float *p = randf(np, 10, 0.1f), *g = randf(np, 11, 0.01f), *mm = zerosf(np),
          *vv = zerosf(np);
    sbr_nn_adam_cfg cfg = {1e-3, 0.9, 0.999, 1e-8, 1e-5, 0, 0};
    int64_t step = 1;
    snprintf(shape, sizeof shape, "n=%lld", (long long)np);
    TIME_MEDIAN(t, sbr_nn_adam_step_f32(&ctx, p, g, mm, vv, np, &cfg, step++));
    row("adam step", shape, t, 0, 7.0 * np * 4);
    TIME_MEDIAN(t, sbr_nn_clip_grad_norm_f32(&ctx, g, np, 1e9));
    row("grad norm", shape, t, 0, 1.0 * np * 4);

    free(x), free(y), free(dx), free(dy), free(w), free(b), free(dw), free(db), free(E);
    free(dE), free(idx), free(xa), free(ya), free(dxa), free(dya), free(mask), free(a), free(q);
    free(s), free(da), free(dq), free(p), free(g), free(mm), free(vv);
}

/* The fused score + CE at B = 100, N = 43,097, d = 100 against the three
 * plain sgemm calls of an unfused implementation: logits = S E^T,
 * dS = G E, dE = G^T S over the full [B, N] matrices. */
static void bench_score_ce(int quick)
{
    int B = sz.B, N = sz.n_items, d = sz.d, K = 20, tk_chunk = sz.chunk;
    float *S = randf((size_t)B * d, 21, 1), *E = randf((size_t)(N + 1) * d, 22, 0.3f);
    float *dS = zerosf((size_t)B * d), *dE = zerosf((size_t)(N + 1) * d);
    float *G = randf((size_t)B * N, 23, 1e-3f), *logits = zerosf((size_t)B * N);
    float loss[100], lse[100], dl[100];
    int32_t target[100];
    for (int b = 0; b < B; b++)
        target[b] = 1 + (b * 431) % N, dl[b] = 1.0f / B;
    double t_mm1, t_mm2, t_mm3;
    const float *E1 = E + d; /* items 1..N */
    /* The plain calls as an unfused implementation makes them: OpenBLAS on
     * every core (the fused op switches it to one thread inside itself). */
    openblas_set_num_threads(omp_get_num_procs());
    TIME_MEDIAN(t_mm1, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N, d, 1, S, d, E1,
                                   d, 0, logits, N));
    TIME_MEDIAN(t_mm2, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, N, 1, G, N, E1,
                                   d, 0, dS, d));
    TIME_MEDIAN(t_mm3, cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, d, B, 1, G, N, S, d,
                                   0, dE + d, d));
    double fl = 2.0 * B * N * d;
    char shape[96];
    snprintf(shape, sizeof shape, "B=%d N=%d d=%d", B, N, d);
    row("sgemm logits = S E^T", shape, t_mm1, fl, 0);
    row("sgemm dS = G E", shape, t_mm2, fl, 0);
    row("sgemm dE = G^T S", shape, t_mm3, fl, 0);
    double t_plain = t_mm1 + t_mm2 + t_mm3;
    row("three plain sgemm (sum)", shape, t_plain, 3 * fl, 0);

    int chunks_full[] = {256, 512, 1024, 2048, 4096};
    int chunks_quick[] = {512}, chunks_smoke[] = {64};
    int *chunks = smoke ? chunks_smoke : quick ? chunks_quick : chunks_full;
    int nc = smoke || quick ? 1 : 5;
    size_t need = sbr_nn_score_ce_scratch_f32((sbr_nn_scoring){B, 1, N, d, 256, 0});
    for (int c = 0; c < nc; c++) {
        size_t nd = sbr_nn_score_ce_scratch_f32((sbr_nn_scoring){B, 1, N, d, chunks[c], 0});
        need = nd > need ? nd : need;
    }
    size_t need_k = sbr_nn_topk_scratch_f32((sbr_nn_scoring){B, 1, N, d, tk_chunk, 0}, K);
    if (need_k > need)
        need = need_k;
    void *scr = sbr_xmalloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    for (int c = 0; c < nc; c++) {
        int ch = chunks[c];
        sbr_nn_scoring cat = {B, 1, N, d, ch, 0};
        double tf, tb;
        TIME_MEDIAN(tf, sbr_nn_score_ce_forward_f32(&ctx, loss, lse, S, E, target, cat));
        TIME_MEDIAN(tb, sbr_nn_score_ce_backward_f32(&ctx, dS, dE, dl, S, E, target, lse, cat));
        /* The ratio: fused and plain timed back to back in each repeat, so a
         * busy machine slows both alike; the median of the ratios. */
        double ratio[64], tfb_all[64], tpl_all[64];
        for (int r = 0; r <= repeats; r++) {
            /* Alternate which goes first: each also pays for the other's
             * threads still spinning when it starts. */
            double tf_r = 0, tp_r = 0;
            for (int k = 0; k < 2; k++) {
                double t0 = sbr_now();
                if ((k + r) % 2 == 0) {
                    sbr_nn_score_ce_forward_f32(&ctx, loss, lse, S, E, target, cat);
                    sbr_nn_score_ce_backward_f32(&ctx, dS, dE, dl, S, E, target, lse, cat);
                    tf_r = sbr_now() - t0;
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N, d, 1, S, d, E1, d,
                                0, logits, N);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, N, 1, G, N, E1, d,
                                0, dS, d);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, d, B, 1, G, N, S, d, 0,
                                dE + d, d);
                    tp_r = sbr_now() - t0;
                }
            }
            if (r > 0) /* the first round warms up */
                ratio[r - 1] = tf_r / tp_r, tfb_all[r - 1] = tf_r, tpl_all[r - 1] = tp_r;
        }
        qsort(ratio, repeats, sizeof(double), cmp_d);
        qsort(tfb_all, repeats, sizeof(double), cmp_d);
        qsort(tpl_all, repeats, sizeof(double), cmp_d);
        snprintf(shape, sizeof shape, "B=%d N=%d d=%d chunk=%d", B, N, d, ch);
        row("score_ce forward", shape, tf, fl, 0);
        row("score_ce backward", shape, tb, 3 * fl, 0);
        printf("| score_ce forward+backward | %s | %.3f | %.1f GFLOP/s; **%.2fx** the three sgemm "
               "(%.3f ms, same rounds) |\n",
               shape, tfb_all[repeats / 2] * 1e3, 4 * fl / tfb_all[repeats / 2] * 1e-9,
               ratio[repeats / 2], tpl_all[repeats / 2] * 1e3);
    }
    int32_t idx[100 * 20];
    float sc[100 * 20];
    double tk;
    TIME_MEDIAN(tk, sbr_nn_topk_f32(&ctx, idx, sc, S, E, K, NULL, NULL,
                                    (sbr_nn_scoring){B, 1, N, d, tk_chunk, 0}));
    snprintf(shape, sizeof shape, "B=%d N=%d d=%d K=%d chunk=%d", B, N, d, K, tk_chunk);
    row("top-K (scores + heap)", shape, tk, fl, 0);
    openblas_set_num_threads(1);
    free(S), free(E), free(dS), free(dE), free(G), free(logits), free(scr);
}

/* NP-MiSR's context retrieval (retrieve) at B = 100 queries, d = 100, C =
 * 10 over pools of 50,000 and 200,000 rows, against its floor: one sgemm X
 * P^T of the same shape into a whole [B, M] matrix, OpenBLAS on every core
 * (what the op's chunks avoid holding). The two run back to back in each
 * round, alternating which goes first, as score_ce's ratio; medians. */
typedef struct {
    sbr_nn_ctx *ctx;
    const float *X, *P;
    float *full, *sim;
    int32_t *idx;
    sbr_nn_retrieve_shape sh;
} retr_bench;

static double retr_time(const retr_bench *u, int op)
{
    double t0 = sbr_now();
    if (op)
        sbr_nn_retrieve_f32(u->ctx, u->idx, u->sim, u->X, u->P, NULL, NULL, u->sh);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, u->sh.B, u->sh.M, u->sh.d, 1, u->X,
                    u->sh.d, u->P, u->sh.d, 0, u->full, u->sh.M);
    return sbr_now() - t0;
}

static void retr_rows(const retr_bench *u)
{
    double ratio[64], t_op[64], t_mm[64];
    for (int r = 0; r <= repeats; r++) {
        double a = 0, b = 0;
        for (int k = 0; k < 2; k++) {
            if ((k + r) % 2 == 0)
                a = retr_time(u, 1);
            else
                b = retr_time(u, 0);
        }
        if (r > 0) /* the first round warms up */
            ratio[r - 1] = a / b, t_op[r - 1] = a, t_mm[r - 1] = b;
    }
    qsort(ratio, repeats, sizeof(double), cmp_d);
    qsort(t_op, repeats, sizeof(double), cmp_d);
    qsort(t_mm, repeats, sizeof(double), cmp_d);
    sbr_nn_retrieve_shape sh = u->sh;
    double fl = 2.0 * sh.B * sh.M * sh.d;
    char shape[96];
    snprintf(shape, sizeof shape, "B=%d M=%d d=%d", sh.B, sh.M, sh.d);
    row("sgemm floor X P^T (whole [B, M])", shape, t_mm[repeats / 2], fl, 0);
    snprintf(shape, sizeof shape, "B=%d M=%d d=%d C=%d chunk=%d", sh.B, sh.M, sh.d, sh.C,
             sh.chunk);
    printf("| retrieve (cosine top-C) | %s | %.3f | %.1f GFLOP/s; **%.2fx** the sgemm floor "
           "(same rounds) |\n",
           shape, t_op[repeats / 2] * 1e3, fl / t_op[repeats / 2] * 1e-9, ratio[repeats / 2]);
}

static void bench_retrieve(void)
{
    int B = sz.B, d = sz.d, C = 10;
    int pools[2] = {smoke ? 300 : 50000, smoke ? 1000 : 200000};
    openblas_set_num_threads(omp_get_num_procs()); /* the floor as a plain call runs */
    for (int k = 0; k < 2; k++) {
        int M = pools[k];
        sbr_nn_retrieve_shape sh = {B, M, d, C, sz.chunk};
        size_t need = sbr_nn_retrieve_scratch_f32(sh);
        void *scr = sbr_xmalloc(need);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
        float *X = randf((size_t)B * d, 51, 1), *P = randf((size_t)M * d, 52, 1);
        float *full = zerosf((size_t)B * M), *sim = zerosf((size_t)B * C);
        int32_t *idx = sbr_xmalloc(sizeof(int32_t) * B * C);
        retr_bench u = {&ctx, X, P, full, sim, idx, sh};
        retr_rows(&u);
        free(scr), free(X), free(P), free(full), free(sim), free(idx);
    }
    openblas_set_num_threads(1);
}

int main(int argc, char **argv)
{
    /* The ops as the tools run them: their OpenMP wait policy (common/cli.c)
     * and threads, OpenBLAS single-threaded (sbr_set_threads). */
    sbr_cli_begin("bench-ops", argc, argv);
    sbr_set_threads(0);
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1, repeats = 3;
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--smoke"))
            smoke = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: bench-ops [--quick] [--repeats N] [--smoke]\n"
                   "Prints Markdown rows: op, shape, median ms, rate (CPU, float).\n"
                   "--smoke: tiny shapes, one repeat (a check that it runs, for make test).\n");
            return 0;
        } else {
            fprintf(stderr, "bench-ops: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 63) {
        fprintf(stderr, "bench-ops: --repeats must be 1..63\n");
        return 2;
    }
    if (smoke) { /* B L rows of width d; N > K, several chunks of 64 items */
        repeats = 1;
        sz.B = 4, sz.L = 5, sz.d = 8, sz.n_items = 300, sz.m = 4096, sz.chunk = 64;
    }
    printf("| op | shape | median ms | rate |\n|---|---|---|---|\n");
    bench_small_ops();
    bench_score_ce(quick);
    bench_retrieve();
    return 0;
}
