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

/* In the child: an embedding lookup with idx[3] = 7 in a table of 5 rows, or
 * (CHILD_ENV=session) a session's click on another session's node. */
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
    if (strcmp(getenv(CHILD_ENV), "session") == 0) {
        /* two sessions of two clicks over nodes {0, 1} and {2, 3, 4}: click
         * 1 of session 0 points at node 2, of session 1 */
        int32_t alias[4] = {0, 2, 3, 4}, sess[5] = {0, 0, 1, 1, 1}, last[2] = {0, 3};
        int32_t *ds = sbr_cuda_malloc(sizeof sess, &e), *dl = sbr_cuda_malloc(sizeof last, &e);
        if (!ds || !dl)
            _exit(3);
        sbr_cuda_h2d(di, alias, sizeof alias);
        sbr_cuda_h2d(ds, sess, sizeof sess);
        sbr_cuda_h2d(dl, last, sizeof last);
        sbr_nn_session_nodes_forward_cuda(&ctx, y, y + 8, table, di, dl, ds, 2, 2, 5, 2);
    } else {
        sbr_nn_embedding_forward_cuda(&ctx, y, table, di, 4, 5, 4, -1);
    }
    sbr_nn_cuda_sync(&ctx); /* must abort here */
    _exit(0);
}

/* Runs this binary's test `test` as the child of case `which`; 1 when it
 * aborted saying `want`. */
static int child_says(const char *test, const char *which, const char *want)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        harness_fail(__FILE__, __LINE__, "readlink /proc/self/exe failed");
        return 0;
    }
    self[n] = 0;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "%s=%s '%s' %s 2>&1", CHILD_ENV, which, self, test);
    FILE *f = popen(cmd, "r");
    if (!f) {
        harness_fail(__FILE__, __LINE__, "popen %s failed", cmd);
        return 0;
    }
    char out[8192] = {0};
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    int st = pclose(f);
    if (st != 0 && st != -1 && strstr(out, want)) /* aborted, not a clean exit */
        return 1;
    harness_fail(__FILE__, __LINE__, "child (exit %d) said: %s", st, out);
    return 0;
}

TEST(cuda_index_violation_is_reported)
{
    CT_BEGIN();
    if (getenv(CHILD_ENV))
        violation_child(); /* does not return */
    CHECK(child_says("cuda_index_violation_is_reported", "1",
                     "sbr nn: embedding_forward (cuda): idx[3] = 7 is outside 0..4"));
}

TEST(cuda_session_violation_is_reported)
{
    CT_BEGIN();
    if (getenv(CHILD_ENV))
        violation_child(); /* does not return */
    CHECK(child_says("cuda_session_violation_is_reported", "session",
                     "sbr nn: session_nodes (cuda): row 1 (clicks, then last clicks): node 2 "
                     "is of session 1"));
}
