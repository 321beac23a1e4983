/* err.c - see include/liqmon/err.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/err.h"

/* How many bytes at p (before e) are kept as they are: 1 for printable
 * ASCII, 2-4 for a valid UTF-8 sequence that is not a C1 control or a
 * line/paragraph separator, 0 when the byte at p must be escaped. */
static size_t keep_len(const unsigned char *p, const unsigned char *e)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0x20 && c < 0x7f)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0;                    /* controls, DEL, continuation, 0xc0/c1, > U+10FFFF */
    if (c <= 0xdf) {
        n = 2;
        if (c == 0xc2)
            lo = 0xa0;               /* U+0080-U+009F: C1 controls */
    } else if (c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;               /* overlong */
        else if (c == 0xed)
            hi = 0x9f;               /* surrogates */
    } else {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;               /* overlong */
        else if (c == 0xf4)
            hi = 0x8f;               /* > U+10FFFF */
    }
    if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        return 0;                    /* U+2028, U+2029 end lines too */
    return n;
}

/* The escape for a byte keep_len refused, into out (5 bytes); length. */
static size_t escape(unsigned char c, char out[5])
{
    static const char hex[] = "0123456789abcdef";

    out[0] = '\\';
    switch (c) {
    case '\n': out[1] = 'n'; return 2;
    case '\r': out[1] = 'r'; return 2;
    case '\t': out[1] = 't'; return 2;
    default:
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        return 4;
    }
}

/* Write the sanitised form of src[0..n) at dst (dst + room bytes free);
 * returns the bytes written.  Stops before a unit that does not fit. */
static size_t sanitize_to(char *dst, size_t room, const char *src, size_t n)
{
    const unsigned char *p = (const unsigned char *)src, *e = p + n;
    size_t o = 0;

    while (p < e) {
        size_t k = keep_len(p, e);
        if (k > 0) {
            if (k > room - o)
                break;
            memcpy(dst + o, p, k);
            o += k;
            p += k;
        } else {
            char esc[5];
            size_t l = escape(*p, esc);
            if (l > room - o)
                break;
            memcpy(dst + o, esc, l);
            o += l;
            p++;
        }
    }
    return o;
}

size_t lq_err_sanitize(char *s, size_t size)
{
    const unsigned char *p, *e;
    size_t len, i, tail, o;
    char small[1024], *copy;

    if (s == NULL || size == 0)
        return 0;
    len = strnlen(s, size - 1);
    s[len] = '\0';
    /* The common case: nothing to do, nothing copied. */
    p = (const unsigned char *)s;
    e = p + len;
    for (i = 0; i < len;) {
        size_t k = keep_len(p + i, e);
        if (k == 0)
            break;
        i += k;
    }
    if (i == len)
        return len;
    /* Escapes only lengthen the text: copy the rest out, write it back. */
    tail = len - i;
    copy = tail <= sizeof(small) ? small : malloc(tail);
    if (copy == NULL) {
        /* No memory for the long way: '?' for every byte to escape. */
        for (; i < len;) {
            size_t k = keep_len(p + i, e);
            if (k == 0) {
                s[i++] = '?';
                continue;
            }
            i += k;
        }
        return len;
    }
    memcpy(copy, s + i, tail);
    o = i + sanitize_to(s + i, size - 1 - i, copy, tail);
    s[o] = '\0';
    if (copy != small)
        free(copy);
    return o;
}

int lq_err_set(lq_err_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* Here rather than at every caller: whatever the arguments quoted
     * (jansson's error text, a decoded string), the message is one line. */
    lq_err_sanitize(err->msg, sizeof(err->msg));
    return -1;
}

void lq_err_prefix(lq_err_t *err, const char *fmt, ...)
{
    char head[256];
    size_t hl, ml;
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head) - 2, fmt, ap);
    va_end(ap);
    strcat(head, ": ");
    hl = strlen(head);
    ml = strnlen(err->msg, sizeof(err->msg) - 1);
    if (hl + ml >= sizeof(err->msg))
        ml = sizeof(err->msg) - 1 - hl;
    memmove(err->msg + hl, err->msg, ml);
    memcpy(err->msg, head, hl);
    err->msg[hl + ml] = '\0';
    /* The prefix may quote input too; the old message is clean already
     * (unless written directly), and sanitising clean text changes nothing. */
    lq_err_sanitize(err->msg, sizeof(err->msg));
}
