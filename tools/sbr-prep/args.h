/* sbr-prep's command line (args.c) and which layouts each option applies
 * to (scope.c). */
#ifndef SBR_PREP_ARGS_H
#define SBR_PREP_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "clicklog.h"
#include "prep.h"

enum {
    OPT_VERSION = 256, OPT_EVENTS, OPT_SEP, OPT_SCOL, OPT_UCOL, OPT_ICOL, OPT_TCOL, OPT_TUNIT,
    OPT_NOHEADER, OPT_SKIPBAD, OPT_GAP, OPT_DEDUP, OPT_NODEDUP, OPT_PREMIN, OPT_MINSUP,
    OPT_MINLEN, OPT_ITERATE, OPT_MAXLEN, OPT_TESTDAYS, OPT_VALID, OPT_UNSEEN, OPT_MINPFX,
    OPT_RECENT, OPT_SESSBY, OPT_SPLIT, OPT_RECIPE, OPT_END
};

/* --recipe: a paper's data protocol (recipe.c). */
enum { PREP_RECIPE_NONE = 0, PREP_RECIPE_PROXYSR };
extern const char *const prep_recipe_names[]; /* indexed by the enum, NULL-terminated */

/* Protocol options given on the command line (-1: not given, the layout's
 * default applies). */
typedef struct {
    double gap_s, test_days, valid_frac;
    int dedup, pre_min_len, min_support, min_len, iterate, max_len, unseen_keep, min_prefix;
    int cut_days; /* --session-by: 0 gap, 1 day */
} prep_overrides;

typedef struct {
    sbr_log_opts lo;     /* lo.format: --format, SBR_FMT_AUTO when not given */
    prep_overrides ov;
    const char *input, *test_in; /* test_in: NULL without TEST */
    const char *output;
    const char *recent;  /* --train-recent as given, NULL when not */
    int64_t recent_num, recent_den;
    const char *split;   /* --split as given, NULL when not */
    int64_t split_parts[3];
    int recipe;          /* PREP_RECIPE_* */
    int level;
    unsigned char given[OPT_END - OPT_VERSION]; /* [long option - OPT_VERSION] 1 when given */
} prep_args;

/* Parses argv; misuse exits 2 with one line naming the option. */
void prep_parse_args(int argc, char **argv, prep_args *a);
int prep_given(const prep_args *a, int opt);

/* The layout to read: --format, else a directory of pickles, else the first
 * line of INPUT; standard input is read whole here to see it (*buf, *n;
 * NULL when INPUT is not '-' or the layout was given). */
sbr_format prep_resolve_format(const prep_args *a, uint8_t **buf, size_t *n);
/* An option given for a layout it does not apply to is misuse (exit 2). */
void prep_check_scope(const prep_args *a, sbr_format fmt);
/* --session-by day on a log without users: misuse naming INPUT (exit 2). */
SBR_NORETURN void prep_no_user_column(const prep_args *a, sbr_format fmt);
/* The layout's defaults, the recipe's, then the options given on top. */
void prep_options(const prep_args *a, sbr_format fmt, sbr_prep_opts *po);
/* The split by count's parts, "A:B:C"; misuse exits 2 (recipe.c). */
void prep_parse_split(const char *arg, int64_t out[3]);
void prep_apply_recipe(int recipe, sbr_format fmt, sbr_prep_opts *po);
int prep_is_dir(const char *path);

#endif
