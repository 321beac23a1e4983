/*
 * cli.h - liqmonctl's commands, one file each, and the conventions they
 * share (liqmonctl.c implements the helpers).
 *
 * Exit codes are sysexits.h's, the same in every command:
 *
 *   0   ok (and --help, --version)
 *   64  usage: an unknown command, subcommand or option, a missing
 *       operand or option value, a value out of range, an extra argument
 *   65  the input is bad: a scenario, positions rows (or none at all), a
 *       damaged capture, a file that is not a liqmon store
 *   66  an input cannot be opened: FILE, --tiers DIR, --config FILE, the
 *       store
 *   70  internal error (out of memory)
 *   74  I/O error: reading an input that opened, writing stdout
 *   78  configuration: --config FILE does not parse
 *
 * Messages: one line on stderr per problem, "liqmonctl CMD: WHAT", where
 * CMD is the command as typed ("replay", "positions check").  Usage errors
 * end with " (see liqmonctl CMD --help)" unless they say what is expected
 * themselves; the same mistake is worded the same everywhere:
 *
 *   liqmonctl replay: unknown option '--frob' (see liqmonctl replay --help)
 *   liqmonctl replay: --speed: missing value (see liqmonctl replay --help)
 *   liqmonctl replay: --speed: must be a number > 0 (got 'x')
 *   liqmonctl replay: --json: takes no value (see liqmonctl replay --help)
 *   liqmonctl positions check: missing FILE (see liqmonctl positions check --help)
 *   liqmonctl sim: unexpected argument 'b.json' (see liqmonctl sim --help)
 *
 * Every command and subcommand takes --help (exit 0, usage on stdout).
 * Options are parsed with getopt_long: "--opt VALUE" or "--opt=VALUE",
 * unambiguous abbreviations, options and operands in any order, "--" ends
 * the options.  A value given as a separate argument may start with '-'
 * (-15m, '-' for stdin) but not with "--": "--since --json" is a missing
 * value, not a time.  '-' is stdin wherever a FILE is read.
 */
#ifndef LIQMON_CLI_H
#define LIQMON_CLI_H

#include <getopt.h>
#include <stdio.h>

/* sysexits.h values, spelled out (the header is BSD, not C11). */
#define CLI_EX_USAGE       64
#define CLI_EX_DATAERR     65
#define CLI_EX_NOINPUT     66
#define CLI_EX_UNAVAILABLE 69
#define CLI_EX_SOFTWARE    70
#define CLI_EX_IOERR       74
#define CLI_EX_CONFIG      78

/* cli_getopt's return for a usage error (the line is printed). */
#define CLI_OPT_ERR (-2)

/* "liqmonctl CMD: WHAT" on stderr, control characters shown as '?' so
 * that it stays one line; returns code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same followed by " (see liqmonctl CMD --help)"; returns 64. */
int cli_usage_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* getopt_long over argv[0..argc) (argv[0] is the command's name), with
 * shortopts as getopt takes them, without a leading ':' (a leading '+'
 * stops at the first operand: a subcommand).  Set optind = 0 before the
 * first call.  Returns the option's val, -1 after the last
 * option (operands are then argv[optind..argc)), or CLI_OPT_ERR with the
 * one usage line printed (unknown option, missing value, a value to a
 * flag). */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Operand errors, worded once: "missing WHAT (see ...)", "unexpected
 * argument 'ARG' (see ...)".  Return 64. */
int cli_missing(const char *cmd, const char *what);
int cli_unexpected(const char *cmd, const char *arg);

/* A number for option opt: finite, and > min (min_incl: >= min).  64 with
 * "OPT: must be a number > MIN (got 'S')" printed, or 0. */
int cli_parse_number(const char *cmd, const char *opt, const char *s,
                     double min, int min_incl, double *out);

/* '-' as the name of stdin in messages. */
const char *cli_file_name(const char *path);

/* NULL when path is a directory, else why not (strerror's text or "not a
 * directory"). */
const char *cli_not_dir(const char *path);

int cli_positions(int argc, char **argv);
int cli_replay(int argc, char **argv);

/* pm.c: post-mortem queries over the daemon's SQLite store. */
int cli_alerts(int argc, char **argv);
int cli_timeline(int argc, char **argv);
int cli_snapshots(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_summary(int argc, char **argv);

/* ctl.c: the running daemon, over its control socket (control.h). */
int cli_ctl_status(int argc, char **argv);
int cli_ctl_positions_ls(int argc, char **argv);
int cli_ctl_positions_add(int argc, char **argv);
int cli_ctl_positions_rm(int argc, char **argv);
int cli_ctl_cascade(int argc, char **argv);
int cli_ctl_alerts_active(int argc, char **argv);
/* For other commands: the socket (--socket opt, $LIQMON_SOCKET, the
 * default), and one GET: 0 with the body (malloc'd, NUL-terminated, the
 * caller's), or the exit code with its line printed (a non-2xx answer's
 * error, as the ctl commands word it). */
/* Percent-encode s for a URL path segment or query value (everything
 * but RFC 3986's unreserved characters and ':'), into out (size bytes;
 * cut short rather than overflow). */
void cli_url_encode(const char *s, char *out, size_t size);
const char *cli_ctl_socket(const char *opt);
int cli_ctl_get(const char *cmd, const char *sock, const char *path,
                char **body, size_t *len);

/* map.c: the liquidation map as SVG, from the store or the daemon. */
int cli_map(int argc, char **argv);

/* conf/instruments when run from a source tree, else the installed copy. */
const char *cli_default_instruments_dir(void);

#endif
