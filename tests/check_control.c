/*
 * check_control.c - the control API (src/svc/control.c) end to end: a
 * market of two instruments, an engine with positions, a pipeline without
 * a store, a feed on a uv loop serving the API on a Unix socket and a
 * loopback port, and a client thread that asks every endpoint while the
 * loop runs.  The client only records answers; the checks run on the test
 * thread once the loop has stopped (Check's asserts belong there).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <uv.h>

#include "liqmon/control.h"
#include "liqmon/engine.h"
#include "liqmon/feed.h"
#include "liqmon/instrument.h"
#include "liqmon/market.h"
#include "liqmon/pipeline.h"
#include "suites.h"

/* ---- a tiny HTTP/1.1 client (as check_feed.c's) -------------------------- */

struct cresp {
    int rc;                        /* 0: answered */
    int status;
    char head[2048];
    char *body;
    size_t len;
};

static const char *ci_find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static int cconnect(const char *unix_path, int port)
{
    struct timeval tv = { 5, 0 };
    int fd;

    if (unix_path) {
        struct sockaddr_un sa;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", unix_path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return -1;
        }
    } else {
        struct sockaddr_in a;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int csend(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cread(int fd, struct cresp *r)
{
    static char buf[1 << 20];
    size_t n = 0, want;
    const char *cl;
    char *e;

    for (;;) {
        ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        buf[n] = '\0';
        if ((e = strstr(buf, "\r\n\r\n")) != NULL)
            break;
    }
    *e = '\0';
    snprintf(r->head, sizeof(r->head), "%.2000s", buf);
    if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    cl = ci_find(r->head, "content-length:");
    want = cl ? (size_t)strtoul(cl + 15, NULL, 10) : (size_t)-1;
    n -= (size_t)(e + 4 - buf);
    memmove(buf, e + 4, n);
    while (want == (size_t)-1 ? 1 : n < want) {
        ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (k <= 0) {
            if (want == (size_t)-1)
                break;
            return -1;
        }
        n += (size_t)k;
    }
    r->len = want == (size_t)-1 ? n : want;
    r->body = malloc(r->len + 1);
    memcpy(r->body, buf, r->len);
    r->body[r->len] = '\0';
    return 0;
}

/* ---- the fixture ----------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    uv_timer_t poll;
    feed_t *f;
    market_t *m;
    engine_t *e;
    pipeline_t *p;
    control_t *c;
    struct mkt_instr *btc, *eth;
    char dir[64], sock[128];
    int port;
    volatile int done;
};

static int64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct mkt_instr *add_instr(market_t *m, enum venue_id v, const char *file)
{
    struct instrument ins;
    struct mkt_instr *in;
    lq_err_t err;

    memset(&ins, 0, sizeof(ins));
    ck_assert_msg(instrument_load_file(file, &ins, &err) == 0, "%s", err.msg);
    in = market_add(m, v, &ins, &err);
    ck_assert_msg(in != NULL, "%s", err.msg);
    instrument_fini(&ins);
    return in;
}

static void add_pos(engine_t *e, struct mkt_instr *in, const char *id, enum pos_side side,
                    const char *qty, double lp)
{
    struct pos_spec s;
    lq_err_t err;

    memset(&s, 0, sizeof(s));
    s.id = id;
    s.account = "acct";
    s.side = side;
    ck_assert_int_eq(dec_parse(qty, strlen(qty), &s.qty), 0);
    s.liq_price = lp;
    ck_assert_msg(pindex_insert(engine_pindex(e, in), &s, NULL, &err) == PINDEX_OK,
                  "%s", err.msg);
}

/* A book of 20 levels a side around mid, then a mark: the ladder runs. */
static void set_market(struct fx *x, struct mkt_instr *in, double mid, double mark)
{
    struct book_level b[20], a[20];
    struct mkt_event ev;

    for (int i = 0; i < 20; i++) {
        b[i].price = mid * (1 - 0.001 * (i + 1));
        a[i].price = mid * (1 + 0.001 * (i + 1));
        b[i].qty = a[i].qty = 5 * (dec_t)DEC_SCALE;
    }
    ck_assert_int_eq(market_apply_snapshot(in, b, 20, a, 20, 1), BOOK_OK);
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_BOOK_SNAPSHOT;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = wall_ns();
    pipeline_on_event(x->p, &ev);
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_MARK;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = wall_ns();
    ev.u.mark.mark = mark;
    pipeline_on_event(x->p, &ev);
}

static void fx_setup(struct fx *x, size_t max_body)
{
    struct engine_config ec;
    struct pipeline_config pc;
    struct feed_config fc;
    struct control_deps cd;
    char tcp[] = "127.0.0.1:0";
    struct stat st;
    lq_err_t err;

    memset(x, 0, sizeof(*x));
    snprintf(x->dir, sizeof(x->dir), "/tmp/check_control.XXXXXX");
    ck_assert(mkdtemp(x->dir) != NULL);
    snprintf(x->sock, sizeof(x->sock), "%s/ctl.sock", x->dir);

    x->m = market_create();
    x->btc = add_instr(x->m, VENUE_BINANCE, "conf/instruments/binance-usdm-BTCUSDT.json");
    x->eth = add_instr(x->m, VENUE_BYBIT, "conf/instruments/bybit-linear-ETHUSDT.json");
    engine_config_default(&ec);
    x->e = engine_create(x->m, &ec, &err);
    ck_assert_msg(x->e != NULL, "%s", err.msg);
    add_pos(x->e, x->btc, "L1", POS_LONG, "1.5", 90000);
    add_pos(x->e, x->btc, "S1", POS_SHORT, "2", 110000);
    add_pos(x->e, x->btc, "dup", POS_LONG, "0.1", 80000);
    add_pos(x->e, x->eth, "E1", POS_LONG, "10", 1800);
    add_pos(x->e, x->eth, "dup", POS_SHORT, "1", 2500);
    pipeline_config_default(&pc);
    pc.store.path = NULL;
    x->p = pipeline_create(x->m, x->e, &pc, &err);
    ck_assert_msg(x->p != NULL, "%s", err.msg);

    ck_assert_int_eq(uv_loop_init(&x->loop), 0);
    uv_timer_init(&x->loop, &x->poll);
    x->poll.data = x;
    feed_config_default(&fc);
    x->f = feed_create(&x->loop, &fc, &err);
    ck_assert_msg(x->f != NULL, "%s", err.msg);

    memset(&cd, 0, sizeof(cd));
    cd.mkt = x->m;
    cd.eng = x->e;
    cd.pipe = x->p;
    cd.feed = x->f;
    cd.started_ns = wall_ns() - 2000000000LL;
    cd.version = "test-1";
    x->c = control_create(&cd, &err);
    ck_assert_msg(x->c != NULL, "%s", err.msg);
    x->port = control_listen(x->c, x->f, x->sock, 0660, tcp, max_body, &err);
    ck_assert_msg(x->port > 0, "%s", err.msg);
    ck_assert_int_eq(lstat(x->sock, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_msg((st.st_mode & 07777) == 0660, "mode %o", st.st_mode & 07777);
    /* a second listen is refused */
    ck_assert_int_eq(control_listen(x->c, x->f, NULL, 0, tcp, 0, &err), -1);

    /* BTC: a valid ladder far from every LP; ETH: the mark 1.6% above
     * E1's LP, inside crit (2%): position_near fires critical. */
    set_market(x, x->btc, 100000, 100000);
    set_market(x, x->eth, 1830, 1830);
}

static void fx_poll(uv_timer_t *h)
{
    struct fx *x = h->data;

    if (x->done) {
        uv_timer_stop(&x->poll);
        uv_stop(&x->loop);
    }
}

static void fx_run(struct fx *x, void *(*client)(void *))
{
    pthread_t th;

    uv_timer_start(&x->poll, fx_poll, 5, 5);
    ck_assert_int_eq(pthread_create(&th, NULL, client, x), 0);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    uv_timer_stop(&x->poll);
}

static void fx_teardown(struct fx *x)
{
    struct stat st;
    lq_err_t err;

    feed_stop(x->f);
    uv_close((uv_handle_t *)&x->poll, NULL);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    feed_destroy(x->f);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&x->loop), 0);
    ck_assert(lstat(x->sock, &st) != 0);          /* removed by feed_stop */
    ck_assert_int_eq(pipeline_close(x->p, NULL, &err), 0);
    control_destroy(x->c);
    engine_destroy(x->e);
    market_destroy(x->m);
    rmdir(x->dir);
}

/* ---- the requests ---------------------------------------------------------- */

#define NREQ 40
static struct cresp R[NREQ];
static size_t max_body_test = 4096;

static void req(struct fx *x, int i, int tcp, const char *method, const char *target,
                const char *ctype, const char *body)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int fd = cconnect(tcp ? NULL : x->sock, x->port), n;

    R[i].rc = -1;
    if (fd < 0)
        return;
    n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                 "%s%s%s", method, target, ctype ? "Content-Type: " : "",
                 ctype ? ctype : "", ctype ? "\r\n" : "");
    if (body)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", blen);
    n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    if (csend(fd, head, (size_t)n) == 0 && (blen == 0 || csend(fd, body, blen) == 0))
        R[i].rc = cread(fd, &R[i]);
    close(fd);
}

enum {
    Q_STATUS, Q_STATUS_TCP, Q_INSTR, Q_POS_BTC, Q_POS_ALL, Q_POS_LIMIT, Q_POS_UNKNOWN,
    Q_CASCADE, Q_CASCADE_404, Q_ACTIVE, Q_ALERTS, Q_ALERTS_FILTER, Q_ALERTS_NONE,
    Q_ALERTS_BADSINCE, Q_POST_OBJ, Q_POST_ARR, Q_POST_CSV, Q_POST_NDJSON, Q_POST_BAD_JSON,
    Q_POST_BAD_CSV, Q_POST_MALFORMED, Q_POST_CTYPE, Q_POST_BIG, Q_DEL, Q_DEL_AGAIN,
    Q_DEL_AMBIG, Q_DEL_ETH, Q_405, Q_405_DEL, Q_404, Q_POS_AFTER, Q_N
};

static void *client_main(void *arg)
{
    struct fx *x = arg;
    char *big;

    req(x, Q_STATUS, 0, "GET", "/v1/status", NULL, NULL);
    req(x, Q_STATUS_TCP, 1, "GET", "/v1/status", NULL, NULL);
    req(x, Q_INSTR, 0, "GET", "/v1/instruments", NULL, NULL);
    req(x, Q_POS_BTC, 0, "GET", "/v1/positions?instrument=binance-usdm:BTCUSDT", NULL, NULL);
    req(x, Q_POS_ALL, 1, "GET", "/v1/positions", NULL, NULL);
    req(x, Q_POS_LIMIT, 0, "GET", "/v1/positions?limit=2", NULL, NULL);
    req(x, Q_POS_UNKNOWN, 0, "GET", "/v1/positions?instrument=binance-usdm:NOPE", NULL, NULL);
    req(x, Q_CASCADE, 0, "GET", "/v1/cascade/binance-usdm/BTCUSDT", NULL, NULL);
    req(x, Q_CASCADE_404, 0, "GET", "/v1/cascade/binance-usdm/NOPE", NULL, NULL);
    req(x, Q_ACTIVE, 0, "GET", "/v1/alerts/active", NULL, NULL);
    req(x, Q_ALERTS, 0, "GET", "/v1/alerts", NULL, NULL);
    req(x, Q_ALERTS_FILTER, 0, "GET", "/v1/alerts?since=2020-01-01T00:00:00Z"
        "&kind=position_near&severity=critical&limit=5", NULL, NULL);
    req(x, Q_ALERTS_NONE, 0, "GET", "/v1/alerts?severity=warning", NULL, NULL);
    req(x, Q_ALERTS_BADSINCE, 0, "GET", "/v1/alerts?since=yesterday", NULL, NULL);
    req(x, Q_POST_OBJ, 0, "POST", "/v1/positions", "application/json",
        "{\"id\":\"A1\",\"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\",\"side\":\"long\","
        "\"qty\":0.5,\"entry\":100000,\"margin\":6000}");
    req(x, Q_POST_ARR, 0, "POST", "/v1/positions", "application/json; charset=utf-8",
        "[\n {\"id\":\"A1\",\"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\",\"side\":\"long\","
        "\"qty\":\"3\",\"entry\":99000,\"liq_price\":85000},\n"
        " {\"id\":\"A2\",\"account\":\"x,y\",\"venue\":\"bybit-linear\",\"symbol\":\"ETHUSDT\","
        "\"side\":\"short\",\"qty\":1.25,\"entry\":2000,\"liq_price\":2600}\n]");
    req(x, Q_POST_CSV, 1, "POST", "/v1/positions", "text/csv",
        "id,venue,symbol,side,qty,entry,margin,liq_price\n"
        "C1,binance-usdm,BTCUSDT,short,0.25,100000,,120000\n"
        "L1,binance-usdm,BTCUSDT,long,4,100000,,91000\n");
    req(x, Q_POST_NDJSON, 0, "POST", "/v1/positions", "application/x-ndjson",
        "{\"id\":\"N1\",\"venue\":\"bybit-linear\",\"symbol\":\"ETHUSDT\",\"side\":\"long\",\"qty\":2,\"entry\":1800,\"liq_price\":1500}\n"
        "{\"id\":\"N2\",\"venue\":\"bybit-linear\",\"symbol\":\"ETHUSDT\",\"side\":\"short\",\"qty\":2,\"entry\":1800,\"liq_price\":2500}\n");
    req(x, Q_POST_BAD_JSON, 0, "POST", "/v1/positions", "application/json",
        "[{\"id\":\"G1\",\"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\",\"side\":\"long\",\"qty\":1,\"entry\":2,\"liq_price\":1},"
        "{\"id\":\"G2\",\"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\",\"side\":\"long\",\"qty\":-1,\"entry\":2,\"liq_price\":1},"
        "{\"id\":\"G3\",\"venue\":\"binance-usdm\",\"symbol\":\"XYZUSDT\",\"side\":\"long\",\"qty\":1,\"entry\":2,\"liq_price\":1}]");
    req(x, Q_POST_BAD_CSV, 0, "POST", "/v1/positions", "text/csv",
        "id,venue,symbol,side,qty,entry,liq_price\n"
        "H1,binance-usdm,BTCUSDT,long,1,60000,50000\n"
        "H2,binance-usdm,BTCUSDT,sideways,1,60000,50000\n");
    req(x, Q_POST_MALFORMED, 0, "POST", "/v1/positions", "application/json",
        "{\"id\":\"M1\",\n \"qty\": }");
    req(x, Q_POST_CTYPE, 0, "POST", "/v1/positions", "text/plain", "x");
    big = malloc(max_body_test + 2);
    memset(big, ' ', max_body_test + 1);
    big[0] = '[';
    big[max_body_test + 1] = '\0';
    req(x, Q_POST_BIG, 0, "POST", "/v1/positions", "application/json", big);
    free(big);
    req(x, Q_DEL, 0, "DELETE", "/v1/positions/C1", NULL, NULL);
    req(x, Q_DEL_AGAIN, 0, "DELETE", "/v1/positions/C1", NULL, NULL);
    req(x, Q_DEL_AMBIG, 0, "DELETE", "/v1/positions/dup", NULL, NULL);
    req(x, Q_DEL_ETH, 1, "DELETE", "/v1/positions/dup?instrument=bybit-linear:ETHUSDT",
        NULL, NULL);
    req(x, Q_405, 0, "PUT", "/v1/status", "application/json", "{}");
    req(x, Q_405_DEL, 0, "GET", "/v1/positions/L1", NULL, NULL);
    req(x, Q_404, 0, "GET", "/v2/nothing", NULL, NULL);
    req(x, Q_POS_AFTER, 0, "GET", "/v1/positions?instrument=binance-usdm:BTCUSDT", NULL, NULL);
    x->done = 1;
    return NULL;
}

/* The body of answer i as JSON (asserted to parse); the caller decrefs. */
static json_t *jbody(int i, int status)
{
    json_error_t je;
    json_t *j;

    ck_assert_msg(R[i].rc == 0, "request %d: no answer", i);
    ck_assert_msg(R[i].status == status, "request %d: status %d, want %d: %s", i,
                  R[i].status, status, R[i].body);
    ck_assert_msg(ci_find(R[i].head, "content-type: application/json") != NULL,
                  "request %d: %s", i, R[i].head);
    j = json_loads(R[i].body, 0, &je);
    ck_assert_msg(j != NULL, "request %d: not JSON (%s): %s", i, je.text, R[i].body);
    return j;
}

/* An error answer: status, "error" and "where" present, where as given. */
static void jerror(int i, int status, const char *where, const char *needle)
{
    json_t *j = jbody(i, status);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *w = json_string_value(json_object_get(j, "where"));

    ck_assert_msg(e != NULL && w != NULL, "request %d: %s", i, R[i].body);
    if (where)
        ck_assert_msg(strcmp(w, where) == 0, "request %d: where %s: %s", i, w, R[i].body);
    if (needle)
        ck_assert_msg(strstr(R[i].body, needle) != NULL, "request %d: no '%s' in %s",
                      i, needle, R[i].body);
    json_decref(j);
}

static json_t *find_pos(json_t *arr, const char *id)
{
    size_t k;
    json_t *v;

    json_array_foreach(arr, k, v)
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return v;
    return NULL;
}

START_TEST(test_endpoints)
{
    struct fx x;
    json_t *j, *a, *v;
    uint32_t h;

    memset(R, 0, sizeof(R));
    fx_setup(&x, max_body_test);
    ck_assert_uint_ge(control_alert_count(x.c), 1);
    fx_run(&x, client_main);

    /* status, both listeners */
    for (int i = Q_STATUS; i <= Q_STATUS_TCP; i++) {
        j = jbody(i, 200);
        ck_assert_str_eq(json_string_value(json_object_get(j, "version")), "test-1");
        ck_assert(json_number_value(json_object_get(j, "uptime_s")) >= 2);
        ck_assert(json_is_array(json_object_get(j, "connections")));
        ck_assert(json_is_object(json_object_get(j, "venues")));
        v = json_object_get(j, "instruments");
        ck_assert_int_eq(json_integer_value(json_object_get(v, "total")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(v, "book_valid")), 2);
        v = json_object_get(j, "positions");
        ck_assert_int_eq(json_integer_value(json_object_get(v, "total")), 5);
        ck_assert_int_eq(json_integer_value(json_object_get(v, "long")), 3);
        ck_assert_int_eq(json_integer_value(json_object_get(v, "short")), 2);
        ck_assert(json_is_null(json_object_get(j, "store")));
        ck_assert(json_is_null(json_object_get(j, "loop_lag_ms")));
        ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(j, "alerts"),
                                                            "firing")), 1);
        json_decref(j);
    }
    /* instruments: render_instruments, no levels */
    j = jbody(Q_INSTR, 200);
    v = json_object_get(j, "binance-usdm:BTCUSDT");
    ck_assert(v != NULL && json_object_get(j, "bybit-linear:ETHUSDT") != NULL);
    ck_assert(json_is_true(json_object_get(v, "book_valid")));
    ck_assert(json_object_get(v, "ladder") != NULL);
    ck_assert(json_object_get(v, "bids") == NULL);
    json_decref(j);
    /* positions: one instrument, all, a limit, an unknown instrument */
    j = jbody(Q_POS_BTC, 200);
    a = json_object_get(j, "positions");
    ck_assert_uint_eq(json_array_size(a), 3);
    v = find_pos(a, "L1");
    ck_assert(v != NULL);
    ck_assert_str_eq(json_string_value(json_object_get(v, "side")), "long");
    ck_assert_str_eq(json_string_value(json_object_get(v, "account")), "acct");
    ck_assert(json_number_value(json_object_get(v, "qty")) == 1.5);
    ck_assert(json_number_value(json_object_get(v, "liq_price")) == 90000);
    ck_assert(json_is_true(json_object_get(v, "in_cascade")));
    ck_assert(json_is_false(json_object_get(v, "liquidated")));
    ck_assert(json_is_null(json_object_get(v, "margin")));
    ck_assert(json_is_false(json_object_get(j, "truncated")));
    json_decref(j);
    j = jbody(Q_POS_ALL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "positions")), 5);
    ck_assert(json_is_null(json_object_get(j, "instrument")));
    json_decref(j);
    j = jbody(Q_POS_LIMIT, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "positions")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 5);
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    jerror(Q_POS_UNKNOWN, 404, "instrument", "binance-usdm:NOPE");
    /* cascade */
    j = jbody(Q_CASCADE, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "instrument")),
                     "binance-usdm:BTCUSDT");
    ck_assert(json_number_value(json_object_get(j, "ref")) == 100000);
    ck_assert(json_is_object(json_object_get(j, "book_reach_pct")));
    v = json_object_get(j, "ladder");
    ck_assert(json_is_true(json_object_get(v, "valid")));
    ck_assert_uint_eq(json_array_size(json_object_get(v, "rows")), 18);  /* 2 x 9 */
    json_decref(j);
    jerror(Q_CASCADE_404, 404, "instrument", "NOPE");
    /* alerts firing and the ring */
    j = jbody(Q_ACTIVE, 200);
    a = json_object_get(j, "alerts");
    ck_assert_uint_ge(json_array_size(a), 1);
    v = json_array_get(a, 0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "kind")), "position_near");
    ck_assert_str_eq(json_string_value(json_object_get(v, "level")), "critical");
    ck_assert_str_eq(json_string_value(json_object_get(v, "instrument")),
                     "bybit-linear:ETHUSDT");
    ck_assert(json_integer_value(json_object_get(v, "since")) > 0);
    ck_assert(json_object_get(v, "subject") != NULL);
    json_decref(j);
    j = jbody(Q_ALERTS, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "memory (last 10000)");
    ck_assert_uint_ge(json_array_size(json_object_get(j, "alerts")), 1);
    v = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert(json_object_get(v, "id") != NULL && json_object_get(v, "state") != NULL);
    json_decref(j);
    j = jbody(Q_ALERTS_FILTER, 200);
    ck_assert_uint_ge(json_array_size(json_object_get(j, "alerts")), 1);
    json_decref(j);
    j = jbody(Q_ALERTS_NONE, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "alerts")), 0);
    json_decref(j);
    jerror(Q_ALERTS_BADSINCE, 400, "since", "yesterday");
    /* POSTs */
    j = jbody(Q_POST_OBJ, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "added")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "replaced")), 0);
    ck_assert(json_is_null(json_object_get(j, "stored")));
    json_decref(j);
    j = jbody(Q_POST_ARR, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "added")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "replaced")), 1);
    json_decref(j);
    j = jbody(Q_POST_CSV, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "added")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "replaced")), 1);
    json_decref(j);
    j = jbody(Q_POST_NDJSON, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rows")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "added")), 2);
    json_decref(j);
    j = jbody(Q_POST_BAD_JSON, 400);
    a = json_object_get(j, "problems");
    ck_assert_msg(json_array_size(a) == 2, "%s", R[Q_POST_BAD_JSON].body);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "where")), "[1]");
    ck_assert(strstr(json_string_value(json_object_get(json_array_get(a, 0), "error")),
                     "qty") != NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 1), "where")), "[2]");
    ck_assert(strstr(json_string_value(json_object_get(json_array_get(a, 1), "error")),
                     "binance-usdm:XYZUSDT") != NULL);
    json_decref(j);
    j = jbody(Q_POST_BAD_CSV, 400);
    a = json_object_get(j, "problems");
    ck_assert_msg(json_array_size(a) == 1, "%s", R[Q_POST_BAD_CSV].body);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "where")), "line 3");
    ck_assert(strstr(json_string_value(json_object_get(json_array_get(a, 0), "error")),
                     "side") != NULL);
    json_decref(j);
    jerror(Q_POST_MALFORMED, 400, "body", "line 2, column");
    jerror(Q_POST_CTYPE, 415, "Content-Type", "text/csv");
    ck_assert_int_eq(R[Q_POST_BIG].rc, 0);
    ck_assert_int_eq(R[Q_POST_BIG].status, 413);
    /* DELETE */
    j = jbody(Q_DEL, 200);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "removed"), "id")),
                     "C1");
    json_decref(j);
    jerror(Q_DEL_AGAIN, 404, "id", "C1");
    jerror(Q_DEL_AMBIG, 409, "instrument", "bybit-linear:ETHUSDT");
    j = jbody(Q_DEL_ETH, 200);
    json_decref(j);
    /* methods, paths */
    jerror(Q_405, 405, "method", NULL);
    ck_assert_msg(ci_find(R[Q_405].head, "allow: GET, HEAD") != NULL, "%s", R[Q_405].head);
    jerror(Q_405_DEL, 405, "method", NULL);
    ck_assert(ci_find(R[Q_405_DEL].head, "allow: DELETE") != NULL);
    jerror(Q_404, 404, "path", "/v2/nothing");
    /* what the changes left */
    j = jbody(Q_POS_AFTER, 200);
    a = json_object_get(j, "positions");
    ck_assert_msg(json_array_size(a) == 4, "%s", R[Q_POS_AFTER].body);  /* L1 S1 dup A1 */
    v = find_pos(a, "A1");
    ck_assert(v && json_number_value(json_object_get(v, "qty")) == 3);
    ck_assert(json_number_value(json_object_get(v, "liq_price")) == 85000);
    v = find_pos(a, "L1");
    ck_assert(v && json_number_value(json_object_get(v, "qty")) == 4);
    ck_assert(find_pos(a, "C1") == NULL && find_pos(a, "G1") == NULL &&
              find_pos(a, "H1") == NULL);
    json_decref(j);
    {
        pindex_t *ix = engine_pindex(x.e, x.eth);
        struct pos_view pv;
        ck_assert_int_eq(pindex_find(ix, "dup", &h), PINDEX_ENOENT);
        ck_assert_int_eq(pindex_find(ix, "A2", &h), PINDEX_OK);
        ck_assert_int_eq(pindex_get(ix, h, &pv), PINDEX_OK);
        ck_assert_str_eq(pv.account, "x,y");
        ck_assert_int_eq(pv.side, POS_SHORT);
        ck_assert_int_eq(pindex_check(ix), 0);
        ck_assert_int_eq(pindex_check(engine_pindex(x.e, x.btc)), 0);
        ck_assert_int_eq(pindex_find(engine_pindex(x.e, x.btc), "dup", &h), PINDEX_OK);
    }
    for (int i = 0; i < NREQ; i++)
        free(R[i].body);
    fx_teardown(&x);
}
END_TEST

/* The ring keeps the last N records; bad arguments are refused. */
START_TEST(test_ring_and_args)
{
    struct control_deps cd;
    market_t *m = market_create();
    engine_t *e;
    struct engine_config ec;
    control_t *c;
    lq_err_t err;

    engine_config_default(&ec);
    e = engine_create(m, &ec, &err);
    ck_assert_ptr_nonnull(e);
    memset(&cd, 0, sizeof(cd));
    ck_assert_ptr_null(control_create(&cd, &err));
    cd.mkt = m;
    cd.eng = e;
    c = control_create(&cd, &err);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(control_alert_count(c), 0);
    ck_assert_int_eq(control_listen(c, NULL, NULL, 0, NULL, 0, &err), -1);
    control_destroy(c);
    control_destroy(NULL);
    engine_destroy(e);
    market_destroy(m);
}
END_TEST

Suite *control_suite(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("api");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_endpoints);
    tcase_add_test(tc, test_ring_and_args);
    suite_add_tcase(s, tc);
    return s;
}
