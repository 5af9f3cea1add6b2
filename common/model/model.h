/* Models: every next-item model of sbr behind one interface, so that the
 * trainer, the gradient checks, sbr-infer and the GPU path serve them all.
 *
 * A model maps a batch of session prefixes to session vectors S [B, d]; the
 * trainer scores S against the item table E with the fused score+CE op (or
 * ranks with top-K). Its body is written once, against the op library
 * (common/nn), in common/model/NAME.inc with `real` and R(), and compiled
 * three times like the ops: _f32 (CPU), _f64 (the whole-model gradient
 * checks) and _cuda (float on device pointers, calling the _cuda ops). So a
 * model body never touches tensor memory itself: everything data-dependent
 * (padding, session graphs, cluster ids) is prepared on the host by the
 * batch builder, and the rest is ops.
 *
 * Every model shares the item front (front.inc): the item embedding table
 * and, with --clusters, CLIP-SBR's cluster prompts gated into the item
 * embeddings. */
#ifndef SBR_MODEL_H
#define SBR_MODEL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "err.h"
#include "graph.h"
#include "nn/nn.h"
#include "tfile.h"

typedef enum { SBR_PREC_F32 = 0, SBR_PREC_F64 = 1, SBR_PREC_CUDA = 2 } sbr_prec;

/* Hyper-parameters. Generic names; each model says which it uses (and its
 * defaults) in model.c's registry and in sbr-train --help. */
typedef struct {
    char model[32];        /* "gru4rec", "narm", "stamp", "srgnn", ... */
    int d;                 /* embedding size */
    int hidden;            /* recurrent hidden size */
    int layers;            /* GNN steps / stacked blocks */
    int heads;             /* attention heads */
    int max_len;           /* keep the last max_len items of a prefix (0: all) */
    double dropout_emb;    /* dropout on the input embeddings */
    double dropout_hidden; /* dropout inside the model */
    double dropout_gcn;    /* GCE-GNN / DMI-GNN: on [h_v ; agg] in the global aggregator */
    int n_items;           /* catalogue N: items 1..N */
    int n_clusters;        /* CLIP-SBR prompts: clusters 1..C (0: off) */
    double init_scale;     /* uniform(-s, s) init; 0: 1/sqrt(d) (SR-GNN lineage) */
    /* Run-time sizes (not stored in model files): op scratch is reserved for
     * catalogue chunks of `chunk` items and top-K lists of up to `max_k`. */
    int chunk, max_k;
    uint64_t seed;
    /* Models with several session vectors and a global graph (GCE-GNN, DMI-GNN). */
    int interests;         /* U session vectors per sample (models that have them; else 1) */
    int pool_sum;          /* score = sum over interests instead of the max (ablation) */
    int global_k;          /* neighbours per item of the global graph table (0: none) */
    double dmi_eta, dmi_beta; /* DMI regulariser: length offset eta, weight beta */
} sbr_model_cfg;

/* A batch of samples, prepared on the host (batch.c) and, for the CUDA path,
 * mirrored to the device: the pointers are valid where the model computes.
 * Prefixes are left-aligned, padded with 0 at the tail; items unseen in
 * training appear as 0 (no embedding) but keep their position. */
typedef struct {
    int B, L;           /* samples, padded length (the longest prefix here) */
    int32_t *items;     /* [B, L] item ids, 0 = padding / unknown */
    int32_t *citems;    /* [B, L] cluster ids of items (CLIP), 0 for padding; or NULL */
    int32_t *len;       /* [B] prefix lengths, 1..L */
    int32_t *target;    /* [B] next item (training: 1..N) */
    int32_t *last;      /* [B] b * L + len[b] - 1: flat index of the last click */
    /* The front's ids, grouped for its embedding backward
     * (embedding_backward_grouped): the positions of the nonzero ids of uniq
     * (graph batches) or items (else), sorted by (id, position); the same of
     * cuniq / citems (CLIP; else NULL). NULL in batches built for a
     * forward only (sbr_batch_buf.backward). */
    int32_t *ids_ord, *cids_ord; /* [n_ord], [n_cord] */
    int n_ord, n_cord;
    int32_t *rpos;      /* [B, L] len[b] - 1 - j: distance from the last click (0 on padding) */
    /* Session graphs (models with SBR_NEEDS_GRAPH): the unique items of each
     * prefix in order of first click, packed: row b's n_uniq[b] nodes are
     * nodes node_off[b] .. node_off[b+1]-1 of the T = sum n_uniq graph nodes
     * (no padding nodes), and SR-GNN's degree-normalised in/out adjacency
     * over them, CSR. */
    int U;              /* the most unique items of any row (informative) */
    int T;              /* graph nodes: sum of n_uniq */
    int32_t *node_off;  /* [B + 1] first node of each row; node_off[B] = T */
    int32_t *node_sess; /* [T] the row of each node */
    int32_t *uniq;      /* [T] the nodes' item ids (0: unseen item) */
    int32_t *cuniq;     /* [T] their cluster ids (CLIP) or NULL */
    int32_t *n_uniq;    /* [B] */
    int32_t *alias;     /* [B, L] node of each click (padding: node_off[b]) */
    int32_t *last_node; /* [B] node of the last click */
    int32_t *in_off, *in_idx;   /* [T + 1], [nnz_in]: in-neighbours of each node */
    int32_t *out_off, *out_idx; /* [T + 1], [nnz_out]: out-neighbours */
    void *in_w, *out_w;         /* [nnz] edge weights (real of the precision) */
    /* the transposes' weights: A_in^T over A_out's pattern, A_out^T over
     * A_in's (same order), for the GGNN backward (NULL: forward only) */
    void *in_tw, *out_tw;       /* [nnz_out], [nnz_in] */
    int nnz_in, nnz_out;
    /* GCE-GNN's session graph (SBR_NEEDS_LOCAL4), CSR over the T nodes:
     * every node has its self edge (type 0); for nodes i != j of a session,
     * type 1: j was clicked right before i somewhere in the prefix (the
     * official code's adjacency code 2), type 2: right after (code 3), type
     * 3: both (code 4). */
    int32_t *le_off;    /* [T + 1] */
    int32_t *le_idx;    /* [nnz_le] neighbour node */
    int32_t *le_type;   /* [nnz_le] 0..3 */
    int nnz_le;
    /* The global graph (SBR_NEEDS_GLOBAL): the top-K neighbours of each
     * node's item in the model's table. gids [T + T*K] holds every node's
     * item (= uniq) followed by the nodes' neighbours, so that one front call
     * embeds both; cgids their clusters (CLIP) or NULL. */
    int K;              /* neighbours per node (the model's global_k) */
    int32_t *gids;      /* [T + T*K] */
    int32_t *cgids;     /* same, or NULL */
    int32_t *gnbr;      /* = gids + T: [T, K] neighbour items (0 past gn) */
    void *gw;           /* [T, K] edge weights (real; 0 past gn) */
    int32_t *gn;        /* [T] valid neighbours 0..K */
    void *flen;         /* [B] prefix lengths as reals (SBR_NEEDS_GLOBAL / LOCAL4) */
} sbr_batch;

#define SBR_NEEDS_GRAPH 1u
#define SBR_NEEDS_LOCAL4 2u     /* GCE-GNN's four-type session graph (le_*) */
#define SBR_NEEDS_GLOBAL 4u     /* the global graph: sbr-train --graph (gids, gw, gn) */
#define SBR_NEEDS_NORM_ITEMS 8u /* score against L2-normalised item vectors (DMI-GNN) */
/* Several session vectors per sample: U = cfg.interests (else 1). With U > 1,
 * S and dS are [B, U, d] and an item's score is max_u S_u . e (or the sum,
 * cfg.pool_sum): score_multi.inc. */
#define SBR_NEEDS_INTERESTS 16u
#define SBR_MAX_INTERESTS 8

typedef struct sbr_model sbr_model;

/* One model kind at one precision. */
typedef struct {
    const char *name;
    unsigned needs;
    /* Activation memory the forward + backward may take, in reals, for a
     * batch of B samples of padded length L with U unique items. */
    size_t (*act_reals)(const sbr_model_cfg *c, int B, int L, int U);
    /* Op scratch its ops need beyond the score/top-K ops, in bytes. */
    size_t (*scratch)(const sbr_model_cfg *c, int B, int L, int U);
    /* Declares the model's parameters (after the front's) with
     * sbr_model_param(). */
    void (*declare)(sbr_model *m);
    /* S [B, d] = the session vectors of the batch. train: dropout on. */
    void (*forward)(sbr_model *m, const sbr_batch *b, void *S, int train);
    /* Accumulates parameter gradients from dS [B, d] (after forward). */
    void (*backward)(sbr_model *m, const sbr_batch *b, const void *dS);
} sbr_model_impl;

typedef enum { SBR_INIT_UNIFORM, SBR_INIT_ZERO, SBR_INIT_ONE, SBR_INIT_NORMAL } sbr_init_kind;

#define SBR_MODEL_MAX_PARAMS 64
#define SBR_MODEL_STATE_SLOTS 96

struct sbr_model {
    sbr_model_cfg cfg;
    sbr_prec prec;
    const sbr_model_impl *impl;
    size_t elem; /* sizeof(real): 4 or 8 */
    sbr_arena params, grads, adam_m, adam_v; /* one layout */
    sbr_init_kind init[SBR_MODEL_MAX_PARAMS];
    double init_arg[SBR_MODEL_MAX_PARAMS];
    int64_t adam_t;
    /* The front's parameters (indices in params; -1 when absent). */
    int p_items, p_prompts, p_ge_w, p_ge_b, p_gp_w, p_gp_b;
    /* Saved activations of the last forward, for backward: a model keeps its
     * pointers here (slots it names in its .inc). */
    void *slot[SBR_MODEL_STATE_SLOTS];
    int islot[16];
    double fslot[8]; /* e.g. the dropout rate a forward used (0 in evaluation) */
    /* Compute resources: op context (scratch), activation memory. */
    sbr_nn_ctx ctx;
    void *act_mem, *scratch_mem;
    size_t act_bytes, scratch_bytes;
    /* The CPU step's kept logits [max_B, n_items] (score_ce_train), made at
     * the first step that computes gradients; NULL until then, on CUDA, or
     * when that much host memory was not available (then recomputed). */
    void *keep_mem;
    /* 1 when the gradient arena is known to be all zero (Adam zeroed it as
     * it read it), so the next step need not clear it. */
    int grads_clean;
    sbr_bump acts;
    int max_B, max_L, max_U; /* what act_mem was sized for */
    uint64_t drop_seed;      /* dropout stream: seed, and a counter of draws */
    uint64_t drop_counter;
    int interests;           /* U: session vectors per sample (cfg.interests with
                              SBR_NEEDS_INTERESTS, else 1) */
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
    /* Interest weights of the last forward (models with interests), device
     * [U, B, L], for sbr-infer --interest-weights; NULL otherwise. */
    void *iw;
    /* The global graph table (host), SBR_NEEDS_GLOBAL: for item i, gtab_nbr
     * [i*K ..] its neighbours by decreasing weight, gtab_w their weights,
     * gtab_n [i] how many (K = cfg.global_k; rows 0..n_items). */
    int32_t *gtab_nbr, *gtab_n;
    float *gtab_w;
};

/* --- registry ------------------------------------------------------------ */

/* Names of the models, NULL-terminated. */
extern const char *const sbr_model_names[];
/* Fills the published defaults of a model into c (model name set). -1 when
 * the name is unknown. */
int sbr_model_defaults(const char *name, sbr_model_cfg *c);
const sbr_model_impl *sbr_model_impl_for(const char *name, sbr_prec prec);

/* --- life cycle ---------------------------------------------------------- */

/* Declares the front and the model's parameters, allocates every arena for
 * batches up to max_B x max_L (max_U unique items) on the device of prec,
 * and initialises the parameters from cfg->seed. */
int sbr_model_create(sbr_model *m, const sbr_model_cfg *cfg, sbr_prec prec, int max_B,
                     int max_L, sbr_err *e);
void sbr_model_free(sbr_model *m);

/* Declares a parameter (from an impl's declare); returns its index. */
int sbr_model_param(sbr_model *m, const char *name, int ndim, const int64_t *shape,
                    sbr_init_kind init, double arg);
/* Activation memory for the current step (reset by the step functions). */
void *sbr_model_act(sbr_model *m, size_t reals);

/* --- steps (precision-dispatched) ------------------------------------------ */

/* One training step on a prepared batch: forward, mean CE over the
 * catalogue, backward, gradient clipping (clip > 0), Adam. Returns the mean
 * loss. */
typedef struct {
    double lr, l2, clip;
    int adamw;
    int chunk; /* items per score chunk */
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
/* Top-K of the batch: idx [B, K], score [B, K] in host memory. excl_off /
 * excl (host) as the top-K op, or NULL. */
void sbr_model_topk(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx,
                    float *score, const int32_t *excl_off, const int32_t *excl);

/* The precision-specific step functions (models_f32.c, models_f64.c,
 * models_cuda.c). */
typedef struct {
    double (*loss_grad)(sbr_model *m, const sbr_batch *b, int train, int chunk);
    double (*train)(sbr_model *m, const sbr_batch *b, const sbr_step_cfg *sc);
    void (*topk)(sbr_model *m, const sbr_batch *b, int K, int chunk, int32_t *idx, float *score,
                 const int32_t *excl_off, const int32_t *excl);
    const sbr_model_impl *const *impls; /* NULL-terminated */
} sbr_model_steps;
extern const sbr_model_steps sbr_model_steps_f32, sbr_model_steps_f64, sbr_model_steps_cuda;

/* --- files (kind sbr.model) ---------------------------------------------- */

/* Adds config, parameters (and, with optimizer != 0, the Adam state) to w.
 * Parameters are read back to the host for this. */
void sbr_model_add_to(sbr_model *m, sbr_tw *w, int optimizer);
/* Reads the config of a model file (checks the kind). */
int sbr_model_read_cfg(const sbr_tfile *f, sbr_model_cfg *c, sbr_err *e);
/* Loads parameters (and optionally the Adam state) into a created model;
 * also the global graph table when the model has one (cfg.global_k > 0). */
int sbr_model_load(sbr_model *m, const sbr_tfile *f, int optimizer, sbr_err *e);

/* --- the global graph table (SBR_NEEDS_GLOBAL) ------------------------------ */

/* Keeps, for every item, its cfg.global_k heaviest neighbours in g (ties:
 * the smaller id). g: a window graph over this catalogue (checked). */
int sbr_model_set_global(sbr_model *m, const sbr_graph *g, sbr_err *e);
/* The same from arrays: nbr, w [(n_items + 1) * K], n [n_items + 1] (copied, checked). */
int sbr_model_set_global_table(sbr_model *m, const int32_t *nbr, const float *w,
                               const int32_t *n, sbr_err *e);

#endif
