/* What a model declares (one file, common/models/NAME.c, one line in
 * common/models/models.def; docs/CONTRIBUTING.md walks through one):
 *
 *   - its options and presets (model/options.h);
 *   - its parameters: a struct of `real *` members with a shape comment on
 *     each, bound by name from the parameter arena, and the same struct for
 *     the gradients (sbr_weights + sbr_param below). At creation every member
 *     must have been declared once (or left NULL on purpose with
 *     sbr_param_none): a member forgotten or declared twice stops the
 *     program with its model's name;
 *   - its activations: a struct of typed pointers, and one function that
 *     lays them out over a base (sbr_lay) for the largest batch: run without
 *     a base it gives their exact size, so no size is written by hand (the
 *     gradient buffers a backward zeroes together are cut from one block by
 *     one function both call: R(sbr_cut), model/body.h);
 *   - forward (S from a batch) and backward (parameter gradients from dS);
 *   - rarely, its own scoring of the catalogue (`score`: TAGNN), where a
 *     candidate's score is not S . E.
 *
 * The definition is precision-independent; the bodies are compiled per
 * precision (model/body.h), each instance defining its own sbr_model_def. */
#ifndef SBR_MODEL_DEF_H
#define SBR_MODEL_DEF_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* The shapes a layout is made for: a batch of B prefixes of padded length
 * L, T session-graph nodes (graph models), E edges of the four-type
 * session graph, K global neighbours per node. At creation: the largest a
 * batch of max_B x max_L may give (sbr_batch_caps). */
typedef struct {
    int B, L, T, E, K;
} sbr_dims;

/* A layout cursor: base NULL counts bytes only. Every buffer starts at a
 * multiple of 64 bytes. */
typedef struct {
    char *base;
    size_t used;
} sbr_lay;

void *sbr_lay_take(sbr_lay *l, size_t bytes);
/* p = n elements of *p from the layout */
#define SBR_LAY(l, p, n) ((p) = sbr_lay_take((l), sizeof *(p) * (size_t)(n)))

/* One call of a model's own scoring (sbr_model_scoring below). Pointers on
 * the model's device, reals of its precision. */
typedef struct {
    const void *S;   /* [B, U, d] the forward's session vectors */
    const void *E;   /* [N + 1, d] the candidates the step scores against */
    int chunk;       /* items per chunk, as the catalogue ops take it */
    /* training: */
    void *loss, *lse;  /* [B] the rows' cross-entropy over items 1..N, their log-sum-exp */
    const void *dloss; /* [B] dL/dloss */
    void *dS;          /* [B, U, d] += (zeroed by the step) */
    void *dE;          /* [N + 1, d] += the candidates' gradient */
    /* top-K: */
    int K;
    int32_t *idx;                   /* [B, K] out, as R(sbr_nn_topk) */
    void *score;                    /* [B, K] out */
    const int32_t *excl_off, *excl; /* the exclusions, as R(sbr_nn_topk), or NULL */
} sbr_score_call;

/* The scoring hook: a model whose score of a candidate is not S . E (TAGNN:
 * a target-aware term per candidate) scores the catalogue itself. NULL in
 * sbr_model_def.score: the step's catalogue ops (score_ce, topk). The step
 * still owns the rest: the forward before, loss sums, Adam, the model's
 * backward after (which reads what `train` left in the model's state). */
typedef struct {
    /* 1 when train's loss is a softmax cross-entropy over the catalogue
     * (TAGNN), 0 for another loss (ProxySR's margin loss) */
    int ce;
    /* Op scratch of train and topk for batches up to dm's B x L, in bytes
     * (instead of the catalogue ops'); it must not shrink as B or L grow. */
    size_t (*scratch)(const sbr_model *m, const sbr_dims *dm, int chunk, int K);
    /* After forward (train on): loss and lse of every row, and the gradient
     * of sum_b dloss[b] loss[b] into dS, dE and the model's own buffers. */
    void (*train)(sbr_model *m, const sbr_batch *b, const sbr_score_call *c);
    /* After forward (evaluation): the K best items of every row, with the
     * exclusions. */
    void (*topk)(sbr_model *m, const sbr_batch *b, const sbr_score_call *c);
} sbr_model_scoring;

struct sbr_model_def {
    const char *name;          /* as in models.def */
    const char *about;         /* one line: sbr-train --help */
    const char *paper;         /* where it comes from: sbr-train --help-model */
    unsigned needs;            /* SBR_NEEDS_*: the batch parts it reads, the step's scoring */
    const sbr_opt *opts;       /* its options, {0}-terminated */
    const sbr_preset *presets; /* named settings, {0}-terminated, or NULL */
    size_t state_size;         /* its state struct (weights, activations, sizes) */
    /* Cross-option checks beyond the ranges (NULL: none). */
    int (*check)(const sbr_model_cfg *c, sbr_err *e);
    /* Reads its options into its state and declares its parameters. */
    void (*declare)(sbr_model *m);
    /* Lays its activations out for batches of shapes dm. */
    void (*layout)(sbr_model *m, sbr_lay *l, const sbr_dims *dm);
    /* Op scratch its ops need beyond the catalogue ops, in bytes. */
    size_t (*scratch)(const sbr_model *m, const sbr_dims *dm);
    /* S [B, U, d] = the session vectors of the batch. train: dropout on. */
    void (*forward)(sbr_model *m, const sbr_batch *b, void *S, int train);
    /* Accumulates parameter gradients from dS [B, U, d] (after forward). */
    void (*backward)(sbr_model *m, const sbr_batch *b, const void *dS);
    /* 1 when its front embeds the batch's clicks [B, L] (sbr_front_clicks),
     * where CLIP-SBR's --prompt-norm sequence applies. */
    int front_seq;
    /* Its own scoring of the catalogue, or NULL: S . E (sbr_model_scoring). */
    const sbr_model_scoring *score;
    /* A wrapper (NP-MiSR) runs another model as its session encoder. Its
     * registry entry names the default encoder; the registry makes, on first
     * use, "NAME" (over the default) and "NAME-ENCODER" from it: encoder
     * set, the encoder's options, presets and needs merged in, and the
     * encoder's state after the wrapper's own, at encoder_at (wrap.c). */
    const char *default_encoder;
    const sbr_model_def *encoder;
    size_t encoder_at;
};

/* --- wrappers (wrap.c) ---------------------------------------------------------
 * A wrapper's body runs its encoder's functions through these: each calls
 * the encoder's with the model's state and definition the encoder's own for
 * the call. */
void sbr_encoder_declare(sbr_model *m);
void sbr_encoder_layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm);
size_t sbr_encoder_scratch(const sbr_model *m, const sbr_dims *dm);
void sbr_encoder_forward(sbr_model *m, const sbr_batch *b, void *S, int train);
void sbr_encoder_backward(sbr_model *m, const sbr_batch *b, const void *dS);
/* Whether model def may be a wrapper's encoder: its scores are S . E of one
 * session vector (no scoring hook, interests or normalised candidates) and
 * it wraps nothing itself. NULL when it may; else why not. */
const char *sbr_encoder_unfit(const sbr_model_def *def);

/* sbr_model_defaults for a definition given. */
void sbr_model_defaults_of(const sbr_model_def *def, sbr_model_cfg *c);
/* sbr_model_create for a definition given (a model not in the registry:
 * tests); max_BL: the largest batch, {B, L}. */
int sbr_model_create_def(sbr_model *m, const sbr_model_def *def, const sbr_model_cfg *cfg,
                         sbr_prec prec, const int max_BL[2], sbr_err *e);

/* --- typed weights --------------------------------------------------------- */

/* Starts a group of weights: w and g point at two structs of one type (bytes
 * each) whose members are all `real *`: the parameters and their gradients.
 * Each member is then declared with sbr_param or sbr_param_none. */
void sbr_weights(sbr_model *m, void *w, void *g, size_t bytes);
/* Declares parameter `name` (shape [ndim] dims), bound to `member` (the
 * address of a member of the last group's w); returns its index. Its
 * initialisation: uniform(-a, a) with a = arg or the model's scale (arg 0),
 * normal(0, arg^2), zero, one or the constant arg. */
int sbr_param(sbr_model *m, void *member, const char *name, int ndim, const int64_t *dims,
              sbr_init_kind init, double arg);
/* The shape arguments of sbr_param: SBR_SHAPE(3 * H, d) */
#define SBR_SHAPE(...) \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}
/* A member left NULL on purpose (an optional bias, an interest not used). */
void sbr_param_none(sbr_model *m, void *member);
/* Changes the initialisation of a declared parameter. */
void sbr_param_init(sbr_model *m, int index, sbr_init_kind init, double arg);
/* Row 0 of a table is padding: zero from the start. */
void sbr_param_pad_row0(sbr_model *m, int index);
/* Every row of the parameter (a table [rows, cols]) kept within norm
 * max_norm, at the start and after every update (torch's Embedding
 * max_norm, as a constraint); with exact, on that norm (unit vectors). */
void sbr_param_max_norm(sbr_model *m, int index, double max_norm, int exact);

/* The registry entry of a model file: SBR_MODEL_DEF(gru4rec) = {...}; */
#define SBR_MODEL_DEF(name) const sbr_model_def R(sbr_model_##name)

#endif
