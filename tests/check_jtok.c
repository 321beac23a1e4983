/*
 * check_jtok.c - the JSON tokenizer (jtok.h), with jansson as the reference.
 *
 * Tokens: hand-written documents with their exact token lists (type, size,
 * end, span, escaped flag); a seeded generator of random documents (nested
 * objects and arrays, strings with every escape, \u escapes and surrogate
 * pairs, raw UTF-8, numbers in every JSON form, whitespace everywhere) that
 * knows the tokens each document must give, and jansson's tree for the same
 * text walked alongside.
 * Verdicts: every truncation and single-byte mutation (replace, insert,
 * delete) of those documents, and a table of classic invalid inputs, must be
 * refused by jtok exactly when json_loadb(JSON_DECODE_ANY) refuses it.
 * The differences that exist by design are named, counted and asserted
 * apart (see "Known differences"); any other disagreement fails with the
 * input.
 * Accessors: jtok_get / jtok_at / jtok_streq / jtok_strcpy; jtok_dec against
 * a digit-string reference (half to even at 8 places); jtok_double against
 * strtod on 100,000+ random decimal strings; jtok_i64 against strtoll.
 *
 * Random tests replay with LIQMON_SEED (suites.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "liqmon/jtok.h"
#include "suites.h"

#define MAXTOK 8192

/* ---- printing inputs in failure messages ------------------------------ */

/* s[0..n) as a C string literal body (static buffer, truncated). */
static const char *cesc(const char *s, size_t n)
{
    static char out[2048];
    size_t o = 0;

    for (size_t i = 0; i < n && o + 8 < sizeof(out); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o + 8 >= sizeof(out))
        memcpy(out + o, "...", 4);
    else
        out[o] = '\0';
    return out;
}

/* ---- a test-side unescaper (independent of capture.c) ------------------- */

static int hexd(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_cp(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned long hex4v(const char *p)
{
    return (unsigned long)(hexd(p[0]) << 12 | hexd(p[1]) << 8 |
                           hexd(p[2]) << 4 | hexd(p[3]));
}

/* Decode a JSON string body (already validated) into out; returns length. */
static size_t unesc(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        char c = s[i + 1];
        i += 2;
        switch (c) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned long cp = hex4v(s + i);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= n && s[i] == '\\' &&
                s[i + 1] == 'u') {
                unsigned long lo = hex4v(s + i + 2);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            o += put_cp(out + o, cp);
            break;
        }
        default: out[o++] = c; break;
        }
    }
    return o;
}

/* ---- rendering tokens for the hand-written cases ------------------------ */

/* "O2,6 s'a' A2,5 n'1' n'2' s'b' s'x'": O/A size,end; s/S string (S:
 * escaped); n number; true false null.  A scalar whose end is not i+1 or
 * a container with a span length shows "!". */
static const char *render(const char *s, const struct jtok *t, int n)
{
    static char out[4096];
    size_t o = 0;

    out[0] = '\0';
    for (int i = 0; i < n && o + 64 < sizeof(out); i++) {
        const struct jtok *k = &t[i];
        const char *sep = i ? " " : "";
        int bad = 0;
        switch (k->type) {
        case JT_OBJ:
        case JT_ARR:
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%c%u,%u", sep,
                                  k->type == JT_OBJ ? 'O' : 'A', k->size, k->end);
            bad = k->len != 0 || k->escaped ||
                  s[k->start] != (k->type == JT_OBJ ? '{' : '[');
            break;
        case JT_STR:
        case JT_NUM:
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%c'%.*s'", sep,
                                  k->type == JT_NUM ? 'n' : k->escaped ? 'S' : 's',
                                  (int)k->len, s + k->start);
            bad = k->end != (uint32_t)i + 1 ||
                  (k->type == JT_STR && s[k->start - 1] != '"') ||
                  (k->type == JT_STR && s[k->start + k->len] != '"') ||
                  (k->type == JT_STR && (memchr(s + k->start, '\\', k->len) != NULL) != k->escaped);
            break;
        case JT_TRUE:
        case JT_FALSE:
        case JT_NULL: {
            const char *w = k->type == JT_TRUE ? "true" : k->type == JT_FALSE ? "false" : "null";
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", sep, w);
            bad = k->end != (uint32_t)i + 1 || k->len != strlen(w) ||
                  memcmp(s + k->start, w, k->len) != 0;
            break;
        }
        default:
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s?%d", sep, k->type);
        }
        if (bad)
            out[o++] = '!', out[o] = '\0';
    }
    return out;
}

/* ---- the reference verdict and the known differences -------------------- */

static json_t *ref_load(const char *s, size_t n, json_error_t *e)
{
    /* JSON_ALLOW_NUL: "\u0000" is valid JSON; jansson refuses it only by
     * policy (see known_nul_value). */
    return json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, e);
}

/* Known differences: jtok accepts, jansson refuses. */
enum kdiff {
    KD_NONE = 0,
    KD_UTF8,        /* invalid UTF-8 inside a string: jtok does not validate
                       UTF-8 (documented in jtok.c) */
    KD_SURROGATE,   /* a lone or mismatched \uD800-\uDFFF escape: jtok checks
                       only the four hex digits */
    KD_NUMRANGE,    /* an integer beyond int64 or a real beyond DBL_MAX: valid
                       JSON, jansson's number limits */
    KD_NULKEY,      /* "\u0000" inside an object key: jansson's policy */
    KD_DEPTH,       /* the other way round: deeper than JTOK_MAXDEPTH, jtok
                       refuses (documented), jansson accepts */
    KD_COUNT
};

static enum kdiff classify(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_invalid_utf8: return KD_UTF8;
    case json_error_numeric_overflow: return KD_NUMRANGE;
    case json_error_null_byte_in_key: return KD_NULKEY;
    case json_error_invalid_syntax:
        if (strncmp(e->text, "invalid Unicode", 15) == 0)
            return KD_SURROGATE;
        return KD_NONE;
    default:
        return KD_NONE;
    }
}

static int json_depth(json_t *v)
{
    int d = 0;

    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int c = json_depth(json_array_get(v, i));
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            int c = json_depth(x);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

/* Tokens self-consistent: subtree ends nest, sizes count children, keys
 * are strings.  Returns the index after the subtree of i, or -1. */
static int tok_wellformed(const struct jtok *t, int n, int i)
{
    if (i >= n)
        return -1;
    if (t[i].type == JT_OBJ || t[i].type == JT_ARR) {
        int j = i + 1;
        for (uint32_t c = 0; c < t[i].size; c++) {
            if (t[i].type == JT_OBJ) {
                if (j >= n || t[j].type != JT_STR || t[j].end != (uint32_t)j + 1)
                    return -1;
                j++;
            }
            j = tok_wellformed(t, n, j);
            if (j < 0)
                return -1;
        }
        return t[i].end == (uint32_t)j ? j : -1;
    }
    if (t[i].type < JT_STR || t[i].type > JT_NULL || t[i].end != (uint32_t)i + 1)
        return -1;
    return i + 1;
}

/* Walk jtok's tokens from i against jansson's value v (keys unique).
 * Returns the index after the subtree. */
static int walk(const char *s, const struct jtok *t, int i, json_t *v,
                char *scratch)
{
    const struct jtok *k = &t[i];

    switch (k->type) {
    case JT_OBJ: {
        TCHECK(json_is_object(v), "token %d: object, jansson type %d", i, json_typeof(v));
        TCHECK_INT(k->size, json_object_size(v));
        int j = i + 1;
        for (uint32_t c = 0; c < k->size; c++) {
            size_t kl = unesc(s + t[j].start, t[j].len, scratch);
            json_t *x = json_object_getn(v, scratch, kl);
            TCHECK(x != NULL, "token %d: key '%s' not in jansson's object", j,
                   cesc(scratch, kl));
            j = walk(s, t, j + 1, x, scratch);
        }
        TCHECK_INT(k->end, j);
        return j;
    }
    case JT_ARR: {
        TCHECK(json_is_array(v), "token %d: array, jansson type %d", i, json_typeof(v));
        TCHECK_INT(k->size, json_array_size(v));
        int j = i + 1;
        for (uint32_t c = 0; c < k->size; c++) {
            TCHECK_INT(jtok_at(t, i, c), j);
            j = walk(s, t, j, json_array_get(v, c), scratch);
        }
        TCHECK_INT(jtok_at(t, i, k->size), -1);
        TCHECK_INT(k->end, j);
        return j;
    }
    case JT_STR: {
        TCHECK(json_is_string(v), "token %d: string, jansson type %d", i, json_typeof(v));
        size_t l = unesc(s + k->start, k->len, scratch);
        TCHECK(l == json_string_length(v) &&
                   memcmp(scratch, json_string_value(v), l) == 0,
               "token %d: string '%s' decodes differently from jansson", i,
               cesc(s + k->start, k->len));
        return i + 1;
    }
    case JT_NUM:
        if (json_is_integer(v)) {
            int64_t x = 0;
            TCHECK(jtok_i64(s, t, i, &x) == 0 && x == json_integer_value(v),
                   "token %d: integer '%.*s': jtok %" PRId64 ", jansson %lld", i,
                   (int)k->len, s + k->start, x, (long long)json_integer_value(v));
        } else {
            double x = 0, y;
            TCHECK(json_is_real(v), "token %d: number, jansson type %d", i,
                   json_typeof(v));
            y = json_real_value(v);
            TCHECK(jtok_double(s, t, i, &x) == 0 && memcmp(&x, &y, sizeof(x)) == 0,
                   "token %d: real '%.*s': jtok %.17g, jansson %.17g", i,
                   (int)k->len, s + k->start, x, y);
        }
        return i + 1;
    case JT_TRUE:
        TCHECK(json_is_true(v), "token %d: true", i);
        return i + 1;
    case JT_FALSE:
        TCHECK(json_is_false(v), "token %d: false", i);
        return i + 1;
    case JT_NULL:
        TCHECK(json_is_null(v), "token %d: null", i);
        return i + 1;
    }
    ck_abort_msg("token %d: bad type %d", i, k->type);
    return -1;
}

struct verdicts {
    long both_ok, both_bad;
    long kd[KD_COUNT];
};

static struct jtok TOK[MAXTOK];
static char SCRATCH[1 << 16];

/* jtok's verdict on s[0..n) against jansson's.  full: walk the trees
 * (keys known unique). */
static void compare_one(const char *s, size_t n, int full, struct verdicts *vd,
                        const char *what)
{
    size_t ep = (size_t)-1;
    json_error_t e;
    int r = jtok_parse(s, n, TOK, MAXTOK, &ep);
    json_t *j = ref_load(s, n, &e);

    TCHECK(r != JTOK_ENOTOK && r != JTOK_ETOOBIG, "seed %" PRIu64 ": %s: code %d",
           test_seed(), what, r);
    if (r > 0 && j != NULL) {
        TCHECK(tok_wellformed(TOK, r, 0) == r, "seed %" PRIu64 ": %s: bad tokens "
               "for \"%s\"", test_seed(), what, cesc(s, n));
        if (full)
            walk(s, TOK, 0, j, SCRATCH);
        vd->both_ok++;
    } else if (r < 0 && j == NULL) {
        if (r == JTOK_ESYNTAX)
            TCHECK(ep <= n, "seed %" PRIu64 ": %s: errpos %zu > %zu", test_seed(),
                   what, ep, n);
        vd->both_bad++;
    } else if (r > 0) {
        enum kdiff kd = classify(&e);
        TCHECK(kd != KD_NONE, "seed %" PRIu64 ": %s: jtok accepts (%d tokens), "
               "jansson refuses (%s, code %d): \"%s\"", test_seed(), what, r,
               e.text, (int)json_error_code(&e), cesc(s, n));
        vd->kd[kd]++;
    } else {
        int d = r == JTOK_EDEPTH ? json_depth(j) : 0;
        json_decref(j);
        TCHECK(r == JTOK_EDEPTH && d > JTOK_MAXDEPTH,
               "seed %" PRIu64 ": %s: jtok refuses (code %d at byte %zu), jansson "
               "accepts: \"%s\"", test_seed(), what, r, ep, cesc(s, n));
        vd->kd[KD_DEPTH]++;
        return;
    }
    json_decref(j);
}

/* ---- hand-written documents ---------------------------------------------- */

static const struct {
    const char *in;
    const char *tokens;
} valid_cases[] = {
    /* (jtok.h's comment says end=6 for this one; 7 tokens, so 7.) */
    { "{\"a\":[1,2],\"b\":\"x\"}", "O2,7 s'a' A2,5 n'1' n'2' s'b' s'x'" },
    { "0", "n'0'" },
    { " -0 ", "n'-0'" },
    { "-12.5e+3", "n'-12.5e+3'" },
    { "1E-7", "n'1E-7'" },
    { "0.0", "n'0.0'" },
    { "0e0", "n'0e0'" },
    { "-0.000e-000", "n'-0.000e-000'" },
    { "123456789012345678", "n'123456789012345678'" },
    { "\"\"", "s''" },
    { "\"abc def\"", "s'abc def'" },
    { "\"a\\\"b\"", "S'a\\\"b'" },
    { "\"\\/\\b\\f\\n\\r\\t\\\\\"", "S'\\/\\b\\f\\n\\r\\t\\\\'" },
    { "\"\\u00e9\\uD83D\\uDE00\"", "S'\\u00e9\\uD83D\\uDE00'" },
    { "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "s'caf\xc3\xa9 \xf0\x9f\x98\x80'" },
    { "\"\x7f\"", "s'\x7f'" },
    { "true", "true" },
    { " false", "false" },
    { "null\n", "null" },
    { "[]", "A0,1" },
    { "{}", "O0,1" },
    { "[[]]", "A1,2 A0,2" },
    { "[{}, []]", "A2,3 O0,2 A0,3" },
    { "[[[1]],2]", "A2,5 A1,4 A1,4 n'1' n'2'" },
    { "{\"e\":[],\"f\":{}}", "O2,5 s'e' A0,3 s'f' O0,5" },
    { "{\"a\":{\"b\":{\"c\":[true,false,null]}}}",
      "O1,10 s'a' O1,10 s'b' O1,10 s'c' A3,10 true false null" },
    { " \t\r\n[ 1 ,\t2\r,\n3 ]\n", "A3,4 n'1' n'2' n'3'" },
    { "{ \"k\" : \"v\" , \"n\" : -1 }", "O2,5 s'k' s'v' s'n' n'-1'" },
    { "{\"\":0}", "O1,3 s'' n'0'" },
    { "[\"a\",{\"k\":\"v\"},3]", "A3,6 s'a' O1,5 s'k' s'v' n'3'" },
    { "{\"a\":1,\"a\":2}", "O2,5 s'a' n'1' s'a' n'2'" },     /* duplicates kept */
    { "[1e5,1E+5,1e-5,-1.5E-05]", "A4,5 n'1e5' n'1E+5' n'1e-5' n'-1.5E-05'" },
};

START_TEST(valid_documents)
{
    for (size_t c = 0; c < sizeof(valid_cases) / sizeof(valid_cases[0]); c++) {
        const char *in = valid_cases[c].in;
        size_t n = strlen(in), ep = 0;
        json_error_t e;
        int r = jtok_parse(in, n, TOK, MAXTOK, &ep);

        ck_assert_msg(r > 0, "\"%s\": code %d at %zu", cesc(in, n), r, ep);
        ck_assert_msg(tok_wellformed(TOK, r, 0) == r, "\"%s\": bad tokens", cesc(in, n));
        ck_assert_str_eq(render(in, TOK, r), valid_cases[c].tokens);
        json_t *j = ref_load(in, n, &e);
        ck_assert_msg(j != NULL, "jansson refuses \"%s\": %s", cesc(in, n), e.text);
        json_decref(j);
        /* Exactly enough tokens is enough; one fewer is JTOK_ENOTOK. */
        ck_assert_int_eq(jtok_parse(in, n, TOK, (size_t)r, NULL), r);
        ck_assert_int_eq(jtok_parse(in, n, TOK, (size_t)r - 1, NULL), JTOK_ENOTOK);
    }
}
END_TEST

/* Invalid: jtok refuses (JTOK_ESYNTAX at errpos), and so does jansson. */
static const struct {
    const char *in;
    size_t len;             /* 0: strlen */
    long errpos;            /* -1: not checked */
} invalid_cases[] = {
    { "", 0, 0 }, { "   ", 0, 3 }, { "[", 0, 1 }, { "]", 0, 0 }, { "{", 0, 1 },
    { "}", 0, 0 }, { "[1", 0, 2 }, { "{\"a\":1", 0, 6 },
    /* trailing and missing commas */
    { "[1,]", 0, 3 }, { "[1,,2]", 0, 3 }, { "[,1]", 0, 1 }, { "{\"a\":1,}", 0, 7 },
    { "{,}", 0, 1 }, { "[1 2]", 0, 3 }, { "{\"a\":1 \"b\":2}", 0, 7 },
    { "[1,]  ", 0, 3 }, { "[[],]", 0, 4 },
    /* object grammar */
    { "{\"a\" 1}", 0, 5 }, { "{\"a\":}", 0, 5 }, { "{1:2}", 0, 1 }, { "{\"a\"}", 0, 4 },
    { "{\"a\":1:2}", 0, 6 }, { "[\"a\":1]", 0, 4 }, { "{\"a\",1}", 0, 4 },
    { "{a:1}", 0, 1 }, { "{'a':1}", 0, 1 },
    /* closers and trailing text */
    { "[1]]", 0, 3 }, { "[1}", 0, 2 }, { "{\"a\":1]", 0, 6 }, { "[1]x", 0, 3 },
    { "1 2", 0, 2 }, { "{}{}", 0, 2 }, { "[1]/*c*/", 0, 3 }, { "//c\n1", 0, 0 },
    /* literals */
    { "tru", 0, 0 }, { "True", 0, 0 }, { "nul", 0, 0 }, { "nulll", 0, 4 },
    { "falsee", 0, 5 }, { "NaN", 0, 0 }, { "Infinity", 0, 0 }, { "-Infinity", 0, 0 },
    { "[truefalse]", 0, 5 }, { "undefined", 0, 0 }, { "FALSE", 0, 0 },
    /* numbers: leading zeros, signs, missing digits, hex */
    { "01", 0, 1 }, { "-01", 0, 2 }, { "00", 0, 1 }, { "[01]", 0, 2 },
    { "{\"a\":007}", 0, 6 }, { "0.0.1", 0, 3 }, { "+1", 0, 0 }, { ".5", 0, 0 },
    { "1.", 0, 0 }, { "1.e5", 0, 0 }, { "1e", 0, 0 }, { "1e+", 0, 0 }, { "1E-", 0, 0 },
    { "-", 0, 0 }, { "--1", 0, 0 }, { "- 1", 0, 0 }, { "0x10", 0, 1 },
    { "1.5e3.2", 0, 5 }, { "1e5e5", 0, 3 }, { "[-]", 0, 1 }, { "[1.]", 0, 1 },
    /* strings: unterminated, bad escapes, control characters */
    { "\"abc", 0, 4 }, { "\"", 0, 1 }, { "\"\\", 0, 2 }, { "\"\\\"", 0, 3 },
    { "\"\\x\"", 0, 2 }, { "\"\\'\"", 0, 2 }, { "\"\\U0041\"", 0, 2 },
    { "\"\\u12\"", 0, 2 }, { "\"\\u12g4\"", 0, 2 }, { "\"\\u\"", 0, 2 },
    { "\"\\u004\"", 0, 2 }, { "\"\\0\"", 0, 2 }, { "\"\\a\"", 0, 2 },
    { "\"a\nb\"", 0, 2 }, { "\"\x01\"", 0, 1 }, { "\"\x1f\"", 0, 1 },
    { "\"\t\"", 0, 1 }, { "\"a\rb\"", 0, 2 }, { "\"a\0b\"", 5, 2 }, { "'a'", 0, 0 },
    { "{\"a\nb\":1}", 0, 3 },
    /* bytes outside strings */
    { "[1,\0]", 5, 3 }, { "\0", 1, 0 }, { "\xef\xbb\xbf[]", 0, 0 },
    { "[\xc3\xa9]", 0, 1 }, { "\f1", 0, 0 }, { "\v1", 0, 0 }, { "1\f", 0, 1 },
};

START_TEST(invalid_documents)
{
    for (size_t c = 0; c < sizeof(invalid_cases) / sizeof(invalid_cases[0]); c++) {
        const char *in = invalid_cases[c].in;
        size_t n = invalid_cases[c].len ? invalid_cases[c].len : strlen(in);
        size_t ep = (size_t)-1;
        json_error_t e;
        int r = jtok_parse(in, n, TOK, MAXTOK, &ep);

        ck_assert_msg(r == JTOK_ESYNTAX, "\"%s\": jtok gives %d", cesc(in, n), r);
        if (invalid_cases[c].errpos >= 0)
            ck_assert_msg(ep == (size_t)invalid_cases[c].errpos,
                          "\"%s\": errpos %zu, want %ld", cesc(in, n), ep,
                          invalid_cases[c].errpos);
        /* errpos may be NULL. */
        ck_assert_int_eq(jtok_parse(in, n, TOK, MAXTOK, NULL), JTOK_ESYNTAX);
        json_t *j = ref_load(in, n, &e);
        ck_assert_msg(j == NULL, "jansson accepts \"%s\"", cesc(in, n));
    }
}
END_TEST

/* ---- known differences, each asserted so a change shows ------------------ */

START_TEST(known_differences)
{
    static const struct {
        const char *in;
        enum kdiff kd;
    } cases[] = {
        /* jtok does not validate UTF-8 (jtok.c says so). */
        { "\"\xff\"", KD_UTF8 },
        { "\"\xc3\"", KD_UTF8 },
        { "\"\xed\xa0\x80\"", KD_UTF8 },          /* a raw UTF-8 surrogate */
        { "\"\xc0\xaf\"", KD_UTF8 },              /* overlong */
        { "{\"\x80\":1}", KD_UTF8 },
        /* Lone or mismatched surrogate escapes: valid JSON grammar,
         * RFC 8259 s8.2 calls them unpredictable; jansson refuses. */
        { "\"\\ud800\"", KD_SURROGATE },
        { "\"\\udc00\"", KD_SURROGATE },
        { "\"\\ud83d\\u0041\"", KD_SURROGATE },
        { "\"\\ud83dx\"", KD_SURROGATE },
        /* Numbers beyond jansson's int64 / double. */
        { "9223372036854775808", KD_NUMRANGE },
        { "-9223372036854775809", KD_NUMRANGE },
        { "123456789012345678901234567890", KD_NUMRANGE },
        { "1e400", KD_NUMRANGE },
        { "[-1.5E+309]", KD_NUMRANGE },
        /* NUL in a key. */
        { "{\"a\\u0000\":1}", KD_NULKEY },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *in = cases[c].in;
        size_t n = strlen(in);
        json_error_t e;
        int r = jtok_parse(in, n, TOK, MAXTOK, NULL);
        json_t *j = ref_load(in, n, &e);

        ck_assert_msg(r > 0, "\"%s\": jtok gives %d", cesc(in, n), r);
        ck_assert_msg(j == NULL, "\"%s\": jansson accepts", cesc(in, n));
        ck_assert_msg(classify(&e) == cases[c].kd, "\"%s\": jansson says %s (class %d)",
                      cesc(in, n), e.text, classify(&e));
    }

    /* "\u0000" in a value: valid JSON; jansson needs JSON_ALLOW_NUL. */
    {
        const char *in = "\"a\\u0000b\"";
        json_error_t e;
        json_t *j;
        ck_assert_int_eq(jtok_parse(in, strlen(in), TOK, MAXTOK, NULL), 1);
        ck_assert_ptr_null(json_loadb(in, strlen(in), JSON_DECODE_ANY, &e));
        ck_assert_int_eq(json_error_code(&e), json_error_null_character);
        j = ref_load(in, strlen(in), &e);
        ck_assert_ptr_nonnull(j);
        ck_assert_uint_eq(json_string_length(j), 3);
        json_decref(j);
    }
    /* A number at the top level, a string holding JSON: JSON_DECODE_ANY. */
    ck_assert_int_eq(jtok_parse("5", 1, TOK, MAXTOK, NULL), 1);
}
END_TEST

/* ---- depth -------------------------------------------------------------- */

static size_t nest(char *buf, int depth, int objects, const char *inner)
{
    size_t o = 0;

    for (int i = 0; i < depth; i++)
        o += (size_t)sprintf(buf + o, "%s", objects && (i & 1) ? "{\"k\":" : "[");
    o += (size_t)sprintf(buf + o, "%s", inner);
    for (int i = depth - 1; i >= 0; i--)
        buf[o++] = objects && (i & 1) ? '}' : ']';
    buf[o] = '\0';
    return o;
}

START_TEST(depth_limit)
{
    char buf[4096];
    json_error_t e;

    for (int objects = 0; objects <= 1; objects++) {
        size_t n = nest(buf, JTOK_MAXDEPTH, objects, "1");
        int keys = objects ? JTOK_MAXDEPTH / 2 : 0;
        ck_assert_int_eq(jtok_parse(buf, n, TOK, MAXTOK, NULL), JTOK_MAXDEPTH + 1 + keys);
        n = nest(buf, JTOK_MAXDEPTH, objects, "null");
        ck_assert_int_eq(jtok_parse(buf, n, TOK, MAXTOK, NULL), JTOK_MAXDEPTH + 1 + keys);
        if (!objects) {
            n = nest(buf, JTOK_MAXDEPTH, 0, "");
            ck_assert_int_eq(jtok_parse(buf, n, TOK, MAXTOK, NULL), JTOK_MAXDEPTH);
        }
        n = nest(buf, JTOK_MAXDEPTH + 1, objects, "1");
        ck_assert_int_eq(jtok_parse(buf, n, TOK, MAXTOK, NULL), JTOK_EDEPTH);
        /* Known difference: jansson nests to 2048. */
        json_t *j = ref_load(buf, n, &e);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_depth(j), JTOK_MAXDEPTH + 1);
        json_decref(j);
        n = nest(buf, 500, objects, "1");
        ck_assert_int_eq(jtok_parse(buf, n, TOK, MAXTOK, NULL), JTOK_EDEPTH);
    }
    /* Depth is nesting, not the number of containers. */
    {
        size_t o = 0;
        buf[o++] = '[';
        for (int i = 0; i < 200; i++)
            o += (size_t)sprintf(buf + o, "%s[[]]", i ? "," : "");
        buf[o++] = ']';
        ck_assert_int_eq(jtok_parse(buf, o, TOK, MAXTOK, NULL), 401);
    }
    /* Deep and unbalanced: refused either way. */
    memset(buf, '[', 100);
    ck_assert_int_lt(jtok_parse(buf, 100, TOK, MAXTOK, NULL), 0);
}
END_TEST

START_TEST(token_limits)
{
    const char *in = "[1,[2,3],{\"a\":4}]";
    size_t n = strlen(in);
    struct jtok big;

    ck_assert_int_eq(jtok_parse(in, n, TOK, MAXTOK, NULL), 8);
    for (size_t m = 0; m < 8; m++)
        ck_assert_int_eq(jtok_parse(in, n, TOK, m, NULL), JTOK_ENOTOK);
    /* Only the first max tokens are ever written. */
    memset(TOK, 0xAB, 4 * sizeof(TOK[0]));
    ck_assert_int_eq(jtok_parse(in, n, TOK, 3, NULL), JTOK_ENOTOK);
    ck_assert_int_eq(TOK[3].type, 0xAB);
    /* Longer than 4 GiB: refused before a byte is read. */
    ck_assert_int_eq(jtok_parse("1", (size_t)UINT32_MAX + 1, &big, 1, NULL),
                     JTOK_ETOOBIG);
}
END_TEST

/* ---- the random document generator -------------------------------------- */

struct gen {
    struct trng *r;
    char *s;
    size_t n, cap;
    struct jtok t[MAXTOK];
    size_t nt;
    size_t budget;          /* tokens left */
    int maxdepth;
    unsigned keyseq;
};

static void gput(struct gen *g, const char *p, size_t n)
{
    if (g->n + n + 1 > g->cap) {
        g->cap = (g->n + n + 1) * 2;
        g->s = realloc(g->s, g->cap);
        ck_assert_ptr_nonnull(g->s);
    }
    memcpy(g->s + g->n, p, n);
    g->n += n;
}

static void gputc(struct gen *g, char c)
{
    gput(g, &c, 1);
}

static void gen_ws(struct gen *g)
{
    static const char ws[] = " \t\n\r";

    if (trng_below(g->r, 4) == 0)
        for (uint64_t k = 1 + trng_below(g->r, 3); k; k--)
            gputc(g, ws[trng_below(g->r, 4)]);
}

static struct jtok *gtok(struct gen *g, int type)
{
    struct jtok *k = &g->t[g->nt];

    memset(k, 0, sizeof(*k));
    k->type = (uint8_t)type;
    k->start = (uint32_t)g->n;
    g->nt++;
    k->end = (uint32_t)g->nt;
    if (g->budget)
        g->budget--;
    return k;
}

static void gen_hex4(struct gen *g, unsigned v)
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *h = trng_below(g->r, 2) ? lo : up;
    char b[6] = { '\\', 'u', h[(v >> 12) & 15], h[(v >> 8) & 15], h[(v >> 4) & 15],
                  h[v & 15] };

    gput(g, b, 6);
}

static void gen_string(struct gen *g, int is_key)
{
    struct jtok *k;
    uint64_t pieces = trng_below(g->r, 4) == 0 ? 0 : trng_below(g->r, 12);

    gputc(g, '"');
    k = gtok(g, JT_STR);
    for (uint64_t p = 0; p < pieces; p++) {
        switch (trng_below(g->r, 6)) {
        case 0: case 1: {             /* printable ASCII */
            uint64_t l = 1 + trng_below(g->r, 6);
            for (uint64_t i = 0; i < l; i++) {
                char c;
                do
                    c = (char)(0x20 + trng_below(g->r, 0x60));
                while (c == '"' || c == '\\');
                gputc(g, c);
            }
            break;
        }
        case 2: {                     /* a two-character escape */
            static const char e[] = "\"\\/bfnrt";
            char b[2] = { '\\', e[trng_below(g->r, 8)] };
            gput(g, b, 2);
            k->escaped = 1;
            break;
        }
        case 3: {                     /* \uXXXX outside the surrogates */
            unsigned v;
            do
                v = trng_below(g->r, 8) == 0 ? (unsigned)trng_below(g->r, 0x20)
                                             : (unsigned)trng_below(g->r, 0x10000);
            while ((v >= 0xD800 && v < 0xE000) || (is_key && v == 0));
            gen_hex4(g, v);
            k->escaped = 1;
            break;
        }
        case 4:                       /* a surrogate pair */
            gen_hex4(g, 0xD800 + (unsigned)trng_below(g->r, 0x400));
            gen_hex4(g, 0xDC00 + (unsigned)trng_below(g->r, 0x400));
            k->escaped = 1;
            break;
        default: {                    /* raw UTF-8, 2 to 4 bytes */
            static const unsigned long lo[] = { 0x80, 0x800, 0x10000 };
            static const unsigned long hi[] = { 0x7FF, 0xFFFF, 0x10FFFF };
            char b[4];
            unsigned long cp;
            int w = (int)trng_below(g->r, 3);
            do
                cp = lo[w] + trng_below(g->r, hi[w] - lo[w] + 1);
            while (cp >= 0xD800 && cp < 0xE000);
            gput(g, b, put_cp(b, cp));
            break;
        }
        }
    }
    if (is_key) {                     /* unique keys: jansson keeps one */
        char b[16];
        int l = snprintf(b, sizeof(b), "#%u", g->keyseq++);
        gput(g, b, (size_t)l);
    }
    k->len = (uint32_t)(g->n - k->start);
    gputc(g, '"');
}

static void gen_digits(struct gen *g, uint64_t n, int first_nonzero)
{
    for (uint64_t i = 0; i < n; i++)
        gputc(g, (char)('0' + (i == 0 && first_nonzero ? 1 + trng_below(g->r, 9)
                                                       : trng_below(g->r, 10))));
}

static void gen_number(struct gen *g)
{
    struct jtok *k = gtok(g, JT_NUM);

    if (trng_below(g->r, 3) == 0)
        gputc(g, '-');
    if (trng_below(g->r, 4) == 0)
        gputc(g, '0');
    else
        gen_digits(g, 1 + trng_below(g->r, 18), 1);
    if (trng_below(g->r, 2)) {
        gputc(g, '.');
        gen_digits(g, 1 + trng_below(g->r, 12), 0);
    }
    if (trng_below(g->r, 3) == 0) {
        gputc(g, trng_below(g->r, 2) ? 'e' : 'E');
        switch (trng_below(g->r, 3)) {
        case 0: gputc(g, '+'); break;
        case 1: gputc(g, '-'); break;
        }
        if (trng_below(g->r, 5) == 0)
            gputc(g, '0');
        gen_digits(g, 1 + trng_below(g->r, 2), 0);
    }
    k->len = (uint32_t)(g->n - k->start);
}

static void gen_value(struct gen *g, int depth)
{
    uint64_t pick = trng_below(g->r, 10);

    gen_ws(g);
    if (depth < g->maxdepth && g->budget > 0 && pick < 4) {
        int obj = pick < 2;
        size_t me = g->nt;
        uint64_t nkids = trng_below(g->r, 7);
        gtok(g, obj ? JT_OBJ : JT_ARR);
        gputc(g, obj ? '{' : '[');
        gen_ws(g);
        for (uint64_t c = 0; c < nkids && g->budget > 0; c++) {
            if (c) {
                gputc(g, ',');
                gen_ws(g);
            }
            if (obj) {
                gen_string(g, 1);
                gen_ws(g);
                gputc(g, ':');
            }
            gen_value(g, depth + 1);
            gen_ws(g);
            g->t[me].size++;
        }
        gputc(g, obj ? '}' : ']');
        g->t[me].end = (uint32_t)g->nt;
        return;
    }
    switch (pick) {
    case 4: case 5: gen_string(g, 0); break;
    case 6: case 7: gen_number(g); break;
    case 8: {
        static const char *lit[] = { "true", "false", "null" };
        int w = (int)trng_below(g->r, 3);
        struct jtok *k = gtok(g, JT_TRUE + w);
        k->len = (uint32_t)strlen(lit[w]);
        gput(g, lit[w], k->len);
        break;
    }
    default:
        /* Prefer containers at the top so documents have structure. */
        if (depth == 0 && g->budget > 0) {
            size_t me = g->nt;
            gtok(g, JT_ARR);
            gputc(g, '[');
            gen_value(g, depth + 1);
            gputc(g, ']');
            g->t[me].size = 1;
            g->t[me].end = (uint32_t)g->nt;
        } else {
            gen_number(g);
        }
    }
}

static void gen_doc(struct gen *g)
{
    g->n = 0;
    g->nt = 0;
    g->keyseq = 0;
    g->budget = 1 + trng_below(g->r, trng_below(g->r, 8) == 0 ? 400 : 40);
    g->maxdepth = (int)(trng_below(g->r, 20) == 0 ? JTOK_MAXDEPTH : 1 + trng_below(g->r, 8));
    gen_value(g, 0);
    gen_ws(g);
    g->s[g->n] = '\0';
}

/* Mutation bytes: JSON's own characters, controls, non-ASCII. */
static const char MUT[] = "{}[]\",:\\ \t\n\r0123456789eE.-+tfnulasrxbu/'\x01\x1f\x7f\x80\xc3\xff";

START_TEST(random_documents)
{
    struct trng r;
    struct gen *g = calloc(1, sizeof(*g));
    struct verdicts vd;
    char *m = NULL;
    size_t mcap = 0;
    long docs = 5000, full_trunc = 300;

    ck_assert_ptr_nonnull(g);
    memset(&vd, 0, sizeof(vd));
    trng_init(&r, "jtok-random-documents");
    g->r = &r;
    for (long d = 0; d < docs; d++) {
        char what[64];

        gen_doc(g);
        /* The generator's tokens exactly. */
        int n = jtok_parse(g->s, g->n, TOK, MAXTOK, NULL);
        TCHECK(n == (int)g->nt, "seed %" PRIu64 ": doc %ld: %d tokens, want %zu: \"%s\"",
               test_seed(), d, n, g->nt, cesc(g->s, g->n));
        for (int i = 0; i < n; i++)
            TCHECK(memcmp(&TOK[i], &g->t[i], sizeof(TOK[i])) == 0,
                   "seed %" PRIu64 ": doc %ld token %d: got type %d start %u len %u "
                   "size %u end %u esc %d, want type %d start %u len %u size %u "
                   "end %u esc %d: \"%s\"", test_seed(), d, i, TOK[i].type,
                   TOK[i].start, TOK[i].len, TOK[i].size, TOK[i].end, TOK[i].escaped,
                   g->t[i].type, g->t[i].start, g->t[i].len, g->t[i].size,
                   g->t[i].end, g->t[i].escaped, cesc(g->s, g->n));
        TCHECK_INT(jtok_parse(g->s, g->n, TOK, g->nt - 1, NULL), JTOK_ENOTOK);
        snprintf(what, sizeof(what), "doc %ld", d);
        /* jansson accepts it and holds the same tree. */
        long ok_before = vd.both_ok;
        compare_one(g->s, g->n, 1, &vd, what);
        TCHECK(vd.both_ok == ok_before + 1, "seed %" PRIu64 ": doc %ld refused: \"%s\"",
               test_seed(), d, cesc(g->s, g->n));

        if (mcap < g->n + 2) {
            mcap = (g->n + 2) * 2;
            m = realloc(m, mcap);
            ck_assert_ptr_nonnull(m);
        }
        /* Truncations: all of them for the first documents, some later. */
        if (d < full_trunc) {
            for (size_t l = 0; l < g->n; l++) {
                snprintf(what, sizeof(what), "doc %ld cut at %zu", d, l);
                compare_one(g->s, l, 0, &vd, what);
            }
        } else {
            for (int k = 0; k < 4; k++) {
                size_t l = trng_below(&r, g->n);
                snprintf(what, sizeof(what), "doc %ld cut at %zu", d, l);
                compare_one(g->s, l, 0, &vd, what);
            }
        }
        /* Single-byte mutations: replace, insert, delete. */
        for (int k = 0; k < 12; k++) {
            size_t at = trng_below(&r, g->n), ml = g->n;
            char c = MUT[trng_below(&r, sizeof(MUT) - 1)];
            int op = (int)trng_below(&r, 3);
            memcpy(m, g->s, g->n);
            if (op == 0) {
                m[at] = c;
            } else if (op == 1) {
                memmove(m + at + 1, m + at, g->n - at);
                m[at] = c;
                ml++;
            } else {
                memmove(m + at, m + at + 1, g->n - at - 1);
                ml--;
            }
            snprintf(what, sizeof(what), "doc %ld op %d at %zu", d, op, at);
            compare_one(m, ml, 0, &vd, what);
        }
    }
    /* The mutations did reach both verdicts and the known differences. */
    ck_assert_int_gt(vd.both_bad, docs);
    ck_assert_int_gt(vd.both_ok, docs);
    ck_assert_int_gt(vd.kd[KD_UTF8], 0);
    ck_assert_int_gt(vd.kd[KD_SURROGATE], 0);
    if (getenv("JTOK_VERBOSE"))
        fprintf(stderr, "jtok: both ok %ld, both refused %ld; jtok only: utf8 %ld, "
                "surrogate %ld, numrange %ld, nulkey %ld; jansson only: depth %ld\n",
                vd.both_ok, vd.both_bad, vd.kd[KD_UTF8], vd.kd[KD_SURROGATE],
                vd.kd[KD_NUMRANGE], vd.kd[KD_NULKEY], vd.kd[KD_DEPTH]);
    free(m);
    free(g->s);
    free(g);
}
END_TEST

/* ---- accessors ----------------------------------------------------------- */

static int parse_ok(const char *s)
{
    int n = jtok_parse(s, strlen(s), TOK, MAXTOK, NULL);
    ck_assert_msg(n > 0, "\"%s\": %d", s, n);
    return n;
}

/* Type of token i, or -1 for a failed lookup (never indexes t[-1]). */
static int ttype(int i)
{
    return i >= 0 ? TOK[i].type : -1;
}

/* First byte of token i's text, or -1. */
static int tchar(const char *s, int i)
{
    return i >= 0 ? s[TOK[i].start] : -1;
}

START_TEST(get_and_at)
{
    const char *s = "{\"a\":{\"x\":1,\"y\":[1,2,{\"z\":3}]},\"ab\":[],\"b\":2,"
                    "\"e\\u0073c\":\"v\",\"\":null,\"b\":3}";
    int n = parse_ok(s), a, y, z;

    (void)n;
    a = jtok_get(s, TOK, 0, "a");
    ck_assert_int_eq(a, 2);
    ck_assert_int_eq(ttype(a), JT_OBJ);
    /* Whole subtrees are skipped. */
    ck_assert_int_eq(jtok_get(s, TOK, 0, "ab"), TOK[a].end + 1);
    ck_assert_int_eq(ttype(jtok_get(s, TOK, 0, "ab")), JT_ARR);
    {
        int b = jtok_get(s, TOK, 0, "b");
        ck_assert_int_eq(ttype(b), JT_NUM);
        ck_assert_int_eq(tchar(s, b), '2');        /* the first of two */
    }
    ck_assert_int_eq(ttype(jtok_get(s, TOK, 0, "")), JT_NULL);     /* empty key */
    ck_assert_int_eq(jtok_get(s, TOK, 0, "x"), -1);     /* not at this level */
    ck_assert_int_eq(jtok_get(s, TOK, 0, "A"), -1);
    ck_assert_int_eq(jtok_get(s, TOK, 0, "abc"), -1);
    /* Keys compare raw: an escaped key matches only its escaped text. */
    ck_assert_int_eq(jtok_get(s, TOK, 0, "esc"), -1);
    ck_assert_int_gt(jtok_get(s, TOK, 0, "e\\u0073c"), 0);
    y = jtok_get(s, TOK, a, "y");
    ck_assert_int_eq(ttype(y), JT_ARR);
    ck_assert_int_eq(jtok_get(s, TOK, y, "x"), -1);     /* not an object */
    ck_assert_int_eq(jtok_get(s, TOK, -1, "a"), -1);
    ck_assert_int_eq(tchar(s, jtok_at(TOK, y, 0)), '1');
    ck_assert_int_eq(tchar(s, jtok_at(TOK, y, 1)), '2');
    z = jtok_at(TOK, y, 2);
    ck_assert_int_eq(ttype(z), JT_OBJ);
    ck_assert_int_eq(tchar(s, jtok_get(s, TOK, z, "z")), '3');
    ck_assert_int_eq(jtok_at(TOK, y, 3), -1);
    ck_assert_int_eq(jtok_at(TOK, y, UINT32_MAX), -1);
    ck_assert_int_eq(jtok_at(TOK, a, 0), -1);           /* an object */
    ck_assert_int_eq(jtok_at(TOK, -1, 0), -1);
    ck_assert_int_eq(jtok_at(TOK, jtok_get(s, TOK, 0, "ab"), 0), -1);

    /* jtok_first / jtok_next walk an array. */
    {
        int i, cnt = 0;
        for (i = jtok_first(TOK, y); cnt < 3; i = jtok_next(TOK, i))
            ck_assert_int_eq(i, jtok_at(TOK, y, (uint32_t)cnt++));
        ck_assert_int_eq(i, TOK[y].end);
        int ab = jtok_get(s, TOK, 0, "ab");
        ck_assert_int_ge(ab, 0);
        ck_assert_int_eq(jtok_first(TOK, ab), -1);
    }
}
END_TEST

START_TEST(streq_and_strcpy)
{
    const char *s = "[\"BTCUSDT\",\"a\\\"b\",\"\",12,true,\"BTC\"]";
    char buf[16];

    parse_ok(s);
    ck_assert(jtok_streq(s, TOK, 1, "BTCUSDT"));
    ck_assert(!jtok_streq(s, TOK, 1, "BTCUSD"));
    ck_assert(!jtok_streq(s, TOK, 1, "BTCUSDTX"));
    ck_assert(!jtok_streq(s, TOK, 1, "btcusdt"));
    ck_assert(jtok_streq(s, TOK, 2, "a\\\"b"));        /* raw */
    ck_assert(!jtok_streq(s, TOK, 2, "a\"b"));
    ck_assert(jtok_streq(s, TOK, 3, ""));
    ck_assert(!jtok_streq(s, TOK, 4, "12"));           /* a number */
    ck_assert(!jtok_streq(s, TOK, 5, "true"));
    ck_assert(!jtok_streq(s, TOK, -1, ""));
    ck_assert(!jtok_streq(s, TOK, 0, ""));             /* the array */

    ck_assert_int_eq(jtok_strcpy(s, TOK, 1, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "BTCUSDT");
    ck_assert_int_eq(jtok_strcpy(s, TOK, 1, buf, 8), 0);       /* exactly */
    ck_assert_str_eq(buf, "BTCUSDT");
    memcpy(buf, "untouched", 10);
    ck_assert_int_eq(jtok_strcpy(s, TOK, 1, buf, 7), -1);      /* one short */
    ck_assert_int_eq(jtok_strcpy(s, TOK, 1, buf, 0), -1);
    ck_assert_int_eq(jtok_strcpy(s, TOK, 2, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "a\\\"b");                           /* raw bytes */
    ck_assert_int_eq(jtok_strcpy(s, TOK, 3, buf, 1), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(jtok_strcpy(s, TOK, 4, buf, sizeof(buf)), -1);
    ck_assert_int_eq(jtok_strcpy(s, TOK, 5, buf, sizeof(buf)), -1);
    ck_assert_int_eq(jtok_strcpy(s, TOK, 0, buf, sizeof(buf)), -1);
    ck_assert_int_eq(jtok_strcpy(s, TOK, -1, buf, sizeof(buf)), -1);
    ck_assert_int_eq(jtok_strcpy(s, TOK, 6, buf, 4), 0);
    ck_assert_str_eq(buf, "BTC");
}
END_TEST

/* ---- jtok_i64 ------------------------------------------------------------ */

static int i64_of(const char *doc, int64_t *v)
{
    int n = jtok_parse(doc, strlen(doc), TOK, MAXTOK, NULL);
    ck_assert_msg(n == 1, "\"%s\": %d", doc, n);
    return jtok_i64(doc, TOK, 0, v);
}

START_TEST(i64_values)
{
    static const struct {
        const char *doc;
        int ok;
        int64_t v;
    } cases[] = {
        { "0", 1, 0 }, { "-0", 1, 0 }, { "7", 1, 7 }, { "-7", 1, -7 },
        { "1700000000123456789", 1, 1700000000123456789LL },
        { "9223372036854775807", 1, INT64_MAX },
        { "-9223372036854775808", 1, INT64_MIN },
        { "9223372036854775808", 0, 0 }, { "-9223372036854775809", 0, 0 },
        { "18446744073709551615", 0, 0 }, { "18446744073709551616", 0, 0 },
        { "99999999999999999999", 0, 0 }, { "184467440737095516150", 0, 0 },
        { "1.0", 0, 0 }, { "1e3", 0, 0 }, { "-1.5", 0, 0 }, { "0.0", 0, 0 },
        { "\"123\"", 1, 123 }, { "\"-42\"", 1, -42 }, { "\"\"", 0, 0 },
        { "\"-\"", 0, 0 }, { "\"+1\"", 0, 0 }, { "\" 1\"", 0, 0 }, { "\"1 \"", 0, 0 },
        { "\"0x10\"", 0, 0 }, { "\"9223372036854775808\"", 0, 0 },
        { "true", 0, 0 }, { "null", 0, 0 },
        /* a non-digit inside or after an eight-digit block */
        { "\"1234567x\"", 0, 0 }, { "\"12345678x\"", 0, 0 },
        { "\"123456789012345x\"", 0, 0 }, { "\"1234567890123456x\"", 0, 0 },
        { "\"12345678/\"", 0, 0 }, { "\"1234567:\"", 0, 0 },
        { "1234567890123456", 1, 1234567890123456LL },
        { "-12345678", 1, -12345678 },
    };
    int64_t v;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        v = 12345;
        int rc = i64_of(cases[c].doc, &v);
        ck_assert_msg(rc == (cases[c].ok ? 0 : -1), "%s: rc %d", cases[c].doc, rc);
        if (cases[c].ok)
            ck_assert_msg(v == cases[c].v, "%s: %" PRId64, cases[c].doc, v);
        else
            ck_assert_msg(v == 12345, "%s: *out written on failure", cases[c].doc);
    }
    parse_ok("[[1]]");
    ck_assert_int_eq(jtok_i64("[[1]]", TOK, 0, &v), -1);
    ck_assert_int_eq(jtok_i64("[[1]]", TOK, -1, &v), -1);
}
END_TEST

START_TEST(i64_random)
{
    struct trng r;
    char doc[40];

    trng_init(&r, "jtok-i64");
    for (int it = 0; it < 200000; it++) {
        size_t o = 0;
        int nd = 1 + (int)trng_below(&r, 21);
        if (trng_below(&r, 2))
            doc[o++] = '-';
        for (int i = 0; i < nd; i++)
            doc[o++] = (char)('0' + (i == 0 && nd > 1 ? 1 + trng_below(&r, 9)
                                                      : trng_below(&r, 10)));
        doc[o] = '\0';
        /* Near the edges more often. */
        if (trng_below(&r, 8) == 0)
            o = (size_t)snprintf(doc, sizeof(doc), "%s%llu", trng_below(&r, 2) ? "-" : "",
                                 9223372036854775800ULL + trng_below(&r, 16));
        errno = 0;
        long long want = strtoll(doc, NULL, 10);
        int want_ok = errno == 0;
        int64_t got = 0;
        TCHECK_INT(jtok_parse(doc, o, TOK, 4, NULL), 1);
        int rc = jtok_i64(doc, TOK, 0, &got);
        TCHECK(rc == (want_ok ? 0 : -1) && (!want_ok || got == want),
               "seed %" PRIu64 ": jtok_i64(%s): rc %d value %" PRId64 ", strtoll %lld%s",
               test_seed(), doc, rc, got, want, want_ok ? "" : " (ERANGE)");
    }
}
END_TEST

/* ---- jtok_dec ------------------------------------------------------------ */

/* The reference: the decimal digits d[0..nd) with the point after point
 * digits (any integer, may lie outside), rounded half to even to 8 places,
 * digit by digit.  0, or -1 when beyond DEC_MAX_UNITS. */
static int ref_dec(int neg, const char *d, int nd, int point, dec_t *out)
{
    int cut = point + DEC_DIGITS;
    unsigned __int128 u = 0;
    int rd = 0, sticky = 0;

    for (int i = 0; i < cut; i++) {
        int dig = i >= 0 && i < nd ? d[i] - '0' : 0;
        if (u > (unsigned __int128)DEC_MAX_UNITS)
            return -1;
        u = u * 10 + (unsigned)dig;
    }
    if (cut >= 0 && cut < nd)
        rd = d[cut] - '0';
    for (int i = cut + 1 < 0 ? 0 : cut + 1; i < nd; i++)
        sticky |= d[i] != '0';
    if (cut < 0)
        sticky |= rd != 0, rd = 0;     /* every digit is below the rounding digit */
    if (rd > 5 || (rd == 5 && (sticky || (u & 1))))
        u++;
    if (u > (unsigned __int128)DEC_MAX_UNITS)
        return -1;
    *out = neg ? -(dec_t)u : (dec_t)u;
    return 0;
}

static int dec_of(const char *doc, dec_t *v)
{
    int n = jtok_parse(doc, strlen(doc), TOK, MAXTOK, NULL);
    ck_assert_msg(n == 1, "\"%s\": %d", doc, n);
    return jtok_dec(doc, TOK, 0, v);
}

START_TEST(dec_values)
{
    static const struct {
        const char *doc;
        int ok;
        long long units;
    } cases[] = {
        { "0", 1, 0 }, { "-0", 1, 0 }, { "1", 1, 100000000 }, { "0.1", 1, 10000000 },
        { "-0.00000001", 1, -1 }, { "123456789.12345678", 1, 12345678912345678LL },
        { "1e-8", 1, 1 }, { "1.5e-3", 1, 150000 }, { "1E+2", 1, 10000000000LL },
        { "\"0.001\"", 1, 100000 }, { "\"37100.50000000\"", 1, 3710050000000LL },
        /* half to even at the 9th place */
        { "0.000000005", 1, 0 }, { "0.000000015", 1, 2 }, { "0.000000025", 1, 2 },
        { "0.000000035", 1, 4 }, { "-0.000000015", 1, -2 }, { "-0.000000025", 1, -2 },
        { "0.0000000050000001", 1, 1 }, { "0.00000000499999999999", 1, 0 },
        { "0.123456785", 1, 12345678 }, { "0.123456795", 1, 12345680 },
        { "2.5e-8", 1, 2 }, { "3.5e-8", 1, 4 }, { "5e-9", 1, 0 }, { "5.1e-9", 1, 1 },
        { "15e-9", 1, 2 }, { "0.0000000149999", 1, 1 }, { "1e-30", 1, 0 },
        { "1e-100000", 1, 0 },
        /* wrong types and texts */
        { "true", 0, 0 }, { "null", 0, 0 }, { "\"abc\"", 0, 0 }, { "\"\"", 0, 0 },
        { "\" 1\"", 0, 0 }, { "\"+1\"", 0, 0 }, { "\"1.\"", 0, 0 }, { "\"nan\"", 0, 0 },
        { "\"0x1\"", 0, 0 }, { "\"1e\"", 0, 0 },
        /* range: DEC_MAX_UNITS is 1e24 */
        { "1e25", 0, 0 }, { "-1e25", 0, 0 }, { "1e400", 0, 0 },
        { "1000000000000000000000000.00000001", 0, 0 },
    };
    dec_t v;
    char b1[64], b2[64];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        v = 777;
        int rc = dec_of(cases[c].doc, &v);
        ck_assert_msg(rc == (cases[c].ok ? 0 : -1), "%s: rc %d", cases[c].doc, rc);
        if (cases[c].ok)
            ck_assert_msg(v == (dec_t)cases[c].units, "%s: %s, want %s", cases[c].doc,
                          tdec_str(v, b1), tdec_str((dec_t)cases[c].units, b2));
    }
    ck_assert_int_eq(dec_of("1e24", &v), 0);
    ck_assert(v == DEC_MAX_UNITS);
    ck_assert_int_eq(dec_of("-1e24", &v), 0);
    ck_assert(v == -DEC_MAX_UNITS);
    parse_ok("[1]");
    ck_assert_int_eq(jtok_dec("[1]", TOK, 0, &v), -1);
    ck_assert_int_eq(jtok_dec("[1]", TOK, -1, &v), -1);
}
END_TEST

START_TEST(dec_random)
{
    struct trng r;
    char doc[96], digits[40];
    char b1[64], b2[64];

    trng_init(&r, "jtok-dec");
    for (int it = 0; it < 100000; it++) {
        int neg = (int)trng_below(&r, 2), ni, nf, e = 0, has_e = 0;
        size_t o = 0;
        int nd = 0;
        dec_t want = 0, got = 0;

        /* int part 0..14 digits ("0" when none), fraction 0..16 digits,
         * mostly around the 8th place; a small exponent sometimes. */
        ni = (int)trng_below(&r, 15);
        nf = trng_below(&r, 4) == 0 ? 0 : (int)(6 + trng_below(&r, 11));
        if (neg)
            doc[o++] = '-';
        if (ni == 0) {
            doc[o++] = '0';
        } else {
            for (int i = 0; i < ni; i++) {
                char c = (char)('0' + (i == 0 ? 1 + trng_below(&r, 9) : trng_below(&r, 10)));
                doc[o++] = c;
                digits[nd++] = c;
            }
        }
        if (nf) {
            doc[o++] = '.';
            for (int i = 0; i < nf; i++) {
                /* Ties are common: a 5 then zeros. */
                char c = (char)('0' + trng_below(&r, 10));
                if (i >= 8 && trng_below(&r, 3) == 0)
                    c = i == 8 ? '5' : '0';
                doc[o++] = c;
                digits[nd++] = c;
            }
        }
        if (trng_below(&r, 4) == 0) {
            has_e = 1;
            e = (int)trng_below(&r, 25) - 12;
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "e%d", e);
        }
        doc[o] = '\0';
        int want_rc = ref_dec(neg, digits, nd, ni + e, &want);
        int str = (int)trng_below(&r, 4) == 0;     /* as a JSON string */
        char sdoc[100];
        if (str)
            snprintf(sdoc, sizeof(sdoc), "\"%s\"", doc);
        const char *d = str ? sdoc : doc;
        TCHECK_INT(jtok_parse(d, strlen(d), TOK, 4, NULL), 1);
        int rc = jtok_dec(d, TOK, 0, &got);
        TCHECK(rc == want_rc && (rc != 0 || got == want),
               "seed %" PRIu64 ": jtok_dec(%s) rc %d = %s, want rc %d = %s%s",
               test_seed(), d, rc, tdec_str(got, b1), want_rc, tdec_str(want, b2),
               has_e ? " (exponent)" : "");
    }
}
END_TEST

/* ---- jtok_double ------------------------------------------------------------ */

/* jtok_double of doc (one number or string token) against strtod of txt. */
static void double_vs_strtod(const char *doc, const char *txt)
{
    double want, got = 42;
    int rc;

    TCHECK_INT(jtok_parse(doc, strlen(doc), TOK, 4, NULL), 1);
    want = strtod(txt, NULL);
    rc = jtok_double(doc, TOK, 0, &got);
    if (isinf(want)) {
        TCHECK(rc == -1, "seed %" PRIu64 ": jtok_double(%s) = %.17g, strtod overflows",
               test_seed(), doc, got);
    } else {
        TCHECK(rc == 0 && memcmp(&got, &want, sizeof(got)) == 0,
               "seed %" PRIu64 ": jtok_double(%s) rc %d = %.17g (%a), strtod %.17g (%a)",
               test_seed(), doc, rc, got, got, want, want);
    }
}

START_TEST(double_values)
{
    static const char *const ok[] = {
        "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.2", "0.3", "1e23", "1E-7",
        "9007199254740992", "9007199254740993", "9007199254740995",
        "9007199254740993.0", "18014398509481985", "123456789012345678",
        "1234567890123456789", "12345678901234567890123", "0.1234567890123456789",
        "1.7976931348623157e308", "2.2250738585072011e-308",
        "2.2250738585072014e-308", "4.9e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "1e-400", "37100.50000000", "0.000001",
        "0.0000000000000000000001", "0.00000000000000000000001",
        "4503599627370496.5", "4503599627370497.5", "1e22", "1e-22", "123e-22",
        "8.98846567431158e307", "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
        /* 2^64 and its multiples: the 64-bit mantissa wraps to exactly 0
         * (found by make fuzz) */
        "18446744073709551616", "18446744073709551616.0", "1844674407370955.1616",
        "36893488147419103232",
    };
    static const char *const inf[] = {
        "1e309", "-1e309", "1.7976931348623159e308", "1e99999", "-1e100000000",
    };
    char doc[160];

    for (size_t c = 0; c < sizeof(ok) / sizeof(ok[0]); c++) {
        double_vs_strtod(ok[c], ok[c]);
        snprintf(doc, sizeof(doc), "\"%s\"", ok[c]);
        double_vs_strtod(doc, ok[c]);
    }
    for (size_t c = 0; c < sizeof(inf) / sizeof(inf[0]); c++) {
        double d;
        ck_assert_int_eq(jtok_parse(inf[c], strlen(inf[c]), TOK, 4, NULL), 1);
        ck_assert_msg(jtok_double(inf[c], TOK, 0, &d) == -1, "%s accepted", inf[c]);
    }
    /* Strings that are not JSON numbers. */
    {
        static const char *const bad[] = {
            "\"\"", "\"abc\"", "\" 1\"", "\"1 \"", "\"+1\"", "\"1.\"", "\".5\"",
            "\"0x10\"", "\"inf\"", "\"nan\"", "\"1e\"", "\"-\"", "\"1,5\"",
            "true", "null",
        };
        for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
            double d;
            ck_assert_int_eq(jtok_parse(bad[c], strlen(bad[c]), TOK, 4, NULL), 1);
            ck_assert_msg(jtok_double(bad[c], TOK, 0, &d) == -1, "%s accepted", bad[c]);
        }
        parse_ok("[1]");
        double d;
        ck_assert_int_eq(jtok_double("[1]", TOK, 0, &d), -1);
        ck_assert_int_eq(jtok_double("[1]", TOK, -1, &d), -1);
    }
}
END_TEST

/* jtok_double and jtok_dec take short texts ("41006.8") in one SWAR step
 * when the token lies 8 bytes or more into its text: on every text of up
 * to 8 bytes from a digit-heavy alphabet (dots, signs, exponents, spaces,
 * letters), as a string and, where JSON allows, as a bare number, at
 * every offset, they agree with jtok_parse_double and dec_parse on the
 * same text, which do not take that step: the same verdict, the same
 * value to the bit. */
START_TEST(short_numbers)
{
    static const char alpha[] = "0123456789012345678901234567890123456789..-eE+ x";
    struct trng r;
    char txt[16], doc[64];
    long shorts = 0;            /* texts the short step took */

    trng_init(&r, "jtok-short-numbers");
    for (int it = 0; it < 300000; it++) {
        size_t l = 1 + trng_below(&r, 8), pad = trng_below(&r, 12);
        for (size_t k = 0; k < l; k++)
            txt[k] = alpha[trng_below(&r, sizeof(alpha) - 1)];
        txt[l] = '\0';
        for (int as_num = 0; as_num < 2; as_num++) {
            size_t o = 0;
            doc[o++] = '[';
            for (size_t k = 0; k < pad; k++)
                doc[o++] = ' ';
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, as_num ? "%s]" : "\"%s\"]", txt);
            if (jtok_parse(doc, o, TOK, MAXTOK, NULL) != 2)
                continue;                       /* not a JSON number */
            double d1 = 0, d2 = 0;
            dec_t q1 = 0, q2 = 0;
            int r1 = jtok_double(doc, TOK, 1, &d1);
            /* the token's own text: a bare number's span leaves out
             * whitespace around it */
            const char *tt = doc + TOK[1].start;
            int r2 = jtok_parse_double(tt, TOK[1].len, &d2);
            int s1 = jtok_dec(doc, TOK, 1, &q1);
            int s2 = dec_parse(tt, TOK[1].len, &q2) == DEC_OK ? 0 : -1;
            {
                /* count the texts the short step itself took, so that a
                 * short step that took none fails below */
                uint64_t m;
                int fd;
                shorts += jtok__short_ok(TOK, 1) &&
                          jtok__short_decimal(tt, TOK[1].len, &m, &fd) == 0;
            }
            TCHECK(r1 == r2 && (r1 != 0 || memcmp(&d1, &d2, sizeof(d1)) == 0),
                   "seed %" PRIu64 ": jtok_double(\"%s\" at %u): %d %.17g, "
                   "jtok_parse_double: %d %.17g", test_seed(), txt, TOK[1].start,
                   r1, d1, r2, d2);
            TCHECK(s1 == s2 && (s1 != 0 || q1 == q2),
                   "seed %" PRIu64 ": jtok_dec(\"%s\" at %u): %d, dec_parse: %d (or "
                   "the values differ)", test_seed(), txt, TOK[1].start, s1, s2);
        }
    }
    ck_assert_int_gt(shorts, 50000);
}
END_TEST

START_TEST(double_random)
{
    struct trng r;
    char txt[96], doc[100];

    trng_init(&r, "jtok-double");
    for (int it = 0; it < 150000; it++) {
        size_t o = 0;
        int nd = 1 + (int)trng_below(&r, 19);        /* significant digits */
        int ni = (int)trng_below(&r, (uint64_t)nd + 1);   /* before the point */
        int lead = ni == 0 && trng_below(&r, 2) ? (int)trng_below(&r, 25) : 0;

        if (trng_below(&r, 2))
            txt[o++] = '-';
        if (ni == 0)
            txt[o++] = '0';
        for (int i = 0; i < nd; i++) {
            if (i == ni)
                txt[o++] = '.';
            if (i == ni && ni == 0)
                for (int z = 0; z < lead; z++)
                    txt[o++] = '0';
            txt[o++] = (char)('0' + (i == 0 && ni > 0 ? 1 + trng_below(&r, 9)
                                                      : trng_below(&r, 10)));
        }
        /* Exponents: none (the fast path) half the time, else small, or
         * anywhere across the double range and beyond. */
        switch (trng_below(&r, 6)) {
        case 0: case 1: case 2:
            break;
        case 3: case 4:
            o += (size_t)snprintf(txt + o, sizeof(txt) - o, "%c%d",
                                  trng_below(&r, 2) ? 'e' : 'E',
                                  (int)trng_below(&r, 61) - 30);
            break;
        default: {
            int e = (int)trng_below(&r, 701) - 350;
            o += (size_t)snprintf(txt + o, sizeof(txt) - o, "e%s%d",
                                  e >= 0 && trng_below(&r, 2) ? "+" : "", e);
        }
        }
        txt[o] = '\0';
        if (trng_below(&r, 8) == 0) {
            snprintf(doc, sizeof(doc), "\"%s\"", txt);
            double_vs_strtod(doc, txt);
        } else {
            double_vs_strtod(txt, txt);
        }
    }
}
END_TEST

/* ---- regressions found by fuzzing ------------------------------------------- */

/* A backslash followed by a NUL byte inside a string ("\<NUL>", bytes 22 5c
 * 00 22) was accepted: the escape check ran strchr on the input byte, and
 * strchr matches the terminator.  Every byte after a backslash, against
 * jansson. */
START_TEST(escape_then_nul)
{
    static const struct {
        const char *in;
        size_t len;
        size_t errpos;
    } cases[] = {
        { "\"\\\0\"", 4, 2 },
        { "[\"\\\0\"]", 6, 3 },
        { "{\"a\\\0\":1}", 9, 4 },
        { "{\"a\":\"xy\\\0\"}", 12, 9 },
        { "\"\\\0", 3, 2 },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *in = cases[c].in;
        size_t n = cases[c].len, ep = (size_t)-1;
        json_error_t e;
        int r = jtok_parse(in, n, TOK, MAXTOK, &ep);

        ck_assert_msg(r == JTOK_ESYNTAX, "\"%s\": jtok gives %d", cesc(in, n), r);
        ck_assert_msg(ep == cases[c].errpos, "\"%s\": errpos %zu, want %zu",
                      cesc(in, n), ep, cases[c].errpos);
        ck_assert_ptr_null(ref_load(in, n, &e));
    }
    /* Every byte after a backslash: jtok and jansson agree. */
    for (int b = 0; b < 256; b++) {
        char in[4] = { '"', '\\', (char)b, '"' };
        json_error_t e;
        json_t *j = ref_load(in, 4, &e);
        int r = jtok_parse(in, 4, TOK, MAXTOK, NULL);

        ck_assert_msg((r == 1) == (j != NULL), "\"%s\": jtok %d, jansson %s",
                      cesc(in, 4), r, j ? "accepts" : "refuses");
        ck_assert_int_eq(r == 1, b != 0 && strchr("\"\\/bfnrt", b) != NULL);
        json_decref(j);
    }
}
END_TEST

/* Numbers of 128 characters or more were tokenized but jtok_double
 * refused them (a 128-byte copy buffer for strtod): valid JSON refused
 * without a word.  Any length now reads, correctly rounded. */
START_TEST(long_numbers)
{
    char num[1200], doc[2600];
    double d, want;
    dec_t v;
    int64_t i64;

    /* A 200-digit integer: a number token; a double; out of range for dec
     * (1e24) and int64. */
    for (int k = 0; k < 200; k++)
        num[k] = (char)('1' + k % 9);
    num[200] = '\0';
    ck_assert_int_eq(jtok_parse(num, 200, TOK, 4, NULL), 1);
    ck_assert_int_eq(TOK[0].type, JT_NUM);
    ck_assert_uint_eq(TOK[0].len, 200);
    want = strtod(num, NULL);
    ck_assert_int_eq(jtok_double(num, TOK, 0, &d), 0);
    ck_assert(memcmp(&d, &want, sizeof(d)) == 0);
    ck_assert_int_eq(jtok_dec(num, TOK, 0, &v), -1);
    ck_assert_int_eq(jtok_i64(num, TOK, 0, &i64), -1);
    /* ... and inside a document, as a string too */
    snprintf(doc, sizeof(doc), "{\"n\":%s,\"s\":\"%s\"}", num, num);
    ck_assert_int_eq(jtok_parse(doc, strlen(doc), TOK, 8, NULL), 5);
    ck_assert_int_eq(TOK[2].type, JT_NUM);
    ck_assert_int_eq(jtok_double(doc, TOK, 2, &d), 0);
    ck_assert(memcmp(&d, &want, sizeof(d)) == 0);
    ck_assert_int_eq(jtok_double(doc, TOK, 4, &d), 0);
    ck_assert(memcmp(&d, &want, sizeof(d)) == 0);

    /* 0.000...1 with 150 digits: 1e-149; rounds to 0 at 8 places. */
    strcpy(num, "0.");
    memset(num + 2, '0', 148);
    strcpy(num + 150, "1");
    ck_assert_uint_eq(strlen(num), 151);
    ck_assert_int_eq(jtok_parse(num, 151, TOK, 4, NULL), 1);
    ck_assert_int_eq(TOK[0].type, JT_NUM);
    ck_assert_uint_eq(TOK[0].len, 151);
    ck_assert_int_eq(jtok_double(num, TOK, 0, &d), 0);
    ck_assert_double_eq(d, strtod(num, NULL));
    ck_assert_double_eq(d, 1e-149);
    v = 7;
    ck_assert_int_eq(jtok_dec(num, TOK, 0, &v), 0);
    ck_assert(v == 0);
    snprintf(doc, sizeof(doc), "[\"-%s\"]", num);
    ck_assert_int_eq(jtok_parse(doc, strlen(doc), TOK, 4, NULL), 2);
    ck_assert_int_eq(jtok_double(doc, TOK, 1, &d), 0);
    ck_assert_double_eq(d, -1e-149);

    /* Every digit counts: 2^53 + 1 is halfway between two doubles, and a
     * 1 in the 300th fraction digit breaks the tie upwards. */
    strcpy(num, "9007199254740993.");
    memset(num + 17, '0', 299);
    strcpy(num + 316, "1");
    ck_assert_int_eq(jtok_parse(num, strlen(num), TOK, 4, NULL), 1);
    ck_assert_int_eq(jtok_double(num, TOK, 0, &d), 0);
    ck_assert_double_eq(d, 9007199254740994.0);
    num[316] = '\0';                                  /* exactly halfway: even */
    ck_assert_int_eq(jtok_parse(num, strlen(num), TOK, 4, NULL), 1);
    ck_assert_int_eq(jtok_double(num, TOK, 0, &d), 0);
    ck_assert_double_eq(d, 9007199254740992.0);

    /* Long with an exponent; long beyond the double range is a range
     * error, as a short one is. */
    snprintf(doc, sizeof(doc), "1.%0300de-5", 0);
    double_vs_strtod(doc, doc);
    memset(num, '9', 400);
    num[400] = '\0';
    ck_assert_int_eq(jtok_parse(num, 400, TOK, 4, NULL), 1);
    ck_assert_int_eq(jtok_double(num, TOK, 0, &d), -1);
    /* Still the JSON grammar at any length. */
    snprintf(doc, sizeof(doc), "\"%0200d \"", 1);
    ck_assert_int_eq(jtok_parse(doc, strlen(doc), TOK, 4, NULL), 1);
    ck_assert_int_eq(jtok_double(doc, TOK, 0, &d), -1);
    ck_assert_int_eq(jtok_parse_double("0x1p3", 5, &d), -1);
    memset(num, '1', 300);
    memcpy(num + 300, "e+2", 4);
    ck_assert_int_eq(jtok_parse_double(num, 303, &d), 0);
    ck_assert_double_eq(d, strtod(num, NULL));
    ck_assert_int_eq(jtok_parse_double(num, 302, &d), -1);     /* "...e+" */
}
END_TEST

Suite *jtok_suite(void)
{
    Suite *s = suite_create("jtok");
    TCase *tc = tcase_create("tokens");

    tcase_add_test(tc, valid_documents);
    tcase_add_test(tc, invalid_documents);
    tcase_add_test(tc, known_differences);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, token_limits);
    tcase_add_test(tc, get_and_at);
    tcase_add_test(tc, streq_and_strcpy);
    tcase_add_test(tc, i64_values);
    tcase_add_test(tc, dec_values);
    tcase_add_test(tc, double_values);
    tcase_add_test(tc, escape_then_nul);
    tcase_add_test(tc, long_numbers);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_documents);
    tcase_add_test(tc, i64_random);
    tcase_add_test(tc, dec_random);
    tcase_add_test(tc, double_random);
    tcase_add_test(tc, short_numbers);
    suite_add_tcase(s, tc);
    return s;
}
