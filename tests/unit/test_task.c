/* The standard and next-unseen tasks (common/task.h): the definition of a
 * repeat sample and of the prefix's items; the task through file metadata
 * (any file, the trainer's model metadata, top-K files); and a model's
 * evaluation of a hand-made split, whose repeats and exclusions are known. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "metrics.h"
#include "model/eval.h"
#include "model/train.h"
#include "task.h"

static char *tmp(const char *name)
{
    static char buf[2][512];
    static int k;
    k = (k + 1) % 2;
    snprintf(buf[k], sizeof buf[k], "%s/%s", harness_tmpdir(), name);
    return buf[k];
}

TEST(task_definitions)
{
    const int32_t p[5] = {4, 2, 9, 4, 0};
    CHECK(sbr_task_is_repeat(p, 4, 2));
    CHECK(!sbr_task_is_repeat(p, 4, 5));
    CHECK(!sbr_task_is_repeat(p, 1, 2)); /* only the prefix counts */
    CHECK(sbr_task_is_repeat(p, 4, 9));  /* an item outside the catalogue too */
    int32_t out[5];
    /* catalogue 1..8: 9 (unseen in training) and 0 cannot be ranked */
    CHECK_EQ_I64(sbr_task_prefix_items(p, 5, 8, out), 3);
    CHECK(out[0] == 4 && out[1] == 2 && out[2] == 4);
    CHECK(!sbr_task_drops(SBR_TASK_STANDARD, 1) && sbr_task_drops(SBR_TASK_NEXT_UNSEEN, 1));
    CHECK(!sbr_task_drops(SBR_TASK_NEXT_UNSEEN, 0));
    CHECK(!sbr_task_excludes(SBR_TASK_STANDARD) && sbr_task_excludes(SBR_TASK_NEXT_UNSEEN));
    CHECK_STR(sbr_task_name(SBR_TASK_NEXT_UNSEEN), "next-unseen");
}

/* A file holding only the metadata kv (NULL: none) read back for its task. */
static int task_of(const char *value, sbr_task *t, sbr_err *e)
{
    sbr_tw *w = sbr_tw_new("sbr.model");
    if (value)
        sbr_tw_meta(w, "task", value);
    sbr_tfile f;
    int rc = sbr_tw_write(w, tmp("t.sbr"), 0, e) || sbr_tfile_read(tmp("t.sbr"), &f, e);
    sbr_tw_free(w);
    if (rc)
        return -1;
    rc = sbr_task_of_file(&f, t, e);
    sbr_tfile_free(&f);
    return rc;
}

TEST(task_file_metadata)
{
    sbr_task t = SBR_TASK_NEXT_UNSEEN;
    sbr_err e;
    CHECK(task_of(NULL, &t, &e) == 0 && t == SBR_TASK_STANDARD); /* files from before */
    CHECK(task_of("next-unseen", &t, &e) == 0 && t == SBR_TASK_NEXT_UNSEEN);
    CHECK(task_of("standard", &t, &e) == 0 && t == SBR_TASK_STANDARD);
    CHECK(task_of("unseen", &t, &e) == -1 && strstr(e.msg, "task = \"unseen\""));
}

/* The trainer's metadata: the task, and the repeats each evaluation dropped. */
TEST(task_train_meta_round_trip)
{
    sbr_train_cfg tc = {.task = SBR_TASK_NEXT_UNSEEN};
    sbr_train_state st = {.epoch = 2, .best_epoch = 1};
    st.valid[0].done = 1, st.valid[0].m.n_skipped = 7;
    st.test[0].done = 1, st.test[0].m.n_skipped = 11;
    sbr_tw *w = sbr_tw_new("sbr.model");
    sbr_train_state_meta(&st, &tc, w);
    sbr_tfile f;
    sbr_err e;
    sbr_task t;
    REQUIRE(sbr_tw_write(w, tmp("m.sbr"), 0, &e) == 0 && sbr_tfile_read(tmp("m.sbr"), &f, &e) == 0);
    sbr_tw_free(w);
    CHECK(sbr_task_of_file(&f, &t, &e) == 0 && t == SBR_TASK_NEXT_UNSEEN);
    CHECK_STR(sbr_tfile_meta(&f, "valid.repeats_dropped"), "7");
    CHECK_STR(sbr_tfile_meta(&f, "test.repeats_dropped"), "11");
    sbr_tfile_free(&f);
}

/* A one-row top-K file with this exclude_seen and task (NULL: no key, as
 * files from before it), read back into back: 0, or -1 with e set. */
static int topk_file(int exclude_seen, const char *task, sbr_topk *back, sbr_err *e)
{
    static const int32_t items[2] = {3, 1}, target = 2, plen = 1;
    static const float scores[2] = {2, 1};
    static const uint8_t rep = 0;
    sbr_tw *w = sbr_tw_new("sbr.topk");
    sbr_tw_meta(w, "n_items", "4");
    sbr_tw_metaf(w, "exclude_seen", "%d", exclude_seen);
    if (task)
        sbr_tw_meta(w, "task", task);
    sbr_tw_add(w, "items", SBR_I32, 2, (int64_t[]){1, 2}, items);
    sbr_tw_add(w, "scores", SBR_F32, 2, (int64_t[]){1, 2}, scores);
    sbr_tw_add1(w, "targets", SBR_I32, 1, &target);
    sbr_tw_add1(w, "prefix_len", SBR_I32, 1, &plen);
    sbr_tw_add1(w, "repeat", SBR_U8, 1, &rep);
    int rc = sbr_tw_write(w, tmp("k.sbr"), 0, e);
    sbr_tw_free(w);
    return rc ? rc : sbr_topk_read(tmp("k.sbr"), back, e);
}

/* A top-K file's task is next-unseen exactly when its lists leave out the
 * prefix's items; sbr_topk_add_to writes what sbr_topk_read reads. */
TEST(task_topk_files)
{
    sbr_topk t, back;
    sbr_err e;
    REQUIRE(topk_file(1, "next-unseen", &t, &e) == 0);
    CHECK(t.task == SBR_TASK_NEXT_UNSEEN && t.exclude_seen);
    sbr_tw *w = sbr_tw_new("sbr.topk");
    sbr_topk_add_to(&t, w);
    REQUIRE(sbr_tw_write(w, tmp("k2.sbr"), 0, &e) == 0);
    sbr_tw_free(w);
    REQUIRE(sbr_topk_read(tmp("k2.sbr"), &back, &e) == 0);
    CHECK(back.task == SBR_TASK_NEXT_UNSEEN && back.exclude_seen);
    sbr_topk_free(&back);
    sbr_topk_free(&t);
    REQUIRE(topk_file(1, NULL, &t, &e) == 0); /* from before "task": exclude_seen says */
    CHECK(t.task == SBR_TASK_NEXT_UNSEEN);
    sbr_topk_free(&t);
    REQUIRE(topk_file(0, NULL, &t, &e) == 0);
    CHECK(t.task == SBR_TASK_STANDARD);
    sbr_topk_free(&t);
    CHECK(topk_file(0, "next-unseen", &t, &e) == -1 && strstr(e.msg, "exclude_seen 0"));
    CHECK(topk_file(1, "standard", &t, &e) == -1 && strstr(e.msg, "task standard"));
    CHECK(topk_file(1, "both", &t, &e) == -1 && strstr(e.msg, "task = \"both\""));
}

/* A tiny mean model over a hand-made split of a 6-item catalogue (8 = an
 * item unseen in training): every sample's repeat flag, and the lists'
 * exclusions, are known. */
static const int64_t split_off[4] = {0, 4, 7, 11};
static const int32_t split_items[11] = {1, 2, 1, 3, /**/ 5, 8, 8, /**/ 2, 3, 4, 6};

static void eval_mean(sbr_task task, sbr_topk *t, sbr_metrics *m)
{
    sbr_model_cfg c;
    sbr_err e;
    REQUIRE(sbr_model_defaults("mean", &c) == 0);
    sbr_cfg_set_if(&c, "dim", 4);
    sbr_cfg_set_if(&c, "max_len", 3); /* shorter than a prefix: exclusions see all of it */
    c.n_items = 6;
    c.max_k = 6;
    c.chunk = 4;
    sbr_model md;
    REQUIRE(sbr_model_create(&md, &c, SBR_PREC_F32, 2, 3, &e) == 0);
    sbr_split sp = {3, (int64_t *)split_off, (int32_t *)split_items, NULL, NULL, 0};
    sbr_eval_cfg ec = {6, 2, task, 4, 0, NULL, 0};
    sbr_eval_split(&md, &sp, 1, NULL, &ec, t);
    sbr_metrics_compute(t, (int[]){6}, 1, task, m);
    sbr_model_free(&md);
}

TEST(task_model_eval_next_unseen)
{
    /* samples (prefix -> target), longest prefix first per session:
     * [1 2 1] -> 3, [1 2] -> 1 (repeat), [1] -> 2; [5 8] -> 8 (repeat),
     * [5] -> 8; [2 3 4] -> 6, [2 3] -> 4, [2] -> 3 */
    static const uint8_t want_rep[8] = {0, 1, 0, 1, 0, 0, 0, 0};
    static const int want_len[8] = {3, 2, 1, 2, 1, 3, 2, 1};
    sbr_topk t;
    sbr_metrics m;
    eval_mean(SBR_TASK_NEXT_UNSEEN, &t, &m);
    REQUIRE(t.n == 8);
    CHECK(t.task == SBR_TASK_NEXT_UNSEEN && t.exclude_seen);
    int listed_prefix_items = 0, listed = 0;
    for (int i = 0; i < 8; i++) {
        CHECK(t.repeat[i] == want_rep[i] && t.prefix_len[i] == want_len[i]);
        /* the sample's prefix: the session's first prefix_len clicks */
        int s = i < 3 ? 0 : i < 5 ? 1 : 2;
        const int32_t *pre = split_items + split_off[s];
        for (int j = 0; j < 6 && t.items[i * 6 + j]; j++, listed++)
            listed_prefix_items += sbr_task_is_repeat(pre, t.prefix_len[i], t.items[i * 6 + j]);
    }
    CHECK_EQ_I64(listed_prefix_items, 0);
    /* 6 items less each prefix's distinct catalogue items: 4+4+5, 5+5, 3+4+5 */
    CHECK_EQ_I64(listed, 35);
    CHECK_EQ_I64(m.n_skipped, 2);
    CHECK_EQ_I64(m.n_samples, 6);
    CHECK_EQ_I64(m.n_unseen_targets, 1); /* [5] -> 8: kept, a miss */
    CHECK_NEAR(m.all[0].hr, 5.0 / 6, 1e-12); /* every other target is listed */
    sbr_eval_topk_free(&t);
    eval_mean(SBR_TASK_STANDARD, &t, &m);
    CHECK(t.task == SBR_TASK_STANDARD && !t.exclude_seen && t.repeat[1] && t.repeat[3]);
    CHECK_EQ_I64(m.n_skipped, 0);
    CHECK_EQ_I64(m.n_samples, 8);
    CHECK_EQ_I64(m.all[0].hr * 8 + 0.5, 6); /* all 6 items listed: every catalogue target */
    sbr_eval_topk_free(&t);
}
