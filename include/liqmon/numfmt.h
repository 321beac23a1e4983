/*
 * numfmt.h - doubles as text, exactly as printf writes them.
 *
 * Each function writes what the named printf conversion writes, byte for
 * byte, and returns its length (as snprintf does).  Prices, quantities
 * and ratios (1e-4 <= |d| < 1e15) are formatted with integer arithmetic,
 * several times faster than printf; anything else goes to snprintf.
 * buf should hold 32 bytes (the fast results are at most 24 long):
 * smaller buffers always take snprintf.
 */
#ifndef LIQMON_NUMFMT_H
#define LIQMON_NUMFMT_H

#include <stddef.h>

/* snprintf(buf, size, "%.*g", prec, d), 1 <= prec <= 17. */
int numfmt_g(double d, int prec, char *buf, size_t size);
/* snprintf(buf, size, "%.*f", decimals, d). */
int numfmt_f(double d, int decimals, char *buf, size_t size);
/* The first of %.15g, %.16g, %.17g that reads back as d (17 always
 * does): the shortest of those forms that loses nothing. */
int numfmt_shortest(double d, char *buf, size_t size);

#endif
