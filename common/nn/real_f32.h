/* Element type of the single-precision instantiation of the op bodies
 * (common/nn/ops_f32.c): the production CPU path. See docs/OPS.md. */
#define real float
#define R(name) name##_f32
#define REAL_F32 1
#define REAL_EPS 1.1920929e-07f
#define r_exp expf
#define r_log logf
#define r_log1p log1pf
#define r_sqrt sqrtf
#define r_tanh tanhf
#define r_erf erff
#define r_fabs fabsf
#define r_pow powf
#define cblas_Xgemm cblas_sgemm
#define cblas_Xgemv cblas_sgemv
#define cblas_Xdot cblas_sdot
#define cblas_Xaxpy cblas_saxpy
#define rng_u01 sbr_rng_u01f
