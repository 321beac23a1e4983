/*
 * fileio.h - read a whole file (or stdin for "-") into memory.
 */
#ifndef LIQMON_FILEIO_H
#define LIQMON_FILEIO_H

#include <stddef.h>

#include "liqmon/err.h"

/* On success *buf is a malloc'd, NUL-terminated copy of the content (the
 * caller frees it) and *len its length.  Files above max_bytes are refused.
 * Returns 0, or -1 with err naming the file and the reason. */
int fileio_read_all(const char *path, size_t max_bytes, char **buf,
                    size_t *len, lq_err_t *err);

#endif
