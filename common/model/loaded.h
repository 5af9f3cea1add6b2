/* A trained model file opened for inference: the model on a device, its
 * item-id map and its CLIP-SBR cluster map. Shared by sbr-infer and tests. */
#ifndef SBR_MODEL_LOADED_H
#define SBR_MODEL_LOADED_H

#include "model/batch.h"
#include "model/model.h"
#include "sessions.h"
#include "task.h"
#include "tfile.h"

typedef struct {
    sbr_tfile file;
    sbr_model m;
    const int64_t *original; /* [n_items + 1] original item ids */
    sbr_clip_map clip;       /* cluster NULL when the model has no prompts */
    int min_prefix;
    sbr_task task;           /* the task its epoch was selected under (task.h) */
} sbr_loaded_model;

/* Reads a model file and builds the model on prec for batches of max_B,
 * catalogue chunks of `chunk` items and top-K lists of up to max_k. */
int sbr_loaded_open(sbr_loaded_model *lm, const char *path, sbr_prec prec, int max_B, int chunk,
                    int max_k, sbr_err *e);
/* The same for a file already read (sbr-infer looks at its model name
 * first): lm takes f over, and frees it with itself, on failure too. */
int sbr_loaded_open_file(sbr_loaded_model *lm, sbr_tfile *f, sbr_prec prec, int max_B, int chunk,
                         int max_k, sbr_err *e);
void sbr_loaded_close(sbr_loaded_model *lm);
/* Checks that s was prepared like the model's training data: same catalogue
 * and the same original ids. */
int sbr_loaded_check_sessions(const sbr_loaded_model *lm, const sbr_sessions *s, sbr_err *e);

#endif
