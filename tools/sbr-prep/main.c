/* sbr-prep: raw click logs and benchmark pickles in, one sessions file out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "clicklog.h"
#include "cli.h"
#include "err.h"
#include "io.h"
#include "prep.h"
#include "progress.h"
#include "sessions.h"
#include "tfile.h"

/* What one run read and made, for the summary and the metadata. */
typedef struct {
    sbr_sessions s;
    sbr_counts cnt;
    sbr_prep_opts po;
    int inferred;              /* min_prefix inferred from the test prefixes */
    const char *srgnn_train;   /* the pickle trained from, NULL for logs */
    char pairs_check[64];      /* train.txt against all_train_seq.txt, "" when absent */
    char split[48];            /* the split by count "A:B:C", "" for the split by date */
    const char *sessions_by;   /* how sessions were made: "ids", "gap", "day"; NULL: pickles */
    double t0, t_read, t_prep, c_read, c_prep; /* wall and thread-CPU clocks */
} run;

/* DIR/NAME or DIR/NAME.zst, whichever exists; NULL when neither. */
static char *find_in(const char *dir, const char *name)
{
    static const char *const sfx[] = {"", ".zst"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(dir) + strlen(name) + 8;
        char *p = sbr_xmalloc(n);
        snprintf(p, n, "%s/%s%s", dir, name, sfx[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            return p;
        free(p);
    }
    return NULL;
}

/* CPU seconds of this thread (SBR_PREP_TIMING: load-independent phase costs). */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_split(const sbr_sessions *s, int k)
{
    const sbr_split *sp = &s->split[k];
    int64_t S = sp->n_sessions, nnz = S ? sp->offsets[S] : 0, with_user = 0;
    for (int64_t i = 0; sp->users && i < S; i++)
        with_user += sp->users[i] >= 0;
    char users[48] = "";
    if (sp->users)
        snprintf(users, sizeof users, "  %lld with a user", (long long)with_user);
    sbr_info("%-5s %9lld sessions %10lld clicks %10lld samples  mean length %.2f%s%s",
             sbr_split_names[k], (long long)S, (long long)nnz,
             (long long)sbr_samples_count(sp, s->min_prefix), S ? (double)nnz / (double)S : 0.0,
             users, sp->last_only ? "  (one sample each)" : "");
}

/* A train.txt beside all_train_seq.txt must be its expansion. */
static void check_pairs(const char *pairs_path, run *r)
{
    uint8_t *pb;
    size_t pn;
    int64_t np, diff;
    sbr_err e;
    if (sbr_read_all(pairs_path, &pb, &pn, &e) < 0)
        sbr_fatal("%s: %s", pairs_path, e.msg);
    if (sbr_prep_srgnn_check_pairs(&r->s, pb, pn, pairs_path, &np, &diff, &e) < 0)
        sbr_fatal("%s", e.msg);
    if (diff < 0) {
        sbr_info("%s: its %lld pairs are all_train_seq.txt expanded, one for one", pairs_path,
                 (long long)np);
        snprintf(r->pairs_check, sizeof r->pairs_check, "equal (%lld pairs)", (long long)np);
    } else {
        sbr_warn("%s differs from all_train_seq.txt expanded at pair %lld (of %lld); "
                 "all_train_seq.txt is used", pairs_path, (long long)diff, (long long)np);
        snprintf(r->pairs_check, sizeof r->pairs_check, "differs at pair %lld", (long long)diff);
    }
    free(pb);
}

/* The SR-GNN pickles: a directory, or the training pickle and TEST. */
static void prep_pickles(const prep_args *a, run *r)
{
    char *tr_path = NULL, *te_path = NULL, *pairs_path = NULL;
    if (prep_is_dir(a->input)) {
        tr_path = find_in(a->input, "all_train_seq.txt");
        pairs_path = find_in(a->input, "train.txt");
        if (!tr_path && !pairs_path)
            sbr_fatal("%s: no all_train_seq.txt or train.txt (or .zst) in this directory",
                      a->input);
        if (!tr_path) { /* only the expanded pairs: train from them */
            tr_path = pairs_path;
            pairs_path = NULL;
        }
        te_path = a->test_in ? sbr_xstrdup(a->test_in) : find_in(a->input, "test.txt");
    } else {
        tr_path = sbr_xstrdup(a->input);
        te_path = a->test_in ? sbr_xstrdup(a->test_in) : NULL;
    }
    uint8_t *trb, *teb = NULL;
    size_t trn, ten = 0;
    sbr_err e;
    if (sbr_read_all(tr_path, &trb, &trn, &e) < 0)
        sbr_fatal("%s: %s", tr_path, e.msg);
    if (te_path && sbr_read_all(te_path, &teb, &ten, &e) < 0)
        sbr_fatal("%s: %s", te_path, e.msg);
    if (sbr_prep_srgnn(trb, trn, tr_path, -1, teb, ten, te_path ? te_path : "", &r->po, &r->s,
                       &r->cnt, &r->inferred, &e) < 0)
        sbr_fatal("%s", e.msg);
    if (!te_path)
        sbr_warn("no test.txt: the test split is empty");
    sbr_info("read %s%s%s (SR-GNN pickles%s)", tr_path, te_path ? " and " : "",
             te_path ? te_path : "",
             r->s.split[SBR_TRAIN].last_only ? "; training pairs, one sample per session" : "");
    r->srgnn_train = r->s.split[SBR_TRAIN].last_only ? "train.txt" : "all_train_seq.txt";
    if (pairs_path)
        check_pairs(pairs_path, r);
    free(pairs_path);
    free(trb);
    free(teb);
    free(tr_path);
    free(te_path);
}

/* Reads the log (and TEST), reporting what was read and skipped. stdin_buf:
 * standard input already read to sniff it, else NULL. */
static void read_logs(const prep_args *a, sbr_format fmt, uint8_t *stdin_buf, size_t stdin_n,
                      sbr_clicklog *g, run *r)
{
    sbr_log_opts lo = a->lo;
    sbr_err e;
    lo.format = fmt;
    if (stdin_buf) {
        if (sbr_log_parse_buffer("-", (const char *)stdin_buf, (int64_t)stdin_n, &lo, g, &e) < 0)
            sbr_fatal("%s", e.msg);
        free(stdin_buf);
    } else if (sbr_log_read(a->input, &lo, g, &e) < 0) {
        sbr_fatal("%s", e.msg);
    }
    int64_t main_rows = g->n;
    if (a->test_in && sbr_log_read_test(a->test_in, &lo, g, &e) < 0)
        sbr_fatal("%s", e.msg);
    r->t_read = sbr_now();
    r->c_read = thread_cpu();
    sbr_info("read %s: %s layout, %lld lines, %lld click rows kept%s", a->input,
             sbr_format_names[g->format], (long long)g->lines, (long long)g->n,
             !g->keys_are_users ? ""
             : r->po.cut_days  ? " (sessions: each user's clicks of a day, UTC)"
                               : " (sessions cut by the inactivity gap)");
    if (a->test_in)
        sbr_info("of which %lld from %s: its sessions are the test split",
                 (long long)(g->n - main_rows), a->test_in);
    if (g->blank_lines)
        sbr_info("skipped %lld blank lines", (long long)g->blank_lines);
    if (g->bad_rows)
        sbr_warn("skipped %lld malformed rows (--skip-bad); first: %s", (long long)g->bad_rows,
                 g->first_bad);
    sbr_counts_add(&r->cnt, "other_event.rows", g->skipped_events);
    sbr_counts_add(&r->cnt, "malformed.rows", g->bad_rows);
    sbr_counts_add(&r->cnt, "blank.lines", g->blank_lines);
}

/* How the sessions were made, for the summary and the metadata. */
static const char *sessions_by(const sbr_clicklog *g, const sbr_prep_opts *po)
{
    return !g->keys_are_users ? "ids" : po->cut_days ? "day" : "gap";
}

/* A raw log through the protocol of prep.h. */
static void prep_logs(const prep_args *a, sbr_format fmt, uint8_t *stdin_buf, size_t stdin_n,
                      run *r)
{
    sbr_clicklog g;
    sbr_err e;
    read_logs(a, fmt, stdin_buf, stdin_n, &g, r);
    if (a->lo.by_user && !g.has_user)
        prep_no_user_column(a, g.format);
    r->sessions_by = sessions_by(&g, &r->po);
    const int64_t *sp = r->po.split; /* as given, else the recipe's */
    if (a->split)
        snprintf(r->split, sizeof r->split, "%s", a->split);
    else if (sp[0] + sp[1] + sp[2] > 0)
        snprintf(r->split, sizeof r->split, "%lld:%lld:%lld", (long long)sp[0], (long long)sp[1],
                 (long long)sp[2]);
    int rc = sbr_prep_log(&g, &r->po, &r->s, &r->cnt, &e);
    if (rc == SBR_PREP_MISUSE)
        sbr_usage_error("%s: --split %s: %s", a->input, r->split, e.msg);
    if (rc < 0)
        sbr_fatal("%s: %s", a->input, e.msg);
    if (sbr_log_join_hash(&g, &e) < 0)
        sbr_fatal("%s", e.msg);
    sbr_log_free(&g);
    r->t_prep = sbr_now();
    r->c_prep = thread_cpu();
    if (a->recent)
        sbr_info("--train-recent %s: kept the training sessions from the one holding the "
                 "last %lld of %lld samples on", a->recent,
                 (long long)sbr_counts_get(&r->cnt, "train_recent_k"),
                 (long long)sbr_counts_get(&r->cnt, "train_recent_samples_in"));
}

/* The split by count's sizes, before the unseen items are dropped. */
static void summary_split(const run *r)
{
    const sbr_counts *c = &r->cnt;
    sbr_info("split %s by count, sessions in order of their last click: %lld / %lld / %lld "
             "(train / valid / test, before dropping unseen items)", r->split,
             (long long)sbr_counts_get(c, "split_train"), (long long)sbr_counts_get(c, "split_valid"),
             (long long)sbr_counts_get(c, "split_test"));
}

/* Summary on stderr: every count of what was dropped, then the splits. */
static void summary(const run *r)
{
    const sbr_counts *c = &r->cnt;
    if (r->split[0])
        summary_split(r);
    for (int i = 0; i < c->n; i++)
        if (strchr(c->c[i].name, '.') && c->c[i].v && !strstr(c->c[i].name, "pickle"))
            sbr_info("dropped %-32s %lld", c->c[i].name, (long long)c->c[i].v);
    for (int k = 0; k < SBR_NSPLITS; k++)
        print_split(&r->s, k);
    sbr_info("items %lld in the catalogue, %lld ids in all; min prefix %d%s",
             (long long)r->s.n_items, (long long)r->s.n_ids, r->s.min_prefix,
             r->inferred ? " (inferred from the test prefixes)" : "");
}

/* The protocol a log was prepared with. */
static void meta_protocol(sbr_tw *w, const prep_args *a, sbr_format fmt, const run *r)
{
    const sbr_prep_opts *po = &r->po;
    if (a->recipe)
        sbr_tw_meta(w, "prep.recipe", prep_recipe_names[a->recipe]);
    sbr_tw_meta(w, "prep.sessions", r->sessions_by);
    sbr_tw_metaf(w, "prep.gap_s", "%g", po->gap_s);
    sbr_tw_metaf(w, "prep.dedup", "%d", po->dedup);
    sbr_tw_metaf(w, "prep.pre_min_len", "%d", po->pre_min_len);
    sbr_tw_metaf(w, "prep.min_support", "%d", po->min_support);
    sbr_tw_metaf(w, "prep.min_len", "%d", po->min_len);
    sbr_tw_metaf(w, "prep.iterate", "%d", po->iterate);
    sbr_tw_metaf(w, "prep.max_len", "%d", po->max_len);
    if (a->recent)
        sbr_tw_meta(w, "prep.train_recent", a->recent);
    if (r->split[0])
        sbr_tw_meta(w, "prep.split", r->split);
    else if (a->test_in)
        sbr_tw_meta(w, "prep.test_file", a->test_in);
    else
        sbr_tw_metaf(w, "prep.test_days", "%g", po->test_days);
    if (fmt == SBR_FMT_KAGGLE) {
        unsigned ev = a->lo.events;
        sbr_tw_metaf(w, "prep.events", "%s%s%s", ev & SBR_EV_VIEW ? "view," : "",
                     ev & SBR_EV_CART ? "addtocart," : "",
                     ev & SBR_EV_TRANSACTION ? "transaction," : "");
    }
}

static void write_sessions(const prep_args *a, sbr_format fmt, run *r)
{
    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_sessions_add_to(&r->s, w);
    sbr_tw_meta(w, "prep.format", sbr_format_names[fmt]);
    sbr_tw_meta(w, "min_prefix.source",
                r->inferred                ? "inferred"
                : a->ov.min_prefix >= 0    ? "option"
                : a->recipe                ? "recipe"
                                           : "default");
    if (fmt != SBR_FMT_SRGNN)
        meta_protocol(w, a, fmt, r);
    if (!r->split[0])
        sbr_tw_metaf(w, "prep.valid_frac", "%g", r->po.valid_frac);
    if (r->srgnn_train)
        sbr_tw_meta(w, "prep.train_source", r->srgnn_train);
    if (r->pairs_check[0])
        sbr_tw_meta(w, "prep.train_txt_check", r->pairs_check);
    sbr_tw_meta(w, "prep.unseen", r->po.unseen_keep ? "keep" : "drop");
    for (int i = 0; i < r->cnt.n; i++) {
        char key[80];
        snprintf(key, sizeof key, "prep.count.%s", r->cnt.c[i].name);
        sbr_tw_metaf(w, key, "%lld", (long long)r->cnt.c[i].v);
    }
    sbr_err e;
    if (sbr_tw_write(w, a->output, a->level, &e) < 0)
        sbr_fatal("%s: %s", a->output, e.msg);
    sbr_tw_free(w);
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-prep", argc, argv);
    prep_args a;
    prep_parse_args(argc, argv, &a);
    run r;
    memset(&r, 0, sizeof r);
    r.t0 = sbr_now();
    uint8_t *stdin_buf;
    size_t stdin_n;
    sbr_format fmt = prep_resolve_format(&a, &stdin_buf, &stdin_n);
    prep_check_scope(&a, fmt);
    prep_options(&a, fmt, &r.po);
    if (fmt == SBR_FMT_SRGNN)
        prep_pickles(&a, &r);
    else
        prep_logs(&a, fmt, stdin_buf, stdin_n, &r);
    summary(&r);
    write_sessions(&a, fmt, &r);
    double t_end = sbr_now();
    if (getenv("SBR_PREP_TIMING"))
        fprintf(stderr, "timing: main-thread CPU s: read %.2f, sessions %.2f, write %.2f\n",
                r.c_read, r.c_prep - r.c_read, thread_cpu() - r.c_prep);
    if (r.t_prep > 0)
        sbr_info("wrote %s in %.2f s (read %.2f s, sessions %.2f s, write %.2f s; peak memory "
                 "%.0f MiB)", a.output, t_end - r.t0, r.t_read - r.t0, r.t_prep - r.t_read,
                 t_end - r.t_prep, (double)sbr_peak_rss() / 1048576.0);
    else
        sbr_info("wrote %s in %.2f s (peak memory %.0f MiB)", a.output, t_end - r.t0,
                 (double)sbr_peak_rss() / 1048576.0);
    sbr_sessions_free(&r.s);
    return SBR_EXIT_OK;
}
