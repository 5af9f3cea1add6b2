/* Undoes real_f32.h / real_f64.h (and a CUDA variant) so that the API can be
 * declared again for another element type or suffix. */
#undef real
#undef R
#undef REAL_F32
#undef REAL_F64
#undef REAL_EPS
#undef r_exp
#undef r_log
#undef r_log1p
#undef r_sqrt
#undef r_tanh
#undef r_erf
#undef r_fabs
#undef r_pow
#undef cblas_Xgemm
#undef cblas_Xgemv
#undef cblas_Xdot
#undef cblas_Xaxpy
#undef rng_u01
