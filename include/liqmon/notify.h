/*
 * notify.h - systemd's service notification protocol (sd_notify), by hand.
 *
 * No libsystemd: each call sends one datagram to the AF_UNIX socket named
 * by $NOTIFY_SOCKET, as systemd sets it for a Type=notify service:
 * "/path" (a socket in the file system) or "@name" (Linux abstract
 * namespace).  Without $NOTIFY_SOCKET (or with it empty) every call is a
 * no-op returning 0, so the daemon calls them unconditionally.
 *
 * The messages, byte for byte (newline-separated KEY=VALUE, no trailing
 * newline):
 *
 *   notify_ready()       READY=1
 *   notify_status(...)   STATUS=<text>   one line: control bytes escaped
 *                                        (lq_err_sanitize), at most
 *                                        NOTIFY_STATUS_MAX bytes of text
 *   notify_watchdog()    WATCHDOG=1
 *   notify_reloading()   RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC, us>
 *                        (systemd >= 253 pairs it with the next READY=1
 *                        for Type=notify-reload; 252 ignores the extra key)
 *   notify_stopping()    STOPPING=1
 *
 * Never blocks (MSG_DONTWAIT: a full receive queue is -EAGAIN), never
 * raises SIGPIPE (MSG_NOSIGNAL), prints nothing: every call returns 0 when
 * the datagram was sent (or there is no socket), else -errno: -EINVAL
 * when $NOTIFY_SOCKET is neither "/..." nor "@..." or is too long for
 * sun_path, -EAGAIN when the manager's queue is full, -ENOENT or
 * -ECONNREFUSED when nobody listens there.
 * Thread-safe: a socket per call, nothing cached (call from the loop
 * thread, not from a signal handler).
 */
#ifndef LIQMON_NOTIFY_H
#define LIQMON_NOTIFY_H

#include <stdint.h>

/* The longest STATUS= text sent (bytes after "STATUS="); longer is cut. */
#define NOTIFY_STATUS_MAX 1000

/* Send one raw message (e.g. "READY=1\nSTATUS=up").  0 / -errno. */
int notify_send(const char *msg);

int notify_ready(void);
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int notify_watchdog(void);
int notify_reloading(void);
int notify_stopping(void);

/* Whether the service manager expects WATCHDOG=1 keep-alives from this
 * process, as sd_watchdog_enabled(0, usec): 1 with *usec (may be NULL) set
 * to $WATCHDOG_USEC when it is set and $WATCHDOG_PID is unset or equals
 * getpid(); 0 when $WATCHDOG_USEC is unset (or empty) or $WATCHDOG_PID
 * names another process (*usec left alone); -EINVAL when either is not a
 * positive decimal number.  Send WATCHDOG=1 at half the interval. */
int notify_watchdog_usec(uint64_t *usec);

#endif
