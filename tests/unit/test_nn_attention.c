/* Masked attention pieces (masked_softmax, seq_weighted_sum, seq_dot) with
 * variable lengths (0, 1, partial, full), and the SR-GNN / NARM additive
 * readout composed from ops, gradient-checked end to end. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

enum { B_ = 5, L_ = 6, D_ = 4 };
static int32_t lens[B_] = {3, 0, 6, 1, 4};

typedef struct {
    int kind; /* 0 softmax, 1 weighted sum, 2 dot */
    double x[B_ * L_ * D_], dx[B_ * L_ * D_];
    double a[B_ * L_], da[B_ * L_];
    double q[B_ * D_], dq[B_ * D_];
    double y[B_ * L_ * D_], w[B_ * L_ * D_];
} att_case;

static double att_loss(void *u)
{
    att_case *c = u;
    sbr_nn_ctx x = {0};
    switch (c->kind) {
    case 0:
        sbr_nn_masked_softmax_forward_f64(&x, c->y, c->a, lens, B_, L_);
        return gc_dot(c->w, c->y, B_ * L_);
    case 1:
        sbr_nn_seq_weighted_sum_forward_f64(&x, c->y, c->a, c->x, lens, B_, L_, D_);
        return gc_dot(c->w, c->y, B_ * D_);
    default:
        sbr_nn_seq_dot_forward_f64(&x, c->y, c->x, c->q, lens, B_, L_, D_);
        return gc_dot(c->w, c->y, B_ * L_);
    }
}

static void att_backward(void *u)
{
    att_case *c = u;
    sbr_nn_ctx x = {0};
    memset(c->dx, 0, sizeof c->dx), memset(c->da, 0, sizeof c->da), memset(c->dq, 0, sizeof c->dq);
    att_loss(c);
    switch (c->kind) {
    case 0: sbr_nn_masked_softmax_backward_f64(&x, c->da, c->w, c->y, lens, B_, L_); break;
    case 1:
        sbr_nn_seq_weighted_sum_backward_f64(&x, c->da, c->dx, c->w, c->a, c->x, lens, B_, L_, D_);
        break;
    default:
        sbr_nn_seq_dot_backward_f64(&x, c->dx, c->dq, c->w, c->x, c->q, lens, B_, L_, D_);
        break;
    }
}

TEST(nn_attention_pieces_gradcheck)
{
    static const char *names[3] = {"masked_softmax", "seq_weighted_sum", "seq_dot"};
    for (int k = 0; k < 3; k++) {
        att_case *c = calloc(1, sizeof *c);
        c->kind = k;
        gc_fill(c->x, B_ * L_ * D_, -1, 1, 1 + k);
        gc_fill(c->a, B_ * L_, -2, 2, 4 + k);
        gc_fill(c->q, B_ * D_, -1, 1, 7 + k);
        gc_fill(c->w, B_ * L_ * D_, -1, 1, 9 + k);
        gc_spec s = {.op = names[k], .loss = att_loss, .backward = att_backward, .user = c};
        if (k != 0)
            gc_add(&s, "x", c->x, c->dx, B_ * L_ * D_);
        if (k != 2)
            gc_add(&s, "a", c->a, c->da, B_ * L_);
        if (k == 2)
            gc_add(&s, "q", c->q, c->dq, B_ * D_);
        CHECK_EQ_I64(gradcheck(&s), 0);
        att_loss(c);
        if (k == 0) /* rows sum to 1 over their length, masked entries are 0 */
            for (int b = 0; b < B_; b++) {
                double sum = 0;
                for (int j = 0; j < L_; j++) {
                    sum += c->y[b * L_ + j];
                    if (j >= lens[b])
                        CHECK(c->y[b * L_ + j] == 0);
                }
                CHECK_NEAR(sum, lens[b] ? 1 : 0, 1e-14);
            }
        if (k == 2) /* masked scores are 0 */
            CHECK(c->y[1 * L_ + 0] == 0 && c->y[3 * L_ + 1] == 0);
        free(c);
    }
}

TEST(nn_masked_softmax_f32_matches_f64)
{
    float xf[B_ * L_], yf[B_ * L_];
    double xd[B_ * L_], yd[B_ * L_];
    gc_fill_f(xf, B_ * L_, -30, 30, 3);
    for (int i = 0; i < B_ * L_; i++)
        xd[i] = xf[i];
    sbr_nn_ctx c = {0};
    sbr_nn_masked_softmax_forward_f32(&c, yf, xf, lens, B_, L_);
    sbr_nn_masked_softmax_forward_f64(&c, yd, xd, lens, B_, L_);
    CHECK(gc_agree_f32(yf, yd, B_ * L_, 1e-5, 1e-7) <= 1);
}

/* len NULL is every row's whole L: the same bits as a len of L per row. */
TEST(nn_masked_softmax_without_len)
{
    double x[B_ * L_], y1[B_ * L_], y2[B_ * L_], dy[B_ * L_], d1[B_ * L_] = {0}, d2[B_ * L_] = {0};
    int32_t full[B_];
    for (int b = 0; b < B_; b++)
        full[b] = L_;
    gc_fill(x, B_ * L_, -3, 3, 7), gc_fill(dy, B_ * L_, -1, 1, 8);
    sbr_nn_ctx c = {0};
    sbr_nn_masked_softmax_forward_f64(&c, y1, x, full, B_, L_);
    sbr_nn_masked_softmax_forward_f64(&c, y2, x, NULL, B_, L_);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    sbr_nn_masked_softmax_backward_f64(&c, d1, dy, y1, full, B_, L_);
    sbr_nn_masked_softmax_backward_f64(&c, d2, dy, y2, NULL, B_, L_);
    CHECK(memcmp(d1, d2, sizeof d1) == 0);
    CHECK(d1[0] != 0);
}

/* The additive readout: x [B, L, d] item states, lens, last = x[b, len-1];
 *   z = sigmoid(W1 last + W2 x_j + c)      [B, L, d]
 *   alpha = z q^T                           [B, L]   (linear, out = 1, no bias)
 *   s = sum_j alpha_j x_j                   [B, d]
 * step by step, or (`fused`) as additive_gate and attn_pool.
 * Every sequence has len >= 1 here (a readout of an empty session is undefined). */
static int32_t rlens[B_] = {3, 2, 6, 1, 4};

typedef struct {
    double x[B_ * L_ * D_], W1[D_ * D_], W2[D_ * D_], c[D_], q[D_];
    double dx[B_ * L_ * D_], dW1[D_ * D_], dW2[D_ * D_], dc[D_], dq[D_];
    /* activations */
    int32_t last_idx[B_];
    double last[B_ * D_], u[B_ * D_], v[B_ * L_ * D_], z[B_ * L_ * D_], alpha[B_ * L_],
        s[B_ * D_], w[B_ * D_];
    /* activation gradients */
    double dlast[B_ * D_], du[B_ * D_], dv[B_ * L_ * D_], dz[B_ * L_ * D_], dalpha[B_ * L_];
    int fused;
} readout;

static double readout_forward(void *p)
{
    readout *r = p;
    sbr_nn_ctx c = {0};
    for (int b = 0; b < B_; b++)
        r->last_idx[b] = b * L_ + rlens[b] - 1;
    sbr_nn_embedding_forward_f64(&c, r->last, r->x, r->last_idx, B_, B_ * L_, D_, -1);
    if (r->fused) {
        sbr_nn_seq_shape sh = {B_, L_, D_, D_};
        sbr_nn_additive_gate_forward_f64(&c, r->z, r->u, r->x, r->last,
                                         &(sbr_nn_additive_gate_w_f64){r->W2, r->c, r->W1, NULL},
                                         sh);
        sbr_nn_attn_pool_forward_f64(&c, r->s, r->alpha, r->z, r->q, r->x, rlens, sh);
    } else {
        sbr_nn_linear_forward_f64(&c, r->u, r->last, r->W1, NULL, B_, D_, D_);
        sbr_nn_linear_forward_f64(&c, r->v, r->x, r->W2, r->c, B_ * L_, D_, D_);
        sbr_nn_add_rows_forward_f64(&c, r->v, r->v, r->u, B_, L_, D_);
        sbr_nn_sigmoid_forward_f64(&c, r->z, r->v, B_ * L_ * D_);
        sbr_nn_linear_forward_f64(&c, r->alpha, r->z, r->q, NULL, B_ * L_, D_, 1);
        sbr_nn_seq_weighted_sum_forward_f64(&c, r->s, r->alpha, r->x, rlens, B_, L_, D_);
    }
    return gc_dot(r->w, r->s, B_ * D_);
}

static void readout_backward(void *p)
{
    readout *r = p;
    sbr_nn_ctx c = {0};
    readout_forward(r);
    memset(r->dx, 0, sizeof r->dx), memset(r->dW1, 0, sizeof r->dW1);
    memset(r->dW2, 0, sizeof r->dW2), memset(r->dc, 0, sizeof r->dc), memset(r->dq, 0, sizeof r->dq);
    memset(r->dlast, 0, sizeof r->dlast), memset(r->du, 0, sizeof r->du);
    memset(r->dv, 0, sizeof r->dv), memset(r->dz, 0, sizeof r->dz);
    memset(r->dalpha, 0, sizeof r->dalpha);
    /* The forward read in reverse. */
    if (r->fused) {
        sbr_nn_seq_shape sh = {B_, L_, D_, D_};
        sbr_nn_attn_pool_backward_f64(&c, r->dz, r->dq, r->dx, r->dalpha, r->w, r->alpha, r->z,
                                      r->q, r->x, rlens, sh);
        sbr_nn_additive_gate_backward_f64(
            &c, r->dx, r->dlast, &(sbr_nn_additive_gate_w_f64){r->dW2, r->dc, r->dW1, NULL}, r->dv,
            r->du, r->dz, r->z, r->x, r->last,
            &(sbr_nn_additive_gate_w_f64){r->W2, r->c, r->W1, NULL}, sh);
    } else {
        sbr_nn_seq_weighted_sum_backward_f64(&c, r->dalpha, r->dx, r->w, r->alpha, r->x, rlens,
                                             B_, L_, D_);
        sbr_nn_linear_backward_f64(&c, r->dz, r->dq, NULL, r->dalpha, r->z, r->q, B_ * L_, D_, 1);
        sbr_nn_sigmoid_backward_f64(&c, r->dv, r->dz, r->z, B_ * L_ * D_);
        sbr_nn_add_rows_backward_f64(&c, NULL, r->du, r->dv, B_, L_, D_);
        /* v was computed in place (v = W2 x + c, then v += u): its gradient is dv. */
        sbr_nn_linear_backward_f64(&c, r->dx, r->dW2, r->dc, r->dv, r->x, r->W2, B_ * L_, D_, D_);
        sbr_nn_linear_backward_f64(&c, r->dlast, r->dW1, NULL, r->du, r->last, r->W1, B_, D_, D_);
    }
    sbr_nn_embedding_backward_f64(&c, r->dx, r->dlast, r->last_idx, B_, B_ * L_, D_, -1);
}

TEST(nn_additive_readout_composed_gradcheck)
{
    for (int fused = 0; fused <= 1; fused++) {
        readout *r = calloc(1, sizeof *r);
        r->fused = fused;
        gc_fill(r->x, B_ * L_ * D_, -1, 1, 11);
        gc_fill(r->W1, D_ * D_, -0.8, 0.8, 12);
        gc_fill(r->W2, D_ * D_, -0.8, 0.8, 13);
        gc_fill(r->c, D_, -0.5, 0.5, 14);
        gc_fill(r->q, D_, -1, 1, 15);
        gc_fill(r->w, B_ * D_, -1, 1, 16);
        gc_spec s = {.op = fused ? "additive_readout (fused ops)" : "additive_readout",
                     .loss = readout_forward, .backward = readout_backward, .user = r};
        gc_add(&s, "x", r->x, r->dx, B_ * L_ * D_);
        gc_add(&s, "W1", r->W1, r->dW1, D_ * D_);
        gc_add(&s, "W2", r->W2, r->dW2, D_ * D_);
        gc_add(&s, "c", r->c, r->dc, D_);
        gc_add(&s, "q", r->q, r->dq, D_);
        CHECK_EQ_I64(gradcheck(&s), 0);
        free(r);
    }
}
