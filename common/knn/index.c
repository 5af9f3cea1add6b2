/* The index of a training split (knn.h): sessions by recency, their item
 * sets, each item's sessions, click counts, and the rules of ar/sr/markov;
 * built, written into a model file and read back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knn/knn.h"
#include "knn/knn_internal.h"

static void *own(sbr_knn_index *ix, void *p)
{
    if (ix->n_owned == (int)(sizeof ix->owned / sizeof ix->owned[0]))
        sbr_fatal("internal error: sbr_knn_index owns too many arrays");
    ix->owned[ix->n_owned++] = p;
    return p;
}

#define OWN(ix, p, n) ((p) = own((ix), sbr_xcalloc((size_t)(n) + 1, sizeof *(p))))

typedef struct {
    int64_t time, index;
} sess_key;

/* The more recent first: the later last click, then the later in the file. */
static int by_recency(const void *a, const void *b)
{
    const sess_key *x = a, *y = b;
    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    return x->index > y->index ? -1 : x->index < y->index;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sessions in recency order, their times and click counts. */
static void sessions_by_recency(sbr_knn_index *ix, const sbr_split *sp)
{
    int64_t S = sp->n_sessions, n = sp->offsets[S];
    sess_key *key = sbr_xmalloc(sizeof *key * (size_t)(S + 1));
    for (int64_t s = 0; s < S; s++)
        key[s] = (sess_key){sp->times ? sp->times[sp->offsets[s + 1] - 1] : 0, s};
    qsort(key, (size_t)S, sizeof *key, by_recency);
    ix->has_time = sp->times != NULL;
    OWN(ix, ix->sess_off, S + 1);
    OWN(ix, ix->sess_items, n);
    OWN(ix, ix->sess_time, S);
    for (int64_t r = 0; r < S; r++) {
        int64_t s = key[r].index, len = sp->offsets[s + 1] - sp->offsets[s];
        memcpy(ix->sess_items + ix->sess_off[r], sp->items + sp->offsets[s], sizeof(int32_t) * (size_t)len);
        ix->sess_off[r + 1] = ix->sess_off[r] + len;
        ix->sess_time[r] = sp->times ? key[r].time : -r;
    }
    free(key);
}

/* Each session's distinct items (ascending) and each item's sessions. */
static void sets_and_lists(sbr_knn_index *ix)
{
    int64_t S = ix->n_sessions, N = ix->n_items, n = ix->sess_off[S];
    OWN(ix, ix->set_off, S + 1);
    OWN(ix, ix->set_items, n);
    int64_t at = 0;
    for (int64_t s = 0; s < S; s++) {
        int64_t a = ix->sess_off[s], len = ix->sess_off[s + 1] - a;
        int32_t *d = ix->set_items + at;
        memcpy(d, ix->sess_items + a, sizeof(int32_t) * (size_t)len);
        qsort(d, (size_t)len, sizeof *d, cmp_i32);
        int64_t u = 0;
        for (int64_t j = 0; j < len; j++)
            if (u == 0 || d[u - 1] != d[j])
                d[u++] = d[j];
        at += u;
        ix->set_off[s + 1] = at;
    }
    OWN(ix, ix->inv_off, N + 2);
    OWN(ix, ix->inv_sess, at);
    for (int64_t j = 0; j < at; j++)
        ix->inv_off[ix->set_items[j] + 1]++;
    for (int64_t i = 0; i <= N; i++)
        ix->inv_off[i + 1] += ix->inv_off[i];
    int64_t *fill = sbr_xmalloc(sizeof(int64_t) * (size_t)(N + 1));
    memcpy(fill, ix->inv_off, sizeof(int64_t) * (size_t)(N + 1));
    for (int64_t s = 0; s < S; s++) /* ascending s: each list ascending */
        for (int64_t j = ix->set_off[s]; j < ix->set_off[s + 1]; j++)
            ix->inv_sess[fill[ix->set_items[j]]++] = (int32_t)s;
    free(fill);
}

static void count_clicks(sbr_knn_index *ix, const int32_t *items, int64_t n)
{
    OWN(ix, ix->clicks, ix->n_items + 1);
    for (int64_t j = 0; j < n; j++)
        ix->clicks[items[j]]++;
}

int sbr_knn_build(sbr_knn *m, const sbr_model_cfg *c, const sbr_split *sp, sbr_err *e)
{
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    m->def = sbr_knn_def_for(c->model);
    sbr_knn_index *ix = &m->ix;
    ix->n_items = c->n_items;
    ix->n_sessions = sp->n_sessions;
    if (sp->n_sessions == 0 || sp->offsets[sp->n_sessions] == 0)
        return sbr_errf(e, "the training split is empty: nothing to index");
    if (sp->n_sessions >= INT32_MAX)
        return sbr_errf(e, "%lld training sessions: more than this index holds",
                        (long long)sp->n_sessions);
    sessions_by_recency(ix, sp);
    count_clicks(ix, ix->sess_items, ix->sess_off[ix->n_sessions]);
    if (m->def->family == SBR_KNN_NEIGHBOURS)
        sets_and_lists(ix);
    sbr_knn_refit(m, sp);
    return 0;
}

/* --- what follows the options: rules, popularity, idf ------------------- */

typedef struct {
    int32_t item;
    double w;
} rule;

/* Better first: the larger weight, then the smaller item. */
static int by_weight(const void *a, const void *b)
{
    const rule *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static int by_item(const void *a, const void *b)
{
    const rule *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

/* Rules of one method: the pairs (from, to, weight) of every session, summed
 * per pair. emit(session, ctx) calls add for each. */
typedef struct {
    int64_t *cnt; /* [N + 2] */
    int64_t *fill;
    rule *r;
    int pass; /* 0: count, 1: fill */
} rule_acc;

static void add(rule_acc *a, int32_t from, int32_t to, double w)
{
    if (a->pass == 0)
        a->cnt[from + 1]++;
    else
        a->r[a->fill[from]++] = (rule){to, w};
}

static void emit(const sbr_knn *m, rule_acc *a, const int32_t *c, int64_t L)
{
    const char *name = m->cfg.model;
    if (strcmp(name, "ar") == 0) {
        for (int64_t i = 1; i < L; i++)
            for (int64_t j = 0; j < i; j++) {
                add(a, c[i], c[j], 1);
                add(a, c[j], c[i], 1);
            }
    } else if (strcmp(name, "sr") == 0) {
        int steps = sbr_cfg_int(&m->cfg, "steps"), wf = sbr_cfg_int(&m->cfg, "weighting");
        for (int64_t i = 1; i < L; i++)
            for (int64_t s = 1; s <= steps && s <= i; s++)
                add(a, c[i - s], c[i], sbr_knn_step_decay(wf, (int)s));
    } else { /* markov */
        for (int64_t i = 1; i < L; i++)
            add(a, c[i - 1], c[i], 1);
    }
}

/* How many of a row's n rules pruning keeps (session-rec's prune). */
static int64_t kept(double pruning, int64_t n)
{
    if (pruning <= 0)
        return n;
    int64_t k = pruning < 1 ? n - (int64_t)((double)n * pruning) : (int64_t)pruning;
    return k < n ? k : n;
}

static void build_rules(sbr_knn *m)
{
    sbr_knn_index *ix = &m->ix;
    int64_t N = ix->n_items, S = ix->n_sessions;
    rule_acc a = {sbr_xcalloc((size_t)N + 2, sizeof(int64_t)), NULL, NULL, 0};
    for (a.pass = 0; a.pass < 2; a.pass++) {
        if (a.pass == 1) {
            for (int64_t i = 0; i <= N; i++)
                a.cnt[i + 1] += a.cnt[i];
            a.fill = sbr_xmalloc(sizeof(int64_t) * (size_t)(N + 1));
            memcpy(a.fill, a.cnt, sizeof(int64_t) * (size_t)(N + 1));
            a.r = sbr_xmalloc(sizeof(rule) * (size_t)(a.cnt[N + 1] + 1));
        }
        for (int64_t s = 0; s < S; s++) /* the oldest first: the order of the data */
            emit(m, &a, ix->sess_items + ix->sess_off[S - 1 - s],
                 ix->sess_off[S - s] - ix->sess_off[S - 1 - s]);
    }
    double pruning = sbr_cfg_get(&m->cfg, "pruning");
    ix->rule_off = sbr_xcalloc((size_t)N + 2, sizeof(int64_t));
    ix->rule_item = sbr_xcalloc((size_t)a.cnt[N + 1] + 1, sizeof(int32_t));
    ix->rule_w = sbr_xcalloc((size_t)a.cnt[N + 1] + 1, sizeof(double));
    ix->rules_owned = 1;
    for (int64_t i = 0; i <= N; i++) {
        rule *row = a.r + a.cnt[i];
        int64_t n = a.cnt[i + 1] - a.cnt[i], u = 0;
        qsort(row, (size_t)n, sizeof *row, by_item); /* deterministic, not stable */
        for (int64_t j = 0; j < n; j++) {
            if (u > 0 && row[u - 1].item == row[j].item)
                row[u - 1].w += row[j].w;
            else
                row[u++] = row[j];
        }
        qsort(row, (size_t)u, sizeof *row, by_weight);
        int64_t k = kept(pruning, u), at = ix->rule_off[i];
        for (int64_t j = 0; j < k; j++) {
            ix->rule_item[at + j] = row[j].item;
            ix->rule_w[at + j] = row[j].w;
        }
        ix->rule_off[i + 1] = at + k;
    }
    free(a.cnt);
    free(a.fill);
    free(a.r);
}

static void free_derived(sbr_knn_index *ix)
{
    if (ix->rules_owned) {
        free(ix->rule_off);
        free(ix->rule_item);
        free(ix->rule_w);
    }
    free(ix->idf);
    free(ix->base);
    free(ix->base_order);
    ix->rule_off = NULL;
    ix->rule_item = NULL;
    ix->rule_w = NULL;
    ix->rules_owned = 0;
    ix->idf = ix->base = NULL;
    ix->base_order = NULL;
}

typedef struct {
    int32_t item;
    double v;
} ranked;

static int by_value(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* The score of an item nothing reaches (pop: supp / (supp + 1) for the top_n
 * most clicked, session-rec's pop.py) and the catalogue in that order. */
static void base_scores(sbr_knn *m)
{
    sbr_knn_index *ix = &m->ix;
    int64_t N = ix->n_items;
    ix->base = sbr_xcalloc((size_t)N + 1, sizeof(double));
    ix->base_order = sbr_xmalloc(sizeof(int32_t) * (size_t)(N + 1));
    ranked *r = sbr_xmalloc(sizeof *r * (size_t)(N + 1));
    for (int64_t i = 1; i <= N; i++)
        r[i - 1] = (ranked){(int32_t)i, (double)ix->clicks[i]};
    if (m->def->family == SBR_KNN_POP) {
        qsort(r, (size_t)N, sizeof *r, by_value);
        int64_t top = sbr_cfg_int(&m->cfg, "top_n");
        for (int64_t j = 0; j < N && (top == 0 || j < top); j++)
            ix->base[r[j].item] = r[j].v / (r[j].v + 1);
    }
    for (int64_t i = 1; i <= N; i++)
        r[i - 1] = (ranked){(int32_t)i, ix->base[i]};
    qsort(r, (size_t)N, sizeof *r, by_value);
    for (int64_t j = 0; j < N; j++)
        ix->base_order[j] = r[j].item;
    free(r);
}

static void derive(sbr_knn *m)
{
    sbr_knn_index *ix = &m->ix;
    ix->idf = sbr_xcalloc((size_t)ix->n_items + 1, sizeof(double));
    for (int64_t i = 1; i <= ix->n_items; i++) /* session-rec: log(sessions / clicks) */
        ix->idf[i] = ix->clicks[i] ? log((double)ix->n_sessions / (double)ix->clicks[i]) : 0;
    ix->t_end = ix->sess_time[0];
    base_scores(m);
}

void sbr_knn_refit(sbr_knn *m, const sbr_split *sp)
{
    (void)sp;
    free_derived(&m->ix);
    if (m->def->family == SBR_KNN_RULES)
        build_rules(m);
    derive(m);
}

void sbr_knn_free(sbr_knn *m)
{
    free_derived(&m->ix);
    for (int i = 0; i < m->ix.n_owned; i++)
        free(m->ix.owned[i]);
    memset(m, 0, sizeof *m);
}

/* --- the model file --------------------------------------------------------- */

void sbr_knn_add_to(const sbr_knn *m, sbr_tw *w)
{
    const sbr_model_cfg *c = &m->cfg;
    const sbr_knn_index *ix = &m->ix;
    int64_t S = ix->n_sessions, N = ix->n_items;
    sbr_tw_meta(w, "model", c->model);
    sbr_tw_meta(w, "model_family", "knn");
    for (int i = 0; c->opts[i].name; i++) {
        char v[64];
        sbr_opt_format(&c->opts[i], c->opt[i], v, sizeof v);
        sbr_tw_meta(w, c->opts[i].name, v);
    }
    sbr_tw_metaf(w, "n_items", "%d", c->n_items);
    sbr_tw_metaf(w, "seed", "%llu", (unsigned long long)c->seed);
    sbr_tw_metaf(w, "knn.sessions", "%lld", (long long)S);
    sbr_tw_meta(w, "knn.recency", ix->has_time ? "time of each session's last click"
                                               : "session order (the file has no timestamps)");
    sbr_tw_add1(w, "knn.clicks", SBR_I64, N + 1, ix->clicks);
    sbr_tw_add1(w, "knn.sess_time", SBR_I64, S, ix->sess_time);
    if (m->def->family == SBR_KNN_NEIGHBOURS) {
        sbr_tw_add1(w, "knn.sess_off", SBR_I64, S + 1, ix->sess_off);
        sbr_tw_add1(w, "knn.sess_items", SBR_I32, ix->sess_off[S], ix->sess_items);
        sbr_tw_add1(w, "knn.set_off", SBR_I64, S + 1, ix->set_off);
        sbr_tw_add1(w, "knn.set_items", SBR_I32, ix->set_off[S], ix->set_items);
        sbr_tw_add1(w, "knn.inv_off", SBR_I64, N + 2, ix->inv_off);
        sbr_tw_add1(w, "knn.inv_sess", SBR_I32, ix->inv_off[N + 1], ix->inv_sess);
    }
    if (m->def->family == SBR_KNN_RULES) {
        sbr_tw_add1(w, "knn.rule_off", SBR_I64, N + 2, ix->rule_off);
        sbr_tw_add1(w, "knn.rule_item", SBR_I32, ix->rule_off[N + 1], ix->rule_item);
        sbr_tw_add1(w, "knn.rule_w", SBR_F64, ix->rule_off[N + 1], ix->rule_w);
    }
}

int sbr_knn_is_model_file(const sbr_tfile *f)
{
    const char *kind = sbr_tfile_kind(f), *name = sbr_tfile_meta(f, "model");
    return strcmp(kind, "sbr.model") == 0 && sbr_knn_def_for(name) != NULL;
}

/* A rank-1 tensor of n entries (n < 0: any), its data in *out. */
static int need(const sbr_tfile *f, const char *name, sbr_dtype dt, int64_t n, void *out,
                int64_t *numel, sbr_err *e)
{
    const sbr_tensor *t = sbr_tfile_need(f, name, dt, 1, e);
    if (!t)
        return -1;
    if (n >= 0 && t->numel != n)
        return sbr_errf(e, "tensor \"%s\" has %lld entries, the index needs %lld", name,
                        (long long)t->numel, (long long)n);
    *(void **)out = t->data;
    if (numel)
        *numel = t->numel;
    return 0;
}

/* CSR offsets [rows + 1] from 0, non-decreasing, ending at n. */
static int check_offsets(const char *name, const int64_t *off, int64_t rows, int64_t n, sbr_err *e)
{
    if (off[0] != 0 || off[rows] != n)
        return sbr_errf(e, "tensor \"%s\" does not span its entries", name);
    for (int64_t i = 0; i < rows; i++)
        if (off[i + 1] < off[i])
            return sbr_errf(e, "tensor \"%s\" decreases at %lld", name, (long long)i);
    return 0;
}

static int check_ids(const char *name, const int32_t *v, int64_t n, int64_t lo, int64_t hi,
                     sbr_err *e)
{
    for (int64_t j = 0; j < n; j++)
        if (v[j] < lo || v[j] > hi)
            return sbr_errf(e, "tensor \"%s\" holds %d, outside %lld..%lld", name, v[j],
                            (long long)lo, (long long)hi);
    return 0;
}

static int read_sessions(sbr_knn_index *ix, const sbr_tfile *f, sbr_err *e)
{
    int64_t S = ix->n_sessions, N = ix->n_items, n, ns, ni;
    if (need(f, "knn.sess_off", SBR_I64, S + 1, &ix->sess_off, NULL, e) ||
        need(f, "knn.sess_items", SBR_I32, -1, &ix->sess_items, &n, e) ||
        need(f, "knn.set_off", SBR_I64, S + 1, &ix->set_off, NULL, e) ||
        need(f, "knn.set_items", SBR_I32, -1, &ix->set_items, &ns, e) ||
        need(f, "knn.inv_off", SBR_I64, N + 2, &ix->inv_off, NULL, e) ||
        need(f, "knn.inv_sess", SBR_I32, -1, &ix->inv_sess, &ni, e) ||
        check_offsets("knn.sess_off", ix->sess_off, S, n, e) ||
        check_offsets("knn.set_off", ix->set_off, S, ns, e) ||
        check_offsets("knn.inv_off", ix->inv_off, N + 1, ni, e) ||
        check_ids("knn.sess_items", ix->sess_items, n, 1, N, e) ||
        check_ids("knn.set_items", ix->set_items, ns, 1, N, e) ||
        check_ids("knn.inv_sess", ix->inv_sess, ni, 0, S - 1, e))
        return -1;
    for (int64_t s = 0; s < S; s++) /* the scans rely on both orders */
        for (int64_t j = ix->set_off[s] + 1; j < ix->set_off[s + 1]; j++)
            if (ix->set_items[j] <= ix->set_items[j - 1])
                return sbr_errf(e, "tensor \"knn.set_items\": session %lld is not ascending",
                                (long long)s);
    for (int64_t i = 0; i <= N; i++)
        for (int64_t j = ix->inv_off[i] + 1; j < ix->inv_off[i + 1]; j++)
            if (ix->inv_sess[j] <= ix->inv_sess[j - 1])
                return sbr_errf(e, "tensor \"knn.inv_sess\": item %lld is not ascending",
                                (long long)i);
    return 0;
}

static int read_rules(sbr_knn_index *ix, const sbr_tfile *f, sbr_err *e)
{
    int64_t N = ix->n_items, n, nw;
    if (need(f, "knn.rule_off", SBR_I64, N + 2, &ix->rule_off, NULL, e) ||
        need(f, "knn.rule_item", SBR_I32, -1, &ix->rule_item, &n, e) ||
        need(f, "knn.rule_w", SBR_F64, -1, &ix->rule_w, &nw, e) ||
        check_offsets("knn.rule_off", ix->rule_off, N + 1, n, e) ||
        check_ids("knn.rule_item", ix->rule_item, n, 1, N, e))
        return -1;
    if (nw != n)
        return sbr_errf(e, "tensors \"knn.rule_item\" and \"knn.rule_w\" differ in length");
    for (int64_t j = 0; j < n; j++)
        if (!isfinite(ix->rule_w[j]) || ix->rule_w[j] < 0)
            return sbr_errf(e, "tensor \"knn.rule_w\" holds a negative or non-finite weight");
    return 0;
}

static int read_options(sbr_knn *m, const sbr_tfile *f, sbr_err *e)
{
    sbr_model_cfg *c = &m->cfg;
    for (int i = 0; c->opts[i].name; i++) {
        const char *v = sbr_tfile_meta(f, c->opts[i].name);
        if (!v)
            return sbr_errf(e, "missing metadata \"%s\"", c->opts[i].name);
        if (sbr_cfg_parse_value(c, i, v, e))
            return sbr_err_prefix(e, "metadata \"%s\"", c->opts[i].name);
    }
    int64_t v, S;
    if (sbr_tfile_meta_i64(f, "n_items", &v, e) || sbr_tfile_meta_i64(f, "knn.sessions", &S, e))
        return -1;
    if (v < 1 || v >= INT32_MAX || S < 1 || S >= INT32_MAX)
        return sbr_errf(e, "metadata \"n_items\" or \"knn.sessions\" out of range");
    c->n_items = (int)v;
    m->ix.n_items = v;
    m->ix.n_sessions = S;
    if (sbr_tfile_meta_i64(f, "seed", &v, e))
        return -1;
    c->seed = (uint64_t)v;
    return 0;
}

int sbr_knn_read(sbr_knn *m, const sbr_tfile *f, sbr_err *e)
{
    memset(m, 0, sizeof *m);
    if (sbr_tfile_expect_kind(f, "sbr.model", e))
        return -1;
    const char *name = sbr_tfile_meta(f, "model");
    if (sbr_knn_defaults(name, &m->cfg))
        return sbr_errf(e, "\"%s\" is no kNN or rule method", name ? name : "(none)");
    m->def = sbr_knn_def_for(name);
    sbr_knn_index *ix = &m->ix;
    const char *rec = sbr_tfile_meta(f, "knn.recency");
    ix->has_time = rec && strncmp(rec, "time", 4) == 0;
    if (read_options(m, f, e) ||
        need(f, "knn.clicks", SBR_I64, ix->n_items + 1, &ix->clicks, NULL, e) ||
        need(f, "knn.sess_time", SBR_I64, ix->n_sessions, &ix->sess_time, NULL, e) ||
        (m->def->family == SBR_KNN_NEIGHBOURS && read_sessions(ix, f, e)) ||
        (m->def->family == SBR_KNN_RULES && read_rules(ix, f, e)))
        return -1;
    for (int64_t i = 0; i <= ix->n_items; i++)
        if (ix->clicks[i] < 0)
            return sbr_errf(e, "tensor \"knn.clicks\" holds a negative count");
    derive(m);
    return 0;
}
