#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, pos;
    sbr_err *e;
} parser;

static int fail(parser *p, const char *what)
{
    return sbr_errf(p->e, "bad JSON header at byte %zu: %s", p->pos, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int parse_value(parser *p, sbr_json *v, int depth);

static int hex4(parser *p, unsigned *out)
{
    if (p->n - p->pos < 4)
        return fail(p, "truncated \\u escape");
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        x <<= 4;
        if (c >= '0' && c <= '9')
            x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x |= (unsigned)(c - 'A' + 10);
        else
            return fail(p, "bad hex digit in \\u escape");
    }
    *out = x;
    return 0;
}

static void put_utf8(sbr_buf *b, unsigned cp)
{
    char u[4];
    size_t k;
    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    sbr_buf_put(b, u, k);
}

static int parse_escape(parser *p, sbr_buf *b)
{
    if (p->pos >= p->n)
        return fail(p, "truncated escape");
    char c = p->s[p->pos++];
    const char *simple = "\"\\/bfnrt", *value = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(simple, c) : NULL;
    if (hit) {
        sbr_buf_put(b, &value[hit - simple], 1);
        return 0;
    }
    if (c != 'u')
        return fail(p, "bad escape");
    unsigned cp;
    if (hex4(p, &cp))
        return -1;
    if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair must follow */
        unsigned lo;
        if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, "unpaired surrogate");
        p->pos += 2;
        if (hex4(p, &lo))
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, "bad surrogate pair");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, "unpaired surrogate");
    put_utf8(b, cp);
    return 0;
}

static int parse_string(parser *p, char **out, size_t *len)
{
    sbr_buf b = {0};
    p->pos++; /* opening quote */
    for (;;) {
        if (p->pos >= p->n) {
            sbr_buf_free(&b);
            return fail(p, "unterminated string");
        }
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            sbr_buf_free(&b);
            return fail(p, "control character in string");
        }
        if (c == '\\') {
            p->pos++;
            if (parse_escape(p, &b)) {
                sbr_buf_free(&b);
                return -1;
            }
            continue;
        }
        sbr_buf_put(&b, (const char *)&c, 1);
        p->pos++;
    }
    if (!b.s)
        sbr_buf_put(&b, "", 0);
    *out = b.s;
    *len = b.len;
    return 0;
}

static int parse_number(parser *p, sbr_json *v)
{
    size_t start = p->pos;
    int integral = 1;
    if (p->pos < p->n && p->s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail(p, "bad number");
    if (p->s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    if (p->pos < p->n && p->s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        size_t d = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (d == p->pos)
            return fail(p, "bad fraction");
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        size_t d = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (d == p->pos)
            return fail(p, "bad exponent");
    }
    char tmp[64];
    size_t len = p->pos - start;
    if (len >= sizeof tmp)
        return fail(p, "number too long");
    memcpy(tmp, p->s + start, len);
    tmp[len] = 0;
    v->type = SBR_JNUM;
    v->num = strtod(tmp, NULL);
    if (integral) {
        errno = 0;
        long long x = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            v->is_int = 1;
            v->i = x;
        }
    }
    return 0;
}

static int expect_word(parser *p, const char *w)
{
    size_t k = strlen(w);
    if (p->n - p->pos < k || memcmp(p->s + p->pos, w, k) != 0)
        return fail(p, "unexpected token");
    p->pos += k;
    return 0;
}

static void push_child(sbr_json *v, int *cap)
{
    if (v->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        v->items = sbr_xrealloc(v->items, (size_t)*cap * sizeof *v->items);
        if (v->type == SBR_JOBJ)
            v->keys = sbr_xrealloc(v->keys, (size_t)*cap * sizeof *v->keys);
    }
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    if (v->type == SBR_JOBJ)
        v->keys[v->n] = NULL;
    v->n++;
}

static int parse_array(parser *p, sbr_json *v, int depth)
{
    int cap = 0;
    v->type = SBR_JARR;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        push_child(v, &cap);
        if (parse_value(p, &v->items[v->n - 1], depth + 1))
            return -1;
        skip_ws(p);
        if (p->pos >= p->n)
            return fail(p, "unterminated array");
        char c = p->s[p->pos++];
        if (c == ']')
            return 0;
        if (c != ',')
            return fail(p, "expected ',' or ']'");
    }
}

static int parse_object(parser *p, sbr_json *v, int depth)
{
    int cap = 0;
    v->type = SBR_JOBJ;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != '"')
            return fail(p, "expected a string key");
        push_child(v, &cap);
        size_t klen;
        if (parse_string(p, &v->keys[v->n - 1], &klen))
            return -1;
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != ':')
            return fail(p, "expected ':'");
        p->pos++;
        if (parse_value(p, &v->items[v->n - 1], depth + 1))
            return -1;
        skip_ws(p);
        if (p->pos >= p->n)
            return fail(p, "unterminated object");
        char c = p->s[p->pos++];
        if (c == '}')
            return 0;
        if (c != ',')
            return fail(p, "expected ',' or '}'");
    }
}

static int parse_value(parser *p, sbr_json *v, int depth)
{
    if (depth > SBR_JSON_MAX_DEPTH)
        return fail(p, "nested too deeply");
    skip_ws(p);
    if (p->pos >= p->n)
        return fail(p, "unexpected end");
    char c = p->s[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, v, depth);
    case '[':
        return parse_array(p, v, depth);
    case '"':
        v->type = SBR_JSTR;
        return parse_string(p, &v->str, &v->len);
    case 't':
        v->type = SBR_JBOOL;
        v->boolean = 1;
        return expect_word(p, "true");
    case 'f':
        v->type = SBR_JBOOL;
        return expect_word(p, "false");
    case 'n':
        v->type = SBR_JNULL;
        return expect_word(p, "null");
    default:
        return parse_number(p, v);
    }
}

int sbr_json_parse(const char *text, size_t n, sbr_json *out, sbr_err *e)
{
    parser p = {text, n, 0, e};
    memset(out, 0, sizeof *out);
    if (parse_value(&p, out, 0)) {
        sbr_json_free(out);
        return -1;
    }
    skip_ws(&p);
    if (p.pos != p.n) {
        sbr_json_free(out);
        return fail(&p, "trailing characters after the value");
    }
    return 0;
}

void sbr_json_free(sbr_json *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        sbr_json_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const sbr_json *sbr_json_get(const sbr_json *obj, const char *key)
{
    if (!obj || obj->type != SBR_JOBJ)
        return NULL;
    for (int i = 0; i < obj->n; i++)
        if (obj->keys[i] && strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

/* --- writing ------------------------------------------------------------- */

void sbr_buf_put(sbr_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = sbr_xrealloc(b->s, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sbr_buf_puts(sbr_buf *b, const char *s) { sbr_buf_put(b, s, strlen(s)); }

void sbr_buf_printf(sbr_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        va_end(ap2);
        return;
    }
    sbr_buf_put(b, "", 0);
    if (b->len + (size_t)k + 1 > b->cap) {
        size_t cap = b->cap;
        while (cap < b->len + (size_t)k + 1)
            cap *= 2;
        b->s = sbr_xrealloc(b->s, cap);
        b->cap = cap;
    }
    vsnprintf(b->s + b->len, (size_t)k + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)k;
}

void sbr_buf_json_str(sbr_buf *b, const char *s)
{
    sbr_buf_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"':
            sbr_buf_puts(b, "\\\"");
            break;
        case '\\':
            sbr_buf_puts(b, "\\\\");
            break;
        case '\n':
            sbr_buf_puts(b, "\\n");
            break;
        case '\t':
            sbr_buf_puts(b, "\\t");
            break;
        case '\r':
            sbr_buf_puts(b, "\\r");
            break;
        default:
            if (*c < 0x20)
                sbr_buf_printf(b, "\\u%04x", *c);
            else
                sbr_buf_put(b, (const char *)c, 1);
        }
    }
    sbr_buf_put(b, "\"", 1);
}

void sbr_buf_free(sbr_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}
