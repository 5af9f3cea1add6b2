#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_narm_gradcheck)
{
    CHECK(model_gradcheck("narm", 0) == 0);
}

TEST(model_narm_clip_gradcheck)
{
    CHECK(model_gradcheck("narm", 1) == 0);
}

/* The largest shapes a model meets by default: a full batch of B = 100
 * prefixes of max_len = 50 distinct clicks (so U = L = 50 for graph models),
 * d = hidden = 100, float, CLIP prompts on or off. One training step and a
 * top-K must stay inside the activation memory act_reals() reserved
 * (sbr_model_act aborts otherwise) and give a finite loss near log(N) at
 * initialisation. Returns 0 when all holds. Shared by the NARM, STAMP and
 * SR-GNN tests (declared there). */
int model_fullsize_check(const char *name, int clip);
int model_fullsize_check(const char *name, int clip)
{
    enum { S = 100, LEN = 51, N = 160 };
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    cfg.n_items = N;
    cfg.n_clusters = clip ? 5 : 0;
    int64_t *off = malloc(sizeof(int64_t) * (S + 1));
    int32_t *items = malloc(sizeof(int32_t) * S * LEN), clusters[N + 1];
    for (int s = 0; s <= S; s++)
        off[s] = (int64_t)s * LEN;
    for (int s = 0; s < S; s++)
        for (int j = 0; j < LEN; j++)
            items[s * LEN + j] = (s * 7 + j) % N + 1; /* 51 distinct items per session */
    for (int i = 0; i <= N; i++)
        clusters[i] = i ? i % 5 + 1 : 0;
    sbr_split sp = {S, off, items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[S];
    int B = 0;
    for (int64_t i = 0; i < smp.n && B < S; i++)
        if (smp.prefix_len[i] == cfg.max_len)
            order[B++] = i;
    sbr_model m;
    sbr_err e;
    int bad = 0;
    if (B != S || sbr_model_create(&m, &cfg, SBR_PREC_F32, S, cfg.max_len, &e)) {
        printf("    %s: %s\n", name, B != S ? "too few full-length prefixes" : e.msg);
        bad = 1;
    } else {
        sbr_batch_buf bb;
        sbr_batch_buf_init(&bb, S, cfg.max_len, (m.impl->needs & SBR_NEEDS_GRAPH) != 0,
                           sizeof(float));
        sbr_clip_map cm = {clusters, 1};
        sbr_batch_fill(&bb, &sp, &smp, order, S, N, clip ? &cm : NULL);
        bad |= bb.b.L != cfg.max_len;
        bad |= (m.impl->needs & SBR_NEEDS_GRAPH) && bb.b.U != cfg.max_len;
        double loss = sbr_model_loss_grad(&m, &bb.b, 1, 8192);
        size_t used = m.acts.high;
        int32_t idx[S * 20];
        float score[S * 20];
        sbr_model_topk(&m, &bb.b, 20, 8192, idx, score, NULL, NULL);
        printf("    %s%s: B %d x L %d, loss %.4f (log N = %.4f), activations %.1f of %.1f MiB\n",
               name, clip ? "+clip" : "", S, bb.b.L, loss, log((double)N), used / 1048576.0,
               m.act_bytes / 1048576.0);
        bad |= !isfinite(loss) || fabs(loss - log((double)N)) > 1.0;
        for (int i = 0; i < S * 20; i++)
            bad |= idx[i] < 1 || idx[i] > N || !isfinite(score[i]);
        sbr_batch_buf_free(&bb);
        sbr_model_free(&m);
    }
    sbr_samples_free(&smp);
    free(off);
    free(items);
    return bad;
}

TEST(model_narm_fullsize)
{
    CHECK(model_fullsize_check("narm", 0) == 0);
    CHECK(model_fullsize_check("narm", 1) == 0);
}
