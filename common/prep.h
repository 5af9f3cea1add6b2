/* The preparation protocol: from clicks (clicklog.h) or benchmark pickles to
 * the train/valid/test session splits of a sessions file (sessions.h).
 *
 * Raw logs, in this order (docs/PREP.md):
 *   1. group clicks by session key, order each session's clicks by time
 *      (stable: ties keep file order); with a user key, cut sessions at
 *      inactivity gaps longer than gap_s, or with cut_days at each UTC
 *      midnight (ProxySR: one user's clicks of one calendar day);
 *   2. drop repeated identical clicks (same item, same time) when dedup;
 *   3. drop sessions shorter than pre_min_len;
 *   4. drop clicks on items seen fewer than min_support times, then sessions
 *      shorter than min_len (repeated until nothing changes when iterate);
 *   5. keep the last max_len clicks of longer sessions (0: no limit);
 *   6. date each session (its last click, or the date the file gives) and
 *      split: test = dated after max date - test_days, train = before;
 *      sessions dated exactly at the split time go to neither (SR-GNN);
 *   7. order each split by date (ties: first appearance in the file);
 *      with recent_den > 0 keep only the training sessions from the one
 *      owning sample S - floor(S * recent_num / recent_den) on (SR-GNN's
 *      yoochoose1_64; S samples under the prefix rule, longest prefix of a
 *      session first); valid = the last valid_frac of the training sessions;
 *   8. number items 1..N by first appearance over train then valid; test
 *      items unseen there are dropped (then test sessions left with fewer
 *      than min_prefix + 1 items) or kept as ids N+1... (after a recent cut
 *      only those of the training sessions before the cut: SR-GNN filters
 *      the test set against the full training dictionary).
 * With split[] set, steps 6-8 are ProxySR's instead: all sessions ordered
 * by date (ties: first appearance) and cut by count, train = the first
 * floor(S * a / (a+b+c)), valid up to floor(S * (a+b) / (a+b+c)), test the
 * rest; items numbered over train alone, valid and test items unseen there
 * dropped (or kept as ids N+1...), then valid and test sessions shorter
 * than max(min_len, min_prefix + 1).
 * Every rule that drops something adds a named count. */
#ifndef SBR_PREP_H
#define SBR_PREP_H

#include <stdint.h>

#include "clicklog.h"
#include "err.h"
#include "sessions.h"

typedef struct {
    double gap_s;       /* inactivity gap that ends a session (user-keyed logs) */
    int dedup;          /* drop repeated identical clicks */
    int pre_min_len;    /* sessions shorter than this dropped before counting support */
    int min_support;    /* clicks on items seen fewer times dropped */
    int min_len;        /* sessions shorter than this dropped after the item filter */
    int iterate;        /* repeat the support and length filters until stable */
    int max_len;        /* keep the last max_len clicks (0 = no limit) */
    double test_days;   /* test = sessions dated after max date - test_days (0: no test) */
    double valid_frac;  /* last fraction of the training sessions -> valid */
    int64_t recent_num, recent_den; /* keep the training sessions of the most recent
                                       num/den of the samples (0/0: all) */
    int unseen_keep;    /* keep test items unseen in training (ids n_items+1..) */
    int min_prefix;     /* the prefix rule recorded in the file */
    int cut_days;       /* user-keyed logs: a session is a user's clicks of one UTC day */
    int64_t split[3];   /* train:valid:test proportions of a split by count, as
                           integers (0.8:0.1:0.1 is 8:1:1); all 0: test_days and
                           valid_frac split instead */
} sbr_prep_opts;

/* Defaults of the published recipe of a layout. */
void sbr_prep_defaults(sbr_format f, sbr_prep_opts *o);

/* Named counts of what each rule dropped (and a few totals). */
#define SBR_MAX_COUNTS 40
typedef struct {
    int n;
    struct {
        char name[48];
        int64_t v;
    } c[SBR_MAX_COUNTS];
} sbr_counts;

void sbr_counts_add(sbr_counts *c, const char *name, int64_t v);
int64_t sbr_counts_get(const sbr_counts *c, const char *name); /* 0 if absent */

/* sbr_prep_log's answer when an option does not fit the data (a split
 * part that leaves its split empty): the caller's misuse, not bad input. */
#define SBR_PREP_MISUSE (-2)

/* Raw log -> sessions. Consumes the clicks (their arrays are freed as soon
 * as they are no longer needed, to keep the peak memory low); g's id maps
 * stay valid until sbr_log_free. 0, -1 (bad input) or SBR_PREP_MISUSE,
 * with e set. */
int sbr_prep_log(sbr_clicklog *g, const sbr_prep_opts *o, sbr_sessions *out, sbr_counts *cnt,
                 sbr_err *e);

/* SR-GNN pickles -> sessions. train_seq: all_train_seq.txt bytes, or with
 * train_pairs = 1 the (prefixes, targets) of a train.txt (then train and
 * valid hold one pre-expanded sample per session, last_only); train_pairs
 * < 0: decided by the pickle (a tuple root is a train.txt); test:
 * test.txt bytes (NULL: no test split). min_prefix <= 0: inferred as the
 * shortest test prefix (1 without a test file); *min_prefix_inferred says
 * which. Names are used in messages. */
int sbr_prep_srgnn(const uint8_t *train_seq, size_t n_train, const char *train_name,
                   int train_pairs, const uint8_t *test, size_t n_test, const char *test_name,
                   const sbr_prep_opts *o, sbr_sessions *out, sbr_counts *cnt,
                   int *min_prefix_inferred, sbr_err *e);

/* Checks a train.txt against the train + valid sessions of s (prepared from
 * all_train_seq.txt): its pairs must be their expansion, longest prefix
 * first, down to the shortest prefix the file holds. *first_diff = -1 when
 * they agree, else the index of the first pair that differs. */
int sbr_prep_srgnn_check_pairs(const sbr_sessions *s, const uint8_t *buf, size_t n,
                               const char *name, int64_t *n_pairs, int64_t *first_diff, sbr_err *e);

#endif
