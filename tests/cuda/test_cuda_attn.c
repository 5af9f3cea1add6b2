/* GPU vs CPU: GCE-GNN edge attention (local and global), the multi-head
 * attention core and the self-attention block in its three layouts, with
 * dropout on (the factors must be the CPU's, bit for bit). */
#include <math.h>
#include <string.h>

#include "cuda_test.h"
#include "rng.h"

#define RED_RTOL 1e-4
#define RED_ATOL 1e-5
#define REC_RTOL 5e-4
#define REC_ATOL 5e-5

/* Block-diagonal session graphs with typed edges (self edges always). */
static int typed_csr(int T, uint64_t seed, int32_t *ptr, int32_t *col, int32_t *typ, int cap)
{
    int e = 0, start = 0;
    ptr[0] = 0;
    while (start < T) {
        int n = 1 + (int)(sbr_rng_hash(seed, (uint64_t)start) % 6);
        if (start + n > T)
            n = T - start;
        for (int i = start; i < start + n; i++) {
            for (int j = start; j < start + n && e < cap; j++)
                if (j == i || sbr_rng_hash(seed + 1, (uint64_t)i * T + j) % 2 == 0) {
                    col[e] = j;
                    typ[e] = j == i ? 0 : (int32_t)(1 + sbr_rng_hash(seed + 2, (uint64_t)e) % 3);
                    e++;
                }
            ptr[i + 1] = e;
        }
        start += n;
    }
    return e;
}

TEST(cuda_edge_attn_local)
{
    CT_BEGIN();
    int T = 157, d = 40;
    static int32_t p[512], c[4096], t[4096];
    int nnz = typed_csr(T, 5, p, c, t, 4096);
    ct_ibuf ptr = ct_ints_from(p, T + 1), col = ct_ints_from(c, nnz), typ = ct_ints_from(t, nnz);
    ct_buf h = ct_in((size_t)T * d, -1, 1), a = ct_in((size_t)4 * d, -1, 1);
    ct_buf y = ct_out((size_t)T * d), alpha = ct_out(nnz);
    sbr_nn_typed_csr gh = {ptr.h, col.h, typ.h, T}, gd = {ptr.d, col.d, typ.d, T};
    sbr_nn_edge_attn_local_forward_f32(NULL, y.h, alpha.h, h.h, &gh, a.h, d, 0.2f);
    sbr_nn_edge_attn_local_forward_cuda(ct_ctx(), y.d, alpha.d, h.d, &gd, a.d, d, 0.2f);
    ct_check("edge_attn_local y", y, RED_RTOL, RED_ATOL);
    ct_check("edge_attn_local alpha", alpha, RED_RTOL, 1e-6);
    sbr_cuda_h2d(alpha.d, alpha.h, alpha.n * sizeof(float));
    ct_buf dy = ct_in((size_t)T * d, -1, 1), dh = ct_acc((size_t)T * d), da = ct_acc((size_t)4 * d);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_edge_attn_local_scratch_f32(nnz));
    sbr_nn_edge_attn_local_backward_f32(cpu, dh.h, da.h, dy.h, alpha.h, h.h, &gh, a.h, d, 0.2f);
    sbr_nn_edge_attn_local_backward_cuda(ct_ctx(), dh.d, da.d, dy.d, alpha.d, h.d, &gd, a.d, d,
                                         0.2f);
    ct_check("edge_attn_local dh", dh, RED_RTOL, RED_ATOL);
    ct_check("edge_attn_local da", da, RED_RTOL, RED_ATOL);
}

TEST(cuda_edge_attn_global)
{
    CT_BEGIN();
    int M = 91, K = 12, d = 32;
    size_t MK = (size_t)M * K;
    ct_ibuf nk = ct_ints(M, 0, K);
    nk.h[0] = 0, nk.h[1] = K;
    sbr_cuda_h2d(nk.d, nk.h, (size_t)M * sizeof(int32_t));
    ct_buf hv = ct_in((size_t)M * d, -1, 1), hn = ct_in(MK * d, -1, 1), wn = ct_in(MK, 0, 1);
    ct_buf s = ct_in((size_t)M * d, -1, 1), w1 = ct_in((size_t)d * (d + 1), -0.3f, 0.3f);
    ct_buf q1 = ct_in(d, -1, 1), w2 = ct_in((size_t)d * 2 * d, -0.3f, 0.3f);
    ct_buf y = ct_out((size_t)M * d), u = ct_out(MK * d), alpha = ct_out(MK);
    ct_buf cat = ct_out((size_t)M * 2 * d), drop = ct_in((size_t)M * 2 * d, 0, 2);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_edge_attn_global_scratch_f32(M, K, d));
    sbr_nn_nbr_table nbh = {nk.h, M, K}, nbd = {nk.d, M, K};
    sbr_nn_edge_attn_global_out_f32 oh = {y.h, u.h, alpha.h, cat.h};
    sbr_nn_edge_attn_global_out_cuda od = {y.d, u.d, alpha.d, cat.d};
    sbr_nn_edge_attn_global_in_f32 xh = {hn.h, wn.h, s.h};
    sbr_nn_edge_attn_global_in_cuda xd = {hn.d, wn.d, s.d};
    sbr_nn_edge_attn_global_w_f32 wh = {w1.h, q1.h, w2.h};
    sbr_nn_edge_attn_global_w_cuda wd = {w1.d, q1.d, w2.d};
    sbr_nn_edge_attn_global_forward_f32(cpu, &oh, hv.h, &xh, &nbh, &wh, drop.h, d, 0.2f);
    sbr_nn_edge_attn_global_forward_cuda(ct_ctx(), &od, hv.d, &xd, &nbd, &wd, drop.d, d, 0.2f);
    ct_check("edge_attn_global y", y, RED_RTOL, RED_ATOL);
    ct_check("edge_attn_global u", u, RED_RTOL, RED_ATOL);
    ct_check("edge_attn_global alpha", alpha, RED_RTOL, 1e-6);
    ct_check("edge_attn_global cat", cat, RED_RTOL, RED_ATOL);
    ct_buf *saved[] = {&y, &u, &alpha, &cat};
    for (int i = 0; i < 4; i++)
        sbr_cuda_h2d(saved[i]->d, saved[i]->h, saved[i]->n * sizeof(float));
    ct_buf dy = ct_in((size_t)M * d, -1, 1);
    ct_buf g[7] = {ct_acc((size_t)M * d), ct_acc(MK * d), ct_acc(MK), ct_acc((size_t)M * d),
                   ct_acc((size_t)d * (d + 1)), ct_acc(d), ct_acc((size_t)d * 2 * d)};
    static const char *names[7] = {"dhv", "dhn", "dwn", "ds", "dw1", "dq1", "dw2"};
    sbr_nn_edge_attn_global_in_f32 dxh = {g[1].h, g[2].h, g[3].h};
    sbr_nn_edge_attn_global_in_cuda dxd = {g[1].d, g[2].d, g[3].d};
    sbr_nn_edge_attn_global_w_f32 dwh = {g[4].h, g[5].h, g[6].h};
    sbr_nn_edge_attn_global_w_cuda dwd = {g[4].d, g[5].d, g[6].d};
    sbr_nn_edge_attn_global_backward_f32(cpu, g[0].h, &dxh, &dwh, dy.h, &oh, &xh, &nbh, &wh,
                                         drop.h, d, 0.2f);
    sbr_nn_edge_attn_global_backward_cuda(ct_ctx(), g[0].d, &dxd, &dwd, dy.d, &od, &xd, &nbd, &wd,
                                          drop.d, d, 0.2f);
    for (int i = 0; i < 7; i++)
        ct_check(names[i], g[i], RED_RTOL, RED_ATOL);
}

static ct_ibuf seq_lengths(int B, int L)
{
    ct_ibuf len = ct_ints(B, 0, L);
    len.h[0] = 0;
    len.h[1 % B] = L;
    sbr_cuda_h2d(len.d, len.h, (size_t)B * sizeof(int32_t));
    return len;
}

TEST(cuda_mha)
{
    CT_BEGIN();
    int B = 23, L = 37, d = 64, nh = 2;
    size_t BLd = (size_t)B * L * d, A = (size_t)B * nh * L * L;
    ct_ibuf len = seq_lengths(B, L);
    for (int causal = 0; causal <= 1; causal++)
        for (int with_drop = 0; with_drop <= 1; with_drop++) {
            ct_buf q = ct_in(BLd, -1, 1), k = ct_in(BLd, -1, 1), v = ct_in(BLd, -1, 1);
            ct_buf drop = ct_in(A, 0, 1);
            for (size_t i = 0; i < A; i++) /* dropout factors: 0 or 1 / (1 - 0.3) */
                drop.h[i] = drop.h[i] < 0.3f ? 0.0f : 1 / 0.7f;
            sbr_cuda_h2d(drop.d, drop.h, A * sizeof(float));
            const float *dh = with_drop ? drop.h : NULL, *dd = with_drop ? drop.d : NULL;
            ct_buf o = ct_out(BLd), p = ct_out(A);
            sbr_nn_qkv_f32 xh = {q.h, k.h, v.h};
            sbr_nn_qkv_cuda xd = {q.d, k.d, v.d};
            sbr_nn_mha_forward_f32(NULL, o.h, p.h, &xh, dh, len.h, B, L, d, nh, causal);
            sbr_nn_mha_forward_cuda(ct_ctx(), o.d, p.d, &xd, dd, len.d, B, L, d, nh, causal);
            ct_check("mha o", o, RED_RTOL, RED_ATOL);
            ct_check("mha p", p, RED_RTOL, 1e-6);
            sbr_cuda_h2d(p.d, p.h, A * sizeof(float));
            ct_buf g = ct_in(BLd, -1, 1), dq = ct_acc(BLd), dk = ct_acc(BLd), dv = ct_acc(BLd);
            sbr_nn_qkv_f32 dxh = {dq.h, dk.h, dv.h};
            sbr_nn_qkv_cuda dxd = {dq.d, dk.d, dv.d};
            sbr_nn_mha_backward_f32(NULL, &dxh, g.h, p.h, &xh, dh, len.h, B, L, d, nh, causal);
            sbr_nn_mha_backward_cuda(ct_ctx(), &dxd, g.d, p.d, &xd, dd, len.d, B, L, d, nh, causal);
            ct_check("mha dq", dq, RED_RTOL, RED_ATOL);
            ct_check("mha dk", dk, RED_RTOL, RED_ATOL);
            ct_check("mha dv", dv, RED_RTOL, RED_ATOL);
        }
}

TEST(cuda_mhsa_block)
{
    CT_BEGIN();
    int B = 13, L = 21, d = 32, nh = 2, dff = 48;
    size_t BLd = (size_t)B * L * d;
    ct_ibuf len = seq_lengths(B, L);
    int layouts[] = {0, SBR_NN_MHSA_PRENORM | SBR_NN_MHSA_CAUSAL, SBR_NN_MHSA_PROXYSR,
                     SBR_NN_MHSA_GELU | SBR_NN_MHSA_CAUSAL};
    static const char *lname[] = {"post-norm", "pre-norm causal", "proxysr",
                                  "post-norm gelu causal"};
    sbr_nn_mhsa_w_f32 wh;
    sbr_nn_mhsa_w_cuda wd;
    size_t np = sbr_nn_mhsa_w_flat_f32(&wh, NULL, d, dff);
    CHECK_EQ_I64(sbr_nn_mhsa_w_flat_cuda(&wd, NULL, d, dff), np);
    size_t na = sbr_nn_mhsa_act_count_cuda(B, L, d, nh, dff);
    for (int l = 0; l < 4; l++) {
        ct_buf x = ct_in(BLd, -1, 1), prm = ct_in(np, -0.3f, 0.3f);
        sbr_nn_mhsa_w_flat_f32(&wh, prm.h, d, dff);
        sbr_nn_mhsa_w_flat_cuda(&wd, prm.d, d, dff);
        /* layer-norm gammas near 1 */
        for (int c = 0; c < d; c++)
            wh.ln1_g[c] += 1, wh.ln2_g[c] += 1;
        sbr_cuda_h2d(prm.d, prm.h, np * sizeof(float));
        /* act is each device's own layout (the CPU's packs the sessions'
         * rows): compared through what the backward makes of it. */
        ct_buf y = ct_out(BLd), act = ct_in(na, -1, 1);
        sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_mhsa_scratch_f32(B, L, d, dff));
        sbr_nn_mhsa_cfg cfg = {d, nh, dff, layouts[l], 1e-5f, 0.2f, 0.3f, 77, 1000};
        sbr_nn_mhsa_forward_f32(cpu, y.h, act.h, x.h, len.h, &wh, B, L, &cfg);
        sbr_nn_mhsa_forward_cuda(ct_ctx(), y.d, act.d, x.d, len.d, &wd, B, L, &cfg);
        char what[80];
        snprintf(what, sizeof what, "mhsa %s y", lname[l]);
        ct_check(what, y, REC_RTOL, REC_ATOL);
        ct_buf dy = ct_in(BLd, -1, 1), dx = ct_acc(BLd), dprm = ct_acc(np);
        sbr_nn_mhsa_w_f32 dwh;
        sbr_nn_mhsa_w_cuda dwd;
        sbr_nn_mhsa_w_flat_f32(&dwh, dprm.h, d, dff);
        sbr_nn_mhsa_w_flat_cuda(&dwd, dprm.d, d, dff);
        sbr_nn_mhsa_backward_f32(cpu, dx.h, &dwh, dy.h, act.h, x.h, len.h, &wh, B, L, &cfg);
        sbr_nn_mhsa_backward_cuda(ct_ctx(), dx.d, &dwd, dy.d, act.d, x.d, len.d, &wd, B, L, &cfg);
        snprintf(what, sizeof what, "mhsa %s dx", lname[l]);
        ct_check(what, dx, REC_RTOL, REC_ATOL);
        snprintf(what, sizeof what, "mhsa %s dprm", lname[l]);
        ct_check(what, dprm, REC_RTOL, REC_ATOL);
    }
}

/* LESSR's shortcut graphs: sessions of 1..6 nodes, node v's sources the
 * session's nodes 0..m_v (m_v >= v), with the transpose. */
static int shortcut_csr(int T, uint64_t seed, int32_t *ptr, int32_t *src, int32_t *dst,
                        int32_t *tptr, int32_t *tpos, int cap)
{
    int e = 0, start = 0;
    ptr[0] = 0;
    while (start < T) {
        int n = 1 + (int)(sbr_rng_hash(seed, (uint64_t)start) % 6);
        n = start + n > T ? T - start : n;
        for (int v = 0; v < n; v++) {
            int m = v + (int)(sbr_rng_hash(seed + 1, (uint64_t)(start + v)) % (size_t)(n - v));
            for (int u = 0; u <= m && e < cap; u++, e++)
                src[e] = start + u, dst[e] = start + v;
            ptr[start + v + 1] = e;
        }
        start += n;
    }
    int at = 0;
    for (int j = 0; j < T; j++) { /* the transpose, positions increasing */
        tptr[j] = at;
        for (int q = 0; q < e; q++)
            if (src[q] == j)
                tpos[at++] = q;
    }
    tptr[T] = at;
    return e;
}

TEST(cuda_sgat)
{
    CT_BEGIN();
    int T = 143, h = 40, dv = 36;
    static int32_t p[512], s[4096], dd[4096], tp[512], tq[4096];
    int nnz = shortcut_csr(T, 9, p, s, dd, tp, tq, 4096);
    ct_ibuf ptr = ct_ints_from(p, T + 1), src = ct_ints_from(s, nnz), dst = ct_ints_from(dd, nnz);
    ct_ibuf tptr = ct_ints_from(tp, T + 1), tpos = ct_ints_from(tq, nnz);
    sbr_cuda_known_int(ptr.d + T, nnz);
    ct_buf q = ct_in((size_t)T * h, -1, 1), k = ct_in((size_t)T * h, -1, 1);
    ct_buf v = ct_in((size_t)T * dv, -1, 1), w = ct_in(h, -1, 1);
    ct_buf y = ct_out((size_t)T * dv), alpha = ct_out(nnz);
    sbr_nn_tcsr gh = {ptr.h, src.h, dst.h, tptr.h, tpos.h, T};
    sbr_nn_tcsr gd = {ptr.d, src.d, dst.d, tptr.d, tpos.d, T};
    sbr_nn_qkv_f32 xh = {q.h, k.h, v.h};
    sbr_nn_qkv_cuda xd = {q.d, k.d, v.d};
    sbr_nn_sgat_forward_f32(NULL, y.h, alpha.h, &xh, w.h, &gh, h, dv);
    sbr_nn_sgat_forward_cuda(ct_ctx(), y.d, alpha.d, &xd, w.d, &gd, h, dv);
    ct_check("sgat y", y, RED_RTOL, RED_ATOL);
    ct_check("sgat alpha", alpha, RED_RTOL, 1e-6);
    sbr_cuda_h2d(alpha.d, alpha.h, alpha.n * sizeof(float));
    ct_buf dy = ct_in((size_t)T * dv, -1, 1), dq = ct_acc((size_t)T * h);
    ct_buf dk = ct_acc((size_t)T * h), dvv = ct_acc((size_t)T * dv), dw = ct_acc(h);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_sgat_scratch_f32(nnz, T, h));
    sbr_nn_sgat_backward_f32(cpu, &(sbr_nn_qkv_f32){dq.h, dk.h, dvv.h}, dw.h, dy.h, alpha.h, &xh,
                             w.h, &gh, h, dv);
    sbr_nn_sgat_backward_cuda(ct_ctx(), &(sbr_nn_qkv_cuda){dq.d, dk.d, dvv.d}, dw.d, dy.d,
                              alpha.d, &xd, w.d, &gd, h, dv);
    ct_check("sgat dq", dq, RED_RTOL, RED_ATOL);
    ct_check("sgat dk", dk, RED_RTOL, RED_ATOL);
    ct_check("sgat dv", dvv, RED_RTOL, RED_ATOL);
    ct_check("sgat dw", dw, RED_RTOL, RED_ATOL);
}

TEST(cuda_prelu)
{
    CT_BEGIN();
    int n = 1031, d = 37;
    size_t nd = (size_t)n * d;
    ct_buf x = ct_in(nd, -1, 1), a = ct_in(d, 0, 0.5f), y = ct_out(nd);
    sbr_nn_prelu_forward_f32(NULL, y.h, x.h, a.h, n, d);
    sbr_nn_prelu_forward_cuda(ct_ctx(), y.d, x.d, a.d, n, d);
    ct_check("prelu y", y, 1e-6, 1e-7);
    ct_buf dy = ct_in(nd, -1, 1), dx = ct_acc(nd), da = ct_acc(d);
    sbr_nn_prelu_backward_f32(NULL, dx.h, da.h, dy.h, x.h, a.h, n, d);
    sbr_nn_prelu_backward_cuda(ct_ctx(), dx.d, da.d, dy.d, x.d, a.d, n, d);
    ct_check("prelu dx", dx, 1e-6, 1e-7);
    ct_check("prelu da", da, RED_RTOL, RED_ATOL);
}
