/* Readers of raw click logs: see clicklog.h. One function per layout turns a
 * line into a click; the driver handles headers, bad rows and counting. */
#include "clicklog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "sha256.h"

const char *const sbr_format_names[SBR_NFORMATS + 1] = {
    "auto", "srgnn", "kaggle", "diginetica", "yoochoose", "sessionrec", "recbole", "csv", NULL};

/* --- numbers and times ---------------------------------------------------- */

int sbr_parse_i64(const char *s, int64_t len, int64_t *out)
{
    int64_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len || len - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int sbr_parse_scaled(const char *s, int64_t len, int64_t scale, int64_t *out)
{
    int64_t dot = -1;
    for (int64_t i = 0; i < len; i++)
        if (s[i] == '.') {
            dot = i;
            break;
        }
    if (dot < 0) {
        int64_t v;
        if (sbr_parse_i64(s, len, &v) < 0 || (v != 0 && (v > INT64_MAX / scale || v < INT64_MIN / scale)))
            return -1;
        *out = v * scale;
        return 0;
    }
    int64_t ip = 0;
    int neg = len > 0 && s[0] == '-';
    if (dot > 0 && !(dot == 1 && (s[0] == '-' || s[0] == '+')) &&
        sbr_parse_i64(s, dot, &ip) < 0)
        return -1;
    if (dot == len - 1 && dot == 0)
        return -1;
    if (ip > INT64_MAX / scale || ip < -(INT64_MAX / scale))
        return -1;
    /* fraction: digits after the dot, scaled, rounded towards zero */
    int64_t frac = 0, unit = scale;
    for (int64_t i = dot + 1; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        if (unit >= 10) {
            unit /= 10;
            frac += (int64_t)d * unit;
        }
    }
    int64_t v = ip * scale;
    *out = neg ? v - frac : v + frac;
    return 0;
}

static int digits(const char *s, int k, int *out)
{
    int v = 0;
    for (int i = 0; i < k; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + (int)d;
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int sbr_parse_date(const char *s, int64_t len, int64_t *out)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) < 0 ||
        digits(s + 5, 2, &m) < 0 || digits(s + 8, 2, &d) < 0 || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return -1;
    *out = days_from_civil(y, m, d) * 86400;
    return 0;
}

int sbr_parse_iso_ms(const char *s, int64_t len, int64_t *out)
{
    int64_t day;
    int hh, mm, ss, ms = 0;
    if (len < 19 || sbr_parse_date(s, 10, &day) < 0 || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':' || digits(s + 11, 2, &hh) < 0 ||
        digits(s + 14, 2, &mm) < 0 || digits(s + 17, 2, &ss) < 0 || hh > 23 || mm > 59 ||
        ss > 60)
        return -1;
    int64_t i = 19;
    if (i < len && s[i] == '.') {
        int k = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 3)
                ms = ms * 10 + (s[i] - '0');
        if (k == 0)
            return -1;
        for (; k < 3; k++)
            ms *= 10;
    }
    if (i < len && s[i] == 'Z')
        i++;
    if (i != len)
        return -1;
    *out = (day + hh * 3600 + mm * 60 + ss) * 1000 + ms;
    return 0;
}

/* Times beyond +-2^62 ms (146 million years) are refused, so that
 * differences of two times never overflow. */
#define TIME_LIMIT ((int64_t)1 << 62)
static int time_ok(int64_t t) { return t > -TIME_LIMIT && t < TIME_LIMIT; }

/* --- the table ------------------------------------------------------------ */

static void push_click(sbr_clicklog *g, int32_t key, int32_t item, int64_t t)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1 << 16;
        g->key = sbr_xrealloc(g->key, (size_t)g->cap * sizeof *g->key);
        g->item = sbr_xrealloc(g->item, (size_t)g->cap * sizeof *g->item);
        g->t = sbr_xrealloc(g->t, (size_t)g->cap * sizeof *g->t);
    }
    g->key[g->n] = key;
    g->item[g->n] = item;
    g->t[g->n] = t;
    g->n++;
}

/* Dense key of a session (or user) id, growing the per-key arrays. Keys of
 * a test file come after all keys of the main file. */
static int32_t key_of(sbr_clicklog *g, int64_t id)
{
    /* Consecutive rows mostly share their key: skip the map for them. */
    if (g->cache_valid && id == g->last_key_id)
        return g->last_key;
    sbr_idmap *m = g->reading_test ? &g->keys_test : &g->keys;
    int64_t before = m->n;
    int32_t k = sbr_idmap_get_fast(m, id);
    if (g->reading_test)
        k += (int32_t)g->test_key_from;
    if (m->n > before) {
        if (k >= INT32_MAX - 1)
            sbr_fatal("more than %d sessions", INT32_MAX - 1);
        g->n_keys = k + 1;
        if (g->n_keys > g->key_cap) {
            g->key_cap = g->key_cap ? 2 * g->key_cap : 1 << 12;
            g->key_user = sbr_xrealloc(g->key_user, (size_t)g->key_cap * sizeof *g->key_user);
            if (g->format == SBR_FMT_DIGINETICA)
                g->key_date = sbr_xrealloc(g->key_date, (size_t)g->key_cap * sizeof *g->key_date);
        }
        g->key_user[k] = g->keys_are_users ? id : -1;
    }
    g->last_key_id = id;
    g->last_key = k;
    g->cache_valid = 1;
    return k;
}

void sbr_log_free(sbr_clicklog *g)
{
    sbr_log_join_hash(g, NULL); /* digest not wanted any more: just wait */
    free(g->key);
    free(g->item);
    free(g->t);
    free(g->key_user);
    free(g->key_date);
    sbr_idmap_free(&g->keys);
    sbr_idmap_free(&g->keys_test);
    sbr_idmap_free(&g->items);
    memset(g, 0, sizeof *g);
}

/* --- fields --------------------------------------------------------------- */

#define MAX_FIELDS 64

typedef struct {
    const char *p;
    int64_t n;
} field;

static int split(const char *s, int64_t len, char sep, field *f)
{
    int k = 0;
    int64_t start = 0;
    for (int64_t i = 0; i <= len; i++)
        if (i == len || s[i] == sep) {
            if (k == MAX_FIELDS)
                return MAX_FIELDS + 1;
            f[k].p = s + start;
            f[k].n = i - start;
            k++;
            start = i + 1;
        }
    return k;
}

/* "value" -> value (spreadsheet exports quote fields; no quotes inside). */
static void unquote(field *f)
{
    if (f->n >= 2 && f->p[0] == '"' && f->p[f->n - 1] == '"') {
        f->p++;
        f->n -= 2;
    }
}

static int field_is(const field *f, const char *name)
{
    size_t n = strlen(name);
    return (size_t)f->n == n && memcmp(f->p, name, n) == 0;
}

/* Quoted copy of a field for messages. */
static const char *show(const field *f)
{
    static char b[48];
    int n = f->n > 40 ? 40 : (int)f->n;
    snprintf(b, sizeof b, "'%.*s%s'", n, f->p, f->n > 40 ? "..." : "");
    return b;
}

/* --- reader state ---------------------------------------------------------- */

#define KBATCH 64

typedef struct {
    const sbr_log_opts *o;
    sbr_clicklog *g;
    char sep;
    int nf;                           /* fields expected (0: at least the columns used) */
    int c_sess, c_user, c_item, c_time; /* 0-based columns, -1 = absent */
    int time_kind;                    /* 0 numeric scaled, 1 ISO/date */
    int64_t time_scale;               /* ms per unit */
    sbr_err *e;
    /* Kaggle rows wait here so that their visitor lookups can be prefetched:
     * with millions of visitors the direct table does not fit in cache. */
    int nb;
    int64_t b_vis[KBATCH], b_item[KBATCH], b_ts[KBATCH];
} reader;

static int bad(reader *r, const char *fmt, const char *arg)
{
    return sbr_errf(r->e, fmt, arg);
}

static int get_i64(reader *r, const field *f, const char *what, int64_t *v)
{
    if (sbr_parse_i64(f->p, f->n, v) < 0) {
        sbr_errf(r->e, "%s %s is not an integer", what, show(f));
        return -1;
    }
    return 0;
}

/* An item or user id: an integer, not negative, since -1 means "none" in a
 * sessions file (items.original[0], an anonymous session's user). */
static int get_id(reader *r, const field *f, const char *what, int64_t *v)
{
    if (get_i64(r, f, what, v) < 0)
        return -1;
    if (*v < 0)
        return sbr_errf(r->e, "negative %s %lld", what, (long long)*v);
    return 0;
}

/* A time field: ISO-8601 / date, or a number of units. */
static int get_time(reader *r, const field *f, int64_t *t)
{
    int iso = f->n >= 10 && f->p[4] == '-';
    if (iso) {
        if (sbr_parse_iso_ms(f->p, f->n, t) == 0)
            return 0;
        if (sbr_parse_date(f->p, f->n, t) == 0) {
            *t *= 1000;
            return 0;
        }
    } else if (sbr_parse_scaled(f->p, f->n, r->time_scale, t) == 0) {
        if (!time_ok(*t))
            return bad(r, "time %s is out of range", show(f));
        return 0;
    }
    return bad(r, "time %s is not a number or an ISO-8601 date", show(f));
}

/* --- one row per layout: 0 kept, 1 skipped by a rule, -1 malformed ------- */

static void kaggle_flush(reader *r);

/* Unsigned decimal up to the separator: advances *p; -1 when malformed. */
static inline int next_u64(const char **p, const char *end, char sep, int64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    int k = 0;
    while (q < end && *q != sep) {
        unsigned d = (unsigned)(*q - '0');
        if (d > 9 || ++k > 18)
            return -1;
        v = v * 10 + d;
        q++;
    }
    if (k == 0 || (q < end ? 0 : sep != 0))
        return -1;
    *out = (int64_t)v;
    *p = q < end ? q + 1 : q;
    return 0;
}

/* The common case of a Kaggle row in one pass; 1 when it needs the
 * general path (which also words the error). */
static int row_kaggle_fast(reader *r, const char *s, int64_t len)
{
    const char *p = s, *end = s + len;
    int64_t ts, vis, item;
    if (next_u64(&p, end, ',', &ts) < 0 || next_u64(&p, end, ',', &vis) < 0 || !time_ok(ts))
        return 1;
    unsigned ev;
    if (end - p >= 5 && memcmp(p, "view,", 5) == 0) {
        ev = SBR_EV_VIEW;
        p += 5;
    } else if (end - p >= 10 && memcmp(p, "addtocart,", 10) == 0) {
        ev = SBR_EV_CART;
        p += 10;
    } else if (end - p >= 12 && memcmp(p, "transaction,", 12) == 0) {
        ev = SBR_EV_TRANSACTION;
        p += 12;
    } else
        return 1;
    if (next_u64(&p, end, ',', &item) < 0)
        return 1;
    int64_t txn;
    if (p < end && (memchr(p, ',', (size_t)(end - p)) || next_u64(&p, end, 0, &txn) < 0))
        return 1;
    if (!(r->o->events & ev)) {
        r->g->skipped_events++;
        return 0;
    }
    r->b_vis[r->nb] = vis;
    r->b_item[r->nb] = item;
    r->b_ts[r->nb] = ts;
    if (++r->nb == KBATCH)
        kaggle_flush(r);
    return 0;
}

/* Pushes the waiting Kaggle rows, in file order. */
static void kaggle_flush(reader *r)
{
    sbr_clicklog *g = r->g;
    for (int i = 0; i < r->nb; i++) {
        if (i + 8 < r->nb) {
            int64_t v = r->b_vis[i + 8];
            if (v >= 0 && v < g->keys.direct_cap)
                __builtin_prefetch(&g->keys.direct[v]);
        }
        push_click(g, key_of(g, r->b_vis[i]), sbr_idmap_get_fast(&g->items, r->b_item[i]),
                   r->b_ts[i]);
    }
    r->nb = 0;
}

static int row_kaggle(reader *r, const char *s, int64_t len)
{
    if (row_kaggle_fast(r, s, len) == 0)
        return 0;
    field f[MAX_FIELDS];
    int k = split(s, len, ',', f);
    if (k != 5) {
        char m[32];
        snprintf(m, sizeof m, "%d", k);
        return bad(r, "expected 5 comma-separated fields, found %s", m);
    }
    int64_t ts, vis, item;
    if (get_i64(r, &f[0], "timestamp", &ts) < 0 || get_id(r, &f[1], "visitorid", &vis) < 0 ||
        get_id(r, &f[3], "itemid", &item) < 0)
        return -1;
    if (!time_ok(ts))
        return bad(r, "timestamp %s is out of range", show(&f[0]));
    unsigned ev;
    if (field_is(&f[2], "view"))
        ev = SBR_EV_VIEW;
    else if (field_is(&f[2], "addtocart"))
        ev = SBR_EV_CART;
    else if (field_is(&f[2], "transaction"))
        ev = SBR_EV_TRANSACTION;
    else
        return bad(r, "event %s is not view, addtocart or transaction", show(&f[2]));
    if (!(r->o->events & ev)) {
        r->g->skipped_events++;
        return 1;
    }
    kaggle_flush(r);
    push_click(r->g, key_of(r->g, vis), sbr_idmap_get_fast(&r->g->items, item), ts);
    return 0;
}

static int row_diginetica(reader *r, const char *s, int64_t len)
{
    field f[MAX_FIELDS];
    int k = split(s, len, ';', f);
    if (k != 5) {
        char m[32];
        snprintf(m, sizeof m, "%d", k);
        return bad(r, "expected 5 ';'-separated fields, found %s", m);
    }
    int64_t sess, user = -1, item, tf, date;
    if (get_i64(r, &f[0], "session_id", &sess) < 0)
        return -1;
    if (!field_is(&f[1], "NA") && f[1].n > 0 && get_id(r, &f[1], "user_id", &user) < 0)
        return -1;
    if (get_id(r, &f[2], "item_id", &item) < 0 || get_i64(r, &f[3], "timeframe", &tf) < 0)
        return -1;
    if (!time_ok(tf))
        return bad(r, "timeframe %s is out of range", show(&f[3]));
    if (sbr_parse_date(f[4].p, f[4].n, &date) < 0)
        return bad(r, "eventdate %s is not a YYYY-MM-DD date", show(&f[4]));
    int32_t key = key_of(r->g, sess);
    r->g->key_date[key] = date; /* the last row in file order wins (SR-GNN) */
    if (user >= 0)
        r->g->key_user[key] = user;
    push_click(r->g, key, sbr_idmap_get_fast(&r->g->items, item), tf);
    return 0;
}

static int row_yoochoose(reader *r, const char *s, int64_t len)
{
    field f[MAX_FIELDS];
    int k = split(s, len, ',', f);
    if (k != 4) {
        char m[32];
        snprintf(m, sizeof m, "%d", k);
        return bad(r, "expected 4 comma-separated fields (session,time,item,category), found %s", m);
    }
    int64_t sess, item, t;
    if (get_i64(r, &f[0], "session id", &sess) < 0)
        return -1;
    if (sbr_parse_iso_ms(f[1].p, f[1].n, &t) < 0)
        return bad(r, "timestamp %s is not ISO-8601 (YYYY-MM-DDTHH:MM:SS.sssZ)", show(&f[1]));
    if (get_id(r, &f[2], "item id", &item) < 0)
        return -1;
    push_click(r->g, key_of(r->g, sess), sbr_idmap_get_fast(&r->g->items, item), t);
    return 0;
}

/* sessionrec, recbole and csv: columns found from the header or options. */
static int row_columns(reader *r, const char *s, int64_t len)
{
    field f[MAX_FIELDS];
    int k = split(s, len, r->sep, f);
    if (k < r->nf) {
        char m[64];
        snprintf(m, sizeof m, "%d, found %d", r->nf, k > MAX_FIELDS ? MAX_FIELDS : k);
        return bad(r, "expected at least %s fields", m);
    }
    int64_t key_id, user = -1, item, t = 0;
    int c_key = r->c_sess >= 0 ? r->c_sess : r->c_user;
    for (int i = 0; i < r->nf; i++)
        unquote(&f[i]);
    if (r->c_sess >= 0 ? get_i64(r, &f[c_key], "session id", &key_id) < 0
                       : get_id(r, &f[c_key], "user id", &key_id) < 0)
        return -1;
    if (r->c_user >= 0 && r->c_user != c_key && get_id(r, &f[r->c_user], "user id", &user) < 0)
        return -1;
    if (r->c_sess < 0)
        user = key_id;
    if (get_id(r, &f[r->c_item], "item id", &item) < 0)
        return -1;
    if (r->c_time >= 0 && get_time(r, &f[r->c_time], &t) < 0)
        return -1;
    int32_t key = key_of(r->g, key_id);
    if (user >= 0)
        r->g->key_user[key] = user;
    /* Without a time column the file order orders the clicks. */
    push_click(r->g, key, sbr_idmap_get_fast(&r->g->items, item), r->c_time >= 0 ? t : r->g->n);
    return 0;
}

/* --- headers --------------------------------------------------------------- */

/* Column index named by an option: a header name or a 1-based number. */
static int find_col(reader *r, const field *h, int nh, const char *spec, const char *opt, int *c)
{
    *c = -1;
    if (!spec)
        return 0;
    int64_t v;
    if (sbr_parse_i64(spec, (int64_t)strlen(spec), &v) == 0) {
        if (v < 1 || v > MAX_FIELDS)
            return sbr_errf(r->e, "%s %s: column numbers start at 1", opt, spec);
        *c = (int)v - 1;
        return 0;
    }
    for (int i = 0; i < nh; i++) {
        /* RecBole names carry a type: "item_id:token". */
        int64_t n = h[i].n;
        for (int64_t j = 0; j < h[i].n; j++)
            if (h[i].p[j] == ':') {
                n = j;
                break;
            }
        if ((size_t)n == strlen(spec) && memcmp(h[i].p, spec, (size_t)n) == 0) {
            *c = i;
            return 0;
        }
    }
    return sbr_errf(r->e, "%s %s: no such column in the header", opt, spec);
}

/* The names users' files give their columns (session-rec, RecBole, Kaggle
 * dumps, pandas exports), for headers no option names: the first that the
 * header has. */
static const char *const session_names[] = {"SessionId", "session_id", "sessionId", "session", NULL};
static const char *const item_names[] = {"ItemId", "item_id", "itemId", "item", NULL};
static const char *const time_names[] = {"Time", "timestamp", "time", "Timestamp", "ts", NULL};
static const char *const user_names[] = {"UserId", "user_id", "userId", "visitorid", "user", NULL};

static const char *header_name(const field *h, int nh, const char *const *names)
{
    for (const char *const *n = names; *n; n++)
        for (int i = 0; i < nh; i++) {
            int64_t k = h[i].n; /* RecBole names carry a type: "item_id:token" */
            for (int64_t j = 0; j < h[i].n; j++)
                if (h[i].p[j] == ':') {
                    k = j;
                    break;
                }
            if ((size_t)k == strlen(*n) && memcmp(h[i].p, *n, (size_t)k) == 0)
                return *n;
        }
    return NULL;
}

/* A header line's separator: a tab when it has one and no comma. */
static char header_sep(const char *line, int64_t len)
{
    return memchr(line, '\t', (size_t)len) && !memchr(line, ',', (size_t)len) ? '\t' : ',';
}

static int setup_columns(reader *r, const char *line, int64_t len, int *header_consumed)
{
    const sbr_log_opts *o = r->o;
    field h[MAX_FIELDS];
    int nh = 0;
    const char *ss = o->session_col, *us = o->user_col, *is = o->item_col, *ts = o->time_col;
    *header_consumed = 0;
    r->time_scale = o->time_scale > 0 ? (int64_t)o->time_scale : 1000;
    if (r->g->format == SBR_FMT_SESSIONREC) {
        r->sep = header_sep(line, len);
        ss = ss ? ss : "SessionId";
        is = is ? is : "ItemId";
        ts = ts ? ts : "Time";
    } else if (r->g->format == SBR_FMT_RECBOLE) {
        r->sep = '\t';
        is = is ? is : "item_id";
        ts = ts ? ts : "timestamp";
    } else
        r->sep = o->sep ? o->sep : o->no_header ? ',' : header_sep(line, len);
    if (r->g->format != SBR_FMT_CSV || !o->no_header) {
        nh = split(line, len, r->sep, h);
        if (nh > MAX_FIELDS)
            return sbr_errf(r->e, "header has more than %d columns", MAX_FIELDS);
        for (int i = 0; i < nh; i++)
            unquote(&h[i]);
        *header_consumed = 1;
        if (r->g->format == SBR_FMT_CSV && !ss && !us && !is) { /* the usual names */
            ss = header_name(h, nh, session_names), is = header_name(h, nh, item_names);
            us = header_name(h, nh, user_names), ts = ts ? ts : header_name(h, nh, time_names);
        }
        if (r->g->format == SBR_FMT_SESSIONREC && !us) {
            int c;
            us = find_col(r, h, nh, "UserId", "", &c) == 0 ? "UserId" : NULL;
        }
        if (r->g->format == SBR_FMT_RECBOLE && !ss && !us) {
            int c;
            ss = find_col(r, h, nh, "session_id", "", &c) == 0 ? "session_id" : NULL;
            us = find_col(r, h, nh, "user_id", "", &c) == 0 ? "user_id" : NULL;
            if (!ss && !us)
                return sbr_errf(r->e, "RecBole header has neither session_id nor user_id");
        }
    }
    if (find_col(r, h, nh, ss, "--session-col", &r->c_sess) < 0 ||
        find_col(r, h, nh, us, "--user-col", &r->c_user) < 0 ||
        find_col(r, h, nh, is, "--item-col", &r->c_item) < 0 ||
        find_col(r, h, nh, ts, "--time-col", &r->c_time) < 0)
        return -1;
    if (r->c_item < 0)
        return sbr_errf(r->e, "no item column: give --item-col");
    if (r->c_sess < 0 && r->c_user < 0)
        return sbr_errf(r->e, o->by_user ? "no user column: cutting each user's clicks into "
                                           "sessions needs one (give --user-col)"
                                         : "no session column: give --session-col (or "
                                           "--user-col to cut sessions by --gap)");
    if (o->by_user && r->c_user >= 0)
        r->c_sess = -1; /* the user's clicks are cut into sessions instead */
    /* RecBole sequential files use the user as the session when no session id. */
    r->g->keys_are_users = r->c_sess < 0 && (r->g->format == SBR_FMT_CSV || o->by_user);
    r->g->has_user = r->c_user >= 0;
    r->g->has_time = r->c_time >= 0;
    int m = r->c_item;
    if (r->c_sess > m) m = r->c_sess;
    if (r->c_user > m) m = r->c_user;
    if (r->c_time > m) m = r->c_time;
    r->nf = m + 1;
    return 0;
}

sbr_format sbr_log_sniff(const char *s, int64_t len)
{
    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 byte-order mark */
        s += 3;
        len -= 3;
    }
    if (len > 0 && (unsigned char)s[0] == 0x80)
        return SBR_FMT_SRGNN;
#define STARTS(lit) (len >= (int64_t)sizeof(lit) - 1 && memcmp(s, lit, sizeof(lit) - 1) == 0)
    if (STARTS("timestamp,visitorid,event,itemid"))
        return SBR_FMT_KAGGLE;
    if (STARTS("session_id;user_id;item_id;timeframe;eventdate"))
        return SBR_FMT_DIGINETICA;
    if (memmem(s, (size_t)len, "item_id:token", 13))
        return SBR_FMT_RECBOLE;
#undef STARTS
    /* a header with the usual names: session-rec's (tab- or comma-separated), or
     * any other CSV header that names a session and an item column */
    field f[MAX_FIELDS] = {{0}};
    int k = split(s, len, header_sep(s, len), f);
    for (int i = 0; i < k && i < MAX_FIELDS; i++)
        unquote(&f[i]);
    k = k < MAX_FIELDS ? k : MAX_FIELDS;
    const char *sess = header_name(f, k, session_names), *item = header_name(f, k, item_names);
    if (sess && item)
        return strcmp(sess, "SessionId") == 0 && strcmp(item, "ItemId") == 0 ? SBR_FMT_SESSIONREC
                                                                               : SBR_FMT_CSV;
    /* yoochoose: digits,YYYY-MM-DDT...,digits,... */
    k = split(s, len, ',', f);
    int64_t v, t;
    if (k == 4 && sbr_parse_i64(f[0].p, f[0].n, &v) == 0 &&
        sbr_parse_iso_ms(f[1].p, f[1].n, &t) == 0 && sbr_parse_i64(f[2].p, f[2].n, &v) == 0)
        return SBR_FMT_YOOCHOOSE;
    return SBR_FMT_AUTO;
}

/* --- driver ---------------------------------------------------------------- */

typedef struct {
    reader r;
    int started;
    const char *name;
    int64_t n_before; /* clicks read before this file */
} driver;

static int start(driver *d, const char *line, int64_t len, int *consumed)
{
    sbr_clicklog *g = d->r.g;
    *consumed = 0;
    if (g->format == SBR_FMT_AUTO) {
        g->format = sbr_log_sniff(line, len);
        if (g->format == SBR_FMT_AUTO)
            return sbr_errf(d->r.e, "cannot tell the layout from the first line; give --format");
    }
    switch (g->format) {
    case SBR_FMT_SRGNN:
        return sbr_errf(d->r.e, "is a pickle: read SR-GNN files with --format srgnn");
    case SBR_FMT_KAGGLE:
        g->keys_are_users = 1;
        g->has_user = g->has_time = 1;
        *consumed = len > 0 && !(line[0] >= '0' && line[0] <= '9');
        if (*consumed && !(len >= 14 && memcmp(line, "timestamp,visi", 14) == 0))
            return sbr_errf(d->r.e, "header is not timestamp,visitorid,event,itemid,transactionid");
        return 0;
    case SBR_FMT_DIGINETICA:
        g->has_user = 1;
        g->has_time = 1;
        *consumed = len > 0 && !(line[0] >= '0' && line[0] <= '9');
        if (*consumed && !(len >= 27 && memcmp(line, "session_id;user_id;item_id;", 27) == 0))
            return sbr_errf(d->r.e, "header is not session_id;user_id;item_id;timeframe;eventdate");
        return 0;
    case SBR_FMT_YOOCHOOSE:
        g->has_time = 1;
        return 0;
    default:
        return setup_columns(&d->r, line, len, consumed);
    }
}

/* One line; returns -1 only on a fatal error (already formatted). */
static int feed(driver *d, const char *line, int64_t len, int64_t lineno)
{
    sbr_clicklog *g = d->r.g;
    g->lines++;
    if (!d->started) {
        int consumed;
        if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 byte-order mark */
            line += 3;
            len -= 3;
        }
        if (start(d, line, len, &consumed) < 0)
            return sbr_err_prefix(d->r.e, "%s:%lld", d->name, (long long)lineno);
        d->started = 1;
        if (consumed)
            return 0;
    }
    if (len == 0) {
        g->blank_lines++;
        return 0;
    }
    int rc;
    switch (g->format) {
    case SBR_FMT_KAGGLE: rc = row_kaggle(&d->r, line, len); break;
    case SBR_FMT_DIGINETICA: rc = row_diginetica(&d->r, line, len); break;
    case SBR_FMT_YOOCHOOSE: rc = row_yoochoose(&d->r, line, len); break;
    default: rc = row_columns(&d->r, line, len); break;
    }
    if (rc >= 0) {
        g->rows++;
        return 0;
    }
    sbr_err_prefix(d->r.e, "%s:%lld", d->name, (long long)lineno);
    if (!d->r.o->skip_bad)
        return -1;
    if (!g->bad_rows)
        memcpy(g->first_bad, d->r.e->msg, sizeof g->first_bad);
    g->bad_rows++;
    return 0;
}

/* A driver for one file; fresh (g cleared) unless it is a test file. */
static void driver_init(driver *d, const char *name, const sbr_log_opts *o, sbr_clicklog *g,
                        sbr_err *e, int fresh)
{
    if (fresh) {
        memset(g, 0, sizeof *g);
        sbr_idmap_init(&g->keys);
        sbr_idmap_init(&g->keys_test);
        sbr_idmap_init(&g->items);
        g->format = o->format;
        g->test_key_from = -1;
    }
    memset(d, 0, sizeof *d);
    d->n_before = g->n;
    d->r.o = o;
    d->r.g = g;
    d->r.e = e;
    d->r.c_sess = d->r.c_user = d->r.c_item = d->r.c_time = -1;
    d->name = name;
}

static int finish(driver *d)
{
    kaggle_flush(&d->r);
    if (!d->started || d->r.g->n == d->n_before) {
        const char *why = !d->started ? "empty input" : "no click rows in the input";
        if (d->r.g->bad_rows)
            return sbr_errf(d->r.e, "%s: %s (%lld malformed rows skipped; first: %s)", d->name,
                            why, (long long)d->r.g->bad_rows, d->r.g->first_bad);
        return sbr_errf(d->r.e, "%s: %s", d->name, why);
    }
    return 0;
}

int sbr_log_parse_buffer(const char *name, const char *text, int64_t n, const sbr_log_opts *o,
                         sbr_clicklog *g, sbr_err *e)
{
    driver d;
    driver_init(&d, name, o, g, e, 1);
    int64_t pos = 0, lineno = 0;
    while (pos < n) {
        const char *nl = memchr(text + pos, '\n', (size_t)(n - pos));
        int64_t end = nl ? nl - text : n, len = end - pos;
        if (len > 0 && text[pos + len - 1] == '\r')
            len--;
        if (feed(&d, text + pos, len, ++lineno) < 0) {
            sbr_log_free(g);
            return -1;
        }
        pos = end + 1;
    }
    if (finish(&d) < 0) {
        sbr_log_free(g);
        return -1;
    }
    return 0;
}

/* Plain files: this thread reads and parses them in blocks while a helper
 * thread computes their SHA-256 for provenance, reading the file a second
 * time through its own descriptor (from the page cache). Hashing a large log
 * costs more than parsing it, so the helper is not waited for until the
 * digest is needed (sbr_log_join_hash): it overlaps the session building. */
#define RB_BLOCK ((size_t)8 << 20)

struct sbr_log_hasher {
    pthread_t th;
    int fd;
    char *path;
    sbr_sha256 sha;
    int failed; /* errno of a failed read, 0 when fine */
    int done;   /* set (atomically) when the digest is complete */
    /* A mapped file (read_mapped): the helper hashes the pages the parser
     * reads, and whichever of the two comes second unmaps them (they would
     * count as resident memory otherwise). */
    const uint8_t *map;
    size_t size;
    size_t hashed, parsed, dropped; /* hashed, parsed: atomics; dropped: under mu */
    pthread_mutex_t mu;
};

#define MAP_STEP ((size_t)16 << 20) /* hashing and unmapping granularity */

/* Releases the pages of the mapping that both threads are done with. */
static void drop_behind(struct sbr_log_hasher *h)
{
    size_t a = __atomic_load_n(&h->hashed, __ATOMIC_ACQUIRE);
    size_t b = __atomic_load_n(&h->parsed, __ATOMIC_ACQUIRE);
    size_t upto = (a < b ? a : b) & ~(size_t)4095;
    pthread_mutex_lock(&h->mu);
    if (upto > h->dropped) {
        madvise((void *)(h->map + h->dropped), upto - h->dropped, MADV_DONTNEED);
        h->dropped = upto;
    }
    pthread_mutex_unlock(&h->mu);
}

static void *hash_thread(void *arg)
{
    struct sbr_log_hasher *h = arg;
    if (h->map) {
        for (size_t off = 0; off < h->size; off += MAP_STEP) {
            size_t k = h->size - off < MAP_STEP ? h->size - off : MAP_STEP;
            sbr_sha256_update(&h->sha, h->map + off, k);
            __atomic_store_n(&h->hashed, off + k, __ATOMIC_RELEASE);
            drop_behind(h);
        }
        __atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    uint8_t *buf = malloc(RB_BLOCK);
    if (!buf) {
        h->failed = ENOMEM;
        return NULL;
    }
    off_t off = 0;
    for (;;) {
        ssize_t k = pread(h->fd, buf, RB_BLOCK, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            h->failed = errno;
            break;
        }
        if (k == 0)
            break;
        sbr_sha256_update(&h->sha, buf, (size_t)k);
        off += k;
    }
    free(buf);
    __atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int sbr_log_hashing(const sbr_clicklog *g)
{
    return g->hasher && !__atomic_load_n(&g->hasher->done, __ATOMIC_ACQUIRE);
}

/* Hashes a mapped file on a helper thread; the hasher owns the mapping. */
static struct sbr_log_hasher *hasher_start_mapped(const char *path, const uint8_t *map,
                                                  size_t size)
{
    struct sbr_log_hasher *h = sbr_xcalloc(1, sizeof *h);
    h->fd = -1;
    h->path = sbr_xstrdup(path);
    h->map = map;
    h->size = size;
    pthread_mutex_init(&h->mu, NULL);
    sbr_sha256_init(&h->sha);
    if (pthread_create(&h->th, NULL, hash_thread, h) != 0) {
        hash_thread(h); /* no thread: hash here */
        h->th = pthread_self();
    }
    return h;
}

static struct sbr_log_hasher *hasher_start(const char *path)
{
    struct sbr_log_hasher *h = sbr_xcalloc(1, sizeof *h);
    h->fd = open(path, O_RDONLY);
    if (h->fd < 0) {
        free(h);
        return NULL;
    }
    h->path = sbr_xstrdup(path);
    sbr_sha256_init(&h->sha);
    if (pthread_create(&h->th, NULL, hash_thread, h) != 0) {
        hash_thread(h); /* no thread: hash here */
        h->th = pthread_self();
    }
    return h;
}

int sbr_log_join_hash(sbr_clicklog *g, sbr_err *e)
{
    struct sbr_log_hasher *h = g->hasher;
    if (!h)
        return 0;
    if (!pthread_equal(h->th, pthread_self()))
        pthread_join(h->th, NULL);
    int rc = 0;
    if (h->failed)
        rc = sbr_errf(e, "%s: read error while hashing: %s", h->path, strerror(h->failed));
    else if (e) {
        char hex[65];
        sbr_sha256_hex(&h->sha, hex);
        sbr_inputs_add(h->path, hex);
    }
    if (h->fd >= 0)
        close(h->fd);
    if (h->map) {
        munmap((void *)h->map, h->size);
        pthread_mutex_destroy(&h->mu);
    }
    free(h->path);
    free(h);
    g->hasher = NULL;
    return rc;
}

/* Fills buf from fd; returns bytes read (< cap only at the end), -1 on error. */
static ssize_t read_full(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        n += (size_t)k;
    }
    return (ssize_t)n;
}

/* Feeds the lines of one block; a line cut by the block end waits in carry. */
static int feed_block(driver *d, const char *p, size_t n, char **carry, size_t *clen,
                      size_t *ccap, int64_t *lineno)
{
    size_t pos = 0;
    while (pos < n) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        const char *line = p + pos;
        size_t len = end - pos;
        if (*clen || !nl) { /* join with the carried start of the line */
            if (*clen + len > *ccap) {
                *ccap = 2 * (*clen + len) + 64;
                *carry = sbr_xrealloc(*carry, *ccap);
            }
            memcpy(*carry + *clen, line, len);
            *clen += len;
            if (!nl)
                return 0;
            line = *carry;
            len = *clen;
            *clen = 0;
        }
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (feed(d, line, (int64_t)len, ++*lineno) < 0)
            return -1;
        pos = end + 1;
    }
    return 0;
}

static int read_blocks(driver *d, const char *path, int fd, sbr_err *e)
{
    d->r.g->hasher = hasher_start(path);
    uint8_t *buf = sbr_xmalloc(RB_BLOCK);
    char *carry = NULL;
    size_t clen = 0, ccap = 0;
    int64_t lineno = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read_full(fd, buf, RB_BLOCK);
        if (n < 0) {
            rc = sbr_errf(e, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (feed_block(d, (const char *)buf, (size_t)n, &carry, &clen, &ccap, &lineno) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && clen > 0) { /* last line without '\n' */
        if (carry[clen - 1] == '\r')
            clen--;
        rc = feed(d, carry, (int64_t)clen, ++lineno);
    }
    free(buf);
    free(carry);
    return rc;
}

/* Unsigned decimal of 1..18 digits ending at `stop` (not consumed):
 * advances *q; -1 otherwise (the general path then words the error). */
static inline int run_u64(const char **q, const char *end, char stop, int64_t *out)
{
    const char *c = *q;
    uint64_t v = 0;
    int k = 0;
    for (; c < end; c++, k++) {
        unsigned dg = (unsigned)(*c - '0');
        if (dg > 9)
            break;
        v = v * 10 + dg;
    }
    if (k == 0 || k > 18 || c == end || *c != stop)
        return -1;
    *out = (int64_t)v;
    *q = c;
    return 0;
}

/* Kaggle rows of the usual shape, parsed straight from the buffer from
 * p[pos] on without looking for the line end first: up to MAP_STEP bytes,
 * stopping before the first line that is not "digits,digits,EVENT,digits,
 * [digits]\n" (blank, '\r', malformed, the last line without '\n'), which
 * feed() takes. The same rows as row_kaggle_fast, and the same counts.
 * Returns the position reached. */
static size_t kaggle_run(driver *d, const char *p, size_t pos, size_t size, int64_t *lineno)
{
    reader *r = &d->r;
    sbr_clicklog *g = r->g;
    const char *q = p + pos, *end = p + size,
               *stop = size - pos > MAP_STEP ? q + MAP_STEP : end;
    unsigned events = r->o->events;
    int64_t lines = 0, skipped = 0;
    while (q < stop) {
        const char *c = q;
        int64_t ts, vis, item, txn;
        unsigned ev;
        if (run_u64(&c, end, ',', &ts) < 0)
            break;
        c++;
        if (run_u64(&c, end, ',', &vis) < 0)
            break;
        c++;
        if (end - c >= 5 && memcmp(c, "view,", 5) == 0) {
            ev = SBR_EV_VIEW;
            c += 5;
        } else if (end - c >= 10 && memcmp(c, "addtocart,", 10) == 0) {
            ev = SBR_EV_CART;
            c += 10;
        } else if (end - c >= 12 && memcmp(c, "transaction,", 12) == 0) {
            ev = SBR_EV_TRANSACTION;
            c += 12;
        } else
            break;
        if (run_u64(&c, end, ',', &item) < 0)
            break;
        c++;
        if (c < end && *c != '\n' && run_u64(&c, end, '\n', &txn) < 0)
            break;
        if (c == end)
            break; /* the last line, without '\n' */
        q = c + 1;
        lines++;
        if (!(events & ev)) {
            skipped++;
            continue;
        }
        r->b_vis[r->nb] = vis;
        r->b_item[r->nb] = item;
        r->b_ts[r->nb] = ts;
        if (++r->nb == KBATCH)
            kaggle_flush(r);
    }
    g->lines += lines;
    g->rows += lines;
    g->skipped_events += skipped;
    *lineno += lines;
    return (size_t)(q - p);
}

/* A plain file mapped whole: lines are parsed in place (no copy, no line
 * cut by a block end) while the helper thread hashes the same pages.
 * Returns 1 when the file cannot be mapped (the caller reads it). */
static int read_mapped(driver *d, const char *path, int fd, size_t size)
{
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 1;
    struct sbr_log_hasher *h = hasher_start_mapped(path, m, size);
    d->r.g->hasher = h;
    const char *p = m;
    size_t pos = 0, next_drop = MAP_STEP;
    int64_t lineno = 0;
    while (pos < size) {
        if (d->started && d->r.g->format == SBR_FMT_KAGGLE) {
            size_t k = kaggle_run(d, p, pos, size, &lineno);
            if (k != pos) {
                pos = k;
                if (pos >= next_drop) {
                    __atomic_store_n(&h->parsed, pos, __ATOMIC_RELEASE);
                    drop_behind(h);
                    next_drop = pos + MAP_STEP;
                }
                continue;
            }
        }
        const char *nl = memchr(p + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - p) : size, len = end - pos;
        if (len > 0 && p[pos + len - 1] == '\r')
            len--;
        if (feed(d, p + pos, (int64_t)len, ++lineno) < 0)
            return -1;
        pos = end + 1;
        if (pos >= next_drop) {
            __atomic_store_n(&h->parsed, pos, __ATOMIC_RELEASE);
            drop_behind(h);
            next_drop = pos + MAP_STEP;
        }
    }
    __atomic_store_n(&h->parsed, size, __ATOMIC_RELEASE);
    drop_behind(h);
    return 0;
}

/* Through the library's line reader: stdin and zstd-compressed files. */
static int read_lines(driver *d, const char *path, sbr_err *e)
{
    sbr_lines *L = sbr_lines_open(path, e);
    if (!L)
        return sbr_err_prefix(e, "%s", path);
    size_t len;
    char *line;
    while ((line = sbr_lines_next(L, &len))) {
        if (feed(d, line, (int64_t)len, sbr_lines_lineno(L)) < 0) {
            sbr_lines_close(L);
            return -1;
        }
    }
    if (sbr_lines_error(L)) {
        sbr_errf(e, "%s: %s", path, sbr_lines_error(L));
        sbr_lines_close(L);
        return -1;
    }
    sbr_lines_close(L);
    return 0;
}

static int read_file(driver *d, const char *path, sbr_err *e);

int sbr_log_read(const char *path, const sbr_log_opts *o, sbr_clicklog *g, sbr_err *e)
{
    driver d;
    driver_init(&d, path, o, g, e, 1);
    int rc = read_file(&d, path, e);
    if (rc < 0)
        sbr_log_free(g);
    return rc;
}

int sbr_log_read_test(const char *path, const sbr_log_opts *o, sbr_clicklog *g, sbr_err *e)
{
    if (sbr_log_join_hash(g, e) < 0) /* one digest at a time */
        return -1;
    sbr_log_opts same = *o;
    same.format = g->format; /* the test file has the main file's layout */
    driver d;
    driver_init(&d, path, &same, g, e, 0);
    g->reading_test = 1;
    g->cache_valid = 0;
    g->test_key_from = g->n_keys;
    int rc = read_file(&d, path, e);
    g->reading_test = 0;
    g->cache_valid = 0;
    return rc;
}

static int read_file(driver *d, const char *path, sbr_err *e)
{
    int rc;
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY);
    uint8_t magic[4] = {0};
    struct stat st;
    int plain = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                pread(fd, magic, 4, 0) >= 0 &&
                !(magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd);
    rc = 1;
    if (plain && st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX)
        rc = read_mapped(d, path, fd, (size_t)st.st_size);
    if (plain && rc == 1)
        rc = read_blocks(d, path, fd, e);
    else if (!plain)
        rc = read_lines(d, path, e);
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = finish(d);
    return rc;
}
