/* ProxySR's protocol in prep.h: sessions cut at UTC midnight from each
 * user's clicks (cut_days), the split by count in proportions (split[]),
 * valid and test filtered against the training items; and the log reader
 * keying by user where the file has session ids too (by_user). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clicklog.h"
#include "harness.h"
#include "prep.h"

#define DAY1 1577836800 /* 2020-01-01T00:00:00Z */

/* One click: user, day (1 = DAY1), hour, minute, item. */
typedef struct {
    int user, day, hh, mm, item;
} click;

/* The clicks as "session_id,user_id,item_id,timestamp" (seconds) rows; the
 * session id is the row's user + 100 * its day, so that a reader keying by
 * session gives the day sessions too, and by user must ignore it. */
static char *log_text(const click *c, int n)
{
    size_t cap = 64 + (size_t)n * 64, w = 0;
    char *s = malloc(cap);
    w += (size_t)snprintf(s + w, cap - w, "session_id,user_id,item_id,timestamp\n");
    for (int i = 0; i < n; i++) {
        long long t = DAY1 + (long long)(c[i].day - 1) * 86400 + c[i].hh * 3600 + c[i].mm * 60;
        w += (size_t)snprintf(s + w, cap - w, "%d,%d,%d,%lld\n", c[i].user + 100 * c[i].day,
                              c[i].user, c[i].item, t);
    }
    return s;
}

/* Eleven sessions after the length filter, in date (last click) order:
 *   u2 d1 [11 10 12] (one session by day, two by the 30-minute gap),
 *   u1 d1 [10 11 12] (it started first but ended last: 23:59),
 *   u1 d2 [13 10] (two minutes after u1's last click, across midnight),
 *   u4 [11 12], u8 [12 13], u9 [10 13 11], u10 [11 13], u11 [12 10],
 *   valid u5 [10 14 11] (14 unseen), test u6 [15 16 10] (left with one
 *   item: dropped), u7 [13 17 12] (17 unseen); u3's single click is short. */
static const click days_log[] = {
    {1, 1, 10, 0, 10},  {1, 1, 10, 5, 11},  {1, 1, 23, 59, 12}, {1, 2, 0, 1, 13},
    {1, 2, 0, 2, 10},   {2, 1, 12, 0, 11},  {2, 1, 12, 1, 10},  {2, 1, 20, 0, 12},
    {3, 2, 9, 0, 10},   {4, 2, 10, 0, 11},  {4, 2, 10, 1, 12},  {8, 2, 10, 59, 12},
    {8, 2, 11, 0, 13},  {9, 2, 11, 58, 10}, {9, 2, 11, 59, 13}, {9, 2, 12, 0, 11},
    {10, 3, 6, 59, 11}, {10, 3, 7, 0, 13},  {11, 3, 7, 29, 12}, {11, 3, 7, 30, 10},
    {5, 3, 8, 0, 10},   {5, 3, 8, 1, 14},   {5, 3, 8, 2, 11},   {6, 4, 9, 0, 15},
    {6, 4, 9, 1, 16},   {6, 4, 9, 2, 10},   {7, 4, 10, 0, 13},  {7, 4, 10, 1, 17},
    {7, 4, 10, 2, 12},
};
#define N_DAYS_LOG ((int)(sizeof days_log / sizeof days_log[0]))

/* The log keyed by user, ProxySR's RetailRocket protocol (8:1:1, no item
 * support filter, sessions of 2 items or more, unseen items dropped). */
static int prep_days(int by_user, int64_t a, int64_t b, int64_t c, sbr_sessions *s,
                     sbr_counts *cnt, sbr_err *e)
{
    char *text = log_text(days_log, N_DAYS_LOG);
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .by_user = by_user,
                       .user_col = "user_id", .item_col = "item_id", .time_col = "timestamp"};
    if (by_user)
        lo.session_col = "session_id"; /* given, and still ignored */
    sbr_clicklog g;
    int rc = sbr_log_parse_buffer("days.csv", text, (int64_t)strlen(text), &lo, &g, e);
    free(text);
    if (rc < 0)
        return rc;
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.pre_min_len = 0;
    po.min_support = 0;
    po.min_len = 2;
    po.cut_days = 1;
    po.split[0] = a, po.split[1] = b, po.split[2] = c;
    memset(cnt, 0, sizeof *cnt);
    CHECK(g.keys_are_users && g.has_user);
    rc = sbr_prep_log(&g, &po, s, cnt, e);
    sbr_log_free(&g);
    return rc;
}

/* "o1 o2 ..|o3 .." : the original ids of a split's sessions. */
static void split_str(const sbr_sessions *s, int k, char *out, size_t n)
{
    const sbr_split *sp = &s->split[k];
    size_t w = 0;
    out[0] = 0;
    for (int64_t i = 0; i < sp->n_sessions && w < n; i++)
        for (int64_t j = sp->offsets[i]; j < sp->offsets[i + 1] && w < n; j++)
            w += (size_t)snprintf(out + w, n - w, "%s%lld",
                                  j > sp->offsets[i] ? " " : (i ? "|" : ""),
                                  (long long)s->original[sp->items[j]]);
}

static void users_str(const sbr_split *sp, char *out, size_t n)
{
    size_t w = 0;
    out[0] = 0;
    for (int64_t i = 0; i < sp->n_sessions && w < n; i++)
        w += (size_t)snprintf(out + w, n - w, "%s%lld", i ? " " : "", (long long)sp->users[i]);
}

static void check_days_result(const sbr_sessions *s, const sbr_counts *c)
{
    char buf[512];
    split_str(s, SBR_TRAIN, buf, sizeof buf);
    CHECK_STR(buf, "11 10 12|10 11 12|13 10|11 12|12 13|10 13 11|11 13|12 10");
    split_str(s, SBR_VALID, buf, sizeof buf);
    CHECK_STR(buf, "10 11");
    split_str(s, SBR_TEST, buf, sizeof buf);
    CHECK_STR(buf, "13 12");
    REQUIRE(s->split[SBR_TRAIN].users && s->split[SBR_VALID].users && s->split[SBR_TEST].users);
    users_str(&s->split[SBR_TRAIN], buf, sizeof buf);
    CHECK_STR(buf, "2 1 1 4 8 9 10 11");
    CHECK_EQ_I64(s->split[SBR_VALID].users[0], 5);
    CHECK_EQ_I64(s->split[SBR_TEST].users[0], 7);
    CHECK_EQ_I64(s->n_items, 4); /* 11 10 12 13, train's alone */
    CHECK_EQ_I64(s->n_ids, 4);
    CHECK_EQ_I64(sbr_counts_get(c, "sessions_built"), 12);
    CHECK_EQ_I64(sbr_counts_get(c, "short.sessions"), 1);
    CHECK_EQ_I64(sbr_counts_get(c, "split_train"), 8);
    CHECK_EQ_I64(sbr_counts_get(c, "split_valid"), 1);
    CHECK_EQ_I64(sbr_counts_get(c, "split_test"), 2);
    CHECK_EQ_I64(sbr_counts_get(c, "unseen_valid_item.clicks"), 1);
    CHECK_EQ_I64(sbr_counts_get(c, "short_valid.sessions"), 0);
    CHECK_EQ_I64(sbr_counts_get(c, "unseen_test_item.clicks"), 3);
    CHECK_EQ_I64(sbr_counts_get(c, "short_test.sessions"), 1);
    CHECK_EQ_I64(sbr_counts_get(c, "short_test.clicks"), 1);
}

TEST(prep_split_by_day_and_count)
{
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_days(0, 8, 1, 1, &s, &c, &e) == 0);
    check_days_result(&s, &c);
    sbr_sessions_free(&s);
}

/* A file with session ids (here one per user and day, as the RetailRocket
 * sample has its own) keyed by user instead gives the same sessions. */
TEST(prep_split_by_user_ignores_session_ids)
{
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_days(1, 8, 1, 1, &s, &c, &e) == 0);
    check_days_result(&s, &c);
    sbr_sessions_free(&s);
}

/* Proportions as decimals scale to the same integers; 16:2:2 is 8:1:1. */
TEST(prep_split_proportions)
{
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    REQUIRE(prep_days(0, 16, 2, 2, &s, &c, &e) == 0);
    check_days_result(&s, &c);
    sbr_sessions_free(&s);
    /* 11 sessions 6:3:2: floor(66/11) = 6, floor(99/11) = 9 */
    REQUIRE(prep_days(0, 6, 3, 2, &s, &c, &e) == 0);
    CHECK_EQ_I64(sbr_counts_get(&c, "split_train"), 6);
    CHECK_EQ_I64(sbr_counts_get(&c, "split_valid"), 3);
    CHECK_EQ_I64(sbr_counts_get(&c, "split_test"), 2);
    sbr_sessions_free(&s);
    /* a part of 0 is an empty split asked for */
    REQUIRE(prep_days(0, 9, 0, 1, &s, &c, &e) == 0);
    CHECK_EQ_I64(s.split[SBR_VALID].n_sessions, 0);
    CHECK_EQ_I64(sbr_counts_get(&c, "split_train"), 9);
    sbr_sessions_free(&s);
}

/* 11 sessions in 98:1:1 leave valid and test without one: misuse, named. */
TEST(prep_split_empty_part_is_misuse)
{
    sbr_sessions s;
    sbr_counts c;
    sbr_err e;
    CHECK(prep_days(0, 98, 1, 1, &s, &c, &e) == SBR_PREP_MISUSE);
    CHECK(strstr(e.msg, "the valid split would be empty") != NULL);
    CHECK(strstr(e.msg, "11 sessions in date order give 10 / 0 / 1") != NULL);
    CHECK(prep_days(0, 1, 1, 98, &s, &c, &e) == SBR_PREP_MISUSE);
    CHECK(strstr(e.msg, "the train split would be empty") != NULL);
}

/* Without cut_days the same log is cut by the 30-minute gap: u2's day is
 * two sessions, and u1 has one across midnight. */
TEST(prep_split_gap_differs)
{
    char *text = log_text(days_log, N_DAYS_LOG);
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .user_col = "user_id", .item_col = "item_id",
                       .time_col = "timestamp"};
    sbr_clicklog g;
    sbr_err e;
    REQUIRE(sbr_log_parse_buffer("gap.csv", text, (int64_t)strlen(text), &lo, &g, &e) == 0);
    free(text);
    sbr_prep_opts po;
    sbr_prep_defaults(SBR_FMT_CSV, &po);
    po.pre_min_len = po.min_support = 0;
    po.min_len = 1;
    po.test_days = 0;
    po.valid_frac = 0;
    sbr_sessions s;
    sbr_counts c = {0};
    REQUIRE(sbr_prep_log(&g, &po, &s, &c, &e) == 0);
    sbr_log_free(&g);
    /* u1: [10 11] 10:00-10:05, [12 13 10] 23:59-00:02; u2: [11 10], [12] */
    CHECK_EQ_I64(sbr_counts_get(&c, "sessions_built"), 13);
    sbr_sessions_free(&s);
}

/* by_user without a user column keeps the session ids (the caller reports
 * it); without either column the reader says a user column is needed. */
TEST(prep_by_user_needs_users)
{
    const char *text = "session_id,item_id,timestamp\n1,10,100\n1,11,200\n";
    sbr_log_opts lo = {.format = SBR_FMT_CSV, .by_user = 1};
    sbr_clicklog g;
    sbr_err e;
    REQUIRE(sbr_log_parse_buffer("nouser.csv", text, (int64_t)strlen(text), &lo, &g, &e) == 0);
    CHECK(!g.has_user && !g.keys_are_users);
    sbr_log_free(&g);
    const char *bare = "1,10\n1,11\n";
    sbr_log_opts lb = {.format = SBR_FMT_CSV, .by_user = 1, .no_header = 1, .item_col = "2"};
    CHECK(sbr_log_parse_buffer("bare.csv", bare, (int64_t)strlen(bare), &lb, &g, &e) < 0);
    CHECK(strstr(e.msg, "bare.csv:1: no user column") != NULL);
}
