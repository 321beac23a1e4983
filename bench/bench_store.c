/*
 * bench_store - the SQLite store's writer throughput and the loop's worst
 * stall while the writer is saturated.
 *
 * Throughput: one record kind at a time into a fresh file under /tmp
 * (default configuration: WAL, synchronous=NORMAL, batches of 4,096
 * rows, 30-day retention), rows committed per second from the first put
 * to store_flush's return.  The producer keeps the queue deep (at most
 * 200,000 messages, so memory stays bounded) without ever letting it run
 * dry, so the figure is the writer's.  A snapshot is 1 row + 18 ladder
 * rows; every row counts.
 *
 * Stall: the loop's side.  A producer pushes a realistic mix (prints,
 * snapshots of 20 instruments, feed events, positions, an alert now and
 * then) as fast as it can into the default 65,536-message queue, which
 * stays full, so snapshots coalesce and the rest is dropped, as in a
 * real overload; every store_put_* call is timed.
 *
 * Targets (the store issue): alerts and prints >= 350k rows/s, snapshot
 * rows >= 150k rows/s, producer p99 < 1 ms and max < 5 ms.  Figures, not
 * tests: nothing here fails on a slow machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/log.h"
#include "liqmon/store.h"

#define N_ALERTS  600000
#define N_PRINTS  1000000
#define N_SNAPS   60000
#define NLADDER   18
#define DEEP_MAX  200000
#define STALL_PUTS 3000000

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char dbpath[256];

static void rm_db(void)
{
    char p[300];

    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
}

static store_t *open_fresh(size_t queue_max)
{
    struct store_config c;
    struct store_run run = { 0, "bench", NULL, "replay", "bench_store" };
    lq_err_t err;
    store_t *s;

    rm_db();
    store_config_default(&c);
    c.path = dbpath;
    if (queue_max)
        c.queue_max = queue_max;
    s = store_open(&c, &run, &err);
    if (s == NULL) {
        fprintf(stderr, "bench_store: %s\n", err.msg);
        exit(1);
    }
    return s;
}

static void close_store(store_t *s)
{
    lq_err_t err;

    if (store_close(s, NULL, &err) != 0) {
        fprintf(stderr, "bench_store: %s\n", err.msg);
        exit(1);
    }
}

/* Keep the queue between deep and empty: wait while it holds more than
 * DEEP_MAX messages. */
static void keep_deep(store_t *s)
{
    struct store_stats st;
    struct timespec ts = { 0, 200000 };

    for (;;) {
        store_get_stats(s, &st);
        if (st.queue_depth < DEEP_MAX)
            return;
        nanosleep(&ts, NULL);
    }
}

static struct cascade_row ladder[NLADDER];

static void fill_ladder(double ref)
{
    for (int i = 0; i < NLADDER; i++) {
        struct cascade_row *r = &ladder[i];
        double s = (i % 9) * 0.01;

        memset(r, 0, sizeof(*r));
        r->side = i < 9 ? CASCADE_DOWN : CASCADE_UP;
        r->shock = s;
        r->start_price = ref * (i < 9 ? 1 - s : 1 + s);
        r->rounds = (uint32_t)(i % 5);
        r->liquidated = (uint64_t)(i * 37);
        r->liquidated_qty = (dec_t)(i * 123456789LL);
        r->liquidated_notional = i * 1.1e5;
        r->final_price = r->start_price * 0.999;
        r->move_pct = -0.1 * i;
        r->has_amplification = s > 0;
        r->amplification = 1.3 + i * 0.01;
        r->exhausted = 0;
        r->unfilled_qty = 0;
        r->has_vwap = 1;
        r->vwap = r->start_price * 0.9995;
    }
}

static struct store_snapshot mk_snap(const char *instrument, int64_t ts)
{
    struct store_snapshot sn;

    memset(&sn, 0, sizeof(sn));
    sn.ts = ts;
    sn.venue = "binance-usdm";
    sn.instrument = instrument;
    sn.ref = 90000;
    sn.ref_is_mark = 1;
    sn.mark = 90000;
    sn.index = 89995;
    sn.best_bid = 89999.9;
    sn.best_ask = 90000.1;
    sn.book_valid = 1;
    for (int i = 0; i < 4; i++) {
        sn.bid_depth[i] = 12.5 * (i + 1);
        sn.ask_depth[i] = 13.5 * (i + 1);
    }
    sn.bid_reach_pct = 4.2;
    sn.ask_reach_pct = 3.9;
    sn.long_count = 100000;
    sn.short_count = 90000;
    sn.long_qty = 5123.25;
    sn.short_qty = 4987.5;
    sn.open_interest = 81234.5;
    sn.ladder_valid = 1;
    sn.rows = ladder;
    sn.nrows = NLADDER;
    return sn;
}

static struct alert_record mk_alert(uint64_t id, int64_t ts)
{
    struct alert_record a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    a.ts = ts;
    a.kind = ALERT_POSITION_NEAR;
    a.subject = "acct-000123-btc-long";
    a.venue = "binance-usdm";
    a.instrument = "binance-usdm:BTCUSDT";
    a.severity = ALERT_WARNING;
    a.message = "acct-000123-btc-long is 4.1% from its liquidation price";
    a.details = "{\"d\":0.041,\"lp\":86400.5,\"warn\":0.05,\"crit\":0.02}";
    return a;
}

static struct store_print mk_print(int64_t ts)
{
    struct store_print p;

    memset(&p, 0, sizeof(p));
    p.ts = ts;
    p.venue_ts = ts - 3000000;
    p.venue = "bybit";
    p.instrument = "bybit:BTCUSDT";
    p.liquidated_long = (ts & 1) != 0;
    p.price = 89950.5;
    p.price_kind = "bankruptcy";
    p.qty = 0.125;
    p.coverage = "complete";
    return p;
}

/* rows/s for n records of one kind (kind: 0 alerts, 1 prints, 2 snapshots). */
static double throughput(int kind, long n, uint64_t *rows_out)
{
    struct store_stats st;
    store_t *s = open_fresh((size_t)DEEP_MAX * 2);
    int64_t ts0 = (int64_t)1700000000 * 1000000000;
    double t0, t1;

    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int64_t ts = ts0 + i * 1000000;
        int rc;

        if ((i & 4095) == 0)
            keep_deep(s);
        if (kind == 0) {
            struct alert_record a = mk_alert((uint64_t)i + 1, ts);
            rc = store_put_alert(s, &a);
        } else if (kind == 1) {
            struct store_print p = mk_print(ts);
            rc = store_put_print(s, &p);
        } else {
            struct store_snapshot sn = mk_snap(i & 1 ? "binance-usdm:BTCUSDT"
                                                     : "binance-usdm:ETHUSDT", ts);
            rc = store_put_snapshot(s, &sn);
        }
        if (rc != 0) {
            fprintf(stderr, "bench_store: a put was refused\n");
            exit(1);
        }
    }
    if (store_flush(s) != 0) {
        fprintf(stderr, "bench_store: flush failed\n");
        exit(1);
    }
    t1 = now_ns();
    store_get_stats(s, &st);
    *rows_out = st.rows_written;
    close_store(s);
    return (double)st.rows_written / ((t1 - t0) / 1e9);
}

/* The stall's max is a scheduler figure as much as the store's: a
 * producer that never sleeps shares the CPUs with the writer, the
 * checkpointer and whatever else runs, and is descheduled for whole
 * ticks.  Print what else was running. */
static void print_load(void)
{
    char buf[128] = "";
    FILE *f = fopen("/proc/loadavg", "r");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) == NULL)
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("                   (%ld CPUs; /proc/loadavg %s)\n", ncpu, buf);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

int main(void)
{
    static const char *const instr[20] = {
        "i00", "i01", "i02", "i03", "i04", "i05", "i06", "i07", "i08", "i09",
        "i10", "i11", "i12", "i13", "i14", "i15", "i16", "i17", "i18", "i19",
    };
    const char *tmp = getenv("TMPDIR");
    struct store_stats st;
    uint64_t rows;
    uint32_t *lat;
    long over_1ms = 0;
    double r, t0, t1;
    store_t *s;

    log_set_level(LL_WARN);        /* no "new store" line per phase */
    snprintf(dbpath, sizeof(dbpath), "%s/bench_store-%d.db",
             tmp && *tmp ? tmp : "/tmp", (int)getpid());
    fill_ladder(90000);

    r = throughput(0, N_ALERTS, &rows);
    printf("alerts             %9.0f rows/s  (%llu rows; target >= 350000)\n", r,
           (unsigned long long)rows);
    r = throughput(1, N_PRINTS, &rows);
    printf("liq prints         %9.0f rows/s  (%llu rows; target >= 350000)\n", r,
           (unsigned long long)rows);
    r = throughput(2, N_SNAPS, &rows);
    printf("snapshot rows      %9.0f rows/s  (%llu rows, 1 + %d a snapshot; "
           "target >= 150000)\n", r, (unsigned long long)rows, NLADDER);

    /* --- the producer's stall while the writer is saturated --- */
    lat = malloc(STALL_PUTS * sizeof(*lat));
    if (lat == NULL) {
        fprintf(stderr, "bench_store: out of memory\n");
        return 1;
    }
    s = open_fresh(0);
    t0 = now_ns();
    for (long i = 0; i < STALL_PUTS; i++) {
        int64_t ts = (int64_t)1700000000 * 1000000000 + i * 100000;
        double a, b;

        if (i % 100 == 99) {
            struct alert_record al = mk_alert((uint64_t)i + 1, ts);
            a = now_ns();
            store_put_alert(s, &al);
            b = now_ns();
        } else if (i % 10 == 0) {
            struct store_snapshot sn = mk_snap(instr[(i / 10) % 20], ts);
            a = now_ns();
            store_put_snapshot(s, &sn);
            b = now_ns();
        } else if (i % 50 == 1) {
            struct store_feed_event f = { ts, "okx", "public-1", NULL,
                                          "rejected", "checksum", 3 };
            a = now_ns();
            store_put_feed_event(s, &f);
            b = now_ns();
        } else if (i % 50 == 2) {
            struct store_position p = { ts, "okx:BTC-USDT-SWAP", "p17", "acct",
                                        "long", 1.5, 90000, 0, 81000,
                                        "update", "api",
                                        "{\"id\":\"p17\",\"account\":\"acct\",\"venue\":\"okx-swap\","
                                        "\"symbol\":\"BTC-USDT-SWAP\",\"side\":\"long\",\"qty\":\"1.5\","
                                        "\"entry\":90000,\"liq_price\":81000}" };
            a = now_ns();
            store_put_position(s, &p);
            b = now_ns();
        } else {
            struct store_print p = mk_print(ts);
            a = now_ns();
            store_put_print(s, &p);
            b = now_ns();
        }
        lat[i] = (uint32_t)(b - a);
    }
    t1 = now_ns();
    store_get_stats(s, &st);
    for (long i = 0; i < STALL_PUTS; i++)
        over_1ms += lat[i] > 1000000;
    qsort(lat, STALL_PUTS, sizeof(*lat), cmp_u32);
    printf("producer put       p50 %6.2f us  p99 %6.2f us  max %7.2f us  "
           "(target p99 < 1000 us, max < 5000 us)\n",
           lat[STALL_PUTS / 2] / 1e3, lat[(long)STALL_PUTS * 99 / 100] / 1e3,
           lat[STALL_PUTS - 1] / 1e3);
    printf("                   %.1fM puts in %.2f s, %ld over 1 ms; queued %llu "
           "(%llu rows written), coalesced %llu, dropped %llu, queue max %zu\n",
           STALL_PUTS / 1e6, (t1 - t0) / 1e9, over_1ms,
           (unsigned long long)(st.queued), (unsigned long long)st.rows_written,
           (unsigned long long)st.coalesced, (unsigned long long)st.dropped,
           st.queue_max);
    print_load();
    close_store(s);
    free(lat);
    rm_db();
    return 0;
}
