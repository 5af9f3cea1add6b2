/* Element type of the double-precision instantiation of the op bodies
 * (common/nn/ops_f64.c): the reference that gradient checks run on. */
#define real double
#define R(name) name##_f64
#define REAL_F64 1
#define REAL_EPS 2.220446049250313e-16
#define r_exp exp
#define r_log log
#define r_log1p log1p
#define r_sqrt sqrt
#define r_tanh tanh
#define r_erf erf
#define r_fabs fabs
#define r_pow pow
#define cblas_Xgemm cblas_dgemm
#define cblas_Xgemv cblas_dgemv
#define cblas_Xdot cblas_ddot
#define cblas_Xaxpy cblas_daxpy
#define rng_u01 sbr_rng_u01
