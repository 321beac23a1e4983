/*
 * timearg.h - times on liqmonctl's command line, and times it prints.
 *
 * A time argument is one of:
 *
 *   2026-11-30T12:00:00Z          ISO-8601; 'T', 't' or a space between date
 *   2026-11-30T12:00:00.250Z      and time; seconds and up to 9 fraction
 *   2026-11-30 12:00:00           digits optional; UTC unless it ends with
 *   2026-11-30T14:00:00+02:00     an offset (+HH:MM, -HH:MM, +HHMM, +HH);
 *   2026-11-30                    a date alone is its midnight UTC
 *   -15m  -2h  -30s  -7d  -1w     before now (integer counts only)
 *   now
 *   1796040000000000000           ns since the Unix epoch (digits only)
 *
 * and always means ns since the Unix epoch, UTC, as the store's ts columns
 * do.  Everything is computed here, with no timegm() (not POSIX) and no
 * mktime() (local time, TZ), so that a time means the same on every host.
 */
#ifndef LIQMON_CLI_TIMEARG_H
#define LIQMON_CLI_TIMEARG_H

#include <stdint.h>

#include "liqmon/err.h"

/* "2026-11-30T12:00:00.250Z" and its NUL. */
#define TIMEARG_STRLEN 32

/* Parse s; relative forms count back from now_ns.  0, or -1 with err set
 * to one phrase naming the text and the reason, e.g. "not a time:
 * 'yesterday' (ISO-8601 like 2026-11-30T12:00:00Z, or -15m, -2h)" or
 * "not a time: '2026-02-30' (day 30 out of range for 2026-02)". */
int timearg_parse(const char *s, int64_t now_ns, int64_t *out, lq_err_t *err);

/* The wall clock (CLOCK_REALTIME) in ns since the epoch. */
int64_t timearg_now(void);

/* ns as ISO-8601 UTC with milliseconds (truncated toward the past) into
 * buf, which holds TIMEARG_STRLEN bytes.  Returns buf. */
char *timearg_format(int64_t ns, char *buf);

#endif
