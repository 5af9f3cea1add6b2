/* CPU speed of the sequence and graph ops (float path) at the shapes of the
 * SR-GNN lineage (batch 100, sessions of length 20, d = 100): time per call
 * (median of repeats) and GFLOP/s (counting the multiply-adds of the GEMMs and
 * the attention products; element-wise work is not counted) or GB/s, as
 * Markdown table rows.
 *
 *   build/bench-seqops [--repeats N] [--smoke]
 *
 * --smoke: tiny shapes and one repeat, the same calls: make test runs it
 * (tests/suites/bench_smoke.sh) so that a benchmark that no longer builds or
 * crashes is noticed; its figures mean nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "device.h"
#include "err.h"
#include "nn/nn.h"
#include "progress.h"
#include "rng.h"

static int repeats = 7;

static float *randf(size_t n, uint64_t seed, float a)
{
    float *p = sbr_xmalloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2 * sbr_rng_u01(sbr_rng_hash(seed, i)) - 1) * a);
    return p;
}

static float *zerosf(size_t n) { return sbr_xcalloc(n ? n : 1, sizeof(float)); }

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median wall seconds of `repeats` timed calls after one warm-up; the median
 * process CPU seconds go to cpu_last (the machine may be shared: CPU time
 * says what the op costs, wall time what it took). */
static double cpu_last;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define TIME_MEDIAN(out, body)                                                     \
    do {                                                                           \
        double ts_[64], cs_[64];                                                   \
        body;                                                                      \
        for (int r_ = 0; r_ < repeats; r_++) {                                     \
            double t0_ = sbr_now(), c0_ = cpu_now();                               \
            body;                                                                  \
            ts_[r_] = sbr_now() - t0_;                                             \
            cs_[r_] = cpu_now() - c0_;                                             \
        }                                                                          \
        qsort(ts_, repeats, sizeof(double), cmp_d);                                \
        qsort(cs_, repeats, sizeof(double), cmp_d);                                \
        (out) = ts_[repeats / 2];                                                  \
        cpu_last = cs_[repeats / 2];                                               \
    } while (0)

static void row(const char *op, const char *shape, double sec, double flops, double bytes)
{
    char rate[64];
    if (flops > 0)
        snprintf(rate, sizeof rate, "%.1f GFLOP/s", flops / sec * 1e-9);
    else
        snprintf(rate, sizeof rate, "%.2f GB/s", bytes / sec * 1e-9);
    printf("| %s | %s | %.3f | %.3f | %s |\n", op, shape, sec * 1e3, cpu_last * 1e3, rate);
}

/* batch B, sessions of length <= L, width D, a catalogue of N_ITEMS
 * (diginetica's) for the hinge; tiny with --smoke */
static int B = 100, L = 20, D = 100, N_ITEMS = 43097;
/* [B] lengths 1..L, a typical spread of session prefixes */
static int32_t *lens;

static void *scratch_for(sbr_nn_ctx *ctx, size_t bytes)
{
    ctx->scratch = sbr_xmalloc(bytes ? bytes : 1);
    ctx->scratch_bytes = bytes;
    return ctx->scratch;
}

static void bench_gru(void)
{
    sbr_nn_ctx ctx = {0};
    int H = D, In = D;
    size_t BL = (size_t)B * L;
    float *x = randf(BL * In, 1, 1), *wih = randf(3 * H * In, 2, 0.1f),
          *bih = randf(3 * H, 3, 0.1f), *whh = randf(3 * H * H, 4, 0.1f),
          *bhh = randf(3 * H, 5, 0.1f);
    float *hs = zerosf(BL * H), *hl = zerosf((size_t)B * H), *g = zerosf(BL * 3 * H),
          *gn = zerosf(BL * H), *dhs = randf(BL * H, 6, 1), *dx = zerosf(BL * In),
          *dwih = zerosf(3 * H * In), *dbih = zerosf(3 * H), *dwhh = zerosf(3 * H * H),
          *dbhh = zerosf(3 * H);
    scratch_for(&ctx, sbr_nn_gru_scratch_f32(B, L, H));
    double t, fl = 2.0 * BL * In * 3 * H + 2.0 * BL * H * 3 * H;
    char shape[96];
    snprintf(shape, sizeof shape, "B=%d L=%d I=H=%d, len 1..%d", B, L, H, L);
    sbr_nn_gru_out_f32 y = {hs, hl, g, gn};
    sbr_nn_gru_w_f32 w = {wih, bih, whh, bhh}, dw = {dwih, dbih, dwhh, dbhh};
    sbr_nn_seq_shape sh = {B, L, In, H};
    TIME_MEDIAN(t, sbr_nn_gru_forward_f32(&ctx, &y, x, lens, NULL, &w, sh));
    row("gru forward", shape, t, fl, 0);
    TIME_MEDIAN(t, sbr_nn_gru_backward_f32(&ctx, dx, NULL, &dw, dhs, NULL, &y, x, lens, NULL, &w,
                                           sh));
    row("gru backward", shape, t, 2 * fl, 0);
    free(ctx.scratch);
    free(x), free(wih), free(bih), free(whh), free(bhh), free(hs), free(hl), free(g), free(gn);
    free(dhs), free(dx), free(dwih), free(dbih), free(dwhh), free(dbhh);
}

/* Session graphs of a batch: node count = the prefix's unique items (here
 * ~ 0.7 len), a chain of edges plus a few repeats; in/out CSR. */
typedef struct {
    int T, nnz;
    int32_t *ptr, *col, *typ;
    float *val;
} sgraph;

static void make_graph(sgraph *g, int with_self)
{
    int cap = B * L * 4 + B * L;
    g->ptr = sbr_xmalloc(((size_t)B * L + 1) * sizeof(int32_t));
    g->col = sbr_xmalloc((size_t)cap * sizeof(int32_t));
    g->typ = sbr_xmalloc((size_t)cap * sizeof(int32_t));
    g->val = sbr_xmalloc((size_t)cap * sizeof(float));
    int T = 0, nz = 0;
    for (int b = 0; b < B; b++) {
        int n = lens[b] * 7 / 10 + 1, base = T;
        for (int i = 0; i < n; i++) {
            g->ptr[T++] = nz;
            int nb[4], m = 0;
            if (with_self)
                nb[m++] = i;
            if (i > 0)
                nb[m++] = i - 1;
            if (i + 1 < n)
                nb[m++] = i + 1;
            if (n > 3 && i == n - 1)
                nb[m++] = 0;
            for (int q = 0; q < m; q++) {
                g->col[nz] = base + nb[q];
                g->typ[nz] = q % 4;
                g->val[nz] = 1.0f / m;
                nz++;
            }
        }
    }
    g->ptr[T] = nz;
    g->T = T, g->nnz = nz;
}

static void free_graph(sgraph *g) { free(g->ptr), free(g->col), free(g->typ), free(g->val); }

static void bench_ggnn(void)
{
    sgraph g;
    make_graph(&g, 0);
    int T = g.T, d = D;
    size_t Td = (size_t)T * d;
    sbr_nn_ctx ctx = {0};
    scratch_for(&ctx, sbr_nn_ggnn_scratch_f32(T, d));
    float *h0 = randf(Td, 1, 1), *hout = zerosf(Td), *hst = zerosf(Td), *a = zerosf(2 * Td),
          *gates = zerosf(3 * Td), *ghn = zerosf(Td), *dh = randf(Td, 2, 1), *dh0 = zerosf(Td);
    float *win = randf((size_t)d * d, 3, 0.1f), *wout = randf((size_t)d * d, 4, 0.1f),
          *bvec = randf(d, 5, 0.1f), *wih = randf((size_t)6 * d * d, 6, 0.1f),
          *whh = randf((size_t)3 * d * d, 7, 0.1f), *b3 = randf(3 * d, 8, 0.1f);
    float *dwin = zerosf((size_t)d * d), *dwout = zerosf((size_t)d * d), *dwih = zerosf((size_t)6 * d * d),
          *dwhh = zerosf((size_t)3 * d * d), *db = zerosf(3 * d), *db2 = zerosf(3 * d);
    double t, fl = 2.0 * T * d * d * 2 + 2.0 * g.nnz * d * 2 + 2.0 * T * 2 * d * 3 * d +
                   2.0 * T * d * 3 * d;
    char shape[96];
    snprintf(shape, sizeof shape, "T=%d nodes, nnz=%d x2, d=%d, 1 step", T, g.nnz, d);
    /* A_in = A_out, so no transposes' values: the backward groups by column */
    sbr_nn_ggnn_graph_f32 gr = {g.ptr, g.col, g.val, g.ptr, g.col, g.val, NULL, NULL, T};
    sbr_nn_ggnn_saved_f32 sv = {hst, a, gates, ghn};
    sbr_nn_ggnn_w_f32 w = {win, bvec, wout, bvec, bvec, bvec, wih, b3, whh, b3};
    sbr_nn_ggnn_w_f32 dw = {dwin, db, dwout, db, db, db, dwih, db2, dwhh, db2};
    TIME_MEDIAN(t, sbr_nn_ggnn_forward_f32(&ctx, hout, &sv, h0, &gr, &w, d, 1));
    row("ggnn forward", shape, t, fl, 0);
    TIME_MEDIAN(t, sbr_nn_ggnn_backward_f32(&ctx, dh0, &dw, dh, &sv, &gr, &w, d, 1));
    row("ggnn backward", shape, t, 2 * fl, 0);
    free(ctx.scratch);
    free(h0), free(hout), free(hst), free(a), free(gates), free(ghn), free(dh), free(dh0);
    free(win), free(wout), free(bvec), free(wih), free(whh), free(b3);
    free(dwin), free(dwout), free(dwih), free(dwhh), free(db), free(db2);
    free_graph(&g);
}

static void bench_edge_attn(void)
{
    sgraph g;
    make_graph(&g, 1);
    int T = g.T, d = D;
    size_t Td = (size_t)T * d;
    sbr_nn_ctx ctx = {0};
    float *h = randf(Td, 1, 1), *y = zerosf(Td), *al = zerosf(g.nnz), *av = randf(4 * d, 2, 0.3f),
          *dy = randf(Td, 3, 1), *dh = zerosf(Td), *da = zerosf(4 * d);
    scratch_for(&ctx, sbr_nn_edge_attn_local_scratch_f32(g.nnz));
    double t;
    char shape[96];
    snprintf(shape, sizeof shape, "T=%d nodes, nnz=%d, d=%d", T, g.nnz, d);
    sbr_nn_typed_csr lg = {g.ptr, g.col, g.typ, T};
    TIME_MEDIAN(t, sbr_nn_edge_attn_local_forward_f32(&ctx, y, al, h, &lg, av, d, 0.2f));
    row("edge_attn_local forward", shape, t, 4.0 * g.nnz * d, 0);
    TIME_MEDIAN(t, sbr_nn_edge_attn_local_backward_f32(&ctx, dh, da, dy, al, h, &lg, av, d, 0.2f));
    row("edge_attn_local backward", shape, t, 10.0 * g.nnz * d, 0);
    free(ctx.scratch);
    free(h), free(y), free(al), free(av), free(dy), free(dh), free(da);

    /* global: every node of the batch, 12 neighbours */
    int M = T, K = 12;
    size_t MK = (size_t)M * K;
    float *hv = randf((size_t)M * d, 4, 1), *hn = randf(MK * d, 5, 1), *wn = randf(MK, 6, 1),
          *s = randf((size_t)M * d, 7, 1), *w1 = randf((size_t)d * (d + 1), 8, 0.1f),
          *q1 = randf(d, 9, 0.1f), *w2 = randf((size_t)2 * d * d, 10, 0.1f);
    float *yg = zerosf((size_t)M * d), *u = zerosf(MK * d), *alg = zerosf(MK),
          *cat = zerosf((size_t)M * 2 * d), *dyg = randf((size_t)M * d, 11, 1);
    float *dhv = zerosf((size_t)M * d), *dhn = zerosf(MK * d), *dwn = zerosf(MK),
          *ds = zerosf((size_t)M * d), *dw1 = zerosf((size_t)d * (d + 1)), *dq1 = zerosf(d),
          *dw2 = zerosf((size_t)2 * d * d);
    int32_t *nk = sbr_xmalloc((size_t)M * sizeof(int32_t));
    for (int m = 0; m < M; m++)
        nk[m] = K;
    scratch_for(&ctx, sbr_nn_edge_attn_global_scratch_f32(M, K, d));
    double fl = 2.0 * MK * (d + 1) * d + 2.0 * M * 2 * d * d + 4.0 * MK * d;
    snprintf(shape, sizeof shape, "M=%d nodes, K=%d, d=%d", M, K, d);
    sbr_nn_edge_attn_global_out_f32 o = {yg, u, alg, cat};
    sbr_nn_edge_attn_global_in_f32 x = {hn, wn, s}, dx = {dhn, dwn, ds};
    sbr_nn_edge_attn_global_w_f32 w = {w1, q1, w2}, dw = {dw1, dq1, dw2};
    sbr_nn_nbr_table nb = {nk, M, K};
    TIME_MEDIAN(t, sbr_nn_edge_attn_global_forward_f32(&ctx, &o, hv, &x, &nb, &w, NULL, d, 0.2f));
    row("edge_attn_global forward", shape, t, fl, 0);
    TIME_MEDIAN(t, sbr_nn_edge_attn_global_backward_f32(&ctx, dhv, &dx, &dw, dyg, &o, &x, &nb, &w,
                                                        NULL, d, 0.2f));
    row("edge_attn_global backward", shape, t, 2 * fl, 0);
    free(ctx.scratch);
    free(hv), free(hn), free(wn), free(s), free(w1), free(q1), free(w2), free(yg), free(u);
    free(alg), free(cat), free(dyg), free(dhv), free(dhn), free(dwn), free(ds), free(dw1);
    free(dq1), free(dw2), free(nk);
    free_graph(&g);
}

static void bench_mhsa(void)
{
    int d = D, nh = 2, dff = D;
    sbr_nn_mhsa_w_f32 w, dw;
    size_t BLd = (size_t)B * L * d, np = sbr_nn_mhsa_w_flat_f32(&w, NULL, d, dff),
           na = sbr_nn_mhsa_act_count_f32(B, L, d, nh, dff);
    sbr_nn_ctx ctx = {0};
    scratch_for(&ctx, sbr_nn_mhsa_scratch_f32(B, L, d, dff));
    float *x = randf(BLd, 1, 1), *y = zerosf(BLd), *act = zerosf(na), *prm = randf(np, 2, 0.1f),
          *dy = randf(BLd, 3, 1), *dx = zerosf(BLd), *dprm = zerosf(np);
    sbr_nn_mhsa_w_flat_f32(&w, prm, d, dff), sbr_nn_mhsa_w_flat_f32(&dw, dprm, d, dff);
    double t, fl = 2.0 * B * L * d * d * 4 + 2.0 * B * L * L * d * 2 + 2.0 * B * L * d * dff * 2;
    char shape[96];
    const int fl_modes[3] = {0, SBR_NN_MHSA_PRENORM | SBR_NN_MHSA_CAUSAL, SBR_NN_MHSA_PROXYSR};
    const char *names[3] = {"post-norm", "SASRec pre-norm, causal", "ProxySR"};
    for (int m = 0; m < 3; m++) {
        snprintf(shape, sizeof shape, "B=%d L=%d d=%d heads=%d dff=%d, %s", B, L, d, nh, dff,
                 names[m]);
        double f = m == 2 ? 2.0 * B * L * d * d * 2 + 2.0 * B * L * L * d * 2 : fl;
        sbr_nn_mhsa_cfg cfg = {d, nh, dff, fl_modes[m], 1e-5f, 0.1f, 0.1f, 1, 0};
        TIME_MEDIAN(t, sbr_nn_mhsa_forward_f32(&ctx, y, act, x, lens, &w, B, L, &cfg));
        row("mhsa forward", shape, t, f, 0);
        TIME_MEDIAN(t, sbr_nn_mhsa_backward_f32(&ctx, dx, &dw, dy, act, x, lens, &w, B, L, &cfg));
        row("mhsa backward", shape, t, 2 * f, 0);
    }
    free(ctx.scratch);
    free(x), free(y), free(act), free(prm), free(dy), free(dx), free(dprm);
}

static void bench_losses(void)
{
    sbr_nn_ctx ctx = {0};
    /* ProxySR: batch 64 against the whole catalogue, keep the 100 largest. */
    int Bh = B < 64 ? B : 64, M = N_ITEMS, k = M > 1000 ? 100 : 10;
    size_t n = (size_t)Bh * M;
    float *dpos = randf(Bh, 1, 1), *dneg = randf(n, 2, 1), *loss = zerosf(Bh), *dl = randf(Bh, 3, 1);
    float *ddp = zerosf(Bh), *ddn = zerosf(n);
    for (int b = 0; b < Bh; b++)
        dpos[b] = dpos[b] * 0.5f + 0.5f;
    uint8_t *keep = sbr_xmalloc(n);
    scratch_for(&ctx, sbr_nn_hinge_scratch_f32(Bh, M, k));
    double t;
    char shape[96];
    snprintf(shape, sizeof shape, "B=%d M=%d, k=%d", Bh, M, k);
    TIME_MEDIAN(t, sbr_nn_hinge_forward_f32(&ctx, loss, keep, dpos, dneg, Bh, M, 0.1f, k));
    row("hinge forward", shape, t, 0, (double)n * (sizeof(float) + 1));
    TIME_MEDIAN(t, sbr_nn_hinge_backward_f32(&ctx, ddp, ddn, dl, keep, Bh, M));
    row("hinge backward", shape, t, 0, (double)n * (2 * sizeof(float) + 1));
    free(ctx.scratch);
    free(dpos), free(dneg), free(loss), free(dl), free(ddp), free(ddn), free(keep);

    /* NP-MiSR: K = 10 samples of a [100, 100] latent; KL over [100, 100]. */
    int ns = 10 * B * D;
    float *mu = randf(ns, 4, 1), *sg = randf(ns, 5, 1), *z = zerosf(ns), *eps = zerosf(ns),
          *kl = zerosf(B);
    for (int i = 0; i < ns; i++)
        sg[i] = sg[i] * 0.4f + 0.6f;
    snprintf(shape, sizeof shape, "n=%d", ns);
    TIME_MEDIAN(t, sbr_nn_gauss_sample_forward_f32(&ctx, z, eps, mu, sg, ns, 1, 0));
    row("gauss_sample forward", shape, t, 0, (double)ns * 4 * sizeof(float));
    /* the same draws as K samples of each row's [d], mu and sigma broadcast */
    snprintf(shape, sizeof shape, "B=%d K=10 d=%d", B, D);
    TIME_MEDIAN(t, sbr_nn_gauss_sample_k_forward_f32(&ctx, z, eps, mu, sg, B, 10, D, 1, 0, 0));
    row("gauss_sample_k forward", shape, t, 0, ((double)ns * 2 + 2.0 * B * D) * sizeof(float));
    snprintf(shape, sizeof shape, "B=%d d=%d", B, D);
    TIME_MEDIAN(t, sbr_nn_gauss_kl_forward_f32(&ctx, kl, mu, sg, mu + B * D, sg + B * D, B, D));
    row("gauss_kl forward", shape, t, 0, (double)B * D * 4 * sizeof(float));
    free(mu), free(sg), free(z), free(eps), free(kl);
}

int main(int argc, char **argv)
{
    /* The ops as the tools run them: their OpenMP wait policy (common/cli.c)
     * and threads, OpenBLAS single-threaded (sbr_set_threads). */
    sbr_cli_begin("bench-seqops", argc, argv);
    sbr_set_threads(0);
    int smoke = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--smoke"))
            smoke = 1;
        else {
            fprintf(stderr, "usage: bench-seqops [--repeats N] [--smoke]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > 64)
        repeats = 7;
    if (smoke) /* d a multiple of the 2 heads; every length 1..L */
        repeats = 1, B = 6, L = 5, D = 8, N_ITEMS = 300;
    lens = sbr_xmalloc((size_t)B * sizeof(int32_t));
    for (int b = 0; b < B; b++)
        lens[b] = 1 + b % L;
    printf("| op | shape | ms | CPU ms | rate |\n|---|---|---|---|---|\n");
    bench_gru();
    bench_ggnn();
    bench_edge_attn();
    bench_mhsa();
    bench_losses();
    free(lens);
    return 0;
}
