/* GPU vs CPU: ProxySR's ops (proxy.inc, cuda/proxy.cu): the distance, the
 * ranking with exclusions, the margin loss and its backward (one chunk and
 * several), the hyperplane projection, row_scale, row_dot, max_norm_rows,
 * matmul. */
#include <math.h>
#include <stdlib.h>

#include "cuda_test.h"

#define RED_RTOL 1e-4
#define RED_ATOL 1e-5

/* Q small (a session vector inside the unit ball), V unit rows, E. */
typedef struct {
    ct_buf Q, V, E;
    ct_ibuf target;
} px_inputs;

static px_inputs px_make(int B, int N, int d)
{
    px_inputs t;
    t.Q = ct_in((size_t)B * d, -0.3f, 0.3f), t.V = ct_in((size_t)B * d, -1, 1);
    t.E = ct_in((size_t)(N + 1) * d, -0.3f, 0.3f);
    for (int b = 0; b < B; b++) {
        float s = 0, *v = t.V.h + (size_t)b * d;
        for (int k = 0; k < d; k++)
            s += v[k] * v[k];
        for (int k = 0; k < d; k++)
            v[k] /= sqrtf(s);
    }
    sbr_cuda_h2d(t.V.d, t.V.h, (size_t)B * d * sizeof(float));
    t.target = ct_ints(B, 1, N);
    return t;
}

static void loss_case(int B, int N, int d, int k, int chunk)
{
    px_inputs t = px_make(B, N, d);
    sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
    sbr_nn_proxy_loss_cfg cf = {0.1, 1.0 / k, 0.2, k};
    sbr_nn_proxy_in_f32 hin = {t.Q.h, t.V.h, t.E.h};
    sbr_nn_proxy_in_cuda din = {t.Q.d, t.V.d, t.E.d};
    ct_buf loss = ct_out(B), score = ct_out((size_t)B * k), dpos = ct_out(B);
    ct_ibuf idx = ct_ints((size_t)B * k, 0, 0);
    sbr_nn_proxy_kept_f32 hk = {idx.h, score.h, dpos.h};
    sbr_nn_proxy_kept_cuda dk = {idx.d, score.d, dpos.d};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_proxy_loss_scratch_f32(sc, k));
    sbr_nn_proxy_loss_forward_f32(cpu, loss.h, &hk, &hin, t.target.h, &cf, sc);
    sbr_nn_proxy_loss_forward_cuda(ct_ctx(), loss.d, &dk, &din, t.target.d, &cf, sc);
    ct_check("proxy_loss dpos", dpos, RED_RTOL, RED_ATOL);
    ct_check("proxy_loss loss", loss, RED_RTOL, RED_ATOL);
    ct_topk_compare(&idx, &score, B, k);
    /* both backwards from the CPU's kept items */
    sbr_cuda_h2d(idx.d, idx.h, idx.n * sizeof(int32_t));
    ct_buf dloss = ct_in(B, 0.5f / B, 1.5f / B), dQ = ct_acc((size_t)B * d);
    ct_buf dV = ct_acc((size_t)B * d), dE = ct_acc((size_t)(N + 1) * d);
    sbr_nn_proxy_grad_f32 hg = {dQ.h, dV.h, dE.h};
    sbr_nn_proxy_grad_cuda dg = {dQ.d, dV.d, dE.d};
    sbr_nn_proxy_loss_backward_f32(cpu, &hg, dloss.h, &hk, &hin, t.target.h, &cf, sc);
    sbr_nn_proxy_loss_backward_cuda(ct_ctx(), &dg, dloss.d, &dk, &din, t.target.d, &cf, sc);
    ct_check("proxy_loss dQ", dQ, RED_RTOL, RED_ATOL);
    ct_check("proxy_loss dV", dV, RED_RTOL, RED_ATOL);
    ct_check("proxy_loss dE", dE, RED_RTOL, RED_ATOL);
}

TEST(cuda_proxy_loss)
{
    CT_BEGIN();
    loss_case(5, 40, 8, 6, 1000);       /* one chunk */
    loss_case(64, 9000, 32, 100, 4096); /* several chunks, the last partial */
}

TEST(cuda_proxy_topk)
{
    CT_BEGIN();
    enum { B = 40, N = 12000, d = 32, K = 20 };
    px_inputs t = px_make(B, N, d);
    sbr_nn_scoring sc = {B, 1, N, d, 2048, 0};
    int32_t o[B + 1];
    o[0] = 0;
    for (int b = 0; b < B; b++)
        o[b + 1] = o[b] + b % 4;
    ct_ibuf off = ct_ints_from(o, B + 1), ex = ct_ints(o[B] ? (size_t)o[B] : 1, -2, N + 3);
    ct_ibuf idx = ct_ints((size_t)B * K, 0, 0);
    ct_buf top = ct_out((size_t)B * K);
    sbr_nn_proxy_in_f32 hin = {t.Q.h, t.V.h, t.E.h};
    sbr_nn_proxy_in_cuda din = {t.Q.d, t.V.d, t.E.d};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_proxy_topk_scratch_f32(sc, K));
    sbr_nn_proxy_topk_f32(cpu, idx.h, top.h, &hin, K, off.h, ex.h, sc);
    sbr_nn_proxy_topk_cuda(ct_ctx(), idx.d, top.d, &din, K, off.d, ex.d, sc);
    ct_topk_compare(&idx, &top, B, K);
}

TEST(cuda_proxy_row_ops)
{
    CT_BEGIN();
    enum { n = 70, d = 45, in = 13 };
    ct_buf x = ct_in((size_t)n * d, -1, 1), v = ct_in((size_t)n * d, -1, 1), s = ct_in(n, -2, 2);
    ct_buf y = ct_out((size_t)n * d), yd = ct_out(n), dy = ct_in((size_t)n * d, -1, 1);
    ct_buf dyr = ct_in(n, -1, 1), dx = ct_acc((size_t)n * d), dv = ct_acc((size_t)n * d);
    ct_buf ds = ct_acc(n);
    sbr_nn_hyperplane_forward_f32(NULL, y.h, x.h, v.h, n, d);
    sbr_nn_hyperplane_forward_cuda(ct_ctx(), y.d, x.d, v.d, n, d);
    ct_check("hyperplane y", y, RED_RTOL, RED_ATOL);
    sbr_nn_hyperplane_backward_f32(NULL, dx.h, dv.h, dy.h, x.h, v.h, n, d);
    sbr_nn_hyperplane_backward_cuda(ct_ctx(), dx.d, dv.d, dy.d, x.d, v.d, n, d);
    ct_check("hyperplane dx", dx, RED_RTOL, RED_ATOL);
    ct_check("hyperplane dv", dv, RED_RTOL, RED_ATOL);
    sbr_nn_row_scale_forward_f32(NULL, y.h, x.h, s.h, n, d);
    sbr_nn_row_scale_forward_cuda(ct_ctx(), y.d, x.d, s.d, n, d);
    ct_check("row_scale y", y, 1e-6, 1e-7);
    sbr_nn_row_scale_backward_f32(NULL, dx.h, ds.h, dy.h, x.h, s.h, n, d);
    sbr_nn_row_scale_backward_cuda(ct_ctx(), dx.d, ds.d, dy.d, x.d, s.d, n, d);
    ct_check("row_scale dx", dx, RED_RTOL, RED_ATOL);
    ct_check("row_scale ds", ds, RED_RTOL, RED_ATOL);
    for (int a = 0; a < 2; a++) {
        sbr_nn_row_dot_forward_f32(NULL, yd.h, x.h, v.h, n, d, a);
        sbr_nn_row_dot_forward_cuda(ct_ctx(), yd.d, x.d, v.d, n, d, a);
        ct_check("row_dot y", yd, RED_RTOL, RED_ATOL);
        sbr_nn_row_dot_backward_f32(NULL, dx.h, dv.h, dyr.h, x.h, v.h, n, d, a);
        sbr_nn_row_dot_backward_cuda(ct_ctx(), dx.d, dv.d, dyr.d, x.d, v.d, n, d, a);
        ct_check("row_dot dx", dx, RED_RTOL, RED_ATOL);
        ct_check("row_dot dv", dv, RED_RTOL, RED_ATOL);
    }
    for (int e = 0; e < 2; e++) {
        sbr_nn_max_norm_rows_f32(NULL, x.h, n, d, 1.0, e);
        sbr_nn_max_norm_rows_cuda(ct_ctx(), x.d, n, d, 1.0, e);
        ct_check("max_norm_rows", x, 1e-6, 1e-7);
    }
    ct_buf w = ct_in((size_t)in * d, -1, 1), a = ct_in((size_t)n * in, -1, 1);
    ct_buf da = ct_acc((size_t)n * in), dw = ct_acc((size_t)in * d);
    sbr_nn_matmul_forward_f32(NULL, y.h, a.h, w.h, n, in, d);
    sbr_nn_matmul_forward_cuda(ct_ctx(), y.d, a.d, w.d, n, in, d);
    ct_check("matmul y", y, RED_RTOL, RED_ATOL);
    sbr_nn_matmul_backward_f32(NULL, da.h, dw.h, dy.h, a.h, w.h, n, in, d);
    sbr_nn_matmul_backward_cuda(ct_ctx(), da.d, dw.d, dy.d, a.d, w.d, n, in, d);
    ct_check("matmul da", da, RED_RTOL, RED_ATOL);
    ct_check("matmul dw", dw, RED_RTOL, RED_ATOL);
}
