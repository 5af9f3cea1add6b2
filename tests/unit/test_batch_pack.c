/* Packed session-graph nodes (sbr_batch: row b's nodes are node_off[b] ..
 * node_off[b+1]-1, T = sum of n_uniq, no padding nodes): the batch builder's
 * offsets and indices on rows of different unique counts, and the graph
 * models (SR-GNN, GCE-GNN, DMI-GNN) computing on a mixed batch exactly what
 * they compute one sample at a time (S, the loss and every gradient), which
 * fails if any node index or per-session gather crossed rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model/def.h"

/* Sessions of different unique counts, with repeats; item 12 is outside the
 * catalogue of 9 (an unseen item: node with id 0). */
static int64_t pk_off[6] = {0, 6, 10, 17, 19, 26};
static int32_t pk_items[26] = {1, 2, 3, 2, 4, 5, /**/ 6, 6, 6, 6, /**/ 7, 8, 12, 9, 7, 1, 3,
                               /**/ 4, 4, /**/ 9, 8, 7, 6, 5, 4, 3};
static int32_t pk_clusters[10] = {0, 1, 1, 2, 2, 3, 3, 1, 2, 3};

/* The last prefix of each session (the longest), by sample index. */
static int64_t longest(const sbr_samples *smp, int64_t s)
{
    int64_t best = -1;
    for (int64_t i = 0; i < smp->n; i++)
        if (smp->session[i] == s && (best < 0 || smp->prefix_len[i] > smp->prefix_len[best]))
            best = i;
    return best;
}

/* ord [m]: every position of a nonzero id, by (id, position). */
static void check_grouped(const int32_t *ids, int n, const int32_t *ord, int m)
{
    int nonzero = 0;
    for (int i = 0; i < n; i++)
        nonzero += ids[i] != 0;
    CHECK_EQ_I64(m, nonzero);
    for (int j = 0; j < m; j++) {
        REQUIRE(ord[j] >= 0 && ord[j] < n && ids[ord[j]] != 0);
        if (j > 0) {
            int q = ord[j - 1], p = ord[j];
            CHECK(ids[q] < ids[p] || (ids[q] == ids[p] && q < p));
        }
    }
}

TEST(batch_packed_node_offsets)
{
    sbr_split sp = {5, pk_off, pk_items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    sbr_batch_buf bb;
    sbr_batch_buf_init(&bb, 8, 8, 1, sizeof(double));
    int64_t order[5];
    for (int s = 0; s < 5; s++)
        order[s] = longest(&smp, s);
    sbr_batch_fill(&bb, &sp, &smp, order, 5, 9, NULL);
    const sbr_batch *b = &bb.b;
    const sbr_batch_nodes *nd = b->nodes;
    const sbr_batch_adj *ad = b->adj;
    REQUIRE(nd && ad);
    /* prefixes 1 2 3 2 4 | 6 6 6 | 7 8 0 9 7 1 | 4 | 9 8 7 6 5 4 */
    int32_t want_nu[5] = {4, 1, 5, 1, 6};
    int32_t want_off[6] = {0, 4, 5, 10, 11, 17};
    int32_t want_uniq[17] = {1, 2, 3, 4, 6, 7, 8, 0, 9, 1, 4, 9, 8, 7, 6, 5, 4};
    REQUIRE(b->B == 5 && b->L == 6);
    CHECK_EQ_I64(nd->U, 6);
    CHECK_EQ_I64(nd->T, 17);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_I64(nd->n_uniq[i], want_nu[i]);
    for (int i = 0; i <= 5; i++)
        CHECK_EQ_I64(nd->node_off[i], want_off[i]);
    for (int t = 0; t < 17; t++) {
        CHECK_EQ_I64(nd->uniq[t], want_uniq[t]);
        int row = 0;
        while (t >= want_off[row + 1])
            row++;
        CHECK_EQ_I64(nd->node_sess[t], row);
    }
    /* every click (and padding, as the row's first node) points into its row */
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < b->L; j++) {
            int node = nd->alias[i * b->L + j];
            CHECK(node >= want_off[i] && node < want_off[i + 1]);
            if (j < b->len[i])
                CHECK_EQ_I64(nd->uniq[node], b->items[i * b->L + j]);
            else
                CHECK_EQ_I64(node, want_off[i]);
        }
    CHECK_EQ_I64(nd->last_node[0], 3);  /* item 4 of row 0 */
    CHECK_EQ_I64(nd->last_node[2], 9);  /* item 1 of row 2 */
    CHECK_EQ_I64(nd->last_node[4], 16); /* item 4 of row 4 */
    /* SR-GNN's CSR over the T nodes: edges stay inside their row */
    CHECK_EQ_I64(ad->in_off[17], ad->nnz_in);
    CHECK_EQ_I64(ad->out_off[17], ad->nnz_out);
    for (int t = 0; t < 17; t++) {
        int row = nd->node_sess[t];
        for (int e = ad->in_off[t]; e < ad->in_off[t + 1]; e++)
            CHECK_EQ_I64(nd->node_sess[ad->in_idx[e]], row);
        for (int e = ad->out_off[t]; e < ad->out_off[t + 1]; e++)
            CHECK_EQ_I64(nd->node_sess[ad->out_idx[e]], row);
    }
    /* row 0: 1->2, 2->3, 3->2, 2->4: node 1 (item 2) has in-edges from 1 and 3 */
    CHECK_EQ_I64(ad->in_off[2] - ad->in_off[1], 2);
    CHECK_EQ_I64(ad->in_idx[ad->in_off[1]], 0);
    CHECK_EQ_I64(ad->in_idx[ad->in_off[1] + 1], 2);
    CHECK_EQ_I64(ad->in_off[5] - ad->in_off[4], 1); /* 6 6 6: the self loop 6 -> 6 */
    CHECK_EQ_I64(ad->in_idx[ad->in_off[4]], 4);
    /* the transposes' weights: A_in^T over A_out's pattern, A_out^T over
     * A_in's: entry (u, v) of one is entry (v, u) of the other */
    const double *in_w = ad->in_w, *out_w = ad->out_w, *in_tw = ad->in_tw, *out_tw = ad->out_tw;
    REQUIRE(ad->nnz_in == ad->nnz_out);
    for (int u = 0; u < 17; u++) {
        for (int e = ad->out_off[u]; e < ad->out_off[u + 1]; e++) {
            int v = ad->out_idx[e], f = ad->in_off[v];
            while (f < ad->in_off[v + 1] && ad->in_idx[f] != u)
                f++;
            REQUIRE(f < ad->in_off[v + 1]);
            CHECK(in_tw[e] == in_w[f]);
        }
        for (int e = ad->in_off[u]; e < ad->in_off[u + 1]; e++) {
            int v = ad->in_idx[e], f = ad->out_off[v];
            while (f < ad->out_off[v + 1] && ad->out_idx[f] != u)
                f++;
            REQUIRE(f < ad->out_off[v + 1]);
            CHECK(out_tw[e] == out_w[f]);
        }
    }
    CHECK(in_tw[ad->out_off[0]] == 0.5); /* 1 -> 2: item 2 has in-edges from 1 and 3 */
    check_grouped(nd->uniq, nd->T, b->ids_ord, b->n_ord);
    CHECK(b->cids_ord == NULL);
    /* for a forward only: the same graphs, without what only a backward reads */
    int nnz_in = ad->nnz_in, nnz_out = ad->nnz_out;
    bb.backward = 0;
    sbr_batch_fill(&bb, &sp, &smp, order, 5, 9, NULL);
    CHECK(ad->in_tw == NULL && ad->out_tw == NULL && b->ids_ord == NULL && b->n_ord == 0);
    CHECK(ad->nnz_in == nnz_in && ad->nnz_out == nnz_out && nd->T == 17);
    sbr_batch_buf_free(&bb);
    /* without graphs the front reads the clicks: items grouped */
    sbr_batch_buf_init(&bb, 8, 8, 0, sizeof(double));
    sbr_batch_fill(&bb, &sp, &smp, order, 5, 9, NULL);
    check_grouped(bb.b.items, bb.b.B * bb.b.L, bb.b.ids_ord, bb.b.n_ord);
    sbr_batch_buf_free(&bb);
    sbr_samples_free(&smp);
}

/* A global table for the tiny catalogue: item i's neighbours i+1, i+2 (mod 9). */
static int tiny_table(sbr_model *m, sbr_err *e)
{
    enum { V = 10, K = 2 };
    int32_t nbr[V * K] = {0}, n[V] = {0};
    float w[V * K] = {0};
    for (int i = 1; i < V; i++) {
        n[i] = i == 5 ? 0 : i == 6 ? 1 : 2; /* item 5 none, 6 one */
        for (int k = 0; k < n[i]; k++)
            nbr[i * K + k] = (i + k) % 9 + 1, w[i * K + k] = (float)(3 - k);
    }
    return sbr_model_set_global_table(m, nbr, w, n, e);
}

typedef struct {
    sbr_model m;
    sbr_batch_buf bb;
    int SU; /* reals of S per sample */
} pk_model;

static int pk_create(pk_model *p, const char *name, int clip)
{
    memset(p, 0, sizeof *p);
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    sbr_cfg_set_if(&cfg, "dim", 4);
    sbr_cfg_set_if(&cfg, "hidden", 3);
    sbr_cfg_set_if(&cfg, "max_len", 5);
    cfg.n_items = 9, cfg.seed = 7;
    cfg.init_scale = 0.8;
    cfg.n_clusters = clip ? 3 : 0;
    sbr_cfg_set_if(&cfg, "dmi_beta", 0); /* a sum over the batch, not a mean: not comparable to singles */
    sbr_cfg_set_if(&cfg, "global_k", 2);
    sbr_err e;
    if (sbr_model_create(&p->m, &cfg, SBR_PREC_F64, 16, 5, &e))
        return -1;
    if ((p->m.def->needs & SBR_NEEDS_GLOBAL) && tiny_table(&p->m, &e))
        return -1;
    sbr_batch_buf_init(&p->bb, 16, 5, 0, sizeof(double));
    sbr_batch_buf_model(&p->bb, &p->m);
    p->SU = p->m.interests * p->m.d;
    return 0;
}

static void pk_free(pk_model *p)
{
    sbr_batch_buf_free(&p->bb);
    sbr_model_free(&p->m);
}

static size_t n_grads(const sbr_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->grads.n; i++)
        n += (size_t)m->grads.views[i].numel;
    return n;
}

static void copy_grads(const sbr_model *m, double *out, double scale, int add)
{
    size_t at = 0;
    for (int i = 0; i < m->grads.n; i++) {
        const double *g = m->grads.views[i].data;
        for (int64_t k = 0; k < m->grads.views[i].numel; k++, at++)
            out[at] = (add ? out[at] : 0) + scale * g[k];
    }
}

/* S, the mean loss and its gradients of a batch of B samples against the same
 * from B batches of one. Returns the number of mismatches. */
static int pk_compare(const char *name, int clip)
{
    pk_model p;
    if (pk_create(&p, name, clip)) {
        printf("    %s: could not build the model\n", name);
        return 1;
    }
    sbr_split sp = {5, pk_off, pk_items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    /* a mix of prefixes: unique counts 1..5, truncation to max_len */
    int64_t order[16];
    int B = 0;
    for (int64_t i = 0; i < smp.n && B < 16; i += 1 + (i % 2))
        order[B++] = i;
    sbr_clip_map cm = {pk_clusters, 1};
    const sbr_clip_map *cp = clip ? &cm : NULL;
    int SU = p.SU, bad = 0;
    size_t G = n_grads(&p.m);
    double *S = calloc((size_t)B * SU, sizeof(double)), *S1 = calloc((size_t)SU, sizeof(double));
    double *g = calloc(G, sizeof(double)), *g1 = calloc(G, sizeof(double));
    sbr_batch_fill(&p.bb, &sp, &smp, order, B, p.m.cfg.n_items, cp);
    CHECK(p.bb.b.nodes->T < B * p.bb.b.nodes->U); /* the test means something: rows of unequal sizes */
    sbr_model_forward(&p.m, &p.bb.b, S);
    double loss = sbr_model_loss_grad(&p.m, &p.bb.b, 0, 4);
    copy_grads(&p.m, g, 1, 0);
    double loss1 = 0;
    for (int i = 0; i < B; i++) {
        sbr_batch_fill(&p.bb, &sp, &smp, order + i, 1, p.m.cfg.n_items, cp);
        sbr_model_forward(&p.m, &p.bb.b, S1);
        for (int k = 0; k < SU; k++)
            if (fabs(S1[k] - S[(size_t)i * SU + k]) > 1e-12 * (1 + fabs(S1[k]))) {
                if (bad++ < 5)
                    printf("    %s%s: S[%d][%d] = %.17g batched, %.17g alone\n", name,
                           clip ? "+clip" : "", i, k, S[(size_t)i * SU + k], S1[k]);
            }
        loss1 += sbr_model_loss_grad(&p.m, &p.bb.b, 0, 4) / B;
        copy_grads(&p.m, g1, 1.0 / B, 1);
    }
    if (fabs(loss - loss1) > 1e-12 * (1 + fabs(loss))) {
        bad++;
        printf("    %s%s: loss %.17g batched, %.17g one at a time\n", name, clip ? "+clip" : "",
               loss, loss1);
    }
    for (size_t k = 0; k < G; k++)
        if (fabs(g[k] - g1[k]) > 1e-10 * (1 + fabs(g1[k]))) {
            if (bad++ < 5)
                printf("    %s%s: gradient %zu %.17g batched, %.17g one at a time\n", name,
                       clip ? "+clip" : "", k, g[k], g1[k]);
        }
    free(S), free(S1), free(g), free(g1);
    sbr_samples_free(&smp);
    pk_free(&p);
    return bad;
}

TEST(batch_packed_srgnn_matches_one_at_a_time)
{
    CHECK(pk_compare("srgnn", 0) == 0);
    CHECK(pk_compare("srgnn", 1) == 0);
}

TEST(batch_packed_gcegnn_matches_one_at_a_time)
{
    CHECK(pk_compare("gcegnn", 0) == 0);
    CHECK(pk_compare("gcegnn", 1) == 0);
}

TEST(batch_packed_dmignn_matches_one_at_a_time)
{
    CHECK(pk_compare("dmignn", 0) == 0);
    CHECK(pk_compare("dmignn", 1) == 0);
}

TEST(batch_packed_lessr_matches_one_at_a_time)
{
    CHECK(pk_compare("lessr", 0) == 0);
    CHECK(pk_compare("lessr", 1) == 0);
}
