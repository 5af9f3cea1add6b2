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
    if (check_rows(t, e))
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
}

void sbr_topk_free(sbr_topk *t)
{
    if (t->file.buf)
        sbr_tfile_free(&t->file);
    memset(t, 0, sizeof *t);
}
