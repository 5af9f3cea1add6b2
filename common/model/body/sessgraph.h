/* SR-GNN's session-graph encoder (body/sessgraph.c), shared by SR-GNN and
 * GC-SAN: the front embeds the batch's nodes (b->nodes), optional dropout
 * on them, `steps` gated graph steps over the degree-normalised in/out
 * adjacency (the ggnn op), then each click's node state by alias (hseq)
 * and the last click's (vl). The weights are the ggnn op's R(sbr_nn_ggnn_w),
 * a member of the model's weight struct; the activations one R(sbr_sgraph). */
#ifndef SBR_MODEL_BODY_SESSGRAPH_H
#define SBR_MODEL_BODY_SESSGRAPH_H

/* Declares PREFIX.w_in, b_in, w_out, b_out, b_iah, b_oah, w_ih, b_ih, w_hh,
 * b_hh (the SR-GNN names) for w, a member of the weight group being
 * declared: every tensor uniform with the model's scale (init UNIFORM, as
 * SR-GNN's reset_parameters), or the matrices normal(0, arg^2) and every
 * bias zero (init NORMAL, as RecBole's _init_weights). */
void R(sbr_ggnn_declare)(sbr_model *m, R(sbr_nn_ggnn_w) *w, const char *prefix,
                         sbr_init_kind init, double arg);

typedef struct {
    R(sbr_front_act) front;  /* the front's use on the nodes */
    /* the GGNN's saved hsteps [steps, T, d] (hsteps[0] is the front's H0),
     * a [steps, T, 2d], gates [steps, T, 3d], ghn [steps, T, d] */
    R(sbr_nn_ggnn_saved) gg;
    real *H0d, *Hout;        /* [T, d] H0 after dropout; the GGNN's output */
    uint8_t *mask;           /* [T, d] the dropout's mask */
    real *hin;               /* the GGNN's input: H0d, or H0 */
    real *hseq;              /* [B L, d] the clicks' node states (output) */
    real *vl;                /* [B, d] the last click's node state (output) */
    real *dH;                /* [3, T, d] the backward's dHout, dH0d, dH0 */
    int steps;               /* gated graph steps */
    double p, p_used;        /* node dropout, and the rate the last forward used */
} R(sbr_sgraph);

/* Lays out s for batches of shapes dm (s->steps set before). */
void R(sbr_sgraph_layout)(const R(sbr_front) *f, R(sbr_sgraph) *s, sbr_lay *l,
                          const sbr_dims *dm, int d);
size_t R(sbr_sgraph_scratch)(const sbr_dims *dm, int d);
/* s->hseq, s->vl from the batch's nodes and graph. */
void R(sbr_sgraph_forward)(sbr_model *m, const R(sbr_front) *f, const R(sbr_nn_ggnn_w) *w,
                           R(sbr_sgraph) *s, const sbr_batch *b, int train);
/* From dhseq [B L, d] and dvl [B, d]: the GGNN's gradients into gw, the
 * front's into its own. */
void R(sbr_sgraph_backward)(sbr_model *m, const R(sbr_front) *f, const R(sbr_nn_ggnn_w) *w,
                            const R(sbr_nn_ggnn_w) *gw, R(sbr_sgraph) *s, const sbr_batch *b,
                            const real *dhseq, const real *dvl);

#endif
