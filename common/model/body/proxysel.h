/* ProxySR's proxy selection (body/proxysel.c), from the clicks' embeddings
 * X [B L, d] of a batch:
 *   alpha = W2 mean_j LeakyReLU_0.1(W1 dropout(x_j + P^P[r_j]))  (+ the
 *           logged-in user's bias), r_j counted back from the last click
 *   pi    = softmax(alpha / tau),  tau = max(T0 (TE/T0)^(e/E), TE) at epoch e
 *   p     = normalize(pi P) * (pi . |P_j|),   v = normalize(pi V)
 * Options read: proxies, dropout, users, t0, te, anneal_epochs. */
#ifndef SBR_MODEL_BODY_PROXYSEL_H
#define SBR_MODEL_BODY_PROXYSEL_H

typedef struct {
    real *pos;   /* [max_len, d] pos_p: the positions */
    real *w1;    /* [h, d] select.w1, h = (d + K) / 2 (no bias) */
    real *w2;    /* [K, h] select.w2 (no bias) */
    real *P, *V; /* [K, d] proxies, normals */
    real *ubias; /* [U + 1, K] user_bias (row 0: anonymous, 0), or NULL */
} R(sbr_proxysel_w);

typedef struct {
    real *Xp, *Xpd;             /* [B L, d] x + P^P, after dropout */
    real *H1, *A1;              /* [B L, h] W1 x, its LeakyReLU */
    uint8_t *mask;              /* [B L, d] */
    real *abar, *alpha, *pi;    /* [B, h]; [B, K] the logits / tau; [B, K] */
    real *ub;                   /* [B, K] the rows' user biases (users) */
    real *Pn, *pn;              /* [K, d] the proxies normalised, [K] their norms */
    real *praw, *u, *unrm, *nw; /* [B, d] pi P, normalised, [B] its norm, [B] pi . |P_j| */
    real *p;                    /* [B, d] the proxy */
    real *vraw, *v, *vnrm;      /* [B, d] pi V, normalised (the normal), [B] */
    real *g;                    /* the backward's buffers */
} R(sbr_proxysel_act);

typedef struct {
    R(sbr_proxysel_w) w, g;
    R(sbr_proxysel_act) a;
    int K, h, users;
    double p_drop, p_used, tau;
} R(sbr_proxysel);

/* Declares the weights (a group of their own): the tables with init emb
 * (arg ea), the two matrices with emb (arg wa); the tables in the unit ball,
 * the normals on the unit sphere (sbr_param_max_norm). */
void R(sbr_proxysel_declare)(sbr_model *m, R(sbr_proxysel) *ps, sbr_init_kind emb, double ea,
                             double wa);
void R(sbr_proxysel_layout)(sbr_model *m, R(sbr_proxysel) *ps, sbr_lay *l, const sbr_dims *dm);
/* p and v (ps->a.p, ps->a.v; ps->a.u = p / |p|) from X. */
void R(sbr_proxysel_forward)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b,
                             const real *X, int train);
/* From dp, dv [B, d] (and du_extra [B, d], a gradient of u, or NULL): the
 * weights' gradients, and dX [B L, d] +=. */
void R(sbr_proxysel_backward)(sbr_model *m, R(sbr_proxysel) *ps, const sbr_batch *b,
                              const real *dp, const real *dv, const real *du_extra, real *dX);

#endif
