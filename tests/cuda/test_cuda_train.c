/* GPU vs CPU: fused score + cross-entropy, top-K, Adam/AdamW, sum of
 * squares and clipping. */
#include <math.h>
#include <string.h>

#include "cuda_test.h"

#define RED_RTOL 1e-4
#define RED_ATOL 1e-5

/* limit > 0: the GPU context's scratch is cut to that many bytes, so the
 * op takes a smaller chunk than it prefers. */
static void score_ce_case_lim(int B, int N, int d, int chunk, size_t limit);
static void score_ce_case(int B, int N, int d, int chunk)
{
    score_ce_case_lim(B, N, d, chunk, 0);
}

static void score_ce_case_lim(int B, int N, int d, int chunk, size_t limit)
{
    sbr_nn_ctx gpu = *ct_ctx();
    if (limit)
        gpu.scratch_bytes = limit;
    ct_buf S = ct_in((size_t)B * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    ct_ibuf target = ct_ints(B, 1, N);
    target.h[0] = N; /* the last item, in the last (partial) chunk */
    sbr_cuda_h2d(target.d, target.h, sizeof(int32_t));
    ct_buf loss = ct_out(B), lse = ct_out(B);
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_score_ce_scratch_f32(sc));
    sbr_nn_score_ce_forward_f32(cpu, loss.h, lse.h, S.h, E.h, target.h, sc);
    sbr_nn_score_ce_forward_cuda(&gpu, loss.d, lse.d, S.d, E.d, target.d, sc);
    ct_check("score_ce loss", loss, RED_RTOL, RED_ATOL);
    ct_check("score_ce lse", lse, RED_RTOL, RED_ATOL);
    /* both backwards read the CPU's lse */
    sbr_cuda_h2d(lse.d, lse.h, (size_t)B * sizeof(float));
    ct_buf dloss = ct_in(B, 0.5f / B, 1.5f / B), dS = ct_acc((size_t)B * d);
    ct_buf dE = ct_acc((size_t)(N + 1) * d);
    sbr_nn_score_ce_backward_f32(cpu, dS.h, dE.h, dloss.h, S.h, E.h, target.h, lse.h, sc);
    sbr_nn_score_ce_backward_cuda(&gpu, dS.d, dE.d, dloss.d, S.d, E.d, target.d, lse.d, sc);
    ct_check("score_ce dS", dS, RED_RTOL, RED_ATOL);
    ct_check("score_ce dE", dE, RED_RTOL, RED_ATOL); /* row 0 untouched: exact there */
}

TEST(cuda_score_ce)
{
    CT_BEGIN();
    score_ce_case(7, 50, 16, 1000);       /* one chunk */
    score_ce_case(100, 20000, 64, 8192);  /* 3 chunks, the last partial */
    score_ce_case(33, 9001, 100, 100);    /* a small CPU chunk: the GPU uses 8192 */
    /* scratch for about 3000 items only: chunks of that size (at least 1000) */
    score_ce_case_lim(40, 20000, 32, 1000, 40 * 8 + 512 + (size_t)40 * 4 * 3000);
    /* exactly the scratch the op asks its callers for, at sizes where every
     * piece is a multiple of 256 bytes (it was 512 bytes short: NARM and STAMP
     * aborted on the GPU) */
    score_ce_case_lim(64, 16384, 32, 16384,
                      sbr_nn_score_ce_scratch_cuda((sbr_nn_scoring){64, 1, 16384, 32, 16384, 0}));
}

/* score_ce_train gives the bits of forward then backward, whether it reuses
 * the forward's logits (the catalogue in one chunk) or recomputes them. */
static void score_ce_train_case(int B, int N, int d, int chunk)
{
    ct_buf S = ct_in((size_t)B * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    ct_ibuf target = ct_ints(B, 1, N);
    ct_buf dloss = ct_in(B, 0.5f / B, 1.5f / B);
    ct_buf loss[2] = {ct_out(B), ct_out(B)}, lse[2] = {ct_out(B), ct_out(B)};
    ct_buf dS[2] = {ct_in((size_t)B * d, 0, 0), ct_in((size_t)B * d, 0, 0)};
    ct_buf dE[2] = {ct_in((size_t)(N + 1) * d, 0, 0), ct_in((size_t)(N + 1) * d, 0, 0)};
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    sbr_nn_score_ce_forward_cuda(ct_ctx(), loss[0].d, lse[0].d, S.d, E.d, target.d, sc);
    sbr_nn_score_ce_backward_cuda(ct_ctx(), dS[0].d, dE[0].d, dloss.d, S.d, E.d, target.d,
                                  lse[0].d, sc);
    sbr_nn_score_ce_train_cuda(ct_ctx(), loss[1].d, lse[1].d, dS[1].d, dE[1].d, dloss.d, S.d,
                               E.d, target.d, NULL, sc);
    ct_check_bits("score_ce_train loss", loss[1].d, ct_download(loss[0].d, B),
                  B * sizeof(float));
    ct_check_bits("score_ce_train dS", dS[1].d, ct_download(dS[0].d, dS[0].n),
                  dS[0].n * sizeof(float));
    ct_check_bits("score_ce_train dE", dE[1].d, ct_download(dE[0].d, dE[0].n),
                  dE[0].n * sizeof(float));
}

TEST(cuda_score_ce_train_is_forward_then_backward)
{
    CT_BEGIN();
    score_ce_train_case(100, 20000, 64, 20000); /* one chunk: the logits are reused */
    score_ce_train_case(64, 20000, 48, 8192);   /* three chunks: recomputed */
}


static void topk_case_lim(int B, int N, int d, int K, int chunk, int with_excl, size_t limit);
static void topk_case(int B, int N, int d, int K, int chunk, int with_excl)
{
    topk_case_lim(B, N, d, K, chunk, with_excl, 0);
}

static void topk_case_lim(int B, int N, int d, int K, int chunk, int with_excl, size_t limit)
{
    sbr_nn_ctx gpu = *ct_ctx();
    if (limit)
        gpu.scratch_bytes = limit;
    ct_buf S = ct_in((size_t)B * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    ct_ibuf idx = ct_ints((size_t)B * K, 0, 0), off = {0}, ex = {0};
    ct_buf sc = ct_out((size_t)B * K);
    sbr_cuda_memset(idx.d, 0xff, idx.n * sizeof(int32_t)); /* poisoned */
    if (with_excl) {
        int32_t o[257];
        o[0] = 0;
        for (int b = 0; b < B; b++)
            o[b + 1] = o[b] + (b % 3 == 0 ? 0 : 1 + b % 5);
        off = ct_ints_from(o, (size_t)B + 1);
        ex = ct_ints(o[B] ? (size_t)o[B] : 1, -2, N + 3); /* out-of-range ids are ignored */
    }
    sbr_nn_scoring cat = {B, 1, N, d, chunk, 0};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_topk_scratch_f32(cat, K));
    sbr_nn_topk_f32(cpu, idx.h, sc.h, S.h, E.h, K, with_excl ? off.h : NULL,
                    with_excl ? ex.h : NULL, cat);
    sbr_nn_topk_cuda(&gpu, idx.d, sc.d, S.d, E.d, K, with_excl ? off.d : NULL,
                     with_excl ? ex.d : NULL, cat);
    ct_topk_compare(&idx, &sc, B, K);
}

TEST(cuda_topk)
{
    CT_BEGIN();
    topk_case(50, 20000, 64, 20, 4096, 1);
    topk_case(9, 30, 8, 40, 1000, 0); /* K > N: empty slots (id 0, -inf) */
    topk_case(200, 43097, 100, 100, 8192, 1);
    topk_case_lim(30, 20000, 16, 10, 500, 1, 256 + (size_t)30 * 4 * 2500); /* ~2500-item chunks */
    topk_case_lim(64, 16384, 32, 20, 16384, 0,
                  sbr_nn_topk_scratch_cuda((sbr_nn_scoring){64, 1, 16384, 32, 16384, 0}, 20));
}

TEST(cuda_topk_ties_go_to_the_smaller_id)
{
    CT_BEGIN();
    int B = 3, N = 20000, d = 4, K = 10;
    ct_buf S = ct_in((size_t)B * d, 1, 1), E = ct_in((size_t)(N + 1) * d, 0, 0);
    for (int i = 1; i <= N; i++) /* scores: 1 for every 7th item, 0 else: many ties */
        for (int k = 0; k < d; k++)
            E.h[(size_t)i * d + k] = i % 7 == 0 ? 0.25f : 0.0f;
    sbr_cuda_h2d(E.d, E.h, E.n * sizeof(float));
    ct_ibuf idx = ct_ints((size_t)B * K, 0, 0);
    ct_buf sc = ct_out((size_t)B * K);
    sbr_nn_topk_cuda(ct_ctx(), idx.d, sc.d, S.d, E.d, K, NULL, NULL,
                     (sbr_nn_scoring){B, 1, N, d, 8192, 0});
    sbr_nn_cuda_sync(ct_ctx());
    int32_t got[30];
    sbr_cuda_d2h(got, idx.d, sizeof got);
    for (int b = 0; b < B; b++)
        for (int r = 0; r < K; r++)
            CHECK_EQ_I64(got[b * K + r], 7 * (r + 1));
}

TEST(cuda_adam)
{
    CT_BEGIN();
    int64_t n = 100003;
    for (int dec = 0; dec <= 1; dec++) {
        sbr_nn_adam_cfg cfg = {1e-3, 0.9, 0.999, 1e-8, 1e-2, dec, dec};
        ct_buf p = ct_in(n, -1, 1), m = ct_in(n, -0.1f, 0.1f), v = ct_in(n, 0, 0.01f);
        ct_buf g = ct_in(n, -1, 1);
        for (int64_t t = 1; t <= 3; t++) {
            sbr_nn_adam_step_f32(NULL, p.h, g.h, m.h, v.h, n, &cfg, t);
            sbr_nn_adam_step_cuda(ct_ctx(), p.d, g.d, m.d, v.d, n, &cfg, t);
        }
        ct_check("adam p", p, 1e-5, 1e-6);
        ct_check("adam m", m, 1e-5, 1e-7);
        ct_check("adam v", v, 1e-5, 1e-8);
        ct_check("adam g (zeroed when dec, as zero_grad is)", g, 0, 0);
    }
}

TEST(cuda_sumsq_and_clip)
{
    CT_BEGIN();
    int64_t sizes[] = {1, 255, 100003, 3000017};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        ct_buf g = ct_in(n, -1, 1);
        double c = sbr_nn_sumsq_f32(NULL, g.h, n), gp = sbr_nn_sumsq_cuda(ct_ctx(), g.d, n);
        CHECK_NEAR(gp, c, 1e-12 * c + 1e-300);
        double again = sbr_nn_sumsq_cuda(ct_ctx(), g.d, n);
        CHECK(again == gp); /* the same bits every run */
        double nc = sbr_nn_clip_grad_norm_f32(NULL, g.h, n, 1.0);
        double ng = sbr_nn_clip_grad_norm_cuda(ct_ctx(), g.d, n, 1.0);
        CHECK_NEAR(ng, nc, 1e-9 * nc);
        ct_check("clipped g", g, 1e-6, 1e-9);
    }
}

/* Several session vectors per row (DMI-GNN): max and sum pool. */
static void score_multi_case(int B, int U, int N, int d, int chunk, int pool)
{
    ct_buf S = ct_in((size_t)B * U * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    ct_ibuf target = ct_ints(B, 1, N);
    ct_buf loss = ct_out(B), lse = ct_out(B);
    sbr_nn_scoring cat = {B, U, N, d, chunk, pool};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_score_multi_scratch_f32(cat));
    sbr_nn_score_multi_ce_forward_f32(cpu, loss.h, lse.h, S.h, E.h, target.h, cat);
    sbr_nn_score_multi_ce_forward_cuda(ct_ctx(), loss.d, lse.d, S.d, E.d, target.d, cat);
    ct_check(pool ? "score_multi (sum) loss" : "score_multi (max) loss", loss, RED_RTOL,
             RED_ATOL);
    ct_check("score_multi lse", lse, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(lse.d, lse.h, (size_t)B * sizeof(float));
    ct_buf dloss = ct_in(B, 0.5f / B, 1.5f / B), dS = ct_acc((size_t)B * U * d);
    ct_buf dE = ct_acc((size_t)(N + 1) * d);
    sbr_nn_score_multi_ce_backward_f32(cpu, dS.h, dE.h, dloss.h, S.h, E.h, target.h, lse.h, cat);
    sbr_nn_score_multi_ce_backward_cuda(ct_ctx(), dS.d, dE.d, dloss.d, S.d, E.d, target.d, lse.d,
                                        cat);
    ct_check("score_multi dS", dS, RED_RTOL, RED_ATOL);
    ct_check("score_multi dE", dE, RED_RTOL, RED_ATOL);

    int K = 20;
    ct_ibuf idx = ct_ints((size_t)B * K, 0, 0);
    ct_buf sc = ct_out((size_t)B * K);
    sbr_cuda_memset(idx.d, 0xff, idx.n * sizeof(int32_t));
    sbr_nn_ctx *cpu2 = ct_cpu_ctx(sbr_nn_topk_multi_scratch_f32(cat, K));
    sbr_nn_topk_multi_f32(cpu2, idx.h, sc.h, S.h, E.h, K, NULL, NULL, cat);
    sbr_nn_topk_multi_cuda(ct_ctx(), idx.d, sc.d, S.d, E.d, K, NULL, NULL, cat);
    ct_topk_compare(&idx, &sc, B, K);
}

TEST(cuda_score_multi_and_topk_multi)
{
    CT_BEGIN();
    for (int pool = 0; pool <= 1; pool++) {
        score_multi_case(9, 1, 300, 16, 64, pool); /* U = 1: score_ce */
        score_multi_case(50, 4, 20000, 32, 8192, pool);
    }
}
