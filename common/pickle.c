/* Restricted pickle interpreter: lists, tuples and integers only. See pickle.h.
 * It is a stack machine like Python's Unpickler, but every opcode that could
 * build anything other than those three types is rejected before any of its
 * argument is looked at. */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

/* Names of every pickle opcode, so that a forbidden one is named. */
static const char *opcode_name(uint8_t op)
{
    switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return NULL;
    }
}

const char *sbr_pk_kind_name(int kind)
{
    return kind == SBR_PK_INT ? "int" : kind == SBR_PK_LIST ? "list" : "tuple";
}

/* Interpreter state. */
typedef struct {
    const uint8_t *buf;
    size_t n, pos;
    sbr_pickle *p;
    sbr_pk_val *stack; /* [sp] */
    int64_t sp, cap;
    int64_t marks[SBR_PK_MAX_MARKS];
    int n_marks;
    sbr_pk_val *memo; /* [memo_cap]; kind -1 = unset */
    int64_t memo_cap, memo_len;
    sbr_err *e;
} vm;

static int need(vm *m, size_t k, uint8_t op, size_t at)
{
    if (m->n - m->pos < k)
        return sbr_errf(m->e, "pickle truncated: %s at byte %zu needs %zu more bytes, file has %zu",
                        opcode_name(op), at, k, m->n - m->pos);
    return 0;
}

static uint64_t le(const uint8_t *b, int k)
{
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void push(vm *m, sbr_pk_val v)
{
    if (m->sp == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->stack = sbr_xrealloc(m->stack, (size_t)m->cap * sizeof *m->stack);
    }
    m->stack[m->sp++] = v;
}

static sbr_pk_val new_obj(vm *m, int kind)
{
    sbr_pickle *p = m->p;
    if (p->n_obj == p->cap_obj) {
        p->cap_obj = p->cap_obj ? 2 * p->cap_obj : 256;
        p->obj = sbr_xrealloc(p->obj, (size_t)p->cap_obj * sizeof *p->obj);
    }
    sbr_pk_obj *o = &p->obj[p->n_obj];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    sbr_pk_val v = {.v = p->n_obj++, .kind = kind};
    return v;
}

static void obj_append(sbr_pk_obj *o, const sbr_pk_val *vals, int64_t k)
{
    if (o->n + k > o->cap) {
        int64_t c = o->cap ? o->cap : 4;
        while (c < o->n + k)
            c *= 2;
        o->items = sbr_xrealloc(o->items, (size_t)c * sizeof *o->items);
        o->cap = c;
    }
    memcpy(o->items + o->n, vals, (size_t)k * sizeof *vals);
    o->n += k;
}

/* Position of the innermost MARK, popping it. */
static int pop_mark(vm *m, uint8_t op, size_t at, int64_t *base)
{
    if (m->n_marks == 0)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu without a MARK", opcode_name(op), at);
    *base = m->marks[--m->n_marks];
    return 0;
}

static int top_is_value(vm *m, uint8_t op, size_t at, int64_t k)
{
    int64_t base = m->n_marks ? m->marks[m->n_marks - 1] : 0;
    if (m->sp - base < k)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu on a stack with too few values",
                        opcode_name(op), at);
    return 0;
}

static int memo_put(vm *m, int64_t idx, uint8_t op, size_t at)
{
    if (top_is_value(m, op, at, 1) < 0)
        return -1;
    /* A pickler numbers memo entries 0, 1, 2, ... and each costs bytes, so an
     * index beyond the file's length is forged: refused before any memory
     * is spent on it. */
    if (idx >= SBR_PK_MAX_MEMO || (size_t)idx > m->n)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu: memo index %lld over the limit %lld",
                        opcode_name(op), at, (long long)idx,
                        (long long)(m->n < SBR_PK_MAX_MEMO ? m->n : SBR_PK_MAX_MEMO));
    if (idx >= m->memo_cap) {
        int64_t c = m->memo_cap ? m->memo_cap : 256;
        while (c <= idx)
            c *= 2;
        m->memo = sbr_xrealloc(m->memo, (size_t)c * sizeof *m->memo);
        for (int64_t i = m->memo_cap; i < c; i++)
            m->memo[i].kind = -1;
        m->memo_cap = c;
    }
    m->memo[idx] = m->stack[m->sp - 1];
    if (idx >= m->memo_len)
        m->memo_len = idx + 1;
    return 0;
}

static int memo_get(vm *m, int64_t idx, uint8_t op, size_t at)
{
    if (idx >= m->memo_cap || m->memo[idx].kind < 0)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu: memo entry %lld was never stored",
                        opcode_name(op), at, (long long)idx);
    push(m, m->memo[idx]);
    return 0;
}

/* TUPLE/LIST: the values since the last MARK become one container. */
static int collect(vm *m, uint8_t op, size_t at, int kind)
{
    int64_t base = 0;
    if (pop_mark(m, op, at, &base) < 0)
        return -1;
    sbr_pk_val v = new_obj(m, kind);
    obj_append(&m->p->obj[v.v], m->stack + base, m->sp - base);
    m->sp = base;
    push(m, v);
    return 0;
}

static int tuple_n(vm *m, uint8_t op, size_t at, int k)
{
    if (top_is_value(m, op, at, k) < 0)
        return -1;
    sbr_pk_val v = new_obj(m, SBR_PK_TUPLE);
    obj_append(&m->p->obj[v.v], m->stack + m->sp - k, k);
    m->sp -= k;
    push(m, v);
    return 0;
}

/* APPEND (k = 1 value) or APPENDS (the values since MARK) onto the list below. */
static int append(vm *m, uint8_t op, size_t at, int many)
{
    int64_t base = 0;
    if (many) {
        if (pop_mark(m, op, at, &base) < 0)
            return -1;
    } else {
        if (top_is_value(m, op, at, 2) < 0)
            return -1;
        base = m->sp - 1;
    }
    int64_t floor = m->n_marks ? m->marks[m->n_marks - 1] : 0;
    if (base - 1 < floor)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu with no list to append to",
                        opcode_name(op), at);
    sbr_pk_val target = m->stack[base - 1];
    if (target.kind != SBR_PK_LIST)
        return sbr_errf(m->e, "bad pickle: %s at byte %zu appends to a %s, not a list",
                        opcode_name(op), at, sbr_pk_kind_name(target.kind));
    obj_append(&m->p->obj[target.v], m->stack + base, m->sp - base);
    m->sp = base;
    return 0;
}

static int push_int(vm *m, int64_t x)
{
    sbr_pk_val v = {.v = x, .kind = SBR_PK_INT};
    push(m, v);
    return 0;
}

/* LONG1: n bytes of little-endian two's complement, n <= 8 here. */
static int long1(vm *m, uint8_t op, size_t at)
{
    if (need(m, 1, op, at) < 0)
        return -1;
    int k = m->buf[m->pos++];
    if (k > 8)
        return sbr_errf(m->e, "bad pickle: LONG1 at byte %zu: a %d-byte integer does not fit 64 bits",
                        at, k);
    if (need(m, (size_t)k, op, at) < 0)
        return -1;
    uint64_t u = le(m->buf + m->pos, k);
    if (k > 0 && k < 8 && (m->buf[m->pos + k - 1] & 0x80))
        u |= ~(uint64_t)0 << (8 * k); /* sign-extend */
    m->pos += (size_t)k;
    return push_int(m, (int64_t)u);
}

/* One opcode; returns 1 at STOP, 0 to go on, -1 on error. */
static int step(vm *m)
{
    size_t at = m->pos;
    uint8_t op = m->buf[m->pos++];
    switch (op) {
    case 0x80: /* PROTO */
        if (need(m, 1, op, at) < 0)
            return -1;
        m->p->protocol = m->buf[m->pos++];
        if (m->p->protocol < 2 || m->p->protocol > 5)
            return sbr_errf(m->e, "bad pickle: unsupported protocol %d at byte %zu",
                            m->p->protocol, at);
        return 0;
    case 0x95: { /* FRAME: a length hint only */
        if (need(m, 8, op, at) < 0)
            return -1;
        uint64_t len = le(m->buf + m->pos, 8);
        m->pos += 8;
        if (len > m->n - m->pos)
            return sbr_errf(m->e, "pickle truncated: FRAME at byte %zu announces %llu bytes, %zu left",
                            at, (unsigned long long)len, m->n - m->pos);
        return 0;
    }
    case '(':
        if (m->n_marks == SBR_PK_MAX_MARKS)
            return sbr_errf(m->e, "bad pickle: MARK at byte %zu nests deeper than %d", at,
                            SBR_PK_MAX_MARKS);
        m->marks[m->n_marks++] = m->sp;
        return 0;
    case ']':
        push(m, new_obj(m, SBR_PK_LIST));
        return 0;
    case ')':
        push(m, new_obj(m, SBR_PK_TUPLE));
        return 0;
    case 'l':
        return collect(m, op, at, SBR_PK_LIST);
    case 't':
        return collect(m, op, at, SBR_PK_TUPLE);
    case 0x85:
        return tuple_n(m, op, at, 1);
    case 0x86:
        return tuple_n(m, op, at, 2);
    case 0x87:
        return tuple_n(m, op, at, 3);
    case 'a':
        return append(m, op, at, 0);
    case 'e':
        return append(m, op, at, 1);
    case 'J':
        if (need(m, 4, op, at) < 0)
            return -1;
        m->pos += 4;
        return push_int(m, (int32_t)(uint32_t)le(m->buf + m->pos - 4, 4));
    case 'K':
        if (need(m, 1, op, at) < 0)
            return -1;
        return push_int(m, m->buf[m->pos++]);
    case 'M':
        if (need(m, 2, op, at) < 0)
            return -1;
        m->pos += 2;
        return push_int(m, (int64_t)le(m->buf + m->pos - 2, 2));
    case 0x8a:
        return long1(m, op, at);
    case 'q':
        if (need(m, 1, op, at) < 0)
            return -1;
        return memo_put(m, m->buf[m->pos++], op, at);
    case 'r':
        if (need(m, 4, op, at) < 0)
            return -1;
        m->pos += 4;
        return memo_put(m, (int64_t)le(m->buf + m->pos - 4, 4), op, at);
    case 0x94:
        return memo_put(m, m->memo_len, op, at);
    case 'h':
        if (need(m, 1, op, at) < 0)
            return -1;
        return memo_get(m, m->buf[m->pos++], op, at);
    case 'j':
        if (need(m, 4, op, at) < 0)
            return -1;
        m->pos += 4;
        return memo_get(m, (int64_t)le(m->buf + m->pos - 4, 4), op, at);
    case '.':
        if (m->n_marks)
            return sbr_errf(m->e, "bad pickle: STOP at byte %zu with an unclosed MARK", at);
        if (m->sp != 1)
            return sbr_errf(m->e, "bad pickle: STOP at byte %zu with %lld values on the stack, expected 1",
                            at, (long long)m->sp);
        return 1;
    default: {
        const char *name = opcode_name(op);
        if (name)
            return sbr_errf(m->e,
                            "forbidden pickle opcode %s (0x%02x) at byte %zu: only lists, tuples "
                            "and integers are allowed", name, op, at);
        return sbr_errf(m->e, "bad pickle: unknown opcode 0x%02x at byte %zu", op, at);
    }
    }
}

int sbr_pickle_looks_old(const uint8_t *buf, size_t n)
{
    /* what may follow: MARK ( EMPTY_LIST ] EMPTY_TUPLE ) LIST l TUPLE t
     * PUT p BINPUT q LONG_BINPUT r INT I BININT1 K BININT2 M BININT J
     * LONG L STOP . (not APPEND(S) or GET: nothing to append or get yet) */
    static const char next[] = "(])ltpqrIKMJL.";
    if (n < 2 || (buf[0] != '(' && buf[0] != ']' && buf[0] != ')'))
        return 0;
    return buf[1] != 0 && strchr(next, buf[1]) != NULL;
}

int sbr_pickle_parse(const uint8_t *buf, size_t n, sbr_pickle *p, sbr_err *e)
{
    memset(p, 0, sizeof *p);
    if (n == 0)
        return sbr_errf(e, "empty file, expected a pickle");
    if (buf[0] != 0x80)
        return sbr_errf(e, "not a pickle of protocol 2 or later (first byte 0x%02x, expected PROTO 0x80)",
                        buf[0]);
    vm m = {.buf = buf, .n = n, .p = p, .e = e};
    int rc = 0;
    while (rc == 0) {
        if (m.pos >= n) {
            rc = sbr_errf(e, "pickle truncated: no STOP opcode in %zu bytes", n);
            break;
        }
        rc = step(&m);
    }
    if (rc == 1 && m.pos != n)
        rc = sbr_errf(e, "bad pickle: %zu unexpected bytes after STOP at byte %zu", n - m.pos,
                      m.pos - 1);
    if (rc == 1)
        p->root = m.stack[0];
    free(m.stack);
    free(m.memo);
    if (rc < 0) {
        sbr_pickle_free(p);
        return -1;
    }
    return 0;
}

void sbr_pickle_free(sbr_pickle *p)
{
    for (int64_t i = 0; i < p->n_obj; i++)
        free(p->obj[i].items);
    free(p->obj);
    memset(p, 0, sizeof *p);
}

const sbr_pk_obj *sbr_pickle_obj(const sbr_pickle *p, sbr_pk_val v)
{
    if (v.kind == SBR_PK_INT || v.v < 0 || v.v >= p->n_obj)
        return NULL;
    return &p->obj[v.v];
}

int sbr_pickle_ints(const sbr_pickle *p, sbr_pk_val v, int64_t lo, int64_t hi, const char *what,
                    int64_t **out, int64_t *n, sbr_err *e)
{
    const sbr_pk_obj *o = sbr_pickle_obj(p, v);
    if (!o)
        return sbr_errf(e, "%s: expected a list of integers, found an int", what);
    int64_t *a = sbr_xmalloc((size_t)o->n * sizeof *a);
    for (int64_t i = 0; i < o->n; i++) {
        sbr_pk_val x = o->items[i];
        if (x.kind != SBR_PK_INT) {
            free(a);
            return sbr_errf(e, "%s[%lld]: expected an integer, found a %s", what, (long long)i,
                            sbr_pk_kind_name(x.kind));
        }
        if (x.v < lo || x.v > hi) {
            free(a);
            if (hi == INT64_MAX)
                return sbr_errf(e, "%s[%lld] = %lld is out of range (ids start at %lld)", what,
                                (long long)i, (long long)x.v, (long long)lo);
            return sbr_errf(e, "%s[%lld] = %lld is out of range %lld..%lld", what, (long long)i,
                            (long long)x.v, (long long)lo, (long long)hi);
        }
        a[i] = x.v;
    }
    *out = a;
    *n = o->n;
    return 0;
}

int sbr_pickle_seqs(const sbr_pickle *p, sbr_pk_val v, int64_t lo, int64_t hi, const char *what,
                    sbr_pk_seqs *out, sbr_err *e)
{
    memset(out, 0, sizeof *out);
    const sbr_pk_obj *o = sbr_pickle_obj(p, v);
    if (!o)
        return sbr_errf(e, "%s: expected a list of lists, found an int", what);
    int64_t total = 0;
    for (int64_t i = 0; i < o->n; i++) {
        const sbr_pk_obj *s = sbr_pickle_obj(p, o->items[i]);
        if (!s)
            return sbr_errf(e, "%s[%lld]: expected a list of integers, found an int", what,
                            (long long)i);
        total += s->n;
    }
    out->n = o->n;
    out->offsets = sbr_xmalloc((size_t)(o->n + 1) * sizeof *out->offsets);
    out->items = sbr_xmalloc((size_t)total * sizeof *out->items);
    out->offsets[0] = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < o->n; i++) {
        const sbr_pk_obj *s = sbr_pickle_obj(p, o->items[i]);
        for (int64_t j = 0; j < s->n; j++) {
            sbr_pk_val x = s->items[j];
            if (x.kind != SBR_PK_INT) {
                sbr_pk_seqs_free(out);
                return sbr_errf(e, "%s[%lld][%lld]: expected an integer, found a %s", what,
                                (long long)i, (long long)j, sbr_pk_kind_name(x.kind));
            }
            if (x.v < lo || x.v > hi) {
                sbr_pk_seqs_free(out);
                if (hi == INT64_MAX)
                    return sbr_errf(e, "%s[%lld][%lld] = %lld is out of range (ids start at %lld)",
                                    what, (long long)i, (long long)j, (long long)x.v, (long long)lo);
                return sbr_errf(e, "%s[%lld][%lld] = %lld is out of range %lld..%lld", what,
                                (long long)i, (long long)j, (long long)x.v, (long long)lo,
                                (long long)hi);
            }
            out->items[k++] = x.v;
        }
        out->offsets[i + 1] = k;
    }
    return 0;
}

void sbr_pk_seqs_free(sbr_pk_seqs *s)
{
    free(s->offsets);
    free(s->items);
    memset(s, 0, sizeof *s);
}
