/* GCE-GNN: whole-model gradient checks (double precision, dropout on with
 * fixed masks, a tiny global graph), with and without CLIP-SBR prompts, and
 * the batch builder's four-type session graph against a hand-made one. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_gcegnn_gradcheck)
{
    CHECK(model_gradcheck("gcegnn", 0) == 0);
}

TEST(model_gcegnn_clip_gradcheck)
{
    CHECK(model_gradcheck("gcegnn", 1) == 0);
}

static void no_dropout(sbr_model_cfg *c) { c->dropout_emb = c->dropout_hidden = 0; }

/* Both branches' dropout off, and the local one on (the official default is 0). */
static void local_dropout(sbr_model_cfg *c) { c->dropout_emb = 0.3; }

TEST(model_gcegnn_gradcheck_dropouts)
{
    CHECK(model_gradcheck_cfg("gcegnn", 0, no_dropout) == 0);
    CHECK(model_gradcheck_cfg("gcegnn", 0, local_dropout) == 0);
}

/* The session graph of the prefix 5 6 5 7 7 (nodes 5, 6, 7 in order of first
 * click): 5->6, 6->5, 5->7 (7->7 is a repeat, no edge). Row of node 5: self,
 * 6 both ways (type 3), 7 clicked after (type 2); node 6: self, 5 both (3);
 * node 7: self, 5 before (type 1). As the official code's adjacency codes
 * 1..4 minus one. */
TEST(model_gcegnn_session_graph)
{
    int64_t off[2] = {0, 6};
    int32_t it[6] = {5, 6, 5, 7, 7, 1};
    sbr_split sp = {1, off, it, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    sbr_model_cfg cfg;
    sbr_model_defaults("gcegnn", &cfg);
    cfg.d = 4, cfg.n_items = 9, cfg.max_len = 8, cfg.global_k = 2;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &cfg, SBR_PREC_F64, 4, 8, &e) == 0);
    int32_t nbr[20] = {0}, n[10] = {0};
    float w[20] = {0};
    nbr[5 * 2] = 9, w[5 * 2] = 3, n[5] = 1; /* item 5 has one neighbour, 9 (weight 3) */
    REQUIRE(sbr_model_set_global_table(&m, nbr, w, n, &e) == 0);
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 4, 8, 0, sizeof(double));
    sbr_batch_buf_model(&bb, &m);
    int64_t order[1] = {0}; /* the longest prefix: 5 6 5 7 7 -> 1 */
    sbr_batch_fill(&bb, &sp, &smp, order, 1, 9, NULL);
    const sbr_batch *b = &bb.b;
    REQUIRE(b->U == 3);
    int32_t want_off[4] = {0, 3, 5, 7}, want_idx[7] = {0, 1, 2, 1, 0, 2, 0},
            want_type[7] = {0, 3, 2, 0, 3, 0, 1};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_I64(b->le_off[i], want_off[i]);
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_I64(b->le_idx[i], want_idx[i]);
        CHECK_EQ_I64(b->le_type[i], want_type[i]);
    }
    /* global neighbours: node 0 (item 5) has 9, the others none */
    CHECK_EQ_I64(b->K, 2);
    CHECK_EQ_I64(b->M, 3); /* real nodes: the three unique items */
    CHECK_EQ_I64(b->gnode[2], 2);
    CHECK_EQ_I64(b->gsess[2], 0);
    CHECK_EQ_I64(b->gn[0], 1);
    CHECK_EQ_I64(b->gn[1], 0);
    CHECK_EQ_I64(b->gnbr[0], 9);
    CHECK_EQ_I64(b->gnbr[1], 0);
    CHECK(((double *)b->gw)[0] == 3);
    CHECK_EQ_I64(b->gids[0], 5);
    CHECK_EQ_I64(b->gids[2], 7);
    CHECK(((double *)b->flen)[0] == 5);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
    sbr_model_free(&m);
}

/* A table that does not fit is refused with a clear message. */
TEST(model_gcegnn_bad_table)
{
    sbr_model_cfg cfg;
    sbr_model_defaults("gcegnn", &cfg);
    cfg.d = 4, cfg.n_items = 9, cfg.max_len = 8, cfg.global_k = 2;
    sbr_model m;
    sbr_err e;
    REQUIRE(sbr_model_create(&m, &cfg, SBR_PREC_F64, 4, 8, &e) == 0);
    int32_t nbr[20] = {0}, n[10] = {0};
    float w[20] = {0};
    n[3] = 1, nbr[6] = 12, w[6] = 1; /* item 12 is outside the catalogue */
    CHECK(sbr_model_set_global_table(&m, nbr, w, n, &e) == -1);
    CHECK(strstr(e.msg, "item 3") != NULL);
    n[3] = 3; /* more than K */
    CHECK(sbr_model_set_global_table(&m, nbr, w, n, &e) == -1);
    sbr_model_free(&m);
}

/* The largest shapes by default: B = 100 prefixes of max_len = 50 distinct
 * clicks (U = L = 50 nodes each), every item with K = 12 global neighbours,
 * d = 100, float, CLIP prompts on or off. A training step and a top-K must
 * stay inside the reserved activation memory (sbr_model_act aborts
 * otherwise) and give a CE near log N at initialisation. Shared with the
 * DMI-GNN tests. */
int gce_fullsize_check(const char *name, int clip);
int gce_fullsize_check(const char *name, int clip)
{
    enum { S = 100, LEN = 51, N = 160, K = 12 };
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
            items[s * LEN + j] = (s * 7 + j) % N + 1;
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
        int32_t *nbr = calloc((N + 1) * K, sizeof(int32_t)), n[N + 1] = {0};
        float *w = calloc((N + 1) * K, sizeof(float));
        for (int i = 1; i <= N; i++)
            for (int k = 0; k < K; k++)
                nbr[i * K + k] = (i + 3 * k) % N + 1, w[i * K + k] = (float)(K - k), n[i] = K;
        bad |= sbr_model_set_global_table(&m, nbr, w, n, &e) != 0;
        sbr_batch_buf bb;
        sbr_batch_buf_init(&bb, S, cfg.max_len, 0, sizeof(float));
        sbr_batch_buf_model(&bb, &m);
        sbr_clip_map cm = {clusters, 1};
        sbr_batch_fill(&bb, &sp, &smp, order, S, N, clip ? &cm : NULL);
        bad |= bb.b.L != cfg.max_len || bb.b.U != cfg.max_len;
        double loss = sbr_model_loss_grad(&m, &bb.b, 1, 8192), ce = loss - m.last_xloss;
        size_t used = m.acts.high;
        int32_t idx[S * 20];
        float score[S * 20];
        sbr_model_topk(&m, &bb.b, 20, 8192, idx, score, NULL, NULL);
        printf("    %s%s: B %d x L %d, U %d, loss %.4f (CE %.4f, log N = %.4f), activations "
               "%.1f of %.1f MiB\n", name, clip ? "+clip" : "", S, bb.b.L, m.interests, loss, ce,
               log((double)N), used / 1048576.0, m.act_bytes / 1048576.0);
        bad |= !isfinite(loss) || fabs(ce - log((double)N)) > 1.0;
        for (int i = 0; i < S * 20; i++)
            bad |= idx[i] < 1 || idx[i] > N || !isfinite(score[i]);
        sbr_batch_buf_free(&bb);
        sbr_model_free(&m);
        free(nbr);
        free(w);
    }
    sbr_samples_free(&smp);
    free(off);
    free(items);
    return bad;
}

TEST(model_gcegnn_fullsize)
{
    CHECK(gce_fullsize_check("gcegnn", 0) == 0);
    CHECK(gce_fullsize_check("gcegnn", 1) == 0);
}
