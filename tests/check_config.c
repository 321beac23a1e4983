/*
 * check_config.c - liqmond's configuration file (config.h).
 *
 * The documented conf/liqmond.conf loads (tests run from the repo root)
 * with every venue enabled and the values it documents; the built-in
 * defaults; comments, inline comments, spacing; every duration and size
 * unit at its range's edges.  Then every kind of bad input gives its exact
 * message, naming the file and the line: unknown section, unknown key
 * (per section), a key before any section, a line without '=', an unknown
 * venue, a bad or out-of-range value for each numeric key, bad shocks,
 * bad sides, too many symbols, a venue without symbols, backoff_min above
 * backoff_max, a NUL byte, a missing file.
 *
 * Each test writes its files into a fresh mkdtemp directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "liqmon/config.h"
#include "suites.h"

/* ---- a scratch directory per test ----------------------------------------- */

static char tmpdir[4096];
static char cpath[4200];

static void tmp_setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/liqmon-config-XXXXXX",
             t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s failed", tmpdir);
    snprintf(cpath, sizeof(cpath), "%s/liqmond.conf", tmpdir);
}

static void tmp_teardown(void)
{
    unlink(cpath);
    rmdir(tmpdir);
}

static void put_conf(const char *text, size_t n)
{
    FILE *f = fopen(cpath, "wb");

    ck_assert_msg(f != NULL, "cannot write %s", cpath);
    ck_assert(n == 0 || fwrite(text, 1, n, f) == n);
    ck_assert(fclose(f) == 0);
}

/* Load text over the defaults: the return code, the config, the error.
 * A config must watch something: texts without a venue get one appended
 * (after their own lines, so the line numbers they test stay). */
static int load(const char *text, struct liqmon_config *c, lq_err_t *err)
{
    static char buf[16384];

    if (strstr(text, "[venue") == NULL && strlen(text) + 64 < sizeof(buf)) {
        snprintf(buf, sizeof(buf), "%s\n[venue bybit-linear]\nsymbols = BTCUSDT\n",
                 text);
        text = buf;
    }
    put_conf(text, strlen(text));
    config_default(c);
    err->msg[0] = '\0';
    return config_load(cpath, c, err);
}

static struct liqmon_config CF;

/* text must fail with exactly "<path>:<line>: <want>" ("<path>: <want>"
 * when line is 0). */
static void expect_error(const char *text, const char *want_fmt, int line)
{
    lq_err_t err;
    char want[8192];

    if (line > 0)
        snprintf(want, sizeof(want), "%s:%d: %s", cpath, line, want_fmt);
    else
        snprintf(want, sizeof(want), "%s: %s", cpath, want_fmt);
    int rc = load(text, &CF, &err);
    ck_assert_msg(rc == -1, "accepted:\n%s", text);
    ck_assert_msg(strcmp(err.msg, want) == 0, "for:\n%s\ngot:  %s\nwant: %s", text,
                  err.msg, want);
}

static void expect_ok(const char *text)
{
    lq_err_t err;

    ck_assert_msg(load(text, &CF, &err) == 0, "refused:\n%s\n%s", text, err.msg);
}

/* ---- the documented file ------------------------------------------------------ */

START_TEST(documented_file)
{
    struct liqmon_config c;
    lq_err_t err = { "" };
    static const double shocks[] = { 0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15 };

    config_default(&c);
    ck_assert_msg(config_load("conf/liqmond.conf", &c, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(c.instruments_dir, "conf/instruments");
    ck_assert_str_eq(c.positions, "conf/examples/positions.csv");
    ck_assert_str_eq(c.record_dir, "");
    ck_assert_str_eq(c.ca_file, "");
    ck_assert_uint_eq(c.max_message, (size_t)4 << 20);
    ck_assert_int_eq(c.stale_ms, 30000);
    ck_assert_int_eq(c.backoff_min_ms, 250);
    ck_assert_int_eq(c.backoff_max_ms, 30000);
    ck_assert_int_eq(c.max_age_s, 23 * 3600);
    ck_assert_int_eq(c.status_interval_s, 60);
    ck_assert_uint_eq(c.engine.nshocks, 9);
    for (size_t i = 0; i < 9; i++)
        ck_assert_msg(c.engine.shocks[i] == shocks[i], "shock %zu: %g", i, c.engine.shocks[i]);
    ck_assert_uint_eq(c.engine.nsides, 2);
    ck_assert_int_eq(c.engine.sides[0], CASCADE_DOWN);
    ck_assert_int_eq(c.engine.sides[1], CASCADE_UP);

    for (int v = 0; v < VENUE_COUNT; v++) {
        ck_assert_msg(c.venues[v].enabled, "venue %s not enabled", venue_name((enum venue_id)v));
        ck_assert_int_eq(c.venues[v].vc.id, v);
        ck_assert_uint_eq(c.venues[v].nsymbols, 2);
    }
    const struct config_venue *b = &c.venues[VENUE_BINANCE], *y = &c.venues[VENUE_BYBIT],
                              *o = &c.venues[VENUE_OKX], *h = &c.venues[VENUE_HYPERLIQUID];
    ck_assert_str_eq(b->symbols[0], "BTCUSDT");
    ck_assert_str_eq(b->symbols[1], "ETHUSDT");
    ck_assert_str_eq(b->vc.ws_url, "wss://fstream.binance.com/public");
    ck_assert_str_eq(b->vc.ws_url_market, "wss://fstream.binance.com/market");
    ck_assert_str_eq(b->vc.rest_url, "https://fapi.binance.com");
    ck_assert_str_eq(b->vc.liq_route, "market");
    ck_assert_str_eq(y->symbols[0], "BTCUSDT");
    ck_assert_str_eq(y->symbols[1], "ETHUSDT");
    ck_assert_str_eq(y->vc.ws_url, "wss://stream.bybit.com/v5/public/linear");
    ck_assert_int_eq(y->vc.book_depth, 200);
    ck_assert_int_eq(y->vc.ping_interval_s, 20);
    ck_assert_str_eq(o->symbols[0], "BTC-USDT-SWAP");
    ck_assert_str_eq(o->symbols[1], "ETH-USDT-SWAP");
    ck_assert_str_eq(o->vc.ws_url, "wss://ws.okx.com:8443/ws/v5/public");
    ck_assert_str_eq(o->vc.rest_url, "https://www.okx.com");
    ck_assert_int_eq(o->vc.ping_interval_s, 25);
    ck_assert_str_eq(h->symbols[0], "BTC");
    ck_assert_str_eq(h->symbols[1], "ETH");
    ck_assert_str_eq(h->vc.ws_url, "wss://api.hyperliquid.xyz/ws");
    ck_assert_int_eq(h->vc.ping_interval_s, 50);

    /* [alerts]: every value the contract's default */
    struct alert_config ad;
    alert_config_default(&ad);
    ck_assert(memcmp(&c.alerts, &ad, sizeof(ad)) == 0);
    ck_assert_str_eq(c.alert_log, "conf/alerts.jsonl");
    ck_assert_str_eq(c.store_path, "conf/liqmon.db");
    ck_assert_int_eq(c.snapshot_interval_ms, 60000);
    ck_assert_int_eq(c.retention_days, 30);
    ck_assert_uint_eq(c.store_queue_max, 65536);
}
END_TEST

/* The contract's defaults (alert-rules.md), and each key reaching its field. */
START_TEST(alerts_section)
{
    struct liqmon_config c;
    lq_err_t err;

    ck_assert_int_eq(load("[alerts]\n", &c, &err), 0);
    ck_assert(c.alerts.warn == 0.05 && c.alerts.crit == 0.02 && c.alerts.margin == 0.005);
    ck_assert(c.alerts.clear_after == 30000000000LL);
    ck_assert(c.alerts.amp == 2.0 && c.alerts.notional == 0 && !c.alerts.exhausted_trips);
    ck_assert(c.alerts.crit_shock == 0.02 && c.alerts.warn_shock == 0.05);
    ck_assert(c.alerts.invalid_after == 5000000000LL);
    ck_assert(c.alerts.invalid_critical_after == 60000000000LL);
    ck_assert(c.alerts.down_critical_after == 60000000000LL);
    ck_assert(c.alerts.cluster_window == 60000000000LL);
    ck_assert(c.alerts.cluster_notional == 1e6);
    ck_assert_int_eq(load("[alerts]\nwarn = 0.08\ncrit = 0.03\nmargin = 0.01\n"
                          "clear_after = 90s\namp = 3\nnotional = 5e6\n"
                          "exhausted_trips = true\ncrit_shock = 0.01\n"
                          "warn_shock = 0.03\ninvalid_after = 2s\n"
                          "invalid_critical_after = 2m\ndown_critical_after = 250ms\n"
                          "cluster_window = 5m\ncluster_notional = 250000\n"
                          "log = /tmp/a.jsonl\n[store]\npath = /tmp/s.db\n"
                          "snapshot_interval = 0\nretention_days = 0\n"
                          "queue_max = 2048\nbusy_timeout = 1s\n", &c, &err), 0);
    ck_assert(c.alerts.warn == 0.08 && c.alerts.crit == 0.03 && c.alerts.margin == 0.01);
    ck_assert(c.alerts.clear_after == 90000000000LL && c.alerts.amp == 3);
    ck_assert(c.alerts.notional == 5e6 && c.alerts.exhausted_trips);
    ck_assert(c.alerts.crit_shock == 0.01 && c.alerts.warn_shock == 0.03);
    ck_assert(c.alerts.invalid_after == 2000000000LL);
    ck_assert(c.alerts.invalid_critical_after == 120000000000LL);
    ck_assert(c.alerts.down_critical_after == 250000000LL);
    ck_assert(c.alerts.cluster_window == 300000000000LL);
    ck_assert(c.alerts.cluster_notional == 250000);
    ck_assert_str_eq(c.alert_log, "/tmp/a.jsonl");
    ck_assert_str_eq(c.store_path, "/tmp/s.db");
    ck_assert_int_eq(c.snapshot_interval_ms, 0);
    ck_assert_int_eq(c.retention_days, 0);
    ck_assert_uint_eq(c.store_queue_max, 2048);
    ck_assert_int_eq(c.store_busy_timeout_ms, 1000);
    /* checks across keys, after the file: named with the section */
    expect_error("[alerts]\ncrit = 0.06\n", "[alerts] crit: must not exceed warn", 1);
    expect_error("[alerts]\ncrit_shock = 0.1\n",
                 "[alerts] crit_shock: must not exceed warn_shock", 1);
    expect_error("[alerts]\nbogus = 1\n", "unknown key 'bogus' in [alerts]", 2);
    expect_error("[store]\nbogus = 1\n", "unknown key 'bogus' in [store]", 2);
}
END_TEST

START_TEST(defaults)
{
    struct liqmon_config c;

    config_default(&c);
    ck_assert_str_eq(c.instruments_dir, LIQMON_DATADIR "/instruments");
    ck_assert_str_eq(c.positions, "");
    ck_assert_str_eq(c.record_dir, "");
    ck_assert_uint_eq(c.max_message, (size_t)4 << 20);
    ck_assert_int_eq(c.stale_ms, 30000);
    ck_assert_int_eq(c.backoff_min_ms, 250);
    ck_assert_int_eq(c.backoff_max_ms, 30000);
    ck_assert_int_eq(c.max_age_s, 23 * 3600);
    ck_assert_int_eq(c.status_interval_s, 60);
    ck_assert_uint_eq(c.engine.nshocks, 9);
    ck_assert_uint_eq(c.engine.nsides, 2);
    for (int v = 0; v < VENUE_COUNT; v++) {
        ck_assert(!c.venues[v].enabled);
        ck_assert_int_eq(c.venues[v].vc.id, v);
        ck_assert_str_ne(c.venues[v].vc.ws_url, "");
    }
    /* An empty file watches nothing: refused (liqmond -t said ok to it
     * once, then the daemon refused it). */
    {
        lq_err_t err;
        char want[8192];
        put_conf("", 0);
        config_default(&CF);
        ck_assert_int_eq(config_load(cpath, &CF, &err), -1);
        snprintf(want, sizeof(want), "%s: no [venue NAME] section: nothing to watch",
                 cpath);
        ck_assert_str_eq(err.msg, want);
        put_conf("# only a comment\n", 17);
        ck_assert_int_eq(config_load(cpath, &CF, &err), -1);
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

START_TEST(comments_and_spacing)
{
    expect_ok("# comment\n"
              "; comment\n"
              "   # indented comment\n"
              "\t; indented comment\n"
              "[daemon]   \n"
              "  stale_after=5s\n"
              "backoff_min\t=\t100ms   # inline comment\n"
              "backoff_max = 2s\t# tab before the hash\n"
              "positions = /p/x#y.csv\n"           /* no space: part of the value */
              "record_dir =   \n"                  /* empty */
              "[ risk ]\n"
              "sides = up\n"
              "[venue   bybit-linear  ]\r\n"        /* CRLF */
              "symbols = A,B\tC , D\r\n"
              "[alerts]\n"
              "log = a.jsonl   # relative: to the config's directory\n"
              "[store]\n"
              "path = /abs/s.db\n");
    ck_assert_int_eq(CF.stale_ms, 5000);
    ck_assert_int_eq(CF.backoff_min_ms, 100);
    ck_assert_int_eq(CF.backoff_max_ms, 2000);
    ck_assert_str_eq(CF.positions, "/p/x#y.csv");
    ck_assert_str_eq(CF.record_dir, "");
    {
        char want[8192];
        snprintf(want, sizeof(want), "%s/a.jsonl", tmpdir);
        ck_assert_str_eq(CF.alert_log, want);
        ck_assert_str_eq(CF.store_path, "/abs/s.db");
    }
    ck_assert(CF.venues[VENUE_BYBIT].enabled);
    ck_assert(!CF.venues[VENUE_OKX].enabled);
    ck_assert_uint_eq(CF.venues[VENUE_BYBIT].nsymbols, 4);
    ck_assert_str_eq(CF.venues[VENUE_BYBIT].symbols[0], "A");
    ck_assert_str_eq(CF.venues[VENUE_BYBIT].symbols[2], "C");
    ck_assert_str_eq(CF.venues[VENUE_BYBIT].symbols[3], "D");
}
END_TEST

/* Inline ';' is not a comment (only " #" is): the words reach the parser. */
START_TEST(semicolon_inline)
{
    expect_error("[risk]\nsides = up ; down\n",
                 "sides: each side must be down or up (got ';')", 2);
}
END_TEST

START_TEST(units)
{
    static const struct {
        const char *key, *val;
        long long want;        /* in the field's unit */
    } ok[] = {
        { "max_message", "65536", 65536 }, { "max_message", "65536B", 65536 },
        { "max_message", "64KiB", 65536 }, { "max_message", "512KiB", 524288 },
        { "max_message", "4MiB", 4194304 }, { "max_message", "1GiB", 1073741824 },
        { "max_message", "1024MiB", 1073741824 },
        { "stale_after", "1s", 1000 }, { "stale_after", "1000ms", 1000 },
        { "stale_after", "2.5s", 2500 }, { "stale_after", "1h", 3600000 },
        { "stale_after", "60m", 3600000 }, { "stale_after", "3600", 3600000 },
        { "stale_after", "0.5m", 30000 },
        { "backoff_min", "10ms", 10 }, { "backoff_min", "60s", 60000 },
        { "backoff_min", "1m", 60000 },
        { "backoff_max", "60s", 60000 }, { "backoff_max", "10m", 600000 },
        { "max_connection_age", "1m", 60 }, { "max_connection_age", "24h", 86400 },
        { "max_connection_age", "90m", 5400 },
        { "status_interval", "0", 0 }, { "status_interval", "0s", 0 },
        { "status_interval", "24h", 86400 }, { "status_interval", "10", 10 },
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char text[256];
        long long got;
        /* backoff_min <= backoff_max holds whatever the key under test
         * (each key once: a key given twice is a problem). */
        snprintf(text, sizeof(text), "[daemon]\n%s%s%s = %s\n",
                 strcmp(ok[i].key, "backoff_min") ? "backoff_min = 10ms\n" : "",
                 strcmp(ok[i].key, "backoff_max") ? "backoff_max = 10m\n" : "",
                 ok[i].key, ok[i].val);
        expect_ok(text);
        if (strcmp(ok[i].key, "max_message") == 0)
            got = (long long)CF.max_message;
        else if (strcmp(ok[i].key, "stale_after") == 0)
            got = CF.stale_ms;
        else if (strcmp(ok[i].key, "backoff_min") == 0)
            got = CF.backoff_min_ms;
        else if (strcmp(ok[i].key, "backoff_max") == 0)
            got = CF.backoff_max_ms;
        else if (strcmp(ok[i].key, "max_connection_age") == 0)
            got = CF.max_age_s;
        else
            got = CF.status_interval_s;
        ck_assert_msg(got == ok[i].want, "%s = %s: %lld, want %lld", ok[i].key,
                      ok[i].val, got, ok[i].want);
    }
    /* Venue keys. */
    expect_ok("[venue okx-swap]\nsymbols = X\nping_interval = 1s\n");
    ck_assert_int_eq(CF.venues[VENUE_OKX].vc.ping_interval_s, 1);
    /* the value that passes is the value used: OKX's limit is 29 s */
    expect_ok("[venue okx-swap]\nsymbols = X\nping_interval = 29s\n");
    ck_assert_int_eq(CF.venues[VENUE_OKX].vc.ping_interval_s, 29);
    expect_ok("[venue bybit-linear]\nsymbols = X\nping_interval = 10m\n");
    ck_assert_int_eq(CF.venues[VENUE_BYBIT].vc.ping_interval_s, 600);
    {
        static const int depths[] = { 1, 50, 200, 500, 1000 };
        for (size_t i = 0; i < 5; i++) {
            char text[128];
            snprintf(text, sizeof(text), "[venue bybit-linear]\nsymbols = X\nbook_depth = %d\n",
                     depths[i]);
            expect_ok(text);
            ck_assert_int_eq(CF.venues[VENUE_BYBIT].vc.book_depth, depths[i]);
        }
    }
    expect_ok("[venue binance-usdm]\nsymbols = X\nliq_route = public\n"
              "ws_url = ws://127.0.0.1:9/p\nws_market_url = ws://127.0.0.1:9/m\n"
              "rest_url = http://127.0.0.1:9\n");
    ck_assert_str_eq(CF.venues[VENUE_BINANCE].vc.liq_route, "public");
    ck_assert_str_eq(CF.venues[VENUE_BINANCE].vc.ws_url, "ws://127.0.0.1:9/p");
    ck_assert_str_eq(CF.venues[VENUE_BINANCE].vc.ws_url_market, "ws://127.0.0.1:9/m");
    ck_assert_str_eq(CF.venues[VENUE_BINANCE].vc.rest_url, "http://127.0.0.1:9");
    /* Risk lists. */
    expect_ok("[risk]\nshocks = 0.01,0.02, 0.5\t0.999\nsides = up\n");
    ck_assert_uint_eq(CF.engine.nshocks, 4);
    ck_assert(CF.engine.shocks[3] == 0.999);
    ck_assert_uint_eq(CF.engine.nsides, 1);
    ck_assert_int_eq(CF.engine.sides[0], CASCADE_UP);
    {
        char text[1024];
        size_t o = (size_t)snprintf(text, sizeof(text), "[risk]\nshocks =");
        for (int i = 0; i < ENGINE_MAX_SHOCKS; i++)
            o += (size_t)snprintf(text + o, sizeof(text) - o, " 0.%02d", i);
        snprintf(text + o, sizeof(text) - o, "\n");
        expect_ok(text);
        ck_assert_uint_eq(CF.engine.nshocks, ENGINE_MAX_SHOCKS);
    }
    /* The last symbols line of a section wins. */
    /* a key given twice is a problem, not "the last one wins" */
    expect_error("[venue hyperliquid]\nsymbols = A B C\nsymbols = D\n",
                 "symbols given twice in [venue hyperliquid] (first at line 2)", 3);
    expect_error("[venue okx-swap]\nsymbols = A A\n",
                 "symbols: each symbol once (got 'A')", 2);
}
END_TEST

/* ---- bad input: one exact message each ------------------------------------ */

START_TEST(bad_structure)
{
    expect_error("[daemon]\n[bogus]\n",
                 "unknown section [bogus] (expected [daemon], [risk], [alerts], [store], [control], [metrics] or [venue NAME])", 2);
    expect_error("[Daemon]\n",
                 "unknown section [Daemon] (expected [daemon], [risk], [alerts], [store], [control], [metrics] or [venue NAME])", 1);
    expect_error("[venue]\n",
                 "unknown section [venue] (expected [daemon], [risk], [alerts], [store], [control], [metrics] or [venue NAME])", 1);
    expect_error("[venuebybit-linear]\n",
                 "unknown section [venuebybit-linear] (expected [daemon], [risk], [alerts], [store], [control], [metrics] or "
                 "[venue NAME])", 1);
    expect_error("\n[daemon\n", "a section header must look like [name]", 2);
    expect_error("[daemon] x\n", "a section header must look like [name]", 1);
    expect_error("[daemon]\nfoo = 1\n", "unknown key 'foo' in [daemon]", 2);
    expect_error("[daemon]\nStale_after = 1s\n", "unknown key 'Stale_after' in [daemon]", 2);
    expect_error("[daemon]\n= 1\n", "unknown key '' in [daemon]", 2);
    expect_error("[risk]\nstale_after = 1s\n", "unknown key 'stale_after' in [risk]", 2);
    expect_error("[venue okx-swap]\nsymbols = A\nbook_dept = 50\n",
                 "unknown key 'book_dept' in [venue okx-swap]", 3);
    expect_error("[venue hyperliquid]\nshocks = 0.1\n",
                 "unknown key 'shocks' in [venue hyperliquid]", 2);
    expect_error("stale_after = 30s\n", "'stale_after' before any [section]", 1);
    expect_error("# c\n\nstale_after = 30s\n[daemon]\n", "'stale_after' before any [section]", 3);
    expect_error("# c\n\n[daemon]\nstale_after 30s\n", "expected 'key = value'", 4);
    expect_error("[risk]\nsides\n", "expected 'key = value'", 2);
    expect_error("[venue ftx]\n",
                 "unknown venue 'ftx' (expected binance-usdm, bybit-linear, okx-swap or "
                 "hyperliquid)", 1);
    expect_error("[daemon]\n[venue  Binance-USDM ]\n",
                 "unknown venue 'Binance-USDM' (expected binance-usdm, bybit-linear, "
                 "okx-swap or hyperliquid)", 2);
    /* The first error stops the load. */
    expect_error("[daemon]\nfoo = 1\nbar = 2\n", "unknown key 'foo' in [daemon]", 2);
}
END_TEST

/* Every numeric key, bad texts and both edges of its range. */
START_TEST(bad_values)
{
    static const struct {
        const char *sect, *key, *allowed;
        const char *bad[12];
    } cases[] = {
        { "daemon", "max_message", "must be a size between 64KiB and 1GiB",
          { "abc", "4MB", "4 MiB", "4mib", "-1", "65535", "63KiB", "2GiB", "1025MiB",
            "", "1.5MiB", "9999999999GiB" } },
        { "daemon", "stale_after", "must be a duration between 1s and 1h",
          { "0s", "999ms", "3601s", "61m", "2h", "abc", "10x", "-5s", "", "1 s", "nan",
            "1e30s" } },
        { "daemon", "backoff_min", "must be a duration between 10ms and 60s",
          { "9ms", "61s", "2m", "0", "s", "inf", "-inf", "10msec", NULL } },
        { "daemon", "backoff_max", "must be a duration between 100ms and 10m",
          { "99ms", "11m", "1h", "0.05s", "1e300h", NULL } },
        { "daemon", "max_connection_age", "must be a duration between 5s and 24h",
          { "4s", "25h", "1d", "0", NULL } },
        { "daemon", "status_interval", "must be 0 (off) or a duration between 1s and 24h",
          { "25h", "-1s", "1w", "x", "500ms", "0.5ms", "1.0005s", NULL } },
        { "alerts", "warn", "must be a fraction between 0 and 1 (0.05 is 5%)",
          { "5%", "-0.1", "1.5", "", "nan", "0.05x", NULL } },
        { "alerts", "amp", "must be a number between 1 and 1e6",
          { "0.5", "x2", "inf", NULL } },
        { "alerts", "clear_after", "must be a duration between 0s and 24h",
          { "25h", "-1s", "0.5ms", "x", NULL } },
        { "alerts", "cluster_window", "must be a duration between 1s and 24h",
          { "0", "999ms", NULL } },
        { "alerts", "exhausted_trips", "must be true or false",
          { "yes", "1", "", NULL } },
        { "store", "snapshot_interval", "must be 0 (off) or a duration between 1s and 24h",
          { "500ms", "25h", "x", NULL } },
        { "store", "retention_days", "must be 0 (keep everything) or 1 to 36500 days",
          { "-1", "30d", "36501", NULL } },
        { "store", "queue_max", "must be between 1024 and 16777216 messages",
          { "1023", "lots", NULL } },
        { "venue bybit-linear", "ping_interval", "must be a duration between 1s and 10m",
          { "999ms", "11m", "0", "5 s", "1.5s", NULL } },
        { "venue okx-swap", "ping_interval",
          "must be a duration between 1s and 29s (OKX closes a link idle for 30 s)",
          { "30s", "10m", "0", NULL } },
        { "venue hyperliquid", "ping_interval",
          "must be a duration between 1s and 59s (Hyperliquid closes a link idle for 60 s)",
          { "60s", "1h", NULL } },
        { "venue okx-swap", "ws_url", "must be a ws:// or wss:// URL with a host",
          { "not a url", "https://x", "wss://", "wss:///path", NULL } },
        { "venue okx-swap", "rest_url", "must be an http:// or https:// URL with a host",
          { "wss://x", "www.okx.com", NULL } },
        { "daemon", "positions_min_loaded",
          "must be a fraction between 0 and 1 (0.95: 95% of the rows)",
          { "95%", "1.5", "-0.1", NULL } },
        { "control", "socket_mode", "must be an octal mode like 0660", { "660", "0999", "rw", NULL } },
        { "metrics", "listen", "must be empty (off) or ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:9464",
          { "9464", "localhost", "localhost:9464", "127.0.0.1:70000", "[::1:9464", NULL } },
        { "venue bybit-linear", "book_depth", "must be 1, 50, 200, 500 or 1000",
          { "100", "abc", "", "50x", "0", "-50", "2000", "50.0", NULL } },
        { "venue binance-usdm", "liq_route", "must be market or public",
          { "both", "", "Market", NULL } },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (size_t i = 0; i < 12 && cases[c].bad[i]; i++) {
            char text[512], want[512];
            int venue = strncmp(cases[c].sect, "venue", 5) == 0;
            snprintf(text, sizeof(text), "# %s\n[%s]\n%s%s = %s\n", cases[c].key,
                     cases[c].sect, venue ? "symbols = X\n" : "", cases[c].key,
                     cases[c].bad[i]);
            snprintf(want, sizeof(want), "%s: %s (got '%s')", cases[c].key,
                     cases[c].allowed, cases[c].bad[i]);
            expect_error(text, want, venue ? 4 : 3);
        }
    }
}
END_TEST

START_TEST(bad_lists)
{
    char text[8192];
    size_t o;

    expect_error("[risk]\nshocks = 0.5 1\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got '1')", 2);
    expect_error("[risk]\nshocks = -0.1\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got '-0.1')", 2);
    expect_error("[risk]\nshocks = 0.1 abc\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got 'abc')", 2);
    expect_error("[risk]\nshocks = 0.1x\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got '0.1x')", 2);
    expect_error("[risk]\nshocks = nan\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got 'nan')", 2);
    expect_error("[risk]\nshocks = 5%\n",
                 "shocks: each shock must be a number >= 0 and < 1 (got '5%')", 2);
    expect_error("[risk]\nshocks =\n", "shocks: at least one shock (got '')", 2);
    expect_error("[risk]\nshocks = , ,\n", "shocks: at least one shock (got '')", 2);
    o = (size_t)snprintf(text, sizeof(text), "[risk]\nshocks =");
    for (int i = 0; i <= ENGINE_MAX_SHOCKS; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, " 0.%02d", i);
    snprintf(text + o, sizeof(text) - o, "\n");
    expect_error(text, "shocks: at most 32", 2);

    expect_error("[risk]\nsides = sideways\n",
                 "sides: each side must be down or up (got 'sideways')", 2);
    expect_error("[risk]\nsides = Down\n", "sides: each side must be down or up (got 'Down')", 2);
    expect_error("[risk]\nsides = down up down\n", "sides: at most two sides (got 'down')", 2);
    expect_error("[risk]\nsides =\n", "sides: down, up or both (got '')", 2);

    /* Symbols: 64 fit, 65 do not; 47 characters fit, 48 do not. */
    o = (size_t)snprintf(text, sizeof(text), "[venue binance-usdm]\nsymbols =");
    for (int i = 0; i < CONFIG_MAX_SYMBOLS; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, " S%d", i);
    snprintf(text + o, sizeof(text) - o, "\n");
    expect_ok(text);
    ck_assert_uint_eq(CF.venues[VENUE_BINANCE].nsymbols, CONFIG_MAX_SYMBOLS);
    ck_assert_str_eq(CF.venues[VENUE_BINANCE].symbols[63], "S63");
    snprintf(text + o, sizeof(text) - o, " S64\n");
    expect_error(text, "symbols: at most 64", 2);
    {
        char sym[64];
        memset(sym, 'A', sizeof(sym));
        sym[INSTRUMENT_SYMBOL_MAX - 1] = '\0';
        snprintf(text, sizeof(text), "[venue okx-swap]\nsymbols = BTC %s\n", sym);
        expect_ok(text);
        ck_assert_str_eq(CF.venues[VENUE_OKX].symbols[1], sym);
        sym[INSTRUMENT_SYMBOL_MAX - 1] = 'A';
        sym[INSTRUMENT_SYMBOL_MAX] = '\0';
        snprintf(text, sizeof(text), "[venue okx-swap]\nsymbols = BTC %s\n", sym);
        char want[256];
        snprintf(want, sizeof(want), "symbols: symbol too long (got '%s')", sym);
        expect_error(text, want, 2);
    }
}
END_TEST

/* Errors found after the last line still name a line: the section's
 * header, or the backoff key that broke the order. */
START_TEST(bad_whole_file)
{
    expect_error("[venue okx-swap]\nping_interval = 5s\n",
                 "[venue okx-swap]: symbols: at least one symbol", 1);
    expect_error("[daemon]\nstale_after = 5s\n\n[venue hyperliquid]\nsymbols =\n",
                 "[venue hyperliquid]: symbols: at least one symbol", 4);
    expect_error("[venue bybit-linear]\nsymbols = , \t,\n",
                 "[venue bybit-linear]: symbols: at least one symbol", 1);
    /* backoff_max defaults to 30s. */
    expect_error("[daemon]\nbackoff_min = 40s\n",
                 "backoff_min must not exceed backoff_max", 2);
    /* backoff_min defaults to 250ms. */
    expect_error("[daemon]\nstale_after = 5s\nbackoff_max = 200ms\n",
                 "backoff_min must not exceed backoff_max", 3);
    expect_error("[daemon]\nbackoff_max = 1s\nbackoff_min = 2s\nstale_after = 5s\n",
                 "backoff_min must not exceed backoff_max", 3);
    expect_ok("[daemon]\nbackoff_min = 1s\nbackoff_max = 1s\n");
}
END_TEST

START_TEST(bad_files)
{
    lq_err_t err = { "" };
    char want[8400], text[1024];

    /* A NUL byte. */
    put_conf("[daemon]\n\0x = 1\n", sizeof("[daemon]\n\0x = 1\n") - 1);
    config_default(&CF);
    ck_assert_int_eq(config_load(cpath, &CF, &err), -1);
    snprintf(want, sizeof(want), "%s: contains a NUL byte", cpath);
    ck_assert_str_eq(err.msg, want);
    /* A missing file. */
    snprintf(want, sizeof(want), "%s/nope.conf", tmpdir);
    ck_assert_int_eq(config_load(want, &CF, &err), -1);
    ck_assert_msg(strstr(err.msg, "nope.conf: No such file or directory") != NULL, "%s",
                  err.msg);
    /* Paths and URLs longer than their fields. */
    {
        char longv[600];
        memset(longv, 'p', sizeof(longv));
        longv[CONFIG_PATH_MAX] = '\0';                 /* 512 characters: too long */
        longv[0] = '/';                                /* absolute: as given */
        snprintf(text, sizeof(text), "[daemon]\ninstruments_dir = %s\n", longv);
        ck_assert_int_eq(load(text, &CF, &err), -1);
        snprintf(want, sizeof(want), "%s:2: instruments_dir: path too long (got '/pp", cpath);
        ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
        longv[CONFIG_PATH_MAX - 1] = '\0';             /* 511: fits */
        snprintf(text, sizeof(text), "[daemon]\nrecord_dir = %s\n", longv);
        expect_ok(text);
        ck_assert_uint_eq(strlen(CF.record_dir), CONFIG_PATH_MAX - 1);
        memcpy(longv, "wss://", 6);                    /* a URL, 256 long */
        longv[256] = '\0';
        snprintf(text, sizeof(text), "[venue okx-swap]\nsymbols = X\nws_url = %s\n", longv);
        ck_assert_int_eq(load(text, &CF, &err), -1);
        snprintf(want, sizeof(want), "%s:3: ws_url: URL too long (got 'wss://ppp", cpath);
        ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
    }
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("good");

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, documented_file);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, alerts_section);
    tcase_add_test(tc, comments_and_spacing);
    tcase_add_test(tc, units);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, semicolon_inline);
    tcase_add_test(tc, bad_structure);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, bad_lists);
    tcase_add_test(tc, bad_whole_file);
    tcase_add_test(tc, bad_files);
    suite_add_tcase(s, tc);
    return s;
}
