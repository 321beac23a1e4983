/*
 * fz_jtok.c - jtok against jansson.
 *
 * The input is a candidate JSON text.  Properties:
 *  - the token array is well formed: every subtree ends inside its
 *    parent, sizes count children, spans lie inside the text;
 *  - a text with a raw NUL byte is refused (jansson stops at one, so it
 *    is no reference there);
 *  - jtok accepts exactly what jansson accepts (JSON_DECODE_ANY |
 *    JSON_ALLOW_NUL), except where jtok is documented to differ: UTF-8
 *    is not validated, \u escapes are not checked for surrogate pairs,
 *    numbers of any magnitude are text, nesting stops at JTOK_MAXDEPTH;
 *  - when both accept, the values agree: types, sizes, array order,
 *    object members (when no key repeats), strings decoded from the span
 *    equal jansson's, integers equal jtok_i64, reals equal jtok_double
 *    bit for bit (both correctly rounded);
 *  - jtok_get finds the first member of a raw key, jtok_at
 *    the i-th element.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "liqmon/jtok.h"
#include "fuzz.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned hex4(const char *p)
{
    return (unsigned)(hexv(p[0]) << 12 | hexv(p[1]) << 8 | hexv(p[2]) << 4 | hexv(p[3]));
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decode a string token's span (escapes checked by jtok; surrogates
 * paired, since jansson accepted the text).  out holds len bytes. */
static size_t decode(const char *p, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\\') {
            out[o++] = p[i];
            continue;
        }
        i++;
        switch (p[i]) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned cp = hex4(p + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < len && p[i + 1] == '\\' &&
                p[i + 2] == 'u') {
                unsigned lo = hex4(p + i + 3);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = p[i]; break;         /* " \ / */
        }
    }
    return o;
}

static int is_integer_text(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E')
            return 0;
    return 1;
}

/* Compare token i with jansson's value j; returns the next token. */
static int compare(const char *s, const struct jtok *t, int n, int i, json_t *j,
                   char *buf)
{
    const struct jtok *k = &t[i];

    FZ_CHECK(i >= 0 && i < n, "token %d out of [0, %d)", i, n);
    FZ_CHECK(k->end > (uint32_t)i && k->end <= (uint32_t)n, "token %d: end %u", i, k->end);
    switch (k->type) {
    case JT_OBJ: {
        int c = i + 1, dup = 0;
        FZ_CHECK(json_is_object(j), "token %d: jtok object, jansson %d", i, json_typeof(j));
        /* Keys that repeat: jansson keeps the last, jtok_get finds the
         * first; compare members only when every key is distinct. */
        if (json_object_size(j) != k->size)
            dup = 1;
        for (uint32_t m = 0; m < k->size; m++) {
            FZ_CHECK(t[c].type == JT_STR && t[c].end == (uint32_t)c + 1,
                     "token %d: key %d not a string", i, c);
            size_t kl = decode(s + t[c].start, t[c].len, buf);
            json_t *v = dup ? NULL : json_object_getn(j, buf, kl);
            FZ_CHECK(dup || v != NULL, "token %d: key %d missing in jansson", i, c);
            /* jtok_get with the raw key finds the first such member. */
            if (memchr(s + t[c].start, '\0', t[c].len) == NULL) {
                char *raw = malloc(t[c].len + 1);
                FZ_CHECK(raw != NULL, "oom");
                memcpy(raw, s + t[c].start, t[c].len);
                raw[t[c].len] = '\0';
                int first = -1, q = i + 1;
                for (uint32_t x = 0; x < k->size; x++) {
                    if (t[q].len == t[c].len && memcmp(s + t[q].start, raw, t[q].len) == 0) {
                        first = q + 1;
                        break;
                    }
                    q = (int)t[q + 1].end;
                }
                int got = jtok_get(s, t, i, raw);
                FZ_CHECK(got == first, "jtok_get '%s': %d, want %d", raw, got, first);
                FZ_CHECK(jtok_get(s, t, i, "\x01no such key") == -1,
                         "jtok_get found a key that is not there");
                free(raw);
            }
            c++;
            if (v != NULL)
                c = compare(s, t, n, c, v, buf);
            else
                c = (int)t[c].end;
        }
        FZ_CHECK((uint32_t)c == k->end, "token %d: members end at %d, end %u", i, c, k->end);
        return c;
    }
    case JT_ARR: {
        int c = i + 1;
        FZ_CHECK(json_is_array(j) && json_array_size(j) == k->size,
                 "token %d: array of %u, jansson %d", i, k->size, json_typeof(j));
        for (uint32_t m = 0; m < k->size; m++) {
            FZ_CHECK(jtok_at(t, i, m) == c, "jtok_at(%d, %u) = %d, want %d", i, m,
                     jtok_at(t, i, m), c);
            c = compare(s, t, n, c, json_array_get(j, m), buf);
        }
        FZ_CHECK(jtok_at(t, i, k->size) == -1, "jtok_at past the end");
        FZ_CHECK((uint32_t)c == k->end, "token %d: elements end at %d, end %u", i, c, k->end);
        return c;
    }
    case JT_STR: {
        size_t l = decode(s + k->start, k->len, buf);
        FZ_CHECK(json_is_string(j), "token %d: jtok string, jansson %d", i, json_typeof(j));
        FZ_CHECK(json_string_length(j) == l && memcmp(json_string_value(j), buf, l) == 0,
                 "token %d: string differs from jansson's", i);
        FZ_CHECK(k->escaped == (memchr(s + k->start, '\\', k->len) != NULL),
                 "token %d: escaped flag %d", i, k->escaped);
        break;
    }
    case JT_NUM: {
        const char *p = s + k->start;
        double d;
        if (json_is_integer(j)) {
            int64_t v;
            FZ_CHECK(is_integer_text(p, k->len), "token %d: jansson integer", i);
            FZ_CHECK(jtok_i64(s, t, i, &v) == 0 && v == json_integer_value(j),
                     "token %d: jtok_i64 differs from jansson's %lld", i,
                     (long long)json_integer_value(j));
        } else {
            FZ_CHECK(json_is_real(j), "token %d: jtok number, jansson %d", i, json_typeof(j));
            FZ_CHECK(jtok_double(s, t, i, &d) == 0, "token %d: jtok_double failed", i);
            FZ_CHECK(memcmp(&d, &(double){ json_real_value(j) }, sizeof(d)) == 0,
                     "token %d: jtok_double %.17g, jansson %.17g", i, d, json_real_value(j));
        }
        break;
    }
    case JT_TRUE:
        FZ_CHECK(json_is_true(j), "token %d: true", i);
        break;
    case JT_FALSE:
        FZ_CHECK(json_is_false(j), "token %d: false", i);
        break;
    case JT_NULL:
        FZ_CHECK(json_is_null(j), "token %d: null", i);
        break;
    default:
        FZ_CHECK(0, "token %d: type %d", i, k->type);
    }
    FZ_CHECK(k->end == (uint32_t)i + 1, "token %d: a leaf with end %u", i, k->end);
    return i + 1;
}

/* Where jtok may accept what jansson refuses (documented differences). */
static int jansson_stricter(const json_error_t *e)
{
    const char *x = e->text;
    /* "NUL byte in object key": a key holding \u0000 is valid JSON
     * (RFC 8259 allows any code point in a string); jansson keeps keys as
     * C strings and refuses it, jtok reads it (found by make fuzz). */
    return strstr(x, "UTF-8") || strstr(x, "Unicode") || strstr(x, "\\u") ||
           strstr(x, "too big") || strstr(x, "overflow") || strstr(x, "nesting") ||
           strstr(x, "unable to decode") || strstr(x, "NUL byte in object key");
}

/* Spans and shapes alone (no reference needed). */
static void check_tokens(const char *s, size_t len, const struct jtok *t, int n)
{
    for (int i = 0; i < n; i++) {
        FZ_CHECK(t[i].type >= JT_OBJ && t[i].type <= JT_NULL, "token %d: type", i);
        FZ_CHECK((size_t)t[i].start + t[i].len <= len, "token %d: span past the text", i);
        FZ_CHECK(t[i].end > (uint32_t)i && t[i].end <= (uint32_t)n, "token %d: end", i);
        if (t[i].type == JT_OBJ || t[i].type == JT_ARR) {
            uint32_t cnt = 0;
            int c = i + 1;
            while ((uint32_t)c < t[i].end) {
                FZ_CHECK(t[c].end <= t[i].end, "token %d: child %d ends outside", i, c);
                c = (int)t[c].end;
                cnt++;
            }
            FZ_CHECK(cnt == (t[i].type == JT_OBJ ? 2 * t[i].size : t[i].size),
                     "token %d: %u children, size %u", i, cnt, t[i].size);
        } else if (t[i].type == JT_STR) {
            FZ_CHECK(t[i].start > 0 && s[t[i].start - 1] == '"' && s[t[i].start + t[i].len] == '"',
                     "token %d: string span not between quotes", i);
        }
    }
    FZ_CHECK(t[0].end == (uint32_t)n, "the root ends at %u of %d", t[0].end, n);
}

void fuzz_jtok_one(const uint8_t *data, size_t size)
{
    const char *s;
    char *copy, *buf;
    struct jtok *t;
    size_t max = size + 1, errpos = (size_t)-1;
    json_error_t je;
    json_t *j;
    int n;

    fz_begin();
    /* An exact-size copy: ASan sees any read past the span. */
    copy = malloc(size ? size : 1);
    t = malloc(max * sizeof(*t));
    buf = malloc(size + 1);
    FZ_CHECK(copy && t && buf, "oom");
    memcpy(copy, data, size);
    s = copy;
    n = jtok_parse(s, size, t, max, &errpos);
    j = json_loadb(s, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    FZ_CHECK(n != JTOK_ENOTOK, "ENOTOK with %zu tokens for %zu bytes", max, size);
    if (n == JTOK_ESYNTAX)
        FZ_CHECK(errpos <= size, "errpos %zu of %zu", errpos, size);
    if (n > 0) {
        check_tokens(s, size, t, n);
        /* A smaller token array fails cleanly with ENOTOK. */
        if (n > 1)
            FZ_CHECK(jtok_parse(s, size, t, (size_t)n - 1, NULL) == JTOK_ENOTOK,
                     "%d tokens fit in %d", n, n - 1);
        n = jtok_parse(s, size, t, max, NULL);
    }
    if (memchr(s, '\0', size) != NULL) {
        /* A raw NUL is never JSON (not a blank, not allowed in a string);
         * jansson stops reading at one, so it is no reference here. */
        FZ_CHECK(n < 0, "jtok accepts a text with a NUL byte");
    } else if (j != NULL) {
        FZ_CHECK(n > 0 || n == JTOK_EDEPTH, "jansson accepts, jtok says %d at %zu", n, errpos);
        if (n > 0)
            FZ_CHECK(compare(s, t, n, 0, j, buf) == n, "tokens left over");
    } else if (n > 0) {
        FZ_CHECK(jansson_stricter(&je), "jtok accepts, jansson refuses: %s", je.text);
    }
    json_decref(j);
    free(buf);
    free(t);
    free(copy);
}
