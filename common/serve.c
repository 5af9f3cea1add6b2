/* The line service of sbr-infer --stdin-text (serve.h). */
#include "serve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "idmap.h"
#include "json.h"

const char *const sbr_serve_format_names[] = {"text", "tsv", "jsonl", NULL};

/* Original id -> internal id: the catalogue's ids 1..n_items inserted in
 * order, so that sbr_idmap's dense id is the internal id - 1. */
static void idmap_build(sbr_idmap *m, const int64_t *original, int n_items)
{
    sbr_idmap_init(m);
    for (int id = 1; id <= n_items; id++)
        sbr_idmap_get(m, original[id]);
}

typedef struct {
    int32_t *ids;
    size_t cap;
    int n, unknown;
} request;

static int is_sep(char c) { return c == ' ' || c == ',' || c == '\t'; }

/* Parses one line into internal ids (unknown ids: n_items + 1); 0, or -1
 * with msg naming the token that is not an item id. */
static int parse_request(char *line, const sbr_idmap *map, int n_items, request *r, char *msg,
                         size_t cap)
{
    r->n = r->unknown = 0;
    for (char *p = line; *p;) {
        while (is_sep(*p))
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*end && !is_sep(*end)) || errno == ERANGE || v < 0) {
            size_t w = strcspn(p, " ,\t");
            snprintf(msg, cap, "\"%.*s\" is not an item id (a non-negative integer)",
                     (int)(w < 40 ? w : 40), p);
            return -1;
        }
        if ((size_t)r->n + 2 > r->cap) { /* + 1: the caller's placeholder target */
            r->cap = r->cap * 2 + 16;
            r->ids = sbr_xrealloc(r->ids, r->cap * sizeof(int32_t));
        }
        int32_t id = sbr_idmap_find(map, v) + 1; /* 0: not in the catalogue */
        r->unknown += !id;
        r->ids[r->n++] = id ? id : n_items + 1;
        p = end;
    }
    return 0;
}

static void put_error(sbr_buf *b, const sbr_serve_cfg *c, int64_t line, const char *msg)
{
    if (c->format == SBR_SERVE_TEXT) {
        sbr_buf_printf(b, "error: %s\n", msg);
    } else if (c->format == SBR_SERVE_TSV) {
        sbr_buf_printf(b, "%" PRId64 "\terror\t%s\n", line, msg);
    } else {
        sbr_buf_printf(b, "{\"line\":%" PRId64 ",\"error\":", line);
        sbr_buf_json_str(b, msg);
        sbr_buf_puts(b, "}\n");
    }
}

/* The answer's items (original ids) and scores, sep between entries. */
static void put_list(sbr_buf *b, const sbr_serve_cfg *c, const sbr_serve_answer *a, int scores,
                     const char *sep)
{
    for (int j = 0; j < a->k && a->items[j]; j++) {
        if (j)
            sbr_buf_puts(b, sep);
        if (scores)
            sbr_buf_printf(b, "%.6g", a->scores[j]);
        else
            sbr_buf_printf(b, "%" PRId64, c->original[a->items[j]]);
    }
}

static void put_unc(sbr_buf *b, const sbr_serve_answer *a, const char *sep)
{
    for (int i = 0; i < a->n_unc; i++)
        sbr_buf_printf(b, "%s%.6g", i ? sep : "", a->unc[i]);
}

static void put_answer(sbr_buf *b, const sbr_serve_cfg *c, int64_t line, int unknown,
                       const sbr_serve_answer *a)
{
    static const char *const unc_names[] = {"entropy", "top1", "spread"};
    if (c->format == SBR_SERVE_JSONL) {
        sbr_buf_printf(b, "{\"line\":%" PRId64 ",\"items\":[", line);
        put_list(b, c, a, 0, ",");
        sbr_buf_puts(b, "],\"scores\":[");
        put_list(b, c, a, 1, ",");
        sbr_buf_printf(b, "],\"unknown\":%d", unknown);
        for (int i = 0; i < a->n_unc; i++)
            sbr_buf_printf(b, ",\"%s\":%.6g", unc_names[i], a->unc[i]);
        sbr_buf_puts(b, "}\n");
        return;
    }
    if (c->format == SBR_SERVE_TSV)
        sbr_buf_printf(b, "%" PRId64 "\tok\t%d\t", line, unknown);
    put_list(b, c, a, 0, " ");
    if (c->format == SBR_SERVE_TSV) {
        sbr_buf_puts(b, "\t");
        put_list(b, c, a, 1, " ");
    }
    if (a->n_unc) { /* the ids stay space-separated; the numbers follow a tab */
        sbr_buf_puts(b, "\t");
        put_unc(b, a, " ");
    }
    sbr_buf_puts(b, "\n");
}

/* One request line to its answer in b. */
static void serve_one(sbr_buf *b, const sbr_serve_cfg *c, const sbr_idmap *map, request *r,
                      char *line, int64_t lineno, sbr_serve_counts *n, sbr_serve_answer *a)
{
    char msg[256];
    line[strcspn(line, "\r\n")] = 0;
    memset(a->items, 0, sizeof(int32_t) * (size_t)a->k);
    a->n_unc = 0;
    a->line = lineno;
    if (parse_request(line, map, c->n_items, r, msg, sizeof msg) == 0 &&
        (r->n == 0 || c->rank(c->user, r->ids, r->n, a, msg, sizeof msg) == 0)) {
        n->unknown_ids += r->unknown;
        put_answer(b, c, lineno, r->unknown, a);
        return;
    }
    n->errors++;
    fprintf(stderr, "%s: -:%" PRId64 ": %s\n", sbr_tool(), lineno, msg);
    put_error(b, c, lineno, msg);
}

int sbr_serve_lines(FILE *in, FILE *out, const sbr_serve_cfg *c, sbr_serve_counts *n)
{
    sbr_idmap map;
    idmap_build(&map, c->original, c->n_items);
    request r = {0};
    sbr_serve_answer a = {0, c->K, sbr_xcalloc((size_t)c->K, sizeof(int32_t)),
                          sbr_xcalloc((size_t)c->K, sizeof(float)), {0}, 0};
    sbr_buf b = {0};
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    memset(n, 0, sizeof *n);
    while (getline(&line, &lcap, in) >= 0) {
        b.len = 0;
        if (b.s)
            b.s[0] = 0;
        serve_one(&b, c, &map, &r, line, ++n->lines, n, &a);
        if (fwrite(b.s, 1, b.len, out) != b.len || fflush(out) != 0) {
            rc = -1;
            break;
        }
    }
    free(line);
    free(r.ids);
    free(a.items);
    free(a.scores);
    sbr_buf_free(&b);
    sbr_idmap_free(&map);
    return rc;
}
