/* The preparation protocol for raw logs: see prep.h for the steps. */
#include "prep.h"


#include "progress.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbr_prep_defaults(sbr_format f, sbr_prep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gap_s = 1800;
    o->pre_min_len = 2;
    o->min_support = 5;
    o->min_len = 2;
    o->test_days = 7;
    o->valid_frac = 0.1;
    o->min_prefix = 1;
    switch (f) {
    case SBR_FMT_KAGGLE: /* RetailRocket as in COTREC / DMI-GNN */
        o->min_len = 3;
        o->min_prefix = 2;
        o->dedup = 1;
        break;
    case SBR_FMT_YOOCHOOSE: /* SR-GNN: the last day is the test */
    case SBR_FMT_SESSIONREC:
        o->test_days = 1;
        break;
    case SBR_FMT_SRGNN: /* the pickles are already filtered and split */
        o->unseen_keep = 1;
        o->min_prefix = 0; /* inferred */
        break;
    default:
        break;
    }
}

void sbr_counts_add(sbr_counts *c, const char *name, int64_t v)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->c[i].name, name) == 0) {
            c->c[i].v += v;
            return;
        }
    if (c->n == SBR_MAX_COUNTS)
        return;
    snprintf(c->c[c->n].name, sizeof c->c[c->n].name, "%s", name);
    c->c[c->n].v = v;
    c->n++;
}

int64_t sbr_counts_get(const sbr_counts *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->c[i].name, name) == 0)
            return c->c[i].v;
    return 0;
}

/* Working sessions: CSR over clicks, plus per-session attributes. */
typedef struct {
    int64_t S;
    int64_t *off;   /* [S + 1] */
    int32_t *item;  /* [off[S]] dense item ids of the log */
    int64_t *t;     /* [off[S]] ms */
    int64_t *user;  /* [S] */
    int64_t *date;  /* [S] seconds */
    uint8_t *from_test; /* [S] 1 when the session comes from a separate test file */
} wset;

static void wset_free(wset *w)
{
    free(w->off);
    free(w->item);
    free(w->t);
    free(w->user);
    free(w->date);
    free(w->from_test);
    memset(w, 0, sizeof *w);
}

/* --- 1. grouping ------------------------------------------------------------ */

typedef struct {
    int64_t t, pos;
    int32_t item;
} tclick;

static int cmp_tclick(const void *a, const void *b)
{
    const tclick *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Stable sort of one group's clicks by time, when they are not in order. */
static void sort_group(int32_t *item, int64_t *t, int64_t m, tclick **tmp, int64_t *tmp_cap)
{
    int64_t i = 1;
    while (i < m && t[i - 1] <= t[i])
        i++;
    if (i >= m)
        return;
    if (m > *tmp_cap) {
        *tmp_cap = m;
        *tmp = sbr_xrealloc(*tmp, (size_t)m * sizeof **tmp);
    }
    tclick *c = *tmp;
    for (int64_t j = 0; j < m; j++) {
        c[j].t = t[j];
        c[j].pos = j;
        c[j].item = item[j];
    }
    qsort(c, (size_t)m, sizeof *c, cmp_tclick);
    for (int64_t j = 0; j < m; j++) {
        t[j] = c[j].t;
        item[j] = c[j].item;
    }
}

/* Counting sort of the clicks by key (stable), then by time within a key.
 * Fills koff [K+1]. Frees g->key, g->item, g->t. */
static void group(sbr_clicklog *g, int64_t **koff_out, int32_t **item_out, int64_t **t_out)
{
    int64_t K = g->n_keys, n = g->n;
    /* A stable counting sort split over T threads: thread j counts and then
     * scatters rows [n*j/T, n*(j+1)/T), its rows of key k going after those
     * of threads < j, so the result is the same for any T. */
    int T = n >= (1 << 20) ? omp_get_max_threads() : 1;
    if (sbr_log_hashing(g) && T > 1)
        T--; /* a core is still hashing the input (clicklog.c) */
    if (T > 4)
        T = 4;
    int64_t *koff = sbr_xcalloc((size_t)K + 1, sizeof *koff);
    int64_t *fill = sbr_xcalloc((size_t)T * (size_t)(K > 0 ? K : 1), sizeof *fill); /* [T, K] */
    const int32_t *key = g->key;
#pragma omp parallel num_threads(T)
    {
        int j = omp_get_thread_num();
        int64_t a = n * j / T, b = n * (j + 1) / T, *h = fill + (int64_t)j * K;
        for (int64_t i = a; i < b; i++)
            h[key[i]]++;
    }
    /* positions: koff[k] = start of key k; fill[j][k] = start of thread j's rows of k */
    int64_t pos = 0;
    for (int64_t k = 0; k < K; k++) {
        koff[k] = pos;
        for (int j = 0; j < T; j++) {
            int64_t c = fill[(int64_t)j * K + k];
            fill[(int64_t)j * K + k] = pos;
            pos += c;
        }
    }
    koff[K] = pos;
    int32_t *item = sbr_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *item);
    int64_t *t = sbr_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *t);
#pragma omp parallel num_threads(T)
    {
        int j = omp_get_thread_num();
        int64_t a = n * j / T, b = n * (j + 1) / T, *f = fill + (int64_t)j * K;
        for (int64_t i = a; i < b; i++) {
            if (i + 16 < b) {
                int64_t q = f[key[i + 16]];
                __builtin_prefetch(&item[q], 1);
                __builtin_prefetch(&t[q], 1);
            }
            int64_t p = f[key[i]]++;
            item[p] = g->item[i];
            t[p] = g->t[i];
        }
    }
    free(g->item);
    free(g->t);
    free(g->key);
    g->item = NULL;
    g->t = NULL;
    g->key = NULL;
    free(fill);
#pragma omp parallel num_threads(T)
    {
        tclick *tmp = NULL;
        int64_t tmp_cap = 0;
#pragma omp for schedule(dynamic, 4096)
        for (int64_t k = 0; k < K; k++)
            sort_group(item + koff[k], t + koff[k], koff[k + 1] - koff[k], &tmp, &tmp_cap);
        free(tmp);
    }
    *koff_out = koff;
    *item_out = item;
    *t_out = t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Room for session S + 1's attributes. */
static void grow_sessions(wset *w, int64_t S, int64_t *cap)
{
    if (S + 1 < *cap)
        return;
    *cap *= 2;
    w->off = sbr_xrealloc(w->off, (size_t)(*cap + 1) * sizeof *w->off);
    w->user = sbr_xrealloc(w->user, (size_t)*cap * sizeof *w->user);
    w->date = sbr_xrealloc(w->date, (size_t)*cap * sizeof *w->date);
    w->from_test = sbr_xrealloc(w->from_test, (size_t)*cap);
}

#define DAY_MS ((int64_t)86400000)

/* 1 when a user's click at t, after one at prev, starts a new session. */
static int starts_session(const sbr_prep_opts *o, int64_t gap_ms, int64_t prev, int64_t t)
{
    if (o->cut_days) /* ProxySR: a user's clicks of one calendar day (UTC) */
        return floor_div(t, DAY_MS) != floor_div(prev, DAY_MS);
    return t - prev > gap_ms;
}

/* Sessions from the key groups: one per key, or cut at gaps (or days) for
 * user keys. Dedup drops a click equal (item and time) to an earlier one of
 * the same time in its session. Compacts item/t in place. */
static void build_sessions(sbr_clicklog *g, const sbr_prep_opts *o, int64_t *koff, int32_t *item,
                           int64_t *t, wset *w, sbr_counts *cnt)
{
    int64_t K = g->n_keys;
    int64_t cap = K + 16;
    w->off = sbr_xmalloc((size_t)(cap + 1) * sizeof *w->off);
    w->user = sbr_xmalloc((size_t)cap * sizeof *w->user);
    w->date = sbr_xmalloc((size_t)cap * sizeof *w->date);
    w->from_test = sbr_xmalloc((size_t)cap);
    int64_t gap_ms = (int64_t)llround(o->gap_s * 1000.0);
    int64_t S = 0, wr = 0, dups = 0;
    w->off[0] = 0;
    for (int64_t k = 0; k < K; k++) {
        int64_t start = wr; /* first click of the current session in the output */
        for (int64_t i = koff[k]; i < koff[k + 1]; i++) {
            if (g->keys_are_users && wr > start && starts_session(o, gap_ms, t[wr - 1], t[i])) {
                grow_sessions(w, S, &cap);
                w->from_test[S] = g->test_key_from >= 0 && k >= g->test_key_from;
                w->user[S] = g->key_user[k];
                w->date[S] = floor_div(t[wr - 1], 1000);
                w->off[++S] = wr;
                start = wr;
            }
            if (o->dedup) {
                int dup = 0;
                for (int64_t j = wr - 1; j >= start && t[j] == t[i]; j--)
                    if (item[j] == item[i]) {
                        dup = 1;
                        break;
                    }
                if (dup) {
                    dups++;
                    continue;
                }
            }
            item[wr] = item[i];
            t[wr] = t[i];
            wr++;
        }
        if (wr > start) {
            grow_sessions(w, S, &cap);
            w->from_test[S] = g->test_key_from >= 0 && k >= g->test_key_from;
            w->user[S] = g->key_user[k];
            w->date[S] = g->key_date ? g->key_date[k] : floor_div(t[wr - 1], 1000);
            w->off[++S] = wr;
        }
    }
    w->S = S;
    w->item = item;
    w->t = t;
    if (o->dedup)
        sbr_counts_add(cnt, "duplicate.clicks", dups);
}

/* --- 2. filters --------------------------------------------------------------- */

/* Keeps sessions with keep(s) != 0, compacting in place. */
static void keep_sessions(wset *w, const uint8_t *keep)
{
    int64_t S = 0, wr = 0;
    for (int64_t s = 0; s < w->S; s++) {
        if (!keep[s])
            continue;
        int64_t a = w->off[s], b = w->off[s + 1];
        memmove(w->item + wr, w->item + a, (size_t)(b - a) * sizeof *w->item);
        memmove(w->t + wr, w->t + a, (size_t)(b - a) * sizeof *w->t);
        w->user[S] = w->user[s];
        w->date[S] = w->date[s];
        w->from_test[S] = w->from_test[s];
        w->off[S] = wr;
        wr += b - a;
        S++;
    }
    w->off[S] = wr;
    w->S = S;
}

/* Drops sessions shorter than min_len; counts them under `name`. */
static int64_t drop_short(wset *w, int min_len, const char *name, sbr_counts *cnt)
{
    uint8_t *keep = sbr_xmalloc((size_t)(w->S > 0 ? w->S : 1));
    int64_t ds = 0, dc = 0;
    for (int64_t s = 0; s < w->S; s++) {
        int64_t len = w->off[s + 1] - w->off[s];
        keep[s] = len >= min_len;
        if (!keep[s]) {
            ds++;
            dc += len;
        }
    }
    keep_sessions(w, keep);
    free(keep);
    char nm[48];
    snprintf(nm, sizeof nm, "%s.sessions", name);
    sbr_counts_add(cnt, nm, ds);
    snprintf(nm, sizeof nm, "%s.clicks", name);
    sbr_counts_add(cnt, nm, dc);
    return ds;
}

/* Drops clicks on items seen fewer than min_support times. */
static int64_t drop_rare(wset *w, int64_t n_items, int min_support, sbr_counts *cnt)
{
    int64_t *count = sbr_xcalloc((size_t)(n_items > 0 ? n_items : 1), sizeof *count);
    int64_t nnz = w->off[w->S];
    for (int64_t j = 0; j < nnz; j++)
        count[w->item[j]]++;
    int64_t wr = 0, dropped = 0;
    for (int64_t s = 0; s < w->S; s++) {
        int64_t a = w->off[s], b = w->off[s + 1];
        w->off[s] = wr;
        for (int64_t j = a; j < b; j++) {
            if (count[w->item[j]] < min_support) {
                dropped++;
                continue;
            }
            w->item[wr] = w->item[j];
            w->t[wr] = w->t[j];
            wr++;
        }
    }
    w->off[w->S] = wr;
    free(count);
    sbr_counts_add(cnt, "rare_item.clicks", dropped);
    return dropped;
}

static void truncate_long(wset *w, int max_len, sbr_counts *cnt)
{
    int64_t wr = 0, dropped = 0, touched = 0;
    for (int64_t s = 0; s < w->S; s++) {
        int64_t a = w->off[s], b = w->off[s + 1];
        if (b - a > max_len) {
            dropped += b - a - max_len;
            touched++;
            a = b - max_len;
        }
        w->off[s] = wr;
        memmove(w->item + wr, w->item + a, (size_t)(b - a) * sizeof *w->item);
        memmove(w->t + wr, w->t + a, (size_t)(b - a) * sizeof *w->t);
        wr += b - a;
    }
    w->off[w->S] = wr;
    sbr_counts_add(cnt, "max_len.clicks", dropped);
    sbr_counts_add(cnt, "max_len.sessions_truncated", touched);
}

/* --- 3. split ------------------------------------------------------------------- */

/* LSD radix sort of 64-bit keys, 16-bit digits, skipping digits that are
 * the same in every key. tmp: [n]. */
static void radix_u64(uint64_t *a, uint64_t *tmp, int64_t n)
{
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    for (int64_t i = 0; i < n; i++) {
        all_or |= a[i];
        all_and &= a[i];
    }
    int64_t *cnt = sbr_xmalloc(65536 * sizeof *cnt);
    for (int shift = 0; shift < 64; shift += 16) {
        if ((((all_or ^ all_and) >> shift) & 0xffff) == 0)
            continue; /* every key has this digit */
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (int64_t i = 0; i < n; i++)
            cnt[(a[i] >> shift) & 0xffff]++;
        int64_t sum = 0;
        for (int d = 0; d < 65536; d++) {
            int64_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            tmp[cnt[(a[i] >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, (size_t)n * sizeof *a);
    }
    free(cnt);
}

typedef struct {
    int64_t date, s;
} dkey;

static int cmp_dkey(const void *a, const void *b)
{
    const dkey *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* Session indices of one side of the split, ordered by (date, index): the
 * index follows first appearance in the file, which breaks ties in date.
 * Radix sort on (date - min) << 32 | index when that fits, else qsort. */
static int64_t *ordered(const wset *w, const uint8_t *side, uint8_t want, int64_t *n)
{
    int64_t k = 0, dmin = INT64_MAX, dmax = INT64_MIN;
    for (int64_t s = 0; s < w->S; s++)
        if (side[s] == want) {
            k++;
            dmin = w->date[s] < dmin ? w->date[s] : dmin;
            dmax = w->date[s] > dmax ? w->date[s] : dmax;
        }
    int64_t *idx = sbr_xmalloc((size_t)(k > 0 ? k : 1) * sizeof *idx);
    *n = k;
    if (k == 0)
        return idx;
    if (w->S < ((int64_t)1 << 32) && dmax - dmin >= 0 && dmax - dmin < ((int64_t)1 << 31)) {
        uint64_t *a = sbr_xmalloc((size_t)k * sizeof *a), *tmp = sbr_xmalloc((size_t)k * sizeof *tmp);
        k = 0;
        for (int64_t s = 0; s < w->S; s++)
            if (side[s] == want)
                a[k++] = (uint64_t)(w->date[s] - dmin) << 32 | (uint64_t)s;
        radix_u64(a, tmp, k);
        for (int64_t i = 0; i < k; i++)
            idx[i] = (int64_t)(a[i] & 0xffffffffu);
        free(a);
        free(tmp);
        return idx;
    }
    dkey *d = sbr_xmalloc((size_t)k * sizeof *d);
    k = 0;
    for (int64_t s = 0; s < w->S; s++)
        if (side[s] == want) {
            d[k].date = w->date[s];
            d[k].s = s;
            k++;
        }
    qsort(d, (size_t)k, sizeof *d, cmp_dkey);
    for (int64_t i = 0; i < k; i++)
        idx[i] = d[i].s;
    free(d);
    return idx;
}

/* --- 4. the most recent training samples (SR-GNN's yoochoose1_64) ------------------- */

/* 1 for each log item clicked in the training sessions tr[0..n): SR-GNN's
 * item dictionary, which its test set is filtered against, is made before
 * the cut. Returns [n_dense]. */
static uint8_t *train_items(const wset *w, const int64_t *tr, int64_t n, int64_t n_dense)
{
    uint8_t *seen = sbr_xcalloc((size_t)(n_dense > 0 ? n_dense : 1), 1);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = w->off[tr[i]]; j < w->off[tr[i] + 1]; j++)
            seen[w->item[j]] = 1;
    return seen;
}

/* Samples of a session under the prefix rule: prefixes of min_prefix items
 * or more (min_prefix 1: SR-GNN's process_seqs, i = 1..len-1). */
static int64_t samples_of(int64_t len, int min_prefix)
{
    return len > min_prefix ? len - min_prefix : 0;
}

/* Index in tr of the first training session kept by the cut, which keeps
 * the session owning sample S - k on, k = floor(S * num / den): SR-GNN's
 * tra_seqs[tr_ids[-k]:] with the samples listed session by session in date
 * order. Counts what it drops; -1 (error set) when k is 0. */
static int64_t recent_cut(const wset *w, const int64_t *tr, int64_t n, const sbr_prep_opts *o,
                          sbr_counts *cnt, sbr_err *e)
{
    int64_t S = 0;
    for (int64_t i = 0; i < n; i++)
        S += samples_of(w->off[tr[i] + 1] - w->off[tr[i]], o->min_prefix);
    /* floor(S * num / den) without overflow (num <= den) */
    int64_t num = o->recent_num, den = o->recent_den;
    int64_t k = S / den * num + S % den * num / den;
    if (k < 1)
        return sbr_errf(e, "the most recent %lld/%lld of the %lld training samples is less than "
                        "one sample", (long long)num, (long long)den, (long long)S);
    int64_t q = S - k, before = 0, clicks = 0, first = 0;
    for (; first < n; first++) {
        int64_t len = w->off[tr[first] + 1] - w->off[tr[first]];
        int64_t m = samples_of(len, o->min_prefix);
        if (before + m > q)
            break; /* this session owns sample q */
        before += m;
        clicks += len;
    }
    sbr_counts_add(cnt, "train_recent_samples_in", S);
    sbr_counts_add(cnt, "train_recent_k", k);
    sbr_counts_add(cnt, "train_recent.sessions", first);
    sbr_counts_add(cnt, "train_recent.clicks", clicks);
    sbr_counts_add(cnt, "train_recent.samples", before);
    return first;
}

/* Item numbering while emitting: ids are given at first sight when assign
 * is on (train, valid, and test with unseen items kept). */
typedef struct {
    int32_t *newid;           /* [log items] new id, 0 = none yet */
    int64_t *orig;            /* [log items + 1] original id of each new id */
    const int64_t *original;  /* [log items] original id of each log item */
    const uint8_t *known;     /* [log items] items that may get an id on the test side
                                 (the training items before a recent cut); NULL: all */
    int32_t next;
} numbering;

/* 1 when a click on log item `it` is kept: the item has a number, or may be
 * given one. */
static int numbered(const numbering *nb, int32_t it, int assign)
{
    return nb->newid[it] || (assign && (!nb->known || nb->known[it]));
}

/* What the log gives besides items: click times (the session date where
 * key_date is set, diginetica) and users. */
typedef struct {
    int times, users;
    const int64_t *key_date;
} emit_cols;

/* Copies sessions idx[0..n) of w into a split, numbering items on the way
 * (or dropping clicks on items without a number when !assign). Sessions
 * left shorter than min_keep are dropped and counted in *drop_s / *drop_c;
 * dropped clicks in *drop_unseen.
 *
 * Two passes: the sessions, scattered in memory (visited in date order), are
 * gathered in parallel at their full lengths (offsets, log item ids, times,
 * users); then one sequential pass over the contiguous result numbers the
 * items in order of first appearance and compacts what is dropped. */
static void emit(const wset *w, const int64_t *idx, int64_t n, numbering *nb, int assign,
                 int min_keep, const emit_cols *cols, sbr_split *sp, int64_t *drop_unseen,
                 int64_t *drop_s, int64_t *drop_c)
{
    int with_times = cols->times, with_users = cols->users;
    const int64_t *key_date_sec = cols->key_date;
    memset(sp, 0, sizeof *sp);
    int64_t *off = sbr_xmalloc((size_t)(n + 1) * sizeof *off);
    int par = n >= 4096;
    off[0] = 0;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) {
        if (i + 16 < n)
            __builtin_prefetch(&w->off[idx[i + 16]]);
        off[i + 1] = w->off[idx[i] + 1] - w->off[idx[i]];
    }
    for (int64_t i = 0; i < n; i++)
        off[i + 1] += off[i];
    int64_t nnz = off[n];
    sp->offsets = off;
    int32_t *items = sbr_xmalloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *items);
    int64_t *times = with_times ? sbr_xmalloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *times) : NULL;
    int64_t *users = with_users ? sbr_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *users) : NULL;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) {
        int64_t s = idx[i], a = w->off[s], b = w->off[s + 1], o = off[i] - a;
        if (i + 8 < n) {
            int64_t q = w->off[idx[i + 8]];
            __builtin_prefetch(&w->item[q]);
            __builtin_prefetch(&w->t[q]);
        }
        for (int64_t j = a; j < b; j++)
            items[o + j] = w->item[j];
        if (times) {
            if (key_date_sec)
                for (int64_t j = a; j < b; j++)
                    times[o + j] = w->date[s];
            else
                for (int64_t j = a; j < b; j++)
                    times[o + j] = w->t[j] >= 0 ? w->t[j] / 1000 : floor_div(w->t[j], 1000);
        }
        if (users)
            users[i] = w->user[s];
    }
    /* Numbering and dropping, in order; compaction in place (wr <= j). A
     * session is numbered only once it is known to be kept, so that items of
     * a dropped test session do not take ids. */
    int32_t *newid = nb->newid;
    int all = assign && !nb->known; /* every click is kept: no counting pass */
    int64_t S = 0, wr = 0, a = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t b = off[i + 1], kept = all ? b - a : 0;
        for (int64_t j = a; j < b && !all; j++)
            kept += numbered(nb, items[j], assign);
        *drop_unseen += b - a - kept;
        if (kept < min_keep) {
            (*drop_s)++;
            *drop_c += kept;
            a = b;
            continue;
        }
        for (int64_t j = a; j < b; j++) {
            int32_t it = items[j], v = newid[it];
            if (!v) {
                if (!all && !numbered(nb, it, assign))
                    continue;
                v = newid[it] = nb->next++;
                nb->orig[v] = nb->original[it];
            }
            items[wr] = v;
            if (times)
                times[wr] = times[j];
            wr++;
        }
        a = b;
        if (users)
            users[S] = users[i];
        off[++S] = wr;
    }
    sp->items = items;
    sp->times = times;
    sp->users = users;
    sp->n_sessions = S;
}

/* --- 5. the splits to write ----------------------------------------------------------- */

/* Session indices of train, valid and test, each in date order. */
typedef struct {
    int64_t *own[2];                 /* the arrays idx points into */
    const int64_t *idx[SBR_NSPLITS]; /* [n[k]] sessions of split k */
    int64_t n[SBR_NSPLITS];
    uint8_t *known;  /* [log items] test items that may get an id (recent cut), or NULL */
    int by_count;    /* ProxySR: the catalogue is train's, valid is held out like test */
} plan;

static void plan_free(plan *p)
{
    free(p->own[0]);
    free(p->own[1]);
    free(p->known);
}

/* test = dated after max date - test_days (or the TEST file's sessions),
 * train before; sessions dated exactly at the split go to neither (SR-GNN).
 * side[s]: 0 train, 1 test, 2 neither. */
static uint8_t *sides_by_date(const wset *w, const sbr_clicklog *g, const sbr_prep_opts *o,
                              sbr_counts *cnt)
{
    uint8_t *side = sbr_xcalloc((size_t)(w->S > 0 ? w->S : 1), 1);
    if (g->test_key_from >= 0) { /* the test split was given as its own file */
        for (int64_t s = 0; s < w->S; s++)
            side[s] = w->from_test[s];
        return side;
    }
    if (o->test_days <= 0 || w->S == 0)
        return side;
    int64_t maxd = w->date[0], ds = 0, dc = 0;
    for (int64_t s = 1; s < w->S; s++)
        maxd = w->date[s] > maxd ? w->date[s] : maxd;
    int64_t split_at = maxd - (int64_t)llround(o->test_days * 86400.0);
    for (int64_t s = 0; s < w->S; s++) {
        side[s] = w->date[s] < split_at ? 0 : w->date[s] > split_at ? 1 : 2;
        if (side[s] == 2) {
            ds++;
            dc += w->off[s + 1] - w->off[s];
        }
    }
    sbr_counts_add(cnt, "at_split_date.sessions", ds);
    sbr_counts_add(cnt, "at_split_date.clicks", dc);
    return side;
}

/* SR-GNN's splits: by date, the recent cut, valid = the tail of train. */
static int plan_by_date(const wset *w, const sbr_clicklog *g, const sbr_prep_opts *o, plan *p,
                        sbr_counts *cnt, sbr_err *e)
{
    uint8_t *side = sides_by_date(w, g, o, cnt);
    int64_t n_tr, n_te;
    p->own[0] = ordered(w, side, 0, &n_tr);
    p->own[1] = ordered(w, side, 1, &n_te);
    free(side);
    if (n_tr == 0)
        return sbr_errf(e, "no training sessions are left after the filters");
    int64_t cut = 0; /* training sessions own[0][0..cut) dropped by the recent cut */
    if (o->recent_den > 0) {
        p->known = train_items(w, p->own[0], n_tr, g->items.n);
        if ((cut = recent_cut(w, p->own[0], n_tr, o, cnt, e)) < 0)
            return -1;
        n_tr -= cut;
    }
    int64_t n_va = (int64_t)floor(o->valid_frac * (double)n_tr);
    if (n_va >= n_tr)
        n_va = n_tr - 1;
    p->idx[SBR_TRAIN] = p->own[0] + cut;
    p->n[SBR_TRAIN] = n_tr - n_va;
    p->idx[SBR_VALID] = p->own[0] + cut + (n_tr - n_va);
    p->n[SBR_VALID] = n_va;
    p->idx[SBR_TEST] = p->own[1];
    p->n[SBR_TEST] = n_te;
    return 0;
}

/* floor(S * a / T) without overflow for a <= T <= 3e9 (args.c bounds the
 * parts to 1e9 each). */
static int64_t share(int64_t S, int64_t a, int64_t T)
{
    return S / T * a + S % T * a / T;
}

/* ProxySR's splits: every session in date order, cut by count in the
 * proportions o->split. A part above 0 that gets no session is misuse. */
static int plan_by_count(const wset *w, const sbr_prep_opts *o, plan *p, sbr_counts *cnt,
                         sbr_err *e)
{
    int64_t S;
    uint8_t *side = sbr_xcalloc((size_t)(w->S > 0 ? w->S : 1), 1);
    p->own[0] = ordered(w, side, 0, &S);
    free(side);
    p->by_count = 1;
    if (S == 0)
        return sbr_errf(e, "no sessions are left after the filters");
    int64_t T = o->split[0] + o->split[1] + o->split[2];
    int64_t b1 = share(S, o->split[0], T), b2 = share(S, o->split[0] + o->split[1], T);
    int64_t n[SBR_NSPLITS] = {b1, b2 - b1, S - b2};
    for (int k = 0; k < SBR_NSPLITS; k++) {
        p->idx[k] = p->own[0] + (k == 0 ? 0 : k == 1 ? b1 : b2);
        p->n[k] = n[k];
        char nm[32];
        snprintf(nm, sizeof nm, "split_%s", sbr_split_names[k]);
        sbr_counts_add(cnt, nm, n[k]);
    }
    for (int k = 0; k < SBR_NSPLITS; k++)
        if (o->split[k] > 0 && n[k] == 0) {
            sbr_errf(e, "%lld sessions in date order give %lld / %lld / %lld: the %s split would "
                     "be empty", (long long)S, (long long)n[0], (long long)n[1], (long long)n[2],
                     sbr_split_names[k]);
            return SBR_PREP_MISUSE;
        }
    return 0;
}

/* A held-out split: items without a number dropped (or numbered, assign),
 * then sessions shorter than min_keep; counted under its name. */
static void emit_held_out(const wset *w, const plan *p, int k, numbering *nb, int assign,
                          int min_keep, const emit_cols *cols, sbr_sessions *out, sbr_counts *cnt)
{
    int64_t unseen = 0, ds = 0, dc = 0;
    emit(w, p->idx[k], p->n[k], nb, assign, min_keep, cols, &out->split[k], &unseen, &ds, &dc);
    const char *nm = sbr_split_names[k];
    char key[48];
    snprintf(key, sizeof key, "unseen_%s_item.clicks", nm);
    sbr_counts_add(cnt, key, unseen);
    snprintf(key, sizeof key, "short_%s.sessions", nm);
    sbr_counts_add(cnt, key, ds);
    snprintf(key, sizeof key, "short_%s.clicks", nm);
    sbr_counts_add(cnt, key, dc);
}

/* Items numbered by first appearance over the catalogue's splits (train,
 * and valid unless by count: they are in date order), then the held-out
 * splits filtered against it. */
static void emit_plan(const wset *w, const sbr_clicklog *g, const sbr_prep_opts *o,
                      const plan *p, sbr_sessions *out, sbr_counts *cnt)
{
    int64_t n_dense = g->items.n, none = 0;
    numbering nb = {sbr_xcalloc((size_t)(n_dense > 0 ? n_dense : 1), sizeof(int32_t)),
                    sbr_xmalloc((size_t)(n_dense + 1) * sizeof(int64_t)), g->items.original,
                    NULL, 1};
    nb.orig[0] = -1;
    emit_cols cols = {g->has_time, g->has_user, g->key_date};
    int n_cat = p->by_count ? 1 : 2; /* train (and valid) make the catalogue */
    for (int k = 0; k < n_cat; k++)
        emit(w, p->idx[k], p->n[k], &nb, 1, 1, &cols, &out->split[k], &none, &none, &none);
    out->n_items = nb.next - 1;
    nb.known = p->known;
    /* held out: long enough to give a sample, and by count (ProxySR) as long
     * as the length filter asks, since it is the same rule */
    int min_keep = o->min_prefix + 1;
    if (p->by_count && o->min_len > min_keep)
        min_keep = o->min_len;
    for (int k = n_cat; k < SBR_NSPLITS; k++)
        emit_held_out(w, p, k, &nb, o->unseen_keep, min_keep, &cols, out, cnt);
    out->n_ids = nb.next - 1;
    out->original = nb.orig;
    out->min_prefix = o->min_prefix;
    free(nb.newid);
}

/* Steps 1-5: sessions from the clicks, then the filters. tm: the wall
 * clock after grouping and after the sessions (SBR_PREP_TIMING). */
static void sessions_filtered(sbr_clicklog *g, const sbr_prep_opts *o, wset *w, sbr_counts *cnt,
                              double tm[2])
{
    int64_t *koff;
    int32_t *item;
    int64_t *t;
    group(g, &koff, &item, &t);
    tm[0] = sbr_now();
    build_sessions(g, o, koff, item, t, w, cnt);
    free(koff);
    sbr_counts_add(cnt, "sessions_built", w->S);
    tm[1] = sbr_now();
    if (o->pre_min_len > 1)
        drop_short(w, o->pre_min_len, "short_pre", cnt);
    int rounds = 0;
    for (;;) {
        rounds++;
        int64_t d = o->min_support > 1 ? drop_rare(w, g->items.n, o->min_support, cnt) : 0;
        int64_t ds = drop_short(w, o->min_len > 1 ? o->min_len : 1, "short", cnt);
        if (!o->iterate || (d == 0 && ds == 0) || rounds >= 1000)
            break;
    }
    sbr_counts_add(cnt, "filter_rounds", rounds);
    if (o->max_len > 0)
        truncate_long(w, o->max_len, cnt);
}

int sbr_prep_log(sbr_clicklog *g, const sbr_prep_opts *o, sbr_sessions *out, sbr_counts *cnt,
                 sbr_err *e)
{
    memset(out, 0, sizeof *out);
    if (o->min_prefix < 1)
        return sbr_errf(e, "min_prefix must be at least 1");
    sbr_counts_add(cnt, "clicks_in", g->n);
    double T0 = sbr_now(), tm[2];
    wset w = {0};
    sessions_filtered(g, o, &w, cnt, tm);
    double T3 = sbr_now();
    plan p = {0};
    int by_count = o->split[0] + o->split[1] + o->split[2] > 0;
    int rc = by_count ? plan_by_count(&w, o, &p, cnt, e) : plan_by_date(&w, g, o, &p, cnt, e);
    double T4 = sbr_now();
    if (rc == 0)
        emit_plan(&w, g, o, &p, out, cnt);
    if (rc == 0 && getenv("SBR_PREP_TIMING"))
        fprintf(stderr, "timing: group %.2f sessions %.2f filters %.2f order %.2f emit %.2f "
                "(wall s)\n", tm[0] - T0, tm[1] - tm[0], T3 - tm[1], T4 - T3, sbr_now() - T4);
    plan_free(&p);
    wset_free(&w);
    return rc;
}
