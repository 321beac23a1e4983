/*
 * check_replay.c - replays of captures liqmon did not record itself
 * (src/feed/replay.c, replay_create / replay_play):
 *
 *  - one pass gives what the two-pass flow (replay_discover, then adapters,
 *    then replay_run) gave, frame for frame, and the same every time;
 *  - real frames from other projects' fixtures (tests/fixtures/captures/
 *    README.md names each source): a Bybit orderbook.50 capture yields a
 *    valid book; liquidation prints of symbols with no book or mark in
 *    the capture are prints; a Binance diff older than the REST snapshot
 *    is skipped, not rejected;
 *  - the daemon's flow for instruments found mid-replay: engine and
 *    pipeline follow them through the added hook (engine_sync,
 *    pipeline_sync, pipeline_set_venues);
 *  - Bybit depths: the deepest the capture carries, said in a note; a
 *    config's book_depth kept, other depths counted as skipped;
 *  - errors: a bad instrument file of a discovered instrument, a venue
 *    whose frames name nothing.
 * Frames written here (capture lines around the real ones, other depths)
 * are synthetic and marked so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liqmon/capture.h"
#include "liqmon/engine.h"
#include "liqmon/log.h"
#include "liqmon/pipeline.h"
#include "liqmon/replay.h"
#include "suites.h"

#define CAPS "tests/fixtures/captures/"
#define INSTR "conf/instruments"
#define MS ((int64_t)1000000)

static void quiet(enum log_level lv, const char *line, void *arg)
{
    (void)lv;
    (void)line;
    (void)arg;
}

static void setup(void)
{
    log_set_hook(quiet, NULL);
}

static char TMPDIR_[64];

static void teardown(void)
{
    log_set_hook(NULL, NULL);
    if (TMPDIR_[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", TMPDIR_);
        ck_assert_int_eq(system(cmd), 0);
        TMPDIR_[0] = '\0';
    }
}

/* ---- notes and events ---------------------------------------------------- */

#define MAXN 32
static char NOTES[MAXN][600];
static size_t NNOTES;

static void keep_note(const char *msg, void *arg)
{
    (void)arg;
    if (NNOTES < MAXN)
        snprintf(NOTES[NNOTES++], sizeof(NOTES[0]), "%s", msg);
}

static int has_note(const char *text)
{
    for (size_t i = 0; i < NNOTES; i++)
        if (strcmp(NOTES[i], text) == 0)
            return 1;
    return 0;
}

static int has_note_part(const char *part)
{
    for (size_t i = 0; i < NNOTES; i++)
        if (strstr(NOTES[i], part) != NULL)
            return 1;
    return 0;
}

/* ---- a one-pass replay ---------------------------------------------------- */

struct run {
    market_t *m;
    replay_t *r;
    venue_t *v[VENUE_COUNT];
    struct replay_stats st;
    lq_err_t err;
    int rc;
};

static void play(struct run *x, const char *file, const char *dir,
                 const struct venue_config *cfgs, int discover)
{
    struct replay_setup rs;
    struct venue_io io;
    char *files[1] = { (char *)file };

    memset(x, 0, sizeof(*x));
    memset(&io, 0, sizeof(io));
    memset(&rs, 0, sizeof(rs));
    NNOTES = 0;
    x->m = market_create();
    ck_assert_ptr_nonnull(x->m);
    rs.io = &io;
    rs.cfgs = cfgs;
    rs.discover = discover;
    rs.instruments_dir = dir;
    rs.note = keep_note;
    x->r = replay_create(x->m, &rs, x->v, &x->err);
    ck_assert_msg(x->r != NULL, "%s", x->err.msg);
    x->rc = replay_play(x->r, files, 1, NULL, &x->st, &x->err);
}

static void done(struct run *x)
{
    replay_destroy(x->r);
    for (int i = 0; i < VENUE_COUNT; i++)
        ck_assert_ptr_null(x->v[i]);              /* replay_destroy cleared them */
    market_destroy(x->m);
}

static const struct venue_stats *vst(struct run *x, enum venue_id id)
{
    ck_assert_msg(x->v[id] != NULL, "no adapter for %s", venue_name(id));
    return venue_get_stats(x->v[id]);
}

static struct mkt_instr *instr(market_t *m, enum venue_id id, const char *sym)
{
    struct mkt_instr *in = market_find(m, id, sym);
    ck_assert_msg(in != NULL, "%s:%s not in the market", venue_name(id), sym);
    return in;
}

/* ---- capture files written by the tests ----------------------------------- */

static const char *tmpfile_path(const char *name)
{
    static char path[128];
    if (TMPDIR_[0] == '\0') {
        snprintf(TMPDIR_, sizeof(TMPDIR_), "/tmp/check-replay-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(TMPDIR_));
    }
    snprintf(path, sizeof(path), "%s/%s", TMPDIR_, name);
    return path;
}

static void put(FILE *f, int64_t ts, enum venue_id v, enum frame_src src,
                const char *url, const char *frame)
{
    static char line[1 << 17];
    size_t n = capture_format_line(line, sizeof(line), ts, v, src, "public", url, frame,
                                   strlen(frame));
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(fwrite(line, 1, n, f), n);
}

/* ---- one pass = two passes ----------------------------------------------- */

START_TEST(one_pass_as_two_passes)
{
    char *files[1] = { (char *)CAPS "vsim-4venues.jsonl.gz" };
    market_t *m1 = market_create();
    venue_t *v1[VENUE_COUNT];
    struct venue_io io;
    struct replay_stats st1;
    struct run x, y;
    lq_err_t err;

    memset(&io, 0, sizeof(io));
    /* The two-pass flow liqmond has today. */
    ck_assert_int_eq(replay_discover(files, 1, m1, INSTR, keep_note, NULL, &err), 8);
    ck_assert_int_eq(replay_create_venues(m1, &io, v1, &err), 0);
    ck_assert_int_eq(replay_run(files, 1, v1, NULL, &st1, &err), 0);

    play(&x, files[0], INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    ck_assert_uint_eq(x.st.frames, 358);
    ck_assert_uint_eq(x.st.frames, st1.frames);
    ck_assert_uint_eq(x.st.no_adapter, st1.no_adapter);
    ck_assert_uint_eq(x.st.instruments_added, 8);
    ck_assert_int_eq(memcmp(x.st.venue_frames, st1.venue_frames, sizeof(st1.venue_frames)), 0);
    for (int i = 0; i < VENUE_COUNT; i++) {
        ck_assert_int_eq(x.v[i] != NULL, v1[i] != NULL);
        if (v1[i] == NULL)
            continue;
        ck_assert_msg(memcmp(venue_get_stats(x.v[i]), venue_get_stats(v1[i]),
                             sizeof(struct venue_stats)) == 0,
                      "%s: stats differ", venue_name((enum venue_id)i));
    }
    ck_assert_uint_eq(vst(&x, VENUE_BINANCE)->rejected, 4);
    ck_assert_uint_eq(market_count(x.m), market_count(m1));
    for (size_t i = 0; i < market_count(m1); i++) {
        struct mkt_instr *a = market_at(m1, i);
        struct mkt_instr *b = instr(x.m, a->venue, a->spec.symbol);
        struct book_level ba, bb;
        ck_assert(b->book_valid && a->book_valid);
        ck_assert_uint_eq(b->book_seq, a->book_seq);
        ck_assert_uint_eq(b->book_updates, a->book_updates);
        ck_assert(b->mark == a->mark);
        ck_assert(b->spec.contract_value == a->spec.contract_value);
        ck_assert_uint_eq(book_level_count(b->book, BOOK_BID), book_level_count(a->book, BOOK_BID));
        ck_assert_int_eq(book_best(a->book, BOOK_ASK, &ba), 0);
        ck_assert_int_eq(book_best(b->book, BOOK_ASK, &bb), 0);
        ck_assert(ba.price == bb.price && ba.qty == bb.qty);
    }
    /* The same capture, the same answer. */
    play(&y, files[0], INSTR, NULL, 1);
    for (int i = 0; i < VENUE_COUNT; i++)
        if (x.v[i])
            ck_assert_int_eq(memcmp(venue_get_stats(x.v[i]), venue_get_stats(y.v[i]),
                                    sizeof(struct venue_stats)), 0);
    for (size_t i = 0; i < market_count(x.m); i++) {
        ck_assert_str_eq(market_at(x.m, i)->key, market_at(y.m, i)->key);
        ck_assert_uint_eq(market_at(x.m, i)->book_seq, market_at(y.m, i)->book_seq);
    }
    done(&y);
    done(&x);
    replay_destroy_venues(v1);
    market_destroy(m1);
}
END_TEST

/* ---- real captures -------------------------------------------------------- */

START_TEST(bybit_orderbook50_valid_book)
{
    struct run x;
    struct book_level b;

    play(&x, CAPS "bybit-orderbook50.jsonl", INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    struct mkt_instr *in = instr(x.m, VENUE_BYBIT, "BTCUSDT");
    ck_assert(in->book_valid);
    ck_assert_uint_eq(in->book_seq, 18521289);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_BID), 1);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_ASK), 2);
    ck_assert_int_eq(book_best(in->book, BOOK_BID, &b), 0);
    ck_assert(b.price == 16493.00);
    ck_assert_int_eq(book_best(in->book, BOOK_ASK, &b), 0);
    ck_assert(b.price == 16611.00);
    ck_assert_uint_eq(vst(&x, VENUE_BYBIT)->rejected, 0);
    ck_assert_uint_eq(vst(&x, VENUE_BYBIT)->skipped, 0);
    ck_assert_uint_eq(NNOTES, 0);             /* one depth: nothing to say */
    done(&x);
}
END_TEST

START_TEST(binance_older_than_snapshot_skipped)
{
    struct run x;

    play(&x, CAPS "binance-testnet-older-than-snapshot.jsonl", INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    const struct venue_stats *s = vst(&x, VENUE_BINANCE);
    ck_assert_uint_eq(s->frames, 3);
    ck_assert_uint_eq(s->rejected, 0);
    ck_assert_uint_eq(s->skipped, 1);
    ck_assert_uint_eq(s->skipped_by_rule[VSKIP_OLDER_THAN_SNAPSHOT], 1);
    ck_assert_uint_eq(s->events[MEV_BOOK_SNAPSHOT], 1);
    ck_assert_uint_eq(s->events[MEV_BOOK_DELTA], 0);
    struct mkt_instr *in = instr(x.m, VENUE_BINANCE, "BTCUSDT");
    ck_assert(in->mark == 64346.7);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_BID), 5);
    ck_assert(!in->book_valid);                /* waiting for its bridging diff */
    /* The ask the old diff would have set is the snapshot's. */
    ck_assert(book_qty_at(in->book, BOOK_ASK, 64346.70) == (dec_t)52503490000);
    done(&x);
}
END_TEST

/* The daemon's flow: engine and pipeline on a market that grows. */
struct daemonish {
    market_t *m;
    engine_t *e;
    pipeline_t *p;
    venue_t *v[VENUE_COUNT];
    int added, new_venues;
    uint64_t prints;
    dec_t okx_btc_qty, okx_celo_qty;
    uint64_t events;
};

static void d_emit(void *arg, const struct mkt_event *ev)
{
    struct daemonish *d = arg;

    d->events++;
    if (ev->type == MEV_LIQUIDATION) {
        d->prints++;
        ck_assert_ptr_nonnull(engine_ladder(d->e, ev->instr));   /* synced first */
        if (strcmp(ev->instr->key, "okx-swap:BTC-USDT-SWAP") == 0)
            d->okx_btc_qty = ev->u.liq.qty;
        if (strcmp(ev->instr->key, "okx-swap:CELO-USDT-SWAP") == 0)
            d->okx_celo_qty = ev->u.liq.qty;
    }
    pipeline_on_event(d->p, ev);
}

static int d_added(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err)
{
    struct daemonish *d = arg;

    d->added++;
    ck_assert_ptr_eq(market_find(d->m, in->venue, in->spec.symbol), in);
    if (engine_sync(d->e, err) != 0 || pipeline_sync(d->p, err) != 0)
        return -1;
    if (new_venue) {
        d->new_venues++;
        ck_assert_ptr_nonnull(d->v[in->venue]);
        pipeline_set_venues(d->p, d->v);
    }
    return 0;
}

START_TEST(prints_of_undiscovered_symbols)
{
    struct daemonish d;
    struct engine_config ec;
    struct pipeline_config pc;
    struct replay_setup rs;
    struct replay_stats st;
    struct venue_io io;
    replay_t *r;
    lq_err_t err;
    char *files[1] = { (char *)CAPS "real-liquidations.jsonl" };

    memset(&d, 0, sizeof(d));
    NNOTES = 0;
    d.m = market_create();
    engine_config_default(&ec);
    d.e = engine_create(d.m, &ec, &err);
    ck_assert_msg(d.e != NULL, "%s", err.msg);
    pipeline_config_default(&pc);
    d.p = pipeline_create(d.m, d.e, &pc, &err);
    ck_assert_msg(d.p != NULL, "%s", err.msg);
    memset(&io, 0, sizeof(io));
    io.emit = d_emit;
    io.arg = &d;
    memset(&rs, 0, sizeof(rs));
    rs.io = &io;
    rs.discover = 1;
    rs.instruments_dir = INSTR;
    rs.note = keep_note;
    rs.added = d_added;
    rs.arg = &d;
    r = replay_create(d.m, &rs, d.v, &err);
    ck_assert_ptr_nonnull(r);
    pipeline_set_venues(d.p, d.v);
    ck_assert_int_eq(replay_play(r, files, 1, NULL, &st, &err), 0);

    ck_assert_uint_eq(st.frames, 7);
    ck_assert_uint_eq(st.no_adapter, 0);
    ck_assert_uint_eq(st.instruments_added, 7);
    ck_assert_int_eq(d.added, 7);
    ck_assert_int_eq(d.new_venues, 3);
    ck_assert_uint_eq(d.prints, 8);
    ck_assert_uint_eq(venue_get_stats(d.v[VENUE_BINANCE])->events[MEV_LIQUIDATION], 3);
    ck_assert_uint_eq(venue_get_stats(d.v[VENUE_BYBIT])->events[MEV_LIQUIDATION], 3);
    ck_assert_uint_eq(venue_get_stats(d.v[VENUE_OKX])->events[MEV_LIQUIDATION], 2);
    for (int i = 0; i < VENUE_COUNT; i++)
        if (d.v[i])
            ck_assert_uint_eq(venue_get_stats(d.v[i])->rejected, 0);
    ck_assert_ptr_null(d.v[VENUE_HYPERLIQUID]);
    /* Sizes: contracts x ctVal with the instrument file (0.01), contracts
     * without one (said). */
    ck_assert(d.okx_btc_qty == (dec_t)8550000);          /* 8.55 x 0.01 BTC */
    ck_assert(d.okx_celo_qty == (dec_t)19979 * DEC_SCALE);
    ck_assert(has_note("okx-swap:CELO-USDT-SWAP: no instrument file: sizes stay in contracts"));
    ck_assert(has_note("bybit-linear:STRKUSDT: no instrument file"));
    ck_assert(!has_note_part("BTC-USDT-SWAP"));
    ck_assert_uint_eq(pipeline_get_stats(d.p)->events, d.events);
    for (size_t i = 0; i < market_count(d.m); i++)
        ck_assert_ptr_nonnull(engine_ladder(d.e, market_at(d.m, i)));
    /* Order: as the capture names them. */
    ck_assert_str_eq(market_at(d.m, 0)->key, "binance-usdm:MANTAUSDT");
    ck_assert_str_eq(market_at(d.m, 6)->key, "binance-usdm:BTCUSDT");

    replay_destroy(r);
    ck_assert_int_eq(pipeline_close(d.p, NULL, &err), 0);
    engine_destroy(d.e);
    market_destroy(d.m);
}
END_TEST

/* With a config (no discovery): what live would do. */
START_TEST(config_market_is_fixed)
{
    struct venue_config cfgs[VENUE_COUNT];
    struct run x;
    struct instrument ins;
    struct replay_setup rs;
    struct venue_io io;
    lq_err_t err;
    char *files[1] = { (char *)CAPS "real-liquidations.jsonl" };

    for (int i = 0; i < VENUE_COUNT; i++)
        venue_config_default((enum venue_id)i, &cfgs[i]);
    memset(&x, 0, sizeof(x));
    x.m = market_create();
    ck_assert_int_eq(instrument_load_dir(INSTR, "binance-usdm", "BTCUSDT", &ins, &err), 0);
    ck_assert_ptr_nonnull(market_add(x.m, VENUE_BINANCE, &ins, &err));
    instrument_fini(&ins);
    memset(&io, 0, sizeof(io));
    memset(&rs, 0, sizeof(rs));
    rs.io = &io;
    rs.cfgs = cfgs;
    rs.note = keep_note;
    x.r = replay_create(x.m, &rs, x.v, &err);
    ck_assert_ptr_nonnull(x.v[VENUE_BINANCE]);
    ck_assert_ptr_null(x.v[VENUE_BYBIT]);
    ck_assert_int_eq(replay_play(x.r, files, 1, NULL, &x.st, &err), 0);
    ck_assert_uint_eq(x.st.instruments_added, 0);
    ck_assert_uint_eq(market_count(x.m), 1);
    ck_assert_uint_eq(x.st.no_adapter, 4);                 /* Bybit's 2, OKX's 2 */
    const struct venue_stats *s = vst(&x, VENUE_BINANCE);
    ck_assert_uint_eq(s->events[MEV_LIQUIDATION], 1);
    ck_assert_uint_eq(s->by_reason[VREJ_UNKNOWN_SYMBOL], 2);
    done(&x);
}
END_TEST

/* ---- Bybit depths ------------------------------------------------------------ */

/* The real orderbook.50 frames (bybit-orderbook50.jsonl), then SYNTHETIC
 * orderbook.500 frames of the same symbol, and orderbook.50 going on. */
static const char *mixed_depths(void)
{
    const char *path = tmpfile_path("mixed-depths.jsonl");
    FILE *in = fopen(CAPS "bybit-orderbook50.jsonl", "r"), *f = fopen(path, "w");
    char line[4096];
    int64_t t = 1672304486000 * MS;

    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), in))
        fputs(line, f);
    fclose(in);
    put(f, t, VENUE_BYBIT, FRAME_WS, NULL,
        "{\"topic\":\"orderbook.500.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1672304486000,"
        "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"16493.00\",\"0.100\"],[\"16480.00\",\"2.5\"]],"
        "\"a\":[[\"16611.00\",\"0.129\"],[\"16612.00\",\"0.213\"],[\"16700.00\",\"4\"]],"
        "\"u\":900,\"seq\":7961638800},\"cts\":1672304485999}");
    put(f, t + 100 * MS, VENUE_BYBIT, FRAME_WS, NULL,
        "{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"delta\",\"ts\":1672304486100,"
        "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"16493.00\",\"0\"]],\"a\":[],"
        "\"u\":18521290,\"seq\":7961638801},\"cts\":1672304486099}");
    put(f, t + 200 * MS, VENUE_BYBIT, FRAME_WS, NULL,
        "{\"topic\":\"orderbook.500.BTCUSDT\",\"type\":\"delta\",\"ts\":1672304486200,"
        "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"16480.00\",\"3\"]],\"a\":[],"
        "\"u\":901,\"seq\":7961638802},\"cts\":1672304486199}");
    fclose(f);
    return path;
}

START_TEST(bybit_deepest_depth_noted)
{
    char path[128];
    struct run x, y;

    snprintf(path, sizeof(path), "%s", mixed_depths());
    play(&x, path, INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    struct mkt_instr *in = instr(x.m, VENUE_BYBIT, "BTCUSDT");
    ck_assert(in->book_valid);
    ck_assert_uint_eq(in->book_seq, 901);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_BID), 2);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_ASK), 3);
    ck_assert(book_qty_at(in->book, BOOK_BID, 16493.00) == (dec_t)10000000);
    const struct venue_stats *s = vst(&x, VENUE_BYBIT);
    ck_assert_uint_eq(s->rejected, 0);
    ck_assert_uint_eq(s->skipped_by_rule[VSKIP_OTHER_DEPTH], 1);
    ck_assert_uint_eq(NNOTES, 1);
    ck_assert_str_eq(NOTES[0], "bybit-linear:BTCUSDT: replaying orderbook.500 (the capture "
                     "also has orderbook.50: 2 frames used until the first orderbook.500 "
                     "snapshot, 1 ignored)");
    play(&y, path, INSTR, NULL, 1);
    ck_assert_int_eq(memcmp(venue_get_stats(x.v[VENUE_BYBIT]), venue_get_stats(y.v[VENUE_BYBIT]),
                            sizeof(struct venue_stats)), 0);
    ck_assert_uint_eq(instr(y.m, VENUE_BYBIT, "BTCUSDT")->book_seq, 901);
    done(&y);
    done(&x);
}
END_TEST

START_TEST(bybit_config_depth_kept)
{
    struct venue_config cfgs[VENUE_COUNT];
    struct run x;

    for (int i = 0; i < VENUE_COUNT; i++)
        venue_config_default((enum venue_id)i, &cfgs[i]);        /* Bybit: 200 */
    /* A config's settings, discovery on (as liqmond with both). */
    play(&x, CAPS "bybit-orderbook50.jsonl", INSTR, cfgs, 1);
    ck_assert_int_eq(x.rc, 0);
    struct mkt_instr *in = instr(x.m, VENUE_BYBIT, "BTCUSDT");
    ck_assert(!in->book_valid);
    const struct venue_stats *s = vst(&x, VENUE_BYBIT);
    ck_assert_uint_eq(s->rejected, 0);
    ck_assert_uint_eq(s->skipped, 2);
    ck_assert_uint_eq(s->skipped_by_rule[VSKIP_OTHER_DEPTH], 2);
    ck_assert(has_note("bybit-linear:BTCUSDT: no orderbook.200 frame in the capture "
                       "(book_depth 200, as configured); it has orderbook.50: 2 frames skipped"));
    done(&x);
}
END_TEST

/* ---- Hyperliquid: discovered before its adapter looks --------------------- */

START_TEST(hyperliquid_discovered)
{
    const char *path = tmpfile_path("hl.jsonl");
    FILE *in = fopen("tests/fixtures/venues/hyperliquid/hl-frames.jsonl", "r");
    FILE *f = fopen(path, "w");
    char line[65536];
    int64_t t = 1751427259657 * MS;
    struct run x;

    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\n")] = '\0';
        put(f, t, VENUE_HYPERLIQUID, FRAME_WS, NULL, line);
        t += MS;
    }
    fclose(in);
    fclose(f);
    play(&x, path, NULL, NULL, 1);              /* no instruments dir: bare specs */
    ck_assert_int_eq(x.rc, 0);
    ck_assert_ptr_nonnull(x.v[VENUE_HYPERLIQUID]);
    struct mkt_instr *btc = instr(x.m, VENUE_HYPERLIQUID, "BTC");
    ck_assert_uint_gt(btc->book_updates, 0);
    ck_assert_uint_eq(vst(&x, VENUE_HYPERLIQUID)->by_reason[VREJ_UNKNOWN_SYMBOL], 0);
    ck_assert_uint_gt(vst(&x, VENUE_HYPERLIQUID)->events[MEV_TRADE], 0);
    ck_assert(has_note("hyperliquid:BTC: no instrument file"));
    done(&x);
}
END_TEST

/* ---- edges ----------------------------------------------------------------- */

START_TEST(venue_naming_nothing)
{
    const char *path = tmpfile_path("garbage.jsonl");
    FILE *f = fopen(path, "w");
    struct run x;

    ck_assert_ptr_nonnull(f);
    put(f, 1 * MS, VENUE_OKX, FRAME_WS, NULL, "this is not JSON");
    put(f, 2 * MS, VENUE_OKX, FRAME_WS, NULL,
        "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"}}");
    put(f, 3 * MS, VENUE_BYBIT, FRAME_WS, NULL,
        "{\"topic\":\"tickers.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,"
        "\"data\":{\"symbol\":\"BTCUSDT\",\"markPrice\":\"100.5\"}}");
    fclose(f);
    play(&x, path, INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    ck_assert_ptr_null(x.v[VENUE_OKX]);         /* no instrument: not published */
    ck_assert_uint_eq(x.st.no_adapter, 2);
    ck_assert_uint_eq(x.st.venue_frames[VENUE_OKX], 2);
    ck_assert(instr(x.m, VENUE_BYBIT, "BTCUSDT")->mark == 100.5);
    ck_assert_uint_eq(market_count(x.m), 1);
    done(&x);
}
END_TEST

START_TEST(bad_instrument_file)
{
    const char *dir = tmpfile_path("instr");
    char file[160];
    FILE *f;
    struct run x;

    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(file, sizeof(file), "%s/bybit-linear-STRKUSDT.json", dir);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"venue\": \"bybit-linear\", \"symbol\": \"STRKUSDT\", \"tick_size\": -1}", f);
    fclose(f);
    play(&x, CAPS "real-liquidations.jsonl", dir, NULL, 1);
    ck_assert_int_eq(x.rc, -2);
    ck_assert_int_eq(replay_add(x.r, VENUE_BYBIT, "STRKUSDT", &x.err), -2);
    ck_assert_msg(strstr(x.err.msg, "bybit-linear-STRKUSDT.json") != NULL, "%s", x.err.msg);
    ck_assert_ptr_null(market_find(x.m, VENUE_BYBIT, "STRKUSDT"));
    /* What came before stays applied. */
    ck_assert_ptr_nonnull(market_find(x.m, VENUE_BINANCE, "XRPUSDT"));
    done(&x);
    unlink(file);
    rmdir(dir);
}
END_TEST

static int add_count;
static int count_added(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err)
{
    (void)arg;
    (void)in;
    (void)err;
    add_count += new_venue ? 10 : 1;
    return 0;
}

START_TEST(add_before_play)
{
    struct replay_setup rs;
    struct venue_io io;
    venue_t *v[VENUE_COUNT];
    market_t *m = market_create();
    struct replay_stats st;
    replay_t *r;
    lq_err_t err;
    char *files[1] = { (char *)CAPS "bybit-orderbook50.jsonl" };

    memset(&io, 0, sizeof(io));
    memset(&rs, 0, sizeof(rs));
    rs.io = &io;
    rs.discover = 1;
    rs.instruments_dir = INSTR;
    rs.note = keep_note;
    rs.added = count_added;
    add_count = 0;
    r = replay_create(m, &rs, v, &err);
    ck_assert_ptr_null(v[VENUE_BYBIT]);
    ck_assert_int_eq(replay_add(r, VENUE_BYBIT, "BTCUSDT", &err), 1);
    ck_assert_ptr_nonnull(v[VENUE_BYBIT]);
    ck_assert_int_eq(add_count, 10);
    ck_assert_int_eq(replay_add(r, VENUE_BYBIT, "BTCUSDT", &err), 0);
    ck_assert_int_eq(replay_add(r, VENUE_BYBIT, "ETHUSDT", &err), 1);
    ck_assert_int_eq(add_count, 11);
    ck_assert_int_eq(replay_add(r, VENUE_BYBIT, "../etc/x", &err), -1);
    ck_assert_int_eq(replay_add(r, VENUE_BYBIT, "", &err), -1);
    ck_assert_int_eq(add_count, 11);
    ck_assert_int_eq(replay_play(r, files, 1, NULL, &st, &err), 0);
    ck_assert_uint_eq(st.instruments_added, 0);
    ck_assert(market_find(m, VENUE_BYBIT, "BTCUSDT")->book_valid);
    ck_assert(market_find(m, VENUE_BYBIT, "BTCUSDT")->spec.tiers.n > 0);   /* its file */
    replay_destroy(r);
    market_destroy(m);
}
END_TEST

/* Symbols that cannot name an instrument file are never discovered. */
START_TEST(bad_symbols_not_discovered)
{
    const char *path = tmpfile_path("badsym.jsonl");
    FILE *f = fopen(path, "w");
    struct run x;

    ck_assert_ptr_nonnull(f);
    put(f, 1 * MS, VENUE_BINANCE, FRAME_WS, NULL,
        "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"../../etc/passwd\",\"p\":\"1\"}");
    put(f, 2 * MS, VENUE_BINANCE, FRAME_WS, NULL,
        "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"\",\"p\":\"1\"}");
    put(f, 3 * MS, VENUE_BINANCE, FRAME_WS, NULL,
        "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"SOLUSDT\",\"p\":\"150\"}");
    fclose(f);
    play(&x, path, INSTR, NULL, 1);
    ck_assert_int_eq(x.rc, 0);
    ck_assert_uint_eq(market_count(x.m), 1);
    ck_assert_uint_eq(vst(&x, VENUE_BINANCE)->by_reason[VREJ_UNKNOWN_SYMBOL], 2);
    ck_assert(instr(x.m, VENUE_BINANCE, "SOLUSDT")->mark == 150);
    done(&x);
}
END_TEST

/* venue_frame_symbols names what the adapters look up, in frame order. */
static char SYMS[8][48];
static size_t NSYMS;

static void keep_sym(const char *s, size_t n, void *arg)
{
    (void)arg;
    if (NSYMS < 8 && n < 48) {
        memcpy(SYMS[NSYMS], s, n);
        SYMS[NSYMS++][n] = '\0';
    }
}

static size_t syms(enum venue_id id, enum frame_src src, const char *url, const char *frame)
{
    NSYMS = 0;
    return venue_frame_symbols(id, src, url, frame, strlen(frame), keep_sym, NULL);
}

START_TEST(frame_symbols)
{
    ck_assert_uint_eq(syms(VENUE_BINANCE, FRAME_WS, NULL,
                           "{\"stream\":\"!forceOrder@arr\",\"data\":{\"e\":\"forceOrder\",\"E\":1,"
                           "\"o\":{\"s\":\"BTCUSDT\",\"S\":\"SELL\"}}}"), 1);
    ck_assert_str_eq(SYMS[0], "BTCUSDT");
    ck_assert_uint_eq(syms(VENUE_BINANCE, FRAME_WS, NULL,
                           "{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\","
                           "\"s\":\"BTCUSDT\"}}"), 0);        /* not a channel we use */
    ck_assert_uint_eq(syms(VENUE_BINANCE, FRAME_REST, "/fapi/v1/depth?symbol=ETHUSDT&limit=1000",
                           "{}"), 1);
    ck_assert_str_eq(SYMS[0], "ETHUSDT");
    ck_assert_uint_eq(syms(VENUE_BYBIT, FRAME_WS, NULL,
                           "{\"topic\":\"allLiquidation.STRKUSDT\",\"data\":[]}"), 1);
    ck_assert_str_eq(SYMS[0], "STRKUSDT");
    ck_assert_uint_eq(syms(VENUE_BYBIT, FRAME_WS, NULL,
                           "{\"topic\":\"liquidation.GALAUSDT\",\"data\":{}}"), 0);   /* deprecated */
    ck_assert_uint_eq(syms(VENUE_OKX, FRAME_WS, NULL,
                           "{\"arg\":{\"channel\":\"liquidation-orders\",\"instType\":\"SWAP\"},"
                           "\"data\":[{\"details\":[],\"instId\":\"A-USDT-SWAP\"},"
                           "{\"details\":[],\"instFamily\":\"B-USDT\",\"instId\":\"B-USDT-SWAP\"}]}"), 2);
    ck_assert_str_eq(SYMS[1], "B-USDT-SWAP");
    ck_assert_uint_eq(syms(VENUE_OKX, FRAME_WS, NULL,
                           "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"books\","
                           "\"instId\":\"BTC-USDT-SWAP\"}}"), 0);
    ck_assert_uint_eq(syms(VENUE_HYPERLIQUID, FRAME_WS, NULL,
                           "{\"channel\":\"trades\",\"data\":[{\"coin\":\"SOL\"},{\"coin\":\"ETH\"}]}"), 2);
    ck_assert_str_eq(SYMS[0], "SOL");
    char one[16];
    const char *l2 = "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"BTC\"}}";
    ck_assert_int_eq(venue_frame_symbol(VENUE_HYPERLIQUID, FRAME_WS, NULL, l2, strlen(l2),
                                        one, sizeof(one)), 1);
    ck_assert_str_eq(one, "BTC");
}
END_TEST

Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("one_pass");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, one_pass_as_two_passes);
    tcase_add_test(tc, bybit_orderbook50_valid_book);
    tcase_add_test(tc, binance_older_than_snapshot_skipped);
    tcase_add_test(tc, prints_of_undiscovered_symbols);
    tcase_add_test(tc, config_market_is_fixed);
    tcase_add_test(tc, bybit_deepest_depth_noted);
    tcase_add_test(tc, bybit_config_depth_kept);
    tcase_add_test(tc, hyperliquid_discovered);
    tcase_add_test(tc, venue_naming_nothing);
    tcase_add_test(tc, bad_instrument_file);
    tcase_add_test(tc, add_before_play);
    tcase_add_test(tc, bad_symbols_not_discovered);
    tcase_add_test(tc, frame_symbols);
    suite_add_tcase(s, tc);
    return s;
}
