/* sbr-infer --stdin-text: a recommendation service over lines. Each line of
 * input is one request (original item ids separated by spaces, commas or
 * tabs) and gets exactly one line of answer, in order, flushed: the K best
 * items, or, for a line that is not a list of item ids, an error answer
 * (and a message on stderr) after which the service goes on. Ids the model
 * does not know are passed on as unseen items, counted per line and in all.
 *
 *   text  (default)  "id id id", with --uncertainty a tab and "entropy top1
 *                     [spread]"; an error: "error: MESSAGE"
 *   tsv              LINE <tab> ok <tab> UNKNOWN <tab> "id id .." <tab>
 *                     "score score .." [<tab> "entropy top1 [spread]"];
 *                     an error: LINE <tab> error <tab> MESSAGE
 *   jsonl            {"line":N,"items":[..],"scores":[..],"unknown":U
 *                     [,"entropy":E,"top1":P[,"spread":S]]};
 *                     an error: {"line":N,"error":"MESSAGE"}
 * LINE counts from 1. docs/TRAINING.md has the recipe to serve it on a TCP
 * port. */
#ifndef SBR_SERVE_H
#define SBR_SERVE_H

#include <stdint.h>
#include <stdio.h>

typedef enum { SBR_SERVE_TEXT, SBR_SERVE_TSV, SBR_SERVE_JSONL } sbr_serve_format;

extern const char *const sbr_serve_format_names[]; /* "text", "tsv", "jsonl", NULL */

/* One request's answer, filled by the ranker: up to k items (internal ids,
 * 0 ends a short list) with their scores, and the uncertainty numbers
 * (n_unc of them: 0, 2 or 3); line is the request's (from 1), for rankers
 * that draw per request; k the list length asked (the config's K). */
typedef struct {
    int64_t line;
    int k;
    int32_t *items; /* [k] */
    float *scores;  /* [k] */
    float unc[3];
    int n_unc;
} sbr_serve_answer;

/* ranks ids [n] (internal; unknown ones are n_items + 1; ids[n] is room the
 * ranker may write, a placeholder target); 0, or -1 with msg: an error answer */
typedef int (*sbr_serve_rank_fn)(void *user, int32_t *ids, int n, sbr_serve_answer *ans,
                                 char *msg, size_t cap);

typedef struct {
    const int64_t *original; /* [n_items + 1]: internal id -> original id */
    int n_items;
    int K;                   /* list length, at most n_items */
    sbr_serve_format format;
    sbr_serve_rank_fn rank;
    void *user;
} sbr_serve_cfg;

typedef struct {
    int64_t lines, errors, unknown_ids;
} sbr_serve_counts;

/* Answers every line of in on out until end of input; -1 when out fails
 * (counts as far as they went), else 0. */
int sbr_serve_lines(FILE *in, FILE *out, const sbr_serve_cfg *c, sbr_serve_counts *n);

#endif
