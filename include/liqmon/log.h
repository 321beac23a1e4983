/*
 * log.h - the daemon's diagnostic log (stderr, so systemd's journal takes
 * it).  Not the alert log: alerts have their own sink.
 *
 * One line per message: "<level>: <module>: <text>".  Under journald
 * (JOURNAL_STREAM set, as systemd does for a service's stderr) each line
 * starts with its syslog priority instead ("<3>", "<4>", "<6>", "<7>"),
 * so the journal keeps the severity and adds the time itself; elsewhere
 * each line starts with an ISO-8601 UTC timestamp.  The text is made one
 * line (control bytes escaped: lq_err_sanitize), whatever a venue sent.
 * LL_DEBUG lines are dropped unless log_set_level(LL_DEBUG).  Tests may
 * capture lines (without prefix or timestamp) with log_set_hook().
 *
 * The level names are LL_*, not LOG_*: those are <syslog.h>'s.
 */
#ifndef LIQMON_LOG_H
#define LIQMON_LOG_H

enum log_level { LL_ERROR = 0, LL_WARN, LL_INFO, LL_DEBUG };

void log_set_level(enum log_level lv);
/* Route lines to fn instead of stderr (NULL: back to stderr). */
void log_set_hook(void (*fn)(enum log_level lv, const char *line, void *arg),
                  void *arg);
void log_msg(enum log_level lv, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
