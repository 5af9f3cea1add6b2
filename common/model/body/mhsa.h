/* A self-attention block as a model holds it (body/mhsa.c): the mhsa op's
 * sixteen weights (R(sbr_nn_mhsa_w): projections, layer norms, FFN) declared
 * as the model's own named, padded tensors, each with its own
 * initialisation. For GC-SAN's and CORE's transformer layers, SASRec-style
 * blocks and ProxySR's attention. */
#ifndef SBR_MODEL_BODY_MHSA_H
#define SBR_MODEL_BODY_MHSA_H

/* Declares the block's weights as PREFIX.wq, PREFIX.bq, ... PREFIX.ln2_b
 * (a new weight group over w and g): the projection and FFN matrices with
 * init and arg as sbr_param takes them (SBR_INIT_UNIFORM, 0: uniform(-s, s)
 * with the model's scale; SBR_INIT_NORMAL, 0.02: RecBole's _init_weights),
 * every bias 0, the layer-norm gains 1. With SBR_NN_MHSA_PROXYSR in flags
 * only wq, bq, wk, bk exist (the others stay NULL: that layout reads none
 * of them). Returns the index of the first. */
int R(sbr_mhsa_declare)(sbr_model *m, R(sbr_nn_mhsa_w) *w, R(sbr_nn_mhsa_w) *g,
                        const char *prefix, int dff, int flags, sbr_init_kind init, double arg);

#endif
