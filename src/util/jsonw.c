/* jsonw.c - small JSON writer (see jsonw.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jsonw.h"
#include "liqmon/numfmt.h"

void jw_init(struct jsonw *w)
{
    memset(w, 0, sizeof(*w));
}

void jw_fini(struct jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

int jw_failed(const struct jsonw *w)
{
    return w->failed;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t ncap = w->cap ? w->cap : 4096;
        char *nb;
        while (ncap < w->len + n + 1)
            ncap *= 2;
        nb = realloc(w->buf, ncap);
        if (nb == NULL) {
            w->failed = 1;
            return;
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Comma before a value or key unless it is the first in its container. */
static void sep(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth - 1])
            put(w, ",", 1);
        w->count[w->depth - 1] = 1;
    }
}

static void open_(struct jsonw *w, const char *c)
{
    sep(w);
    put(w, c, 1);
    if (w->depth < JW_MAXDEPTH)
        w->count[w->depth++] = 0;
    else
        w->failed = 1;
}

static void close_(struct jsonw *w, const char *c)
{
    put(w, c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj_begin(struct jsonw *w) { open_(w, "{"); }
void jw_obj_end(struct jsonw *w) { close_(w, "}"); }
void jw_arr_begin(struct jsonw *w) { open_(w, "["); }
void jw_arr_end(struct jsonw *w) { close_(w, "]"); }

static void put_escaped(struct jsonw *w, const char *s)
{
    put(w, "\"", 1);
    for (; *s; s++) {
        /* a run of bytes that need no escape goes in one put */
        const char *run = s;
        while ((unsigned char)*s >= 0x20 && *s != '"' && *s != '\\')
            s++;
        if (s > run)
            put(w, run, (size_t)(s - run));
        if (*s == '\0')
            break;
        unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                put(w, esc, 6);
            } else {
                put(w, (const char *)&c, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void jw_key(struct jsonw *w, const char *key)
{
    sep(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->after_key = 1;
}

void jw_str(struct jsonw *w, const char *s)
{
    sep(w);
    put_escaped(w, s);
}

void jw_double(struct jsonw *w, double d)
{
    char buf[40];
    int n;

    if (!isfinite(d)) {
        jw_null(w);
        return;
    }
    sep(w);
    n = numfmt_shortest(d, buf, sizeof(buf));
    put(w, buf, (size_t)n);
}

void jw_dec(struct jsonw *w, dec_t v)
{
    char buf[DEC_STRLEN];
    int n = dec_format(v, buf);

    sep(w);
    put(w, buf, (size_t)n);
}

void jw_u64(struct jsonw *w, unsigned long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", v);

    sep(w);
    put(w, buf, (size_t)n);
}

void jw_bool(struct jsonw *w, int b)
{
    sep(w);
    put(w, b ? "true" : "false", b ? 4 : 5);
}

void jw_null(struct jsonw *w)
{
    sep(w);
    put(w, "null", 4);
}

void jw_raw(struct jsonw *w, const char *json)
{
    sep(w);
    put(w, json, strlen(json));
}
