/*
 * liqmonctl - the operator's tool.
 *
 *   liqmonctl sim FILE|-            simulate a cascade scenario
 *   liqmonctl positions check FILE  validate a positions file (positions.c)
 *   liqmonctl replay FILE...        what a capture holds (replay.c)
 *   liqmonctl alerts|timeline|snapshots|stats   post-mortems (pm.c)
 *   liqmonctl status|cascade, positions ls|add|rm, alerts --active
 *                                   the running daemon (ctl.c)
 *   liqmonctl map                   a liquidation map as SVG, from the
 *                                   store or the daemon (map.c)
 *
 * This file also holds the conventions every command shares (cli.h): the
 * option parser, the one-line messages and the sysexits codes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liqmon/cascade.h"
#include "liqmon/fileio.h"
#include "liqmon/scenario.h"
#include "liqmon/version.h"
#include "cli.h"

#define SCENARIO_MAX_BYTES ((size_t)1 << 30)

/* ---- shared conventions (cli.h) -------------------------------------------- */

static void cli_vsay(const char *cmd, const char *tail, const char *fmt,
                     va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (tail != NULL)
        fprintf(stderr, "liqmonctl%s%s: %s (see liqmonctl%s%s --help)\n",
                *cmd ? " " : "", cmd, msg, *cmd ? " " : "", cmd);
    else
        fprintf(stderr, "liqmonctl%s%s: %s\n", *cmd ? " " : "", cmd, msg);
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_vsay(cmd, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int cli_usage_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_vsay(cmd, "", fmt, ap);
    va_end(ap);
    return CLI_EX_USAGE;
}

int cli_missing(const char *cmd, const char *what)
{
    return cli_usage_fail(cmd, "missing %s", what);
}

int cli_unexpected(const char *cmd, const char *arg)
{
    return cli_usage_fail(cmd, "unexpected argument '%.64s'", arg);
}

/* The long option whose val is v, or NULL. */
static const struct option *opt_by_val(const struct option *lo, int v)
{
    for (; lo && lo->name; lo++)
        if (lo->flag == NULL && lo->val == v)
            return lo;
    return NULL;
}

/* cli_getopt's usage line; returns CLI_OPT_ERR. */
static int opt_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int opt_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_vsay(cmd, "", fmt, ap);
    va_end(ap);
    return CLI_OPT_ERR;
}

/* How many long options start with name[0..n) (an abbreviation). */
static int prefix_matches(const struct option *lo, const char *name, size_t n)
{
    int k = 0;

    for (; lo && lo->name; lo++)
        if (n > 0 && strncmp(lo->name, name, n) == 0)
            k++;
    return k;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char opts[64];
    const char *arg;
    const struct option *o;
    int c;

    /* ':' makes a missing value ':' rather than '?'; a leading '+' (stop
     * at the first operand: a command's name) stays first. */
    if (shortopts[0] == '+')
        snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
    else
        snprintf(opts, sizeof(opts), ":%s", shortopts);
    opterr = 0;
    c = getopt_long(argc, argv, opts, longopts, NULL);
    arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (c == ':') {
        o = opt_by_val(longopts, optopt);
        if (strncmp(arg, "--", 2) == 0 && o != NULL)
            return opt_fail(cmd, "--%s: missing value", o->name);
        return opt_fail(cmd, "-%c: missing value", optopt);
    }
    if (c == '?') {
        size_t n;
        if (strncmp(arg, "--", 2) == 0) {
            n = strcspn(arg, "=");
            o = opt_by_val(longopts, optopt);
            if (optopt != 0 && arg[n] == '=' && o != NULL)
                return opt_fail(cmd, "--%s: takes no value", o->name);
            if (prefix_matches(longopts, arg + 2, n - 2) > 1)
                return opt_fail(cmd, "ambiguous option '%.*s'",
                                      (int)(n > 64 ? 64 : n), arg);
            return opt_fail(cmd, "unknown option '%.*s'",
                                  (int)(n > 64 ? 64 : n), arg);
        }
        if (optopt > ' ' && optopt < 0x7f)
            return opt_fail(cmd, "unknown option '-%c'", optopt);
        return opt_fail(cmd, "unknown option '%.64s'", arg);
    }
    if (c >= 0 && optarg != NULL) {
        o = opt_by_val(longopts, c);
        /* A separate value that is another long option: forgotten. */
        if (*optarg == '\0' ||
            (optarg == argv[optind - 1] && strncmp(optarg, "--", 2) == 0)) {
            if (o != NULL)
                return opt_fail(cmd, "--%s: missing value", o->name);
            return opt_fail(cmd, "-%c: missing value", c);
        }
    }
    return c;
}

int cli_parse_number(const char *cmd, const char *opt, const char *s,
                     double min, int min_incl, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || errno == ERANGE ||
        (min_incl ? !(v >= min) : !(v > min)))
        return cli_fail(cmd, CLI_EX_USAGE, "%s: must be a number %s %g "
                        "(got '%.64s')", opt, min_incl ? ">=" : ">", min, s);
    *out = v;
    return 0;
}

const char *cli_file_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}

const char *cli_not_dir(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return strerror(errno);
    return S_ISDIR(st.st_mode) ? NULL : "not a directory";
}

const char *cli_default_instruments_dir(void)
{
    static const char *const dirs[] = {
        "conf/instruments", LIQMON_DATADIR "/instruments"
    };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (access(dirs[i], R_OK | X_OK) == 0)
            return dirs[i];
    return dirs[0];
}

/* ---- liqmonctl sim ------------------------------------------------------------ */

static void sim_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl sim [--json | --table] [--trace] FILE\n"
"\n"
"Simulate the cascade scenario in FILE ('-' for stdin; the format is\n"
"../shared/docs/cascade-model.md, \"Scenario files\") for every side and\n"
"shock it lists.\n"
"\n"
"On a terminal the result is a table: side, shock, cascade rounds,\n"
"positions liquidated, their qty and notional, the final price, the move\n"
"from ref, the amplification (move / shock) and whether the volume went\n"
"past the visible book.  Otherwise (a pipe, a file) it is the contract's\n"
"JSON: {\"results\": [ROW, ...], \"positions\": [{\"id\", \"liq_price\"}]}.\n"
"\n"
"  --json    JSON even on a terminal\n"
"  --table   the table even when stdout is not a terminal\n"
"  --trace   JSON: add \"traces\", every row's rounds; table: a line per\n"
"            round under each row\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 bad scenario (one line naming the\n"
"field, e.g. positions[3].qty: must be > 0), 66 cannot read FILE, 74\n"
"write error.\n");
}

/* 1234567.8 -> "1,234,568" */
static void fmt_thousands(double v, char *out, size_t size)
{
    char digits[64];
    size_t n, o = 0;
    int neg = v < 0;

    snprintf(digits, sizeof(digits), "%.0f", fabs(v));
    n = strlen(digits);
    if (neg && o + 1 < size)
        out[o++] = '-';
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

enum { SC_SIDE, SC_SHOCK, SC_ROUNDS, SC_LIQ, SC_QTY, SC_NOTIONAL, SC_FINAL,
       SC_MOVE, SC_AMP, SC_EXH, SC_NCOL };

static const char *const sim_head[SC_NCOL] = {
    "side", "shock", "rounds", "liquidated", "qty", "notional", "final price",
    "move", "amplification", "exhausted"
};

#define SIM_CELL 80

static void sim_cells(const struct cascade_row *r, char c[SC_NCOL][SIM_CELL])
{
    char q[DEC_STRLEN];

    snprintf(c[SC_SIDE], SIM_CELL, "%s", cascade_dir_name(r->side));
    snprintf(c[SC_SHOCK], SIM_CELL, "%.4g%%", r->shock * 100.0);
    snprintf(c[SC_ROUNDS], SIM_CELL, "%u", (unsigned)r->rounds);
    snprintf(c[SC_LIQ], SIM_CELL, "%llu", (unsigned long long)r->liquidated);
    dec_format(r->liquidated_qty, q);
    snprintf(c[SC_QTY], SIM_CELL, "%s", q);
    fmt_thousands(r->liquidated_notional, c[SC_NOTIONAL], SIM_CELL);
    snprintf(c[SC_FINAL], SIM_CELL, "%.10g", r->final_price);
    snprintf(c[SC_MOVE], SIM_CELL, "%s%.2f%%",
             r->move_pct == 0 ? "" : r->side == CASCADE_DOWN ? "-" : "+",
             r->move_pct);
    if (r->has_amplification)
        snprintf(c[SC_AMP], SIM_CELL, "x%.2f", r->amplification);
    else
        snprintf(c[SC_AMP], SIM_CELL, "-");
    if (r->exhausted) {
        dec_format(r->unfilled_qty, q);
        snprintf(c[SC_EXH], SIM_CELL, "yes (%s unfilled)", q);
    } else {
        snprintf(c[SC_EXH], SIM_CELL, "no");
    }
}

static int sim_print_table(const struct scenario *sc, int with_trace,
                           lq_err_t *err)
{
    size_t nrows = sc->nsides * sc->nshocks;
    struct cascade_row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
    struct cascade_trace *tr = NULL;
    char (*cells)[SC_NCOL][SIM_CELL] = NULL;
    int w[SC_NCOL];
    struct book_ladder bl, al;
    struct pindex_sum past_l, past_s;
    int rc = -1;

    if (rows == NULL ||
        (cells = calloc(nrows ? nrows : 1, sizeof(*cells))) == NULL ||
        (with_trace && (tr = calloc(nrows ? nrows : 1, sizeof(*tr))) == NULL)) {
        lq_err_set(err, "out of memory");
        goto out;
    }
    for (int k = 0; k < SC_NCOL; k++)
        w[k] = (int)strlen(sim_head[k]);
    for (size_t i = 0; i < nrows; i++) {
        int crc = cascade_run(sc->book, sc->ix, sc->ref,
                              sc->sides[i / sc->nshocks],
                              sc->shocks[i % sc->nshocks], &rows[i],
                              tr ? &tr[i] : NULL);
        if (crc == CASCADE_ENOMEM) {
            lq_err_set(err, "out of memory");
            goto out;
        }
        if (crc != CASCADE_OK) {
            lq_err_set(err, "results[%zu]: invalid simulation input", i);
            goto out;
        }
        sim_cells(&rows[i], cells[i]);
        for (int k = 0; k < SC_NCOL; k++)
            if ((int)strlen(cells[i][k]) > w[k])
                w[k] = (int)strlen(cells[i][k]);
    }

    /* What the answer rests on: the book's reach and the positions. */
    book_ladder(sc->book, BOOK_BID, INFINITY, &bl);
    book_ladder(sc->book, BOOK_ASK, 0.0, &al);
    pindex_reached(sc->ix, POS_LONG, sc->ref, &past_l);
    pindex_reached(sc->ix, POS_SHORT, sc->ref, &past_s);
    printf("ref %.10g; book: %llu bids", sc->ref,
           (unsigned long long)bl.levels);
    if (bl.levels)
        printf(" down to %.10g (-%.2f%%)", bl.last_price,
               100.0 * (sc->ref - bl.last_price) / sc->ref);
    printf(", %llu asks", (unsigned long long)al.levels);
    if (al.levels)
        printf(" up to %.10g (+%.2f%%)", al.last_price,
               100.0 * (al.last_price - sc->ref) / sc->ref);
    printf("\npositions: %zu long, %zu short; %llu already past their "
           "liquidation price at ref\n\n",
           pindex_count(sc->ix, POS_LONG), pindex_count(sc->ix, POS_SHORT),
           (unsigned long long)(past_l.count + past_s.count));

    for (int k = 0; k < SC_NCOL; k++)
        printf(k == 0 ? "%-*s" : k == SC_EXH ? "  %-*s" : "  %*s",
               k == SC_EXH ? 0 : w[k], sim_head[k]);
    printf("\n");
    for (size_t i = 0; i < nrows; i++) {
        for (int k = 0; k < SC_NCOL; k++)
            printf(k == 0 ? "%-*s" : k == SC_EXH ? "  %-*s" : "  %*s",
                   k == SC_EXH ? 0 : w[k], cells[i][k]);
        printf("\n");
        for (size_t j = 0; tr && j < tr[i].n; j++) {
            const struct cascade_round *rd = &tr[i].rounds[j];
            char nq[DEC_STRLEN], v[DEC_STRLEN];
            dec_format(rd->new_qty, nq);
            dec_format(rd->volume, v);
            printf("%*s round %zu: at %.10g, %llu new (qty %s), volume %s "
                   "-> %.10g%s\n", w[0], "", j + 1, rd->price_before,
                   (unsigned long long)rd->new_positions, nq, v,
                   rd->price_after, rd->exhausted ? " (past the book)" : "");
        }
    }
    rc = 0;
out:
    if (tr)
        for (size_t i = 0; i < nrows; i++)
            cascade_trace_fini(&tr[i]);
    free(tr);
    free(cells);
    free(rows);
    return rc;
}

static int cmd_sim(int argc, char **argv)
{
    static const struct option lo[] = {
        { "trace", no_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "table", no_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *path;
    int with_trace = 0, as = -1, rc = CLI_EX_DATAERR, c;
    char *text = NULL;
    size_t len;
    struct scenario sc;
    lq_err_t err = { "" };

    optind = 0;
    while ((c = cli_getopt("sim", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 't': with_trace = 1; break;
        case 'j': as = 0; break;
        case 'T': as = 1; break;
        case 'h': sim_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind >= argc)
        return cli_missing("sim", "FILE");
    if (optind + 1 < argc)
        return cli_unexpected("sim", argv[optind + 1]);
    path = argv[optind];
    if (as < 0)
        as = isatty(STDOUT_FILENO);
    if (fileio_read_all(path, SCENARIO_MAX_BYTES, &text, &len, &err) != 0)
        return cli_fail("sim", CLI_EX_NOINPUT, "%s", err.msg);
    if (scenario_parse(text, len, &sc, &err) != 0) {
        cli_fail("sim", CLI_EX_DATAERR, "%s: %s", cli_file_name(path),
                 err.msg);
        goto out;
    }
    if ((as ? sim_print_table(&sc, with_trace, &err)
            : scenario_write_results(&sc, stdout, with_trace, &err)) != 0) {
        rc = cli_fail("sim", strstr(err.msg, "write error") ? CLI_EX_IOERR
                                                             : CLI_EX_SOFTWARE,
                      "%s", err.msg);
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = cli_fail("sim", CLI_EX_IOERR, "stdout: write error");
    } else {
        rc = 0;
    }
    scenario_fini(&sc);
out:
    free(text);
    return rc;
}

/* positions ls|add|rm talk to the daemon (ctl.c); the rest is
 * positions.c's. */
static int cmd_positions(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "ls") == 0)
        return cli_ctl_positions_ls(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return cli_ctl_positions_add(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "rm") == 0)
        return cli_ctl_positions_rm(argc - 1, argv + 1);
    return cli_positions(argc, argv);
}

/* alerts --active asks the daemon (ctl.c); without it, the store (pm.c). */
static int cmd_alerts(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--active") == 0)
            return cli_ctl_alerts_active(argc, argv);
    return cli_alerts(argc, argv);
}

/* ---- liqmonctl ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl [--help] [--version] COMMAND [ARGS]\n"
"\n"
"Commands (COMMAND --help for each):\n"
"  sim [--json|--table] [--trace] FILE\n"
"                            simulate the cascade scenario in FILE ('-' for\n"
"                            stdin): a table on a terminal, else JSON\n"
"  positions check [--config FILE] [--tiers DIR] [--json] [FILE]\n"
"                            validate a positions file (CSV or JSON Lines,\n"
"                            '-' for stdin), print counts per instrument and\n"
"                            side; --config: also against what a liqmond\n"
"                            config watches (FILE defaults to its positions)\n"
"  replay [--json] [--instruments DIR] [--speed X] FILE...\n"
"                            run capture files through the venue adapters and\n"
"                            print frames, events, rejections per venue and\n"
"                            each instrument's last state\n"
"\n"
"The running daemon, over its control socket (--socket PATH overrides\n"
"$LIQMON_SOCKET, else /run/liqmon/liqmond.sock):\n"
"  status [--json]           version, uptime, connections, books, positions,\n"
"                            alerts firing, store queue\n"
"  positions ls [--instrument V:S] [--limit N] [--json]\n"
"                            the positions it holds\n"
"  positions add FILE        add or replace positions (CSV or JSON Lines)\n"
"  positions rm [--instrument V:S] ID\n"
"                            remove a position\n"
"  cascade [--json] VENUE SYMBOL\n"
"                            its latest cascade ladder for an instrument\n"
"  alerts --active [--json]  what is firing now\n"
"\n"
"Post-mortem queries over the daemon's store (read-only; --store DB\n"
"overrides $LIQMON_STORE, else ./liqmon.db):\n"
"  alerts [--since T] [--until T] [--venue V] [--instrument I] [--kind K]\n"
"         [--severity S] [--state firing|resolved] [--run N] [--limit N]\n"
"         [--json]          the alert records, as a table or JSON Lines\n"
"  timeline --instrument I [--from T] [--to T] [--run N] [--json]\n"
"                            alerts, snapshots, liquidation prints and feed\n"
"                            events of one instrument, in time order\n"
"  snapshots --instrument I [--from T] [--to T] [--run N] [--rows]\n"
"            [--json]        its snapshots; --rows adds the ladder rows\n"
"  stats [--json]            rows and time span per table, file size, runs\n"
"  summary [--run N] [--json]\n"
"                            the post-mortem of a run: alerts by kind and\n"
"                            severity, the largest predicted cascade, prices,\n"
"                            a timeline\n"
"\n"
"A liquidation map, from the store or the running daemon:\n"
"  map VENUE SYMBOL [--store DB [--at T] | --socket PATH | -c CONFIG]\n"
"      --svg FILE            the liquidation map as SVG: positions' notional\n"
"                            by liquidation price, book depth, the ladders\n"
"                            and s*; from the store's snapshot at or before\n"
"                            T, or the daemon's state now\n"
"  Times: 2026-11-30T12:00:00Z, '2026-11-30 12:00', 2026-11-30, an optional\n"
"  +HH:MM offset; -15m, -2h, -7d (before now); or ns since the epoch.\n"
"\n"
"Exit status (every command): 0 ok, 64 usage error, 65 bad input data,\n"
"66 cannot open an input, 70 internal error, 74 I/O error, 78 bad config.\n");
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    { "sim", cmd_sim },
    { "positions", cmd_positions },
    { "replay", cli_replay },
    { "alerts", cmd_alerts },
    { "timeline", cli_timeline },
    { "snapshots", cli_snapshots },
    { "stats", cli_stats },
    { "summary", cli_summary },
    { "status", cli_ctl_status },
    { "cascade", cli_ctl_cascade },
    { "map", cli_map },
};

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    /* '+': stop at the command, whose own options come after it. */
    optind = 0;
    while ((c = cli_getopt("", argc, argv, "+h", lo)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'V') {
            printf("liqmonctl %s\n", LIQMON_VERSION);
            return 0;
        }
        return CLI_EX_USAGE;
    }
    if (optind >= argc)
        return cli_missing("", "COMMAND");
    if (strcmp(argv[optind], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            return commands[i].fn(argc - optind, argv + optind);
    return cli_usage_fail("", "unknown command '%.64s'", argv[optind]);
}
