/* GPU speed of the CUDA ops (float): time per call (median of repeats, CUDA
 * events) and GFLOP/s or GB/s, as Markdown table rows in the layout of
 * tests/bench/bench_ops.c (same shapes), and the fused score + CE at the
 * SR-GNN shape against the three plain cuBLAS sgemm calls it contains,
 * measured in the same run. Prints a skip line and exits 0 without a GPU.
 *
 *   build/bench-cuda [--repeats N]     (build/gpu/bench-cuda in the bundle) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/nn_cuda.h"
#include "device.h"
#include "rng.h"

static int repeats = 7;
static sbr_nn_ctx ctx;

static void *dalloc(size_t bytes)
{
    sbr_err e;
    void *p = sbr_cuda_malloc(bytes, &e);
    if (!p) {
        fprintf(stderr, "bench-cuda: %s\n", e.msg);
        exit(1);
    }
    return p;
}

static float *drand(size_t n, uint64_t seed, float a)
{
    float *h = sbr_xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((2 * sbr_rng_u01(sbr_rng_hash(seed, i)) - 1) * a);
    float *d = dalloc(n * sizeof(float));
    sbr_cuda_h2d(d, h, n * sizeof(float));
    free(h);
    return d;
}

static float *dzeros(size_t n)
{
    float *d = dalloc(n * sizeof(float));
    sbr_cuda_memset(d, 0, n * sizeof(float));
    return d;
}

static int32_t *dints(const int32_t *h, size_t n)
{
    int32_t *d = dalloc(n * sizeof(int32_t));
    sbr_cuda_h2d(d, h, n * sizeof(int32_t));
    return d;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median milliseconds of `repeats` event-timed calls after one warm-up. */
#define TIME_MEDIAN(out, body)                                                     \
    do {                                                                           \
        double ts_[64];                                                            \
        body;                                                                      \
        sbr_nn_cuda_sync(&ctx);                                                    \
        for (int r_ = 0; r_ < repeats; r_++) {                                     \
            sbr_cuda_timer tm_;                                                    \
            sbr_cuda_timer_start(&tm_, &ctx);                                      \
            body;                                                                  \
            ts_[r_] = sbr_cuda_timer_stop_ms(&tm_, &ctx);                          \
        }                                                                          \
        qsort(ts_, repeats, sizeof(double), cmp_d);                                \
        (out) = ts_[repeats / 2];                                                  \
    } while (0)

static void row(const char *op, const char *shape, double ms, double flops, double bytes)
{
    char rate[64];
    if (flops > 0)
        snprintf(rate, sizeof rate, "%.1f GFLOP/s", flops / ms * 1e-6);
    else
        snprintf(rate, sizeof rate, "%.1f GB/s", bytes / ms * 1e-6);
    printf("| %s | %s | %.4f | %s |\n", op, shape, ms, rate);
}

static void bench_small_ops(void)
{
    double t;
    char shape[96];
    int n = 2000, d = 100, B = 100, L = 20, N = 43097;
    size_t nd = (size_t)n * d;
    float *x = drand(nd, 1, 1), *y = dzeros(nd), *dx = dzeros(nd), *dy = drand(nd, 2, 1);
    float *w = drand((size_t)d * d, 3, 0.1f), *b = drand(d, 4, 0.1f);
    float *dw = dzeros((size_t)d * d), *db = dzeros(d);
    snprintf(shape, sizeof shape, "n=%d in=out=%d", n, d);
    TIME_MEDIAN(t, sbr_nn_linear_forward_cuda(&ctx, y, x, w, b, n, d, d));
    row("linear forward", shape, t, 2.0 * n * d * d, 0);
    TIME_MEDIAN(t, sbr_nn_linear_backward_cuda(&ctx, dx, dw, db, dy, x, w, n, d, d));
    row("linear backward", shape, t, 4.0 * n * d * d, 0);

    float *E = drand((size_t)(N + 1) * d, 5, 0.1f), *dE = dzeros((size_t)(N + 1) * d);
    int32_t *idx_h = sbr_xmalloc(n * sizeof(int32_t));
    for (int i = 0; i < n; i++)
        idx_h[i] = (int32_t)(1 + sbr_rng_below(&(sbr_rng){9, (uint64_t)i}, N));
    int32_t *idx = dints(idx_h, n);
    snprintf(shape, sizeof shape, "n=%d d=%d V=%d", n, d, N + 1);
    TIME_MEDIAN(t, sbr_nn_embedding_forward_cuda(&ctx, y, E, idx, n, N + 1, d, 0));
    row("embedding forward", shape, t, 0, 2.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_embedding_backward_cuda(&ctx, dE, dy, idx, n, N + 1, d, 0));
    row("embedding backward (sorted scatter-add)", shape, t, 0, 3.0 * nd * 4);

    int m = 1 << 20;
    float *xa = drand(m, 6, 3), *ya = dzeros(m), *dxa = dzeros(m), *dya = drand(m, 7, 1);
    uint8_t *mask = dalloc(m);
    snprintf(shape, sizeof shape, "n=%d", m);
    TIME_MEDIAN(t, sbr_nn_sigmoid_forward_cuda(&ctx, ya, xa, m));
    row("sigmoid forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_sigmoid_backward_cuda(&ctx, dxa, dya, ya, m));
    row("sigmoid backward", shape, t, 0, 4.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_tanh_forward_cuda(&ctx, ya, xa, m));
    row("tanh forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_relu_forward_cuda(&ctx, ya, xa, m));
    row("relu forward", shape, t, 0, 2.0 * m * 4);
    TIME_MEDIAN(t, sbr_nn_dropout_forward_cuda(&ctx, ya, mask, xa, m, 0.5f, 1, 0));
    row("dropout forward (p=0.5)", shape, t, 0, 2.0 * m * 4 + m);

    float *mean = dzeros(n), *rstd = dzeros(n), *norm = dzeros(n);
    snprintf(shape, sizeof shape, "n=%d d=%d", n, d);
    TIME_MEDIAN(t, sbr_nn_layernorm_forward_cuda(&ctx, y, mean, rstd, x, w, b, n, d, 1e-5f));
    row("layernorm forward", shape, t, 0, 2.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_layernorm_backward_cuda(&ctx, dx, dw, db, dy, x, mean, rstd, w, n, d));
    row("layernorm backward", shape, t, 0, 4.0 * nd * 4);
    TIME_MEDIAN(t, sbr_nn_l2norm_forward_cuda(&ctx, y, norm, x, n, d, 1e-12f));
    row("l2norm forward", shape, t, 0, 2.0 * nd * 4);

    int32_t len_h[100];
    for (int i = 0; i < B; i++)
        len_h[i] = 1 + (i * 7) % L;
    int32_t *len = dints(len_h, B);
    float *a = drand((size_t)B * L, 8, 1), *q = drand((size_t)B * d, 9, 1);
    float *s = dzeros((size_t)B * L), *da = dzeros((size_t)B * L);
    snprintf(shape, sizeof shape, "B=%d L=%d d=%d", B, L, d);
    TIME_MEDIAN(t, sbr_nn_masked_softmax_forward_cuda(&ctx, s, a, len, B, L));
    row("masked_softmax forward", shape, t, 0, 2.0 * B * L * 4);
    TIME_MEDIAN(t, sbr_nn_seq_weighted_sum_forward_cuda(&ctx, q, a, x, len, B, L, d));
    row("seq_weighted_sum forward", shape, t, 2.0 * B * L * d, 0);
    TIME_MEDIAN(t, sbr_nn_seq_weighted_sum_backward_cuda(&ctx, da, dx, q, a, x, len, B, L, d));
    row("seq_weighted_sum backward", shape, t, 4.0 * B * L * d, 0);
    TIME_MEDIAN(t, sbr_nn_seq_dot_forward_cuda(&ctx, s, x, q, len, B, L, d));
    row("seq_dot forward", shape, t, 2.0 * B * L * d, 0);

    int H = 100;
    size_t BL = (size_t)B * L;
    float *hs = dzeros(BL * H), *hl = dzeros((size_t)B * H), *gates = dzeros(BL * 3 * H);
    float *ghn = dzeros(BL * H), *wih = drand((size_t)3 * H * d, 12, 0.1f);
    float *whh = drand((size_t)3 * H * H, 13, 0.1f), *bih = drand(3 * H, 14, 0.1f);
    float *dwih = dzeros((size_t)3 * H * d), *dwhh = dzeros((size_t)3 * H * H);
    float *dhs = drand(BL * H, 15, 1);
    snprintf(shape, sizeof shape, "B=%d L=%d In=H=%d", B, L, H);
    double gflop = 2.0 * BL * 3 * H * (d + H);
    sbr_nn_gru_out_cuda gy = {hs, hl, gates, ghn};
    sbr_nn_gru_w_cuda gw = {wih, bih, whh, bih}, gdw = {dwih, NULL, dwhh, NULL};
    sbr_nn_seq_shape gsh = {B, L, d, H};
    TIME_MEDIAN(t, sbr_nn_gru_forward_cuda(&ctx, &gy, x, len, NULL, &gw, gsh));
    row("gru forward", shape, t, gflop, 0);
    TIME_MEDIAN(t, sbr_nn_gru_backward_cuda(&ctx, dx, NULL, &gdw, dhs, NULL, &gy, x, len, NULL,
                                            &gw, gsh));
    row("gru backward", shape, t, 2 * gflop, 0);

    int64_t np = (int64_t)(N + 1) * d + 10 * d * d;
    float *p = drand(np, 10, 0.1f), *g = drand(np, 11, 0.01f), *mm = dzeros(np), *vv = dzeros(np);
    sbr_nn_adam_cfg cfg = {1e-3, 0.9, 0.999, 1e-8, 1e-5, 0, 0};
    int64_t step = 1;
    snprintf(shape, sizeof shape, "n=%lld", (long long)np);
    TIME_MEDIAN(t, sbr_nn_adam_step_cuda(&ctx, p, g, mm, vv, np, &cfg, step++));
    row("adam step", shape, t, 0, 7.0 * np * 4);
    sbr_nn_adam_cfg cz = cfg;
    cz.zero_grad = 1; /* as training runs it: the gradient zeroed for the next step */
    TIME_MEDIAN(t, sbr_nn_adam_step_cuda(&ctx, p, g, mm, vv, np, &cz, step++));
    row("adam step, zeroing the gradient", shape, t, 0, 8.0 * np * 4);
    TIME_MEDIAN(t, sbr_nn_clip_grad_norm_cuda(&ctx, g, np, 1e9));
    row("grad norm (includes the sync)", shape, t, 0, 1.0 * np * 4);
}

/* The fused score + CE at B = 100, N = 43,097, d = 100 against the three
 * plain cuBLAS sgemm calls of an unfused implementation (logits = S E^T,
 * dS = G E, dE = G^T S over the full [B, N] matrices), through the linear
 * op, which is one sgemm for each. */
static void bench_score_ce(void)
{
    int B = 100, N = 43097, d = 100, K = 20;
    float *S = drand((size_t)B * d, 21, 1), *E = drand((size_t)(N + 1) * d, 22, 0.3f);
    float *dS = dzeros((size_t)B * d), *dE = dzeros((size_t)(N + 1) * d);
    float *G = drand((size_t)B * N, 23, 1e-3f), *logits = dzeros((size_t)B * N);
    float *loss = dzeros(B), *lse = dzeros(B), *dl;
    int32_t target_h[100];
    float dl_h[100];
    for (int b = 0; b < B; b++)
        target_h[b] = 1 + (b * 431) % N, dl_h[b] = 1.0f / B;
    int32_t *target = dints(target_h, B);
    dl = dalloc(sizeof dl_h);
    sbr_cuda_h2d(dl, dl_h, sizeof dl_h);
    const float *E1 = E + d;
    double t1, t2, t3;
    TIME_MEDIAN(t1, sbr_nn_linear_forward_cuda(&ctx, logits, S, E1, NULL, B, d, N));
    TIME_MEDIAN(t2, sbr_nn_linear_backward_cuda(&ctx, dS, NULL, NULL, G, S, E1, B, d, N));
    TIME_MEDIAN(t3, sbr_nn_linear_backward_cuda(&ctx, NULL, dE + d, NULL, G, S, E1, B, d, N));
    double fl = 2.0 * B * N * d;
    char shape[96];
    snprintf(shape, sizeof shape, "B=%d N=%d d=%d", B, N, d);
    row("cuBLAS sgemm logits = S E^T", shape, t1, fl, 0);
    row("cuBLAS sgemm dS = G E", shape, t2, fl, 0);
    row("cuBLAS sgemm dE = G^T S", shape, t3, fl, 0);
    row("three plain sgemm (sum)", shape, t1 + t2 + t3, 3 * fl, 0);
    int chunks[] = {8192, 16384, 43097};
    for (int c = 0; c < 3; c++) {
        int ch = chunks[c];
        sbr_nn_scoring cat = {B, 1, N, d, ch, 0};
        double tf, tb, tfb;
        TIME_MEDIAN(tf, sbr_nn_score_ce_forward_cuda(&ctx, loss, lse, S, E, target, cat));
        TIME_MEDIAN(tb, sbr_nn_score_ce_backward_cuda(&ctx, dS, dE, dl, S, E, target, lse, cat));
        TIME_MEDIAN(tfb, {
            sbr_nn_score_ce_forward_cuda(&ctx, loss, lse, S, E, target, cat);
            sbr_nn_score_ce_backward_cuda(&ctx, dS, dE, dl, S, E, target, lse, cat);
        });
        snprintf(shape, sizeof shape, "B=%d N=%d d=%d chunk=%d", B, N, d, ch);
        row("score_ce forward", shape, tf, fl, 0);
        row("score_ce backward", shape, tb, 3 * fl, 0);
        printf("| score_ce forward+backward | %s | %.4f | %.1f GFLOP/s; **%.2fx** the three "
               "sgemm (%.4f ms) |\n",
               shape, tfb, 4 * fl / tfb * 1e-6, tfb / (t1 + t2 + t3), t1 + t2 + t3);
    }
    int32_t *idx = dalloc((size_t)B * K * sizeof(int32_t));
    float *sc = dzeros((size_t)B * K);
    double tk;
    TIME_MEDIAN(tk, sbr_nn_topk_cuda(&ctx, idx, sc, S, E, K, NULL, NULL,
                                     (sbr_nn_scoring){B, 1, N, d, 43097, 0}));
    snprintf(shape, sizeof shape, "B=%d N=%d d=%d K=%d", B, N, d, K);
    row("top-K (sgemm + block arg-max merge)", shape, tk, fl, 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-cuda [--repeats N]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > 64)
        repeats = 7;
    printf("### Ops on the GPU (float, CUDA events, median of %d)\n\n", repeats);
    sbr_err e = {{0}};
    char dev[256];
    if (sbr_cuda_device_count() == 0 || sbr_nn_cuda_ctx_init(&ctx, (size_t)256 << 20, &e) < 0) {
        printf("skip: no CUDA GPU is visible%s%s\n", e.msg[0] ? ": " : "", e.msg);
        return 0;
    }
    sbr_cuda_describe(dev, sizeof dev);
    printf("GPU: %s. Fused score+CE: forward+backward against the three plain cuBLAS sgemm.\n\n",
           dev);
    printf("| op | shape | ms | rate |\n|---|---|---|---|\n");
    bench_small_ops();
    bench_score_ce();
    sbr_nn_cuda_ctx_free(&ctx);
    return 0;
}
