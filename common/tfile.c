#include "tfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cli.h"
#include "io.h"
#include "json.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tensor files assume a little-endian host");

static const struct {
    const char *name;
    size_t size;
} dtypes[SBR_NDTYPES] = {
    [SBR_BOOL] = {"BOOL", 1}, [SBR_U8] = {"U8", 1},     [SBR_I8] = {"I8", 1},
    [SBR_U16] = {"U16", 2},   [SBR_I16] = {"I16", 2},   [SBR_F16] = {"F16", 2},
    [SBR_BF16] = {"BF16", 2}, [SBR_U32] = {"U32", 4},   [SBR_I32] = {"I32", 4},
    [SBR_F32] = {"F32", 4},   [SBR_U64] = {"U64", 8},   [SBR_I64] = {"I64", 8},
    [SBR_F64] = {"F64", 8},
};

const char *sbr_dtype_name(sbr_dtype dt) { return dt < SBR_NDTYPES ? dtypes[dt].name : "?"; }
size_t sbr_dtype_size(sbr_dtype dt) { return dt < SBR_NDTYPES ? dtypes[dt].size : 0; }

int sbr_dtype_parse(const char *name, sbr_dtype *dt)
{
    for (int i = 0; i < SBR_NDTYPES; i++)
        if (strcmp(name, dtypes[i].name) == 0) {
            *dt = (sbr_dtype)i;
            return 0;
        }
    return -1;
}

/* --- reading ------------------------------------------------------------- */

/* Non-negative JSON integer, or -1. */
static int64_t json_nonneg(const sbr_json *v)
{
    return v && v->type == SBR_JNUM && v->is_int && v->i >= 0 ? v->i : -1;
}

static int parse_meta(sbr_tfile *f, const sbr_json *m, sbr_err *e)
{
    if (m->type != SBR_JOBJ)
        return sbr_errf(e, "__metadata__ is not an object");
    f->meta = sbr_xcalloc((size_t)m->n + 1, sizeof *f->meta);
    for (int i = 0; i < m->n; i++) {
        if (m->items[i].type != SBR_JSTR)
            return sbr_errf(e, "metadata value of \"%s\" is not a string", m->keys[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(m->keys[i], m->keys[j]) == 0)
                return sbr_errf(e, "metadata key \"%s\" appears twice", m->keys[i]);
        f->meta[f->n_meta].key = sbr_xstrdup(m->keys[i]);
        f->meta[f->n_meta].value = sbr_xstrdup(m->items[i].str);
        f->n_meta++;
    }
    return 0;
}

/* Fills t from a header entry; begin and end receive its byte range in the data. */
static int parse_entry(sbr_tensor *t, const char *name, const sbr_json *v, int64_t *begin,
                       int64_t *end, sbr_err *e)
{
    if (v->type != SBR_JOBJ)
        return sbr_errf(e, "tensor \"%s\": entry is not an object", name);
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") &&
            strcmp(v->keys[i], "data_offsets"))
            return sbr_errf(e, "tensor \"%s\": unexpected field \"%s\"", name, v->keys[i]);
    const sbr_json *dt = sbr_json_get(v, "dtype"), *shape = sbr_json_get(v, "shape"),
                   *off = sbr_json_get(v, "data_offsets");
    if (!dt || dt->type != SBR_JSTR)
        return sbr_errf(e, "tensor \"%s\": missing or non-string dtype", name);
    if (sbr_dtype_parse(dt->str, &t->dtype))
        return sbr_errf(e, "tensor \"%s\": unknown dtype \"%s\"", name, dt->str);
    if (!shape || shape->type != SBR_JARR)
        return sbr_errf(e, "tensor \"%s\": missing or non-array shape", name);
    if (shape->n > SBR_MAX_NDIM)
        return sbr_errf(e, "tensor \"%s\": %d dimensions (at most %d)", name, shape->n,
                        SBR_MAX_NDIM);
    t->ndim = shape->n;
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < shape->n; i++) {
        int64_t d = json_nonneg(&shape->items[i]);
        if (d < 0)
            return sbr_errf(e, "tensor \"%s\": shape[%d] is not a non-negative integer", name, i);
        t->shape[i] = d;
        if (d && numel > UINT64_MAX / (uint64_t)d)
            overflow = 1;
        numel *= (uint64_t)d;
    }
    size_t es = sbr_dtype_size(t->dtype);
    if (overflow || numel > (uint64_t)INT64_MAX / es)
        return sbr_errf(e, "tensor \"%s\": shape too large", name);
    t->numel = (int64_t)numel;
    t->nbytes = (size_t)(numel * es);
    if (!off || off->type != SBR_JARR || off->n != 2)
        return sbr_errf(e, "tensor \"%s\": data_offsets must be [begin, end]", name);
    *begin = json_nonneg(&off->items[0]);
    *end = json_nonneg(&off->items[1]);
    if (*begin < 0 || *end < 0 || *end < *begin)
        return sbr_errf(e, "tensor \"%s\": bad data_offsets", name);
    if ((uint64_t)(*end - *begin) != (uint64_t)t->nbytes)
        return sbr_errf(e,
                        "tensor \"%s\": %s shape needs %zu bytes but data_offsets span %lld",
                        name, sbr_dtype_name(t->dtype), t->nbytes, (long long)(*end - *begin));
    return 0;
}

typedef struct {
    int64_t begin, end;
    int index;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->index - y->index;
}

/* Checks the ranges tile [0, data_len) exactly and points tensors at their data
 * (reordered into offset order). */
static int place_tensors(sbr_tfile *f, span *spans, uint8_t *data, size_t data_len, sbr_err *e)
{
    qsort(spans, (size_t)f->n_tensors, sizeof *spans, cmp_span);
    int64_t at = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        const char *name = f->tensors[spans[i].index].name;
        if (spans[i].begin < at)
            return sbr_errf(e, "tensor \"%s\": data overlaps the previous tensor", name);
        if (spans[i].begin > at)
            return sbr_errf(e, "tensor \"%s\": gap of %lld bytes before its data", name,
                            (long long)(spans[i].begin - at));
        at = spans[i].end;
    }
    if ((uint64_t)at > data_len)
        return sbr_errf(e, "truncated: tensors need %lld data bytes but the file has %zu",
                        (long long)at, data_len);
    if ((uint64_t)at < data_len)
        return sbr_errf(e, "%zu unexpected bytes after the last tensor", data_len - (size_t)at);
    sbr_tensor *sorted = sbr_xcalloc((size_t)f->n_tensors + 1, sizeof *sorted);
    for (int i = 0; i < f->n_tensors; i++) {
        sbr_tensor t = f->tensors[spans[i].index];
        t.data = data + spans[i].begin;
        size_t es = sbr_dtype_size(t.dtype);
        if ((uintptr_t)t.data % es != 0) { /* copy to honour the dtype's alignment */
            void *copy = sbr_xmalloc(t.nbytes);
            memcpy(copy, t.data, t.nbytes);
            f->aligned_copies = sbr_xrealloc(f->aligned_copies,
                                             (size_t)(f->n_aligned_copies + 1) * sizeof(void *));
            f->aligned_copies[f->n_aligned_copies++] = copy;
            t.data = copy;
        }
        sorted[i] = t;
    }
    free(f->tensors);
    f->tensors = sorted;
    return 0;
}

static int parse_header(sbr_tfile *f, const sbr_json *h, uint8_t *data, size_t data_len,
                        sbr_err *e)
{
    if (h->type != SBR_JOBJ)
        return sbr_errf(e, "header is not a JSON object");
    f->tensors = sbr_xcalloc((size_t)h->n + 1, sizeof *f->tensors);
    span *spans = sbr_xcalloc((size_t)h->n + 1, sizeof *spans);
    int r = 0;
    for (int i = 0; i < h->n && r == 0; i++) {
        const char *key = h->keys[i];
        if (strcmp(key, "__metadata__") == 0) {
            r = f->meta ? sbr_errf(e, "__metadata__ appears twice") : parse_meta(f, &h->items[i], e);
            continue;
        }
        for (int j = 0; j < f->n_tensors && r == 0; j++)
            if (strcmp(f->tensors[j].name, key) == 0)
                r = sbr_errf(e, "tensor \"%s\" appears twice", key);
        if (r)
            break;
        sbr_tensor *t = &f->tensors[f->n_tensors];
        t->name = sbr_xstrdup(key);
        spans[f->n_tensors].index = f->n_tensors;
        f->n_tensors++;
        r = parse_entry(t, key, &h->items[i], &spans[f->n_tensors - 1].begin,
                        &spans[f->n_tensors - 1].end, e);
    }
    if (r == 0)
        r = place_tensors(f, spans, data, data_len, e);
    free(spans);
    return r;
}

/* The first bytes are printable text with a line break or a delimiter: no
 * header length of a tensor file (a little-endian u64 whose high bytes are
 * zero) looks like that. */
static int looks_like_text(const uint8_t *buf, size_t n)
{
    size_t k = n < 64 ? n : 64, sep = 0, ascii = 1;
    if (k < 2)
        return 0;
    for (size_t i = 0; i < k; i++) {
        if (buf[i] == '\n' || buf[i] == '\t' || buf[i] == ',' || buf[i] == ';')
            sep++;
        else if (buf[i] < 0x20 && buf[i] != '\r')
            return 0;
        ascii &= buf[i] < 0x7f;
    }
    return sep > 0 || (ascii && k >= 8);
}

/* Takes ownership of buf (decompressed bytes). */
static int parse_owned(uint8_t *buf, size_t n, sbr_tfile *f, sbr_err *e)
{
    f->buf = buf;
    f->buflen = n;
    if (looks_like_text(buf, n))
        return sbr_errf(e, "not an sbr tensor file: it starts with text (a click log or "
                           "session list? sbr-prep makes a sessions file of it)");
    if (n < 8)
        return sbr_errf(e, "too short to be a tensor file (%zu bytes)", n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | buf[i];
    if (hlen > SBR_MAX_HEADER)
        return sbr_errf(e, "header length %llu is absurd (limit %u bytes): not a tensor file?",
                        (unsigned long long)hlen, SBR_MAX_HEADER);
    if (hlen > n - 8)
        return sbr_errf(e, "truncated: header of %llu bytes but only %zu follow",
                        (unsigned long long)hlen, n - 8);
    sbr_json h;
    if (sbr_json_parse((const char *)buf + 8, (size_t)hlen, &h, e))
        return -1;
    int r = parse_header(f, &h, buf + 8 + hlen, n - 8 - (size_t)hlen, e);
    sbr_json_free(&h);
    return r;
}

int sbr_tfile_parse(const void *bytes, size_t n, sbr_tfile *f, sbr_err *e)
{
    memset(f, 0, sizeof *f);
    f->path = sbr_xstrdup("(memory)");
    uint8_t *buf;
    size_t len;
    if (sbr_maybe_decompress(bytes, n, &buf, &len, &f->compressed, e)) {
        sbr_tfile_free(f);
        return -1;
    }
    if (parse_owned(buf, len, f, e)) {
        sbr_tfile_free(f);
        return -1;
    }
    return 0;
}

int sbr_tfile_read(const char *path, sbr_tfile *f, sbr_err *e)
{
    memset(f, 0, sizeof *f);
    f->path = sbr_xstrdup(path);
    uint8_t *buf;
    size_t len;
    if (sbr_read_all_z(path, &buf, &len, &f->compressed, e)) {
        sbr_tfile_free(f);
        return -1;
    }
    sbr_inputs_sha(path, f->sha256);
    if (parse_owned(buf, len, f, e)) {
        sbr_tfile_free(f);
        return -1;
    }
    return 0;
}

void sbr_tfile_free(sbr_tfile *f)
{
    for (int i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->meta);
    for (int i = 0; i < f->n_aligned_copies; i++)
        free(f->aligned_copies[i]);
    free(f->aligned_copies);
    free(f->buf);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const char *sbr_tfile_meta(const sbr_tfile *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

const char *sbr_tfile_kind(const sbr_tfile *f)
{
    const char *k = sbr_tfile_meta(f, "kind");
    return k ? k : "";
}

const sbr_tensor *sbr_tfile_find(const sbr_tfile *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

int sbr_tfile_expect_kind(const sbr_tfile *f, const char *kind, sbr_err *e)
{
    const char *k = sbr_tfile_meta(f, "kind");
    if (!k)
        return sbr_errf(e, "not an sbr file (no \"kind\" in its metadata), expected %s", kind);
    if (strcmp(k, kind) != 0)
        return sbr_errf(e, "is a %s file, expected %s", k, kind);
    return 0;
}

const sbr_tensor *sbr_tfile_need(const sbr_tfile *f, const char *name, sbr_dtype dt, int ndim,
                                 sbr_err *e)
{
    const sbr_tensor *t = sbr_tfile_find(f, name);
    if (!t) {
        sbr_errf(e, "missing tensor \"%s\"", name);
        return NULL;
    }
    if (t->dtype != dt) {
        sbr_errf(e, "tensor \"%s\" is %s, expected %s", name, sbr_dtype_name(t->dtype),
                 sbr_dtype_name(dt));
        return NULL;
    }
    if (ndim >= 0 && t->ndim != ndim) {
        sbr_errf(e, "tensor \"%s\" has %d dimensions, expected %d", name, t->ndim, ndim);
        return NULL;
    }
    return t;
}

int sbr_tfile_meta_i64(const sbr_tfile *f, const char *key, int64_t *out, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, key);
    if (!v)
        return sbr_errf(e, "missing metadata \"%s\"", key);
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end)
        return sbr_errf(e, "metadata \"%s\" is not an integer: \"%s\"", key, v);
    *out = x;
    return 0;
}

int sbr_tfile_meta_choice(const sbr_tfile *f, const char *key, const char *const *choices,
                          int *out, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, key);
    if (!v)
        return 0;
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return 1;
        }
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return sbr_errf(e, "metadata \"%s\" = \"%.40s\": not one of %s", key, v, list);
}

/* --- writing ------------------------------------------------------------- */

typedef struct {
    char *name;
    sbr_dtype dtype;
    int ndim;
    int64_t shape[SBR_MAX_NDIM];
    size_t nbytes;
    const void *data;
} tw_tensor;

struct sbr_tw {
    int n_meta, n_tensors;
    sbr_meta *meta;
    tw_tensor *tensors;
};

sbr_tw *sbr_tw_new(const char *kind)
{
    sbr_tw *w = sbr_xcalloc(1, sizeof *w);
    sbr_tw_meta(w, "kind", kind);
    return w;
}

void sbr_tw_meta(sbr_tw *w, const char *key, const char *value)
{
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].value);
            w->meta[i].value = sbr_xstrdup(value);
            return;
        }
    w->meta = sbr_xrealloc(w->meta, (size_t)(w->n_meta + 1) * sizeof *w->meta);
    w->meta[w->n_meta].key = sbr_xstrdup(key);
    w->meta[w->n_meta].value = sbr_xstrdup(value);
    w->n_meta++;
}

void sbr_tw_metaf(sbr_tw *w, const char *key, const char *fmt, ...)
{
    char v[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    sbr_tw_meta(w, key, v);
}

void sbr_tw_add(sbr_tw *w, const char *name, sbr_dtype dt, int ndim, const int64_t *shape,
                const void *data)
{
    if (ndim < 0 || ndim > SBR_MAX_NDIM)
        sbr_fatal("internal error: tensor \"%s\" with %d dimensions", name, ndim);
    w->tensors = sbr_xrealloc(w->tensors, (size_t)(w->n_tensors + 1) * sizeof *w->tensors);
    tw_tensor *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = sbr_xstrdup(name);
    t->dtype = dt;
    t->ndim = ndim;
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        numel *= (size_t)shape[i];
    }
    t->nbytes = numel * sbr_dtype_size(dt);
    t->data = data;
}

void sbr_tw_add1(sbr_tw *w, const char *name, sbr_dtype dt, int64_t n, const void *data)
{
    sbr_tw_add(w, name, dt, 1, &n, data);
}

/* Header JSON padded with spaces so the data starts 8-byte aligned. */
static void build_header(sbr_tw *w, sbr_buf *b)
{
    sbr_tw_meta(w, "sbr.tool", sbr_tool());
    sbr_tw_meta(w, "sbr.version", sbr_version());
    sbr_tw_meta(w, "sbr.args", sbr_cli_args_json());
    char *in = sbr_inputs_json();
    sbr_tw_meta(w, "sbr.inputs", in);
    free(in);
    sbr_buf_puts(b, "{\"__metadata__\":{");
    for (int i = 0; i < w->n_meta; i++) {
        if (i)
            sbr_buf_puts(b, ",");
        sbr_buf_json_str(b, w->meta[i].key);
        sbr_buf_puts(b, ":");
        sbr_buf_json_str(b, w->meta[i].value);
    }
    sbr_buf_puts(b, "}");
    size_t off = 0;
    for (int i = 0; i < w->n_tensors; i++) {
        tw_tensor *t = &w->tensors[i];
        sbr_buf_puts(b, ",");
        sbr_buf_json_str(b, t->name);
        sbr_buf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", sbr_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            sbr_buf_printf(b, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        sbr_buf_printf(b, "],\"data_offsets\":[%zu,%zu]}", off, off + t->nbytes);
        off += t->nbytes;
    }
    sbr_buf_puts(b, "}");
    while ((b->len + 8) % 8)
        sbr_buf_puts(b, " ");
}

/* The byte stream of the plain file, in pieces: header length, header,
 * tensors. Calls sink for each piece. */
typedef int (*sink_fn)(void *ctx, const void *p, size_t n, sbr_err *e);

static int emit(sbr_tw *w, sink_fn sink, void *ctx, size_t *total, sbr_err *e)
{
    sbr_buf h = {0};
    build_header(w, &h);
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    int r = sink(ctx, len8, 8, e);
    if (!r)
        r = sink(ctx, h.s, h.len, e);
    *total = 8 + h.len;
    sbr_buf_free(&h);
    for (int i = 0; i < w->n_tensors && !r; i++) {
        r = sink(ctx, w->tensors[i].data, w->tensors[i].nbytes, e);
        *total += w->tensors[i].nbytes;
    }
    return r;
}

typedef struct {
    sbr_out *out;
    ZSTD_CCtx *cctx; /* NULL: write plain bytes */
    uint8_t *zbuf;
    size_t zcap;
} file_sink;

static int zstd_push(file_sink *s, const void *p, size_t n, ZSTD_EndDirective mode, sbr_err *e)
{
    ZSTD_inBuffer ib = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {s->zbuf, s->zcap, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &ob, &ib, mode);
        if (ZSTD_isError(left))
            return sbr_errf(e, "zstd compression failed: %s", ZSTD_getErrorName(left));
        if (sbr_out_write(s->out, s->zbuf, ob.pos, e))
            return -1;
        if (mode == ZSTD_e_end ? left == 0 : ib.pos == ib.size)
            return 0;
    }
}

static int file_sink_fn(void *ctx, const void *p, size_t n, sbr_err *e)
{
    file_sink *s = ctx;
    if (!s->cctx)
        return sbr_out_write(s->out, p, n, e);
    return zstd_push(s, p, n, ZSTD_e_continue, e);
}

static size_t plain_size(sbr_tw *w)
{
    sbr_buf h = {0};
    build_header(w, &h);
    size_t n = 8 + h.len;
    sbr_buf_free(&h);
    for (int i = 0; i < w->n_tensors; i++)
        n += w->tensors[i].nbytes;
    return n;
}

int sbr_tw_write(sbr_tw *w, const char *path, int level, sbr_err *e)
{
    sbr_out out;
    if (sbr_out_open(&out, path, 1, e))
        return -1;
    file_sink s = {&out, NULL, NULL, 0};
    if (level > 0) {
        s.cctx = ZSTD_createCCtx();
        s.zcap = ZSTD_CStreamOutSize();
        s.zbuf = sbr_xmalloc(s.zcap);
        ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setPledgedSrcSize(s.cctx, plain_size(w));
        /* Large files (a prepared 30M-click log: 376 MB) compress on two
         * worker threads. A fixed count: streaming output does not depend on
         * it; a libzstd built without threads refuses and stays serial. */
        if (plain_size(w) > ((size_t)16 << 20))
            (void)ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_nbWorkers, 2);
    }
    size_t total;
    int r = emit(w, file_sink_fn, &s, &total, e);
    if (!r && s.cctx)
        r = zstd_push(&s, NULL, 0, ZSTD_e_end, e);
    ZSTD_freeCCtx(s.cctx);
    free(s.zbuf);
    if (r) {
        sbr_out_abort(&out);
        return -1;
    }
    return sbr_out_commit(&out, e);
}

static int mem_sink_fn(void *ctx, const void *p, size_t n, sbr_err *e)
{
    (void)e;
    sbr_buf_put(ctx, p, n);
    return 0;
}

int sbr_tw_to_memory(sbr_tw *w, uint8_t **bytes, size_t *n, sbr_err *e)
{
    sbr_buf b = {0};
    size_t total;
    if (emit(w, mem_sink_fn, &b, &total, e)) {
        sbr_buf_free(&b);
        return -1;
    }
    sbr_buf_put(&b, "", 0);
    *bytes = (uint8_t *)b.s;
    *n = b.len;
    return 0;
}

void sbr_tw_free(sbr_tw *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    for (int i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].name);
    free(w->meta);
    free(w->tensors);
    free(w);
}
