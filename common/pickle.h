/* A restricted, non-executing reader of Python pickles that hold only plain
 * lists, tuples and integers (the SR-GNN benchmark files).
 *
 * It interprets exactly these opcodes (protocols 2-4): PROTO, FRAME, MARK,
 * STOP, EMPTY_LIST, EMPTY_TUPLE, LIST, TUPLE, TUPLE1, TUPLE2, TUPLE3, APPEND,
 * APPENDS, BININT, BININT1, BININT2, LONG1 (up to 8 bytes), BINPUT,
 * LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET. Any other opcode (GLOBAL,
 * REDUCE, strings, dicts, floats, ...) is an error naming the opcode and its
 * byte offset; nothing is ever imported or called. The memo and the MARK
 * nesting are bounded, a truncated file is detected, and bytes after STOP are
 * an error. */
#ifndef SBR_PICKLE_H
#define SBR_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SBR_PK_MAX_MARKS 64        /* MARK nesting */
#define SBR_PK_MAX_MEMO (1 << 24)  /* largest memo index + 1 (and at most the file size) */

typedef enum { SBR_PK_INT = 0, SBR_PK_LIST = 1, SBR_PK_TUPLE = 2 } sbr_pk_kind;

/* A value: an integer, or a reference to a container (lists are mutable and
 * may be shared through the memo, so containers live in a table). */
typedef struct {
    int64_t v;     /* the integer, or the container index in sbr_pickle.obj */
    int32_t kind;  /* sbr_pk_kind */
} sbr_pk_val;

typedef struct {
    int32_t kind;      /* SBR_PK_LIST or SBR_PK_TUPLE */
    int64_t n, cap;
    sbr_pk_val *items; /* [n] */
} sbr_pk_obj;

typedef struct {
    sbr_pk_val root;
    int64_t n_obj, cap_obj;
    sbr_pk_obj *obj; /* [n_obj] every container made */
    int protocol;
} sbr_pickle;

/* 1 when buf starts the way a pickle of protocol 0 or 1 (no PROTO opcode)
 * of lists, tuples and ints does: MARK, EMPTY_LIST or EMPTY_TUPLE, then
 * another opcode of such a pickle. Such files are refused (their text
 * opcodes are not read); this only words the error. */
int sbr_pickle_looks_old(const uint8_t *buf, size_t n);

/* Interprets the pickle in buf[0..n). Errors say what and at which byte. */
int sbr_pickle_parse(const uint8_t *buf, size_t n, sbr_pickle *p, sbr_err *e);
void sbr_pickle_free(sbr_pickle *p);

/* The container a value refers to, or NULL when it is an integer. */
const sbr_pk_obj *sbr_pickle_obj(const sbr_pickle *p, sbr_pk_val v);
/* Name of the value's type: "int", "list", "tuple". */
const char *sbr_pk_kind_name(int kind);

/* A list (or tuple) of lists of integers, as CSR. */
typedef struct {
    int64_t n;        /* number of sequences */
    int64_t *offsets; /* [n + 1] */
    int64_t *items;   /* [offsets[n]] */
} sbr_pk_seqs;

/* Converts v, which must be a list/tuple of lists/tuples of integers, each
 * integer in lo..hi. `what` names it in errors ("training sessions"). */
int sbr_pickle_seqs(const sbr_pickle *p, sbr_pk_val v, int64_t lo, int64_t hi, const char *what,
                    sbr_pk_seqs *out, sbr_err *e);
/* Converts v, which must be a list/tuple of integers in lo..hi. */
int sbr_pickle_ints(const sbr_pickle *p, sbr_pk_val v, int64_t lo, int64_t hi, const char *what,
                    int64_t **out, int64_t *n, sbr_err *e);
void sbr_pk_seqs_free(sbr_pk_seqs *s);

#endif
