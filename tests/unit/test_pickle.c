/* The restricted pickle reader: values, memo, protocols 2-4, and every way
 * a file can be wrong. Byte strings made with Python's pickle.dumps. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pickle.h"

/* [[1,2],[3],[],[s,s]] with s = [7,8] shared through the memo (protocol 3) */
static const uint8_t pk_nested3[] = {128,3,93,113,0,40,93,113,1,40,75,1,75,2,101,93,113,2,75,3,97,93,113,3,93,113,4,40,93,113,5,40,75,7,75,8,101,104,5,101,101,46};
/* ([[1,2],[300,-5]], [65536, -2**40]) (protocol 3: BININT2, BININT, LONG1, TUPLE2) */
static const uint8_t pk_pair3[] = {128,3,93,113,0,40,93,113,1,40,75,1,75,2,101,93,113,2,40,77,44,1,74,251,255,255,255,101,101,93,113,3,40,74,0,0,1,0,138,6,0,0,0,0,0,255,101,134,113,4,46};
/* [[1,2,3]]*3 (protocol 4: FRAME, MEMOIZE) */
static const uint8_t pk_p4[] = {128,4,149,19,0,0,0,0,0,0,0,93,148,40,93,148,40,75,1,75,2,75,3,101,104,1,104,1,101,46};
/* [[2**62, 255, 256]] (protocol 2, LONG1 of 8 bytes) */
static const uint8_t pk_p2[] = {128,2,93,113,0,93,113,1,40,138,8,0,0,0,0,0,0,0,64,75,255,77,0,1,101,97,46};

static int parse_err(const uint8_t *b, size_t n, const char *want)
{
    sbr_pickle p;
    sbr_err e = {{0}};
    int rc = sbr_pickle_parse(b, n, &p, &e);
    if (rc == 0) {
        sbr_pickle_free(&p);
        return 0;
    }
    if (want && !strstr(e.msg, want)) {
        printf("    message: %s\n", e.msg);
        return 0;
    }
    return 1;
}

TEST(pickle_nested_lists_and_memo)
{
    sbr_pickle p;
    sbr_err e;
    REQUIRE(sbr_pickle_parse(pk_nested3, sizeof pk_nested3, &p, &e) == 0);
    CHECK_EQ_I64(p.protocol, 3);
    const sbr_pk_obj *root = sbr_pickle_obj(&p, p.root);
    REQUIRE(root && root->kind == SBR_PK_LIST && root->n == 4);
    const sbr_pk_obj *a = sbr_pickle_obj(&p, root->items[0]);
    REQUIRE(a && a->n == 2);
    CHECK_EQ_I64(a->items[0].v, 1);
    CHECK_EQ_I64(a->items[1].v, 2);
    CHECK_EQ_I64(sbr_pickle_obj(&p, root->items[2])->n, 0);
    const sbr_pk_obj *d = sbr_pickle_obj(&p, root->items[3]);
    REQUIRE(d && d->n == 2);
    /* BINGET gives the same list object, not a copy */
    CHECK_EQ_I64(d->items[0].v, d->items[1].v);
    CHECK(d->items[0].kind == SBR_PK_LIST);
    sbr_pickle_free(&p);
}

TEST(pickle_seqs_csr)
{
    sbr_pickle p;
    sbr_err e;
    REQUIRE(sbr_pickle_parse(pk_nested3, sizeof pk_nested3, &p, &e) == 0);
    sbr_pk_seqs s;
    /* the 4th element is a list of lists, not of ints: refused */
    CHECK(sbr_pickle_seqs(&p, p.root, 1, 100, "x", &s, &e) < 0);
    CHECK(strstr(e.msg, "x[3][0]: expected an integer, found a list") != NULL);
    sbr_pickle_free(&p);
    REQUIRE(sbr_pickle_parse(pk_p4, sizeof pk_p4, &p, &e) == 0);
    REQUIRE(sbr_pickle_seqs(&p, p.root, 1, 100, "x", &s, &e) == 0);
    CHECK_EQ_I64(s.n, 3);
    CHECK_EQ_I64(s.offsets[3], 9);
    CHECK_EQ_I64(s.items[8], 3);
    sbr_pk_seqs_free(&s);
    CHECK(sbr_pickle_seqs(&p, p.root, 2, 100, "x", &s, &e) < 0);
    CHECK(strstr(e.msg, "x[0][0] = 1 is out of range 2..100") != NULL);
    sbr_pickle_free(&p);
}

TEST(pickle_integers_all_widths)
{
    sbr_pickle p;
    sbr_err e;
    REQUIRE(sbr_pickle_parse(pk_pair3, sizeof pk_pair3, &p, &e) == 0);
    const sbr_pk_obj *root = sbr_pickle_obj(&p, p.root);
    REQUIRE(root && root->kind == SBR_PK_TUPLE && root->n == 2);
    sbr_pk_seqs s;
    REQUIRE(sbr_pickle_seqs(&p, root->items[0], INT64_MIN, INT64_MAX, "pre", &s, &e) == 0);
    CHECK_EQ_I64(s.items[2], 300);
    CHECK_EQ_I64(s.items[3], -5);
    sbr_pk_seqs_free(&s);
    int64_t *t, n;
    REQUIRE(sbr_pickle_ints(&p, root->items[1], INT64_MIN, INT64_MAX, "tgt", &t, &n, &e) == 0);
    CHECK_EQ_I64(n, 2);
    CHECK_EQ_I64(t[0], 65536);
    CHECK_EQ_I64(t[1], -((int64_t)1 << 40));
    free(t);
    sbr_pickle_free(&p);
    REQUIRE(sbr_pickle_parse(pk_p2, sizeof pk_p2, &p, &e) == 0);
    REQUIRE(sbr_pickle_seqs(&p, p.root, 0, INT64_MAX, "x", &s, &e) == 0);
    CHECK_EQ_I64(s.items[0], (int64_t)1 << 62);
    CHECK_EQ_I64(s.items[1], 255);
    CHECK_EQ_I64(s.items[2], 256);
    sbr_pk_seqs_free(&s);
    sbr_pickle_free(&p);
}

TEST(pickle_every_truncation_is_an_error)
{
    const uint8_t *files[] = {pk_nested3, pk_pair3, pk_p4, pk_p2};
    size_t sizes[] = {sizeof pk_nested3, sizeof pk_pair3, sizeof pk_p4, sizeof pk_p2};
    for (int f = 0; f < 4; f++)
        for (size_t n = 0; n < sizes[f]; n++)
            if (!parse_err(files[f], n, NULL))
                harness_fail(__FILE__, __LINE__, "file %d cut at %zu parsed", f, n);
    CHECK(parse_err(pk_nested3, 10, "truncated"));
    CHECK(parse_err(pk_p2, 12, "LONG1 at byte 9 needs 8 more bytes"));
}

TEST(pickle_forbidden_and_malformed)
{
    /* GLOBAL 'os\nsystem\n' would import a callable in Python */
    static const uint8_t global[] = {0x80, 3, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'};
    CHECK(parse_err(global, sizeof global, "forbidden pickle opcode GLOBAL (0x63) at byte 2"));
    static const uint8_t reduce[] = {0x80, 3, ']', ')', 'R', '.'};
    CHECK(parse_err(reduce, sizeof reduce, "REDUCE (0x52) at byte 4"));
    static const uint8_t dict[] = {0x80, 3, '}', '.'};
    CHECK(parse_err(dict, sizeof dict, "EMPTY_DICT"));
    static const uint8_t str[] = {0x80, 3, 'X', 1, 0, 0, 0, 'a', '.'};
    CHECK(parse_err(str, sizeof str, "BINUNICODE"));
    static const uint8_t flt[] = {0x80, 3, 'G', 0, 0, 0, 0, 0, 0, 0, 0, '.'};
    CHECK(parse_err(flt, sizeof flt, "BINFLOAT"));
    static const uint8_t unknown[] = {0x80, 3, 0xff, '.'};
    CHECK(parse_err(unknown, sizeof unknown, "unknown opcode 0xff at byte 2"));
    CHECK(parse_err((const uint8_t *)"hello", 5, "not a pickle"));
    CHECK(parse_err((const uint8_t *)"", 0, "empty"));
    static const uint8_t proto9[] = {0x80, 9, ']', '.'};
    CHECK(parse_err(proto9, sizeof proto9, "unsupported protocol 9"));
    static const uint8_t trailing[] = {0x80, 3, ']', '.', 0};
    CHECK(parse_err(trailing, sizeof trailing, "after STOP"));
    static const uint8_t two[] = {0x80, 3, ']', ']', '.'};
    CHECK(parse_err(two, sizeof two, "2 values on the stack"));
    static const uint8_t nostop_mark[] = {0x80, 3, '(', ']', '.'};
    CHECK(parse_err(nostop_mark, sizeof nostop_mark, "unclosed MARK"));
    static const uint8_t get_unset[] = {0x80, 3, 'h', 4, '.'};
    CHECK(parse_err(get_unset, sizeof get_unset, "memo entry 4 was never stored"));
    static const uint8_t put_empty[] = {0x80, 3, 'q', 0, '.'};
    CHECK(parse_err(put_empty, sizeof put_empty, "too few values"));
    static const uint8_t big_memo[] = {0x80, 3, ']', 'r', 0xff, 0xff, 0xff, 0x7f, '.'};
    CHECK(parse_err(big_memo, sizeof big_memo, "over the limit"));
    static const uint8_t append_tuple[] = {0x80, 3, ')', 'K', 1, 'a', '.'};
    CHECK(parse_err(append_tuple, sizeof append_tuple, "appends to a tuple"));
    static const uint8_t append_int[] = {0x80, 3, 'K', 1, 'K', 1, 'a', '.'};
    CHECK(parse_err(append_int, sizeof append_int, "appends to a int"));
    static const uint8_t appends_nomark[] = {0x80, 3, ']', 'e', '.'};
    CHECK(parse_err(appends_nomark, sizeof appends_nomark, "without a MARK"));
    static const uint8_t long9[] = {0x80, 3, 0x8a, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, '.'};
    CHECK(parse_err(long9, sizeof long9, "does not fit 64 bits"));
    static const uint8_t tuple2_short[] = {0x80, 3, 'K', 1, 0x86, '.'};
    CHECK(parse_err(tuple2_short, sizeof tuple2_short, "too few values"));
    static const uint8_t frame_big[] = {0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, ']', '.'};
    CHECK(parse_err(frame_big, sizeof frame_big, "FRAME at byte 2 announces 100 bytes"));
}

/* Protocols 0 and 1 (no PROTO) are refused; they are recognised to say so. */
TEST(pickle_old_protocols_recognised)
{
    CHECK(sbr_pickle_looks_old((const uint8_t *)"(lp0\n(lp1\nI1\n", 14));  /* protocol 0 */
    CHECK(sbr_pickle_looks_old((const uint8_t *)"]q\0(]q\1(K\1", 11));     /* protocol 1 */
    CHECK(sbr_pickle_looks_old((const uint8_t *)"((]q\0", 5));               /* a pair */
    CHECK(!sbr_pickle_looks_old((const uint8_t *)"\x80\x03]q\0", 5));
    CHECK(!sbr_pickle_looks_old((const uint8_t *)"(a,b)", 5));
    CHECK(!sbr_pickle_looks_old((const uint8_t *)"session,item", 12));
    CHECK(!sbr_pickle_looks_old((const uint8_t *)"]", 1));
    CHECK(parse_err((const uint8_t *)"(lp0\n.", 6, "not a pickle of protocol 2 or later"));
}

TEST(pickle_mark_nesting_is_bounded)
{
    uint8_t b[2 + 200 + 1];
    b[0] = 0x80;
    b[1] = 3;
    for (int i = 0; i < 200; i++)
        b[2 + i] = '(';
    b[202] = '.';
    CHECK(parse_err(b, sizeof b, "nests deeper than 64"));
}

TEST(pickle_list_and_tuple_opcodes)
{
    /* MARK 1 2 LIST, MARK 3 TUPLE, TUPLE2, 4 TUPLE1, 6 TUPLE3 -> (([1,2],(3,)),(4,),6) */
    static const uint8_t b[] = {0x80, 2, '(', 'K', 1, 'K', 2, 'l', '(', 'K', 3, 't', 0x86,
                                'K', 4, 0x85, 'K', 6, 0x87, '.'};
    sbr_pickle p;
    sbr_err e;
    REQUIRE(sbr_pickle_parse(b, sizeof b, &p, &e) == 0);
    const sbr_pk_obj *r = sbr_pickle_obj(&p, p.root);
    REQUIRE(r && r->kind == SBR_PK_TUPLE && r->n == 3);
    const sbr_pk_obj *pair = sbr_pickle_obj(&p, r->items[0]);
    REQUIRE(pair && pair->n == 2);
    CHECK(pair->items[0].kind == SBR_PK_LIST);
    CHECK(pair->items[1].kind == SBR_PK_TUPLE);
    CHECK_EQ_I64(sbr_pickle_obj(&p, r->items[1])->items[0].v, 4);
    CHECK_EQ_I64(r->items[2].v, 6);
    sbr_pickle_free(&p);
}
