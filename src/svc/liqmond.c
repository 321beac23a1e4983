/*
 * liqmond - the liquidation-risk monitoring daemon.
 *
 *   liqmond --config FILE                  live: venue feeds -> risk engine
 *   liqmond --replay FILE... [options]     the same pipeline over captures
 *
 * Start-up order follows the data flow (chrony's main.c style): config,
 * market (instruments), risk engine and positions, venue adapters, feed
 * (connections); shutdown runs in reverse.  Only uv_run drives the daemon.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "liqmon/capture.h"
#include "liqmon/config.h"
#include "liqmon/engine.h"
#include "liqmon/feed.h"
#include "liqmon/jsonw.h"
#include "liqmon/fileio.h"
#include "liqmon/log.h"
#include "liqmon/pipeline.h"
#include "liqmon/replay.h"
#include "liqmon/version.h"

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_SOFTWARE 70
#define EX_CANTCREAT 73
#define EX_CONFIG 78

struct opts {
    const char *config;
    const char *positions;
    const char *instruments;
    const char *record;
    const char *state_out;
    const char *alert_log;
    const char *store;
    double run_for;
    char **replay;
    size_t nreplay;
    double speed;
    int json;
    int check_config;
    int verbose;
};

struct daemon {
    struct liqmon_config cfg;
    market_t *mkt;
    engine_t *eng;
    pipeline_t *pipe;
    venue_t *venues[VENUE_COUNT];
    feed_t *feed;
    capture_writer_t *rec;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sighup, sigusr1;
    uv_timer_t status;
    uv_timer_t tick;
    uv_timer_t run_for;
    const struct opts *o;
    int stopping;
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmond --config FILE [--positions FILE] [--record DIR]\n"
"               [--alert-log FILE] [--store FILE]\n"
"       liqmond --replay FILE... [--config FILE | --instruments DIR]\n"
"               [--positions FILE] [--alert-log FILE] [--store FILE]\n"
"               [--speed X] [--json]\n"
"       liqmond --check-config --config FILE\n"
"\n"
"  --config FILE       configuration (conf/liqmond.conf documents every key)\n"
"  --positions FILE    tracked positions (CSV or JSON Lines); overrides the\n"
"                      config's [daemon] positions\n"
"  --record DIR        record every frame received into hourly capture files\n"
"  --alert-log FILE    alerts as JSON Lines (overrides [alerts] log)\n"
"  --store FILE        the SQLite store (overrides [store] path)\n"
"  --replay FILE...    run captures through the adapters, books and risk\n"
"                      engine on the capture's clock, then print a summary\n"
"  --instruments DIR   instrument files (replay without a config)\n"
"  --speed X           replay at X times real time (default: as fast as\n"
"                      possible)\n"
"  --json              replay summary as JSON\n"
"  --state-out FILE    at exit, write the market state (books, marks, feed\n"
"                      and adapter counters) as JSON (tests, post-mortems)\n"
"  --run-for SECONDS   stop by itself after this long (tests, demos)\n"
"  -v                  debug logging\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->replay = calloc((size_t)argc, sizeof(char *));
    if (o->replay == NULL)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--config") == 0 && has) {
            o->config = argv[++i];
        } else if (strcmp(a, "--positions") == 0 && has) {
            o->positions = argv[++i];
        } else if (strcmp(a, "--instruments") == 0 && has) {
            o->instruments = argv[++i];
        } else if (strcmp(a, "--state-out") == 0 && has) {
            o->state_out = argv[++i];
        } else if (strcmp(a, "--alert-log") == 0 && has) {
            o->alert_log = argv[++i];
        } else if (strcmp(a, "--store") == 0 && has) {
            o->store = argv[++i];
        } else if (strcmp(a, "--run-for") == 0 && has) {
            char *end;
            o->run_for = strtod(argv[++i], &end);
            if (*end != '\0' || !(o->run_for > 0)) {
                fprintf(stderr, "liqmond: --run-for: must be a number of seconds "
                        "> 0 (got '%s')\n", argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--record") == 0 && has) {
            o->record = argv[++i];
        } else if (strcmp(a, "--speed") == 0 && has) {
            char *end;
            o->speed = strtod(argv[++i], &end);
            if (*end != '\0' || !(o->speed > 0)) {
                fprintf(stderr, "liqmond: --speed: must be a number > 0 (got '%s')\n",
                        argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--replay") == 0) {
            while (i + 1 < argc && argv[i + 1][0] != '-')
                o->replay[o->nreplay++] = argv[++i];
            if (o->nreplay == 0) {
                fprintf(stderr, "liqmond: --replay: missing capture FILE\n");
                return -1;
            }
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--check-config") == 0) {
            o->check_config = 1;
        } else if (strcmp(a, "-v") == 0) {
            o->verbose = 1;
        } else {
            fprintf(stderr, "liqmond: unknown or incomplete option '%s' "
                    "(see liqmond --help)\n", a);
            return -1;
        }
    }
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the pipeline ----------------------------------------------------- */

static void on_event(void *arg, const struct mkt_event *ev)
{
    struct daemon *d = arg;

    if (ev->type == MEV_FEED && ev->instr == NULL) {
        static const char *const kinds[] = {
            "connected", "disconnected", "stale", "book invalid", "book valid",
            "rejected"
        };
        log_msg(ev->u.feed.kind == FEED_CONNECTED ? LL_INFO : LL_WARN,
                venue_name(ev->venue), "%s %s%s%s", ev->u.feed.conn ? ev->u.feed.conn : "",
                kinds[ev->u.feed.kind], ev->u.feed.reason ? ": " : "",
                ev->u.feed.reason ? ev->u.feed.reason : "");
    }
    pipeline_on_event(d->pipe, ev);
}

static void log_position_error(const char *msg, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "positions", "%s", msg);
}

static void log_note(const char *msg, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "replay", "%s", msg);
}

/* Market from the config's venues and symbols; or, without a config (a
 * replay), the instruments the captures name, with their files from the
 * directory where there are some. */
static int build_market(struct daemon *d, const struct opts *o, lq_err_t *err)
{
    const char *dir = o->instruments ? o->instruments : d->cfg.instruments_dir;

    d->mkt = market_create();
    if (d->mkt == NULL)
        return lq_err_set(err, "out of memory");
    if (o->config == NULL)     /* a replay: the capture's own instruments */
        return replay_discover(o->replay, o->nreplay, d->mkt, dir, log_note, NULL,
                               err) < 0 ? -1 : 0;
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct config_venue *cv = &d->cfg.venues[v];
        for (size_t i = 0; cv->enabled && i < cv->nsymbols; i++) {
            struct instrument ins;
            int rc = instrument_load_dir(dir, venue_name((enum venue_id)v),
                                         cv->symbols[i], &ins, err);
            if (rc != 0)
                return -1;
            if (market_add(d->mkt, (enum venue_id)v, &ins, err) == NULL) {
                instrument_fini(&ins);
                return -1;
            }
            instrument_fini(&ins);
        }
    }
    if (market_count(d->mkt) == 0)
        return lq_err_set(err, "%s: no [venue ...] section with symbols", o->config);
    return 0;
}

static int build_engine(struct daemon *d, const struct opts *o, lq_err_t *err)
{
    const char *pos = o->positions ? o->positions
                                   : (d->cfg.positions[0] ? d->cfg.positions : NULL);
    struct posfile_stats ps;

    d->eng = engine_create(d->mkt, &d->cfg.engine, err);
    if (d->eng == NULL)
        return -1;
    if (pos == NULL) {
        log_msg(LL_WARN, "liqmond", "no positions file: ladders will show "
                "no liquidations");
        return 0;
    }
    if (engine_load_positions(d->eng, pos, log_position_error, NULL, &ps, err) != 0)
        return -1;
    log_msg(LL_INFO, "liqmond", "%s: %zu positions loaded, %zu rejected", pos,
            ps.loaded, ps.rejected);
    return 0;
}

/* FNV-1a 64 of the config file: which config a run had (store runs). */
static void config_hash(const char *path, char out[17])
{
    char *text = NULL;
    size_t len = 0;
    uint64_t h = 1469598103934665603ULL;

    out[0] = '\0';
    if (path == NULL || fileio_read_all(path, (size_t)1 << 20, &text, &len, NULL) != 0)
        return;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    free(text);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Alerts and sinks: one wiring for live and replay. */
static int build_pipeline(struct daemon *d, const struct opts *o, int argc,
                          char **argv, lq_err_t *err)
{
    struct pipeline_config pc;
    char hash[17], cmd[1024];
    size_t n = 0;

    cmd[0] = '\0';
    for (int i = 0; i < argc && n + 2 < sizeof(cmd); i++)
        n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
    config_hash(o->config, hash);
    pipeline_config_default(&pc);
    pc.alerts = d->cfg.alerts;
    pc.alert_log = o->alert_log ? o->alert_log
                                : (d->cfg.alert_log[0] ? d->cfg.alert_log : NULL);
    /* Human alert lines on stderr (journald keeps their priority); a
     * replay prints its summary on stdout and the lines too, so a person
     * sees what a desk would have seen. */
    pc.human_fd = 2;
    pc.store.path = o->store ? o->store
                             : (d->cfg.store_path[0] ? d->cfg.store_path : NULL);
    pc.store.retention_days = d->cfg.retention_days;
    pc.store.queue_max = d->cfg.store_queue_max;
    pc.store.busy_timeout_ms = d->cfg.store_busy_timeout_ms;
    pc.snapshot_interval = (int64_t)d->cfg.snapshot_interval_ms * 1000000;
    pc.mode = o->nreplay ? "replay" : "live";
    pc.config_hash = hash[0] ? hash : NULL;
    pc.argv = cmd;
    d->pipe = pipeline_create(d->mkt, d->eng, &pc, err);
    if (d->pipe == NULL)
        return -1;
    /* live: the event clock is the wall clock; a replay's starts with
     * its first frame */
    pipeline_store_positions(d->pipe, "load", "file", o->nreplay ? 0 : now_ns());
    return 0;
}

/* The run's counters for the store's run record. */
static void close_pipeline(struct daemon *d)
{
    struct jsonw w;
    lq_err_t err;

    if (d->pipe == NULL)
        return;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "events");
    jw_u64(&w, engine_get_stats(d->eng)->events);
    jw_key(&w, "ladders");
    jw_u64(&w, engine_get_stats(d->eng)->ladders);
    jw_key(&w, "alerts");
    jw_u64(&w, alerts_get_stats(pipeline_alerts(d->pipe))->records);
    jw_key(&w, "snapshots");
    jw_u64(&w, pipeline_get_stats(d->pipe)->snapshots);
    jw_obj_end(&w);
    if (pipeline_close(d->pipe, jw_failed(&w) ? NULL : w.buf, &err) != 0)
        log_msg(LL_ERROR, "liqmond", "store: %s", err.msg);
    jw_fini(&w);
    d->pipe = NULL;
}

static void teardown(struct daemon *d)
{
    close_pipeline(d);
    for (int v = 0; v < VENUE_COUNT; v++)
        venue_destroy(d->venues[v]);
    engine_destroy(d->eng);
    market_destroy(d->mkt);
    capture_writer_stop(d->rec);
}

/* ---- summaries -------------------------------------------------------- */

static void summary_text(struct daemon *d, const struct replay_stats *st)
{
    const struct engine_stats *es = engine_get_stats(d->eng);

    printf("replayed %llu frames (%llu bad lines) in %.2f s: %.0f frames/s\n",
           (unsigned long long)st->frames, (unsigned long long)st->bad_lines,
           st->wall_s, st->wall_s > 0 ? (double)st->frames / st->wall_s : 0);
    printf("risk engine: %llu events, %llu ladders, %llu unchanged ticks "
           "skipped, %llu ticks on an invalid book\n",
           (unsigned long long)es->events, (unsigned long long)es->ladders,
           (unsigned long long)es->skipped, (unsigned long long)es->invalid);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_stats *vs;
        if (d->venues[v] == NULL || st->venue_frames[v] == 0)
            continue;
        vs = venue_get_stats(d->venues[v]);
        printf("%s: %llu frames, %llu rejected, %llu liquidation prints%s\n",
               venue_name((enum venue_id)v), (unsigned long long)st->venue_frames[v],
               (unsigned long long)vs->rejected,
               (unsigned long long)vs->events[MEV_LIQUIDATION],
               v == VENUE_BINANCE || v == VENUE_OKX ? " (sampled: at most one per "
               "symbol per second)" : v == VENUE_HYPERLIQUID ? " (the venue "
               "publishes none)" : " (complete)");
    }
    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        const struct engine_ladder *l = engine_ladder(d->eng, in);
        pindex_t *ix = engine_pindex(d->eng, in);
        printf("\n%s  mark %.10g  book %s  positions %zu long / %zu short  "
               "ladders %llu\n", in->key, in->mark,
               in->book_valid ? "valid" : in->invalid_reason,
               pindex_count(ix, POS_LONG), pindex_count(ix, POS_SHORT),
               (unsigned long long)l->runs);
        if (!l->valid)
            continue;
        printf("  %-5s %7s %6s %10s %14s %14s %8s %s\n", "side", "shock",
               "rounds", "liquidated", "qty", "final", "move%", "exhausted");
        for (size_t r = 0; r < l->nrows; r++) {
            const struct cascade_row *row = &l->rows[r];
            char q[DEC_STRLEN];
            dec_format(row->liquidated_qty, q);
            printf("  %-5s %7.4g %6u %10llu %14s %14.10g %8.3f %s\n",
                   cascade_dir_name(row->side), row->shock, row->rounds,
                   (unsigned long long)row->liquidated, q, row->final_price,
                   row->move_pct, row->exhausted ? "yes" : "no");
        }
    }
}

static void summary_json(struct daemon *d, const struct replay_stats *st)
{
    struct jsonw w;
    const struct engine_stats *es = engine_get_stats(d->eng);

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "frames");
    jw_u64(&w, st->frames);
    jw_key(&w, "bad_lines");
    jw_u64(&w, st->bad_lines);
    jw_key(&w, "ladders");
    jw_u64(&w, es->ladders);
    jw_key(&w, "instruments");
    jw_obj_begin(&w);
    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        const struct engine_ladder *l = engine_ladder(d->eng, in);
        jw_key(&w, in->key);
        jw_obj_begin(&w);
        jw_key(&w, "mark");
        jw_double(&w, in->mark > 0 ? in->mark : 0.0 / 0.0);
        jw_key(&w, "book_valid");
        jw_bool(&w, in->book_valid);
        jw_key(&w, "ladder_valid");
        jw_bool(&w, l->valid);
        jw_key(&w, "ref");
        jw_double(&w, l->valid ? l->ref : 0.0 / 0.0);
        jw_key(&w, "results");
        jw_arr_begin(&w);
        for (size_t r = 0; l->valid && r < l->nrows; r++) {
            const struct cascade_row *row = &l->rows[r];
            jw_obj_begin(&w);
            jw_key(&w, "side");
            jw_str(&w, cascade_dir_name(row->side));
            jw_key(&w, "shock");
            jw_double(&w, row->shock);
            jw_key(&w, "rounds");
            jw_u64(&w, row->rounds);
            jw_key(&w, "liquidated");
            jw_u64(&w, row->liquidated);
            jw_key(&w, "liquidated_qty");
            jw_dec(&w, row->liquidated_qty);
            jw_key(&w, "final_price");
            jw_double(&w, row->final_price);
            jw_key(&w, "move_pct");
            jw_double(&w, row->move_pct);
            jw_key(&w, "exhausted");
            jw_bool(&w, row->exhausted);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (!jw_failed(&w))
        printf("%s\n", w.buf);
    jw_fini(&w);
}

/* The market as the daemon sees it, for tests and post-mortems. */
static void write_state(struct daemon *d, const char *path)
{
    struct jsonw w;
    FILE *f;

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "instruments");
    jw_obj_begin(&w);
    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        jw_key(&w, in->key);
        jw_obj_begin(&w);
        jw_key(&w, "mark");
        jw_double(&w, in->mark);
        jw_key(&w, "book_valid");
        jw_bool(&w, in->book_valid);
        jw_key(&w, "invalid_reason");
        jw_str(&w, in->invalid_reason);
        jw_key(&w, "seq");
        jw_u64(&w, in->book_seq);
        jw_key(&w, "resyncs");
        jw_u64(&w, in->book_resyncs);
        for (int side = 0; side < 2; side++) {
            size_t n = book_level_count(in->book, (enum book_side)side);
            struct book_level *lv = malloc((n ? n : 1) * sizeof(*lv));
            jw_key(&w, side == BOOK_BID ? "bids" : "asks");
            jw_arr_begin(&w);
            if (lv) {
                n = book_copy_levels(in->book, (enum book_side)side, lv, n);
                for (size_t k = 0; k < n; k++) {
                    jw_arr_begin(&w);
                    jw_double(&w, lv[k].price);
                    jw_dec(&w, lv[k].qty);
                    jw_arr_end(&w);
                }
            }
            free(lv);
            jw_arr_end(&w);
        }
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    {
        const struct engine_stats *es = engine_get_stats(d->eng);
        const struct lathist *lh = engine_latency(d->eng);
        jw_key(&w, "engine");
        jw_obj_begin(&w);
        jw_key(&w, "events");
        jw_u64(&w, es->events);
        jw_key(&w, "ladders");
        jw_u64(&w, es->ladders);
        jw_key(&w, "first_ts");
        jw_u64(&w, (unsigned long long)es->first_ts);
        jw_key(&w, "last_ts");
        jw_u64(&w, (unsigned long long)es->last_ts);
        jw_key(&w, "latency_samples");
        jw_u64(&w, lh->count);
        jw_key(&w, "latency_p50_ns");
        jw_u64(&w, lathist_quantile(lh, 0.50));
        jw_key(&w, "latency_p99_ns");
        jw_u64(&w, lathist_quantile(lh, 0.99));
        jw_key(&w, "latency_max_ns");
        jw_u64(&w, lh->max);
        jw_obj_end(&w);
    }
    jw_key(&w, "venues");
    jw_obj_begin(&w);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_stats *vs;
        if (d->venues[v] == NULL)
            continue;
        vs = venue_get_stats(d->venues[v]);
        jw_key(&w, venue_name((enum venue_id)v));
        jw_obj_begin(&w);
        jw_key(&w, "frames");
        jw_u64(&w, vs->frames);
        jw_key(&w, "rejected");
        jw_u64(&w, vs->rejected);
        venue_stats_json(vs, &w, 0);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    if (d->feed) {
        struct feed_conn_stats cs[32];
        size_t n = feed_get_stats(d->feed, cs, 32);
        jw_key(&w, "connections");
        jw_arr_begin(&w);
        for (size_t i = 0; i < n; i++) {
            jw_obj_begin(&w);
            jw_key(&w, "venue");
            jw_str(&w, cs[i].venue);
            jw_key(&w, "name");
            jw_str(&w, cs[i].name);
            jw_key(&w, "connected");
            jw_bool(&w, cs[i].connected);
            jw_key(&w, "frames");
            jw_u64(&w, cs[i].frames);
            jw_key(&w, "connects");
            jw_u64(&w, cs[i].connects);
            jw_key(&w, "disconnects");
            jw_u64(&w, cs[i].disconnects);
            jw_key(&w, "stale");
            jw_u64(&w, cs[i].stale);
            jw_key(&w, "oversized");
            jw_u64(&w, cs[i].oversized);
            jw_key(&w, "replacements");
            jw_u64(&w, cs[i].replacements);
            jw_key(&w, "failures");
            jw_u64(&w, cs[i].failures);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    if (jw_failed(&w) || (f = fopen(path, "w")) == NULL) {
        log_msg(LL_ERROR, "liqmond", "%s: cannot write the state", path);
    } else {
        fprintf(f, "%s\n", w.buf);
        if (fclose(f) != 0)
            log_msg(LL_ERROR, "liqmond", "%s: write error", path);
    }
    jw_fini(&w);
}

/* ---- replay mode ------------------------------------------------------ */

static int run_replay(struct daemon *d, const struct opts *o)
{
    struct venue_io io;
    struct replay_opts ro;
    struct replay_stats st;
    lq_err_t err;

    struct venue_config vcs[VENUE_COUNT];

    memset(&io, 0, sizeof(io));
    io.emit = on_event;
    io.arg = d;
    /* With a config, its venue settings (book_depth, liq_route ...). */
    for (int v = 0; v < VENUE_COUNT; v++)
        vcs[v] = d->cfg.venues[v].vc;
    if (replay_create_venues_cfg(d->mkt, &io, o->config ? vcs : NULL, d->venues,
                                 &err) != 0) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        return EX_SOFTWARE;
    }
    pipeline_set_venues(d->pipe, d->venues);
    memset(&ro, 0, sizeof(ro));
    ro.speed = o->speed;
    ro.progress = 1;
    if (replay_run(o->replay, o->nreplay, d->venues, &ro, &st, &err) != 0) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        return EX_NOINPUT;
    }
    if (o->state_out)
        write_state(d, o->state_out);
    if (o->json)
        summary_json(d, &st);
    else
        summary_text(d, &st);
    return 0;
}

/* ---- live mode -------------------------------------------------------- */

static void stop_daemon(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    /* The state is written while the feed still has its counters. */
    if (d->o->state_out)
        write_state(d, d->o->state_out);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->sigusr1, NULL);
    uv_close((uv_handle_t *)&d->status, NULL);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->run_for, NULL);
    feed_stop(d->feed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    log_msg(LL_INFO, "liqmond", "signal %d: shutting down", signum);
    stop_daemon(h->data);
}

/* SIGHUP: reopen the alert log for logrotate.  SIGUSR1: a status line now.
 * Neither may kill the daemon (their default action would). */
static void on_hup(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    log_msg(LL_INFO, "liqmond", "signal %d: reopening the alert log", signum);
    pipeline_reopen(d->pipe);
}

/* The event clock's wall tick: a silent feed still ages (alert-rules.md). */
static void on_tick(uv_timer_t *t)
{
    struct daemon *d = t->data;

    pipeline_tick(d->pipe, now_ns());
}

static void on_run_for(uv_timer_t *t)
{
    log_msg(LL_INFO, "liqmond", "--run-for elapsed: shutting down");
    stop_daemon(t->data);
}

/* One side's headline: the row whose cascade amplifies the shock most. */
static void side_headline(const struct engine_ladder *l, enum cascade_dir dir,
                          char *buf, size_t size)
{
    const struct cascade_row *best = NULL;

    for (size_t r = 0; r < l->nrows; r++) {
        const struct cascade_row *row = &l->rows[r];
        if (row->side != dir || !row->has_amplification || row->liquidated == 0)
            continue;
        if (best == NULL || row->amplification > best->amplification)
            best = row;
    }
    if (best == NULL) {
        snprintf(buf, size, "%s: no liquidations", cascade_dir_name(dir));
        return;
    }
    snprintf(buf, size, "%s: %.3g%% shock -> %.3g%% move (x%.2f), %llu liquidated%s",
             cascade_dir_name(dir), best->shock * 100, best->move_pct,
             best->amplification, (unsigned long long)best->liquidated,
             best->exhausted ? ", book exhausted" : "");
}

static void on_status(uv_timer_t *t)
{
    struct daemon *d = t->data;

    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        const struct engine_ladder *l = engine_ladder(d->eng, in);
        char down[128], up[128];
        if (!l->valid) {
            log_msg(LL_INFO, "status", "%s mark %.10g: no ladder (%s)", in->key,
                    in->mark, in->book_valid ? (l->why_invalid ? l->why_invalid : "-")
                                             : in->invalid_reason);
            continue;
        }
        side_headline(l, CASCADE_DOWN, down, sizeof(down));
        side_headline(l, CASCADE_UP, up, sizeof(up));
        log_msg(LL_INFO, "status", "%s mark %.10g; %s; %s", in->key, in->mark,
                down, up);
    }
}

static int run_live(struct daemon *d, const struct opts *o)
{
    struct feed_config fc;
    lq_err_t err;
    int rc = EX_SOFTWARE;

    if (uv_loop_init(&d->loop) != 0) {
        fprintf(stderr, "liqmond: cannot create the event loop\n");
        return EX_SOFTWARE;
    }
    if (o->record || d->cfg.record_dir[0]) {
        d->rec = capture_writer_start(o->record ? o->record : d->cfg.record_dir,
                                      0, &err);
        if (d->rec == NULL) {
            fprintf(stderr, "liqmond: --record: %s\n", err.msg);
            goto out;
        }
    }
    engine_measure_latency(d->eng, 1);
    feed_config_default(&fc);
    fc.ca_file = d->cfg.ca_file[0] ? d->cfg.ca_file : NULL;
    fc.max_message = d->cfg.max_message;
    fc.stale_ms = d->cfg.stale_ms;
    fc.backoff_min_ms = d->cfg.backoff_min_ms;
    fc.backoff_max_ms = d->cfg.backoff_max_ms;
    fc.max_age_s = d->cfg.max_age_s;
    fc.recorder = d->rec;
    d->feed = feed_create(&d->loop, &fc, &err);
    if (d->feed == NULL) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        goto out;
    }
    for (int v = 0; v < VENUE_COUNT; v++) {
        struct venue_io io;
        int has = 0;
        for (size_t i = 0; i < market_count(d->mkt); i++)
            has |= market_at(d->mkt, i)->venue == (enum venue_id)v;
        if (!has)
            continue;
        io = feed_venue_io(d->feed, (enum venue_id)v, on_event, d);
        if (d->cfg.venues[v].vc.rest_url[0] &&
            feed_set_rest_url(d->feed, (enum venue_id)v, d->cfg.venues[v].vc.rest_url,
                              &err) != 0) {
            fprintf(stderr, "liqmond: [venue %s] rest_url: %s\n",
                    venue_name((enum venue_id)v), err.msg);
            goto stop;
        }
        d->venues[v] = venue_create(&d->cfg.venues[v].vc, d->mkt, &io, &err);
        if (d->venues[v] == NULL || feed_attach(d->feed, d->venues[v], &err) != 0) {
            fprintf(stderr, "liqmond: %s: %s\n", venue_name((enum venue_id)v), err.msg);
            goto stop;
        }
    }
    pipeline_set_venues(d->pipe, d->venues);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    d->sigint.data = d->sigterm.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_init(&d->loop, &d->sighup);
    uv_signal_init(&d->loop, &d->sigusr1);
    d->sighup.data = d->sigusr1.data = d;
    uv_signal_start(&d->sighup, on_hup, SIGHUP);
    uv_signal_start(&d->sigusr1, on_hup, SIGUSR1);
    uv_timer_init(&d->loop, &d->tick);
    d->tick.data = d;
    uv_timer_start(&d->tick, on_tick, 1000, 1000);
    uv_timer_init(&d->loop, &d->status);
    d->status.data = d;
    if (d->cfg.status_interval_s > 0)
        uv_timer_start(&d->status, on_status, (uint64_t)d->cfg.status_interval_s * 1000,
                       (uint64_t)d->cfg.status_interval_s * 1000);
    uv_timer_init(&d->loop, &d->run_for);
    d->run_for.data = d;
    if (o->run_for > 0)
        uv_timer_start(&d->run_for, on_run_for, (uint64_t)(o->run_for * 1000), 0);
    log_msg(LL_INFO, "liqmond", "%s started: %zu instruments", LIQMON_VERSION,
            market_count(d->mkt));
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = 0;
    goto done;
stop:
    feed_stop(d->feed);
    uv_run(&d->loop, UV_RUN_DEFAULT);
done:
    feed_destroy(d->feed);
    d->feed = NULL;
    uv_run(&d->loop, UV_RUN_DEFAULT);
out:
    if (uv_loop_close(&d->loop) != 0)
        log_msg(LL_WARN, "liqmond", "event loop closed with handles open");
    (void)now_ns;
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct daemon d;
    lq_err_t err;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("liqmond %s\n", LIQMON_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    if (parse_args(argc, argv, &o) != 0) {
        free(o.replay);
        return EX_USAGE;
    }
    if (o.verbose)
        log_set_level(LL_DEBUG);
    memset(&d, 0, sizeof(d));
    d.o = &o;
    config_default(&d.cfg);
    if (o.config && config_load(o.config, &d.cfg, &err) != 0) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        rc = EX_CONFIG;
        goto out;
    }
    if (o.check_config) {
        if (o.config == NULL) {
            fprintf(stderr, "liqmond: --check-config needs --config FILE\n");
            rc = EX_USAGE;
            goto out;
        }
        printf("%s: ok\n", o.config);
        rc = 0;
        goto out;
    }
    if (o.nreplay == 0 && o.config == NULL) {
        fprintf(stderr, "liqmond: no --config FILE (see liqmond --help)\n");
        rc = EX_USAGE;
        goto out;
    }
    if (build_market(&d, &o, &err) != 0 || build_engine(&d, &o, &err) != 0) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        rc = EX_CONFIG;
        goto out;
    }
    if (build_pipeline(&d, &o, argc, argv, &err) != 0) {
        fprintf(stderr, "liqmond: %s\n", err.msg);
        rc = EX_CANTCREAT;
        goto out;
    }
    rc = o.nreplay ? run_replay(&d, &o) : run_live(&d, &o);
out:
    teardown(&d);
    free(o.replay);
    return rc;
}
