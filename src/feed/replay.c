/*
 * replay.c - capture files through the adapters (see replay.h).
 *
 * One loop for both entry points: replay_play (one pass, instruments and
 * adapters appear as the frames name them) and replay_run (adapters made
 * by the caller).  In replay_play every venue that has frames gets an
 * adapter at its first frame, so that the adapter itself can name the
 * instruments (venue__find: no second parse); it is "published" in the
 * caller's venues[] only once its venue has an instrument.  A venue that
 * never gets one stays unpublished and its frames count as no_adapter, as
 * when adapters were made after a first pass: the counts are the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/capture.h"
#include "liqmon/instrument.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"

#define REPLAY_TS_MAX ((int64_t)4000000000 * 1000000000)
#define NOFILE_SHOWN 10          /* "no instrument file" notes per venue */
#define STDIN_PATH "/dev/stdin"

/* ---- notes ------------------------------------------------------------- */

static void log_note(const char *msg, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "replay", "%s", msg);
}

/* "no instrument file" notes: the first few per venue, then a count. */
struct noter {
    void (*note)(const char *msg, void *arg);
    void *arg;
    uint64_t nofile[VENUE_COUNT];
};

static void note_nofile(struct noter *n, enum venue_id id, const char *symbol)
{
    char msg[200];

    if (n->nofile[id]++ >= NOFILE_SHOWN)
        return;
    snprintf(msg, sizeof(msg), "%s:%s: no instrument file%s", venue_name(id), symbol,
             id == VENUE_OKX ? ": sizes stay in contracts" : "");
    n->note(msg, n->arg);
}

static void note_nofile_rest(struct noter *n)
{
    char msg[200];

    for (int id = 0; id < VENUE_COUNT; id++) {
        if (n->nofile[id] <= NOFILE_SHOWN)
            continue;
        snprintf(msg, sizeof(msg), "%s: %llu more instruments without an instrument "
                 "file%s", venue_name((enum venue_id)id),
                 (unsigned long long)(n->nofile[id] - NOFILE_SHOWN),
                 id == VENUE_OKX ? " (their sizes stay in contracts)" : "");
        n->note(msg, n->arg);
        n->nofile[id] = NOFILE_SHOWN;
    }
}

/* The instrument (venue id, symbol) into m: its file from dir when there
 * is one, else a bare spec (said).  NULL with *code -2 (a bad file) or -3
 * (market_add: out of memory), err set. */
static struct mkt_instr *load_instrument(market_t *m, const char *dir, enum venue_id id,
                                         const char *symbol, struct noter *n,
                                         int *code, lq_err_t *err)
{
    struct instrument ins;
    struct mkt_instr *in;
    int rc = dir ? instrument_load_dir(dir, venue_name(id), symbol, &ins, err) : 1;

    if (rc < 0) {
        *code = -2;
        return NULL;
    }
    if (rc == 1) {
        memset(&ins, 0, sizeof(ins));
        snprintf(ins.venue, sizeof(ins.venue), "%s", venue_name(id));
        snprintf(ins.symbol, sizeof(ins.symbol), "%s", symbol);
        ins.contract_value = DEC_SCALE;
        note_nofile(n, id, symbol);
    }
    in = market_add(m, id, &ins, err);
    instrument_fini(&ins);
    if (in == NULL)
        *code = -3;
    return in;
}

/* ---- the session ----------------------------------------------------------- */

struct replay {
    market_t *mkt;
    struct venue_io io;
    struct venue_config cfg[VENUE_COUNT];
    int discover;
    char *dir;
    struct noter noter;
    int (*added)(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err);
    void *arg;
    venue_t **out;                  /* the caller's array: published ones */
    venue_t *all[VENUE_COUNT];      /* every adapter */
    uint64_t hidden_fed[VENUE_COUNT];  /* frames fed while unpublished */
    uint64_t nadded;
    int failed;                     /* replay_play's code, from a callback */
    lq_err_t ferr;
};

static struct mkt_instr *on_discover(void *arg, venue_t *v, const char *sym, size_t len);

static int has_venue(market_t *m, enum venue_id id)
{
    for (size_t i = 0; i < market_count(m); i++)
        if (market_at(m, i)->venue == id && !market_at(m, i)->retired)
            return 1;
    return 0;
}

static venue_t *make_adapter(replay_t *r, enum venue_id id, lq_err_t *err)
{
    struct venue_replay vr = { r->discover ? on_discover : NULL, r };
    venue_t *v = venue_create(&r->cfg[id], r->mkt, &r->io, err);

    if (v == NULL) {
        lq_err_prefix(err, "%s", venue_name(id));
        return NULL;
    }
    venue_set_replay(v, &vr);
    r->all[id] = v;
    return v;
}

/* Add (id, symbol) to the market and to its adapter, publish the adapter,
 * tell the caller.  NULL with r->failed / err set. */
static struct mkt_instr *add_symbol(replay_t *r, enum venue_id id, const char *symbol,
                                    lq_err_t *err)
{
    struct mkt_instr *in;
    int code = 0, new_venue = 0;

    in = load_instrument(r->mkt, r->dir, id, symbol, &r->noter, &code, err);
    if (in == NULL) {
        r->failed = code;
        return NULL;
    }
    r->nadded++;
    if (r->all[id] == NULL) {
        if (make_adapter(r, id, err) == NULL) {      /* takes in at its init */
            r->failed = -3;
            return NULL;
        }
    } else if (venue_add_instrument(r->all[id], in, err) != 0) {
        r->failed = -3;
        return NULL;
    }
    if (r->out[id] == NULL) {
        r->out[id] = r->all[id];
        new_venue = 1;
    }
    if (r->added && r->added(r->arg, in, new_venue, err) != 0) {
        r->failed = -3;
        return NULL;
    }
    return in;
}

/* venue__find's discover hook: the adapter met a symbol it does not have. */
static struct mkt_instr *on_discover(void *arg, venue_t *v, const char *sym, size_t len)
{
    replay_t *r = arg;
    char name[INSTRUMENT_SYMBOL_MAX];

    if (r->failed || len >= sizeof(name))
        return NULL;
    memcpy(name, sym, len);
    name[len] = '\0';
    return add_symbol(r, venue_id_of(v), name, &r->ferr);
}

replay_t *replay_create(market_t *m, const struct replay_setup *s,
                        venue_t *venues[VENUE_COUNT], lq_err_t *err)
{
    replay_t *r = calloc(1, sizeof(*r));

    for (int i = 0; i < VENUE_COUNT; i++)
        venues[i] = NULL;
    if (r == NULL || (s->instruments_dir && (r->dir = strdup(s->instruments_dir)) == NULL)) {
        free(r);
        lq_err_set(err, "out of memory");
        return NULL;
    }
    r->mkt = m;
    if (s->io)
        r->io = *s->io;
    for (int i = 0; i < VENUE_COUNT; i++) {
        if (s->cfgs) {
            r->cfg[i] = s->cfgs[i];
        } else {
            venue_config_default((enum venue_id)i, &r->cfg[i]);
            if (i == VENUE_BYBIT)
                r->cfg[i].book_depth = VENUE_DEPTH_DEEPEST;
        }
    }
    r->discover = s->discover;
    r->noter.note = s->note ? s->note : log_note;
    r->noter.arg = s->arg;
    r->added = s->added;
    r->arg = s->arg;
    r->out = venues;
    for (int i = 0; i < VENUE_COUNT; i++) {
        if (!has_venue(m, (enum venue_id)i))
            continue;
        if (make_adapter(r, (enum venue_id)i, err) == NULL) {
            replay_destroy(r);
            return NULL;
        }
        venues[i] = r->all[i];
    }
    return r;
}

int replay_add(replay_t *r, enum venue_id v, const char *symbol, lq_err_t *err)
{
    if ((unsigned)v >= VENUE_COUNT || !venue_symbol_ok(symbol, strlen(symbol)))
        return lq_err_set(err, "%s:%s: not a symbol an instrument can have",
                          venue_name(v), symbol);
    if (market_find(r->mkt, v, symbol) != NULL)
        return 0;
    if (add_symbol(r, v, symbol, err) == NULL) {
        int code = r->failed;
        r->failed = 0;
        return code;
    }
    return 1;
}

void replay_destroy(replay_t *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < VENUE_COUNT; i++) {
        if (r->out[i] == r->all[i])
            r->out[i] = NULL;
        venue_destroy(r->all[i]);
    }
    free(r->dir);
    free(r);
}

/* ---- the loop ------------------------------------------------------------ */

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

/* "/dev/stdin..." -> "stdin..." in place (messages of a '-' capture). */
static void name_stdin(char *msg)
{
    size_t n = sizeof(STDIN_PATH) - 1;

    if (strncmp(msg, STDIN_PATH, n) == 0)
        memmove(msg, msg + 5, strlen(msg + 5) + 1);   /* drop "/dev/" */
}

struct bad_ctx {
    void (*on_bad)(const char *msg, void *arg);
    void *arg;
};

static void bad_stdin(const char *msg, void *arg)
{
    struct bad_ctx *b = arg;
    char buf[sizeof(((lq_err_t *)0)->msg) + 64];

    snprintf(buf, sizeof(buf), "%s", msg);
    name_stdin(buf);
    b->on_bad(buf, b->arg);
}

/* The loop.  all: the adapters by venue (r's, or the caller's); r: the
 * session (NULL: replay_run). */
static int run(replay_t *r, venue_t *const *all, char *const *files, size_t nfiles,
               const struct replay_opts *opts, struct replay_stats *st, lq_err_t *err)
{
    struct replay_opts o;
    int tty = 0, rc = 0;
    double t0 = mono_s(), last_shown = t0;
    int64_t next_tick = 0, pace_base_ts = 0;
    double pace_base_wall = 0;

    memset(&o, 0, sizeof(o));
    if (opts)
        o = *opts;
    if (o.on_bad == NULL)
        o.on_bad = log_bad;
    tty = o.progress && isatty(2);
    memset(st, 0, sizeof(*st));
    for (size_t fi = 0; fi < nfiles && rc == 0; fi++) {
        int is_stdin = strcmp(files[fi], "-") == 0;
        const char *path = is_stdin ? STDIN_PATH : files[fi];
        const char *shown = is_stdin ? "stdin" : files[fi];
        struct bad_ctx bc = { o.on_bad, o.arg };
        capture_reader_t *cr = capture_open(path, err);
        struct capture_frame f;
        int got;

        if (cr == NULL) {
            if (is_stdin)
                name_stdin(err->msg);
            return -1;
        }
        while ((got = capture_next(cr, &f, is_stdin ? bad_stdin : o.on_bad,
                                   is_stdin ? (void *)&bc : o.arg, err)) == 1) {
            venue_t *v;

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
                    if (all[i])
                        venue_tick(all[i], f.ts);
                next_tick = f.ts + 1000000000;
            }
            v = all[f.venue];
            if (v == NULL && r != NULL && r->discover &&
                make_adapter(r, f.venue, err) == NULL) {
                rc = -3;
                break;
            }
            v = all[f.venue];
            if (v == NULL) {
                st->no_adapter++;
                continue;
            }
            if (r != NULL && r->out[f.venue] != v)
                r->hidden_fed[f.venue]++;
            venue_on_frame(v, f.conn ? venue_conn_index(v, f.conn) : -1, f.src,
                           f.url, f.data, f.len, f.ts);
            if (r != NULL && r->failed) {
                *err = r->ferr;
                rc = r->failed;
                r->failed = 0;
                break;
            }
            if (o.after_frame)
                o.after_frame(o.arg, f.venue, f.ts);
            if (tty && (st->frames & 0x3ff) == 0 && mono_s() - last_shown > 0.5) {
                last_shown = mono_s();
                show_progress(shown, capture_pos(cr), capture_size(cr),
                              st->frames, last_shown - t0, 0);
            }
        }
        if (got < 0 && rc == 0) {
            rc = -1;
            if (is_stdin)
                name_stdin(err->msg);
        }
        st->bad_lines += capture_bad_lines(cr);
        if (tty)
            show_progress(shown, capture_size(cr), capture_size(cr), st->frames,
                          mono_s() - t0, 1);
        capture_close(cr);
    }
    st->wall_s = mono_s() - t0;
    return rc;
}

int replay_play(replay_t *r, char *const *files, size_t nfiles,
                const struct replay_opts *opts, struct replay_stats *st,
                lq_err_t *err)
{
    int rc;

    r->nadded = 0;
    memset(r->hidden_fed, 0, sizeof(r->hidden_fed));
    rc = run(r, r->all, files, nfiles, opts, st, err);
    st->instruments_added = r->nadded;
    /* Frames of venues that never had an instrument: as if no adapter. */
    for (int i = 0; i < VENUE_COUNT; i++)
        if (r->all[i] != NULL && r->out[i] != r->all[i])
            st->no_adapter += r->hidden_fed[i];
    note_nofile_rest(&r->noter);
    for (int i = 0; i < VENUE_COUNT; i++)
        if (r->out[i] != NULL)
            venue_notes(r->out[i], r->noter.note, r->noter.arg);
    return rc;
}

int replay_run(char *const *files, size_t nfiles,
               venue_t *const venues[VENUE_COUNT],
               const struct replay_opts *opts, struct replay_stats *st,
               lq_err_t *err)
{
    int rc = run(NULL, venues, files, nfiles, opts, st, err);
    void (*note)(const char *, void *) = opts && opts->on_note ? opts->on_note : log_note;

    for (int i = 0; i < VENUE_COUNT; i++)
        if (venues[i] != NULL)
            venue_notes(venues[i], note, opts ? opts->arg : NULL);
    return rc;
}

/* ---- adapters built first ---------------------------------------------------- */

int replay_create_venues(market_t *m, const struct venue_io *io,
                         venue_t *out[VENUE_COUNT], lq_err_t *err)
{
    return replay_create_venues_cfg(m, io, NULL, out, err);
}

int replay_create_venues_cfg(market_t *m, const struct venue_io *io,
                             const struct venue_config *cfgs,
                             venue_t *out[VENUE_COUNT], lq_err_t *err)
{
    static const struct venue_replay fixed = { NULL, NULL };

    for (int i = 0; i < VENUE_COUNT; i++)
        out[i] = NULL;
    for (size_t i = 0; i < market_count(m); i++) {
        enum venue_id id = market_at(m, i)->venue;
        struct venue_config cfg;
        if (out[id])
            continue;
        if (cfgs != NULL) {
            cfg = cfgs[id];
        } else {
            venue_config_default(id, &cfg);
            if (id == VENUE_BYBIT)
                cfg.book_depth = VENUE_DEPTH_DEEPEST;
        }
        out[id] = venue_create(&cfg, m, io, err);
        if (out[id] == NULL) {
            lq_err_prefix(err, "%s", venue_name(id));
            replay_destroy_venues(out);
            return -1;
        }
        venue_set_replay(out[id], &fixed);
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

/* ---- the first pass ---------------------------------------------------------- */

struct disc {
    market_t *m;
    const char *dir;
    enum venue_id id;
    struct noter *noter;
    int added, code;
    lq_err_t *err;
};

static void disc_symbol(const char *sym, size_t len, void *arg)
{
    struct disc *d = arg;
    char name[INSTRUMENT_SYMBOL_MAX];

    if (d->code != 0 || !venue_symbol_ok(sym, len))
        return;
    memcpy(name, sym, len);
    name[len] = '\0';
    if (market_find(d->m, d->id, name) != NULL)
        return;
    if (load_instrument(d->m, d->dir, d->id, name, d->noter, &d->code, d->err) != NULL)
        d->added++;
}

int replay_discover(char *const *files, size_t nfiles, market_t *m,
                    const char *instruments_dir,
                    void (*note)(const char *msg, void *arg), void *arg,
                    lq_err_t *err)
{
    struct noter noter = { note ? note : log_note, arg, { 0 } };
    struct disc d = { m, instruments_dir, VENUE_BINANCE, &noter, 0, 0, err };

    for (size_t fi = 0; fi < nfiles; fi++) {
        int is_stdin = strcmp(files[fi], "-") == 0;
        capture_reader_t *r = capture_open(is_stdin ? STDIN_PATH : files[fi], err);
        struct capture_frame f;
        int got;

        if (r == NULL)
            return -1;
        while ((got = capture_next(r, &f, NULL, NULL, err)) == 1) {
            d.id = f.venue;
            venue_frame_symbols(f.venue, f.src, f.url, f.data, f.len, disc_symbol, &d);
            if (d.code != 0) {
                capture_close(r);
                return -2;
            }
        }
        capture_close(r);
        if (got < 0)
            return -1;
    }
    note_nofile_rest(&noter);
    return d.added;
}
