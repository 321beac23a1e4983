/*
 * check_capture.c - capture files (capture.h, capture-format.md).
 *
 * Format: capture_format_line gives the documented example lines byte for
 * byte and the documented escapes; every line it writes is JSON that jansson
 * decodes to the same frame; it never writes past size and fails cleanly
 * when short.  Reading: format + capture_open/capture_next round trip byte
 * exact (quotes, backslashes, every control byte, NUL, UTF-8, non-UTF-8
 * bytes, conn/url, empty frames, seeded random frames); lines written by
 * other writers (\u escapes, surrogate pairs, \/, keys in any order, extra
 * keys, spaces) decode to UTF-8; frame_b64; CRLF, blank lines, a last line
 * without '\n'; gzip files read identically; every kind of bad line is
 * counted and reported as "<path>:<line>: <what>" while the good lines
 * around it come back; an 8 MiB frame.  Damage (capture.h's error
 * contract): a truncated gzip file (cut mid-stream, in the trailer, after
 * the header), corrupt gzip data, garbage after the stream are
 * CAPTURE_EDATA naming the file and the lines read before, after every
 * frame before the damage came back; concatenated gzip members are fine;
 * a plain file cut mid-line gives its last line as a bad line; errors are
 * sticky; replay_run passes the kind on through capture_last_error().
 * Writing: hourly files across an
 * hour and a day boundary, named capture-YYYYMMDD-HH.jsonl, read back in
 * order; stats; a tiny queue drops and counts instead of blocking.
 *
 * Files live in a fresh mkdtemp directory per test, removed afterwards.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <zlib.h>

#include "liqmon/capture.h"
#include "suites.h"

/* ---- a scratch directory per test ----------------------------------------- */

static char tmpdir[4096];

static void tmp_setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/liqmon-capture-XXXXXX",
             t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s failed", tmpdir);
}

static void rm_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char p[8192];

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    if ((d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
            rm_tree(p);
        }
        closedir(d);
    }
    rmdir(path);
}

static void tmp_teardown(void)
{
    rm_tree(tmpdir);
}

static const char *tpath(const char *name)
{
    static char path[8192];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

static const char *put_file(const char *name, const char *data, size_t n)
{
    const char *path = tpath(name);
    FILE *f = fopen(path, "wb");

    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(n == 0 || fwrite(data, 1, n, f) == n);
    ck_assert(fclose(f) == 0);
    return path;
}

static const char *put_str(const char *name, const char *s)
{
    return put_file(name, s, strlen(s));
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    ck_assert_msg(stat(path, &st) == 0, "%s: missing", path);
    return (uint64_t)st.st_size;
}

/* ---- reading a whole capture into owned copies ------------------------------ */

struct rframe {
    int64_t ts;
    enum venue_id venue;
    enum frame_src src;
    char *conn, *url, *data;
    size_t len;
    int binary;
    size_t line;
};

struct readall {
    struct rframe *f;
    size_t n, cap;
    char *bad[64];
    size_t nbad;            /* on_bad calls */
    size_t bad_lines;       /* capture_bad_lines() */
    uint64_t pos, size;     /* at the end */
    int rc;                 /* the last capture_next */
    lq_err_t err;
};

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    ck_assert_ptr_nonnull(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void keep_bad(const char *msg, void *arg)
{
    struct readall *ra = arg;

    if (ra->nbad < 64)
        ra->bad[ra->nbad] = dupn(msg, strlen(msg));
    ra->nbad++;
}

/* Set: read_all uses the reader's portable code only (no SSSE3). */
static int read_portable;

static void read_all(const char *path, struct readall *ra)
{
    capture_reader_t *r;
    struct capture_frame f;

    memset(ra, 0, sizeof(*ra));
    r = capture_open(path, &ra->err);
    ck_assert_msg(r != NULL, "capture_open(%s): %s", path, ra->err.msg);
    capture_set_portable(r, read_portable);
    while ((ra->rc = capture_next(r, &f, keep_bad, ra, &ra->err)) == 1) {
        if (ra->n == ra->cap) {
            ra->cap = ra->cap ? ra->cap * 2 : 16;
            ra->f = realloc(ra->f, ra->cap * sizeof(*ra->f));
            ck_assert_ptr_nonnull(ra->f);
        }
        struct rframe *c = &ra->f[ra->n++];
        TCHECK(f.data[f.len] == '\0', "%s:%zu: frame not NUL-terminated", path, f.line);
        c->ts = f.ts;
        c->venue = f.venue;
        c->src = f.src;
        c->conn = f.conn ? dupn(f.conn, strlen(f.conn)) : NULL;
        c->url = f.url ? dupn(f.url, strlen(f.url)) : NULL;
        c->data = dupn(f.data, f.len);
        c->len = f.len;
        c->binary = f.binary;
        c->line = f.line;
    }
    ra->bad_lines = capture_bad_lines(r);
    ra->pos = capture_pos(r);
    ra->size = capture_size(r);
    capture_close(r);
}

static void readall_free(struct readall *ra)
{
    for (size_t i = 0; i < ra->n; i++) {
        free(ra->f[i].conn);
        free(ra->f[i].url);
        free(ra->f[i].data);
    }
    free(ra->f);
    for (size_t i = 0; i < ra->nbad && i < 64; i++)
        free(ra->bad[i]);
    memset(ra, 0, sizeof(*ra));
}

/* ---- frames to write ------------------------------------------------------- */

struct wframe {
    int64_t ts;
    enum venue_id venue;
    enum frame_src src;
    const char *conn, *url;
    const char *data;
    size_t len;
};

static int streq_null(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct rframe *g, const struct wframe *w, size_t line,
                       size_t idx)
{
    TCHECK(g->ts == w->ts, "frame %zu: ts %" PRId64 ", want %" PRId64, idx, g->ts, w->ts);
    TCHECK(g->venue == w->venue, "frame %zu: venue %d, want %d", idx, g->venue, w->venue);
    TCHECK(g->src == w->src, "frame %zu: src %d, want %d", idx, g->src, w->src);
    TCHECK(streq_null(g->conn, w->conn), "frame %zu: conn '%s', want '%s'", idx,
           g->conn ? g->conn : "(null)", w->conn ? w->conn : "(null)");
    TCHECK(streq_null(g->url, w->url), "frame %zu: url '%s', want '%s'", idx,
           g->url ? g->url : "(null)", w->url ? w->url : "(null)");
    TCHECK(g->len == w->len && memcmp(g->data, w->data, w->len) == 0,
           "seed %" PRIu64 ": frame %zu: %zu bytes differ from the %zu written",
           test_seed(), idx, g->len, w->len);
    TCHECK(!g->binary, "frame %zu: binary", idx);
    TCHECK(line == 0 || g->line == line, "frame %zu: line %zu, want %zu", idx,
           g->line, line);
}

/* Format frames into one buffer (each line checked against jansson when
 * jansson can hold it). */
static char *format_all(const struct wframe *w, size_t n, size_t *outlen)
{
    size_t cap = 1024, len = 0;
    char *buf = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t need = len + w[i].len * 6 + 512 +
                      (w[i].conn ? strlen(w[i].conn) * 6 : 0) +
                      (w[i].url ? strlen(w[i].url) * 6 : 0);
        if (buf == NULL || need > cap) {
            cap = need * 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t l = capture_format_line(buf + len, cap - len, w[i].ts, w[i].venue,
                                       w[i].src, w[i].conn, w[i].url, w[i].data,
                                       w[i].len);
        TCHECK(l > 0 && buf[len + l - 1] == '\n' && memchr(buf + len, '\n', l) == buf + len + l - 1,
               "frame %zu: format gave %zu", i, l);
        len += l;
    }
    *outlen = len;
    return buf;
}

/* ---- the documented format ---------------------------------------------- */

static const char *const DOC_LINE1 =
    "{\"ts\":1700000000123456789,\"venue\":\"binance-usdm\",\"src\":\"ws\",\"frame\":"
    "\"{\\\"e\\\":\\\"markPriceUpdate\\\",\\\"E\\\":1700000000120,\\\"s\\\":\\\"BTCUSDT\\\","
    "\\\"p\\\":\\\"37100.50000000\\\",\\\"i\\\":\\\"37090.1\\\",\\\"P\\\":\\\"37095.2\\\","
    "\\\"r\\\":\\\"0.0001\\\",\\\"T\\\":1700006400000}\"}\n";
static const char *const DOC_FRAME1 =
    "{\"e\":\"markPriceUpdate\",\"E\":1700000000120,\"s\":\"BTCUSDT\",\"p\":"
    "\"37100.50000000\",\"i\":\"37090.1\",\"P\":\"37095.2\",\"r\":\"0.0001\","
    "\"T\":1700006400000}";
static const char *const DOC_LINE2 =
    "{\"ts\":1700000000200000000,\"venue\":\"binance-usdm\",\"src\":\"rest\",\"url\":"
    "\"/fapi/v1/depth?symbol=BTCUSDT&limit=1000\",\"frame\":\"{\\\"lastUpdateId\\\":"
    "1027024,\\\"E\\\":1589436922972,\\\"T\\\":1589436922959,\\\"bids\\\":[[\\\"4.00000000"
    "\\\",\\\"431.00000000\\\"]],\\\"asks\\\":[[\\\"4.00000200\\\",\\\"12.00000000\\\"]]}\"}\n";
static const char *const DOC_FRAME2 =
    "{\"lastUpdateId\":1027024,\"E\":1589436922972,\"T\":1589436922959,\"bids\":"
    "[[\"4.00000000\",\"431.00000000\"]],\"asks\":[[\"4.00000200\",\"12.00000000\"]]}";

START_TEST(format_documented)
{
    char buf[2048];
    size_t n;

    n = capture_format_line(buf, sizeof(buf), 1700000000123456789LL, VENUE_BINANCE,
                            FRAME_WS, NULL, NULL, DOC_FRAME1, strlen(DOC_FRAME1));
    ck_assert_uint_eq(n, strlen(DOC_LINE1));
    ck_assert(memcmp(buf, DOC_LINE1, n) == 0);
    n = capture_format_line(buf, sizeof(buf), 1700000000200000000LL, VENUE_BINANCE,
                            FRAME_REST, NULL, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
                            DOC_FRAME2, strlen(DOC_FRAME2));
    ck_assert_uint_eq(n, strlen(DOC_LINE2));
    ck_assert(memcmp(buf, DOC_LINE2, n) == 0);

    /* The escapes: \" \\ \n \r \t, other controls as \u00xx, the rest raw. */
    {
        static const char data[] = "a\"b\\c\n\r\t\x01\x08\x0c\x1f\x7f/\xc3\xa9\0z";
        static const char want[] =
            "{\"ts\":-5,\"venue\":\"hyperliquid\",\"src\":\"ws\",\"conn\":\"c\\\"1\","
            "\"url\":\"\",\"frame\":\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u0008\\u000c\\u001f"
            "\x7f/\xc3\xa9\\u0000z\"}\n";
        n = capture_format_line(buf, sizeof(buf), -5, VENUE_HYPERLIQUID, FRAME_WS,
                                "c\"1", "", data, sizeof(data) - 1);
        ck_assert_uint_eq(n, strlen(want));
        ck_assert(memcmp(buf, want, n) == 0);
    }
    /* Every venue's name; conn before url. */
    {
        static const char *const names[VENUE_COUNT] = {
            "binance-usdm", "bybit-linear", "okx-swap", "hyperliquid"
        };
        for (int v = 0; v < VENUE_COUNT; v++) {
            char want[256];
            n = capture_format_line(buf, sizeof(buf), 1, (enum venue_id)v, FRAME_REST,
                                    "market", "/x", "", 0);
            snprintf(want, sizeof(want), "{\"ts\":1,\"venue\":\"%s\",\"src\":\"rest\","
                     "\"conn\":\"market\",\"url\":\"/x\",\"frame\":\"\"}\n", names[v]);
            ck_assert_uint_eq(n, strlen(want));
            ck_assert(memcmp(buf, want, n) == 0);
        }
    }
}
END_TEST

/* A buffer of exactly size bytes (ASan sees any write past it): the result
 * is all or nothing, and once it fits, it fits at every larger size. */
START_TEST(format_short_buffers)
{
    static const char data[] = "{\"k\":\"\\\"\x01\n\"}\xe2\x82\xac";
    char ref[512];
    size_t n = capture_format_line(ref, sizeof(ref), 1700000000123456789LL, VENUE_OKX,
                                   FRAME_WS, "pub\\lic", "/a?b=\"c\"", data,
                                   sizeof(data) - 1);
    int fitted = 0;

    ck_assert_uint_gt(n, 0);
    for (size_t size = 1; size <= n + 16; size++) {
        char *b = malloc(size);
        ck_assert_ptr_nonnull(b);
        size_t m = capture_format_line(b, size, 1700000000123456789LL, VENUE_OKX,
                                       FRAME_WS, "pub\\lic", "/a?b=\"c\"", data,
                                       sizeof(data) - 1);
        ck_assert_msg(m == 0 || m == n, "size %zu: %zu", size, m);
        ck_assert_msg(m == 0 || size >= n, "size %zu: claims %zu bytes", size, m);
        if (m) {
            ck_assert(memcmp(b, ref, n) == 0);
            fitted = 1;
        } else {
            ck_assert_msg(!fitted, "size %zu fails after a smaller one fitted", size);
        }
        free(b);
    }
    ck_assert_msg(fitted, "never fits in %zu + 16 bytes", n);
}
END_TEST

/* ---- round trips ------------------------------------------------------------ */

START_TEST(roundtrip_fixed)
{
    static char ctl[0x21];
    static char all[256];
    static const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad";
    struct readall ra;
    size_t len;

    for (int i = 0; i < 0x20; i++)
        ctl[i] = (char)i;
    ctl[0x20] = 0x7f;
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    const struct wframe w[] = {
        { 1700000000123456789LL, VENUE_BINANCE, FRAME_WS, NULL, NULL, DOC_FRAME1, strlen(DOC_FRAME1) },
        { 1700000000200000000LL, VENUE_BINANCE, FRAME_REST, NULL,
          "/fapi/v1/depth?symbol=BTCUSDT&limit=1000", DOC_FRAME2, strlen(DOC_FRAME2) },
        { 2, VENUE_BYBIT, FRAME_WS, NULL, NULL, "\"quoted\" \\back\\slash\\\\ \\u0041 \\n",
          strlen("\"quoted\" \\back\\slash\\\\ \\u0041 \\n") },
        { 3, VENUE_OKX, FRAME_WS, NULL, NULL, ctl, sizeof(ctl) },
        { 4, VENUE_HYPERLIQUID, FRAME_WS, NULL, NULL, utf8, strlen(utf8) },
        { 5, VENUE_BINANCE, FRAME_WS, NULL, NULL, all, sizeof(all) },     /* not UTF-8 */
        { 6, VENUE_BINANCE, FRAME_WS, "public", NULL, "", 0 },
        { 7, VENUE_BINANCE, FRAME_WS, "market", NULL, "{}", 2 },
        { 8, VENUE_OKX, FRAME_REST, "", "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400",
          "{\"code\":\"0\"}", 12 },
        { 9, VENUE_BYBIT, FRAME_REST, "c\"o\\n\n\x01", "/u\"r\\l\t", "x", 1 },
        { 0, VENUE_BINANCE, FRAME_WS, NULL, NULL, "\0\0\0", 3 },
        { INT64_MAX, VENUE_HYPERLIQUID, FRAME_REST, NULL, "/info", "{\"a\":1}", 7 },
        { INT64_MIN, VENUE_OKX, FRAME_WS, "\xc3\xa9", NULL, "\r\n", 2 },
        { -1, VENUE_BINANCE, FRAME_WS, NULL, NULL, "[\"\\ud83d\\ude00\"]", strlen("[\"\\ud83d\\ude00\"]") },
    };
    size_t nw = sizeof(w) / sizeof(w[0]);
    char *buf = format_all(w, nw, &len);
    const char *path = put_file("fixed.jsonl", buf, len);

    /* jansson reads each line whose frame is UTF-8 to the same frame. */
    {
        size_t off = 0;
        for (size_t i = 0; i < nw; i++) {
            char *nl = memchr(buf + off, '\n', len - off);
            json_error_t e;
            json_t *j = json_loadb(buf + off, (size_t)(nl - (buf + off)), JSON_ALLOW_NUL, &e);
            off = (size_t)(nl - buf) + 1;
            if (i == 5) {                      /* raw 0x80-0xff: not UTF-8 */
                ck_assert_ptr_null(j);
                continue;
            }
            ck_assert_msg(j != NULL, "line %zu: jansson: %s", i + 1, e.text);
            json_t *fr = json_object_get(j, "frame");
            ck_assert_uint_eq(json_string_length(fr), w[i].len);
            ck_assert(memcmp(json_string_value(fr), w[i].data, w[i].len) == 0);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "ts")), w[i].ts);
            json_decref(j);
        }
    }
    read_all(path, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, nw);
    ck_assert_uint_eq(ra.nbad, 0);
    ck_assert_uint_eq(ra.bad_lines, 0);
    for (size_t i = 0; i < nw; i++)
        check_same(&ra.f[i], &w[i], i + 1, i);
    ck_assert_uint_eq(ra.size, len);
    ck_assert_uint_eq(ra.pos, len);
    readall_free(&ra);
    free(buf);
}
END_TEST

/* Seeded random frames: any bytes, any length, through a plain and a gzip
 * file. */
START_TEST(roundtrip_random)
{
    struct trng r;
    enum { N = 400 };
    struct wframe w[N];
    char *own[N][3];
    struct readall ra;
    size_t len;
    static const char venue_like[] = "\"\"\"/{}[]:,.0123456789abe";

    trng_init(&r, "capture-roundtrip");
    for (size_t i = 0; i < N; i++) {
        size_t l = trng_below(&r, 4) == 0 ? trng_below(&r, 20000) : trng_below(&r, 300);
        char *d = malloc(l + 1);
        int kind = (int)trng_below(&r, 4);
        ck_assert_ptr_nonnull(d);
        /* kind 3 is venue-like text, quotes every few bytes and nothing
         * else to escape: the blocks the reader unescapes 16 at a time. */
        for (size_t k = 0; k < l; k++)
            d[k] = kind == 0 ? (char)trng_below(&r, 256)            /* any byte */
                 : kind == 1 ? "\"\\\n\r\t\x01{}:,abc"[trng_below(&r, 13)]
                 : kind == 2 ? (char)(0x20 + trng_below(&r, 0x5f))
                             : venue_like[trng_below(&r, sizeof(venue_like) - 1)];
        own[i][0] = d;
        for (int s = 1; s <= 2; s++) {
            own[i][s] = NULL;
            if (trng_below(&r, 3) == 0) {
                size_t sl = trng_below(&r, 40);
                own[i][s] = malloc(sl + 1);
                ck_assert_ptr_nonnull(own[i][s]);
                for (size_t k = 0; k < sl; k++)
                    own[i][s][k] = (char)(1 + trng_below(&r, 255));
                own[i][s][sl] = '\0';
            }
        }
        w[i] = (struct wframe){ (int64_t)trng_next(&r), (enum venue_id)trng_below(&r, VENUE_COUNT),
                                trng_below(&r, 2) ? FRAME_REST : FRAME_WS, own[i][1],
                                own[i][2], d, l };
    }
    char *buf = format_all(w, N, &len);
    const char *path = put_file("random.jsonl", buf, len);
    read_all(path, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, N);
    ck_assert_uint_eq(ra.nbad, 0);
    for (size_t i = 0; i < N; i++)
        check_same(&ra.f[i], &w[i], i + 1, i);
    readall_free(&ra);

    /* The same file through the portable unescaper (the one CPUs without
     * SSSE3 take): the same frames. */
    read_portable = 1;
    read_all(path, &ra);
    read_portable = 0;
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, N);
    for (size_t i = 0; i < N; i++)
        check_same(&ra.f[i], &w[i], i + 1, i);
    readall_free(&ra);

    /* The same bytes gzip-compressed. */
    {
        char gzpath[8192];
        snprintf(gzpath, sizeof(gzpath), "%s", tpath("random.jsonl.gz"));
        gzFile gz = gzopen(gzpath, "wb");
        ck_assert_ptr_nonnull(gz);
        ck_assert_int_eq(gzwrite(gz, buf, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(gz), Z_OK);
        ck_assert_uint_lt(file_size(gzpath), len);
        read_all(gzpath, &ra);
        ck_assert_int_eq(ra.rc, 0);
        ck_assert_uint_eq(ra.n, N);
        for (size_t i = 0; i < N; i++)
            check_same(&ra.f[i], &w[i], i + 1, i);
        ck_assert_uint_eq(ra.size, file_size(gzpath));
        ck_assert_uint_eq(ra.pos, ra.size);
        readall_free(&ra);
    }
    for (size_t i = 0; i < N; i++)
        for (int s = 0; s < 3; s++)
            free(own[i][s]);
    free(buf);
}
END_TEST

/* ---- lines written by other writers --------------------------------------- */

START_TEST(other_writers)
{
    const char *text =
        /* 1: \u escapes, BMP and a surrogate pair, upper and lower case hex */
        "{\"ts\":1,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"caf\\u00e9 \\u20AC "
        "\\ud83d\\ude00 \\uD834\\uDD1E \\u0041\\u007f\\u0000!\"}\n"
        /* 2: keys in another order, spaces, an unknown extra key, \/ */
        "  { \"frame\" : \"a\\/b\\b\\f\" , \"src\" : \"rest\", \"x\": [1, {\"y\": null}],"
        " \"url\":\"\\/api?\\u0078=1\", \"venue\" : \"bybit-linear\", \"ts\" : -7 }  \n"
        /* 3: conn with escapes */
        "{\"ts\":3,\"venue\":\"binance-usdm\",\"src\":\"ws\",\"conn\":\"m\\u0061rket\","
        "\"frame\":\"\\\"\\\\\"}\n"
        /* 4, 5: the documented examples */
        "%s%s"
        /* 6: a raw UTF-8 frame and conn */
        "{\"ts\":6,\"venue\":\"hyperliquid\",\"src\":\"ws\",\"conn\":\"\xc3\xa9\","
        "\"frame\":\"\xe2\x82\xac\"}\n";
    char file[4096];
    struct readall ra;

    snprintf(file, sizeof(file), text, DOC_LINE1, DOC_LINE2);
    read_all(put_str("other.jsonl", file), &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.nbad, 0);
    ck_assert_uint_eq(ra.n, 6);
    {
        static const char want[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                                   "\xf0\x9d\x84\x9e A\x7f\0!";
        ck_assert_uint_eq(ra.f[0].len, sizeof(want) - 1);
        ck_assert(memcmp(ra.f[0].data, want, sizeof(want) - 1) == 0);
        ck_assert_int_eq(ra.f[0].venue, VENUE_OKX);
        ck_assert_ptr_null(ra.f[0].conn);
        ck_assert_ptr_null(ra.f[0].url);
    }
    ck_assert_str_eq(ra.f[1].data, "a/b\b\f");
    ck_assert_int_eq(ra.f[1].ts, -7);
    ck_assert_int_eq(ra.f[1].src, FRAME_REST);
    ck_assert_int_eq(ra.f[1].venue, VENUE_BYBIT);
    ck_assert_str_eq(ra.f[1].url, "/api?x=1");
    ck_assert_str_eq(ra.f[2].conn, "market");
    ck_assert_str_eq(ra.f[2].data, "\"\\");
    ck_assert_str_eq(ra.f[3].data, DOC_FRAME1);
    ck_assert_int_eq(ra.f[3].ts, 1700000000123456789LL);
    ck_assert_str_eq(ra.f[4].data, DOC_FRAME2);
    ck_assert_str_eq(ra.f[4].url, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
    ck_assert_int_eq(ra.f[4].src, FRAME_REST);
    ck_assert_str_eq(ra.f[5].conn, "\xc3\xa9");
    ck_assert_str_eq(ra.f[5].data, "\xe2\x82\xac");
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(ra.f[i].line, i + 1);
    readall_free(&ra);
}
END_TEST

START_TEST(frame_b64)
{
    const char *text =
        "{\"ts\":1,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":\"AAEC/w==\"}\n"
        "{\"ts\":2,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":\"aGVsbG8\"}\n"
        "{\"ts\":3,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":\"\"}\n"
        "{\"ts\":4,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":\"+/+/\"}\n"
        "{\"ts\":5,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":\"a$==\"}\n"
        "{\"ts\":6,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame_b64\":7}\n"
        /* both: frame wins */
        "{\"ts\":7,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"t\",\"frame_b64\":\"AA==\"}\n";
    const char *path = put_str("b64.jsonl", text);
    struct readall ra;
    char want[8600];

    read_all(path, &ra);
    ck_assert_uint_eq(ra.n, 5);
    ck_assert_uint_eq(ra.f[0].len, 4);
    ck_assert(memcmp(ra.f[0].data, "\x00\x01\x02\xff", 4) == 0);
    ck_assert(ra.f[0].binary);
    ck_assert_uint_eq(ra.f[1].len, 5);
    ck_assert_str_eq(ra.f[1].data, "hello");
    ck_assert(ra.f[1].binary);
    ck_assert_uint_eq(ra.f[2].len, 0);
    ck_assert(ra.f[2].binary);
    ck_assert_uint_eq(ra.f[3].len, 3);
    ck_assert(memcmp(ra.f[3].data, "\xfb\xff\xbf", 3) == 0);
    ck_assert_int_eq(ra.f[4].ts, 7);
    ck_assert_str_eq(ra.f[4].data, "t");
    ck_assert(!ra.f[4].binary);
    ck_assert_uint_eq(ra.nbad, 2);
    ck_assert_uint_eq(ra.bad_lines, 2);
    snprintf(want, sizeof(want), "%s:5: frame_b64: not base64", path);
    ck_assert_str_eq(ra.bad[0], want);
    snprintf(want, sizeof(want), "%s:6: frame: missing or not a string", path);
    ck_assert_str_eq(ra.bad[1], want);
    readall_free(&ra);
}
END_TEST

/* ---- line ends ----------------------------------------------------------- */

START_TEST(line_ends)
{
    const char *text =
        "\n"
        "{\"ts\":1,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"a\"}\r\n"
        "\r\n"
        "\n"
        "{\"ts\":2,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"b\\r\"}\r\n"
        "{\"ts\":3,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"c\"}";   /* no \n */
    struct readall ra;

    read_all(put_str("crlf.jsonl", text), &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, 2);
    ck_assert_str_eq(ra.f[0].data, "a");
    ck_assert_uint_eq(ra.f[0].line, 2);
    ck_assert_str_eq(ra.f[1].data, "b\r");
    ck_assert_uint_eq(ra.f[1].line, 5);
    /* capture-format.md: '\n' after every line.  A last line without one
     * was cut off, even when what is left parses. */
    ck_assert_uint_eq(ra.nbad, 1);
    {
        char want[8300];
        snprintf(want, sizeof(want), "%s:6: no newline at the end of the file: "
                 "the last line is cut off", tpath("crlf.jsonl"));
        ck_assert_str_eq(ra.bad[0], want);
    }
    readall_free(&ra);

    /* Empty files, blank-only files. */
    read_all(put_str("empty.jsonl", ""), &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, 0);
    ck_assert_uint_eq(ra.size, 0);
    readall_free(&ra);
    read_all(put_str("blank.jsonl", "\n\r\n\n"), &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n + ra.nbad, 0);
    readall_free(&ra);

    /* Lines across the reader's 1 MiB read chunks: the same frames at
     * every alignment. */
    {
        size_t cap = (3u << 20) + 4096, len = 0, n = 0;
        char *buf = malloc(cap);
        ck_assert_ptr_nonnull(buf);
        while (len + 200 < cap - 4096) {
            int l = snprintf(buf + len, 200, "{\"ts\":%zu,\"venue\":\"bybit-linear\",\"src\":"
                             "\"ws\",\"frame\":\"%0*zu\"}%s", n, (int)(n % 37), n,
                             n % 3 ? "\n" : "\r\n");
            len += (size_t)l;
            n++;
        }
        read_all(put_file("chunks.jsonl", buf, len), &ra);
        ck_assert_int_eq(ra.rc, 0);
        ck_assert_uint_eq(ra.nbad, 0);
        ck_assert_uint_eq(ra.n, n);
        for (size_t i = 0; i < n; i++) {
            char want[64];
            snprintf(want, sizeof(want), "%0*zu", (int)(i % 37), i);
            TCHECK(ra.f[i].ts == (int64_t)i && strcmp(ra.f[i].data, want) == 0 &&
                   ra.f[i].line == i + 1, "frame %zu: ts %" PRId64 " '%s' line %zu", i,
                   ra.f[i].ts, ra.f[i].data, ra.f[i].line);
        }
        ck_assert_uint_eq(ra.pos, len);
        readall_free(&ra);
        free(buf);
    }
}
END_TEST

/* ---- bad lines ----------------------------------------------------------- */

START_TEST(bad_lines)
{
    static const struct {
        const char *line;
        const char *what;      /* NULL: a good line */
    } lines[] = {
        { "{\"ts\":1,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"one\"}", NULL },
        { "not json", "not JSON (at byte 1)" },
        { "{\"ts\":2,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"two\"", "not JSON (at byte 52)" },
        { "{\"ts\":3,\"venue\":\"ftx\",\"src\":\"ws\",\"frame\":\"x\"}",
          "venue: unknown venue 'ftx' (expected binance-usdm, bybit-linear, okx-swap or hyperliquid)" },
        { "{\"ts\":4,\"venue\":\"Binance-usdm\",\"src\":\"ws\",\"frame\":\"x\"}",
          "venue: unknown venue 'Binance-usdm' (expected binance-usdm, bybit-linear, okx-swap or hyperliquid)" },
        { "{\"ts\":5,\"venue\":7,\"src\":\"ws\",\"frame\":\"x\"}", "venue: not a string" },
        { "{\"ts\":6,\"src\":\"ws\",\"frame\":\"x\"}", "venue: missing" },
        { "{\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"}", "ts: missing or not an integer" },
        { "{\"ts\":1.5,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"}", "ts: missing or not an integer" },
        { "{\"ts\":\"8\",\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"}", "ts: missing or not an integer" },
        { "{\"ts\":1e9,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"}", "ts: missing or not an integer" },
        { "{\"ts\":99999999999999999999,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"}", "ts: missing or not an integer" },
        { "{\"ts\":9,\"venue\":\"okx-swap\",\"src\":\"wss\",\"frame\":\"x\"}", "src: must be \"ws\" or \"rest\"" },
        { "{\"ts\":9,\"venue\":\"okx-swap\",\"frame\":\"x\"}", "src: must be \"ws\" or \"rest\"" },
        { "{\"ts\":9,\"venue\":\"okx-swap\",\"src\":1,\"frame\":\"x\"}", "src: must be \"ws\" or \"rest\"" },
        { "{\"ts\":10,\"venue\":\"okx-swap\",\"src\":\"ws\"}", "frame: missing or not a string" },
        { "{\"ts\":10,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":{\"a\":1}}", "frame: missing or not a string" },
        { "{\"ts\":11,\"venue\":\"okx-swap\",\"src\":\"ws\",\"conn\":1,\"frame\":\"x\"}", "conn/url: must be strings" },
        { "{\"ts\":11,\"venue\":\"okx-swap\",\"src\":\"rest\",\"url\":null,\"frame\":\"x\"}", "conn/url: must be strings" },
        { "[1,2]", "not a capture object" },
        { "\"frame\"", "not a capture object" },
        { "   ", "not JSON (at byte 4)" },
        { "{\"ts\":12,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"a\\x\"}", "not JSON (at byte 51)" },
        { "{\"ts\":13,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"a\tb\"}", "not JSON (at byte 50)" },
        { "{\"ts\":2,\"venue\":\"bybit-linear\",\"src\":\"rest\",\"frame\":\"two\"}", NULL },
        { "{\"ts\":14,\"venue\":\"okx-swap\",\"src\":\"ws\",\"frame\":\"x\"} trailing", "not JSON (at byte 53)" },
        { "{\"ts\":3,\"venue\":\"hyperliquid\",\"src\":\"ws\",\"frame\":\"three\"}", NULL },
    };
    size_t nl = sizeof(lines) / sizeof(lines[0]);
    char *text = malloc(16384);
    size_t len = 0, nbad = 0, ngood = 0;
    struct readall ra;

    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < nl; i++)
        len += (size_t)sprintf(text + len, "%s\n", lines[i].line);
    const char *path = put_file("bad.jsonl", text, len);
    char p[8192];
    snprintf(p, sizeof(p), "%s", path);
    read_all(p, &ra);
    ck_assert_int_eq(ra.rc, 0);
    for (size_t i = 0; i < nl; i++) {
        if (lines[i].what == NULL) {
            ck_assert_uint_lt(ngood, ra.n);
            ck_assert_uint_eq(ra.f[ngood].line, i + 1);
            ngood++;
        } else {
            char want[8600];
            snprintf(want, sizeof(want), "%s:%zu: %s", p, i + 1, lines[i].what);
            ck_assert_uint_lt(nbad, ra.nbad);
            ck_assert_str_eq(ra.bad[nbad], want);
            nbad++;
        }
    }
    ck_assert_uint_eq(ra.n, ngood);
    ck_assert_uint_eq(ra.nbad, nbad);
    ck_assert_uint_eq(ra.bad_lines, nbad);
    ck_assert_str_eq(ra.f[0].data, "one");
    ck_assert_str_eq(ra.f[1].data, "two");
    ck_assert_str_eq(ra.f[2].data, "three");
    readall_free(&ra);

    /* No callback: counted all the same. */
    {
        capture_reader_t *r = capture_open(p, NULL);
        struct capture_frame f;
        size_t good = 0;
        ck_assert_ptr_nonnull(r);
        while (capture_next(r, &f, NULL, NULL, NULL) == 1)
            good++;
        ck_assert_uint_eq(good, ngood);
        ck_assert_uint_eq(capture_bad_lines(r), nbad);
        capture_close(r);
    }
    free(text);
}
END_TEST

START_TEST(open_errors)
{
    lq_err_t err = { "" };
    char want[8300];

    ck_assert_ptr_null(capture_open(tpath("missing.jsonl"), &err));
    snprintf(want, sizeof(want), "%s: No such file or directory", tpath("missing.jsonl"));
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(capture_open(tpath("missing.jsonl"), NULL));
    capture_close(NULL);
    capture_writer_stop(NULL);

    ck_assert_int_eq(capture_last_error(), CAPTURE_EOPEN);

    /* A directory: cannot open (not a read error later). */
    ck_assert_ptr_null(capture_open(tmpdir, &err));
    ck_assert_int_eq(capture_last_error(), CAPTURE_EOPEN);
    ck_assert_msg(strstr(err.msg, "Is a directory") != NULL, "%s", err.msg);

    /* A corrupt gzip stream: damaged data, not a crash or a bad line. */
    {
        static const unsigned char junk[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        const char *p = put_file("bad.jsonl.gz", (const char *)junk, sizeof(junk));
        capture_reader_t *r = capture_open(p, &err);
        struct capture_frame f;
        char want[8300];

        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(capture_last_error(), CAPTURE_OK);
        ck_assert_int_eq(capture_next(r, &f, NULL, NULL, &err), CAPTURE_EDATA);
        snprintf(want, sizeof(want), "%s: corrupt gzip data at byte ", p);
        ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
        ck_assert_msg(strstr(err.msg, "(zlib: invalid block type) (after line 0)") != NULL,
                      "%s", err.msg);
        ck_assert_int_eq(capture_reader_error(r), CAPTURE_EDATA);
        ck_assert_int_eq(capture_last_error(), CAPTURE_EDATA);
        ck_assert_str_eq(capture_error_name(CAPTURE_EDATA), "damaged data");
        capture_close(r);
    }
}
END_TEST

/* ---- a very long line ------------------------------------------------------- */

START_TEST(long_line)
{
    size_t fl = (size_t)8 << 20, len = 0;
    char *frame = malloc(fl);
    size_t cap = fl + fl / 512 + 4096;
    char *buf = malloc(cap);
    struct readall ra;

    ck_assert_ptr_nonnull(frame);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < fl; i++)
        frame[i] = (char)('a' + i % 26);
    for (size_t i = 1000; i < fl; i += 4096)
        frame[i] = '"';                      /* escapes all along */
    frame[fl - 1] = '\n';
    len = capture_format_line(buf, cap, 1, VENUE_BINANCE, FRAME_REST, NULL,
                              "/fapi/v1/depth", frame, fl);
    ck_assert_uint_gt(len, fl);
    len += capture_format_line(buf + len, cap - len, 2, VENUE_OKX, FRAME_WS, NULL,
                               NULL, "after", 5);
    read_all(put_file("long.jsonl", buf, len), &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, 2);
    ck_assert_uint_eq(ra.f[0].len, fl);
    ck_assert(memcmp(ra.f[0].data, frame, fl) == 0);
    ck_assert_str_eq(ra.f[0].url, "/fapi/v1/depth");
    ck_assert_str_eq(ra.f[1].data, "after");
    ck_assert_uint_eq(ra.f[1].line, 2);
    readall_free(&ra);
    free(frame);
    free(buf);
}
END_TEST

/* ---- the writer -------------------------------------------------------------- */

/* 2023-11-14 23:59:59 UTC and the next second, in ns. */
#define T_2359 ((int64_t)1700006399 * 1000000000)
#define T_0000 ((int64_t)1700006400 * 1000000000)

static void nap_1ms(void)
{
    struct timespec ts = { 0, 1000000 };

    nanosleep(&ts, NULL);
}

static size_t count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

START_TEST(writer_hours)
{
    enum { N = 300 };
    char dir[8192], p1[8300], p2[8300];
    struct wframe w[N];
    char data[N][64];
    lq_err_t err = { "" };
    struct capture_writer_stats st;
    struct readall ra;
    capture_writer_t *wr;

    snprintf(dir, sizeof(dir), "%s", tpath("rec/sub"));     /* created */
    wr = capture_writer_start(dir, 1 << 20, &err);
    ck_assert_msg(wr != NULL, "%s", err.msg);
    for (size_t i = 0; i < N; i++) {
        /* The first half in 23:xx on the 14th, the rest in 00:xx on the
         * 15th; the two frames either side of midnight exactly. */
        int64_t ts = i < N / 2 ? T_2359 + (int64_t)i * 1000000
                               : T_0000 + (int64_t)(i - N / 2) * 1000000;
        if (i == N / 2 - 1)
            ts = T_0000 - 1;
        int l = snprintf(data[i], sizeof(data[i]), "{\"seq\":%zu,\"q\":\"\\\"\"}%s", i,
                         i % 10 == 0 ? "\n" : "");
        w[i] = (struct wframe){ ts, (enum venue_id)(i % VENUE_COUNT),
                                i % 7 == 0 ? FRAME_REST : FRAME_WS,
                                i % 5 == 0 ? "market" : NULL,
                                i % 7 == 0 ? "/fapi/v1/depth?symbol=BTCUSDT" : NULL,
                                data[i], (size_t)l };
        ck_assert_int_eq(capture_writer_submit(wr, w[i].ts, w[i].venue, w[i].src,
                                               w[i].conn, w[i].url, w[i].data,
                                               w[i].len), 0);
    }
    capture_writer_stop(wr);

    snprintf(p1, sizeof(p1), "%s/capture-20231114-23.jsonl", dir);
    snprintf(p2, sizeof(p2), "%s/capture-20231115-00.jsonl", dir);
    ck_assert_uint_eq(count_dir(dir), 2);
    read_all(p1, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.nbad, 0);
    ck_assert_uint_eq(ra.n, N / 2);
    for (size_t i = 0; i < N / 2; i++)
        check_same(&ra.f[i], &w[i], i + 1, i);
    readall_free(&ra);
    read_all(p2, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.nbad, 0);
    ck_assert_uint_eq(ra.n, N - N / 2);
    for (size_t i = 0; i < N - N / 2; i++)
        check_same(&ra.f[i], &w[N / 2 + i], i + 1, N / 2 + i);
    readall_free(&ra);

    /* Stats: after stop, through a second writer on the same directory
     * (appends: the files are reopened, not truncated). */
    {
        uint64_t before = file_size(p1) + file_size(p2);
        wr = capture_writer_start(dir, 1 << 20, &err);
        ck_assert_ptr_nonnull(wr);
        ck_assert_int_eq(capture_writer_submit(wr, T_2359, VENUE_OKX, FRAME_WS, NULL,
                                               NULL, "x", 1), 0);
        ck_assert_int_eq(capture_writer_submit(wr, T_0000, VENUE_OKX, FRAME_WS, NULL,
                                               NULL, "y", 1), 0);
        ck_assert_int_eq(capture_writer_submit(wr, T_0000 + 1, VENUE_OKX, FRAME_WS, NULL,
                                               NULL, "z", 1), 0);
        /* The writer drains on its own; poll its stats. */
        for (int k = 0; k < 5000; k++) {
            capture_writer_get_stats(wr, &st);
            if (st.frames == 3)
                break;
            nap_1ms();
        }
        ck_assert_uint_eq(st.frames, 3);
        ck_assert_uint_eq(st.files, 2);
        ck_assert_uint_eq(st.dropped, 0);
        ck_assert_uint_eq(st.write_errors, 0);
        ck_assert_uint_eq(st.bytes, file_size(p1) + file_size(p2) - before);
        capture_writer_stop(wr);
        read_all(p2, &ra);
        ck_assert_uint_eq(ra.n, N - N / 2 + 2);
        ck_assert_str_eq(ra.f[ra.n - 1].data, "z");
        readall_free(&ra);
    }
}
END_TEST

START_TEST(writer_stats)
{
    lq_err_t err = { "" };
    struct capture_writer_stats st;
    capture_writer_t *wr = capture_writer_start(tmpdir, 0, &err);
    uint64_t bytes = 0;
    char line[256];

    ck_assert_ptr_nonnull(wr);
    for (int i = 0; i < 100; i++) {
        char d[32];
        int l = snprintf(d, sizeof(d), "frame-%d", i);
        ck_assert_int_eq(capture_writer_submit(wr, T_0000 + i, VENUE_BYBIT, FRAME_WS,
                                               "c", NULL, d, (size_t)l), 0);
        bytes += capture_format_line(line, sizeof(line), T_0000 + i, VENUE_BYBIT,
                                     FRAME_WS, "c", NULL, d, (size_t)l);
    }
    for (int k = 0; k < 5000; k++) {
        capture_writer_get_stats(wr, &st);
        if (st.frames == 100)
            break;
        nap_1ms();
    }
    ck_assert_uint_eq(st.frames, 100);
    ck_assert_uint_eq(st.bytes, bytes);
    ck_assert_uint_eq(st.files, 1);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert_uint_eq(st.write_errors, 0);
    capture_writer_stop(wr);
    ck_assert_uint_eq(file_size(tpath("capture-20231115-00.jsonl")), bytes);

    /* A directory that cannot be made. */
    put_str("plainfile", "x");
    {
        char bad[8300], want[8400];
        snprintf(bad, sizeof(bad), "%s/sub", tpath("plainfile"));
        ck_assert_ptr_null(capture_writer_start(bad, 0, &err));
        snprintf(want, sizeof(want), "%s: cannot create directory: Not a directory", bad);
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

/* A queue of 64 bytes: a frame larger than that is always dropped; a flood
 * of 40-byte frames (at most one waits at a time) is mostly dropped, never
 * blocks, and what was accepted is written, in order. */
START_TEST(writer_drops)
{
    enum { N = 20000 };
    lq_err_t err = { "" };
    struct capture_writer_stats st;
    capture_writer_t *wr = capture_writer_start(tmpdir, 64, &err);
    char big[65], d[41];
    uint64_t ok = 0, dropped = 0;
    struct readall ra;

    ck_assert_ptr_nonnull(wr);
    memset(big, 'b', sizeof(big));
    ck_assert_int_eq(capture_writer_submit(wr, T_0000, VENUE_OKX, FRAME_WS, NULL, NULL,
                                           big, sizeof(big)), -1);
    dropped++;
    for (int i = 0; i < N; i++) {
        snprintf(d, sizeof(d), "%040d", i);
        if (capture_writer_submit(wr, T_0000 + i, VENUE_OKX, FRAME_WS, NULL, NULL, d,
                                  40) == 0)
            ok++;
        else
            dropped++;
    }
    capture_writer_stop(wr);
    /* stop freed the writer: the counts are checked through the file. */
    read_all(tpath("capture-20231115-00.jsonl"), &ra);
    ck_assert_uint_eq(ra.n, ok);
    ck_assert_uint_eq(ok + dropped, N + 1);
    ck_assert_uint_ge(dropped, 1);
    for (size_t i = 1; i < ra.n; i++)
        TCHECK(ra.f[i].ts > ra.f[i - 1].ts && strtol(ra.f[i].data, NULL, 10) ==
                   ra.f[i].ts - T_0000, "frame %zu out of order", i);
    readall_free(&ra);

    /* The same with the stats read before stop. */
    wr = capture_writer_start(tmpdir, 64, &err);
    ck_assert_ptr_nonnull(wr);
    ok = 0;
    dropped = 0;
    for (int i = 0; i < N; i++) {
        if (capture_writer_submit(wr, T_2359 + i, VENUE_OKX, FRAME_WS, NULL, NULL, d,
                                  40) == 0)
            ok++;
        else
            dropped++;
    }
    ck_assert_int_eq(capture_writer_submit(wr, T_2359, VENUE_OKX, FRAME_WS, NULL, NULL,
                                           big, sizeof(big)), -1);
    dropped++;
    for (int k = 0; k < 5000; k++) {
        capture_writer_get_stats(wr, &st);
        if (st.frames == ok)
            break;
        nap_1ms();
    }
    ck_assert_uint_eq(st.frames, ok);
    ck_assert_uint_eq(st.dropped, dropped);
    ck_assert_uint_eq(st.files, 1);
    ck_assert_uint_eq(st.write_errors, 0);
    capture_writer_stop(wr);
}
END_TEST

/* ---- damaged files ---------------------------------------------------------- */

#include "liqmon/replay.h"

enum { DN = 3000 };

/* DN frames that compress poorly enough for a cut to land mid-stream. */
static char *damage_text(size_t *len)
{
    struct trng r;
    static char data[DN][64];
    static struct wframe w[DN];

    trng_init(&r, "capture-damage");
    for (size_t i = 0; i < DN; i++) {
        int n = snprintf(data[i], sizeof(data[i]), "frame-%zu-%016llx", i,
                         (unsigned long long)trng_next(&r));
        w[i] = (struct wframe){ (int64_t)(1700000000000000000LL + (long long)i),
                                VENUE_OKX, FRAME_WS, "public", NULL, data[i],
                                (size_t)n };
    }
    return format_all(w, DN, len);
}

static void check_prefix(const struct readall *ra, size_t upto)
{
    struct trng r;

    trng_init(&r, "capture-damage");
    for (size_t i = 0; i < upto; i++) {
        char want[64];
        snprintf(want, sizeof(want), "frame-%zu-%016llx", i,
                 (unsigned long long)trng_next(&r));
        TCHECK(strcmp(ra->f[i].data, want) == 0 && ra->f[i].line == i + 1,
               "frame %zu: '%s' line %zu", i, ra->f[i].data, ra->f[i].line);
    }
}

/* gzip n bytes of text into memory (a whole file). */
static unsigned char *gz_bytes(const char *text, size_t n, size_t *outlen)
{
    z_stream z;
    size_t cap = n + n / 2 + 1024;
    unsigned char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)text;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void expect_err(const struct readall *ra, const char *path, const char *what,
                       size_t after)
{
    char want[8400];

    ck_assert_int_eq(ra->rc, CAPTURE_EDATA);
    ck_assert_msg(strncmp(ra->err.msg, path, strlen(path)) == 0 &&
                  ra->err.msg[strlen(path)] == ':', "%s", ra->err.msg);
    ck_assert_msg(strstr(ra->err.msg, what) != NULL, "%s (want %s)", ra->err.msg, what);
    snprintf(want, sizeof(want), "(after line %zu)", after);
    ck_assert_msg(strstr(ra->err.msg, want) != NULL, "%s (want %s)", ra->err.msg, want);
}

START_TEST(gz_truncated)
{
    size_t len, zlen;
    char *text = damage_text(&len);
    unsigned char *gz = gz_bytes(text, len, &zlen);
    struct readall ra;
    const char *p;

    ck_assert_uint_gt(zlen, 20000);
    /* cut in the middle: the frames before the cut, then the error */
    p = put_file("cut.jsonl.gz", (const char *)gz, zlen / 2);
    read_all(p, &ra);
    expect_err(&ra, p, "truncated gzip stream: the file ends inside it", ra.n);
    ck_assert_uint_gt(ra.n, DN / 4);
    ck_assert_uint_lt(ra.n, DN);
    ck_assert_uint_eq(ra.nbad, 0);            /* the cut line is no bad line */
    check_prefix(&ra, ra.n);
    readall_free(&ra);

    /* the error is sticky, and capture_last_error() knows it */
    {
        capture_reader_t *r = capture_open(p, NULL);
        struct capture_frame f;
        lq_err_t e1, e2;
        int rc;

        while ((rc = capture_next(r, &f, NULL, NULL, &e1)) == 1)
            ;
        ck_assert_int_eq(rc, CAPTURE_EDATA);
        ck_assert_int_eq(capture_next(r, &f, NULL, NULL, &e2), CAPTURE_EDATA);
        ck_assert_str_eq(e1.msg, e2.msg);
        ck_assert_int_eq(capture_last_error(), CAPTURE_EDATA);
        ck_assert_uint_eq(capture_bad_lines(r), 0);
        capture_close(r);
    }

    /* cut in the trailer (CRC and length): every frame, still truncated */
    p = put_file("trailer.jsonl.gz", (const char *)gz, zlen - 3);
    read_all(p, &ra);
    ck_assert_uint_eq(ra.n, DN);
    expect_err(&ra, p, "truncated gzip stream", DN);
    readall_free(&ra);

    /* only the header */
    p = put_file("header.jsonl.gz", (const char *)gz, 12);
    read_all(p, &ra);
    ck_assert_uint_eq(ra.n, 0);
    expect_err(&ra, p, "truncated gzip stream", 0);
    readall_free(&ra);

    /* the whole file: fine */
    p = put_file("whole.jsonl.gz", (const char *)gz, zlen);
    read_all(p, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, DN);
    ck_assert_uint_eq(ra.pos, zlen);
    readall_free(&ra);
    free(gz);
    free(text);
}
END_TEST

START_TEST(gz_corrupt)
{
    size_t len, zlen;
    char *text = damage_text(&len);
    unsigned char *gz = gz_bytes(text, len, &zlen);
    struct readall ra;
    const char *p;

    /* a run of junk in the middle of the compressed data */
    memset(gz + zlen / 2, 0xa5, 64);
    p = put_file("corrupt.jsonl.gz", (const char *)gz, zlen);
    read_all(p, &ra);
    ck_assert_int_eq(ra.rc, CAPTURE_EDATA);
    expect_err(&ra, p, "corrupt gzip data at byte ", ra.n + ra.nbad);
    ck_assert_msg(strstr(ra.err.msg, "(zlib: ") != NULL, "%s", ra.err.msg);
    ck_assert_uint_gt(ra.n, DN / 4);
    check_prefix(&ra, DN / 4);
    readall_free(&ra);

    /* one flipped bit in a literal: only the CRC can tell */
    free(gz);
    gz = gz_bytes(text, len, &zlen);
    gz[zlen - 8] ^= 0x01;                      /* the stored CRC itself */
    p = put_file("crc.jsonl.gz", (const char *)gz, zlen);
    read_all(p, &ra);
    ck_assert_uint_eq(ra.n, DN);
    expect_err(&ra, p, "(zlib: incorrect data check)", DN);
    readall_free(&ra);
    free(gz);
    free(text);
}
END_TEST

START_TEST(gz_trailing_garbage)
{
    size_t len, zlen, zlen2;
    char *text = damage_text(&len);
    unsigned char *gz = gz_bytes(text, len, &zlen);
    const char *second = "{\"ts\":9,\"venue\":\"hyperliquid\",\"src\":\"ws\",\"frame\":\"last\"}\n";
    unsigned char *gz2 = gz_bytes(second, strlen(second), &zlen2);
    unsigned char *buf = malloc(zlen + zlen2 + 64);
    struct readall ra;
    const char *p;

    ck_assert_ptr_nonnull(buf);
    /* garbage after the stream: every frame, then the error */
    memcpy(buf, gz, zlen);
    memcpy(buf + zlen, "garbage\n", 8);
    p = put_file("garbage.jsonl.gz", (const char *)buf, zlen + 8);
    read_all(p, &ra);
    ck_assert_uint_eq(ra.n, DN);
    expect_err(&ra, p, "garbage after the end of the gzip stream", DN);
    readall_free(&ra);

    /* one stray byte is garbage too */
    buf[zlen] = 0;
    p = put_file("zero.jsonl.gz", (const char *)buf, zlen + 1);
    read_all(p, &ra);
    ck_assert_uint_eq(ra.n, DN);
    expect_err(&ra, p, "garbage after the end of the gzip stream", DN);
    readall_free(&ra);

    /* another gzip member is no garbage: cat a.gz b.gz */
    memcpy(buf + zlen, gz2, zlen2);
    p = put_file("concat.jsonl.gz", (const char *)buf, zlen + zlen2);
    read_all(p, &ra);
    ck_assert_int_eq(ra.rc, 0);
    ck_assert_uint_eq(ra.n, DN + 1);
    ck_assert_str_eq(ra.f[DN].data, "last");
    ck_assert_uint_eq(ra.pos, zlen + zlen2);
    readall_free(&ra);
    free(buf);
    free(gz2);
    free(gz);
    free(text);
}
END_TEST

START_TEST(plain_cut_mid_line)
{
    size_t len;
    char *text = damage_text(&len);
    struct readall ra;
    char want[8400];
    const char *p;
    size_t cut = len / 2;

    while (text[cut - 1] == '\n')
        cut++;                                 /* inside a line */
    p = put_file("cut.jsonl", text, cut);
    read_all(p, &ra);
    ck_assert_int_eq(ra.rc, 0);                /* a bad line, not an error */
    ck_assert_uint_gt(ra.n, 0);
    check_prefix(&ra, ra.n);
    ck_assert_uint_eq(ra.nbad, 1);
    ck_assert_uint_eq(ra.bad_lines, 1);
    snprintf(want, sizeof(want), "%s:%zu: no newline at the end of the file: the last "
             "line is cut off", p, ra.n + 1);
    ck_assert_str_eq(ra.bad[0], want);
    readall_free(&ra);
    free(text);
}
END_TEST

/* Every venue's name reads back as that venue, from a C string and from a
 * span of a longer text; near misses do not. */
START_TEST(venue_names_read_back)
{
    char buf[64];

    for (int i = 0; i < VENUE_COUNT; i++) {
        const char *n = venue_name((enum venue_id)i);
        size_t l = strlen(n);
        ck_assert_int_eq(venue_from_name(n), i);
        snprintf(buf, sizeof(buf), "%sX", n);
        ck_assert_int_eq(venue_from_span(buf, l), i);
        ck_assert_int_eq(venue_from_span(buf, l + 1), -1);
        ck_assert_int_eq(venue_from_span(n, l - 1), -1);
    }
    ck_assert_int_eq(venue_from_name(""), -1);
    ck_assert_int_eq(venue_from_name("okx-swaP"), -1);
    ck_assert_int_eq(venue_from_name("binance-usdM"), -1);
}
END_TEST

/* What replay_run gives its callers (liqmond, liqmonctl): -1 with err set,
 * and the kind from capture_last_error(); the frames before the damage
 * went through. */
START_TEST(replay_error_kinds)
{
    size_t len, zlen;
    char *text = damage_text(&len);
    unsigned char *gz = gz_bytes(text, len, &zlen);
    venue_t *none[VENUE_COUNT] = { NULL };
    struct replay_stats st;
    lq_err_t err;
    char *files[1];

    files[0] = (char *)tpath("missing.jsonl.gz");
    ck_assert_int_eq(replay_run(files, 1, none, NULL, &st, &err), -1);
    ck_assert_int_eq(capture_last_error(), CAPTURE_EOPEN);

    files[0] = (char *)put_file("cut.jsonl.gz", (const char *)gz, zlen / 2);
    ck_assert_int_eq(replay_run(files, 1, none, NULL, &st, &err), -1);
    ck_assert_int_eq(capture_last_error(), CAPTURE_EDATA);
    ck_assert_msg(strstr(err.msg, "truncated gzip stream") != NULL, "%s", err.msg);
    ck_assert_uint_gt(st.frames, DN / 4);
    ck_assert_uint_eq(st.frames, st.no_adapter);

    files[0] = (char *)put_file("whole.jsonl.gz", (const char *)gz, zlen);
    ck_assert_int_eq(replay_run(files, 1, none, NULL, &st, &err), 0);
    ck_assert_uint_eq(st.frames, DN);
    free(gz);
    free(text);
}
END_TEST

Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("format");

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_documented);
    tcase_add_test(tc, format_short_buffers);
    tcase_add_test(tc, roundtrip_fixed);
    tcase_add_test(tc, roundtrip_random);
    tcase_add_test(tc, other_writers);
    tcase_add_test(tc, frame_b64);
    tcase_add_test(tc, line_ends);
    tcase_add_test(tc, bad_lines);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, long_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gz_truncated);
    tcase_add_test(tc, gz_corrupt);
    tcase_add_test(tc, gz_trailing_garbage);
    tcase_add_test(tc, plain_cut_mid_line);
    tcase_add_test(tc, replay_error_kinds);
    tcase_add_test(tc, venue_names_read_back);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, writer_hours);
    tcase_add_test(tc, writer_stats);
    tcase_add_test(tc, writer_drops);
    suite_add_tcase(s, tc);
    return s;
}
