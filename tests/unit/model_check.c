#include "model_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "model/batch.h"
#include "sessions.h"

/* Six short sessions over 9 items, with repeats (graph models see cycles). */
static int64_t offsets[7] = {0, 4, 7, 12, 14, 18, 21};
static int32_t items[21] = {1, 2, 3, 2, /**/ 4, 5, 6, /**/ 7, 8, 7, 9, 1, /**/ 3, 3,
                            /**/ 2, 6, 9, 4, /**/ 5, 5, 8};
static int32_t clusters[10] = {0, 1, 1, 2, 2, 3, 3, 1, 2, 3};

typedef struct {
    sbr_model m;
    sbr_batch_buf bb;
    double *grads[SBR_MODEL_MAX_PARAMS];
    uint64_t counter0;
} ctx_t;

static double loss(void *u)
{
    ctx_t *c = u;
    c->m.drop_counter = c->counter0; /* the same dropout masks in every evaluation */
    return sbr_model_loss_grad(&c->m, &c->bb.b, 1, 4);
}

static void backward(void *u)
{
    ctx_t *c = u;
    loss(u);
    for (int i = 0; i < c->m.grads.n; i++)
        memcpy(c->grads[i], c->m.grads.views[i].data,
               sizeof(double) * (size_t)c->m.grads.views[i].numel);
}

/* Models with a global graph (GCE-GNN, DMI-GNN): a tiny window-1 graph of the
 * sessions above, each item's 3 heaviest neighbours (ties: smaller id). */
static int set_tiny_global(sbr_model *m, sbr_err *e)
{
    enum { V = 10, K = 3 };
    double cnt[V][V] = {{0}};
    for (int s = 0; s < 6; s++)
        for (int64_t j = offsets[s]; j + 1 < offsets[s + 1]; j++)
            if (items[j] != items[j + 1])
                cnt[items[j]][items[j + 1]]++, cnt[items[j + 1]][items[j]]++;
    int32_t nbr[V * K] = {0}, n[V] = {0};
    float w[V * K] = {0};
    for (int i = 1; i < V; i++)
        for (int k = 0; k < K; k++) {
            int best = 0;
            for (int v = 1; v < V; v++) {
                int taken = 0;
                for (int q = 0; q < k; q++)
                    taken |= nbr[i * K + q] == v;
                if (!taken && cnt[i][v] > 0 && (best == 0 || cnt[i][v] > cnt[i][best]))
                    best = v;
            }
            if (!best)
                break;
            nbr[i * K + k] = best, w[i * K + k] = (float)cnt[i][best], n[i]++;
        }
    return sbr_model_set_global_table(m, nbr, w, n, e);
}

int model_gradcheck_cfg(const char *name, int clip, model_cfg_fn adjust)
{
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    cfg.d = 4;
    cfg.hidden = 3;
    cfg.n_items = 9;
    cfg.n_clusters = clip ? 3 : 0;
    cfg.max_len = 4; /* the 5-click session is truncated: exercised too */
    cfg.seed = 11;
    cfg.init_scale = 0.8; /* larger than 1/sqrt(d) would be: gates away from 0.5 */
    if (cfg.global_k > 0)
        cfg.global_k = 3; /* set_tiny_global */
    if (adjust)
        adjust(&cfg);
    ctx_t *c = calloc(1, sizeof *c);
    sbr_err e;
    if (sbr_model_create(&c->m, &cfg, SBR_PREC_F64, 8, cfg.max_len, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        free(c);
        return -1;
    }
    sbr_split sp = {6, offsets, items, NULL, NULL, 0};
    if ((c->m.impl->needs & SBR_NEEDS_GLOBAL) && set_tiny_global(&c->m, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        sbr_model_free(&c->m);
        free(c);
        return -1;
    }
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[8];
    for (int i = 0; i < 8; i++)
        order[i] = (i * 5) % smp.n; /* a mix of prefixes of every session */
    sbr_batch_buf_init(&c->bb, 8, cfg.max_len, (c->m.impl->needs & SBR_NEEDS_GRAPH) != 0,
                       sizeof(double));
    sbr_batch_buf_model(&c->bb, &c->m);
    sbr_clip_map cm = {clusters, 1};
    sbr_batch_fill(&c->bb, &sp, &smp, order, 8, cfg.n_items, clip ? &cm : NULL);
    c->counter0 = 12345;
    char label[64];
    snprintf(label, sizeof label, "%s%s", name, clip ? "+clip" : "");
    gc_spec s = {.op = label, .loss = loss, .backward = backward, .user = c, .h = 1e-6,
                 .rtol = 1e-5, .atol = 1e-8, .max_checks = 40};
    for (int i = 0; i < c->m.params.n; i++) {
        sbr_view *v = &c->m.params.views[i];
        c->grads[i] = gc_zeros((size_t)v->numel);
        if (s.nvars < GC_MAX_VARS)
            gc_add(&s, v->name, v->data, c->grads[i], (size_t)v->numel);
    }
    int bad = gradcheck(&s);
    if (c->m.params.n > GC_MAX_VARS) { /* the rest in a second pass */
        gc_spec s2 = s;
        s2.nvars = 0;
        for (int i = GC_MAX_VARS; i < c->m.params.n && s2.nvars < GC_MAX_VARS; i++)
            gc_add(&s2, c->m.params.views[i].name, c->m.params.views[i].data, c->grads[i],
                   (size_t)c->m.params.views[i].numel);
        bad += gradcheck(&s2);
    }
    for (int i = 0; i < c->m.params.n; i++)
        free(c->grads[i]);
    sbr_samples_free(&smp);
    sbr_batch_buf_free(&c->bb);
    sbr_model_free(&c->m);
    free(c);
    return bad;
}

int model_gradcheck(const char *name, int clip) { return model_gradcheck_cfg(name, clip, NULL); }
