/*
 * replay.c - capture files through the adapters (see replay.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/capture.h"
#include "liqmon/instrument.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"

#define REPLAY_TS_MAX ((int64_t)4000000000 * 1000000000)

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void log_bad(const char *msg, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "replay", "%s", msg);
}

static void show_progress(const char *file, uint64_t pos, uint64_t size,
                          uint64_t frames, double elapsed, int final)
{
    double pct = size ? 100.0 * (double)pos / (double)size : 0;
    double rate = elapsed > 0 ? (double)frames / elapsed : 0;
    double left = pct > 0 ? elapsed * (100 - pct) / pct : 0;

    fprintf(stderr, "\r%s: %5.1f%%  %9.0f frames/s  %6.0f s left   %s", file,
            pct, rate, left, final ? "\n" : "");
    fflush(stderr);
}

int replay_run(char *const *files, size_t nfiles,
               venue_t *const venues[VENUE_COUNT],
               const struct replay_opts *opts, struct replay_stats *st,
               lq_err_t *err)
{
    struct replay_opts o = { 0, 0, NULL, NULL, NULL };
    int tty = 0, rc = 0;
    double t0 = mono_s(), last_shown = t0;
    int64_t next_tick = 0, pace_base_ts = 0;
    double pace_base_wall = 0;

    if (opts)
        o = *opts;
    if (o.on_bad == NULL)
        o.on_bad = log_bad;
    tty = o.progress && isatty(2);
    memset(st, 0, sizeof(*st));
    for (size_t fi = 0; fi < nfiles && rc == 0; fi++) {
        capture_reader_t *r = capture_open(files[fi], err);
        struct capture_frame f;
        int got;

        if (r == NULL)
            return -1;
        while ((got = capture_next(r, &f, o.on_bad, o.arg, err)) == 1) {
            venue_t *v = venues[f.venue];

            /* The format allows any int64; the adapters' clock arithmetic
             * (timeouts, ticks) wants headroom: clamp to 1970..~2096. */
            if (f.ts < 0)
                f.ts = 0;
            else if (f.ts > REPLAY_TS_MAX)
                f.ts = REPLAY_TS_MAX;

            if (st->frames == 0) {
                st->first_ts = f.ts;
                pace_base_ts = f.ts;
                pace_base_wall = mono_s();
            }
            st->frames++;
            st->bytes += f.len;
            st->venue_frames[f.venue]++;
            st->last_ts = f.ts;
            if (o.speed > 0) {
                /* Pace on the capture clock, scaled. */
                double due = pace_base_wall +
                             (double)(f.ts - pace_base_ts) / 1e9 / o.speed;
                double wait = due - mono_s();
                if (wait > 0) {
                    struct timespec ts = { (time_t)wait,
                                           (long)((wait - (double)(time_t)wait) * 1e9) };
                    nanosleep(&ts, NULL);
                }
            }
            /* Ticks first: time-driven logic sees the clock advance before
             * the frame that advanced it, as it would live. */
            if (f.ts >= next_tick) {
                for (int i = 0; i < VENUE_COUNT; i++)
                    if (venues[i])
                        venue_tick(venues[i], f.ts);
                next_tick = f.ts + 1000000000;
            }
            if (v == NULL) {
                st->no_adapter++;
                continue;
            }
            venue_on_frame(v, f.conn ? venue_conn_index(v, f.conn) : -1, f.src,
                           f.url, f.data, f.len, f.ts);
            if (o.after_frame)
                o.after_frame(o.arg, f.venue, f.ts);
            if (tty && (st->frames & 0x3ff) == 0 && mono_s() - last_shown > 0.5) {
                last_shown = mono_s();
                show_progress(files[fi], capture_pos(r), capture_size(r),
                              st->frames, last_shown - t0, 0);
            }
        }
        if (got < 0)
            rc = -1;
        st->bad_lines += capture_bad_lines(r);
        if (tty)
            show_progress(files[fi], capture_size(r), capture_size(r), st->frames,
                          mono_s() - t0, 1);
        capture_close(r);
    }
    st->wall_s = mono_s() - t0;
    return rc;
}

int replay_create_venues(market_t *m, const struct venue_io *io,
                         venue_t *out[VENUE_COUNT], lq_err_t *err)
{
    return replay_create_venues_cfg(m, io, NULL, out, err);
}

int replay_create_venues_cfg(market_t *m, const struct venue_io *io,
                             const struct venue_config *cfgs,
                             venue_t *out[VENUE_COUNT], lq_err_t *err)
{
    for (int i = 0; i < VENUE_COUNT; i++)
        out[i] = NULL;
    for (size_t i = 0; i < market_count(m); i++) {
        enum venue_id id = market_at(m, i)->venue;
        struct venue_config cfg;
        if (out[id])
            continue;
        if (cfgs != NULL)
            cfg = cfgs[id];
        else
            venue_config_default(id, &cfg);
        out[id] = venue_create(&cfg, m, io, err);
        if (out[id] == NULL) {
            lq_err_prefix(err, "%s", venue_name(id));
            replay_destroy_venues(out);
            return -1;
        }
    }
    return 0;
}

void replay_destroy_venues(venue_t *v[VENUE_COUNT])
{
    for (int i = 0; i < VENUE_COUNT; i++) {
        venue_destroy(v[i]);
        v[i] = NULL;
    }
}

int replay_discover(char *const *files, size_t nfiles, market_t *m,
                    const char *instruments_dir,
                    void (*note)(const char *msg, void *arg), void *arg,
                    lq_err_t *err)
{
    int added = 0;

    for (size_t fi = 0; fi < nfiles; fi++) {
        capture_reader_t *r = capture_open(files[fi], err);
        struct capture_frame f;
        int got;

        if (r == NULL)
            return -1;
        while ((got = capture_next(r, &f, NULL, NULL, err)) == 1) {
            char sym[INSTRUMENT_SYMBOL_MAX];
            struct instrument ins;
            int rc;

            if (!venue_frame_symbol(f.venue, f.src, f.url, f.data, f.len, sym,
                                    sizeof(sym)) ||
                market_find(m, f.venue, sym) != NULL)
                continue;
            rc = instruments_dir ? instrument_load_dir(instruments_dir,
                                                       venue_name(f.venue), sym,
                                                       &ins, err)
                                 : 1;
            if (rc < 0) {
                capture_close(r);
                return -2;
            }
            if (rc == 1) {
                char msg[160];
                memset(&ins, 0, sizeof(ins));
                snprintf(ins.venue, sizeof(ins.venue), "%s", venue_name(f.venue));
                snprintf(ins.symbol, sizeof(ins.symbol), "%s", sym);
                ins.contract_value = DEC_SCALE;
                snprintf(msg, sizeof(msg), "%s:%s: no instrument file%s", ins.venue,
                         sym, f.venue == VENUE_OKX ? ": sizes stay in contracts"
                                                   : "");
                if (note)
                    note(msg, arg);
            }
            if (market_add(m, f.venue, &ins, err) == NULL) {
                instrument_fini(&ins);
                capture_close(r);
                return -2;
            }
            instrument_fini(&ins);
            added++;
        }
        capture_close(r);
        if (got < 0)
            return -1;
    }
    return added;
}
