/*
 * check_notify.c - sd_notify by hand (notify.h).
 *
 * A SOCK_DGRAM AF_UNIX socket stands in for systemd: bound to a path in a
 * fresh mkdtemp directory, or to an abstract name ("@..."); NOTIFY_SOCKET
 * names it; every notify_* call must deliver exactly its bytes, one
 * datagram each.  Without NOTIFY_SOCKET (or with it empty) every call is
 * a no-op returning 0 and nothing arrives.  Bad addresses, nobody
 * listening, a full queue (never blocks: -EAGAIN), SIGPIPE left at its
 * default action.  WATCHDOG_USEC / WATCHDOG_PID parsing as
 * sd_watchdog_enabled.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "liqmon/notify.h"
#include "suites.h"

/* ---- the stand-in manager ------------------------------------------------ */

static char tmpdir[4096];
static char spath[4200];
static int sfd = -1;

static void env_clear(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void setup(void)
{
    const char *t = getenv("TMPDIR");

    env_clear();
    snprintf(tmpdir, sizeof(tmpdir), "%s/liqmon-notify-XXXXXX",
             t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s failed", tmpdir);
    snprintf(spath, sizeof(spath), "%s/notify.sock", tmpdir);
    sfd = -1;
}

static void teardown(void)
{
    if (sfd >= 0)
        close(sfd);
    sfd = -1;
    unlink(spath);
    rmdir(tmpdir);
    env_clear();
}

/* Bind the listener at spath and point NOTIFY_SOCKET at it. */
static void listen_path(void)
{
    struct sockaddr_un sa;

    ck_assert(strlen(spath) < sizeof(sa.sun_path));
    sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(sfd >= 0, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, spath, strlen(spath) + 1);
    ck_assert_msg(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
                  "bind %s: %s", spath, strerror(errno));
    ck_assert(setenv("NOTIFY_SOCKET", spath, 1) == 0);
}

/* Bind the listener to an abstract name; NOTIFY_SOCKET=@name. */
static void listen_abstract(const char *tag)
{
    struct sockaddr_un sa;
    char name[100], env[104];
    size_t n;

    snprintf(name, sizeof(name), "liqmon-notify-%s-%ld-%ld", tag, (long)getpid(),
             (long)time(NULL));
    n = strlen(name);
    sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(sfd >= 0, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path + 1, name, n);           /* sun_path[0] = '\0' */
    ck_assert_msg(bind(sfd, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) == 0,
                  "bind @%s: %s", name, strerror(errno));
    snprintf(env, sizeof(env), "@%s", name);
    ck_assert(setenv("NOTIFY_SOCKET", env, 1) == 0);
}

/* The next datagram (waits up to 1 s); its length, -1 when none came. */
static ssize_t next_msg(char *buf, size_t size)
{
    struct pollfd p = { .fd = sfd, .events = POLLIN };
    ssize_t n;

    if (poll(&p, 1, 1000) != 1)
        return -1;
    n = recv(sfd, buf, size - 1, MSG_DONTWAIT);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* Nothing is waiting on the listener. */
static int queue_empty(void)
{
    char b[16];

    return recv(sfd, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

#define EXPECT_MSG(want)                                                       \
    do {                                                                       \
        char b_[2048];                                                         \
        ssize_t n_ = next_msg(b_, sizeof(b_));                                 \
        ck_assert_msg(n_ >= 0, "no datagram, want '%s'", want);                \
        ck_assert_msg((size_t)n_ == strlen(want) && memcmp(b_, want, (size_t)n_) == 0, \
                      "got '%s' (%zd bytes), want '%s'", b_, n_, want);        \
    } while (0)

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* RELOADING=1\nMONOTONIC_USEC=<t>, lo <= t <= hi, nothing else. */
static void expect_reloading(uint64_t lo, uint64_t hi)
{
    static const char head[] = "RELOADING=1\nMONOTONIC_USEC=";
    char b[256], *end;
    ssize_t n = next_msg(b, sizeof(b));
    unsigned long long t;

    ck_assert_msg(n >= 0, "no datagram, want RELOADING=1");
    ck_assert_msg(strncmp(b, head, sizeof(head) - 1) == 0, "got '%s'", b);
    ck_assert_msg(b[sizeof(head) - 1] >= '0' && b[sizeof(head) - 1] <= '9',
                  "got '%s'", b);
    t = strtoull(b + sizeof(head) - 1, &end, 10);
    ck_assert_msg(*end == '\0', "trailing bytes in '%s'", b);
    ck_assert_msg(t >= lo && t <= hi, "MONOTONIC_USEC=%llu not in [%llu, %llu]",
                  t, (unsigned long long)lo, (unsigned long long)hi);
}

/* Every call, in order, and the exact bytes of each. */
static void all_calls(void)
{
    uint64_t lo, hi;

    ck_assert_int_eq(notify_ready(), 0);
    EXPECT_MSG("READY=1");
    ck_assert_int_eq(notify_status("%zu instruments, %d/%d feeds up", (size_t)8, 3, 4), 0);
    EXPECT_MSG("STATUS=8 instruments, 3/4 feeds up");
    ck_assert_int_eq(notify_watchdog(), 0);
    EXPECT_MSG("WATCHDOG=1");
    lo = mono_us();
    ck_assert_int_eq(notify_reloading(), 0);
    hi = mono_us();
    expect_reloading(lo, hi);
    ck_assert_int_eq(notify_ready(), 0);
    EXPECT_MSG("READY=1");
    ck_assert_int_eq(notify_stopping(), 0);
    EXPECT_MSG("STOPPING=1");
    ck_assert_int_eq(notify_send("READY=1\nSTATUS=up"), 0);
    EXPECT_MSG("READY=1\nSTATUS=up");
    ck_assert(queue_empty());
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(test_path_socket)
{
    listen_path();
    all_calls();
}
END_TEST

START_TEST(test_abstract_socket)
{
    listen_abstract("abs");
    all_calls();
}
END_TEST

/* Unset or empty: 0 and nothing sent (a listener bound but not named). */
START_TEST(test_unset_noop)
{
    listen_path();
    for (int empty = 0; empty < 2; empty++) {
        if (empty)
            ck_assert(setenv("NOTIFY_SOCKET", "", 1) == 0);
        else
            unsetenv("NOTIFY_SOCKET");
        ck_assert_int_eq(notify_ready(), 0);
        ck_assert_int_eq(notify_status("x %d", 1), 0);
        ck_assert_int_eq(notify_watchdog(), 0);
        ck_assert_int_eq(notify_reloading(), 0);
        ck_assert_int_eq(notify_stopping(), 0);
        ck_assert_int_eq(notify_send("READY=1"), 0);
        nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
        ck_assert_msg(queue_empty(), "a datagram arrived with NOTIFY_SOCKET %s",
                      empty ? "empty" : "unset");
    }
}
END_TEST

/* STATUS= is one line: control bytes escaped, cut at NOTIFY_STATUS_MAX. */
START_TEST(test_status_one_line)
{
    char big[3000], want[2048], b[2048];
    ssize_t n;

    listen_path();
    ck_assert_int_eq(notify_status("feeds: %s\nstore: %s\t%s", "4/4 up", "ok", "x"), 0);
    EXPECT_MSG("STATUS=feeds: 4/4 up\\nstore: ok\\tx");
    ck_assert_int_eq(notify_status("%s", ""), 0);
    EXPECT_MSG("STATUS=");
    ck_assert_int_eq(notify_status("bad utf-8 \xff end, é kept"), 0);
    EXPECT_MSG("STATUS=bad utf-8 \\xff end, é kept");

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(notify_status("%s", big), 0);
    n = next_msg(b, sizeof(b));
    ck_assert_int_eq(n, (ssize_t)(strlen("STATUS=") + NOTIFY_STATUS_MAX));
    snprintf(want, sizeof(want), "STATUS=%.*s", NOTIFY_STATUS_MAX, big);
    ck_assert(memcmp(b, want, (size_t)n) == 0);
    ck_assert(memchr(b, '\n', (size_t)n) == NULL);
}
END_TEST

/* Bad addresses and nobody listening: -errno, nothing printed, no signal. */
START_TEST(test_errors)
{
    char longpath[200];

    signal(SIGPIPE, SIG_DFL);
    ck_assert(setenv("NOTIFY_SOCKET", "relative/notify.sock", 1) == 0);
    ck_assert_int_eq(notify_ready(), -EINVAL);
    ck_assert(setenv("NOTIFY_SOCKET", "@", 1) == 0);
    ck_assert_int_eq(notify_ready(), -EINVAL);
    ck_assert(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1) == 0);
    ck_assert_int_eq(notify_watchdog(), -EINVAL);
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    ck_assert(setenv("NOTIFY_SOCKET", longpath, 1) == 0);
    ck_assert_int_eq(notify_ready(), -EINVAL);
    longpath[0] = '@';
    ck_assert(setenv("NOTIFY_SOCKET", longpath, 1) == 0);
    ck_assert_int_eq(notify_ready(), -EINVAL);

    /* a path with no socket */
    ck_assert(setenv("NOTIFY_SOCKET", spath, 1) == 0);
    ck_assert_int_eq(notify_ready(), -ENOENT);
    /* a socket whose listener has gone (the manager died) */
    listen_path();
    close(sfd);
    sfd = -1;
    ck_assert_int_eq(notify_stopping(), -ECONNREFUSED);
    /* an abstract name nobody holds */
    ck_assert(setenv("NOTIFY_SOCKET", "@liqmon-notify-nobody-here", 1) == 0);
    ck_assert_int_eq(notify_status("x"), -ECONNREFUSED);
}
END_TEST

/* A manager that does not read: the queue fills and the call says
 * -EAGAIN at once rather than waiting (the tcase timeout would catch a
 * block). */
START_TEST(test_never_blocks)
{
    int rc = 0, i;

    listen_path();
    for (i = 0; i < 100000 && rc == 0; i++)
        rc = notify_watchdog();
    ck_assert_msg(rc == -EAGAIN, "after %d datagrams: %d (%s)", i, rc, strerror(-rc));
    /* the manager catches up: sending works again */
    while (!queue_empty())
        ;
    ck_assert_int_eq(notify_ready(), 0);
    EXPECT_MSG("READY=1");
}
END_TEST

/* sd_watchdog_enabled(0, &usec). */
START_TEST(test_watchdog_env)
{
    uint64_t us = 77;
    char pid[32];

    ck_assert_int_eq(notify_watchdog_usec(&us), 0);                 /* unset */
    ck_assert_int_eq(us, 77);
    ck_assert(setenv("WATCHDOG_USEC", "", 1) == 0);
    ck_assert_int_eq(notify_watchdog_usec(&us), 0);
    ck_assert(setenv("WATCHDOG_USEC", "2000000", 1) == 0);
    ck_assert_int_eq(notify_watchdog_usec(&us), 1);                 /* no PID */
    ck_assert_int_eq(us, 2000000);
    ck_assert_int_eq(notify_watchdog_usec(NULL), 1);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    ck_assert(setenv("WATCHDOG_PID", pid, 1) == 0);
    us = 0;
    ck_assert_int_eq(notify_watchdog_usec(&us), 1);                 /* ours */
    ck_assert_int_eq(us, 2000000);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
    ck_assert(setenv("WATCHDOG_PID", pid, 1) == 0);
    us = 77;
    ck_assert_int_eq(notify_watchdog_usec(&us), 0);                 /* another's */
    ck_assert_int_eq(us, 77);
    ck_assert(setenv("WATCHDOG_PID", "1", 1) == 0);
    ck_assert_int_eq(notify_watchdog_usec(&us), getpid() == 1 ? 1 : 0);
    ck_assert(setenv("WATCHDOG_PID", "", 1) == 0);                  /* empty: unset */
    ck_assert_int_eq(notify_watchdog_usec(&us), 1);
    ck_assert(setenv("WATCHDOG_USEC", "30000000", 1) == 0);
    ck_assert_int_eq(notify_watchdog_usec(&us), 1);
    ck_assert_int_eq(us, 30000000);
    ck_assert(setenv("WATCHDOG_USEC", "1", 1) == 0);
    ck_assert_int_eq(notify_watchdog_usec(&us), 1);
    ck_assert_int_eq(us, 1);

    /* not positive decimal numbers */
    static const char *const bad_usec[] = {
        "0", "-1", "+5", " 5", "5 ", "5s", "abc", "0x10", "1e6",
        "18446744073709551615",      /* USEC_INFINITY */
        "18446744073709551616",      /* overflows */
        "99999999999999999999999",
    };
    unsetenv("WATCHDOG_PID");
    for (size_t i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
        ck_assert(setenv("WATCHDOG_USEC", bad_usec[i], 1) == 0);
        us = 77;
        ck_assert_msg(notify_watchdog_usec(&us) == -EINVAL, "WATCHDOG_USEC='%s'",
                      bad_usec[i]);
        ck_assert_int_eq(us, 77);
    }
    static const char *const bad_pid[] = { "0", "-1", "abc", "12x", "99999999999" };
    ck_assert(setenv("WATCHDOG_USEC", "2000000", 1) == 0);
    for (size_t i = 0; i < sizeof(bad_pid) / sizeof(bad_pid[0]); i++) {
        ck_assert(setenv("WATCHDOG_PID", bad_pid[i], 1) == 0);
        ck_assert_msg(notify_watchdog_usec(&us) == -EINVAL, "WATCHDOG_PID='%s'",
                      bad_pid[i]);
    }
}
END_TEST

Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_path_socket);
    tcase_add_test(tc, test_abstract_socket);
    tcase_add_test(tc, test_unset_noop);
    tcase_add_test(tc, test_status_one_line);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_never_blocks);
    tcase_add_test(tc, test_watchdog_env);
    suite_add_tcase(s, tc);
    return s;
}
