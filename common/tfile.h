/* Tensor files: the one container every sbr tool reads and writes.
 *
 * Layout (docs/FORMAT.md): a safetensors file — u64 little-endian header
 * length, a JSON header mapping tensor names to {dtype, shape, data_offsets}
 * plus a "__metadata__" string map, then the raw little-endian tensor bytes in
 * offset order — inside one zstd frame with its content checksum on.
 * Readers also accept the plain (uncompressed) safetensors file.
 *
 * Every file records its kind ("sbr.sessions", "sbr.graph", ...) and its
 * provenance (tool, version, arguments, SHA-256 of each input) in metadata;
 * the writer adds provenance by itself from what the process read. */
#ifndef SBR_TFILE_H
#define SBR_TFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBR_MAX_NDIM 8
/* A header larger than this is rejected before it is allocated. */
#define SBR_MAX_HEADER (100u << 20)

typedef enum {
    SBR_BOOL,
    SBR_U8,
    SBR_I8,
    SBR_U16,
    SBR_I16,
    SBR_F16,
    SBR_BF16,
    SBR_U32,
    SBR_I32,
    SBR_F32,
    SBR_U64,
    SBR_I64,
    SBR_F64,
    SBR_NDTYPES
} sbr_dtype;

const char *sbr_dtype_name(sbr_dtype dt); /* "F32" */
size_t sbr_dtype_size(sbr_dtype dt);
int sbr_dtype_parse(const char *name, sbr_dtype *dt); /* 0 ok, -1 unknown */

typedef struct {
    char *name;
    sbr_dtype dtype;
    int ndim;
    int64_t shape[SBR_MAX_NDIM];
    int64_t numel;
    size_t nbytes;
    void *data; /* aligned to the dtype size; owned by the sbr_tfile */
} sbr_tensor;

typedef struct {
    char *key, *value;
} sbr_meta;

typedef struct {
    char *path;        /* as given; "-" for stdin */
    char sha256[65];   /* of the bytes as stored (compressed or not) */
    int compressed;    /* 1 when the file was a zstd frame */
    int n_tensors;
    sbr_tensor *tensors; /* in data-offset order */
    int n_meta;
    sbr_meta *meta;
    uint8_t *buf;        /* decompressed file */
    size_t buflen;
    void **aligned_copies; /* tensors whose offset was not aligned */
    int n_aligned_copies;
} sbr_tfile;

/* Reads and fully validates a tensor file ("-" = stdin). On error returns -1
 * with e->msg saying what is wrong (without the path; callers prefix it). The
 * read is registered as an input of this process for provenance. */
int sbr_tfile_read(const char *path, sbr_tfile *f, sbr_err *e);
/* Validates a file already in memory (compressed or plain). `bytes` is not
 * kept. Used by the fuzz harness. */
int sbr_tfile_parse(const void *bytes, size_t n, sbr_tfile *f, sbr_err *e);
void sbr_tfile_free(sbr_tfile *f);

const char *sbr_tfile_meta(const sbr_tfile *f, const char *key); /* NULL if absent */
const char *sbr_tfile_kind(const sbr_tfile *f);                  /* "" if absent */
const sbr_tensor *sbr_tfile_find(const sbr_tfile *f, const char *name);
/* Checks the kind; error "is a sbr.graph file, expected sbr.sessions". */
int sbr_tfile_expect_kind(const sbr_tfile *f, const char *kind, sbr_err *e);
/* Finds a tensor and checks its dtype and rank (ndim < 0: any rank). */
const sbr_tensor *sbr_tfile_need(const sbr_tfile *f, const char *name, sbr_dtype dt, int ndim,
                                 sbr_err *e);
/* Reads an integer metadata value; missing or malformed is an error. */
int sbr_tfile_meta_i64(const sbr_tfile *f, const char *key, int64_t *out, sbr_err *e);
/* Reads a metadata value that names one of choices (NULL-terminated) into
 * *out, its index: 1 when read, 0 when absent (*out unchanged: the caller's
 * default), -1 with e set for a value not among the choices. */
int sbr_tfile_meta_choice(const sbr_tfile *f, const char *key, const char *const *choices,
                          int *out, sbr_err *e);

/* --- writing ------------------------------------------------------------- */

typedef struct sbr_tw sbr_tw;

/* A new file of this kind. Provenance metadata (sbr.tool, sbr.version,
 * sbr.args, sbr.inputs) is filled in at write time. */
sbr_tw *sbr_tw_new(const char *kind);
void sbr_tw_meta(sbr_tw *w, const char *key, const char *value);
void sbr_tw_metaf(sbr_tw *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a tensor. `data` is not copied: it must stay valid until the write.
 * Tensors are stored in the order they are added. */
void sbr_tw_add(sbr_tw *w, const char *name, sbr_dtype dt, int ndim, const int64_t *shape,
                const void *data);
/* Shorthand for rank-1 tensors. */
void sbr_tw_add1(sbr_tw *w, const char *name, sbr_dtype dt, int64_t n, const void *data);
/* Writes the file: "-" is stdout (refused when it is a terminal), anything
 * else is written to a temporary file beside it and renamed into place.
 * level: zstd level (0 = plain safetensors, no compression). */
int sbr_tw_write(sbr_tw *w, const char *path, int level, sbr_err *e);
/* Serialises into memory (plain safetensors, no compression); for tests. */
int sbr_tw_to_memory(sbr_tw *w, uint8_t **bytes, size_t *n, sbr_err *e);
void sbr_tw_free(sbr_tw *w);

#define SBR_ZSTD_LEVEL 3

#ifdef __cplusplus
}
#endif

#endif
