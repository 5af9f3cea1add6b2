#include <string.h>

#include "harness.h"
#include "json.h"
#include "sha256.h"

static int parses(const char *s)
{
    sbr_json v;
    sbr_err e;
    if (sbr_json_parse(s, strlen(s), &v, &e))
        return 0;
    sbr_json_free(&v);
    return 1;
}

TEST(json_accepts_valid)
{
    CHECK(parses("{}"));
    CHECK(parses(" [1, -2, 3.5e2, true, false, null, \"x\\u00e9\\n\"] "));
    CHECK(parses("{\"a\":{\"b\":[[]]}}"));
    CHECK(parses("\"\\ud83d\\ude00\""));
}

TEST(json_rejects_invalid)
{
    const char *bad[] = {"",      "{",         "{\"a\"}",     "{\"a\":}",    "[1,]",
                         "[01]",  "{'a':1}",   "\"abc",       "tru",         "{} x",
                         "[1 2]", "\"\\x\"",   "\"\\ud800\"", "-",           "1.",
                         "1e",    "\"a\tb\"",  "{\"a\":1,}",  "[\"\\u12\"]", NULL};
    for (int i = 0; bad[i]; i++)
        if (parses(bad[i]))
            harness_fail(__FILE__, __LINE__, "accepted invalid JSON: %s", bad[i]);
}

TEST(json_values)
{
    const char *s = "{\"n\": 9007199254740993, \"s\": \"a\\\"b\\u00e9\", \"f\": -1.5, "
                    "\"big\": 99999999999999999999}";
    sbr_json v;
    sbr_err e;
    REQUIRE(sbr_json_parse(s, strlen(s), &v, &e) == 0);
    const sbr_json *n = sbr_json_get(&v, "n");
    REQUIRE(n && n->is_int);
    CHECK_EQ_I64(n->i, 9007199254740993LL);
    CHECK_STR(sbr_json_get(&v, "s")->str, "a\"b\xc3\xa9");
    CHECK_NEAR(sbr_json_get(&v, "f")->num, -1.5, 0);
    CHECK(!sbr_json_get(&v, "f")->is_int);
    CHECK(!sbr_json_get(&v, "big")->is_int); /* overflow is not silently wrapped */
    CHECK(sbr_json_get(&v, "missing") == NULL);
    sbr_json_free(&v);
}

TEST(json_depth_limit)
{
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    sbr_json v;
    sbr_err e;
    CHECK(sbr_json_parse(deep, sizeof deep, &v, &e) == -1);
    CHECK(strstr(e.msg, "deeply") != NULL);
}

TEST(json_writer_escapes_roundtrip)
{
    const char *raw = "quote\" back\\ nl\n tab\t ctl\x01 é";
    sbr_buf b = {0};
    sbr_buf_json_str(&b, raw);
    sbr_json v;
    sbr_err e;
    REQUIRE(sbr_json_parse(b.s, b.len, &v, &e) == 0);
    CHECK_STR(v.str, raw);
    sbr_json_free(&v);
    sbr_buf_free(&b);
}

static void sha_hex(const char *s, size_t n, char out[65])
{
    sbr_sha256 c;
    sbr_sha256_init(&c);
    sbr_sha256_update(&c, s, n);
    sbr_sha256_hex(&c, out);
}

static void sha256_vectors(void)
{
    char h[65];
    sha_hex("", 0, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(two, strlen(two), h);
    CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* A million 'a', fed in odd-sized pieces to exercise the block buffer. */
    static char a[1000000];
    memset(a, 'a', sizeof a);
    sbr_sha256 c;
    sbr_sha256_init(&c);
    for (size_t at = 0; at < sizeof a;) {
        size_t k = 1 + (at * 7919) % 1000;
        if (k > sizeof a - at)
            k = sizeof a - at;
        sbr_sha256_update(&c, a + at, k);
        at += k;
    }
    sbr_sha256_hex(&c, h);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The NIST vectors on both paths (SHA-NI where the CPU has it, and the
 * portable code), and the two paths agreeing on every length 0..300 of
 * pseudo-random bytes fed in uneven pieces. */
TEST(sha256_known_vectors)
{
    int accel = sbr_sha256_use_portable(0);
    printf("    SHA-NI %s\n", accel ? "in use" : "not available: portable only");
    sha256_vectors();
    sbr_sha256_use_portable(1);
    sha256_vectors();
    static unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    for (size_t n = 0; n <= sizeof buf; n++) {
        char h[2][65];
        for (int portable = 0; portable < 2; portable++) {
            sbr_sha256_use_portable(portable);
            sbr_sha256 c;
            sbr_sha256_init(&c);
            for (size_t at = 0; at < n;) {
                size_t k = 1 + (at * 31 + n) % 97;
                k = k < n - at ? k : n - at;
                sbr_sha256_update(&c, buf + at, k);
                at += k;
            }
            sbr_sha256_hex(&c, h[portable]);
        }
        CHECK_STR(h[0], h[1]);
    }
    sbr_sha256_use_portable(0);
}
