/* Models: every next-item model of sbr behind one interface, so that the
 * trainer, the gradient checks, sbr-infer and the GPU path serve them all.
 *
 * A model maps a batch of session prefixes to session vectors S [B, U, d]
 * (U = 1 but for models with several interests); the step scores S against
 * the item table E with the fused score + CE op (or ranks with top-K), or
 * hands the scoring to the model where its candidates are not scored by
 * S . E (sbr_model_def.score, model/def.h: TAGNN).
 *
 * Each model is one file, common/models/NAME.c, registered by one line of
 * common/models/models.def. Its body is written once against the op library
 * (common/nn) with `real` and R() (common/model/body.h), and compiled three
 * times like the ops: _f32 (CPU), _f64 (the whole-model gradient checks) and
 * _cuda (float on device pointers, calling the _cuda ops). A model body
 * never touches tensor memory itself: everything data-dependent (padding,
 * session graphs, cluster ids) is prepared on the host by the batch builder
 * (batch.h), and the rest is ops. docs/CONTRIBUTING.md, "Adding a model",
 * walks through one.
 *
 * What a model declares (model/def.h): its hyper-parameters (options, with
 * defaults, ranges and help; named presets), its parameters as a struct of
 * named pointers bound by name from the parameter arena (the same struct
 * for the gradients), and its activations as a struct laid out by one
 * function that also gives their exact size. */
#ifndef SBR_MODEL_H
#define SBR_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "graph.h"
#include "model/batch.h"
#include "model/options.h"
#include "nn/nn.h"
#include "tfile.h"

typedef enum { SBR_PREC_F32 = 0, SBR_PREC_F64 = 1, SBR_PREC_CUDA = 2 } sbr_prec;

/* The format of the metadata of model files this code writes: 2 since the
 * models declare their options (their values under their own names); files
 * without the key are of format 1 and load through a table of the old keys. */
#define SBR_MODEL_FORMAT 2

#define SBR_MAX_INTERESTS 8

typedef struct sbr_model sbr_model;
typedef struct sbr_model_def sbr_model_def;

/* The context pool of a model that retrieves training pairs (SBR_NEEDS_POOL:
 * NP-MiSR; pool.c): one pair per drawn training session, its prefix (all
 * clicks but the last) and its last click. */
typedef struct {
    int64_t n;          /* pairs P (0: none yet) */
    void *x;            /* [P, d] device: the encoder's session vectors of the prefixes */
    int32_t *item;      /* [P] device: each pair's next item (1..N) */
    int32_t *host_item; /* [P] the same on the host */
    /* Where the pairs came from; only while training (a loaded model has
     * the vectors and items, not the sessions). */
    const sbr_split *split; /* the split drawn from */
    int64_t *session;       /* [P] the pairs' sessions in it */
    int32_t *row_of;        /* [split->n_sessions] each session's pool row, -1: none */
    int32_t *rows_before;   /* [split->n_sessions] the pool rows of the sessions before it */
    int min_prefix;         /* the split's sample rule */
} sbr_model_pool;

/* a parameter's initialisation (sbr_param): uniform(-a, a), zero, one,
 * normal(0, a^2), or the constant a (PReLU's 0.25) */
typedef enum {
    SBR_INIT_UNIFORM,
    SBR_INIT_ZERO,
    SBR_INIT_ONE,
    SBR_INIT_NORMAL,
    SBR_INIT_CONST
} sbr_init_kind;

#define SBR_MODEL_MAX_PARAMS 96

/* Which L2 penalty of sbr_step_cfg a parameter takes. */
typedef enum { SBR_L2_MODEL = 0, SBR_L2_PROMPT = 1, SBR_L2_GATE = 2 } sbr_l2_group;
#define SBR_MODEL_MAX_GROUPS 16

/* A group of typed weights (model/def.h, sbr_weights): two structs of
 * `real *` members, the parameters and their gradients, each member bound
 * to one parameter of the arena or left NULL on purpose. */
typedef struct {
    char *w, *g;     /* the two structs */
    size_t n;        /* members (bytes / sizeof(void *)) */
    uint64_t bound[2]; /* members declared (bit per member), at most 128 */
} sbr_weight_group;

struct sbr_model {
    sbr_model_cfg cfg;          /* the resolved hyper-parameters */
    const sbr_model_def *def;   /* the model's registry entry at this precision */
    sbr_prec prec;
    size_t elem;                /* sizeof(real): 4 or 8 */
    void *state;                /* the model's own typed state (def->state_size bytes) */
    /* What the framework reads of the options (0 where a model has none). */
    int d, max_len, global_k, pool_sum;
    int interests;              /* U: session vectors per sample (1 but with interests) */
    /* SBR_NEEDS_NORM_ITEMS: dropout on the candidate table before its
     * normalisation in training steps (CORE's item_dropout; set by the
     * model's declare, 0: none) */
    double cand_dropout;
    /* Parameters, their gradients and the Adam state: one layout. */
    sbr_arena params, grads, adam_m, adam_v;
    sbr_init_kind init[SBR_MODEL_MAX_PARAMS];
    double init_arg[SBR_MODEL_MAX_PARAMS];
    uint8_t pad_row0[SBR_MODEL_MAX_PARAMS]; /* row 0 is padding: zero from the start */
    /* rows kept in a ball after every update and at the start (0: free;
     * sbr_param_max_norm), exactly on its sphere where max_norm_exact */
    double max_norm[SBR_MODEL_MAX_PARAMS];
    uint8_t max_norm_exact[SBR_MODEL_MAX_PARAMS];
    /* the L2 penalty each parameter takes (sbr_l2_group): CLIP-SBR's prompts
     * and gates may have their own (sbr_step_cfg) */
    uint8_t l2_group[SBR_MODEL_MAX_PARAMS];
    sbr_weight_group groups[SBR_MODEL_MAX_GROUPS];
    void **bind_w[SBR_MODEL_MAX_PARAMS], **bind_g[SBR_MODEL_MAX_PARAMS]; /* members to bind */
    int n_groups;
    int p_items;                /* the item table the step scores against (-1: none) */
    int64_t adam_t;
    /* The epoch the steps train in (0-based), set by the trainer before each
     * epoch; a model file keeps the one its weights were selected at, for
     * models whose forward follows a schedule (ProxySR's temperature). */
    int epoch;
    /* Compute resources: op context (scratch), activation memory laid out
     * once by the model and the step (their exact size, act_bytes). */
    sbr_nn_ctx ctx;
    void *act_mem, *scratch_mem;
    size_t act_bytes, scratch_bytes;
    void *step;                 /* the step's own buffers (body/step.c) */
    /* The CPU step's kept logits [max_B, n_items] (score_ce_train), made at
     * the first step that computes gradients; NULL until then, on CUDA, or
     * when that much host memory was not available (then recomputed). */
    void *keep_mem;
    /* 1 when the gradient arena is known to be all zero (Adam zeroed it as
     * it read it), so the next step need not clear it. */
    int grads_clean;
    int max_B, max_L;           /* what the activations were laid out for */
    uint64_t drop_seed;         /* dropout stream: seed, and a counter of draws */
    uint64_t drop_counter;
    /* A model's own loss term: its forward may point xloss at a [B] device
     * buffer; the step adds xloss_w * sum_b xloss[b] to the loss (and the
     * model's backward adds that term's gradient). last_xloss: the term's
     * value in the last step (reported apart from the CE). */
    void *xloss;
    double xloss_w, last_xloss;
    /* Sums of the training steps' losses since sbr_model_loss_sums_reset:
     * [0] the step means, [1] their xloss parts. On CUDA they are kept on
     * the device (dev_loss_sums), so a step need not wait for the GPU. */
    int loss_sums_on;
    double host_loss_sums[2];
    double *dev_loss_sums;
    /* Readout weights of the last forward (models that have them), device
     * [U, B, L], for sbr-infer --interest-weights; NULL otherwise. */
    void *iw;
    /* A sampling model's spread of the last evaluation forward (NP-MiSR: the
     * mean squared distance of its K decoded vectors from S), device [B];
     * NULL otherwise. */
    void *spread;
    /* The global graph table (host), SBR_NEEDS_GLOBAL: for item i, gtab_nbr
     * [i*K ..] its neighbours by decreasing weight, gtab_w their weights,
     * gtab_n [i] how many (K = global_k; rows 0..n_items). */
    int32_t *gtab_nbr, *gtab_n;
    float *gtab_w;
    /* The logged-in users it knows (cfg.n_users > 0): their original ids,
     * ascending (host); a sample's user is its index 1..U (0: anonymous). */
    int64_t *user_ids;
    /* SBR_NEEDS_POOL: the training pairs it retrieves contexts from, and 1
     * while the pool's vectors are computed (the forward then gives the
     * encoder's session vectors only). */
    sbr_model_pool pool;
    int encode_only;
    /* what its declare asks of the pool: the fraction of the training
     * sessions drawn, the fewest pairs a forward needs, and how often the
     * trainer recomputes its vectors besides after every epoch (every so
     * many training steps; 0: only then) */
    double pool_fraction;
    int64_t pool_need;
    int pool_refresh_steps;
};

/* --- registry (common/models/models.def) ----------------------------------- */

/* Names of the models in the registry's order, NULL-terminated. */
extern const char *const sbr_model_names[];
/* A model's registry entry at a precision; NULL when unknown or (CUDA) not
 * built. */
const sbr_model_def *sbr_model_def_for(const char *name, sbr_prec prec);
/* Fills the defaults of a model into c (its options' defaults, seed 1, the
 * run-time sizes). -1 when the name is unknown. */
int sbr_model_defaults(const char *name, sbr_model_cfg *c);
/* The SBR_NEEDS_* of a model (0 when unknown). */
unsigned sbr_model_needs(const char *name);

/* --- logged-in users (model_users.c) ---------------------------------------- */

/* The index 1..n of user in ids [n] (ascending), 0 when absent or < 0. */
int32_t sbr_user_index(const int64_t *ids, int64_t n, int64_t user);
/* The distinct users of a split's sessions (ascending, into *out, malloc'd),
 * each kept with probability `fraction` by a hash of (seed, id): the users
 * who "log in". Returns their count (0: none, *out NULL). */
int64_t sbr_users_collect(const sbr_split *sp, double fraction, uint64_t seed, int64_t **out);
/* Gives m its users (n = cfg.n_users, ascending ids; copied). */
int sbr_model_set_users(sbr_model *m, const int64_t *ids, int64_t n, sbr_err *e);
/* A split's sessions by their user: [0] known to m, [1] a user m does not
 * know (ranked as anonymous), [2] anonymous. */
void sbr_users_count(const sbr_model *m, const sbr_split *sp, int64_t counts[3]);

/* --- life cycle ---------------------------------------------------------- */

/* Declares the model's parameters, checks the typed weights against them,
 * allocates every arena on the device of prec and lays the activations out
 * for batches up to max_B x max_L (the exact size, from the model's layout),
 * and initialises the parameters from cfg->seed. A cfg whose options are out
 * of range (or a model file's) is refused with e set. */
int sbr_model_create(sbr_model *m, const sbr_model_cfg *cfg, sbr_prec prec, int max_B,
                     int max_L, sbr_err *e);
void sbr_model_free(sbr_model *m);

/* --- steps (precision-dispatched) ------------------------------------------ */

/* One training step on a prepared batch: forward, mean CE over the
 * catalogue, backward, gradient clipping (clip > 0), Adam. Returns the mean
 * loss. */
typedef struct {
    double lr, l2, clip;
    int adamw;
    int chunk; /* items per score chunk */
    /* the L2 of CLIP-SBR's prompts and of its gates (sbr_l2_group) */
    double l2_prompt, l2_gate;
} sbr_step_cfg;
double sbr_model_train_step(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc);
/* From here on the steps add their losses to sums in the model (zeroed
 * now); on CUDA a step then returns NAN instead of its loss, so that it
 * does not wait for the GPU: read the sums with sbr_model_loss_sums. */
void sbr_model_loss_sums_reset(sbr_model *m);
/* Waits until the device has done every step queued so far (a no-op on
 * the CPU). For timings only: the training loop itself never waits. */
void sbr_model_sync(sbr_model *m);
/* The GPU step profiler around one step (cuda/nn_cuda.h: sbr_cuda_prof_*),
 * and its table to out; no-ops on the CPU. */
void sbr_model_prof_begin(sbr_model *m);
void sbr_model_prof_end(sbr_model *m);
void sbr_model_prof_report(sbr_model *m, FILE *out, const char *title);
/* Under SBR_GEMM=lt on the GPU: how many GEMM shapes the model's context has
 * planned on cublasLt (*none: those left to cuBLAS); 0 otherwise. */
int sbr_model_gemm_plans(const sbr_model *m, int *none);
/* Back to plain steps that return their loss (the sums are left as they are). */
void sbr_model_loss_sums_off(sbr_model *m);
/* sums[0]: the sum of the steps' mean losses since the reset, sums[1]: of
 * their model's own terms (xloss). Waits for the GPU. */
void sbr_model_loss_sums(sbr_model *m, double sums[2]);
/* Loss and gradients only (no update): zero grads, forward, CE, backward.
 * For gradient checks; returns the mean loss. */
double sbr_model_loss_grad(sbr_model *m, const sbr_batch *b, int train, int chunk);
/* The session vectors S [B, U, d] of a batch in evaluation mode, into the
 * model's device memory S (for tests: host memory on the CPU precisions). */
void sbr_model_forward(sbr_model *m, const sbr_batch *b, void *S);
/* Top-K of the batch: idx [B, K], score [B, K] in host memory. excl_off /
 * excl (host) as the top-K op, or NULL. */
void sbr_model_topk(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                    float *score, const int32_t *excl_off, const int32_t *excl);
/* sbr_model_topk, and from the same forward the predictive uncertainty of
 * each row (nn/api.inc, uncertainty): of the softmax over the items the list
 * ranks from (exclusions left out), ent [B] the entropy in nats and p1 [B]
 * the top-1 item's probability, host floats. Only for models whose scores
 * are S . E (sbr_model_no_uncertainty NULL; a fatal internal error otherwise). */
void sbr_model_topk_unc(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                        float *score, float *ent, float *p1, const int32_t *excl_off,
                        const int32_t *excl);
/* NULL when m has the uncertainty above; else why not, one line (a model
 * with its own scoring hook: ProxySR's distances, TAGNN's target-aware
 * scores). */
const char *sbr_model_no_uncertainty(const sbr_model *m);

/* The precision-specific step functions (common/model/body/step.c). */
typedef struct {
    double (*loss_grad)(sbr_model *m, const sbr_batch *b, int train, int chunk);
    double (*train)(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc);
    void (*topk)(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx, float *score,
                 float *ent, float *p1, const int32_t *excl_off, const int32_t *excl);
    /* the step's buffers: laid out over base (NULL: sizes only), returns bytes */
    size_t (*layout)(sbr_model *m, void *base, int max_B);
    void (*free)(sbr_model *m);
} sbr_model_steps;
extern const sbr_model_steps sbr_model_steps_f32, sbr_model_steps_f64, sbr_model_steps_cuda;

/* --- files (kind sbr.model) ---------------------------------------------- */

/* Adds config, parameters (and, with optimizer != 0, the Adam state) to w.
 * Parameters are read back to the host for this. */
void sbr_model_add_to(sbr_model *m, sbr_tw *w, int optimizer);
/* Reads the config of a model file: checks its kind and format, and every
 * option against the model's ranges (a file whose metadata lies is refused). */
int sbr_model_read_cfg(const sbr_tfile *f, sbr_model_cfg *c, sbr_err *e);
/* Checks that the parameters of a model file have the shapes the model with
 * config c declares, before anything is allocated for them. */
int sbr_model_check_file(const sbr_model_cfg *c, const sbr_tfile *f, sbr_err *e);
/* Loads parameters (and optionally the Adam state) into a created model;
 * also the global graph table when the model has one (global_k > 0). */
int sbr_model_load(sbr_model *m, const sbr_tfile *f, int optimizer, sbr_err *e);

/* --- the context pool (SBR_NEEDS_POOL; pool.c) -------------------------------- */

/* Draws the pool from split sp: each session with a sample (prefix rule
 * min_prefix) kept with probability m->pool_fraction by a hash of (seed,
 * session), its pair (all clicks but the last -> the last), at least
 * m->pool_need pairs (-1 with e set otherwise, naming the counts). The
 * vectors are computed by sbr_model_pool_refresh. */
int sbr_model_pool_draw(sbr_model *m, const sbr_split *sp, int min_prefix, sbr_err *e);
/* Recomputes the pool's vectors with the model's current weights
 * (evaluation mode, batches of the model's largest B). */
void sbr_model_pool_refresh(sbr_model *m, const sbr_clip_map *clip);
/* Sets the pool from arrays (a model file's): x [P, d] float, item [P] in
 * 1..N (checked). */
int sbr_model_pool_set(sbr_model *m, const float *x, const int32_t *item, int64_t P, sbr_err *e);
void sbr_model_pool_free(sbr_model *m);

/* --- the global graph table (SBR_NEEDS_GLOBAL) ------------------------------ */

/* Keeps, for every item, its global_k heaviest neighbours in g (ties: the
 * smaller id). g: a window graph over this catalogue (checked). */
int sbr_model_set_global(sbr_model *m, const sbr_graph *g, sbr_err *e);
/* The same from arrays: nbr, w [(n_items + 1) * K], n [n_items + 1] (copied, checked). */
int sbr_model_set_global_table(sbr_model *m, const int32_t *nbr, const float *w,
                               const int32_t *n, sbr_err *e);

#endif
