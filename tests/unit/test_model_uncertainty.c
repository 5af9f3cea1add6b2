/* The uncertainty through the model layer (sbr_model_topk_unc, via
 * sbr_eval_split): for every registered model that has it, a tiny model
 * ranks the whole 9-item catalogue (K = N, so each list holds every item it
 * ranked, with its score), and the entropy and top-1 probability must be
 * those of the softmax over exactly those scores, for the standard task and
 * for next-unseen (the prefix's items left out). That covers each model's
 * candidates (CORE's and DMI-GNN's normalised table, DMI-GNN's pooled
 * interests) and the step's exclusions. The models with a scoring hook say
 * why they have none. Then the metrics of a hand-made file (deciles, ECE)
 * and the top-K file's optional tensors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model_check.h"
#include "metrics.h"
#include "model/def.h"
#include "model/eval.h"
#include "tfile.h"
#include "topk.h"

#define UN 9 /* the catalogue */

static const int64_t u_off[6] = {0, 5, 9, 11, 14, 20};
static const int32_t u_items[20] = {1, 2, 3, 2, 4, /**/ 5, 6, 5, 7, /**/ 8, 9, /**/ 3, 3, 3,
                                    /**/ 7, 1, 2, 1, 8, 6};

/* The global graph's table for models that read one: item i's neighbours
 * i + 1 and i + 2 (wrapping). */
static int u_global(sbr_model *m, sbr_err *e)
{
    int32_t nbr[(UN + 1) * 2] = {0}, n[UN + 1] = {0};
    float w[(UN + 1) * 2] = {0};
    for (int i = 1; i <= UN; i++)
        for (int k = 0; k < 2; k++)
            nbr[i * 2 + k] = (i + k) % UN + 1, w[i * 2 + k] = (float)(2 - k), n[i]++;
    return sbr_model_set_global_table(m, nbr, w, n, e);
}

static int u_model(sbr_model *m, const char *name, sbr_err *e)
{
    sbr_model_cfg c;
    if (sbr_model_defaults(name, &c))
        return sbr_errf(e, "unknown model");
    sbr_cfg_set_if(&c, "dim", 4);
    sbr_cfg_set_if(&c, "hidden", 3);
    sbr_cfg_set_if(&c, "max_len", 4);
    sbr_cfg_set_if(&c, "global_k", 2);
    c.n_items = UN;
    c.max_k = UN;
    c.chunk = 4;
    c.seed = 3;
    c.init_scale = 1.5; /* scores spread enough for a peaked softmax here and there */
    model_cfg_tiny_pool(&c);
    if (sbr_model_create(m, &c, SBR_PREC_F32, 8, 4, e))
        return -1;
    if (m->global_k > 0 && u_global(m, e))
        return -1;
    static sbr_split sp = {5, (int64_t *)u_off, (int32_t *)u_items, NULL, NULL, 0};
    return model_pool_prepare(m, &sp, NULL, e); /* NP-MiSR's contexts */
}

/* Row i of t against the softmax over its listed scores, in double. */
static void u_check_row(const sbr_topk *t, int64_t i, const char *name)
{
    const int32_t *it = t->items + i * t->k;
    const float *sc = t->scores + i * t->k;
    double m = sc[0], z = 0, h = 0;
    int n = 0;
    for (; n < t->k && it[n]; n++)
        z += exp(sc[n] - m);
    for (int j = 0; j < n; j++) {
        double p = exp(sc[j] - m) / z;
        h -= p * log(p);
    }
    if (fabs(t->entropy[i] - h) > 1e-5 || fabs(t->top1[i] - 1 / z) > 1e-6)
        harness_fail(__FILE__, __LINE__, "%s row %lld: entropy %.7g, top-1 %.7g; want %.7g, %.7g",
                     name, (long long)i, t->entropy[i], t->top1[i], h, 1 / z);
}

static void u_run(sbr_model *m, sbr_task task, const char *name)
{
    sbr_split sp = {5, (int64_t *)u_off, (int32_t *)u_items, NULL, NULL, 0};
    sbr_eval_cfg ec = {UN, 8, task, 4, 0, NULL, 1};
    sbr_topk t;
    sbr_eval_split(m, &sp, 1, NULL, &ec, &t);
    REQUIRE(t.entropy && t.top1 && t.n == 15);
    for (int64_t i = 0; i < t.n; i++)
        u_check_row(&t, i, name);
    sbr_eval_topk_free(&t);
}

TEST(model_uncertainty_is_the_lists_softmax)
{
    int ran = 0;
    for (int i = 0; sbr_model_names[i]; i++) {
        const char *name = sbr_model_names[i];
        sbr_model m;
        sbr_err e;
        if (u_model(&m, name, &e)) {
            harness_fail(__FILE__, __LINE__, "%s: %s", name, e.msg);
            continue;
        }
        const char *no = sbr_model_no_uncertainty(&m);
        int hook = strcmp(name, "tagnn") == 0 || strcmp(name, "proxysr") == 0;
        CHECK((no != NULL) == hook);
        if (!no) {
            u_run(&m, SBR_TASK_STANDARD, name);
            u_run(&m, SBR_TASK_NEXT_UNSEEN, name);
            ran++;
        }
        sbr_model_free(&m);
    }
    CHECK(ran >= 10);
}

/* A hand-made file of ten samples: sample i has entropy (10 - i) / 10,
 * top-1 probability 0.05 + 0.1 i (bin i), spread i / 4 (a sampling
 * model's), its first item the target for i = 0, 3, 4, 8, 9, its second for
 * i = 1. */
enum { US = 10 };
static const int u_hit1[US] = {1, 0, 0, 1, 1, 0, 0, 0, 1, 1};
typedef struct {
    int32_t items[US * 2], targets[US], plen[US];
    float scores[US * 2], ent[US], p1[US], sp[US];
    uint8_t rep[US];
    sbr_topk t;
} u_hand;

static void u_hand_make(u_hand *h)
{
    memset(h, 0, sizeof *h);
    for (int i = 0; i < US; i++) {
        h->items[2 * i] = 1, h->items[2 * i + 1] = 2;
        h->scores[2 * i] = 1, h->scores[2 * i + 1] = 0;
        h->targets[i] = u_hit1[i] ? 1 : i == 1 ? 2 : 3;
        h->plen[i] = 1;
        h->ent[i] = (float)(US - i) / 10;
        h->p1[i] = 0.05f + 0.1f * (float)i;
        h->sp[i] = (float)i / 4;
    }
    h->t = (sbr_topk){.n = US, .k = 2, .n_items = 5, .items = h->items, .scores = h->scores,
                      .targets = h->targets, .prefix_len = h->plen, .repeat = h->rep,
                      .entropy = h->ent, .top1 = h->p1};
}

/* The metrics of the hand-made file without a spread: deciles of one
 * sample each (the entropies given out of order), and the calibration error
 * of the top-1 probabilities by hand. */
TEST(model_uncertainty_metrics_by_hand)
{
    enum { S = US };
    u_hand h;
    u_hand_make(&h);
    const int *hit1 = u_hit1;
    const float *ent = h.ent;
    sbr_topk t = h.t;
    sbr_unc_metrics u;
    REQUIRE(sbr_unc_metrics_compute(&t, (int[]){1, 2}, 2, SBR_TASK_STANDARD, &u) == 0);
    CHECK_EQ_I64(u.n, S);
    for (int g = 0; g < S; g++) { /* decile g: the sample of entropy (g + 1) / 10 */
        int i = S - 1 - g;
        CHECK_EQ_I64(u.dec[g].n, 1);
        CHECK_NEAR(u.dec[g].key_mean, ent[i], 1e-7);
        CHECK_NEAR(u.dec[g].at[0].hr, hit1[i], 1e-12);
        CHECK_NEAR(u.dec[g].at[1].mrr, hit1[i] ? 1 : i == 1 ? 0.5 : 0, 1e-12);
        CHECK_EQ_I64(u.bin[i].n, 1);
    }
    /* ECE = sum over the ten one-sample bins of |hit - p| / 10: (0.95 + 0.15
     * + 0.25 + 0.65 + 0.55 + 0.55 + 0.65 + 0.75 + 0.15 + 0.05) / 10 */
    CHECK_NEAR(u.ece, 0.47, 1e-7);
    CHECK_NEAR(u.acc, 0.5, 1e-12);
    CHECK_NEAR(u.conf, 0.5, 1e-7);
    t.entropy = NULL; /* a file without them */
    CHECK(sbr_unc_metrics_compute(&t, (int[]){1}, 1, SBR_TASK_STANDARD, &u) == -1);
}

/* The same ten samples with the spread, so that the spread deciles run the
 * other way from the entropy's: decile g is sample g; the entropy's stay as
 * they were. Under next-unseen with sample 0 a repeat, nine samples: the
 * first decile empty, g the sample g. */
TEST(model_uncertainty_metrics_by_spread)
{
    enum { S = US };
    u_hand h;
    u_hand_make(&h);
    const int *hit1 = u_hit1;
    const float *ent = h.ent, *p1 = h.p1, *sp = h.sp;
    uint8_t *rep = h.rep;
    sbr_topk t = h.t;
    t.spread = h.sp;
    sbr_unc_metrics u;
    REQUIRE(sbr_unc_metrics_compute(&t, (int[]){1, 2}, 2, SBR_TASK_STANDARD, &u) == 0);
    CHECK(u.has_spread);
    for (int g = 0; g < S; g++) {
        CHECK_EQ_I64(u.sdec[g].n, 1);
        CHECK_NEAR(u.sdec[g].key_min, sp[g], 0);
        CHECK_NEAR(u.sdec[g].key_max, sp[g], 0);
        CHECK_NEAR(u.sdec[g].key_mean, sp[g], 0);
        CHECK_NEAR(u.sdec[g].top1_mean, p1[g], 1e-7);
        CHECK_NEAR(u.sdec[g].at[0].hr, hit1[g], 1e-12);
        CHECK_NEAR(u.sdec[g].at[1].mrr, hit1[g] ? 1 : g == 1 ? 0.5 : 0, 1e-12);
        CHECK_NEAR(u.sdec[g].at[1].ndcg, hit1[g] ? 1 : g == 1 ? 1 / log2(3.0) : 0, 1e-12);
        CHECK_NEAR(u.dec[g].key_mean, ent[S - 1 - g], 1e-7); /* the entropy's as before */
    }
    CHECK_NEAR(u.ece, 0.47, 1e-7);
    rep[0] = 1;
    REQUIRE(sbr_unc_metrics_compute(&t, (int[]){1, 2}, 2, SBR_TASK_NEXT_UNSEEN, &u) == 0);
    CHECK_EQ_I64(u.n, S - 1);
    CHECK_EQ_I64(u.sdec[0].n, 0);
    for (int g = 1; g < S; g++)
        CHECK(u.sdec[g].n == 1 && u.sdec[g].key_mean == sp[g] &&
              u.sdec[g].at[0].hr == hit1[g]);
    t.spread = NULL; /* lists without one: no spread deciles */
    REQUIRE(sbr_unc_metrics_compute(&t, (int[]){1}, 1, SBR_TASK_STANDARD, &u) == 0);
    CHECK(!u.has_spread && u.sdec[0].n == 0);
}

/* Writes a 2-row top-K file with the given uncertainty tensors (NULL: left
 * out; a sampling model's spread too) and reads it back. */
static int u_file_sp(const float *ent, const float *p1, const float *sp, int64_t n_sp,
                     sbr_topk *back, sbr_err *e)
{
    int32_t items[4] = {3, 1, 0, 0}, targets[2] = {1, 2}, plen[2] = {1, 2};
    float scores[4] = {2, 1, 0, 0};
    uint8_t rep[2] = {0, 0};
    sbr_topk t = {.n = 2, .k = 2, .n_items = 4, .items = items, .scores = scores,
                  .targets = targets, .prefix_len = plen, .repeat = rep};
    char path[512];
    snprintf(path, sizeof path, "%s/unc.topk", harness_tmpdir());
    sbr_tw *w = sbr_tw_new("sbr.topk");
    sbr_topk_add_to(&t, w);
    if (ent)
        sbr_tw_add1(w, "entropy", SBR_F32, 2, ent);
    if (p1)
        sbr_tw_add1(w, "top1_prob", SBR_F32, 2, p1);
    if (sp)
        sbr_tw_add1(w, "spread", SBR_F32, n_sp, sp);
    int rc = sbr_tw_write(w, path, 0, e);
    sbr_tw_free(w);
    return rc ? rc : sbr_topk_read(path, back, e);
}

static int u_file(const float *ent, const float *p1, sbr_topk *back, sbr_err *e)
{
    return u_file_sp(ent, p1, NULL, 0, back, e);
}

/* The optional tensors: read back as written, absent in older files, and
 * refused alone, out of range, or with a top-1 probability of 0 for a list
 * that has items (row 1 is an empty list: no distribution, 0 and 0). */
TEST(topk_file_uncertainty)
{
    sbr_topk t;
    sbr_err e;
    REQUIRE(u_file((float[]){0.5f, 0}, (float[]){0.75f, 0}, &t, &e) == 0);
    CHECK(t.entropy && t.top1 && t.entropy[0] == 0.5f && t.top1[0] == 0.75f);
    sbr_topk_free(&t);
    REQUIRE(u_file(NULL, NULL, &t, &e) == 0);
    CHECK(!t.entropy && !t.top1);
    sbr_topk_free(&t);
    CHECK(u_file((float[]){0.5f, 0}, NULL, &t, &e) == -1 && strstr(e.msg, "without top1_prob"));
    CHECK(u_file((float[]){1.5f, 0}, (float[]){0.5f, 0}, &t, &e) == -1 &&
          strstr(e.msg, "row 0: entropy 1.5 outside 0..log(4)"));
    CHECK(u_file((float[]){-0.1f, 0}, (float[]){0.5f, 0}, &t, &e) == -1 && strstr(e.msg, "row 0"));
    CHECK(u_file((float[]){0.5f, 0}, (float[]){0, 0}, &t, &e) == -1 &&
          strstr(e.msg, "row 0: top-1 probability 0 outside (0, 1]"));
    CHECK(u_file((float[]){0.5f, NAN}, (float[]){0.5f, 0}, &t, &e) == -1 && strstr(e.msg, "row 1"));
    CHECK(u_file((float[]){0.5f, 0}, (float[]){1.5f, 0}, &t, &e) == -1 && strstr(e.msg, "row 0"));
}

/* A sampling model's spread: read back as written (and written back by
 * sbr_topk_add_to), absent as before, refused without the entropy, negative,
 * not finite or of another length. */
TEST(topk_file_spread)
{
    sbr_topk t;
    sbr_err e;
    float ent[2] = {0.5f, 0}, p1[2] = {0.75f, 0};
    REQUIRE(u_file_sp(ent, p1, (float[]){0.25f, 0}, 2, &t, &e) == 0);
    CHECK(t.spread && t.spread[0] == 0.25f && t.spread[1] == 0);
    char path[512];
    snprintf(path, sizeof path, "%s/unc2.topk", harness_tmpdir());
    sbr_tw *w = sbr_tw_new("sbr.topk"); /* the writer keeps it */
    sbr_topk_add_to(&t, w);
    REQUIRE(sbr_tw_write(w, path, 0, &e) == 0);
    sbr_tw_free(w);
    sbr_topk_free(&t);
    REQUIRE(sbr_topk_read(path, &t, &e) == 0);
    CHECK(t.spread && t.spread[0] == 0.25f && t.entropy && t.entropy[0] == 0.5f);
    sbr_topk_free(&t);
    REQUIRE(u_file(ent, p1, &t, &e) == 0);
    CHECK(t.entropy && !t.spread);
    sbr_topk_free(&t);
    CHECK(u_file_sp(NULL, NULL, (float[]){0.25f, 0}, 2, &t, &e) == -1 &&
          strstr(e.msg, "spread without entropy"));
    CHECK(u_file_sp(ent, p1, (float[]){-0.25f, 0}, 2, &t, &e) == -1 &&
          strstr(e.msg, "row 0: spread -0.25 is not a finite distance"));
    CHECK(u_file_sp(ent, p1, (float[]){0.25f, INFINITY}, 2, &t, &e) == -1 &&
          strstr(e.msg, "row 1: spread"));
    CHECK(u_file_sp(ent, p1, (float[]){0.25f, NAN}, 2, &t, &e) == -1 && strstr(e.msg, "row 1"));
    CHECK(u_file_sp(ent, p1, (float[]){0.25f, 0, 1}, 3, &t, &e) == -1 &&
          strstr(e.msg, "spread [3] for 2 rows"));
}
