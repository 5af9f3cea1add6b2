/* A small strict JSON parser (RFC 8259) for file headers, and helpers to
 * write JSON. Parsing is bounded: nesting depth, and every error says where. */
#ifndef SBR_JSON_H
#define SBR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SBR_JNULL, SBR_JBOOL, SBR_JNUM, SBR_JSTR, SBR_JARR, SBR_JOBJ } sbr_jtype;

typedef struct sbr_json {
    sbr_jtype type;
    int boolean;
    double num;
    int is_int;      /* number written without fraction/exponent and fits int64 */
    int64_t i;       /* its value when is_int */
    char *str;       /* SBR_JSTR: decoded UTF-8, NUL-terminated */
    size_t len;      /* string length in bytes (may contain NUL) */
    int n;           /* SBR_JARR/SBR_JOBJ: number of children */
    struct sbr_json *items; /* [n] children */
    char **keys;     /* SBR_JOBJ: [n] keys */
} sbr_json;

#define SBR_JSON_MAX_DEPTH 64

/* Parses exactly one JSON value (surrounding whitespace allowed). */
int sbr_json_parse(const char *text, size_t n, sbr_json *out, sbr_err *e);
void sbr_json_free(sbr_json *v);
/* Child of an object by key (first match), or NULL. */
const sbr_json *sbr_json_get(const sbr_json *obj, const char *key);

/* A growable string buffer, always NUL-terminated. */
typedef struct {
    char *s;
    size_t len, cap;
} sbr_buf;

void sbr_buf_put(sbr_buf *b, const char *s, size_t n);
void sbr_buf_puts(sbr_buf *b, const char *s);
void sbr_buf_printf(sbr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void sbr_buf_json_str(sbr_buf *b, const char *s);
void sbr_buf_free(sbr_buf *b);

#ifdef __cplusplus
}
#endif

#endif
