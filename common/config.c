#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "io.h"

typedef struct {
    char **v;
    int n, cap;
} arglist;

static void push(arglist *a, char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? 2 * a->cap : 32;
        a->v = sbr_xrealloc(a->v, sizeof *a->v * (size_t)a->cap);
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static const struct option *find(const struct option *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* One line `key = value` (or `key`) as "--key" "value" into out. */
static void config_line(const char *path, int lineno, char *line, const struct option *table,
                        arglist *out)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *key = trim(line), *eq = strchr(key, '='), *value = NULL;
    if (!*key)
        return;
    if (eq) {
        *eq = 0;
        key = trim(key), value = trim(eq + 1);
        size_t n = strlen(value);
        if (n >= 2 && ((value[0] == '"' && value[n - 1] == '"') ||
                       (value[0] == '\'' && value[n - 1] == '\'')))
            value[n - 1] = 0, value++;
    }
    for (char *p = key; *p; p++)
        if (*p == '_')
            *p = '-'; /* the metadata's spelling of an option */
    const struct option *o = find(table, key);
    if (!o || strcmp(key, "config") == 0)
        sbr_usage_error("%s:%d: unknown option '%s'", path, lineno, key);
    if (o->has_arg == no_argument && value)
        sbr_usage_error("%s:%d: '%s' is a flag: write it alone", path, lineno, key);
    if (o->has_arg == required_argument && (!value || !*value))
        sbr_usage_error("%s:%d: '%s' needs a value ('%s = ...')", path, lineno, key, key);
    size_t n = strlen(key) + 3;
    char *flag = sbr_xmalloc(n);
    snprintf(flag, n, "--%s", key);
    push(out, flag);
    if (value)
        push(out, sbr_xstrdup(value));
}

/* Reads FILE whole (which records it in sbr.inputs with its digest). */
static void read_config(const char *path, const struct option *table, arglist *out)
{
    uint8_t *text = NULL;
    size_t n = 0;
    sbr_err e;
    if (strcmp(path, "-") == 0)
        sbr_usage_error("--config: a file, not standard input");
    if (sbr_read_all(path, &text, &n, &e))
        sbr_fatal("%s: cannot read the config file: %s", path, e.msg);
    if (memchr(text, 0, n))
        sbr_usage_error("%s: not a text file", path);
    char *copy = sbr_xmalloc(n + 1);
    memcpy(copy, text, n);
    copy[n] = 0;
    free(text);
    int lineno = 1;
    for (char *p = copy, *nl; p && *p; p = nl ? nl + 1 : NULL, lineno++) {
        if ((nl = strchr(p, '\n')))
            *nl = 0;
        config_line(path, lineno, p, table, out);
    }
    /* copy stays: the arguments point into it */
}

void sbr_cli_config(int *argc, char ***argv, const struct option *table)
{
    int at = -1;
    const char *path = NULL;
    for (int i = 1; i < *argc && strcmp((*argv)[i], "--"); i++) {
        if (strcmp((*argv)[i], "--config") == 0) {
            if (i + 1 >= *argc)
                sbr_usage_error("--config needs a FILE");
            at = i, path = (*argv)[i + 1];
        } else if (strncmp((*argv)[i], "--config=", 9) == 0) {
            at = i, path = (*argv)[i] + 9;
        }
        if (at >= 0)
            break;
    }
    if (at < 0)
        return;
    arglist out = {0};
    int skip = strchr((*argv)[at], '=') ? 1 : 2;
    for (int i = 0; i < at; i++)
        push(&out, (*argv)[i]);
    read_config(path, table, &out); /* in place of --config FILE */
    for (int i = at + skip; i < *argc; i++)
        push(&out, (*argv)[i]);
    *argc = out.n;
    *argv = out.v;
    sbr_cli_set_args(out.n, out.v);
}
