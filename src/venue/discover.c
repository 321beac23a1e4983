/*
 * discover.c - which instruments a frame names, without an adapter's
 * state (see venue.h, venue_frame_symbols).
 *
 * A replay of a capture nobody configured takes its instruments from the
 * frames: every frame that names one, in the channels the adapters use,
 * so a liquidation print of a symbol with no book in the capture is a
 * print, not an unknown symbol.  The adapters that look symbols up
 * through venue__find (Binance, Bybit, OKX) discover as they parse and
 * need none of this; the rest (Hyperliquid) and the two-pass
 * replay_discover use it.  The list here must name what the adapters look
 * up, no more (a channel an adapter rejects names nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "liqmon/jtok.h"
#include "venue_int.h"

struct sink {
    void (*fn)(const char *sym, size_t n, void *arg);
    void *arg;
    size_t count;
};

static void give(struct sink *k, const char *s, size_t n)
{
    if (n == 0)
        return;
    k->fn(s, n, k->arg);
    k->count++;
}

/* A string token: its span. */
static void give_tok(struct sink *k, const char *s, const struct jtok *t, int i)
{
    if (i >= 0 && t[i].type == JT_STR)
        give(k, s + t[i].start, t[i].len);
}

/* "...?symbol=BTCUSDT&..." -> BTCUSDT */
static void give_param(struct sink *k, const char *url, const char *key)
{
    const char *p = url ? strstr(url, key) : NULL;

    if (p != NULL) {
        p += strlen(key);
        give(k, p, strcspn(p, "&"));
    }
}

/* key of every object of the array arr. */
static void give_each(struct sink *k, const char *s, const struct jtok *t, int arr,
                      const char *key)
{
    if (arr < 0 || t[arr].type != JT_ARR)
        return;
    for (int e = jtok_first(t, arr); e >= 0 && e < (int)t[arr].end; e = jtok_next(t, e))
        if (t[e].type == JT_OBJ)
            give_tok(k, s, t, jtok_get(s, t, e, key));
}

size_t venue__symbols_in(enum venue_id id, enum frame_src src, const char *url,
                         const char *s, const struct jtok *t,
                         void (*fn)(const char *sym, size_t n, void *arg), void *arg)
{
    struct sink k = { fn, arg, 0 };
    int d, e, ch;

    if (src == FRAME_REST) {
        if (id == VENUE_BINANCE && url && strncmp(url, "/fapi/v1/depth?", 15) == 0)
            give_param(&k, url, "symbol=");
        else if (id == VENUE_OKX && url && strstr(url, "/api/v5/market/books"))
            give_param(&k, url, "instId=");
        return k.count;
    }
    if (t == NULL || t[0].type != JT_OBJ)
        return 0;
    switch (id) {
    case VENUE_BINANCE:
        d = jtok_get(s, t, 0, "data");
        if (d < 0 || jtok_get(s, t, 0, "stream") < 0 || t[d].type != JT_OBJ)
            d = 0;
        e = jtok_get(s, t, d, "e");
        if (jtok_streq(s, t, e, "depthUpdate") || jtok_streq(s, t, e, "markPriceUpdate"))
            give_tok(&k, s, t, jtok_get(s, t, d, "s"));
        else if (jtok_streq(s, t, e, "forceOrder"))
            give_tok(&k, s, t, jtok_get(s, t, jtok_get(s, t, d, "o"), "s"));
        break;
    case VENUE_BYBIT: {
        int tp = jtok_get(s, t, 0, "topic");
        const char *p, *dot, *sym;
        size_t n;
        if (tp < 0 || t[tp].type != JT_STR)
            break;
        p = s + t[tp].start;
        n = t[tp].len;
        dot = memchr(p, '.', n);
        if (dot == NULL)
            break;
#define KIND(lit) ((size_t)(dot - p) == sizeof(lit) - 1 && memcmp(p, lit, sizeof(lit) - 1) == 0)
        if (!KIND("orderbook") && !KIND("tickers") && !KIND("allLiquidation"))
            break;
#undef KIND
        sym = p + n;
        while (sym > dot + 1 && sym[-1] != '.')
            sym--;
        give(&k, sym, (size_t)(p + n - sym));
        break;
    }
    case VENUE_OKX: {
        int a = jtok_get(s, t, 0, "arg");
        if (jtok_get(s, t, 0, "event") >= 0)
            break;                        /* subscription replies, notices */
        ch = jtok_get(s, t, a, "channel");
        if (jtok_streq(s, t, ch, "books"))
            give_tok(&k, s, t, jtok_get(s, t, a, "instId"));
        else if (jtok_streq(s, t, ch, "mark-price") ||
                 jtok_streq(s, t, ch, "liquidation-orders"))
            give_each(&k, s, t, jtok_get(s, t, 0, "data"), "instId");
        break;
    }
    case VENUE_HYPERLIQUID:
        ch = jtok_get(s, t, 0, "channel");
        d = jtok_get(s, t, 0, "data");
        if (jtok_streq(s, t, ch, "l2Book") || jtok_streq(s, t, ch, "activeAssetCtx")) {
            if (d >= 0 && t[d].type == JT_OBJ)
                give_tok(&k, s, t, jtok_get(s, t, d, "coin"));
        } else if (jtok_streq(s, t, ch, "trades")) {
            give_each(&k, s, t, d, "coin");
        }
        break;
    default:
        break;
    }
    return k.count;
}

size_t venue_frame_symbols(enum venue_id id, enum frame_src src, const char *url,
                           const char *data, size_t len,
                           void (*fn)(const char *sym, size_t n, void *arg), void *arg)
{
    static struct jtok *tok;              /* single-threaded tools only */
    static size_t ntok;

    if (src == FRAME_REST)
        return venue__symbols_in(id, src, url, data, NULL, fn, arg);
    for (;;) {
        int n = ntok ? jtok_parse(data, len, tok, ntok, NULL) : JTOK_ENOTOK;
        if (n > 0)
            return venue__symbols_in(id, src, url, data, tok, fn, arg);
        if (n != JTOK_ENOTOK)
            return 0;
        size_t want = ntok ? ntok * 4 : 4096;
        if (want < len / 2 + 16)
            want = len / 2 + 16;
        struct jtok *nt = realloc(tok, want * sizeof(*nt));
        if (nt == NULL)
            return 0;
        tok = nt;
        ntok = want;
    }
}

struct first {
    char *out;
    size_t size;
    int found;
};

static void take_first(const char *sym, size_t n, void *arg)
{
    struct first *f = arg;

    if (f->found)
        return;
    f->found = n < f->size ? 1 : -1;
    if (f->found == 1) {
        memcpy(f->out, sym, n);
        f->out[n] = '\0';
    }
}

int venue_frame_symbol(enum venue_id id, enum frame_src src, const char *url,
                       const char *data, size_t len, char *out, size_t size)
{
    struct first f = { out, size, 0 };

    venue_frame_symbols(id, src, url, data, len, take_first, &f);
    return f.found == 1;
}
