/*
 * jsonw.h - a small JSON writer into a growing memory buffer.
 *
 * Output is built in memory so that a caller can print all of it or none
 * of it (no partial documents on stdout).  Commas are placed
 * automatically.  Doubles are written in the shortest form that reads back
 * as the same double ("98", "1.4285714285714286"); exact decimals as their
 * exact text.  Any allocation failure is sticky: jw_failed() says so and
 * later calls do nothing.
 */
#ifndef LIQMON_JSONW_H
#define LIQMON_JSONW_H

#include <stddef.h>

#include "liqmon/dec.h"

#define JW_MAXDEPTH 32

struct jsonw {
    char *buf;                  /* owned; NUL-terminated when !failed */
    size_t len, cap;
    int depth;
    unsigned char count[JW_MAXDEPTH]; /* items so far at each depth (0/1) */
    int after_key;
    int failed;
};

void jw_init(struct jsonw *w);
void jw_fini(struct jsonw *w);
int jw_failed(const struct jsonw *w);

void jw_obj_begin(struct jsonw *w);
void jw_obj_end(struct jsonw *w);
void jw_arr_begin(struct jsonw *w);
void jw_arr_end(struct jsonw *w);
void jw_key(struct jsonw *w, const char *key);
void jw_str(struct jsonw *w, const char *s);
void jw_double(struct jsonw *w, double d);   /* non-finite -> null */
void jw_dec(struct jsonw *w, dec_t v);
void jw_u64(struct jsonw *w, unsigned long long v);
void jw_bool(struct jsonw *w, int b);
void jw_null(struct jsonw *w);
/* A value already rendered as JSON (trusted: written by this program). */
void jw_raw(struct jsonw *w, const char *json);

#endif
