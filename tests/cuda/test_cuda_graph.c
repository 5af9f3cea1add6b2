/* GPU vs CPU: GRU (cell and padded sequence), gated graph propagation,
 * Gaussian sample and KL, hinge loss. */
#include <math.h>
#include <string.h>

#include "cuda_test.h"
#include "../unit/session_batch.h"
#include "rng.h"

#define EW_RTOL 2e-6
#define EW_ATOL 1e-7
#define RED_RTOL 1e-4
#define RED_ATOL 1e-5
/* Recurrences compound the last-bit differences over the steps. */
#define REC_RTOL 5e-4
#define REC_ATOL 5e-5

TEST(cuda_gru_cell)
{
    CT_BEGIN();
    int n = 67, H = 40;
    size_t H3 = 3 * (size_t)H;
    ct_buf gi = ct_in(n * H3, -1, 1), h = ct_in((size_t)n * H, -1, 1);
    ct_buf w = ct_in(H3 * H, -0.3f, 0.3f), b = ct_in(H3, -0.3f, 0.3f);
    ct_buf hn = ct_out((size_t)n * H), gates = ct_out(n * H3), ghn = ct_out((size_t)n * H);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_gru_cell_scratch_f32(n, H));
    sbr_nn_gru_cell_forward_f32(cpu, hn.h, gates.h, ghn.h, gi.h, h.h, w.h, b.h, n, H);
    sbr_nn_gru_cell_forward_cuda(ct_ctx(), hn.d, gates.d, ghn.d, gi.d, h.d, w.d, b.d, n, H);
    ct_check("gru_cell hnew", hn, RED_RTOL, RED_ATOL);
    ct_check("gru_cell gates", gates, RED_RTOL, RED_ATOL);
    ct_check("gru_cell ghn", ghn, RED_RTOL, RED_ATOL);
    sbr_cuda_h2d(gates.d, gates.h, gates.n * sizeof(float));
    sbr_cuda_h2d(ghn.d, ghn.h, ghn.n * sizeof(float));
    ct_buf g = ct_in((size_t)n * H, -1, 1), dgi = ct_acc(n * H3), dh = ct_acc((size_t)n * H);
    ct_buf dw = ct_acc(H3 * H), db = ct_acc(H3);
    sbr_nn_gru_cell_backward_f32(cpu, dgi.h, dh.h, dw.h, db.h, g.h, gates.h, ghn.h, h.h, w.h, n,
                                 H);
    sbr_nn_gru_cell_backward_cuda(ct_ctx(), dgi.d, dh.d, dw.d, db.d, g.d, gates.d, ghn.d, h.d,
                                  w.d, n, H);
    ct_check("gru_cell dgi", dgi, RED_RTOL, RED_ATOL);
    ct_check("gru_cell dh", dh, RED_RTOL, RED_ATOL);
    ct_check("gru_cell dw_hh", dw, RED_RTOL, RED_ATOL);
    ct_check("gru_cell db_hh", db, RED_RTOL, RED_ATOL);
}

static void gru_case(int B, int L, int In, int H, int with_h0)
{
    size_t H3 = 3 * (size_t)H, BL = (size_t)B * L;
    ct_ibuf len = ct_ints(B, 0, L);
    len.h[0] = 0;
    len.h[1 % B] = L;
    sbr_cuda_h2d(len.d, len.h, (size_t)B * sizeof(int32_t));
    ct_buf x = ct_in(BL * In, -1, 1), h0 = ct_in((size_t)B * H, -1, 1);
    ct_buf wih = ct_in(H3 * In, -0.3f, 0.3f), bih = ct_in(H3, -0.3f, 0.3f);
    ct_buf whh = ct_in(H3 * H, -0.3f, 0.3f), bhh = ct_in(H3, -0.3f, 0.3f);
    ct_buf hs = ct_out(BL * H), hl = ct_out((size_t)B * H), gates = ct_out(BL * H3);
    ct_buf ghn = ct_out(BL * H);
    const float *h0h = with_h0 ? h0.h : NULL, *h0d = with_h0 ? h0.d : NULL;
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_gru_scratch_f32(B, L, H));
    sbr_nn_seq_shape sh = {B, L, In, H};
    sbr_nn_gru_out_f32 yh = {hs.h, hl.h, gates.h, ghn.h};
    sbr_nn_gru_out_cuda yd = {hs.d, hl.d, gates.d, ghn.d};
    sbr_nn_gru_w_f32 wh = {wih.h, bih.h, whh.h, bhh.h};
    sbr_nn_gru_w_cuda wd = {wih.d, bih.d, whh.d, bhh.d};
    sbr_nn_gru_forward_f32(cpu, &yh, x.h, len.h, h0h, &wh, sh);
    sbr_nn_gru_forward_cuda(ct_ctx(), &yd, x.d, len.d, h0d, &wd, sh);
    ct_check("gru hs", hs, REC_RTOL, REC_ATOL);
    ct_check("gru hlast", hl, REC_RTOL, REC_ATOL);
    ct_check("gru gates", gates, REC_RTOL, REC_ATOL);
    ct_check("gru ghn", ghn, REC_RTOL, REC_ATOL);
    /* the backward of both reads the CPU's saved tensors */
    sbr_cuda_h2d(hs.d, hs.h, hs.n * sizeof(float));
    sbr_cuda_h2d(gates.d, gates.h, gates.n * sizeof(float));
    sbr_cuda_h2d(ghn.d, ghn.h, ghn.n * sizeof(float));
    ct_buf dhs = ct_in(BL * H, -1, 1), dhl = ct_in((size_t)B * H, -1, 1);
    ct_buf dx = ct_acc(BL * In), dh0 = ct_acc((size_t)B * H), dwih = ct_acc(H3 * In);
    ct_buf dbih = ct_acc(H3), dwhh = ct_acc(H3 * H), dbhh = ct_acc(H3);
    sbr_nn_gru_w_f32 dwh = {dwih.h, dbih.h, dwhh.h, dbhh.h};
    sbr_nn_gru_w_cuda dwd = {dwih.d, dbih.d, dwhh.d, dbhh.d};
    sbr_nn_gru_backward_f32(cpu, dx.h, with_h0 ? dh0.h : NULL, &dwh, dhs.h, dhl.h, &yh, x.h,
                            len.h, h0h, &wh, sh);
    sbr_nn_gru_backward_cuda(ct_ctx(), dx.d, with_h0 ? dh0.d : NULL, &dwd, dhs.d, dhl.d, &yd, x.d,
                             len.d, h0d, &wd, sh);
    ct_check("gru dx", dx, REC_RTOL, REC_ATOL);
    ct_check("gru dh0", dh0, REC_RTOL, REC_ATOL);
    ct_check("gru dw_ih", dwih, REC_RTOL, REC_ATOL);
    ct_check("gru db_ih", dbih, REC_RTOL, REC_ATOL);
    ct_check("gru dw_hh", dwhh, REC_RTOL, REC_ATOL);
    ct_check("gru db_hh", dbhh, REC_RTOL, REC_ATOL);
}

TEST(cuda_gru)
{
    CT_BEGIN();
    gru_case(37, 12, 20, 32, 1);
    gru_case(100, 19, 100, 100, 0);
}

/* Block-diagonal random session graphs: T nodes in sessions of 1..6 nodes,
 * random edges inside each, values 1 / in-degree. */
static void make_csr(int T, uint64_t seed, int32_t *ptr, int32_t *col, float *val, int *nnz)
{
    int e = 0, start = 0;
    ptr[0] = 0;
    while (start < T) {
        int n = 1 + (int)(sbr_rng_hash(seed, (uint64_t)start) % 6);
        if (start + n > T)
            n = T - start;
        for (int i = start; i < start + n; i++) {
            int e0 = e;
            for (int j = start; j < start + n; j++)
                if (sbr_rng_hash(seed + 1, (uint64_t)i * T + j) % 3 == 0)
                    col[e++] = j;
            for (int q = e0; q < e; q++)
                val[q] = 1.0f / (float)(e - e0);
            ptr[i + 1] = e;
        }
        start += n;
    }
    *nnz = e;
}

/* (tptr, tcol, tval) = A^T, rows in ascending column order (a stable
 * counting sort of the entries by column). */
static void transpose_csr(int T, const int32_t *ptr, const int32_t *col, const float *val,
                          int32_t *tptr, int32_t *tcol, float *tval)
{
    memset(tptr, 0, (size_t)(T + 1) * sizeof(int32_t));
    for (int e = 0; e < ptr[T]; e++)
        tptr[col[e] + 1]++;
    for (int i = 0; i < T; i++)
        tptr[i + 1] += tptr[i];
    static int32_t fill[1024];
    memcpy(fill, tptr, (size_t)T * sizeof(int32_t));
    for (int i = 0; i < T; i++)
        for (int e = ptr[i]; e < ptr[i + 1]; e++) {
            int q = fill[col[e]]++;
            tcol[q] = i;
            if (tval)
                tval[q] = val[e];
        }
}

/* transposed: A_out is A_in's pattern transposed (with its own values), and
 * the backward gets the transposes' values (batch.c's in_tw / out_tw);
 * else two unrelated matrices and the backward sorts. */
static void ggnn_case(int steps, int transposed)
{
    int T = 211, d = 24;
    size_t Td = (size_t)T * d;
    static int32_t ip[1024], ic[8192], op[1024], oc[8192];
    static float iv[8192], ov[8192], itv[8192], otv[8192];
    int ni, no;
    make_csr(T, 11, ip, ic, iv, &ni);
    if (transposed) {
        transpose_csr(T, ip, ic, iv, op, oc, itv);
        no = ni;
        for (int i = 0; i < T; i++)
            for (int e = op[i]; e < op[i + 1]; e++)
                ov[e] = 1.0f / (float)(op[i + 1] - op[i]);
        for (int i = 0; i < T; i++)
            for (int e = ip[i]; e < ip[i + 1]; e++) { /* A_out^T[i][j] = A_out[j][i] */
                int j = ic[e], f = op[j];
                while (oc[f] != i)
                    f++;
                otv[e] = ov[f];
            }
    } else
        make_csr(T, 29, op, oc, ov, &no);
    ct_buf itvb = ct_in(no ? no : 1, 0, 0), otvb = ct_in(ni ? ni : 1, 0, 0);
    memcpy(itvb.h, itv, (size_t)no * sizeof(float));
    memcpy(otvb.h, otv, (size_t)ni * sizeof(float));
    sbr_cuda_h2d(itvb.d, itvb.h, itvb.n * sizeof(float));
    sbr_cuda_h2d(otvb.d, otvb.h, otvb.n * sizeof(float));
    ct_ibuf inp = ct_ints_from(ip, T + 1), inc = ct_ints_from(ic, ni ? ni : 1);
    ct_ibuf outp = ct_ints_from(op, T + 1), outc = ct_ints_from(oc, no ? no : 1);
    ct_buf inv = ct_in(ni ? ni : 1, 0, 0), outv = ct_in(no ? no : 1, 0, 0);
    memcpy(inv.h, iv, (size_t)ni * sizeof(float));
    memcpy(outv.h, ov, (size_t)no * sizeof(float));
    sbr_cuda_h2d(inv.d, inv.h, inv.n * sizeof(float));
    sbr_cuda_h2d(outv.d, outv.h, outv.n * sizeof(float));
    ct_buf h0 = ct_in(Td, -1, 1), w_in = ct_in((size_t)d * d, -0.3f, 0.3f);
    ct_buf w_out = ct_in((size_t)d * d, -0.3f, 0.3f), b_in = ct_in(d, -0.3f, 0.3f);
    ct_buf b_out = ct_in(d, -0.3f, 0.3f), b_iah = ct_in(d, -0.3f, 0.3f);
    ct_buf b_oah = ct_in(d, -0.3f, 0.3f), w_ih = ct_in((size_t)6 * d * d, -0.3f, 0.3f);
    ct_buf b_ih = ct_in((size_t)3 * d, -0.3f, 0.3f), w_hh = ct_in((size_t)3 * d * d, -0.3f, 0.3f);
    ct_buf b_hh = ct_in((size_t)3 * d, -0.3f, 0.3f);
    ct_buf hout = ct_out(Td), hst = ct_out(steps * Td), a = ct_out(steps * 2 * Td);
    ct_buf gates = ct_out(steps * 3 * Td), ghn = ct_out(steps * Td);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_ggnn_scratch_f32(T, d));
    sbr_nn_ggnn_graph_f32 grh = {inp.h, inc.h, inv.h, outp.h, outc.h, outv.h,
                                 transposed ? itvb.h : NULL, transposed ? otvb.h : NULL, T};
    sbr_nn_ggnn_graph_cuda grd = {inp.d, inc.d, inv.d, outp.d, outc.d, outv.d,
                                  transposed ? itvb.d : NULL, transposed ? otvb.d : NULL, T};
    sbr_nn_ggnn_saved_f32 svh = {hst.h, a.h, gates.h, ghn.h};
    sbr_nn_ggnn_saved_cuda svd = {hst.d, a.d, gates.d, ghn.d};
    sbr_nn_ggnn_w_f32 wh = {w_in.h, b_in.h, w_out.h, b_out.h, b_iah.h,
                            b_oah.h, w_ih.h, b_ih.h, w_hh.h,  b_hh.h};
    sbr_nn_ggnn_w_cuda wd = {w_in.d, b_in.d, w_out.d, b_out.d, b_iah.d,
                             b_oah.d, w_ih.d, b_ih.d, w_hh.d,  b_hh.d};
    sbr_nn_ggnn_forward_f32(cpu, hout.h, &svh, h0.h, &grh, &wh, d, steps);
    sbr_nn_ggnn_forward_cuda(ct_ctx(), hout.d, &svd, h0.d, &grd, &wd, d, steps);
    ct_check("ggnn hout", hout, REC_RTOL, REC_ATOL);
    ct_check("ggnn hsteps", hst, REC_RTOL, REC_ATOL);
    ct_check("ggnn a", a, REC_RTOL, REC_ATOL);
    ct_check("ggnn gates", gates, REC_RTOL, REC_ATOL);
    ct_check("ggnn ghn", ghn, REC_RTOL, REC_ATOL);
    sbr_cuda_h2d(hst.d, hst.h, hst.n * sizeof(float));
    sbr_cuda_h2d(a.d, a.h, a.n * sizeof(float));
    sbr_cuda_h2d(gates.d, gates.h, gates.n * sizeof(float));
    sbr_cuda_h2d(ghn.d, ghn.h, ghn.n * sizeof(float));
    ct_buf dho = ct_in(Td, -1, 1), dh0 = ct_acc(Td);
    ct_buf g[10] = {ct_acc((size_t)d * d), ct_acc(d), ct_acc((size_t)d * d), ct_acc(d),
                    ct_acc(d), ct_acc(d), ct_acc((size_t)6 * d * d), ct_acc((size_t)3 * d),
                    ct_acc((size_t)3 * d * d), ct_acc((size_t)3 * d)};
    static const char *names[10] = {"dw_in", "db_in", "dw_out", "db_out", "db_iah",
                                    "db_oah", "dw_ih", "db_ih", "dw_hh", "db_hh"};
    sbr_nn_ggnn_w_f32 dwh = {g[0].h, g[1].h, g[2].h, g[3].h, g[4].h,
                             g[5].h, g[6].h, g[7].h, g[8].h, g[9].h};
    sbr_nn_ggnn_w_cuda dwd = {g[0].d, g[1].d, g[2].d, g[3].d, g[4].d,
                              g[5].d, g[6].d, g[7].d, g[8].d, g[9].d};
    sbr_nn_ggnn_backward_f32(cpu, dh0.h, &dwh, dho.h, &svh, &grh, &wh, d, steps);
    sbr_nn_ggnn_backward_cuda(ct_ctx(), dh0.d, &dwd, dho.d, &svd, &grd, &wd, d, steps);
    ct_check("ggnn dh0", dh0, REC_RTOL, REC_ATOL);
    for (int i = 0; i < 10; i++)
        ct_check(names[i], g[i], REC_RTOL, REC_ATOL);
    ct_check_bits("ggnn dhout is only read", dho.d, dho.h, dho.n * sizeof(float));
}

/* one step (SR-GNN's default: the backward's buffers zeroed in one memset),
 * two and three (the input gradient alternating between two buffers); the
 * backward sorting by column, and given the transposes (as SR-GNN does) */
TEST(cuda_ggnn)
{
    CT_BEGIN();
    for (int steps = 1; steps <= 3; steps++)
        for (int transposed = 0; transposed <= 1; transposed++)
            ggnn_case(steps, transposed);
}

TEST(cuda_gaussian)
{
    CT_BEGIN();
    int n = 50001, B = 77, d = 64;
    ct_buf mu = ct_in(n, -1, 1), sg = ct_in(n, 0.1f, 1), z = ct_out(n), eps = ct_out(n);
    sbr_nn_gauss_sample_forward_f32(NULL, z.h, eps.h, mu.h, sg.h, n, 99, 12345);
    sbr_nn_gauss_sample_forward_cuda(ct_ctx(), z.d, eps.d, mu.d, sg.d, n, 99, 12345);
    /* the same draws (double Box-Muller; device log/cos within 1 ulp) */
    ct_check("gauss eps", eps, 1e-7, 1e-7);
    ct_check("gauss z", z, EW_RTOL, EW_ATOL);
    sbr_cuda_h2d(eps.d, eps.h, eps.n * sizeof(float));
    ct_buf dz = ct_in(n, -1, 1), dmu = ct_acc(n), dsg = ct_acc(n);
    sbr_nn_gauss_sample_backward_f32(NULL, dmu.h, dsg.h, dz.h, eps.h, n);
    sbr_nn_gauss_sample_backward_cuda(ct_ctx(), dmu.d, dsg.d, dz.d, eps.d, n);
    ct_check("gauss dmu", dmu, 0, 0);
    ct_check("gauss dsigma", dsg, EW_RTOL, EW_ATOL);

    size_t Bd = (size_t)B * d;
    ct_buf mq = ct_in(Bd, -1, 1), sq = ct_in(Bd, 0.2f, 2), mp = ct_in(Bd, -1, 1);
    ct_buf sp = ct_in(Bd, 0.2f, 2), kl = ct_out(B);
    sbr_nn_gauss_kl_forward_f32(NULL, kl.h, mq.h, sq.h, mp.h, sp.h, B, d);
    sbr_nn_gauss_kl_forward_cuda(ct_ctx(), kl.d, mq.d, sq.d, mp.d, sp.d, B, d);
    ct_check("kl", kl, RED_RTOL, RED_ATOL);
    ct_buf dkl = ct_in(B, -1, 1), g1 = ct_acc(Bd), g2 = ct_acc(Bd), g3 = ct_acc(Bd);
    ct_buf g4 = ct_acc(Bd);
    sbr_nn_gauss_kl_backward_f32(NULL, g1.h, g2.h, g3.h, g4.h, dkl.h, mq.h, sq.h, mp.h, sp.h, B,
                                 d);
    sbr_nn_gauss_kl_backward_cuda(ct_ctx(), g1.d, g2.d, g3.d, g4.d, dkl.d, mq.d, sq.d, mp.d, sp.d,
                                  B, d);
    ct_check("kl dmu_q", g1, RED_RTOL, RED_ATOL);
    ct_check("kl dsigma_q", g2, RED_RTOL, RED_ATOL);
    ct_check("kl dmu_p", g3, RED_RTOL, RED_ATOL);
    ct_check("kl dsigma_p", g4, RED_RTOL, RED_ATOL);
}

/* K draws per row (the CPU's eps, either way of drawing), and the sums over
 * k of the backward */
TEST(cuda_gauss_sample_k)
{
    CT_BEGIN();
    int B = 37, K = 9, n = 101;
    size_t Bn = (size_t)B * n, Z = Bn * K;
    ct_buf mu = ct_in(Bn, -1, 1), sg = ct_in(Bn, 0.1f, 1);
    for (int shared = 0; shared <= 1; shared++) {
        ct_buf z = ct_out(Z), eps = ct_out(Z);
        sbr_nn_gauss_sample_k_forward_f32(NULL, z.h, eps.h, mu.h, sg.h, B, K, n, 99, 777,
                                          shared);
        sbr_nn_gauss_sample_k_forward_cuda(ct_ctx(), z.d, eps.d, mu.d, sg.d, B, K, n, 99, 777,
                                           shared);
        ct_check(shared ? "gauss_k eps (shared)" : "gauss_k eps", eps, 1e-7, 1e-7);
        ct_check(shared ? "gauss_k z (shared)" : "gauss_k z", z, EW_RTOL, EW_ATOL);
        sbr_cuda_h2d(eps.d, eps.h, eps.n * sizeof(float));
        ct_buf dz = ct_in(Z, -1, 1), dmu = ct_acc(Bn), dsg = ct_acc(Bn);
        sbr_nn_gauss_sample_k_backward_f32(NULL, dmu.h, dsg.h, dz.h, eps.h, B, K, n);
        sbr_nn_gauss_sample_k_backward_cuda(ct_ctx(), dmu.d, dsg.d, dz.d, eps.d, B, K, n);
        ct_check("gauss_k dmu", dmu, 0, 0); /* the same additions in the same order */
        ct_check("gauss_k dsigma", dsg, RED_RTOL, RED_ATOL);
        ct_buf dmu2 = ct_acc(Bn); /* dsigma NULL: skipped */
        sbr_nn_gauss_sample_k_backward_f32(NULL, dmu2.h, NULL, dz.h, eps.h, B, K, n);
        sbr_nn_gauss_sample_k_backward_cuda(ct_ctx(), dmu2.d, NULL, dz.d, eps.d, B, K, n);
        ct_check("gauss_k dmu (no dsigma)", dmu2, 0, 0);
    }
}

TEST(cuda_hinge)
{
    CT_BEGIN();
    int B = 64, M = 300;
    int ks[] = {0, 10, 299, 300};
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        ct_buf dpos = ct_in(B, 0, 1), dneg = ct_in((size_t)B * M, 0, 2), loss = ct_out(B);
        for (int j = 0; j < M; j += 7) /* ties and excluded slots */
            dneg.h[j] = dneg.h[j + 1 < M ? j + 1 : j], dneg.h[(j + 3) % M] = INFINITY;
        sbr_cuda_h2d(dneg.d, dneg.h, dneg.n * sizeof(float));
        ct_bbuf keep = ct_bytes_out((size_t)B * M);
        sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_hinge_scratch_f32(B, M, ks[c]) + 1);
        sbr_nn_hinge_forward_f32(cpu, loss.h, keep.h, dpos.h, dneg.h, B, M, 0.5f, ks[c]);
        sbr_nn_hinge_forward_cuda(ct_ctx(), loss.d, keep.d, dpos.d, dneg.d, B, M, 0.5f, ks[c]);
        ct_check_bits("hinge keep", keep.d, keep.h, keep.n);
        ct_check("hinge loss", loss, 0, 0); /* the same additions in the same order */
        ct_buf dl = ct_in(B, -1, 1), ddp = ct_acc(B), ddn = ct_acc((size_t)B * M);
        sbr_nn_hinge_backward_f32(NULL, ddp.h, ddn.h, dl.h, keep.h, B, M);
        sbr_nn_hinge_backward_cuda(ct_ctx(), ddp.d, ddn.d, dl.d, keep.d, B, M);
        ct_check("hinge ddpos", ddp, EW_RTOL, EW_ATOL);
        ct_check("hinge ddneg", ddn, 0, 0);
    }
}

/* The session-nodes pair on the GPU gives the CPU's bits: the gather copies,
 * and the backward adds each node's rows in the CPU's order. */
TEST(cuda_session_nodes)
{
    CT_BEGIN();
    enum { B = 100, L = 19, d = 100 };
    static int32_t alias[B * L], last[B], node_sess[B * 4];
    int T;
    session_batch(B, L, alias, last, node_sess, &T);
    ct_ibuf al = ct_ints_from(alias, B * L), la = ct_ints_from(last, B);
    ct_ibuf ns = ct_ints_from(node_sess, T);
    ct_buf H = ct_in((size_t)T * d, -1, 1), y = ct_out((size_t)B * L * d), yl = ct_out(B * d);
    ct_buf dy = ct_in((size_t)B * L * d, -1, 1), dyl = ct_in(B * d, -1, 1);
    ct_buf dH = ct_acc((size_t)T * d);
    sbr_nn_session_nodes_forward_f32(NULL, y.h, yl.h, H.h, al.h, la.h, ns.h, B, L, T, d);
    sbr_nn_session_nodes_forward_cuda(ct_ctx(), y.d, yl.d, H.d, al.d, la.d, ns.d, B, L, T, d);
    sbr_nn_session_nodes_backward_f32(NULL, dH.h, dy.h, dyl.h, al.h, la.h, ns.h, B, L, T, d);
    sbr_nn_session_nodes_backward_cuda(ct_ctx(), dH.d, dy.d, dyl.d, al.d, la.d, ns.d, B, L, T,
                                       d);
    ct_check_bits("session_nodes y", y.d, y.h, y.n * sizeof(float));
    ct_check_bits("session_nodes ylast", yl.d, yl.h, yl.n * sizeof(float));
    ct_check_bits("session_nodes dH", dH.d, dH.h, dH.n * sizeof(float));
}
