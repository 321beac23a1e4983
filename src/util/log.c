/* log.c - diagnostic log (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/err.h"
#include "liqmon/log.h"

static enum log_level log_level = LL_INFO;
static void (*log_hook)(enum log_level, const char *, void *);
static void *log_hook_arg;

void log_set_level(enum log_level lv)
{
    log_level = lv;
}

void log_set_hook(void (*fn)(enum log_level, const char *, void *), void *arg)
{
    log_hook = fn;
    log_hook_arg = arg;
}

/* systemd sets JOURNAL_STREAM for a service whose stderr is the journal
 * (systemd.exec(5)); checked once. */
static int under_journald(void)
{
    static int known, yes;

    if (!known) {
        const char *js = getenv("JOURNAL_STREAM");
        yes = js != NULL && *js != '\0';
        known = 1;
    }
    return yes;
}

void log_msg(enum log_level lv, const char *module, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    static const int prio[] = { 3, 4, 6, 7 };     /* syslog priorities */
    char line[1024];
    int n;
    va_list ap;

    if (lv > log_level)
        return;
    n = snprintf(line, sizeof(line), "%s: %s: ", names[lv], module);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One line, always: a frame quoted in a message may carry anything. */
    lq_err_sanitize(line, sizeof(line));
    if (log_hook) {
        log_hook(lv, line, log_hook_arg);
    } else if (under_journald()) {
        fprintf(stderr, "<%d>%s\n", prio[lv], line);
    } else {
        struct timespec ts;
        struct tm tm;
        char stamp[40];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ %s\n", stamp, ts.tv_nsec / 1000000, line);
    }
}
