/* GPU vs CPU: TAGNN's target-aware scoring over packed clicks (target_score
 * forward, backward, top-K with exclusions), one chunk and several, rows of
 * 0..L clicks; pack_rows, bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_test.h"

#define RED_RTOL 1e-4
#define RED_ATOL 1e-5

typedef struct {
    ct_buf S, V, Q, E;
    ct_ibuf off, target;
    int n; /* packed clicks */
} ts_inputs;

static ts_inputs ts_make(int B, int L, int N, int d)
{
    ts_inputs t;
    ct_ibuf len = ct_ints(B, 0, L);
    len.h[0] = L, len.h[1 % B] = 1; /* full, one click */
    int32_t *o = malloc(((size_t)B + 1) * sizeof(int32_t));
    o[0] = 0;
    for (int b = 0; b < B; b++)
        o[b + 1] = o[b] + len.h[b];
    t.n = o[B], t.off = ct_ints_from(o, (size_t)B + 1);
    free(o);
    t.S = ct_in((size_t)B * d, -1, 1), t.V = ct_in((size_t)t.n * d, -1, 1);
    t.Q = ct_in((size_t)t.n * d, -1, 1), t.E = ct_in((size_t)(N + 1) * d, -1, 1);
    t.target = ct_ints(B, 1, N);
    t.target.h[0] = N; /* the last item */
    sbr_cuda_h2d(t.target.d, t.target.h, (size_t)B * sizeof(int32_t));
    return t;
}

static void target_case(int B, int L, int N, int d, int chunk)
{
    ts_inputs t = ts_make(B, L, N, d);
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    sbr_nn_target_in_f32 hin = {t.S.h, t.V.h, t.Q.h, t.E.h, t.off.h, t.n};
    sbr_nn_target_in_cuda din = {t.S.d, t.V.d, t.Q.d, t.E.d, t.off.d, t.n};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_target_score_scratch_f32(sc, t.n, 0));
    ct_buf loss = ct_out(B), lse = ct_out(B);
    sbr_nn_target_score_forward_f32(cpu, loss.h, lse.h, &hin, t.target.h, sc);
    sbr_nn_target_score_forward_cuda(ct_ctx(), loss.d, lse.d, &din, t.target.d, sc);
    ct_check("target_score loss", loss, RED_RTOL, RED_ATOL);
    ct_check("target_score lse", lse, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(lse.d, lse.h, (size_t)B * sizeof(float)); /* both backwards read the CPU's */
    ct_buf dloss = ct_in(B, 0.5f / B, 1.5f / B), dS = ct_acc((size_t)B * d);
    ct_buf dV = ct_acc((size_t)t.n * d), dQ = ct_acc((size_t)t.n * d);
    ct_buf dE = ct_acc((size_t)(N + 1) * d);
    sbr_nn_target_grad_f32 hg = {dS.h, dV.h, dQ.h, dE.h};
    sbr_nn_target_grad_cuda dg = {dS.d, dV.d, dQ.d, dE.d};
    sbr_nn_target_score_backward_f32(cpu, &hg, dloss.h, &hin, t.target.h, lse.h, sc);
    sbr_nn_target_score_backward_cuda(ct_ctx(), &dg, dloss.d, &din, t.target.d, lse.d, sc);
    ct_check("target_score dS", dS, RED_RTOL, RED_ATOL);
    ct_check("target_score dV", dV, RED_RTOL, RED_ATOL);
    ct_check("target_score dQ", dQ, RED_RTOL, RED_ATOL);
    ct_check("target_score dE", dE, RED_RTOL, RED_ATOL);
}

TEST(cuda_target_score)
{
    CT_BEGIN();
    target_case(5, 3, 40, 8, 1000);     /* one chunk */
    target_case(64, 12, 9000, 32, 512); /* several chunks, the last partial */
}

static void target_topk_case(int B, int L, int N, int d, int K, int chunk)
{
    ts_inputs t = ts_make(B, L, N, d);
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    int32_t o[257];
    o[0] = 0;
    for (int b = 0; b < B; b++)
        o[b + 1] = o[b] + (b % 3 == 0 ? 0 : 1 + b % 5);
    ct_ibuf off = ct_ints_from(o, (size_t)B + 1);
    ct_ibuf ex = ct_ints(o[B] ? (size_t)o[B] : 1, -2, N + 3); /* out-of-range ids are ignored */
    ct_ibuf idx = ct_ints((size_t)B * K, 0, 0);
    ct_buf top = ct_out((size_t)B * K);
    sbr_cuda_memset(idx.d, 0xff, idx.n * sizeof(int32_t)); /* poisoned */
    sbr_nn_target_in_f32 hin = {t.S.h, t.V.h, t.Q.h, t.E.h, t.off.h, t.n};
    sbr_nn_target_in_cuda din = {t.S.d, t.V.d, t.Q.d, t.E.d, t.off.d, t.n};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_target_score_scratch_f32(sc, t.n, K));
    sbr_nn_target_topk_f32(cpu, idx.h, top.h, &hin, K, off.h, ex.h, sc);
    sbr_nn_target_topk_cuda(ct_ctx(), idx.d, top.d, &din, K, off.d, ex.d, sc);
    ct_topk_compare(&idx, &top, B, K);
}

TEST(cuda_target_topk)
{
    CT_BEGIN();
    target_topk_case(7, 4, 50, 8, 5, 1000);
    target_topk_case(100, 10, 12000, 32, 20, 2048);
}

/* pack_rows on the GPU gives the CPU's bits (rows of 0..L positions). */
TEST(cuda_pack_rows)
{
    CT_BEGIN();
    enum { B = 50, L = 13, d = 37 };
    int32_t o[B + 1];
    o[0] = 0;
    for (int b = 0; b < B; b++)
        o[b + 1] = o[b] + (b * 7) % (L + 1);
    size_t n = (size_t)o[B];
    ct_ibuf off = ct_ints_from(o, B + 1);
    ct_buf x = ct_in((size_t)B * L * d, -1, 1), y = ct_out(n * d);
    ct_buf dy = ct_in(n * d, -1, 1), dx = ct_acc((size_t)B * L * d);
    sbr_nn_pack_rows_forward_f32(NULL, y.h, x.h, off.h, B, L, d);
    sbr_nn_pack_rows_forward_cuda(ct_ctx(), y.d, x.d, off.d, B, L, d);
    sbr_nn_pack_rows_backward_f32(NULL, dx.h, dy.h, off.h, B, L, d);
    sbr_nn_pack_rows_backward_cuda(ct_ctx(), dx.d, dy.d, off.d, B, L, d);
    ct_check_bits("pack_rows y", y.d, y.h, y.n * sizeof(float));
    ct_check_bits("pack_rows dx", dx.d, dx.h, dx.n * sizeof(float));
}
