/*
 * replay.c - `liqmonctl replay [--json] [--instruments DIR] [--speed X]
 * FILE...`: what a capture contains once it went through the venue
 * adapters, without a daemon: frames per venue, events per type, rejected
 * frames per venue and reason, frames the venues' sync rules skip, per
 * rule, and each instrument's last state.
 *
 * One pass (replay_play): the instruments come from the frames as they
 * are read, so '-' (stdin) streams; nothing is spooled.
 *
 * Exit (cli.h): 0 ok; 64 usage; 65 a capture the reader finds damaged
 * (CAPTURE_EDATA: a truncated or corrupt .gz, garbage after it, a line
 * past the reader's limit) or a bad instrument file; 66 a FILE (or
 * --instruments DIR) that cannot be opened; 70 out of memory; 74 an I/O
 * error reading (CAPTURE_EIO), or writing stdout.
 * Bad lines inside a readable capture are counted and reported, not
 * fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liqmon/capture.h"
#include "liqmon/jsonw.h"
#include "liqmon/numfmt.h"
#include "liqmon/log.h"
#include "liqmon/render.h"
#include "liqmon/replay.h"
#include "cli.h"

#define CMD "replay"

#define MAX_NOTES 200

struct replay_cli {
    uint64_t bad_reported;
    char *notes[MAX_NOTES];    /* for the summary too */
    size_t nnotes;
};

static void say(const char *pre, const char *msg)
{
    fprintf(stderr, "liqmonctl " CMD ": %s%s\n", pre, msg);
}

static void on_bad(const char *msg, void *arg)
{
    struct replay_cli *c = arg;

    if (c->bad_reported++ < 20)
        say("", msg);
}

static void on_note(const char *msg, void *arg)
{
    struct replay_cli *c = arg;

    say("note: ", msg);
    if (c->nnotes < MAX_NOTES && (c->notes[c->nnotes] = strdup(msg)) != NULL)
        c->nnotes++;
}

/* Instruments that saw anything from the capture. */
static int instr_seen(const struct mkt_instr *in)
{
    return in->book_updates > 0 || in->mark > 0 || in->last_ts != 0;
}

static void print_json(market_t *m, venue_t *const v[VENUE_COUNT],
                       const struct replay_stats *st, const struct replay_cli *c)
{
    struct render_src src = { m, NULL, v, NULL };
    struct jsonw w;
    uint64_t rejected = 0, skipped = 0;

    for (int i = 0; i < VENUE_COUNT; i++) {
        if (v[i]) {
            rejected += venue_get_stats(v[i])->rejected;
            skipped += venue_get_stats(v[i])->skipped;
        } else {
            rejected += st->venue_frames[i];    /* no instrument of its own */
        }
    }
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "frames");
    jw_u64(&w, st->frames);
    jw_key(&w, "rejected");
    jw_u64(&w, rejected);
    jw_key(&w, "skipped");
    jw_u64(&w, skipped);
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
        if (!instr_seen(in))
            continue;
        /* the daemon's shape (render.h), without engine parts */
        jw_key(&w, in->key);
        render_instrument(&w, &src, in, 0);
    }
    jw_obj_end(&w);
    jw_key(&w, "notes");
    jw_arr_begin(&w);
    for (size_t i = 0; i < c->nnotes; i++)
        jw_str(&w, c->notes[i]);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (!jw_failed(&w))
        printf("%s\n", w.buf);
    jw_fini(&w);
}

static void print_text(market_t *m, venue_t *const v[VENUE_COUNT],
                       const struct replay_stats *st, const struct replay_cli *c)
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
        printf(", %llu rejected, %llu skipped by the venue's sync rules\n",
               (unsigned long long)vs->rejected, (unsigned long long)vs->skipped);
        for (int t = 0; t < MEV_TYPE_COUNT; t++)
            if (vs->events[t])
                printf("  events %-14s %llu\n", mev_type_name((enum mev_type)t),
                       (unsigned long long)vs->events[t]);
        for (int r = 0; r < VREJ_COUNT; r++)
            if (vs->by_reason[r])
                printf("  rejected %-12s %llu\n",
                       venue_reject_name((enum venue_reject)r),
                       (unsigned long long)vs->by_reason[r]);
        for (int r = 0; r < VSKIP_COUNT; r++)
            if (vs->skipped_by_rule[r])
                printf("  skipped  %-19s %llu\n",
                       venue_skip_name((enum venue_skip)r),
                       (unsigned long long)vs->skipped_by_rule[r]);
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
            numfmt_shortest(in->mark, mk, sizeof(mk));
        if (book_best(in->book, BOOK_BID, &bb) == 0)
            numfmt_shortest(bb.price, b, sizeof(b));
        if (book_best(in->book, BOOK_ASK, &ba) == 0)
            numfmt_shortest(ba.price, a, sizeof(a));
        printf("%-28s %14s %14s %14s %7zu %7zu %s%s%s\n", in->key, mk, b, a,
               book_level_count(in->book, BOOK_BID),
               book_level_count(in->book, BOOK_ASK),
               in->book_valid ? "valid" : "INVALID",
               in->book_valid ? "" : ": ", in->book_valid ? "" : in->invalid_reason);
    }
    if (c->nnotes > 0)
        printf("\nnotes:\n");
    for (size_t i = 0; i < c->nnotes; i++)
        printf("  %s\n", c->notes[i]);
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl replay [--json] [--instruments DIR] [--speed X] FILE...\n"
"\n"
"Run capture files (JSON Lines, plain or .gz; '-' for stdin) through the\n"
"venue adapters, in order, on the capture's clock, in one pass, and print\n"
"frames per venue, events per type, rejected frames per venue and reason\n"
"(the venue sent something unusable), frames the venue's sync rules skip\n"
"(updates older than the snapshot, duplicates ...) per rule, and each\n"
"instrument's last state (mark, best bid and ask, levels, book validity).\n"
"The instruments are the ones the frames name (books, marks, tickers,\n"
"liquidations, trades); a Bybit book follows the deepest depth the capture\n"
"carries for its symbol (a note says which, and what was ignored).\n"
"No risk engine: liqmond --replay runs the whole pipeline.\n"
"\n"
"  --json             the summary as one JSON object\n"
"  --instruments DIR  instrument files (tick, lot, contract value) from DIR\n"
"                     (default: conf/instruments in a source tree, else the\n"
"                     installed copy); an instrument without one is\n"
"                     replayed with contract value 1 (said on stderr)\n"
"  --speed X          pace the replay at X times the capture's speed\n"
"                     (default: as fast as possible)\n"
"\n"
"Bad lines are counted and reported (the first 20) with file and line; the\n"
"replay goes on.\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 damaged capture (corrupt or\n"
"truncated) or bad instrument file, 66 cannot open FILE or DIR, 74 read\n"
"or write error.\n");
}

/* The exit code for a capture that opened but could not be read to the
 * end (replay_play gave -1): the capture reader's own
 * error kind (capture.h), which it keeps per thread for callers that see
 * only the -1.  Out of memory is 70 here, as everywhere in liqmonctl
 * (capture.h suggests 71). */
static int read_fail_code(void)
{
    switch (capture_last_error()) {
    case CAPTURE_EOPEN:  return CLI_EX_NOINPUT;
    case CAPTURE_EDATA:  return CLI_EX_DATAERR;   /* damaged: truncated,
                                                     corrupt, garbage */
    case CAPTURE_ENOMEM: return CLI_EX_SOFTWARE;
    case CAPTURE_EIO:
    default:             return CLI_EX_IOERR;
    }
}

int cli_replay(int argc, char **argv)
{
    static const struct option lo[] = {
        { "json", no_argument, NULL, 'j' },
        { "instruments", required_argument, NULL, 'i' },
        { "speed", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *dir = NULL, *why;
    int json = 0, rc = 0, c, played;
    double speed = 0;
    char **files = calloc((size_t)argc + 1, sizeof(char *));
    size_t nfiles = 0;
    market_t *m = NULL;
    replay_t *r = NULL;
    venue_t *v[VENUE_COUNT] = { NULL };
    struct replay_cli rcli;
    struct replay_setup rs;
    struct replay_opts o;
    struct replay_stats st;
    struct venue_io io;
    lq_err_t err = { "" };

    memset(&rcli, 0, sizeof(rcli));
    if (files == NULL)
        return cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'i': dir = optarg; break;
        case 's':
            if ((rc = cli_parse_number(CMD, "--speed", optarg, 0, 0,
                                       &speed)) != 0)
                goto out;
            break;
        case 'h': usage(stdout); goto out;
        default: rc = CLI_EX_USAGE; goto out;
        }
    }
    for (int i = optind, seen = 0; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0 && seen++) {
            rc = cli_usage_fail(CMD, "'-' (stdin) given twice");
            goto out;
        }
    }
    for (int i = optind; i < argc; i++)
        files[nfiles++] = argv[i];      /* '-': replay_play reads stdin */
    if (nfiles == 0) {
        rc = cli_missing(CMD, "FILE");
        goto out;
    }
    if (dir != NULL && (why = cli_not_dir(dir)) != NULL) {
        rc = cli_fail(CMD, CLI_EX_NOINPUT, "--instruments %s: %s", dir, why);
        goto out;
    }
    /* Every capture opens, before anything is replayed: 66 names it. */
    for (size_t i = 0; i < nfiles; i++) {
        int fd;
        struct stat sb;
        if (strcmp(files[i], "-") == 0)
            continue;
        fd = open(files[i], O_RDONLY);
        if (fd < 0 || (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))) {
            rc = cli_fail(CMD, CLI_EX_NOINPUT, "%s: %s", files[i],
                          fd < 0 ? strerror(errno) : "is a directory");
            if (fd >= 0)
                close(fd);
            goto out;
        }
        close(fd);
    }
    if (dir == NULL)
        dir = cli_default_instruments_dir();
    /* The instruments are the capture's own, found as the frames come;
     * their files (tick, lot, contract value) come from dir when present. */
    m = market_create();
    if (m == NULL) {
        rc = cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
        goto out;
    }
    memset(&io, 0, sizeof(io));
    memset(&rs, 0, sizeof(rs));
    rs.io = &io;
    rs.discover = 1;
    rs.instruments_dir = dir;
    rs.note = on_note;
    rs.arg = &rcli;
    r = replay_create(m, &rs, v, &err);
    if (r == NULL) {
        rc = cli_fail(CMD, CLI_EX_SOFTWARE, "%s", err.msg);
        goto out;
    }
    /* Rejections are counted and summarised below; no sampled log lines. */
    log_set_level(LL_ERROR);
    memset(&o, 0, sizeof(o));
    o.speed = speed;
    o.progress = 1;
    o.on_bad = on_bad;
    o.arg = &rcli;
    played = replay_play(r, files, nfiles, &o, &st, &err);
    if (played != 0) {
        say("", err.msg);
        rc = played == -1 ? read_fail_code() : played == -2 ? CLI_EX_DATAERR
                                                           : CLI_EX_SOFTWARE;
        goto out;
    }
    if (json)
        print_json(m, v, &st, &rcli);
    else
        print_text(m, v, &st, &rcli);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = cli_fail(CMD, CLI_EX_IOERR, "stdout: write error");
out:
    replay_destroy(r);
    market_destroy(m);
    free(files);
    for (size_t i = 0; i < rcli.nnotes; i++)
        free(rcli.notes[i]);
    return rc;
}
