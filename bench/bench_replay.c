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
#include "capgen.h"

#define NFRAMES 1000000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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
/* Binance diff frames with per_side levels on each side, parsed and
 * applied in a loop against a 1,000-level book. */
static void bench_depth_diff(int per_side)
{
    market_t *m = market_create();
    venue_t *v[VENUE_COUNT];
    struct venue_io io;
    lq_err_t err;
    char snap[100000], b[40000], a[40000];
    uint64_t u = 1000;
    int n = getenv("BENCH_DIFF_N") ? atoi(getenv("BENCH_DIFF_N")) : 1000000;
    const size_t fsz = 128 + 48 * (size_t)per_side * 2;

    if (per_side > 1)
        n /= per_side;
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
    char *frames = malloc((size_t)n * fsz);
    for (int i = 0; i < n; i++) {
        char *f = frames + (size_t)i * fsz;
        int w = snprintf(f, fsz, "{\"e\":\"depthUpdate\",\"E\":1,\"T\":1,"
                         "\"s\":\"BTCUSDT\",\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":[",
                         (unsigned long long)(u + 1), (unsigned long long)(u + 1),
                         (unsigned long long)u);
        for (int side = 0; side < 2; side++) {
            for (int j = 0; j < per_side; j++) {
                int k = (int)(rnd() % 40);
                w += snprintf(f + w, fsz - (size_t)w, "%s[\"%.1f\",\"%.3f\"]",
                              j ? "," : "", lvl(90000, side == 0, k),
                              (double)(side ? 1 + rnd() % 5000 : rnd() % 5000) / 1000);
            }
            w += snprintf(f + w, fsz - (size_t)w, side ? "]}" : "],\"a\":[");
        }
        u++;
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        const char *f = frames + (size_t)i * fsz;
        venue_on_frame(v[VENUE_BINANCE], 0, FRAME_WS, NULL, f, strlen(f), 2 + i);
    }
    double dt = now_s() - t0;
    struct mkt_instr *in = market_find(m, VENUE_BINANCE, "BTCUSDT");
    /* issue 3's target is for the 2-level diff; the 10-level one is a
     * figure (bench_mix holds the 5-level target) */
    printf("depth diff parse+apply  %6.0f ns/frame  (%2d levels, %4.0f ns/level; "
           "%s; book %s, %llu rejected)\n", dt / n * 1e9, 2 * per_side,
           dt / n * 1e9 / (2 * per_side),
           per_side == 1 ? (dt / n * 1e9 <= 500 ? "target <= 500 ns: ok"
                                                 : "target <= 500 ns: MISS")
                         : "no target at this size",
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
    struct replay_stats st;
    uint64_t rejected, ladders, jframes;
    double jsecs;

    if (fd < 0)
        return 1;
    close(fd);
    log_set_level(LL_ERROR);
    bench_depth_diff(1);
    bench_depth_diff(5);
    if (getenv("BENCH_DIFF_ONLY")) {
        unlink(path);
        return 0;
    }
    if (capgen_write(path, NFRAMES, 42) != 0)
        return 1;

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
