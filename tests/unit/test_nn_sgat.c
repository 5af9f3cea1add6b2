/* LESSR's ops: PReLU with a slope per channel, and the shortcut-graph
 * attention over a CSR graph with its transpose (two sessions' shortcut
 * graphs, a node with only its self loop, and a node without edges).
 * Gradient checks, a plain-loop reference, float vs double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

enum { H_ = 3, DV = 4, T_ = 7, NZ = 32 };

/* The graph: per destination node, its sources (the shortcut rule of a
 * session [0 1 0 2] over nodes 0..2: m = 2, 1, 2, so 0 <- {0,1,2}, 1 <-
 * {0,1}, 2 <- {0,1,2}; a session [3 4] over nodes 3, 4: 3 <- {3}, 4 <-
 * {3,4}; node 5 a session of one click: 5 <- {5}; node 6 without edges). */
typedef struct {
    int32_t ptr[T_ + 1], src[NZ], dst[NZ], tptr[T_ + 1], tpos[NZ];
} sgraph;

static void build(sgraph *g)
{
    static const int nsrc[T_] = {3, 2, 3, 1, 2, 1, 0};
    static const int first[T_] = {0, 0, 0, 3, 3, 5, 0};
    int nz = 0;
    for (int i = 0; i < T_; i++) {
        g->ptr[i] = nz;
        for (int u = 0; u < nsrc[i]; u++, nz++)
            g->src[nz] = first[i] + u, g->dst[nz] = i;
    }
    g->ptr[T_] = nz;
    int at = 0;
    for (int j = 0; j < T_; j++) {
        g->tptr[j] = at;
        for (int e = 0; e < nz; e++)
            if (g->src[e] == j)
                g->tpos[at++] = e;
    }
    g->tptr[T_] = at;
}

static sbr_nn_tcsr tcsr(const sgraph *g)
{
    return (sbr_nn_tcsr){g->ptr, g->src, g->dst, g->tptr, g->tpos, T_};
}

typedef struct {
    sgraph g;
    double q[T_ * H_], k[T_ * H_], v[T_ * DV], w[H_];
    double dq[T_ * H_], dk[T_ * H_], dv[T_ * DV], dw[H_];
    double y[T_ * DV], alpha[NZ], proj[T_ * DV], scratch[NZ + T_ * H_];
} sg_case;

static double sg_loss(void *u)
{
    sg_case *c = u;
    sbr_nn_ctx ctx = {0};
    sbr_nn_tcsr g = tcsr(&c->g);
    sbr_nn_sgat_forward_f64(&ctx, c->y, c->alpha, &(sbr_nn_qkv_f64){c->q, c->k, c->v}, c->w, &g,
                            H_, DV);
    return gc_dot(c->proj, c->y, T_ * DV);
}

static void sg_backward(void *u)
{
    sg_case *c = u;
    sbr_nn_ctx ctx = {.scratch = c->scratch, .scratch_bytes = sizeof c->scratch};
    sg_loss(c);
    memset(c->dq, 0, sizeof c->dq), memset(c->dk, 0, sizeof c->dk);
    memset(c->dv, 0, sizeof c->dv), memset(c->dw, 0, sizeof c->dw);
    sbr_nn_tcsr g = tcsr(&c->g);
    sbr_nn_sgat_backward_f64(&ctx, &(sbr_nn_qkv_f64){c->dq, c->dk, c->dv}, c->dw, c->proj,
                             c->alpha, &(sbr_nn_qkv_f64){c->q, c->k, c->v}, c->w, &g, H_, DV);
}

static sg_case *sg_new(uint64_t seed)
{
    sg_case *c = calloc(1, sizeof *c);
    build(&c->g);
    gc_fill(c->q, T_ * H_, -2, 2, seed);
    gc_fill(c->k, T_ * H_, -2, 2, seed + 1);
    gc_fill(c->v, T_ * DV, -1, 1, seed + 2);
    gc_fill(c->w, H_, -2, 2, seed + 3);
    gc_fill(c->proj, T_ * DV, -1, 1, seed + 4);
    return c;
}

TEST(nn_sgat_gradcheck)
{
    sg_case *c = sg_new(30);
    gc_spec s = {.op = "sgat", .loss = sg_loss, .backward = sg_backward, .user = c};
    gc_add(&s, "q", c->q, c->dq, T_ * H_);
    gc_add(&s, "k", c->k, c->dk, T_ * H_);
    gc_add(&s, "v", c->v, c->dv, T_ * DV);
    gc_add(&s, "w", c->w, c->dw, H_);
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c);
}

TEST(nn_sgat_matches_reference)
{
    sg_case *c = sg_new(40);
    sg_loss(c);
    for (int i = 0; i < T_; i++) {
        double e[T_], mx = -INFINITY, sum = 0, y[DV] = {0};
        int n = 0, js[T_];
        for (int j = 0; j < T_; j++) { /* the edges j -> i, from the graph's rule */
            int in = 0;
            for (int q = c->g.ptr[i]; q < c->g.ptr[i + 1]; q++)
                in |= c->g.src[q] == j;
            if (!in)
                continue;
            double x = 0;
            for (int h = 0; h < H_; h++)
                x += c->w[h] / (1 + exp(-(c->q[j * H_ + h] + c->k[i * H_ + h])));
            js[n] = j, e[n++] = x, mx = fmax(mx, x);
        }
        for (int q = 0; q < n; q++)
            sum += exp(e[q] - mx);
        for (int q = 0; q < n; q++)
            for (int h = 0; h < DV; h++)
                y[h] += exp(e[q] - mx) / sum * c->v[js[q] * DV + h];
        for (int h = 0; h < DV; h++)
            CHECK_NEAR(c->y[i * DV + h], y[h], 1e-14);
    }
    /* float vs double */
    float qf[T_ * H_], kf[T_ * H_], vf[T_ * DV], wf[H_], yf[T_ * DV], af[NZ];
    for (int i = 0; i < T_ * H_; i++)
        qf[i] = (float)c->q[i], c->q[i] = qf[i], kf[i] = (float)c->k[i], c->k[i] = kf[i];
    for (int i = 0; i < T_ * DV; i++)
        vf[i] = (float)c->v[i], c->v[i] = vf[i];
    for (int i = 0; i < H_; i++)
        wf[i] = (float)c->w[i], c->w[i] = wf[i];
    sbr_nn_ctx ctx = {0};
    sbr_nn_tcsr g = tcsr(&c->g);
    sbr_nn_sgat_forward_f32(&ctx, yf, af, &(sbr_nn_qkv_f32){qf, kf, vf}, wf, &g, H_, DV);
    sg_loss(c);
    CHECK(gc_agree_f32(yf, c->y, T_ * DV, 1e-5, 1e-6) <= 1);
    free(c);
}

/* ---- PReLU ---- */
enum { PN = 6, PD = 5 };

typedef struct {
    double x[PN * PD], a[PD], dx[PN * PD], da[PD], y[PN * PD], proj[PN * PD];
} pr_case;

static double pr_loss(void *u)
{
    pr_case *c = u;
    sbr_nn_prelu_forward_f64(NULL, c->y, c->x, c->a, PN, PD);
    return gc_dot(c->proj, c->y, PN * PD);
}

static void pr_backward(void *u)
{
    pr_case *c = u;
    pr_loss(c);
    memset(c->dx, 0, sizeof c->dx), memset(c->da, 0, sizeof c->da);
    sbr_nn_prelu_backward_f64(NULL, c->dx, c->da, c->proj, c->x, c->a, PN, PD);
}

TEST(nn_prelu_gradcheck_and_values)
{
    pr_case c;
    gc_fill(c.x, PN * PD, -1, 1, 50);
    gc_fill(c.a, PD, 0, 0.5, 51);
    gc_fill(c.proj, PN * PD, -1, 1, 52);
    gc_spec s = {.op = "prelu", .loss = pr_loss, .backward = pr_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, PN * PD);
    gc_add(&s, "a", c.a, c.da, PD);
    CHECK_EQ_I64(gradcheck(&s), 0);
    pr_loss(&c);
    for (int i = 0; i < PN * PD; i++)
        CHECK(c.y[i] == (c.x[i] > 0 ? c.x[i] : c.a[i % PD] * c.x[i]));
}
