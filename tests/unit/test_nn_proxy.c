/* ProxySR's ops (proxy.inc, and the small row ops it leans on): gradient
 * checks of the margin loss (Q, V, E), the hyperplane projection, row_scale
 * and row_dot; the ranking and the loss against plain loops over every
 * item; max_norm_rows by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

/* the distance, written from its definition |q - e_perp|^2 (v unit) */
static double ref_dist(const double *q, const double *v, const double *e, int d)
{
    double ev = 0, s = 0;
    for (int k = 0; k < d; k++)
        ev += e[k] * v[k];
    for (int k = 0; k < d; k++) {
        double t = q[k] - (e[k] - ev * v[k]);
        s += t * t;
    }
    return s;
}

static void unit_rows(double *v, int n, int d)
{
    for (int r = 0; r < n; r++) {
        double s = 0;
        for (int k = 0; k < d; k++)
            s += v[r * d + k] * v[r * d + k];
        for (int k = 0; k < d; k++)
            v[r * d + k] /= sqrt(s);
    }
}

enum { PB = 3, PN = 14, PD = 5 };

typedef struct {
    double Q[PB * PD], V[PB * PD], E[(PN + 1) * PD], w[PB], loss[PB];
    double dQ[PB * PD], dV[PB * PD], dE[(PN + 1) * PD];
    int32_t target[PB], idx[PB * PN];
    double score[PB * PN], dpos[PB];
    sbr_nn_proxy_loss_cfg cf;
    void *scr;
    size_t sb;
} pl_case;

static sbr_nn_scoring pl_sc(int chunk) { return (sbr_nn_scoring){PB, 1, PN, PD, chunk, 0}; }

static double pl_loss(void *u)
{
    pl_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scr, .scratch_bytes = c->sb};
    sbr_nn_proxy_in_f64 in = {c->Q, c->V, c->E};
    sbr_nn_proxy_kept_f64 kp = {c->idx, c->score, c->dpos};
    sbr_nn_proxy_loss_forward_f64(&ctx, c->loss, &kp, &in, c->target, &c->cf, pl_sc(4));
    return gc_dot(c->w, c->loss, PB);
}

static void pl_backward(void *u)
{
    pl_case *c = u;
    pl_loss(c);
    memset(c->dQ, 0, sizeof c->dQ), memset(c->dV, 0, sizeof c->dV), memset(c->dE, 0, sizeof c->dE);
    sbr_nn_ctx ctx = {0};
    sbr_nn_proxy_in_f64 in = {c->Q, c->V, c->E};
    sbr_nn_proxy_kept_f64 kp = {c->idx, c->score, c->dpos};
    sbr_nn_proxy_grad_f64 g = {c->dQ, c->dV, c->dE};
    sbr_nn_proxy_loss_backward_f64(&ctx, &g, c->w, &kp, &in, c->target, &c->cf, pl_sc(4));
}

static pl_case *pl_make(int k, uint64_t seed)
{
    pl_case *c = calloc(1, sizeof *c);
    gc_fill(c->Q, PB * PD, -0.5, 0.5, seed);
    gc_fill(c->V, PB * PD, -1, 1, seed + 1);
    unit_rows(c->V, PB, PD);
    gc_fill(c->E, (PN + 1) * PD, -0.5, 0.5, seed + 2);
    gc_fill(c->w, PB, 0.5, 1.5, seed + 3);
    for (int b = 0; b < PB; b++)
        c->target[b] = 1 + (int)((seed * 7 + 5 * b) % PN);
    c->cf = (sbr_nn_proxy_loss_cfg){0.3, 1.0 / k, 0.2, k};
    c->sb = sbr_nn_proxy_loss_scratch_f64(pl_sc(4), k);
    c->scr = malloc(c->sb);
    return c;
}

TEST(nn_proxy_loss_gradcheck)
{
    int ks[] = {3, PN}; /* a few kept, and every violation */
    for (int v = 0; v < 2; v++) {
        pl_case *c = pl_make(ks[v], 11 + v);
        gc_spec s = {.op = "proxy_loss", .loss = pl_loss, .backward = pl_backward, .user = c};
        gc_add(&s, "Q", c->Q, c->dQ, PB * PD);
        gc_add(&s, "V", c->V, c->dV, PB * PD);
        gc_add(&s, "E", c->E, c->dE, (PN + 1) * PD);
        CHECK_EQ_I64(gradcheck(&s), 0);
        int kept = 0; /* not vacuous: some violations were kept */
        for (int b = 0; b < PB; b++)
            kept += c->idx[b * ks[v]] != 0;
        CHECK(kept >= 2);
        free(c->scr), free(c);
    }
}

static int cmp_dist(const void *a, const void *b)
{
    const double *x = a, *y = b; /* {dist, id} */
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : 1;
}

/* The loss and the kept items against a sort of every item's distance. */
TEST(nn_proxy_loss_matches_loops)
{
    for (int k = 1; k <= PN; k += 4) {
        pl_case *c = pl_make(k, 40 + k);
        pl_loss(c);
        for (int b = 0; b < PB; b++) {
            const double *q = c->Q + b * PD, *v = c->V + b * PD;
            double dp = ref_dist(q, v, c->E + c->target[b] * PD, PD), all[PN][2];
            int n = 0;
            for (int i = 1; i <= PN; i++) {
                double di = ref_dist(q, v, c->E + i * PD, PD);
                if (i != c->target[b] && di < 0.3 + dp)
                    all[n][0] = di, all[n][1] = i, n++;
            }
            qsort(all, n, sizeof all[0], cmp_dist);
            double s = 0;
            for (int j = 0; j < n && j < k; j++) {
                s += 0.3 + dp - all[j][0];
                CHECK_EQ_I64(c->idx[b * k + j], (int64_t)all[j][1]);
            }
            if (n < k)
                CHECK_EQ_I64(c->idx[b * k + n], 0);
            CHECK_NEAR(c->dpos[b], dp, 1e-12);
            CHECK_NEAR(c->loss[b], s / k + 0.2 * dp, 1e-12);
        }
        free(c->scr), free(c);
    }
}

/* proxy_topk: the nearest items, with exclusions, against a sort, for
 * chunk sizes that split the catalogue unevenly. */
TEST(nn_proxy_topk_matches_sort)
{
    enum { B = 4, N = 50, D = 6, K = 7 };
    double *Q = gc_zeros(B * D), *V = gc_zeros(B * D), *E = gc_zeros((N + 1) * D);
    gc_fill(Q, B * D, -1, 1, 3), gc_fill(V, B * D, -1, 1, 4), gc_fill(E, (N + 1) * D, -1, 1, 5);
    unit_rows(V, B, D);
    int32_t off[B + 1] = {0, 2, 2, 3, 5}, ex[5] = {7, 9, 1, 50, 3}, idx[B * K];
    double score[B * K];
    int chunks[] = {1, 7, 50, 64};
    for (int ci = 0; ci < 4; ci++) {
        sbr_nn_scoring sc = {B, 1, N, D, chunks[ci], 0};
        size_t sb = sbr_nn_proxy_topk_scratch_f64(sc, K);
        void *scr = malloc(sb);
        sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
        sbr_nn_proxy_in_f64 in = {Q, V, E};
        sbr_nn_proxy_topk_f64(&ctx, idx, score, &in, K, off, ex, sc);
        for (int b = 0; b < B; b++) {
            double all[N][2];
            int n = 0;
            for (int i = 1; i <= N; i++) {
                int skip = 0;
                for (int x = off[b]; x < off[b + 1]; x++)
                    skip |= ex[x] == i;
                if (!skip)
                    all[n][0] = ref_dist(Q + b * D, V + b * D, E + i * D, D), all[n][1] = i, n++;
            }
            qsort(all, n, sizeof all[0], cmp_dist);
            for (int j = 0; j < K; j++) {
                CHECK_EQ_I64(idx[b * K + j], (int64_t)all[j][1]);
                CHECK_NEAR(score[b * K + j], -all[j][0], 1e-12);
            }
        }
        free(scr);
    }
    free(Q), free(V), free(E);
}

enum { RB = 4, RD = 6 };

typedef struct {
    double x[RB * RD], v[RB * RD], s[RB], y[RB * RD], yd[RB], w[RB * RD];
    double dx[RB * RD], dv[RB * RD], ds[RB];
    int op, absval;
} row_case;

static double row_loss(void *u)
{
    row_case *c = u;
    sbr_nn_ctx ctx = {0};
    if (c->op == 0)
        sbr_nn_hyperplane_forward_f64(&ctx, c->y, c->x, c->v, RB, RD);
    else if (c->op == 1)
        sbr_nn_row_scale_forward_f64(&ctx, c->y, c->x, c->s, RB, RD);
    else {
        sbr_nn_row_dot_forward_f64(&ctx, c->yd, c->x, c->v, RB, RD, c->absval);
        return gc_dot(c->w, c->yd, RB);
    }
    return gc_dot(c->w, c->y, RB * RD);
}

static void row_backward(void *u)
{
    row_case *c = u;
    sbr_nn_ctx ctx = {0};
    memset(c->dx, 0, sizeof c->dx), memset(c->dv, 0, sizeof c->dv), memset(c->ds, 0, sizeof c->ds);
    if (c->op == 0)
        sbr_nn_hyperplane_backward_f64(&ctx, c->dx, c->dv, c->w, c->x, c->v, RB, RD);
    else if (c->op == 1)
        sbr_nn_row_scale_backward_f64(&ctx, c->dx, c->ds, c->w, c->x, c->s, RB, RD);
    else
        sbr_nn_row_dot_backward_f64(&ctx, c->dx, c->dv, c->w, c->x, c->v, RB, RD, c->absval);
}

TEST(nn_proxy_row_ops_gradcheck)
{
    const char *names[] = {"hyperplane", "row_scale", "row_dot", "row_dot abs"};
    for (int v = 0; v < 4; v++) {
        row_case *c = calloc(1, sizeof *c);
        c->op = v < 2 ? v : 2, c->absval = v == 3;
        gc_fill(c->x, RB * RD, -1, 1, 20 + v), gc_fill(c->v, RB * RD, -1, 1, 30 + v);
        gc_fill(c->s, RB, -2, 2, 40 + v), gc_fill(c->w, RB * RD, -1, 1, 50 + v);
        gc_spec s = {.op = names[v], .loss = row_loss, .backward = row_backward, .user = c};
        gc_add(&s, "x", c->x, c->dx, RB * RD);
        if (c->op != 1)
            gc_add(&s, "v", c->v, c->dv, RB * RD);
        else
            gc_add(&s, "s", c->s, c->ds, RB);
        CHECK_EQ_I64(gradcheck(&s), 0);
        free(c);
    }
    /* the projection leaves nothing along a unit v */
    double x[RD] = {1, 2, 3, 4, 5, 6}, v[RD] = {3, 0, 4, 0, 0, 0}, y[RD], t = 0;
    unit_rows(v, 1, RD);
    sbr_nn_hyperplane_forward_f64(NULL, y, x, v, 1, RD);
    for (int k = 0; k < RD; k++)
        t += y[k] * v[k];
    CHECK_NEAR(t, 0, 1e-14);
    CHECK_NEAR(y[1], 2, 1e-14);
}

TEST(nn_max_norm_rows)
{
    double x[3 * 2] = {3, 4, 0.3, 0.4, 0, 0};
    sbr_nn_max_norm_rows_f64(NULL, x, 3, 2, 1.0, 0);
    CHECK_NEAR(x[0], 0.6, 1e-15);
    CHECK_NEAR(x[1], 0.8, 1e-15);
    CHECK(x[2] == 0.3 && x[3] == 0.4 && x[4] == 0 && x[5] == 0);
    sbr_nn_max_norm_rows_f64(NULL, x, 3, 2, 1.0, 1);
    CHECK_NEAR(x[2], 0.6, 1e-15);
    CHECK_NEAR(x[3], 0.8, 1e-15);
    CHECK(x[4] == 0 && x[5] == 0); /* a zero row stays zero */
}
