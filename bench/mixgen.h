/*
 * mixgen.h - a realistic order-book mix for the benchmarks (bench_mix.c),
 * with an independent model of every book.
 *
 * Three book venues, four symbols each, in their 2026 wire formats (field
 * order and number formatting as the venues send them; see
 * tests/fixtures/venues and /work/shared/data/venues):
 *
 *   binance-usdm  REST /fapi/v1/depth?limit=1000 snapshot first, then
 *                 combined-stream depthUpdate diffs (U / u / pu chain),
 *                 1,000 levels a side, no depth window (diff depth).
 *   bybit-linear  orderbook.200 snapshot, then deltas (u steps by one, seq
 *                 the cross sequence), 200 levels a side: a level pushed
 *                 out of (or pulled into) the top 200 is deleted (inserted)
 *                 in the same delta, as Bybit does.
 *   okx-swap      books snapshot, then updates (seqId / prevSeqId, sizes in
 *                 contracts, 4-field levels, trailing zeros trimmed), 400
 *                 levels a side with the same window rule, and the real
 *                 CRC32 checksum of every message (OKX's rule: signed
 *                 CRC32 of "bid1Px:bid1Sz:ask1Px:ask1Sz:..." over the top
 *                 25 levels of each side, computed here with zlib's crc32
 *                 over the model, not with the adapter's code).
 *
 * Each diff carries 1..10 levels (weighted to small: 1-3 in about 70% of
 * frames), near the top of the book: updates of one of the top levels,
 * inserts in a free tick within 30 ticks of the best price or inside a
 * spread wider than a tick, deletes of one of the top levels (sometimes
 * the best); window fix-ups at the far end count as levels too.  Inserts
 * and deletes are drawn by how far the 25th best level is, so the books
 * keep the shape of a liquid market for as long as a run lasts: a spread
 * of a tick or a few, the 25 best levels within some 40 ticks (median),
 * every side at its full depth.  A price appears at most once per
 * message, as the venues aggregate.
 *
 * The model is an array of quantities per price tick (integers in the
 * venue's quantity precision), so the expected book is known exactly;
 * mix_check() compares it with liqmon's book level by level.
 * Deterministic: the same seed gives the same frames.
 */
#ifndef LIQMON_BENCH_MIXGEN_H
#define LIQMON_BENCH_MIXGEN_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "liqmon/book.h"
#include "liqmon/capture.h"
#include "liqmon/market.h"

#define MIX_NVEN 3                   /* binance, bybit, okx (= enum venue_id) */
#define MIX_NSYM 4                   /* symbols per venue */
#define MIX_W 16384                  /* price ticks modelled per symbol */
#define MIX_MAXLV 10

static uint64_t mix_rs = 1;
static uint64_t mix_rnd(void)
{
    uint64_t z = (mix_rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One symbol's wire conventions. */
struct mix_spec {
    const char *sym;        /* as the venue names it */
    const char *stream;     /* Binance stream prefix */
    double mid;
    int tick;               /* price tick in 10^-pdec units */
    int pdec, qdec;         /* decimals of price and size text */
    int qmax;               /* sizes 1..qmax in 10^-qdec units */
};

static const struct mix_spec mix_specs[MIX_NVEN][MIX_NSYM] = {
    {   /* Binance USD-M: pricePrecision / quantityPrecision digits, padded */
        { "BTCUSDT", "btcusdt", 90000, 10, 2, 3, 5000 },
        { "ETHUSDT", "ethusdt", 3000, 1, 2, 3, 50000 },
        { "SOLUSDT", "solusdt", 150, 100, 4, 0, 3000 },
        { "XRPUSDT", "xrpusdt", 2.2, 1, 4, 1, 200000 },
    },
    {   /* Bybit linear: tick-size digits, padded */
        { "BTCUSDT", NULL, 90000, 10, 2, 3, 5000 },
        { "ETHUSDT", NULL, 3000, 1, 2, 2, 5000 },
        { "SOLUSDT", NULL, 150, 10, 3, 1, 30000 },
        { "XRPUSDT", NULL, 2.2, 1, 4, 0, 20000 },
    },
    {   /* OKX swaps: trailing zeros trimmed, sizes in contracts (lot 0.01) */
        { "BTC-USDT-SWAP", NULL, 90000, 1, 1, 2, 50000 },
        { "ETH-USDT-SWAP", NULL, 3000, 1, 2, 2, 50000 },
        { "SOL-USDT-SWAP", NULL, 150, 1, 2, 2, 50000 },
        { "XRP-USDT-SWAP", NULL, 2.2, 1, 4, 2, 50000 },
    },
};
static const int mix_depth[MIX_NVEN] = { 1000, 200, 400 };
static const int mix_window[MIX_NVEN] = { 0, 1, 1 };   /* depth-limited feed */
/* Symbol weights (BTC busiest), in percent. */
static const int mix_symw[MIX_NSYM] = { 40, 30, 20, 10 };

struct mix_book {
    const struct mix_spec *sp;
    int venue;
    int64_t base;           /* price of slot 0, in 10^-pdec units */
    uint32_t q[MIX_W];      /* 0: no level */
    int bb, ba;             /* best bid / ask slots */
    int wb, wa;             /* worst bid / ask slots */
    int nb, na;             /* levels per side */
    int64_t seq, seq2;      /* Binance u / Bybit u / OKX seqId; Bybit seq */
};

/* One frame of the mix. */
struct mix_frame {
    uint8_t venue, src, sym, nlv;   /* nlv: levels of a diff; 0 snapshot */
    uint32_t len;
    uint64_t off;
    int64_t ts;
};

struct mix {
    struct mix_book bk[MIX_NVEN][MIX_NSYM];
    char *arena;
    uint64_t alen, acap;
    struct mix_frame *fr;
    size_t nfr, capfr;
    int64_t ts;
    int fixed_lv;           /* 0: the weighted 1..10 mix; n: n levels each */
    int okx_cs0;            /* OKX checksum 0 (production since 2026-06-23) */
    uint64_t levels[MIX_NVEN], diffs[MIX_NVEN];
    char buf[200000];
};

/* ---- text ---------------------------------------------------------------- */

/* Price of slot i as the venue prints it. */
static int mix_px(const struct mix_book *b, int i, char *o)
{
    int64_t v = b->base + (int64_t)i * b->sp->tick;
    int d = b->sp->pdec, n;
    int64_t p10 = 1;

    for (int k = 0; k < d; k++)
        p10 *= 10;
    if (d == 0)
        return sprintf(o, "%" PRId64, v);
    n = sprintf(o, "%" PRId64 ".%0*" PRId64, v / p10, d, v % p10);
    if (b->venue == VENUE_OKX) {          /* "90000.1", "90000" */
        while (o[n - 1] == '0')
            n--;
        if (o[n - 1] == '.')
            n--;
        o[n] = '\0';
    }
    return n;
}

static int mix_qty(const struct mix_book *b, uint32_t q, char *o)
{
    int d = b->sp->qdec, n;
    uint32_t p10 = 1;

    for (int k = 0; k < d; k++)
        p10 *= 10;
    if (d == 0 || (q == 0 && b->venue == VENUE_BYBIT))   /* Bybit deletes: "0" */
        return sprintf(o, "%u", q);
    n = sprintf(o, "%u.%0*u", q / p10, d, q % p10);
    if (b->venue == VENUE_OKX) {
        while (o[n - 1] == '0')
            n--;
        if (o[n - 1] == '.')
            n--;
        o[n] = '\0';
    }
    return n;
}

/* One level: Binance/Bybit ["px","qty"], OKX ["px","sz","0","orders"]. */
static int mix_level(const struct mix_book *b, int i, uint32_t q, char *o)
{
    int n = 0;

    o[n++] = '[';
    o[n++] = '"';
    n += mix_px(b, i, o + n);
    o[n++] = '"';
    o[n++] = ',';
    o[n++] = '"';
    n += mix_qty(b, q, o + n);
    o[n++] = '"';
    if (b->venue == VENUE_OKX)
        n += sprintf(o + n, ",\"0\",\"%u\"", q ? (unsigned)(1 + (i * 7 + q) % 9) : 0);
    o[n++] = ']';
    o[n] = '\0';
    return n;
}

/* OKX checksum of the model: top 25 of each side, interleaved. */
static int32_t mix_okx_checksum(const struct mix_book *b)
{
    char s[4096], px[40], sz[40];
    size_t n = 0;
    int i = b->bb, j = b->ba;

    for (int k = 0; k < 25; k++) {
        while (i >= 0 && b->q[i] == 0)
            i--;
        while (j < MIX_W && b->q[j] == 0)
            j++;
        if (i >= 0 && i < j) {
            mix_px(b, i, px);
            mix_qty(b, b->q[i], sz);
            n += (size_t)sprintf(s + n, "%s%s:%s", n ? ":" : "", px, sz);
            i--;
        }
        if (j < MIX_W) {
            mix_px(b, j, px);
            mix_qty(b, b->q[j], sz);
            n += (size_t)sprintf(s + n, "%s%s:%s", n ? ":" : "", px, sz);
            j++;
        }
    }
    return (int32_t)(uint32_t)crc32(0L, (const Bytef *)s, (uInt)n);
}

/* ---- frames -------------------------------------------------------------- */

static void mix_push(struct mix *m, int venue, int src, int sym, int nlv,
                     const char *text, size_t len)
{
    if (m->alen + len + 1 > m->acap) {
        m->acap = (m->acap ? m->acap * 2 : (1u << 24)) + len;
        m->arena = realloc(m->arena, m->acap);
    }
    if (m->nfr == m->capfr) {
        m->capfr = m->capfr ? m->capfr * 2 : 65536;
        m->fr = realloc(m->fr, m->capfr * sizeof(*m->fr));
    }
    if (m->arena == NULL || m->fr == NULL) {
        fprintf(stderr, "mixgen: out of memory\n");
        exit(1);
    }
    memcpy(m->arena + m->alen, text, len);
    m->arena[m->alen + len] = '\0';
    struct mix_frame *f = &m->fr[m->nfr++];
    f->venue = (uint8_t)venue;
    f->src = (uint8_t)src;
    f->sym = (uint8_t)sym;
    f->nlv = (uint8_t)nlv;
    f->len = (uint32_t)len;
    f->off = m->alen;
    f->ts = m->ts;
    m->alen += len + 1;
    m->ts += 1000000 + (int64_t)(mix_rnd() % 200000);   /* about 1 ms apart */
}

static const char *mix_text(const struct mix *m, const struct mix_frame *f)
{
    return m->arena + f->off;
}

static uint32_t mix_draw_qty(const struct mix_book *b)
{
    return (uint32_t)(1 + mix_rnd() % (uint64_t)b->sp->qmax);
}

/* A fresh book: depth levels a side, 1-3 ticks apart, one-tick spread. */
static void mix_book_init(struct mix_book *b, int venue, const struct mix_spec *sp)
{
    int c = MIX_W / 2, i;

    memset(b, 0, sizeof(*b));
    b->sp = sp;
    b->venue = venue;
    {
        int64_t p10 = 1;
        for (int k = 0; k < sp->pdec; k++)
            p10 *= 10;
        int64_t midt = (int64_t)(sp->mid * (double)p10 + 0.5) / sp->tick;
        b->base = (midt - c) * sp->tick;
    }
    b->bb = c - 1;
    b->ba = c;
    i = b->bb;
    for (int k = 0; k < mix_depth[venue]; k++) {
        b->q[i] = mix_draw_qty(b);
        b->wb = i;
        uint64_t r = mix_rnd() % 100;
        i -= r < 60 ? 1 : r < 85 ? 2 : 3;
    }
    i = b->ba;
    for (int k = 0; k < mix_depth[venue]; k++) {
        b->q[i] = mix_draw_qty(b);
        b->wa = i;
        uint64_t r = mix_rnd() % 100;
        i += r < 60 ? 1 : r < 85 ? 2 : 3;
    }
    b->nb = b->na = mix_depth[venue];
}

/* The k-th level (0 = best) of a side, scanning from the top. */
static int mix_nth(const struct mix_book *b, int side, int k)
{
    int i = side == BOOK_BID ? b->bb : b->ba;

    for (;;) {
        if (b->q[i] && k-- == 0)
            return i;
        i += side == BOOK_BID ? -1 : 1;
        if (i < 0 || i >= MIX_W)
            return -1;
    }
}

static void mix_fix_best(struct mix_book *b)
{
    while (b->q[b->bb] == 0)
        b->bb--;
    while (b->q[b->ba] == 0)
        b->ba++;
}

/* A change: slot i of side to q (0 deletes). */
struct mix_chg {
    int side, i;
    uint32_t q;
};

static int mix_touched(const struct mix_chg *c, int n, int i)
{
    for (int k = 0; k < n; k++)
        if (c[k].i == i)
            return 1;
    return 0;
}

static void mix_set(struct mix_book *b, int side, int i, uint32_t q)
{
    if (b->q[i] == 0 && q != 0) {
        if (side == BOOK_BID) {
            b->nb++;
            if (i > b->bb) b->bb = i;
            if (i < b->wb) b->wb = i;
        } else {
            b->na++;
            if (i < b->ba) b->ba = i;
            if (i > b->wa) b->wa = i;
        }
    } else if (b->q[i] != 0 && q == 0) {
        if (side == BOOK_BID)
            b->nb--;
        else
            b->na--;
    }
    b->q[i] = q;
    if (q == 0) {
        mix_fix_best(b);
        while (b->q[b->wb] == 0)
            b->wb++;
        while (b->q[b->wa] == 0)
            b->wa--;
    }
}

/* Draw changes for one diff of `budget` levels, applying them to the model. */
static int mix_draw(struct mix_book *b, int budget, struct mix_chg *c)
{
    int n = 0, tries = 0;

    while (n < budget && tries++ < 5000) {
        int side = (int)(mix_rnd() % 2);
        uint64_t op = mix_rnd() % 100;
        int k = mix_rnd() % 100 < 60 ? (int)(mix_rnd() % 5) : (int)(mix_rnd() % 25);
        int win = mix_window[b->venue], i;
        int *cnt = side == BOOK_BID ? &b->nb : &b->na;

        if (win && op >= 50 && budget - n < 2)
            op = 0;                        /* no room for a window fix-up */
        if (op >= 50) {
            /* insert or delete, by how far the 25th best level is: the
             * top stays dense (the 25 best within some 40 ticks), as on
             * a real book.  Drawn evenly, deletes outran the inserts
             * that found a gap, and the 25 best spread over thousands
             * of ticks. */
            int best = side == BOOK_BID ? b->bb : b->ba, far = mix_nth(b, side, 24);
            int span = far < 0 ? MIX_W : far > best ? far - best : best - far;
            op = (int)(mix_rnd() % 100) < (span > 40 ? 75 : 25) ? 50 : 75;
        }
        if (op < 50) {                     /* update */
            i = mix_nth(b, side, k);
            if (i < 0 || mix_touched(c, n, i))
                continue;
            uint32_t q = mix_draw_qty(b);
            if (q == b->q[i])
                q = q % (uint32_t)b->sp->qmax + 1;
            mix_set(b, side, i, q);
            c[n++] = (struct mix_chg){ side, i, q };
        } else if (op < 75) {              /* insert near the top */
            int off, gap = b->ba - b->bb - 1;
            if (gap > 0 && mix_rnd() % 2 == 0) {
                /* a spread wider than a tick is filled at once, as
                 * market makers do: without this, deletes of the best
                 * widened it for ever (thousands of ticks after a few
                 * ten thousand diffs; the far side then ran off the
                 * model and the books drained to a few levels) */
                off = -(int)(mix_rnd() % (uint64_t)gap);
            } else {
                /* a free tick among the 30 behind the best: drawn from
                 * the free ones, so that an insert is never lost to an
                 * occupied tick (lost inserts let deletes outrun them) */
                int fr[30], nfr = 0;
                for (int d = 1; d <= 30; d++) {
                    int j = side == BOOK_BID ? b->bb - d : b->ba + d;
                    if (j > 0 && j < MIX_W - 1 && b->q[j] == 0 && !mix_touched(c, n, j))
                        fr[nfr++] = d;
                }
                if (nfr == 0)
                    continue;
                off = 1 + fr[mix_rnd() % (uint64_t)nfr];
            }
            i = side == BOOK_BID ? b->bb + 1 - off : b->ba - 1 + off;
            if (i <= 0 || i >= MIX_W - 1 || b->q[i] != 0 || i <= b->wb - 0 ||
                i >= b->wa || mix_touched(c, n, i) ||
                (side == BOOK_BID ? i >= b->ba : i <= b->bb))
                continue;
            if (side == BOOK_BID ? i < b->wb : i > b->wa)
                continue;
            uint32_t q = mix_draw_qty(b);
            mix_set(b, side, i, q);
            c[n++] = (struct mix_chg){ side, i, q };
            if (win && *cnt > mix_depth[b->venue]) {
                /* the worst level leaves the top-N window */
                int w = side == BOOK_BID ? b->wb : b->wa;
                mix_set(b, side, w, 0);
                c[n++] = (struct mix_chg){ side, w, 0 };
            }
        } else {                           /* delete near the top */
            i = mix_nth(b, side, k);
            if (i < 0 || mix_touched(c, n, i) || *cnt < 10)
                continue;
            mix_set(b, side, i, 0);
            c[n++] = (struct mix_chg){ side, i, 0 };
            if (win && *cnt < mix_depth[b->venue]) {
                /* the next level below the window comes in */
                uint64_t r = mix_rnd() % 100;
                int g = r < 60 ? 1 : r < 85 ? 2 : 3;
                int w = side == BOOK_BID ? b->wb - g : b->wa + g;
                if (w < 0 || w >= MIX_W)
                    continue;
                uint32_t q = mix_draw_qty(b);
                mix_set(b, side, w, q);
                c[n++] = (struct mix_chg){ side, w, q };
            }
        }
    }
    return n;
}

static int mix_cmp_chg(const void *a, const void *b)
{
    const struct mix_chg *x = a, *y = b;

    if (x->side != y->side)
        return x->side - y->side;
    /* best first: bids descending, asks ascending */
    return x->side == BOOK_BID ? y->i - x->i : x->i - y->i;
}

/* Append a side's changes as a JSON array body. */
static int mix_side_json(const struct mix_book *b, const struct mix_chg *c, int n,
                         int side, char *o)
{
    int w = 0, first = 1;

    for (int k = 0; k < n; k++) {
        if (c[k].side != side)
            continue;
        if (!first)
            o[w++] = ',';
        first = 0;
        w += mix_level(b, c[k].i, c[k].q, o + w);
    }
    o[w] = '\0';
    return w;
}

/* The whole side of the model, best first, at most max levels. */
static int mix_full_json(const struct mix_book *b, int side, int max, char *o)
{
    int w = 0, k = 0;

    if (side == BOOK_BID) {
        for (int i = b->bb; i >= 0 && k < max; i--)
            if (b->q[i]) {
                if (k++)
                    o[w++] = ',';
                w += mix_level(b, i, b->q[i], o + w);
            }
    } else {
        for (int i = b->ba; i < MIX_W && k < max; i++)
            if (b->q[i]) {
                if (k++)
                    o[w++] = ',';
                w += mix_level(b, i, b->q[i], o + w);
            }
    }
    o[w] = '\0';
    return w;
}

static void mix_snapshot(struct mix *m, int v, int s)
{
    struct mix_book *b = &m->bk[v][s];
    const struct mix_spec *sp = b->sp;
    static char bids[100000], asks[100000];
    long long ms = (long long)(m->ts / 1000000);
    int n;

    mix_full_json(b, BOOK_BID, 1000000, bids);
    mix_full_json(b, BOOK_ASK, 1000000, asks);
    if (v == VENUE_BINANCE) {
        b->seq = 8000000000LL + (int64_t)(mix_rnd() % 1000000);
        n = snprintf(m->buf, sizeof(m->buf), "{\"lastUpdateId\":%lld,\"E\":%lld,"
                     "\"T\":%lld,\"bids\":[%s],\"asks\":[%s]}", (long long)b->seq, ms,
                     ms - 3, bids, asks);
        mix_push(m, v, FRAME_REST, s, 0, m->buf, (size_t)n);
    } else if (v == VENUE_BYBIT) {
        b->seq = 50000000 + (int64_t)(mix_rnd() % 1000000);
        b->seq2 = 300000000000LL + (int64_t)(mix_rnd() % 1000000);
        n = snprintf(m->buf, sizeof(m->buf), "{\"topic\":\"orderbook.200.%s\","
                     "\"type\":\"snapshot\",\"ts\":%lld,\"data\":{\"s\":\"%s\","
                     "\"b\":[%s],\"a\":[%s],\"u\":%lld,\"seq\":%lld},\"cts\":%lld}",
                     sp->sym, ms, sp->sym, bids, asks, (long long)b->seq,
                     (long long)b->seq2, ms - 2);
        mix_push(m, v, FRAME_WS, s, 0, m->buf, (size_t)n);
    } else {
        b->seq = 20000000000LL + (int64_t)(mix_rnd() % 1000000);
        n = snprintf(m->buf, sizeof(m->buf), "{\"arg\":{\"channel\":\"books\","
                     "\"instId\":\"%s\"},\"action\":\"snapshot\",\"data\":[{"
                     "\"asks\":[%s],\"bids\":[%s],\"ts\":\"%lld\",\"checksum\":%d,"
                     "\"prevSeqId\":-1,\"seqId\":%lld}]}", sp->sym, asks, bids,
                     ms, m->okx_cs0 ? 0 : (int)mix_okx_checksum(b), (long long)b->seq);
        mix_push(m, v, FRAME_WS, s, 0, m->buf, (size_t)n);
    }
}

static int mix_draw_budget(void)
{
    /* 1:30% 2:24% 3:16% 4:8% 5:6% 6:5% 7:4% 8:3% 9:2% 10:2% */
    static const int cum[10] = { 30, 54, 70, 78, 84, 89, 93, 96, 98, 100 };
    int r = (int)(mix_rnd() % 100);

    for (int k = 0; k < 10; k++)
        if (r < cum[k])
            return k + 1;
    return 10;
}

static void mix_diff(struct mix *m, int v, int s)
{
    struct mix_book *b = &m->bk[v][s];
    const struct mix_spec *sp = b->sp;
    struct mix_chg c[MIX_MAXLV + 2];
    char bs[2048], as[2048];
    long long ms = (long long)(m->ts / 1000000);
    int budget = m->fixed_lv ? m->fixed_lv : mix_draw_budget();
    int n = mix_draw(b, budget, c), w;

    qsort(c, (size_t)n, sizeof(c[0]), mix_cmp_chg);
    if (v == VENUE_BINANCE) {
        /* Binance lists each side in ascending price (its docs example). */
        struct mix_chg r[MIX_MAXLV + 2];
        int nb = 0;
        for (int k = 0; k < n; k++)
            nb += c[k].side == BOOK_BID;
        for (int k = 0; k < nb; k++)
            r[k] = c[nb - 1 - k];
        for (int k = nb; k < n; k++)
            r[k] = c[k];
        mix_side_json(b, r, n, BOOK_BID, bs);
        mix_side_json(b, r, n, BOOK_ASK, as);
        long long U = b->seq + 1, u = U + (long long)(mix_rnd() % 40), pu = b->seq;
        if (b->seq2 == 0) {
            /* The first event after the REST snapshot straddles its
             * lastUpdateId (U <= L <= u), as when a live recorder's
             * snapshot lands inside the stream. */
            U = b->seq - (long long)(mix_rnd() % 5);
            u = b->seq + 1 + (long long)(mix_rnd() % 40);
            pu = U - 1 - (long long)(mix_rnd() % 30);
            b->seq2 = 1;
        }
        w = snprintf(m->buf, sizeof(m->buf), "{\"stream\":\"%s@depth@100ms\",\"data\":"
                     "{\"e\":\"depthUpdate\",\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"U\":%lld,"
                     "\"u\":%lld,\"pu\":%lld,\"b\":[%s],\"a\":[%s]}}", sp->stream, ms,
                     ms - 2, sp->sym, U, u, pu, bs, as);
        b->seq = u;
    } else if (v == VENUE_BYBIT) {
        mix_side_json(b, c, n, BOOK_BID, bs);
        mix_side_json(b, c, n, BOOK_ASK, as);
        b->seq++;
        b->seq2 += 1 + (int64_t)(mix_rnd() % 60);
        w = snprintf(m->buf, sizeof(m->buf), "{\"topic\":\"orderbook.200.%s\","
                     "\"type\":\"delta\",\"ts\":%lld,\"data\":{\"s\":\"%s\",\"b\":[%s],"
                     "\"a\":[%s],\"u\":%lld,\"seq\":%lld},\"cts\":%lld}", sp->sym, ms,
                     sp->sym, bs, as, (long long)b->seq, (long long)b->seq2, ms - 2);
    } else {
        mix_side_json(b, c, n, BOOK_BID, bs);
        mix_side_json(b, c, n, BOOK_ASK, as);
        long long prev = b->seq;
        b->seq += 1 + (int64_t)(mix_rnd() % 30);
        w = snprintf(m->buf, sizeof(m->buf), "{\"arg\":{\"channel\":\"books\","
                     "\"instId\":\"%s\"},\"action\":\"update\",\"data\":[{"
                     "\"asks\":[%s],\"bids\":[%s],\"ts\":\"%lld\",\"checksum\":%d,"
                     "\"prevSeqId\":%lld,\"seqId\":%lld}]}", sp->sym, as, bs, ms,
                     m->okx_cs0 ? 0 : (int)mix_okx_checksum(b), prev, (long long)b->seq);
    }
    m->levels[v] += (uint64_t)n;
    m->diffs[v]++;
    mix_push(m, v, FRAME_WS, s, n, m->buf, (size_t)w);
}

/* A mix of ndiffs diffs over the venues in vmask (bit per venue), after
 * the snapshots; fixed_lv 0: 1..10 levels weighted to small. */
static struct mix *mix_create2(uint64_t seed, size_t ndiffs, unsigned vmask, int fixed_lv,
                               int okx_cs0)
{
    struct mix *m = calloc(1, sizeof(*m));
    int vs[MIX_NVEN], nv = 0;

    if (m == NULL)
        return NULL;
    mix_rs = seed;
    m->ts = 1790000000000000000LL;
    m->fixed_lv = fixed_lv;
    m->okx_cs0 = okx_cs0;
    for (int v = 0; v < MIX_NVEN; v++) {
        if (!(vmask & (1u << v)))
            continue;
        vs[nv++] = v;
        for (int s = 0; s < MIX_NSYM; s++) {
            mix_book_init(&m->bk[v][s], v, &mix_specs[v][s]);
            mix_snapshot(m, v, s);
        }
    }
    for (size_t k = 0; k < ndiffs; k++) {
        int v = vs[mix_rnd() % (uint64_t)nv];
        int r = (int)(mix_rnd() % 100), s = 0;
        while (r >= mix_symw[s]) {
            r -= mix_symw[s];
            s++;
        }
        mix_diff(m, v, s);
    }
    return m;
}

static struct mix *mix_create(uint64_t seed, size_t ndiffs, unsigned vmask, int fixed_lv)
{
    return mix_create2(seed, ndiffs, vmask, fixed_lv, 0);
}

static void mix_destroy(struct mix *m)
{
    if (m) {
        free(m->arena);
        free(m->fr);
        free(m);
    }
}

static const char *mix_conn(int v)
{
    return v == VENUE_BINANCE ? "public" : "public";
}

/* Write the frames as a capture (capture-format.md).  0, or -1. */
static int mix_write_capture(const struct mix *m, const char *path)
{
    FILE *f = fopen(path, "w");
    size_t cap = 1 << 20;
    char *line = malloc(cap);

    if (f == NULL || line == NULL) {
        if (f)
            fclose(f);
        free(line);
        return -1;
    }
    for (size_t k = 0; k < m->nfr; k++) {
        const struct mix_frame *fr = &m->fr[k];
        char url[128];
        int rest = fr->src == FRAME_REST;
        if (rest)
            snprintf(url, sizeof(url), "/fapi/v1/depth?symbol=%s&limit=1000",
                     mix_specs[fr->venue][fr->sym].sym);
        if (2 * (size_t)fr->len + 512 > cap) {
            cap = 2 * (size_t)fr->len + 512;
            line = realloc(line, cap);
        }
        size_t n = capture_format_line(line, cap, fr->ts, (enum venue_id)fr->venue,
                                       (enum frame_src)fr->src,
                                       rest ? NULL : mix_conn(fr->venue),
                                       rest ? url : NULL, mix_text(m, fr), fr->len);
        if (n == 0 || fwrite(line, 1, n, f) != n) {
            fclose(f);
            free(line);
            return -1;
        }
    }
    free(line);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- checking liqmon's books ------------------------------------------- */

/* The model's level as liqmon should hold it: price double, base qty. */
static void mix_expect(const struct mix_book *b, const struct mkt_instr *in, int i,
                       uint32_t q, double *px, dec_t *qty)
{
    char s[40];
    dec_t d = q;

    mix_px(b, i, s);
    *px = strtod(s, NULL);
    for (int k = b->sp->qdec; k < 8; k++)
        d *= 10;
    *qty = market_to_base(in, d);
}

/* Compare one instrument's book with the model, every level.  0 equal;
 * else -1 and a line on stderr naming the first difference. */
static int mix_check_book(const struct mix_book *b, struct mkt_instr *in,
                          struct book_level *tmp, size_t tmpmax)
{
    for (int side = 0; side < 2; side++) {
        int want = side == BOOK_BID ? b->nb : b->na;
        size_t have = book_level_count(in->book, (enum book_side)side);
        if (have != (size_t)want) {
            fprintf(stderr, "bench_mix: %s %s: %zu levels, model %d\n", in->key,
                    side ? "asks" : "bids", have, want);
            return -1;
        }
        size_t n = book_copy_levels(in->book, (enum book_side)side, tmp, tmpmax);
        int i = side == BOOK_BID ? b->bb : b->ba;
        for (size_t k = 0; k < n; k++) {
            while (b->q[i] == 0)
                i += side == BOOK_BID ? -1 : 1;
            double px;
            dec_t q;
            mix_expect(b, in, i, b->q[i], &px, &q);
            if (tmp[k].price != px || tmp[k].qty != q) {
                char s[40];
                mix_px(b, i, s);
                fprintf(stderr, "bench_mix: %s %s level %zu: %.10g x %.8f, model %s x "
                        "%.8f\n", in->key, side ? "asks" : "bids", k, tmp[k].price,
                        (double)tmp[k].qty / 1e8, s, (double)q / 1e8);
                return -1;
            }
            i += side == BOOK_BID ? -1 : 1;
        }
    }
    if (!in->book_valid) {
        fprintf(stderr, "bench_mix: %s: book invalid (%s)\n", in->key, in->invalid_reason);
        return -1;
    }
    return 0;
}

/* Every modelled book of the venues in vmask against the market.  Returns
 * the number of books that differ (or are missing). */
static int mix_check(const struct mix *m, const market_t *mk, unsigned vmask)
{
    static struct book_level tmp[MIX_W];
    int bad = 0;

    for (int v = 0; v < MIX_NVEN; v++) {
        if (!(vmask & (1u << v)))
            continue;
        for (int s = 0; s < MIX_NSYM; s++) {
            struct mkt_instr *in = market_find(mk, (enum venue_id)v, mix_specs[v][s].sym);
            if (in == NULL) {
                fprintf(stderr, "bench_mix: %s:%s: no such instrument\n",
                        venue_name((enum venue_id)v), mix_specs[v][s].sym);
                bad++;
                continue;
            }
            bad += mix_check_book(&m->bk[v][s], in, tmp, MIX_W) != 0;
        }
    }
    return bad;
}

#endif
