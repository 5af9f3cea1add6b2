/* Linked only into the GPU bundle (make gpu-bundle, docs/GPU.md): Debian ships
 * no static ARPACK, and libigraph.a's sparse-matrix object refers to it
 * although no sbr tool runs an eigen-solver (Leiden and modularity need
 * none). These definitions satisfy the linker; if one is ever reached, it
 * says so and aborts instead of computing anything. */
#include <stdio.h>
#include <stdlib.h>

static void unavailable(const char *name)
{
    fprintf(stderr, "sbr: %s: ARPACK is not linked into this GPU bundle (build with plain "
                    "'make' for it)\n", name);
    abort();
}

void dsaupd_(void) { unavailable("dsaupd"); }
void dseupd_(void) { unavailable("dseupd"); }
void dnaupd_(void) { unavailable("dnaupd"); }
void dneupd_(void) { unavailable("dneupd"); }
void dsortr_(void) { unavailable("dsortr"); }
void dsortc_(void) { unavailable("dsortc"); }
