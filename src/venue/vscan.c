/*
 * vscan.c - reading a venue frame of a known shape without the tokenizer
 * (see vscan.h).
 */
#include "vscan.h"

long vscan_levels(venue_t *v, struct vscan *c, const struct mkt_instr *in, int side,
                  struct vscan_txt *txt)
{
    size_t room = vscan_room(c), n = 0;
    struct book_level *lv = venue__levels(v, side, room);

    if (lv == NULL || vscan_lit(c, "["))
        return -1;
    if (vscan_lit(c, "]") == 0)
        return 0;
    for (;;) {
        struct jtok tk[2], x;
        dec_t q;
        if (vscan_lit(c, "[\"") || vscan_str(c, &tk[0]) || vscan_lit(c, ",\"") ||
            vscan_str(c, &tk[1]))
            return -1;
        while (vscan_lit(c, ",") == 0)   /* the rest of the level: unused */
            if (vscan_scalar(c, &x) != 0)
                return -1;
        if (vscan_lit(c, "]") || n == room)
            return -1;
        /* as venue__parse_levels */
        if (jtok_double(c->s, tk, 0, &lv[n].price) != 0 || !(lv[n].price > 0) ||
            jtok_dec(c->s, tk, 1, &q) != 0 || q < 0)
            return -1;
        lv[n].qty = market_to_base(in, q);
        if (txt != NULL)
            txt[n] = (struct vscan_txt){ tk[0].start, tk[0].len, tk[1].start, tk[1].len };
        n++;
        if (vscan_lit(c, ",") == 0)
            continue;
        if (vscan_lit(c, "]"))
            return -1;
        return (long)n;
    }
}
