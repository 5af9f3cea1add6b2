/* Bench helper: a line service's latency, one request at a time.
 *   pingpong REQUESTS -- COMMAND [ARG]...
 * runs COMMAND with pipes on its standard input and output, sends each line
 * of REQUESTS, waits for its one answer line, and prints
 *   requests p50_ms p99_ms requests_per_s errors
 * (errors: answers that start with "error" or contain a tab-separated
 * "error" field). The first 1% of requests warm up and are not timed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Starts argv with its stdin and stdout on pipes: *to, *from. */
static pid_t start(char **argv, FILE **to, FILE **from)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    *to = fdopen(in[1], "w"), *from = fdopen(out[0], "r");
    return pid;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: pingpong REQUESTS -- COMMAND [ARG]...\n");
        return 2;
    }
    FILE *rq = fopen(argv[1], "r"), *to, *from;
    if (!rq) {
        perror(argv[1]);
        return 1;
    }
    char **lines = NULL, *line = NULL, *ans = NULL;
    size_t n = 0, cap = 0, lcap = 0, acap = 0;
    while (getline(&line, &lcap, rq) >= 0) {
        if (n == cap)
            lines = realloc(lines, (cap = cap * 2 + 64) * sizeof *lines);
        lines[n++] = strdup(line);
    }
    pid_t pid = start(argv + 3, &to, &from);
    if (pid < 0 || !to || !from) {
        perror("pingpong: start");
        return 1;
    }
    size_t warm = n / 100, errors = 0;
    double *ms = malloc((n + 1) * sizeof *ms), t_begin = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == warm)
            t_begin = now_ms();
        double t0 = now_ms();
        if (fputs(lines[i], to) < 0 || fflush(to) || getline(&ans, &acap, from) < 0) {
            fprintf(stderr, "pingpong: the service stopped at request %zu\n", i + 1);
            return 1;
        }
        ms[i] = now_ms() - t0;
        errors += strncmp(ans, "error", 5) == 0 || strstr(ans, "\terror\t") != NULL;
    }
    double total = now_ms() - t_begin;
    fclose(to);
    waitpid(pid, NULL, 0);
    size_t m = n - warm;
    qsort(ms + warm, m, sizeof *ms, cmp_double);
    printf("%zu %.3f %.3f %.0f %zu\n", m, ms[warm + m / 2], ms[warm + (m * 99) / 100],
           m / (total / 1e3), errors);
    return 0;
}
