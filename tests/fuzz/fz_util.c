/*
 * fz_util.c - what the fuzz bodies share (see fuzz.h).
 */
#define _GNU_SOURCE            /* memfd_create */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liqmon/log.h"
#include "fuzz.h"

static void (*fail_hook)(const char *msg);

void fz_set_fail_hook(void (*fn)(const char *msg))
{
    fail_hook = fn;
}

void fz_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int n;

    n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (fail_hook)
        fail_hook(msg);
    fprintf(stderr, "fuzz: property failed: %s\n", msg);
    abort();
}

static int utf8_check(const char *s, size_t len, int text)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p, cp;
        size_t n;

        if (text && (c < 0x20 || c == 0x7f))
            return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) ||
            (text && ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)))
            return 0;
        p += n + 1;
    }
    return 1;
}

int fz_text_ok(const char *s, size_t len)
{
    return utf8_check(s, len, 1);
}

int fz_utf8_ok(const char *s, size_t len)
{
    return utf8_check(s, len, 0);
}

static void log_line(enum log_level lv, const char *line, void *arg)
{
    (void)arg;
    FZ_CHECK(lv >= LL_ERROR && lv <= LL_DEBUG, "log level %d", (int)lv);
    FZ_CHECK(line != NULL && fz_text_ok(line, strlen(line)),
             "log line is not one line of text: '%s'", line ? line : "(null)");
}

void fz_begin(void)
{
    log_set_level(LL_DEBUG);
    log_set_hook(log_line, NULL);
}

const char *fz_file(int slot, const void *data, size_t size)
{
    static int fd[4] = { -1, -1, -1, -1 };
    static char path[4][48];
    const char *p = data;

    FZ_CHECK(slot >= 0 && slot < 4, "fz_file slot %d", slot);
    if (fd[slot] < 0) {
        fd[slot] = memfd_create("liqmon-fuzz", MFD_CLOEXEC);
        FZ_CHECK(fd[slot] >= 0, "memfd_create failed");
        snprintf(path[slot], sizeof(path[slot]), "/proc/self/fd/%d", fd[slot]);
    }
    FZ_CHECK(ftruncate(fd[slot], 0) == 0, "ftruncate failed");
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(fd[slot], p + off, size - off, (off_t)off);
        FZ_CHECK(w > 0, "pwrite failed");
        off += (size_t)w;
    }
    return path[slot];
}

const market_t *fz_instruments(void)
{
    static market_t *m;
    lq_err_t err;

    if (m == NULL) {
        m = market_create();
        FZ_CHECK(m != NULL, "out of memory");
        /* Run from the source tree's root. */
        FZ_CHECK(market_load_dir(m, "conf/instruments", 0, &err) >= 8,
                 "conf/instruments: %s (run from the source tree)", err.msg);
    }
    return m;
}

char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FZ_CHECK(s != NULL, "out of memory");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
