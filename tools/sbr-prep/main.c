/* sbr-prep: raw click logs and benchmark pickles in, one sessions file out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clicklog.h"
#include "cli.h"
#include "err.h"
#include "io.h"
#include "prep.h"
#include "progress.h"
#include "sessions.h"
#include "tfile.h"

static const char usage[] =
    "Usage: sbr-prep [OPTION]... INPUT [TEST]\n"
    "Turn a click log or the SR-GNN benchmark pickles into a sessions file (kind\n"
    "sbr.sessions): train/valid/test sessions, the original item ids, the prefix rule.\n"
    "A TEST log in INPUT's layout (a dataset published already split) gives the test\n"
    "sessions instead of the last --test-days.\n"
    "INPUT may be '-' (standard input) and may be zstd-compressed. The layout is\n"
    "detected from the first line where that is unambiguous.\n"
    "\n"
    "Inputs:\n"
    "  -f, --format F        auto (default), srgnn, kaggle, diginetica, yoochoose,\n"
    "                        sessionrec, recbole, csv\n"
    "                        srgnn: INPUT is a directory holding all_train_seq.txt[.zst]\n"
    "                        and test.txt[.zst] (a train.txt there is checked against\n"
    "                        it, or used alone), or the training pickle with TEST\n"
    "      --events LIST     kaggle: event types kept, from view,addtocart,transaction\n"
    "                        (default view)\n"
    "      --sep C           csv: field separator (default ','; 'tab' for a tab)\n"
    "      --session-col C   csv: session column (header name or 1-based number)\n"
    "      --user-col C      csv: user column; without a session column, sessions are\n"
    "                        cut from each user's clicks at --gap\n"
    "      --item-col C      csv: item column\n"
    "      --time-col C      csv: time column (ISO-8601 or a number of --time-unit)\n"
    "      --time-unit U     csv/recbole/sessionrec numeric times: s (default) or ms\n"
    "      --no-header       csv: the first line is data\n"
    "      --skip-bad        count and report malformed rows instead of failing\n"
    "\n"
    "Protocol (defaults reproduce each layout's published recipe, see docs/PREP.md):\n"
    "      --gap DUR         inactivity gap ending a session (default 30m)\n"
    "      --dedup, --no-dedup  drop repeated identical clicks (kaggle: on)\n"
    "      --pre-min-len N   drop sessions shorter than N before counting items (2)\n"
    "      --min-support N   drop items seen fewer than N times (5)\n"
    "      --min-len N       then drop sessions shorter than N (2; kaggle 3)\n"
    "      --iterate         repeat the two filters until nothing changes\n"
    "      --max-len N       keep only the last N clicks of a session (0 = all)\n"
    "      --test-days D     test = sessions dated in the last D days (7; yoochoose,\n"
    "                        sessionrec 1; 0 = no test split)\n"
    "      --train-recent F  keep only the training sessions of the most recent\n"
    "                        fraction F (1/64, 1/4 or a decimal) of the training\n"
    "                        samples, as SR-GNN made yoochoose1_64 (test items of\n"
    "                        the sessions cut keep ids after the catalogue's)\n"
    "      --valid-frac F    last fraction F of the training sessions -> valid (0.1)\n"
    "      --unseen R        test items unseen in training: drop (logs) or keep (srgnn,\n"
    "                        --train-recent)\n"
    "      --min-prefix N    samples keep prefixes of at least N items (srgnn: the\n"
    "                        shortest test prefix; kaggle 2; others 1)\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE     sessions file (default '-': standard output, never a terminal)\n"
    "  -l, --level N         zstd level of the output (default 1: on session files level 3\n"
    "                        saves a few percent for twice the time; 0 = plain safetensors)\n"
    "  -q, --quiet           no summary on stderr\n"
    "  -h, --help            show this help and exit\n"
    "      --version         show the version and exit\n"
    "\n"
    "Examples:\n"
    "  sbr-prep -o rr.sess ../shared/data/retailrocket\n"
    "  sbr-prep --valid-frac 0 -o dg.sess train-item-views.csv\n"
    "  sbr-prep -o yc.sess clicks_train_full.txt clicks_test.txt      (already split)\n"
    "  sbr-prep --format yoochoose --train-recent 1/64 -o yc64.sess yoochoose-clicks.dat\n"
    "  sbr-prep -f csv --sep ';' --session-col sid --item-col item --time-col ts -o x.sess log.csv\n"
    "  sbr-gen --clicks 200000 | sbr-prep -o synth.sess -\n"
    "\n" SBR_HELP_EXIT;

enum {
    OPT_VERSION = 256, OPT_EVENTS, OPT_SEP, OPT_SCOL, OPT_UCOL, OPT_ICOL, OPT_TCOL, OPT_TUNIT,
    OPT_NOHEADER, OPT_SKIPBAD, OPT_GAP, OPT_DEDUP, OPT_NODEDUP, OPT_PREMIN, OPT_MINSUP,
    OPT_MINLEN, OPT_ITERATE, OPT_MAXLEN, OPT_TESTDAYS, OPT_VALID, OPT_UNSEEN, OPT_MINPFX,
    OPT_RECENT
};

/* Options given on the command line (-1: not given, use the format's default). */
typedef struct {
    double gap_s, test_days, valid_frac;
    int dedup, pre_min_len, min_support, min_len, iterate, max_len, unseen_keep, min_prefix;
} overrides;

static unsigned parse_events(const char *s)
{
    unsigned m = 0;
    char *dup = sbr_xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "view") == 0)
            m |= SBR_EV_VIEW;
        else if (strcmp(tok, "addtocart") == 0)
            m |= SBR_EV_CART;
        else if (strcmp(tok, "transaction") == 0)
            m |= SBR_EV_TRANSACTION;
        else
            sbr_usage_error("--events: unknown event '%s' (view, addtocart, transaction)", tok);
    }
    free(dup);
    if (!m)
        sbr_usage_error("--events: no event type given");
    return m;
}

/* Digits of s[0..n) as a number (at most 9 digits); -1 when there are none
 * or another character. */
static long long digits_value(const char *s, size_t n)
{
    long long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* --train-recent: "N/D" or a decimal with at most 6 decimals, in (0, 1],
 * as an exact fraction, so that 1/64 cuts where SR-GNN's int(S / 64) does. */
static void parse_fraction(const char *s, int64_t *num, int64_t *den)
{
    const char *sep = strpbrk(s, "/.");
    size_t a = sep ? (size_t)(sep - s) : strlen(s), b = sep ? strlen(sep + 1) : 0;
    long long n = a ? digits_value(s, a) : 0, d = 1;
    if (sep && *sep == '/') {
        d = digits_value(sep + 1, b);
    } else if (sep) { /* decimal: N.FFF = NFFF / 10^b */
        long long f = b <= 6 ? digits_value(sep + 1, b) : -1;
        for (size_t i = 0; i < b && n >= 0; i++) {
            n *= 10;
            d *= 10;
        }
        n = f < 0 || n < 0 ? -1 : n + f;
    }
    if (n <= 0 || d <= 0 || n > d)
        sbr_usage_error("--train-recent: '%s' is not a fraction in (0, 1] (e.g. 1/64, 1/4, 0.25)",
                        s);
    *num = n;
    *den = d;
}

static int is_dir(const char *p)
{
    struct stat st;
    return strcmp(p, "-") != 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

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

static void apply(const overrides *ov, sbr_prep_opts *o)
{
    if (ov->gap_s >= 0) o->gap_s = ov->gap_s;
    if (ov->test_days >= 0) o->test_days = ov->test_days;
    if (ov->valid_frac >= 0) o->valid_frac = ov->valid_frac;
    if (ov->dedup >= 0) o->dedup = ov->dedup;
    if (ov->pre_min_len >= 0) o->pre_min_len = ov->pre_min_len;
    if (ov->min_support >= 0) o->min_support = ov->min_support;
    if (ov->min_len >= 0) o->min_len = ov->min_len;
    if (ov->iterate >= 0) o->iterate = ov->iterate;
    if (ov->max_len >= 0) o->max_len = ov->max_len;
    if (ov->unseen_keep >= 0) o->unseen_keep = ov->unseen_keep;
    if (ov->min_prefix >= 0) o->min_prefix = ov->min_prefix;
}

/* Layout of a file from its first line (without loading it all). */
static sbr_format sniff_file(const char *path)
{
    if (strcmp(path, "-") == 0)
        return SBR_FMT_AUTO; /* decided on the buffer */
    sbr_err e;
    sbr_lines *L = sbr_lines_open(path, &e);
    if (!L)
        sbr_fatal("%s: %s", path, e.msg);
    size_t len = 0;
    char *line = sbr_lines_next(L, &len);
    sbr_format f = line ? sbr_log_sniff(line, (int64_t)len) : SBR_FMT_AUTO;
    if (!line && sbr_lines_error(L))
        sbr_fatal("%s: %s", path, sbr_lines_error(L));
    if (!line)
        sbr_fatal("%s: empty input", path);
    sbr_lines_close(L);
    if (f == SBR_FMT_AUTO)
        sbr_fatal("%s: cannot tell the layout from the first line; give --format", path);
    return f;
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
    int64_t S = sp->n_sessions, nnz = S ? sp->offsets[S] : 0;
    sbr_info("%-5s %9lld sessions %10lld clicks %10lld samples  mean length %.2f%s",
             sbr_split_names[k], (long long)S, (long long)nnz,
             (long long)sbr_samples_count(sp, s->min_prefix), S ? (double)nnz / (double)S : 0.0,
             sp->last_only ? "  (one sample each)" : "");
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-prep", argc, argv);
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'},     {"output", required_argument, 0, 'o'},
        {"level", required_argument, 0, 'l'},      {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},             {"version", no_argument, 0, OPT_VERSION},
        {"events", required_argument, 0, OPT_EVENTS}, {"sep", required_argument, 0, OPT_SEP},
        {"session-col", required_argument, 0, OPT_SCOL},
        {"user-col", required_argument, 0, OPT_UCOL},
        {"item-col", required_argument, 0, OPT_ICOL},
        {"time-col", required_argument, 0, OPT_TCOL},
        {"time-unit", required_argument, 0, OPT_TUNIT},
        {"no-header", no_argument, 0, OPT_NOHEADER}, {"skip-bad", no_argument, 0, OPT_SKIPBAD},
        {"gap", required_argument, 0, OPT_GAP},     {"dedup", no_argument, 0, OPT_DEDUP},
        {"no-dedup", no_argument, 0, OPT_NODEDUP},
        {"pre-min-len", required_argument, 0, OPT_PREMIN},
        {"min-support", required_argument, 0, OPT_MINSUP},
        {"min-len", required_argument, 0, OPT_MINLEN}, {"iterate", no_argument, 0, OPT_ITERATE},
        {"max-len", required_argument, 0, OPT_MAXLEN},
        {"test-days", required_argument, 0, OPT_TESTDAYS},
        {"valid-frac", required_argument, 0, OPT_VALID},
        {"unseen", required_argument, 0, OPT_UNSEEN},
        {"min-prefix", required_argument, 0, OPT_MINPFX},
        {"train-recent", required_argument, 0, OPT_RECENT}, {0, 0, 0, 0}};
    static const char *const unseen_words[] = {"drop", "keep", NULL};
    static const char *const unit_words[] = {"s", "ms", NULL};
    sbr_log_opts lo = {.events = SBR_EV_VIEW};
    overrides ov = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    const char *output = "-", *recent = NULL;
    int64_t recent_num = 0, recent_den = 0;
    int level = 1, c;
    while ((c = getopt_long(argc, argv, "f:o:l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': lo.format = (sbr_format)sbr_arg_choice("--format", optarg, sbr_format_names); break;
        case 'o': output = optarg; break;
        case 'l': level = (int)sbr_arg_int("--level", optarg, 0, 19); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        case OPT_EVENTS: lo.events = parse_events(optarg); break;
        case OPT_SEP:
            if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0)
                lo.sep = '\t';
            else if (strlen(optarg) == 1)
                lo.sep = optarg[0];
            else
                sbr_usage_error("--sep takes one character (or 'tab'), not '%s'", optarg);
            break;
        case OPT_SCOL: lo.session_col = optarg; break;
        case OPT_UCOL: lo.user_col = optarg; break;
        case OPT_ICOL: lo.item_col = optarg; break;
        case OPT_TCOL: lo.time_col = optarg; break;
        case OPT_TUNIT: lo.time_scale = sbr_arg_choice("--time-unit", optarg, unit_words) ? 1 : 1000; break;
        case OPT_NOHEADER: lo.no_header = 1; break;
        case OPT_SKIPBAD: lo.skip_bad = 1; break;
        case OPT_GAP: ov.gap_s = sbr_arg_duration("--gap", optarg); break;
        case OPT_DEDUP: ov.dedup = 1; break;
        case OPT_NODEDUP: ov.dedup = 0; break;
        case OPT_PREMIN: ov.pre_min_len = (int)sbr_arg_int("--pre-min-len", optarg, 0, 1000000); break;
        case OPT_MINSUP: ov.min_support = (int)sbr_arg_int("--min-support", optarg, 0, 1000000000); break;
        case OPT_MINLEN: ov.min_len = (int)sbr_arg_int("--min-len", optarg, 0, 1000000); break;
        case OPT_ITERATE: ov.iterate = 1; break;
        case OPT_MAXLEN: ov.max_len = (int)sbr_arg_int("--max-len", optarg, 0, 1000000000); break;
        case OPT_TESTDAYS: ov.test_days = sbr_arg_double("--test-days", optarg, 0, 1e6); break;
        case OPT_VALID: ov.valid_frac = sbr_arg_double("--valid-frac", optarg, 0, 0.99); break;
        case OPT_UNSEEN: ov.unseen_keep = sbr_arg_choice("--unseen", optarg, unseen_words); break;
        case OPT_MINPFX: ov.min_prefix = (int)sbr_arg_int("--min-prefix", optarg, 1, 1000000); break;
        case OPT_RECENT: parse_fraction(recent = optarg, &recent_num, &recent_den); break;
        default: sbr_cli_bad_option();
        }
    }
    if (optind >= argc)
        sbr_usage_error("no INPUT given");
    if (argc - optind > 2)
        sbr_usage_error("too many inputs (INPUT and at most one TEST file)");
    const char *input = argv[optind], *test_in = argc - optind > 1 ? argv[optind + 1] : NULL;

    double t0 = sbr_now(), t_read = 0, t_prep = 0, c_read = 0, c_prep = 0;
    const char *srgnn_train = NULL;
    char pairs_check[64] = "";
    sbr_format fmt = lo.format;
    if (fmt == SBR_FMT_AUTO)
        fmt = is_dir(input) ? SBR_FMT_SRGNN : sniff_file(input);
    if (fmt == SBR_FMT_SRGNN && lo.format == SBR_FMT_AUTO && !is_dir(input) && !test_in)
        sbr_usage_error("%s is a pickle: give the test.txt pickle as TEST, or the directory",
                        input);

    sbr_sessions s;
    sbr_counts cnt = {0};
    sbr_prep_opts po;
    sbr_err e;
    int inferred = 0;
    sbr_clicklog g;
    int have_log = 0;
    if (fmt == SBR_FMT_AUTO && strcmp(input, "-") == 0) {
        /* stdin: read it once and sniff the buffer */
        uint8_t *buf;
        size_t n;
        if (sbr_read_all(input, &buf, &n, &e) < 0)
            sbr_fatal("%s: %s", "-", e.msg);
        const char *nl = memchr(buf, '\n', n);
        fmt = sbr_log_sniff((const char *)buf, nl ? (int64_t)(nl - (const char *)buf) : (int64_t)n);
        if (n == 0)
            sbr_fatal("-: empty input");
        if (fmt == SBR_FMT_AUTO)
            sbr_fatal("-: cannot tell the layout from the first line; give --format");
        if (fmt == SBR_FMT_SRGNN)
            sbr_fatal("-: is a pickle: give the all_train_seq.txt and test.txt files");
        lo.format = fmt;
        if (sbr_log_parse_buffer("-", (const char *)buf, (int64_t)n, &lo, &g, &e) < 0)
            sbr_fatal("%s", e.msg);
        free(buf);
        have_log = 1;
    }
    if (recent && fmt == SBR_FMT_SRGNN)
        sbr_usage_error("--train-recent does not apply to SR-GNN pickles (they are cut already)");
    sbr_prep_defaults(fmt, &po);
    apply(&ov, &po);
    po.recent_num = recent_num;
    po.recent_den = recent_den;
    if (recent && ov.unseen_keep < 0)
        po.unseen_keep = 1; /* SR-GNN keeps the test items of the sessions it cut */

    if (fmt == SBR_FMT_SRGNN) {
        char *tr_path = NULL, *te_path = NULL, *pairs_path = NULL;
        if (is_dir(input)) {
            tr_path = find_in(input, "all_train_seq.txt");
            pairs_path = find_in(input, "train.txt");
            if (!tr_path && !pairs_path)
                sbr_fatal("%s: no all_train_seq.txt or train.txt (or .zst) in this directory",
                          input);
            if (!tr_path) { /* only the expanded pairs: train from them */
                tr_path = pairs_path;
                pairs_path = NULL;
            }
            te_path = test_in ? sbr_xstrdup(test_in) : find_in(input, "test.txt");
        } else {
            tr_path = sbr_xstrdup(input);
            te_path = test_in ? sbr_xstrdup(test_in) : NULL;
        }
        uint8_t *trb, *teb = NULL;
        size_t trn, ten = 0;
        if (sbr_read_all(tr_path, &trb, &trn, &e) < 0)
            sbr_fatal("%s: %s", tr_path, e.msg);
        if (te_path && sbr_read_all(te_path, &teb, &ten, &e) < 0)
            sbr_fatal("%s: %s", te_path, e.msg);
        if (sbr_prep_srgnn(trb, trn, tr_path, -1, teb, ten, te_path ? te_path : "", &po, &s,
                           &cnt, &inferred, &e) < 0)
            sbr_fatal("%s", e.msg);
        if (!te_path)
            sbr_warn("no test.txt: the test split is empty");
        sbr_info("read %s%s%s (SR-GNN pickles%s)", tr_path, te_path ? " and " : "",
                 te_path ? te_path : "",
                 s.split[SBR_TRAIN].last_only ? "; training pairs, one sample per session" : "");
        srgnn_train = s.split[SBR_TRAIN].last_only ? "train.txt" : "all_train_seq.txt";
        if (pairs_path) { /* train.txt beside all_train_seq.txt must be its expansion */
            uint8_t *pb;
            size_t pn;
            int64_t np, diff;
            if (sbr_read_all(pairs_path, &pb, &pn, &e) < 0)
                sbr_fatal("%s: %s", pairs_path, e.msg);
            if (sbr_prep_srgnn_check_pairs(&s, pb, pn, pairs_path, &np, &diff, &e) < 0)
                sbr_fatal("%s", e.msg);
            if (diff < 0) {
                sbr_info("%s: its %lld pairs are all_train_seq.txt expanded, one for one",
                         pairs_path, (long long)np);
                snprintf(pairs_check, sizeof pairs_check, "equal (%lld pairs)", (long long)np);
            } else {
                sbr_warn("%s differs from all_train_seq.txt expanded at pair %lld (of %lld); "
                         "all_train_seq.txt is used", pairs_path, (long long)diff, (long long)np);
                snprintf(pairs_check, sizeof pairs_check, "differs at pair %lld", (long long)diff);
            }
            free(pb);
            free(pairs_path);
        }
        free(trb);
        free(teb);
        free(tr_path);
        free(te_path);
    } else {
        if (!have_log) {
            lo.format = fmt;
            if (sbr_log_read(input, &lo, &g, &e) < 0)
                sbr_fatal("%s", e.msg);
        }
        int64_t main_rows = g.n;
        if (test_in && sbr_log_read_test(test_in, &lo, &g, &e) < 0)
            sbr_fatal("%s", e.msg);
        t_read = sbr_now();
        c_read = thread_cpu();
        sbr_info("read %s: %s layout, %lld lines, %lld click rows kept%s", input,
                 sbr_format_names[g.format], (long long)g.lines, (long long)g.n,
                 g.keys_are_users ? " (sessions cut by the inactivity gap)" : "");
        if (test_in)
            sbr_info("of which %lld from %s: its sessions are the test split (--test-days unused)",
                     (long long)(g.n - main_rows), test_in);
        if (g.blank_lines)
            sbr_info("skipped %lld blank lines", (long long)g.blank_lines);
        if (g.bad_rows)
            sbr_warn("skipped %lld malformed rows (--skip-bad); first: %s",
                     (long long)g.bad_rows, g.first_bad);
        sbr_counts_add(&cnt, "other_event.rows", g.skipped_events);
        sbr_counts_add(&cnt, "malformed.rows", g.bad_rows);
        sbr_counts_add(&cnt, "blank.lines", g.blank_lines);
        if (sbr_prep_log(&g, &po, &s, &cnt, &e) < 0)
            sbr_fatal("%s: %s", input, e.msg);
        if (sbr_log_join_hash(&g, &e) < 0)
            sbr_fatal("%s", e.msg);
        sbr_log_free(&g);
        t_prep = sbr_now();
        c_prep = thread_cpu();
        if (recent)
            sbr_info("--train-recent %s: kept the training sessions from the one holding the "
                     "last %lld of %lld samples on", recent,
                     (long long)sbr_counts_get(&cnt, "train_recent_k"),
                     (long long)sbr_counts_get(&cnt, "train_recent_samples_in"));
    }

    /* Summary: every count, then the splits. */
    for (int i = 0; i < cnt.n; i++)
        if (strchr(cnt.c[i].name, '.') && cnt.c[i].v && !strstr(cnt.c[i].name, "pickle"))
            sbr_info("dropped %-32s %lld", cnt.c[i].name, (long long)cnt.c[i].v);
    for (int k = 0; k < SBR_NSPLITS; k++)
        print_split(&s, k);
    sbr_info("items %lld in the catalogue, %lld ids in all; min prefix %d%s", (long long)s.n_items,
             (long long)s.n_ids, s.min_prefix, inferred ? " (inferred from the test prefixes)" : "");

    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_sessions_add_to(&s, w);
    sbr_tw_meta(w, "prep.format", sbr_format_names[fmt]);
    sbr_tw_meta(w, "min_prefix.source", inferred ? "inferred" : (ov.min_prefix >= 0 ? "option" : "default"));
    if (fmt != SBR_FMT_SRGNN) {
        sbr_tw_metaf(w, "prep.gap_s", "%g", po.gap_s);
        sbr_tw_metaf(w, "prep.dedup", "%d", po.dedup);
        sbr_tw_metaf(w, "prep.pre_min_len", "%d", po.pre_min_len);
        sbr_tw_metaf(w, "prep.min_support", "%d", po.min_support);
        sbr_tw_metaf(w, "prep.min_len", "%d", po.min_len);
        sbr_tw_metaf(w, "prep.iterate", "%d", po.iterate);
        sbr_tw_metaf(w, "prep.max_len", "%d", po.max_len);
        if (recent)
            sbr_tw_meta(w, "prep.train_recent", recent);
        if (test_in)
            sbr_tw_meta(w, "prep.test_file", test_in);
        else
            sbr_tw_metaf(w, "prep.test_days", "%g", po.test_days);
        if (fmt == SBR_FMT_KAGGLE)
            sbr_tw_metaf(w, "prep.events", "%s%s%s", lo.events & SBR_EV_VIEW ? "view," : "",
                         lo.events & SBR_EV_CART ? "addtocart," : "",
                         lo.events & SBR_EV_TRANSACTION ? "transaction," : "");
    }
    sbr_tw_metaf(w, "prep.valid_frac", "%g", po.valid_frac);
    if (srgnn_train)
        sbr_tw_meta(w, "prep.train_source", srgnn_train);
    if (pairs_check[0])
        sbr_tw_meta(w, "prep.train_txt_check", pairs_check);
    sbr_tw_meta(w, "prep.unseen", po.unseen_keep ? "keep" : "drop");
    for (int i = 0; i < cnt.n; i++) {
        char key[80];
        snprintf(key, sizeof key, "prep.count.%s", cnt.c[i].name);
        sbr_tw_metaf(w, key, "%lld", (long long)cnt.c[i].v);
    }
    if (sbr_tw_write(w, output, level, &e) < 0)
        sbr_fatal("%s: %s", output, e.msg);
    sbr_tw_free(w);
    double t_end = sbr_now();
    if (getenv("SBR_PREP_TIMING"))
        fprintf(stderr, "timing: main-thread CPU s: read %.2f, sessions %.2f, write %.2f\n",
                c_read, c_prep - c_read, thread_cpu() - c_prep);
    if (t_prep > 0)
        sbr_info("wrote %s in %.2f s (read %.2f s, sessions %.2f s, write %.2f s; peak memory "
                 "%.0f MiB)", output, t_end - t0, t_read - t0, t_prep - t_read, t_end - t_prep,
                 (double)sbr_peak_rss() / 1048576.0);
    else
        sbr_info("wrote %s in %.2f s (peak memory %.0f MiB)", output, t_end - t0,
                 (double)sbr_peak_rss() / 1048576.0);
    sbr_sessions_free(&s);
    return SBR_EXIT_OK;
}
