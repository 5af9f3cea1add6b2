/* Where compute runs: --device auto|cpu|cuda. */
#ifndef SBR_DEVICE_H
#define SBR_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SBR_DEV_CPU = 0, SBR_DEV_CUDA = 1 } sbr_device;

/* 1 when this binary was built with the CUDA path. */
int sbr_cuda_built(void);
/* Number of CUDA devices visible at run time (0 when none or not built). */
int sbr_cuda_device_count(void);

/* Resolves the --device argument ("auto", "cpu", "cuda"): auto takes a GPU
 * when one is visible, else the CPU. Says which on stderr (unless quiet).
 * "cuda" when none is usable is a fatal error. A bad word is a usage error. */
sbr_device sbr_device_select(const char *arg);
const char *sbr_device_name(sbr_device d);

/* --threads N (0 = all cores): sets OpenMP and OpenBLAS threads. */
void sbr_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif
