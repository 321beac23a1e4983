/*
 * alertlog.c - the alert log file and the human lines (see alertlog.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liqmon/alertlog.h"
#include "liqmon/jsonw.h"
#include "liqmon/log.h"

struct alertlog {
    char *path;                 /* owned; NULL: no file */
    int fd;                     /* -1 when no file / reopen failed */
    int human_fd;
    int failing;                /* in a failed-write episode (said once) */
    struct alertlog_stats st;
};

static int open_path(const char *path, lq_err_t *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0)
        lq_err_set(err, "%s: %s", path, strerror(errno));
    return fd;
}

alertlog_t *alertlog_open(const char *path, int human_fd, lq_err_t *err)
{
    alertlog_t *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        lq_err_set(err, "out of memory");
        return NULL;
    }
    l->fd = -1;
    l->human_fd = human_fd;
    if (path != NULL && *path != '\0') {
        l->path = strdup(path);
        if (l->path == NULL) {
            lq_err_set(err, "out of memory");
            goto fail;
        }
        l->fd = open_path(path, err);
        if (l->fd < 0)
            goto fail;
    }
    return l;
fail:
    alertlog_close(l);
    return NULL;
}

void alertlog_close(alertlog_t *l)
{
    if (l == NULL)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l->path);
    free(l);
}

int alertlog_reopen(alertlog_t *l, lq_err_t *err)
{
    int fd;

    if (l->path == NULL)
        return 0;
    fd = open_path(l->path, err);
    if (fd < 0)
        return -1;              /* keep writing to the old file */
    if (l->fd >= 0)
        close(l->fd);
    l->fd = fd;
    l->st.reopened++;
    return 0;
}

const struct alertlog_stats *alertlog_get_stats(const alertlog_t *l)
{
    return &l->st;
}

void alertlog_record_json(struct jsonw *w, const struct alert_record *r)
{
    jw_obj_begin(w);
    jw_key(w, "id");
    jw_u64(w, r->id);
    jw_key(w, "ts");
    jw_u64(w, (unsigned long long)r->ts);
    jw_key(w, "kind");
    jw_str(w, r->kind_name);
    jw_key(w, "subject");
    jw_str(w, r->subject);
    jw_key(w, "venue");
    jw_str(w, r->venue);
    jw_key(w, "instrument");
    if (r->instrument)
        jw_str(w, r->instrument);
    else
        jw_null(w);
    jw_key(w, "severity");
    jw_str(w, alert_level_name(r->severity));
    jw_key(w, "state");
    jw_str(w, r->resolved ? "resolved" : "firing");
    jw_key(w, "message");
    jw_str(w, r->message);
    jw_key(w, "details");
    jw_raw(w, r->details);
    jw_obj_end(w);
}

/* Whole buffer or an error: a short write (disk full mid-line) is an
 * error too, and the line is counted as failed. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int alertlog_write(alertlog_t *l, const struct alert_record *r)
{
    struct jsonw w;
    int rc = 0;

    if (l->human_fd >= 0) {
        char line[1200];
        int n = snprintf(line, sizeof(line), "<%d>alert %llu: %s %s %s: %s\n",
                         r->resolved ? 6 : r->severity == ALERT_CRITICAL ? 2 : 4,
                         (unsigned long long)r->id, r->kind_name,
                         alert_level_name(r->severity),
                         r->resolved ? "resolved" : "firing", r->message);
        if (n > 0)
            (void)!write(l->human_fd, line,
                         (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    if (l->fd < 0)
        return l->path ? -1 : 0;
    jw_init(&w);
    alertlog_record_json(&w, r);
    if (!jw_failed(&w)) {
        /* A short write (disk full mid-line) would leave half a line that
         * the next good write extends into a line that is not JSON: cut
         * the file back to where the line began (one writer: us). */
        off_t at = lseek(l->fd, 0, SEEK_END);
        w.buf[w.len] = '\n';        /* jw keeps room for the NUL */
        rc = write_all(l->fd, w.buf, w.len + 1);
        if (rc != 0 && at >= 0) {
            int e = errno;
            (void)!ftruncate(l->fd, at);
            errno = e;
        }
    } else {
        rc = -1;
        errno = ENOMEM;
    }
    if (rc == 0) {
        l->st.written++;
        if (l->failing)
            log_msg(LL_INFO, "alertlog", "%s: writing again", l->path);
        l->failing = 0;
    } else {
        l->st.failed++;
        if (!l->failing)
            log_msg(LL_ERROR, "alertlog", "%s: cannot write alert %llu: %s "
                    "(the store still gets it; said once until writes work)",
                    l->path, (unsigned long long)r->id, strerror(errno));
        l->failing = 1;
    }
    jw_fini(&w);
    return rc;
}
