/* Input and output files: "-" for stdin/stdout, transparent zstd input,
 * outputs written to a temporary file and renamed, every write checked. */
#ifndef SBR_IO_H
#define SBR_IO_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a whole file ("-" = stdin) into memory, decompressing it when it is a
 * zstd frame (any file, not only *.zst). Registers the input (path + SHA-256
 * of the stored bytes) for provenance. *out is NUL-terminated (not counted in
 * *n). Returns 0, or -1 with e set. */
int sbr_read_all(const char *path, uint8_t **out, size_t *n, sbr_err *e);
/* Same, also saying whether the stored bytes were a zstd frame. */
int sbr_read_all_z(const char *path, uint8_t **out, size_t *n, int *was_zstd, sbr_err *e);
/* Same on bytes already in memory (for fuzzers): decompresses if zstd. */
int sbr_maybe_decompress(const uint8_t *in, size_t n, uint8_t **out, size_t *outn, int *was_zstd,
                         sbr_err *e);

/* A streaming line reader over a file that may be zstd-compressed; for inputs
 * too large to hold twice in memory. */
typedef struct sbr_lines sbr_lines;
sbr_lines *sbr_lines_open(const char *path, sbr_err *e);
/* Next line without its '\n' (and '\r'); NULL at end or error (check
 * sbr_lines_error). The pointer is valid until the next call. */
char *sbr_lines_next(sbr_lines *r, size_t *len);
int64_t sbr_lines_lineno(const sbr_lines *r);
const char *sbr_lines_error(const sbr_lines *r); /* NULL when none */
void sbr_lines_close(sbr_lines *r);

/* An output being written. */
typedef struct {
    char *path;   /* final path, "-" for stdout */
    char *tmp;    /* temporary path beside it, NULL for stdout */
    FILE *fp;
    int cleanup;  /* handle of the crash-cleanup hook */
} sbr_out;

/* Opens an output. binary: refuse a terminal on stdout. */
int sbr_out_open(sbr_out *o, const char *path, int binary, sbr_err *e);
/* Checked write. */
int sbr_out_write(sbr_out *o, const void *p, size_t n, sbr_err *e);
/* Flushes, fsyncs, closes and renames into place; every step checked. */
int sbr_out_commit(sbr_out *o, sbr_err *e);
/* Closes and removes the temporary file. */
void sbr_out_abort(sbr_out *o);

/* --- provenance ---------------------------------------------------------- */

/* Records an input of this process (path, SHA-256 hex). */
void sbr_inputs_add(const char *path, const char *sha256_hex);
/* SHA-256 of the last input registered under this path; 0, or -1 if none. */
int sbr_inputs_sha(const char *path, char out[65]);
/* JSON array [{"path":..., "sha256":...}, ...] of the inputs read so far;
 * the caller frees it. */
char *sbr_inputs_json(void);

#ifdef __cplusplus
}
#endif

#endif
