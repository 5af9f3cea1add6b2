/* A bad index inside a kernel is reported like the CPU's contract check:
 * "sbr nn: OP (cuda): idx[...] = ... is outside ..." and abort, at the next
 * synchronisation. The bad call runs in a child process: this binary again,
 * running this test alone, told by an environment variable to be the child.
 * (Not a constructor: with the static CUDA runtime, a constructor can run
 * before the kernels are registered, and the launch fails with "invalid
 * resource handle".) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cuda_test.h"

#define CHILD_ENV "SBR_CUDA_TEST_VIOLATION_CHILD"

/* In the child: an embedding lookup with idx[3] = 7 in a table of 5 rows. */
static void violation_child(void)
{
    sbr_nn_ctx ctx;
    sbr_err e;
    if (sbr_nn_cuda_ctx_init(&ctx, 1 << 20, &e) < 0) {
        fprintf(stderr, "child: %s\n", e.msg);
        _exit(3);
    }
    int32_t idx[4] = {0, 1, 2, 7};
    float *table = sbr_cuda_malloc(5 * 4 * sizeof(float), &e);
    float *y = sbr_cuda_malloc(4 * 4 * sizeof(float), &e);
    int32_t *di = sbr_cuda_malloc(sizeof idx, &e);
    if (!table || !y || !di)
        _exit(3);
    sbr_cuda_h2d(di, idx, sizeof idx);
    sbr_nn_embedding_forward_cuda(&ctx, y, table, di, 4, 5, 4, -1);
    sbr_nn_cuda_sync(&ctx); /* must abort here */
    _exit(0);
}

TEST(cuda_index_violation_is_reported)
{
    CT_BEGIN();
    if (getenv(CHILD_ENV))
        violation_child(); /* does not return */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "%s=1 '%s' cuda_index_violation_is_reported 2>&1", CHILD_ENV, self);
    FILE *f = popen(cmd, "r");
    REQUIRE(f != NULL);
    char out[8192] = {0};
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    int st = pclose(f);
    CHECK(st != 0 && st != -1); /* aborted, not a clean exit */
    if (!strstr(out, "sbr nn: embedding_forward (cuda): idx[3] = 7 is outside 0..4"))
        harness_fail(__FILE__, __LINE__, "child said: %s", out);
}
