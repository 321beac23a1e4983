/* log.c - diagnostic log (see log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "liqmon/log.h"

static enum log_level log_level = LOG_INFO;
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

void log_msg(enum log_level lv, const char *module, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
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
    if (log_hook)
        log_hook(lv, line, log_hook_arg);
    else
        fprintf(stderr, "%s\n", line);
}
