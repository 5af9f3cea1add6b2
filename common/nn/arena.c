#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *host_alloc(size_t bytes, void *user)
{
    (void)user;
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t n = (bytes + SBR_ARENA_ALIGN - 1) / SBR_ARENA_ALIGN * SBR_ARENA_ALIGN;
    return aligned_alloc(SBR_ARENA_ALIGN, n ? n : SBR_ARENA_ALIGN);
}

static void host_free(void *p, void *user)
{
    (void)user;
    free(p);
}

static void host_zero(void *p, size_t bytes, void *user)
{
    (void)user;
    memset(p, 0, bytes);
}

const sbr_allocator sbr_host_allocator = {host_alloc, host_free, host_zero, NULL, 0};

void sbr_arena_init(sbr_arena *a, const char *name, size_t elem_size, const sbr_allocator *alloc)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->elem_size = elem_size;
    a->alloc = alloc ? *alloc : sbr_host_allocator;
}

int sbr_arena_add(sbr_arena *a, const char *name, int ndim, const int64_t *shape)
{
    if (a->base || ndim < 0 || ndim > SBR_VIEW_MAX_NDIM) {
        /* A programming error: layouts are fixed before commit. */
        fprintf(stderr, "sbr_arena_add(%s, %s): %s\n", a->name, name,
                a->base ? "arena already committed" : "bad rank");
        abort();
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->views = sbr_xrealloc(a->views, (size_t)a->cap * sizeof *a->views);
        a->names = sbr_xrealloc(a->names, (size_t)a->cap * sizeof *a->names);
    }
    sbr_view *v = &a->views[a->n];
    memset(v, 0, sizeof *v);
    a->names[a->n] = sbr_xstrdup(name);
    v->name = a->names[a->n];
    v->ndim = ndim;
    v->numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            fprintf(stderr, "sbr_arena_add(%s, %s): negative dimension\n", a->name, name);
            abort();
        }
        v->shape[i] = shape[i];
        v->numel *= shape[i];
    }
    v->offset = a->bytes;
    size_t nb = (size_t)v->numel * a->elem_size;
    a->bytes += (nb + SBR_ARENA_ALIGN - 1) / SBR_ARENA_ALIGN * SBR_ARENA_ALIGN;
    return a->n++;
}

int sbr_arena_commit(sbr_arena *a, sbr_err *e)
{
    if (a->base)
        return 0;
    a->base = a->alloc.alloc(a->bytes ? a->bytes : SBR_ARENA_ALIGN, a->alloc.user);
    if (!a->base)
        return sbr_errf(e, "out of memory: arena %s needs %zu bytes", a->name, a->bytes);
    a->alloc.zero(a->base, a->bytes, a->alloc.user);
    for (int i = 0; i < a->n; i++)
        a->views[i].data = (char *)a->base + a->views[i].offset;
    return 0;
}

void sbr_arena_clone_layout(sbr_arena *dst, const sbr_arena *src, const char *name,
                            size_t elem_size, const sbr_allocator *alloc)
{
    sbr_arena_init(dst, name, elem_size, alloc);
    for (int i = 0; i < src->n; i++)
        sbr_arena_add(dst, src->views[i].name, src->views[i].ndim, src->views[i].shape);
}

void sbr_arena_zero(sbr_arena *a)
{
    if (a->base)
        a->alloc.zero(a->base, a->bytes, a->alloc.user);
}

void sbr_arena_free(sbr_arena *a)
{
    if (a->base)
        a->alloc.free(a->base, a->alloc.user);
    for (int i = 0; i < a->n; i++)
        free(a->names[i]);
    free(a->names);
    free(a->views);
    memset(a, 0, sizeof *a);
}

int sbr_arena_find(const sbr_arena *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->views[i].name, name) == 0)
            return i;
    return -1;
}

void sbr_bump_init(sbr_bump *b, void *base, size_t cap)
{
    b->base = base;
    b->cap = cap;
    b->used = b->high = 0;
}

void *sbr_bump_take(sbr_bump *b, size_t bytes)
{
    size_t start = (b->used + SBR_ARENA_ALIGN - 1) / SBR_ARENA_ALIGN * SBR_ARENA_ALIGN;
    if (start > b->cap || bytes > b->cap - start)
        return NULL;
    b->used = start + bytes;
    if (b->used > b->high)
        b->high = b->used;
    return b->base + start;
}
