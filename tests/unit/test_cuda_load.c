/* The run-time loading of cuBLAS (common/cuda/cublas_load.cu): every
 * function the op library calls resolves in the libraries the build found,
 * so a GPU context can bind them; and the tools are not linked against
 * them (tests/cli/test_conventions.sh checks the binaries). No GPU needed. */
#include <string.h>

#include "harness.h"

#if defined(SBR_HAVE_CUDA) && SBR_HAVE_CUDA
#include "cuda/cublas_load.h"
#include "err.h"

TEST(cuda_cublas_load_binds_every_function)
{
    sbr_err e = {0};
    int rc = sbr_cublas_load(&e);
    if (rc && strstr(e.msg, "cannot load"))
        SKIP("cuBLAS is not installed here: %s", e.msg);
    CHECK_EQ_I64(rc, 0);
    CHECK_EQ_I64(sbr_cublas_load(&e), 0); /* once loaded, again is a no-op */
}
#else
TEST(cuda_cublas_load_binds_every_function)
{
    SKIP("built without the CUDA path");
}
#endif
