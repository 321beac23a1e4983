/* fileio.c - whole-file reads (see fileio.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/fileio.h"

int fileio_read_all(const char *path, size_t max_bytes, char **buf,
                    size_t *len, lq_err_t *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0;

    *buf = NULL;
    *len = 0;
    if (f == NULL)
        return lq_err_set(err, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (cap - n < 65536 + 1) {
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            char *nb = realloc(b, ncap);
            if (nb == NULL) {
                lq_err_set(err, "%s: out of memory", path);
                goto fail;
            }
            b = nb;
            cap = ncap;
        }
        got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n > max_bytes) {
            lq_err_set(err, "%s: larger than %zu bytes", is_stdin ? "stdin" : path,
                       max_bytes);
            goto fail;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        lq_err_set(err, "%s: read error", is_stdin ? "stdin" : path);
        goto fail;
    }
    if (!is_stdin)
        fclose(f);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
fail:
    if (!is_stdin)
        fclose(f);
    free(b);
    return -1;
}
