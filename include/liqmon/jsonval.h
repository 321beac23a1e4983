/*
 * jsonval.h - numbers out of jansson values, checked, with messages that
 * name the path: the rules every JSON input file shares (scenarios,
 * instrument files).
 *
 * A number may be a JSON number or a decimal string ("0.001", "1e-3");
 * strings follow dec_parse's grammar, so "0x10", " 1", "inf" and "nan" are
 * refused rather than half-read by strtod.
 */
#ifndef LIQMON_JSONVAL_H
#define LIQMON_JSONVAL_H

#include <jansson.h>

#include "liqmon/dec.h"
#include "liqmon/err.h"

/* A finite double.  0, or -1 with "<path>: <what>" in err. */
int jsonval_double(const json_t *v, const char *path, double *out, lq_err_t *err);
/* A finite double > 0. */
int jsonval_price(const json_t *v, const char *path, double *out, lq_err_t *err);
/* An exact decimal quantity > 0 after rounding to 8 places (a number goes
 * through dec_from_double, which recovers the text jansson read). */
int jsonval_qty(const json_t *v, const char *path, dec_t *out, lq_err_t *err);

#endif
