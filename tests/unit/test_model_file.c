/* Model files: every resolved option written and read back through its
 * range; a file whose metadata lies (a size out of range, or one its
 * tensors do not have) refused with a clear message before anything is
 * allocated; files of format 1 (the keys before the models declared their
 * options) loaded, a newer format refused by its number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/def.h"
#include "model/loaded.h"

/* A tiny model file of `name` (untrained) at path: cfg's options after set. */
static int write_model(const char *name, const char *path, const char *preset)
{
    sbr_model_cfg c;
    sbr_err e;
    if (sbr_model_defaults(name, &c) ||
        (preset && sbr_cfg_preset(&c, sbr_model_def_for(name, SBR_PREC_F32)->presets, preset, &e)))
        return -1;
    sbr_cfg_set_if(&c, "dim", 4);
    sbr_cfg_set_if(&c, "max_len", 6);
    sbr_cfg_set_if(&c, "global_k", 2);
    sbr_cfg_set_if(&c, "layers", 2);
    sbr_cfg_set_if(&c, "np_context", 2);
    c.n_items = 9;
    sbr_model m;
    if (sbr_model_create(&m, &c, SBR_PREC_F32, 4, 6, &e))
        return printf("    %s\n", e.msg), -1;
    if (m.def->needs & SBR_NEEDS_POOL) { /* three pairs to retrieve from */
        float px[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
        int32_t pi[3] = {2, 5, 9};
        if (sbr_model_pool_set(&m, px, pi, 3, &e))
            return printf("    %s\n", e.msg), -1;
    }
    if (m.def->needs & SBR_NEEDS_GLOBAL) {
        int32_t nbr[20] = {0}, n[10] = {0};
        float w[20] = {0};
        nbr[2] = 3, w[2] = 1, n[1] = 1;
        if (sbr_model_set_global_table(&m, nbr, w, n, &e))
            return -1;
    }
    int64_t orig[10];
    for (int i = 0; i < 10; i++)
        orig[i] = 100 + i;
    sbr_tw *tw = sbr_tw_new("sbr.model");
    sbr_model_add_to(&m, tw, 0);
    sbr_tw_meta(tw, "min_prefix", "1");
    sbr_tw_add1(tw, "items.original", SBR_I64, 10, orig);
    int rc = sbr_tw_write(tw, path, 0, &e);
    sbr_tw_free(tw);
    sbr_model_free(&m);
    return rc;
}

/* Copies src to dst with the metadata of kv ("KEY=VALUE", or "KEY" to drop
 * it) changed. */
static int rewrite(const char *src, const char *dst, const char *const *kv, int n)
{
    sbr_tfile f;
    sbr_err e;
    if (sbr_tfile_read(src, &f, &e))
        return -1;
    sbr_tw *w = sbr_tw_new("sbr.model");
    for (int i = 0; i < f.n_meta; i++) {
        const char *k = f.meta[i].key;
        int changed = strcmp(k, "kind") == 0 || strncmp(k, "sbr.", 4) == 0;
        for (int j = 0; j < n; j++)
            changed |= strncmp(kv[j], k, strlen(k)) == 0 &&
                       (kv[j][strlen(k)] == '=' || !kv[j][strlen(k)]);
        if (!changed)
            sbr_tw_meta(w, k, f.meta[i].value);
    }
    for (int j = 0; j < n; j++) {
        const char *eq = strchr(kv[j], '=');
        if (eq) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - kv[j]), kv[j]);
            sbr_tw_meta(w, key, eq + 1);
        }
    }
    for (int i = 0; i < f.n_tensors; i++)
        sbr_tw_add(w, f.tensors[i].name, f.tensors[i].dtype, f.tensors[i].ndim,
                   f.tensors[i].shape, f.tensors[i].data);
    int rc = sbr_tw_write(w, dst, 0, &e);
    sbr_tw_free(w);
    sbr_tfile_free(&f);
    return rc;
}

/* Opens path as sbr-infer does: 0, or -1 with the message in e. */
static int open_model(const char *path, sbr_err *e)
{
    sbr_loaded_model lm;
    if (sbr_loaded_open(&lm, path, SBR_PREC_F32, 4, 64, 5, e))
        return -1;
    sbr_loaded_close(&lm);
    return 0;
}

static char *tmp(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", harness_tmpdir(), name);
    return buf[k];
}

TEST(model_file_options_round_trip)
{
    sbr_tfile f;
    sbr_model_cfg c;
    sbr_err e;
    REQUIRE(write_model("srgnn", tmp("s.model"), NULL) == 0);
    REQUIRE(sbr_tfile_read(tmp("s.model"), &f, &e) == 0);
    CHECK_STR(sbr_tfile_meta(&f, "layers"), "2");
    CHECK_STR(sbr_tfile_meta(&f, "model_format"), "2");
    REQUIRE(sbr_model_read_cfg(&f, &c, &e) == 0);
    CHECK(sbr_cfg_int(&c, "layers") == 2 && sbr_cfg_int(&c, "dim") == 4 && c.n_items == 9);
    sbr_tfile_free(&f);
    REQUIRE(write_model("dmignn", tmp("d.model"), "tmall") == 0);
    REQUIRE(sbr_tfile_read(tmp("d.model"), &f, &e) == 0);
    CHECK_STR(sbr_tfile_meta(&f, "preset"), "tmall");
    CHECK_STR(sbr_tfile_meta(&f, "interest_pool"), "max");
    CHECK_STR(sbr_tfile_meta(&f, "dmi_beta"), "0.02");
    REQUIRE(sbr_model_read_cfg(&f, &c, &e) == 0);
    CHECK(sbr_cfg_int(&c, "interests") == 5 && sbr_cfg_get(&c, "dropout") == 0.7);
    CHECK_STR(c.preset, "tmall");
    sbr_tfile_free(&f);
    CHECK(open_model(tmp("d.model"), &e) == 0);
}

/* A lie in the metadata of a model file: refused, naming what is wrong. */
static void expect_refused(const char *src, const char *const *kv, int n, const char *want)
{
    sbr_err e;
    REQUIRE(rewrite(src, tmp("bad.model"), kv, n) == 0);
    int rc = open_model(tmp("bad.model"), &e);
    CHECK(rc == -1);
    if (rc == -1 && !strstr(e.msg, want)) {
        printf("    %s: \"%s\" does not say \"%s\"\n", kv[0], e.msg, want);
        CHECK(0);
    }
}

TEST(model_file_lies_refused)
{
    REQUIRE(write_model("srgnn", tmp("s.model"), NULL) == 0);
    REQUIRE(write_model("dmignn", tmp("d.model"), NULL) == 0);
    expect_refused(tmp("s.model"), (const char *[]){"dim=999999999"}, 1,
                   "metadata \"dim\": 999999999 is out of range (1..4096)");
    expect_refused(tmp("s.model"), (const char *[]){"layers=0"}, 1,
                   "metadata \"layers\": 0 is out of range");
    expect_refused(tmp("s.model"), (const char *[]){"max_len=0"}, 1, "max_len");
    expect_refused(tmp("s.model"), (const char *[]){"dim=8"}, 1,
                   "tensor \"param.items\" does not have the shape its metadata declares");
    expect_refused(tmp("s.model"), (const char *[]){"layers=two"}, 1, "not a number");
    expect_refused(tmp("s.model"), (const char *[]){"model_format=3"}, 1,
                   "a model file of format 3: this sbr reads formats 1..2");
    expect_refused(tmp("s.model"), (const char *[]){"model=nosuch"}, 1, "unknown model");
    expect_refused(tmp("d.model"), (const char *[]){"interests=2"}, 1,
                   "tensor \"param.read.w4.2\" is no parameter of dmignn");
    expect_refused(tmp("d.model"), (const char *[]){"interests=99"}, 1, "out of range (1..8)");
    expect_refused(tmp("d.model"), (const char *[]){"interest_pool=median"}, 1, "max|sum");
    expect_refused(tmp("d.model"), (const char *[]){"global_k=5"}, 1,
                   "global graph table does not fit");
}

/* Format 1: no model_format, "d" for dim, "dropout_emb" for dropout,
 * "pool_sum" (0 / 1) for interest_pool; absent options take their default. */
TEST(model_file_format1_loads)
{
    sbr_tfile f;
    sbr_model_cfg c;
    sbr_err e;
    REQUIRE(write_model("dmignn", tmp("d.model"), NULL) == 0);
    REQUIRE(rewrite(tmp("d.model"), tmp("v1.model"),
                    (const char *[]){"model_format", "dim", "dropout", "interest_pool", "dmi_eta",
                                     "d=4", "dropout_emb=0.125", "pool_sum=1", "heads=1"},
                    9) == 0);
    REQUIRE(sbr_tfile_read(tmp("v1.model"), &f, &e) == 0);
    REQUIRE(sbr_model_read_cfg(&f, &c, &e) == 0);
    CHECK(sbr_cfg_int(&c, "dim") == 4 && sbr_cfg_get(&c, "dropout") == 0.125);
    CHECK(sbr_cfg_int(&c, "interest_pool") == 1 && sbr_cfg_get(&c, "dmi_eta") == 12);
    sbr_tfile_free(&f);
    CHECK(open_model(tmp("v1.model"), &e) == 0);
    expect_refused(tmp("v1.model"), (const char *[]){"pool_sum=7"}, 1, "pool_sum");
}

/* The task a model was selected under (sbr-train --task) is read with it:
 * absent (files from before the key) is standard; a value that is neither
 * task is refused. */
TEST(model_file_task)
{
    sbr_loaded_model lm;
    sbr_err e;
    REQUIRE(write_model("srgnn", tmp("s.model"), NULL) == 0);
    REQUIRE(sbr_loaded_open(&lm, tmp("s.model"), SBR_PREC_F32, 4, 64, 5, &e) == 0);
    CHECK(lm.task == SBR_TASK_STANDARD);
    sbr_loaded_close(&lm);
    REQUIRE(rewrite(tmp("s.model"), tmp("nu.model"), (const char *[]){"task=next-unseen"}, 1) == 0);
    REQUIRE(sbr_loaded_open(&lm, tmp("nu.model"), SBR_PREC_F32, 4, 64, 5, &e) == 0);
    CHECK(lm.task == SBR_TASK_NEXT_UNSEEN);
    sbr_loaded_close(&lm);
    expect_refused(tmp("s.model"), (const char *[]){"task=unseen"}, 1,
                   "metadata task = \"unseen\": neither standard nor next-unseen");
}
