/*
 * capgen.h - a generated capture in the four venues' real wire formats,
 * for the benchmarks: full book snapshots first (a Binance REST depth
 * answer, Bybit and OKX snapshots), then a seeded mix of depth deltas with
 * consistent sequence numbers (Binance U/u/pu, Bybit u, OKX
 * seqId/prevSeqId), mark prices, liquidation prints and Hyperliquid book
 * snapshots.  Deterministic: the same seed gives the same file.
 */
#ifndef LIQMON_BENCH_CAPGEN_H
#define LIQMON_BENCH_CAPGEN_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "liqmon/capture.h"

static uint64_t rs = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}


struct gen {
    FILE *f;
    char frame[100000];
    char line[700000];
    int64_t ts;
    uint64_t bn_u, by_u, by_seq, okx_seq;
    double mid[4];
};

static void put(struct gen *g, enum venue_id v, enum frame_src src,
                const char *conn, const char *url, const char *frame)
{
    size_t n = capture_format_line(g->line, sizeof(g->line), g->ts, v, src,
                                   conn, url, frame, strlen(frame));
    fwrite(g->line, 1, n, g->f);
    g->ts += 1000000;              /* 1 ms apart */
}

/* Levels around mid on a 0.1 grid, never crossing: bids below, asks above. */
static double lvl(double mid, int bid, int k)
{
    return bid ? round((mid - 0.5 - k * 0.1) * 10) / 10
               : round((mid + 0.5 + k * 0.1) * 10) / 10;
}

static int levels_json(char *o, size_t size, double mid, int bid, int n,
                       const char *fmt)
{
    int w = 0;
    for (int k = 0; k < n; k++)
        w += snprintf(o + w, size - (size_t)w, fmt, k ? "," : "", lvl(mid, bid, k),
                      (double)(1 + rnd() % 5000) / 1000);
    return w;
}

static void gen_snapshots(struct gen *g)
{
    char b[40000], a[40000];

    /* Binance REST snapshot, 1000 levels. */
    levels_json(b, sizeof(b), g->mid[0], 1, 1000, "%s[\"%.1f\",\"%.3f\"]");
    levels_json(a, sizeof(a), g->mid[0], 0, 1000, "%s[\"%.1f\",\"%.3f\"]");
    g->bn_u = 1000;
    snprintf(g->frame, sizeof(g->frame), "{\"lastUpdateId\":%llu,\"E\":1,\"T\":1,"
             "\"bids\":[%s],\"asks\":[%s]}", (unsigned long long)g->bn_u, b, a);
    put(g, VENUE_BINANCE, FRAME_REST, NULL, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
        g->frame);
    /* Bybit orderbook.200 snapshot. */
    levels_json(b, sizeof(b), g->mid[1], 1, 200, "%s[\"%.1f\",\"%.3f\"]");
    levels_json(a, sizeof(a), g->mid[1], 0, 200, "%s[\"%.1f\",\"%.3f\"]");
    g->by_u = 1;
    g->by_seq = 7000000000ull;
    snprintf(g->frame, sizeof(g->frame), "{\"topic\":\"orderbook.200.BTCUSDT\","
             "\"type\":\"snapshot\",\"ts\":1,\"data\":{\"s\":\"BTCUSDT\",\"b\":[%s],"
             "\"a\":[%s],\"u\":%llu,\"seq\":%llu},\"cts\":1}", b, a,
             (unsigned long long)g->by_u, (unsigned long long)g->by_seq);
    put(g, VENUE_BYBIT, FRAME_WS, "public", NULL, g->frame);
    /* OKX books snapshot (sizes in contracts), checksum 0 as in 2026. */
    levels_json(b, sizeof(b), g->mid[2], 1, 400, "%s[\"%.1f\",\"%.0f\",\"0\",\"1\"]");
    levels_json(a, sizeof(a), g->mid[2], 0, 400, "%s[\"%.1f\",\"%.0f\",\"0\",\"1\"]");
    g->okx_seq = 100;
    snprintf(g->frame, sizeof(g->frame), "{\"arg\":{\"channel\":\"books\",\"instId\":"
             "\"BTC-USDT-SWAP\"},\"action\":\"snapshot\",\"data\":[{\"asks\":[%s],"
             "\"bids\":[%s],\"ts\":\"1\",\"checksum\":0,\"prevSeqId\":-1,"
             "\"seqId\":%llu}]}", a, b, (unsigned long long)g->okx_seq);
    put(g, VENUE_OKX, FRAME_WS, "public", NULL, g->frame);
}

static void gen_frame(struct gen *g, uint64_t i)
{
    unsigned kind = (unsigned)(rnd() % 100);
    int k = (int)(rnd() % 40), bid = (int)(rnd() % 2);
    double q = (rnd() % 4 == 0) ? 0 : (double)(1 + rnd() % 5000) / 1000;

    if (kind < 40) {                                    /* Binance depth diff */
        uint64_t U = g->bn_u + 1, u = U + rnd() % 5;
        snprintf(g->frame, sizeof(g->frame), "{\"stream\":\"btcusdt@depth@100ms\","
                 "\"data\":{\"e\":\"depthUpdate\",\"E\":%llu,\"T\":%llu,\"s\":\"BTCUSDT\","
                 "\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":[[\"%.1f\",\"%.3f\"]],"
                 "\"a\":[[\"%.1f\",\"%.3f\"]]}}",
                 (unsigned long long)(g->ts / 1000000), (unsigned long long)(g->ts / 1000000),
                 (unsigned long long)U, (unsigned long long)u, (unsigned long long)g->bn_u,
                 lvl(g->mid[0], 1, k), bid ? q : 1.0, lvl(g->mid[0], 0, k), bid ? 1.0 : q);
        g->bn_u = u;
        put(g, VENUE_BINANCE, FRAME_WS, "public", NULL, g->frame);
    } else if (kind < 48) {                             /* Binance mark */
        snprintf(g->frame, sizeof(g->frame), "{\"stream\":\"btcusdt@markPrice@1s\","
                 "\"data\":{\"e\":\"markPriceUpdate\",\"E\":%llu,\"s\":\"BTCUSDT\","
                 "\"p\":\"%.8f\",\"i\":\"%.8f\",\"P\":\"%.8f\",\"r\":\"0.00010000\","
                 "\"T\":1700006400000}}", (unsigned long long)(g->ts / 1000000),
                 g->mid[0] + (double)(rnd() % 100) / 100 - 0.5, g->mid[0], g->mid[0]);
        put(g, VENUE_BINANCE, FRAME_WS, "market", NULL, g->frame);
    } else if (kind < 50) {                             /* Binance liquidation */
        snprintf(g->frame, sizeof(g->frame), "{\"stream\":\"btcusdt@forceOrder\","
                 "\"data\":{\"e\":\"forceOrder\",\"E\":%llu,\"o\":{\"s\":\"BTCUSDT\","
                 "\"S\":\"SELL\",\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"0.014\",\"p\":\"%.1f\","
                 "\"ap\":\"%.1f\",\"X\":\"FILLED\",\"l\":\"0.014\",\"z\":\"0.014\","
                 "\"T\":%llu}}}", (unsigned long long)(g->ts / 1000000), g->mid[0] - 20,
                 g->mid[0] - 20, (unsigned long long)(g->ts / 1000000));
        put(g, VENUE_BINANCE, FRAME_WS, "market", NULL, g->frame);
    } else if (kind < 75) {                             /* Bybit delta */
        g->by_u++;
        g->by_seq += 1 + rnd() % 3;
        snprintf(g->frame, sizeof(g->frame), "{\"topic\":\"orderbook.200.BTCUSDT\","
                 "\"type\":\"delta\",\"ts\":%llu,\"data\":{\"s\":\"BTCUSDT\","
                 "\"b\":[[\"%.1f\",\"%.3f\"]],\"a\":[[\"%.1f\",\"%.3f\"]],\"u\":%llu,"
                 "\"seq\":%llu},\"cts\":%llu}", (unsigned long long)(g->ts / 1000000),
                 lvl(g->mid[1], 1, k), bid ? q : 1.0, lvl(g->mid[1], 0, k), bid ? 1.0 : q,
                 (unsigned long long)g->by_u, (unsigned long long)g->by_seq,
                 (unsigned long long)(g->ts / 1000000));
        put(g, VENUE_BYBIT, FRAME_WS, "public", NULL, g->frame);
    } else if (kind < 80) {                             /* Bybit ticker */
        snprintf(g->frame, sizeof(g->frame), "{\"topic\":\"tickers.BTCUSDT\","
                 "\"type\":\"delta\",\"data\":{\"symbol\":\"BTCUSDT\",\"markPrice\":"
                 "\"%.2f\",\"indexPrice\":\"%.2f\"},\"cs\":1,\"ts\":%llu}",
                 g->mid[1] + (double)(rnd() % 100) / 100 - 0.5, g->mid[1],
                 (unsigned long long)(g->ts / 1000000));
        put(g, VENUE_BYBIT, FRAME_WS, "public", NULL, g->frame);
    } else if (kind < 95) {                             /* OKX update */
        uint64_t prev = g->okx_seq;
        g->okx_seq++;
        snprintf(g->frame, sizeof(g->frame), "{\"arg\":{\"channel\":\"books\","
                 "\"instId\":\"BTC-USDT-SWAP\"},\"action\":\"update\",\"data\":[{"
                 "\"asks\":[[\"%.1f\",\"%.0f\",\"0\",\"1\"]],\"bids\":[[\"%.1f\",\"%.0f\","
                 "\"0\",\"1\"]],\"ts\":\"%llu\",\"checksum\":0,\"prevSeqId\":%llu,"
                 "\"seqId\":%llu}]}", lvl(g->mid[2], 0, k), bid ? 3.0 : q * 1000,
                 lvl(g->mid[2], 1, k), bid ? q * 1000 : 3.0,
                 (unsigned long long)(g->ts / 1000000), (unsigned long long)prev,
                 (unsigned long long)g->okx_seq);
        put(g, VENUE_OKX, FRAME_WS, "public", NULL, g->frame);
    } else if (kind < 98) {                             /* OKX mark */
        snprintf(g->frame, sizeof(g->frame), "{\"arg\":{\"channel\":\"mark-price\","
                 "\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{\"instId\":\"BTC-USDT-SWAP\","
                 "\"instType\":\"SWAP\",\"markPx\":\"%.1f\",\"ts\":\"%llu\"}]}",
                 g->mid[2] + (double)(rnd() % 10) / 10, (unsigned long long)(g->ts / 1000000));
        put(g, VENUE_OKX, FRAME_WS, "public", NULL, g->frame);
    } else {                                            /* Hyperliquid book */
        char b[4000], a[4000];
        levels_json(b, sizeof(b), g->mid[3], 1, 20, "%s{\"px\":\"%.1f\",\"sz\":\"%.3f\",\"n\":3}");
        levels_json(a, sizeof(a), g->mid[3], 0, 20, "%s{\"px\":\"%.1f\",\"sz\":\"%.3f\",\"n\":3}");
        snprintf(g->frame, sizeof(g->frame), "{\"channel\":\"l2Book\",\"data\":{\"coin\":"
                 "\"BTC\",\"time\":%llu,\"levels\":[[%s],[%s]]}}",
                 (unsigned long long)(g->ts / 1000000), b, a);
        put(g, VENUE_HYPERLIQUID, FRAME_WS, "public", NULL, g->frame);
    }
    (void)i;
}


/* Write a capture of nframes frames (plus the snapshots) to path. */
static int capgen_write(const char *path, uint64_t nframes, uint64_t seed)
{
    struct gen *g = calloc(1, sizeof(*g));

    if (g == NULL || (g->f = fopen(path, "w")) == NULL) {
        free(g);
        return -1;
    }
    rs = seed;
    g->ts = 1700000000000000000LL;
    g->mid[0] = g->mid[1] = g->mid[2] = g->mid[3] = 90000;
    gen_snapshots(g);
    for (uint64_t i = 0; i < nframes; i++)
        gen_frame(g, i);
    fclose(g->f);
    free(g);
    return 0;
}

#endif
