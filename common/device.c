#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "err.h"

#ifdef SBR_HAVE_CUDA
int sbr_cuda_device_count_impl(void); /* common/cuda/device_info.cu */
#endif

/* OpenBLAS's own thread control (declared here to avoid depending on which
 * cblas.h variant is installed). */
void openblas_set_num_threads(int n);

int sbr_cuda_built(void)
{
#ifdef SBR_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

int sbr_cuda_device_count(void)
{
#ifdef SBR_HAVE_CUDA
    if (getenv("SBR_NO_CUDA")) /* lets tests exercise the CPU fallback */
        return 0;
    return sbr_cuda_device_count_impl();
#else
    return 0;
#endif
}

const char *sbr_device_name(sbr_device d) { return d == SBR_DEV_CUDA ? "cuda" : "cpu"; }

sbr_device sbr_device_select(const char *arg)
{
    static const char *const words[] = {"auto", "cpu", "cuda", NULL};
    int which = sbr_arg_choice("--device", arg ? arg : "auto", words);
    if (which == 1) {
        sbr_info("device: cpu (asked for)");
        return SBR_DEV_CPU;
    }
    int n = sbr_cuda_device_count();
    if (which == 2) {
        if (!sbr_cuda_built())
            sbr_fatal("--device cuda: this build has no CUDA path (nvcc was not found at build time)");
        if (n == 0)
            sbr_fatal("--device cuda: no CUDA GPU is visible");
        sbr_info("device: cuda (asked for)");
        return SBR_DEV_CUDA;
    }
    if (n > 0) {
        sbr_info("device: cuda (auto: %d GPU%s visible)", n, n > 1 ? "s" : "");
        return SBR_DEV_CUDA;
    }
    sbr_info("device: cpu (auto: %s)",
             sbr_cuda_built() ? "no CUDA GPU visible" : "built without CUDA");
    return SBR_DEV_CPU;
}

void sbr_set_threads(int n)
{
#ifdef _OPENMP
    if (n <= 0)
        n = omp_get_num_procs();
    omp_set_num_threads(n);
#endif
    /* OpenBLAS single-threaded: the ops parallelise around it with OpenMP
     * (score_ce, topk: one serial gemm per thread on its own chunk), and a
     * second pool of OpenBLAS threads spinning in sched_yield beside
     * OpenMP's took a third of the cycles of a training step on 2 cores. */
    openblas_set_num_threads(1);
}
