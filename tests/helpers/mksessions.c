/* Test helper: writes a hand-made sessions file (kind sbr.sessions).
 *   mksessions N_ITEMS MIN_PREFIX PATH < SPEC
 * SPEC: one session a line, "SPLIT ID ID ..." with SPLIT train, valid or
 * test and internal item ids (1..N_ITEMS the catalogue); sessions keep their
 * order within a split. Original ids are 100 + the internal id. For tests
 * whose expected figures are worked out by hand from the sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "sessions.h"

/* Appends one session's ids (the rest of a line) to split sp. */
static void add_session(sbr_split *sp, char *ids, int64_t *n_ids, int lineno)
{
    int64_t at = sp->n_sessions ? sp->offsets[sp->n_sessions] : 0;
    sp->offsets = sbr_xrealloc(sp->offsets, sizeof(int64_t) * (size_t)(sp->n_sessions + 2));
    sp->offsets[0] = 0;
    for (char *tok = strtok(ids, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
        long v = strtol(tok, NULL, 10);
        if (v < 1)
            sbr_fatal("-:%d: item id '%s' is not >= 1", lineno, tok);
        sp->items = sbr_xrealloc(sp->items, sizeof(int32_t) * (size_t)(at + 1));
        sp->items[at++] = (int32_t)v;
        *n_ids = v > *n_ids ? v : *n_ids;
    }
    sp->offsets[++sp->n_sessions] = at;
}

int main(int argc, char **argv)
{
    sbr_cli_begin("mksessions", argc, argv);
    if (argc != 4)
        sbr_usage_error("usage: mksessions N_ITEMS MIN_PREFIX PATH < SPEC");
    sbr_sessions s;
    memset(&s, 0, sizeof s);
    s.n_items = s.n_ids = atoll(argv[1]);
    s.min_prefix = atoi(argv[2]);
    char line[4096];
    for (int lineno = 1; fgets(line, sizeof line, stdin); lineno++) {
        char *rest = line + strcspn(line, " \t");
        int k = 0;
        while (k < SBR_NSPLITS && strncmp(line, sbr_split_names[k], strlen(sbr_split_names[k])))
            k++;
        if (k == SBR_NSPLITS || rest == line + strlen(line))
            sbr_fatal("-:%d: expected 'train|valid|test ID...'", lineno);
        add_session(&s.split[k], rest, &s.n_ids, lineno);
    }
    s.original = sbr_xmalloc(sizeof(int64_t) * (size_t)(s.n_ids + 1));
    s.original[0] = -1;
    for (int64_t i = 1; i <= s.n_ids; i++)
        s.original[i] = 100 + i;
    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_sessions_add_to(&s, w);
    sbr_err e;
    if (sbr_tw_write(w, argv[3], SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", argv[3], e.msg);
    sbr_tw_free(w);
    return 0;
}
