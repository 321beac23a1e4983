/*
 * capture.c - capture files: reading for replay, writing for recording
 * (see capture.h and ../shared/docs/capture-format.md).
 *
 * Reading: plain and gzip files alike (zlib's inflate, so that a
 * truncated, corrupt or garbage-trailed gzip file is an error rather than
 * a short capture).  Lines are split in a large buffer and parsed in
 * place.  A line of the usual shape (what capture_format_line writes: a
 * flat object, no whitespace) takes a fast path, fast_line: one pass
 * that finds the members and validates and unescapes the frame string
 * together, sixteen bytes at a time, into a buffer of the reader's.  Any
 * other line is tokenized with jtok, then its string values are unescaped
 * (never longer than their escaped form) and NUL-terminated where they
 * lie.  Both ways give the same frames and the same bad-line messages:
 * the fast path gives up before changing anything whenever it meets what
 * it does not handle, and jtok then decides.
 *
 * Writing: the loop thread only copies a frame into a queue record; the
 * writer thread takes the whole queue under the lock (libuv threadpool
 * style), formats and writes it unlocked, one hourly file at a time.  The
 * queue is bounded in bytes; when full, frames are dropped and counted:
 * recording must never slow the hot path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#include <tmmintrin.h>
#define CAPTURE_PSHUFB 1
#endif

#include "liqmon/capture.h"
#include "liqmon/jtok.h"
#include "liqmon/log.h"
#include "liqmon/strscan.h"

#define READ_CHUNK (1u << 20)
#define MAX_LINE ((size_t)256 << 20)

/* ---- reading ---------------------------------------------------------- */

/*
 * The bytes come from read(2), through zlib's inflate when the file starts
 * with the gzip magic (1f 8b).  Doing the inflate here rather than through
 * gzread tells damage apart, which gzread does not: it ends a truncated
 * stream like a complete one and skips trailing garbage silently.
 *
 *   a gzip member ends (Z_STREAM_END): the next bytes are another member
 *     (cat a.gz b.gz is a valid gzip file) or the end of the file; anything
 *     else is trailing garbage: CAPTURE_EDATA;
 *   the file ends inside a member: truncated, CAPTURE_EDATA;
 *   inflate says Z_DATA_ERROR (bad block, CRC or length check): corrupt,
 *     CAPTURE_EDATA with zlib's message;
 *   read(2) fails: CAPTURE_EIO.
 *
 * Bytes inflated before the damage are handed out first, so every complete
 * line before it is read; the error comes when more bytes are needed.  An
 * error is sticky: capture_next keeps returning it.
 */
struct capture_reader {
    char *path;
    int fd;
    int sniffed;            /* the first bytes were looked at */
    int gz;                 /* a gzip file */
    z_stream zs;            /* zs.next_in/avail_in: r->in's unused bytes
                               (a plain file's too, before the sniff) */
    int zs_init;            /* inflateInit2 done */
    int member_end;         /* a member ended, no next one started yet */
    unsigned char *in;      /* compressed input */
    size_t in_cap;
    int in_eof;             /* read(2) returned 0 */
    uint64_t raw_read;      /* bytes read from the file */
    enum capture_error pending;   /* met while bytes were still handed out */
    char pending_msg[sizeof(((lq_err_t *)0)->msg)];
    enum capture_error error;     /* sticky, returned by capture_next */
    char errmsg[sizeof(((lq_err_t *)0)->msg)];
    char *buf;              /* buf[start..end) holds unread bytes */
    size_t cap, start, end;
    int eof;
    size_t line;
    size_t bad;
    uint64_t size;
    struct jtok tok[32];
    unsigned char *bin;     /* frame_b64 decode buffer */
    size_t bincap;
    char *fbuf;             /* the frame unescaped by the fast path */
    size_t fcap;
    int pshufb;             /* unescape_str may use SSSE3 (the CPU has it) */
};

#ifdef CAPTURE_PSHUFB
/* pack_idx[m]: the positions of the zero bits of the byte m, in order,
 * then zeros; pack_keep[m]: how many there are.  A pshufb with pack_idx[m]
 * moves the bytes of an 8-byte group that m does not mark to its front:
 * the backslashes of a block of simple escapes leave in one step rather
 * than one copy each.  Filled once (pthread_once), read-only after. */
static uint8_t pack_idx[256][8];
static uint8_t pack_keep[256];
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;

static void pack_init(void)
{
    for (unsigned m = 0; m < 256; m++) {
        unsigned k = 0;
        for (unsigned i = 0; i < 8; i++)
            if (!(m & (1u << i)))
                pack_idx[m][k++] = (uint8_t)i;
        pack_keep[m] = (uint8_t)k;
    }
}
#endif

#define IN_CHUNK (256u << 10)

static _Thread_local enum capture_error last_error;

enum capture_error capture_last_error(void) { return last_error; }

const char *capture_error_name(enum capture_error e)
{
    switch (e) {
    case CAPTURE_OK: return "ok";
    case CAPTURE_EOPEN: return "cannot open";
    case CAPTURE_EDATA: return "damaged data";
    case CAPTURE_EIO: return "read error";
    case CAPTURE_ENOMEM: return "out of memory";
    }
    return "?";
}

static void fail_open(enum capture_error e, lq_err_t *err, const char *fmt,
                      const char *path, const char *what)
{
    last_error = e;
    lq_err_set(err, fmt, path, what);
}

capture_reader_t *capture_open(const char *path, lq_err_t *err)
{
    capture_reader_t *r = calloc(1, sizeof(*r));
    struct stat st;

    if (r == NULL)
        goto nomem;
    r->fd = -1;
    r->path = strdup(path);
    r->cap = 2 * READ_CHUNK;
    r->buf = malloc(r->cap);
    r->in_cap = IN_CHUNK;
    r->in = malloc(r->in_cap);
    if (r->path == NULL || r->buf == NULL || r->in == NULL)
        goto nomem;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        fail_open(CAPTURE_EOPEN, err, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(r->fd, &st) != 0) {
        fail_open(CAPTURE_EOPEN, err, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        fail_open(CAPTURE_EOPEN, err, "%s: %s", path, strerror(EISDIR));
        goto fail;
    }
    if (S_ISREG(st.st_mode))
        r->size = (uint64_t)st.st_size;
    capture_set_portable(r, 0);       /* the CPU's fast paths, if it has them */
    last_error = CAPTURE_OK;
    return r;
nomem:
    fail_open(CAPTURE_ENOMEM, err, "%s: %s", path, "out of memory");
fail:
    capture_close(r);
    return NULL;
}

void capture_close(capture_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->zs_init)
        inflateEnd(&r->zs);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->in);
    free(r->buf);
    free(r->bin);
    free(r->fbuf);
    free(r);
}

size_t capture_bad_lines(const capture_reader_t *r) { return r->bad; }
uint64_t capture_size(const capture_reader_t *r) { return r->size; }
size_t capture_lines(const capture_reader_t *r) { return r->line; }
enum capture_error capture_reader_error(const capture_reader_t *r)
{
    return r->error;
}

void capture_set_portable(capture_reader_t *r, int on)
{
#ifdef CAPTURE_PSHUFB
    if (on)
        r->pshufb = 0;
    else if (__builtin_cpu_supports("ssse3") && pthread_once(&pack_once, pack_init) == 0)
        r->pshufb = 1;
#else
    (void)r;
    (void)on;
#endif
}

uint64_t capture_pos(const capture_reader_t *r)
{
    /* Bytes of the file consumed: comparable with its size for progress. */
    return r->raw_read - (r->gz ? r->zs.avail_in : 0);
}

/* Remember the first error; it is returned once the bytes before it are
 * used up. */
static void set_pending(capture_reader_t *r, enum capture_error e,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_pending(capture_reader_t *r, enum capture_error e,
                        const char *fmt, ...)
{
    va_list ap;

    if (r->pending != CAPTURE_OK)
        return;
    r->pending = e;
    va_start(ap, fmt);
    vsnprintf(r->pending_msg, sizeof(r->pending_msg), fmt, ap);
    va_end(ap);
}

/* read(2) into r->in after what is left there.  0 or -1 (pending set). */
static int fill_in(capture_reader_t *r)
{
    size_t keep = r->zs.avail_in;
    ssize_t n;

    if (keep > 0 && r->zs.next_in != r->in)
        memmove(r->in, r->zs.next_in, keep);
    r->zs.next_in = r->in;
    do
        n = read(r->fd, r->in + keep, r->in_cap - keep);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        set_pending(r, CAPTURE_EIO, "%s: read error: %s", r->path, strerror(errno));
        return -1;
    }
    if (n == 0)
        r->in_eof = 1;
    r->raw_read += (uint64_t)n;
    r->zs.avail_in = (uInt)(keep + (size_t)n);
    return 0;
}

/* Up to n decompressed (or plain) bytes into dst: > 0, 0 at the clean end,
 * or -1 (the error is r->pending). */
static long src_read(capture_reader_t *r, char *dst, size_t n)
{
    if (r->pending != CAPTURE_OK)
        return -1;
    if (!r->sniffed) {
        /* the first read decides: gzip magic or plain */
        r->sniffed = 1;
        if (fill_in(r) != 0)
            return -1;
        while (r->zs.avail_in < 2 && !r->in_eof)
            if (fill_in(r) != 0)
                return -1;
        if (r->zs.avail_in >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
            r->gz = 1;
            if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
                set_pending(r, CAPTURE_ENOMEM, "%s: out of memory", r->path);
                return -1;
            }
            r->zs_init = 1;
        }                           /* else plain: r->in holds the first bytes */
    }
    if (!r->gz) {
        ssize_t k;

        if (r->zs.avail_in > 0) {              /* the sniffed bytes first */
            size_t m = r->zs.avail_in < n ? r->zs.avail_in : n;

            memcpy(dst, r->zs.next_in, m);
            r->zs.next_in += m;
            r->zs.avail_in -= (uInt)m;
            return (long)m;
        }
        if (r->in_eof)
            return 0;
        do
            k = read(r->fd, dst, n);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
            set_pending(r, CAPTURE_EIO, "%s: read error: %s", r->path,
                        strerror(errno));
            return -1;
        }
        if (k == 0)
            r->in_eof = 1;
        r->raw_read += (uint64_t)k;
        return (long)k;
    }
    for (;;) {
        uInt want = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
        size_t produced;
        int ret;

        if (r->member_end) {
            /* another member, or the end of the file, or garbage */
            while (r->zs.avail_in < 2 && !r->in_eof)
                if (fill_in(r) != 0)
                    return -1;
            if (r->zs.avail_in == 0)
                return 0;
            if (r->zs.avail_in >= 2 && r->zs.next_in[0] == 0x1f &&
                r->zs.next_in[1] == 0x8b) {
                inflateReset(&r->zs);
                r->member_end = 0;
                continue;
            }
            set_pending(r, CAPTURE_EDATA, "%s: garbage after the end of the gzip "
                        "stream, at byte %llu of the file", r->path,
                        (unsigned long long)capture_pos(r));
            return -1;
        }
        if (r->zs.avail_in == 0 && !r->in_eof && fill_in(r) != 0)
            return -1;
        r->zs.next_out = (unsigned char *)dst;
        r->zs.avail_out = want;
        ret = inflate(&r->zs, Z_NO_FLUSH);
        produced = want - r->zs.avail_out;
        switch (ret) {
        case Z_STREAM_END:
            r->member_end = 1;
            break;
        case Z_OK:
            break;
        case Z_BUF_ERROR:       /* no progress: input needed */
            if (r->zs.avail_in == 0 && r->in_eof)
                set_pending(r, CAPTURE_EDATA, "%s: truncated gzip stream: the file "
                            "ends inside it", r->path);
            break;
        case Z_MEM_ERROR:
            set_pending(r, CAPTURE_ENOMEM, "%s: out of memory", r->path);
            break;
        case Z_NEED_DICT:
        case Z_DATA_ERROR:
        default:
            set_pending(r, CAPTURE_EDATA, "%s: corrupt gzip data at byte %llu of "
                        "the file (zlib: %s)", r->path,
                        (unsigned long long)capture_pos(r),
                        r->zs.msg ? r->zs.msg : "bad data");
            break;
        }
        if (ret == Z_OK && produced == 0 && r->zs.avail_in == 0 && r->in_eof)
            set_pending(r, CAPTURE_EDATA, "%s: truncated gzip stream: the file "
                        "ends inside it", r->path);
        if (produced > 0)
            return (long)produced;
        if (r->pending != CAPTURE_OK)
            return -1;
    }
}

/* Make e the reader's sticky error (unless it has one) with message msg
 * and "(after line N)", N the lines read before it; report it. */
static int fail_with(capture_reader_t *r, enum capture_error e, const char *msg,
                     lq_err_t *err)
{
    if (r->error == CAPTURE_OK) {
        r->error = e;
        snprintf(r->errmsg, sizeof(r->errmsg), "%.440s (after line %zu)", msg, r->line);
    }
    last_error = r->error;
    lq_err_set(err, "%s", r->errmsg);
    return r->error;
}

static int fail_msg(capture_reader_t *r, enum capture_error e, lq_err_t *err,
                    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_msg(capture_reader_t *r, enum capture_error e, lq_err_t *err,
                    const char *fmt, ...)
{
    char msg[sizeof(r->errmsg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail_with(r, e, msg, err);
}

/* Find the next line; returns its start (NUL-terminated in place, without
 * the '\n') and length; NULL at the end of the file (*rc 0) or on an
 * error (*rc < 0, err set).  A last line without '\n' comes back with
 * *partial set. */
static char *next_line(capture_reader_t *r, size_t *len, lq_err_t *err,
                       int *rc, int *partial)
{
    size_t scanned = 0;

    *rc = 0;
    *partial = 0;
    for (;;) {
        char *b = r->buf + r->start;
        char *nl = memchr(b + scanned, '\n', r->end - r->start - scanned);
        long got;

        if (nl) {
            *nl = '\0';
            *len = (size_t)(nl - b);
            r->start += *len + 1;
            r->line++;
            return b;
        }
        scanned = r->end - r->start;
        if (r->eof) {
            if (scanned == 0)
                return NULL;
            /* A last line without '\n': the file was cut mid-line. */
            if (r->end == r->cap) {
                char *nb = realloc(r->buf, r->cap + 1);
                if (nb == NULL) {
                    *rc = fail_msg(r, CAPTURE_ENOMEM, err, "%s: out of memory",
                                   r->path);
                    return NULL;
                }
                r->buf = nb;
                r->cap++;
                b = r->buf + r->start;
            }
            b[scanned] = '\0';
            *len = scanned;
            r->start = r->end;
            r->line++;
            *partial = 1;
            return b;
        }
        /* Make room: slide unread bytes to the front, grow if a single
         * line fills the buffer. */
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < READ_CHUNK) {
            if (r->cap >= MAX_LINE) {
                *rc = fail_msg(r, CAPTURE_EDATA, err, "%s:%zu: line longer than "
                               "%zu bytes", r->path, r->line + 1, MAX_LINE);
                return NULL;
            }
            char *nb = realloc(r->buf, r->cap * 2);
            if (nb == NULL) {
                *rc = fail_msg(r, CAPTURE_ENOMEM, err, "%s: out of memory", r->path);
                return NULL;
            }
            r->buf = nb;
            r->cap *= 2;
        }
        got = src_read(r, r->buf + r->end, r->cap - r->end - 1);
        if (got < 0) {
            *rc = fail_with(r, r->pending, r->pending_msg, err);
            return NULL;
        }
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
    }
}

static void put_utf8(char **o, unsigned cp)
{
    char *p = *o;

    if (cp < 0x80) {
        *p++ = (char)cp;
    } else if (cp < 0x800) {
        *p++ = (char)(0xC0 | (cp >> 6));
        *p++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p++ = (char)(0xE0 | (cp >> 12));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (char)(0xF0 | (cp >> 18));
        *p++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = p;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Write what the escape at q (the byte after its backslash, checked to be
 * a JSON escape) stands for at *o; return the byte after it, or NULL
 * when a high surrogate is followed by an escape that is not one.  A
 * high surrogate followed by an escaped low one is one code point;
 * anything else is taken alone.  Both unescapers below use it. */
static const char *decode_escape(const char *q, const char *end, char **o)
{
    switch (*q) {
    case 'b': *(*o)++ = '\b'; return q + 1;
    case 'f': *(*o)++ = '\f'; return q + 1;
    case 'n': *(*o)++ = '\n'; return q + 1;
    case 'r': *(*o)++ = '\r'; return q + 1;
    case 't': *(*o)++ = '\t'; return q + 1;
    case 'u': {
        unsigned cp = hex4(q + 1);
        q += 5;
        if (cp >= 0xD800 && cp < 0xDC00 && end - q >= 6 && q[0] == '\\' && q[1] == 'u') {
            if (!jtok_hex4_ok(q + 2))
                return NULL;
            unsigned lo = hex4(q + 2);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
        }
        put_utf8(o, cp);
        return q;
    }
    default:                          /* " \ / */
        *(*o)++ = *q;
        return q + 1;
    }
}

/* Unescape string token i of line in place and NUL-terminate it.  jtok
 * already checked every escape.  Returns the new length. */
static size_t unescape_inplace(char *line, const struct jtok *t)
{
    char *in = line + t->start, *end = in + t->len, *out = in;

    if (!t->escaped) {
        *end = '\0';
        return t->len;
    }
    while (in < end) {
        if (*in != '\\') {
            *out++ = *in++;
            continue;
        }
        /* jtok checked the escape, and the escape after a high surrogate */
        in = (char *)decode_escape(in + 1, end, &out);
    }
    *out = '\0';
    return (size_t)(out - (line + t->start));
}

/*
 * The fast path of capture_next.  Nearly every line is what
 * capture_format_line writes: a flat object of string and integer values,
 * no whitespace, the frame a long string whose every '"' is escaped.
 * Tokenizing such a line with jtok, then unescaping the frame, reads the
 * frame twice, byte by byte at each of its escapes (one every few bytes);
 * this reads it once, eight bytes at a time, validating and unescaping
 * together into r->fbuf.  It gives up (-1) on anything else (whitespace,
 * nesting, literals, an escaped key, a syntax error, more members than
 * r->tok holds), before anything in the line was changed, and the line
 * then goes the general way (jtok_parse), which decides its fate and its
 * error message exactly as before.  So for every line it accepts, the
 * tokens it writes are the ones jtok_parse would write and the frame the
 * one unescape_inplace would produce.
 */

/* The value token of each key capture_next reads: the FIRST member with
 * that key, as jtok_get finds it. */
enum { CK_TS, CK_VENUE, CK_SRC, CK_CONN, CK_URL, CK_FRAME, CK_FRAME_B64, CK_N };

static int key_id(const char *k, size_t n)
{
    switch (n) {
    case 2: return memcmp(k, "ts", 2) == 0 ? CK_TS : -1;
    case 3: return memcmp(k, "src", 3) == 0 ? CK_SRC
                 : memcmp(k, "url", 3) == 0 ? CK_URL : -1;
    case 4: return memcmp(k, "conn", 4) == 0 ? CK_CONN : -1;
    case 5: return memcmp(k, "venue", 5) == 0 ? CK_VENUE
                 : memcmp(k, "frame", 5) == 0 ? CK_FRAME : -1;
    case 9: return memcmp(k, "frame_b64", 9) == 0 ? CK_FRAME_B64 : -1;
    }
    return -1;
}

/* Check one escape at q (on the byte after the backslash) as jtok does:
 * the byte after it, or NULL when it is not a JSON escape. */
static inline const char *escape_ok(const char *q, const char *end)
{
    if (q >= end)
        return NULL;
    switch (*q) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n':
    case 'r': case 't':
        return q + 1;
    case 'u':
        return end - q >= 5 && jtok_hex4_ok(q + 1) ? q + 5 : NULL;
    }
    return NULL;
}

/* A string body at q (after its quote), checked as jtok checks it: its
 * closing quote, or NULL.  *escaped as jtok sets it. */
static const char *scan_str(const char *q, const char *end, uint8_t *escaped)
{
    for (;;) {
        q = strscan_plain(q, end);
        if (q >= end || (unsigned char)*q < 0x20)
            return NULL;
        if (*q == '"')
            return q;
        *escaped = 1;
        if ((q = escape_ok(q + 1, end)) == NULL)
            return NULL;
    }
}

#ifdef CAPTURE_PSHUFB
/* Store the bytes of x[0..lim) that drop does not mark, in order, at o
 * (16 bytes are written); return o past them.  drop has no bit at or
 * above lim, lim <= 16. */
__attribute__((target("ssse3")))
static inline char *pack_block(char *o, __m128i x, unsigned drop, unsigned lim)
{
    unsigned lo = drop & 0xffu, hi = drop >> 8;
    __m128i il = _mm_loadl_epi64((const __m128i *)(const void *)pack_idx[lo]);
    __m128i ih = _mm_add_epi8(_mm_loadl_epi64((const __m128i *)(const void *)pack_idx[hi]),
                              _mm_set1_epi8(8));

    _mm_storel_epi64((__m128i *)(void *)o, _mm_shuffle_epi8(x, il));
    o += pack_keep[lo];
    _mm_storel_epi64((__m128i *)(void *)o, _mm_shuffle_epi8(x, ih));
    /* Bytes lim..15 are unmarked, so counted, but not taken. */
    return o + pack_keep[hi] - (16 - lim);
}
#endif

/* The same, unescaping into out as unescape_inplace would (out has room
 * for end - q + 32 bytes: up to sixteen bytes are stored past the text
 * written so far, and the text never grows when unescaped).  *olen gets
 * the unescaped length.  One body, two instances (below): pshufb is a
 * constant in each, so the one built without SSSE3 never reaches
 * pack_block. */
static inline __attribute__((always_inline)) const char *
unescape_body(const char *q, const char *end, char *out, size_t *olen,
              uint8_t *escaped, int pshufb)
{
    char *o = out;

    (void)pshufb;
    for (;;) {
#ifdef CAPTURE_PSHUFB
        /* Sixteen bytes at a time.  A frame escapes every '"' it holds,
         * one every few bytes.  A simple escape is a backslash, then '"'
         * or '/': the escaped byte is the byte itself, so unescaping it is
         * leaving the backslash out.  The block is taken up to its first
         * byte that is anything else special ("hard": the closing quote,
         * another escape, a backslash whose next byte is in the next
         * block, a control character), with its simple escapes' backslashes
         * left out by two byte shuffles; the hard byte goes on byte-wise
         * below.  The prefix is read right: were a backslash before the
         * first hard byte itself escaped, the backslash escaping it would
         * be a hard byte further left. */
        if (pshufb) {
            while (end - q >= 16) {
                const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
                unsigned bs = strscan_eq16(x, '\\'), qt = strscan_eq16(x, '"');
                unsigned sl = strscan_eq16(x, '/'), ctl = strscan_ctl16(x);
                /* (qt | sl) >> 1 never marks byte 15: a backslash there
                 * is hard. */
                unsigned hard = ctl | (qt & ~(bs << 1)) | (bs & ~((qt | sl) >> 1));
                unsigned k = hard ? (unsigned)__builtin_ctz(hard) : 16;
                unsigned drop = bs & ((1u << k) - 1);

                *escaped |= drop != 0;
                o = pack_block(o, x, drop, k);
                q += k;
                if (k < 16)
                    goto special;
            }
        } else
#endif
#if defined(__SSE2__)
        /* Sixteen bytes at a time while 32 remain (so that the 16-byte
         * copies below never read past the line).  A block whose only
         * specials are simple escapes (above) is copied span by span, the
         * backslashes left out, in a few instructions per escape.  Any
         * other block (the closing quote, another escape, an escape cut by
         * the block's end, a control character) goes on byte-wise below
         * from its first special byte. */
        while (end - q >= 32) {
            const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
            unsigned bs = strscan_eq16(x, '\\'), qt = strscan_eq16(x, '"'), ctl = strscan_ctl16(x);
            unsigned sp = bs | qt | ctl;

            if (sp == 0) {
                _mm_storeu_si128((__m128i *)(void *)o, x);
                q += 16;
                o += 16;
                continue;
            }
            /* A backslash in the last byte escapes a byte of the next
             * block: then take this block's first 15 bytes only.  (If
             * byte 14 is a backslash too, it escapes that one: an escaped
             * backslash, not a simple escape, which fails the test below.) */
            unsigned lim = (bs & 0x8000u) ? 15 : 16, keep = (1u << lim) - 1;
            bs &= keep;
            if ((ctl & keep) == 0 && (qt & keep & ~(bs << 1)) == 0) {
                unsigned sl = strscan_eq16(x, '/');
                if (((bs << 1) & ~(qt | sl)) == 0) {
                    unsigned pos = 0;

                    *escaped = 1;
                    for (unsigned m = bs; m != 0; m &= m - 1) {
                        unsigned i = (unsigned)__builtin_ctz(m);
                        memcpy(o, q + pos, 16);
                        o += i - pos;
                        pos = i + 1;
                    }
                    memcpy(o, q + pos, 16);
                    o += lim - pos;
                    q += lim;
                    continue;
                }
            }
            {
                unsigned k = (unsigned)__builtin_ctz(sp);
                _mm_storeu_si128((__m128i *)(void *)o, x);
                q += k;
                o += k;
            }
            goto special;
        }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Store eight bytes, keep those before the first special one. */
        for (;;) {
            uint64_t x, m;
            if (end - q < 8) {
                while (q < end && *q != '"' && *q != '\\' &&
                       (unsigned char)*q >= 0x20)
                    *o++ = *q++;
                break;
            }
            memcpy(&x, q, 8);
            memcpy(o, &x, 8);
            m = strscan_special8(x);
            if (m != 0) {
                size_t k = (size_t)(__builtin_ctzll(m) >> 3);
                q += k;
                o += k;
                break;
            }
            q += 8;
            o += 8;
        }
#else
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            *o++ = *q++;
#endif
#if defined(__SSE2__)
special:
#endif
        if (q >= end || (unsigned char)*q < 0x20)
            return NULL;
        if (*q == '"') {
            *olen = (size_t)(o - out);
            return q;
        }
        *escaped = 1;
        q++;
        if (escape_ok(q, end) == NULL || (q = decode_escape(q, end, &o)) == NULL)
            return NULL;
    }
}

static const char *unescape_portable(const char *q, const char *end, char *out,
                                     size_t *olen, uint8_t *escaped)
{
    return unescape_body(q, end, out, olen, escaped, 0);
}

#ifdef CAPTURE_PSHUFB
__attribute__((target("ssse3")))
static const char *unescape_ssse3(const char *q, const char *end, char *out,
                                  size_t *olen, uint8_t *escaped)
{
    return unescape_body(q, end, out, olen, escaped, 1);
}
#endif

static const char *unescape_str(const capture_reader_t *r, const char *q,
                                const char *end, char *out, size_t *olen,
                                uint8_t *escaped)
{
#ifdef CAPTURE_PSHUFB
    if (r->pshufb)
        return unescape_ssse3(q, end, out, olen, escaped);
#else
    (void)r;
#endif
    return unescape_portable(q, end, out, olen, escaped);
}

static void put_tok(struct jtok *t, int i, uint8_t type, uint8_t esc,
                    size_t start, size_t len)
{
    t[i].type = type;
    t[i].escaped = esc;
    t[i].start = (uint32_t)start;
    t[i].len = (uint32_t)len;
    t[i].size = 0;
    t[i].end = (uint32_t)i + 1;
}

/* Tokenize line[0..len) into r->tok and k[] (value token per CK_, or
 * -1), the frame (if a string) unescaped into r->fbuf, *flen its length.
 * 0, or -1: not the simple shape, take the general way (nothing was
 * changed in line). */
static int fast_line(capture_reader_t *r, const char *line, size_t len,
                     int k[CK_N], size_t *flen)
{
    const char *p = line, *end = line + len;
    struct jtok *t = r->tok;
    const int max = (int)(sizeof(r->tok) / sizeof(r->tok[0]));
    int n = 1, pairs = 0;

    for (int i = 0; i < CK_N; i++)
        k[i] = -1;
    if (len < 2 || p[0] != '{' || p[1] != '"')
        return -1;
    if (r->fcap < len + 48) {
        size_t want = r->fcap * 2 > len + 48 ? r->fcap * 2 : len + 48;
        char *nb = realloc(r->fbuf, want);
        if (nb == NULL)
            return -1;    /* the general way needs no buffer */
        r->fbuf = nb;
        r->fcap = want;
    }
    p++;
    for (;;) {
        const char *ks, *q;
        uint8_t esc = 0;
        int id;

        if (n + 2 > max || p >= end || *p != '"')
            return -1;
        ks = ++p;
        p = strscan_plain(p, end);
        if (p >= end || *p != '"')
            return -1;            /* an escape (or worse) in a key */
        put_tok(t, n, JT_STR, 0, (size_t)(ks - line), (size_t)(p - ks));
        id = key_id(ks, (size_t)(p - ks));
        if (id >= 0 && k[id] >= 0)
            id = -1;              /* a repeated key: the first one counts */
        p++;
        if (p >= end || *p != ':')
            return -1;
        p++;
        if (p < end && *p == '"') {
            p++;
            if (id == CK_FRAME)
                q = unescape_str(r, p, end, r->fbuf, flen, &esc);
            else
                q = scan_str(p, end, &esc);
            if (q == NULL)
                return -1;
            put_tok(t, n + 1, JT_STR, esc, (size_t)(p - line), (size_t)(q - p));
            p = q + 1;
        } else {
            size_t l = jtok_number_len(p, end);
            if (l == 0)
                return -1;
            put_tok(t, n + 1, JT_NUM, 0, (size_t)(p - line), l);
            p += l;
        }
        if (id >= 0)
            k[id] = n + 1;
        n += 2;
        pairs++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}' && p + 1 == end)
            break;
        return -1;
    }
    t[0].type = JT_OBJ;
    t[0].escaped = 0;
    t[0].start = 0;
    t[0].len = 0;
    t[0].size = (uint32_t)pairs;
    t[0].end = (uint32_t)n;
    return 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static int b64_decode(capture_reader_t *r, const char *s, size_t n, size_t *out_len)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    if (r->bincap < n + 1) {
        unsigned char *nb = realloc(r->bin, n + 1);
        if (nb == NULL)
            return -1;
        r->bin = nb;
        r->bincap = n + 1;
    }
    for (size_t i = 0; i < n; i++) {
        int v;
        if (s[i] == '=')
            break;
        if ((v = b64val(s[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            r->bin[o++] = (unsigned char)(acc >> bits);
        }
    }
    r->bin[o] = 0;
    *out_len = o;
    return 0;
}

static void report_bad(capture_reader_t *r,
                       void (*on_bad)(const char *, void *), void *arg,
                       const char *what)
{
    char msg[512];

    r->bad++;
    if (on_bad) {
        snprintf(msg, sizeof(msg), "%s:%zu: %s", r->path, r->line, what);
        on_bad(msg, arg);
    }
}

int capture_next(capture_reader_t *r, struct capture_frame *f,
                 void (*on_bad)(const char *msg, void *arg), void *arg,
                 lq_err_t *err)
{
    if (r->error != CAPTURE_OK)
        return fail_with(r, r->error, "", err);
    for (;;) {
        size_t len, errpos, flen = 0;
        int rc, partial, n, k, fast, vid, key[CK_N];
        char *line = next_line(r, &len, err, &rc, &partial);

        if (line == NULL)
            return rc;
        if (partial) {
            /* capture-format.md: '\n' after every line */
            report_bad(r, on_bad, arg, "no newline at the end of the file: the "
                       "last line is cut off");
            continue;
        }
        if (len == 0 || (len == 1 && line[0] == '\r'))
            continue;                     /* blank lines are not frames */
        fast = fast_line(r, line, len, key, &flen) == 0;
        if (!fast) {
            n = jtok_parse(line, len, r->tok, 32, &errpos);
            if (n == JTOK_ESYNTAX) {
                char what[64];
                snprintf(what, sizeof(what), "not JSON (at byte %zu)", errpos + 1);
                report_bad(r, on_bad, arg, what);
                continue;
            }
            if (n < 0 || r->tok[0].type != JT_OBJ) {
                report_bad(r, on_bad, arg, "not a capture object");
                continue;
            }
            key[CK_TS] = jtok_get(line, r->tok, 0, "ts");
            key[CK_VENUE] = jtok_get(line, r->tok, 0, "venue");
            key[CK_SRC] = jtok_get(line, r->tok, 0, "src");
            key[CK_CONN] = jtok_get(line, r->tok, 0, "conn");
            key[CK_URL] = jtok_get(line, r->tok, 0, "url");
            key[CK_FRAME] = jtok_get(line, r->tok, 0, "frame");
            key[CK_FRAME_B64] = jtok_get(line, r->tok, 0, "frame_b64");
        }
        memset(f, 0, sizeof(*f));
        f->line = r->line;
        k = key[CK_TS];
        if (k < 0 || r->tok[k].type != JT_NUM || jtok_i64(line, r->tok, k, &f->ts) != 0) {
            report_bad(r, on_bad, arg, "ts: missing or not an integer");
            continue;
        }
        k = key[CK_VENUE];
        if (k < 0 || r->tok[k].type != JT_STR ||
            (vid = venue_from_span(line + r->tok[k].start, r->tok[k].len)) < 0) {
            char what[336];      /* the longest message below fits */
            if (k < 0) {
                snprintf(what, sizeof(what), "venue: missing");
            } else if (r->tok[k].type != JT_STR) {
                snprintf(what, sizeof(what), "venue: not a string");
            } else {    /* named as config.c names one; its first 40
                         * bytes, made printable (4 chars a byte at most) */
                char name[4 * 40 + 1], all[128];
                size_t nl = r->tok[k].len < 40 ? r->tok[k].len : 40;
                memcpy(name, line + r->tok[k].start, nl);
                name[nl] = '\0';
                lq_err_sanitize(name, sizeof(name));
                venue_names_join(all, sizeof(all));
                snprintf(what, sizeof(what), "venue: unknown venue '%s' (expected %s)",
                         name, all);
            }
            report_bad(r, on_bad, arg, what);
            continue;
        }
        f->venue = (enum venue_id)vid;
        k = key[CK_SRC];
        if (jtok_streq(line, r->tok, k, "ws")) {
            f->src = FRAME_WS;
        } else if (jtok_streq(line, r->tok, k, "rest")) {
            f->src = FRAME_REST;
        } else {
            report_bad(r, on_bad, arg, "src: must be \"ws\" or \"rest\"");
            continue;
        }
        int kc = key[CK_CONN];
        int ku = key[CK_URL];
        int kf = key[CK_FRAME];
        int kb = key[CK_FRAME_B64];
        if ((kc >= 0 && r->tok[kc].type != JT_STR) ||
            (ku >= 0 && r->tok[ku].type != JT_STR)) {
            report_bad(r, on_bad, arg, "conn/url: must be strings");
            continue;
        }
        if (kf >= 0 && r->tok[kf].type == JT_STR) {
            if (fast) {
                /* unescaped already; the line itself is untouched */
                r->fbuf[flen] = '\0';
                f->data = r->fbuf;
                f->len = flen;
            } else {
                f->len = unescape_inplace(line, &r->tok[kf]);
                f->data = line + r->tok[kf].start;
            }
        } else if (kb >= 0 && r->tok[kb].type == JT_STR) {
            size_t bl;
            if (b64_decode(r, line + r->tok[kb].start, r->tok[kb].len, &bl) != 0) {
                report_bad(r, on_bad, arg, "frame_b64: not base64");
                continue;
            }
            f->data = (const char *)r->bin;
            f->len = bl;
            f->binary = 1;
        } else {
            report_bad(r, on_bad, arg, "frame: missing or not a string");
            continue;
        }
        /* Unescaping conn/url after frame is safe: spans do not overlap. */
        if (kc >= 0) {
            unescape_inplace(line, &r->tok[kc]);
            f->conn = line + r->tok[kc].start;
        }
        if (ku >= 0) {
            unescape_inplace(line, &r->tok[ku]);
            f->url = line + r->tok[ku].start;
        }
        return 1;
    }
}

/* ---- formatting ------------------------------------------------------- */

/* Append s as a JSON string body (no quotes).  Returns bytes, or 0 when it
 * does not fit. */
static size_t put_escaped(char *o, size_t size, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (w + 6 >= size)
            return 0;
        if (c == '"' || c == '\\') {
            o[w++] = '\\';
            o[w++] = (char)c;
        } else if (c < 0x20) {
            o[w++] = '\\';
            switch (c) {
            case '\n': o[w++] = 'n'; break;
            case '\r': o[w++] = 'r'; break;
            case '\t': o[w++] = 't'; break;
            default:
                o[w++] = 'u'; o[w++] = '0'; o[w++] = '0';
                o[w++] = hex[c >> 4]; o[w++] = hex[c & 15];
            }
        } else {
            o[w++] = (char)c;
        }
    }
    return w;
}

size_t capture_format_line(char *buf, size_t size, int64_t ts,
                           enum venue_id venue, enum frame_src src,
                           const char *conn, const char *url,
                           const char *data, size_t len)
{
    size_t w;
    int n;

    n = snprintf(buf, size, "{\"ts\":%lld,\"venue\":\"%s\",\"src\":\"%s\"",
                 (long long)ts, venue_name(venue), src == FRAME_REST ? "rest" : "ws");
    if (n < 0 || (size_t)n >= size)
        return 0;
    w = (size_t)n;
    const char *keys[2] = { "conn", "url" };
    const char *vals[2] = { conn, url };
    for (int i = 0; i < 2; i++) {
        size_t e;
        if (vals[i] == NULL)
            continue;
        n = snprintf(buf + w, size - w, ",\"%s\":\"", keys[i]);
        if (n < 0 || (size_t)n >= size - w)
            return 0;
        w += (size_t)n;
        e = put_escaped(buf + w, size - w, vals[i], strlen(vals[i]));
        if (e == 0 && vals[i][0] != '\0')
            return 0;
        w += e;
        if (w + 1 >= size)
            return 0;
        buf[w++] = '"';
    }
    if (w + 11 >= size)
        return 0;
    memcpy(buf + w, ",\"frame\":\"", 10);
    w += 10;
    size_t e = put_escaped(buf + w, size - w, data, len);
    if (e == 0 && len > 0)
        return 0;
    w += e;
    if (w + 3 >= size)
        return 0;
    buf[w++] = '"';
    buf[w++] = '}';
    buf[w++] = '\n';
    return w;
}

/* ---- writing ---------------------------------------------------------- */

struct crec {
    struct crec *next;
    int64_t ts;
    enum venue_id venue;
    enum frame_src src;
    size_t len;
    char *conn, *url;     /* point into data[] after the frame, or NULL */
    char data[];
};

struct capture_writer {
    char *dir;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct crec *head, *tail;     /* FIFO, guarded by mu */
    size_t queued_bytes;          /* guarded by mu */
    size_t queue_bytes;           /* the bound */
    int stopping;                 /* guarded by mu */
    struct capture_writer_stats st;   /* guarded by mu */
    /* Writer thread only: */
    FILE *f;
    long hour;                    /* hour number of the open file */
    char *line;
    size_t linecap;
};

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void writer_open_hour(capture_writer_t *w, int64_t ts)
{
    long hour = (long)(ts / ((int64_t)3600 * 1000000000));
    time_t t = (time_t)hour * 3600;
    struct tm tm;
    char path[4200];

    if (w->f && hour == w->hour)
        return;
    if (w->f)
        fclose(w->f);
    gmtime_r(&t, &tm);
    snprintf(path, sizeof(path), "%s/capture-%04d%02d%02d-%02d.jsonl", w->dir,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    w->f = fopen(path, "a");
    w->hour = hour;
    if (w->f == NULL)
        log_msg(LL_ERROR, "capture", "%s: %s", path, strerror(errno));
    else {
        pthread_mutex_lock(&w->mu);
        w->st.files++;
        pthread_mutex_unlock(&w->mu);
    }
}

static void *writer_main(void *arg)
{
    capture_writer_t *w = arg;

    for (;;) {
        struct crec *batch;
        size_t bytes = 0, frames = 0, errors = 0, wbytes = 0;
        int stop;

        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        batch = w->head;
        w->head = w->tail = NULL;
        stop = w->stopping;
        pthread_mutex_unlock(&w->mu);

        while (batch) {
            struct crec *r = batch;
            size_t need = r->len * 6 + 512 +
                          (r->conn ? strlen(r->conn) * 6 : 0) +
                          (r->url ? strlen(r->url) * 6 : 0);
            batch = r->next;
            bytes += r->len;
            if (need > w->linecap) {
                char *nl = realloc(w->line, need);
                if (nl) {
                    w->line = nl;
                    w->linecap = need;
                }
            }
            writer_open_hour(w, r->ts);
            size_t n = w->line && need <= w->linecap
                ? capture_format_line(w->line, w->linecap, r->ts, r->venue,
                                      r->src, r->conn, r->url, r->data, r->len)
                : 0;
            if (n == 0 || w->f == NULL || fwrite(w->line, 1, n, w->f) != n) {
                errors++;
            } else {
                frames++;
                wbytes += n;
            }
            free(r);
        }
        if (w->f && fflush(w->f) != 0)
            errors++;

        pthread_mutex_lock(&w->mu);
        w->queued_bytes -= bytes;
        w->st.frames += frames;
        w->st.bytes += wbytes;
        w->st.write_errors += errors;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
    }
    return NULL;
}

capture_writer_t *capture_writer_start(const char *dir, size_t queue_bytes,
                                       lq_err_t *err)
{
    capture_writer_t *w = calloc(1, sizeof(*w));

    if (w == NULL || (w->dir = strdup(dir)) == NULL) {
        lq_err_set(err, "out of memory");
        goto fail;
    }
    if (mkdir_p(dir) != 0) {
        lq_err_set(err, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    w->queue_bytes = queue_bytes ? queue_bytes : ((size_t)64 << 20);
    w->hour = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        lq_err_set(err, "cannot start the capture writer thread");
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        goto fail;
    }
    return w;
fail:
    if (w)
        free(w->dir);
    free(w);
    return NULL;
}

int capture_writer_submit(capture_writer_t *w, int64_t ts, enum venue_id venue,
                          enum frame_src src, const char *conn,
                          const char *url, const char *data, size_t len)
{
    size_t lc = conn ? strlen(conn) + 1 : 0, lu = url ? strlen(url) + 1 : 0;
    struct crec *r;

    pthread_mutex_lock(&w->mu);
    if (w->queued_bytes + len > w->queue_bytes || w->stopping) {
        w->st.dropped++;
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    w->queued_bytes += len;
    pthread_mutex_unlock(&w->mu);

    /* The copy happens outside the lock; the reservation above already
     * counted its bytes. */
    r = malloc(sizeof(*r) + len + 1 + lc + lu);
    if (r == NULL) {
        pthread_mutex_lock(&w->mu);
        w->queued_bytes -= len;
        w->st.dropped++;
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    r->next = NULL;
    r->ts = ts;
    r->venue = venue;
    r->src = src;
    r->len = len;
    memcpy(r->data, data, len);
    r->data[len] = '\0';
    r->conn = conn ? memcpy(r->data + len + 1, conn, lc) : NULL;
    r->url = url ? memcpy(r->data + len + 1 + lc, url, lu) : NULL;

    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void capture_writer_get_stats(capture_writer_t *w, struct capture_writer_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    pthread_mutex_unlock(&w->mu);
}

void capture_writer_stop(capture_writer_t *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    /* Frames queued after the thread's last take (none: submit refuses
     * once stopping is set, and the thread drains before it exits). */
    if (w->f)
        fclose(w->f);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->line);
    free(w->dir);
    free(w);
}
