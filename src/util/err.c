/* err.c - see include/liqmon/err.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "liqmon/err.h"

int lq_err_set(lq_err_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void lq_err_prefix(lq_err_t *err, const char *fmt, ...)
{
    char head[256];
    size_t hl, ml;
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head) - 2, fmt, ap);
    va_end(ap);
    strcat(head, ": ");
    hl = strlen(head);
    ml = strnlen(err->msg, sizeof(err->msg) - 1);
    if (hl + ml >= sizeof(err->msg))
        ml = sizeof(err->msg) - 1 - hl;
    memmove(err->msg + hl, err->msg, ml);
    memcpy(err->msg, head, hl);
    err->msg[hl + ml] = '\0';
}
