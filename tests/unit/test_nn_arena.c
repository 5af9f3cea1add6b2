/* Arenas and the bump allocator: layout, alignment, zeroing, clones. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/arena.h"

TEST(nn_arena_layout)
{
    sbr_arena a;
    sbr_arena_init(&a, "params", sizeof(float), NULL);
    int e = sbr_arena_add(&a, "emb", 2, (int64_t[]){101, 7});
    int w = sbr_arena_add(&a, "w", 2, (int64_t[]){3, 5});
    int s = sbr_arena_add(&a, "scalar", 0, NULL);
    int z = sbr_arena_add(&a, "empty", 1, (int64_t[]){0});
    CHECK(e == 0 && w == 1 && s == 2 && z == 3);
    CHECK(sbr_arena_ptr(&a, e) == NULL); /* not committed yet */
    sbr_err err;
    REQUIRE(sbr_arena_commit(&a, &err) == 0);
    CHECK_EQ_I64(a.views[e].numel, 707);
    CHECK_EQ_I64(a.views[s].numel, 1);
    CHECK_EQ_I64(a.views[z].numel, 0);
    for (int i = 0; i < a.n; i++)
        CHECK((uintptr_t)sbr_arena_ptr(&a, i) % SBR_ARENA_ALIGN == 0);
    /* Tensors do not overlap and the arena is zeroed, padding included. */
    CHECK((char *)sbr_arena_ptr(&a, w) >= (char *)sbr_arena_ptr(&a, e) + 707 * sizeof(float));
    CHECK(a.bytes % SBR_ARENA_ALIGN == 0);
    int zero = 1;
    for (size_t i = 0; i < a.bytes; i++)
        zero &= ((unsigned char *)a.base)[i] == 0;
    CHECK(zero);
    CHECK_EQ_I64(sbr_arena_numel(&a), (int64_t)(a.bytes / sizeof(float)));
    CHECK(sbr_arena_find(&a, "w") == w && sbr_arena_find(&a, "nope") == -1);
    /* A double clone: same names and shapes, its own offsets. */
    sbr_arena d;
    sbr_arena_clone_layout(&d, &a, "grads64", sizeof(double), NULL);
    REQUIRE(sbr_arena_commit(&d, &err) == 0);
    CHECK(d.n == a.n && strcmp(d.views[w].name, "w") == 0 && d.views[w].shape[1] == 5);
    CHECK(d.bytes > a.bytes);
    float *p = sbr_arena_ptr(&a, w);
    p[14] = 3;
    sbr_arena_zero(&a);
    CHECK(p[14] == 0);
    sbr_arena_free(&a), sbr_arena_free(&d);
}

TEST(nn_bump_allocator)
{
    char block[1000];
    sbr_bump b;
    sbr_bump_init(&b, block, sizeof block);
    char *p = sbr_bump_take(&b, 10), *q = sbr_bump_take(&b, 100);
    CHECK(p && q && q >= p + 10);
    CHECK(((uintptr_t)q - (uintptr_t)block) % SBR_ARENA_ALIGN == 0);
    CHECK(sbr_bump_take(&b, 2000) == NULL); /* does not fit: NULL, nothing taken */
    size_t used = b.used;
    CHECK(sbr_bump_take(&b, (size_t)-1) == NULL && b.used == used);
    sbr_bump_reset(&b);
    CHECK(b.used == 0 && b.high >= 110);
    CHECK(sbr_bump_take(&b, 1000) == block);
}
