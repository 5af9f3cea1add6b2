#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

const char *const sbr_len_bucket_names[SBR_LEN_BUCKETS] = {"1", "2", "3", "4", "5-6", "7-9", "10+"};

int sbr_len_bucket(int prefix_len)
{
    if (prefix_len <= 4)
        return prefix_len < 1 ? 0 : prefix_len - 1;
    return prefix_len <= 6 ? 4 : prefix_len <= 9 ? 5 : 6;
}

/* 1-based rank of the target in the row, 0 when absent. */
static int rank_of(const int32_t *row, int k, int32_t target)
{
    for (int j = 0; j < k; j++)
        if (row[j] == target)
            return j + 1;
    return 0;
}

static void add(sbr_metric_row *r, int rank, int cutoff)
{
    r->n++;
    if (rank && rank <= cutoff) {
        r->hr += 1;
        r->mrr += 1.0 / rank;
        r->ndcg += 1.0 / log2(rank + 1.0);
    }
}

static void finish(sbr_metric_row *r)
{
    if (r->n) {
        r->hr /= (double)r->n;
        r->mrr /= (double)r->n;
        r->ndcg /= (double)r->n;
    }
}

void sbr_metrics_compute(const sbr_topk *t, const int *cutoffs, int n_cutoffs, sbr_task task,
                         sbr_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n_cutoffs = n_cutoffs;
    memcpy(m->cutoffs, cutoffs, sizeof(int) * (size_t)n_cutoffs);
    /* seen[c][item]: item appeared in some top-cutoff list. */
    uint8_t *seen = sbr_xcalloc((size_t)(t->n_items + 1), 1);
    for (int64_t i = 0; i < t->n; i++) {
        if (sbr_task_drops(task, t->repeat[i])) {
            m->n_skipped++;
            continue;
        }
        m->n_samples++;
        m->n_unseen_targets += t->targets[i] > t->n_items;
        const int32_t *row = t->items + (size_t)i * (size_t)t->k;
        int rank = rank_of(row, t->k, t->targets[i]);
        int b = sbr_len_bucket(t->prefix_len[i]);
        for (int c = 0; c < n_cutoffs; c++) {
            add(&m->all[c], rank, cutoffs[c]);
            add(&m->by_len[b][c], rank, cutoffs[c]);
        }
        /* bit c of seen[item]: in a top-cutoffs[c] list */
        for (int j = 0; j < t->k && row[j]; j++)
            for (int c = 0; c < n_cutoffs && c < 8; c++)
                if (j < cutoffs[c])
                    seen[row[j]] |= (uint8_t)(1u << c);
    }
    for (int c = 0; c < n_cutoffs; c++) {
        finish(&m->all[c]);
        for (int b = 0; b < SBR_LEN_BUCKETS; b++)
            finish(&m->by_len[b][c]);
        int64_t cnt = 0;
        for (int64_t it = 1; it <= t->n_items; it++)
            cnt += (seen[it] >> c) & 1;
        m->coverage[c] = t->n_items ? (double)cnt / (double)t->n_items : 0;
    }
    free(seen);
}

/* --- uncertainty: deciles (by entropy, by spread) and calibration ------------ */

typedef struct {
    float h; /* the key: entropy or spread */
    int64_t row;
} unc_key;

static int unc_key_cmp(const void *a, const void *b)
{
    const unc_key *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The scored rows ordered by key [t->n] (entropy or spread), then row: keys
 * [*n] (malloc'd). */
static unc_key *unc_order(const sbr_topk *t, const float *key, sbr_task task, int64_t *n)
{
    unc_key *k = sbr_xmalloc(sizeof(unc_key) * (size_t)(t->n + 1));
    *n = 0;
    for (int64_t i = 0; i < t->n; i++)
        if (!sbr_task_drops(task, t->repeat[i]))
            k[(*n)++] = (unc_key){key[i], i};
    qsort(k, (size_t)*n, sizeof *k, unc_key_cmp);
    return k;
}

static void unc_decile(sbr_unc_decile *d, const sbr_topk *t, const unc_key *k, int64_t n,
                       const int *cutoffs, int n_cutoffs)
{
    d->n = n;
    d->key_min = n ? k[0].h : 0;
    d->key_max = n ? k[n - 1].h : 0;
    for (int64_t j = 0; j < n; j++) {
        int64_t i = k[j].row;
        int rank = rank_of(t->items + (size_t)i * (size_t)t->k, t->k, t->targets[i]);
        d->key_mean += k[j].h;
        d->top1_mean += t->top1[i];
        for (int c = 0; c < n_cutoffs; c++)
            add(&d->at[c], rank, cutoffs[c]);
    }
    if (n)
        d->key_mean /= (double)n, d->top1_mean /= (double)n;
    for (int c = 0; c < n_cutoffs; c++)
        finish(&d->at[c]);
}

/* The ten groups dec [SBR_UNC_GROUPS] of the n rows k in their order. */
static void unc_deciles(sbr_unc_decile *dec, const sbr_topk *t, const unc_key *k, int64_t n,
                        const int *cutoffs, int n_cutoffs)
{
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        int64_t a = n * g / SBR_UNC_GROUPS, b = n * (g + 1) / SBR_UNC_GROUPS;
        unc_decile(&dec[g], t, k + a, b - a, cutoffs, n_cutoffs);
    }
}

/* The bins of the top-1 probability and the calibration error over them. */
static void unc_calibration(sbr_unc_metrics *u, const sbr_topk *t, const unc_key *k, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        int64_t i = k[j].row;
        double p = t->top1[i];
        int g = p >= 1 ? SBR_UNC_GROUPS - 1 : (int)(p * SBR_UNC_GROUPS);
        int hit = t->items[(size_t)i * (size_t)t->k] == t->targets[i];
        u->bin[g].n++, u->bin[g].conf += p, u->bin[g].acc += hit;
        u->conf += p, u->acc += hit;
    }
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        sbr_unc_bin *b = &u->bin[g];
        if (!b->n)
            continue;
        u->ece += fabs(b->acc - b->conf) / (double)n; /* (n_bin / n) |acc - conf| */
        b->conf /= (double)b->n, b->acc /= (double)b->n;
    }
    if (n)
        u->conf /= (double)n, u->acc /= (double)n;
}

int sbr_unc_metrics_compute(const sbr_topk *t, const int *cutoffs, int n_cutoffs, sbr_task task,
                            sbr_unc_metrics *u)
{
    if (!t->entropy || !t->top1)
        return -1;
    memset(u, 0, sizeof *u);
    unc_key *k = unc_order(t, t->entropy, task, &u->n);
    unc_deciles(u->dec, t, k, u->n, cutoffs, n_cutoffs);
    unc_calibration(u, t, k, u->n);
    free(k);
    if (t->spread) { /* a sampling model's: the same rows, ordered by their spread */
        int64_t n;
        u->has_spread = 1;
        k = unc_order(t, t->spread, task, &n);
        unc_deciles(u->sdec, t, k, n, cutoffs, n_cutoffs);
        free(k);
    }
    return 0;
}
