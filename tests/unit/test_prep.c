/* Raw-log readers and the preparation protocol (prep.h), on small logs
 * written here, and the SR-GNN benchmark pickles when the shared data is
 * there. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clicklog.h"
#include "harness.h"
#include "io.h"
#include "pickle.h"
#include "prep.h"

TEST(prep_number_parsing)
{
    int64_t v;
    CHECK(sbr_parse_i64("123", 3, &v) == 0 && v == 123);
    CHECK(sbr_parse_i64("-42", 3, &v) == 0 && v == -42);
    CHECK(sbr_parse_i64("9223372036854775807", 19, &v) == 0 && v == INT64_MAX);
    CHECK(sbr_parse_i64("9223372036854775808", 19, &v) < 0);
    CHECK(sbr_parse_i64("12a", 3, &v) < 0);
    CHECK(sbr_parse_i64("", 0, &v) < 0);
    CHECK(sbr_parse_i64("-", 1, &v) < 0);
    CHECK(sbr_parse_scaled("1396860669.277", 14, 1000, &v) == 0 && v == 1396860669277LL);
    CHECK(sbr_parse_scaled("12.5", 4, 1000, &v) == 0 && v == 12500);
    CHECK(sbr_parse_scaled("7", 1, 1000, &v) == 0 && v == 7000);
    CHECK(sbr_parse_scaled("1.23456", 7, 1000, &v) == 0 && v == 1234);
    CHECK(sbr_parse_scaled("1.2.3", 5, 1000, &v) < 0);
    CHECK(sbr_parse_scaled(".", 1, 1000, &v) < 0);
    CHECK(sbr_parse_date("1970-01-02", 10, &v) == 0 && v == 86400);
    CHECK(sbr_parse_date("2016-05-09", 10, &v) == 0 && v == 1462752000);
    CHECK(sbr_parse_date("2016-13-09", 10, &v) < 0);
    CHECK(sbr_parse_iso_ms("2014-04-06T20:21:58.444Z", 24, &v) == 0 && v == 1396815718444LL);
    CHECK(sbr_parse_iso_ms("2014-04-06 20:21:58", 19, &v) == 0 && v == 1396815718000LL);
    CHECK(sbr_parse_iso_ms("2000-02-29T00:00:00.5Z", 22, &v) == 0 && v == 951782400500LL);
    CHECK(sbr_parse_iso_ms("2014-04-06T20:21:58.Z", 21, &v) < 0);
    CHECK(sbr_parse_iso_ms("2014-04-06T25:21:58Z", 20, &v) < 0);
}

TEST(prep_sniff_layouts)
{
    const char *k = "timestamp,visitorid,event,itemid,transactionid";
    CHECK(sbr_log_sniff(k, (int64_t)strlen(k)) == SBR_FMT_KAGGLE);
    const char *d = "session_id;user_id;item_id;timeframe;eventdate";
    CHECK(sbr_log_sniff(d, (int64_t)strlen(d)) == SBR_FMT_DIGINETICA);
    const char *y = "832,2014-04-06T20:21:58.444Z,214717095,0";
    CHECK(sbr_log_sniff(y, (int64_t)strlen(y)) == SBR_FMT_YOOCHOOSE);
    const char *s = "SessionId\tItemId\tTime";
    CHECK(sbr_log_sniff(s, (int64_t)strlen(s)) == SBR_FMT_SESSIONREC);
    const char *r = "session_id:token\titem_id:token\ttimestamp:float";
    CHECK(sbr_log_sniff(r, (int64_t)strlen(r)) == SBR_FMT_RECBOLE);
    CHECK(sbr_log_sniff("a,b,c", 5) == SBR_FMT_AUTO);
}

/* Prepares an in-memory log; opts from the layout's defaults then tweaks. */
static int prep_text(const char *text, sbr_log_opts *lo, sbr_prep_opts *po, sbr_sessions *s,
                     sbr_counts *cnt, sbr_err *e)
{
    sbr_clicklog g;
    if (sbr_log_parse_buffer("mem.csv", text, (int64_t)strlen(text), lo, &g, e) < 0)
        return -1;
    memset(cnt, 0, sizeof *cnt);
    int rc = sbr_prep_log(&g, po, s, cnt, e);
    sbr_log_free(&g);
    return rc;
}

static void split_str(const sbr_sessions *s, int k, char *out, size_t n)
{
    size_t w = 0;
    const sbr_split *sp = &s->split[k];
    out[0] = 0;
    for (int64_t i = 0; i < sp->n_sessions && w < n; i++) {
        w += (size_t)snprintf(out + w, n - w, "%s[", i ? " " : "");
        for (int64_t j = sp->offsets[i]; j < sp->offsets[i + 1] && w < n; j++)
            w += (size_t)snprintf(out + w, n - w, j > sp->offsets[i] ? " %lld" : "%lld",
                                  (long long)s->original[sp->items[j]]);
        if (w < n)
            w += (size_t)snprintf(out + w, n - w, "]");
    }
}

/* Diginetica: the SR-GNN rules, incl. the session dated exactly at the
 * split that goes nowhere, and the date of a session's last row. */
TEST(prep_diginetica_recipe)
{
    const char *log =
        "session_id;user_id;item_id;timeframe;eventdate\n"
        "1;NA;10;300;2016-01-01\n" /* sorted by timeframe: 11 10 12 */
        "1;NA;11;100;2016-01-01\n"
        "1;NA;12;500;2016-01-01\n"
        "2;5;10;1;2016-01-02\n"
        "2;5;11;2;2016-01-02\n"
        "3;NA;12;1;2016-01-03\n" /* length 1: dropped first */
        "4;NA;10;1;2016-01-03\n"
        "4;NA;13;2;2016-01-03\n" /* 13 is rare: session 4 left with 1 item */
        "5;NA;12;1;2016-01-04\n"
        "5;NA;11;2;2016-01-04\n"
        "6;NA;10;1;2016-01-05\n" /* dated exactly max - 7 days: neither split */
        "6;NA;11;1;2016-01-05\n"
        "7;NA;11;1;2016-01-12\n"
        "7;NA;10;2;2016-01-12\n"
        "7;NA;14;3;2016-01-12\n"; /* 14: rare */
    sbr_log_opts lo = {.format = SBR_FMT_AUTO};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_DIGINETICA, &po);
    po.min_support = 2;
    po.valid_frac = 0;
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    char buf[512];
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[11 10 12] [10 11] [12 11]");
    split_str(&s, SBR_TEST, buf, sizeof buf);
    CHECK_STR(buf, "[11 10]");
    CHECK_EQ_I64(s.n_items, 3);
    CHECK_EQ_I64(s.original[1], 11);
    CHECK_EQ_I64(sbr_counts_get(&c, "short_pre.sessions"), 1);
    CHECK_EQ_I64(sbr_counts_get(&c, "rare_item.clicks"), 2);
    CHECK_EQ_I64(sbr_counts_get(&c, "short.sessions"), 1);
    CHECK_EQ_I64(sbr_counts_get(&c, "at_split_date.sessions"), 1);
    /* users kept where known, times are the session's date */
    REQUIRE(s.split[0].users && s.split[0].times);
    CHECK_EQ_I64(s.split[0].users[0], -1);
    CHECK_EQ_I64(s.split[0].users[1], 5);
    CHECK_EQ_I64(s.split[0].times[0], 1451606400);
    sbr_sessions_free(&s);
}

TEST(prep_valid_tail_iterate_maxlen_unseen)
{
    /* csv with session,item,time: every item seen twice except 99 */
    const char *log =
        "s,i,t\n"
        "1,1,10\n1,2,11\n1,3,12\n"
        "2,1,20\n2,2,21\n"
        "3,3,30\n3,4,31\n"
        "4,4,40\n4,5,41\n4,5,42\n"
        "9,1,900000\n9,99,900001\n9,5,900002\n";
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .session_col = "s", .item_col = "i", .time_col = "t"};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.min_support = 2;
    po.valid_frac = 0.5;
    po.test_days = 1;
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    char buf[512];
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[1 2 3] [1 2]");
    split_str(&s, SBR_VALID, buf, sizeof buf);
    CHECK_STR(buf, "[3 4] [4 5 5]");
    split_str(&s, SBR_TEST, buf, sizeof buf);
    CHECK_STR(buf, "[1 5]");
    CHECK_EQ_I64(s.n_items, 5); /* valid items are in the catalogue */
    CHECK_EQ_I64(sbr_counts_get(&c, "rare_item.clicks"), 1);
    sbr_sessions_free(&s);

    /* unseen kept; max_len keeps the last clicks */
    po.unseen_keep = 1;
    po.min_support = 1;
    po.max_len = 2;
    po.valid_frac = 0;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[2 3] [1 2] [3 4] [5 5]");
    split_str(&s, SBR_TEST, buf, sizeof buf);
    CHECK_STR(buf, "[99 5]");
    CHECK_EQ_I64(s.n_items, 5);
    CHECK_EQ_I64(s.n_ids, 6);
    CHECK_EQ_I64(s.original[6], 99);
    CHECK_EQ_I64(sbr_counts_get(&c, "max_len.clicks"), 3);
    sbr_sessions_free(&s);

    /* iterated filtering: dropping 5's session makes 4 rare, and so on */
    const char *chain = "s,i,t\n1,1,1\n1,2,2\n2,1,3\n2,2,4\n3,3,5\n3,4,6\n4,4,7\n4,5,8\n"
                        "5,3,9\n5,6,10\n";
    po = (sbr_prep_opts){0};
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.min_support = 2;
    po.test_days = 0;
    po.valid_frac = 0;
    REQUIRE(prep_text(chain, &lo, &po, &s, &c, &e) == 0);
    /* one pass: 5 and 6 are rare, [4 5] and [3 6] too short, [3 4] stays */
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[1 2] [1 2] [3 4]");
    sbr_sessions_free(&s);
    po.iterate = 1;
    REQUIRE(prep_text(chain, &lo, &po, &s, &c, &e) == 0);
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[1 2] [1 2]");
    CHECK(sbr_counts_get(&c, "filter_rounds") >= 2);
    sbr_sessions_free(&s);
}

/* --train-recent under the prefix rule (min_prefix 2: a session of length
 * L holds L - 2 samples), before the validation tail; test items of dropped
 * test sessions take no id. */
TEST(prep_train_recent_prefix_rule)
{
    const char *log = "s,i,t\n"
                      "1,1,10\n1,2,11\n1,3,12\n1,4,13\n" /* samples 0, 1 */
                      "2,5,20\n2,6,21\n"                 /* none */
                      "3,1,30\n3,5,31\n3,6,32\n"         /* sample 2: owns S - k */
                      "4,2,40\n4,3,41\n4,4,42\n"         /* sample 3 */
                      "9,7,900000\n9,1,900001\n";         /* test: too short */
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .session_col = "s", .item_col = "i", .time_col = "t"};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.min_support = 1;
    po.min_prefix = 2;
    po.test_days = 1;
    po.unseen_keep = 1;
    po.valid_frac = 0;
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    CHECK_EQ_I64(s.split[SBR_TEST].n_sessions, 0);
    CHECK_EQ_I64(s.n_ids, s.n_items); /* 7 took no id */
    sbr_sessions_free(&s);
    po.recent_num = 1;
    po.recent_den = 2;
    po.valid_frac = 0.5;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    char buf[512];
    split_str(&s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "[1 5 6]");
    split_str(&s, SBR_VALID, buf, sizeof buf);
    CHECK_STR(buf, "[2 3 4]");
    CHECK_EQ_I64(s.n_items, 6);
    CHECK_EQ_I64(s.n_ids, 6);
    CHECK_EQ_I64(sbr_counts_get(&c, "train_recent.sessions"), 2);
    CHECK_EQ_I64(sbr_counts_get(&c, "train_recent.samples"), 2);
    CHECK_EQ_I64(sbr_counts_get(&c, "train_recent.clicks"), 6);
    sbr_sessions_free(&s);
    po.recent_den = 5; /* 4 / 5 < 1 sample */
    CHECK(prep_text(log, &lo, &po, &s, &c, &e) < 0);
    CHECK(strstr(e.msg, "less than one sample") != NULL);
}

TEST(prep_bad_rows)
{
    const char *log = "s,i,t\n1,1,10\n1,x,11\n1,2\n";
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .session_col = "s", .item_col = "i", .time_col = "t"};
    sbr_clicklog g;
    sbr_err e;
    CHECK(sbr_log_parse_buffer("f.csv", log, (int64_t)strlen(log), &lo, &g, &e) < 0);
    CHECK_STR(e.msg, "f.csv:3: item id 'x' is not an integer");
    lo.skip_bad = 1;
    REQUIRE(sbr_log_parse_buffer("f.csv", log, (int64_t)strlen(log), &lo, &g, &e) == 0);
    CHECK_EQ_I64(g.bad_rows, 2);
    CHECK_EQ_I64(g.n, 1);
    CHECK(strstr(g.first_bad, "f.csv:3:") != NULL);
    sbr_log_free(&g);
    lo.item_col = "nope";
    CHECK(sbr_log_parse_buffer("f.csv", log, (int64_t)strlen(log), &lo, &g, &e) < 0);
    CHECK(strstr(e.msg, "f.csv:1: --item-col nope: no such column") != NULL);
    sbr_log_opts yo = {.format = SBR_FMT_YOOCHOOSE};
    const char *y = "1,2014-04-06T20:21:58.444Z,5,0\n1,yesterday,6,0\n";
    CHECK(sbr_log_parse_buffer("y.dat", y, (int64_t)strlen(y), &yo, &g, &e) < 0);
    CHECK(strstr(e.msg, "y.dat:2: timestamp 'yesterday' is not ISO-8601") != NULL);
    CHECK(sbr_log_parse_buffer("e.csv", "", 0, &yo, &g, &e) < 0);
    CHECK(strstr(e.msg, "empty input") != NULL);
    sbr_log_opts ko = {.format = SBR_FMT_KAGGLE, .events = SBR_EV_VIEW};
    const char *k = "timestamp,visitorid,event,itemid,transactionid\n1,2,view,3,\n1,2,buy,3,\n";
    CHECK(sbr_log_parse_buffer("k.csv", k, (int64_t)strlen(k), &ko, &g, &e) < 0);
    CHECK(strstr(e.msg, "k.csv:3: event 'buy' is not view") != NULL);
}

/* -1 is "no item" (items.original[0]) and "anonymous" (users) in a sessions
 * file: negative item and user ids are bad rows in every layout. */
TEST(prep_negative_ids)
{
    static const struct {
        sbr_format f;
        const char *text, *msg;
    } c[] = {
        {SBR_FMT_KAGGLE, "timestamp,visitorid,event,itemid,transactionid\n1,2,view,-5,\n",
         "k:2: negative itemid -5"},
        {SBR_FMT_KAGGLE, "timestamp,visitorid,event,itemid,transactionid\n1,-2,view,5,\n",
         "k:2: negative visitorid -2"},
        {SBR_FMT_DIGINETICA, "1;NA;-1;5;2016-01-01\n", "k:1: negative item_id -1"},
        {SBR_FMT_DIGINETICA, "1;-7;1;5;2016-01-01\n", "k:1: negative user_id -7"},
        {SBR_FMT_YOOCHOOSE, "1,2014-04-06T20:21:58.444Z,-5,0\n", "k:1: negative item id -5"},
        {SBR_FMT_SESSIONREC, "SessionId\tItemId\tTime\n1\t-3\t5\n", "k:2: negative item id -3"},
        {SBR_FMT_RECBOLE, "user_id:token\titem_id:token\ttimestamp:float\n-1\t3\t5\n",
         "k:2: negative user id -1"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        sbr_log_opts lo = {.format = c[i].f, .events = SBR_EV_VIEW};
        sbr_clicklog g;
        sbr_err e;
        CHECK(sbr_log_parse_buffer("k", c[i].text, (int64_t)strlen(c[i].text), &lo, &g, &e) < 0);
        CHECK_STR(e.msg, c[i].msg);
    }
    /* skipped and counted with --skip-bad; session ids may be negative */
    const char *log = "s,i,t\n-1,1,10\n-1,-2,11\n-1,3,12\n";
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .session_col = "s", .item_col = "i", .time_col = "t",
                       .skip_bad = 1};
    sbr_clicklog g;
    sbr_err e;
    REQUIRE(sbr_log_parse_buffer("c.csv", log, (int64_t)strlen(log), &lo, &g, &e) == 0);
    CHECK_EQ_I64(g.n, 2);
    CHECK_EQ_I64(g.bad_rows, 1);
    CHECK_STR(g.first_bad, "c.csv:3: negative item id -2");
    sbr_log_free(&g);
}

TEST(prep_bom_and_quoted_fields)
{
    const char *log = "\xef\xbb\xbf\"sess\";\"item\";\"when\"\n\"1\";\"10\";\"2020-01-01 10:00:00\"\n"
                      "1;11;2020-01-01T10:00:05Z\n";
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .sep = ';', .session_col = "sess", .item_col = "item",
                       .time_col = "when"};
    sbr_clicklog g;
    sbr_err e;
    REQUIRE(sbr_log_parse_buffer("q.csv", log, (int64_t)strlen(log), &lo, &g, &e) == 0);
    CHECK_EQ_I64(g.n, 2);
    CHECK_EQ_I64(g.t[0], 1577872800000LL);
    CHECK_EQ_I64(g.t[1] - g.t[0], 5000);
    CHECK_EQ_I64(g.items.original[g.item[1]], 11);
    sbr_log_free(&g);
    const char *k = "\xef\xbb\xbftimestamp,visitorid,event,itemid,transactionid\n5,1,view,2,\n";
    sbr_log_opts ko = {.format = SBR_FMT_AUTO, .events = SBR_EV_VIEW};
    REQUIRE(sbr_log_parse_buffer("k.csv", k, (int64_t)strlen(k), &ko, &g, &e) == 0);
    CHECK(g.format == SBR_FMT_KAGGLE);
    sbr_log_free(&g);
}

TEST(prep_recbole_and_users)
{
    const char *log = "user_id:token\titem_id:token\ttimestamp:float\n"
                      "7\t1\t1.5\n7\t2\t2.5\n8\t1\t3\n8\t2\t4\n";
    sbr_log_opts lo = {.format = SBR_FMT_AUTO};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_RECBOLE, &po);
    po.min_support = 1;
    po.test_days = 0;
    po.valid_frac = 0;
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_text(log, &lo, &po, &s, &c, &e) == 0);
    CHECK_EQ_I64(s.split[0].n_sessions, 2);
    REQUIRE(s.split[0].users != NULL);
    CHECK_EQ_I64(s.split[0].users[1], 8);
    CHECK_EQ_I64(s.split[0].times[0], 1);
    sbr_sessions_free(&s);
}

/* --- the SR-GNN benchmark pickles ------------------------------------------- */

static void check_dataset(const char *name, int64_t tr_samples, int64_t te_samples, int64_t items,
                          int min_prefix)
{
    const char *dir = harness_data_dir();
    if (!dir) {
        harness_skip("shared data absent (set SBR_DATA_DIR)");
        return;
    }
    char ptr[1024], pte[1024];
    snprintf(ptr, sizeof ptr, "%s/%s/all_train_seq.txt.zst", dir, name);
    snprintf(pte, sizeof pte, "%s/%s/test.txt.zst", dir, name);
    uint8_t *a, *b;
    size_t na, nb;
    sbr_err e;
    if (sbr_read_all(ptr, &a, &na, &e) < 0 || sbr_read_all(pte, &b, &nb, &e) < 0) {
        harness_skip("%s", e.msg);
        return;
    }
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_SRGNN, &po);
    po.valid_frac = 0;
    sbr_sessions s;
    sbr_counts c = {0};
    int inferred;
    if (sbr_prep_srgnn(a, na, ptr, 0, b, nb, pte, &po, &s, &c, &inferred, &e) < 0) {
        harness_fail(__FILE__, __LINE__, "%s", e.msg);
        return;
    }
    CHECK_EQ_I64(s.min_prefix, min_prefix);
    CHECK(inferred);
    CHECK_EQ_I64(sbr_samples_count(&s.split[SBR_TRAIN], s.min_prefix), tr_samples);
    CHECK_EQ_I64(sbr_samples_count(&s.split[SBR_TEST], s.min_prefix), te_samples);
    CHECK_EQ_I64(s.n_items, items);
    /* the expanded test samples are the pickle's pairs, one for one, in order */
    sbr_pickle p;
    REQUIRE(sbr_pickle_parse(b, nb, &p, &e) == 0);
    const sbr_pk_obj *root = sbr_pickle_obj(&p, p.root);
    sbr_pk_seqs pre;
    int64_t *tgt, nt;
    REQUIRE(sbr_pickle_seqs(&p, root->items[0], 1, INT64_MAX, "p", &pre, &e) == 0);
    REQUIRE(sbr_pickle_ints(&p, root->items[1], 1, INT64_MAX, "t", &tgt, &nt, &e) == 0);
    sbr_samples smp;
    sbr_samples_build(&s.split[SBR_TEST], s.min_prefix, &smp);
    REQUIRE(smp.n == nt);
    int64_t bad = 0;
    const sbr_split *te = &s.split[SBR_TEST];
    for (int64_t i = 0; i < nt && bad < 3; i++) {
        int64_t off = te->offsets[smp.session[i]], len = smp.prefix_len[i];
        int ok = len == pre.offsets[i + 1] - pre.offsets[i] &&
                 s.original[te->items[off + len]] == tgt[i];
        for (int64_t j = 0; ok && j < len; j++)
            ok = s.original[te->items[off + j]] == pre.items[pre.offsets[i] + j];
        if (!ok && ++bad)
            harness_fail(__FILE__, __LINE__, "%s: test sample %lld differs from the pickle", name,
                         (long long)i);
    }
    /* training sessions are all_train_seq in order, ids mapped back */
    sbr_pickle q;
    REQUIRE(sbr_pickle_parse(a, na, &q, &e) == 0);
    sbr_pk_seqs tr;
    REQUIRE(sbr_pickle_seqs(&q, q.root, 1, INT64_MAX, "tr", &tr, &e) == 0);
    CHECK_EQ_I64(tr.n, s.split[SBR_TRAIN].n_sessions);
    int64_t diff = 0;
    for (int64_t j = 0; j < tr.offsets[tr.n]; j++)
        diff += s.original[s.split[SBR_TRAIN].items[j]] != tr.items[j];
    CHECK_EQ_I64(diff, 0);
    sbr_pk_seqs_free(&tr);
    sbr_pickle_free(&q);
    sbr_samples_free(&smp);
    sbr_pk_seqs_free(&pre);
    free(tgt);
    sbr_pickle_free(&p);
    sbr_sessions_free(&s);
    free(a);
    free(b);
}

TEST(prep_srgnn_retailrocket) { check_dataset("retailrocket", 433648, 15132, 36968, 2); }
TEST(prep_srgnn_diginetica) { check_dataset("diginetica", 719470, 60858, 43097, 1); }
TEST(prep_srgnn_yoochoose1_64) { check_dataset("yoochoose1_64", 369859, 55898, 17376, 1); }

TEST(prep_srgnn_valid_tail)
{
    /* [[1,2],[2,3],[3,4],[4,5]] and ([[1]], [2]) */
    static const uint8_t tr[] = {128,3,93,113,0,40,93,113,1,40,75,1,75,2,101,93,113,2,40,75,2,75,3,101,93,113,3,40,75,3,75,4,101,93,113,4,40,75,4,75,5,101,101,46};
    static const uint8_t te[] = {128,3,93,113,0,93,113,1,75,1,97,97,93,113,2,75,2,97,134,113,3,46};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_SRGNN, &po);
    po.valid_frac = 0.5;
    sbr_sessions s;
    sbr_counts c = {0};
    int inf;
    sbr_err e;
    REQUIRE(sbr_prep_srgnn(tr, sizeof tr, "tr", 0, te, sizeof te, "te", &po, &s, &c, &inf, &e) == 0);
    CHECK_EQ_I64(s.split[SBR_TRAIN].n_sessions, 2);
    CHECK_EQ_I64(s.split[SBR_VALID].n_sessions, 2);
    CHECK_EQ_I64(s.split[SBR_VALID].items[0], 3);
    CHECK_EQ_I64(s.n_items, 5);
    CHECK_EQ_I64(s.split[SBR_TEST].n_sessions, 1);
    CHECK_EQ_I64(s.split[SBR_TEST].last_only, 1);
    sbr_sessions_free(&s);
    /* a test root that is not a pair */
    CHECK(sbr_prep_srgnn(tr, sizeof tr, "tr", 0, tr, sizeof tr, "te", &po, &s, &c, &inf, &e) < 0);
    CHECK(strstr(e.msg, "te: expected a pair (prefixes, targets), found a list of 4 values") != NULL);
}

/* Grouping runs on several threads for large logs: the result must not
 * depend on how many. */
TEST(prep_parallel_grouping_is_deterministic)
{
    int64_t rows = (1 << 20) + 1000;
    char *text = malloc((size_t)rows * 32 + 16);
    int64_t w = sprintf(text, "s,i,t\n");
    uint64_t x = 12345;
    for (int64_t r = 0; r < rows; r++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        /* interleaved sessions, times out of order inside a session */
        w += sprintf(text + w, "%d,%d,%d\n", (int)(x >> 44) % 50000, (int)((x >> 20) % 3000),
                     (int)(x >> 33) % 100000); /* item ids not negative */
    }
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .session_col = "s", .item_col = "i", .time_col = "t"};
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.test_days = 0;
    sbr_sessions a, b;
    sbr_counts c;
    sbr_err e;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    REQUIRE(prep_text(text, &lo, &po, &a, &c, &e) == 0);
    omp_set_num_threads(3);
    REQUIRE(prep_text(text, &lo, &po, &b, &c, &e) == 0);
    omp_set_num_threads(saved);
    const sbr_split *x1 = &a.split[SBR_TRAIN], *x2 = &b.split[SBR_TRAIN];
    REQUIRE(x1->n_sessions == x2->n_sessions);
    CHECK(x1->n_sessions > 40000);
    int64_t nnz = x1->offsets[x1->n_sessions];
    CHECK(memcmp(x1->offsets, x2->offsets, (size_t)(x1->n_sessions + 1) * 8) == 0);
    CHECK(memcmp(x1->items, x2->items, (size_t)nnz * 4) == 0);
    CHECK(memcmp(x1->times, x2->times, (size_t)nnz * 8) == 0);
    /* and each session is in time order */
    int64_t unsorted = 0;
    for (int64_t s = 0; s < x1->n_sessions; s++)
        for (int64_t j = x1->offsets[s] + 1; j < x1->offsets[s + 1]; j++)
            unsorted += x1->times[j] < x1->times[j - 1];
    CHECK_EQ_I64(unsorted, 0);
    sbr_sessions_free(&a);
    sbr_sessions_free(&b);
    free(text);
}
