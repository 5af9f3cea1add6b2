/* A whole tiny session model, composed from ops and gradient-checked end to
 * end: the item table E is used twice — as input embeddings (gather) and as
 * the output layer (fused score + CE) — so its gradient is the sum of both
 * backward paths, which is what "backward accumulates" is for.
 *
 *   h = E[items]                          [B, L, d]   embedding, pad 0
 *   g = l2norm(h) * 0.9 ... (dropout off)             l2norm + scale
 *   z = tanh(g W^T + c)                   [B, L, d]   linear + tanh
 *   e = seq_dot(z, q)                     [B, L]      attention logits
 *   a = masked_softmax(e)                 [B, L]
 *   s = seq_weighted_sum(a, g) + mean(g)  [B, d]      + seq_mean, add
 *   s = layernorm(s)                      [B, d]
 *   loss = mean_b score_ce(s, E, target)              fused, chunk 5 */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

enum { MB = 4, ML = 5, MD = 6, MN = 13 };
static const int32_t mlen[MB] = {5, 2, 1, 3};

typedef struct {
    /* parameters and their gradients */
    double E[(MN + 1) * MD], W[MD * MD], c[MD], q[MB * MD], gam[MD], bet[MD];
    double dE[(MN + 1) * MD], dW[MD * MD], dc[MD], dq[MB * MD], dgam[MD], dbet[MD];
    int32_t items[MB * ML], target[MB];
    /* activations and their gradients */
    double h[MB * ML * MD], g[MB * ML * MD], nrm[MB * ML], u[MB * ML * MD], z[MB * ML * MD],
        e[MB * ML], a[MB * ML], s1[MB * MD], s2[MB * MD], s[MB * MD], y[MB * MD], mu[MB],
        rs[MB], loss[MB], lse[MB], dl[MB];
    double dh[MB * ML * MD], dg[MB * ML * MD], du[MB * ML * MD], dz[MB * ML * MD], de[MB * ML],
        da[MB * ML], ds[MB * MD], dy[MB * MD];
    double scratch[4096];
} mini;

static double mini_forward(void *p)
{
    mini *m = p;
    sbr_nn_ctx c = {.scratch = m->scratch, .scratch_bytes = sizeof m->scratch};
    int T = MB * ML;
    sbr_nn_embedding_forward_f64(&c, m->h, m->E, m->items, T, MN + 1, MD, 0);
    sbr_nn_l2norm_forward_f64(&c, m->g, m->nrm, m->h, T, MD, 1e-12);
    sbr_nn_scale_forward_f64(&c, m->g, m->g, T * MD, 0.9);
    sbr_nn_linear_forward_f64(&c, m->u, m->g, m->W, m->c, T, MD, MD);
    sbr_nn_tanh_forward_f64(&c, m->z, m->u, T * MD);
    sbr_nn_seq_dot_forward_f64(&c, m->e, m->z, m->q, mlen, MB, ML, MD);
    sbr_nn_masked_softmax_forward_f64(&c, m->a, m->e, mlen, MB, ML);
    sbr_nn_seq_weighted_sum_forward_f64(&c, m->s1, m->a, m->g, mlen, MB, ML, MD);
    sbr_nn_seq_mean_forward_f64(&c, m->s2, m->g, mlen, MB, ML, MD);
    sbr_nn_add_forward_f64(&c, m->s, m->s1, m->s2, MB * MD);
    sbr_nn_layernorm_forward_f64(&c, m->y, m->mu, m->rs, m->s, m->gam, m->bet, MB, MD, 1e-5);
    sbr_nn_score_ce_forward_f64(&c, m->loss, m->lse, m->y, m->E, m->target,
                                (sbr_nn_scoring){MB, 1, MN, MD, 5, 0});
    double L = 0;
    for (int b = 0; b < MB; b++)
        L += m->loss[b] / MB;
    return L;
}

static void mini_backward(void *p)
{
    mini *m = p;
    sbr_nn_ctx c = {.scratch = m->scratch, .scratch_bytes = sizeof m->scratch};
    int T = MB * ML;
    mini_forward(m);
    memset(m->dE, 0, sizeof m->dE), memset(m->dW, 0, sizeof m->dW), memset(m->dc, 0, sizeof m->dc);
    memset(m->dq, 0, sizeof m->dq), memset(m->dgam, 0, sizeof m->dgam);
    memset(m->dbet, 0, sizeof m->dbet), memset(m->dh, 0, sizeof m->dh);
    memset(m->dg, 0, sizeof m->dg), memset(m->du, 0, sizeof m->du), memset(m->dz, 0, sizeof m->dz);
    memset(m->de, 0, sizeof m->de), memset(m->da, 0, sizeof m->da), memset(m->ds, 0, sizeof m->ds);
    memset(m->dy, 0, sizeof m->dy);
    for (int b = 0; b < MB; b++)
        m->dl[b] = 1.0 / MB;
    sbr_nn_score_ce_backward_f64(&c, m->dy, m->dE, m->dl, m->y, m->E, m->target, m->lse,
                                 (sbr_nn_scoring){MB, 1, MN, MD, 5, 0});
    sbr_nn_layernorm_backward_f64(&c, m->ds, m->dgam, m->dbet, m->dy, m->s, m->mu, m->rs, m->gam,
                                  MB, MD);
    sbr_nn_add_backward_f64(&c, NULL, NULL, m->ds, MB * MD); /* s1 and s2 share ds */
    sbr_nn_seq_mean_backward_f64(&c, m->dg, m->ds, mlen, MB, ML, MD);
    sbr_nn_seq_weighted_sum_backward_f64(&c, m->da, m->dg, m->ds, m->a, m->g, mlen, MB, ML, MD);
    sbr_nn_masked_softmax_backward_f64(&c, m->de, m->da, m->a, mlen, MB, ML);
    sbr_nn_seq_dot_backward_f64(&c, m->dz, m->dq, m->de, m->z, m->q, mlen, MB, ML, MD);
    sbr_nn_tanh_backward_f64(&c, m->du, m->dz, m->z, T * MD);
    sbr_nn_linear_backward_f64(&c, m->dg, m->dW, m->dc, m->du, m->g, m->W, T, MD, MD);
    /* g = 0.9 * l2norm(h), computed in place: dgn = 0.9 dg. The l2norm's y is
     * the unscaled g, recovered as g / 0.9. */
    double gn[MB * ML * MD], dgn[MB * ML * MD];
    memset(dgn, 0, sizeof dgn);
    for (int i = 0; i < T * MD; i++)
        gn[i] = m->g[i] / 0.9;
    sbr_nn_scale_backward_f64(&c, dgn, m->dg, T * MD, 0.9);
    sbr_nn_l2norm_backward_f64(&c, m->dh, dgn, gn, m->nrm, T, MD, 1e-12);
    sbr_nn_embedding_backward_f64(&c, m->dE, m->dh, m->items, T, MN + 1, MD, 0);
}

TEST(nn_composed_session_model_gradcheck)
{
    mini *m = calloc(1, sizeof *m);
    gc_fill(m->E, (MN + 1) * MD, -1, 1, 1);
    gc_fill(m->W, MD * MD, -0.7, 0.7, 2);
    gc_fill(m->c, MD, -0.3, 0.3, 3);
    gc_fill(m->q, MB * MD, -1, 1, 4);
    gc_fill(m->gam, MD, 0.5, 1.5, 5);
    gc_fill(m->bet, MD, -0.5, 0.5, 6);
    for (int b = 0; b < MB; b++) {
        m->target[b] = 1 + (b * 5 + 3) % MN;
        for (int j = 0; j < ML; j++) /* padding 0 after the length; a repeated item */
            m->items[b * ML + j] = j < mlen[b] ? 1 + (b * 3 + j * 4) % MN : 0;
    }
    m->items[1] = m->items[0];
    gc_spec s = {.op = "session_model", .loss = mini_forward, .backward = mini_backward,
                 .user = m};
    gc_add(&s, "E", m->E, m->dE, (MN + 1) * MD);
    gc_add(&s, "W", m->W, m->dW, MD * MD);
    gc_add(&s, "c", m->c, m->dc, MD);
    gc_add(&s, "q", m->q, m->dq, MB * MD);
    gc_add(&s, "gamma", m->gam, m->dgam, MD);
    gc_add(&s, "beta", m->bet, m->dbet, MD);
    CHECK_EQ_I64(gradcheck(&s), 0);
    for (int k = 0; k < MD; k++)
        CHECK(m->dE[k] == 0); /* row 0: padding, never scored nor gathered */
    free(m);
}
