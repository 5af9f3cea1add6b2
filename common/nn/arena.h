/* Arenas: the parameters, gradients, optimizer state and activations of a
 * model, each one allocation, so that a training step allocates nothing and
 * a whole arena can be zeroed, copied, checkpointed or updated by the
 * optimizer as one flat array.
 *
 * Use in two phases:
 *   sbr_arena a; sbr_arena_init(&a, "params", sizeof(float), NULL);
 *   int emb = sbr_arena_add(&a, "emb", 2, (int64_t[]){N + 1, d});  // layout
 *   int w   = sbr_arena_add(&a, "w1",  2, (int64_t[]){d, d});
 *   sbr_arena_commit(&a, &e);                     // one allocation, zeroed
 *   float *E = sbr_arena_ptr(&a, emb);            // [N + 1, d]
 * The gradient arena is sbr_arena_clone_layout of the parameter arena, so a
 * parameter and its gradient have the same index and offset.
 *
 * Every tensor starts at a multiple of SBR_ARENA_ALIGN bytes; the padding
 * between tensors is zero and stays zero (optimizers over the flat array see
 * zero gradients there). */
#ifndef SBR_NN_ARENA_H
#define SBR_NN_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SBR_ARENA_ALIGN 64
#define SBR_VIEW_MAX_NDIM 4

/* Where the bytes live: host memory by default; the CUDA side plugs in
 * cudaMalloc/cudaFree/cudaMemset. */
typedef struct {
    void *(*alloc)(size_t bytes, void *user); /* NULL on failure */
    void (*free)(void *p, void *user);
    void (*zero)(void *p, size_t bytes, void *user);
    void *user;
    int device; /* 0 host, 1 CUDA: pointers are not dereferenceable on the host */
} sbr_allocator;

extern const sbr_allocator sbr_host_allocator;

/* A named, shaped view into an arena. */
typedef struct {
    const char *name; /* owned by the arena */
    int ndim;
    int64_t shape[SBR_VIEW_MAX_NDIM];
    int64_t numel;
    size_t offset;    /* in bytes from the arena base */
    void *data;       /* base + offset once committed, else NULL */
} sbr_view;

typedef struct {
    char name[32];
    size_t elem_size;   /* bytes per element: 4 (f32) or 8 (f64) */
    sbr_allocator alloc;
    int n, cap;
    sbr_view *views;
    char **names;
    size_t bytes;       /* total, a multiple of SBR_ARENA_ALIGN */
    void *base;         /* NULL until committed */
} sbr_arena;

/* alloc NULL: host memory. */
void sbr_arena_init(sbr_arena *a, const char *name, size_t elem_size, const sbr_allocator *alloc);
/* Adds a tensor to the layout (before commit); returns its index. ndim <= 4,
 * every dimension >= 0. */
int sbr_arena_add(sbr_arena *a, const char *name, int ndim, const int64_t *shape);
/* Allocates and zeroes the arena; -1 with e set when memory is short. */
int sbr_arena_commit(sbr_arena *a, sbr_err *e);
/* dst gets the layout of src (names, shapes, offsets), not committed; its
 * element size and allocator are its own (so a f64 copy of a f32 layout has
 * other offsets). */
void sbr_arena_clone_layout(sbr_arena *dst, const sbr_arena *src, const char *name,
                            size_t elem_size, const sbr_allocator *alloc);
void sbr_arena_zero(sbr_arena *a);
void sbr_arena_free(sbr_arena *a);

static inline void *sbr_arena_ptr(const sbr_arena *a, int i) { return a->views[i].data; }
/* Index of a tensor by name, -1 when absent. */
int sbr_arena_find(const sbr_arena *a, const char *name);
/* Number of elements the flat array spans (bytes / elem_size), padding
 * included: what an optimizer step over the whole arena takes. */
static inline int64_t sbr_arena_numel(const sbr_arena *a)
{
    return (int64_t)(a->bytes / a->elem_size);
}

/* A bump allocator over a caller-given block, for activations and op scratch:
 * take() hands out aligned pieces; reset() gives them all back. Never calls
 * malloc. */
typedef struct {
    char *base;
    size_t cap, used, high; /* high: the most ever used, to size it next time */
} sbr_bump;

void sbr_bump_init(sbr_bump *b, void *base, size_t cap);
/* NULL when it does not fit (the caller reports it). */
void *sbr_bump_take(sbr_bump *b, size_t bytes);
static inline void sbr_bump_reset(sbr_bump *b) { b->used = 0; }

#endif
