/* Vectorised float kernels of the hot loops (softmax over item chunks):
 * written with GCC/Clang vector extensions and compiled twice — AVX2 and
 * baseline x86-64 — with the best picked at run time (target_clones). Both
 * versions sum in the same order, 8 lanes then lanes 0..7, so results are
 * identical on any x86-64 machine. */
#ifndef SBR_NN_SIMD_H
#define SBR_NN_SIMD_H

/* Largest of x[0..n) (-inf when n = 0). NaNs are skipped. */
float sbr_nn_max_f32(const float *x, int n);
/* x[j] = exp(x[j] - m) * w for j < n; returns sum_j exp(x[j] - m) (before
 * w). exp has a relative error below 2e-7 and is exactly 0 below e^-87. */
float sbr_nn_expsum_f32(float *x, int n, float m, float w);

#endif
