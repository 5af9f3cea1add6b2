/* Hyper-parameters a model declares: each option has a name, a type, a
 * default, a range and one line of help; sbr-train parses them generically
 * (--NAME VALUE, underscores written as dashes), prints them with
 * --help-model, writes every resolved value into the model file, and
 * sbr-infer reads them back through the same ranges. Presets are named sets
 * of values (the official code's per-dataset settings). */
#ifndef SBR_MODEL_OPTIONS_H
#define SBR_MODEL_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "err.h"

typedef enum { SBR_OPT_INT, SBR_OPT_REAL, SBR_OPT_CHOICE } sbr_opt_type;

typedef struct {
    const char *name;            /* "max_len": --max-len on the command line, the metadata key */
    sbr_opt_type type;
    double def, lo, hi;          /* default and range [lo, hi]; CHOICE: def is an index */
    const char *const *choices;  /* CHOICE: the names, NULL-terminated; the value is the index */
    const char *help;            /* one line */
} sbr_opt;

#define SBR_OPT_I(name, def, lo, hi, help) {name, SBR_OPT_INT, def, lo, hi, NULL, help}
#define SBR_OPT_R(name, def, lo, hi, help) {name, SBR_OPT_REAL, def, lo, hi, NULL, help}
#define SBR_OPT_C(name, def, choices, help) {name, SBR_OPT_CHOICE, def, 0, 0, choices, help}
/* The options the framework itself reads (model.h: sbr_model.d, max_len, ...). */
#define SBR_OPT_DIM(def) SBR_OPT_I("dim", def, 1, 4096, "embedding size d")
#define SBR_OPT_MAX_LEN(def) \
    SBR_OPT_I("max_len", def, 0, 100000, "keep the last N clicks of a prefix (0: all)")

/* A named set of option values, "NAME=VALUE ..." (sbr-train --preset). */
typedef struct {
    const char *name, *values, *about;
} sbr_preset;

#define SBR_MODEL_MAX_OPTS 24

/* How CLIP-SBR's front normalises the item embeddings and prompts before
 * gating them (body/front.h): along each vector's features (the paper's
 * reading, default), along the sequence of a session's clicks (the official
 * code's GRU4Rec and NARM), or not at all (its SR-GNN). */
typedef enum {
    SBR_PROMPT_NORM_FEATURE = 0,
    SBR_PROMPT_NORM_SEQUENCE = 1,
    SBR_PROMPT_NORM_NONE = 2
} sbr_prompt_norm;
extern const char *const sbr_prompt_norm_names[]; /* "feature", "sequence", "none", NULL */

/* The resolved configuration of a model. */
typedef struct {
    char model[32];        /* "gru4rec", "narm", ... */
    char preset[32];       /* the preset applied, or "" */
    const sbr_opt *opts;   /* the model's options ({0}-terminated) */
    double opt[SBR_MODEL_MAX_OPTS]; /* their values, in that order */
    int n_items;           /* catalogue N: items 1..N */
    int n_clusters;        /* CLIP-SBR prompts: clusters 1..C (0: off) */
    sbr_prompt_norm prompt_norm; /* CLIP-SBR: the axis the front normalises along */
    int user_prompts;      /* CLIP-SBR: 1 with a prompt per logged-in user (1..n_users) */
    int has_gate_bias;     /* CLIP-SBR: 1 when the prompt gate's bias starts at gate_bias */
    double gate_bias;      /* (else uniform like every other bias) */
    int n_users;           /* logged-in users the model knows: 1..U (0: none; model_users.c) */
    uint64_t seed;
    double init_scale;     /* uniform(-s, s) init; 0: each model's own (tests set it) */
    /* Run-time sizes (not stored in model files): op scratch is reserved for
     * catalogue chunks of `chunk` items and top-K lists of up to `max_k`. */
    int chunk, max_k;
} sbr_model_cfg;

/* Index of an option of c's model, -1 when it has none of that name. */
int sbr_cfg_find(const sbr_model_cfg *c, const char *name);
/* The value of an option the model must have (a missing one is a bug). */
double sbr_cfg_get(const sbr_model_cfg *c, const char *name);
int sbr_cfg_int(const sbr_model_cfg *c, const char *name);
/* The value, or `dflt` when the model has no such option. */
double sbr_cfg_get_or(const sbr_model_cfg *c, const char *name, double dflt);
/* Sets an option (range-checked): -1 with e set when the model has no such
 * option or the value is outside its range. */
int sbr_cfg_set(sbr_model_cfg *c, const char *name, double v, sbr_err *e);
/* Sets it when the model has it (tests giving every model a small size). */
void sbr_cfg_set_if(sbr_model_cfg *c, const char *name, double v);
/* Parses "VALUE" for option `name` (an integer, a number or a choice's
 * name) and sets it; -1 with e set (naming the option and its range). */
int sbr_cfg_parse(sbr_model_cfg *c, const char *name, const char *text, sbr_err *e);
/* The same for option i, the message without the option's name (file readers prefix their own). */
int sbr_cfg_parse_value(sbr_model_cfg *c, int i, const char *text, sbr_err *e);
/* Applies a preset by name ("" or NULL: none); -1 with e set. */
int sbr_cfg_preset(sbr_model_cfg *c, const sbr_preset *presets, const char *name, sbr_err *e);
/* Checks every value against its range: -1 with e set naming the first bad one. */
int sbr_cfg_check(const sbr_model_cfg *c, sbr_err *e);
/* Writes option i's value as text ("0.25", "max") into buf. */
void sbr_opt_format(const sbr_opt *o, double v, char *buf, size_t n);
/* Its range as text ("1..4096", "0..0.99", "max|sum"). */
void sbr_opt_range(const sbr_opt *o, char *buf, size_t n);
/* "max_len" -> "max-len" (the command-line spelling). */
void sbr_opt_flag(const char *name, char *buf, size_t n);
/* The word --help shows for its value: N, X or NAME. */
const char *sbr_opt_type_word(const sbr_opt *o);
/* The --help list of options: one line per name, its flag and then what
 * owners(out, name) prints (the models or methods that have it). */
void sbr_opt_help_list(FILE *out, const char *const *names, int n,
                       void (*owners)(FILE *out, const char *name));

#endif
