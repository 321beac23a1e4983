/*
 * alertlog.h - the alert log: what risk desks tail.
 *
 * JSON Lines, one record per line with exactly the fields of
 * alert-rules.md, in its order:
 *
 *   {"id":1,"ts":...,"kind":"cascade_risk","subject":"...","venue":"...",
 *    "instrument":"...","severity":"critical","state":"firing",
 *    "message":"...","details":{...}}
 *
 * Each line goes out in one write(2) on a file opened O_APPEND, as the
 * record is made: a reader (tail -f) sees whole lines only, and a crash
 * loses nothing that was written.  Nothing waits for the disk (no fsync):
 * the store is the durable copy.  The same record also goes to a second
 * descriptor (stderr under systemd) as one human line prefixed with its
 * syslog priority, so journald keeps the severity:
 *
 *   <2> critical firing, <4> warning firing, <6> resolved.
 *
 * alertlog_reopen (SIGHUP) reopens the path, for logrotate.  A failed
 * write (disk full) is counted and said in the log once per episode;
 * later records are still tried.
 */
#ifndef LIQMON_ALERTLOG_H
#define LIQMON_ALERTLOG_H

#include <stdint.h>

#include "liqmon/alert.h"
#include "liqmon/err.h"

struct jsonw;

typedef struct alertlog alertlog_t;

/* path NULL: no file; human_fd -1: no human lines.  NULL with err on
 * failure ("<path>: <strerror>"). */
alertlog_t *alertlog_open(const char *path, int human_fd, lq_err_t *err);
/* 0, or -1 when the file write failed (counted). */
int alertlog_write(alertlog_t *l, const struct alert_record *r);
/* Reopen the file at its path (after logrotate moved it). */
int alertlog_reopen(alertlog_t *l, lq_err_t *err);
void alertlog_close(alertlog_t *l);              /* NULL is fine */

struct alertlog_stats {
    uint64_t written;          /* lines written to the file */
    uint64_t failed;           /* lines the file refused */
    uint64_t reopened;
};
const struct alertlog_stats *alertlog_get_stats(const alertlog_t *l);

/* One record as the log's JSON object (the store and API use the same
 * shape). */
void alertlog_record_json(struct jsonw *w, const struct alert_record *r);

#endif
