/*
 * check_integ.c - liqmond against liqmon-venue over wss on loopback.
 *
 * Real processes, real sockets, TLS verified against a certificate made
 * for the test: the daemon's feed, the four venue adapters and the books,
 * end to end.
 *
 *   live:    while the server misbehaves on command (drop, garbage,
 *            oversized frame, skipped sequence, stall), the daemon stays up,
 *            counts what it rejects, reconnects and resyncs; once the
 *            server's market is frozen, every book equals the server's.
 *   replay:  a recording of a live run, replayed, gives the same books and
 *            the same events.
 *
 * The binaries are the ones next to this test runner (build/ or
 * build/asan/), so `make asan` runs the sanitized daemon and server.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "liqmon/dec.h"
#include "suites.h"

struct env {
    char bin[2048];           /* directory of the binaries */
    char dir[64];             /* temp dir */
    char cert[2200], key[2200];
    pid_t vsim, daemon;
    int port;
};

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void find_bin(struct env *e)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    ck_assert_uint_lt(strlen(self), sizeof(e->bin));
    memcpy(e->bin, self, strlen(self) + 1);
}

static pid_t spawn(char *const argv[], const char *out, const char *errf)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo >= 0)
            dup2(fo, 1);
        if (fe >= 0)
            dup2(fe, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    int status;

    for (int t = 0; t < timeout_ms; t += 50) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void start_vsim(struct env *e)
{
    char gen[PATH_MAX], out[PATH_MAX], err[PATH_MAX], port[16];

    snprintf(gen, sizeof(gen), "%s/liqmon-venue", e->bin);
    {
        char *argv[] = { gen, "--gen-cert", e->dir, NULL };
        snprintf(out, sizeof(out), "%s/gencert.out", e->dir);
        ck_assert_int_eq(wait_exit(spawn(argv, out, out), 20000), 0);
    }
    snprintf(e->cert, sizeof(e->cert), "%s/localhost.crt", e->dir);
    snprintf(e->key, sizeof(e->key), "%s/localhost.key", e->dir);
    snprintf(out, sizeof(out), "%s/vsim.out", e->dir);
    snprintf(err, sizeof(err), "%s/vsim.err", e->dir);
    char *argv[] = { gen, "--generate", "--seed", "7", "--port", "0", "--tls",
                     "--cert", e->cert, "--key", e->key, NULL };
    e->vsim = spawn(argv, out, err);
    /* "liqmon-venue: listening on 127.0.0.1:PORT (wss)" */
    for (int t = 0; t < 200 && e->port == 0; t++) {
        FILE *f = fopen(out, "r");
        char line[256];
        if (f && fgets(line, sizeof(line), f)) {
            char *c = strstr(line, "127.0.0.1:");
            if (c)
                e->port = atoi(c + 10);
        }
        if (f)
            fclose(f);
        if (e->port == 0)
            sleep_ms(50);
    }
    (void)port;
    ck_assert_msg(e->port > 0, "liqmon-venue did not start (see %s)", err);
}

static void write_config(struct env *e, const char *path, const char *extra)
{
    FILE *f = fopen(path, "w");
    char cwd[2048];

    ck_assert_ptr_nonnull(f);
    /* relative paths in a config are relative to its own directory */
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    fprintf(f,
            "[daemon]\n"
            "instruments_dir = %s/conf/instruments\n"
            "positions = %s/conf/examples/positions.csv\n"
            "ca_file = %s\n"
            "stale_after = 5s\n"
            "backoff_min = 100ms\n"
            "backoff_max = 1s\n"
            "status_interval = 0\n%s"
            "[venue binance-usdm]\nsymbols = BTCUSDT ETHUSDT\n"
            "ws_public_url = wss://localhost:%d/public\n"
            "ws_market_url = wss://localhost:%d/market\n"
            "rest_url = https://localhost:%d\n"
            "[venue bybit-linear]\nsymbols = BTCUSDT ETHUSDT\n"
            "ws_url = wss://localhost:%d/v5/public/linear\n"
            "[venue okx-swap]\nsymbols = BTC-USDT-SWAP ETH-USDT-SWAP\n"
            "ws_url = wss://localhost:%d/ws/v5/public\n"
            "rest_url = https://localhost:%d\n"
            "[venue hyperliquid]\nsymbols = BTC ETH\n"
            "ws_url = wss://localhost:%d/ws\n",
            cwd, cwd, e->cert, extra, e->port, e->port, e->port, e->port, e->port,
            e->port, e->port);
    fclose(f);
}

/* GET over TLS from the test server, verifying it with the test CA.
 * Returns the malloc'd body or NULL. */
static char *https_get(struct env *e, const char *path)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = -1;
    char *resp = NULL, *body = NULL;
    size_t n = 0, cap = 0;
    struct sockaddr_in sa;

    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, e->cert, NULL) != 1)
        goto out;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)e->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) != 1)
        goto out;
    char req[512];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                      "Connection: close\r\n\r\n", path);
    if (SSL_write(ssl, req, rl) != rl)
        goto out;
    for (;;) {
        if (cap - n < 65536) {
            char *nr = realloc(resp, cap + 262144);
            if (nr == NULL)
                goto out;
            resp = nr;
            cap += 262144;
        }
        int got = SSL_read(ssl, resp + n, (int)(cap - n - 1));
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (resp == NULL)
        goto out;
    resp[n] = '\0';
    char *b = strstr(resp, "\r\n\r\n");
    if (b && strncmp(resp, "HTTP/1.1 200", 12) == 0)
        body = strdup(b + 4);
out:
    free(resp);
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return body;
}

static void control(struct env *e, const char *action, const char *venue)
{
    char path[256];
    char *b;

    snprintf(path, sizeof(path), "/control?action=%s%s%s", action,
             venue ? "&venue=" : "", venue ? venue : "");
    b = https_get(e, path);
    ck_assert_msg(b != NULL, "GET %s failed", path);
    free(b);
}

static void setup_env(struct env *e)
{
    memset(e, 0, sizeof(*e));
    find_bin(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/liqmon-integ-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    start_vsim(e);
}

static void teardown_env(struct env *e)
{
    char cmd[128];

    if (e->daemon > 0) {
        kill(e->daemon, SIGKILL);
        waitpid(e->daemon, NULL, 0);
    }
    if (e->vsim > 0) {
        kill(e->vsim, SIGTERM);
        if (wait_exit(e->vsim, 5000) < 0)
            fprintf(stderr, "integ: liqmon-venue did not exit on SIGTERM\n");
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    if (getenv("LIQMON_KEEP_INTEG") == NULL && system(cmd) != 0)
        fprintf(stderr, "integ: could not remove %s\n", e->dir);
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);

    ck_assert_msg(j != NULL, "%s: %s", path, je.text);
    return j;
}

static dec_t jdec(const json_t *v)
{
    dec_t d = 0;

    if (json_is_string(v))
        ck_assert_int_eq(dec_parse(json_string_value(v), json_string_length(v), &d), DEC_OK);
    else if (json_is_integer(v))
        dec_from_int(json_integer_value(v), &d);
    else
        ck_assert_int_eq(dec_from_double(json_number_value(v), &d), DEC_OK);
    return d;
}

static double jnum(const json_t *v)
{
    return json_is_string(v) ? strtod(json_string_value(v), NULL) : json_number_value(v);
}

/* The daemon's book (base units) against the server's (venue units). */
static void compare_book(const char *key, const json_t *mine, const json_t *srv,
                         dec_t ctval)
{
    const char *sides[] = { "bids", "asks" };

    for (int s = 0; s < 2; s++) {
        const json_t *a = json_object_get(mine, sides[s]);
        const json_t *b = json_object_get(srv, sides[s]);
        ck_assert_msg(json_array_size(a) == json_array_size(b),
                      "%s %s: %zu levels, server has %zu", key, sides[s],
                      json_array_size(a), json_array_size(b));
        ck_assert_msg(json_array_size(a) > 0, "%s %s: empty", key, sides[s]);
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *la = json_array_get(a, i), *lb = json_array_get(b, i);
            double pa = jnum(json_array_get(la, 0)), pb = jnum(json_array_get(lb, 0));
            dec_t qa = jdec(json_array_get(la, 1));
            dec_t qb = jdec(json_array_get(lb, 1)) * ctval / DEC_SCALE;
            ck_assert_msg(pa == pb && qa == qb, "%s %s[%zu]: %.17g x %.8f, server "
                          "%.17g x %.8f", key, sides[s], i, pa,
                          (double)qa / 1e8, pb, (double)qb / 1e8);
        }
    }
}

struct instr_ref {
    const char *venue, *symbol;
    dec_t ctval;
};

static const struct instr_ref instruments[] = {
    { "binance-usdm", "BTCUSDT", DEC_SCALE },
    { "binance-usdm", "ETHUSDT", DEC_SCALE },
    { "bybit-linear", "BTCUSDT", DEC_SCALE },
    { "bybit-linear", "ETHUSDT", DEC_SCALE },
    { "okx-swap", "BTC-USDT-SWAP", DEC_SCALE / 100 },
    { "okx-swap", "ETH-USDT-SWAP", DEC_SCALE / 10 },
    { "hyperliquid", "BTC", DEC_SCALE },
    { "hyperliquid", "ETH", DEC_SCALE },
};

/* Freeze the server's market, let queued frames land, then compare every
 * book with the server's.  A frozen market sends nothing, so all of this
 * happens well inside the daemon's stale_after (5 s), even under ASan. */
static void freeze_and_compare(struct env *e, const char *state_path, json_t **state)
{
    json_t *srv[8];
    char path[256];

    control(e, "freeze", NULL);
    sleep_ms(800);
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "/state?venue=%s&symbol=%s", instruments[i].venue,
                 instruments[i].symbol);
        char *b = https_get(e, path);
        json_error_t je;
        ck_assert_msg(b != NULL, "GET %s", path);
        srv[i] = json_loads(b, 0, &je);
        ck_assert_msg(srv[i] != NULL, "GET %s: %s", path, je.text);
        free(b);
    }
    kill(e->daemon, SIGTERM);
    ck_assert_int_eq(wait_exit(e->daemon, 15000), 0);
    e->daemon = 0;
    *state = load_json(state_path);
    const json_t *ins = json_object_get(*state, "instruments");
    for (int i = 0; i < 8; i++) {
        char key[96];
        snprintf(key, sizeof(key), "%s:%s", instruments[i].venue, instruments[i].symbol);
        const json_t *mine = json_object_get(ins, key);
        ck_assert_msg(mine != NULL, "%s missing from the state", key);
        ck_assert_msg(json_is_true(json_object_get(mine, "book_valid")),
                      "%s: book not valid: %s", key,
                      json_string_value(json_object_get(mine, "invalid_reason")));
        compare_book(key, mine, srv[i], instruments[i].ctval);
        json_decref(srv[i]);
    }
}

static uint64_t conn_stat(const json_t *state, const char *venue, const char *name,
                          const char *field)
{
    const json_t *arr = json_object_get(state, "connections");
    uint64_t sum = 0;

    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        if (strcmp(json_string_value(json_object_get(c, "venue")), venue) == 0 &&
            (name == NULL || strcmp(json_string_value(json_object_get(c, "name")), name) == 0))
            sum += (uint64_t)json_integer_value(json_object_get(c, field));
    }
    return sum;
}

static uint64_t venue_stat(const json_t *state, const char *venue, const char *group,
                           const char *field)
{
    const json_t *v = json_object_get(json_object_get(state, "venues"), venue);
    if (group)
        v = json_object_get(v, group);
    return (uint64_t)json_integer_value(json_object_get(v, field));
}

static uint64_t resyncs(const json_t *state, const char *key)
{
    const json_t *in = json_object_get(json_object_get(state, "instruments"), key);
    return (uint64_t)json_integer_value(json_object_get(in, "resyncs"));
}

/* Paths of one daemon run, all inside the test's directory. */
struct run {
    char conf[PATH_MAX], state[PATH_MAX], out[PATH_MAX], err[PATH_MAX],
         daemon[PATH_MAX];
};

/* Write the config (extra lines go to [daemon]) and start liqmond with
 * --state-out; a --run-for guards against a test that never stops it. */
static void start_daemon(struct env *e, struct run *r, const char *extra)
{
    snprintf(r->conf, sizeof(r->conf), "%s/liqmond.conf", e->dir);
    snprintf(r->state, sizeof(r->state), "%s/state.json", e->dir);
    snprintf(r->out, sizeof(r->out), "%s/liqmond.out", e->dir);
    snprintf(r->err, sizeof(r->err), "%s/liqmond.err", e->dir);
    snprintf(r->daemon, sizeof(r->daemon), "%s/liqmond", e->bin);
    write_config(e, r->conf, extra);
    char *argv[] = { r->daemon, "--config", r->conf, "--state-out", r->state,
                     "--run-for", "120", NULL };
    e->daemon = spawn(argv, r->out, r->err);
}

START_TEST(test_live_misbehaving_venue)
{
    struct env e;
    struct run r;
    json_t *state = NULL;

    setup_env(&e);
    start_daemon(&e, &r, "");
    sleep_ms(3000);
    ck_assert_int_eq(waitpid(e.daemon, NULL, WNOHANG), 0);

    control(&e, "drop", "binance-usdm");            /* reconnect + resync */
    sleep_ms(1000);
    control(&e, "garbage", NULL);                   /* every venue */
    control(&e, "oversize", "okx-swap");            /* 5 MiB > 4 MiB limit */
    sleep_ms(1000);
    control(&e, "skip-seq", "bybit-linear");        /* a lost update */
    control(&e, "skip-seq", "okx-swap");
    control(&e, "skip-seq", "binance-usdm");
    sleep_ms(1000);
    control(&e, "stall", "hyperliquid");            /* stale after 5 s */
    sleep_ms(6500);
    control(&e, "resume", "hyperliquid");
    sleep_ms(3000);
    ck_assert_msg(waitpid(e.daemon, NULL, WNOHANG) == 0, "liqmond died (see %s)", r.err);

    freeze_and_compare(&e, r.state, &state);

    /* What went wrong was noticed, counted, and recovered from. */
    ck_assert_uint_ge(conn_stat(state, "binance-usdm", NULL, "connects"), 3);
    ck_assert_uint_ge(conn_stat(state, "okx-swap", NULL, "oversized"), 1);
    ck_assert_uint_ge(conn_stat(state, "okx-swap", NULL, "connects"), 2);
    ck_assert_uint_ge(conn_stat(state, "hyperliquid", NULL, "stale"), 1);
    ck_assert_uint_ge(conn_stat(state, "hyperliquid", NULL, "connects"), 2);
    ck_assert_uint_ge(venue_stat(state, "bybit-linear", "rejected_by_reason", "json"), 1);
    ck_assert_uint_ge(venue_stat(state, "hyperliquid", "rejected_by_reason", "json"), 1);
    ck_assert_uint_ge(venue_stat(state, "binance-usdm", "rejected_by_reason", "json"), 1);
    ck_assert_uint_ge(venue_stat(state, "bybit-linear", "rejected_by_reason", "unknown_type"), 1);
    ck_assert_uint_ge(resyncs(state, "bybit-linear:BTCUSDT"), 1);
    ck_assert_uint_ge(resyncs(state, "okx-swap:BTC-USDT-SWAP"), 1);
    ck_assert_uint_ge(resyncs(state, "binance-usdm:BTCUSDT"), 1);
    json_decref(state);
    teardown_env(&e);
}
END_TEST

START_TEST(test_record_then_replay)
{
    struct env e;
    struct run r;
    char state2[PATH_MAX], rec[PATH_MAX], extra[PATH_MAX + 32];
    json_t *live = NULL, *replay;

    setup_env(&e);
    snprintf(state2, sizeof(state2), "%s/state-replay.json", e.dir);
    snprintf(rec, sizeof(rec), "%s/capture", e.dir);
    snprintf(extra, sizeof(extra), "record_dir = %s\n", rec);
    start_daemon(&e, &r, extra);
    sleep_ms(5000);
    freeze_and_compare(&e, r.state, &live);

    /* Replay every hourly file of the recording, in name order. */
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof(cmd), "ls %s/capture-*.jsonl > %s/files", rec, e.dir);
    ck_assert_int_eq(system(cmd), 0);
    char files[8][PATH_MAX];
    int nf = 0;
    snprintf(cmd, sizeof(cmd), "%s/files", e.dir);
    FILE *fl = fopen(cmd, "r");
    ck_assert_ptr_nonnull(fl);
    while (nf < 8 && fgets(files[nf], PATH_MAX, fl)) {
        files[nf][strcspn(files[nf], "\n")] = '\0';
        nf++;
    }
    fclose(fl);
    ck_assert_int_ge(nf, 1);
    char *rargv[20] = { r.daemon, "--config", r.conf, "--state-out", state2, "--replay" };
    int ra = 6;
    for (int i = 0; i < nf; i++)
        rargv[ra++] = files[i];
    rargv[ra] = NULL;
    ck_assert_int_eq(wait_exit(spawn(rargv, r.out, r.err), 60000), 0);
    replay = load_json(state2);

    /* Same books, level for level; same events, type for type. */
    const json_t *li = json_object_get(live, "instruments");
    const json_t *ri = json_object_get(replay, "instruments");
    const char *key;
    const json_t *lv;
    json_object_foreach((json_t *)li, key, lv) {
        const json_t *rv = json_object_get(ri, key);
        ck_assert_ptr_nonnull(rv);
        ck_assert_msg(json_is_true(json_object_get(rv, "book_valid")),
                      "replay %s: book not valid", key);
        compare_book(key, rv, lv, DEC_SCALE);
    }
    const json_t *lvs = json_object_get(live, "venues");
    const json_t *vv;
    json_object_foreach((json_t *)lvs, key, vv) {
        const json_t *ev = json_object_get(vv, "events");
        const json_t *rev = json_object_get(json_object_get(json_object_get(replay, "venues"),
                                                            key), "events");
        const char *t;
        const json_t *n;
        json_object_foreach((json_t *)ev, t, n) {
            if (strcmp(t, "feed") == 0)
                continue;     /* connection events exist only live */
            ck_assert_msg(json_integer_value(n) == json_integer_value(json_object_get(rev, t)),
                          "%s %s events: live %lld, replay %lld", key, t,
                          (long long)json_integer_value(n),
                          (long long)json_integer_value(json_object_get(rev, t)));
        }
        ck_assert_msg(json_integer_value(json_object_get(vv, "frames")) ==
                      json_integer_value(json_object_get(json_object_get(
                          json_object_get(replay, "venues"), key), "frames")),
                      "%s: frames differ between live and replay", key);
    }
    json_decref(live);
    json_decref(replay);
    teardown_env(&e);
}
END_TEST

/* Binance closes connections at 24 h; the feed replaces them before that,
 * make-before-break.  With a 5 s age, every connection is replaced during
 * the run, and no book may see a gap (no resync) or end unlike the
 * server's. */
START_TEST(test_planned_replacement_no_gap)
{
    struct env e;
    struct run r;
    json_t *state = NULL;

    setup_env(&e);
    start_daemon(&e, &r, "max_connection_age = 5s\n");
    sleep_ms(12000);
    freeze_and_compare(&e, r.state, &state);
    const char *venues[] = { "binance-usdm", "bybit-linear", "okx-swap", "hyperliquid" };
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(conn_stat(state, venues[i], NULL, "replacements") >= 1,
                      "%s: no connection was replaced", venues[i]);
        ck_assert_msg(conn_stat(state, venues[i], NULL, "disconnects") == 0,
                      "%s: a connection went down during its replacement", venues[i]);
    }
    for (int i = 0; i < 8; i++) {
        char key[96];
        snprintf(key, sizeof(key), "%s:%s", instruments[i].venue, instruments[i].symbol);
        ck_assert_msg(resyncs(state, key) == 0, "%s: the book resynced during a "
                      "planned replacement", key);
    }
    json_decref(state);
    teardown_env(&e);
}
END_TEST

Suite *integ_suite(void)
{
    Suite *s = suite_create("integ");
    TCase *tc = tcase_create("loopback");

    /* Real processes and sleeps: generous, and more under ASan. */
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_live_misbehaving_venue);
    tcase_add_test(tc, test_record_then_replay);
    tcase_add_test(tc, test_planned_replacement_no_gap);
    suite_add_tcase(s, tc);
    return s;
}
