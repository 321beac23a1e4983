/*
 * log.h - the daemon's diagnostic log (stderr, so systemd's journal takes
 * it).  Not the alert log: alerts have their own sink.
 *
 * One line per message: "<level>: <module>: <text>".  LOG_DEBUG lines are
 * dropped unless log_set_level(LOG_DEBUG).  Tests may capture lines with
 * log_set_hook().
 */
#ifndef LIQMON_LOG_H
#define LIQMON_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lv);
/* Route lines to fn instead of stderr (NULL: back to stderr). */
void log_set_hook(void (*fn)(enum log_level lv, const char *line, void *arg),
                  void *arg);
void log_msg(enum log_level lv, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
