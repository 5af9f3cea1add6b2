/* GRU: the fused cell and the padded variable-length sequence op, gradient-
 * checked (lengths 0, 1, partial, full; with and without h0 and biases),
 * compared with a plain per-row reference written from the torch formulas,
 * float vs double, and padding independence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "device.h"
#include "nn/nn.h"

enum { B_ = 5, L_ = 5, I_ = 3, H_ = 4 };
static const int32_t glen[B_] = {3, 0, 5, 1, 5};

typedef struct {
    int use_h0, use_bias;
    double x[B_ * L_ * I_], h0[B_ * H_], wih[3 * H_ * I_], bih[3 * H_], whh[3 * H_ * H_],
        bhh[3 * H_];
    double dx[B_ * L_ * I_], dh0[B_ * H_], dwih[3 * H_ * I_], dbih[3 * H_], dwhh[3 * H_ * H_],
        dbhh[3 * H_];
    double hs[B_ * L_ * H_], hlast[B_ * H_], gates[B_ * L_ * 3 * H_], ghn[B_ * L_ * H_];
    double whs[B_ * L_ * H_], wlast[B_ * H_]; /* loss weights */
    double scratch[4096];
} gru_case;

static double gru_loss(void *u)
{
    gru_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sbr_nn_gru_w_f64 w = {c->wih, c->use_bias ? c->bih : NULL, c->whh,
                          c->use_bias ? c->bhh : NULL};
    sbr_nn_gru_forward_f64(&ctx, &(sbr_nn_gru_out_f64){c->hs, c->hlast, c->gates, c->ghn}, c->x,
                           glen, c->use_h0 ? c->h0 : NULL, &w,
                           (sbr_nn_seq_shape){B_, L_, I_, H_});
    return gc_dot(c->whs, c->hs, B_ * L_ * H_) + gc_dot(c->wlast, c->hlast, B_ * H_);
}

static void gru_backward(void *u)
{
    gru_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    gru_loss(c);
    memset(c->dx, 0, sizeof c->dx), memset(c->dh0, 0, sizeof c->dh0);
    memset(c->dwih, 0, sizeof c->dwih), memset(c->dbih, 0, sizeof c->dbih);
    memset(c->dwhh, 0, sizeof c->dwhh), memset(c->dbhh, 0, sizeof c->dbhh);
    sbr_nn_gru_w_f64 dw = {c->dwih, c->use_bias ? c->dbih : NULL, c->dwhh,
                           c->use_bias ? c->dbhh : NULL};
    sbr_nn_gru_w_f64 w = {c->wih, c->use_bias ? c->bih : NULL, c->whh,
                          c->use_bias ? c->bhh : NULL};
    sbr_nn_gru_backward_f64(&ctx, c->dx, c->use_h0 ? c->dh0 : NULL, &dw, c->whs, c->wlast,
                            &(sbr_nn_gru_out_f64){c->hs, c->hlast, c->gates, c->ghn}, c->x, glen,
                            c->use_h0 ? c->h0 : NULL, &w, (sbr_nn_seq_shape){B_, L_, I_, H_});
}

static gru_case *gru_new(int use_h0, int use_bias, uint64_t seed)
{
    gru_case *c = calloc(1, sizeof *c);
    c->use_h0 = use_h0, c->use_bias = use_bias;
    gc_fill(c->x, B_ * L_ * I_, -1, 1, seed);
    gc_fill(c->h0, B_ * H_, -1, 1, seed + 1);
    gc_fill(c->wih, 3 * H_ * I_, -0.8, 0.8, seed + 2);
    gc_fill(c->bih, 3 * H_, -0.5, 0.5, seed + 3);
    gc_fill(c->whh, 3 * H_ * H_, -0.8, 0.8, seed + 4);
    gc_fill(c->bhh, 3 * H_, -0.5, 0.5, seed + 5);
    gc_fill(c->whs, B_ * L_ * H_, -1, 1, seed + 6);
    gc_fill(c->wlast, B_ * H_, -1, 1, seed + 7);
    return c;
}

TEST(nn_gru_gradcheck)
{
    for (int v = 0; v < 4; v++) {
        gru_case *c = gru_new(v & 1, v >> 1, 40 + v);
        REQUIRE(sbr_nn_gru_scratch_f64(B_, L_, H_) <= sizeof c->scratch);
        gc_spec s = {.op = "gru", .loss = gru_loss, .backward = gru_backward, .user = c};
        gc_add(&s, "x", c->x, c->dx, B_ * L_ * I_);
        gc_add(&s, "w_ih", c->wih, c->dwih, 3 * H_ * I_);
        gc_add(&s, "w_hh", c->whh, c->dwhh, 3 * H_ * H_);
        if (c->use_h0)
            gc_add(&s, "h0", c->h0, c->dh0, B_ * H_);
        if (c->use_bias) {
            gc_add(&s, "b_ih", c->bih, c->dbih, 3 * H_);
            gc_add(&s, "b_hh", c->bhh, c->dbhh, 3 * H_);
        }
        CHECK_EQ_I64(gradcheck(&s), 0);
        free(c);
    }
}

static double sigm(double x) { return 1 / (1 + exp(-x)); }

/* The torch.nn.GRU formulas, one row and one step at a time. */
TEST(nn_gru_matches_plain_reference)
{
    gru_case *c = gru_new(1, 1, 77);
    gru_loss(c);
    for (int b = 0; b < B_; b++) {
        double h[H_];
        memcpy(h, c->h0 + b * H_, sizeof h);
        for (int t = 0; t < glen[b]; t++) {
            const double *x = c->x + (b * L_ + t) * I_;
            double g[3 * H_], q[3 * H_], hn[H_];
            for (int o = 0; o < 3 * H_; o++) {
                g[o] = c->bih[o], q[o] = c->bhh[o];
                for (int k = 0; k < I_; k++)
                    g[o] += c->wih[o * I_ + k] * x[k];
                for (int k = 0; k < H_; k++)
                    q[o] += c->whh[o * H_ + k] * h[k];
            }
            for (int k = 0; k < H_; k++) {
                double r = sigm(g[k] + q[k]), z = sigm(g[H_ + k] + q[H_ + k]);
                double n = tanh(g[2 * H_ + k] + r * q[2 * H_ + k]);
                hn[k] = (1 - z) * n + z * h[k];
            }
            memcpy(h, hn, sizeof h);
            for (int k = 0; k < H_; k++)
                CHECK_NEAR(c->hs[(b * L_ + t) * H_ + k], h[k], 1e-13);
        }
        for (int t = glen[b]; t < L_; t++)
            for (int k = 0; k < H_; k++)
                CHECK(c->hs[(b * L_ + t) * H_ + k] == 0);
        for (int k = 0; k < H_; k++) /* len 0: hlast is h0 */
            CHECK_NEAR(c->hlast[b * H_ + k], h[k], 1e-13);
    }
    free(c);
}

TEST(nn_gru_cell_gradcheck_and_matches_sequence)
{
    /* One step of the sequence op with L = 1 equals the cell on gi = x W_ih^T + b_ih. */
    gru_case *c = gru_new(1, 1, 91);
    enum { N = B_ };
    int32_t ones[N] = {1, 1, 1, 1, 1};
    double hs[N * H_], gates[N * 3 * H_], ghn[N * H_], gi[N * 3 * H_], hn[N * H_];
    double g2[N * 3 * H_], ghn2[N * H_];
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sbr_nn_gru_forward_f64(&ctx, &(sbr_nn_gru_out_f64){hs, NULL, gates, ghn}, c->x, ones, c->h0,
                           &(sbr_nn_gru_w_f64){c->wih, c->bih, c->whh, c->bhh},
                           (sbr_nn_seq_shape){N, 1, I_, H_});
    sbr_nn_linear_forward_f64(&ctx, gi, c->x, c->wih, c->bih, N, I_, 3 * H_);
    sbr_nn_gru_cell_forward_f64(&ctx, hn, g2, ghn2, gi, c->h0, c->whh, c->bhh, N, H_);
    for (int i = 0; i < N * H_; i++)
        CHECK_NEAR(hn[i], hs[i], 1e-14);
    free(c);
}

typedef struct {
    double gi[6 * 3 * H_], h[6 * H_], whh[3 * H_ * H_], bhh[3 * H_];
    double dgi[6 * 3 * H_], dh[6 * H_], dwhh[3 * H_ * H_], dbhh[3 * H_];
    double hn[6 * H_], gates[6 * 3 * H_], ghn[6 * H_], w[6 * H_];
    double scratch[512];
} cell_case;

static double cell_loss(void *u)
{
    cell_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sbr_nn_gru_cell_forward_f64(&ctx, c->hn, c->gates, c->ghn, c->gi, c->h, c->whh, c->bhh, 6, H_);
    return gc_dot(c->w, c->hn, 6 * H_);
}

static void cell_backward(void *u)
{
    cell_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    cell_loss(c);
    memset(c->dgi, 0, sizeof c->dgi), memset(c->dh, 0, sizeof c->dh);
    memset(c->dwhh, 0, sizeof c->dwhh), memset(c->dbhh, 0, sizeof c->dbhh);
    sbr_nn_gru_cell_backward_f64(&ctx, c->dgi, c->dh, c->dwhh, c->dbhh, c->w, c->gates, c->ghn,
                                 c->h, c->whh, 6, H_);
}

TEST(nn_gru_cell_gradcheck)
{
    cell_case *c = calloc(1, sizeof *c);
    gc_fill(c->gi, 6 * 3 * H_, -2, 2, 1);
    gc_fill(c->h, 6 * H_, -1, 1, 2);
    gc_fill(c->whh, 3 * H_ * H_, -0.8, 0.8, 3);
    gc_fill(c->bhh, 3 * H_, -0.5, 0.5, 4);
    gc_fill(c->w, 6 * H_, -1, 1, 5);
    gc_spec s = {.op = "gru_cell", .loss = cell_loss, .backward = cell_backward, .user = c};
    gc_add(&s, "gi", c->gi, c->dgi, 6 * 3 * H_);
    gc_add(&s, "h", c->h, c->dh, 6 * H_);
    gc_add(&s, "w_hh", c->whh, c->dwhh, 3 * H_ * H_);
    gc_add(&s, "b_hh", c->bhh, c->dbhh, 3 * H_);
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c);
}

/* A row's states do not depend on the padding after it nor on L. */
TEST(nn_gru_padding_independent)
{
    gru_case *c = gru_new(1, 1, 5);
    gru_loss(c);
    double hs1[B_ * L_ * H_];
    memcpy(hs1, c->hs, sizeof hs1);
    for (int b = 0; b < B_; b++) /* scribble over the padded inputs */
        for (int t = glen[b]; t < L_; t++)
            for (int k = 0; k < I_; k++)
                c->x[(b * L_ + t) * I_ + k] = 100 + t;
    gru_loss(c);
    for (int i = 0; i < B_ * L_ * H_; i++)
        CHECK(c->hs[i] == hs1[i]);
    free(c);
}

TEST(nn_gru_f32_matches_f64)
{
    enum { B = 7, L = 9, I = 16, H = 12 };
    int32_t len[B] = {9, 0, 4, 1, 9, 6, 2};
    size_t nx = B * L * I, nw = 3 * H * I, nu = 3 * H * H;
    double *xd = gc_zeros(nx), *wid = gc_zeros(nw), *bid = gc_zeros(3 * H), *whd = gc_zeros(nu),
           *bhd = gc_zeros(3 * H), *hsd = gc_zeros(B * L * H), *gd = gc_zeros(B * L * 3 * H),
           *nd = gc_zeros(B * L * H);
    float *xf = gc_zeros_f(nx), *wif = gc_zeros_f(nw), *bif = gc_zeros_f(3 * H),
          *whf = gc_zeros_f(nu), *bhf = gc_zeros_f(3 * H), *hsf = gc_zeros_f(B * L * H),
          *gf = gc_zeros_f(B * L * 3 * H), *nf = gc_zeros_f(B * L * H);
    gc_fill_f(xf, nx, -1, 1, 1), gc_fill_f(wif, nw, -0.3f, 0.3f, 2);
    gc_fill_f(bif, 3 * H, -0.3f, 0.3f, 3), gc_fill_f(whf, nu, -0.3f, 0.3f, 4);
    gc_fill_f(bhf, 3 * H, -0.3f, 0.3f, 5);
    for (size_t i = 0; i < nx; i++) xd[i] = xf[i];
    for (size_t i = 0; i < nw; i++) wid[i] = wif[i];
    for (size_t i = 0; i < nu; i++) whd[i] = whf[i];
    for (int i = 0; i < 3 * H; i++) bid[i] = bif[i], bhd[i] = bhf[i];
    size_t sb = sbr_nn_gru_scratch_f64(B, L, H);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    sbr_nn_seq_shape sh = {B, L, I, H};
    sbr_nn_gru_forward_f64(&ctx, &(sbr_nn_gru_out_f64){hsd, NULL, gd, nd}, xd, len, NULL,
                           &(sbr_nn_gru_w_f64){wid, bid, whd, bhd}, sh);
    sbr_nn_gru_forward_f32(&ctx, &(sbr_nn_gru_out_f32){hsf, NULL, gf, nf}, xf, len, NULL,
                           &(sbr_nn_gru_w_f32){wif, bif, whf, bhf}, sh);
    CHECK(gc_agree_f32(hsf, hsd, B * L * H, 1e-4, 1e-5) <= 1);
    free(scr);
    free(xd), free(wid), free(bid), free(whd), free(bhd), free(hsd), free(gd), free(nd);
    free(xf), free(wif), free(bif), free(whf), free(bhf), free(hsf), free(gf), free(nf);
}

/* The parallel paths (large batches) give the same bits with 1 and 2 threads. */
TEST(nn_gru_thread_count_independent)
{
    enum { B = 4000, L = 4, In = 32, H = 100 };
    size_t BL = (size_t)B * L;
    int32_t *len = malloc(B * sizeof(int32_t));
    for (int b = 0; b < B; b++)
        len[b] = b % (L + 1);
    float *x = gc_zeros_f(BL * In), *wih = gc_zeros_f(3 * H * In), *whh = gc_zeros_f(3 * H * H),
          *bb = gc_zeros_f(3 * H), *dhs = gc_zeros_f(BL * H);
    gc_fill_f(x, BL * In, -1, 1, 1), gc_fill_f(wih, 3 * H * In, -0.2f, 0.2f, 2);
    gc_fill_f(whh, 3 * H * H, -0.2f, 0.2f, 3), gc_fill_f(bb, 3 * H, -0.2f, 0.2f, 4);
    gc_fill_f(dhs, BL * H, -1, 1, 5);
    size_t sb = sbr_nn_gru_scratch_f32(B, L, H);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    float *out[2][4];
    for (int t = 0; t < 2; t++) {
        sbr_set_threads(t + 1);
        float *hs = gc_zeros_f(BL * H), *g = gc_zeros_f(BL * 3 * H), *n = gc_zeros_f(BL * H),
              *dx = gc_zeros_f(BL * In), *dw = gc_zeros_f(3 * H * H);
        sbr_nn_gru_out_f32 y = {hs, NULL, g, n};
        sbr_nn_gru_w_f32 w = {wih, bb, whh, bb};
        sbr_nn_seq_shape sh = {B, L, In, H};
        sbr_nn_gru_forward_f32(&ctx, &y, x, len, NULL, &w, sh);
        sbr_nn_gru_backward_f32(&ctx, dx, NULL, &(sbr_nn_gru_w_f32){.w_hh = dw}, dhs, NULL, &y, x,
                                len, NULL, &w, sh);
        out[t][0] = hs, out[t][1] = dx, out[t][2] = dw, out[t][3] = g;
        free(n);
    }
    sbr_set_threads(0);
    CHECK(memcmp(out[0][0], out[1][0], BL * H * sizeof(float)) == 0);
    CHECK(memcmp(out[0][3], out[1][3], BL * 3 * H * sizeof(float)) == 0);
    CHECK(memcmp(out[0][1], out[1][1], BL * In * sizeof(float)) == 0);
    CHECK(memcmp(out[0][2], out[1][2], 3 * H * H * sizeof(float)) == 0);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 4; i++)
            free(out[t][i]);
    free(len), free(x), free(wih), free(whh), free(bb), free(dhs), free(scr);
}

/* Empty batches and zero-length batches are valid calls that touch nothing. */
TEST(nn_gru_empty_sizes)
{
    double w[3 * 4 * 4] = {0}, s[64], out[4] = {7, 7, 7, 7}, d[16] = {0};
    int32_t len0[1] = {0};
    sbr_nn_ctx ctx = {.scratch = s, .scratch_bytes = sizeof s};
    sbr_nn_gru_w_f64 wt = {w, NULL, w, NULL}, dwt = {d, d, d, d};
    sbr_nn_gru_forward_f64(&ctx, &(sbr_nn_gru_out_f64){out, out, out, out}, w, len0, NULL, &wt,
                           (sbr_nn_seq_shape){0, 3, 4, 4});
    CHECK(out[0] == 7); /* B = 0: nothing written */
    sbr_nn_gru_forward_f64(&ctx, &(sbr_nn_gru_out_f64){d, out, d, d}, w, len0, NULL, &wt,
                           (sbr_nn_seq_shape){1, 0, 4, 4});
    CHECK(out[0] == 0 && out[3] == 0); /* L = 0: hlast = the zero initial state */
    sbr_nn_gru_backward_f64(&ctx, d, d, &dwt, NULL, out, &(sbr_nn_gru_out_f64){d, NULL, d, d}, w,
                            len0, NULL, &wt, (sbr_nn_seq_shape){1, 0, 4, 4});
    for (int i = 0; i < 16; i++)
        CHECK(d[i] == 0);
}
