/* cli.h - liqmonctl's commands, one file each. */
#ifndef LIQMON_CLI_H
#define LIQMON_CLI_H

/* sysexits.h values, spelled out (the header is BSD, not C11). */
#define CLI_EX_USAGE    64
#define CLI_EX_DATAERR  65
#define CLI_EX_NOINPUT  66
#define CLI_EX_SOFTWARE 70
#define CLI_EX_IOERR    74

int cli_positions(int argc, char **argv);
int cli_replay(int argc, char **argv);

/* pm.c: post-mortem queries over the daemon's SQLite store. */
int cli_alerts(int argc, char **argv);
int cli_timeline(int argc, char **argv);
int cli_snapshots(int argc, char **argv);
int cli_stats(int argc, char **argv);

/* conf/instruments when run from a source tree, else the installed copy. */
const char *cli_default_instruments_dir(void);

#endif
