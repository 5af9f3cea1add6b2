/* Model checkpoints: see checkpoint.h. */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sbr_dtype arena_dtype(const sbr_arena *a)
{
    return a->elem_size == 8 ? SBR_F64 : SBR_F32;
}

/* Adds the tensors of an arena as "group.NAME"; the names are kept in
 * names[] (freed by the caller after the write). */
static int add_group(sbr_tw *w, const char *group, const sbr_arena *a, char **names, int *nn,
                     sbr_err *e)
{
    if (!a->base)
        return sbr_errf(e, "checkpoint: arena %s is not allocated", a->name);
    if (a->alloc.device)
        return sbr_errf(e, "checkpoint: arena %s is in device memory (copy it to the host first)",
                        a->name);
    for (int i = 0; i < a->n; i++) {
        const sbr_view *v = &a->views[i];
        size_t len = strlen(group) + strlen(v->name) + 2;
        char *nm = sbr_xmalloc(len);
        snprintf(nm, len, "%s.%s", group, v->name);
        names[(*nn)++] = nm;
        sbr_tw_add(w, nm, arena_dtype(a), v->ndim, v->shape, v->data);
    }
    return 0;
}

static int same_layout(const sbr_arena *a, const sbr_arena *b)
{
    if (a->n != b->n || a->elem_size != b->elem_size)
        return 0;
    for (int i = 0; i < a->n; i++) {
        const sbr_view *x = &a->views[i], *y = &b->views[i];
        if (strcmp(x->name, y->name) || x->ndim != y->ndim ||
            memcmp(x->shape, y->shape, sizeof(int64_t) * (size_t)x->ndim))
            return 0;
    }
    return 1;
}

int sbr_checkpoint_write(const char *path, const sbr_checkpoint *ck, int level, sbr_err *e)
{
    const sbr_arena *p = ck->params;
    if (!p)
        return sbr_errf(e, "checkpoint: no parameters");
    if ((ck->adam_m == NULL) != (ck->adam_v == NULL))
        return sbr_errf(e, "checkpoint: Adam needs both moments");
    if (ck->adam_m && (!same_layout(p, ck->adam_m) || !same_layout(p, ck->adam_v)))
        return sbr_errf(e, "checkpoint: Adam moments do not have the layout of the parameters");
    sbr_tw *w = sbr_tw_new(SBR_KIND_MODEL);
    int cap = 3 * p->n + 1, nn = 0;
    char **names = sbr_xcalloc((size_t)cap, sizeof *names);
    int rc = add_group(w, "param", p, names, &nn, e);
    if (rc == 0 && ck->adam_m) {
        rc = add_group(w, "adam_m", ck->adam_m, names, &nn, e);
        if (rc == 0)
            rc = add_group(w, "adam_v", ck->adam_v, names, &nn, e);
    }
    if (rc == 0) {
        sbr_tw_meta(w, "config", ck->config ? ck->config : "{}");
        sbr_tw_meta(w, "precision", p->elem_size == 8 ? "f64" : "f32");
        sbr_tw_metaf(w, "epoch", "%" PRId64, ck->epoch);
        sbr_tw_metaf(w, "step", "%" PRId64, ck->step);
        sbr_tw_metaf(w, "adam", "%d", ck->adam_m ? 1 : 0);
        sbr_tw_metaf(w, "adam.t", "%" PRId64, ck->adam_t);
        sbr_tw_metaf(w, "rng.seed", "%" PRIu64, ck->rng.seed);
        sbr_tw_metaf(w, "rng.counter", "%" PRIu64, ck->rng.counter);
        rc = sbr_tw_write(w, path, level, e);
    }
    sbr_tw_free(w);
    for (int i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int meta_u64(const sbr_tfile *f, const char *key, uint64_t *out, sbr_err *e)
{
    const char *s = sbr_tfile_meta(f, key);
    if (!s)
        return sbr_errf(e, "checkpoint metadata \"%s\" is missing", key);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return sbr_errf(e, "checkpoint metadata \"%s\" = \"%s\" is not an unsigned integer", key,
                        s);
    *out = (uint64_t)v;
    return 0;
}

static int meta_nonneg(const sbr_tfile *f, const char *key, int64_t *out, sbr_err *e)
{
    if (sbr_tfile_meta_i64(f, key, out, e) != 0)
        return -1;
    if (*out < 0)
        return sbr_errf(e, "checkpoint metadata \"%s\" = %" PRId64 " is negative", key, *out);
    return 0;
}

int sbr_checkpoint_open(const char *path, sbr_checkpoint_file *cf, sbr_err *e)
{
    memset(cf, 0, sizeof *cf);
    if (sbr_tfile_read(path, &cf->file, e) != 0)
        return sbr_err_prefix(e, "%s", path);
    int64_t adam = 0;
    int rc = sbr_tfile_expect_kind(&cf->file, SBR_KIND_MODEL, e);
    if (rc == 0)
        rc = meta_nonneg(&cf->file, "epoch", &cf->epoch, e);
    if (rc == 0)
        rc = meta_nonneg(&cf->file, "step", &cf->step, e);
    if (rc == 0)
        rc = meta_nonneg(&cf->file, "adam.t", &cf->adam_t, e);
    if (rc == 0)
        rc = meta_nonneg(&cf->file, "adam", &adam, e);
    if (rc == 0)
        rc = meta_u64(&cf->file, "rng.seed", &cf->rng.seed, e);
    if (rc == 0)
        rc = meta_u64(&cf->file, "rng.counter", &cf->rng.counter, e);
    if (rc == 0) {
        cf->config = sbr_tfile_meta(&cf->file, "config");
        if (!cf->config)
            rc = sbr_errf(e, "checkpoint metadata \"config\" is missing");
    }
    if (rc != 0) {
        sbr_tfile_free(&cf->file);
        return sbr_err_prefix(e, "%s", path);
    }
    cf->has_adam = adam != 0;
    return 0;
}

int sbr_checkpoint_load(const sbr_checkpoint_file *cf, const char *group, sbr_arena *a,
                        sbr_err *e)
{
    const char *path = cf->file.path ? cf->file.path : "checkpoint";
    if (!a->base || a->alloc.device)
        return sbr_errf(e, "%s: arena %s is not an allocated host arena", path, a->name);
    sbr_dtype dt = arena_dtype(a);
    size_t glen = strlen(group);
    for (int i = 0; i < a->n; i++) {
        const sbr_view *v = &a->views[i];
        char nm[256];
        snprintf(nm, sizeof nm, "%s.%s", group, v->name);
        const sbr_tensor *t = sbr_tfile_find(&cf->file, nm);
        if (!t)
            return sbr_errf(e, "%s: tensor \"%s\" is missing", path, nm);
        if (t->dtype != dt)
            return sbr_errf(e, "%s: tensor \"%s\" is %s, expected %s", path, nm,
                            sbr_dtype_name(t->dtype), sbr_dtype_name(dt));
        int same = t->ndim == v->ndim;
        for (int k = 0; same && k < v->ndim; k++)
            same = t->shape[k] == v->shape[k];
        if (!same) {
            char want[128] = "", got[128] = "";
            for (int k = 0; k < v->ndim; k++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%" PRId64,
                         k ? "," : "", v->shape[k]);
            for (int k = 0; k < t->ndim; k++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRId64,
                         k ? "," : "", t->shape[k]);
            return sbr_errf(e, "%s: tensor \"%s\" has shape [%s], the model expects [%s]", path,
                            nm, got, want);
        }
        memcpy(v->data, t->data, t->nbytes);
    }
    /* Nothing of the group may be left over: a model with fewer tensors than
     * the file is another model. */
    for (int i = 0; i < cf->file.n_tensors; i++) {
        const char *nm = cf->file.tensors[i].name;
        if (strncmp(nm, group, glen) == 0 && nm[glen] == '.' &&
            sbr_arena_find(a, nm + glen + 1) < 0)
            return sbr_errf(e, "%s: tensor \"%s\" is not part of this model", path, nm);
    }
    return 0;
}

void sbr_checkpoint_close(sbr_checkpoint_file *cf)
{
    sbr_tfile_free(&cf->file);
    memset(cf, 0, sizeof *cf);
}
