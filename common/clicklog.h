/* Raw click logs: the readers of every supported layout, turning lines into
 * one columnar table of clicks (session key, item, time). What happens to
 * the clicks afterwards (sessions, filters, splits) is prep.h.
 *
 * Layouts (docs/PREP.md):
 *   kaggle      RetailRocket events.csv: timestamp(ms),visitorid,event,itemid,transactionid
 *   diginetica  CIKM Cup train-item-views.csv: session_id;user_id;item_id;timeframe;eventdate
 *   yoochoose   RecSys 2015 yoochoose-clicks.dat: session,ISO-8601 time,item,category (no header)
 *   sessionrec  session-rec TSV with header SessionId, ItemId, Time (seconds, fraction allowed)
 *   recbole     RecBole atomic .inter: tab-separated, header "name:type" columns
 *   csv         any delimited file: --sep and --session-col/--user-col/--item-col/--time-col
 * Numbers are parsed by hand (no sscanf) and no memory is allocated per row. */
#ifndef SBR_CLICKLOG_H
#define SBR_CLICKLOG_H

#include <stdint.h>

#include "err.h"
#include "idmap.h"

typedef enum {
    SBR_FMT_AUTO = 0,
    SBR_FMT_SRGNN,
    SBR_FMT_KAGGLE,
    SBR_FMT_DIGINETICA,
    SBR_FMT_YOOCHOOSE,
    SBR_FMT_SESSIONREC,
    SBR_FMT_RECBOLE,
    SBR_FMT_CSV,
    SBR_NFORMATS
} sbr_format;

/* "auto", "srgnn", "kaggle", ... NULL-terminated, indexed by sbr_format. */
extern const char *const sbr_format_names[SBR_NFORMATS + 1];

typedef struct {
    sbr_format format;
    int skip_bad;      /* count malformed rows instead of failing */
    /* kaggle: bit 0 view, bit 1 addtocart, bit 2 transaction */
    unsigned events;
    /* csv: separator (0 = ','), columns by header name or 1-based number */
    char sep;
    const char *session_col, *user_col, *item_col, *time_col;
    int no_header;     /* csv: the first line is data */
    double time_scale; /* csv/recbole numeric times: milliseconds per unit (1000 = seconds) */
    /* csv/sessionrec/recbole: the user column is the key (keys_are_users) even
     * where the file has session ids, whose sessions are then ignored
     * (sbr-prep --session-by day cuts each user's clicks into days). Without
     * a user column the session ids stay the key: the caller checks has_user. */
    int by_user;
} sbr_log_opts;

#define SBR_EV_VIEW 1u
#define SBR_EV_CART 2u
#define SBR_EV_TRANSACTION 4u

typedef struct {
    int64_t n, cap;
    int32_t *key;  /* [n] dense session key (a session id, or a user when keys_are_users) */
    int32_t *item; /* [n] dense item id (items.original gives the id in the file) */
    int64_t *t;    /* [n] time in milliseconds; orders the clicks of a session */
    sbr_idmap keys, items;
    sbr_idmap keys_test; /* session/user ids of a separate test file (their own ids) */
    int64_t n_keys;      /* dense keys: those of the main file, then of the test file */
    int64_t test_key_from; /* first dense key read from a test file; -1 when none */
    int reading_test, cache_valid;
    int64_t *key_user; /* [keys.n] user id of each key, -1 when anonymous */
    int64_t *key_date; /* [keys.n] session date in seconds given by the file (diginetica:
                          eventdate of the key's last row in file order), else NULL */
    int64_t key_cap;
    struct sbr_log_hasher *hasher; /* SHA-256 of the input still being computed */
    int64_t last_key_id; /* the previous row's key id and its dense key */
    int32_t last_key;
    int keys_are_users; /* sessions are cut from each user's clicks by an inactivity gap */
    int has_time, has_user;
    sbr_format format;  /* the layout actually read */
    /* what was read and skipped, for the summary */
    int64_t lines, rows, bad_rows, skipped_events, blank_lines;
    char first_bad[512]; /* message of the first malformed row skipped */
} sbr_clicklog;

/* Guesses the layout from the first line of a file; SBR_FMT_AUTO when it
 * cannot tell. */
sbr_format sbr_log_sniff(const char *line, int64_t len);

/* Reads a whole log (plain or zstd; "-" = stdin). With o->format AUTO the
 * layout is sniffed from the first line. Errors: "FILE:LINE: reason". */
int sbr_log_read(const char *path, const sbr_log_opts *o, sbr_clicklog *log, sbr_err *e);
/* Reads a second log of the same layout whose sessions are the test split
 * (a dataset published already split, e.g. session-rec's train_full/test):
 * its sessions get their own keys even where ids repeat. */
int sbr_log_read_test(const char *path, const sbr_log_opts *o, sbr_clicklog *log, sbr_err *e);
/* Same on lines in memory (tests, fuzzers); `name` is used in messages. */
int sbr_log_parse_buffer(const char *name, const char *text, int64_t n, const sbr_log_opts *o,
                         sbr_clicklog *log, sbr_err *e);
/* Waits for the input's SHA-256 (computed beside the parsing for plain
 * files) and registers it for provenance; call before writing outputs.
 * Returns -1 when re-reading the file for the digest failed. */
int sbr_log_join_hash(sbr_clicklog *log, sbr_err *e);
/* 1 while the helper thread is still hashing the input (a core is busy). */
int sbr_log_hashing(const sbr_clicklog *log);
void sbr_log_free(sbr_clicklog *log);

/* --- number and time parsing (exposed for tests) ------------------------- */

/* Whole field as a decimal int64 (optional sign). 0 ok, -1 malformed. */
int sbr_parse_i64(const char *s, int64_t len, int64_t *out);
/* Decimal with optional fraction and exponent-free, scaled: value * scale,
 * rounded down, e.g. ("1396860669.277", 1000) -> 1396860669277. */
int sbr_parse_scaled(const char *s, int64_t len, int64_t scale, int64_t *out);
/* "YYYY-MM-DD" -> Unix seconds (UTC midnight). */
int sbr_parse_date(const char *s, int64_t len, int64_t *out);
/* "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (or a space for T) -> Unix milliseconds, UTC. */
int sbr_parse_iso_ms(const char *s, int64_t len, int64_t *out);

#endif
