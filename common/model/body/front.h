/* The item front (body/front.c): the input vectors X [n, d] of item ids,
 * shared by every model. A component: a model holds one R(sbr_front) (its
 * weights) and one R(sbr_front_act) per use in its forward (what that use's
 * backward needs), so it may embed the clicks, the candidates, a context's
 * items... in one forward.
 *
 * Plain: X = E[ids] (id 0: zero row).
 * CLIP-SBR (the model has clusters): ê = norm(e), p̂ = norm(p_c), two
 * independent sigmoid gates g_e = σ(W_e ê + b_e), g_p = σ(W_p p̂ + b_p),
 * X = g_e ⊙ ê + g_p ⊙ p̂ (docs/MODELS.md). The prompt p is the cluster's,
 * plus with user prompts (the paper's U and CU variants) the prompt of the
 * session's user: only in a use of the batch's clicks (sbr_front_clicks),
 * anonymous users and padding adding nothing. norm is the model's prompt_norm:
 * each vector over its features (default), each feature over a session's
 * clicks (the official code's GRU4Rec and NARM: only for a use that embeds
 * the batch's clicks [B, L], sbr_front_clicks; other uses of such a model
 * normalise over the features), or none. Scoring always uses the plain
 * table E. */
#ifndef SBR_MODEL_BODY_FRONT_H
#define SBR_MODEL_BODY_FRONT_H

typedef struct {
    real *items;  /* [N + 1, d] the item table E (row 0: padding, zero) */
    real *prompts; /* [C + 1, d] CLIP-SBR: one prompt per cluster (row 0: padding), or NULL */
    real *uprompts; /* [U + 1, d] CLIP-SBR: one prompt per user (row 0: anonymous), or NULL */
    real *ge_w;   /* [d, d] the embedding gate W_e, or NULL */
    real *ge_b;   /* [d] b_e, or NULL */
    real *gp_w;   /* [d, d] the prompt gate W_p, or NULL */
    real *gp_b;   /* [d] b_p, or NULL */
} R(sbr_front_w);

typedef struct {
    R(sbr_front_w) w, g; /* parameters, gradients */
    int d, V, C;         /* size, rows of E (N + 1), rows of the prompts (C + 1; 0: none) */
    int U;               /* rows of the user prompts (users + 1; 0: none) */
    sbr_prompt_norm norm; /* CLIP-SBR's normalisation */
} R(sbr_front);

/* One use of the front in a forward. */
typedef struct {
    const int32_t *ids, *cids; /* [n] the ids and clusters it embedded */
    const int32_t *uids;       /* [n] their users (user prompts), or NULL */
    const int32_t *ord, *cord; /* their grouping (sbr_batch.ids_ord), or NULL */
    int n, n_ord, n_cord;
    int L;                     /* [n / L, L] sessions of clicks (sbr_front_clicks), else 0 */
    real *e, *eh, *p, *ph, *ge, *gp, *t; /* CLIP: [n, d] each (eh, ph: not with norm none) */
    real *en, *pn;                       /* CLIP: [n] norms ([n / L, d] along sessions) */
    real *g;                             /* CLIP backward: [8, n, d] gradient buffers */
} R(sbr_front_act);

/* Declares the item table (and CLIP-SBR's prompts and gates when the model
 * has clusters) as the model's first parameters; the step scores against
 * this item table. */
void R(sbr_front_declare)(sbr_model *m, R(sbr_front) *f);
/* Lays out one use for up to n ids. */
void R(sbr_front_layout)(const R(sbr_front) *f, R(sbr_front_act) *a, sbr_lay *l, int n);
/* X [n, d] for ids [n] (cids [n]: their clusters, with prompts). grouped:
 * the batch whose ids_ord / cids_ord group these ids (its nodes' uniq or
 * its items), for the backward's scatter-adds without a sort; or NULL. */
void R(sbr_front_forward)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X,
                          const int32_t *ids, const int32_t *cids, int n,
                          const sbr_batch *grouped);
/* The same for the batch's clicks b->items / b->citems [B, L] (n = B L):
 * the use where --prompt-norm sequence applies. */
void R(sbr_front_clicks)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a, real *X,
                         const sbr_batch *b);
/* From dX [n, d], the gradient at that use's output: accumulates into E
 * (and the prompt and gate parameters). */
void R(sbr_front_backward)(sbr_model *m, const R(sbr_front) *f, R(sbr_front_act) *a,
                           const real *dX);

#endif
