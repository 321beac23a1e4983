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

int jtok_parse(const char *s, size_t len, struct jtok *t, size_t max,
               size_t *errpos)
{
    const char *p = s, *end = s + len;
    uint32_t stack[JTOK_MAXDEPTH];
    int depth = 0;
    size_t n = 0;
    /* What the grammar allows next. */
    enum { VALUE, KEY_OR_CLOSE, KEY, COLON, COMMA_OR_CLOSE, DONE } want = VALUE;
    int first_in_arr = 0;

    if (len > UINT32_MAX)
        return JTOK_ETOOBIG;
    for (;;) {
        while (p < end && is_ws(*p))
            p++;
        if (p >= end)
            break;
        char c = *p;

        if (want == DONE)
            goto syntax;
        if (want == COLON) {
            if (c != ':')
                goto syntax;
            p++;
            want = VALUE;
            continue;
        }
        if (want == COMMA_OR_CLOSE) {
            struct jtok *top = &t[stack[depth - 1]];
            if (c == ',') {
                p++;
                want = top->type == JT_OBJ ? KEY : VALUE;
                first_in_arr = 0;
                continue;
            }
            if ((c == '}' && top->type == JT_OBJ) ||
                (c == ']' && top->type == JT_ARR)) {
                p++;
                goto close;
            }
            goto syntax;
        }
        if (want == KEY_OR_CLOSE && c == '}') {
            p++;
            goto close;
        }
        if (want == VALUE && first_in_arr && c == ']') {
            p++;
            goto close;
        }
        if ((want == KEY || want == KEY_OR_CLOSE) && c != '"')
            goto syntax;

        /* A value (or a key). */
        if (n >= max)
            return JTOK_ENOTOK;
        struct jtok *k = &t[n];
        memset(k, 0, sizeof(*k));
        int is_key = want == KEY || want == KEY_OR_CLOSE;
        if (depth > 0 && !is_key) {
            struct jtok *top = &t[stack[depth - 1]];
            if (top->type == JT_ARR)
                top->size++;
        }
        if (c == '{' || c == '[') {
            if (depth == JTOK_MAXDEPTH)
                return JTOK_EDEPTH;
            k->type = c == '{' ? JT_OBJ : JT_ARR;
            k->start = (uint32_t)(p - s);
            stack[depth++] = (uint32_t)n++;
            p++;
            want = c == '{' ? KEY_OR_CLOSE : VALUE;
            first_in_arr = c == '[';
            continue;
        }
        first_in_arr = 0;
        if (c == '"') {
            const char *q = ++p;
            while (q < end && *q != '"') {
                /* Fast path: plain bytes need no further look. */
                if (str_plain[(unsigned char)*q]) {
                    q++;
                    continue;
                }
                if ((unsigned char)*q < 0x20)
                    goto syntax_at_q;
                if (*q == '\\') {
                    k->escaped = 1;
                    q++;
                    if (q >= end)
                        goto syntax_at_q;
                    if (*q == 'u') {
                        if (end - q < 5 || hexval(q[1]) < 0 || hexval(q[2]) < 0 ||
                            hexval(q[3]) < 0 || hexval(q[4]) < 0)
                            goto syntax_at_q;
                        q += 4;
                    } else if (!strchr("\"\\/bfnrt", *q)) {
                        goto syntax_at_q;
                    }
                }
                q++;
            }
            if (q >= end)
                goto syntax_at_q;
            k->type = JT_STR;
            k->start = (uint32_t)(p - s);
            k->len = (uint32_t)(q - p);
            k->end = (uint32_t)++n;
            p = q + 1;
            if (is_key) {
                t[stack[depth - 1]].size++;
                want = COLON;
                continue;
            }
            goto value_done;
            syntax_at_q:
            p = q;
            goto syntax;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t l = scan_number(p, end);
            if (l == 0)
                goto syntax;
            k->type = JT_NUM;
            k->start = (uint32_t)(p - s);
            k->len = (uint32_t)l;
            k->end = (uint32_t)++n;
            p += l;
            goto value_done;
        }
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            k->type = JT_TRUE;
            k->len = 4;
        } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            k->type = JT_FALSE;
            k->len = 5;
        } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            k->type = JT_NULL;
            k->len = 4;
        } else {
            goto syntax;
        }
        k->start = (uint32_t)(p - s);
        k->end = (uint32_t)++n;
        p += k->len;
        goto value_done;

    close:
        t[stack[depth - 1]].end = (uint32_t)n;
        depth--;
        first_in_arr = 0;
    value_done:
        want = depth == 0 ? DONE : COMMA_OR_CLOSE;
    }
    if (want != DONE)
        goto syntax;
    return (int)n;
syntax:
    if (errpos)
        *errpos = (size_t)(p - s);
    return JTOK_ESYNTAX;
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
                strncmp(keys[k], ks, t[i].len) == 0 && keys[k][t[i].len] == '\0') {
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

int jtok_parse_double(const char *p, size_t len, double *out)
{
    const char *q = p, *end = p + len;
    uint64_t m = 0;
    int digits = 0, neg = 0, exp10 = 0, any = 0;
    char buf[128];

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
    {
        dec_t dummy;
        if (len >= sizeof(buf))
            return -1;
        /* Validate the grammar first (strtod accepts hex, inf, spaces). */
        if (dec_parse(p, len, &dummy) == DEC_ESYNTAX)
            return -1;
        memcpy(buf, p, len);
        buf[len] = '\0';
        *out = strtod(buf, NULL);
        return isfinite(*out) ? 0 : -1;
    }
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
