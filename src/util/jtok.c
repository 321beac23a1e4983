/*
 * jtok.c - allocation-free JSON tokenizer (see jtok.h).
 *
 * One pass, an explicit stack of open containers.  Strict JSON: no
 * trailing commas, no comments, no NaN, control characters in strings
 * rejected, escapes checked.  UTF-8 is not validated (venue frames are
 * ASCII; anything else is passed through untouched).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "liqmon/jtok.h"
#include "liqmon/strscan.h"

/* The first byte of q[0..end) that is not an ASCII digit (end if none).
 * Eight bytes at a time: timestamps and update ids run 13-19 digits, and
 * a depth frame holds several.  Per byte, a = b ^ '0' is below 10 exactly
 * for a digit; (a | 0x80) - 10 keeps its high bit exactly when a & 0x7f
 * >= 10, and cannot borrow from the next byte, so every byte's mark is
 * its own (not the has-less trick, whose borrows mark bytes above a
 * hit). */
static inline const char *skip_digits(const char *q, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t high = 0x8080808080808080ull;

    while (end - q >= 8) {
        uint64_t x, a, nd;
        memcpy(&x, q, 8);
        a = x ^ 0x3030303030303030ull;
        nd = (((a | high) - 0x0A0A0A0A0A0A0A0Aull) | a) & high;
        if (nd != 0)
            return q + (__builtin_ctzll(nd) >> 3);
        q += 8;
    }
#endif
    while (q < end && (unsigned)(*q - '0') < 10)
        q++;
    return q;
}

/* Length of the JSON number at p (0 if none). */
static size_t scan_number(const char *p, const char *end)
{
    const char *q = p;

    if (q < end && *q == '-')
        q++;
    if (q >= end)
        return 0;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        q = skip_digits(q + 1, end);
    } else {
        return 0;
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        q = skip_digits(q + 1, end);
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        q = skip_digits(q + 1, end);
    }
    return (size_t)(q - p);
}

/*
 * The parser is one loop over an explicit stack of open containers rather
 * than a recursive descent: the cursor stays in a register and a token
 * costs a few compares, and tokenizing is most of what a frame costs (a
 * ten-level depth diff is about a hundred tokens).  Its behaviour is that
 * of the recursive descent it replaced, which check_jtok's random
 * documents pin down: tokens in document order, and on failure the first
 * problem in document order, with the same code and position.  Note the
 * order of checks that decides which code wins: a string or container
 * claims its token before its text is looked at (JTOK_ENOTOK before a
 * syntax error inside it, and before JTOK_EDEPTH), a literal or number is
 * checked first and claims its token after.
 */

/* Whitespace, tested as "<= ' '" first: frames hold almost none. */
#define SKIP_WS(p, end)                                                     \
    do {                                                                    \
        while ((p) < (end) && (unsigned char)*(p) <= ' ' &&                 \
               (*(p) == ' ' || *(p) == '\t' || *(p) == '\n' || *(p) == '\r')) \
            (p)++;                                                          \
    } while (0)

/* The closing quote of the string whose body starts at q, or NULL with
 * *at on the offending byte (end when the text ran out).  Sets *escaped
 * when the body holds a backslash escape. */
static inline __attribute__((always_inline)) const char *
scan_string(const char *q, const char *end, uint8_t *escaped, const char **at)
{
    for (;;) {
#if defined(__SSE2__)
        /* The common case, a closing quote within the next 16 bytes, is
         * told from the masks: reloading the byte found would put one
         * more load on the chain that every next token waits for. */
        if (end - q >= 16) {
            const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
            unsigned mq = strscan_eq16(x, '"');
            unsigned m = mq | strscan_eq16(x, '\\') | strscan_ctl16(x);
            if (m == 0) {
                q += 16;
                continue;
            }
            q += __builtin_ctz(m);
            if (mq & m & (0u - m))
                return q;
        } else
#endif
        q = strscan_plain(q, end);     /* up to the first byte that needs a look */
        if (q >= end)
            break;
        if (*q == '"')
            return q;
        if ((unsigned char)*q < 0x20)
            break;
        /* a backslash */
        *escaped = 1;
        q++;
        if (q >= end)
            break;
        /* A switch, not strchr() on the set: strchr would also find the
         * set's terminator, so "\<NUL>" passed for an escape. */
        switch (*q) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            break;
        case 'u':
            if (end - q < 5 || !jtok_hex4_ok(q + 1)) {
                *at = q;
                return NULL;
            }
            q += 4;
            break;
        default:
            *at = q;
            return NULL;
        }
        q++;
    }
    *at = q;
    return NULL;
}

int jtok_parse(const char *s, size_t len, struct jtok *t, size_t max,
               size_t *errpos)
{
    const char *p = s, *end = s + len, *at, *q;
    /* open[i]: token index of the i-th open container, outermost first.
     * Invariant: depth <= JTOK_MAXDEPTH, and t[open[depth - 1]] is the
     * container whose members are being read. */
    uint32_t open[JTOK_MAXDEPTH];
    int depth = 0;
    size_t n = 0;
    struct jtok *k;
    uint8_t type;
    uint32_t l;
    int is_key = 0;             /* the string at "string:" is a key */

    if (len > UINT32_MAX)
        return JTOK_ETOOBIG;

value:                          /* a value starts at p (after whitespace) */
    SKIP_WS(p, end);
    if (p >= end) {
        at = p;
        goto syntax;
    }
    switch (*p) {
    case '{':
    case '[':
        if (n >= max)
            return JTOK_ENOTOK;
        k = &t[n];
        k->type = *p == '{' ? JT_OBJ : JT_ARR;
        k->escaped = 0;
        k->start = (uint32_t)(p - s);
        k->len = 0;
        k->size = 0;
        if (depth == JTOK_MAXDEPTH)
            return JTOK_EDEPTH;
        open[depth++] = (uint32_t)n++;
        p++;
        SKIP_WS(p, end);
        if (p < end && *p == (k->type == JT_OBJ ? '}' : ']')) {
            p++;
            depth--;
            k->end = (uint32_t)n;
            goto next;
        }
        if (k->type == JT_OBJ)
            goto key;
        goto value;
    case '"':
        goto string;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) {
            at = p;
            goto syntax;
        }
        type = JT_TRUE;
        l = 4;
        break;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) {
            at = p;
            goto syntax;
        }
        type = JT_FALSE;
        l = 5;
        break;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) {
            at = p;
            goto syntax;
        }
        type = JT_NULL;
        l = 4;
        break;
    default:
        if (*p != '-' && (*p < '0' || *p > '9')) {
            at = p;
            goto syntax;
        }
        l = (uint32_t)scan_number(p, end);
        if (l == 0) {
            at = p;
            goto syntax;
        }
        type = JT_NUM;
        break;
    }
    /* A literal or a number of l bytes at p. */
    if (n >= max)
        return JTOK_ENOTOK;
    k = &t[n++];
    k->type = type;
    k->escaped = 0;
    k->start = (uint32_t)(p - s);
    k->len = l;
    k->size = 0;
    k->end = (uint32_t)n;
    p += l;

next:                           /* a value just ended at p */
    if (depth == 0) {
        SKIP_WS(p, end);
        if (p != end) {
            at = p;
            goto syntax;
        }
        return (int)n;
    }
    k = &t[open[depth - 1]];
    k->size++;
    SKIP_WS(p, end);
    if (p < end) {
        if (*p == ',') {
            p++;
            SKIP_WS(p, end);
            if (k->type == JT_OBJ)
                goto key;
            goto value;
        }
        if (*p == (k->type == JT_OBJ ? '}' : ']')) {
            p++;
            depth--;
            k->end = (uint32_t)n;
            goto next;
        }
    }
    at = p;
    goto syntax;

key:                            /* an object member's key is due at p */
    if (p >= end || *p != '"') {
        at = p;
        goto syntax;
    }
    is_key = 1;
string:                         /* a string at p (on its quote) */
    if (n >= max)
        return JTOK_ENOTOK;
    k = &t[n++];
    k->type = JT_STR;
    k->escaped = 0;
    k->start = (uint32_t)(p + 1 - s);
    k->size = 0;
    k->end = (uint32_t)n;
    q = scan_string(p + 1, end, &k->escaped, &at);
    if (q == NULL)
        goto syntax;
    k->len = (uint32_t)(q - s) - k->start;
    p = q + 1;
    if (!is_key)
        goto next;
    /* A key: then ':' and the member's value. */
    is_key = 0;
    SKIP_WS(p, end);
    if (p >= end || *p != ':') {
        at = p;
        goto syntax;
    }
    p++;
    goto value;

syntax:
    if (errpos)
        *errpos = (size_t)(at - s);
    return JTOK_ESYNTAX;
}

int jtok_at(const struct jtok *t, int arr, uint32_t idx)
{
    int i;

    if (arr < 0 || t[arr].type != JT_ARR || idx >= t[arr].size)
        return -1;
    i = arr + 1;
    while (idx--)
        i = (int)t[i].end;
    return i;
}

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* strtod on a copy of the text (it needs a terminator, and the text is a
 * span of a larger buffer).  Any length: a number of 128 characters or
 * more is rare but valid JSON, and strtod needs every digit to round
 * correctly, so a long one is copied to the heap rather than refused. */
static int parse_double_slow(const char *p, size_t len, double *out)
{
    char small[128], *buf;
    dec_t dummy;
    double d;

    /* Validate the grammar first (strtod accepts hex, inf, spaces). */
    if (dec_parse(p, len, &dummy) == DEC_ESYNTAX)
        return -1;
    buf = len < sizeof(small) ? small : malloc(len + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    if (!isfinite(d))
        return -1;
    *out = d;
    return 0;
}

size_t jtok_number_len(const char *p, const char *end)
{
    return scan_number(p, end);
}

int jtok_parse_double(const char *p, size_t len, double *out)
{
    const char *q = p, *end = p + len, *d0;
    uint64_t m = 0;
    int sig = 0, neg = 0, fd = 0, started = 0;

    if (q < end && *q == '-') {
        neg = 1;
        q++;
    }
    /* sig counts digits from the first non-zero one: while sig <= 19, m
     * (< 10^19) is the exact mantissa; beyond, strtod decides.  A flag of
     * its own says "started", not m != 0: m wraps to exactly 0 at 2^64
     * (18446744073709551616), which would end the count at 19 and read 0
     * (found by make fuzz; dec_parse had the same). */
    for (d0 = q; q < end && (unsigned)(*q - '0') < 10; q++) {
        m = m * 10 + (unsigned)(*q - '0');
        started |= *q != '0';
        sig += started;
    }
    if (q == d0)
        return -1;
    if (q < end && *q == '.') {
        for (d0 = ++q; q < end && (unsigned)(*q - '0') < 10; q++) {
            m = m * 10 + (unsigned)(*q - '0');
            started |= *q != '0';
            sig += started;
        }
        fd = (int)(q - d0);
        if (fd == 0)
            return -1;
    }
    if (sig > 19 || (q < end && (*q == 'e' || *q == 'E')))
        goto slow;
    if (q != end)
        return -1;
    /* Clinger's fast path: m and 10^fd are exact doubles, so one IEEE
     * division rounds correctly (and so gives what strtod gives). */
    if (m <= (1ull << 53) && fd <= 22) {
        double d = (double)m;
        d = fd > 0 ? d / pow10_exact[fd] : d;
        *out = neg ? -d : d;
        return 0;
    }
slow:
    return parse_double_slow(p, len, out);
}

/* The value of eight digit characters at p, or -1 (jtok__digits8).
 * Timestamps and update ids are 13-19 digits, and every frame has a few. */
static int64_t digits8(const char *p)
{
    uint64_t x;

    memcpy(&x, p, 8);
    return jtok__digits8(x);
}

int jtok_i64(const char *s, const struct jtok *t, int i, int64_t *out)
{
    const char *p, *end;
    int neg = 0;
    uint64_t v = 0;

    if (!jtok_is_num(t, i) || t[i].len == 0)
        return -1;
    p = s + t[i].start;
    end = p + t[i].len;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end)
        return -1;
    /* 19 digits cannot overflow (10^19 - 1 < 2^64): no check for those,
     * which are all of a timestamp or an update id; the first 16 of them
     * eight at a time. */
    const char *e16 = end - p > 16 ? p + 16 : end, *e19 = end - p > 19 ? p + 19 : end;
    for (; e16 - p >= 8; p += 8) {
        int64_t d = digits8(p);
        if (d < 0)
            return -1;
        v = v * 100000000u + (uint64_t)d;
    }
    for (; p < e19; p++) {
        if ((unsigned)(*p - '0') > 9)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int jtok_strcpy(const char *s, const struct jtok *t, int i, char *buf,
                size_t size)
{
    if (i < 0 || t[i].type != JT_STR || t[i].len + 1 > size)
        return -1;
    memcpy(buf, s + t[i].start, t[i].len);
    buf[t[i].len] = '\0';
    return 0;
}
