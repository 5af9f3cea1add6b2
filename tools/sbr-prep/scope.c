/* Which layout sbr-prep reads, and which layouts each option applies to:
 * an option that would do nothing for the layout read is misuse rather
 * than silently ignored. */
#include "args.h"

#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "io.h"
#include "pickle.h"

int prep_is_dir(const char *p)
{
    struct stat st;
    return strcmp(p, "-") != 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The layout the first line shows; SBR_FMT_AUTO when it does not tell. A
 * pickle of protocol 0 or 1 would not tell either: that is said instead. */
static sbr_format sniff(const char *name, const char *line, size_t len)
{
    sbr_format f = sbr_log_sniff(line, (int64_t)len);
    if (f == SBR_FMT_AUTO && sbr_pickle_looks_old((const uint8_t *)line, len))
        sbr_fatal("%s: not a pickle of protocol 2 or later (it starts like one of protocol 0 "
                  "or 1; write it with protocol 2 or later)", name);
    return f;
}

/* Layout of a file from its first line (without loading it all);
 * SBR_FMT_AUTO when the line does not tell. */
static sbr_format sniff_file(const char *path)
{
    sbr_err e;
    sbr_lines *L = sbr_lines_open(path, &e);
    if (!L)
        sbr_fatal("%s: %s", path, e.msg);
    size_t len = 0;
    char *line = sbr_lines_next(L, &len);
    sbr_format f = line ? sniff(path, line, len) : SBR_FMT_AUTO;
    if (!line && sbr_lines_error(L))
        sbr_fatal("%s: %s", path, sbr_lines_error(L));
    if (!line)
        sbr_fatal("%s: empty input", path);
    sbr_lines_close(L);
    return f;
}

/* Standard input, read whole: its first line tells the layout. */
static sbr_format sniff_stdin(uint8_t **buf, size_t *n)
{
    sbr_err e;
    if (sbr_read_all("-", buf, n, &e) < 0)
        sbr_fatal("-: %s", e.msg);
    if (*n == 0)
        sbr_fatal("-: empty input");
    const char *nl = memchr(*buf, '\n', *n);
    sbr_format f = sniff("-", (const char *)*buf, nl ? (size_t)(nl - (const char *)*buf) : *n);
    if (f == SBR_FMT_SRGNN)
        sbr_fatal("-: is a pickle: give the all_train_seq.txt and test.txt files");
    return f;
}

sbr_format prep_resolve_format(const prep_args *a, uint8_t **buf, size_t *n)
{
    *buf = NULL;
    *n = 0;
    if (a->lo.format != SBR_FMT_AUTO)
        return a->lo.format;
    if (prep_is_dir(a->input))
        return SBR_FMT_SRGNN;
    const char *name = a->input;
    sbr_format f = strcmp(name, "-") == 0 ? sniff_stdin(buf, n) : sniff_file(name);
    /* Options that describe a delimited file ask for csv, except column
     * options on a header of a layout that takes them. */
    int csv_only = prep_given(a, OPT_SEP) || prep_given(a, OPT_NOHEADER);
    int columns = prep_given(a, OPT_SCOL) || prep_given(a, OPT_UCOL) ||
                  prep_given(a, OPT_ICOL) || prep_given(a, OPT_TCOL);
    int takes_columns = f == SBR_FMT_SESSIONREC || f == SBR_FMT_RECBOLE;
    if (f != SBR_FMT_SRGNN && (csv_only || (columns && !takes_columns)))
        return SBR_FMT_CSV;
    if (f == SBR_FMT_AUTO)
        sbr_fatal("%s: cannot tell the layout from the first line; give --format", name);
    if (f == SBR_FMT_SRGNN && !a->test_in)
        sbr_usage_error("%s is a pickle: give the test.txt pickle as TEST, or the directory",
                        name);
    return f;
}

#define FMT(x) (1u << SBR_FMT_##x)
#define COLUMNS (FMT(SESSIONREC) | FMT(RECBOLE) | FMT(CSV))
#define LOGS (FMT(KAGGLE) | FMT(DIGINETICA) | FMT(YOOCHOOSE) | COLUMNS)

/* The layouts each option applies to; options not listed apply to all
 * (keep --help's brackets the same). */
static const struct {
    int opt;
    const char *name;
    unsigned formats;
} scope[] = {
    {OPT_EVENTS, "--events", FMT(KAGGLE)},
    {OPT_SEP, "--sep", FMT(CSV)},
    {OPT_NOHEADER, "--no-header", FMT(CSV)},
    {OPT_SCOL, "--session-col", COLUMNS},
    {OPT_UCOL, "--user-col", COLUMNS},
    {OPT_ICOL, "--item-col", COLUMNS},
    {OPT_TCOL, "--time-col", COLUMNS},
    {OPT_TUNIT, "--time-unit", COLUMNS},
    {OPT_SKIPBAD, "--skip-bad", LOGS},
    {OPT_GAP, "--gap", FMT(KAGGLE) | FMT(CSV)},
    {OPT_DEDUP, "--dedup", LOGS},
    {OPT_NODEDUP, "--no-dedup", LOGS},
    {OPT_PREMIN, "--pre-min-len", LOGS},
    {OPT_MINSUP, "--min-support", LOGS},
    {OPT_MINLEN, "--min-len", LOGS},
    {OPT_ITERATE, "--iterate", LOGS},
    {OPT_MAXLEN, "--max-len", LOGS},
    {OPT_TESTDAYS, "--test-days", LOGS},
    {OPT_RECENT, "--train-recent", LOGS},
    {OPT_SESSBY, "--session-by", LOGS},
    {OPT_SPLIT, "--split", LOGS},
    {OPT_RECIPE, "--recipe", LOGS},
};

/* The options a split by count replaces; NULL when none was given. */
static const char *date_split_option(const prep_args *a)
{
    return prep_given(a, OPT_TESTDAYS) ? "--test-days"
           : prep_given(a, OPT_VALID)  ? "--valid-frac"
           : a->recent                 ? "--train-recent"
           : a->test_in                ? "a TEST log"
                                       : NULL;
}

/* --session-by: not where sessions are given and cannot be cut again (diginetica),
 * not beside --gap when by day, and by day only where the log has users. */
static void check_session_by(const prep_args *a, sbr_format fmt)
{
    if (fmt == SBR_FMT_DIGINETICA && prep_given(a, OPT_SESSBY))
        sbr_usage_error("--session-by does not apply to the diginetica layout (its sessions are "
                        "given, and its timeframe counts from each session's start)");
    if (a->ov.cut_days != 1)
        return;
    if (prep_given(a, OPT_GAP))
        sbr_usage_error("--gap does not apply with --session-by day (a session ends at "
                        "midnight, UTC)");
    if (fmt == SBR_FMT_YOOCHOOSE) /* the columns layouts are checked once read */
        prep_no_user_column(a, fmt);
}

void prep_no_user_column(const prep_args *a, sbr_format fmt)
{
    sbr_usage_error("%s: --session-by day cuts each user's clicks into days, and this %s log "
                    "has no user column%s", a->input, sbr_format_names[fmt],
                    fmt == SBR_FMT_YOOCHOOSE ? "" : " (give --user-col)");
}

void prep_check_scope(const prep_args *a, sbr_format fmt)
{
    for (size_t i = 0; i < sizeof scope / sizeof scope[0]; i++)
        if (prep_given(a, scope[i].opt) && !(scope[i].formats & (1u << fmt)))
            sbr_usage_error("%s does not apply to the %s layout%s", scope[i].name,
                            sbr_format_names[fmt],
                            fmt == SBR_FMT_SRGNN ? " (the pickles are filtered and split already)"
                                                 : "");
    /* csv cuts sessions at --gap only from a user column */
    if (fmt == SBR_FMT_CSV && prep_given(a, OPT_GAP) && a->lo.session_col)
        sbr_usage_error("--gap does not apply to a csv log with --session-col (it cuts each "
                        "--user-col user's clicks)");
    if (a->test_in && prep_given(a, OPT_TESTDAYS) && fmt != SBR_FMT_SRGNN)
        sbr_usage_error("--test-days does not apply with a TEST log (its sessions are the test "
                        "split)");
    if (a->split && date_split_option(a) && fmt != SBR_FMT_SRGNN)
        sbr_usage_error("%s does not apply with --split (the split by count replaces the split "
                        "by date)", date_split_option(a));
    check_session_by(a, fmt);
}
