/*
 * pm.c - post-mortem queries over the daemon's SQLite store
 * (docs/store-schema.sql):
 *
 *   liqmonctl alerts     the alert records, filtered, as a table or as the
 *                        alert log's JSON Lines
 *   liqmonctl timeline   one instrument's alerts, snapshots, liquidation
 *                        prints and feed events (with its venue's
 *                        connection events) merged in time order
 *   liqmonctl snapshots  one instrument's snapshots, --rows their ladders
 *   liqmonctl stats      rows and time span per table, file sizes, runs
 *
 * The store is opened read-only and never changed.  The daemon writes it in
 * WAL mode, where a reader neither blocks the writer nor waits for it and
 * sees the last committed batch; the busy timeout only covers the short
 * moments (WAL recovery, a TRUNCATE checkpoint) when a reader must wait.
 * Each command reads inside one transaction so that its several queries
 * (a timeline's four sources, the counts of stats) see the same state of
 * the file while the daemon keeps writing.
 *
 * The schema has no index on ts or instrument: every query here is a scan.
 * That is fine for a post-mortem; nothing here runs on the daemon's path.
 *
 * Exit: 0 ok; 64 usage (one line saying what and where); 65 not a liqmon
 * store, or a schema newer than this build reads; 66 the store cannot be
 * opened; 70 out of memory; 74 reading the store or writing stdout failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "liqmon/alert.h"
#include "liqmon/cascade.h"
#include "liqmon/dec.h"
#include "liqmon/jsonw.h"
#include "cli.h"
#include "liqmon/store.h"
#include "timearg.h"

/* The newest schema (PRAGMA user_version) this file reads; 1 lacks only the
 * columns step 2 added, which read as NULL (count as 1); 3 adds
 * snapshots.map, which only liqmonctl map (map.c) reads; 4 adds
 * api_positions, which the daemon reads (apipos.c). */
#define PM_SCHEMA_MAX 4
_Static_assert(PM_SCHEMA_MAX == STORE_SCHEMA_VERSION,
               "a new store step: say here what the post-mortem commands read of it");
#define PM_BUSY_MS 5000
#define PM_DEFAULT_STORE "liqmon.db"
#define PM_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const pm_tables[] = {
    "runs", "alerts", "snapshots", "snapshot_rows", "liq_prints",
    "feed_events", "positions"
};

/* ---- arguments ---------------------------------------------------------- */

enum {
    PO_STORE = 1u << 0, PO_SINCE = 1u << 1, PO_UNTIL = 1u << 2,
    PO_FROM = 1u << 3, PO_TO = 1u << 4, PO_VENUE = 1u << 5,
    PO_INSTRUMENT = 1u << 6, PO_KIND = 1u << 7, PO_SEVERITY = 1u << 8,
    PO_STATE = 1u << 9, PO_RUN = 1u << 10, PO_LIMIT = 1u << 11,
    PO_JSON = 1u << 12, PO_ROWS = 1u << 13
};

static const struct pm_optdef {
    const char *name;
    unsigned bit;
    const char *value;          /* what it takes, for messages; NULL: a flag */
} pm_optdefs[] = {
    { "--store", PO_STORE, "a store file" },
    { "--since", PO_SINCE, "a time" },
    { "--until", PO_UNTIL, "a time" },
    { "--from", PO_FROM, "a time" },
    { "--to", PO_TO, "a time" },
    { "--venue", PO_VENUE, "a venue" },
    { "--instrument", PO_INSTRUMENT, "VENUE:SYMBOL" },
    { "--kind", PO_KIND, "an alert kind" },
    { "--severity", PO_SEVERITY, "warning or critical" },
    { "--state", PO_STATE, "firing or resolved" },
    { "--run", PO_RUN, "a run id" },
    { "--limit", PO_LIMIT, "a count" },
    { "--json", PO_JSON, NULL },
    { "--rows", PO_ROWS, NULL },
};

struct pm_args {
    const char *cmd;            /* "alerts": "liqmonctl alerts: ..." */
    int64_t now;                /* one clock reading for every relative time */
    const char *store;
    int has_lo, has_hi;         /* --since / --from, --until / --to */
    int64_t lo, hi;             /* inclusive, ns */
    const char *lo_opt, *hi_opt;
    const char *venue, *instrument, *kind, *severity, *state;
    int has_run;
    int64_t run;
    int64_t limit;              /* 0: no limit */
    int json, rows;
};

#define PM_HELP (-1)

/* One line on stderr, "liqmonctl CMD: ...", and code back.  Control
 * characters (a newline in an argument) are shown as '?' so that the
 * message stays one line. */
static int pm_say(const struct pm_args *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int pm_say(const struct pm_args *a, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    fprintf(stderr, "liqmonctl %s: %s\n", a->cmd, msg);
    return code;
}

/* A positive decimal integer that fits an int64. */
static int pm_parse_count(const char *s, int64_t *out)
{
    int64_t n = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (INT64_MAX - (*s - '0')) / 10)
            return -1;
        n = n * 10 + (*s - '0');
    }
    if (n == 0)
        return -1;
    *out = n;
    return 0;
}

static int pm_set(struct pm_args *a, const struct pm_optdef *od, const char *v)
{
    lq_err_t err = { "" };

    switch (od->bit) {
    case PO_STORE:
        a->store = v;
        break;
    case PO_SINCE:
    case PO_FROM:
        if (timearg_parse(v, a->now, &a->lo, &err) != 0)
            return pm_say(a, CLI_EX_USAGE, "%s: %s", od->name, err.msg);
        a->has_lo = 1;
        a->lo_opt = od->name;
        break;
    case PO_UNTIL:
    case PO_TO:
        if (timearg_parse(v, a->now, &a->hi, &err) != 0)
            return pm_say(a, CLI_EX_USAGE, "%s: %s", od->name, err.msg);
        a->has_hi = 1;
        a->hi_opt = od->name;
        break;
    case PO_VENUE:
        a->venue = v;
        break;
    case PO_INSTRUMENT:
        a->instrument = v;
        break;
    case PO_KIND:
        a->kind = v;            /* checked once the store is open */
        break;
    case PO_SEVERITY:
        if (strcmp(v, "warning") != 0 && strcmp(v, "critical") != 0)
            return pm_say(a, CLI_EX_USAGE, "--severity: must be warning or "
                          "critical (got '%.64s')", v);
        a->severity = v;
        break;
    case PO_STATE:
        if (strcmp(v, "firing") != 0 && strcmp(v, "resolved") != 0)
            return pm_say(a, CLI_EX_USAGE, "--state: must be firing or "
                          "resolved (got '%.64s')", v);
        a->state = v;
        break;
    case PO_RUN:
        if (pm_parse_count(v, &a->run) != 0)
            return pm_say(a, CLI_EX_USAGE, "--run: must be a run id, an "
                          "integer > 0 that liqmonctl stats lists (got "
                          "'%.64s')", v);
        a->has_run = 1;
        break;
    case PO_LIMIT:
        if (pm_parse_count(v, &a->limit) != 0)
            return pm_say(a, CLI_EX_USAGE, "--limit: must be an integer > 0 "
                          "(got '%.64s')", v);
        break;
    case PO_JSON:
        a->json = 1;
        break;
    case PO_ROWS:
        a->rows = 1;
        break;
    }
    return 0;
}

/* 0, PM_HELP (--help seen), or CLI_EX_USAGE with the line printed.
 * cli_getopt (cli.h): "--opt VALUE" or "--opt=VALUE"; a value may start
 * with '-' (-15m) but not with "--" (that is a forgotten value). */
static int pm_parse_args(int argc, char **argv, unsigned allowed,
                         struct pm_args *a)
{
    struct option lo[PM_COUNT(pm_optdefs) + 2];
    size_t n = 0;
    const char *env;
    int c, rc;

    for (size_t k = 0; k < PM_COUNT(pm_optdefs); k++) {
        if (!(pm_optdefs[k].bit & allowed))
            continue;
        lo[n].name = pm_optdefs[k].name + 2;             /* past "--" */
        lo[n].has_arg = pm_optdefs[k].value ? required_argument
                                            : no_argument;
        lo[n].flag = NULL;
        lo[n].val = 256 + (int)k;
        n++;
    }
    lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[n] = (struct option){ NULL, 0, NULL, 0 };
    optind = 0;
    while ((c = cli_getopt(a->cmd, argc, argv, "h", lo)) != -1) {
        if (c == 'h')
            return PM_HELP;
        if (c < 256)
            return CLI_EX_USAGE;
        if ((rc = pm_set(a, &pm_optdefs[c - 256], optarg)) != 0)
            return rc;
    }
    if (optind < argc)
        return cli_unexpected(a->cmd, argv[optind]);
    if (a->has_lo && a->has_hi && a->lo > a->hi) {
        char l[TIMEARG_STRLEN], h[TIMEARG_STRLEN];
        return pm_say(a, CLI_EX_USAGE, "%s %s is after %s %s", a->lo_opt,
                      timearg_format(a->lo, l), a->hi_opt,
                      timearg_format(a->hi, h));
    }
    if (a->store == NULL) {
        env = getenv("LIQMON_STORE");
        a->store = env != NULL && *env != '\0' ? env : PM_DEFAULT_STORE;
    }
    return 0;
}

static void pm_args_init(struct pm_args *a, const char *cmd)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->now = timearg_now();
}

/* ---- the store ---------------------------------------------------------- */

struct pm_store {
    const struct pm_args *a;    /* for messages */
    sqlite3 *db;
    int version;                /* PRAGMA user_version */
    int in_txn;
};

/* The line for a failed SQLite call; the exit code it means. */
static int pm_db_fail(struct pm_store *st, int rc)
{
    int code;

    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        code = CLI_EX_SOFTWARE;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_ERROR:          /* a statement the file's schema refuses */
        code = CLI_EX_DATAERR;
        break;
    default:
        code = CLI_EX_IOERR;
    }
    return pm_say(st->a, code, "%s: %s", st->a->store, sqlite3_errmsg(st->db));
}

static int pm_prepare(struct pm_store *st, const char *sql, sqlite3_stmt **q)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, q, NULL);

    return rc == SQLITE_OK ? 0 : pm_db_fail(st, rc);
}

/* The first column of sql's first row as an integer (0 when NULL).
 * Returns an SQLite result code, for the caller to word. */
static int pm_scalar(struct pm_store *st, const char *sql, const char *arg,
                     int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);

    if (rc == SQLITE_OK && arg != NULL)
        rc = sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(q, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

static void pm_close(struct pm_store *st)
{
    if (st->db == NULL)
        return;
    /* A read transaction: nothing to lose if it fails to end, and the
     * connection closes right after. */
    if (st->in_txn)
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (sqlite3_close(st->db) != SQLITE_OK)
        fprintf(stderr, "liqmonctl %s: internal error: a statement was left "
                "open\n", st->a->cmd);
    st->db = NULL;
}

/* Open a->store read-only and check that it is a liqmon store this build
 * reads.  0, or the exit code with its line printed (st is then closed). */
static int pm_open(struct pm_store *st, const struct pm_args *a)
{
    struct stat sb;
    int64_t v, n;
    int rc, code;

    memset(st, 0, sizeof(*st));
    st->a = a;
    if (stat(a->store, &sb) != 0)
        return pm_say(a, CLI_EX_NOINPUT, "%s: %s%s", a->store, strerror(errno),
                      errno == ENOENT ? " (the store: give --store DB or set "
                                        "LIQMON_STORE)" : "");
    if (S_ISDIR(sb.st_mode))
        return pm_say(a, CLI_EX_NOINPUT, "%s: is a directory, not a store",
                      a->store);
    rc = sqlite3_open_v2(a->store, &st->db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        code = pm_say(a, CLI_EX_NOINPUT, "%s: cannot open: %s", a->store,
                      st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    rc = sqlite3_busy_timeout(st->db, PM_BUSY_MS);
    if (rc == SQLITE_OK)
        rc = pm_scalar(st, "PRAGMA user_version", NULL, &v);
    if ((rc & 0xff) == SQLITE_NOTADB) {
        code = pm_say(a, CLI_EX_DATAERR, "%s: not a liqmon store (not an "
                      "SQLite database)", a->store);
        goto fail;
    }
    if (rc != SQLITE_OK) {
        code = pm_say(a, (rc & 0xff) == SQLITE_CORRUPT ? CLI_EX_DATAERR
                                                       : CLI_EX_NOINPUT,
                      "%s: cannot read: %s", a->store, sqlite3_errmsg(st->db));
        goto fail;
    }
    if (v <= 0) {
        code = pm_say(a, CLI_EX_DATAERR, "%s: not a liqmon store (schema "
                      "version %lld; a store is 1 to %d)", a->store,
                      (long long)v, PM_SCHEMA_MAX);
        goto fail;
    }
    if (v > PM_SCHEMA_MAX) {
        code = pm_say(a, CLI_EX_DATAERR, "%s: schema version %lld is newer "
                      "than this liqmonctl reads (up to %d): use the "
                      "liqmonctl of the daemon that wrote it", a->store,
                      (long long)v, PM_SCHEMA_MAX);
        goto fail;
    }
    st->version = (int)v;
    /* From here on every query sees one state of the file. */
    rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        code = pm_db_fail(st, rc);
        goto fail;
    }
    st->in_txn = 1;
    for (size_t i = 0; i < PM_COUNT(pm_tables); i++) {
        rc = pm_scalar(st, "SELECT count(*) FROM sqlite_master WHERE "
                       "type = 'table' AND name = ?1", pm_tables[i], &n);
        if (rc != SQLITE_OK) {
            code = pm_db_fail(st, rc);
            goto fail;
        }
        if (n == 0) {
            code = pm_say(a, CLI_EX_DATAERR, "%s: not a liqmon store (schema "
                          "version %lld, but no table '%s')", a->store,
                          (long long)v, pm_tables[i]);
            goto fail;
        }
    }
    return 0;
fail:
    pm_close(st);
    return code;
}

/* Unbound parameters read as NULL, which the filters take as "any". */
static int pm_bind_i64(sqlite3_stmt *q, const char *name, int has, int64_t v)
{
    int i = sqlite3_bind_parameter_index(q, name);

    return i == 0 || !has ? SQLITE_OK : sqlite3_bind_int64(q, i, v);
}

static int pm_bind_text(sqlite3_stmt *q, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(q, name);

    return i == 0 || v == NULL ? SQLITE_OK
                               : sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* Every filter the statement names: :lo :hi :run :venue :instrument :kind
 * :severity :state, and :inst / :inst_venue (the resolved instrument). */
static int pm_bind_filters(struct pm_store *st, sqlite3_stmt *q,
                           const char *inst, const char *inst_venue)
{
    const struct pm_args *a = st->a;
    int rc = pm_bind_i64(q, ":lo", a->has_lo, a->lo);

    if (rc == SQLITE_OK)
        rc = pm_bind_i64(q, ":hi", a->has_hi, a->hi);
    if (rc == SQLITE_OK)
        rc = pm_bind_i64(q, ":run", a->has_run, a->run);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":venue", a->venue);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":instrument", inst);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":kind", a->kind);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":severity", a->severity);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":state", a->state);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":inst", inst);
    if (rc == SQLITE_OK)
        rc = pm_bind_text(q, ":inst_venue", inst_venue);
    return rc == SQLITE_OK ? 0 : pm_db_fail(st, rc);
}

/* Append ", item" (or "item" first) to a one-line list, ending it with
 * "..." when it no longer fits. */
static void pm_list_add(char *buf, size_t size, const char *item)
{
    size_t len = strlen(buf);

    if (len + 3 >= size || (len >= 3 && strcmp(buf + len - 3, "...") == 0))
        return;
    if (len + strlen(item) + 6 >= size) {
        snprintf(buf + len, size - len, "%s...", len ? ", " : "");
        return;
    }
    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", item);
}

/* --kind: a contract kind, or one the store holds. */
static int pm_check_kind(struct pm_store *st)
{
    const struct pm_args *a = st->a;
    sqlite3_stmt *q = NULL;
    char known[512] = "";
    int rc, found = 0, code;

    /* The contract's kinds (alert.h); the daemon may add kinds
     * (config_rejected ...): a kind the store holds is known too. */
    if (alert_kind_from_name(a->kind) >= 0)
        return 0;
    for (int i = 0; i < ALERT_KIND_COUNT; i++)
        pm_list_add(known, sizeof(known), alert_kind_name((enum alert_kind)i));
    if ((code = pm_prepare(st, "SELECT DISTINCT kind FROM alerts ORDER BY 1",
                           &q)) != 0)
        return code;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        if (k == NULL)
            continue;
        if (strcmp(k, a->kind) == 0)
            found = 1;
        if (alert_kind_from_name(k) < 0)
            pm_list_add(known, sizeof(known), k);
    }
    if (rc != SQLITE_DONE)
        code = pm_db_fail(st, rc);
    else if (!found)
        code = pm_say(a, CLI_EX_USAGE, "--kind: must be one of %s (got "
                      "'%.64s')", known, a->kind);
    sqlite3_finalize(q);
    return code;
}

#define PM_ALL_INSTRUMENTS                                                    \
    "SELECT instrument FROM snapshots"                                       \
    " UNION SELECT instrument FROM alerts WHERE instrument IS NOT NULL"      \
    " UNION SELECT instrument FROM liq_prints"                               \
    " UNION SELECT instrument FROM feed_events WHERE instrument IS NOT NULL" \
    " UNION SELECT instrument FROM positions ORDER BY 1"

#define PM_HAS_INSTRUMENT                                                     \
    "SELECT EXISTS (SELECT 1 FROM snapshots WHERE instrument = ?1)"          \
    " OR EXISTS (SELECT 1 FROM alerts WHERE instrument = ?1)"                \
    " OR EXISTS (SELECT 1 FROM liq_prints WHERE instrument = ?1)"            \
    " OR EXISTS (SELECT 1 FROM feed_events WHERE instrument = ?1)"           \
    " OR EXISTS (SELECT 1 FROM positions WHERE instrument = ?1)"

/* What --instrument names in the store, into *out (malloc'd): a
 * VENUE:SYMBOL key as given, or the one key whose symbol is a bare SYMBOL.
 * must_exist: a key with no row anywhere is refused (timeline, snapshots:
 * a typo, surely) instead of giving an empty answer (alerts: a filter). */
static int pm_resolve_instrument(struct pm_store *st, int must_exist,
                                 char **out)
{
    const struct pm_args *a = st->a;
    const char *given = a->instrument;
    sqlite3_stmt *q = NULL;
    char known[512] = "", matches[512] = "";
    char *match = NULL;
    int64_t has = 0;
    int rc, code = 0, nmatch = 0;

    *out = NULL;
    if (strchr(given, ':') != NULL) {
        if (must_exist) {
            rc = pm_scalar(st, PM_HAS_INSTRUMENT, given, &has);
            if (rc != SQLITE_OK)
                return pm_db_fail(st, rc);
        }
        if (!must_exist || has) {
            if ((*out = strdup(given)) == NULL)
                return pm_say(a, CLI_EX_SOFTWARE, "out of memory");
            return 0;
        }
    }
    if ((code = pm_prepare(st, PM_ALL_INSTRUMENTS, &q)) != 0)
        return code;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        const char *sym = k ? strchr(k, ':') : NULL;
        if (k == NULL)
            continue;
        pm_list_add(known, sizeof(known), k);
        if (sym != NULL && strcmp(sym + 1, given) == 0) {
            pm_list_add(matches, sizeof(matches), k);
            if (nmatch++ == 0 && (match = strdup(k)) == NULL) {
                code = pm_say(a, CLI_EX_SOFTWARE, "out of memory");
                goto out;
            }
        }
    }
    if (rc != SQLITE_DONE)
        code = pm_db_fail(st, rc);
    else if (nmatch > 1)
        code = pm_say(a, CLI_EX_USAGE, "--instrument: '%.64s' is on several "
                      "venues: %s (give VENUE:SYMBOL)", given, matches);
    else if (nmatch == 0)
        code = pm_say(a, CLI_EX_USAGE, "--instrument: no instrument '%.64s' in "
                      "%s (%s%s)", given, a->store,
                      *known ? "it has: " : "it has none", known);
out:
    sqlite3_finalize(q);
    if (code == 0) {
        *out = match;
        match = NULL;
    }
    free(match);
    return code;
}

/* The venue of a "VENUE:SYMBOL" key (venue names hold no ':'), malloc'd. */
static char *pm_venue_of(const char *key)
{
    const char *c = strchr(key, ':');
    size_t n = c ? (size_t)(c - key) : strlen(key);
    char *v = malloc(n + 1);

    if (v != NULL) {
        memcpy(v, key, n);
        v[n] = '\0';
    }
    return v;
}

/* ---- formatting --------------------------------------------------------- */

static const char *pm_text(sqlite3_stmt *q, int i, const char *dflt)
{
    const char *s = (const char *)sqlite3_column_text(q, i);

    return s ? s : dflt;
}

static int pm_null(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL;
}

/* "%.10g", or "-" for NULL. */
static const char *pm_fmt_num(sqlite3_stmt *q, int i, char *buf, size_t size)
{
    if (pm_null(q, i))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.10g", sqlite3_column_double(q, i));
    return buf;
}

/* A notional for a table, to 3 significant digits past 1000: 987.5,
 * 67.4K, 183K, 1.12M, 4.50B. */
static const char *pm_fmt_notional(double v, char *buf, size_t size)
{
    static const char units[] = "KMBT";
    double x = v < 0 ? -v : v;
    int u = -1;

    /* 999.5 and up would print as "1000" in the unit below. */
    while (u < 3 && x >= 999.5) {
        x /= 1000;
        u++;
    }
    if (u < 0)
        snprintf(buf, size, "%.4g", v);
    else
        snprintf(buf, size, "%s%.*f%c", v < 0 ? "-" : "",
                 x < 9.995 ? 2 : x < 99.95 ? 1 : 0, x, units[u]);
    return buf;
}

/* 1234567 -> "1,234,567". */
static const char *pm_fmt_count(int64_t v, char *buf, size_t size)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%lld", (long long)v), o = 0;
    int lead = digits[0] == '-';

    for (int i = 0; i < n && o + 2 < (int)size; i++) {
        if (i > lead && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *pm_fmt_bytes(int64_t v, char *buf, size_t size)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
    double x = (double)v;
    int u = -1;

    while (u < 3 && x >= 1024) {
        x /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, size, "%lld bytes", (long long)v);
    else
        snprintf(buf, size, "%.1f %s", x, units[u]);
    return buf;
}

static const char *pm_fmt_time(sqlite3_stmt *q, int i, char *buf)
{
    if (pm_null(q, i)) {
        snprintf(buf, TIMEARG_STRLEN, "-");
        return buf;
    }
    return timearg_format(sqlite3_column_int64(q, i), buf);
}

/* ---- JSON --------------------------------------------------------------- */

static void pm_jw_i64(struct jsonw *w, int64_t v)
{
    dec_t d;

    if (v >= 0) {
        jw_u64(w, (unsigned long long)v);
    } else if (dec_from_int(v, &d) == 0) {
        jw_dec(w, d);
    } else {
        jw_null(w);
    }
}

/* Columns that hold 0/1 flags: true/false in JSON. */
static int pm_is_flag(const char *name)
{
    static const char *const flags[] = {
        "book_valid", "ref_is_mark", "ladder_valid", "exhausted"
    };

    for (size_t i = 0; i < PM_COUNT(flags); i++)
        if (strcmp(name, flags[i]) == 0)
            return 1;
    return 0;
}

/* Columns [from, to) of the current row as "name": value pairs, exactly as
 * stored: integers as integers, reals in the shortest form that reads back
 * the same, NULL as null. */
static void pm_json_cols(struct jsonw *w, sqlite3_stmt *q, int from, int to)
{
    for (int i = from; i < to; i++) {
        const char *name = sqlite3_column_name(q, i);
        jw_key(w, name ? name : "?");
        switch (sqlite3_column_type(q, i)) {
        case SQLITE_INTEGER:
            if (pm_is_flag(name ? name : ""))
                jw_bool(w, sqlite3_column_int64(q, i) != 0);
            else
                pm_jw_i64(w, sqlite3_column_int64(q, i));
            break;
        case SQLITE_FLOAT:
            jw_double(w, sqlite3_column_double(q, i));
            break;
        case SQLITE_TEXT:
            jw_str(w, pm_text(q, i, ""));
            break;
        default:
            jw_null(w);
        }
    }
}

/* Print the finished object as one line; -1 when the writer ran out of
 * memory. */
static int pm_jw_line(struct jsonw *w)
{
    int rc = jw_failed(w) ? -1 : 0;

    if (rc == 0)
        printf("%s\n", w->buf);
    jw_fini(w);
    return rc;
}

/* details: the daemon wrote a JSON object as text.  It is copied as it is,
 * minus whitespace outside strings so that the record stays one line; text
 * that is not a JSON object (a damaged or hand-edited row) is written as a
 * JSON string instead, so that the line is still JSON. */
static int pm_put_details(const char *text)
{
    json_error_t je;
    json_t *v = text ? json_loads(text, JSON_DECODE_INT_AS_REAL, &je) : NULL;
    int in_str = 0, obj = v != NULL && json_is_object(v);

    json_decref(v);
    if (text == NULL) {
        fputs("null", stdout);
        return 0;
    }
    if (!obj) {
        struct jsonw w;
        jw_init(&w);
        jw_str(&w, text);
        if (jw_failed(&w)) {
            jw_fini(&w);
            return -1;
        }
        fputs(w.buf, stdout);
        jw_fini(&w);
        return 0;
    }
    for (const char *p = text; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1] != '\0')
                putchar(*p++);
            else if (*p == '"')
                in_str = 0;
        } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            continue;
        } else if (*p == '"') {
            in_str = 1;
        }
        putchar(*p);
    }
    return 0;
}

static int pm_nomem(const struct pm_args *a)
{
    return pm_say(a, CLI_EX_SOFTWARE, "out of memory");
}

static int pm_flush(const struct pm_args *a)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return pm_say(a, CLI_EX_IOERR, "stdout: write error");
    return 0;
}

/* ---- alerts ------------------------------------------------------------- */

/* In the alert log's field order, details last (see pm_alert_json). */
#define PM_ALERT_COLS                                                         \
    "id, ts, kind, subject, venue, instrument, severity, state, message, "    \
    "details, run_id"
enum {
    AC_ID, AC_TS, AC_KIND, AC_SUBJECT, AC_VENUE, AC_INSTRUMENT, AC_SEVERITY,
    AC_STATE, AC_MESSAGE, AC_DETAILS, AC_RUN
};

#define PM_RANGE                                                              \
    "(:lo IS NULL OR ts >= :lo) AND (:hi IS NULL OR ts <= :hi)"               \
    " AND (:run IS NULL OR run_id = :run)"

#define PM_ALERT_WHERE                                                        \
    " FROM alerts WHERE " PM_RANGE                                            \
    " AND (:venue IS NULL OR venue = :venue)"                                 \
    " AND (:instrument IS NULL OR instrument = :instrument)"                  \
    " AND (:kind IS NULL OR kind = :kind)"                                    \
    " AND (:severity IS NULL OR severity = :severity)"                        \
    " AND (:state IS NULL OR state = :state)"

/* One record as the alert log writes it.  timeline: "type" and "run_id"
 * first.  The writer holds everything up to "details": and the line is
 * finished by hand, as jsonw cannot splice in text that is already JSON. */
static int pm_alert_json(sqlite3_stmt *q, int timeline)
{
    struct jsonw w;

    jw_init(&w);
    jw_obj_begin(&w);
    if (timeline) {
        jw_key(&w, "type");
        jw_str(&w, "alert");
        jw_key(&w, "run_id");
        pm_jw_i64(&w, sqlite3_column_int64(q, AC_RUN));
    }
    pm_json_cols(&w, q, AC_ID, AC_DETAILS);
    jw_key(&w, "details");
    if (jw_failed(&w)) {
        jw_fini(&w);
        return -1;
    }
    fputs(w.buf, stdout);
    jw_fini(&w);
    if (pm_put_details(pm_text(q, AC_DETAILS, NULL)) != 0)
        return -1;
    fputs("}\n", stdout);
    return 0;
}

static void pm_alerts_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl alerts [--store DB] [--since T] [--until T] [--venue V]\n"
"           [--instrument I] [--kind K] [--severity S]\n"
"           [--state firing|resolved] [--run N] [--limit N] [--json]\n"
"\n"
"The alert records in the store, oldest first (by time, then run and id):\n"
"a table of time, kind, severity, state, subject and message, or with\n"
"--json the alert log's own JSON Lines (id, ts, kind, subject, venue,\n"
"instrument, severity, state, message, details).\n"
"\n"
"  --store DB        the store (default: $LIQMON_STORE, else ./liqmon.db)\n"
"  --since, --until  from / to this time, both included\n"
"  --venue V         binance-usdm, okx-swap, bybit-linear, hyperliquid\n"
"  --instrument I    VENUE:SYMBOL, or SYMBOL alone when one venue has it\n"
"  --kind K          position_near, position_liquidated, cascade_risk,\n"
"                    book_invalid, feed_down, liquidation_cluster, or any\n"
"                    other kind the store holds\n"
"  --severity S      warning or critical\n"
"  --state S         firing or resolved\n"
"  --run N           one run of the daemon (liqmonctl stats lists them)\n"
"  --limit N         the first N records only (a note on stderr when more\n"
"                    match)\n"
"\n"
"Times (T): 2026-11-30T12:00:00Z, 2026-11-30T12:00:00.250Z,\n"
"'2026-11-30 12:00:00', 2026-11-30 (midnight), with an optional +HH:MM or\n"
"-HH:MM offset (else UTC); -30s, -15m, -2h, -7d (before now); now; or ns\n"
"since the epoch.\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a liqmon store, 66 cannot open\n"
"the store, 74 read error.\n");
}

int cli_alerts(int argc, char **argv)
{
    struct pm_args a;
    struct pm_store st = { 0 };
    sqlite3_stmt *q = NULL;
    char *inst = NULL;
    int64_t wkind = 4, wsubj = 7, n = 0;
    int rc, code;

    pm_args_init(&a, "alerts");
    code = pm_parse_args(argc, argv,
                         PO_STORE | PO_SINCE | PO_UNTIL | PO_VENUE |
                         PO_INSTRUMENT | PO_KIND | PO_SEVERITY | PO_STATE |
                         PO_RUN | PO_LIMIT | PO_JSON, &a);
    if (code == PM_HELP) {
        pm_alerts_usage(stdout);
        return 0;
    }
    if (code != 0)
        return code;
    if ((code = pm_open(&st, &a)) != 0)
        return code;
    if (a.kind != NULL && (code = pm_check_kind(&st)) != 0)
        goto out;
    if (a.instrument != NULL &&
        (code = pm_resolve_instrument(&st, 0, &inst)) != 0)
        goto out;

    /* The table's widths: a first pass over the same rows. */
    if (!a.json) {
        if ((code = pm_prepare(&st, "SELECT max(length(kind)), max(length("
                               "subject))" PM_ALERT_WHERE, &q)) != 0 ||
            (code = pm_bind_filters(&st, q, inst, NULL)) != 0)
            goto out;
        if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
            code = pm_db_fail(&st, rc);
            goto out;
        }
        if (sqlite3_column_int64(q, 0) > wkind)
            wkind = sqlite3_column_int64(q, 0);
        if (sqlite3_column_int64(q, 1) > wsubj)
            wsubj = sqlite3_column_int64(q, 1);
        sqlite3_finalize(q);
        q = NULL;
    }
    if ((code = pm_prepare(&st, "SELECT " PM_ALERT_COLS PM_ALERT_WHERE
                           " ORDER BY ts, run_id, id LIMIT :limit", &q)) != 0 ||
        (code = pm_bind_filters(&st, q, inst, NULL)) != 0)
        goto out;
    /* One more than asked, to tell whether more match. */
    rc = sqlite3_bind_int64(q, sqlite3_bind_parameter_index(q, ":limit"),
                            a.limit > 0 ? a.limit + 1 : -1);
    if (rc != SQLITE_OK) {
        code = pm_db_fail(&st, rc);
        goto out;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        char t[TIMEARG_STRLEN];
        if (a.limit > 0 && n == a.limit) {
            pm_say(&a, 0, "showing the first %lld records; more match (raise "
                   "--limit or narrow --since/--until)", (long long)a.limit);
            break;
        }
        if (a.json) {
            if (pm_alert_json(q, 0) != 0) {
                code = pm_nomem(&a);
                goto out;
            }
        } else {
            if (n == 0)
                printf("%-24s  %-*s  %-8s  %-8s  %-*s  %s\n", "time",
                       (int)wkind, "kind", "severity", "state", (int)wsubj,
                       "subject", "message");
            printf("%-24s  %-*s  %-8s  %-8s  %-*s  %s\n",
                   pm_fmt_time(q, AC_TS, t), (int)wkind,
                   pm_text(q, AC_KIND, ""),
                   pm_text(q, AC_SEVERITY, ""), pm_text(q, AC_STATE, ""),
                   (int)wsubj, pm_text(q, AC_SUBJECT, ""),
                   pm_text(q, AC_MESSAGE, ""));
        }
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        code = pm_db_fail(&st, rc);
        goto out;
    }
    if (n == 0 && !a.json)
        printf("no alerts match\n");
    code = pm_flush(&a);
out:
    sqlite3_finalize(q);
    free(inst);
    pm_close(&st);
    return code;
}

/* ---- ladders ------------------------------------------------------------ */

struct pm_lrow {
    char side[8];
    double shock, start_price;
    int64_t rounds, liquidated;
    double liq_qty, liq_notional, final_price, move_pct;
    int has_amp;
    double amp;
    int exhausted;
    double unfilled;
    int has_vwap;
    double vwap;
};

struct pm_ladder {
    sqlite3_stmt *q;            /* the rows of one snapshot, down first */
    struct pm_lrow *v;
    size_t n, cap;
};

static int pm_ladder_init(struct pm_store *st, struct pm_ladder *l)
{
    memset(l, 0, sizeof(*l));
    return pm_prepare(st, "SELECT side, shock, start_price, rounds, "
                      "liquidated, liquidated_qty, liquidated_notional, "
                      "final_price, move_pct, amplification, exhausted, "
                      "unfilled_qty, vwap FROM snapshot_rows WHERE "
                      "snapshot_id = ?1 ORDER BY side <> 'down', side, shock",
                      &l->q);
}

static void pm_ladder_fini(struct pm_ladder *l)
{
    sqlite3_finalize(l->q);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int pm_ladder_load(struct pm_store *st, struct pm_ladder *l,
                          int64_t snapshot_id)
{
    sqlite3_stmt *q = l->q;
    int rc;

    l->n = 0;
    /* reset repeats the last step's result, which was handled then. */
    sqlite3_reset(q);
    if ((rc = sqlite3_bind_int64(q, 1, snapshot_id)) != SQLITE_OK)
        return pm_db_fail(st, rc);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct pm_lrow *r;
        if (l->n == l->cap) {
            size_t ncap = l->cap ? l->cap * 2 : 32;
            struct pm_lrow *nv = realloc(l->v, ncap * sizeof(*nv));
            if (nv == NULL)
                return pm_nomem(st->a);
            l->v = nv;
            l->cap = ncap;
        }
        r = &l->v[l->n++];
        snprintf(r->side, sizeof(r->side), "%s", pm_text(q, 0, "?"));
        r->shock = sqlite3_column_double(q, 1);
        r->start_price = sqlite3_column_double(q, 2);
        r->rounds = sqlite3_column_int64(q, 3);
        r->liquidated = sqlite3_column_int64(q, 4);
        r->liq_qty = sqlite3_column_double(q, 5);
        r->liq_notional = sqlite3_column_double(q, 6);
        r->final_price = sqlite3_column_double(q, 7);
        r->move_pct = sqlite3_column_double(q, 8);
        r->has_amp = !pm_null(q, 9);
        r->amp = sqlite3_column_double(q, 9);
        r->exhausted = sqlite3_column_int(q, 10) != 0;
        r->unfilled = sqlite3_column_double(q, 11);
        r->has_vwap = !pm_null(q, 12);
        r->vwap = sqlite3_column_double(q, 12);
    }
    return rc == SQLITE_DONE ? 0 : pm_db_fail(st, rc);
}

/* The side's row with the largest amplification (the smaller shock on a
 * tie: the cheaper push), or NULL when no row has one. */
static const struct pm_lrow *pm_worst(const struct pm_ladder *l,
                                      const char *side)
{
    const struct pm_lrow *w = NULL;

    for (size_t i = 0; i < l->n; i++) {
        const struct pm_lrow *r = &l->v[i];
        if (strcmp(r->side, side) != 0 || !r->has_amp)
            continue;
        if (w == NULL || r->amp > w->amp ||
            (r->amp == w->amp && r->shock < w->shock))
            w = r;
    }
    return w;
}

/* "3.2x at 2% (1.23M)" */
static const char *pm_fmt_worst(const struct pm_lrow *r, char *buf,
                                size_t size)
{
    char nt[32];

    if (r == NULL)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.4gx at %g%% (%s)", r->amp, r->shock * 100,
                 pm_fmt_notional(r->liq_notional, nt, sizeof(nt)));
    return buf;
}

static void pm_json_worst(struct jsonw *w, const struct pm_lrow *r)
{
    if (r == NULL) {
        jw_null(w);
        return;
    }
    jw_obj_begin(w);
    jw_key(w, "shock");
    jw_double(w, r->shock);
    jw_key(w, "amplification");
    jw_double(w, r->amp);
    jw_key(w, "liquidated_notional");
    jw_double(w, r->liq_notional);
    jw_key(w, "move_pct");
    jw_double(w, r->move_pct);
    jw_obj_end(w);
}

/* A stored ladder row in the one JSON shape of a ladder row everywhere
 * (cascade_row_json, the contract's result row).  The store keeps
 * quantities as REAL; they come back exact to 8 places. */
static void pm_json_lrow(struct jsonw *w, const struct pm_lrow *r)
{
    struct cascade_row row;

    memset(&row, 0, sizeof(row));
    row.side = strcmp(r->side, "up") == 0 ? CASCADE_UP : CASCADE_DOWN;
    row.shock = r->shock;
    row.start_price = r->start_price;
    row.rounds = (uint32_t)r->rounds;
    row.liquidated = (uint64_t)r->liquidated;
    (void)dec_from_double(r->liq_qty, &row.liquidated_qty);
    row.liquidated_notional = r->liq_notional;
    row.final_price = r->final_price;
    row.move_pct = r->move_pct;
    row.has_amplification = r->has_amp;
    row.amplification = r->amp;
    row.exhausted = r->exhausted;
    (void)dec_from_double(r->unfilled, &row.unfilled_qty);
    row.has_vwap = r->has_vwap;
    row.vwap = r->vwap;
    cascade_row_json(w, &row);
}

static void pm_print_lrows(const struct pm_ladder *l)
{
    printf("    %-4s  %7s  %12s  %6s  %10s  %12s  %10s  %12s  %7s  %7s  %-3s  "
           "%12s  %12s\n", "side", "shock", "start_price", "rounds",
           "liquidated", "qty", "notional", "final_price", "move", "amp", "exh",
           "unfilled", "vwap");
    for (size_t i = 0; i < l->n; i++) {
        const struct pm_lrow *r = &l->v[i];
        char sh[16], nt[32], mv[16], amp[16] = "-", vw[32] = "-";
        snprintf(sh, sizeof(sh), "%g%%", r->shock * 100);
        snprintf(mv, sizeof(mv), "%.4g%%", r->move_pct);
        if (r->has_amp)
            snprintf(amp, sizeof(amp), "%.4g", r->amp);
        if (r->has_vwap)
            snprintf(vw, sizeof(vw), "%.10g", r->vwap);
        printf("    %-4s  %7s  %12.10g  %6lld  %10lld  %12.10g  %10s  %12.10g  "
               "%7s  %7s  %-3s  %12.10g  %12s\n", r->side, sh, r->start_price,
               (long long)r->rounds, (long long)r->liquidated, r->liq_qty,
               pm_fmt_notional(r->liq_notional, nt, sizeof(nt)),
               r->final_price, mv, amp, r->exhausted ? "yes" : "no",
               r->unfilled, vw);
    }
}

/* ---- snapshots ---------------------------------------------------------- */

enum {
    SC_ID, SC_RUN, SC_TS, SC_VENUE, SC_INSTR, SC_REF, SC_REF_IS_MARK, SC_MARK,
    SC_IDX, SC_BID, SC_ASK, SC_BOOK_VALID, SC_DEPTH0, /* 8 depth columns */
    SC_LONG_COUNT = SC_DEPTH0 + 8, SC_LONG_QTY, SC_SHORT_COUNT, SC_SHORT_QTY,
    SC_LADDER_VALID, SC_BID_REACH, SC_ASK_REACH, SC_OI, SC_NCOLS
};

/* The snapshots of :inst, in time order; a version 1 store has no reach or
 * open interest yet. */
static int pm_snapshots_prepare(struct pm_store *st, sqlite3_stmt **q)
{
    char sql[1024];

    snprintf(sql, sizeof(sql),
             "SELECT id, run_id, ts, venue, instrument, ref, ref_is_mark, "
             "mark, idx_price, best_bid, best_ask, book_valid, bid_depth_0_5, "
             "bid_depth_1, bid_depth_2, bid_depth_5, ask_depth_0_5, "
             "ask_depth_1, ask_depth_2, ask_depth_5, long_count, long_qty, "
             "short_count, short_qty, ladder_valid, %s FROM snapshots "
             "WHERE instrument = :inst AND " PM_RANGE
             " ORDER BY ts, run_id, id",
             st->version >= 2 ? "bid_reach_pct, ask_reach_pct, open_interest"
                              : "NULL AS bid_reach_pct, NULL AS ask_reach_pct, "
                                "NULL AS open_interest");
    return pm_prepare(st, sql, q);
}

/* The snapshot as one JSON object: its columns, the worst row per side,
 * and with rows its ladder. */
static int pm_snapshot_json(sqlite3_stmt *q, const struct pm_ladder *l,
                            int timeline, int rows)
{
    struct jsonw w;

    jw_init(&w);
    jw_obj_begin(&w);
    if (timeline) {
        jw_key(&w, "type");
        jw_str(&w, "snapshot");
    }
    pm_json_cols(&w, q, 0, SC_NCOLS);
    jw_key(&w, "worst");
    jw_obj_begin(&w);
    jw_key(&w, "down");
    pm_json_worst(&w, pm_worst(l, "down"));
    jw_key(&w, "up");
    pm_json_worst(&w, pm_worst(l, "up"));
    jw_obj_end(&w);
    if (rows) {
        jw_key(&w, "rows");
        jw_arr_begin(&w);
        for (size_t i = 0; i < l->n; i++)
            pm_json_lrow(&w, &l->v[i]);
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    return pm_jw_line(&w);
}

/* "ref 91234.5 (mark)  bid 91234  ask 91235  book valid  worst down ..." */
static void pm_snapshot_line(sqlite3_stmt *q, const struct pm_ladder *l)
{
    char ref[32], bid[32], ask[32], dn[64], up[64];
    int ladder = sqlite3_column_int(q, SC_LADDER_VALID) != 0;

    printf("ref %s%s  bid %s  ask %s  book %s  ",
           pm_fmt_num(q, SC_REF, ref, sizeof(ref)),
           pm_null(q, SC_REF) ? "" :
           sqlite3_column_int(q, SC_REF_IS_MARK) ? " (mark)" : " (mid)",
           pm_fmt_num(q, SC_BID, bid, sizeof(bid)),
           pm_fmt_num(q, SC_ASK, ask, sizeof(ask)),
           sqlite3_column_int(q, SC_BOOK_VALID) ? "valid" : "INVALID");
    if (ladder)
        printf("worst down %s  up %s\n",
               pm_fmt_worst(pm_worst(l, "down"), dn, sizeof(dn)),
               pm_fmt_worst(pm_worst(l, "up"), up, sizeof(up)));
    else
        printf("ladder invalid\n");
}

static void pm_snapshots_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl snapshots --instrument I [--store DB] [--from T] [--to T]\n"
"           [--run N] [--rows] [--json]\n"
"\n"
"The instrument's snapshots in time order: reference price (mark or book\n"
"mid), best bid and ask, whether the book was valid, tracked longs and\n"
"shorts, and per side the ladder row with the largest amplification (its\n"
"shock and predicted liquidated notional).  --rows prints every ladder row\n"
"under its snapshot; --json one JSON object per snapshot, with the stored\n"
"columns, \"worst\" per side, and with --rows \"rows\".\n"
"\n"
"  --instrument I  VENUE:SYMBOL, or SYMBOL alone when one venue has it\n"
"  --store DB      the store (default: $LIQMON_STORE, else ./liqmon.db)\n"
"  --from, --to    from / to this time, both included (times as in\n"
"                  liqmonctl alerts --help: ISO-8601, -15m, ns)\n"
"  --run N         one run of the daemon\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a liqmon store, 66 cannot open\n"
"the store, 74 read error.\n");
}

int cli_snapshots(int argc, char **argv)
{
    struct pm_args a;
    struct pm_store st = { 0 };
    struct pm_ladder l = { 0 };
    sqlite3_stmt *q = NULL;
    char *inst = NULL;
    int64_t n = 0;
    int rc, code;

    pm_args_init(&a, "snapshots");
    code = pm_parse_args(argc, argv, PO_STORE | PO_FROM | PO_TO |
                         PO_INSTRUMENT | PO_RUN | PO_ROWS | PO_JSON, &a);
    if (code == PM_HELP) {
        pm_snapshots_usage(stdout);
        return 0;
    }
    if (code != 0)
        return code;
    if (a.instrument == NULL)
        return cli_missing(a.cmd, "--instrument VENUE:SYMBOL");
    if ((code = pm_open(&st, &a)) != 0)
        return code;
    if ((code = pm_resolve_instrument(&st, 1, &inst)) != 0 ||
        (code = pm_ladder_init(&st, &l)) != 0 ||
        (code = pm_snapshots_prepare(&st, &q)) != 0 ||
        (code = pm_bind_filters(&st, q, inst, NULL)) != 0)
        goto out;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        char t[TIMEARG_STRLEN], lc[32], sc[32];
        code = pm_ladder_load(&st, &l, sqlite3_column_int64(q, SC_ID));
        if (code != 0)
            goto out;
        if (a.json) {
            if (pm_snapshot_json(q, &l, 0, a.rows) != 0) {
                code = pm_nomem(&a);
                goto out;
            }
        } else {
            printf("%s  longs %s  shorts %s  ", pm_fmt_time(q, SC_TS, t),
                   pm_fmt_count(sqlite3_column_int64(q, SC_LONG_COUNT), lc,
                                sizeof(lc)),
                   pm_fmt_count(sqlite3_column_int64(q, SC_SHORT_COUNT), sc,
                                sizeof(sc)));
            pm_snapshot_line(q, &l);
            if (a.rows && l.n > 0)
                pm_print_lrows(&l);
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        code = pm_db_fail(&st, rc);
        goto out;
    }
    if (n == 0 && !a.json)
        printf("no snapshots of %s match\n", inst);
    code = pm_flush(&a);
out:
    sqlite3_finalize(q);
    pm_ladder_fini(&l);
    free(inst);
    pm_close(&st);
    return code;
}

/* ---- timeline ----------------------------------------------------------- */

/* The sources, in the order the daemon handles one event: the feed event
 * itself, the liquidation print it carried, the ladder re-run on it (the
 * snapshot), then the alerts evaluated after it.  Rows with the same ts
 * and run print in this order. */
enum pm_src { SRC_FEED, SRC_PRINT, SRC_SNAP, SRC_ALERT, SRC_COUNT };

enum {
    FC_ID, FC_RUN, FC_TS, FC_VENUE, FC_CONN, FC_INSTR, FC_KIND, FC_REASON,
    FC_COUNT, FC_NCOLS
};
enum {
    PC_ID, PC_RUN, PC_TS, PC_VENUE_TS, PC_VENUE, PC_INSTR, PC_SIDE, PC_PRICE,
    PC_PRICE_KIND, PC_QTY, PC_NOTIONAL, PC_COVERAGE, PC_NCOLS
};

struct pm_cursor {
    sqlite3_stmt *q;
    int ts_col, run_col;
    int has;                    /* q holds a row */
    int64_t ts, run;
};

static int pm_cursor_step(struct pm_store *st, struct pm_cursor *c)
{
    int rc = sqlite3_step(c->q);

    c->has = rc == SQLITE_ROW;
    if (c->has) {
        c->ts = sqlite3_column_int64(c->q, c->ts_col);
        c->run = sqlite3_column_int64(c->q, c->run_col);
        return 0;
    }
    return rc == SQLITE_DONE ? 0 : pm_db_fail(st, rc);
}

static void pm_feed_text(sqlite3_stmt *q)
{
    int64_t count = sqlite3_column_int64(q, FC_COUNT);

    if (!pm_null(q, FC_INSTR))
        printf("%s ", pm_text(q, FC_INSTR, ""));
    else if (!pm_null(q, FC_CONN))
        printf("%s/%s ", pm_text(q, FC_VENUE, ""), pm_text(q, FC_CONN, ""));
    else
        printf("%s ", pm_text(q, FC_VENUE, ""));
    printf("%s", pm_text(q, FC_KIND, ""));
    if (!pm_null(q, FC_REASON))
        printf(": %s", pm_text(q, FC_REASON, ""));
    if (count > 1)
        printf(" (x%lld)", (long long)count);
    putchar('\n');
}

static void pm_print_text(sqlite3_stmt *q)
{
    char qty[32], px[32], nt[32];

    printf("%s liquidated: %s @ %s (%s), notional %s, %s\n",
           pm_text(q, PC_SIDE, "?"), pm_fmt_num(q, PC_QTY, qty, sizeof(qty)),
           pm_fmt_num(q, PC_PRICE, px, sizeof(px)),
           pm_text(q, PC_PRICE_KIND, "?"),
           pm_fmt_notional(sqlite3_column_double(q, PC_NOTIONAL), nt,
                           sizeof(nt)),
           pm_text(q, PC_COVERAGE, "?"));
}

static int pm_row_json(sqlite3_stmt *q, const char *type, int ncols)
{
    struct jsonw w;

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "type");
    jw_str(&w, type);
    pm_json_cols(&w, q, 0, ncols);
    jw_obj_end(&w);
    return pm_jw_line(&w);
}

static void pm_timeline_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl timeline --instrument I [--store DB] [--from T] [--to T]\n"
"           [--run N] [--json]\n"
"\n"
"The post-mortem view of one instrument: its alerts, snapshots (reference\n"
"price, best bid and ask, book validity, and per side the ladder row with\n"
"the largest amplification), liquidation prints and feed events, plus its\n"
"venue's connection events and alerts, merged in time order.  --json: one\n"
"JSON object per line, with \"type\" alert, snapshot, print or feed.\n"
"\n"
"  --instrument I  VENUE:SYMBOL, or SYMBOL alone when one venue has it\n"
"  --store DB      the store (default: $LIQMON_STORE, else ./liqmon.db)\n"
"  --from, --to    from / to this time, both included (times as in\n"
"                  liqmonctl alerts --help: ISO-8601, -15m, ns)\n"
"  --run N         one run of the daemon\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a liqmon store, 66 cannot open\n"
"the store, 74 read error.\n");
}

int cli_timeline(int argc, char **argv)
{
    static const char *const names[SRC_COUNT] = {
        "feed", "print", "snapshot", "alert"
    };
    struct pm_args a;
    struct pm_store st = { 0 };
    struct pm_ladder l = { 0 };
    struct pm_cursor c[SRC_COUNT];
    char *inst = NULL, *venue = NULL, sql[1024];
    int64_t n = 0;
    int code;

    memset(c, 0, sizeof(c));
    pm_args_init(&a, "timeline");
    code = pm_parse_args(argc, argv, PO_STORE | PO_FROM | PO_TO |
                         PO_INSTRUMENT | PO_RUN | PO_JSON, &a);
    if (code == PM_HELP) {
        pm_timeline_usage(stdout);
        return 0;
    }
    if (code != 0)
        return code;
    if (a.instrument == NULL)
        return cli_missing(a.cmd, "--instrument VENUE:SYMBOL");
    if ((code = pm_open(&st, &a)) != 0)
        return code;
    if ((code = pm_resolve_instrument(&st, 1, &inst)) != 0)
        goto out;
    if ((venue = pm_venue_of(inst)) == NULL) {
        code = pm_nomem(&a);
        goto out;
    }
    /* Connection events and feed_down alerts name no instrument: they are
     * the venue's, and so this instrument's too. */
    snprintf(sql, sizeof(sql),
             "SELECT id, run_id, ts, venue, conn, instrument, kind, reason, "
             "%s FROM feed_events WHERE (instrument = :inst OR (instrument "
             "IS NULL AND venue = :inst_venue)) AND " PM_RANGE
             " ORDER BY ts, run_id, id",
             st.version >= 2 ? "count" : "1 AS count");
    if ((code = pm_prepare(&st, sql, &c[SRC_FEED].q)) != 0 ||
        (code = pm_prepare(&st, "SELECT id, run_id, ts, venue_ts, venue, "
                           "instrument, side, price, price_kind, qty, "
                           "notional, coverage FROM liq_prints WHERE "
                           "instrument = :inst AND " PM_RANGE
                           " ORDER BY ts, run_id, id", &c[SRC_PRINT].q)) != 0 ||
        (code = pm_snapshots_prepare(&st, &c[SRC_SNAP].q)) != 0 ||
        (code = pm_prepare(&st, "SELECT " PM_ALERT_COLS " FROM alerts WHERE "
                           "(instrument = :inst OR (instrument IS NULL AND "
                           "venue = :inst_venue)) AND " PM_RANGE
                           " ORDER BY ts, run_id, id", &c[SRC_ALERT].q)) != 0 ||
        (code = pm_ladder_init(&st, &l)) != 0)
        goto out;
    c[SRC_FEED].ts_col = FC_TS;
    c[SRC_FEED].run_col = FC_RUN;
    c[SRC_PRINT].ts_col = PC_TS;
    c[SRC_PRINT].run_col = PC_RUN;
    c[SRC_SNAP].ts_col = SC_TS;
    c[SRC_SNAP].run_col = SC_RUN;
    c[SRC_ALERT].ts_col = AC_TS;
    c[SRC_ALERT].run_col = AC_RUN;
    for (int s = 0; s < SRC_COUNT; s++)
        if ((code = pm_bind_filters(&st, c[s].q, inst, venue)) != 0 ||
            (code = pm_cursor_step(&st, &c[s])) != 0)
            goto out;

    /* Each source is already in (ts, run, id) order: a four-way merge. */
    for (;;) {
        struct pm_cursor *m = NULL;
        sqlite3_stmt *q;
        char t[TIMEARG_STRLEN];
        int s, bad = 0;
        for (s = 0; s < SRC_COUNT; s++)
            if (c[s].has && (m == NULL || c[s].ts < m->ts ||
                             (c[s].ts == m->ts && c[s].run < m->run)))
                m = &c[s];
        if (m == NULL)
            break;
        s = (int)(m - c);
        q = m->q;
        if (s == SRC_SNAP &&
            (code = pm_ladder_load(&st, &l,
                                   sqlite3_column_int64(q, SC_ID))) != 0)
            goto out;
        if (a.json) {
            switch (s) {
            case SRC_FEED: bad = pm_row_json(q, "feed", FC_NCOLS); break;
            case SRC_PRINT: bad = pm_row_json(q, "print", PC_NCOLS); break;
            case SRC_SNAP: bad = pm_snapshot_json(q, &l, 1, 0); break;
            default: bad = pm_alert_json(q, 1);
            }
            if (bad) {
                code = pm_nomem(&a);
                goto out;
            }
        } else {
            printf("%s  %-8s  ", timearg_format(m->ts, t), names[s]);
            switch (s) {
            case SRC_FEED: pm_feed_text(q); break;
            case SRC_PRINT: pm_print_text(q); break;
            case SRC_SNAP: pm_snapshot_line(q, &l); break;
            default:
                printf("%s %s %s  %s: %s\n", pm_text(q, AC_KIND, ""),
                       pm_text(q, AC_SEVERITY, ""), pm_text(q, AC_STATE, ""),
                       pm_text(q, AC_SUBJECT, ""), pm_text(q, AC_MESSAGE, ""));
            }
        }
        n++;
        if ((code = pm_cursor_step(&st, m)) != 0)
            goto out;
    }
    if (n == 0 && !a.json)
        printf("nothing on %s matches\n", inst);
    code = pm_flush(&a);
out:
    for (int s = 0; s < SRC_COUNT; s++)
        sqlite3_finalize(c[s].q);
    pm_ladder_fini(&l);
    free(venue);
    free(inst);
    pm_close(&st);
    return code;
}

/* ---- stats -------------------------------------------------------------- */

/* The time column of each table (runs: the wall clock of its starts and
 * stops; snapshot_rows has none), in pm_tables order. */
static const char *const pm_table_span[] = {
    "min(started_ns), max(coalesce(stopped_ns, started_ns))",
    "min(ts), max(ts)", "min(ts), max(ts)", "NULL, NULL", "min(ts), max(ts)",
    "min(ts), max(ts)", "min(ts), max(ts)"
};

struct pm_tstat {
    int64_t rows;
    int has_span;
    int64_t min_ts, max_ts;
};

static void pm_stats_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl stats [--store DB] [--json]\n"
"\n"
"What the store holds: its schema version, file size (and its -wal file),\n"
"rows and time span (first and last ts) per table, and the daemon's runs\n"
"(id, mode, version, started, stopped; a run with no stop is running, or\n"
"crashed).  --json: the same as one JSON object.\n"
"\n"
"  --store DB  the store (default: $LIQMON_STORE, else ./liqmon.db)\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a liqmon store, 66 cannot open\n"
"the store, 74 read error.\n");
}

/* -1 when the file does not exist (no -wal: nothing pending). */
static int64_t pm_file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

static int pm_stats_json(struct pm_store *st, const struct pm_tstat *ts,
                         int64_t db_bytes, int64_t wal_bytes,
                         sqlite3_stmt *runs)
{
    struct jsonw w;
    int rc;

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "store");
    jw_str(&w, st->a->store);
    jw_key(&w, "schema_version");
    pm_jw_i64(&w, st->version);
    jw_key(&w, "file_bytes");
    pm_jw_i64(&w, db_bytes);
    jw_key(&w, "wal_bytes");
    if (wal_bytes >= 0)
        pm_jw_i64(&w, wal_bytes);
    else
        jw_null(&w);
    jw_key(&w, "tables");
    jw_obj_begin(&w);
    for (size_t i = 0; i < PM_COUNT(pm_tables); i++) {
        jw_key(&w, pm_tables[i]);
        jw_obj_begin(&w);
        jw_key(&w, "rows");
        pm_jw_i64(&w, ts[i].rows);
        jw_key(&w, "min_ts");
        if (ts[i].has_span)
            pm_jw_i64(&w, ts[i].min_ts);
        else
            jw_null(&w);
        jw_key(&w, "max_ts");
        if (ts[i].has_span)
            pm_jw_i64(&w, ts[i].max_ts);
        else
            jw_null(&w);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_key(&w, "runs");
    jw_arr_begin(&w);
    while ((rc = sqlite3_step(runs)) == SQLITE_ROW) {
        jw_obj_begin(&w);
        pm_json_cols(&w, runs, 0, sqlite3_column_count(runs));
        jw_key(&w, "state");
        jw_str(&w, pm_null(runs, 4) ? "running/crashed" : "stopped");
        jw_obj_end(&w);
    }
    if (rc != SQLITE_DONE) {
        jw_fini(&w);
        return pm_db_fail(st, rc);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    return pm_jw_line(&w) == 0 ? 0 : pm_nomem(st->a);
}

static int pm_stats_text(struct pm_store *st, const struct pm_tstat *ts,
                         int64_t db_bytes, int64_t wal_bytes,
                         sqlite3_stmt *runs)
{
    char b1[32], b2[32], t1[TIMEARG_STRLEN], t2[TIMEARG_STRLEN];
    int rc, first = 1;

    printf("store           %s\n", st->a->store);
    printf("schema version  %d\n", st->version);
    printf("file            %s", pm_fmt_bytes(db_bytes, b1, sizeof(b1)));
    if (wal_bytes >= 0)
        printf(", -wal %s", pm_fmt_bytes(wal_bytes, b2, sizeof(b2)));
    else
        printf(", no -wal file");
    printf("\n\n%-14s  %12s  %-24s  %s\n", "table", "rows", "first", "last");
    for (size_t i = 0; i < PM_COUNT(pm_tables); i++) {
        if (ts[i].has_span) {
            timearg_format(ts[i].min_ts, t1);
            timearg_format(ts[i].max_ts, t2);
        } else {
            snprintf(t1, sizeof(t1), "-");
            snprintf(t2, sizeof(t2), "-");
        }
        printf("%-14s  %12s  %-24s  %s\n", pm_tables[i],
               pm_fmt_count(ts[i].rows, b1, sizeof(b1)), t1, t2);
    }
    while ((rc = sqlite3_step(runs)) == SQLITE_ROW) {
        if (first)
            printf("\n%6s  %-6s  %-12s  %-24s  %s\n", "run", "mode",
                   "version", "started", "stopped");
        first = 0;
        printf("%6lld  %-6s  %-12s  %-24s  %s\n",
               (long long)sqlite3_column_int64(runs, 0), pm_text(runs, 1, "?"),
               pm_text(runs, 2, "?"), pm_fmt_time(runs, 3, t1),
               pm_null(runs, 4) ? "running/crashed" : pm_fmt_time(runs, 4, t2));
    }
    if (rc != SQLITE_DONE)
        return pm_db_fail(st, rc);
    if (first)
        printf("\nno runs\n");
    return 0;
}

int cli_stats(int argc, char **argv)
{
    struct pm_args a;
    struct pm_store st = { 0 };
    struct pm_tstat ts[PM_COUNT(pm_tables)];
    sqlite3_stmt *q = NULL;
    char sql[256], *wal = NULL;
    int64_t db_bytes, wal_bytes;
    int rc, code;

    memset(ts, 0, sizeof(ts));
    pm_args_init(&a, "stats");
    code = pm_parse_args(argc, argv, PO_STORE | PO_JSON, &a);
    if (code == PM_HELP) {
        pm_stats_usage(stdout);
        return 0;
    }
    if (code != 0)
        return code;
    if ((code = pm_open(&st, &a)) != 0)
        return code;
    for (size_t i = 0; i < PM_COUNT(pm_tables); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*), %s FROM %s",
                 pm_table_span[i], pm_tables[i]);
        if ((code = pm_prepare(&st, sql, &q)) != 0)
            goto out;
        if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
            code = pm_db_fail(&st, rc);
            goto out;
        }
        ts[i].rows = sqlite3_column_int64(q, 0);
        ts[i].has_span = !pm_null(q, 1);
        ts[i].min_ts = sqlite3_column_int64(q, 1);
        ts[i].max_ts = sqlite3_column_int64(q, 2);
        sqlite3_finalize(q);
        q = NULL;
    }
    if ((wal = malloc(strlen(a.store) + 5)) == NULL) {
        code = pm_nomem(&a);
        goto out;
    }
    sprintf(wal, "%s-wal", a.store);
    db_bytes = pm_file_size(a.store);
    wal_bytes = pm_file_size(wal);
    if ((code = pm_prepare(&st, "SELECT id, mode, version, started_ns, "
                           "stopped_ns, config_hash, argv FROM runs ORDER BY "
                           "id", &q)) != 0)
        goto out;
    code = a.json ? pm_stats_json(&st, ts, db_bytes, wal_bytes, q)
                  : pm_stats_text(&st, ts, db_bytes, wal_bytes, q);
    if (code == 0)
        code = pm_flush(&a);
out:
    sqlite3_finalize(q);
    free(wal);
    pm_close(&st);
    return code;
}

/* ---- summary: the post-mortem of one run --------------------------------
 *
 * What an analyst asks first after an incident, from one read transaction:
 * the run, its alerts by kind and severity, the largest cascade the
 * ladders predicted, how far each instrument's reference price fell (or
 * rose) and when, and a timeline of the run in equal slices.  Times are the
 * event clock (a replay's are the capture's), so the span is the data's,
 * not the run row's wall clock. */

#define PM_SUM_SLICES 12

struct pm_slice {
    int64_t alerts, critical, liquidated, prints;
    double print_notional;
    int has_drop, has_move;
    double drop;                /* deepest ref / first ref - 1 of any instrument */
    double move;                /* worst predicted down move, % */
};

static void pm_summary_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl summary [--store DB] [--run N] [--json]\n"
"\n"
"The post-mortem of one run of the daemon (the last one by default): its\n"
"alerts by kind and severity, the largest cascade its ladders predicted,\n"
"each instrument's reference price at the start, at its lowest and at the\n"
"end, and a timeline of the run in %d slices (alerts, critical ones,\n"
"positions liquidated, the venues' liquidation prints, the deepest price\n"
"drop so far and the worst move a ladder predicted).  Times are the\n"
"event clock: a replay's are the capture's.  --json: one JSON object.\n"
"\n"
"  --store DB  the store (default: $LIQMON_STORE, else ./liqmon.db)\n"
"  --run N     that run\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a liqmon store (or no such run),\n"
"66 cannot open the store, 74 read error.\n", PM_SUM_SLICES);
}

/* The run's data span: min and max ts over its alerts, snapshots and
 * prints.  0 with *t0 > *t1 when it holds none. */
static int pm_summary_span(struct pm_store *st, int64_t run, int64_t *t0, int64_t *t1)
{
    sqlite3_stmt *q = NULL;
    int rc, code;

    *t0 = INT64_MAX;
    *t1 = INT64_MIN;
    if ((code = pm_prepare(st, "SELECT min(ts), max(ts) FROM alerts WHERE run_id = ?1 "
                           "UNION ALL SELECT min(ts), max(ts) FROM snapshots WHERE "
                           "run_id = ?1 UNION ALL SELECT min(ts), max(ts) FROM "
                           "liq_prints WHERE run_id = ?1", &q)) != 0)
        return code;
    sqlite3_bind_int64(q, 1, run);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (pm_null(q, 0))
            continue;
        if (sqlite3_column_int64(q, 0) < *t0)
            *t0 = sqlite3_column_int64(q, 0);
        if (sqlite3_column_int64(q, 1) > *t1)
            *t1 = sqlite3_column_int64(q, 1);
    }
    code = rc == SQLITE_DONE ? 0 : pm_db_fail(st, rc);
    sqlite3_finalize(q);
    return code;
}

/* Fill slices from one query of (slice index, values...). */
static int pm_summary_fill(struct pm_store *st, const char *sql, int64_t run,
                           int64_t t0, int64_t width, struct pm_slice *sl, int what)
{
    sqlite3_stmt *q = NULL;
    int rc, code;

    if ((code = pm_prepare(st, sql, &q)) != 0)
        return code;
    sqlite3_bind_int64(q, 1, run);
    sqlite3_bind_int64(q, 2, t0);
    sqlite3_bind_int64(q, 3, width);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(q, 0);
        struct pm_slice *s;
        if (k < 0)
            continue;
        s = &sl[k >= PM_SUM_SLICES ? PM_SUM_SLICES - 1 : k];
        switch (what) {
        case 0:
            s->alerts += sqlite3_column_int64(q, 1);
            s->critical += sqlite3_column_int64(q, 2);
            s->liquidated += sqlite3_column_int64(q, 3);
            break;
        case 1:
            s->prints += sqlite3_column_int64(q, 1);
            s->print_notional += sqlite3_column_double(q, 2);
            break;
        case 2:
            if (!pm_null(q, 1) && (!s->has_drop || sqlite3_column_double(q, 1) < s->drop)) {
                s->drop = sqlite3_column_double(q, 1);
                s->has_drop = 1;
            }
            break;
        default:
            if (!pm_null(q, 1) && (!s->has_move || sqlite3_column_double(q, 1) > s->move)) {
                s->move = sqlite3_column_double(q, 1);
                s->has_move = 1;
            }
        }
    }
    code = rc == SQLITE_DONE ? 0 : pm_db_fail(st, rc);
    sqlite3_finalize(q);
    return code;
}

int cli_summary(int argc, char **argv)
{
    struct pm_args a;
    struct pm_store st = { 0 };
    struct pm_slice sl[PM_SUM_SLICES];
    sqlite3_stmt *q = NULL;
    struct jsonw w;
    char t1s[TIMEARG_STRLEN], t2s[TIMEARG_STRLEN], b1[32], b2[32];
    int64_t run = 0, t0, t1, width;
    int rc, code, json;

    memset(sl, 0, sizeof(sl));
    jw_init(&w);
    pm_args_init(&a, "summary");
    code = pm_parse_args(argc, argv, PO_STORE | PO_RUN | PO_JSON, &a);
    if (code == PM_HELP) {
        pm_summary_usage(stdout);
        return 0;
    }
    if (code != 0)
        return code;
    json = a.json;
    if ((code = pm_open(&st, &a)) != 0)
        return code;

    /* The run. */
    if ((code = pm_prepare(&st, a.has_run ? "SELECT id, mode, version, started_ns, "
                           "stopped_ns FROM runs WHERE id = ?1"
                                          : "SELECT id, mode, version, started_ns, "
                           "stopped_ns FROM runs ORDER BY id DESC LIMIT 1", &q)) != 0)
        goto out;
    if (a.has_run)
        sqlite3_bind_int64(q, 1, a.run);
    if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
        code = rc == SQLITE_DONE
                   ? (a.has_run ? pm_say(&a, CLI_EX_DATAERR, "%s: no run %lld", a.store,
                                         (long long)a.run)
                                : pm_say(&a, CLI_EX_DATAERR, "%s: no runs", a.store))
                   : pm_db_fail(&st, rc);
        goto out;
    }
    run = sqlite3_column_int64(q, 0);
    if ((code = pm_summary_span(&st, run, &t0, &t1)) != 0)
        goto out;
    if (json) {
        jw_obj_begin(&w);
        jw_key(&w, "run");
        jw_obj_begin(&w);
        pm_json_cols(&w, q, 0, 5);
        jw_key(&w, "first_ts");
        if (t0 <= t1) pm_jw_i64(&w, t0); else jw_null(&w);
        jw_key(&w, "last_ts");
        if (t0 <= t1) pm_jw_i64(&w, t1); else jw_null(&w);
        jw_obj_end(&w);
    } else {
        printf("run %lld (%s, liqmond %s), started %s%s%s\n", (long long)run,
               pm_text(q, 1, "?"), pm_text(q, 2, "?"), pm_fmt_time(q, 3, t1s),
               pm_null(q, 4) ? ", not stopped (running, or crashed)" : ", stopped ",
               pm_null(q, 4) ? "" : pm_fmt_time(q, 4, t2s));
        if (t0 <= t1)
            printf("data from %s to %s (%.1f s)\n", timearg_format(t0, t1s),
                   timearg_format(t1, t2s), (double)(t1 - t0) / 1e9);
        else
            printf("no alerts, snapshots or prints in this run\n");
    }
    sqlite3_finalize(q);
    q = NULL;

    /* Alerts by kind and severity. */
    if ((code = pm_prepare(&st, "SELECT kind, sum(state = 'firing' AND severity = "
                           "'warning'), sum(state = 'firing' AND severity = 'critical'), "
                           "sum(state = 'resolved'), count(*) FROM alerts WHERE run_id = ?1 "
                           "GROUP BY kind ORDER BY count(*) DESC, kind", &q)) != 0)
        goto out;
    sqlite3_bind_int64(q, 1, run);
    if (json) {
        jw_key(&w, "alerts");
        jw_arr_begin(&w);
    } else {
        printf("\nalerts by kind          firing:warning   firing:critical   resolved\n");
    }
    {
        int any = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            any = 1;
            if (json) {
                jw_obj_begin(&w);
                jw_key(&w, "kind");
                jw_str(&w, pm_text(q, 0, "?"));
                jw_key(&w, "warning");
                pm_jw_i64(&w, sqlite3_column_int64(q, 1));
                jw_key(&w, "critical");
                pm_jw_i64(&w, sqlite3_column_int64(q, 2));
                jw_key(&w, "resolved");
                pm_jw_i64(&w, sqlite3_column_int64(q, 3));
                jw_obj_end(&w);
            } else {
                char c1[24], c2[24], c3[24];
                printf("  %-22s %14s %17s %10s\n", pm_text(q, 0, "?"),
                       pm_fmt_count(sqlite3_column_int64(q, 1), c1, sizeof(c1)),
                       pm_fmt_count(sqlite3_column_int64(q, 2), c2, sizeof(c2)),
                       pm_fmt_count(sqlite3_column_int64(q, 3), c3, sizeof(c3)));
            }
        }
        if (rc != SQLITE_DONE) {
            code = pm_db_fail(&st, rc);
            goto out;
        }
        if (json)
            jw_arr_end(&w);
        else if (!any)
            printf("  none\n");
    }
    sqlite3_finalize(q);
    q = NULL;

    /* The largest predicted cascade: the ladder row with the largest
     * amplification that liquidated anything, the larger notional first
     * among equals. */
    if ((code = pm_prepare(&st, "SELECT s.ts, s.instrument, r.side, r.shock, r.move_pct, "
                           "r.amplification, r.liquidated, r.liquidated_notional, "
                           "r.exhausted, s.ref FROM snapshot_rows r JOIN snapshots s ON "
                           "s.id = r.snapshot_id WHERE s.run_id = ?1 AND r.liquidated > 0 "
                           "AND r.amplification IS NOT NULL ORDER BY r.amplification DESC, "
                           "r.liquidated_notional DESC LIMIT 1", &q)) != 0)
        goto out;
    sqlite3_bind_int64(q, 1, run);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        code = pm_db_fail(&st, rc);
        goto out;
    }
    if (json) {
        jw_key(&w, "largest_cascade");
        if (rc == SQLITE_ROW) {
            jw_obj_begin(&w);
            pm_json_cols(&w, q, 0, 10);
            jw_obj_end(&w);
        } else {
            jw_null(&w);
        }
    } else if (rc == SQLITE_ROW) {
        int down = strcmp(pm_text(q, 2, ""), "down") == 0;
        printf("\nlargest predicted cascade: %s %s at %s (ref %.10g): a %.3g%% %s "
               "would cascade to %+.3g%% (x%.1f), %lld positions, %s liquidated%s\n",
               pm_text(q, 1, "?"), pm_text(q, 2, "?"), pm_fmt_time(q, 0, t1s),
               sqlite3_column_double(q, 9), sqlite3_column_double(q, 3) * 100,
               down ? "drop" : "rise",
               (down ? -1 : 1) * sqlite3_column_double(q, 4), sqlite3_column_double(q, 5),
               (long long)sqlite3_column_int64(q, 6),
               pm_fmt_notional(sqlite3_column_double(q, 7), b1, sizeof(b1)),
               sqlite3_column_int(q, 8) ? ", the visible book exhausted (a lower bound)" : "");
    } else {
        printf("\nlargest predicted cascade: none (no ladder liquidated anything)\n");
    }
    sqlite3_finalize(q);
    q = NULL;

    /* Each instrument's reference price: first, lowest (when), last. */
    if ((code = pm_prepare(&st, "WITH r AS (SELECT instrument, ts, ref FROM snapshots "
                           "WHERE run_id = ?1 AND ref IS NOT NULL) SELECT instrument, "
                           "(SELECT ref FROM r r2 WHERE r2.instrument = r.instrument ORDER BY "
                           "ts LIMIT 1), min(ref), (SELECT ts FROM r r2 WHERE r2.instrument = "
                           "r.instrument ORDER BY ref, ts LIMIT 1), (SELECT ref FROM r r2 "
                           "WHERE r2.instrument = r.instrument ORDER BY ts DESC LIMIT 1), "
                           "max(ref) FROM r GROUP BY instrument ORDER BY instrument", &q)) != 0)
        goto out;
    sqlite3_bind_int64(q, 1, run);
    if (json) {
        jw_key(&w, "instruments");
        jw_arr_begin(&w);
    } else {
        printf("\nreference price        %-26s %-44s %s\n", "first", "lowest (when, from first)",
               "last");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        double first = sqlite3_column_double(q, 1), low = sqlite3_column_double(q, 2);
        if (json) {
            jw_obj_begin(&w);
            jw_key(&w, "instrument");
            jw_str(&w, pm_text(q, 0, "?"));
            jw_key(&w, "first");
            jw_double(&w, first);
            jw_key(&w, "lowest");
            jw_double(&w, low);
            jw_key(&w, "lowest_ts");
            pm_jw_i64(&w, sqlite3_column_int64(q, 3));
            jw_key(&w, "last");
            jw_double(&w, sqlite3_column_double(q, 4));
            jw_key(&w, "highest");
            jw_double(&w, sqlite3_column_double(q, 5));
            jw_obj_end(&w);
        } else {
            char lowtxt[96];
            snprintf(lowtxt, sizeof(lowtxt), "%.10g (%s, %+.2f%%)", low,
                     pm_fmt_time(q, 3, t1s), first > 0 ? (low / first - 1) * 100 : 0.0);
            printf("  %-22s %-26.10g %-44s %.10g\n", pm_text(q, 0, "?"), first, lowtxt,
                   sqlite3_column_double(q, 4));
        }
    }
    if (rc != SQLITE_DONE) {
        code = pm_db_fail(&st, rc);
        goto out;
    }
    if (json)
        jw_arr_end(&w);
    sqlite3_finalize(q);
    q = NULL;

    /* The timeline, in PM_SUM_SLICES equal slices of the data's span. */
    width = t0 <= t1 ? (t1 - t0) / PM_SUM_SLICES + 1 : 1;
    if (t0 <= t1 &&
        ((code = pm_summary_fill(&st, "SELECT (ts - ?2) / ?3, count(*), sum(state = "
                                 "'firing' AND severity = 'critical'), sum(kind = "
                                 "'position_liquidated' AND state = 'firing') FROM alerts "
                                 "WHERE run_id = ?1 GROUP BY 1", run, t0, width, sl, 0)) != 0 ||
         (code = pm_summary_fill(&st, "SELECT (ts - ?2) / ?3, count(*), sum(notional) FROM "
                                 "liq_prints WHERE run_id = ?1 GROUP BY 1", run, t0, width,
                                 sl, 1)) != 0 ||
         (code = pm_summary_fill(&st, "WITH f AS (SELECT instrument, ref AS r0, min(ts) FROM "
                                 "snapshots WHERE run_id = ?1 AND ref IS NOT NULL GROUP BY "
                                 "instrument) SELECT (s.ts - ?2) / ?3, min(s.ref / f.r0 - 1) "
                                 "FROM snapshots s JOIN f USING (instrument) WHERE s.run_id = "
                                 "?1 AND s.ref IS NOT NULL GROUP BY 1", run, t0, width, sl,
                                 2)) != 0 ||
         (code = pm_summary_fill(&st, "SELECT (s.ts - ?2) / ?3, max(r.move_pct) FROM "
                                 "snapshot_rows r JOIN snapshots s ON s.id = r.snapshot_id "
                                 "WHERE s.run_id = ?1 AND r.side = 'down' AND r.liquidated > 0 "
                                 "GROUP BY 1", run, t0, width, sl, 3)) != 0))
        goto out;
    if (json) {
        jw_key(&w, "timeline");
        jw_arr_begin(&w);
    } else if (t0 <= t1) {
        printf("\ntimeline (%.1f s slices)  alerts  critical  liquidated  venue prints  "
               "deepest drop  worst predicted move\n", (double)width / 1e9);
    }
    for (int k = 0; t0 <= t1 && k < PM_SUM_SLICES; k++) {
        const struct pm_slice *s = &sl[k];
        if (json) {
            jw_obj_begin(&w);
            jw_key(&w, "ts");
            pm_jw_i64(&w, t0 + k * width);
            jw_key(&w, "alerts");
            pm_jw_i64(&w, s->alerts);
            jw_key(&w, "critical");
            pm_jw_i64(&w, s->critical);
            jw_key(&w, "liquidated");
            pm_jw_i64(&w, s->liquidated);
            jw_key(&w, "prints");
            pm_jw_i64(&w, s->prints);
            jw_key(&w, "print_notional");
            jw_double(&w, s->print_notional);
            jw_key(&w, "deepest_drop_pct");
            if (s->has_drop) jw_double(&w, s->drop * 100); else jw_null(&w);
            jw_key(&w, "worst_down_move_pct");
            if (s->has_move) jw_double(&w, -s->move); else jw_null(&w);
            jw_obj_end(&w);
        } else {
            char c1[24], c2[24], c3[24], drop[24], move[24];
            snprintf(drop, sizeof(drop), s->has_drop ? "%+.2f%%" : "-", s->drop * 100);
            snprintf(move, sizeof(move), s->has_move ? "%+.2f%%" : "-", -s->move);
            printf("  %-24s %7s %9s %11s  %5lld %6s  %12s  %20s\n",
                   timearg_format(t0 + k * width, t1s),
                   pm_fmt_count(s->alerts, c1, sizeof(c1)),
                   pm_fmt_count(s->critical, c2, sizeof(c2)),
                   pm_fmt_count(s->liquidated, c3, sizeof(c3)), (long long)s->prints,
                   pm_fmt_notional(s->print_notional, b2, sizeof(b2)), drop, move);
        }
    }
    if (json) {
        jw_arr_end(&w);
        jw_obj_end(&w);
        code = pm_jw_line(&w) == 0 ? 0 : pm_nomem(&a);
    }
    if (code == 0)
        code = pm_flush(&a);
out:
    jw_fini(&w);
    sqlite3_finalize(q);
    pm_close(&st);
    return code;
}
