#include "model/loaded.h"

#include <string.h>

int sbr_loaded_open(sbr_loaded_model *lm, const char *path, sbr_prec prec, int max_B, int chunk,
                    int max_k, sbr_err *e)
{
    sbr_tfile f;
    if (sbr_tfile_read(path, &f, e)) {
        memset(lm, 0, sizeof *lm);
        return -1;
    }
    return sbr_loaded_open_file(lm, &f, prec, max_B, chunk, max_k, e);
}

int sbr_loaded_open_file(sbr_loaded_model *lm, sbr_tfile *f, sbr_prec prec, int max_B, int chunk,
                         int max_k, sbr_err *e)
{
    memset(lm, 0, sizeof *lm);
    lm->file = *f;
    sbr_model_cfg cfg;
    int64_t v;
    const sbr_tensor *orig, *cl = NULL;
    if (sbr_model_read_cfg(&lm->file, &cfg, e) || sbr_tfile_meta_i64(&lm->file, "min_prefix", &v, e) ||
        sbr_task_of_file(&lm->file, &lm->task, e) ||
        !(orig = sbr_tfile_need(&lm->file, "items.original", SBR_I64, 1, e)))
        goto fail;
    lm->min_prefix = (int)v;
    if (orig->numel != cfg.n_items + 1) {
        sbr_errf(e, "items.original has %lld entries for %d items", (long long)orig->numel,
                 cfg.n_items);
        goto fail;
    }
    lm->original = orig->data;
    if (cfg.n_clusters > 0) {
        if (!(cl = sbr_tfile_need(&lm->file, "clip.cluster", SBR_I32, 1, e)) ||
            sbr_tfile_meta_i64(&lm->file, "clip.frequent", &v, e))
            goto fail;
        const int32_t *c = cl->data;
        if (cl->numel != cfg.n_items + 1 || c[0] != 0 || v < 1 || v > cfg.n_clusters) {
            sbr_errf(e, "clip.cluster does not fit the model");
            goto fail;
        }
        for (int64_t i = 1; i < cl->numel; i++)
            if (c[i] < 1 || c[i] > cfg.n_clusters) {
                sbr_errf(e, "clip.cluster[%lld] = %d out of 1..%d", (long long)i, c[i],
                         cfg.n_clusters);
                goto fail;
            }
        lm->clip.cluster = c;
        lm->clip.frequent = (int32_t)v;
    }
    cfg.chunk = chunk;
    cfg.max_k = max_k;
    if (sbr_model_check_file(&cfg, &lm->file, e) ||
        sbr_model_create(&lm->m, &cfg, prec, max_B, (int)sbr_cfg_get_or(&cfg, "max_len", 1), e) ||
        sbr_model_load(&lm->m, &lm->file, 0, e))
        goto fail;
    return 0;
fail:
    sbr_loaded_close(lm);
    return -1;
}

void sbr_loaded_close(sbr_loaded_model *lm)
{
    if (lm->m.def)
        sbr_model_free(&lm->m);
    if (lm->file.buf)
        sbr_tfile_free(&lm->file);
    memset(lm, 0, sizeof *lm);
}

int sbr_loaded_check_sessions(const sbr_loaded_model *lm, const sbr_sessions *s, sbr_err *e)
{
    if (s->n_items != lm->m.cfg.n_items)
        return sbr_errf(e, "has %lld catalogue items, the model %d: not the data it was trained on",
                        (long long)s->n_items, lm->m.cfg.n_items);
    if (memcmp(s->original, lm->original, sizeof(int64_t) * (size_t)(s->n_items + 1)) != 0)
        return sbr_errf(e, "numbers its items differently from the model's training data");
    return 0;
}
