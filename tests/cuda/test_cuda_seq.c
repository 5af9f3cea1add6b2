/* GPU vs CPU: embedding, layer norm, dropout, L2 norm, pooling, attention
 * pieces, with padding, repeated indices and lengths 0..L. */
#include <string.h>

#include "cuda_test.h"

#define EW_RTOL 2e-6
#define EW_ATOL 1e-7
#define RED_RTOL 1e-4
#define RED_ATOL 1e-5

TEST(cuda_embedding)
{
    CT_BEGIN();
    int V = 1000, n = 3000, d = 37, pad = 0;
    ct_buf table = ct_in((size_t)V * d, -1, 1), y = ct_out((size_t)n * d);
    ct_ibuf idx = ct_ints(n, 0, 40); /* many repeats, pad among them */
    idx.h[n - 1] = V - 1;
    sbr_cuda_h2d(idx.d, idx.h, (size_t)n * sizeof(int32_t));
    sbr_nn_embedding_forward_f32(NULL, y.h, table.h, idx.h, n, V, d, pad);
    sbr_nn_embedding_forward_cuda(ct_ctx(), y.d, table.d, idx.d, n, V, d, pad);
    ct_check("embedding y", y, 0, 0);
    ct_buf dy = ct_in((size_t)n * d, -1, 1), dt = ct_acc((size_t)V * d);
    sbr_nn_embedding_backward_f32(NULL, dt.h, dy.h, idx.h, n, V, d, pad);
    sbr_nn_embedding_backward_cuda(ct_ctx(), dt.d, dy.d, idx.d, n, V, d, pad);
    /* Same additions in the same order: the same bits. */
    ct_check_bits("embedding dtable", dt.d, dt.h, dt.n * sizeof(float));
    /* without scratch: the slow kernel, the same bits */
    sbr_nn_ctx bare = *ct_ctx();
    bare.scratch = NULL, bare.scratch_bytes = 0;
    ct_buf dt3 = ct_acc((size_t)V * d);
    sbr_nn_embedding_backward_f32(NULL, dt3.h, dy.h, idx.h, n, V, d, pad);
    sbr_nn_embedding_backward_cuda(&bare, dt3.d, dy.d, idx.d, n, V, d, pad);
    ct_check_bits("embedding dtable (no scratch)", dt3.d, dt3.h, dt3.n * sizeof(float));
    /* no padding row */
    ct_buf dt2 = ct_acc((size_t)V * d);
    sbr_nn_embedding_backward_f32(NULL, dt2.h, dy.h, idx.h, n, V, d, -1);
    sbr_nn_embedding_backward_cuda(ct_ctx(), dt2.d, dy.d, idx.d, n, V, d, -1);
    ct_check_bits("embedding dtable (no pad)", dt2.d, dt2.h, dt2.n * sizeof(float));
    /* grouped by a host order (the positions not pad by (id, position)):
     * the same bits again */
    static int32_t ord[3000];
    int m = 0, pads = 0;
    for (int v = 1; v < V; v++) /* id 0 is the pad */
        for (int i = 0; i < n; i++)
            if (idx.h[i] == v)
                ord[m++] = i;
    for (int i = 0; i < n; i++)
        pads += idx.h[i] == pad;
    REQUIRE(m == n - pads && pads > 0);
    ct_ibuf ordb = ct_ints_from(ord, (size_t)m);
    ct_buf dt4 = ct_acc((size_t)V * d);
    sbr_nn_embedding_backward_grouped_f32(NULL, dt4.h, dy.h, idx.h, ordb.h, m, n, V, d, pad);
    sbr_nn_embedding_backward_grouped_cuda(ct_ctx(), dt4.d, dy.d, idx.d, ordb.d, m, n, V, d, pad);
    ct_check_bits("embedding dtable (grouped)", dt4.d, dt4.h, dt4.n * sizeof(float));
}

/* the int gather: in-range indices, -1 and others outside 0..V-1 (0) */
TEST(cuda_take_i32)
{
    CT_BEGIN();
    int V = 1000, n = 5003;
    ct_ibuf table = ct_ints(V, 1, 1 << 30), idx = ct_ints(n, -3, V + 2);
    ct_ibuf y = ct_ints(n, -5, -5); /* never a result: an element not written shows */
    sbr_nn_take_i32_f32(NULL, y.h, table.h, idx.h, n, V);
    sbr_nn_take_i32_cuda(ct_ctx(), y.d, table.d, idx.d, n, V);
    int zeros = 0;
    for (int i = 0; i < n; i++)
        zeros += y.h[i] == 0;
    CHECK(zeros > 0 && zeros < n);
    ct_check_bits("take_i32 y", y.d, y.h, (size_t)n * sizeof(int32_t));
}

TEST(cuda_layernorm)
{
    CT_BEGIN();
    int shapes[][2] = {{257, 100}, {3, 1}, {40, 33}, {10, 512}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int n = shapes[s][0], d = shapes[s][1];
        ct_buf x = ct_in((size_t)n * d, -3, 3), g = ct_in(d, 0.5f, 1.5f), be = ct_in(d, -1, 1);
        ct_buf y = ct_out((size_t)n * d), mean = ct_out(n), rstd = ct_out(n);
        sbr_nn_layernorm_forward_f32(NULL, y.h, mean.h, rstd.h, x.h, g.h, be.h, n, d, 1e-5f);
        sbr_nn_layernorm_forward_cuda(ct_ctx(), y.d, mean.d, rstd.d, x.d, g.d, be.d, n, d, 1e-5f);
        ct_check("layernorm y", y, RED_RTOL, RED_ATOL);
        ct_check("layernorm mean", mean, RED_RTOL, RED_ATOL);
        ct_check("layernorm rstd", rstd, RED_RTOL, RED_ATOL);
        /* the backward of both reads the CPU's saved mean/rstd */
        sbr_cuda_h2d(mean.d, mean.h, (size_t)n * sizeof(float));
        sbr_cuda_h2d(rstd.d, rstd.h, (size_t)n * sizeof(float));
        ct_buf dy = ct_in((size_t)n * d, -1, 1), dx = ct_acc((size_t)n * d);
        ct_buf dg = ct_acc(d), db = ct_acc(d);
        sbr_nn_layernorm_backward_f32(NULL, dx.h, dg.h, db.h, dy.h, x.h, mean.h, rstd.h, g.h, n,
                                      d);
        sbr_nn_layernorm_backward_cuda(ct_ctx(), dx.d, dg.d, db.d, dy.d, x.d, mean.d, rstd.d, g.d,
                                       n, d);
        ct_check("layernorm dx", dx, RED_RTOL, RED_ATOL);
        ct_check("layernorm dgamma", dg, RED_RTOL, RED_ATOL);
        ct_check("layernorm dbeta", db, RED_RTOL, RED_ATOL);
    }
}

TEST(cuda_dropout)
{
    CT_BEGIN();
    int n = 100003;
    float ps[] = {0.25f, 0.5f, 0.0f, 0.9f};
    for (size_t s = 0; s < sizeof ps / sizeof ps[0]; s++) {
        ct_buf x = ct_in(n, -1, 1), y = ct_out(n);
        ct_bbuf mask = ct_bytes_out(n);
        uint64_t seed = 1234 + s, offset = 77777 * s;
        sbr_nn_dropout_forward_f32(NULL, y.h, mask.h, x.h, n, ps[s], seed, offset);
        sbr_nn_dropout_forward_cuda(ct_ctx(), y.d, mask.d, x.d, n, ps[s], seed, offset);
        /* the counter-based draws and the float scaling are exact on both */
        ct_check_bits("dropout mask", mask.d, mask.h, (size_t)n);
        ct_check_bits("dropout y", y.d, y.h, (size_t)n * sizeof(float));
        ct_buf dy = ct_in(n, -1, 1), dx = ct_acc(n);
        sbr_nn_dropout_backward_f32(NULL, dx.h, dy.h, mask.h, n, ps[s]);
        sbr_nn_dropout_backward_cuda(ct_ctx(), dx.d, dy.d, mask.d, n, ps[s]);
        ct_check("dropout dx", dx, EW_RTOL, EW_ATOL);
    }
}

TEST(cuda_l2norm)
{
    CT_BEGIN();
    int n = 301, d = 100;
    float eps = 1e-6f;
    ct_buf x = ct_in((size_t)n * d, -1, 1), y = ct_out((size_t)n * d), nr = ct_out(n);
    memset(x.h + 5 * d, 0, (size_t)d * sizeof(float)); /* a zero row: the eps branch */
    sbr_cuda_h2d(x.d, x.h, x.n * sizeof(float));
    sbr_nn_l2norm_forward_f32(NULL, y.h, nr.h, x.h, n, d, eps);
    sbr_nn_l2norm_forward_cuda(ct_ctx(), y.d, nr.d, x.d, n, d, eps);
    ct_check("l2norm y", y, RED_RTOL, RED_ATOL);
    ct_check("l2norm norm", nr, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(y.d, y.h, y.n * sizeof(float));
    sbr_cuda_h2d(nr.d, nr.h, nr.n * sizeof(float));
    ct_buf dy = ct_in((size_t)n * d, -1, 1), dx = ct_acc((size_t)n * d);
    sbr_nn_l2norm_backward_f32(NULL, dx.h, dy.h, y.h, nr.h, n, d, eps);
    sbr_nn_l2norm_backward_cuda(ct_ctx(), dx.d, dy.d, y.d, nr.d, n, d, eps);
    ct_check("l2norm dx", dx, RED_RTOL, 1e-3); /* the zero row: dy / eps ~ 1e6 */
}

/* The fused dropout + normalisation of CORE's item table: the mask bit for
 * bit, y and the norms and dx as the CPU's, at p = 0.2 and p = 0. */
TEST(cuda_dropout_l2norm)
{
    CT_BEGIN();
    int n = 301, d = 100;
    float eps = 1e-12f, ps[2] = {0.2f, 0};
    for (int t = 0; t < 2; t++) {
        ct_buf x = ct_in((size_t)n * d, -1, 1), y = ct_out((size_t)n * d), nr = ct_out(n);
        ct_bbuf mask = ct_bytes_out((size_t)n * d);
        sbr_nn_dropout_l2norm_forward_f32(NULL, y.h, nr.h, mask.h, x.h, n, d, ps[t], 31, 4242,
                                          eps);
        sbr_nn_dropout_l2norm_forward_cuda(ct_ctx(), y.d, nr.d, mask.d, x.d, n, d, ps[t], 31,
                                           4242, eps);
        ct_check_bits("dropout_l2norm mask", mask.d, mask.h, (size_t)n * d);
        ct_check("dropout_l2norm y", y, RED_RTOL, RED_ATOL);
        ct_check("dropout_l2norm norm", nr, RED_RTOL, RED_ATOL);
        sbr_cuda_h2d(y.d, y.h, y.n * sizeof(float));
        sbr_cuda_h2d(nr.d, nr.h, nr.n * sizeof(float));
        ct_buf dy = ct_in((size_t)n * d, -1, 1), dx = ct_acc((size_t)n * d);
        sbr_nn_dropout_l2norm_backward_f32(NULL, dx.h, dy.h, y.h, nr.h, mask.h, n, d, ps[t], eps);
        sbr_nn_dropout_l2norm_backward_cuda(ct_ctx(), dx.d, dy.d, y.d, nr.d, mask.d, n, d, ps[t],
                                            eps);
        ct_check("dropout_l2norm dx", dx, RED_RTOL, RED_ATOL);
    }
}

TEST(cuda_l2norm_seq)
{
    CT_BEGIN();
    int B = 37, L = 19, d = 45;
    float eps = 1e-6f;
    ct_buf x = ct_in((size_t)B * L * d, -1, 1), y = ct_out(x.n), nr = ct_out((size_t)B * d);
    for (int l = 0; l < L; l++) /* a zero column: the eps branch */
        x.h[((size_t)3 * L + l) * d + 7] = 0;
    sbr_cuda_h2d(x.d, x.h, x.n * sizeof(float));
    sbr_nn_l2norm_seq_forward_f32(NULL, y.h, nr.h, x.h, B, L, d, eps);
    sbr_nn_l2norm_seq_forward_cuda(ct_ctx(), y.d, nr.d, x.d, B, L, d, eps);
    ct_check("l2norm_seq y", y, RED_RTOL, RED_ATOL);
    ct_check("l2norm_seq norm", nr, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(y.d, y.h, y.n * sizeof(float));
    sbr_cuda_h2d(nr.d, nr.h, nr.n * sizeof(float));
    ct_buf dy = ct_in(x.n, -1, 1), dx = ct_acc(x.n);
    sbr_nn_l2norm_seq_backward_f32(NULL, dx.h, dy.h, y.h, nr.h, B, L, d, eps);
    sbr_nn_l2norm_seq_backward_cuda(ct_ctx(), dx.d, dy.d, y.d, nr.d, B, L, d, eps);
    ct_check("l2norm_seq dx", dx, RED_RTOL, 1e-3);
}

/* Lengths 0..L, the full length and 0 included. */
static ct_ibuf lengths(int B, int L)
{
    ct_ibuf len = ct_ints(B, 0, L);
    len.h[0] = 0;
    len.h[1 % B] = L;
    sbr_cuda_h2d(len.d, len.h, (size_t)B * sizeof(int32_t));
    return len;
}

TEST(cuda_pooling)
{
    CT_BEGIN();
    int B = 97, L = 19, d = 45;
    ct_ibuf len = lengths(B, L);
    ct_buf x = ct_in((size_t)B * L * d, -1, 1), y = ct_out((size_t)B * d);
    sbr_nn_seq_mean_forward_f32(NULL, y.h, x.h, len.h, B, L, d);
    sbr_nn_seq_mean_forward_cuda(ct_ctx(), y.d, x.d, len.d, B, L, d);
    ct_check("seq_mean y", y, RED_RTOL, RED_ATOL);
    ct_buf dy = ct_in((size_t)B * d, -1, 1), dx = ct_acc(x.n);
    sbr_nn_seq_mean_backward_f32(NULL, dx.h, dy.h, len.h, B, L, d);
    sbr_nn_seq_mean_backward_cuda(ct_ctx(), dx.d, dy.d, len.d, B, L, d);
    ct_check("seq_mean dx", dx, EW_RTOL, EW_ATOL);
    ct_buf yn = ct_out((size_t)B * d), dxn = ct_acc(x.n); /* len NULL: every row's whole L */
    sbr_nn_seq_mean_forward_f32(NULL, yn.h, x.h, NULL, B, L, d);
    sbr_nn_seq_mean_forward_cuda(ct_ctx(), yn.d, x.d, NULL, B, L, d);
    ct_check("seq_mean y, no len", yn, RED_RTOL, RED_ATOL);
    sbr_nn_seq_mean_backward_f32(NULL, dxn.h, dy.h, NULL, B, L, d);
    sbr_nn_seq_mean_backward_cuda(ct_ctx(), dxn.d, dy.d, NULL, B, L, d);
    ct_check("seq_mean dx, no len", dxn, EW_RTOL, EW_ATOL);

    int S = 50;
    int32_t off[51];
    off[0] = 0;
    for (int s = 0; s < S; s++)
        off[s + 1] = off[s] + (s % 7 == 3 ? 0 : 1 + (s * 13) % 9); /* empty segments too */
    int T = off[S];
    ct_ibuf o = ct_ints_from(off, (size_t)S + 1);
    for (int mean = 0; mean <= 1; mean++) {
        ct_buf sx = ct_in((size_t)T * d, -1, 1), sy = ct_out((size_t)S * d);
        sbr_nn_segment_pool_forward_f32(NULL, sy.h, sx.h, o.h, S, d, mean);
        sbr_nn_segment_pool_forward_cuda(ct_ctx(), sy.d, sx.d, o.d, S, d, mean);
        ct_check("segment_pool y", sy, RED_RTOL, RED_ATOL);
        ct_buf sdy = ct_in((size_t)S * d, -1, 1), sdx = ct_acc(sx.n);
        sbr_nn_segment_pool_backward_f32(NULL, sdx.h, sdy.h, o.h, S, d, mean);
        sbr_nn_segment_pool_backward_cuda(ct_ctx(), sdx.d, sdy.d, o.d, S, d, mean);
        ct_check("segment_pool dx", sdx, EW_RTOL, EW_ATOL);
    }
}

TEST(cuda_attention)
{
    CT_BEGIN();
    int B = 83, L = 45, d = 100; /* L > 32: a row spans more than one warp pass */
    ct_ibuf len = lengths(B, L);
    size_t BL = (size_t)B * L;

    ct_buf x = ct_in(BL, -5, 5), y = ct_out(BL);
    sbr_nn_masked_softmax_forward_f32(NULL, y.h, x.h, len.h, B, L);
    sbr_nn_masked_softmax_forward_cuda(ct_ctx(), y.d, x.d, len.d, B, L);
    ct_check("masked_softmax y", y, RED_RTOL, 1e-7);
    sbr_cuda_h2d(y.d, y.h, BL * sizeof(float));
    ct_buf dy = ct_in(BL, -1, 1), dx = ct_acc(BL);
    sbr_nn_masked_softmax_backward_f32(NULL, dx.h, dy.h, y.h, len.h, B, L);
    sbr_nn_masked_softmax_backward_cuda(ct_ctx(), dx.d, dy.d, y.d, len.d, B, L);
    ct_check("masked_softmax dx", dx, RED_RTOL, RED_ATOL);
    ct_buf yn = ct_out(BL), dxn = ct_acc(BL); /* len NULL: every row's whole L */
    sbr_nn_masked_softmax_forward_f32(NULL, yn.h, x.h, NULL, B, L);
    sbr_nn_masked_softmax_forward_cuda(ct_ctx(), yn.d, x.d, NULL, B, L);
    ct_check("masked_softmax y, no len", yn, RED_RTOL, 1e-7);
    sbr_cuda_h2d(yn.d, yn.h, BL * sizeof(float));
    sbr_nn_masked_softmax_backward_f32(NULL, dxn.h, dy.h, yn.h, NULL, B, L);
    sbr_nn_masked_softmax_backward_cuda(ct_ctx(), dxn.d, dy.d, yn.d, NULL, B, L);
    ct_check("masked_softmax dx, no len", dxn, RED_RTOL, RED_ATOL);

    ct_buf a = ct_in(BL, -1, 1), xs = ct_in(BL * d, -1, 1), ws = ct_out((size_t)B * d);
    sbr_nn_seq_weighted_sum_forward_f32(NULL, ws.h, a.h, xs.h, len.h, B, L, d);
    sbr_nn_seq_weighted_sum_forward_cuda(ct_ctx(), ws.d, a.d, xs.d, len.d, B, L, d);
    ct_check("seq_weighted_sum y", ws, RED_RTOL, RED_ATOL);
    ct_buf wdy = ct_in((size_t)B * d, -1, 1), da = ct_acc(BL), dxs = ct_acc(BL * d);
    sbr_nn_seq_weighted_sum_backward_f32(NULL, da.h, dxs.h, wdy.h, a.h, xs.h, len.h, B, L, d);
    sbr_nn_seq_weighted_sum_backward_cuda(ct_ctx(), da.d, dxs.d, wdy.d, a.d, xs.d, len.d, B, L,
                                          d);
    ct_check("seq_weighted_sum da", da, RED_RTOL, RED_ATOL);
    ct_check("seq_weighted_sum dx", dxs, EW_RTOL, EW_ATOL);

    ct_buf q = ct_in((size_t)B * d, -1, 1), s = ct_out(BL);
    sbr_nn_seq_dot_forward_f32(NULL, s.h, xs.h, q.h, len.h, B, L, d);
    sbr_nn_seq_dot_forward_cuda(ct_ctx(), s.d, xs.d, q.d, len.d, B, L, d);
    ct_check("seq_dot s", s, RED_RTOL, RED_ATOL);
    ct_buf ds = ct_in(BL, -1, 1), ddx = ct_acc(BL * d), dq = ct_acc((size_t)B * d);
    sbr_nn_seq_dot_backward_f32(NULL, ddx.h, dq.h, ds.h, xs.h, q.h, len.h, B, L, d);
    sbr_nn_seq_dot_backward_cuda(ct_ctx(), ddx.d, dq.d, ds.d, xs.d, q.d, len.d, B, L, d);
    ct_check("seq_dot dx", ddx, EW_RTOL, EW_ATOL);
    ct_check("seq_dot dq", dq, RED_RTOL, RED_ATOL);
}

/* The readout's gate against the CPU's linear, linear, add_rows, sigmoid;
 * with both biases and without. */
static void gate_case(int biases)
{
    int B = 83, L = 45, in = 100, h = 64;
    size_t BL = (size_t)B * L;
    ct_buf x = ct_in(BL * in, -1, 1), v = ct_in((size_t)B * in, -1, 1);
    ct_buf wx = ct_in((size_t)h * in, -0.2f, 0.2f), wv = ct_in((size_t)h * in, -0.2f, 0.2f);
    ct_buf bx = ct_in(h, -0.5f, 0.5f), bv = ct_in(h, -0.5f, 0.5f);
    ct_buf sg = ct_out(BL * h), q = ct_out((size_t)B * h);
    sbr_nn_seq_shape sh = {B, L, in, h};
    sbr_nn_additive_gate_w_f32 wh = {wx.h, biases ? bx.h : NULL, wv.h, biases ? bv.h : NULL};
    sbr_nn_additive_gate_w_cuda wd = {wx.d, biases ? bx.d : NULL, wv.d, biases ? bv.d : NULL};
    sbr_nn_additive_gate_forward_f32(NULL, sg.h, q.h, x.h, v.h, &wh, sh);
    sbr_nn_additive_gate_forward_cuda(ct_ctx(), sg.d, q.d, x.d, v.d, &wd, sh);
    ct_check("additive_gate sg", sg, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(sg.d, sg.h, sg.n * sizeof(float));
    ct_buf dsg = ct_in(BL * h, -1, 1), dpre = ct_acc(BL * h), dq = ct_acc((size_t)B * h);
    ct_buf dx = ct_acc(BL * in), dv = ct_acc((size_t)B * in), dwx = ct_acc((size_t)h * in);
    ct_buf dwv = ct_acc((size_t)h * in), dbx = ct_acc(h), dbv = ct_acc(h);
    sbr_nn_additive_gate_w_f32 dwh = {dwx.h, biases ? dbx.h : NULL, dwv.h, biases ? dbv.h : NULL};
    sbr_nn_additive_gate_w_cuda dwd = {dwx.d, biases ? dbx.d : NULL, dwv.d,
                                       biases ? dbv.d : NULL};
    sbr_nn_additive_gate_backward_f32(NULL, dx.h, dv.h, &dwh, dpre.h, dq.h, dsg.h, sg.h, x.h, v.h,
                                      &wh, sh);
    sbr_nn_additive_gate_backward_cuda(ct_ctx(), dx.d, dv.d, &dwd, dpre.d, dq.d, dsg.d, sg.d, x.d,
                                       v.d, &wd, sh);
    ct_check("additive_gate dpre", dpre, EW_RTOL, EW_ATOL);
    ct_check("additive_gate dq", dq, RED_RTOL, RED_ATOL);
    ct_check("additive_gate dx", dx, RED_RTOL, RED_ATOL);
    ct_check("additive_gate dv", dv, RED_RTOL, RED_ATOL);
    ct_check("additive_gate dw_x", dwx, RED_RTOL, RED_ATOL);
    ct_check("additive_gate dw_v", dwv, RED_RTOL, RED_ATOL);
    ct_check("additive_gate db_x", dbx, RED_RTOL, RED_ATOL);
    ct_check("additive_gate db_v", dbv, RED_RTOL, RED_ATOL);
}

TEST(cuda_additive_gate)
{
    CT_BEGIN();
    gate_case(1);
    gate_case(0);
}

/* The fused readout tail against the CPU's linear + seq_weighted_sum; h != d
 * so that a mixed-up stride shows, L > 32 and B * L rows beyond one block's
 * threads. */
TEST(cuda_attn_pool)
{
    CT_BEGIN();
    int B = 83, L = 45, h = 64, d = 100;
    ct_ibuf len = lengths(B, L);
    size_t BL = (size_t)B * L;
    ct_buf sg = ct_in(BL * h, 0, 1), q = ct_in(h, -1, 1), x = ct_in(BL * d, -1, 1);
    ct_buf y = ct_out((size_t)B * d), alpha = ct_out(BL);
    sbr_nn_seq_shape sh = {B, L, h, d};
    sbr_nn_attn_pool_forward_f32(NULL, y.h, alpha.h, sg.h, q.h, x.h, len.h, sh);
    sbr_nn_attn_pool_forward_cuda(ct_ctx(), y.d, alpha.d, sg.d, q.d, x.d, len.d, sh);
    ct_check("attn_pool alpha", alpha, RED_RTOL, RED_ATOL);
    ct_check("attn_pool y", y, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(alpha.d, alpha.h, BL * sizeof(float));
    ct_buf dy = ct_in((size_t)B * d, -1, 1), dsg = ct_acc(BL * h), dq = ct_acc(h);
    ct_buf dx = ct_acc(BL * d), dalpha = ct_acc(BL);
    sbr_nn_attn_pool_backward_f32(NULL, dsg.h, dq.h, dx.h, dalpha.h, dy.h, alpha.h, sg.h, q.h, x.h,
                                  len.h, sh);
    sbr_nn_attn_pool_backward_cuda(ct_ctx(), dsg.d, dq.d, dx.d, dalpha.d, dy.d, alpha.d, sg.d, q.d,
                                   x.d, len.d, sh);
    ct_check("attn_pool dalpha", dalpha, RED_RTOL, RED_ATOL);
    ct_check("attn_pool dsg", dsg, RED_RTOL, RED_ATOL);
    ct_check("attn_pool dq", dq, RED_RTOL, RED_ATOL);
    ct_check("attn_pool dx", dx, EW_RTOL, EW_ATOL);
    /* dx and dq may be NULL */
    ct_buf dsg2 = ct_acc(BL * h), dalpha2 = ct_acc(BL);
    sbr_nn_attn_pool_backward_f32(NULL, dsg2.h, NULL, NULL, dalpha2.h, dy.h, alpha.h, sg.h, q.h,
                                  x.h, len.h, sh);
    sbr_nn_attn_pool_backward_cuda(ct_ctx(), dsg2.d, NULL, NULL, dalpha2.d, dy.d, alpha.d, sg.d,
                                   q.d, x.d, len.d, sh);
    ct_check("attn_pool dsg (no dx, dq)", dsg2, RED_RTOL, RED_ATOL);
}
