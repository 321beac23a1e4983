/*
 * check_store.c - the SQLite store (store.h, docs/store.md).
 *
 * Schema: a new file is at user_version 3 with every table and column of
 * docs/store-schema.sql (pragma table_info against a list written from
 * the docs), and its sqlite_master is byte for byte the one the docs file
 * itself builds.  Migration: a file made with step 1 of the docs file and
 * holding rows opens at version 3 with the rows intact and the new columns
 * present.  A newer file is refused with a message naming the file and
 * both versions, and left untouched; a file that is not a database is
 * refused with its name.  Round trip: every store_put_* read back with the
 * sqlite3 API, values and NULLs, from strings the caller has overwritten
 * since.  Queue bound (writer paused): snapshots coalesced per instrument,
 * or dropped; prints, feed events, positions dropped; alerts never; all
 * counted; what was queued is stored after resume + flush.  Retention: old
 * rows of every table deleted in statements of at most 2,000 rows (read
 * from the debug log), new rows kept.  A reader holding a read transaction
 * sees a stable snapshot while the writer commits, without a BUSY; the WAL
 * grows past wal_max_bytes meanwhile and comes back under it afterwards.
 * A writer blocked past busy_timeout keeps its records, retries, logs one
 * line on failing and one on recovering, and writes everything once the
 * lock is free.  A record SQLite refuses (a duplicate alert id) is lost
 * alone, counted and logged, its batch otherwise stored in order, and
 * store_close reports it.  A table dropped under the writer fails it for good:
 * flush and close return -1.  The run row gets stopped_ns and the summary
 * on close.  Crash safety: a child writing alerts (and prints, snapshots)
 * is killed with SIGKILL at seeded random moments, 12 times on one file;
 * each time the file passes integrity_check and the child's stored alert
 * ids are 1..K with K at most the lines of its alert log.
 *
 * Files live in a fresh mkdtemp directory per test, removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "liqmon/log.h"
#include "liqmon/store.h"
#include "suites.h"

#define SCHEMA_FILE "docs/store-schema.sql"
#define NS 1000000000LL
#define DAY_NS (86400LL * NS)

/* ---- a scratch directory per test ----------------------------------------- */

static char tmpdir[4096];

/* The store's info lines ("new store ...") would fill the test output. */
static void quiet_hook(enum log_level lv, const char *line, void *arg)
{
    (void)arg;
    if (lv <= LL_WARN)
        fprintf(stderr, "%s\n", line);
}

static void tmp_setup(void)
{
    const char *t = getenv("TMPDIR");

    log_set_hook(quiet_hook, NULL);
    snprintf(tmpdir, sizeof(tmpdir), "%s/liqmon-store-XXXXXX",
             t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s failed", tmpdir);
}

static void tmp_teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[8192];

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    log_set_hook(NULL, NULL);
    log_set_level(LL_INFO);
}

static const char *tpath(const char *name)
{
    static char p[4][8192];
    static int k;

    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

/* ---- reading the file back ------------------------------------------------ */

static sqlite3 *rdb(const char *path)
{
    sqlite3 *db = NULL;

    ck_assert_msg(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
                  "open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void xexec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        ck_abort_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

static sqlite3_stmt *xprep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        ck_abort_msg("%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = xprep(db, sql);
    int64_t v;

    TCHECK(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The first column of the first row as text, in buf ("(null)" for NULL). */
static const char *q_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = xprep(db, sql);
    const unsigned char *t;

    TCHECK(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
    t = sqlite3_column_text(st, 0);
    snprintf(buf, size, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    return buf;
}

static int64_t count_rows(sqlite3 *db, const char *table)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return q_int(db, sql);
}

static int col_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}

static void ck_real(sqlite3_stmt *st, int i, double want)
{
    TCHECK(sqlite3_column_type(st, i) == SQLITE_FLOAT ||
           sqlite3_column_type(st, i) == SQLITE_INTEGER,
           "column %s is not a number", sqlite3_column_name(st, i));
    TCHECK(sqlite3_column_double(st, i) == want, "column %s: %.17g, want %.17g",
           sqlite3_column_name(st, i), sqlite3_column_double(st, i), want);
}

static void ck_int(sqlite3_stmt *st, int i, int64_t want)
{
    TCHECK(sqlite3_column_type(st, i) == SQLITE_INTEGER,
           "column %s is not an integer", sqlite3_column_name(st, i));
    TCHECK(sqlite3_column_int64(st, i) == want, "column %s: %lld, want %lld",
           sqlite3_column_name(st, i), (long long)sqlite3_column_int64(st, i),
           (long long)want);
}

static void ck_text(sqlite3_stmt *st, int i, const char *want)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    if (want == NULL) {
        TCHECK(col_null(st, i), "column %s: '%s', want NULL",
               sqlite3_column_name(st, i), t ? (const char *)t : "");
        return;
    }
    TCHECK(t != NULL && strcmp((const char *)t, want) == 0,
           "column %s: '%s', want '%s'", sqlite3_column_name(st, i),
           t ? (const char *)t : "NULL", want);
}

static void ck_null(sqlite3_stmt *st, int i)
{
    TCHECK(col_null(st, i), "column %s: want NULL", sqlite3_column_name(st, i));
}

/* ---- the schema file ------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    ck_assert(b != NULL);
    ck_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* Step n of docs/store-schema.sql: from its "-- ---- step n" line to the
 * next step's (malloc'd). */
static char *schema_step(int n)
{
    char *all = read_file(SCHEMA_FILE), mark[32], *a, *b, *out;

    snprintf(mark, sizeof(mark), "-- ---- step %d ", n);
    a = strstr(all, mark);
    ck_assert_msg(a != NULL, "%s: no step %d", SCHEMA_FILE, n);
    b = strstr(a + 1, "-- ---- step ");
    out = strndup(a, b ? (size_t)(b - a) : strlen(a));
    free(all);
    return out;
}

/* ---- opening -------------------------------------------------------------- */

static void cfg_init(struct store_config *c, const char *name)
{
    store_config_default(c);
    c->path = tpath(name);
}

static store_t *xopen(const struct store_config *c)
{
    lq_err_t err = { "" };
    struct store_run run = { 0, "test", NULL, "live", "check_store" };
    store_t *s = store_open(c, &run, &err);

    ck_assert_msg(s != NULL, "store_open: %s", err.msg);
    return s;
}

static void xclose(store_t *s)
{
    lq_err_t err = { "" };

    ck_assert_msg(store_close(s, NULL, &err) == 0, "store_close: %s", err.msg);
}

/* ---- captured log lines (the writer logs from its thread) --------------- */

static pthread_mutex_t cap_mu = PTHREAD_MUTEX_INITIALIZER;
static char *cap_lines[4096];
static size_t cap_n;

static void cap_hook(enum log_level lv, const char *line, void *arg)
{
    (void)lv;
    (void)arg;
    pthread_mutex_lock(&cap_mu);
    if (cap_n < sizeof(cap_lines) / sizeof(cap_lines[0]))
        cap_lines[cap_n++] = strdup(line);
    pthread_mutex_unlock(&cap_mu);
}

static size_t cap_count(const char *prefix, const char *contains)
{
    size_t n = 0;

    pthread_mutex_lock(&cap_mu);
    for (size_t i = 0; i < cap_n; i++)
        if (cap_lines[i] && strncmp(cap_lines[i], prefix, strlen(prefix)) == 0 &&
            (contains == NULL || strstr(cap_lines[i], contains)))
            n++;
    pthread_mutex_unlock(&cap_mu);
    return n;
}

static void cap_reset(void)
{
    pthread_mutex_lock(&cap_mu);
    for (size_t i = 0; i < cap_n; i++)
        free(cap_lines[i]);
    cap_n = 0;
    pthread_mutex_unlock(&cap_mu);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

/* ---- records to put ----------------------------------------------------- */

static struct alert_record mk_alert(uint64_t id, int64_t ts)
{
    struct alert_record r = { 0 };

    r.id = id;
    r.ts = ts;
    r.kind = ALERT_CASCADE_RISK;
    r.subject = "binance-usdm:BTCUSDT:down";
    r.venue = "binance-usdm";
    r.instrument = "binance-usdm:BTCUSDT";
    r.severity = ALERT_WARNING;
    r.message = "cascade risk";
    r.details = "{\"amp\":2.5}";
    return r;
}

static struct store_print mk_print(int64_t ts, double price)
{
    struct store_print p = { 0 };

    p.ts = ts;
    p.venue_ts = ts - 1000;
    p.venue = "bybit";
    p.instrument = "bybit:ETHUSDT";
    p.liquidated_long = 1;
    p.price = price;
    p.price_kind = "bankruptcy";
    p.qty = 0.25;
    p.coverage = "complete";
    return p;
}

static struct cascade_row ladder[18];

static void mk_ladder(void)
{
    for (int i = 0; i < 18; i++) {
        struct cascade_row *r = &ladder[i];

        memset(r, 0, sizeof(*r));
        r->side = i < 9 ? CASCADE_DOWN : CASCADE_UP;
        r->shock = (i % 9) * 0.01;
        r->start_price = 90000 * (1 + (i < 9 ? -r->shock : r->shock));
        r->rounds = (uint32_t)(i % 4);
        r->liquidated = (uint64_t)i * 3;
        r->liquidated_qty = (dec_t)i * 12345678;
        r->liquidated_notional = i * 1111.5;
        r->final_price = r->start_price - i;
        r->move_pct = -0.1 * i;
        r->has_amplification = i % 9 != 0;
        r->amplification = 1.0 + i * 0.1;
        r->exhausted = i == 8;
        r->unfilled_qty = i == 8 ? (dec_t)150000000 : 0;
        r->has_vwap = i % 3 != 0;
        r->vwap = r->start_price - 0.5 * i;
    }
}

static struct store_snapshot mk_snap(const char *instrument, int64_t ts,
                                     int with_ladder)
{
    struct store_snapshot sn = { 0 };

    mk_ladder();
    sn.ts = ts;
    sn.venue = "okx";
    sn.instrument = instrument;
    sn.ref = 90000;
    sn.ref_is_mark = 1;
    sn.mark = 90000;
    sn.index = 89990;
    sn.best_bid = 89999.5;
    sn.best_ask = 90000.5;
    sn.book_valid = 1;
    for (int i = 0; i < 4; i++) {
        sn.bid_depth[i] = 10.0 * (i + 1);
        sn.ask_depth[i] = 11.0 * (i + 1);
    }
    sn.bid_reach_pct = 7.5;
    sn.ask_reach_pct = 8.25;
    sn.long_count = 1000;
    sn.short_count = 900;
    sn.long_qty = 123.5;
    sn.short_qty = 99.25;
    sn.open_interest = 45678.5;
    sn.ladder_valid = with_ladder;
    sn.rows = with_ladder ? ladder : NULL;
    sn.nrows = with_ladder ? 18 : 0;
    return sn;
}

static struct store_feed_event mk_feed(int64_t ts)
{
    struct store_feed_event f = { ts, "okx", "public-1", NULL, "disconnected",
                                  "timeout", 1 };
    return f;
}

static struct store_position mk_pos(int64_t ts)
{
    struct store_position p = { 0 };

    p.ts = ts;
    p.instrument = "okx:BTC-USDT-SWAP";
    p.pos_id = "p1";
    p.account = "acct";
    p.side = "long";
    p.qty = 2;
    p.entry = 90000;
    p.margin = 9000;
    p.liq_price = 81500;
    p.change = "load";
    p.source = "file";
    return p;
}

/* ---- schema --------------------------------------------------------------- */

struct col {
    const char *name, *type;
    int notnull, pk;
};

struct table {
    const char *name;
    struct col cols[32];
};

/* Written from docs/store-schema.sql (steps 1 to 4). */
static const struct table tables[] = {
    { "runs", {
        { "id", "INTEGER", 0, 1 }, { "started_ns", "INTEGER", 1, 0 },
        { "stopped_ns", "INTEGER", 0, 0 }, { "version", "TEXT", 1, 0 },
        { "config_hash", "TEXT", 0, 0 }, { "mode", "TEXT", 1, 0 },
        { "argv", "TEXT", 0, 0 }, { "summary", "TEXT", 0, 0 }, { 0 } } },
    { "alerts", {
        { "run_id", "INTEGER", 1, 1 }, { "id", "INTEGER", 1, 2 },
        { "ts", "INTEGER", 1, 0 }, { "kind", "TEXT", 1, 0 },
        { "subject", "TEXT", 1, 0 }, { "venue", "TEXT", 1, 0 },
        { "instrument", "TEXT", 0, 0 }, { "severity", "TEXT", 1, 0 },
        { "state", "TEXT", 1, 0 }, { "message", "TEXT", 1, 0 },
        { "details", "TEXT", 1, 0 }, { 0 } } },
    { "snapshots", {
        { "id", "INTEGER", 0, 1 }, { "run_id", "INTEGER", 1, 0 },
        { "ts", "INTEGER", 1, 0 }, { "venue", "TEXT", 1, 0 },
        { "instrument", "TEXT", 1, 0 }, { "ref", "REAL", 0, 0 },
        { "ref_is_mark", "INTEGER", 0, 0 }, { "mark", "REAL", 0, 0 },
        { "idx_price", "REAL", 0, 0 }, { "best_bid", "REAL", 0, 0 },
        { "best_ask", "REAL", 0, 0 }, { "book_valid", "INTEGER", 1, 0 },
        { "bid_depth_0_5", "REAL", 0, 0 }, { "bid_depth_1", "REAL", 0, 0 },
        { "bid_depth_2", "REAL", 0, 0 }, { "bid_depth_5", "REAL", 0, 0 },
        { "ask_depth_0_5", "REAL", 0, 0 }, { "ask_depth_1", "REAL", 0, 0 },
        { "ask_depth_2", "REAL", 0, 0 }, { "ask_depth_5", "REAL", 0, 0 },
        { "long_count", "INTEGER", 1, 0 }, { "long_qty", "REAL", 1, 0 },
        { "short_count", "INTEGER", 1, 0 }, { "short_qty", "REAL", 1, 0 },
        { "ladder_valid", "INTEGER", 1, 0 }, { "bid_reach_pct", "REAL", 0, 0 },
        { "ask_reach_pct", "REAL", 0, 0 }, { "open_interest", "REAL", 0, 0 },
        { "map", "TEXT", 0, 0 }, { 0 } } },
    { "snapshot_rows", {
        { "snapshot_id", "INTEGER", 1, 1 }, { "side", "TEXT", 1, 2 },
        { "shock", "REAL", 1, 3 }, { "start_price", "REAL", 1, 0 },
        { "rounds", "INTEGER", 1, 0 }, { "liquidated", "INTEGER", 1, 0 },
        { "liquidated_qty", "REAL", 1, 0 },
        { "liquidated_notional", "REAL", 1, 0 },
        { "final_price", "REAL", 1, 0 }, { "move_pct", "REAL", 1, 0 },
        { "amplification", "REAL", 0, 0 }, { "exhausted", "INTEGER", 1, 0 },
        { "unfilled_qty", "REAL", 1, 0 }, { "vwap", "REAL", 0, 0 }, { 0 } } },
    { "liq_prints", {
        { "id", "INTEGER", 0, 1 }, { "run_id", "INTEGER", 1, 0 },
        { "ts", "INTEGER", 1, 0 }, { "venue_ts", "INTEGER", 0, 0 },
        { "venue", "TEXT", 1, 0 }, { "instrument", "TEXT", 1, 0 },
        { "side", "TEXT", 1, 0 }, { "price", "REAL", 1, 0 },
        { "price_kind", "TEXT", 1, 0 }, { "qty", "REAL", 1, 0 },
        { "notional", "REAL", 1, 0 }, { "coverage", "TEXT", 1, 0 }, { 0 } } },
    { "feed_events", {
        { "id", "INTEGER", 0, 1 }, { "run_id", "INTEGER", 1, 0 },
        { "ts", "INTEGER", 1, 0 }, { "venue", "TEXT", 1, 0 },
        { "conn", "TEXT", 0, 0 }, { "instrument", "TEXT", 0, 0 },
        { "kind", "TEXT", 1, 0 }, { "reason", "TEXT", 0, 0 },
        { "count", "INTEGER", 1, 0 }, { 0 } } },
    { "positions", {
        { "id", "INTEGER", 0, 1 }, { "run_id", "INTEGER", 1, 0 },
        { "ts", "INTEGER", 1, 0 }, { "instrument", "TEXT", 1, 0 },
        { "pos_id", "TEXT", 1, 0 }, { "account", "TEXT", 1, 0 },
        { "side", "TEXT", 1, 0 }, { "qty", "REAL", 1, 0 },
        { "entry", "REAL", 0, 0 }, { "margin", "REAL", 0, 0 },
        { "liq_price", "REAL", 0, 0 }, { "change", "TEXT", 1, 0 },
        { "source", "TEXT", 1, 0 }, { 0 } } },
    { "api_positions", {
        { "instrument", "TEXT", 1, 1 }, { "pos_id", "TEXT", 1, 2 },
        { "ts", "INTEGER", 1, 0 }, { "change", "TEXT", 1, 0 },
        { "spec", "TEXT", 0, 0 }, { 0 } } },
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void check_table(sqlite3 *db, const struct table *t)
{
    char sql[128];
    sqlite3_stmt *st;
    int i = 0;

    snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", t->name);
    st = xprep(db, sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const struct col *c = &t->cols[i];
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);

        TCHECK(c->name != NULL, "%s: extra column %s", t->name, name);
        TCHECK(strcmp(name, c->name) == 0, "%s column %d: %s, want %s",
               t->name, i, name, c->name);
        TCHECK(strcmp(type, c->type) == 0, "%s.%s: type %s, want %s",
               t->name, name, type, c->type);
        TCHECK(sqlite3_column_int(st, 3) == c->notnull, "%s.%s: notnull %d",
               t->name, name, sqlite3_column_int(st, 3));
        TCHECK(sqlite3_column_int(st, 5) == c->pk, "%s.%s: pk %d", t->name,
               name, sqlite3_column_int(st, 5));
        i++;
    }
    sqlite3_finalize(st);
    TCHECK(t->cols[i].name == NULL, "%s: column %s missing", t->name,
           t->cols[i].name);
}

/* sqlite_master, every object, as one string. */
static char *master_dump(sqlite3 *db)
{
    sqlite3_stmt *st = xprep(db, "SELECT type, name, tbl_name, sql FROM "
                                 "sqlite_master ORDER BY name");
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);

    ck_assert(out != NULL);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        int w = snprintf(out + n, cap - n, "%s|%s|%s|%s\n",
                         sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                         sqlite3_column_text(st, 2),
                         sqlite3_column_text(st, 3) ?
                         (const char *)sqlite3_column_text(st, 3) : "");
        ck_assert((size_t)w < cap - n);
        n += (size_t)w;
    }
    sqlite3_finalize(st);
    return out;
}

START_TEST(schema_fresh)
{
    struct store_config c;
    sqlite3 *db, *ref;
    char buf[64], *a, *b, *all;

    cfg_init(&c, "s.db");
    xclose(xopen(&c));
    db = rdb(c.path);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    ck_assert_int_ge(STORE_SCHEMA_VERSION, 3);
    ck_assert_str_eq(q_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
    for (size_t i = 0; i < NTABLES; i++)
        check_table(db, &tables[i]);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                               "type = 'table'"), NTABLES);
    /* No secondary index on any table (docs/store.md says why). */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                               "type = 'index' AND sql IS NOT NULL"), 0);

    /* What store.c applies is what docs/store-schema.sql says. */
    ck_assert_int_eq(sqlite3_open(tpath("ref.db"), &ref), SQLITE_OK);
    all = read_file(SCHEMA_FILE);
    xexec(ref, all);
    free(all);
    a = master_dump(db);
    b = master_dump(ref);
    ck_assert_msg(strcmp(a, b) == 0, "store.c and %s differ:\n%s\n--\n%s",
                  SCHEMA_FILE, a, b);
    free(a);
    free(b);
    sqlite3_close(ref);
    sqlite3_close(db);
}
END_TEST

START_TEST(schema_migrate_v1)
{
    struct store_config c;
    sqlite3 *db;
    sqlite3_stmt *st;
    char *step1 = schema_step(1), buf[64];
    store_t *s;

    cfg_init(&c, "v1.db");
    ck_assert_int_eq(sqlite3_open(c.path, &db), SQLITE_OK);
    xexec(db, step1);
    xexec(db, "PRAGMA user_version = 1");
    xexec(db, "INSERT INTO runs VALUES (1, 100, 200, '0.0.9', 'abc', 'live', "
              "'liqmond', '{}')");
    xexec(db, "INSERT INTO alerts VALUES (1, 1, 150, 'feed_down', 'okx:c1', "
              "'okx', NULL, 'warning', 'firing', 'down', '{}')");
    xexec(db, "INSERT INTO snapshots (run_id, ts, venue, instrument, ref, "
              "book_valid, long_count, long_qty, short_count, short_qty, "
              "ladder_valid) VALUES (1, 160, 'okx', 'okx:BTC', 90000, 1, 3, "
              "1.5, 4, 2.5, 0)");
    xexec(db, "INSERT INTO feed_events (run_id, ts, venue, kind) VALUES "
              "(1, 170, 'okx', 'connected')");
    sqlite3_close(db);
    free(step1);

    s = xopen(&c);
    ck_assert_int_eq(store_run_id(s), 2);
    xclose(s);

    db = rdb(c.path);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    ck_assert_str_eq(q_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
    for (size_t i = 0; i < NTABLES; i++)
        check_table(db, &tables[i]);
    /* The old rows, intact; the new columns NULL or their default. */
    st = xprep(db, "SELECT started_ns, stopped_ns, version, summary FROM runs "
                   "WHERE id = 1");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, 100);
    ck_int(st, 1, 200);
    ck_text(st, 2, "0.0.9");
    ck_text(st, 3, "{}");
    sqlite3_finalize(st);
    st = xprep(db, "SELECT ts, ref, long_qty, bid_reach_pct, ask_reach_pct, "
                   "open_interest FROM snapshots");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, 160);
    ck_real(st, 1, 90000);
    ck_real(st, 2, 1.5);
    ck_null(st, 3);
    ck_null(st, 4);
    ck_null(st, 5);
    sqlite3_finalize(st);
    st = xprep(db, "SELECT ts, kind, count FROM feed_events");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, 170);
    ck_text(st, 1, "connected");
    ck_int(st, 2, 1);
    sqlite3_finalize(st);
    ck_assert_int_eq(q_int(db, "SELECT ts FROM alerts WHERE run_id = 1 AND id = 1"), 150);
    ck_assert_int_eq(count_rows(db, "runs"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE id = 2 AND "
                               "stopped_ns IS NOT NULL"), 1);
    sqlite3_close(db);
}
END_TEST

START_TEST(schema_newer_refused)
{
    struct store_config c;
    lq_err_t err = { "" };
    sqlite3 *db;
    char want[8300], buf[64];
    FILE *f;

    cfg_init(&c, "newer.db");
    ck_assert_int_eq(sqlite3_open(c.path, &db), SQLITE_OK);
    snprintf(buf, sizeof(buf), "CREATE TABLE future (x); PRAGMA user_version = %d",
             STORE_SCHEMA_VERSION + 1);
    xexec(db, buf);
    sqlite3_close(db);

    ck_assert_ptr_null(store_open(&c, NULL, &err));
    snprintf(want, sizeof(want), "%s: schema version %d is newer than this "
             "liqmon's %d", c.path, STORE_SCHEMA_VERSION + 1, STORE_SCHEMA_VERSION);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0,
                  "message: %s", err.msg);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    /* Untouched: still that version, still a rollback journal, no runs. */
    db = rdb(c.path);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
    ck_assert_str_eq(q_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "delete");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_close(db);

    /* Not a database at all: refused, naming the file. */
    c.path = tpath("junk.db");
    f = fopen(c.path, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database\n", f);
    fclose(f);
    ck_assert_ptr_null(store_open(&c, NULL, &err));
    snprintf(want, sizeof(want), "%s: ", c.path);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0 &&
                  strstr(err.msg, "not a database"), "message: %s", err.msg);

    /* A run mode the schema does not allow. */
    {
        struct store_run run = { 0, "x", NULL, "paper", NULL };

        c.path = tpath("mode.db");
        ck_assert_ptr_null(store_open(&c, &run, &err));
        ck_assert_msg(strstr(err.msg, "paper") != NULL, "message: %s", err.msg);
    }
}
END_TEST

/* ---- round trip ------------------------------------------------------------ */

START_TEST(round_trip)
{
    struct store_config c;
    struct store_stats stt;
    store_t *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    char venue[32], subject[64];
    int64_t run;

    cfg_init(&c, "rt.db");
    s = xopen(&c);
    run = store_run_id(s);

    /* Alerts: a connection's (no instrument), resolved, critical; and an
     * instrument's.  The caller's strings change right after the put. */
    {
        struct alert_record a = mk_alert(1, 1000);

        strcpy(subject, "okx:public-1");
        strcpy(venue, "okx");
        a.kind = ALERT_FEED_DOWN;
        a.subject = subject;
        a.venue = venue;
        a.instrument = NULL;
        a.severity = ALERT_CRITICAL;
        a.resolved = 1;
        a.message = "feed down for 61 s";
        a.details = "{\"down_s\":61}";
        ck_assert_int_eq(store_put_alert(s, &a), 0);
        memset(subject, 'x', sizeof(subject) - 1);
        memset(venue, 'y', sizeof(venue) - 1);
        a = mk_alert(2, 2000);
        a.kind = ALERT_LIQUIDATION_CLUSTER;
        a.details = NULL;
        ck_assert_int_eq(store_put_alert(s, &a), 0);
    }
    /* Snapshots: one with nothing optional, one full with a ladder. */
    {
        struct store_snapshot sn = mk_snap("okx:ETH-USDT-SWAP", 3000, 0);

        sn.ref = 0;
        sn.mark = 0;
        sn.index = 0;
        sn.best_bid = 0;
        sn.best_ask = 0;
        sn.book_valid = 0;
        sn.open_interest = -1;
        sn.ladder_valid = 0;
        sn.rows = ladder;          /* ignored: ladder_valid is 0 */
        sn.nrows = 18;
        ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
        sn = mk_snap("okx:BTC-USDT-SWAP", 4000, 1);
        ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
        memset(ladder, 0x55, sizeof(ladder));
    }
    {
        struct store_print p = mk_print(5000, 3000.5);

        p.venue_ts = 0;
        p.liquidated_long = 0;
        ck_assert_int_eq(store_put_print(s, &p), 0);
        p = mk_print(6000, 2999.25);
        ck_assert_int_eq(store_put_print(s, &p), 0);
    }
    {
        struct store_feed_event f = mk_feed(7000);

        f.conn = NULL;
        f.reason = NULL;
        ck_assert_int_eq(store_put_feed_event(s, &f), 0);
        f = mk_feed(8000);
        f.instrument = "okx:BTC-USDT-SWAP";
        f.kind = "rejected";
        f.reason = "bad checksum";
        f.count = 17;
        ck_assert_int_eq(store_put_feed_event(s, &f), 0);
    }
    {
        struct store_position p = mk_pos(9000);

        p.margin = 0;
        p.account = NULL;
        p.side = "short";
        p.change = "liquidated";
        p.source = "engine";
        ck_assert_int_eq(store_put_position(s, &p), 0);
        p = mk_pos(10000);
        ck_assert_int_eq(store_put_position(s, &p), 0);
    }
    /* Refused: a required string missing. */
    {
        struct store_print p = mk_print(1, 1);
        struct alert_record a = mk_alert(99, 1);

        p.venue = NULL;
        ck_assert_int_eq(store_put_print(s, &p), -1);
        a.message = NULL;
        ck_assert_int_eq(store_put_alert(s, &a), -1);
    }
    ck_assert_int_eq(store_flush(s), 0);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.queued, 10);
    ck_assert_uint_eq(stt.rows_written, 10 + 18);
    ck_assert_uint_eq(stt.dropped + stt.coalesced + stt.errors + stt.lost, 0);
    ck_assert_uint_eq(stt.queue_depth, 0);
    ck_assert_uint_eq(stt.queue_max, 65536);
    ck_assert_str_eq(stt.last_error, "");
    xclose(s);

    db = rdb(c.path);
    st = xprep(db, "SELECT run_id, id, ts, kind, subject, venue, instrument, "
                   "severity, state, message, details FROM alerts ORDER BY id");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, run);
    ck_int(st, 1, 1);
    ck_int(st, 2, 1000);
    ck_text(st, 3, "feed_down");
    ck_text(st, 4, "okx:public-1");
    ck_text(st, 5, "okx");
    ck_text(st, 6, NULL);
    ck_text(st, 7, "critical");
    ck_text(st, 8, "resolved");
    ck_text(st, 9, "feed down for 61 s");
    ck_text(st, 10, "{\"down_s\":61}");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 1, 2);
    ck_text(st, 3, "liquidation_cluster");
    ck_text(st, 4, "binance-usdm:BTCUSDT:down");
    ck_text(st, 6, "binance-usdm:BTCUSDT");
    ck_text(st, 7, "warning");
    ck_text(st, 8, "firing");
    ck_text(st, 10, "{}");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    st = xprep(db, "SELECT run_id, ts, venue, instrument, ref, ref_is_mark, "
                   "mark, idx_price, best_bid, best_ask, book_valid, "
                   "bid_depth_0_5, bid_depth_1, bid_depth_2, bid_depth_5, "
                   "ask_depth_0_5, ask_depth_1, ask_depth_2, ask_depth_5, "
                   "long_count, long_qty, short_count, short_qty, ladder_valid, "
                   "bid_reach_pct, ask_reach_pct, open_interest, id "
                   "FROM snapshots ORDER BY id");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, run);
    ck_int(st, 1, 3000);
    ck_text(st, 3, "okx:ETH-USDT-SWAP");
    for (int i = 4; i <= 9; i++)
        ck_null(st, i);
    ck_int(st, 10, 0);
    ck_int(st, 23, 0);
    ck_null(st, 26);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM snapshot_rows WHERE "
                               "snapshot_id = (SELECT min(id) FROM snapshots)"), 0);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 1, 4000);
    ck_text(st, 2, "okx");
    ck_text(st, 3, "okx:BTC-USDT-SWAP");
    ck_real(st, 4, 90000);
    ck_int(st, 5, 1);
    ck_real(st, 6, 90000);
    ck_real(st, 7, 89990);
    ck_real(st, 8, 89999.5);
    ck_real(st, 9, 90000.5);
    ck_int(st, 10, 1);
    for (int i = 0; i < 4; i++) {
        ck_real(st, 11 + i, 10.0 * (i + 1));
        ck_real(st, 15 + i, 11.0 * (i + 1));
    }
    ck_int(st, 19, 1000);
    ck_real(st, 20, 123.5);
    ck_int(st, 21, 900);
    ck_real(st, 22, 99.25);
    ck_int(st, 23, 1);
    ck_real(st, 24, 7.5);
    ck_real(st, 25, 8.25);
    ck_real(st, 26, 45678.5);
    {
        int64_t sid = sqlite3_column_int64(st, 27);
        sqlite3_stmt *r;
        char sql[512];
        int i = 0;

        mk_ladder();             /* the values put (overwritten since) */
        snprintf(sql, sizeof(sql), "SELECT side, shock, start_price, rounds, "
                 "liquidated, liquidated_qty, liquidated_notional, "
                 "final_price, move_pct, amplification, exhausted, "
                 "unfilled_qty, vwap FROM snapshot_rows WHERE snapshot_id = "
                 "%lld ORDER BY side, shock", (long long)sid);
        r = xprep(db, sql);
        while (sqlite3_step(r) == SQLITE_ROW) {
            const struct cascade_row *w = &ladder[i];

            ck_text(r, 0, w->side == CASCADE_DOWN ? "down" : "up");
            ck_real(r, 1, w->shock);
            ck_real(r, 2, w->start_price);
            ck_int(r, 3, w->rounds);
            ck_int(r, 4, (int64_t)w->liquidated);
            ck_real(r, 5, dec_to_double(w->liquidated_qty));
            ck_real(r, 6, w->liquidated_notional);
            ck_real(r, 7, w->final_price);
            ck_real(r, 8, w->move_pct);
            if (w->has_amplification)
                ck_real(r, 9, w->amplification);
            else
                ck_null(r, 9);
            ck_int(r, 10, w->exhausted);
            ck_real(r, 11, dec_to_double(w->unfilled_qty));
            if (w->has_vwap)
                ck_real(r, 12, w->vwap);
            else
                ck_null(r, 12);
            i++;
        }
        sqlite3_finalize(r);
        ck_assert_int_eq(i, 18);
        /* dec_t to double: 8 * 0.12345678 and 1.5 exactly as decimals. */
        ck_assert_int_eq(q_int(db, "SELECT count(*) FROM snapshot_rows WHERE "
                                   "side = 'down' AND shock = 0.08 AND "
                                   "liquidated_qty = 0.98765424 AND "
                                   "unfilled_qty = 1.5"), 1);
    }
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    st = xprep(db, "SELECT run_id, ts, venue_ts, venue, instrument, side, "
                   "price, price_kind, qty, notional, coverage FROM liq_prints "
                   "ORDER BY id");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, run);
    ck_int(st, 1, 5000);
    ck_null(st, 2);
    ck_text(st, 3, "bybit");
    ck_text(st, 4, "bybit:ETHUSDT");
    ck_text(st, 5, "short");
    ck_real(st, 6, 3000.5);
    ck_text(st, 7, "bankruptcy");
    ck_real(st, 8, 0.25);
    ck_real(st, 9, 0.25 * 3000.5);
    ck_text(st, 10, "complete");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 2, 6000 - 1000);
    ck_text(st, 5, "long");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    st = xprep(db, "SELECT run_id, ts, venue, conn, instrument, kind, reason, "
                   "count FROM feed_events ORDER BY id");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, run);
    ck_int(st, 1, 7000);
    ck_text(st, 2, "okx");
    ck_text(st, 3, NULL);
    ck_text(st, 4, NULL);
    ck_text(st, 5, "disconnected");
    ck_text(st, 6, NULL);
    ck_int(st, 7, 1);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_text(st, 3, "public-1");
    ck_text(st, 4, "okx:BTC-USDT-SWAP");
    ck_text(st, 5, "rejected");
    ck_text(st, 6, "bad checksum");
    ck_int(st, 7, 17);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    st = xprep(db, "SELECT run_id, ts, instrument, pos_id, account, side, qty, "
                   "entry, margin, liq_price, change, source FROM positions "
                   "ORDER BY id");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, run);
    ck_int(st, 1, 9000);
    ck_text(st, 2, "okx:BTC-USDT-SWAP");
    ck_text(st, 3, "p1");
    ck_text(st, 4, "");
    ck_text(st, 5, "short");
    ck_real(st, 6, 2);
    ck_real(st, 7, 90000);
    ck_null(st, 8);
    ck_real(st, 9, 81500);
    ck_text(st, 10, "liquidated");
    ck_text(st, 11, "engine");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_text(st, 4, "acct");
    ck_real(st, 8, 9000);
    ck_text(st, 10, "load");
    ck_text(st, 11, "file");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

/* ---- the queue bound ------------------------------------------------------ */

START_TEST(queue_full)
{
    struct store_config c;
    struct store_stats stt;
    struct store_snapshot sn;
    store_t *s;
    sqlite3 *db;

    cfg_init(&c, "q.db");
    c.queue_max = 8;
    s = xopen(&c);
    store_debug_pause(s, 1);

    sn = mk_snap("okx:A", 1, 1);
    ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    sn = mk_snap("okx:B", 1, 0);
    ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    for (int i = 0; i < 6; i++) {
        struct store_print p = mk_print(10 + i, 100 + i);

        ck_assert_int_eq(store_put_print(s, &p), 0);
    }
    /* Full (8): prints, feed events, positions dropped. */
    {
        struct store_print p = mk_print(20, 1);
        struct store_feed_event f = mk_feed(20);
        struct store_position pos = mk_pos(20);

        ck_assert_int_eq(store_put_print(s, &p), -1);
        ck_assert_int_eq(store_put_feed_event(s, &f), -1);
        ck_assert_int_eq(store_put_position(s, &pos), -1);
    }
    /* A's queued snapshot replaced twice; C has none queued: dropped. */
    sn = mk_snap("okx:A", 2, 0);
    ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    sn = mk_snap("okx:A", 3, 1);
    sn.long_count = 3333;
    ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    sn = mk_snap("okx:C", 3, 1);
    ck_assert_int_eq(store_put_snapshot(s, &sn), -1);
    /* Alerts go past the bound. */
    for (int i = 1; i <= 20; i++) {
        struct alert_record a = mk_alert((uint64_t)i, 30 + i);

        ck_assert_int_eq(store_put_alert(s, &a), 0);
    }
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.queue_depth, 28);
    ck_assert_uint_eq(stt.queue_max, 8);
    ck_assert_uint_eq(stt.queued, 2 + 6 + 2 + 20);
    ck_assert_uint_eq(stt.coalesced, 2);
    ck_assert_uint_eq(stt.dropped, 4);
    ck_assert_uint_eq(stt.rows_written, 0);

    store_debug_pause(s, 0);
    ck_assert_int_eq(store_flush(s), 0);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.queue_depth, 0);
    ck_assert_uint_eq(stt.rows_written, 2 + 18 + 6 + 20);
    xclose(s);

    db = rdb(c.path);
    ck_assert_int_eq(count_rows(db, "snapshots"), 2);
    ck_assert_int_eq(q_int(db, "SELECT ts FROM snapshots WHERE instrument = 'okx:A'"), 3);
    ck_assert_int_eq(q_int(db, "SELECT long_count FROM snapshots WHERE "
                               "instrument = 'okx:A'"), 3333);
    ck_assert_int_eq(q_int(db, "SELECT ts FROM snapshots WHERE instrument = 'okx:B'"), 1);
    /* The replacement kept A's place in the queue: written before B. */
    ck_assert_int_eq(q_int(db, "SELECT instrument = 'okx:A' FROM snapshots "
                               "ORDER BY id LIMIT 1"), 1);
    ck_assert_int_eq(count_rows(db, "snapshot_rows"), 18);
    ck_assert_int_eq(count_rows(db, "liq_prints"), 6);
    ck_assert_int_eq(count_rows(db, "feed_events"), 0);
    ck_assert_int_eq(count_rows(db, "positions"), 0);
    ck_assert_int_eq(count_rows(db, "alerts"), 20);
    ck_assert_int_eq(q_int(db, "SELECT min(id) = 1 AND max(id) = 20 FROM alerts"), 1);
    sqlite3_close(db);
}
END_TEST

/* ---- retention ------------------------------------------------------------ */

START_TEST(retention)
{
    const int64_t base = 10 * DAY_NS, fresh = base + 3 * DAY_NS;
    const int n_print = 5000, n_alert = 30, n_snap = 300, n_feed = 50, n_pos = 50;
    uint64_t want_pruned = (uint64_t)(n_print + n_alert + n_snap * 19 + n_feed + n_pos);
    struct store_config c;
    struct store_stats stt;
    store_t *s;
    sqlite3 *db;
    uint64_t alert_id = 0, logged = 0, print_stmts = 0;
    int waited = 0;

    log_set_level(LL_DEBUG);
    log_set_hook(cap_hook, NULL);
    cfg_init(&c, "ret.db");
    c.retention_days = 1;
    s = xopen(&c);
    for (int i = 0; i < n_print; i++) {
        struct store_print p = mk_print(base + i * NS / 10, 100);

        ck_assert_int_eq(store_put_print(s, &p), 0);
    }
    for (int i = 0; i < n_alert; i++) {
        struct alert_record a = mk_alert(++alert_id, base + i * NS);

        ck_assert_int_eq(store_put_alert(s, &a), 0);
    }
    for (int i = 0; i < n_snap; i++) {
        struct store_snapshot sn = mk_snap(i % 2 ? "okx:A" : "okx:B", base + i * NS, 1);

        ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    }
    for (int i = 0; i < n_feed; i++) {
        struct store_feed_event f = mk_feed(base + i);
        struct store_position p = mk_pos(base + i);

        ck_assert_int_eq(store_put_feed_event(s, &f), 0);
        ck_assert_int_eq(store_put_position(s, &p), 0);
    }
    ck_assert_int_eq(store_flush(s), 0);
    /* Now new rows, 3 days on: everything above is older than 1 day. */
    for (int i = 0; i < 10; i++) {
        struct store_print p = mk_print(fresh + i, 100);
        struct alert_record a = mk_alert(++alert_id, fresh + i);
        struct store_snapshot sn = mk_snap("okx:A", fresh + i, 1);
        struct store_feed_event f = mk_feed(fresh + i);
        struct store_position pos = mk_pos(fresh + i);

        ck_assert_int_eq(store_put_print(s, &p), 0);
        ck_assert_int_eq(store_put_alert(s, &a), 0);
        ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
        ck_assert_int_eq(store_put_feed_event(s, &f), 0);
        ck_assert_int_eq(store_put_position(s, &pos), 0);
    }
    /* Exactly at the cutoff (fresh + 9 - 1 day): kept. */
    {
        struct store_print p = mk_print(fresh + 9 - DAY_NS, 100);

        ck_assert_int_eq(store_put_print(s, &p), 0);
    }
    ck_assert_int_eq(store_flush(s), 0);
    for (;;) {
        store_get_stats(s, &stt);
        if (stt.pruned >= want_pruned || waited > 5000)
            break;
        sleep_ms(10);
        waited += 10;
    }
    ck_assert_uint_eq(stt.pruned, want_pruned);
    ck_assert_uint_eq(stt.errors, 0);
    xclose(s);

    db = rdb(c.path);
    ck_assert_int_eq(count_rows(db, "liq_prints"), 11);
    ck_assert_int_eq(count_rows(db, "alerts"), 10);
    ck_assert_int_eq(q_int(db, "SELECT min(id) FROM alerts"), n_alert + 1);
    ck_assert_int_eq(count_rows(db, "snapshots"), 10);
    ck_assert_int_eq(count_rows(db, "snapshot_rows"), 180);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM snapshot_rows WHERE "
                               "snapshot_id NOT IN (SELECT id FROM snapshots)"), 0);
    ck_assert_int_eq(count_rows(db, "feed_events"), 10);
    ck_assert_int_eq(count_rows(db, "positions"), 10);
    ck_assert_int_eq(count_rows(db, "runs"), 1);
    sqlite3_close(db);

    /* Every delete statement took at most 2,000 rows; prints took three. */
    pthread_mutex_lock(&cap_mu);
    for (size_t i = 0; i < cap_n; i++) {
        const char *p = strstr(cap_lines[i], "retention: ");
        char table[64];
        int n;

        if (p == NULL || sscanf(p, "retention: %d rows from %63s", &n, table) != 2)
            continue;
        TCHECK(n > 0 && n <= 2000, "one statement deleted %d rows: %s", n,
               cap_lines[i]);
        logged += (uint64_t)n;
        if (strcmp(table, "liq_prints") == 0)
            print_stmts++;
    }
    pthread_mutex_unlock(&cap_mu);
    cap_reset();
    ck_assert_uint_eq(logged, want_pruned);
    ck_assert_uint_ge(print_stmts, 3);
}
END_TEST

/* ---- a reader beside the writer ---------------------------------------- */

static off_t file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

START_TEST(reader_and_wal)
{
    struct store_config c;
    struct store_stats stt;
    char wal[8300];
    store_t *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t before;
    int waited = 0;
    size_t warned;

    log_set_hook(cap_hook, NULL);
    cfg_init(&c, "rd.db");
    c.wal_max_bytes = 512 * 1024;
    snprintf(wal, sizeof(wal), "%s-wal", c.path);
    s = xopen(&c);
    for (int i = 0; i < 100; i++) {
        struct store_print p = mk_print(i, 100);

        store_put_print(s, &p);
    }
    ck_assert_int_eq(store_flush(s), 0);

    db = rdb(c.path);
    xexec(db, "BEGIN");
    before = count_rows(db, "liq_prints");
    ck_assert_int_eq(before, 100);
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 3000; i++) {
            struct store_print p = mk_print(1000 + round * 3000 + i, 100);

            ck_assert_int_eq(store_put_print(s, &p), 0);
        }
        ck_assert_int_eq(store_flush(s), 0);
        /* The reader's snapshot does not move. */
        ck_assert_int_eq(count_rows(db, "liq_prints"), before);
    }
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.errors, 0);
    ck_assert_str_eq(stt.last_error, "");
    /* The reader kept the checkpoint from emptying the WAL. */
    ck_assert_int_gt(file_size(wal), c.wal_max_bytes);
    xexec(db, "COMMIT");
    ck_assert_int_eq(count_rows(db, "liq_prints"), 30100);

    /* Reader gone: the WAL comes back under the limit. */
    for (;;) {
        struct store_print p = mk_print(99999999, 100);

        ck_assert_int_eq(store_put_print(s, &p), 0);
        ck_assert_int_eq(store_flush(s), 0);
        if (file_size(wal) <= c.wal_max_bytes || waited > 4000)
            break;
        sleep_ms(50);
        waited += 50;
    }
    ck_assert_int_le(file_size(wal), c.wal_max_bytes);
    st = xprep(db, "PRAGMA integrity_check");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.errors, 0);
    /* At most one line when the WAL could not be truncated (a TRUNCATE
     * that waited out the reader logs none), and then one when it is back
     * (the checkpointer looks once a second while it is over). */
    warned = cap_count("warning: store: ", "cannot be truncated");
    for (waited = 0; warned && cap_count("info: store: ", "WAL ") == 0 &&
         waited < 3000; waited += 20)
        sleep_ms(20);
    xclose(s);
    ck_assert_uint_le(warned, 1);
    ck_assert_uint_eq(cap_count("warning: store: ", "cannot be truncated"), warned);
    ck_assert_uint_eq(cap_count("info: store: ", "WAL "), warned);
    cap_reset();
}
END_TEST

/* ---- failures ------------------------------------------------------------- */

START_TEST(busy_retry)
{
    struct store_config c;
    struct store_stats stt;
    store_t *s;
    sqlite3 *blocker, *db;
    int waited = 0;

    log_set_hook(cap_hook, NULL);
    cfg_init(&c, "busy.db");
    c.busy_timeout_ms = 50;
    s = xopen(&c);
    blocker = rdb(c.path);
    xexec(blocker, "BEGIN IMMEDIATE");
    for (int i = 0; i < 100; i++) {
        struct store_print p = mk_print(i, 100);

        ck_assert_int_eq(store_put_print(s, &p), 0);
    }
    for (int i = 1; i <= 3; i++) {
        struct alert_record a = mk_alert((uint64_t)i, i);

        ck_assert_int_eq(store_put_alert(s, &a), 0);
    }
    for (;;) {
        store_get_stats(s, &stt);
        if (stt.errors >= 3 || waited > 3000)
            break;
        sleep_ms(10);
        waited += 10;
    }
    ck_assert_uint_ge(stt.errors, 3);
    ck_assert_msg(strstr(stt.last_error, c.path) == stt.last_error &&
                  strstr(stt.last_error, "locked") != NULL,
                  "last_error: %s", stt.last_error);
    ck_assert_uint_eq(stt.rows_written, 0);
    xexec(blocker, "ROLLBACK");
    sqlite3_close(blocker);

    ck_assert_int_eq(store_flush(s), 0);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.rows_written, 103);
    ck_assert_uint_eq(stt.lost, 0);
    xclose(s);
    db = rdb(c.path);
    ck_assert_int_eq(count_rows(db, "liq_prints"), 100);
    ck_assert_int_eq(count_rows(db, "alerts"), 3);
    sqlite3_close(db);
    /* One line when it started failing, one when it recovered. */
    ck_assert_uint_eq(cap_count("error: store: ", NULL), 1);
    ck_assert_uint_eq(cap_count("info: store: ", "writing again"), 1);
    cap_reset();
}
END_TEST

START_TEST(refused_record)
{
    struct store_config c;
    struct store_stats stt;
    lq_err_t err = { "" };
    store_t *s;
    sqlite3 *db;

    log_set_hook(cap_hook, NULL);
    cfg_init(&c, "refused.db");
    s = xopen(&c);
    /* 40 alerts and 40 prints in one batch; alert 5 twice (its primary
     * key): the second is refused alone, everything else is stored. */
    store_debug_pause(s, 1);
    for (int i = 1; i <= 40; i++) {
        struct alert_record a = mk_alert((uint64_t)i, i);
        struct store_print p = mk_print(i, 100 + i);

        ck_assert_int_eq(store_put_alert(s, &a), 0);
        ck_assert_int_eq(store_put_print(s, &p), 0);
        if (i == 20) {
            a = mk_alert(5, 999);
            ck_assert_int_eq(store_put_alert(s, &a), 0);
        }
    }
    store_debug_pause(s, 0);
    ck_assert_int_eq(store_flush(s), 0);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.lost, 1);
    ck_assert_uint_ge(stt.errors, 1);
    ck_assert_uint_eq(stt.rows_written, 80);
    ck_assert_msg(strstr(stt.last_error, "UNIQUE") != NULL, "last_error: %s",
                  stt.last_error);
    ck_assert_int_eq(store_close(s, NULL, &err), -1);
    ck_assert_msg(strstr(err.msg, "1 records not stored") != NULL, "%s", err.msg);
    db = rdb(c.path);
    ck_assert_int_eq(count_rows(db, "alerts"), 40);
    ck_assert_int_eq(q_int(db, "SELECT ts FROM alerts WHERE id = 5"), 5);
    ck_assert_int_eq(count_rows(db, "liq_prints"), 40);
    /* The prints' rowids follow the queue's order. */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM liq_prints a JOIN "
                               "liq_prints b ON b.id = a.id + 1 WHERE "
                               "b.ts != a.ts + 1"), 0);
    sqlite3_close(db);
    ck_assert_uint_eq(cap_count("warning: store: ", "refused"), 1);
    cap_reset();
}
END_TEST

START_TEST(fatal_failure)
{
    struct store_config c;
    struct store_stats stt;
    lq_err_t err = { "" };
    store_t *s;
    sqlite3 *db;
    struct store_print p = mk_print(1, 1);
    struct alert_record a = mk_alert(1, 1);

    log_set_hook(cap_hook, NULL);
    cfg_init(&c, "fatal.db");
    s = xopen(&c);
    db = rdb(c.path);
    xexec(db, "DROP TABLE liq_prints");
    sqlite3_close(db);
    ck_assert_int_eq(store_put_print(s, &p), 0);
    ck_assert_int_eq(store_flush(s), -1);
    ck_assert_int_eq(store_put_alert(s, &a), -1);
    store_get_stats(s, &stt);
    ck_assert_uint_eq(stt.lost, 2);
    ck_assert_msg(strstr(stt.last_error, "no such table") != NULL,
                  "last_error: %s", stt.last_error);
    ck_assert_int_eq(store_close(s, NULL, &err), -1);
    ck_assert_msg(strncmp(err.msg, c.path, strlen(c.path)) == 0 &&
                  strstr(err.msg, "2 records not stored") != NULL,
                  "close: %s", err.msg);
    ck_assert_uint_eq(cap_count("error: store: ", "writer stopped"), 1);
    cap_reset();
}
END_TEST

START_TEST(run_row)
{
    struct store_config c;
    struct store_run run = { 1234567890123LL, "9.9.9", "00ff00ff00ff00ff",
                             "replay", "liqmonctl replay x.jsonl" };
    lq_err_t err = { "" };
    struct timespec t0, t1;
    store_t *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t id;

    cfg_init(&c, "run.db");
    s = store_open(&c, &run, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    id = store_run_id(s);
    ck_assert_int_gt(id, 0);
    db = rdb(c.path);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE stopped_ns IS NULL"), 1);
    clock_gettime(CLOCK_REALTIME, &t0);
    ck_assert_int_eq(store_close(s, "{\"alerts\":3}", &err), 0);
    clock_gettime(CLOCK_REALTIME, &t1);
    st = xprep(db, "SELECT id, started_ns, stopped_ns, version, config_hash, "
                   "mode, argv, summary FROM runs");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_int(st, 0, id);
    ck_int(st, 1, 1234567890123LL);
    ck_assert_int_ge(sqlite3_column_int64(st, 2), t0.tv_sec * NS + t0.tv_nsec);
    ck_assert_int_le(sqlite3_column_int64(st, 2), t1.tv_sec * NS + t1.tv_nsec);
    ck_text(st, 3, "9.9.9");
    ck_text(st, 4, "00ff00ff00ff00ff");
    ck_text(st, 5, "replay");
    ck_text(st, 6, "liqmonctl replay x.jsonl");
    ck_text(st, 7, "{\"alerts\":3}");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* A second run in the same file gets the next id; NULL summary. */
    s = xopen(&c);
    ck_assert_int_eq(store_run_id(s), id + 1);
    ck_assert_int_eq(store_close(s, NULL, &err), 0);
    db = rdb(c.path);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE summary IS NULL "
                               "AND stopped_ns IS NOT NULL AND mode = 'live'"), 1);
    sqlite3_close(db);
    ck_assert_int_eq(store_close(NULL, NULL, NULL), 0);
}
END_TEST

/* ---- crash safety ---------------------------------------------------------- */

/* The child: its alert log (one "N\n" line per alert, written and flushed
 * before the alert is queued) and the store, until SIGKILL. */
static void crash_child(const char *dbpath, const char *logpath)
{
    struct store_config c;
    lq_err_t err;
    store_t *s;
    FILE *f = fopen(logpath, "w");

    if (f == NULL)
        _exit(3);
    store_config_default(&c);
    c.path = dbpath;
    c.batch_max = 512;
    s = store_open(&c, NULL, &err);
    if (s == NULL) {
        fprintf(stderr, "crash child: %s\n", err.msg);
        _exit(4);
    }
    fprintf(f, "R %lld\n", (long long)store_run_id(s));
    fflush(f);
    for (uint64_t n = 1;; n++) {
        struct alert_record a = mk_alert(n, (int64_t)n);
        struct store_print p = mk_print((int64_t)n, 100);

        fprintf(f, "%llu\n", (unsigned long long)n);
        fflush(f);
        store_put_alert(s, &a);
        store_put_print(s, &p);
        if (n % 4 == 0) {
            struct store_snapshot sn = mk_snap("okx:A", (int64_t)n, 1);

            store_put_snapshot(s, &sn);
        }
        if (n % 256 == 0)
            store_flush(s);     /* keeps the queue short, commits often */
    }
}

START_TEST(crash_safety)
{
    struct trng rng;
    const char *dbpath = tpath("crash.db"), *logpath = tpath("alerts.log");
    uint64_t total = 0;
    int64_t last_run = 0;

    trng_init(&rng, "store crash_safety");
    for (int iter = 0; iter < 12; iter++) {
        int64_t run = -1;
        uint64_t lines = 0, k = 0;
        char line[64], buf[64];
        int status;
        pid_t pid;
        FILE *f;
        sqlite3 *db;
        sqlite3_stmt *st;

        unlink(logpath);
        fflush(NULL);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            crash_child(dbpath, logpath);       /* never returns */
        sleep_ms(5 + (int)trng_below(&rng, 200));
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "iteration %d: the child ended by itself (status %d)",
                      iter, status);

        f = fopen(logpath, "r");
        if (f != NULL) {
            while (fgets(line, sizeof(line), f) != NULL) {
                if (strchr(line, '\n') == NULL)
                    break;                      /* cut short by the kill */
                if (line[0] == 'R')
                    run = strtoll(line + 2, NULL, 10);
                else
                    lines++;
            }
            fclose(f);
        }

        db = rdb(dbpath);
        ck_assert_str_eq(q_text(db, "PRAGMA integrity_check", buf, sizeof(buf)), "ok");
        if (run < 0) {
            /* Killed before its run id was logged, so before any alert. */
            char sql[128];

            snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE "
                     "run_id > %lld", (long long)last_run);
            ck_assert_int_eq(q_int(db, sql), 0);
            sqlite3_close(db);
            continue;
        }
        ck_assert_int_gt(run, last_run);
        last_run = run;
        st = xprep(db, "SELECT id FROM alerts WHERE run_id = ? ORDER BY id");
        sqlite3_bind_int64(st, 1, run);
        while (sqlite3_step(st) == SQLITE_ROW) {
            k++;
            TCHECK(sqlite3_column_int64(st, 0) == (int64_t)k,
                   "seed %llu, iteration %d: alert ids not 1..K: %lld at %llu",
                   (unsigned long long)test_seed(), iter,
                   (long long)sqlite3_column_int64(st, 0), (unsigned long long)k);
        }
        sqlite3_finalize(st);
        TCHECK(k <= lines, "seed %llu, iteration %d: %llu alerts stored, "
               "%llu logged", (unsigned long long)test_seed(), iter,
               (unsigned long long)k, (unsigned long long)lines);
        /* Every alert stored belongs to a run recorded in runs. */
        ck_assert_int_eq(q_int(db, "SELECT count(*) FROM alerts WHERE run_id "
                                   "NOT IN (SELECT id FROM runs)"), 0);
        sqlite3_close(db);
        total += k;
    }
    /* The kills landed after commits at least sometimes, or the test
     * proved nothing. */
    ck_assert_uint_gt(total, 0);
}
END_TEST

/* api_positions: each API change replaces the position's standing row in
 * the change's own transaction; other sources never touch it; the reader
 * gives the rows back in change order, a remove without its spec. */
struct api_seen {
    char rows[8][160];
    int n;
};

static int api_collect(const char *instrument, const char *pos_id, const char *change,
                       const char *spec, void *arg)
{
    struct api_seen *a = arg;

    if (a->n < 8)
        snprintf(a->rows[a->n++], sizeof(a->rows[0]), "%s|%s|%s|%s", instrument, pos_id,
                 change, spec ? spec : "NULL");
    return 0;
}

START_TEST(api_positions_standing)
{
    struct store_config c;
    struct api_seen seen;
    lq_err_t err;
    store_t *s;
    struct store_position p;

    cfg_init(&c, "api.db");
    s = xopen(&c);
    p = mk_pos(10);
    p.source = "api";
    p.change = "add";
    p.pos_id = "a1";
    p.spec = "{\"id\":\"a1\",\"qty\":\"1.23456789\"}";
    ck_assert_int_eq(store_put_position(s, &p), 0);
    p.ts = 11;
    p.change = "update";
    p.spec = "{\"id\":\"a1\",\"qty\":\"2\"}";
    ck_assert_int_eq(store_put_position(s, &p), 0);
    p.ts = 12;
    p.pos_id = "a2";
    p.change = "remove";
    p.spec = "{\"ignored\":1}";       /* a remove keeps no spec */
    ck_assert_int_eq(store_put_position(s, &p), 0);
    p.ts = 13;
    p.pos_id = "f1";
    p.source = "file";                /* history only */
    p.change = "load";
    ck_assert_int_eq(store_put_position(s, &p), 0);
    ck_assert_int_eq(store_flush(s), 0);

    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(store_read_api_positions(c.path, api_collect, &seen, &err), 2);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_str_eq(seen.rows[0], "okx:BTC-USDT-SWAP|a1|update|{\"id\":\"a1\",\"qty\":\"2\"}");
    ck_assert_str_eq(seen.rows[1], "okx:BTC-USDT-SWAP|a2|remove|NULL");
    xclose(s);

    /* A store without the table (before schema 4): nothing, not an error. */
    {
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open(tpath("old.db"), &db), SQLITE_OK);
        xexec(db, "CREATE TABLE runs (id INTEGER PRIMARY KEY); PRAGMA user_version = 3");
        sqlite3_close(db);
        memset(&seen, 0, sizeof(seen));
        ck_assert_int_eq(store_read_api_positions(tpath("old.db"), api_collect, &seen, &err), 0);
    }
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("schema");

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, schema_fresh);
    tcase_add_test(tc, schema_migrate_v1);
    tcase_add_test(tc, schema_newer_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, queue_full);
    tcase_add_test(tc, retention);
    tcase_add_test(tc, reader_and_wal);
    tcase_add_test(tc, busy_retry);
    tcase_add_test(tc, refused_record);
    tcase_add_test(tc, fatal_failure);
    tcase_add_test(tc, run_row);
    tcase_add_test(tc, api_positions_standing);
    suite_add_tcase(s, tc);

    tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, crash_safety);
    suite_add_tcase(s, tc);
    return s;
}
