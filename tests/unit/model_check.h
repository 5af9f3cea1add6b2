/* Whole-model checks shared by the tests of every model: a tiny instance in
 * double precision, its loss gradient against central finite differences of
 * every parameter, with and without CLIP-SBR prompts. */
#ifndef SBR_MODEL_CHECK_H
#define SBR_MODEL_CHECK_H

#include "model/batch.h"
#include "model/def.h"

/* A model with a context pool (NP-MiSR) on tiny data: the whole split as
 * its pool, contexts of 2 pairs (and 3 latent samples of size 3). */
void model_cfg_tiny_pool(sbr_model_cfg *c);
/* Draws m's pool from sp (prefix rule 1) and computes its vectors; cluster:
 * the CLIP map's (or NULL). A no-op for models without a pool. */
int model_pool_prepare(sbr_model *m, const sbr_split *sp, const int32_t *cluster, sbr_err *e);

/* Gradient-checks model `name` (tiny sizes, dropout on with a fixed mask):
 * returns the number of disagreeing elements (0 = pass), or -1 when the
 * model could not be built. clip: 1 with cluster prompts. */
int model_gradcheck(const char *name, int clip);
/* Adjust the tiny config (e.g. a model that needs layers = 2). */
typedef void (*model_cfg_fn)(sbr_model_cfg *c);
int model_gradcheck_cfg(const char *name, int clip, model_cfg_fn adjust);
/* The same for a model outside the registry (its f64 definition). */
int model_gradcheck_def(const sbr_model_def *def, int clip, model_cfg_fn adjust);

/* The largest default shapes (B = 100 prefixes of 50 distinct clicks, d =
 * hidden = 100, float, prompts on or off): one step and a top-K stay inside
 * the activations the model laid out, with a loss near log N. 0 = ok. */
int model_fullsize_check(const char *name, int clip);
/* The same after prep(m) (e.g. a global graph table), called once the model
 * is built; prep returns -1 with e set on failure. */
typedef int (*model_prep_fn)(sbr_model *m, sbr_err *e);
int model_fullsize_check_with(const char *name, int clip, model_prep_fn prep);
/* The same after adjust(cfg) on the defaults (e.g. a temperature that keeps
 * the first loss near log N). */
int model_fullsize_check_cfg(const char *name, int clip, model_cfg_fn adjust);

/* A tiny model in double and its S [B, d] in evaluation mode for every
 * prefix of the five sessions fx_off/fx_items, for forward checks against
 * plain loops written from each model's equations. */
extern int64_t fx_off[6];
extern int32_t fx_items[20];
typedef struct {
    sbr_model m;
    sbr_batch_buf bb;
    sbr_split sp; /* the five sessions (the pool's split) */
    sbr_samples smp;
    double *S; /* [B, d] */
    int B;
} model_fx;
int model_fx_run(model_fx *f, const char *name, int layers);
void model_fx_free(model_fx *f);
const double *model_fx_param(const model_fx *f, const char *pname);
/* SR-GNN's official forward on one prefix of len <= 8 clicks, d <= 8
 * (test_model_srgnn.c): S [d], and V [len, d] the clicks' states (or NULL);
 * softmax: the readout's weights softmaxed over the prefix (TAGNN). */
void srgnn_reference(const model_fx *f, const int32_t *it, int len, int steps, int softmax,
                     double *S, double *V);
/* y [out] = W x + b (b may be NULL), W [out, in]; the logistic function. */
void ref_linear(double *y, const double *w, const double *b, const double *x, int in, int out);
double ref_sigmoid(double x);
/* SR-GNN's gated graph steps (parameters gnn.*) on one prefix of item ids
 * it [len], written from its official model.py: hseq [len, d] the clicks'
 * node states (len <= 8, d <= 8). */
void ref_ggnn_clicks(const model_fx *f, const int32_t *it, int len, int steps, double *hseq);
/* A post-norm transformer block (RecBole's TransformerLayer), parameters
 * PREFIX.wq ... PREFIX.ln2_b of f, on x [n, d] -> y [n, d] (n, d <= 8, dff
 * <= 512). */
typedef struct {
    int nh, dff, causal, gelu; /* heads; FFN size; keys j <= i only; GELU (else ReLU) */
    double eps;                /* the layer norms' */
} ref_blk_cfg;
void ref_trm_block(const model_fx *f, const char *prefix, const double *x, int n,
                   const ref_blk_cfg *c, double *y);

#endif
