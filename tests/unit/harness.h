/* A small unit-test harness. Each TEST registers itself; the runner
 * (tests/unit/main.c) runs them all (or those whose name contains argv[1])
 * and ends with the line "N passed, N failed, N skipped".
 *
 *   TEST(json_roundtrip) { CHECK(x == 1); CHECK_EQ_I64(a, b); }
 *
 * A failed CHECK prints file:line and the expression and marks the test
 * failed; the test keeps running. REQUIRE stops the test at a failure. */
#ifndef SBR_HARNESS_H
#define SBR_HARNESS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*harness_fn)(void);
void harness_register(const char *name, harness_fn fn);
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks the current test skipped with a reason (printed); return after it. */
void harness_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int harness_failed(void); /* has the current test failed so far */
/* Runs fn(arg) in a child process (its stderr kept from the run's): 1 when
 * the child died of abort() (an op's contract check), else 0. */
int harness_aborts(void (*fn)(void *), void *arg);
/* Runs fn(arg) in a child process: its exit status (128 + the signal when
 * it died of one), and the start of what it wrote to stderr in err [n]. */
int harness_exits(void (*fn)(void *), void *arg, char *err, size_t n);

/* A fresh temporary directory for this test run (removed at exit). */
const char *harness_tmpdir(void);
/* Path of the shared benchmark data (SBR_DATA_DIR, default ../shared/data);
 * NULL when it is absent. */
const char *harness_data_dir(void);

#define TEST(name)                                                                 \
    static void test_##name(void);                                                 \
    __attribute__((constructor)) static void register_##name(void)                 \
    {                                                                              \
        harness_register(#name, test_##name);                                      \
    }                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond))                                                               \
            harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                  \
    } while (0)

#define REQUIRE(cond)                                                              \
    do {                                                                           \
        if (!(cond)) {                                                             \
            harness_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                \
            return;                                                                \
        }                                                                          \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                         \
    do {                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                      \
        if (va_ != vb_)                                                            \
            harness_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_); \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                      \
    do {                                                                           \
        double va_ = (double)(a), vb_ = (double)(b);                               \
        if (!(fabs(va_ - vb_) <= (tol)))                                           \
            harness_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, \
                         va_, vb_, (double)(tol));                                 \
    } while (0)

#define CHECK_STR(a, b)                                                            \
    do {                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                 \
            harness_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                         sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");              \
    } while (0)

#define SKIP(...)                                                                  \
    do {                                                                           \
        harness_skip(__VA_ARGS__);                                                 \
        return;                                                                    \
    } while (0)

#endif
