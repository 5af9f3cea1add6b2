/* SR-GNN benchmark pickles -> sessions (see prep.h and docs/PREP.md).
 *
 * all_train_seq.txt holds the training sessions in time order; its tail
 * becomes the validation split. test.txt holds (prefixes, targets): each pair
 * is stored as one test session prefix + [target] with last_only = 1, so that
 * expanding the test split gives exactly the pickle's pairs, in order. */
#include "prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "pickle.h"

/* The pickle's (prefixes, targets) pair. */
static int read_test(const uint8_t *buf, size_t n, const char *name, sbr_pk_seqs *pre,
                     int64_t **tgt, sbr_err *e)
{
    sbr_pickle p;
    if (sbr_pickle_parse(buf, n, &p, e) < 0)
        return sbr_err_prefix(e, "%s", name);
    const sbr_pk_obj *root = sbr_pickle_obj(&p, p.root);
    int rc = -1;
    if (!root || root->n != 2) {
        if (!root)
            sbr_errf(e, "%s: expected a pair (prefixes, targets), found an int", name);
        else
            sbr_errf(e, "%s: expected a pair (prefixes, targets), found a %s of %lld values",
                     name, sbr_pk_kind_name(root->kind), (long long)root->n);
        goto done;
    }
    int64_t nt;
    if (sbr_pickle_seqs(&p, root->items[0], 1, INT64_MAX, "test prefixes", pre, e) < 0 ||
        sbr_pickle_ints(&p, root->items[1], 1, INT64_MAX, "test targets", tgt, &nt, e) < 0) {
        sbr_pk_seqs_free(pre);
        sbr_err_prefix(e, "%s", name);
        goto done;
    }
    if (nt != pre->n) {
        sbr_errf(e, "%s: %lld prefixes but %lld targets", name, (long long)pre->n, (long long)nt);
        sbr_pk_seqs_free(pre);
        free(*tgt);
        goto done;
    }
    rc = 0;
done:
    sbr_pickle_free(&p);
    return rc;
}

/* Pairs as sessions prefix + [target], CSR. */
static void pairs_to_seqs(const sbr_pk_seqs *pre, const int64_t *tgt, sbr_pk_seqs *out)
{
    int64_t n = pre->n, nnz = pre->offsets[n] + n, k = 0;
    out->n = n;
    out->offsets = sbr_xmalloc((size_t)(n + 1) * sizeof *out->offsets);
    out->items = sbr_xmalloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *out->items);
    out->offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = pre->offsets[i]; j < pre->offsets[i + 1]; j++)
            out->items[k++] = pre->items[j];
        out->items[k++] = tgt[i];
        out->offsets[i + 1] = k;
    }
}

/* Copies training sessions [a, b) into a split, items mapped by m. */
static void copy_train(const sbr_pk_seqs *tr, int64_t a, int64_t b, sbr_idmap *m, sbr_split *sp)
{
    memset(sp, 0, sizeof *sp);
    int64_t nnz = tr->offsets[b] - tr->offsets[a];
    sp->n_sessions = b - a;
    sp->offsets = sbr_xmalloc((size_t)(b - a + 1) * sizeof *sp->offsets);
    sp->items = sbr_xmalloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *sp->items);
    for (int64_t s = a; s <= b; s++)
        sp->offsets[s - a] = tr->offsets[s] - tr->offsets[a];
    for (int64_t j = 0; j < nnz; j++)
        sp->items[j] = sbr_idmap_find(m, tr->items[tr->offsets[a] + j]) + 1;
}

int sbr_prep_srgnn(const uint8_t *train_seq, size_t n_train, const char *train_name,
                   int train_pairs, const uint8_t *test, size_t n_test, const char *test_name,
                   const sbr_prep_opts *o, sbr_sessions *out, sbr_counts *cnt,
                   int *min_prefix_inferred, sbr_err *e)
{
    memset(out, 0, sizeof *out);
    sbr_pk_seqs tr;
    if (train_pairs < 0) { /* a tuple root is train.txt's (prefixes, targets) */
        sbr_pickle p;
        if (sbr_pickle_parse(train_seq, n_train, &p, e) < 0)
            return sbr_err_prefix(e, "%s", train_name);
        train_pairs = p.root.kind == SBR_PK_TUPLE;
        sbr_pickle_free(&p);
    }
    if (train_pairs) {
        sbr_pk_seqs tp;
        int64_t *tt;
        if (read_test(train_seq, n_train, train_name, &tp, &tt, e) < 0)
            return -1;
        pairs_to_seqs(&tp, tt, &tr);
        sbr_pk_seqs_free(&tp);
        free(tt);
    } else {
        sbr_pickle p;
        if (sbr_pickle_parse(train_seq, n_train, &p, e) < 0)
            return sbr_err_prefix(e, "%s", train_name);
        int rc = sbr_pickle_seqs(&p, p.root, 1, INT64_MAX, "training sessions", &tr, e);
        sbr_pickle_free(&p);
        if (rc < 0)
            return sbr_err_prefix(e, "%s", train_name);
    }
    if (tr.n == 0 || tr.offsets[tr.n] == 0) { /* no item: no catalogue to train on */
        sbr_errf(e, "%s: no training sessions%s", train_name,
                 tr.n ? " with items (all are empty lists)" : "");
        sbr_pk_seqs_free(&tr);
        return -1;
    }
    sbr_pk_seqs pre = {0};
    int64_t *tgt = NULL;
    if (test && read_test(test, n_test, test_name, &pre, &tgt, e) < 0) {
        sbr_pk_seqs_free(&tr);
        return -1;
    }

    /* The prefix rule: given, or the shortest non-empty test prefix. */
    int mp = o->min_prefix;
    *min_prefix_inferred = mp <= 0;
    if (mp <= 0) {
        int64_t shortest = INT64_MAX;
        for (int64_t i = 0; i < pre.n; i++) {
            int64_t len = pre.offsets[i + 1] - pre.offsets[i];
            if (len > 0 && len < shortest)
                shortest = len;
        }
        mp = shortest == INT64_MAX ? 1 : (int)(shortest > 1000000 ? 1000000 : shortest);
    }
    out->min_prefix = mp;

    /* Catalogue: first appearance over all training sessions (train + valid). */
    sbr_idmap m;
    sbr_idmap_init(&m);
    for (int64_t j = 0; j < tr.offsets[tr.n]; j++)
        sbr_idmap_get(&m, tr.items[j]);
    out->n_items = m.n;
    sbr_counts_add(cnt, "train_pickle.sessions", tr.n);
    sbr_counts_add(cnt, "train_pickle.clicks", tr.offsets[tr.n]);

    int64_t n_va = (int64_t)floor(o->valid_frac * (double)tr.n);
    if (n_va >= tr.n)
        n_va = tr.n - 1;
    copy_train(&tr, 0, tr.n - n_va, &m, &out->split[SBR_TRAIN]);
    copy_train(&tr, tr.n - n_va, tr.n, &m, &out->split[SBR_VALID]);
    out->split[SBR_TRAIN].last_only = out->split[SBR_VALID].last_only = train_pairs;

    /* Test: one session prefix + [target] per pair. */
    sbr_split *te = &out->split[SBR_TEST];
    te->last_only = 1;
    int64_t tn = pre.n, tnnz = tn > 0 ? pre.offsets[tn] + tn : 0;
    te->offsets = sbr_xmalloc((size_t)(tn + 1) * sizeof *te->offsets);
    te->items = sbr_xmalloc((size_t)(tnnz > 0 ? tnnz : 1) * sizeof *te->items);
    te->offsets[0] = 0;
    int64_t S = 0, wr = 0, unseen_clicks = 0, unseen_target = 0, short_pairs = 0;
    for (int64_t i = 0; i < tn; i++) {
        int64_t start = wr;
        int drop = 0;
        if (o->unseen_keep && pre.offsets[i + 1] - pre.offsets[i] < mp) {
            short_pairs++; /* before its items take ids: nothing of it is kept */
            continue;
        }
        for (int64_t j = pre.offsets[i]; j <= pre.offsets[i + 1]; j++) {
            int is_target = j == pre.offsets[i + 1];
            int64_t id = is_target ? tgt[i] : pre.items[j];
            int32_t v = o->unseen_keep ? sbr_idmap_get(&m, id) : sbr_idmap_find(&m, id);
            if (v < 0) {
                if (is_target) {
                    unseen_target++;
                    drop = 1;
                } else
                    unseen_clicks++;
                continue;
            }
            te->items[wr++] = v + 1;
        }
        if (!drop && wr - start - 1 < mp) {
            short_pairs++;
            drop = 1;
        }
        if (drop) {
            wr = start;
            continue;
        }
        te->offsets[++S] = wr;
    }
    te->n_sessions = S;
    sbr_counts_add(cnt, "test_pickle.pairs", tn);
    if (!o->unseen_keep) {
        sbr_counts_add(cnt, "unseen_test_item.prefix_clicks", unseen_clicks);
        sbr_counts_add(cnt, "unseen_test_item.pairs", unseen_target);
    }
    sbr_counts_add(cnt, "short_test.pairs", short_pairs);

    out->n_ids = m.n;
    out->original = sbr_xmalloc((size_t)(m.n + 1) * sizeof *out->original);
    out->original[0] = -1;
    memcpy(out->original + 1, m.original, (size_t)m.n * sizeof *out->original);
    sbr_idmap_free(&m);
    sbr_pk_seqs_free(&tr);
    sbr_pk_seqs_free(&pre);
    free(tgt);
    return 0;
}

int sbr_prep_srgnn_check_pairs(const sbr_sessions *s, const uint8_t *buf, size_t n,
                               const char *name, int64_t *n_pairs, int64_t *first_diff, sbr_err *e)
{
    sbr_pk_seqs pre;
    int64_t *tgt;
    if (read_test(buf, n, name, &pre, &tgt, e) < 0)
        return -1;
    /* the shortest prefix in the file is the rule it was expanded with */
    int64_t mp = INT64_MAX;
    for (int64_t i = 0; i < pre.n; i++)
        if (pre.offsets[i + 1] - pre.offsets[i] < mp)
            mp = pre.offsets[i + 1] - pre.offsets[i];
    if (mp < 1)
        mp = 1;
    *n_pairs = pre.n;
    *first_diff = -1;
    int64_t k = 0;
    for (int sp = SBR_TRAIN; sp <= SBR_VALID && *first_diff < 0; sp++) {
        const sbr_split *x = &s->split[sp];
        for (int64_t q = 0; q < x->n_sessions && *first_diff < 0; q++) {
            int64_t a = x->offsets[q], len = x->offsets[q + 1] - a;
            for (int64_t plen = len - 1; plen >= mp && *first_diff < 0; plen--, k++) {
                int ok = k < pre.n && pre.offsets[k + 1] - pre.offsets[k] == plen &&
                         s->original[x->items[a + plen]] == tgt[k];
                for (int64_t j = 0; ok && j < plen; j++)
                    ok = s->original[x->items[a + j]] == pre.items[pre.offsets[k] + j];
                if (!ok)
                    *first_diff = k;
            }
        }
    }
    if (*first_diff < 0 && k != pre.n)
        *first_diff = k;
    sbr_pk_seqs_free(&pre);
    free(tgt);
    return 0;
}
