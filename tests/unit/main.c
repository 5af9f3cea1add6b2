/* Runner of the unit tests: see harness.h. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 4096

static struct {
    const char *name;
    harness_fn fn;
} tests[MAX_TESTS];
static int n_tests;
static int cur_failed, cur_skipped;
static char tmpdir[256];

void harness_register(const char *name, harness_fn fn)
{
    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        exit(2);
    }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    FAIL %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    cur_failed = 1;
}

void harness_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    skip: ");
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    cur_skipped = 1;
}

int harness_failed(void) { return cur_failed; }

int harness_exits(void (*fn)(void *), void *arg, char *err, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sbr-unit-exits-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        tmpdir[0] = 0; /* the child's exit must not remove the run's folder */
        if (dup2(fd, 2) < 0)
            _exit(3);
        fn(arg);
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    ssize_t k = pread(fd, err, n - 1, 0);
    err[k > 0 ? k : 0] = 0;
    close(fd);
    unlink(path);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int harness_aborts(void (*fn)(void *), void *arg)
{
    char err[16];
    return harness_exits(fn, arg, err, sizeof err) == 128 + SIGABRT;
}

const char *harness_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/sbr-unit-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("harness: mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

const char *harness_data_dir(void)
{
    static char path[1024];
    const char *d = getenv("SBR_DATA_DIR");
    snprintf(path, sizeof path, "%s", d && *d ? d : "../shared/data");
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

static void remove_tmpdir(void)
{
    if (tmpdir[0] && !getenv("SBR_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", tmpdir);
    }
}

static int cmp_tests(const void *a, const void *b)
{
    const char *na = *(const char *const *)a, *nb = *(const char *const *)b;
    return strcmp(na, nb);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    qsort(tests, n_tests, sizeof tests[0], cmp_tests);
    atexit(remove_tmpdir);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        cur_failed = cur_skipped = 0;
        fprintf(stdout, "  %s\n", tests[i].name);
        tests[i].fn();
        if (cur_failed) {
            fprintf(stdout, "  FAILED %s\n", tests[i].name);
            failed++;
        } else if (cur_skipped)
            skipped++;
        else
            passed++;
    }
    fprintf(stdout, "%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
