/*
 * bench_mix - a realistic order-book mix (mixgen.h): Binance USD-M diff
 * depth, Bybit orderbook.200 and OKX books (real CRC32 checksums), four
 * symbols per venue, 1-10 levels per diff weighted to small, inserts,
 * updates and deletes near the top of books of 200-1,000 levels a side.
 *
 * Figures (CPU time of this thread, so that other processes on the
 * machine disturb them less; wall time where it differs is shown too):
 *  - parse + apply per venue (venue_on_frame: tokenizer, decimals, sync
 *    rules, book update; no consumer), ns per frame and per level, on the
 *    mix and on streams of exactly 5 and 10 levels per diff;
 *  - replay throughput of the whole mix through the real replay path
 *    (capture file -> replay_create / replay_play -> adapters -> books),
 *    with OKX checksums validated (captures from before 2026-06-23) and
 *    with checksum 0 (OKX production since);
 *  - the whole pipeline (replay -> adapters -> pipeline: engine with the
 *    cascade ladder at 1e5 positions per side on each venue's BTC
 *    instrument, alerts) on the same capture.
 * After each run every book is compared with the generator's model, level
 * by level: a difference exits 1.  A figure that misses its target is
 * printed as MISS and does not fail.
 *
 *   bench_mix                       the figures (make bench)
 *   bench_mix --write-capture FILE [--frames N] [--seed S]
 *                                   the mix as a capture (capture-format.md),
 *                                   checked by replaying it
 *   bench_mix --peer-bench CAPTURE [--books-out FILE] [--top N]
 *                                   liqmon in process on a capture's frames
 *                                   held in memory, per venue (what the
 *                                   bench/peers scripts do for the other
 *                                   libraries): one JSON line of frames/s,
 *                                   and the final books (top N, venue units)
 *
 * Run from the repository root (conf/instruments).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/capture.h"
#include "liqmon/engine.h"
#include "liqmon/log.h"
#include "liqmon/pindex.h"
#include "liqmon/pipeline.h"
#include "liqmon/replay.h"
#include "mixgen.h"

#define DEF_DIFFS 600000
#define FIXED_DIFFS 150000   /* per fixed-level run; --fixed-frames N (profiling) */
static size_t fixed_diffs = FIXED_DIFFS;
/* --fixed-run K: only run K of the fixed part (profiling): binance,
 * bybit, okx, okx cs=0 at 5 levels (0-3), then at 10 (4-7) */
static int fixed_pick = -1;
static int fixed_repeat = 1;  /* --fixed-repeat R: each fixed run R times (profiling) */
#define NPOS_SIDE 100000

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int failures;
static const char *only;   /* --only venues|fixed|replay|pipeline: one part (profiling) */
#define RUN(part) (only == NULL || strcmp(only, part) == 0)

static const char *verdict(int ok)
{
    return ok ? "ok" : "MISS";
}

static void quiet_note(const char *msg, void *arg)
{
    (void)msg;
    (void)arg;
}

/* ---- a replay object on a fresh market --------------------------------- */

struct rig {
    market_t *m;
    replay_t *r;
    venue_t *v[VENUE_COUNT];
    struct venue_io io;
    engine_t *eng;
    pipeline_t *pipe;
};

static int rig_added(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err)
{
    struct rig *g = arg;

    (void)in;
    if (g->eng != NULL && engine_sync(g->eng, err) != 0)
        return -1;
    if (g->pipe != NULL && pipeline_sync(g->pipe, err) != 0)
        return -1;
    if (g->pipe != NULL && new_venue)
        pipeline_set_venues(g->pipe, g->v);
    return 0;
}

static void rig_emit(void *arg, const struct mkt_event *ev)
{
    struct rig *g = arg;

    if (g->pipe)
        pipeline_on_event(g->pipe, ev);
}

static int rig_open(struct rig *g, int with_pipeline)
{
    struct replay_setup rs;
    lq_err_t err;

    memset(g, 0, sizeof(*g));
    g->m = market_create();
    g->io.emit = with_pipeline ? rig_emit : NULL;
    g->io.arg = g;
    memset(&rs, 0, sizeof(rs));
    rs.io = &g->io;
    rs.discover = 1;
    rs.instruments_dir = "conf/instruments";
    rs.note = quiet_note;
    rs.added = rig_added;
    rs.arg = g;
    g->r = replay_create(g->m, &rs, g->v, &err);
    if (g->r == NULL) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return -1;
    }
    if (!with_pipeline)
        return 0;
    /* 1e5 positions per side on each venue's BTC instrument. */
    for (int v = 0; v < MIX_NVEN; v++)
        if (replay_add(g->r, (enum venue_id)v, mix_specs[v][0].sym, &err) < 0) {
            fprintf(stderr, "bench_mix: %s\n", err.msg);
            return -1;
        }
    struct engine_config cfg;
    engine_config_default(&cfg);
    g->eng = engine_create(g->m, &cfg, &err);
    if (g->eng == NULL) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return -1;
    }
    uint64_t save = mix_rs;
    mix_rs = 77;
    for (int v = 0; v < MIX_NVEN; v++) {
        struct mkt_instr *in = market_find(g->m, (enum venue_id)v, mix_specs[v][0].sym);
        pindex_t *ix = engine_pindex(g->eng, in);
        for (int i = 0; i < 2 * NPOS_SIDE; i++) {
            struct pos_spec s = { 0 };
            char id[16];
            double d = (double)(1 + mix_rnd() % 3000) / 10000;
            snprintf(id, sizeof(id), "p%d", i);
            s.id = id;
            s.side = i & 1 ? POS_SHORT : POS_LONG;
            s.qty = (dec_t)(1 + mix_rnd() % 1000) * 100000;
            s.entry = 90000;
            s.liq_price = s.side == POS_LONG ? 90000 * (1 - d) : 90000 * (1 + d);
            pindex_insert(ix, &s, NULL, NULL);
        }
    }
    mix_rs = save;
    struct pipeline_config pc;
    pipeline_config_default(&pc);
    pc.human_fd = -1;
    pc.snapshot_interval = 0;
    pc.mode = "replay";
    g->pipe = pipeline_create(g->m, g->eng, &pc, &err);
    if (g->pipe == NULL) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return -1;
    }
    pipeline_set_venues(g->pipe, g->v);
    return 0;
}

static void rig_close(struct rig *g)
{
    lq_err_t err;

    if (g->pipe) {
        pipeline_detach_venues(g->pipe);
        pipeline_close(g->pipe, NULL, &err);
    }
    replay_destroy(g->r);
    engine_destroy(g->eng);
    market_destroy(g->m);
}

static uint64_t rejected_total(const struct rig *g)
{
    uint64_t n = 0;

    for (int v = 0; v < VENUE_COUNT; v++)
        if (g->v[v])
            n += venue_get_stats(g->v[v])->rejected + venue_get_stats(g->v[v])->skipped;
    return n;
}

/* The frames' adapter, discovering instruments as replay does: the first
 * frame of a venue goes through a one-frame capture?  No: replay_create
 * made adapters only for venues with instruments, so add each symbol
 * first (replay_add), as a positions file would. */
static int rig_add_all(struct rig *g, unsigned vmask)
{
    lq_err_t err;

    for (int v = 0; v < MIX_NVEN; v++) {
        if (!(vmask & (1u << v)))
            continue;
        for (int s = 0; s < MIX_NSYM; s++)
            if (replay_add(g->r, (enum venue_id)v, mix_specs[v][s].sym, &err) < 0) {
                fprintf(stderr, "bench_mix: %s\n", err.msg);
                return -1;
            }
    }
    return 0;
}

static int feed(struct rig *g, const struct mix *m, const struct mix_frame *f)
{
    venue_t *v = g->v[f->venue];
    char url[128];

    if (f->src == FRAME_REST) {
        snprintf(url, sizeof(url), "/fapi/v1/depth?symbol=%s&limit=1000",
                 mix_specs[f->venue][f->sym].sym);
        return venue_on_frame(v, -1, FRAME_REST, url, mix_text(m, f), f->len, f->ts);
    }
    return venue_on_frame(v, 0, FRAME_WS, NULL, mix_text(m, f), f->len, f->ts);
}

/* Parse + apply of one venue's diffs (snapshots applied first, untimed).
 * Returns CPU seconds; *frames, *levels what was timed. */
static double time_venue(struct rig *g, const struct mix *m, int venue,
                         uint64_t *frames, uint64_t *levels, double *wall)
{
    double t0, w0;
    uint64_t nf = 0, nl = 0;

    for (size_t k = 0; k < m->nfr; k++)
        if (m->fr[k].venue == venue && m->fr[k].nlv == 0)
            feed(g, m, &m->fr[k]);
    w0 = wall_s();
    t0 = cpu_s();
    for (size_t k = 0; k < m->nfr; k++) {
        const struct mix_frame *f = &m->fr[k];
        if (f->venue != venue || f->nlv == 0)
            continue;
        feed(g, m, f);
        nf++;
        nl += f->nlv;
    }
    double dt = cpu_s() - t0;
    *wall = wall_s() - w0;
    *frames = nf;
    *levels = nl;
    return dt;
}

static void check_books(const struct mix *m, const market_t *mk, unsigned vmask,
                        const char *what)
{
    int bad = mix_check(m, mk, vmask);

    if (bad) {
        fprintf(stderr, "bench_mix: %s: %d book(s) differ from the model\n", what, bad);
        failures++;
    }
}

static const char *vshort(int v)
{
    return v == VENUE_BINANCE ? "binance" : v == VENUE_BYBIT ? "bybit" : "okx";
}

/* ---- the figures --------------------------------------------------------- */

/* Replay the capture at path into a rig opened by the caller: frames/s per
 * core (thread CPU time) and the stats; -1 on a replay error. */
static double replay_timed(struct rig *g, char *path, struct replay_stats *st, double *cpu)
{
    struct replay_opts o;
    lq_err_t err;
    char *files[1] = { path };

    memset(&o, 0, sizeof(o));
    double c0 = cpu_s();
    if (replay_play(g->r, files, 1, &o, st, &err) != 0) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return -1;
    }
    *cpu = cpu_s() - c0;
    return st->frames / *cpu;
}

/* After a run: rejected frames and the books against the model. */
static void run_checks(struct rig *g, const struct mix *m, const char *what)
{
    if (rejected_total(g))
        fprintf(stderr, "bench_mix: %llu frames rejected or skipped\n",
                (unsigned long long)rejected_total(g)), failures++;
    check_books(m, g->m, 7, what);
}

static int run_figures(size_t ndiffs)
{
    struct mix *m;
    struct rig g;
    char path[] = "/tmp/liqmon-mix-XXXXXX";
    int fd;

    log_set_level(LL_ERROR);
    setvbuf(stdout, NULL, _IOLBF, 0);
    double g0 = wall_s();
    m = mix_create(42, ndiffs, 7, 0);
    if (m == NULL)
        return 1;
    printf("mix: %zu frames (%zu diffs + 12 snapshots), %.1f MB, levels/diff: "
           "binance %.2f, bybit %.2f, okx %.2f (generated in %.1f s)\n", m->nfr, ndiffs,
           m->alen / 1e6, (double)m->levels[0] / (double)m->diffs[0],
           (double)m->levels[1] / (double)m->diffs[1],
           (double)m->levels[2] / (double)m->diffs[2], wall_s() - g0);
    printf("books: binance %d, bybit %d, okx %d levels a side; OKX checksums "
           "non-zero and validated\n", mix_depth[0], mix_depth[1], mix_depth[2]);

    /* 1. parse + apply per venue, on the mix */
    if (rig_open(&g, 0) != 0 || rig_add_all(&g, 7) != 0)
        return 1;
    for (int v = 0; v < MIX_NVEN && RUN("venues"); v++) {
        uint64_t nf, nl;
        double wall, dt = time_venue(&g, m, v, &nf, &nl, &wall);
        double ns = dt / (double)nf * 1e9;
        printf("parse+apply %-11s mix %6.0f ns/frame %5.0f ns/level  (%.2f levels/frame; "
               "%llu frames; wall %.0f ns/frame)\n", vshort(v), ns, ns * nf / nl,
               (double)nl / nf, (unsigned long long)nf, wall / nf * 1e9);
    }
    if (rejected_total(&g))
        fprintf(stderr, "bench_mix: %llu frames rejected or skipped\n",
                (unsigned long long)rejected_total(&g)), failures++;
    if (RUN("venues"))
        check_books(m, g.m, 7, "parse+apply");
    rig_close(&g);

    /* 2. exactly 5 and 10 levels per diff; OKX also with checksum 0 (the
     * production feed since 2026-06-23), where the adapter stops keeping
     * each level's text piece and computing CRCs */
    for (int lv = 5; lv <= 10 && RUN("fixed"); lv += 5) {
        for (int v = 0; v <= MIX_NVEN; v++) {
            if (fixed_pick >= 0 && fixed_pick != (lv / 5 - 1) * (MIX_NVEN + 1) + v)
                continue;
            int ven = v < MIX_NVEN ? v : VENUE_OKX, cs0 = v == MIX_NVEN;
            struct mix *mf = mix_create2(100 + (uint64_t)lv * 10 + (uint64_t)v,
                                         fixed_diffs, 1u << ven, lv, cs0);
            uint64_t nf = 0, nl = 0;
            char name[32];
            double dt = 0, wall = 0;
            if (mf == NULL)
                return 1;
            snprintf(name, sizeof(name), "%s%s", vshort(ven), cs0 ? " cs=0" : "");
            /* --fixed-repeat R (profiling): the same stream R times, each
             * on fresh books; the figures are their sums */
            for (int r = 0; r < fixed_repeat; r++) {
                uint64_t f1, l1;
                double w1;
                if (r > 0)
                    rig_close(&g);
                if (rig_open(&g, 0) != 0 || rig_add_all(&g, 1u << ven) != 0)
                    return 1;
                dt += time_venue(&g, mf, ven, &f1, &l1, &w1);
                nf += f1;
                nl += l1;
                wall += w1;
            }
            double ns = dt / (double)nf * 1e9;
            if (lv == 5)
                printf("parse+apply %-11s %2d lv %6.0f ns/frame %5.0f ns/level  "
                       "(target <= 1000 ns/frame: %s; wall %.0f ns)\n", name, lv, ns,
                       ns * nf / nl, verdict(ns <= 1000), wall / nf * 1e9);
            else
                printf("parse+apply %-11s %2d lv %6.0f ns/frame %5.0f ns/level  "
                       "(wall %.0f ns)\n", name, lv, ns, ns * nf / nl, wall / nf * 1e9);
            if (nl != nf * (uint64_t)lv)
                fprintf(stderr, "bench_mix: %s %d-level stream: %llu levels in %llu "
                        "frames\n", name, lv, (unsigned long long)nl,
                        (unsigned long long)nf);
            if (rejected_total(&g))
                fprintf(stderr, "bench_mix: %llu frames rejected or skipped\n",
                        (unsigned long long)rejected_total(&g)), failures++;
            check_books(mf, g.m, 1u << ven, "fixed-level stream");
            rig_close(&g);
            mix_destroy(mf);
        }
    }

    /* 3. replay of the whole mix from a capture file */
    fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    if (mix_write_capture(m, path) != 0) {
        fprintf(stderr, "bench_mix: cannot write %s\n", path);
        return 1;
    }
    for (int pipe = 0; pipe < 2; pipe++) {
        if (!RUN(pipe ? "pipeline" : "replay"))
            continue;
        struct replay_stats st;
        double cpu, fps;
        if (rig_open(&g, pipe) != 0 || (fps = replay_timed(&g, path, &st, &cpu)) < 0)
            return 1;
        if (!pipe)
            printf("replay whole mix   %9.0f frames/s per core  %6.1f MB/s  (target >= "
                   "1,000,000: %s; wall %.0f frames/s; %llu frames)\n", fps,
                   st.bytes / cpu / 1e6, verdict(fps >= 1e6), st.frames / st.wall_s,
                   (unsigned long long)st.frames);
        else
            printf("pipeline + ladder  %9.0f frames/s            (target >= 400,000: %s; "
                   "wall %.0f; %llu ladders of 18 rows, %.0f%% of rows kept as no level "
                   "of their delta reaches them; 1e5 positions per side on 3 BTC "
                   "books)\n", fps, verdict(fps >= 4e5), st.frames / st.wall_s,
                   (unsigned long long)engine_get_stats(g.eng)->ladders,
                   100.0 * (double)engine_get_stats(g.eng)->rows_reused /
                   (18.0 * (double)engine_get_stats(g.eng)->ladders));
        run_checks(&g, m, pipe ? "pipeline" : "replay");
        rig_close(&g);
    }
    unlink(path);
    /* 4. the same mix as OKX production has sent it since 2026-06-23
     * (checksum 0: seqId continuity is the check, no CRC, no text
     * pieces), which is what a capture recorded today holds */
    if (RUN("replay")) {
        struct mix *m0 = mix_create2(42, ndiffs, 7, 0, 1);
        struct replay_stats st;
        char path0[] = "/tmp/liqmon-mix0-XXXXXX";
        double cpu, fps;
        if (m0 == NULL || (fd = mkstemp(path0)) < 0)
            return 1;
        close(fd);
        if (mix_write_capture(m0, path0) != 0 || rig_open(&g, 0) != 0 ||
            (fps = replay_timed(&g, path0, &st, &cpu)) < 0)
            return 1;
        printf("replay, OKX cs=0   %9.0f frames/s per core  %6.1f MB/s  (target >= "
               "1,000,000: %s; the mix as OKX production sends it since 2026-06-23)\n",
               fps, st.bytes / cpu / 1e6, verdict(fps >= 1e6));
        run_checks(&g, m0, "replay cs=0");
        rig_close(&g);
        unlink(path0);
        mix_destroy(m0);
    }
    mix_destroy(m);
    printf("books vs model     %s\n", failures ? "DIFFER (see stderr)" :
           "equal (every level of 12 books, after every run)");
    return failures ? 1 : 0;
}

/* ---- --write-capture ----------------------------------------------------- */

static int write_capture(const char *path, size_t ndiffs, uint64_t seed)
{
    struct mix *m = mix_create(seed, ndiffs, 7, 0);
    struct rig g;
    struct replay_opts o;
    struct replay_stats st;
    lq_err_t err;
    char *files[1] = { (char *)path };

    log_set_level(LL_ERROR);
    if (m == NULL || mix_write_capture(m, path) != 0) {
        fprintf(stderr, "bench_mix: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* Replay it: the file must give the model's books. */
    if (rig_open(&g, 0) != 0)
        return 1;
    memset(&o, 0, sizeof(o));
    if (replay_play(g.r, files, 1, &o, &st, &err) != 0) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return 1;
    }
    check_books(m, g.m, 7, path);
    fprintf(stderr, "bench_mix: wrote %s: %zu frames, %.1f MB; replayed: books %s the "
            "model\n", path, m->nfr, m->alen / 1e6, failures ? "DIFFER from" : "equal");
    rig_close(&g);
    mix_destroy(m);
    return failures ? 1 : 0;
}

/* ---- --peer-bench -------------------------------------------------------- */

static void put_dec(FILE *f, dec_t q)
{
    char s[64];
    int n = 0;
    unsigned __int128 u = (unsigned __int128)(q < 0 ? -q : q);
    unsigned __int128 ip = u / DEC_SCALE;
    unsigned long long fp = (unsigned long long)(u % DEC_SCALE);
    char ib[48];
    int ni = 0;

    do {
        ib[ni++] = (char)('0' + (int)(ip % 10));
        ip /= 10;
    } while (ip);
    if (q < 0)
        s[n++] = '-';
    while (ni)
        s[n++] = ib[--ni];
    if (fp) {
        n += sprintf(s + n, ".%08llu", fp);
        while (s[n - 1] == '0')
            n--;
    }
    s[n] = '\0';
    fprintf(f, "\"%s\"", s);
}

static int peer_bench(const char *path, const char *out, size_t top)
{
    capture_reader_t *r;
    struct capture_frame cf;
    lq_err_t err;
    struct rec { int venue, src; char *url; char *data; size_t len; int64_t ts; } *fr = NULL;
    size_t n = 0, cap = 0;
    struct rig g;

    log_set_level(LL_ERROR);
    r = capture_open(path, &err);
    if (r == NULL) {
        fprintf(stderr, "bench_mix: %s\n", err.msg);
        return 1;
    }
    while (capture_next(r, &cf, NULL, NULL, &err) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            fr = realloc(fr, cap * sizeof(*fr));
        }
        fr[n].venue = cf.venue;
        fr[n].src = cf.src;
        fr[n].url = cf.url ? strdup(cf.url) : NULL;
        fr[n].data = malloc(cf.len + 1);
        memcpy(fr[n].data, cf.data, cf.len + 1);
        fr[n].len = cf.len;
        fr[n].ts = cf.ts;
        n++;
    }
    capture_close(r);
    if (rig_open(&g, 0) != 0)
        return 1;
    printf("{");
    int first = 1;
    for (int v = 0; v < VENUE_COUNT; v++) {
        uint64_t nf = 0;
        /* The adapter, from the venue's first frame's instrument: add the
         * symbols up front as replay discovery would (not timed). */
        for (size_t k = 0; k < n; k++) {
            char sym[64];
            if (fr[k].venue == v &&
                venue_frame_symbol((enum venue_id)v, (enum frame_src)fr[k].src, fr[k].url,
                                   fr[k].data, fr[k].len, sym, sizeof(sym)))
                replay_add(g.r, (enum venue_id)v, sym, &err);
        }
        if (g.v[v] == NULL)
            continue;
        double t0 = cpu_s(), w0 = wall_s();
        for (size_t k = 0; k < n; k++) {
            if (fr[k].venue != v)
                continue;
            venue_on_frame(g.v[v], fr[k].src == FRAME_REST ? -1 : 0,
                           (enum frame_src)fr[k].src, fr[k].url, fr[k].data, fr[k].len,
                           fr[k].ts);
            nf++;
        }
        double dt = cpu_s() - t0, dw = wall_s() - w0;
        printf("%s\"%s\":{\"frames\":%llu,\"cpu_s\":%.6f,\"wall_s\":%.6f,\"fps\":%.0f,"
               "\"rejected\":%llu,\"skipped\":%llu}", first ? "" : ",",
               venue_name((enum venue_id)v), (unsigned long long)nf, dt, dw, nf / dt,
               (unsigned long long)venue_get_stats(g.v[v])->rejected,
               (unsigned long long)venue_get_stats(g.v[v])->skipped);
        first = 0;
    }
    printf("}\n");
    if (out) {
        FILE *f = fopen(out, "w");
        struct book_level *lv = malloc(top * sizeof(*lv));
        if (f == NULL || lv == NULL)
            return 1;
        fprintf(f, "{");
        for (size_t i = 0; i < market_count(g.m); i++) {
            struct mkt_instr *in = market_at(g.m, i);
            if (in->book_updates == 0)
                continue;
            fprintf(f, "%s\n\"%s\":{\"valid\":%s", i ? "," : "", in->key,
                    in->book_valid ? "true" : "false");
            for (int s = 0; s < 2; s++) {
                size_t k = book_copy_levels(in->book, (enum book_side)s, lv, top);
                fprintf(f, ",\"%s\":[", s ? "asks" : "bids");
                for (size_t j = 0; j < k; j++) {
                    /* venue units: base / contract value */
                    dec_t q = lv[j].qty * DEC_SCALE / in->spec.contract_value;
                    fprintf(f, "%s[%.17g,", j ? "," : "", lv[j].price);
                    put_dec(f, q);
                    fprintf(f, "]");
                }
                fprintf(f, "]");
            }
            fprintf(f, "}");
        }
        fprintf(f, "\n}\n");
        fclose(f);
        free(lv);
    }
    rig_close(&g);
    for (size_t k = 0; k < n; k++) {
        free(fr[k].url);
        free(fr[k].data);
    }
    free(fr);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cap = NULL, *peer = NULL, *books = NULL;
    size_t frames = 0, top = 50;
    uint64_t seed = 42;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--write-capture") == 0 && next)
            cap = argv[++i];
        else if (strcmp(a, "--frames") == 0 && next)
            frames = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--seed") == 0 && next)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--peer-bench") == 0 && next)
            peer = argv[++i];
        else if (strcmp(a, "--books-out") == 0 && next)
            books = argv[++i];
        else if (strcmp(a, "--fixed-frames") == 0 && next)
            fixed_diffs = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--fixed-run") == 0 && next && atoi(next) >= 0 &&
                 atoi(next) < 2 * (MIX_NVEN + 1))
            fixed_pick = atoi(argv[++i]);     /* 5 levels: 0-3, 10 levels: 4-7 */
        else if (strcmp(a, "--fixed-repeat") == 0 && next && atoi(next) > 0)
            fixed_repeat = atoi(argv[++i]);
        else if (strcmp(a, "--only") == 0 && next)
            only = argv[++i];
        else if (strcmp(a, "--top") == 0 && next)
            top = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_mix [--frames N] [--fixed-frames N] [--fixed-run K] [--fixed-repeat R]\n"
                    "                 [--only venues|fixed|replay|pipeline]\n"
                    "       bench_mix --write-capture FILE [--frames N] [--seed S]\n"
                    "       bench_mix --peer-bench CAPTURE [--books-out FILE] [--top N]\n");
            return 64;
        }
    }
    if (cap)
        return write_capture(cap, frames ? frames : DEF_DIFFS, seed);
    if (peer)
        return peer_bench(peer, books, top ? top : 50);
    return run_figures(frames ? frames : DEF_DIFFS);
}
