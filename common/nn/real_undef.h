/* Undoes real_f32.h / real_f64.h (and a CUDA variant) so that the API can be
 * declared again for another element type or suffix. */
#undef real
#undef R
#undef REAL_F32
#undef REAL_F64
#undef REAL_EPS
#undef rexp
#undef rlog
#undef rlog1p
#undef rsqrt
#undef rtanh
#undef rfabs
#undef rpow
#undef cblas_Xgemm
#undef cblas_Xgemv
#undef cblas_Xdot
#undef cblas_Xaxpy
#undef rng_u01
