#include "topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_rows(const sbr_topk *t, sbr_err *e)
{
    for (int64_t i = 0; i < t->n; i++) {
        const int32_t *row = t->items + (size_t)i * (size_t)t->k;
        const float *sc = t->scores + (size_t)i * (size_t)t->k;
        int padded = 0;
        for (int j = 0; j < t->k; j++) {
            if (row[j] < 0 || row[j] > t->n_items)
                return sbr_errf(e, "row %lld: item id %d out of range 0..%lld", (long long)i,
                                row[j], (long long)t->n_items);
            if (row[j] == 0) {
                padded = 1;
                continue;
            }
            if (padded)
                return sbr_errf(e, "row %lld: item after padding at position %d", (long long)i, j);
            if (!isfinite(sc[j]))
                return sbr_errf(e, "row %lld: score %d is not finite", (long long)i, j);
            if (j > 0 && sc[j] > sc[j - 1])
                return sbr_errf(e, "row %lld: scores not in decreasing order at %d",
                                (long long)i, j);
            for (int q = 0; q < j; q++)
                if (row[q] == row[j])
                    return sbr_errf(e, "row %lld: item %d listed twice", (long long)i, row[j]);
        }
        if (t->targets[i] < 1)
            return sbr_errf(e, "row %lld: target %d is not an item id", (long long)i,
                            t->targets[i]);
        if (t->prefix_len[i] < 0)
            return sbr_errf(e, "row %lld: negative prefix length", (long long)i);
    }
    return 0;
}

/* The optional uncertainty tensors: both or neither, one value per row, in
 * range (a little slack above log n_items for the float rounding of a flat
 * softmax); a row with items has a positive top-1 probability. */
static int read_uncertainty(sbr_topk *t, sbr_err *e)
{
    const sbr_tensor *en = sbr_tfile_find(&t->file, "entropy");
    const sbr_tensor *p1 = sbr_tfile_find(&t->file, "top1_prob");
    if (!en && !p1)
        return 0;
    if (!en || !p1)
        return sbr_errf(e, "%s without %s: sbr-infer --uncertainty writes both",
                        en ? "entropy" : "top1_prob", en ? "top1_prob" : "entropy");
    if (!(en = sbr_tfile_need(&t->file, "entropy", SBR_F32, 1, e)) ||
        !(p1 = sbr_tfile_need(&t->file, "top1_prob", SBR_F32, 1, e)))
        return -1;
    if (en->shape[0] != t->n || p1->shape[0] != t->n)
        return sbr_errf(e, "entropy [%lld] and top1_prob [%lld] for %lld rows",
                        (long long)en->shape[0], (long long)p1->shape[0], (long long)t->n);
    t->entropy = en->data, t->top1 = p1->data;
    double hmax = log((double)t->n_items) * (1 + 1e-5) + 1e-6;
    for (int64_t i = 0; i < t->n; i++) {
        float h = t->entropy[i], p = t->top1[i];
        int empty = t->items[(size_t)i * (size_t)t->k] == 0;
        if (!(h >= 0 && h <= hmax))
            return sbr_errf(e, "row %lld: entropy %g outside 0..log(%lld) = %.6g", (long long)i,
                            h, (long long)t->n_items, log((double)t->n_items));
        if (!(p >= 0 && p <= 1) || (!empty && p == 0))
            return sbr_errf(e, "row %lld: top-1 probability %g outside %s", (long long)i, p,
                            empty ? "0..1" : "(0, 1]");
    }
    return 0;
}

/* The optional spread of a sampling model: only beside the entropy (sbr-infer
 * --uncertainty writes it with the two above), one finite value >= 0 per row. */
static int read_spread(sbr_topk *t, sbr_err *e)
{
    const sbr_tensor *sp = sbr_tfile_find(&t->file, "spread");
    if (!sp)
        return 0;
    if (!t->entropy)
        return sbr_errf(e, "spread without entropy and top1_prob: sbr-infer --uncertainty "
                           "writes the three together");
    if (!(sp = sbr_tfile_need(&t->file, "spread", SBR_F32, 1, e)))
        return -1;
    if (sp->shape[0] != t->n)
        return sbr_errf(e, "spread [%lld] for %lld rows", (long long)sp->shape[0],
                        (long long)t->n);
    t->spread = sp->data;
    for (int64_t i = 0; i < t->n; i++)
        if (!(t->spread[i] >= 0 && isfinite(t->spread[i])))
            return sbr_errf(e, "row %lld: spread %g is not a finite distance >= 0", (long long)i,
                            t->spread[i]);
    return 0;
}

/* The lists' task: the file's "task", which must agree with exclude_seen
 * (next-unseen lists are those without their prefix's items); files from
 * before the key existed take the one exclude_seen says. */
static int read_task(const sbr_tfile *f, sbr_topk *t, sbr_err *e)
{
    sbr_task said = t->exclude_seen ? SBR_TASK_NEXT_UNSEEN : SBR_TASK_STANDARD;
    if (sbr_task_of_file(f, &t->task, e))
        return -1;
    if (!sbr_tfile_meta(f, "task"))
        t->task = said;
    if (t->task != said)
        return sbr_errf(e, "task %s but exclude_seen %d: next-unseen lists are those made "
                           "without their prefix's items", sbr_task_name(t->task),
                        t->exclude_seen);
    return 0;
}

int sbr_topk_read(const char *path, sbr_topk *t, sbr_err *e)
{
    memset(t, 0, sizeof *t);
    if (sbr_tfile_read(path, &t->file, e))
        return -1;
    sbr_tfile *f = &t->file;
    int64_t v;
    const sbr_tensor *items, *scores, *targets, *plen, *rep;
    if (sbr_tfile_expect_kind(f, "sbr.topk", e) || sbr_tfile_meta_i64(f, "n_items", &t->n_items, e))
        goto fail;
    if (sbr_tfile_meta_i64(f, "exclude_seen", &v, e))
        goto fail;
    t->exclude_seen = v != 0;
    if (read_task(f, t, e))
        goto fail;
    if (!(items = sbr_tfile_need(f, "items", SBR_I32, 2, e)) ||
        !(scores = sbr_tfile_need(f, "scores", SBR_F32, 2, e)) ||
        !(targets = sbr_tfile_need(f, "targets", SBR_I32, 1, e)) ||
        !(plen = sbr_tfile_need(f, "prefix_len", SBR_I32, 1, e)) ||
        !(rep = sbr_tfile_need(f, "repeat", SBR_U8, 1, e)))
        goto fail;
    t->n = items->shape[0];
    if (items->shape[1] < 1 || items->shape[1] > 1000000) {
        sbr_errf(e, "list length %lld out of range", (long long)items->shape[1]);
        goto fail;
    }
    t->k = (int)items->shape[1];
    if (scores->shape[0] != t->n || scores->shape[1] != t->k || targets->shape[0] != t->n ||
        plen->shape[0] != t->n || rep->shape[0] != t->n) {
        sbr_errf(e, "tensor shapes disagree: items [%lld, %d], scores [%lld, %lld], targets [%lld]",
                 (long long)t->n, t->k, (long long)scores->shape[0], (long long)scores->shape[1],
                 (long long)targets->shape[0]);
        goto fail;
    }
    t->items = items->data;
    t->scores = scores->data;
    t->targets = targets->data;
    t->prefix_len = plen->data;
    t->repeat = rep->data;
    if (check_rows(t, e) || read_uncertainty(t, e) || read_spread(t, e))
        goto fail;
    return 0;
fail:
    sbr_tfile_free(&t->file);
    return -1;
}

void sbr_topk_add_to(const sbr_topk *t, sbr_tw *w)
{
    int64_t shape[2] = {t->n, t->k};
    sbr_tw_metaf(w, "n_items", "%lld", (long long)t->n_items);
    sbr_tw_metaf(w, "k", "%d", t->k);
    sbr_tw_metaf(w, "exclude_seen", "%d", t->exclude_seen);
    sbr_task_add_to(t->task, w);
    sbr_tw_add(w, "items", SBR_I32, 2, shape, t->items);
    sbr_tw_add(w, "scores", SBR_F32, 2, shape, t->scores);
    sbr_tw_add1(w, "targets", SBR_I32, t->n, t->targets);
    sbr_tw_add1(w, "prefix_len", SBR_I32, t->n, t->prefix_len);
    sbr_tw_add1(w, "repeat", SBR_U8, t->n, t->repeat);
    if (t->entropy) {
        sbr_tw_add1(w, "entropy", SBR_F32, t->n, t->entropy);
        sbr_tw_add1(w, "top1_prob", SBR_F32, t->n, t->top1);
        if (t->spread)
            sbr_tw_add1(w, "spread", SBR_F32, t->n, t->spread);
    }
}

void sbr_topk_free(sbr_topk *t)
{
    if (t->file.buf)
        sbr_tfile_free(&t->file);
    memset(t, 0, sizeof *t);
}
