/* sbr-prep's command line: the help text, the option parsers, and the
 * protocol options they give on top of a layout's defaults. */
#include "args.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

static const char usage[] =
    "Usage: sbr-prep [OPTION]... INPUT [TEST]\n"
    "Turn a click log or the SR-GNN benchmark pickles into a sessions file (kind\n"
    "sbr.sessions): train/valid/test sessions, the original item ids, the prefix\n"
    "rule.\n"
    "A TEST log in INPUT's layout (a dataset published already split) gives the test\n"
    "sessions instead of the last --test-days.\n"
    "INPUT may be '-' (standard input) and may be zstd-compressed. The layout is\n"
    "detected from the first line where that is unambiguous.\n"
    "Brackets name the layouts an option applies to ([logs]: all but srgnn); an\n"
    "option given for another layout is an error (exit 2).\n"
    "\n"
    "Inputs:\n"
    "  -f, --format F        auto (default), srgnn, kaggle, diginetica, yoochoose,\n"
    "                        sessionrec, recbole, csv\n"
    "                        srgnn: INPUT is a directory holding\n"
    "                        all_train_seq.txt[.zst] and test.txt[.zst] (a train.txt\n"
    "                        there is checked against it, or used alone), or the\n"
    "                        training pickle with TEST\n"
    "      --events LIST     [kaggle] event types kept, from view, addtocart,\n"
    "                        transaction (default view)\n"
    "      --sep C           [csv] field separator (default ','; 'tab' for a tab)\n"
    "      --no-header       [csv] the first line is data\n"
    "      --session-col C   [csv sessionrec recbole] session column (header name or\n"
    "                        1-based number)\n"
    "      --user-col C      [csv sessionrec recbole] user column; in csv without a\n"
    "                        session column, each user's clicks are cut at --gap\n"
    "      --item-col C      [csv sessionrec recbole] item column\n"
    "      --time-col C      [csv sessionrec recbole] time column (ISO-8601 or a\n"
    "                        number of --time-unit)\n"
    "      --time-unit U     [csv sessionrec recbole] numeric times: s (default), ms\n"
    "                        Without --format, --sep and --no-header mean csv, and\n"
    "                        so do the column options unless the first line is a\n"
    "                        session-rec or RecBole header\n"
    "      --skip-bad        [logs] count and report malformed rows, not fail\n"
    "\n"
    "Protocol (defaults reproduce each layout's published recipe, see docs/PREP.md):\n"
    "      --recipe NAME     [logs] another paper's protocol, which the options below\n"
    "                        override: none (default) or proxysr (ProxySR, SIGIR'21:\n"
    "                        --split 8:1:1, --unseen drop, --session-by day where\n"
    "                        the log has no session ids; kaggle --min-support 0\n"
    "                        --min-len 2, others --min-support 5 --min-len 3; all\n"
    "                        --pre-min-len 0 --min-prefix 1)\n"
    "      --session-by M    [logs but diginetica] gap (default): the log's session\n"
    "                        ids, else each user's clicks cut at --gap; day: each\n"
    "                        user's clicks of one calendar day (UTC), session ids\n"
    "                        ignored (needs a user column)\n"
    "      --gap DUR         [kaggle; csv without --session-col] inactivity gap that\n"
    "                        ends a user's session (default 30m; more than 0)\n"
    "      --dedup, --no-dedup  [logs] drop repeated identical clicks (kaggle: on)\n"
    "      --pre-min-len N   [logs] drop sessions shorter than N before counting\n"
    "                        items (2)\n"
    "      --min-support N   [logs] drop items seen fewer than N times (5)\n"
    "      --min-len N       [logs] then drop sessions shorter than N (2; kaggle 3)\n"
    "      --iterate         [logs] repeat the two filters until nothing changes\n"
    "      --max-len N       [logs] keep the last N clicks of a session (0 = all)\n"
    "      --test-days D     [logs, without TEST] test = sessions dated in the last D\n"
    "                        days (7; yoochoose, sessionrec 1; 0 = no test split)\n"
    "      --train-recent F  [logs] keep only the training sessions of the most\n"
    "                        recent fraction F (1/64, 1/4 or a decimal) of the\n"
    "                        training samples, as SR-GNN made yoochoose1_64 (test\n"
    "                        items of the sessions cut keep ids after the\n"
    "                        catalogue's)\n"
    "      --valid-frac F    [all] last fraction F of the training sessions -> valid\n"
    "                        (0.1)\n"
    "      --split A:B:C     [logs, without TEST] instead of --test-days and\n"
    "                        --valid-frac: train, valid and test by count in these\n"
    "                        proportions (e.g. 8:1:1, 0.8:0.1:0.1; valid or test may\n"
    "                        be 0) of the sessions in order of their last click;\n"
    "                        the catalogue is train's, and valid is held out as\n"
    "                        test is (--unseen, then sessions shorter than\n"
    "                        --min-len or --min-prefix + 1 dropped)\n"
    "      --unseen R        [all] test items unseen in training: drop (logs) or keep\n"
    "                        (srgnn, --train-recent)\n"
    "      --min-prefix N    [all] samples keep prefixes of at least N items (srgnn:\n"
    "                        the shortest test prefix; kaggle 2; others 1)\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE     sessions file (default '-': standard output, never a\n"
    "                        terminal)\n"
    "  -l, --level N         zstd level of the output (default 1: on session files\n"
    "                        level 3 saves a few percent for twice the time;\n"
    "                        0 = plain safetensors)\n"
    "  -q, --quiet           no summary on stderr\n"
    "  -h, --help            show this help and exit\n"
    "      --version         show the version and exit\n"
    "\n"
    "Examples:\n"
    "  sbr-prep -o rr.sess ../shared/data/retailrocket\n"
    "  sbr-prep --valid-frac 0 -o dg.sess train-item-views.csv\n"
    "  sbr-prep -o yc.sess clicks_train_full.txt clicks_test.txt      (already split)\n"
    "  sbr-prep -f yoochoose --train-recent 1/64 -o yc64.sess yoochoose-clicks.dat\n"
    "  sbr-prep --recipe proxysr -o rr.sess events.csv                  (ProxySR)\n"
    "  sbr-prep --sep ';' --session-col sid --item-col it --time-col ts -o x.sess f\n"
    "  sbr-gen --clicks 200000 | sbr-prep -o synth.sess -\n"
    "\n" SBR_HELP_EXIT;

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

static char parse_sep(const char *s)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
        return '\t';
    if (strlen(s) != 1)
        sbr_usage_error("--sep takes one character (or 'tab'), not '%s'", s);
    return s[0];
}

static double parse_gap(const char *s)
{
    double v = sbr_arg_duration("--gap", s);
    if (v <= 0) /* every click would be a session of its own */
        sbr_usage_error("--gap: must be more than 0, not '%s'", s);
    return v;
}

static const struct option long_opts[] = {
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
    {"train-recent", required_argument, 0, OPT_RECENT},
    {"session-by", required_argument, 0, OPT_SESSBY}, {"split", required_argument, 0, OPT_SPLIT},
    {"recipe", required_argument, 0, OPT_RECIPE}, {0, 0, 0, 0}};

/* One option of the protocol or of a layout. */
static void parse_one(int c, const char *arg, prep_args *a)
{
    static const char *const unseen_words[] = {"drop", "keep", NULL};
    static const char *const unit_words[] = {"s", "ms", NULL};
    static const char *const cut_words[] = {"gap", "day", NULL};
    sbr_log_opts *lo = &a->lo;
    prep_overrides *ov = &a->ov;
    switch (c) {
    case OPT_EVENTS: lo->events = parse_events(arg); break;
    case OPT_SEP: lo->sep = parse_sep(arg); break;
    case OPT_SCOL: lo->session_col = arg; break;
    case OPT_UCOL: lo->user_col = arg; break;
    case OPT_ICOL: lo->item_col = arg; break;
    case OPT_TCOL: lo->time_col = arg; break;
    case OPT_TUNIT: lo->time_scale = sbr_arg_choice("--time-unit", arg, unit_words) ? 1 : 1000; break;
    case OPT_NOHEADER: lo->no_header = 1; break;
    case OPT_SKIPBAD: lo->skip_bad = 1; break;
    case OPT_GAP: ov->gap_s = parse_gap(arg); break;
    case OPT_DEDUP: ov->dedup = 1; break;
    case OPT_NODEDUP: ov->dedup = 0; break;
    case OPT_PREMIN: ov->pre_min_len = (int)sbr_arg_int("--pre-min-len", arg, 0, 1000000); break;
    case OPT_MINSUP: ov->min_support = (int)sbr_arg_int("--min-support", arg, 0, 1000000000); break;
    case OPT_MINLEN: ov->min_len = (int)sbr_arg_int("--min-len", arg, 0, 1000000); break;
    case OPT_ITERATE: ov->iterate = 1; break;
    case OPT_MAXLEN: ov->max_len = (int)sbr_arg_int("--max-len", arg, 0, 1000000000); break;
    case OPT_TESTDAYS: ov->test_days = sbr_arg_double("--test-days", arg, 0, 1e6); break;
    case OPT_VALID: ov->valid_frac = sbr_arg_double("--valid-frac", arg, 0, 0.99); break;
    case OPT_UNSEEN: ov->unseen_keep = sbr_arg_choice("--unseen", arg, unseen_words); break;
    case OPT_MINPFX: ov->min_prefix = (int)sbr_arg_int("--min-prefix", arg, 1, 1000000); break;
    case OPT_RECENT: parse_fraction(a->recent = arg, &a->recent_num, &a->recent_den); break;
    case OPT_SESSBY: /* day: every user-keyed log, session ids or not */
        lo->by_user = ov->cut_days = sbr_arg_choice("--session-by", arg, cut_words);
        break;
    case OPT_SPLIT: prep_parse_split(a->split = arg, a->split_parts); break;
    case OPT_RECIPE: a->recipe = sbr_arg_choice("--recipe", arg, prep_recipe_names); break;
    default: sbr_cli_bad_option();
    }
}

void prep_parse_args(int argc, char **argv, prep_args *a)
{
    memset(a, 0, sizeof *a);
    a->lo.events = SBR_EV_VIEW;
    a->ov = (prep_overrides){-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    a->output = "-";
    a->level = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:l:qh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': a->lo.format = (sbr_format)sbr_arg_choice("--format", optarg, sbr_format_names); break;
        case 'o': a->output = optarg; break;
        case 'l': a->level = (int)sbr_arg_int("--level", optarg, 0, 19); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default:
            if (c > OPT_VERSION && c < OPT_END)
                a->given[c - OPT_VERSION] = 1;
            parse_one(c, optarg, a);
        }
    }
    if (optind >= argc)
        sbr_usage_error("no INPUT given");
    if (argc - optind > 2)
        sbr_usage_error("too many inputs (INPUT and at most one TEST file)");
    a->input = argv[optind];
    a->test_in = argc - optind > 1 ? argv[optind + 1] : NULL;
}

int prep_given(const prep_args *a, int opt)
{
    return opt > OPT_VERSION && opt < OPT_END && a->given[opt - OPT_VERSION];
}

void prep_options(const prep_args *a, sbr_format fmt, sbr_prep_opts *o)
{
    const prep_overrides *ov = &a->ov;
    sbr_prep_defaults(fmt, o);
    prep_apply_recipe(a->recipe, fmt, o);
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
    if (ov->cut_days >= 0) o->cut_days = ov->cut_days;
    if (ov->gap_s >= 0) o->cut_days = 0; /* a gap given asks for the gap (over a recipe) */
    o->recent_num = a->recent_num;
    o->recent_den = a->recent_den;
    if (a->recent && ov->unseen_keep < 0)
        o->unseen_keep = 1; /* SR-GNN keeps the test items of the sessions it cut */
    /* The split by date's options, or a TEST log, replace a recipe's split
     * by count (with --split they are misuse: scope.c). */
    if (a->split)
        memcpy(o->split, a->split_parts, sizeof o->split);
    else if (ov->test_days >= 0 || ov->valid_frac >= 0 || a->recent || a->test_in)
        memset(o->split, 0, sizeof o->split);
}
