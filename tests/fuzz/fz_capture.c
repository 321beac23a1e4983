/*
 * fz_capture.c - the capture reader (plain or gzip: the input is the
 * file, read by path from memory).
 *
 * Properties:
 *  - every bad-line message is "<path>:<line>: <what>", one line of
 *    text, for a line the reader has reached; an error's message too;
 *  - a frame is sane: a known venue and source, data NUL-terminated at
 *    len, conn and url printable or NULL... (they are the capture's
 *    strings: any bytes but NUL), line numbers strictly increasing;
 *  - an error is sticky: capture_next returns it again;
 *  - every frame read, written back with capture_format_line and read
 *    again, is the same frame (ts, venue, src, conn, url, data bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "liqmon/capture.h"
#include "fuzz.h"

#define MAX_FRAMES 4096

struct bad_ctx {
    const char *path;
    capture_reader_t *r;
    size_t n;
};

static void on_bad(const char *msg, void *arg)
{
    struct bad_ctx *b = arg;
    size_t pl = strlen(b->path);
    char *end;
    unsigned long line;

    FZ_CHECK_MSG("bad line", msg);
    FZ_CHECK(strncmp(msg, b->path, pl) == 0 && msg[pl] == ':', "bad line '%s': no path", msg);
    line = strtoul(msg + pl + 1, &end, 10);
    FZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0', "bad line '%s': no line", msg);
    FZ_CHECK(line >= 1 && line <= capture_lines(b->r), "bad line '%s': line %lu of %zu",
             msg, line, capture_lines(b->r));
    b->n++;
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Write f as a capture line and read it back. */
static void round_trip(const struct capture_frame *f)
{
    size_t cap = f->len * 6 + (f->conn ? strlen(f->conn) * 6 : 0) +
                 (f->url ? strlen(f->url) * 6 : 0) + 256;
    char *buf = malloc(cap);
    struct capture_frame g;
    capture_reader_t *r;
    lq_err_t err;
    size_t n;

    FZ_CHECK(buf != NULL, "oom");
    n = capture_format_line(buf, cap, f->ts, f->venue, f->src, f->conn, f->url, f->data, f->len);
    FZ_CHECK(n > 0 && buf[n - 1] == '\n', "capture_format_line failed with %zu bytes", cap);
    r = capture_open(fz_file(1, buf, n), &err);
    FZ_CHECK(r != NULL, "reopen: %s", err.msg);
    FZ_CHECK(capture_next(r, &g, NULL, NULL, &err) == 1, "the written line does not read back: '%.*s'",
             (int)(n - 1), buf);
    FZ_CHECK(g.ts == f->ts && g.venue == f->venue && g.src == f->src && same(g.conn, f->conn) &&
                 same(g.url, f->url) && g.len == f->len && memcmp(g.data, f->data, f->len) == 0,
             "round trip changed the frame of line %zu", f->line);
    FZ_CHECK(capture_next(r, &g, NULL, NULL, &err) == 0, "more than one frame written");
    capture_close(r);
    free(buf);
}

void fuzz_capture_one(const uint8_t *data, size_t size)
{
    const char *path;
    capture_reader_t *r;
    struct capture_frame f;
    struct bad_ctx b;
    lq_err_t err;
    size_t last = 0, frames = 0;
    int rc;

    fz_begin();
    path = fz_file(0, data, size);
    r = capture_open(path, &err);
    FZ_CHECK(r != NULL, "capture_open: %s", err.msg);
    b.path = path;
    b.r = r;
    b.n = 0;
    while ((rc = capture_next(r, &f, on_bad, &b, &err)) == 1) {
        FZ_CHECK(f.venue >= 0 && f.venue < VENUE_COUNT, "venue %d", (int)f.venue);
        FZ_CHECK(f.src == FRAME_WS || f.src == FRAME_REST, "src %d", (int)f.src);
        FZ_CHECK(f.data != NULL && f.data[f.len] == '\0', "data not NUL-terminated");
        FZ_CHECK(f.line > last && f.line <= capture_lines(r), "line %zu after %zu", f.line, last);
        FZ_CHECK(f.binary == 0 || f.binary == 1, "binary %d", f.binary);
        last = f.line;
        if (++frames <= 64)
            round_trip(&f);
        if (frames > MAX_FRAMES)
            break;
    }
    if (rc < 0) {
        FZ_CHECK(rc == CAPTURE_EDATA || rc == CAPTURE_EIO || rc == CAPTURE_ENOMEM, "capture_next %d", rc);
        FZ_CHECK_MSG("capture error", err.msg);
        FZ_CHECK(capture_reader_error(r) == rc, "reader error %d, returned %d",
                 (int)capture_reader_error(r), rc);
        FZ_CHECK(capture_next(r, &f, on_bad, &b, &err) == rc, "the error is not sticky");
    }
    FZ_CHECK(capture_bad_lines(r) == b.n, "bad lines %zu, reported %zu", capture_bad_lines(r), b.n);
    FZ_CHECK(capture_size(r) == 0 || capture_pos(r) <= capture_size(r), "pos %llu > size %llu",
             (unsigned long long)capture_pos(r), (unsigned long long)capture_size(r));
    capture_close(r);
}
