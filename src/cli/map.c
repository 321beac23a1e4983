/*
 * map.c - liqmonctl map: one instrument's liquidation map as an SVG file
 * (include/liqmon/mapsvg.h draws it), at one moment:
 *
 *   liqmonctl map VENUE SYMBOL --store DB [--at T] --svg FILE
 *       the snapshot at or before T (the latest without --at): its map
 *       (snapshots.map, schema version 3) and its ladder rows, drawn here
 *   liqmonctl map VENUE SYMBOL --socket PATH --svg FILE
 *       now, from a running liqmond: GET /v1/map/VENUE/SYMBOL.svg, as is
 *   liqmonctl map VENUE SYMBOL -c CONFIG [--at T] --svg FILE
 *       the config's [store] path with --at (or without a [control]
 *       socket), else its socket
 *
 * Without any of the three: the store ($LIQMON_STORE, else ./liqmon.db)
 * with --at or when $LIQMON_STORE is set, else the socket
 * ($LIQMON_SOCKET, else the default).  FILE '-' is stdout.
 *
 * The store is opened read-only, in one read transaction (the daemon may
 * be writing: WAL).  Exit: 0; 64 usage; 65 not a store this reads, no
 * such snapshot, a snapshot without a map, a map that does not parse, or
 * the daemon refused (404: not a watched instrument); 66 the store or the
 * config cannot be opened; 69 the socket cannot be reached; 70 internal
 * (or a 5xx); 74 writing FILE failed; 78 the config does not parse.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "liqmon/config.h"
#include "liqmon/mapmodel.h"
#include "liqmon/mapsvg.h"
#include "liqmon/market.h"
#include "liqmon/store.h"
#include "cli.h"
#include "timearg.h"

#define CMD "map"
#define MAP_SCHEMA_MIN 3       /* snapshots.map */
#define MAP_SCHEMA_MAX STORE_SCHEMA_VERSION
#define MAP_BUSY_MS 5000
#define MAP_DEFAULT_STORE "liqmon.db"

static void map_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl map VENUE SYMBOL [--store DB [--at T] | --socket PATH |\n"
"                                  -c CONFIG [--at T]] --svg FILE\n"
"\n"
"Draw one instrument's liquidation map as a self-contained SVG: the tracked\n"
"positions' notional by liquidation price (longs below the price, shorts\n"
"above, in 60 buckets), the book's cumulative depth per side on the same\n"
"price axis with the edge of the visible book marked, the reference price,\n"
"and the down and up ladders (shock -> final move) with the tripping shock\n"
"s* of the cascade_risk rule marked.\n"
"\n"
"  --store DB     the daemon's store: the snapshot at or before --at (the\n"
"                 latest without it); needs schema version 3\n"
"  --at T         2026-11-30T12:00:00Z, '2026-11-30 12:00', -15m, now, or ns\n"
"  --socket PATH  a running liqmond's [control] socket: the map now\n"
"  -c, --config CONFIG\n"
"                 a liqmond config: its [store] path with --at (or when it\n"
"                 has no [control] socket), else its socket\n"
"  --svg FILE     where the SVG goes ('-': stdout)\n"
"\n"
"Without --store, --socket or -c: the store ($LIQMON_STORE, else\n"
"./liqmon.db) with --at or when $LIQMON_STORE is set, else the socket\n"
"($LIQMON_SOCKET, else /run/liqmon/liqmond.sock).\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 no such snapshot or map (or not a\n"
"watched instrument), 66 cannot open the store or config, 69 the socket\n"
"cannot be reached, 70 internal error, 74 cannot write FILE, 78 bad config.\n");
}

/* ---- the output --------------------------------------------------------- */

static int write_out(const char *path, const char *data, size_t len,
                     const struct map_model *m)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    int bad;

    if (f == NULL)
        return cli_fail(CMD, CLI_EX_IOERR, "--svg %s: %s", path, strerror(errno));
    if (m != NULL)
        bad = mapsvg_render(m, f) != 0;
    else
        bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0 || ferror(f);
    if (f != stdout)
        bad |= fclose(f) != 0;
    if (bad)
        return cli_fail(CMD, CLI_EX_IOERR, "%s: write error", cli_file_name(path));
    return 0;
}

/* ---- from the daemon ---------------------------------------------------- */

static int from_socket(const char *sock, const char *venue, const char *symbol,
                       const char *out)
{
    char path[700], ev[200], es[400], *body = NULL;
    size_t len = 0;
    int rc;

    cli_url_encode(venue, ev, sizeof(ev));
    cli_url_encode(symbol, es, sizeof(es));
    snprintf(path, sizeof(path), "/v1/map/%s/%s.svg", ev, es);
    if ((rc = cli_ctl_get(CMD, sock, path, &body, &len)) != 0)
        return rc;
    if (len < 5 || strstr(body, "<svg") == NULL) {
        free(body);
        return cli_fail(CMD, CLI_EX_SOFTWARE, "%s: the daemon's answer is not an SVG",
                        sock);
    }
    rc = write_out(out, body, len, NULL);
    free(body);
    return rc;
}

/* ---- from the store ----------------------------------------------------- */

struct mstore {
    const char *path;
    sqlite3 *db;
};

static int db_fail(struct mstore *st, int rc)
{
    int code = (rc & 0xff) == SQLITE_NOMEM ? CLI_EX_SOFTWARE
             : (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB ||
               (rc & 0xff) == SQLITE_ERROR ? CLI_EX_DATAERR : CLI_EX_IOERR;

    return cli_fail(CMD, code, "%s: %s", st->path, sqlite3_errmsg(st->db));
}

static void mstore_close(struct mstore *st)
{
    if (st->db != NULL) {
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(st->db);
    }
    st->db = NULL;
}

/* Open read-only, check the version, begin the read.  0 or the exit code. */
static int mstore_open(struct mstore *st, const char *path)
{
    sqlite3_stmt *q = NULL;
    struct stat sb;
    int rc, v;

    st->path = path;
    st->db = NULL;
    if (stat(path, &sb) != 0)
        return cli_fail(CMD, CLI_EX_NOINPUT, "%s: %s%s", path, strerror(errno),
                        errno == ENOENT ? " (the store: give --store DB or set "
                                          "LIQMON_STORE)" : "");
    if (S_ISDIR(sb.st_mode))
        return cli_fail(CMD, CLI_EX_NOINPUT, "%s: is a directory, not a store", path);
    if ((rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY, NULL)) != SQLITE_OK) {
        rc = cli_fail(CMD, CLI_EX_NOINPUT, "%s: cannot open: %s", path,
                      st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        mstore_close(st);
        return rc;
    }
    sqlite3_busy_timeout(st->db, MAP_BUSY_MS);
    rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        rc = SQLITE_OK;
    v = rc == SQLITE_OK ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    if ((rc & 0xff) == SQLITE_NOTADB) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: not a liqmon store (not an "
                      "SQLite database)", path);
    } else if (rc != SQLITE_OK) {
        rc = db_fail(st, rc);
    } else if (v <= 0) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: not a liqmon store (schema "
                      "version %d)", path, v);
    } else if (v < MAP_SCHEMA_MIN) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: schema version %d keeps no maps "
                      "(version %d does; a liqmond of this release migrates the "
                      "file when it opens it)", path, v, MAP_SCHEMA_MIN);
    } else if (v > MAP_SCHEMA_MAX) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: schema version %d is newer than "
                      "this liqmonctl reads (up to %d): use the liqmonctl of the "
                      "daemon that wrote it", path, v, MAP_SCHEMA_MAX);
    } else if ((rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
        rc = db_fail(st, rc);
    } else {
        return 0;
    }
    mstore_close(st);
    return rc;
}

/* The snapshot's ladder rows into m. */
static int load_rows(struct mstore *st, int64_t id, struct map_model *m)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "SELECT side, shock, final_price, "
                                "move_pct, amplification, liquidated, "
                                "liquidated_notional, exhausted FROM "
                                "snapshot_rows WHERE snapshot_id = ?1 "
                                "ORDER BY side, shock", -1, &q, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 1, id);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *side = (const char *)sqlite3_column_text(q, 0);
        struct map_row r;
        r.shock = sqlite3_column_double(q, 1);
        r.final_price = sqlite3_column_double(q, 2);
        r.move_pct = sqlite3_column_double(q, 3);
        r.amplification = sqlite3_column_type(q, 4) == SQLITE_NULL
                              ? NAN : sqlite3_column_double(q, 4);
        r.liquidated = (uint64_t)sqlite3_column_int64(q, 5);
        r.liquidated_notional = sqlite3_column_double(q, 6);
        r.exhausted = sqlite3_column_int(q, 7) != 0;
        if (side != NULL && (strcmp(side, "down") == 0 || strcmp(side, "up") == 0))
            mapmodel_add_row(m, strcmp(side, "up") == 0, &r);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : db_fail(st, rc);
}

static int from_store(const char *path, const char *venue, const char *symbol,
                      int has_at, int64_t at, const char *out)
{
    struct mstore st;
    struct map_model *m = NULL;
    sqlite3_stmt *q = NULL;
    char key[256], t1[TIMEARG_STRLEN], t2[TIMEARG_STRLEN];
    lq_err_t err = { "" };
    int rc;

    snprintf(key, sizeof(key), "%s:%s", venue, symbol);
    if ((rc = mstore_open(&st, path)) != 0)
        return rc;
    rc = sqlite3_prepare_v2(st.db, "SELECT id, ts, map FROM snapshots WHERE "
                            "instrument = ?1 AND (?2 IS NULL OR ts <= ?2) "
                            "ORDER BY ts DESC, id DESC LIMIT 1", -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && has_at)
        rc = sqlite3_bind_int64(q, 2, at);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        sqlite3_stmt *f = NULL;
        int64_t first = 0;
        if (sqlite3_prepare_v2(st.db, "SELECT min(ts) FROM snapshots WHERE "
                               "instrument = ?1", -1, &f, NULL) == SQLITE_OK &&
            sqlite3_bind_text(f, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_step(f) == SQLITE_ROW && sqlite3_column_type(f, 0) != SQLITE_NULL)
            first = sqlite3_column_int64(f, 0);
        sqlite3_finalize(f);
        if (first > 0)
            rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: no snapshot of %s at or before "
                          "%s (the first is at %s)", path, key,
                          timearg_format(at, t1), timearg_format(first, t2));
        else
            rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: no snapshot of %s", path, key);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(&st, rc);
        goto out;
    }
    if (sqlite3_column_type(q, 2) == SQLITE_NULL) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: the snapshot of %s at %s has no "
                      "map (taken before schema version 3)", path, key,
                      timearg_format(sqlite3_column_int64(q, 1), t1));
        goto out;
    }
    if ((m = malloc(sizeof(*m))) == NULL) {
        rc = cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
        goto out;
    }
    if (mapmodel_parse((const char *)sqlite3_column_text(q, 2),
                       (size_t)sqlite3_column_bytes(q, 2), m, &err) != 0) {
        rc = cli_fail(CMD, CLI_EX_DATAERR, "%s: snapshot %lld: map: %s", path,
                      (long long)sqlite3_column_int64(q, 0), err.msg);
        goto out;
    }
    if (m->ladder_valid && (rc = load_rows(&st, sqlite3_column_int64(q, 0), m)) != 0)
        goto out;
    rc = write_out(out, NULL, 0, m);
out:
    sqlite3_finalize(q);
    mstore_close(&st);
    free(m);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

int cli_map(int argc, char **argv)
{
    static const struct option lo[] = {
        { "store", required_argument, NULL, 'S' },
        { "at", required_argument, NULL, 'a' },
        { "socket", required_argument, NULL, 's' },
        { "config", required_argument, NULL, 'c' },
        { "svg", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *store = NULL, *sock = NULL, *conf = NULL, *out = NULL, *env;
    const char *venue, *symbol;
    struct liqmon_config *cfg = NULL;
    int64_t at = 0;
    int has_at = 0, c, rc;
    lq_err_t err = { "" };

    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "c:h", lo)) != -1) {
        switch (c) {
        case 'S': store = optarg; break;
        case 's': sock = optarg; break;
        case 'c': conf = optarg; break;
        case 'o': out = optarg; break;
        case 'a':
            if (timearg_parse(optarg, timearg_now(), &at, &err) != 0)
                return cli_fail(CMD, CLI_EX_USAGE, "--at: %s", err.msg);
            has_at = 1;
            break;
        case 'h': map_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind >= argc)
        return cli_missing(CMD, "VENUE");
    if (optind + 1 >= argc)
        return cli_missing(CMD, "SYMBOL");
    if (optind + 2 < argc)
        return cli_unexpected(CMD, argv[optind + 2]);
    venue = argv[optind];
    symbol = argv[optind + 1];
    if (venue_from_name(venue) < 0)
        return cli_fail(CMD, CLI_EX_USAGE, "VENUE: unknown venue '%.64s' (binance-usdm, "
                        "bybit-linear, okx-swap, hyperliquid)", venue);
    if (*symbol == '\0' || strlen(symbol) > 64)
        return cli_fail(CMD, CLI_EX_USAGE, "SYMBOL: must be 1..64 characters");
    if (out == NULL)
        return cli_usage_fail(CMD, "missing --svg FILE");
    if ((store != NULL) + (sock != NULL) + (conf != NULL) > 1)
        return cli_usage_fail(CMD, "give one of --store, --socket and --config");
    if (has_at && sock != NULL)
        return cli_usage_fail(CMD, "--at reads the store: not with --socket (the "
                              "daemon draws now)");

    if (conf != NULL) {
        FILE *f = fopen(conf, "r");
        if (f == NULL)
            return cli_fail(CMD, CLI_EX_NOINPUT, "--config %s: %s", conf,
                            strerror(errno));
        fclose(f);
        if ((cfg = malloc(sizeof(*cfg))) == NULL)
            return cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
        config_default(cfg);
        if (config_load(conf, cfg, &err) != 0) {
            free(cfg);
            return cli_fail(CMD, CLI_EX_CONFIG, "--config: %s", err.msg);
        }
        if (!has_at && cfg->control_socket[0] != '\0') {
            sock = cfg->control_socket;
        } else if (cfg->store_path[0] != '\0') {
            store = cfg->store_path;
        } else {
            free(cfg);
            return cli_fail(CMD, CLI_EX_USAGE, "--config %s: no [store] path%s",
                            conf, has_at ? "" : " and no [control] socket");
        }
    } else if (store == NULL && sock == NULL) {
        env = getenv("LIQMON_STORE");
        if (has_at || (env != NULL && *env != '\0'))
            store = env != NULL && *env != '\0' ? env : MAP_DEFAULT_STORE;
    }
    if (store != NULL)
        rc = from_store(store, venue, symbol, has_at, has_at ? at : 0, out);
    else
        rc = from_socket(cli_ctl_socket(sock), venue, symbol, out);
    free(cfg);
    return rc;
}
