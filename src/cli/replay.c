/*
 * replay.c - `liqmonctl replay FILE... [--json] [--instruments DIR]`:
 * what a capture contains once it went through the venue adapters,
 * without a daemon: frames per venue, events per type, rejected frames
 * per venue and reason, and each instrument's last state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jsonw.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"
#include "cli.h"

struct replay_cli {
    uint64_t bad_reported;
};

static void on_bad(const char *msg, void *arg)
{
    struct replay_cli *c = arg;

    if (c->bad_reported++ < 20)
        fprintf(stderr, "liqmonctl replay: %s\n", msg);
}

static void on_note(const char *msg, void *arg)
{
    (void)arg;
    fprintf(stderr, "liqmonctl replay: note: %s\n", msg);
}

/* Instruments that saw anything from the capture. */
static int instr_seen(const struct mkt_instr *in)
{
    return in->book_updates > 0 || in->mark > 0 || in->last_ts != 0;
}

static void jw_price_or_null(struct jsonw *w, int ok, double p)
{
    if (ok)
        jw_double(w, p);
    else
        jw_null(w);
}

static void print_json(market_t *m, venue_t *const v[VENUE_COUNT],
                       const struct replay_stats *st)
{
    struct jsonw w;
    uint64_t rejected = 0;

    for (int i = 0; i < VENUE_COUNT; i++)
        if (v[i])
            rejected += venue_get_stats(v[i])->rejected;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "frames");
    jw_u64(&w, st->frames);
    jw_key(&w, "rejected");
    jw_u64(&w, rejected);
    jw_key(&w, "bad_lines");
    jw_u64(&w, st->bad_lines);
    jw_key(&w, "venues");
    jw_obj_begin(&w);
    for (int i = 0; i < VENUE_COUNT; i++) {
        if (st->venue_frames[i] == 0)
            continue;
        jw_key(&w, venue_name((enum venue_id)i));
        jw_obj_begin(&w);
        jw_key(&w, "frames");
        jw_u64(&w, st->venue_frames[i]);
        jw_key(&w, "rejected");
        jw_u64(&w, v[i] ? venue_get_stats(v[i])->rejected : st->venue_frames[i]);
        if (v[i])
            venue_stats_json(venue_get_stats(v[i]), &w, 1);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_key(&w, "instruments");
    jw_obj_begin(&w);
    for (size_t i = 0; i < market_count(m); i++) {
        struct mkt_instr *in = market_at(m, i);
        struct book_level bb, ba;
        int hb, ha;
        if (!instr_seen(in))
            continue;
        hb = book_best(in->book, BOOK_BID, &bb) == 0;
        ha = book_best(in->book, BOOK_ASK, &ba) == 0;
        jw_key(&w, in->key);
        jw_obj_begin(&w);
        jw_key(&w, "mark");
        jw_price_or_null(&w, in->mark > 0, in->mark);
        jw_key(&w, "best_bid");
        jw_price_or_null(&w, hb, bb.price);
        jw_key(&w, "best_ask");
        jw_price_or_null(&w, ha, ba.price);
        jw_key(&w, "bid_levels");
        jw_u64(&w, book_level_count(in->book, BOOK_BID));
        jw_key(&w, "ask_levels");
        jw_u64(&w, book_level_count(in->book, BOOK_ASK));
        jw_key(&w, "book_valid");
        jw_bool(&w, in->book_valid);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (!jw_failed(&w))
        printf("%s\n", w.buf);
    jw_fini(&w);
}

static void print_text(market_t *m, venue_t *const v[VENUE_COUNT],
                       const struct replay_stats *st)
{
    printf("frames %llu (%llu bad lines) in %.2f s\n",
           (unsigned long long)st->frames, (unsigned long long)st->bad_lines,
           st->wall_s);
    for (int i = 0; i < VENUE_COUNT; i++) {
        const struct venue_stats *vs;
        if (st->venue_frames[i] == 0)
            continue;
        printf("\n%s: %llu frames", venue_name((enum venue_id)i),
               (unsigned long long)st->venue_frames[i]);
        if (v[i] == NULL) {
            printf(" (no instruments of this venue: skipped)\n");
            continue;
        }
        vs = venue_get_stats(v[i]);
        printf(", %llu rejected\n", (unsigned long long)vs->rejected);
        for (int t = 0; t < MEV_TYPE_COUNT; t++)
            if (vs->events[t])
                printf("  events %-14s %llu\n", mev_type_name((enum mev_type)t),
                       (unsigned long long)vs->events[t]);
        for (int r = 0; r < VREJ_COUNT; r++)
            if (vs->by_reason[r])
                printf("  rejected %-12s %llu\n",
                       venue_reject_name((enum venue_reject)r),
                       (unsigned long long)vs->by_reason[r]);
        if (i == VENUE_BINANCE || i == VENUE_OKX)
            printf("  note: liquidation prints are a sample (at most one per "
                   "symbol per second)\n");
        else if (i == VENUE_HYPERLIQUID)
            printf("  note: Hyperliquid publishes no liquidation stream\n");
    }
    printf("\n%-28s %14s %14s %14s %7s %7s %s\n", "instrument", "mark", "best bid",
           "best ask", "bids", "asks", "book");
    for (size_t i = 0; i < market_count(m); i++) {
        struct mkt_instr *in = market_at(m, i);
        struct book_level bb, ba;
        char mk[32] = "-", b[32] = "-", a[32] = "-";
        if (!instr_seen(in))
            continue;
        if (in->mark > 0)
            jw_fmt_double(in->mark, mk, sizeof(mk));
        if (book_best(in->book, BOOK_BID, &bb) == 0)
            jw_fmt_double(bb.price, b, sizeof(b));
        if (book_best(in->book, BOOK_ASK, &ba) == 0)
            jw_fmt_double(ba.price, a, sizeof(a));
        printf("%-28s %14s %14s %14s %7zu %7zu %s%s%s\n", in->key, mk, b, a,
               book_level_count(in->book, BOOK_BID),
               book_level_count(in->book, BOOK_ASK),
               in->book_valid ? "valid" : "INVALID",
               in->book_valid ? "" : ": ", in->book_valid ? "" : in->invalid_reason);
    }
}

int cli_replay(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0, rc = 0;
    char **files = calloc((size_t)argc, sizeof(char *));
    size_t nfiles = 0;
    market_t *m = NULL;
    venue_t *v[VENUE_COUNT] = { NULL };
    struct replay_cli c = { 0 };
    struct replay_opts o;
    struct replay_stats st;
    struct venue_io io;
    lq_err_t err;

    if (files == NULL)
        return CLI_EX_SOFTWARE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--instruments") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "liqmonctl replay: unknown option '%s'\n", argv[i]);
            rc = CLI_EX_USAGE;
            goto out;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "liqmonctl replay: missing capture FILE\n");
        rc = CLI_EX_USAGE;
        goto out;
    }
    if (dir == NULL)
        dir = cli_default_instruments_dir();
    /* The instruments are the capture's own: a first pass names them, and
     * their files (tick, lot, contract value) come from dir when present. */
    m = market_create();
    if (m == NULL) {
        rc = CLI_EX_SOFTWARE;
        goto out;
    }
    int found = replay_discover(files, nfiles, m, dir, on_note, NULL, &err);
    if (found < 0) {
        fprintf(stderr, "liqmonctl replay: %s\n", err.msg);
        rc = found == -1 ? CLI_EX_NOINPUT : CLI_EX_DATAERR;
        goto out;
    }
    memset(&io, 0, sizeof(io));
    if (replay_create_venues(m, &io, v, &err) != 0) {
        fprintf(stderr, "liqmonctl replay: %s\n", err.msg);
        rc = CLI_EX_SOFTWARE;
        goto out;
    }
    /* Rejections are counted and summarised below; no sampled log lines. */
    log_set_level(LL_ERROR);
    memset(&o, 0, sizeof(o));
    o.progress = 1;
    o.on_bad = on_bad;
    o.arg = &c;
    if (replay_run(files, nfiles, v, &o, &st, &err) != 0) {
        fprintf(stderr, "liqmonctl replay: %s\n", err.msg);
        rc = CLI_EX_NOINPUT;
        goto out;
    }
    if (json)
        print_json(m, v, &st);
    else
        print_text(m, v, &st);
out:
    replay_destroy_venues(v);
    market_destroy(m);
    free(files);
    return rc;
}
