/* Session files: round trip, the prefix rule, and validation of every way
 * a sessions file can be wrong. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sessions.h"
#include "tfile.h"

/* A small valid set: train [1 2 3 4] [2 3]; valid [4 1]; test (last_only)
 * [1 2 5]; ids 1..4 catalogue, 5 unseen. */
static int64_t tr_off[] = {0, 4, 6}, va_off[] = {0, 2}, te_off[] = {0, 3};
static int32_t tr_it[] = {1, 2, 3, 4, 2, 3}, va_it[] = {4, 1}, te_it[] = {1, 2, 5};
static int64_t tr_t[] = {10, 11, 12, 13, 20, 21}, tr_u[] = {7, -1};
static int64_t orig[] = {-1, 100, 200, 300, 400, 999};

static void fill(sbr_sessions *s)
{
    memset(s, 0, sizeof *s);
    s->split[0] = (sbr_split){2, tr_off, tr_it, tr_t, tr_u, 0};
    s->split[1] = (sbr_split){1, va_off, va_it, NULL, NULL, 0};
    s->split[2] = (sbr_split){1, te_off, te_it, NULL, NULL, 1};
    s->n_items = 4;
    s->n_ids = 5;
    s->original = orig;
    s->min_prefix = 1;
}

static const char *write_file(sbr_tw *w, const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), name);
    sbr_err e;
    if (sbr_tw_write(w, path, 0, &e) < 0)
        harness_fail(__FILE__, __LINE__, "write: %s", e.msg);
    sbr_tw_free(w);
    return path;
}

TEST(sessions_roundtrip)
{
    sbr_sessions s, r;
    fill(&s);
    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_sessions_add_to(&s, w);
    const char *p = write_file(w, "ok.sess");
    sbr_err e;
    REQUIRE(sbr_sessions_read(p, &r, &e) == 0);
    CHECK_EQ_I64(r.n_items, 4);
    CHECK_EQ_I64(r.n_ids, 5);
    CHECK_EQ_I64(r.min_prefix, 1);
    CHECK_EQ_I64(r.split[0].n_sessions, 2);
    CHECK_EQ_I64(r.split[0].items[5], 3);
    CHECK(r.split[0].times && r.split[0].times[4] == 20);
    CHECK(r.split[0].users && r.split[0].users[0] == 7);
    CHECK(r.split[1].times == NULL && r.split[1].users == NULL);
    CHECK_EQ_I64(r.split[2].last_only, 1);
    CHECK_EQ_I64(r.split[0].last_only, 0);
    CHECK_EQ_I64(r.original[5], 999);
    CHECK_STR(sbr_tfile_meta(r.file, "train.samples"), "4");
    CHECK_STR(sbr_tfile_meta(r.file, "test.samples"), "1");
    CHECK_STR(sbr_tfile_meta(r.file, "valid.clicks"), "2");
    sbr_sessions_free(&r);
}

TEST(sessions_empty_split_roundtrip)
{
    sbr_sessions s, r;
    fill(&s);
    int64_t zero = 0;
    s.split[1] = (sbr_split){0, &zero, NULL, NULL, NULL, 0};
    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_sessions_add_to(&s, w);
    const char *p = write_file(w, "empty_valid.sess");
    sbr_err e;
    REQUIRE(sbr_sessions_read(p, &r, &e) == 0);
    CHECK_EQ_I64(r.split[1].n_sessions, 0);
    CHECK_EQ_I64(sbr_samples_count(&r.split[1], 1), 0);
    sbr_sessions_free(&r);
}

TEST(samples_prefix_rule)
{
    sbr_sessions s;
    fill(&s);
    sbr_samples smp;
    /* [1 2 3 4]: prefixes 3, 2, 1 (longest first); [2 3]: 1 */
    sbr_samples_build(&s.split[0], 1, &smp);
    REQUIRE(smp.n == 4);
    CHECK_EQ_I64(smp.session[0], 0);
    CHECK_EQ_I64(smp.prefix_len[0], 3);
    CHECK_EQ_I64(smp.prefix_len[1], 2);
    CHECK_EQ_I64(smp.prefix_len[2], 1);
    CHECK_EQ_I64(smp.session[3], 1);
    CHECK_EQ_I64(smp.prefix_len[3], 1);
    sbr_samples_free(&smp);
    /* min prefix 2: [1 2 3 4] gives 3, 2; [2 3] nothing */
    sbr_samples_build(&s.split[0], 2, &smp);
    REQUIRE(smp.n == 2);
    CHECK_EQ_I64(smp.prefix_len[1], 2);
    sbr_samples_free(&smp);
    CHECK_EQ_I64(sbr_samples_count(&s.split[0], 4), 0);
    /* last_only: only the full prefix */
    sbr_samples_build(&s.split[2], 1, &smp);
    REQUIRE(smp.n == 1);
    CHECK_EQ_I64(smp.prefix_len[0], 2);
    sbr_samples_free(&smp);
    CHECK_EQ_I64(sbr_samples_count(&s.split[2], 3), 0);
}

/* A writer with the valid set, where `skip` is left out and `bad` replaced. */
enum { BAD_NONE, BAD_OFF_DECREASE, BAD_OFF_START, BAD_OFF_END, BAD_ITEM_ZERO, BAD_ITEM_BIG,
       BAD_DTYPE, BAD_TIMES_SHAPE, BAD_USERS_SHAPE, BAD_ORIG0, BAD_ORIG_LEN, NO_TEST_ITEMS,
       NO_META, BAD_KIND, BAD_RANK, BAD_LAST_ONLY, BAD_MINPFX };

static const char *variant(int v, const char *name)
{
    static int64_t off_dec[] = {0, 5, 4}, off_start[] = {1, 4, 6}, off_end[] = {0, 4, 5};
    static int32_t it0[] = {1, 2, 0, 4, 2, 3}, itbig[] = {1, 2, 3, 4, 2, 6};
    static int32_t off32[] = {0, 4, 6};
    static int64_t badorig[] = {0, 100, 200, 300, 400, 999};
    static int64_t shape2[2] = {1, 2};
    sbr_tw *w = sbr_tw_new(v == BAD_KIND ? "sbr.graph" : "sbr.sessions");
    sbr_tw_meta(w, "n_items", "4");
    if (v != NO_META)
        sbr_tw_meta(w, "n_ids", "5");
    sbr_tw_meta(w, "min_prefix", v == BAD_MINPFX ? "0" : "1");
    sbr_tw_meta(w, "test.last_only", v == BAD_LAST_ONLY ? "2" : "1");
    if (v == BAD_DTYPE)
        sbr_tw_add1(w, "train.offsets", SBR_I32, 3, off32);
    else
        sbr_tw_add1(w, "train.offsets", SBR_I64, 3,
                    v == BAD_OFF_DECREASE ? off_dec : v == BAD_OFF_START ? off_start
                    : v == BAD_OFF_END ? off_end : tr_off);
    sbr_tw_add1(w, "train.items", SBR_I32, 6, v == BAD_ITEM_ZERO ? it0 : v == BAD_ITEM_BIG ? itbig : tr_it);
    sbr_tw_add1(w, "train.times", SBR_I64, v == BAD_TIMES_SHAPE ? 5 : 6, tr_t);
    sbr_tw_add1(w, "train.users", SBR_I64, v == BAD_USERS_SHAPE ? 1 : 2, tr_u);
    sbr_tw_add1(w, "valid.offsets", SBR_I64, 2, va_off);
    sbr_tw_add1(w, "valid.items", SBR_I32, 2, va_it);
    if (v == BAD_RANK)
        sbr_tw_add(w, "test.offsets", SBR_I64, 2, shape2, te_off);
    else
        sbr_tw_add1(w, "test.offsets", SBR_I64, 2, te_off);
    if (v != NO_TEST_ITEMS)
        sbr_tw_add1(w, "test.items", SBR_I32, 3, te_it);
    sbr_tw_add1(w, "items.original", SBR_I64, v == BAD_ORIG_LEN ? 5 : 6,
                v == BAD_ORIG0 ? badorig : orig);
    return write_file(w, name);
}

static void expect_bad(int v, const char *want)
{
    char name[32];
    snprintf(name, sizeof name, "bad%d.sess", v);
    const char *p = variant(v, name);
    sbr_sessions s;
    sbr_err e = {{0}};
    if (sbr_sessions_read(p, &s, &e) == 0) {
        harness_fail(__FILE__, __LINE__, "variant %d was accepted", v);
        sbr_sessions_free(&s);
        return;
    }
    if (!strstr(e.msg, want))
        harness_fail(__FILE__, __LINE__, "variant %d: \"%s\" lacks \"%s\"", v, e.msg, want);
    if (!strstr(e.msg, name))
        harness_fail(__FILE__, __LINE__, "variant %d: \"%s\" does not name the file", v, e.msg);
}

TEST(sessions_validation)
{
    sbr_sessions s;
    sbr_err e;
    REQUIRE(sbr_sessions_read(variant(BAD_NONE, "good.sess"), &s, &e) == 0);
    sbr_sessions_free(&s);
    expect_bad(BAD_OFF_DECREASE, "train.offsets decreases at session 1");
    expect_bad(BAD_OFF_START, "train.offsets[0] is 1");
    expect_bad(BAD_OFF_END, "train.offsets ends at 5 but train.items holds 6");
    expect_bad(BAD_ITEM_ZERO, "train.items[2] = 0 is out of range 1..4");
    expect_bad(BAD_ITEM_BIG, "train.items[5] = 6 is out of range 1..4 (n_items)");
    expect_bad(BAD_DTYPE, "train.offsets");
    expect_bad(BAD_TIMES_SHAPE, "train.times has 5 values, expected 6");
    expect_bad(BAD_USERS_SHAPE, "train.users has 1 values, expected 2");
    expect_bad(BAD_ORIG0, "items.original[0] is 0");
    expect_bad(BAD_ORIG_LEN, "items.original has 5 entries");
    expect_bad(NO_TEST_ITEMS, "test.items");
    expect_bad(NO_META, "n_ids");
    expect_bad(BAD_KIND, "sbr.graph");
    expect_bad(BAD_RANK, "test.offsets");
    expect_bad(BAD_LAST_ONLY, "test.last_only = 2");
    expect_bad(BAD_MINPFX, "min_prefix = 0");
}

TEST(sessions_missing_file)
{
    sbr_sessions s;
    sbr_err e;
    CHECK(sbr_sessions_read("/nonexistent/x.sess", &s, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent/x.sess") != NULL);
}
