/* The evaluation task, defined once for every stage (sbr-train's per-epoch
 * evaluation, sbr-infer, sbr-score, the kNN baselines, the metrics):
 *
 *   standard     every (prefix, next item) sample is ranked against the
 *                whole catalogue; an item of the prefix may be recommended.
 *   next-unseen  ProxySR's protocol (section 4.2): a *repeat sample*, one
 *                whose target occurs in its prefix, is dropped (counted,
 *                never silently), and *the prefix's items* are never
 *                recommended: the ranking leaves them out.
 *
 * Files record the task under the metadata key "task" (model files: the
 * task the epoch was selected under; top-K files: the task the lists were
 * made for); a file without the key is of the standard task, as every file
 * written before the key existed was. */
#ifndef SBR_TASK_H
#define SBR_TASK_H

#include <stdint.h>

#include "err.h"
#include "tfile.h"

typedef enum { SBR_TASK_STANDARD = 0, SBR_TASK_NEXT_UNSEEN = 1 } sbr_task;

/* "standard", "next-unseen", NULL: the spellings of --task and of "task". */
extern const char *const sbr_task_names[];

const char *sbr_task_name(sbr_task t);

/* A repeat sample: its target is one of the prefix[0..len) clicks. */
int sbr_task_is_repeat(const int32_t *prefix, int len, int32_t target);

/* The items a next-unseen ranking leaves out: the prefix's clicks whose ids
 * are in the catalogue 1..n_items (others cannot be ranked anyway), in click
 * order, into out [len]. An item clicked twice is listed twice: every
 * consumer reads the list as a set. Returns how many. */
int sbr_task_prefix_items(const int32_t *prefix, int len, int64_t n_items, int32_t *out);

/* What the task does: drop a sample with this repeat flag? rank without the
 * prefix's items? */
int sbr_task_drops(sbr_task t, int repeat);
int sbr_task_excludes(sbr_task t);

/* The task a file records ("task"; absent: standard). -1 with e set when the
 * value is neither name. */
int sbr_task_of_file(const sbr_tfile *f, sbr_task *t, sbr_err *e);
/* Records t in a file being written. */
void sbr_task_add_to(sbr_task t, sbr_tw *w);

#endif
