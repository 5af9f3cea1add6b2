/* Determinism on the GPU: the backward passes that reduce across rows
 * (fused score+CE over chunks, attention over queries and keys, the GRU
 * over steps) give the same bits when run twice. */
#include <string.h>

#include "cuda_test.h"

TEST(cuda_backward_passes_repeat_bit_for_bit)
{
    CT_BEGIN();
    /* score + CE, three chunks */
    int B = 64, N = 20000, d = 48;
    ct_buf S = ct_in((size_t)B * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    ct_ibuf target = ct_ints(B, 1, N);
    ct_buf loss = ct_out(B), lse = ct_out(B), dl = ct_in(B, 0.01f, 0.02f);
    sbr_nn_scoring sc = {B, 1, N, d, 8192, 0};
    sbr_nn_score_ce_forward_cuda(ct_ctx(), loss.d, lse.d, S.d, E.d, target.d, sc);
    float *first[2] = {NULL, NULL};
    for (int r = 0; r < 2; r++) {
        ct_buf dS = ct_in((size_t)B * d, 0, 0), dE = ct_in((size_t)(N + 1) * d, 0, 0);
        sbr_nn_score_ce_backward_cuda(ct_ctx(), dS.d, dE.d, dl.d, S.d, E.d, target.d, lse.d, sc);
        if (r == 0) {
            first[0] = ct_download(dS.d, dS.n);
            first[1] = ct_download(dE.d, dE.n);
        } else {
            ct_check_bits("score_ce dS again", dS.d, first[0], dS.n * sizeof(float));
            ct_check_bits("score_ce dE again", dE.d, first[1], dE.n * sizeof(float));
        }
    }

    /* attention core, causal */
    int Bq = 17, L = 29, dm = 64, nh = 4;
    size_t BLd = (size_t)Bq * L * dm, A = (size_t)Bq * nh * L * L;
    ct_ibuf len = ct_ints(Bq, 0, L);
    ct_buf q = ct_in(BLd, -1, 1), k = ct_in(BLd, -1, 1), v = ct_in(BLd, -1, 1);
    ct_buf o = ct_out(BLd), p = ct_out(A), g = ct_in(BLd, -1, 1);
    sbr_nn_qkv_cuda mx = {q.d, k.d, v.d};
    sbr_nn_mha_forward_cuda(ct_ctx(), o.d, p.d, &mx, NULL, len.d, Bq, L, dm, nh, 1);
    float *mfirst[3] = {NULL, NULL, NULL};
    for (int r = 0; r < 2; r++) {
        ct_buf dq = ct_in(BLd, 0, 0), dk = ct_in(BLd, 0, 0), dv = ct_in(BLd, 0, 0);
        sbr_nn_qkv_cuda mdx = {dq.d, dk.d, dv.d};
        sbr_nn_mha_backward_cuda(ct_ctx(), &mdx, g.d, p.d, &mx, NULL, len.d, Bq, L, dm, nh, 1);
        const float *outs[3] = {dq.d, dk.d, dv.d};
        for (int i = 0; i < 3; i++) {
            if (r == 0)
                mfirst[i] = ct_download(outs[i], BLd);
            else
                ct_check_bits("mha gradient again", outs[i], mfirst[i], BLd * sizeof(float));
        }
    }

    /* GRU over a padded batch */
    int Bg = 31, Lg = 9, In = 24, H = 32;
    size_t H3 = 3 * (size_t)H, BL = (size_t)Bg * Lg;
    ct_ibuf glen = ct_ints(Bg, 0, Lg);
    ct_buf x = ct_in(BL * In, -1, 1), wih = ct_in(H3 * In, -0.3f, 0.3f);
    ct_buf whh = ct_in(H3 * H, -0.3f, 0.3f), bih = ct_in(H3, -0.3f, 0.3f);
    ct_buf hs = ct_out(BL * H), gates = ct_out(BL * H3), ghn = ct_out(BL * H);
    ct_buf dhs = ct_in(BL * H, -1, 1);
    sbr_nn_gru_out_cuda gy = {hs.d, NULL, gates.d, ghn.d};
    sbr_nn_gru_w_cuda gw = {wih.d, bih.d, whh.d, bih.d};
    sbr_nn_seq_shape gsh = {Bg, Lg, In, H};
    sbr_nn_gru_forward_cuda(ct_ctx(), &gy, x.d, glen.d, NULL, &gw, gsh);
    float *gfirst[3] = {NULL, NULL, NULL};
    for (int r = 0; r < 2; r++) {
        ct_buf dx = ct_in(BL * In, 0, 0), dwih = ct_in(H3 * In, 0, 0), dwhh = ct_in(H3 * H, 0, 0);
        sbr_nn_gru_w_cuda gdw = {dwih.d, NULL, dwhh.d, NULL};
        sbr_nn_gru_backward_cuda(ct_ctx(), dx.d, NULL, &gdw, dhs.d, NULL, &gy, x.d, glen.d, NULL,
                                 &gw, gsh);
        const ct_buf *outs[3] = {&dx, &dwih, &dwhh};
        for (int i = 0; i < 3; i++) {
            if (r == 0)
                gfirst[i] = ct_download(outs[i]->d, outs[i]->n);
            else
                ct_check_bits("gru gradient again", outs[i]->d, gfirst[i],
                              outs[i]->n * sizeof(float));
        }
    }
}
