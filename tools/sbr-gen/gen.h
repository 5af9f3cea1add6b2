/* The synthetic session model of sbr-gen (docs/PREP.md, "Synthetic data").
 *
 * Items fall into clusters; inside a cluster item popularity follows a power
 * law. Each item has a few fixed successors in its cluster, and a session is
 * a walk that mostly follows them (strongly predictable), sometimes repeats
 * an earlier item, sometimes picks a popular item of its cluster and rarely
 * jumps to another cluster. Users come back for several sessions. Everything
 * is a pure function of the seed. */
#ifndef SBR_GEN_H
#define SBR_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum { GEN_TSV = 0, GEN_KAGGLE = 1 } gen_layout;

typedef struct {
    int64_t clicks;    /* view clicks to write */
    int64_t items;     /* catalogue size */
    int64_t clusters;
    int64_t users;     /* 0: sessions / 3 */
    double days;       /* time span */
    int64_t start;     /* Unix seconds of the first session */
    uint64_t seed;
    gen_layout layout;
    double p_follow, p_repeat, p_cluster; /* the rest jumps to a random cluster */
    /* probability that a returning user's session starts in, and a jump to a
     * random cluster goes to, that user's home cluster (a general interest;
     * 0: users carry no signal, the default) */
    double user_interest;
} gen_opts;

void gen_defaults(gen_opts *o);
/* Writes the log to fp; returns -1 with e set when a write fails. */
int gen_write(const gen_opts *o, FILE *fp, int64_t *rows_out, int64_t *sessions_out, sbr_err *e);

#endif
