/* Session files (kind "sbr.sessions"): reading with complete validation,
 * writing, and the prefix rule that turns sessions into samples. */
#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sbr_split_names[SBR_NSPLITS] = {"train", "valid", "test"};

/* --- reading -------------------------------------------------------------- */

/* Validates one split's tensors and points sp at them (no copies). */
static int read_split(const sbr_tfile *f, int k, int64_t n_items, int64_t n_ids, sbr_split *sp,
                      sbr_err *e)
{
    const char *nm = sbr_split_names[k];
    char name[64];
    snprintf(name, sizeof name, "%s.offsets", nm);
    const sbr_tensor *to = sbr_tfile_need(f, name, SBR_I64, 1, e);
    if (!to)
        return -1;
    if (to->numel < 1)
        return sbr_errf(e, "tensor %s is empty (needs at least [0])", name);
    snprintf(name, sizeof name, "%s.items", nm);
    const sbr_tensor *ti = sbr_tfile_need(f, name, SBR_I32, 1, e);
    if (!ti)
        return -1;
    int64_t S = to->numel - 1, nnz = ti->numel;
    const int64_t *off = to->data;
    if (off[0] != 0)
        return sbr_errf(e, "%s.offsets[0] is %lld, expected 0", nm, (long long)off[0]);
    for (int64_t s = 0; s < S; s++)
        if (off[s + 1] < off[s])
            return sbr_errf(e, "%s.offsets decreases at session %lld (%lld < %lld)", nm,
                            (long long)s, (long long)off[s + 1], (long long)off[s]);
    if (off[S] != nnz)
        return sbr_errf(e, "%s.offsets ends at %lld but %s.items holds %lld ids", nm,
                        (long long)off[S], nm, (long long)nnz);
    const int32_t *it = ti->data;
    /* training items are the catalogue: a model's tables have n_items + 1 rows */
    int64_t hi = k == SBR_TRAIN ? n_items : n_ids;
    for (int64_t j = 0; j < nnz; j++)
        if (it[j] < 1 || it[j] > hi)
            return sbr_errf(e, "%s.items[%lld] = %d is out of range 1..%lld%s", nm, (long long)j,
                            (int)it[j], (long long)hi, k == SBR_TRAIN ? " (n_items)" : "");
    sp->n_sessions = S;
    sp->offsets = (int64_t *)off;
    sp->items = (int32_t *)it;
    sp->times = NULL;
    sp->users = NULL;
    snprintf(name, sizeof name, "%s.times", nm);
    if (sbr_tfile_find(f, name)) {
        const sbr_tensor *tt = sbr_tfile_need(f, name, SBR_I64, 1, e);
        if (!tt)
            return -1;
        if (tt->numel != nnz)
            return sbr_errf(e, "tensor %s has %lld values, expected %lld (one per click)", name,
                            (long long)tt->numel, (long long)nnz);
        sp->times = tt->data;
    }
    snprintf(name, sizeof name, "%s.users", nm);
    if (sbr_tfile_find(f, name)) {
        const sbr_tensor *tu = sbr_tfile_need(f, name, SBR_I64, 1, e);
        if (!tu)
            return -1;
        if (tu->numel != S)
            return sbr_errf(e, "tensor %s has %lld values, expected %lld (one per session)", name,
                            (long long)tu->numel, (long long)S);
        sp->users = tu->data;
    }
    snprintf(name, sizeof name, "%s.last_only", nm);
    sp->last_only = 0;
    if (sbr_tfile_meta(f, name)) {
        int64_t v;
        if (sbr_tfile_meta_i64(f, name, &v, e) < 0)
            return -1;
        if (v != 0 && v != 1)
            return sbr_errf(e, "metadata %s = %lld, expected 0 or 1", name, (long long)v);
        sp->last_only = (int)v;
    }
    return 0;
}

static int read_from(const sbr_tfile *f, sbr_sessions *s, sbr_err *e)
{
    if (sbr_tfile_expect_kind(f, "sbr.sessions", e) < 0)
        return -1;
    int64_t n_items, n_ids, mp;
    if (sbr_tfile_meta_i64(f, "n_items", &n_items, e) < 0 ||
        sbr_tfile_meta_i64(f, "n_ids", &n_ids, e) < 0 ||
        sbr_tfile_meta_i64(f, "min_prefix", &mp, e) < 0)
        return -1;
    if (n_items < 0 || n_ids < n_items || n_ids > INT32_MAX)
        return sbr_errf(e, "bad item counts: n_items %lld, n_ids %lld", (long long)n_items,
                        (long long)n_ids);
    if (mp < 1 || mp > 1000000)
        return sbr_errf(e, "metadata min_prefix = %lld, expected 1 or more", (long long)mp);
    const sbr_tensor *to = sbr_tfile_need(f, "items.original", SBR_I64, 1, e);
    if (!to)
        return -1;
    if (to->numel != n_ids + 1)
        return sbr_errf(e, "items.original has %lld entries, expected n_ids + 1 = %lld",
                        (long long)to->numel, (long long)(n_ids + 1));
    const int64_t *orig = to->data;
    if (orig[0] != -1)
        return sbr_errf(e, "items.original[0] is %lld, expected -1 (padding)", (long long)orig[0]);
    s->n_items = n_items;
    s->n_ids = n_ids;
    s->min_prefix = (int)mp;
    s->original = (int64_t *)orig;
    for (int k = 0; k < SBR_NSPLITS; k++)
        if (read_split(f, k, n_items, n_ids, &s->split[k], e) < 0)
            return -1;
    return 0;
}

int sbr_sessions_read(const char *path, sbr_sessions *s, sbr_err *e)
{
    memset(s, 0, sizeof *s);
    sbr_tfile *f = sbr_xcalloc(1, sizeof *f);
    if (sbr_tfile_read(path, f, e) < 0) {
        free(f);
        return sbr_err_prefix(e, "%s", path);
    }
    if (read_from(f, s, e) < 0) {
        sbr_tfile_free(f);
        free(f);
        memset(s, 0, sizeof *s);
        return sbr_err_prefix(e, "%s", path);
    }
    s->file = f;
    return 0;
}

/* --- writing -------------------------------------------------------------- */

void sbr_sessions_add_to(const sbr_sessions *s, sbr_tw *w)
{
    static const int64_t zero = 0;
    sbr_tw_metaf(w, "n_items", "%lld", (long long)s->n_items);
    sbr_tw_metaf(w, "n_ids", "%lld", (long long)s->n_ids);
    sbr_tw_metaf(w, "min_prefix", "%d", s->min_prefix);
    for (int k = 0; k < SBR_NSPLITS; k++) {
        const sbr_split *sp = &s->split[k];
        const char *nm = sbr_split_names[k];
        char name[64];
        int64_t S = sp->n_sessions, nnz = S > 0 ? sp->offsets[S] : 0;
        snprintf(name, sizeof name, "%s.offsets", nm);
        sbr_tw_add1(w, name, SBR_I64, S + 1, S > 0 ? sp->offsets : &zero);
        snprintf(name, sizeof name, "%s.items", nm);
        sbr_tw_add1(w, name, SBR_I32, nnz, nnz > 0 ? (const void *)sp->items : &zero);
        if (sp->times) {
            snprintf(name, sizeof name, "%s.times", nm);
            sbr_tw_add1(w, name, SBR_I64, nnz, nnz > 0 ? (const void *)sp->times : &zero);
        }
        if (sp->users) {
            snprintf(name, sizeof name, "%s.users", nm);
            sbr_tw_add1(w, name, SBR_I64, S, S > 0 ? (const void *)sp->users : &zero);
        }
        snprintf(name, sizeof name, "%s.last_only", nm);
        sbr_tw_metaf(w, name, "%d", sp->last_only ? 1 : 0);
        snprintf(name, sizeof name, "%s.sessions", nm);
        sbr_tw_metaf(w, name, "%lld", (long long)S);
        snprintf(name, sizeof name, "%s.clicks", nm);
        sbr_tw_metaf(w, name, "%lld", (long long)nnz);
        snprintf(name, sizeof name, "%s.samples", nm);
        sbr_tw_metaf(w, name, "%lld", (long long)sbr_samples_count(sp, s->min_prefix));
    }
    sbr_tw_add1(w, "items.original", SBR_I64, s->n_ids + 1, s->original);
}

static void *dup_bytes(const void *p, size_t n)
{
    if (!p)
        return NULL;
    void *q = sbr_xmalloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

/* a copy of sp (its arrays duplicated) */
static sbr_split split_copy(const sbr_split *sp)
{
    int64_t n = sp->n_sessions, c = sp->offsets[n];
    sbr_split o = *sp;
    o.offsets = dup_bytes(sp->offsets, sizeof(int64_t) * (size_t)(n + 1));
    o.items = dup_bytes(sp->items, sizeof(int32_t) * (size_t)c);
    o.times = dup_bytes(sp->times, sizeof(int64_t) * (size_t)c);
    o.users = dup_bytes(sp->users, sizeof(int64_t) * (size_t)n);
    return o;
}

/* a then b, as one split; times and users only when both have them */
static sbr_split split_join(const sbr_split *a, const sbr_split *b)
{
    int64_t na = a->n_sessions, nb = b->n_sessions, ca = a->offsets[na], cb = b->offsets[nb];
    sbr_split o = {na + nb, NULL, NULL, NULL, NULL, 0};
    o.offsets = sbr_xmalloc(sizeof(int64_t) * (size_t)(na + nb + 1));
    memcpy(o.offsets, a->offsets, sizeof(int64_t) * (size_t)(na + 1));
    for (int64_t i = 1; i <= nb; i++)
        o.offsets[na + i] = ca + b->offsets[i];
    o.items = sbr_xmalloc(sizeof(int32_t) * (size_t)(ca + cb + 1));
    memcpy(o.items, a->items, sizeof(int32_t) * (size_t)ca);
    memcpy(o.items + ca, b->items, sizeof(int32_t) * (size_t)cb);
    if (a->times && b->times) {
        o.times = sbr_xmalloc(sizeof(int64_t) * (size_t)(ca + cb + 1));
        memcpy(o.times, a->times, sizeof(int64_t) * (size_t)ca);
        memcpy(o.times + ca, b->times, sizeof(int64_t) * (size_t)cb);
    }
    if (a->users && b->users) {
        o.users = sbr_xmalloc(sizeof(int64_t) * (size_t)(na + nb + 1));
        memcpy(o.users, a->users, sizeof(int64_t) * (size_t)na);
        memcpy(o.users + na, b->users, sizeof(int64_t) * (size_t)nb);
    }
    return o;
}

int sbr_sessions_refit(const sbr_sessions *s, sbr_sessions *out, sbr_err *e)
{
    const sbr_split *tr = &s->split[SBR_TRAIN], *va = &s->split[SBR_VALID];
    if (tr->last_only || va->last_only)
        return sbr_errf(e, "a refit needs whole sessions in train and valid (these hold one "
                           "pre-expanded sample each)");
    memset(out, 0, sizeof *out);
    out->split[SBR_TRAIN] = split_join(tr, va);
    out->split[SBR_VALID] = (sbr_split){0, sbr_xcalloc(1, sizeof(int64_t)), sbr_xmalloc(4), NULL,
                                        NULL, 0};
    out->split[SBR_TEST] = split_copy(&s->split[SBR_TEST]);
    out->n_items = s->n_items;
    out->n_ids = s->n_ids;
    out->original = dup_bytes(s->original, sizeof(int64_t) * (size_t)(s->n_ids + 1));
    out->min_prefix = s->min_prefix;
    return 0;
}

void sbr_sessions_free(sbr_sessions *s)
{
    if (s->file) {
        sbr_tfile_free(s->file);
        free(s->file);
    } else {
        for (int k = 0; k < SBR_NSPLITS; k++) {
            free(s->split[k].offsets);
            free(s->split[k].items);
            free(s->split[k].times);
            free(s->split[k].users);
        }
        free(s->original);
    }
    memset(s, 0, sizeof *s);
}

/* --- samples -------------------------------------------------------------- */

/* Number of samples of one session of length n under the rule. */
static int64_t session_samples(int64_t n, int min_prefix, int last_only)
{
    if (n - 1 < min_prefix)
        return 0;
    return last_only ? 1 : n - min_prefix;
}

int64_t sbr_samples_count(const sbr_split *sp, int min_prefix)
{
    int64_t total = 0;
    for (int64_t s = 0; s < sp->n_sessions; s++)
        total += session_samples(sp->offsets[s + 1] - sp->offsets[s], min_prefix, sp->last_only);
    return total;
}

void sbr_samples_build(const sbr_split *sp, int min_prefix, sbr_samples *out)
{
    int64_t n = sbr_samples_count(sp, min_prefix), k = 0;
    out->n = n;
    out->session = sbr_xmalloc((size_t)n * sizeof *out->session);
    out->prefix_len = sbr_xmalloc((size_t)n * sizeof *out->prefix_len);
    for (int64_t s = 0; s < sp->n_sessions; s++) {
        int64_t len = sp->offsets[s + 1] - sp->offsets[s];
        int64_t m = session_samples(len, min_prefix, sp->last_only);
        /* Longest prefix first: (s[:len-1], s[len-1]), (s[:len-2], s[len-2]), ... */
        for (int64_t i = 1; i <= m; i++) {
            out->session[k] = s;
            out->prefix_len[k] = (int32_t)(len - i);
            k++;
        }
    }
}

void sbr_samples_free(sbr_samples *smp)
{
    free(smp->session);
    free(smp->prefix_len);
    memset(smp, 0, sizeof *smp);
}
