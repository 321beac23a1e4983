/*
 * jtok.h - a fast, allocation-free JSON tokenizer for venue frames.
 *
 * Why not jansson on the hot path: a venue frame is parsed once and read
 * for a handful of fields; jansson builds a tree of malloc'd nodes
 * (platform-notes: ~3.1 us for a 153-byte markPrice message, half of it
 * malloc/free).  jtok validates the whole text as strict JSON and writes
 * flat tokens into a caller-provided array, in document order, each with
 * the index just past its subtree, so lookups skip whole values in O(1).
 * Strings and numbers stay as spans of the input: numbers keep their exact
 * text, which is what exact decimal quantities need.
 *
 * Token layout for {"a":[1,2],"b":"x"}:
 *   0 OBJ size=2 end=7 | 1 STR a | 2 ARR size=2 end=5 | 3 NUM 1 | 4 NUM 2
 *   | 5 STR b ... (keys are STR tokens followed by their value)
 *
 * Thread-safety: pure functions over caller memory.
 */
#ifndef LIQMON_JTOK_H
#define LIQMON_JTOK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "liqmon/dec.h"

enum jtok_type {
    JT_OBJ = 1, JT_ARR, JT_STR, JT_NUM, JT_TRUE, JT_FALSE, JT_NULL
};

struct jtok {
    uint8_t type;
    uint8_t escaped;      /* JT_STR: contains backslash escapes */
    uint32_t start;       /* offset of the value (strings: after the quote) */
    uint32_t len;         /* length (strings: without quotes) */
    uint32_t size;        /* OBJ: pairs; ARR: elements */
    uint32_t end;         /* index of the first token after this subtree */
};

enum {
    JTOK_ESYNTAX = -1,    /* not JSON; *errpos says where */
    JTOK_ENOTOK = -2,     /* more tokens than the array holds */
    JTOK_EDEPTH = -3,     /* nested deeper than JTOK_MAXDEPTH */
    JTOK_ETOOBIG = -4,    /* text longer than 4 GiB */
};

#define JTOK_MAXDEPTH 64

/* Tokenize s[0..len).  Returns the token count (>= 1) or a negative code;
 * on JTOK_ESYNTAX, *errpos (if not NULL) gets the byte offset of the
 * problem. */
int jtok_parse(const char *s, size_t len, struct jtok *t, size_t max,
               size_t *errpos);

/* Value token of the key key[0..kl) in object token obj, or -1 (the
 * first member with that key).  Keys compare raw (venue keys carry no
 * escapes).  Inline, as jtok_get below: with a literal key the length
 * and the compare fold into a constant and a load or two per member,
 * and adapters make a dozen lookups a frame. */
static inline int jtok_getl(const char *s, const struct jtok *t, int obj,
                            const char *key, size_t kl)
{
    int i;

    if (obj < 0 || t[obj].type != JT_OBJ)
        return -1;
    i = obj + 1;
    for (uint32_t n = t[obj].size; n > 0; n--) {
        int v = i + 1;
        if (t[i].len == kl && memcmp(s + t[i].start, key, kl) == 0)
            return v;
        i = (int)t[v].end;           /* past the member's value */
    }
    return -1;
}
/* The same for a C string key. */
static inline int jtok_get(const char *s, const struct jtok *t, int obj,
                           const char *key)
{
    return jtok_getl(s, t, obj, key, strlen(key));
}
/* i-th element of array token arr, or -1.  O(i). */
int jtok_at(const struct jtok *t, int arr, uint32_t i);
/* First child token of an array (or the first key of an object); iterate
 * with t[i].end for arrays, t[t[i].end].end... use jtok_next. */
static inline int jtok_first(const struct jtok *t, int i)
{
    return t[i].size ? i + 1 : -1;
}
/* Next sibling of element i within an array. */
static inline int jtok_next(const struct jtok *t, int i)
{
    return (int)t[i].end;
}

/* 1 when token i is a string equal to lit (raw compare).  Inline for the
 * same reason as jtok_get: with a literal, strlen and memcmp fold into a
 * few compares (every frame's type is found this way). */
static inline int jtok_streq(const char *s, const struct jtok *t, int i,
                             const char *lit)
{
    size_t l = strlen(lit);

    return i >= 0 && t[i].type == JT_STR && t[i].len == l &&
           memcmp(s + t[i].start, lit, l) == 0;
}

/* Numbers from a JT_NUM or a JT_STR holding a JSON number ("0.001"), of
 * any length.  Return 0 or -1 (wrong type, not a number, out of range:
 * dec beyond DEC_MAX_UNITS, double beyond DBL_MAX, int64).  jtok_dec and
 * jtok_double are below jtok_parse_double, inline: every level of every
 * depth frame reads two numbers. */
static inline int jtok_is_num(const struct jtok *t, int i)
{
    return i >= 0 && (t[i].type == JT_NUM || t[i].type == JT_STR);
}
int jtok_i64(const char *s, const struct jtok *t, int i, int64_t *out);

/* Copy a string token's raw bytes into buf (size bytes, NUL-terminated);
 * returns -1 if it does not fit or is not a string. */
int jtok_strcpy(const char *s, const struct jtok *t, int i, char *buf,
                size_t size);

/* Parse decimal text as a double, correctly rounded: a fast exact path
 * for up to 19 digits and |exponent| <= 22 (Clinger), strtod otherwise.
 * Same grammar as dec_parse, at any length (a text of 128 bytes or more
 * is copied to the heap for strtod).  Returns 0, or -1 when the text is
 * not a number or its value is beyond the double range. */
int jtok_parse_double(const char *p, size_t len, double *out);

/* 1 when p[0..4) are hex digits, the four of a \u escape (the caller
 * checked that they exist).  jtok and capture.c's unescapers both check
 * escapes with it. */
static inline int jtok_hex4_ok(const char *p)
{
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* The value of the eight digit characters in x (the first in its low
 * byte, as memcpy from the text puts it on a little-endian machine), or
 * -1 when one is not a digit (Lemire's SWAR conversion: pairs, then
 * quads, then the eight). */
static inline int64_t jtok__digits8(uint64_t x)
{
    const uint64_t zeros = 0x3030303030303030ull;

    if ((x & 0xF0F0F0F0F0F0F0F0ull) != zeros ||
        ((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) != zeros)
        return -1;
    x -= zeros;
    x = x * 10 + (x >> 8);
    x = (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
         (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
    return (int64_t)(uint32_t)x;
}

/* A short plain decimal, the shape of most prices and sizes a venue sends
 * ("41006.8", "0.25", "12"): 1 to 8 bytes, digits and at most one '.'
 * with digits on both sides.  Its digits as m (< 10^8) and its count of
 * decimals fd, or -1 for any other text (the general parsers then
 * decide).  One word, no loop: the eight bytes ending at p + len are
 * loaded, the bytes before the number taken as '0', the '.' squeezed
 * out, all eight checked to be digits and converted together
 * (jtok__digits8).  The loops it replaces ended at a different byte
 * for every number, a branch no predictor learns; every level of every
 * depth frame reads two numbers.  The caller guarantees that the eight
 * bytes ending at p + len are readable (the token starts >= 8 - len
 * bytes into its text). */
static inline int jtok__short_decimal(const char *p, size_t len, uint64_t *m, int *fd)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    const uint64_t zeros = 0x3030303030303030ull;
    unsigned pad = (unsigned)(8 - len);        /* bytes before the number */
    uint64_t x, keep, a, dots;

    /* (GCC cannot see the caller's guarantee in every inlined copy) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
    memcpy(&x, p + len - 8, 8);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    keep = ~0ull << (8 * pad);                 /* pad <= 7 */
    x = (x & keep) | (zeros & ~keep);
    /* exact per byte: the high bit of a byte of dots is set iff it is '.' */
    a = x ^ (ones * '.');
    dots = ~((((a & ~high) + ~high) | a)) & high;
    *fd = 0;
    if (dots != 0) {
        unsigned d = (unsigned)__builtin_ctzll(dots) >> 3;
        if ((dots & (dots - 1)) != 0 || d == pad || d == 7)
            return -1;             /* two dots, or one first or last */
        uint64_t lowm = (1ull << (8 * d)) - 1;  /* 1 <= d <= 6 */
        x = ((x & lowm) << 8) | (x & (~0ull << (8 * (d + 1)))) | 0x30;
        *fd = (int)(7 - d);
    }
    int64_t v = jtok__digits8(x);
    if (v < 0)
        return -1;
    *m = (uint64_t)v;
    return 0;
}

/* Token i can take the short path: its 8 bytes ending at its end lie in s. */
static inline int jtok__short_ok(const struct jtok *t, int i)
{
    return t[i].len >= 1 && t[i].len <= 8 && t[i].start + t[i].len >= 8;
}

static inline int jtok_dec(const char *s, const struct jtok *t, int i, dec_t *out)
{
    static const uint64_t p10[9] = {
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
    };
    uint64_t m;
    int fd;

    if (!jtok_is_num(t, i))
        return -1;
    /* what dec_parse gives for that text: m * 10^(8 - fd) units, exact */
    if (jtok__short_ok(t, i) &&
        jtok__short_decimal(s + t[i].start, t[i].len, &m, &fd) == 0) {
        *out = (dec_t)m * (dec_t)p10[DEC_DIGITS - fd];
        return 0;
    }
    return dec_parse(s + t[i].start, t[i].len, out) == DEC_OK ? 0 : -1;
}

static inline int jtok_double(const char *s, const struct jtok *t, int i, double *out)
{
    static const double p10[8] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7 };
    uint64_t m;
    int fd;

    if (!jtok_is_num(t, i))
        return -1;
    /* what jtok_parse_double gives for that text: m and 10^fd are exact
     * doubles, one division rounds correctly (Clinger) */
    if (jtok__short_ok(t, i) &&
        jtok__short_decimal(s + t[i].start, t[i].len, &m, &fd) == 0) {
        *out = (double)m / p10[fd];
        return 0;
    }
    return jtok_parse_double(s + t[i].start, t[i].len, out);
}
/* Length of the JSON number (RFC 8259 grammar) starting at p, before
 * end; 0 when none starts there.  For readers that scan a known shape
 * without tokenizing (capture.c's fast path). */
size_t jtok_number_len(const char *p, const char *end);

#endif
