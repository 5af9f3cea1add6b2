/* Session files (kind "sbr.sessions"): the train, valid and test splits in
 * CSR form, the map from internal to original item ids, and the prefix rule
 * that turns sessions into (prefix, next item) samples. Written by sbr-prep,
 * read by every later stage. Schema: docs/FORMAT.md.
 *
 * Item ids: 1..n_items are the catalogue (items seen in training, numbered by
 * first appearance in the time-ordered training sessions); n_items+1..n_ids
 * are items seen only in valid/test (kept with --unseen keep): models cannot
 * score them, so such a target is always a miss. 0 is padding and never
 * appears in a session. */
#ifndef SBR_SESSIONS_H
#define SBR_SESSIONS_H

#include <stdint.h>

#include "err.h"
#include "tfile.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SBR_TRAIN = 0, SBR_VALID = 1, SBR_TEST = 2, SBR_NSPLITS = 3 };
extern const char *const sbr_split_names[SBR_NSPLITS]; /* "train", "valid", "test" */

typedef struct {
    int64_t n_sessions;
    int64_t *offsets; /* [n_sessions + 1], offsets[0] = 0, non-decreasing */
    int32_t *items;   /* [offsets[n_sessions]] internal item ids in click order */
    int64_t *times;   /* [offsets[n_sessions]] Unix seconds per click, or NULL */
    int64_t *users;   /* [n_sessions] original user id (-1: anonymous), or NULL */
    /* 1 when each session holds one pre-expanded sample (prefix + target, as
     * in the SR-GNN test pickles): only its last item is a target. */
    int last_only;
} sbr_split;

typedef struct {
    sbr_split split[SBR_NSPLITS];
    int64_t n_items;   /* catalogue size: ids 1..n_items */
    int64_t n_ids;     /* largest id in any split (>= n_items) */
    int64_t *original; /* [n_ids + 1] original id of each internal id; [0] = -1 */
    int min_prefix;    /* samples keep prefixes of at least this many items */
    sbr_tfile *file;   /* backing storage when read from a file, else NULL */
} sbr_sessions;

/* Reads and validates a sessions file: kind, every tensor's dtype and shape,
 * offsets monotone and in range, item ids in 1..n_ids, the id map. */
int sbr_sessions_read(const char *path, sbr_sessions *s, sbr_err *e);
/* Adds the tensors and metadata (n_items, n_ids, min_prefix, per-split
 * counts) of s to a writer; the tool adds its own metadata and writes. */
void sbr_sessions_add_to(const sbr_sessions *s, sbr_tw *w);
/* The sessions of a refit (sbr-train --select refit): out's training split
 * is s's training then validation sessions (in that order: the validation
 * split is the most recent training sessions), its validation split empty,
 * its test split and id map copies of s's. out owns its arrays. -1 with e
 * set when the two splits cannot be joined (one is last_only). */
int sbr_sessions_refit(const sbr_sessions *s, sbr_sessions *out, sbr_err *e);
/* Frees arrays owned by s (those not backed by s->file). */
void sbr_sessions_free(sbr_sessions *s);

/* Samples of a split under the prefix rule: for a session s of length n,
 * for i = 1, 2, ...: (s[:n-i], s[n-i]) — longest prefix first — keeping
 * prefixes of at least min_prefix items (for last_only splits: only i = 1).
 * The SR-GNN benchmark order. */
typedef struct {
    int64_t n;
    int64_t *session;   /* [n] session index in the split */
    int32_t *prefix_len; /* [n] prefix length; the target is items[off + prefix_len] */
} sbr_samples;

void sbr_samples_build(const sbr_split *sp, int min_prefix, sbr_samples *out);
int64_t sbr_samples_count(const sbr_split *sp, int min_prefix);
void sbr_samples_free(sbr_samples *smp);

#ifdef __cplusplus
}
#endif

#endif
