/* Parts of the kNN methods shared by their files (not an API). */
#ifndef SBR_KNN_INTERNAL_H
#define SBR_KNN_INTERNAL_H

#include <math.h>

/* The choices of "weighting" / "weighting_score" (defs.c: decays). */
enum { SBR_DECAY_SAME, SBR_DECAY_DIV, SBR_DECAY_LINEAR, SBR_DECAY_LOG, SBR_DECAY_QUADRATIC };

/* session-rec's weight of a rule / neighbour i steps back (i >= 1): sr.py's
 * and vsknn.py's *_score functions. linear is 1 - 0.1 i, kept at 0 past i = 10
 * (session-rec's goes negative there). */
static inline double sbr_knn_step_decay(int f, int i)
{
    switch (f) {
    case SBR_DECAY_DIV: return 1.0 / i;
    case SBR_DECAY_LINEAR: return i <= 10 ? 1 - 0.1 * i : 0;
    case SBR_DECAY_LOG: return 1 / log10(i + 1.7);
    case SBR_DECAY_QUADRATIC: return 1.0 / ((double)i * i);
    default: return 1;
    }
}

/* V-SKNN's weight of prefix position i of n (1-based, vsknn.py's weighting).
 * linear is 1 - 0.1 (n - i), kept at 0 for clicks 10 or more back (session-rec
 * tests i <= 10 instead, which turns it negative in prefixes over 10 clicks). */
static inline double sbr_knn_pos_decay(int f, int i, int n)
{
    switch (f) {
    case SBR_DECAY_DIV: return (double)i / n;
    case SBR_DECAY_LINEAR: return n - i < 10 ? 1 - 0.1 * (n - i) : 0;
    case SBR_DECAY_LOG: return 1 / log10((n - i) + 1.7);
    case SBR_DECAY_QUADRATIC: return ((double)i / n) * ((double)i / n);
    default: return 1;
    }
}

#endif
