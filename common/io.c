#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "json.h"
#include "sha256.h"

static int is_zstd_magic(const uint8_t *p, size_t n)
{
    return n >= 4 && p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD;
}

/* --- provenance ---------------------------------------------------------- */

static struct {
    char *path;
    char sha[65];
} *inputs;
static int n_inputs;

void sbr_inputs_add(const char *path, const char *sha256_hex)
{
    for (int i = 0; i < n_inputs; i++)
        if (strcmp(inputs[i].path, path) == 0 && strcmp(inputs[i].sha, sha256_hex) == 0)
            return;
    inputs = sbr_xrealloc(inputs, (size_t)(n_inputs + 1) * sizeof *inputs);
    inputs[n_inputs].path = sbr_xstrdup(path);
    snprintf(inputs[n_inputs].sha, sizeof inputs[n_inputs].sha, "%s", sha256_hex);
    n_inputs++;
}

int sbr_inputs_sha(const char *path, char out[65])
{
    for (int i = n_inputs - 1; i >= 0; i--)
        if (strcmp(inputs[i].path, path) == 0) {
            memcpy(out, inputs[i].sha, 65);
            return 0;
        }
    return -1;
}

char *sbr_inputs_json(void)
{
    sbr_buf b = {0};
    sbr_buf_puts(&b, "[");
    for (int i = 0; i < n_inputs; i++) {
        sbr_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        sbr_buf_json_str(&b, inputs[i].path);
        sbr_buf_printf(&b, ",\"sha256\":\"%s\"}", inputs[i].sha);
    }
    sbr_buf_puts(&b, "]");
    return b.s;
}

/* --- whole-file reads ---------------------------------------------------- */

static int read_raw(const char *path, uint8_t **out, size_t *n, sbr_err *e)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return sbr_errf(e, "cannot open: %s", strerror(errno));
    struct stat st;
    size_t cap = 1 << 16;
    if (!is_stdin && fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return sbr_errf(e, "is a directory");
    }
    if (!is_stdin && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    uint8_t *buf = sbr_xmalloc(cap);
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = sbr_xrealloc(buf, cap);
        }
        size_t k = fread(buf + len, 1, cap - len, fp);
        len += k;
        if (k == 0)
            break;
    }
    int bad = ferror(fp);
    int saved = errno;
    if (!is_stdin)
        fclose(fp);
    if (bad) {
        free(buf);
        return sbr_errf(e, "read error: %s", strerror(saved));
    }
    *out = buf;
    *n = len;
    return 0;
}

int sbr_maybe_decompress(const uint8_t *in, size_t n, uint8_t **out, size_t *outn, int *was_zstd,
                         sbr_err *e)
{
    *was_zstd = is_zstd_magic(in, n);
    if (!*was_zstd) {
        uint8_t *copy = sbr_xmalloc(n + 1);
        memcpy(copy, in, n);
        copy[n] = 0;
        *out = copy;
        *outn = n;
        return 0;
    }
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return sbr_errf(e, "out of memory (zstd context)");
    unsigned long long hint = ZSTD_getFrameContentSize(in, n);
    size_t cap = 1 << 20;
    /* The frame's declared size is a hint only: a forged header must not make
     * us allocate gigabytes up front, so trust it up to a plausible ratio. */
    if (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR &&
        hint < (unsigned long long)n * 64 + (1u << 20))
        cap = (size_t)hint + 1;
    uint8_t *buf = sbr_xmalloc(cap);
    ZSTD_inBuffer ib = {in, n, 0};
    size_t last = 1;
    size_t len = 0;
    while (ib.pos < ib.size || last != 0) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = sbr_xrealloc(buf, cap);
        }
        ZSTD_outBuffer ob = {buf + len, cap - 1 - len, 0};
        size_t before = ib.pos;
        last = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(last)) {
            int r = sbr_errf(e, "corrupt zstd data: %s", ZSTD_getErrorName(last));
            free(buf);
            ZSTD_freeDCtx(d);
            return r;
        }
        len += ob.pos;
        if (ib.pos == ib.size && last != 0 && ob.pos == 0 && before == ib.pos) {
            free(buf);
            ZSTD_freeDCtx(d);
            return sbr_errf(e, "truncated zstd frame (file cut short?)");
        }
    }
    ZSTD_freeDCtx(d);
    buf[len] = 0;
    *out = buf;
    *outn = len;
    return 0;
}

int sbr_read_all(const char *path, uint8_t **out, size_t *n, sbr_err *e)
{
    int was_zstd;
    return sbr_read_all_z(path, out, n, &was_zstd, e);
}

int sbr_read_all_z(const char *path, uint8_t **out, size_t *n, int *was_zstd, sbr_err *e)
{
    uint8_t *raw = NULL;
    size_t rawn = 0;
    if (read_raw(path, &raw, &rawn, e))
        return -1;
    sbr_sha256 h;
    char hex[65];
    sbr_sha256_init(&h);
    sbr_sha256_update(&h, raw, rawn);
    sbr_sha256_hex(&h, hex);
    int r = sbr_maybe_decompress(raw, rawn, out, n, was_zstd, e);
    free(raw);
    if (r == 0)
        sbr_inputs_add(path, hex);
    return r;
}

/* --- streaming lines ----------------------------------------------------- */

#define LINES_IN_CHUNK (1u << 20)

struct sbr_lines {
    char *path;
    FILE *fp;
    int is_stdin;
    ZSTD_DCtx *dctx; /* NULL for plain input */
    size_t zret;     /* last ZSTD_decompressStream result: 0 at a frame end */
    uint8_t *in;     /* [LINES_IN_CHUNK] raw bytes read, for zstd input */
    size_t in_len, in_pos;
    char *buf; /* decoded bytes: [pos, len) not yet returned */
    size_t len, pos, scan, cap;
    int eof;
    int64_t lineno;
    char error[512];
    sbr_sha256 sha;
};

sbr_lines *sbr_lines_open(const char *path, sbr_err *e)
{
    sbr_lines *r = sbr_xcalloc(1, sizeof *r);
    r->is_stdin = strcmp(path, "-") == 0;
    r->fp = r->is_stdin ? stdin : fopen(path, "rb");
    if (!r->fp) {
        sbr_errf(e, "cannot open: %s", strerror(errno));
        free(r);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(r->fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        sbr_errf(e, "is a directory");
        fclose(r->fp);
        free(r);
        return NULL;
    }
    r->path = sbr_xstrdup(path);
    r->cap = LINES_IN_CHUNK;
    r->buf = sbr_xmalloc(r->cap + 1);
    r->in = sbr_xmalloc(LINES_IN_CHUNK);
    sbr_sha256_init(&r->sha);
    /* Peek at the magic number to choose plain or zstd. */
    r->in_len = fread(r->in, 1, LINES_IN_CHUNK, r->fp);
    sbr_sha256_update(&r->sha, r->in, r->in_len);
    if (is_zstd_magic(r->in, r->in_len)) {
        r->dctx = ZSTD_createDCtx();
        r->zret = 1;
    } else {
        memcpy(r->buf, r->in, r->in_len);
        r->len = r->in_len;
        r->in_len = 0;
    }
    return r;
}

static void lines_finish(sbr_lines *r)
{
    r->eof = 1;
    if (ferror(r->fp))
        snprintf(r->error, sizeof r->error, "read error: %s", strerror(errno));
    else if (r->dctx && r->zret != 0)
        snprintf(r->error, sizeof r->error, "truncated zstd frame (file cut short?)");
}

/* Appends more decoded bytes to buf; sets eof at the end of input. */
static void lines_fill(sbr_lines *r)
{
    if (r->pos > 0) { /* keep only the unreturned tail */
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->scan -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        r->cap *= 2;
        r->buf = sbr_xrealloc(r->buf, r->cap + 1);
    }
    if (!r->dctx) {
        size_t k = fread(r->buf + r->len, 1, r->cap - r->len, r->fp);
        sbr_sha256_update(&r->sha, r->buf + r->len, k);
        r->len += k;
        if (k == 0)
            lines_finish(r);
        return;
    }
    for (;;) {
        if (r->in_pos == r->in_len) {
            r->in_len = fread(r->in, 1, LINES_IN_CHUNK, r->fp);
            r->in_pos = 0;
            sbr_sha256_update(&r->sha, r->in, r->in_len);
            if (r->in_len == 0) {
                lines_finish(r);
                return;
            }
        }
        ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer ob = {r->buf + r->len, r->cap - r->len, 0};
        r->zret = ZSTD_decompressStream(r->dctx, &ob, &ib);
        r->in_pos = ib.pos;
        r->len += ob.pos;
        if (ZSTD_isError(r->zret)) {
            snprintf(r->error, sizeof r->error, "corrupt zstd data: %s",
                     ZSTD_getErrorName(r->zret));
            r->eof = 1;
            return;
        }
        if (ob.pos > 0)
            return;
    }
}

char *sbr_lines_next(sbr_lines *r, size_t *len)
{
    for (;;) {
        char *start = r->buf + r->pos;
        char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
        if (nl) {
            size_t k = (size_t)(nl - start);
            r->pos += k + 1;
            r->scan = r->pos;
            if (k > 0 && start[k - 1] == '\r')
                k--;
            start[k] = 0;
            r->lineno++;
            if (len)
                *len = k;
            return start;
        }
        r->scan = r->len;
        if (r->eof || r->error[0]) {
            if (r->error[0] || r->pos == r->len)
                return NULL;
            size_t k = r->len - r->pos; /* last line without '\n' */
            r->pos = r->len;
            r->scan = r->len;
            if (k > 0 && start[k - 1] == '\r')
                k--;
            start[k] = 0;
            r->lineno++;
            if (len)
                *len = k;
            return start;
        }
        lines_fill(r);
    }
}

int64_t sbr_lines_lineno(const sbr_lines *r) { return r->lineno; }
const char *sbr_lines_error(const sbr_lines *r) { return r->error[0] ? r->error : NULL; }

void sbr_lines_close(sbr_lines *r)
{
    if (!r)
        return;
    if (r->eof && !r->error[0]) {
        char hex[65];
        sbr_sha256_hex(&r->sha, hex);
        sbr_inputs_add(r->path, hex);
    }
    if (!r->is_stdin)
        fclose(r->fp);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->buf);
    free(r->path);
    free(r);
}

/* --- outputs ------------------------------------------------------------- */

static void unlink_tmp(void *arg)
{
    sbr_out *o = arg;
    if (o->tmp)
        unlink(o->tmp); /* async-signal-safe */
}

int sbr_out_open(sbr_out *o, const char *path, int binary, sbr_err *e)
{
    memset(o, 0, sizeof *o);
    o->cleanup = -1;
    if (strcmp(path, "-") == 0) {
        if (binary && isatty(STDOUT_FILENO))
            return sbr_errf(e, "refusing to write binary data to a terminal "
                               "(give -o FILE or pipe the output)");
        o->path = sbr_xstrdup("-");
        o->fp = stdout;
        return 0;
    }
    /* A device, FIFO or socket (/dev/null, a named pipe) is written in place:
     * renaming a temporary file over it would replace the device. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return sbr_errf(e, "is a directory");
        o->fp = fopen(path, "wb");
        if (!o->fp)
            return sbr_errf(e, "cannot open: %s", strerror(errno));
        o->path = sbr_xstrdup(path);
        return 0;
    }
    size_t n = strlen(path);
    o->path = sbr_xstrdup(path);
    o->tmp = sbr_xmalloc(n + 16);
    snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int r = sbr_errf(e, "cannot create a file beside it: %s", strerror(errno));
        free(o->tmp);
        free(o->path);
        o->tmp = o->path = NULL;
        return r;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    o->fp = fdopen(fd, "wb");
    if (!o->fp) {
        close(fd);
        unlink(o->tmp);
        return sbr_errf(e, "cannot open: %s", strerror(errno));
    }
    o->cleanup = sbr_cleanup_add(unlink_tmp, o);
    return 0;
}

int sbr_out_write(sbr_out *o, const void *p, size_t n, sbr_err *e)
{
    if (n && fwrite(p, 1, n, o->fp) != n)
        return sbr_errf(e, "write failed: %s", strerror(errno));
    return 0;
}

static void out_release(sbr_out *o)
{
    sbr_cleanup_remove(o->cleanup);
    o->cleanup = -1;
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    o->fp = NULL;
}

int sbr_out_commit(sbr_out *o, sbr_err *e)
{
    if (!o->tmp) { /* stdout, or a device written in place */
        int is_stdout = o->fp == stdout;
        int bad = fflush(o->fp) != 0 || ferror(o->fp);
        int saved = errno;
        if (!is_stdout && fclose(o->fp) != 0 && !bad) {
            bad = 1;
            saved = errno;
        }
        out_release(o);
        return bad ? sbr_errf(e, "write failed: %s", strerror(saved)) : 0;
    }
    int bad = fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0;
    int saved = errno;
    if (fclose(o->fp) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (!bad && rename(o->tmp, o->path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        unlink(o->tmp);
        out_release(o);
        return sbr_errf(e, "write failed: %s", strerror(saved));
    }
    out_release(o);
    return 0;
}

void sbr_out_abort(sbr_out *o)
{
    if (!o->fp && !o->path)
        return;
    if (o->tmp) {
        fclose(o->fp);
        unlink(o->tmp);
    } else if (o->fp && o->fp != stdout)
        fclose(o->fp);
    out_release(o);
}
