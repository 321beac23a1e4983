/*
 * dec.h - exact decimal quantities.
 *
 * Every quantity liqmon handles (a position's size, a book level's size, a
 * cascade's liquidated volume) is a dec_t: a signed 128-bit integer counting
 * units of 1e-8.  Why not a double: 0.1 + 0.2 > 0.3 in binary floating point,
 * and the cascade contract (cascade-model.md, "Numbers") compares book depth
 * against liquidated volume exactly; lot grids make ties common.  Why not
 * int64: the contract allows 1e12 base units with 15 significant digits and
 * exact sums over a million of them, which needs ~1e26 units of 1e-8;
 * int64 stops at 9.2e18.  __int128 holds 1.7e38.
 *
 * Invariant: a dec_t always holds a value already rounded to 8 decimal
 * places (half to even), which is how the contract says quantities are read.
 * Sums and differences of dec_t are exact; only dec_to_double rounds.
 *
 * Thread-safety: pure functions, any thread.
 */
#ifndef LIQMON_DEC_H
#define LIQMON_DEC_H

#include <stddef.h>
#include <stdint.h>

typedef __int128 dec_t;

#define DEC_SCALE   100000000      /* units per 1.0 */
#define DEC_DIGITS  8              /* decimal places kept */
/* Largest magnitude accepted by the parsers: 1e24 base units.  Far above
 * the contract's 1e12, far below overflow for sums of 1e9 values. */
#define DEC_MAX_UNITS ((dec_t)1000000000000000000LL * (dec_t)100000000 * (dec_t)1000000)

/* Result codes of the parsers. */
enum {
    DEC_OK = 0,
    DEC_ESYNTAX = -1,   /* not a decimal number */
    DEC_ERANGE = -2,    /* magnitude above DEC_MAX_UNITS */
};

/* Parse the decimal text s[0..len) ("12", "-0.00100000", "1.5e-3"),
 * rounding to 8 places half to even.  No leading/trailing space, no "+",
 * no hex, no inf/nan.  Returns DEC_OK, DEC_ESYNTAX or DEC_ERANGE. */
int dec_parse(const char *s, size_t len, dec_t *out);

/* Convert a double that was itself parsed from decimal text (as jansson
 * does with JSON numbers) back to that decimal, then round to 8 places.
 * Uses the shortest digit string that reads back as the same double, which
 * is the original text for any input of 15 significant digits or fewer.
 * Non-finite input gives DEC_ESYNTAX. */
int dec_from_double(double d, dec_t *out);

/* Exact integer count of base units (e.g. a JSON integer). */
int dec_from_int(int64_t v, dec_t *out);

/* The double nearest to the decimal value (correctly rounded). */
double dec_to_double(dec_t v);

/* Write the shortest exact decimal text ("17", "0.3", "-1.25") into buf,
 * which must hold DEC_STRLEN bytes.  Returns the length. */
#define DEC_STRLEN 48
int dec_format(dec_t v, char *buf);

#endif
