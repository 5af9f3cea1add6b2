/* Leiden clustering through igraph (the files: clusters_file.c). */
#include "cluster.h"

#include <errno.h>
#include <igraph/igraph.h>
#include <math.h>
#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* igraph's default error handler aborts the process; library code must
 * return instead, so errors are caught here and turned into sbr_err. */
static char igraph_msg[256];

static void on_igraph_error(const char *reason, const char *file, int line, igraph_error_t err)
{
    (void)file;
    (void)line;
    snprintf(igraph_msg, sizeof igraph_msg, "%s (%s)", reason ? reason : "?",
             igraph_strerror(err));
    IGRAPH_FINALLY_FREE();
}

static void on_igraph_warning(const char *reason, const char *file, int line)
{
    (void)reason;
    (void)file;
    (void)line;
}

static int igraph_fail(sbr_err *e, const char *what)
{
    return sbr_errf(e, "igraph %s failed: %s", what, igraph_msg[0] ? igraph_msg : "unknown error");
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Relabels m[0..n) by first appearance (0, 1, ...) into out; returns the
 * number of labels. Two partitions are equal iff their canonical forms are. */
static int64_t canonical(const igraph_vector_int_t *m, int64_t n, int32_t *out, int32_t *map,
                         int64_t n_labels)
{
    for (int64_t i = 0; i < n_labels; i++)
        map[i] = -1;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        igraph_integer_t l = VECTOR(*m)[i];
        if (map[l] < 0)
            map[l] = (int32_t)k++;
        out[i] = map[l];
    }
    return k;
}

typedef struct {
    int64_t size, first; /* first = smallest item in the cluster */
    int32_t label;
} label_order;

static int cmp_label_order(const void *pa, const void *pb)
{
    const label_order *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

/* The Leiden iterations on an igraph graph; fills canon[0..nv) with the
 * final partition in first-appearance labels. */
static int run_leiden(const igraph_t *ig, const igraph_vector_t *ew, const igraph_vector_t *nw,
                      double res, const sbr_leiden_opts *o, uint64_t seed, int64_t nv,
                      int32_t *canon, sbr_clusters *c, int64_t it_base, sbr_leiden_cb cb,
                      void *cb_arg, sbr_err *e)
{
    igraph_vector_int_t memb;
    if (igraph_vector_int_init(&memb, nv) != IGRAPH_SUCCESS)
        return igraph_fail(e, "vector");
    int32_t *prev = sbr_xmalloc((size_t)nv * sizeof *prev);
    int32_t *map = sbr_xmalloc((size_t)nv * sizeof *map);
    int64_t cap = o->max_iterations < 0 ? SBR_LEIDEN_STABLE_CAP : o->max_iterations;
    int rc = 0;
    igraph_rng_seed(igraph_rng_default(), (igraph_uint_t)seed);
    c->stable = 0;
    int64_t it;
    for (it = 0; it < cap; it++) {
        igraph_integer_t nb = 0;
        igraph_real_t quality = 0;
        /* One iteration at a time, each starting from the last partition:
         * igraph's own "until stable" loop does the same, but this way the
         * iterations are counted and shown. */
        if (igraph_community_leiden(ig, ew, nw, res, o->beta, it > 0, 1, &memb, &nb, &quality) !=
            IGRAPH_SUCCESS) {
            rc = igraph_fail(e, "community_leiden");
            break;
        }
        c->quality = quality;
        c->n_graph_clusters = canonical(&memb, nv, canon, map, nv);
        if (cb)
            cb(it_base + it + 1, c->n_graph_clusters, quality, cb_arg);
        if (it > 0 && memcmp(prev, canon, (size_t)nv * sizeof *prev) == 0) {
            c->stable = 1;
            it++;
            break;
        }
        memcpy(prev, canon, (size_t)nv * sizeof *prev);
    }
    c->iterations = it;
    if (rc == 0) {
        igraph_real_t q;
        if (igraph_modularity(ig, &memb, ew, o->resolution, IGRAPH_UNDIRECTED, &q) !=
            IGRAPH_SUCCESS)
            rc = igraph_fail(e, "modularity");
        else
            c->modularity = q;
    }
    free(prev);
    free(map);
    igraph_vector_int_destroy(&memb);
    return rc;
}

/* What a restart run in a child process sends back, before its labels. */
typedef struct {
    int ok;
    double modularity, quality;
    int64_t iterations, n_graph_clusters;
    int stable;
    char msg[256];
} restart_result;

static int read_full(int fd, void *p, size_t n)
{
    char *b = p;
    while (n > 0) {
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Restart r runs in a child process (igraph is not thread-safe, so the
 * restarts run in parallel as processes, as many at a time as --threads).
 * Returns the child's pid and the read end of its pipe, or -1 when fork
 * is not possible (the caller then runs the restart itself). */
static pid_t spawn_restart(const igraph_t *ig, const igraph_vector_t *ew,
                           const igraph_vector_t *nw, double res, const sbr_leiden_opts *o,
                           uint64_t seed, int64_t nv, int32_t *scratch, int *fd_out)
{
    int fd[2];
    if (pipe(fd) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        sbr_clusters t;
        sbr_err e = {{0}};
        restart_result rr;
        memset(&t, 0, sizeof t);
        memset(&rr, 0, sizeof rr);
        rr.ok = run_leiden(ig, ew, nw, res, o, seed, nv, scratch, &t, 0, NULL, NULL, &e) == 0;
        rr.modularity = t.modularity;
        rr.quality = t.quality;
        rr.iterations = t.iterations;
        rr.n_graph_clusters = t.n_graph_clusters;
        rr.stable = t.stable;
        snprintf(rr.msg, sizeof rr.msg, "%.200s", e.msg);
        int bad = write_full(fd[1], &rr, sizeof rr) < 0 ||
                  (rr.ok && write_full(fd[1], scratch, (size_t)nv * sizeof *scratch) < 0);
        _exit(bad ? 1 : 0); /* no atexit handlers, no cleanup hooks of the parent */
    }
    close(fd[1]);
    *fd_out = fd[0];
    return pid;
}

/* Keeps restart r's result when it is the best so far (ties: the earlier). */
static void keep_best(sbr_clusters *c, const sbr_clusters *t, int r, uint64_t seed,
                      const int32_t *trial, int32_t *canon, int64_t nv)
{
    if (r == 0 || t->modularity > c->modularity) {
        c->modularity = t->modularity;
        c->quality = t->quality;
        c->iterations = t->iterations;
        c->stable = t->stable;
        c->n_graph_clusters = t->n_graph_clusters;
        c->best_seed = seed;
        memcpy(canon, trial, (size_t)nv * sizeof *canon);
    }
}

/* Leiden from seeds seed, seed+1, ...; the best modularity wins (the earlier
 * restart on ties), so the result depends only on the seed, not on how the
 * restarts were scheduled. */
static int run_restarts(const igraph_t *ig, const igraph_vector_t *ew, const igraph_vector_t *nw,
                        double res, const sbr_leiden_opts *o, int64_t nv, int32_t *canon,
                        sbr_clusters *c, sbr_leiden_cb cb, void *cb_arg, sbr_err *e)
{
    const int R = o->restarts > 0 ? o->restarts : 1;
    int P = omp_get_max_threads();
    if (P < 1)
        P = 1;
    int32_t *trial = sbr_xmalloc((size_t)nv * sizeof *trial);
    pid_t *pid = sbr_xmalloc((size_t)R * sizeof *pid);
    int *fd = sbr_xmalloc((size_t)R * sizeof *fd);
    int64_t total = 0;
    int rc = 0;
    for (int first = 0; first < R && rc == 0; first += P) {
        int last = first + P < R ? first + P : R;
        for (int r = first + 1; r < last; r++)
            pid[r] = spawn_restart(ig, ew, nw, res, o, o->seed + (uint64_t)r, nv, trial, &fd[r]);
        for (int r = first; r < last; r++) {
            sbr_clusters t;
            memset(&t, 0, sizeof t);
            if (r == first || pid[r] < 0) {
                if (run_leiden(ig, ew, nw, res, o, o->seed + (uint64_t)r, nv, trial, &t, total,
                               cb, cb_arg, e) < 0) {
                    rc = -1;
                    continue; /* still reap the children */
                }
            } else {
                restart_result rr;
                int status = 0, bad = read_full(fd[r], &rr, sizeof rr) < 0 ||
                                      (rr.ok && read_full(fd[r], trial,
                                                          (size_t)nv * sizeof *trial) < 0);
                close(fd[r]);
                waitpid(pid[r], &status, 0);
                if (rc < 0)
                    continue;
                if (bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    rc = sbr_errf(e, "Leiden restart %d (seed %llu) failed%s%s", r,
                                  (unsigned long long)(o->seed + (uint64_t)r),
                                  !bad && rr.msg[0] ? ": " : "", !bad ? rr.msg : "");
                    continue;
                }
                t.modularity = rr.modularity;
                t.quality = rr.quality;
                t.iterations = rr.iterations;
                t.n_graph_clusters = rr.n_graph_clusters;
                t.stable = rr.stable;
                if (cb)
                    cb(total + t.iterations, t.n_graph_clusters, t.quality, cb_arg);
            }
            total += t.iterations;
            keep_best(c, &t, r, o->seed + (uint64_t)r, trial, canon, nv);
        }
    }
    free(trial);
    free(pid);
    free(fd);
    c->total_iterations = total;
    return rc;
}

/* From Leiden labels over the non-isolated items to cluster ids of every
 * item (see cluster.h for the numbering and the isolated rule). */
static void assign_ids(const sbr_graph *ug, const int64_t *vid, const int32_t *canon,
                       const double *strength, const sbr_leiden_opts *o, sbr_clusters *c)
{
    const int64_t n_items = ug->n_items, L = c->n_graph_clusters;
    label_order *ord = sbr_xcalloc((size_t)L, sizeof *ord);
    for (int64_t l = 0; l < L; l++) {
        ord[l].label = (int32_t)l;
        ord[l].first = -1;
    }
    for (int64_t u = 1; u <= n_items; u++)
        if (vid[u] >= 0) {
            label_order *x = &ord[canon[vid[u]]];
            x->size++;
            if (x->first < 0)
                x->first = u;
        }
    qsort(ord, (size_t)L, sizeof *ord, cmp_label_order);
    int32_t *id_of = sbr_xmalloc((size_t)L * sizeof *id_of);
    for (int64_t r = 0; r < L; r++)
        id_of[ord[r].label] = (int32_t)(r + 1);
    free(ord);

    c->cluster = sbr_xcalloc((size_t)n_items + 1, sizeof *c->cluster);
    double *volume = sbr_xcalloc((size_t)L + 1, sizeof *volume);
    for (int64_t u = 1; u <= n_items; u++)
        if (vid[u] >= 0) {
            c->cluster[u] = id_of[canon[vid[u]]];
            volume[c->cluster[u]] += strength[vid[u]];
        }
    free(id_of);
    c->frequent = 1;
    for (int64_t k = 2; k <= L; k++)
        if (volume[k] > volume[c->frequent])
            c->frequent = (int32_t)k;
    free(volume);

    int64_t next = L;
    for (int64_t u = 1; u <= n_items; u++)
        if (vid[u] < 0)
            c->cluster[u] = o->isolated == SBR_ISOLATED_SINGLE ? (int32_t)++next : c->frequent;
    c->n_clusters = next;
    c->sizes = sbr_xcalloc((size_t)next + 1, sizeof *c->sizes);
    for (int64_t u = 1; u <= n_items; u++)
        c->sizes[c->cluster[u]]++;
}

int sbr_cluster_leiden(const sbr_graph *g, const sbr_leiden_opts *o, sbr_clusters *c,
                       sbr_leiden_cb iter_cb, void *cb_arg, sbr_err *e)
{
    memset(c, 0, sizeof *c);
    if (!(o->resolution > 0) || !isfinite(o->resolution))
        return sbr_errf(e, "resolution must be positive (got %g)", o->resolution);
    if (!(o->beta > 0) || !isfinite(o->beta))
        return sbr_errf(e, "beta must be positive (got %g)", o->beta);
    if (g->nnz == 0)
        return sbr_errf(e, "empty graph: no edges to cluster (%lld items)",
                        (long long)g->n_items);
    sbr_graph tmp, *ug = &tmp;
    int own = !g->symmetric;
    if (own)
        sbr_graph_undirected(g, &tmp);
    else
        ug = (sbr_graph *)g;
    const double t0 = wall_seconds();

    /* Only items with an edge become igraph vertices, in item order. */
    int64_t *vid = sbr_xmalloc((size_t)ug->n_nodes * sizeof *vid);
    int64_t nv = 0, ne = 0;
    for (int64_t u = 0; u < ug->n_nodes; u++) {
        vid[u] = ug->offsets[u + 1] > ug->offsets[u] ? nv++ : -1;
        for (int64_t p = ug->offsets[u]; p < ug->offsets[u + 1]; p++)
            ne += ug->neighbors[p] >= u;
    }
    igraph_set_error_handler(on_igraph_error);
    igraph_set_warning_handler(on_igraph_warning);
    igraph_msg[0] = 0;
    igraph_vector_int_t edges;
    igraph_vector_t ew, nw;
    igraph_t ig;
    int rc = -1;
    int have_edges = 0, have_ew = 0, have_nw = 0, have_graph = 0;
    double *strength = sbr_xcalloc((size_t)nv, sizeof *strength);
    int32_t *canon = sbr_xmalloc((size_t)nv * sizeof *canon);
    if (igraph_vector_int_init(&edges, 2 * ne) != IGRAPH_SUCCESS) {
        igraph_fail(e, "vector");
        goto done;
    }
    have_edges = 1;
    if (igraph_vector_init(&ew, ne) != IGRAPH_SUCCESS) {
        igraph_fail(e, "vector");
        goto done;
    }
    have_ew = 1;
    int64_t k = 0;
    for (int64_t u = 0; u < ug->n_nodes; u++)
        for (int64_t p = ug->offsets[u]; p < ug->offsets[u + 1]; p++) {
            int32_t v = ug->neighbors[p];
            if (v < u)
                continue;
            VECTOR(edges)[2 * k] = vid[u];
            VECTOR(edges)[2 * k + 1] = vid[v];
            VECTOR(ew)[k] = ug->weights[p];
            strength[vid[u]] += ug->weights[p];
            strength[vid[v]] += ug->weights[p]; /* a self-loop counts twice */
            k++;
        }
    double two_m = 0;
    if (igraph_vector_init(&nw, nv) != IGRAPH_SUCCESS) {
        igraph_fail(e, "vector");
        goto done;
    }
    have_nw = 1;
    for (int64_t i = 0; i < nv; i++) {
        VECTOR(nw)[i] = strength[i];
        two_m += strength[i];
    }
    if (igraph_create(&ig, &edges, nv, IGRAPH_UNDIRECTED) != IGRAPH_SUCCESS) {
        igraph_fail(e, "create");
        goto done;
    }
    have_graph = 1;
    /* Modularity as igraph documents it for Leiden: node weights = strength,
     * resolution = gamma / 2m. */
    if (run_restarts(&ig, &ew, &nw, o->resolution / two_m, o, nv, canon, c, iter_cb, cb_arg, e) < 0)
        goto done;
    c->restarts = o->restarts > 0 ? o->restarts : 1;
    c->n_items = ug->n_items;
    c->n_isolated = ug->n_items - (nv - (vid[0] >= 0));
    c->resolution = o->resolution;
    c->beta = o->beta;
    c->seed = o->seed;
    c->isolated = o->isolated;
    assign_ids(ug, vid, canon, strength, o, c);
    c->seconds = wall_seconds() - t0;
    rc = 0;
done:
    if (have_graph)
        igraph_destroy(&ig);
    if (have_nw)
        igraph_vector_destroy(&nw);
    if (have_ew)
        igraph_vector_destroy(&ew);
    if (have_edges)
        igraph_vector_int_destroy(&edges);
    free(strength);
    free(canon);
    free(vid);
    if (own)
        sbr_graph_free(&tmp);
    if (rc < 0)
        sbr_clusters_free(c);
    return rc;
}
