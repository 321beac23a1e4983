/*
 * liqmonctl - the operator's tool.
 *
 *   liqmonctl sim FILE|-            simulate a cascade scenario
 *   liqmonctl positions check FILE  validate a positions file
 *   liqmonctl alerts|timeline|snapshots|stats   post-mortems (pm.c)
 *
 * Exit codes follow sysexits.h: 0 ok, 64 usage, 65 bad input data,
 * 66 cannot open input, 70 internal error (out of memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liqmon/fileio.h"
#include "liqmon/scenario.h"
#include "liqmon/version.h"
#include "cli.h"

#define SCENARIO_MAX_BYTES ((size_t)1 << 30)

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl [--help] [--version] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  sim [--trace] FILE        simulate the cascade scenario in FILE ('-' for\n"
"                            stdin) and print the result JSON; --trace adds\n"
"                            the per-round trace of every row\n"
"  positions check [--tiers DIR] FILE\n"
"                            validate a positions file (CSV or JSON Lines),\n"
"                            print counts per instrument and side; with\n"
"                            --tiers, also compute liquidation prices from\n"
"                            the instrument files in DIR\n"
"  replay [--json] [--instruments DIR] FILE...\n"
"                            run capture files through the venue adapters and\n"
"                            print frames, events, rejections per venue and\n"
"                            each instrument's last state\n"
"\n"
"Post-mortem queries over the daemon's store (read-only; --store DB\n"
"overrides $LIQMON_STORE, else ./liqmon.db; COMMAND --help for each):\n"
"  alerts [--since T] [--until T] [--venue V] [--instrument I] [--kind K]\n"
"         [--severity S] [--state firing|resolved] [--run N] [--limit N]\n"
"         [--json]          the alert records, as a table or JSON Lines\n"
"  timeline --instrument I [--from T] [--to T] [--run N] [--json]\n"
"                            alerts, snapshots, liquidation prints and feed\n"
"                            events of one instrument, in time order\n"
"  snapshots --instrument I [--from T] [--to T] [--run N] [--rows]\n"
"            [--json]        its snapshots; --rows adds the ladder rows\n"
"  stats [--json]            rows and time span per table, file size, runs\n"
"  Times: 2026-11-30T12:00:00Z, '2026-11-30 12:00', 2026-11-30, an optional\n"
"  +HH:MM offset; -15m, -2h, -7d (before now); or ns since the epoch.\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 bad input, 66 cannot read input,\n"
"70 internal error.\n");
}

static int cmd_sim(int argc, char **argv)
{
    const char *path = NULL;
    int with_trace = 0, rc = CLI_EX_DATAERR;
    char *text = NULL;
    size_t len;
    struct scenario sc;
    lq_err_t err = { "" };

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0)
            with_trace = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (path == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
            path = argv[i];
        else {
            fprintf(stderr, "liqmonctl sim: unexpected argument '%s'\n", argv[i]);
            return CLI_EX_USAGE;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "liqmonctl sim: missing FILE (use - for stdin)\n");
        return CLI_EX_USAGE;
    }
    if (fileio_read_all(path, SCENARIO_MAX_BYTES, &text, &len, &err) != 0) {
        fprintf(stderr, "liqmonctl sim: %s\n", err.msg);
        return CLI_EX_NOINPUT;
    }
    if (scenario_parse(text, len, &sc, &err) != 0) {
        fprintf(stderr, "liqmonctl sim: %s: %s\n",
                strcmp(path, "-") == 0 ? "stdin" : path, err.msg);
        goto out;
    }
    if (scenario_write_results(&sc, stdout, with_trace, &err) != 0) {
        fprintf(stderr, "liqmonctl sim: %s\n", err.msg);
        rc = CLI_EX_SOFTWARE;
    } else {
        rc = fflush(stdout) == 0 ? 0 : CLI_EX_IOERR;
    }
    scenario_fini(&sc);
out:
    free(text);
    return rc;
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EX_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("liqmonctl %s\n", LIQMON_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "sim") == 0)
        return cmd_sim(argc - 1, argv + 1);
    if (strcmp(argv[1], "replay") == 0)
        return cli_replay(argc - 1, argv + 1);
    if (strcmp(argv[1], "positions") == 0)
        return cli_positions(argc - 1, argv + 1);
    if (strcmp(argv[1], "alerts") == 0)
        return cli_alerts(argc - 1, argv + 1);
    if (strcmp(argv[1], "timeline") == 0)
        return cli_timeline(argc - 1, argv + 1);
    if (strcmp(argv[1], "snapshots") == 0)
        return cli_snapshots(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0)
        return cli_stats(argc - 1, argv + 1);
    fprintf(stderr, "liqmonctl: unknown command '%s' (see liqmonctl --help)\n",
            argv[1]);
    return CLI_EX_USAGE;
}
