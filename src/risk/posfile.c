/*
 * posfile.c - positions files, CSV and JSON Lines (see posfile.h).
 *
 * Reading: one 1 MiB buffer per load, filled with read(2) and cut into
 * lines in place; a partial line at the end of the buffer moves to the
 * front before the next read.  A line longer than POSFILE_LINE_MAX is
 * reported and skipped up to its newline, never truncated into a
 * different row.  Fields are NUL-terminated in place, so a row costs no
 * allocation and no copy: the strings handed to on_row point into the
 * buffer (hence "borrowed until the callback returns").
 *
 * CSV: csv_field cuts one field at a time, RFC 4180 within a line: a
 * quoted field is found whole first (so that a message can quote it raw),
 * then unescaped in place ("" -> "), the output never ahead of the input.
 *
 * JSON Lines: jansson would turn "qty": 0.1 into a double and lose the
 * text the contract says to read exactly (and refuses integers past
 * int64), so each line goes through js_scan, a scanner for flat objects
 * that records where every value's text lies.  It accepts exactly the JSON
 * grammar; values under unknown keys may be arrays or objects, which it
 * only skips, so a line holding one is validated by jansson as well.
 * When js_scan rejects a line, jansson parses it again to say what is
 * wrong and where, in its own words: one syntax, one set of messages.
 *
 * Both formats meet in row_finish, which checks the meaning of each
 * field and builds every per-row message through row_error:
 * "<file>:<line>: <column>: <what>".
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "liqmon/instrument.h"
#include "liqmon/posfile.h"

#define RD_BUFSIZE ((size_t)1 << 20)

enum col {
    C_ID, C_ACCOUNT, C_VENUE, C_SYMBOL, C_SIDE, C_QTY, C_ENTRY, C_MARGIN,
    C_LIQ, NCOL
};

static const char *const col_name[NCOL] = {
    "id", "account", "venue", "symbol", "side", "qty", "entry", "margin",
    "liq_price"
};

/* What a field held.  CSV fields are K_TEXT (or K_ABSENT when empty);
 * JSON values keep their type so that "id": 12 can be refused. */
enum kind { K_ABSENT = 0, K_TEXT, K_STR, K_NUM, K_NULL, K_OTHER };

struct fld {
    char *p;            /* value text (JSON strings: between the quotes) */
    size_t n;
    unsigned char kind;
    unsigned char esc;  /* JSON string with backslash escapes */
};

enum fmt { FMT_UNKNOWN, FMT_CSV, FMT_JSONL };

struct pf {
    const char *name;              /* the file, as messages show it */
    posfile_row_fn on_row;
    posfile_error_fn on_error;
    void *arg;
    struct posfile_stats st;
    enum fmt fmt;
    /* CSV header: colmap[i] is the column of field i, -1 if unknown. */
    int have_header;
    signed char *colmap;
    size_t ncols;
    size_t header_line;
    /* Reader: buf[beg..end) unread; buf has one spare byte past cap so
     * that a last line without '\n' can be NUL-terminated too. */
    int fd;
    char *buf;
    size_t cap, beg, end;
    int eof, skipping;
};

/* ---- messages ---------------------------------------------------------- */

/* A value as messages quote it: at most 40 bytes (cut before a UTF-8
 * sequence rather than inside one).  Raw: row_error escapes control bytes
 * in the whole message, as lq_err does (lq_err_sanitize). */
static const char *show(const char *p, size_t n, char out[64])
{
    size_t k = n > 40 ? 40 : n;

    for (int b = 0; b < 3 && k > 0 && k < n && ((unsigned char)p[k] & 0xc0) == 0x80; b++)
        k--;
    memcpy(out, p, k);
    if (k < n)
        memcpy(out + k, "...", 4);
    else
        out[k] = '\0';
    return out;
}

/* The one builder of per-row messages.  col may be NULL (a message about
 * the whole line).  Counts the row as rejected.  Returns -1. */
static int row_error(struct pf *f, size_t line, const char *col,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int row_error(struct pf *f, size_t line, const char *col,
                     const char *fmt, ...)
{
    char msg[1024];
    int n;
    va_list ap;

    f->st.rejected++;
    if (f->on_error == NULL)
        return -1;
    n = snprintf(msg, sizeof(msg), "%s:%zu: %s%s", f->name, line,
                 col ? col : "", col ? ": " : "");
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One line, no raw bytes: jansson's diagnosis quotes the input raw,
     * and so do values and the file's name. */
    lq_err_sanitize(msg, sizeof(msg));
    f->on_error(msg, f->arg);
    return -1;
}

/* ---- reading lines ----------------------------------------------------- */

/* The next line, without its '\n' (a '\r' before it is the caller's).
 * *line stays valid until the next call; line[len] may be overwritten.
 * *too_long: the line is longer than POSFILE_LINE_MAX; *line then holds
 * its first POSFILE_LINE_MAX bytes and the rest is skipped.
 * Returns 1, 0 at end of file, -1 on a read error (errno set). */
static int rd_next(struct pf *f, char **line, size_t *len, int *too_long)
{
    for (;;) {
        char *s = f->buf + f->beg;
        size_t avail = f->end - f->beg;
        char *nl = avail ? memchr(s, '\n', avail) : NULL;
        ssize_t got;

        if (nl != NULL) {
            f->beg += (size_t)(nl - s) + 1;
            if (f->skipping) {           /* the end of a long line */
                f->skipping = 0;
                continue;
            }
            *line = s;
            *len = (size_t)(nl - s);
            *too_long = *len > POSFILE_LINE_MAX;
            if (*too_long)               /* whole in the buffer, still too long */
                *len = POSFILE_LINE_MAX;
            return 1;
        }
        if (f->skipping) {
            f->beg = f->end = 0;
        } else if (avail > POSFILE_LINE_MAX) {
            /* Hand out the start (for format sniffing and the message);
             * it stays in the buffer until the next call reads over it. */
            *line = s;
            *len = POSFILE_LINE_MAX;
            *too_long = 1;
            f->beg = f->end;
            f->skipping = 1;
            return 1;
        }
        if (f->eof) {
            if (f->skipping || avail == 0)
                return 0;
            *line = s;                   /* the last line, no '\n' */
            *len = avail;
            *too_long = 0;
            f->beg = f->end;
            return 1;
        }
        if (f->beg > 0) {
            memmove(f->buf, s, avail);
            f->beg = 0;
            f->end = avail;
        }
        got = read(f->fd, f->buf + f->end, f->cap - f->end);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            f->eof = 1;
        f->end += (size_t)got;
    }
}

/* ---- checking values ----------------------------------------------------- */

/* dec_parse's grammar: -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?  Checked
 * before strtod, which would also take " 1", "0x10", "inf" or "1,5". */
static int is_number_text(const char *p, size_t n)
{
    const char *e = p + n;
    const char *d;

    if (p < e && *p == '-')
        p++;
    for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
        ;
    if (p == d)
        return 0;
    if (p < e && *p == '.') {
        for (d = ++p; p < e && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == d)
            return 0;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == d)
            return 0;
    }
    return p == e;
}

static int is_textual(const struct fld *v)
{
    return v->kind == K_TEXT || v->kind == K_STR;
}

static int is_given(const struct fld *v)
{
    return v->kind != K_ABSENT && v->kind != K_NULL;
}

/* A required string: id, venue, symbol, side. */
static int need_str(struct pf *f, size_t line, const struct fld *v, int c)
{
    if (!is_given(v))
        return row_error(f, line, col_name[c], "missing");
    if (!is_textual(v))
        return row_error(f, line, col_name[c], "must be a string");
    if (v->n == 0)
        return row_error(f, line, col_name[c], "must not be empty");
    if (strlen(v->p) != v->n)
        return row_error(f, line, col_name[c], "contains a NUL byte");
    return 0;
}

/* venue and symbol name an instrument file (instrument_load_dir) and a
 * "venue:symbol" key, so they must fit and hold no separator. */
static int check_name(struct pf *f, size_t line, const struct fld *v, int c,
                      size_t max)
{
    char q[64];

    if (v->n > max)
        return row_error(f, line, col_name[c], "'%s' is longer than %zu bytes",
                         show(v->p, v->n, q), max);
    for (size_t i = 0; i < v->n; i++) {
        unsigned char ch = (unsigned char)v->p[i];
        if (ch <= ' ' || ch == 0x7f || ch == '/' || ch == '\\' || ch == ':')
            return row_error(f, line, col_name[c], "'%s' must not contain "
                             "spaces, control characters, '/', '\\' or ':'",
                             show(v->p, v->n, q));
    }
    return 0;
}

static int read_qty(struct pf *f, size_t line, const struct fld *v,
                    dec_t *out)
{
    char q[64];
    int rc;

    if (!is_given(v))
        return row_error(f, line, "qty", "missing");
    if (v->kind == K_OTHER)
        return row_error(f, line, "qty", "must be a number or a decimal "
                         "string");
    rc = dec_parse(v->p, v->n, out);
    if (rc == DEC_ERANGE)
        return row_error(f, line, "qty", "'%s' is too large (at most 1e24)",
                         show(v->p, v->n, q));
    if (rc != DEC_OK)
        return row_error(f, line, "qty", "'%s' is not a decimal number",
                         show(v->p, v->n, q));
    if (*out <= 0) {
        /* Positive text that rounds to 0 deserves a hint. */
        size_t m = strcspn(v->p, "eE");
        if (v->p[0] != '-' && strspn(v->p, "0.") < m)
            return row_error(f, line, "qty", "must be > 0 ('%s' rounds to "
                             "0 at 8 decimal places)", show(v->p, v->n, q));
        return row_error(f, line, "qty", "must be > 0");
    }
    return 0;
}

/* entry, margin, liq_price: doubles read with strtod's correct rounding
 * (cascade-model.md, "Numbers"), finite and > 0. */
static int read_price(struct pf *f, size_t line, const struct fld *v, int c,
                      double *out)
{
    char q[64];

    if (!is_given(v))
        return row_error(f, line, col_name[c], "missing");
    if (v->kind == K_OTHER)
        return row_error(f, line, col_name[c], "must be a number or a "
                         "decimal string");
    if (!is_number_text(v->p, v->n))
        return row_error(f, line, col_name[c], "'%s' is not a number",
                         show(v->p, v->n, q));
    *out = strtod(v->p, NULL);
    if (!isfinite(*out))
        return row_error(f, line, col_name[c], "'%s' is out of range",
                         show(v->p, v->n, q));
    if (!(*out > 0))
        return row_error(f, line, col_name[c], "must be > 0");
    return 0;
}

/* Every field is NUL-terminated text by now.  Checks meaning, first error
 * wins; hands a good row to on_row.  Returns 0, or on_row's non-zero
 * value (stop); a bad row returns 0 too (counted and reported). */
static int row_finish(struct pf *f, size_t line, const struct fld *v)
{
    struct posfile_row row;
    char q[64];
    int rc;

    memset(&row, 0, sizeof(row));
    row.line = line;
    if (need_str(f, line, &v[C_ID], C_ID) != 0)
        return 0;
    row.id = v[C_ID].p;
    if (!is_given(&v[C_ACCOUNT])) {
        row.account = "";
    } else if (!is_textual(&v[C_ACCOUNT])) {
        row_error(f, line, "account", "must be a string");
        return 0;
    } else if (strlen(v[C_ACCOUNT].p) != v[C_ACCOUNT].n) {
        row_error(f, line, "account", "contains a NUL byte");
        return 0;
    } else {
        row.account = v[C_ACCOUNT].p;
    }
    if (need_str(f, line, &v[C_VENUE], C_VENUE) != 0 ||
        check_name(f, line, &v[C_VENUE], C_VENUE,
                   INSTRUMENT_VENUE_MAX - 1) != 0 ||
        need_str(f, line, &v[C_SYMBOL], C_SYMBOL) != 0 ||
        check_name(f, line, &v[C_SYMBOL], C_SYMBOL,
                   INSTRUMENT_SYMBOL_MAX - 1) != 0 ||
        need_str(f, line, &v[C_SIDE], C_SIDE) != 0)
        return 0;
    row.venue = v[C_VENUE].p;
    row.symbol = v[C_SYMBOL].p;
    if (strcmp(v[C_SIDE].p, "long") == 0) {
        row.spec.side = POS_LONG;
    } else if (strcmp(v[C_SIDE].p, "short") == 0) {
        row.spec.side = POS_SHORT;
    } else {
        row_error(f, line, "side", "unknown side '%s' (expected long or "
                  "short)", show(v[C_SIDE].p, v[C_SIDE].n, q));
        return 0;
    }
    if (read_qty(f, line, &v[C_QTY], &row.spec.qty) != 0 ||
        read_price(f, line, &v[C_ENTRY], C_ENTRY, &row.spec.entry) != 0)
        return 0;
    if (is_given(&v[C_MARGIN]) == is_given(&v[C_LIQ])) {
        row_error(f, line, "margin, liq_price", "give exactly one");
        return 0;
    }
    if (is_given(&v[C_MARGIN])) {
        row.spec.has_margin = 1;
        if (read_price(f, line, &v[C_MARGIN], C_MARGIN,
                       &row.spec.margin) != 0)
            return 0;
    } else if (read_price(f, line, &v[C_LIQ], C_LIQ,
                          &row.spec.liq_price) != 0) {
        return 0;
    }
    row.spec.id = row.id;
    row.spec.account = row.account;
    f->st.loaded++;
    rc = f->on_row ? f->on_row(&row, f->arg) : 0;
    return rc;
}

/* ---- CSV --------------------------------------------------------------- */

static int col_lookup(const char *p, size_t n)
{
    for (int c = 0; c < NCOL; c++)
        if (strlen(col_name[c]) == n && memcmp(col_name[c], p, n) == 0)
            return c;
    return -1;
}

/* One field of a CSV line (RFC 4180, within one line): at *pp, the line
 * ending at e.  Unquoted: the text up to the next ',', trimmed of blanks,
 * holding no '"'.  Quoted: optional blanks, '"', the text with '""' for
 * each '"' (commas are text), '"', optional blanks.  The value is
 * unescaped in place and NUL-terminated (at most over the ',' or closing
 * quote that ends it: never over text still to be read).  *pp moves past
 * the ',' or becomes NULL after the last field.  Returns 0, or -1 with
 * *why saying what is wrong (*vp, *vn then show the raw field). */
static int csv_field(char **pp, char *e, char **vp, size_t *vn,
                     const char **why)
{
    char *p = *pp, *q, *o, *start;

    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p < e && *p == '"') {
        start = p;
        /* Find the closing quote first: messages show the field raw. */
        for (q = p + 1; q < e; q++)
            if (*q == '"' && !(q + 1 < e && q[1] == '"'))
                break;
            else if (*q == '"')
                q++;
        if (q >= e) {
            *vp = start;
            *vn = (size_t)(e - start);
            *why = "a quoted field without its closing quote (a field "
                   "cannot span lines)";
            return -1;
        }
        p = q + 1;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        if (p < e && *p != ',') {
            char *fe = memchr(p, ',', (size_t)(e - p));
            *vp = start;
            *vn = (size_t)((fe ? fe : e) - start);
            *why = "text after the closing quote (double a '\"' inside a "
                   "quoted field)";
            return -1;
        }
        *pp = p < e ? p + 1 : NULL;
        /* Unescape: "" -> ", the output never ahead of the input. */
        for (o = start + 1, p = start + 1; p < q; p++) {
            *o++ = *p;
            if (*p == '"')
                p++;
        }
        *vp = start + 1;
        *vn = (size_t)(o - (start + 1));
        (*vp)[*vn] = '\0';
        return 0;
    } else {
        char *fe = memchr(p, ',', (size_t)(e - p));
        char *ve = fe ? fe : e;

        start = p;
        while (ve > start && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        *vp = start;
        *vn = (size_t)(ve - start);
        if (memchr(start, '"', *vn) != NULL) {
            *why = "a '\"' inside an unquoted field (quote the whole field "
                   "and double the '\"')";
            return -1;
        }
        *pp = fe ? fe + 1 : NULL;
        start[*vn] = '\0';       /* over a blank, the ',' or the line end */
        return 0;
    }
}

static int csv_header(struct pf *f, char *s, size_t len, size_t line,
                      lq_err_t *err)
{
    int seen[NCOL];
    size_t cap = 1, i;
    char *p = s, *e = s + len;

    for (i = 0; i < len; i++)
        cap += s[i] == ',';          /* at least the number of fields */
    f->colmap = malloc(cap);
    if (f->colmap == NULL)
        return lq_err_set(err, "%s: out of memory", f->name);
    for (int c = 0; c < NCOL; c++)
        seen[c] = 0;
    for (i = 0; p != NULL; i++) {
        char *name, q[64];
        size_t n;
        const char *why;
        int c;

        if (csv_field(&p, e, &name, &n, &why) != 0)
            return lq_err_set(err, "%s:%zu: header: field %zu: '%s': %s",
                              f->name, line, i + 1, show(name, n, q), why);
        c = col_lookup(name, n);
        if (c >= 0 && seen[c])
            return lq_err_set(err, "%s:%zu: header: column '%s' appears "
                              "twice (fields %d and %zu)", f->name, line,
                              col_name[c], seen[c], i + 1);
        if (c >= 0)
            seen[c] = (int)i + 1;
        f->colmap[i] = (signed char)c;
    }
    f->ncols = i;
    for (int c = 0; c < NCOL; c++) {
        if (c == C_ACCOUNT || c == C_MARGIN || c == C_LIQ || seen[c])
            continue;
        return lq_err_set(err, "%s:%zu: header: missing column '%s'%s",
                          f->name, line, col_name[c],
                          line == 1 ? "" : " (the first line that is not "
                          "blank or a comment names the columns)");
    }
    if (!seen[C_MARGIN] && !seen[C_LIQ])
        return lq_err_set(err, "%s:%zu: header: missing column 'margin' or "
                          "'liq_price' (at least one)", f->name, line);
    f->have_header = 1;
    f->header_line = line;
    f->st.header_line = line;
    return 0;
}

static int csv_row(struct pf *f, char *s, size_t len, size_t line)
{
    struct fld v[NCOL];
    char *p = s, *e = s + len;
    size_t i;

    memset(v, 0, sizeof(v));
    for (i = 0; p != NULL; i++) {
        int c = i < f->ncols ? f->colmap[i] : -1;
        char *fp, q[64];
        size_t n;
        const char *why;

        if (csv_field(&p, e, &fp, &n, &why) != 0) {
            if (c >= 0)
                row_error(f, line, col_name[c], "'%s': %s", show(fp, n, q),
                          why);
            else
                row_error(f, line, NULL, "field %zu: '%s': %s", i + 1,
                          show(fp, n, q), why);
            return 0;
        }
        if (c >= 0) {
            v[c].p = fp;
            v[c].n = n;
            v[c].kind = n > 0 ? K_TEXT : K_ABSENT;
        }
    }
    if (i != f->ncols) {
        row_error(f, line, NULL, "%zu fields, but the header (line %zu) has "
                  "%zu", i, f->header_line, f->ncols);
        return 0;
    }
    return row_finish(f, line, v);
}

/* ---- JSON Lines ----------------------------------------------------------- */

static inline const char *js_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at p (p + 4 <= e checked by the caller), or -1. */
static long hex4(const char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* A string's body from p (after the opening quote).  Returns the closing
 * quote or NULL when the string is not valid JSON (or holds \u0000,
 * which a C string cannot carry and jansson refuses too).  *esc: it
 * has escapes. */
static const char *js_str(const char *p, const char *e, int *esc)
{
    *esc = 0;
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c == '\\') {
            *esc = 1;
            if (++p >= e)
                return NULL;
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n':
            case 'r': case 't':
                p++;
                break;
            case 'u': {
                long u;
                if (e - p < 5 || (u = hex4(p + 1)) < 0 || u == 0)
                    return NULL;
                p += 5;
                if (u >= 0xdc00 && u <= 0xdfff)
                    return NULL;             /* a lone low surrogate */
                if (u >= 0xd800 && u <= 0xdbff) {
                    long l;
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                        (l = hex4(p + 2)) < 0xdc00 || l > 0xdfff)
                        return NULL;
                    p += 6;
                }
                break;
            }
            default:
                return NULL;
            }
        } else if (c < 0x20) {
            return NULL;
        } else if (c < 0x80) {
            p++;
        } else {
            size_t n = utf8_len((const unsigned char *)p,
                                (const unsigned char *)e);
            if (n == 0)
                return NULL;
            p += n;
        }
    }
    return NULL;
}

/* Decode a string body js_str accepted into dst (dst may be s: the output
 * is never longer).  Returns the decoded length. */
static size_t js_unescape(const char *s, size_t n, char *dst)
{
    const char *e = s + n;
    char *o = dst;

    while (s < e) {
        unsigned long u;
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s++) {
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u': break;
        default: *o++ = s[-1]; continue;        /* " \ / */
        }
        u = (unsigned long)hex4(s);
        s += 4;
        if (u >= 0xd800 && u <= 0xdbff) {
            u = 0x10000 + ((u - 0xd800) << 10) +
                ((unsigned long)hex4(s + 2) - 0xdc00);
            s += 6;
        }
        if (u < 0x80) {
            *o++ = (char)u;
        } else if (u < 0x800) {
            *o++ = (char)(0xc0 | (u >> 6));
            *o++ = (char)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            *o++ = (char)(0xe0 | (u >> 12));
            *o++ = (char)(0x80 | ((u >> 6) & 0x3f));
            *o++ = (char)(0x80 | (u & 0x3f));
        } else {
            *o++ = (char)(0xf0 | (u >> 18));
            *o++ = (char)(0x80 | ((u >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((u >> 6) & 0x3f));
            *o++ = (char)(0x80 | (u & 0x3f));
        }
    }
    return (size_t)(o - dst);
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Returns its end, or NULL. */
static const char *js_num(const char *p, const char *e)
{
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        const char *d = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        const char *d;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == d)
            return NULL;
    }
    return p;
}

/* Skip an array or object at p ('[' or '{') by bracket depth, strings
 * skipped whole.  Only the structure is followed; the caller has jansson
 * validate the line.  Returns the end, or NULL. */
static const char *js_skip(const char *p, const char *e)
{
    int depth = 0, esc;

    while (p < e) {
        char c = *p;
        if (c == '"') {
            p = js_str(p + 1, e, &esc);
            if (p == NULL)
                return NULL;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

static int js_key_col(const char *k, size_t n, int esc)
{
    char tmp[32];

    if (!esc)
        return col_lookup(k, n);
    if (n >= sizeof(tmp))
        return -1;
    return col_lookup(tmp, js_unescape(k, n, tmp));
}

/* Scan one object.  Returns 1 when it is one (*nested: some value was an
 * array or object, skipped unchecked; *dup: the first known key given
 * twice, or -1), 0 when the line is not valid JSON of that shape.  A
 * repeated unknown key is ignored like any unknown key (jansson's default,
 * last one wins, and nothing here reads it). */
static int js_scan(char *s, size_t len, struct fld *v, int *nested, int *dup)
{
    const char *p = s, *e = s + len;
    int esc;

    *nested = 0;
    *dup = -1;
    p = js_ws(p, e);
    if (p >= e || *p != '{')
        return 0;
    p = js_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto end;
    }
    for (;;) {
        const char *k, *ke, *vs;
        int c, kind, vesc = 0;

        if (p >= e || *p != '"')
            return 0;
        k = p + 1;
        if ((ke = js_str(k, e, &esc)) == NULL)
            return 0;
        c = js_key_col(k, (size_t)(ke - k), esc);
        p = js_ws(ke + 1, e);
        if (p >= e || *p != ':')
            return 0;
        p = js_ws(p + 1, e);
        if (p >= e)
            return 0;
        vs = p;
        switch (*p) {
        case '"':
            vs = p + 1;
            if ((p = js_str(vs, e, &vesc)) == NULL)
                return 0;
            kind = K_STR;
            break;
        case '{': case '[':
            if ((p = js_skip(p, e)) == NULL)
                return 0;
            *nested = 1;
            kind = K_OTHER;
            break;
        case 'n':
            if (e - p < 4 || memcmp(p, "null", 4) != 0)
                return 0;
            p += 4;
            kind = K_NULL;
            break;
        case 't':
            if (e - p < 4 || memcmp(p, "true", 4) != 0)
                return 0;
            p += 4;
            kind = K_OTHER;
            break;
        case 'f':
            if (e - p < 5 || memcmp(p, "false", 5) != 0)
                return 0;
            p += 5;
            kind = K_OTHER;
            break;
        default:
            if ((p = js_num(p, e)) == NULL)
                return 0;
            kind = K_NUM;
            break;
        }
        if (c >= 0 && v[c].kind != K_ABSENT) {
            if (*dup < 0)
                *dup = c;       /* reported once the syntax is known good */
        } else if (c >= 0) {
            v[c].p = (char *)vs;
            v[c].n = (size_t)(p - vs);
            v[c].kind = (unsigned char)kind;
            v[c].esc = (unsigned char)vesc;
        }
        if (kind == K_STR)
            p++;                            /* the closing quote */
        p = js_ws(p, e);
        if (p < e && *p == ',') {
            p = js_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            break;
        }
        return 0;
    }
end:
    return js_ws(p, e) == e;
}

/* The line js_scan refused, or that holds nested values: jansson's
 * verdict.  Returns 0 when jansson finds it valid. */
static int js_diagnose(struct pf *f, const char *s, size_t len, size_t line,
                       int scanned)
{
    json_error_t je;
    json_t *root = json_loadb(s, len, JSON_DECODE_ANY, &je);

    if (root == NULL) {
        row_error(f, line, NULL, "line %d, column %d: %s", je.line,
                  je.column, je.text);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        row_error(f, line, NULL, "must be a JSON object (one per line)");
        return -1;
    }
    json_decref(root);
    if (scanned)
        return 0;
    /* Valid JSON that js_scan refused: a disagreement between the two
     * parsers, reported rather than guessed around. */
    row_error(f, line, NULL, "cannot read this object (a JSON feature the "
              "positions reader does not handle)");
    return -1;
}

static int jsonl_row(struct pf *f, char *s, size_t len, size_t line)
{
    struct fld v[NCOL];
    int nested, dup;

    memset(v, 0, sizeof(v));
    if (!js_scan(s, len, v, &nested, &dup)) {
        js_diagnose(f, s, len, line, 0);
        return 0;
    }
    if (nested && js_diagnose(f, s, len, line, 1) != 0)
        return 0;
    if (dup >= 0) {
        row_error(f, line, col_name[dup], "given twice");
        return 0;
    }
    /* The line's structure is no longer needed: decode and terminate the
     * values in place (a value is always followed by a quote, a blank, a
     * ',' or a '}', never by another value). */
    for (int c = 0; c < NCOL; c++) {
        if (v[c].kind == K_ABSENT)
            continue;
        if (v[c].esc)
            v[c].n = js_unescape(v[c].p, v[c].n, v[c].p);
        v[c].p[v[c].n] = '\0';
    }
    return row_finish(f, line, v);
}

/* ---- the load ------------------------------------------------------------ */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);

    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suf[i])
            return 0;
    }
    return 1;
}

/* One line; returns 0 to go on, non-zero to stop the load with that
 * value (on_row's, or POSFILE_EHEADER with err set). */
static int one_line(struct pf *f, char *s, size_t len, int too_long,
                    size_t line, lq_err_t *err)
{
    size_t i;

    if (line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        s += 3;                              /* a UTF-8 byte order mark */
        len -= 3;
    }
    if (!too_long && len > 0 && s[len - 1] == '\r')
        len--;
    for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
        ;
    if (i == len)
        return 0;                            /* blank */
    if (f->fmt == FMT_UNKNOWN)
        f->fmt = s[i] == '{' ? FMT_JSONL : FMT_CSV;
    if (f->fmt == FMT_CSV && s[i] == '#')
        return 0;                            /* comment */
    if (f->fmt == FMT_CSV && !f->have_header) {
        if (too_long) {
            lq_err_set(err, "%s:%zu: header: line too long (more than %d "
                       "bytes)", f->name, line, POSFILE_LINE_MAX);
            return POSFILE_EHEADER;
        }
        return csv_header(f, s, len, line, err) == 0 ? 0 : POSFILE_EHEADER;
    }
    f->st.rows++;
    if (too_long) {
        row_error(f, line, NULL, "line too long (more than %d bytes); "
                  "skipped", POSFILE_LINE_MAX);
        return 0;
    }
    if (memchr(s, '\0', len) != NULL) {
        row_error(f, line, NULL, "contains a NUL byte");
        return 0;
    }
    return f->fmt == FMT_CSV ? csv_row(f, s, len, line)
                             : jsonl_row(f, s, len, line);
}

int posfile_load(const char *path, posfile_row_fn on_row,
                 posfile_error_fn on_error, void *arg,
                 struct posfile_stats *stats, lq_err_t *err)
{
    struct pf f;
    int is_stdin = strcmp(path, "-") == 0;
    int rc = POSFILE_OK;

    memset(&f, 0, sizeof(f));
    f.name = is_stdin ? "stdin" : path;
    f.on_row = on_row;
    f.on_error = on_error;
    f.arg = arg;
    f.fd = -1;
    if (has_suffix(path, ".csv"))
        f.fmt = FMT_CSV;
    else if (has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson"))
        f.fmt = FMT_JSONL;
    f.cap = RD_BUFSIZE;
    f.buf = malloc(f.cap + 1);
    if (f.buf == NULL) {
        rc = lq_err_set(err, "%s: out of memory", f.name);
        goto out;
    }
    f.fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (f.fd < 0) {
        rc = lq_err_set(err, "%s: %s", f.name, strerror(errno));
        goto out;
    }
    for (;;) {
        char *s;
        size_t len;
        int too_long;
        int got = rd_next(&f, &s, &len, &too_long);

        if (got < 0) {
            rc = lq_err_set(err, "%s:%zu: read error: %s", f.name,
                            f.st.lines + 1, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        f.st.lines++;
        rc = one_line(&f, s, len, too_long, f.st.lines, err);
        if (rc != 0)
            goto out;
    }
out:
    if (f.fd >= 0 && !is_stdin)
        close(f.fd);
    free(f.buf);
    free(f.colmap);
    if (stats)
        *stats = f.st;
    return rc;
}

int posfile_empty(const char *path, const struct posfile_stats *st,
                  lq_err_t *err)
{
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;

    if (st->rows > 0)
        return 0;
    if (st->lines == 0)
        lq_err_set(err, "%s: no positions (the file is empty)", name);
    else if (st->header_line > 0)
        lq_err_set(err, "%s: no positions (a header on line %zu, no rows)",
                   name, st->header_line);
    else
        lq_err_set(err, "%s: no positions (only blank and comment lines)",
                   name);
    return 1;
}
