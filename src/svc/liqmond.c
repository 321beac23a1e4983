/*
 * liqmond - the liquidation-risk monitoring daemon: its command line.
 * Everything else is daemon.c's start list.
 *
 *   liqmond -c FILE                        live, in the foreground
 *   liqmond -t -c FILE                     check the config (and positions)
 *   liqmond --replay FILE... [options]     the same pipeline over captures
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/daemon.h"
#include "liqmon/log.h"
#include "liqmon/version.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmond -c FILE [--positions FILE] [--record DIR] [--alert-log FILE]\n"
"               [--store FILE]\n"
"       liqmond -t -c FILE\n"
"       liqmond --replay FILE... [-c FILE | --instruments DIR] [--positions FILE]\n"
"               [--alert-log FILE] [--store FILE] [--speed X] [--json]\n"
"\n"
"  -c, --config FILE     configuration (conf/liqmond.conf documents every key);\n"
"                        runs in the foreground\n"
"  -t, --check-config    check the config and the positions file it names,\n"
"                        list every problem, exit 0 (ok) or 78\n"
"      --positions FILE  tracked positions (CSV or JSON Lines); overrides the\n"
"                        config's [daemon] positions\n"
"      --record DIR      record every frame received into hourly captures\n"
"      --alert-log FILE  alerts as JSON Lines (overrides [alerts] log)\n"
"      --store FILE      the SQLite store (overrides [store] path)\n"
"      --replay FILE...  run captures ('-': stdin) through the adapters, books,\n"
"                        risk engine, alerts and store on the capture's clock,\n"
"                        then print a summary\n"
"      --instruments DIR instrument files (a replay without a config)\n"
"      --speed X         replay at X times real time (default: at once)\n"
"      --json            replay summary as JSON\n"
"      --state-out FILE  at exit, write the market state as JSON\n"
"      --run-for SECONDS stop by itself after this long (tests, demos)\n"
"  -v, --verbose         debug logging\n"
"  -h, --help            this text\n"
"      --version         the version\n"
"\n"
"Signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config and the\n"
"positions file and reopens the alert log; SIGUSR1 reopens the alert log.\n"
"Exit status (sysexits.h): 0 ok, 64 usage, 65 bad data, 66 cannot read\n"
"input, 69 unavailable, 73 cannot create output, 74 I/O error, 78 config.\n");
}

static int bad_number(const char *opt, const char *v, double *out)
{
    char *end;

    *out = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || !(*out > 0) || *out > 1e9) {
        fprintf(stderr, "liqmond: %s: must be a number > 0 (got '%s')\n", opt, v);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_POSITIONS = 256, O_INSTRUMENTS, O_RECORD, O_STATE_OUT, O_RUN_FOR,
           O_REPLAY, O_SPEED, O_JSON, O_ALERT_LOG, O_STORE, O_VERSION };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 't' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, O_VERSION },
        { "positions", required_argument, NULL, O_POSITIONS },
        { "instruments", required_argument, NULL, O_INSTRUMENTS },
        { "record", required_argument, NULL, O_RECORD },
        { "state-out", required_argument, NULL, O_STATE_OUT },
        { "run-for", required_argument, NULL, O_RUN_FOR },
        { "replay", no_argument, NULL, O_REPLAY },
        { "speed", required_argument, NULL, O_SPEED },
        { "json", no_argument, NULL, O_JSON },
        { "alert-log", required_argument, NULL, O_ALERT_LOG },
        { "store", required_argument, NULL, O_STORE },
        { NULL, 0, NULL, 0 },
    };
    struct daemon_opts o;
    int c;

    memset(&o, 0, sizeof(o));
    o.argc = argc;
    o.argv = argv;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:tvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 't': o.check_config = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(stdout); return DX_OK;
        case O_VERSION: printf("liqmond %s\n", LIQMON_VERSION); return DX_OK;
        case O_POSITIONS: o.positions = optarg; break;
        case O_INSTRUMENTS: o.instruments = optarg; break;
        case O_RECORD: o.record = optarg; break;
        case O_STATE_OUT: o.state_out = optarg; break;
        case O_ALERT_LOG: o.alert_log = optarg; break;
        case O_STORE: o.store = optarg; break;
        case O_REPLAY: o.replaying = 1; break;
        case O_JSON: o.json = 1; break;
        case O_RUN_FOR:
            if (bad_number("--run-for", optarg, &o.run_for))
                return DX_USAGE;
            break;
        case O_SPEED:
            if (bad_number("--speed", optarg, &o.speed))
                return DX_USAGE;
            break;
        case ':':
            fprintf(stderr, "liqmond: %s: missing value (see liqmond --help)\n",
                    argv[optind - 1]);
            return DX_USAGE;
        default:
            fprintf(stderr, "liqmond: unknown option '%s' (see liqmond --help)\n",
                    argv[optind - 1]);
            return DX_USAGE;
        }
    }
    /* What is left are capture files, and only with --replay. */
    o.replay = argv + optind;
    o.nreplay = (size_t)(argc - optind);
    if (o.nreplay > 0 && !o.replaying) {
        fprintf(stderr, "liqmond: unexpected argument '%s' (capture files go with "
                "--replay; see liqmond --help)\n", argv[optind]);
        return DX_USAGE;
    }
    if (o.replaying && o.nreplay == 0) {
        fprintf(stderr, "liqmond: --replay: missing capture FILE ('-' for stdin)\n");
        return DX_USAGE;
    }
    if (o.check_config && o.config == NULL) {
        fprintf(stderr, "liqmond: -t: needs -c FILE\n");
        return DX_USAGE;
    }
    if (!o.replaying && o.config == NULL) {
        fprintf(stderr, "liqmond: no -c FILE (see liqmond --help)\n");
        return DX_USAGE;
    }
    if (o.verbose)
        log_set_level(LL_DEBUG);
    return daemon_main(&o);
}
