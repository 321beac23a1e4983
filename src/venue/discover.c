/*
 * discover.c - which instrument a frame is about, without an adapter.
 *
 * For tools that meet captures of instruments nobody configured
 * (`liqmonctl replay`, `liqmond --replay` without a config): a first pass
 * names the instruments, the market gets them, then the real replay runs.
 * Only book and mark frames count: a venue-wide liquidation channel (OKX)
 * names every instrument of the venue, watched or not.
 */
#include <stdio.h>
#include <string.h>

#include "liqmon/jtok.h"
#include "liqmon/venue.h"

#define DISC_TOKENS 4096

static int copy_span(const char *s, const struct jtok *t, int i, char *out,
                     size_t size)
{
    return jtok_strcpy(s, t, i, out, size) == 0 && out[0] != '\0' ? 1 : 0;
}

/* "...?symbol=BTCUSDT&..." -> BTCUSDT */
static int query_param(const char *url, const char *key, char *out, size_t size)
{
    const char *p = url ? strstr(url, key) : NULL;
    size_t n;

    if (p == NULL)
        return 0;
    p += strlen(key);
    n = strcspn(p, "&");
    if (n == 0 || n >= size)
        return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

int venue_frame_symbol(enum venue_id id, enum frame_src src, const char *url,
                       const char *data, size_t len, char *out, size_t size)
{
    static struct jtok tok[DISC_TOKENS];     /* single-threaded tools only */
    const struct jtok *t = tok;
    int d, k;

    if (src == FRAME_REST) {
        if (id == VENUE_BINANCE)
            return query_param(url, "symbol=", out, size);
        if (id == VENUE_OKX)
            return query_param(url, "instId=", out, size);
        return 0;
    }
    /* Large snapshots may not fit: their symbol also comes in small frames. */
    if (jtok_parse(data, len, tok, DISC_TOKENS, NULL) <= 0 || t[0].type != JT_OBJ)
        return 0;
    switch (id) {
    case VENUE_BINANCE:
        d = jtok_get(data, t, 0, "data");
        if (d < 0)
            d = 0;
        if (jtok_streq(data, t, jtok_get(data, t, d, "e"), "depthUpdate") ||
            jtok_streq(data, t, jtok_get(data, t, d, "e"), "markPriceUpdate"))
            return copy_span(data, t, jtok_get(data, t, d, "s"), out, size);
        return 0;
    case VENUE_BYBIT:
        k = jtok_get(data, t, 0, "topic");
        if (k < 0 || t[k].type != JT_STR)
            return 0;
        if (jtok_strcpy(data, t, k, out, size) != 0)
            return 0;
        if (strncmp(out, "orderbook.", 10) != 0 && strncmp(out, "tickers.", 8) != 0)
            return 0;
        {
            char *dot = strrchr(out, '.');
            memmove(out, dot + 1, strlen(dot + 1) + 1);
        }
        return out[0] != '\0';
    case VENUE_OKX:
        k = jtok_get(data, t, 0, "arg");
        if (jtok_streq(data, t, jtok_get(data, t, k, "channel"), "liquidation-orders"))
            return 0;
        if (jtok_get(data, t, 0, "event") >= 0)
            return 0;                         /* subscription replies */
        return copy_span(data, t, jtok_get(data, t, k, "instId"), out, size);
    case VENUE_HYPERLIQUID:
        k = jtok_get(data, t, 0, "channel");
        d = jtok_get(data, t, 0, "data");
        if (jtok_streq(data, t, k, "l2Book") || jtok_streq(data, t, k, "activeAssetCtx"))
            return copy_span(data, t, jtok_get(data, t, d, "coin"), out, size);
        return 0;
    default:
        return 0;
    }
}
