/* The item front's CLIP-SBR variants against plain loops written from the
 * equations (body/front.h), through the `mean` model (S = the mean of the
 * front's outputs over the prefix): each normalisation axis, with cluster
 * prompts, user prompts and both. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model/model.h"
#include "model_check.h"

static const int32_t fr_cluster[10] = {0, 1, 1, 2, 2, 3, 3, 1, 2, 3}; /* items 1..9 */
static const int64_t fr_users[5] = {3, 7, -1, 3, 9};                /* 9 unknown, -1 anonymous */

typedef struct {
    const double *E, *P, *Pu, *We, *be, *Wp, *bp;
    int d;
} fr_params;

/* y [d] = sigmoid(W x + b) */
static void gate(const fr_params *p, const double *W, const double *b, const double *x, double *y)
{
    for (int o = 0; o < p->d; o++) {
        double s = b[o];
        for (int i = 0; i < p->d; i++)
            s += W[o * p->d + i] * x[i];
        y[o] = 1 / (1 + exp(-s));
    }
}

/* X [len, d] of one prefix: e = E[item], p = P[cluster] + Pu[user], each
 * normalised along `norm`, then gated and summed. */
static void front_ref(const fr_params *p, const int32_t *it, int len, int user, int norm,
                      double X[][8])
{
    int d = p->d;
    double e[8][8], q[8][8];
    for (int j = 0; j < len; j++)
        for (int k = 0; k < d; k++) {
            e[j][k] = p->E[it[j] * d + k];
            q[j][k] = (p->P ? p->P[fr_cluster[it[j]] * d + k] : 0) +
                      (p->Pu && user ? p->Pu[user * d + k] : 0);
        }
    for (int pass = 0; pass < 2 && norm != SBR_PROMPT_NORM_NONE; pass++) {
        double(*v)[8] = pass ? q : e;
        if (norm == SBR_PROMPT_NORM_FEATURE)
            for (int j = 0; j < len; j++) {
                double s = 0;
                for (int k = 0; k < d; k++)
                    s += v[j][k] * v[j][k];
                for (int k = 0; k < d; k++)
                    v[j][k] /= fmax(sqrt(s), 1e-12);
            }
        else
            for (int k = 0; k < d; k++) {
                double s = 0;
                for (int j = 0; j < len; j++)
                    s += v[j][k] * v[j][k];
                for (int j = 0; j < len; j++)
                    v[j][k] /= fmax(sqrt(s), 1e-12);
            }
    }
    for (int j = 0; j < len; j++) {
        double ge[8], gp[8];
        gate(p, p->We, p->be, e[j], ge);
        gate(p, p->Wp, p->bp, q[j], gp);
        for (int k = 0; k < d; k++)
            X[j][k] = ge[k] * e[j][k] + gp[k] * q[j][k];
    }
}

static const double *param_of(const sbr_model *m, const char *name)
{
    int i = sbr_arena_find(&m->params, name);
    return i < 0 ? NULL : m->params.views[i].data;
}

/* The mean model's S against the reference for one variant. */
static double front_case(int clusters, int users, int norm)
{
    sbr_model_cfg cfg;
    if (sbr_model_defaults("mean", &cfg))
        return INFINITY;
    sbr_cfg_set_if(&cfg, "dim", 4);
    sbr_cfg_set_if(&cfg, "max_len", 8);
    cfg.n_items = 9, cfg.seed = 5, cfg.init_scale = 0.8;
    cfg.n_clusters = clusters ? 3 : 0;
    cfg.n_users = users ? 2 : 0, cfg.user_prompts = users;
    cfg.prompt_norm = (sbr_prompt_norm)norm;
    sbr_model m;
    sbr_err e;
    if (sbr_model_create(&m, &cfg, SBR_PREC_F64, 32, 8, &e))
        return INFINITY;
    if (users && sbr_model_set_users(&m, (const int64_t[]){3, 7}, 2, &e)) {
        sbr_model_free(&m);
        return INFINITY;
    }
    sbr_split sp = {5, fx_off, fx_items, NULL, (int64_t *)fr_users, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[32];
    for (int i = 0; i < smp.n; i++)
        order[i] = i;
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 32, 8, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    sbr_clip_map cm = {fr_cluster, 1};
    sbr_batch_fill(&bb, &sp, &smp, order, (int)smp.n, cfg.n_items, clusters ? &cm : NULL);
    int d = m.d, L = bb.b.L;
    double *S = calloc((size_t)smp.n * d, sizeof *S);
    sbr_model_forward(&m, &bb.b, S);
    fr_params p = {param_of(&m, "items"), param_of(&m, "clip.prompts"),
                   param_of(&m, "clip.user_prompts"), param_of(&m, "clip.gate_e.w"),
                   param_of(&m, "clip.gate_e.b"), param_of(&m, "clip.gate_p.w"),
                   param_of(&m, "clip.gate_p.b"), d};
    double worst = 0, X[8][8];
    for (int b = 0; b < smp.n; b++) {
        int len = bb.b.len[b];
        front_ref(&p, bb.b.items + b * L, len, bb.b.user[b], norm, X);
        for (int k = 0; k < d; k++) {
            double s = 0;
            for (int j = 0; j < len; j++)
                s += X[j][k];
            worst = fmax(worst, fabs(s / len - S[(size_t)b * d + k]));
        }
    }
    free(S);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
    return worst;
}

TEST(front_variants_match_reference)
{
    for (int norm = 0; norm < 3; norm++) {
        CHECK(front_case(1, 0, norm) < 1e-14); /* C */
        CHECK(front_case(0, 1, norm) < 1e-14); /* U */
        CHECK(front_case(1, 1, norm) < 1e-14); /* CU */
    }
}
