/*
 * vscan.h - reading a venue frame of a known shape without the tokenizer
 * (not for use outside src/venue/).
 *
 * Nearly every frame a venue sends is a depth diff of one fixed shape.
 * An adapter's fast path reads that shape in one pass with these, in
 * order, straight into what its tokenizer path builds; each value goes
 * through the same jtok function as there (jtok_double, jtok_dec,
 * jtok_i64), on a token made for it, so both give one result.  Only
 * strict JSON passes: strings without escapes or control bytes, numbers
 * by jtok's grammar, nothing between tokens.  Any other text makes a
 * function return -1, the fast path gives up before it changed anything,
 * and the frame goes the tokenizer's way, which alone names what is
 * wrong with it.
 *
 * A fast path changes nothing before its frame has been read whole, as
 * the tokenizer's way changes nothing for a frame that is not JSON: it
 * looks instruments up with market_findn, which discovers none, and a
 * frame naming one the market does not hold yet goes the tokenizer's way
 * (which, in a replay, discovers it).
 *
 * Why: on a five-level diff, tokenizing was a fifth of the frame's cost,
 * and looking fields up and walking tokens another tenth.
 */
#ifndef LIQMON_VSCAN_H
#define LIQMON_VSCAN_H

#include <string.h>

#include "liqmon/jtok.h"
#include "liqmon/strscan.h"
#include "venue_int.h"

struct vscan {
    const char *s, *p, *end;       /* the frame, the cursor */
};

/* The literal text lit[0..n) at the cursor, passed. */
static inline int vscan_litn(struct vscan *c, const char *lit, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return -1;
    c->p += n;
    return 0;
}
#define vscan_lit(c, lit) vscan_litn((c), (lit), sizeof(lit) - 1)

/* A string's body at the cursor (its opening quote passed), as the token
 * jtok makes of it; the cursor moves past its closing quote. */
static inline int vscan_str(struct vscan *c, struct jtok *tk)
{
    const char *q = strscan_plain(c->p, c->end);

    if (q >= c->end || *q != '"')
        return -1;                 /* an escape, a control byte, the end */
    tk->type = JT_STR;
    tk->escaped = 0;
    tk->start = (uint32_t)(c->p - c->s);
    tk->len = (uint32_t)(q - c->p);
    tk->size = 0;
    tk->end = 1;
    c->p = q + 1;
    return 0;
}

/* A string or a number at the cursor, as its token. */
static inline int vscan_scalar(struct vscan *c, struct jtok *tk)
{
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        return vscan_str(c, tk);
    }
    size_t l = jtok_number_len(c->p, c->end);
    if (l == 0)
        return -1;
    tk->type = JT_NUM;
    tk->escaped = 0;
    tk->start = (uint32_t)(c->p - c->s);
    tk->len = (uint32_t)l;
    tk->size = 0;
    tk->end = 1;
    c->p += l;
    return 0;
}

/* An integer (a number, or a string holding one) at the cursor, as
 * jtok_i64 reads it. */
static inline int vscan_i64(struct vscan *c, int64_t *out)
{
    struct jtok tk;

    return vscan_scalar(c, &tk) == 0 && jtok_i64(c->s, &tk, 0, out) == 0 ? 0 : -1;
}

/* Mark the member bit of an object as read: -1 when it was already (the
 * tokenizer's way takes the first of a key given twice: the fast paths
 * leave such a frame to it). */
static inline int vscan_once(int *seen, int bit)
{
    if (*seen & bit)
        return -1;
    *seen |= bit;
    return 0;
}

/* A key at the cursor ("key":), as its token. */
static inline int vscan_key(struct vscan *c, struct jtok *tk)
{
    if (vscan_lit(c, "\"") || vscan_str(c, tk) || vscan_lit(c, ":"))
        return -1;
    return 0;
}

/* Whether the key token is the literal lit. */
#define vscan_is(c, tk, lit) \
    ((tk)->len == sizeof(lit) - 1 && memcmp((c)->s + (tk)->start, lit, sizeof(lit) - 1) == 0)

/* Where a level's price and size texts lie in the frame. */
struct vscan_txt {
    uint32_t px, pl, sz, sl;       /* offsets and lengths */
};

/* A side's levels at the cursor, [["px","sz",...],...] (prices and sizes
 * strings, any further elements strings or numbers), into the scratch
 * array of that side (venue__levels) exactly as venue__parse_levels
 * fills it; with txt (room for as many levels as the frame could hold:
 * vscan_room), where each level's texts lie.  The count, or -1. */
long vscan_levels(venue_t *v, struct vscan *c, const struct mkt_instr *in, int side,
                  struct vscan_txt *txt);
/* The most levels the rest of the text could hold (a level takes 9 bytes
 * at least: ["1","1"],). */
static inline size_t vscan_room(const struct vscan *c)
{
    return (size_t)(c->end - c->p) / 9 + 1;
}

#endif
