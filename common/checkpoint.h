/* Model checkpoints (kind "sbr.model"): everything training needs to resume
 * bit-identically — the model config, the parameters, the Adam moments and
 * step count, the RNG state and the position (epoch, step).
 *
 * Tensors: "param.NAME", and when an optimizer state is saved "adam_m.NAME"
 * and "adam_v.NAME", one per tensor of the parameter arena (F32 or F64 as
 * the arena holds them). Metadata: "config" (the model's JSON text, opaque
 * here), "epoch", "step", "adam.t", "rng.seed", "rng.counter" (decimal),
 * "precision" ("f32"/"f64"). Arenas must be in host memory: a CUDA trainer
 * copies its arenas down first. */
#ifndef SBR_CHECKPOINT_H
#define SBR_CHECKPOINT_H

#include <stdint.h>

#include "err.h"
#include "nn/arena.h"
#include "rng.h"
#include "tfile.h"

#define SBR_KIND_MODEL "sbr.model"

typedef struct {
    const char *config;        /* model config, JSON text ("{}" when NULL) */
    const sbr_arena *params;   /* host arena */
    const sbr_arena *adam_m;   /* Adam moments with the layout of params, or NULL */
    const sbr_arena *adam_v;
    int64_t adam_t;            /* Adam steps taken */
    sbr_rng rng;
    int64_t epoch, step;
} sbr_checkpoint;

/* Writes a checkpoint ("-" = stdout) at a zstd level (0: plain). */
int sbr_checkpoint_write(const char *path, const sbr_checkpoint *ck, int level, sbr_err *e);

typedef struct {
    sbr_tfile file;
    const char *config; /* points into file */
    int64_t epoch, step, adam_t;
    sbr_rng rng;
    int has_adam;
} sbr_checkpoint_file;

/* Reads and checks a checkpoint file: kind, metadata present and well formed.
 * Errors are prefixed with the path. */
int sbr_checkpoint_open(const char *path, sbr_checkpoint_file *cf, sbr_err *e);
/* Copies the tensors of a group ("param", "adam_m" or "adam_v") into a
 * committed host arena of the same layout: every tensor of the arena must be
 * in the file with its shape and the arena's element type, and the file may
 * hold no other tensor of that group. The error names the tensor. */
int sbr_checkpoint_load(const sbr_checkpoint_file *cf, const char *group, sbr_arena *a,
                        sbr_err *e);
void sbr_checkpoint_close(sbr_checkpoint_file *cf);

#endif
