/* Vectorised float kernels of the hot loops (softmax over item chunks,
 * sigmoid / tanh and the GRU cell):
 * written with GCC/Clang vector extensions and compiled twice — AVX2 and
 * baseline x86-64 — with the best picked at run time (target_clones). Both
 * versions sum in the same order, 8 lanes then lanes 0..7, so results are
 * identical on any x86-64 machine. */
#ifndef SBR_NN_SIMD_H
#define SBR_NN_SIMD_H

#include <math.h>
#include <stdint.h>

/* Largest of x[0..n) (-inf when n = 0). NaNs are skipped. */
float sbr_nn_max_f32(const float *x, int n);
/* x[j] = exp(x[j] - m) * w for j < n; returns sum_j exp(x[j] - m) (before
 * w). exp has a relative error below 2e-7 and is exactly 0 below e^-87. */
float sbr_nn_expsum_f32(float *x, int n, float m, float w);
/* Returns sum_j exp(x[j] - m) and sets *t = sum_j exp(x[j] - m) (x[j] - m),
 * j < n, x unchanged (the uncertainty op's entropy terms); a term whose exp
 * is 0 (x[j] = -inf: an excluded item) adds 0 to both. Same exp as above,
 * same order of sums as every kernel here. */
float sbr_nn_expent_f32(const float *x, int n, float m, float *t);

/* sum_j a[j] b[j] and sum_j q[j] LeakyReLU(u[j]) (u[j] > 0 ? u[j] : slope
 * u[j]), j < n: eight running sums (lane j % 8), added lanes 0..7, then the
 * tail in order. The attention scores of GCE-GNN's aggregators were scalar
 * reductions, bound by the latency of one add per element. */
float sbr_nn_dot_f32(const float *a, const float *b, int n);
float sbr_nn_dot_lrelu_f32(const float *q, const float *u, int n, float slope);

/* One Adam update of n parameters (nn/optim.inc computes the constants):
 *   p' = p - dw p;  gi = g + cw p;  m = b1 m + (1 - b1) gi;
 *   v = b2 v + (1 - b2) gi^2;  p = p' - step m / (sqrt(v) / bc2 + eps)
 * and g = 0 when zero_grad. Element-wise IEEE operations in that order (no
 * fused multiply-add): the AVX2 clone gives the baseline's bits, twice as
 * many lanes per sqrt and division, which bound the loop. */
void sbr_nn_adam_f32(float *p, float *g, float *m, float *v, long n, float b1, float b2,
                     float cw, float dw, float step, float bc2, float eps, int zero_grad);

/* y[j] = sigmoid(x[j]), tanh(x[j]) for j < n (y == x allowed). Relative
 * error below 3e-7 (5 units of 2^-24) against the exact value
 * (tests/unit/test_nn_simd.c sweeps every float exponent); sigmoid is right
 * down into the subnormals (0 below -104); exactly 0, 1, +-1 at saturation;
 * -0 kept; NaN in, NaN out. */
void sbr_nn_sigmoid_f32(float *y, const float *x, int n);
void sbr_nn_tanh_f32(float *y, const float *x, int n);
/* The element-wise part of one GRU cell row (see nn/gru.inc), with the
 * kernels above: gi, gh [3H] (r, z, n), h [H] (NULL: zeros) ->
 * gates [3H] = (r, z, n), ghn [H] = gh_n, hnew [H] = n + z (h - n). */
void sbr_nn_gru_gates_f32(float *hnew, float *gates, float *ghn, const float *gi,
                          const float *gh, const float *h, int H);

/* mask[i] = 1 where the draw sbr_rng_hash(seed, offset + i) keeps element
 * i of a dropout, else 0, i < n: (bits >> 11) >= thr, with thr =
 * sbr_nn_dropout_threshold(p), the test u01(bits) >= p of dropout.inc made
 * exactly in integers (u01's 53 bits scaled by 2^53 are the integer
 * bits >> 11, and p 2^53 is exact). Any machine, any clone: the same bits. */
void sbr_nn_dropout_mask(uint8_t *mask, long n, uint64_t seed, uint64_t offset, uint64_t thr);
static inline uint64_t sbr_nn_dropout_threshold(double p)
{
    return (uint64_t)ceil(p * 0x1.0p53);
}

#endif
