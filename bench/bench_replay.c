/*
 * bench_replay - replay throughput (issue 3): a generated capture of
 * 1,000,000 frames in the four venues' real wire formats (mark prices,
 * depth deltas with consistent sequence numbers, liquidation prints, full
 * book snapshots), replayed through capture reader -> adapters -> books,
 * then through the risk engine too; and the same frames parsed by jansson
 * alone, as the baseline the pipeline is compared with.
 *
 * Also the cost of one Binance depth diff parsed and applied, per frame.
 * Figures only; nothing here fails on a slow machine.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "liqmon/capture.h"
#include "liqmon/engine.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"

#define NFRAMES 1000000

static uint64_t rs = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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

static void jansson_baseline(const char *path, double *secs, uint64_t *frames)
{
    capture_reader_t *r;
    struct capture_frame f;
    lq_err_t err;
    double t0;
    char **copies = malloc(NFRAMES * 2 * sizeof(char *));
    size_t *lens = malloc(NFRAMES * 2 * sizeof(size_t));
    uint64_t n = 0;

    /* Copy the frames out first: the baseline times the parse alone. */
    r = capture_open(path, &err);
    while (r && capture_next(r, &f, NULL, NULL, &err) == 1 && n < NFRAMES * 2) {
        copies[n] = malloc(f.len);
        memcpy(copies[n], f.data, f.len);
        lens[n++] = f.len;
    }
    capture_close(r);
    t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        json_error_t je;
        json_t *j = json_loadb(copies[i], lens[i], 0, &je);
        json_decref(j);
    }
    *secs = now_s() - t0;
    *frames = n;
    for (uint64_t i = 0; i < n; i++)
        free(copies[i]);
    free(copies);
    free(lens);
}

static void on_event_engine(void *arg, const struct mkt_event *ev)
{
    engine_on_event(arg, ev);
}

static int valid_books;

static int run_replay(const char *path, int with_engine, struct replay_stats *st,
                      uint64_t *rejected, uint64_t *ladders)
{
    market_t *m = market_create();
    venue_t *v[VENUE_COUNT];
    struct venue_io io;
    engine_t *e = NULL;
    lq_err_t err;
    char *files[1] = { (char *)path };

    if (market_load_dir(m, "conf/instruments", 0, &err) < 0) {
        fprintf(stderr, "bench_replay: %s (run from the repo root)\n", err.msg);
        return -1;
    }
    memset(&io, 0, sizeof(io));
    if (with_engine) {
        struct engine_config cfg;
        engine_config_default(&cfg);
        e = engine_create(m, &cfg, &err);
        /* Positions so that ladders have work: 1e5 per side on BTCUSDT. */
        pindex_t *ix = engine_pindex(e, market_find(m, VENUE_BINANCE, "BTCUSDT"));
        for (int i = 0; i < 200000; i++) {
            struct pos_spec s = { 0 };
            char id[16];
            snprintf(id, sizeof(id), "p%d", i);
            s.id = id;
            s.side = i & 1 ? POS_SHORT : POS_LONG;
            s.qty = (dec_t)(1 + rnd() % 1000) * 100000;
            s.entry = 90000;
            s.liq_price = s.side == POS_LONG ? 90000 * (1 - (double)(rnd() % 3000) / 10000)
                                             : 90000 * (1 + (double)(rnd() % 3000) / 10000);
            pindex_insert(ix, &s, NULL, NULL);
        }
        io.emit = on_event_engine;
        io.arg = e;
    }
    if (replay_create_venues(m, &io, v, &err) != 0) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        return -1;
    }
    if (replay_run(files, 1, v, NULL, st, &err) != 0) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        return -1;
    }
    *rejected = 0;
    for (int i = 0; i < VENUE_COUNT; i++)
        if (v[i])
            *rejected += venue_get_stats(v[i])->rejected;
    *ladders = e ? engine_get_stats(e)->ladders : 0;
    valid_books = 0;
    for (size_t i = 0; i < market_count(m); i++) {
        struct mkt_instr *in = market_at(m, i);
        valid_books += in->book_valid && in->book_updates > 0;
    }
    replay_destroy_venues(v);
    engine_destroy(e);
    market_destroy(m);
    return 0;
}

/* One Binance diff frame (two levels), parsed and applied, in a loop. */
static void bench_depth_diff(void)
{
    market_t *m = market_create();
    venue_t *v[VENUE_COUNT];
    struct venue_io io;
    lq_err_t err;
    char snap[100000], b[40000], a[40000];
    uint64_t u = 1000;
    const int n = getenv("BENCH_DIFF_N") ? atoi(getenv("BENCH_DIFF_N")) : 1000000;

    rs = 7;
    market_load_dir(m, "conf/instruments", 1u << VENUE_BINANCE, &err);
    memset(&io, 0, sizeof(io));
    replay_create_venues(m, &io, v, &err);
    levels_json(b, sizeof(b), 90000, 1, 1000, "%s[\"%.1f\",\"%.3f\"]");
    levels_json(a, sizeof(a), 90000, 0, 1000, "%s[\"%.1f\",\"%.3f\"]");
    snprintf(snap, sizeof(snap), "{\"lastUpdateId\":1000,\"E\":1,\"T\":1,"
             "\"bids\":[%s],\"asks\":[%s]}", b, a);
    venue_on_frame(v[VENUE_BINANCE], -1, FRAME_REST,
                   "/fapi/v1/depth?symbol=BTCUSDT&limit=1000", snap, strlen(snap), 1);
    /* Pre-build the frames: the figure is parse + apply, not snprintf. */
    char (*frames)[200] = malloc((size_t)n * 200);
    for (int i = 0; i < n; i++) {
        int k = (int)(rnd() % 40);
        snprintf(frames[i], 200, "{\"e\":\"depthUpdate\",\"E\":1,\"T\":1,\"s\":\"BTCUSDT\","
                 "\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":[[\"%.1f\",\"%.3f\"]],"
                 "\"a\":[[\"%.1f\",\"%.3f\"]]}", (unsigned long long)(u + 1),
                 (unsigned long long)(u + 1), (unsigned long long)u, lvl(90000, 1, k),
                 (double)(rnd() % 5000) / 1000, lvl(90000, 0, k),
                 (double)(1 + rnd() % 5000) / 1000);
        u++;
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        venue_on_frame(v[VENUE_BINANCE], 0, FRAME_WS, NULL, frames[i],
                       strlen(frames[i]), 2 + i);
    double dt = now_s() - t0;
    struct mkt_instr *in = market_find(m, VENUE_BINANCE, "BTCUSDT");
    printf("depth diff parse+apply  %6.0f ns/frame  (2 levels; target <= 500 ns; "
           "book %s, %llu rejected)\n", dt / n * 1e9,
           in && in->book_valid ? "valid" : "INVALID",
           (unsigned long long)venue_get_stats(v[VENUE_BINANCE])->rejected);
    free(frames);
    replay_destroy_venues(v);
    market_destroy(m);
}

int main(void)
{
    char path[] = "/tmp/liqmon-bench-XXXXXX";
    int fd = mkstemp(path);
    struct gen *g = calloc(1, sizeof(*g));
    struct replay_stats st;
    uint64_t rejected, ladders, jframes;
    double jsecs;

    if (fd < 0 || g == NULL)
        return 1;
    if (getenv("BENCH_DIFF_ONLY")) {
        log_set_level(LOG_ERROR);
        bench_depth_diff();
        unlink(path);
        free(g);
        return 0;
    }
    log_set_level(LOG_ERROR);
    g->f = fdopen(fd, "w");
    g->ts = 1700000000000000000LL;
    g->mid[0] = g->mid[1] = g->mid[2] = g->mid[3] = 90000;
    gen_snapshots(g);
    for (uint64_t i = 0; i < NFRAMES; i++)
        gen_frame(g, i);
    fclose(g->f);
    free(g);

    bench_depth_diff();
    if (getenv("BENCH_DIFF_ONLY"))
        return 0;

    if (run_replay(path, 0, &st, &rejected, &ladders) == 0)
        printf("replay (adapters+books) %9.0f frames/s  %6.1f MB/s  (%llu frames, "
               "%llu rejected, %d of 4 books valid; target >= 250k frames/s)\n",
               st.frames / st.wall_s, st.bytes / st.wall_s / 1e6,
               (unsigned long long)st.frames, (unsigned long long)rejected,
               valid_books);
    double pipe_s = st.wall_s;
    jansson_baseline(path, &jsecs, &jframes);
    printf("jansson parse alone     %9.0f frames/s  %6.1f MB/s\n", jframes / jsecs,
           st.bytes / jsecs / 1e6);
    printf("pipeline / bare parse   %9.2fx  (target <= 2x)\n", pipe_s / jsecs);
    if (run_replay(path, 1, &st, &rejected, &ladders) == 0)
        printf("replay + risk engine    %9.0f frames/s  (%llu ladders of 18 "
               "simulations, 1e5 positions per side)\n", st.frames / st.wall_s,
               (unsigned long long)ladders);
    unlink(path);
    return 0;
}
