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

/* Bytes that can stand in a string as they are: not '"', not '\\', not a
 * control character. */
static const unsigned char str_plain[256] = {
#define R4(x) x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
    R16(0), R16(0),                         /* 0x00-0x1f */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x20-0x2f: '"' */
    R16(1), R16(1),                         /* 0x30-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* 0x50-0x5f: '\\' */
    R16(1), R16(1),                         /* 0x60-0x7f */
    R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1)
#undef R16
#undef R4
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
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
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    } else {
        return 0;
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    return (size_t)(q - p);
}

/* Recursive descent over one value; the parser state travels in jp.
 * Every syntax error leaves jp->at on the offending byte (the end of the
 * text when it ran out), which is what jtok_parse reports. */
struct jp {
    const char *s, *p, *end;
    struct jtok *t;
    size_t max, n;
    int depth;
    const char *at;          /* where the syntax error is */
};

static inline void skip_ws(struct jp *j)
{
    while (j->p < j->end && is_ws(*j->p))
        j->p++;
}

static int syntax(struct jp *j, const char *at)
{
    j->at = at;
    return JTOK_ESYNTAX;
}

static inline struct jtok *new_tok(struct jp *j, uint8_t type)
{
    struct jtok *k;

    if (j->n >= j->max)
        return NULL;
    k = &j->t[j->n++];
    k->type = type;
    k->escaped = 0;
    k->start = (uint32_t)(j->p - j->s);
    k->len = 0;
    k->size = 0;
    return k;
}

/* A string at j->p (on its opening quote). */
static int parse_string(struct jp *j)
{
    const char *q = j->p + 1, *end = j->end;
    struct jtok *k = new_tok(j, JT_STR);

    if (k == NULL)
        return JTOK_ENOTOK;
    k->start = (uint32_t)(q - j->s);
    for (;;) {
        /* Fast path: plain bytes need no further look. */
        while (q < end && str_plain[(unsigned char)*q])
            q++;
        if (q >= end)
            return syntax(j, q);
        if (*q == '"')
            break;
        if ((unsigned char)*q < 0x20)
            return syntax(j, q);
        /* a backslash */
        k->escaped = 1;
        q++;
        if (q >= end)
            return syntax(j, q);
        /* A switch, not strchr() on the set: strchr would also find the
         * set's terminator, so "\<NUL>" passed for an escape. */
        switch (*q) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            break;
        case 'u':
            if (end - q < 5 || hexval(q[1]) < 0 || hexval(q[2]) < 0 ||
                hexval(q[3]) < 0 || hexval(q[4]) < 0)
                return syntax(j, q);
            q += 4;
            break;
        default:
            return syntax(j, q);
        }
        q++;
    }
    k->len = (uint32_t)(q - j->s) - k->start;
    k->end = (uint32_t)j->n;
    j->p = q + 1;
    return 0;
}

static int parse_value(struct jp *j);

static int parse_container(struct jp *j, int is_obj)
{
    uint32_t me = (uint32_t)j->n;
    struct jtok *k = new_tok(j, is_obj ? JT_OBJ : JT_ARR);
    char close = is_obj ? '}' : ']';
    int rc;

    if (k == NULL)
        return JTOK_ENOTOK;
    if (j->depth == JTOK_MAXDEPTH)
        return JTOK_EDEPTH;
    j->depth++;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        goto done;
    }
    for (;;) {
        if (is_obj) {
            if (j->p >= j->end || *j->p != '"')
                return syntax(j, j->p);
            if ((rc = parse_string(j)) != 0)
                return rc;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return syntax(j, j->p);
            j->p++;
        }
        if ((rc = parse_value(j)) != 0)
            return rc;
        j->t[me].size++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            skip_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            break;
        }
        return syntax(j, j->p);
    }
done:
    j->depth--;
    j->t[me].end = (uint32_t)j->n;
    return 0;
}

static int parse_value(struct jp *j)
{
    const char *p;
    struct jtok *k;
    size_t l;

    skip_ws(j);
    p = j->p;
    if (p >= j->end)
        return syntax(j, p);
    switch (*p) {
    case '{':
        return parse_container(j, 1);
    case '[':
        return parse_container(j, 0);
    case '"':
        return parse_string(j);
    case 't':
        l = 4;
        if (j->end - p < 4 || memcmp(p, "true", 4) != 0)
            return syntax(j, p);
        k = new_tok(j, JT_TRUE);
        break;
    case 'f':
        l = 5;
        if (j->end - p < 5 || memcmp(p, "false", 5) != 0)
            return syntax(j, p);
        k = new_tok(j, JT_FALSE);
        break;
    case 'n':
        l = 4;
        if (j->end - p < 4 || memcmp(p, "null", 4) != 0)
            return syntax(j, p);
        k = new_tok(j, JT_NULL);
        break;
    default:
        if (*p != '-' && (*p < '0' || *p > '9'))
            return syntax(j, p);
        l = scan_number(p, j->end);
        if (l == 0)
            return syntax(j, p);
        k = new_tok(j, JT_NUM);
        break;
    }
    if (k == NULL)
        return JTOK_ENOTOK;
    k->len = (uint32_t)l;
    k->end = (uint32_t)j->n;
    j->p = p + l;
    return 0;
}

int jtok_parse(const char *s, size_t len, struct jtok *t, size_t max,
               size_t *errpos)
{
    struct jp j = { s, s, s + len, t, max, 0, 0, NULL };
    int rc;

    if (len > UINT32_MAX)
        return JTOK_ETOOBIG;
    rc = parse_value(&j);
    if (rc == 0) {
        skip_ws(&j);
        if (j.p != j.end)
            rc = syntax(&j, j.p);
    }
    if (rc == JTOK_ESYNTAX) {
        if (errpos)
            *errpos = (size_t)(j.at - s);
        return rc;
    }
    return rc < 0 ? rc : (int)j.n;
}

int jtok_get(const char *s, const struct jtok *t, int obj, const char *key)
{
    size_t kl = strlen(key);
    int i;
    uint32_t n;

    if (obj < 0 || t[obj].type != JT_OBJ)
        return -1;
    i = obj + 1;
    for (n = 0; n < t[obj].size; n++) {
        int v = i + 1;
        /* Length and first byte first: venue keys are short and most
         * differ there, so memcmp runs about once per lookup. */
        if (t[i].len == kl && (kl == 0 || s[t[i].start] == key[0]) &&
            memcmp(s + t[i].start, key, kl) == 0)
            return v;
        i = (int)t[v].end;
    }
    return -1;
}

/* key (a C string) equals the span ks[0..n)?  Not strncmp: that stops at
 * a NUL in either, and the key's byte n would then be read past its end;
 * here the key is never read past its terminator, whatever the span holds. */
static inline int key_eq(const char *key, const char *ks, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (key[i] != ks[i] || key[i] == '\0')
            return 0;
    return key[n] == '\0';
}

int jtok_getn(const char *s, const struct jtok *t, int obj,
              const char *const *keys, int *out, int n)
{
    int found = 0, i;
    uint32_t m;

    for (int k = 0; k < n; k++)
        out[k] = -1;
    if (obj < 0 || t[obj].type != JT_OBJ)
        return 0;
    i = obj + 1;
    for (m = 0; m < t[obj].size && found < n; m++) {
        int v = i + 1;
        const char *ks = s + t[i].start;
        for (int k = 0; k < n; k++) {
            /* First match wins, as with jtok_get. */
            if (out[k] < 0 && keys[k][0] == (t[i].len ? ks[0] : '\0') &&
                key_eq(keys[k], ks, t[i].len)) {
                out[k] = v;
                found++;
                break;
            }
        }
        i = (int)t[v].end;
    }
    return found;
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

int jtok_streq(const char *s, const struct jtok *t, int i, const char *lit)
{
    size_t l = strlen(lit);

    return i >= 0 && t[i].type == JT_STR && t[i].len == l &&
           memcmp(s + t[i].start, lit, l) == 0;
}

static int num_span(const struct jtok *t, int i)
{
    return i >= 0 && (t[i].type == JT_NUM || t[i].type == JT_STR);
}

int jtok_dec(const char *s, const struct jtok *t, int i, dec_t *out)
{
    if (!num_span(t, i))
        return -1;
    return dec_parse(s + t[i].start, t[i].len, out) == DEC_OK ? 0 : -1;
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

int jtok_parse_double(const char *p, size_t len, double *out)
{
    const char *q = p, *end = p + len;
    uint64_t m = 0;
    int digits = 0, neg = 0, exp10 = 0, any = 0;

    if (q < end && *q == '-') {
        neg = 1;
        q++;
    }
    while (q < end && *q >= '0' && *q <= '9') {
        if (m == 0 && *q == '0') {
            q++;
            any = 1;
            continue;
        }
        if (digits < 19) {
            m = m * 10 + (uint64_t)(*q - '0');
            digits++;
        } else {
            goto slow;
        }
        q++;
        any = 1;
    }
    if (!any)
        return -1;
    if (q < end && *q == '.') {
        q++;
        any = 0;
        while (q < end && *q >= '0' && *q <= '9') {
            any = 1;
            if (m == 0 && *q == '0') {
                exp10--;
                q++;
                continue;
            }
            if (digits >= 19)
                goto slow;
            m = m * 10 + (uint64_t)(*q - '0');
            digits++;
            exp10--;
            q++;
        }
        if (!any)
            return -1;
    }
    if (q < end && (*q == 'e' || *q == 'E'))
        goto slow;
    if (q != end)
        return -1;
    /* Clinger's fast path: m and 10^|e| are exact doubles, so one IEEE
     * multiply or divide rounds correctly. */
    if (m <= (1ull << 53) && exp10 >= -22) {
        double d = (double)m;
        d = exp10 < 0 ? d / pow10_exact[-exp10] : d;
        *out = neg ? -d : d;
        return 0;
    }
slow:
    return parse_double_slow(p, len, out);
}

int jtok_double(const char *s, const struct jtok *t, int i, double *out)
{
    if (!num_span(t, i))
        return -1;
    return jtok_parse_double(s + t[i].start, t[i].len, out);
}

int jtok_i64(const char *s, const struct jtok *t, int i, int64_t *out)
{
    const char *p, *end;
    int neg = 0;
    uint64_t v = 0;

    if (!num_span(t, i) || t[i].len == 0)
        return -1;
    p = s + t[i].start;
    end = p + t[i].len;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end)
        return -1;
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
