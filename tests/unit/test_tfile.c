#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "harness.h"
#include "io.h"
#include "tfile.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A writer with n random tensors of random dtypes/shapes; the data buffers
 * are returned in bufs (caller frees). */
static sbr_tw *random_file(int n, void **bufs)
{
    sbr_tw *w = sbr_tw_new("sbr.test");
    sbr_tw_meta(w, "note", "round trip \"quoted\" ünïcode");
    for (int i = 0; i < n; i++) {
        sbr_dtype dt = (sbr_dtype)(next_rand() % SBR_NDTYPES);
        int ndim = (int)(next_rand() % 4);
        int64_t shape[4];
        size_t numel = 1;
        for (int d = 0; d < ndim; d++) {
            shape[d] = (int64_t)(next_rand() % 5); /* zero-size dims included */
            numel *= (size_t)shape[d];
        }
        size_t nb = numel * sbr_dtype_size(dt);
        uint8_t *p = malloc(nb + 1);
        for (size_t k = 0; k < nb; k++)
            p[k] = (uint8_t)next_rand();
        bufs[i] = p;
        char name[32];
        snprintf(name, sizeof name, "t%d.%s", i, sbr_dtype_name(dt));
        sbr_tw_add(w, name, dt, ndim, shape, p);
    }
    return w;
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, fp);
    fclose(fp);
    return b;
}

TEST(tfile_roundtrip_random)
{
    for (int round = 0; round < 40; round++) {
        void *bufs[8];
        int n = (int)(next_rand() % 8);
        sbr_tw *w = random_file(n, bufs);
        char path[512];
        path_in_tmp(path, sizeof path, "rt.sbr");
        sbr_err e;
        int level = round % 2 ? 3 : 0;
        REQUIRE(sbr_tw_write(w, path, level, &e) == 0);
        sbr_tfile f;
        if (sbr_tfile_read(path, &f, &e)) {
            harness_fail(__FILE__, __LINE__, "read back failed: %s", e.msg);
            return;
        }
        CHECK_EQ_I64(f.compressed, level > 0);
        CHECK_EQ_I64(f.n_tensors, n);
        CHECK_STR(sbr_tfile_kind(&f), "sbr.test");
        CHECK_STR(sbr_tfile_meta(&f, "note"), "round trip \"quoted\" ünïcode");
        CHECK(sbr_tfile_meta(&f, "sbr.tool") != NULL);
        CHECK(sbr_tfile_meta(&f, "sbr.inputs") != NULL);
        for (int i = 0; i < n && i < f.n_tensors; i++) {
            const sbr_tensor *t = &f.tensors[i]; /* order of writing = offset order */
            CHECK(strncmp(t->name, "t", 1) == 0);
            CHECK_EQ_I64((uintptr_t)t->data % sbr_dtype_size(t->dtype), 0);
            CHECK(t->nbytes == 0 || memcmp(t->data, bufs[i], t->nbytes) == 0);
        }
        sbr_tfile_free(&f);
        sbr_tw_free(w);
        for (int i = 0; i < n; i++)
            free(bufs[i]);
    }
}

TEST(tfile_write_leaves_no_temporary)
{
    char path[512];
    path_in_tmp(path, sizeof path, "clean.sbr");
    int32_t x[3] = {1, 2, 3};
    sbr_tw *w = sbr_tw_new("sbr.test");
    sbr_tw_add1(w, "x", SBR_I32, 3, x);
    sbr_err e;
    REQUIRE(sbr_tw_write(w, path, 3, &e) == 0);
    sbr_tw_free(w);
    DIR *d = opendir(harness_tmpdir());
    REQUIRE(d);
    struct dirent *de;
    while ((de = readdir(d)))
        CHECK(strstr(de->d_name, ".tmp.") == NULL);
    closedir(d);
    /* A directory that does not exist is a clean error. */
    w = sbr_tw_new("sbr.test");
    CHECK(sbr_tw_write(w, "/nonexistent-dir/x.sbr", 3, &e) == -1);
    CHECK(strstr(e.msg, "cannot create") != NULL);
    sbr_tw_free(w);
}

/* A small sample file (plain and compressed bytes). */
static uint8_t *sample(int level, size_t *n)
{
    static int64_t off[4] = {0, 2, 5, 6};
    static int32_t items[6] = {4, 8, 15, 16, 23, 42};
    static float emb[6] = {0.5f, -1, 2, 3.25f, 1e-3f, 7};
    sbr_tw *w = sbr_tw_new("sbr.sessions");
    sbr_tw_add1(w, "train.offsets", SBR_I64, 4, off);
    sbr_tw_add1(w, "train.items", SBR_I32, 6, items);
    int64_t shape[2] = {2, 3};
    sbr_tw_add(w, "emb", SBR_F32, 2, shape, emb);
    char path[512];
    path_in_tmp(path, sizeof path, "sample.sbr");
    sbr_err e;
    if (sbr_tw_write(w, path, level, &e))
        return NULL;
    sbr_tw_free(w);
    return slurp(path, n);
}

TEST(tfile_every_truncation_is_a_clean_error)
{
    for (int level = 0; level <= 3; level += 3) {
        size_t n;
        uint8_t *b = sample(level, &n);
        REQUIRE(b);
        sbr_tfile f;
        sbr_err e;
        REQUIRE(sbr_tfile_parse(b, n, &f, &e) == 0);
        sbr_tfile_free(&f);
        for (size_t cut = 0; cut < n; cut++) {
            e.msg[0] = 0;
            if (sbr_tfile_parse(b, cut, &f, &e) == 0) {
                harness_fail(__FILE__, __LINE__, "level %d: cut at %zu of %zu accepted", level,
                             cut, n);
                sbr_tfile_free(&f);
            } else if (!e.msg[0])
                harness_fail(__FILE__, __LINE__, "cut at %zu: no message", cut);
        }
        free(b);
    }
}

TEST(tfile_byte_flips_never_crash)
{
    for (int level = 0; level <= 3; level += 3) {
        size_t n;
        uint8_t *b = sample(level, &n);
        REQUIRE(b);
        sbr_tfile ref;
        sbr_err e;
        REQUIRE(sbr_tfile_parse(b, n, &ref, &e) == 0);
        for (size_t i = 0; i < n; i++)
            for (int bit = 0; bit < 8; bit++) {
                b[i] ^= (uint8_t)(1u << bit);
                sbr_tfile f;
                if (sbr_tfile_parse(b, n, &f, &e) == 0) {
                    /* Compressed: accepted only if the content is unchanged
                     * (e.g. a flip in the window-size field); the checksum
                     * catches everything else. */
                    if (level > 0 && (f.buflen != ref.buflen ||
                                      memcmp(f.buf, ref.buf, ref.buflen) != 0))
                        harness_fail(__FILE__, __LINE__, "flip %zu:%d changed content silently",
                                     i, bit);
                    sbr_tfile_free(&f);
                }
                b[i] ^= (uint8_t)(1u << bit);
            }
        sbr_tfile_free(&ref);
        free(b);
    }
}

static void expect_error(const char *bytes, size_t n, const char *needle)
{
    sbr_tfile f;
    sbr_err e;
    if (sbr_tfile_parse(bytes, n, &f, &e) == 0) {
        harness_fail(__FILE__, __LINE__, "accepted; expected error with \"%s\"", needle);
        sbr_tfile_free(&f);
    } else if (!strstr(e.msg, needle))
        harness_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", e.msg, needle);
}

/* Builds a plain file from a header string and n data bytes. */
static size_t build(char *out, const char *header, size_t ndata)
{
    size_t h = strlen(header);
    for (int i = 0; i < 8; i++)
        out[i] = (char)((uint64_t)h >> (8 * i));
    memcpy(out + 8, header, h);
    memset(out + 8 + h, 0x11, ndata);
    return 8 + h + ndata;
}

TEST(tfile_header_errors)
{
    char b[1024];
    size_t n;
    n = build(b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8);
    expect_error(b, n, "bad JSON");
    n = build(b, "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_error(b, n, "unknown dtype");
    n = build(b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    expect_error(b, n, "needs 12 bytes");
    n = build(b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
    expect_error(b, n, "truncated");
    n = build(b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12);
    expect_error(b, n, "unexpected bytes");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                 "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3);
    expect_error(b, n, "overlaps");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3);
    expect_error(b, n, "gap");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[-2],\"data_offsets\":[0,2]}}", 2);
    expect_error(b, n, "non-negative");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"x\":1}}", 2);
    expect_error(b, n, "unexpected field");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                 "\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}", 2);
    expect_error(b, n, "appears twice");
    n = build(b, "{\"__metadata__\":{\"kind\":5}}", 0);
    expect_error(b, n, "not a string");
    n = build(b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
                 "\"data_offsets\":[0,0]}}", 0);
    expect_error(b, n, "too large");
    n = build(b, "[]", 0);
    expect_error(b, n, "not a JSON object");
    /* Absurd header length. */
    memset(b, 0xFF, 16);
    expect_error(b, 16, "absurd");
    expect_error("abc", 3, "too short");
    /* A click log where a tensor file is wanted: a hint to sbr-prep. */
    expect_error("SessionId\tItemId\n1\t2\n", 19, "sbr-prep");
    expect_error("not a tensor file at all", 24, "starts with text");
    /* A zstd frame that holds garbage. */
    const char zgarbage[] = {0x28, (char)0xB5, 0x2F, (char)0xFD, 1, 2, 3, 4, 5, 6};
    expect_error(zgarbage, sizeof zgarbage, "zstd");
}

TEST(tfile_kind_and_need)
{
    size_t n;
    uint8_t *b = sample(3, &n);
    REQUIRE(b);
    sbr_tfile f;
    sbr_err e;
    REQUIRE(sbr_tfile_parse(b, n, &f, &e) == 0);
    CHECK(sbr_tfile_expect_kind(&f, "sbr.sessions", &e) == 0);
    CHECK(sbr_tfile_expect_kind(&f, "sbr.graph", &e) == -1);
    CHECK_STR(e.msg, "is a sbr.sessions file, expected sbr.graph");
    CHECK(sbr_tfile_need(&f, "train.items", SBR_I32, 1, &e) != NULL);
    CHECK(sbr_tfile_need(&f, "train.items", SBR_I64, 1, &e) == NULL);
    CHECK(strstr(e.msg, "is I32, expected I64") != NULL);
    CHECK(sbr_tfile_need(&f, "emb", SBR_F32, 1, &e) == NULL);
    CHECK(sbr_tfile_need(&f, "nope", SBR_F32, 1, &e) == NULL);
    const sbr_tensor *emb = sbr_tfile_find(&f, "emb");
    REQUIRE(emb);
    CHECK_EQ_I64(emb->shape[1], 3);
    CHECK_NEAR(((float *)emb->data)[3], 3.25, 0);
    sbr_tfile_free(&f);
    free(b);
}

TEST(tfile_unaligned_tensors_are_aligned_on_read)
{
    uint8_t one = 7;
    double d[2] = {1.5, -2.5};
    sbr_tw *w = sbr_tw_new("sbr.test");
    sbr_tw_add1(w, "odd", SBR_U8, 1, &one);
    sbr_tw_add1(w, "d", SBR_F64, 2, d);
    uint8_t *bytes;
    size_t n;
    sbr_err e;
    REQUIRE(sbr_tw_to_memory(w, &bytes, &n, &e) == 0);
    sbr_tfile f;
    REQUIRE(sbr_tfile_parse(bytes, n, &f, &e) == 0);
    const sbr_tensor *t = sbr_tfile_find(&f, "d");
    REQUIRE(t);
    CHECK_EQ_I64((uintptr_t)t->data % 8, 0);
    CHECK_NEAR(((double *)t->data)[1], -2.5, 0);
    sbr_tfile_free(&f);
    sbr_tw_free(w);
    free(bytes);
}

TEST(tfile_meta_choice)
{
    sbr_tw *w = sbr_tw_new("sbr.test");
    sbr_tw_meta(w, "axis", "sequence");
    sbr_tw_meta(w, "bad", "rows");
    uint8_t *bytes;
    size_t n;
    sbr_err e;
    REQUIRE(sbr_tw_to_memory(w, &bytes, &n, &e) == 0);
    sbr_tfile f;
    REQUIRE(sbr_tfile_parse(bytes, n, &f, &e) == 0);
    static const char *const names[] = {"feature", "sequence", "none", NULL};
    int v = 7;
    CHECK_EQ_I64(sbr_tfile_meta_choice(&f, "axis", names, &v, &e), 1);
    CHECK_EQ_I64(v, 1);
    v = 7; /* absent: the caller's default stays */
    CHECK_EQ_I64(sbr_tfile_meta_choice(&f, "absent", names, &v, &e), 0);
    CHECK_EQ_I64(v, 7);
    CHECK_EQ_I64(sbr_tfile_meta_choice(&f, "bad", names, &v, &e), -1);
    CHECK_STR(e.msg, "metadata \"bad\" = \"rows\": not one of feature, sequence, none");
    CHECK_EQ_I64(v, 7);
    sbr_tfile_free(&f);
    sbr_tw_free(w);
    free(bytes);
}

TEST(io_lines_plain_and_zstd)
{
    char path[512];
    path_in_tmp(path, sizeof path, "lines.txt");
    FILE *fp = fopen(path, "w");
    REQUIRE(fp);
    for (int i = 0; i < 300000; i++)
        fprintf(fp, "%d,line\r\n", i);
    fputs("last-without-newline", fp);
    fclose(fp);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "zstd -q -f -k '%s' -o '%s.zst'", path, path);
    int have_zstd = system(cmd) == 0;
    for (int z = 0; z <= have_zstd; z++) {
        char p[600];
        snprintf(p, sizeof p, "%s%s", path, z ? ".zst" : "");
        sbr_err e;
        sbr_lines *r = sbr_lines_open(p, &e);
        REQUIRE(r);
        char *line;
        size_t len;
        int64_t count = 0;
        int ok = 1;
        while ((line = sbr_lines_next(r, &len))) {
            if (count < 300000) {
                char want[32];
                snprintf(want, sizeof want, "%lld,line", (long long)count);
                ok &= strcmp(line, want) == 0 && len == strlen(want);
            } else
                ok &= strcmp(line, "last-without-newline") == 0;
            count++;
        }
        CHECK(ok);
        CHECK_EQ_I64(count, 300001);
        CHECK(sbr_lines_error(r) == NULL);
        sbr_lines_close(r);
    }
    /* A zstd file cut in half is an error, not a short read. */
    if (have_zstd) {
        char zp[600], cp[600];
        snprintf(zp, sizeof zp, "%s.zst", path);
        snprintf(cp, sizeof cp, "%s.cut.zst", path);
        size_t n;
        uint8_t *b = slurp(zp, &n);
        FILE *o = fopen(cp, "wb");
        fwrite(b, 1, n / 2, o);
        fclose(o);
        free(b);
        sbr_err e;
        sbr_lines *r = sbr_lines_open(cp, &e);
        REQUIRE(r);
        while (sbr_lines_next(r, NULL))
            ;
        CHECK(sbr_lines_error(r) != NULL);
        sbr_lines_close(r);
        uint8_t *all;
        size_t alln;
        CHECK(sbr_read_all(cp, &all, &alln, &e) == -1);
        CHECK(strstr(e.msg, "truncated") != NULL);
    }
}
