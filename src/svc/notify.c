/*
 * notify.c - sd_notify by hand (see notify.h).
 */
#define _GNU_SOURCE             /* SOCK_CLOEXEC */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/err.h"
#include "liqmon/notify.h"

/* $NOTIFY_SOCKET as an address.  1: filled in; 0: no socket; -EINVAL. */
static int notify_addr(struct sockaddr_un *sa, socklen_t *len)
{
    const char *e = getenv("NOTIFY_SOCKET");
    size_t n;

    if (e == NULL || e[0] == '\0')
        return 0;
    n = strlen(e);
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (e[0] == '/') {
        /* a path: NUL-terminated within sun_path */
        if (n >= sizeof(sa->sun_path))
            return -EINVAL;
        memcpy(sa->sun_path, e, n + 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 1;
    }
    if (e[0] == '@') {
        /* abstract: a leading NUL, then the name's bytes, not terminated */
        if (n < 2 || n > sizeof(sa->sun_path))
            return -EINVAL;
        sa->sun_path[0] = '\0';
        memcpy(sa->sun_path + 1, e + 1, n - 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        return 1;
    }
    return -EINVAL;
}

int notify_send(const char *msg)
{
    struct sockaddr_un sa;
    socklen_t len = 0;
    int rc = notify_addr(&sa, &len);
    int fd;
    ssize_t n;
    size_t mlen;

    if (rc <= 0)
        return rc;
    if (msg == NULL)
        return -EINVAL;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mlen = strlen(msg);
    do
        n = sendto(fd, msg, mlen, MSG_DONTWAIT | MSG_NOSIGNAL,
                   (const struct sockaddr *)&sa, len);
    while (n < 0 && errno == EINTR);
    rc = n < 0 ? -errno : (size_t)n == mlen ? 0 : -EMSGSIZE;
    close(fd);
    return rc;
}

int notify_ready(void)
{
    return notify_send("READY=1");
}

int notify_status(const char *fmt, ...)
{
    char buf[sizeof("STATUS=") - 1 + NOTIFY_STATUS_MAX + 1];
    const size_t off = sizeof("STATUS=") - 1;
    va_list ap;

    if (getenv("NOTIFY_SOCKET") == NULL)
        return 0;               /* no formatting for nothing */
    memcpy(buf, "STATUS=", off);
    va_start(ap, fmt);
    if (vsnprintf(buf + off, sizeof(buf) - off, fmt, ap) < 0)
        buf[off] = '\0';
    va_end(ap);
    /* one line, valid UTF-8, cut between escapes when it grows */
    lq_err_sanitize(buf + off, sizeof(buf) - off);
    return notify_send(buf);
}

int notify_watchdog(void)
{
    return notify_send("WATCHDOG=1");
}

int notify_reloading(void)
{
    struct timespec ts;
    char buf[64];

    if (getenv("NOTIFY_SOCKET") == NULL)
        return 0;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -errno;
    snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000ULL);
    return notify_send(buf);
}

int notify_stopping(void)
{
    return notify_send("STOPPING=1");
}

/* A positive decimal number, all of s (no sign, no spaces). */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int notify_watchdog_usec(uint64_t *usec)
{
    const char *u = getenv("WATCHDOG_USEC");
    const char *p = getenv("WATCHDOG_PID");
    uint64_t us, pid;

    if (u == NULL || u[0] == '\0')
        return 0;
    /* systemd: 0 and USEC_INFINITY (UINT64_MAX) are not intervals */
    if (parse_u64(u, &us) != 0 || us == 0 || us == UINT64_MAX)
        return -EINVAL;
    if (p != NULL && p[0] != '\0') {
        if (parse_u64(p, &pid) != 0 || pid == 0 || pid > (uint64_t)INT32_MAX)
            return -EINVAL;
        if ((pid_t)pid != getpid())
            return 0;
    }
    if (usec != NULL)
        *usec = us;
    return 1;
}
