/* Ranking the full catalogue for one prefix with a kNN or rule method
 * (knn.h): the neighbour sessions, their items' scores, and the top K. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knn/knn.h"
#include "knn/knn_internal.h"
#include "rng.h"
#include "task.h"

enum { M_SKNN, M_VSKNN, M_STAN, M_VSTAN, M_AR, M_SR, M_MARKOV, M_POP, M_SPOP };
enum { SIM_JACCARD, SIM_COSINE, SIM_TANIMOTO, SIM_BINARY };

/* The options as the scan reads them. */
typedef struct {
    int method, k, sample, random, sim, wpos, wscore, remind;
    double idf_w, spw, snh, inh, ipw, idf_l; /* 0: off; snh in seconds */
} params;

typedef struct {
    int32_t sess;
    int maxpos;  /* the latest prefix position (1-based) whose item the session has */
    double sim;
} cand;

typedef struct {
    int32_t item;
    double score;
} scored;

struct sbr_knn_work {
    params p;
    int64_t N;
    /* the prefix: its known items, each one's weight and latest position */
    uint32_t *pmark, pm;
    uint64_t *pbits; /* the same set as a bitset: the scans' test stays in L1 */
    int n_pitems;
    double *pw;
    int32_t *ppos, *pitems;
    /* item scores: touched items hold base + score[] */
    uint32_t *smark, sm;
    double *score;
    int32_t *touched;
    int64_t n_touched;
    uint32_t *nmark, nm; /* items seen in the current neighbour (STAN) */
    uint32_t *cmark, cm; /* sessions in the union (random sampling) */
    cand *cand;
    int32_t *pool;
    int64_t *heap, *head, *end; /* merge of the prefix items' session lists */
    scored *top;
    double psq; /* the sum of the prefix items' squared weights */
    /* the items a next-unseen ranking leaves out (task.h), marked */
    uint32_t *xmark, xm;
    int32_t *xids; /* [xcap] */
    int xcap;
};

static int method_of(const char *name)
{
    static const char *const names[] = {"sknn", "vsknn", "stan", "vstan", "ar",
                                        "sr",   "markov", "pop", "spop", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    sbr_fatal("internal error: no kNN method \"%s\"", name);
}

static void read_params(const sbr_model_cfg *c, params *p)
{
    memset(p, 0, sizeof *p);
    p->method = method_of(c->model);
    p->k = (int)sbr_cfg_get_or(c, "k", 0);
    p->sample = (int)sbr_cfg_get_or(c, "sample_size", 0);
    p->random = (int)sbr_cfg_get_or(c, "sampling", 0) == 1;
    p->sim = (int)sbr_cfg_get_or(c, "similarity", 0);
    p->wpos = (int)sbr_cfg_get_or(c, "weighting", 0);
    p->wscore = (int)sbr_cfg_get_or(c, "weighting_score", 0);
    p->remind = (int)sbr_cfg_get_or(c, "remind", 1);
    p->idf_w = sbr_cfg_get_or(c, "idf_weighting", 0);
    p->spw = sbr_cfg_get_or(c, "lambda_spw", 0);
    p->snh = sbr_cfg_get_or(c, "lambda_snh", 0) * 24 * 3600;
    p->inh = sbr_cfg_get_or(c, "lambda_inh", 0);
    p->ipw = sbr_cfg_get_or(c, "lambda_ipw", 0);
    p->idf_l = sbr_cfg_get_or(c, "lambda_idf", 0);
}

sbr_knn_work *sbr_knn_work_new(const sbr_knn *m)
{
    sbr_knn_work *w = sbr_xcalloc(1, sizeof *w);
    read_params(&m->cfg, &w->p);
    int64_t N = w->N = m->ix.n_items, S = m->ix.n_sessions;
    size_t n1 = (size_t)N + 2;
    w->pmark = sbr_xcalloc(n1, sizeof *w->pmark);
    w->pw = sbr_xcalloc(n1, sizeof *w->pw);
    w->pbits = sbr_xcalloc(n1 / 64 + 1, sizeof *w->pbits);
    w->ppos = sbr_xcalloc(n1, sizeof *w->ppos);
    w->pitems = sbr_xcalloc(n1, sizeof *w->pitems);
    w->smark = sbr_xcalloc(n1, sizeof *w->smark);
    w->score = sbr_xcalloc(n1, sizeof *w->score);
    w->touched = sbr_xcalloc(n1, sizeof *w->touched);
    w->nmark = sbr_xcalloc(n1, sizeof *w->nmark);
    w->cmark = sbr_xcalloc((size_t)S + 1, sizeof *w->cmark);
    w->cand = sbr_xcalloc((size_t)S + 1, sizeof *w->cand);
    w->pool = sbr_xcalloc((size_t)S + 1, sizeof *w->pool);
    w->heap = sbr_xcalloc(n1, sizeof *w->heap);
    w->head = sbr_xcalloc(n1, sizeof *w->head);
    w->end = sbr_xcalloc(n1, sizeof *w->end);
    w->top = sbr_xcalloc(n1, sizeof *w->top);
    w->xmark = sbr_xcalloc(n1, sizeof *w->xmark);
    return w;
}

void sbr_knn_work_free(sbr_knn_work *w)
{
    if (!w)
        return;
    void *all[] = {w->pmark, w->pbits, w->pw,    w->ppos,  w->pitems, w->smark, w->score, w->touched,
                   w->nmark, w->cmark, w->cand,  w->pool,   w->heap,  w->head,  w->end, w->top,
                   w->xmark, w->xids};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(w);
}

/* A stamp that moved on; on wrap-around the marks are cleared. */
static uint32_t next_mark(uint32_t *mark, uint32_t *cur, size_t n)
{
    if (++*cur == 0) {
        memset(mark, 0, n * sizeof *mark);
        *cur = 1;
    }
    return *cur;
}

/* The prefix's known items (ids > N dropped: no session has them), each
 * with its weight and latest position (1-based over the known clicks). */
static int load_prefix(sbr_knn_work *w, const sbr_knn_query *q, int *n_known)
{
    const params *p = &w->p;
    next_mark(w->pmark, &w->pm, (size_t)w->N + 2);
    for (int j = 0; j < w->n_pitems; j++)
        w->pbits[w->pitems[j] >> 6] = 0;
    int n = 0, d = 0;
    for (int j = 0; j < q->len; j++)
        n += q->items[j] >= 1 && q->items[j] <= w->N;
    for (int j = 0, pos = 0; j < q->len; j++) {
        int32_t it = q->items[j];
        if (it < 1 || it > w->N)
            continue;
        pos++;
        if (w->pmark[it] != w->pm) {
            w->pmark[it] = w->pm;
            w->pbits[it >> 6] |= 1ull << (it & 63);
            w->pitems[d++] = it;
        }
        w->ppos[it] = pos; /* the latest occurrence wins, as session-rec's maps */
        if (p->method == M_VSKNN)
            w->pw[it] = sbr_knn_pos_decay(p->wpos, pos, n);
        else if ((p->method == M_STAN || p->method == M_VSTAN) && p->spw > 0)
            w->pw[it] = exp((pos - n) / p->spw);
        else
            w->pw[it] = 1;
    }
    w->n_pitems = d;
    w->psq = 0;
    for (int j = 0; j < d; j++)
        w->psq += w->pw[w->pitems[j]] * w->pw[w->pitems[j]];
    *n_known = n;
    return d;
}

/* --- candidates ------------------------------------------------------------ */

static void heap_down(int64_t *h, int n, const int64_t *head, const int32_t *inv, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, s = i;
        if (l < n && inv[head[h[l]]] < inv[head[h[s]]])
            s = l;
        if (r < n && inv[head[h[r]]] < inv[head[h[s]]])
            s = r;
        if (s == i)
            return;
        int64_t t = h[i];
        h[i] = h[s];
        h[s] = t;
        i = s;
    }
}

/* The `limit` most recent sessions (smallest numbers) sharing an item with
 * the prefix, ascending: a merge of the prefix items' lists (a scan of the
 * heads for a few lists, a heap for many). */
static int64_t merge_recent(const sbr_knn_index *ix, sbr_knn_work *w, int d, int64_t limit)
{
    int n = 0;
    for (int j = 0; j < d; j++) {
        int32_t it = w->pitems[j];
        if (ix->inv_off[it] < ix->inv_off[it + 1]) {
            w->head[n] = ix->inv_off[it];
            w->end[n] = ix->inv_off[it + 1];
            w->heap[n] = n;
            n++;
        }
    }
    const int32_t *inv = ix->inv_sess;
    int64_t got = 0;
    if (n <= 8) {
        while (n > 0 && (limit == 0 || got < limit)) {
            int best = 0;
            for (int j = 1; j < n; j++)
                if (inv[w->head[j]] < inv[w->head[best]])
                    best = j;
            int32_t s = inv[w->head[best]];
            w->pool[got++] = s;
            for (int j = 0; j < n; j++) /* every list holding s moves past it */
                if (inv[w->head[j]] == s && ++w->head[j] == w->end[j]) {
                    w->head[j] = w->head[n - 1];
                    w->end[j] = w->end[n - 1];
                    n--;
                    j--;
                }
        }
        return got;
    }
    for (int i = n / 2 - 1; i >= 0; i--)
        heap_down(w->heap, n, w->head, inv, i);
    while (n > 0 && (limit == 0 || got < limit)) {
        int32_t s = inv[w->head[w->heap[0]]];
        if (got == 0 || w->pool[got - 1] != s)
            w->pool[got++] = s;
        if (++w->head[w->heap[0]] == w->end[w->heap[0]])
            w->heap[0] = w->heap[--n];
        heap_down(w->heap, n, w->head, inv, 0);
    }
    return got;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* `sample` sessions drawn from the whole union, seeded by (seed, prefix id). */
static int64_t sample_random(const sbr_knn *m, sbr_knn_work *w, int d, uint64_t id)
{
    int64_t n = merge_recent(&m->ix, w, d, 0);
    if (n <= w->p.sample)
        return n;
    sbr_rng r;
    sbr_rng_init(&r, sbr_rng_hash(m->cfg.seed, id));
    for (int64_t i = 0; i < w->p.sample; i++) { /* partial Fisher-Yates */
        int64_t j = i + (int64_t)sbr_rng_below(&r, (uint64_t)(n - i));
        int32_t t = w->pool[i];
        w->pool[i] = w->pool[j];
        w->pool[j] = t;
    }
    qsort(w->pool, (size_t)w->p.sample, sizeof *w->pool, cmp_i32);
    return w->p.sample;
}

/* --- similarity and neighbours ------------------------------------------- */

static double similarity(const sbr_knn *m, const sbr_knn_work *w, int32_t s, int la, int n,
                         int64_t t_now, int *maxpos)
{
    const sbr_knn_index *ix = &m->ix;
    const params *p = &w->p;
    int inter = 0, lb = (int)(ix->set_off[s + 1] - ix->set_off[s]);
    double wsum = 0;
    *maxpos = 0;
    for (int64_t j = ix->set_off[s]; j < ix->set_off[s + 1]; j++) {
        int32_t it = ix->set_items[j];
        if (w->pbits[it >> 6] >> (it & 63) & 1) {
            inter++;
            wsum += w->pw[it];
            *maxpos = w->ppos[it] > *maxpos ? w->ppos[it] : *maxpos;
        }
    }
    (void)n;
    switch (p->method) {
    case M_SKNN:
        if (p->sim == SIM_COSINE)
            return inter / sqrt((double)la * lb);
        if (p->sim == SIM_BINARY)
            return 2.0 * inter / (2.0 * inter + la + lb);
        return (double)inter / (la + lb - inter); /* jaccard = tanimoto on sets */
    case M_VSKNN:
        return wsum / la;
    default: { /* STAN's cosine with the prefix's position weights, and age */
        double sim = wsum / (sqrt(w->psq) * sqrt((double)lb));
        if (p->snh > 0 && ix->has_time)
            sim *= exp(-(double)(t_now - ix->sess_time[s]) / p->snh);
        return sim;
    }
    }
}

/* The higher similarity first, then the more recent session. */
static inline int before(const cand *x, const cand *y)
{
    return x->sim > y->sim || (x->sim == y->sim && x->sess < y->sess);
}

static void swap_cand(cand *a, cand *b)
{
    cand t = *a;
    *a = *b;
    *b = t;
}

/* Reorders c so that its first k are the k best (quickselect). */
static void select_best(cand *c, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (before(&c[mid], &c[lo]))
            swap_cand(&c[mid], &c[lo]);
        if (before(&c[hi], &c[lo]))
            swap_cand(&c[hi], &c[lo]);
        if (before(&c[hi], &c[mid]))
            swap_cand(&c[hi], &c[mid]);
        cand pivot = c[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (before(&c[i], &pivot))
                i++;
            while (before(&pivot, &c[j]))
                j--;
            if (i <= j)
                swap_cand(&c[i++], &c[j--]);
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            return;
    }
}

/* Sorts c best first (insertion sort: k is some hundreds at most). */
static void sort_best(cand *c, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        cand x = c[i];
        int64_t j = i;
        while (j > 0 && before(&x, &c[j - 1])) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = x;
    }
}

static int neighbours(const sbr_knn *m, sbr_knn_work *w, const sbr_knn_query *q, int d, int n)
{
    if (d == 0)
        return 0;
    const params *p = &w->p;
    int64_t nc = p->random && p->sample > 0 ? sample_random(m, w, d, q->id)
                                            : merge_recent(&m->ix, w, d, p->sample);
    int64_t t_now = q->time >= 0 ? q->time : m->ix.t_end, kept = 0;
    for (int64_t i = 0; i < nc; i++) {
        int maxpos;
        double sim = similarity(m, w, w->pool[i], d, n, t_now, &maxpos);
        if (sim > 0)
            w->cand[kept++] = (cand){w->pool[i], maxpos, sim};
    }
    int64_t k = kept < p->k ? kept : p->k;
    if (kept > k)
        select_best(w->cand, kept, k);
    sort_best(w->cand, k);
    return (int)k;
}

/* --- item scores -------------------------------------------------------------- */

static void add_score(sbr_knn_work *w, int32_t it, double v)
{
    if (w->smark[it] != w->sm) {
        w->smark[it] = w->sm;
        w->score[it] = 0;
        w->touched[w->n_touched++] = it;
    }
    w->score[it] += v;
}

/* An item of a neighbour's set (SKNN, V-SKNN). */
static void score_set(const sbr_knn *m, sbr_knn_work *w, const cand *c, int n)
{
    const sbr_knn_index *ix = &m->ix;
    const params *p = &w->p;
    double decay = p->method == M_VSKNN ? sbr_knn_step_decay(p->wscore, n - c->maxpos + 1) : 1;
    for (int64_t j = ix->set_off[c->sess]; j < ix->set_off[c->sess + 1]; j++) {
        int32_t it = ix->set_items[j];
        if (p->method == M_SKNN) {
            add_score(w, it, c->sim);
            continue;
        }
        if (!p->remind && w->pmark[it] == w->pm)
            continue;
        double v = c->sim;
        if (p->idf_w > 0)
            v = v + v * ix->idf[it] * p->idf_w;
        add_score(w, it, v * decay);
    }
}

/* STAN / V-STAN: each item by its distance from the neighbour's latest click
 * shared with the prefix (positions over the neighbour's clicks, the latest
 * occurrence of each item). */
static void score_stan(const sbr_knn *m, sbr_knn_work *w, const cand *c, int n)
{
    const sbr_knn_index *ix = &m->ix;
    const params *p = &w->p;
    const int32_t *cl = ix->sess_items + ix->sess_off[c->sess];
    int len = (int)(ix->sess_off[c->sess + 1] - ix->sess_off[c->sess]), star = 0;
    for (int j = 0; j < len; j++)
        if (w->pmark[cl[j]] == w->pm)
            star = j + 1;
    double ipw = p->method == M_VSTAN && p->ipw > 0 ? exp((c->maxpos - n) / p->ipw) : 1;
    next_mark(w->nmark, &w->nm, (size_t)w->N + 2);
    for (int j = len - 1; j >= 0; j--) {
        int32_t it = cl[j];
        if (w->nmark[it] == w->nm)
            continue;
        w->nmark[it] = w->nm;
        if (!p->remind && w->pmark[it] == w->pm)
            continue;
        double v = c->sim;
        if (p->inh > 0)
            v = v * exp(-fabs((double)(j + 1 - star)) / p->inh);
        if (p->method == M_VSTAN && p->idf_l > 0)
            v = v + v * ix->idf[it] * p->idf_l;
        if (p->method == M_VSTAN && p->ipw > 0)
            v = v * ipw;
        add_score(w, it, v);
    }
}

static void score_rules(const sbr_knn *m, sbr_knn_work *w, const sbr_knn_query *q)
{
    const sbr_knn_index *ix = &m->ix;
    if (q->len == 0)
        return;
    int32_t last = q->items[q->len - 1];
    if (last < 1 || last > w->N)
        return; /* a click unseen in training has no rules */
    for (int64_t j = ix->rule_off[last]; j < ix->rule_off[last + 1]; j++)
        add_score(w, ix->rule_item[j], ix->rule_w[j]);
}

/* --- the top K ----------------------------------------------------------- */

static int better(double a, int32_t ia, double b, int32_t ib)
{
    return a > b || (a == b && ia < ib);
}

/* Marks the prefix's items (task.h) as left out of the ranking. */
static void mark_exclusions(sbr_knn_work *w, const sbr_knn_query *q)
{
    if (q->len > w->xcap) {
        w->xcap = q->len;
        w->xids = sbr_xrealloc(w->xids, sizeof(int32_t) * (size_t)w->xcap);
    }
    next_mark(w->xmark, &w->xm, (size_t)w->N + 2);
    int n = sbr_task_prefix_items(q->items, q->len, w->N, w->xids);
    for (int j = 0; j < n; j++)
        w->xmark[w->xids[j]] = w->xm;
}

/* The K best touched items, best first, into w->top; returns how many. */
static int best_touched(const sbr_knn *m, sbr_knn_work *w, int K, int exclude_seen)
{
    int n = 0;
    for (int64_t t = 0; t < w->n_touched; t++) {
        int32_t it = w->touched[t];
        if (exclude_seen && w->xmark[it] == w->xm)
            continue;
        double v = m->ix.base[it] + w->score[it];
        if (n == K && !better(v, it, w->top[K - 1].score, w->top[K - 1].item))
            continue;
        int j = n < K ? n++ : K - 1;
        while (j > 0 && better(v, it, w->top[j - 1].score, w->top[j - 1].item)) {
            w->top[j] = w->top[j - 1];
            j--;
        }
        w->top[j] = (scored){it, v};
    }
    return n;
}

void sbr_knn_rank(const sbr_knn *m, sbr_knn_work *w, const sbr_knn_query *q, int K,
                  int exclude_seen, int32_t *items, float *scores)
{
    const params *p = &w->p;
    int n, d = load_prefix(w, q, &n);
    next_mark(w->smark, &w->sm, (size_t)w->N + 2);
    w->n_touched = 0;
    if (p->method <= M_VSTAN) {
        int nk = neighbours(m, w, q, d, n);
        for (int i = 0; i < nk; i++)
            (p->method >= M_STAN ? score_stan : score_set)(m, w, &w->cand[i], n);
    } else if (p->method <= M_MARKOV)
        score_rules(m, w, q);
    else if (p->method == M_SPOP) /* session-rec's spop: + clicks in the prefix */
        for (int j = 0; j < q->len; j++)
            if (q->items[j] >= 1 && q->items[j] <= w->N)
                add_score(w, q->items[j], 1);
    if (exclude_seen)
        mark_exclusions(w, q);
    int nt = best_touched(m, w, K, exclude_seen), out = 0, a = 0;
    const int32_t *order = m->ix.base_order;
    int64_t b = 0, N = w->N;
    while (out < K) { /* merge: touched items, then the rest in base order */
        while (b < N && (w->smark[order[b]] == w->sm ||
                         (exclude_seen && w->xmark[order[b]] == w->xm)))
            b++;
        int take_a = a < nt && (b >= N || better(w->top[a].score, w->top[a].item,
                                                 m->ix.base[order[b]], order[b]));
        if (!take_a && b >= N)
            break;
        items[out] = take_a ? w->top[a].item : order[b];
        scores[out++] = (float)(take_a ? w->top[a++].score : m->ix.base[order[b++]]);
    }
    for (; out < K; out++) {
        items[out] = 0;
        scores[out] = 0;
    }
}
