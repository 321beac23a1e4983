/*
 * control.c - the daemon's HTTP/JSON control API (see control.h).
 *
 * One feed handler answers every request synchronously from memory (the
 * feed's rule: no deferred answers; and the loop's: never wait).  State is
 * rendered with render.h, alert records with alertlog_record_json, so the
 * API shows the same JSON shapes as --state-out and the alert log.
 *
 * POST bodies go through posfile, the positions-file parser, so a row the
 * API accepts is exactly a row a positions file would load.  posfile reads
 * paths only; the body is put in a memfd (memory, no disk: the loop must
 * not wait on a file system) and posfile reads /proc/self/fd/N.  A JSON
 * document (object or array) is first checked by jansson (line and column
 * of a syntax error), then split textually into one element per line and
 * read as JSON Lines: numbers keep their own text (posfile reads qty
 * exactly), which re-serialising with jansson would not.
 *
 * A POST is all or nothing: every row is read and checked (watched
 * instrument, id given twice, and the index's own validation on a scratch
 * index with the instrument's tier table) before anything changes.
 */
#define _GNU_SOURCE            /* memfd_create */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "liqmon/alertlog.h"
#include "liqmon/control.h"
#include "liqmon/jsonw.h"
#include "liqmon/log.h"
#include "liqmon/mapsvg.h"
#include "liqmon/posfile.h"
#include "liqmon/render.h"
#include "liqmon/store.h"
#include "liqmon/version.h"

#define CTL_LIMIT_DEFAULT 1000
#define CTL_LIMIT_MAX 100000
#define CTL_MAX_PROBLEMS 100       /* problems listed in one 400 */

/* One alert record of the ring: its JSON (alertlog's shape) and the
 * fields the filters read. */
struct ctl_alert {
    int64_t ts;
    enum alert_level severity;
    char kind[48];
    char *json;                    /* owned */
};

struct control {
    struct control_deps d;
    char version[32];
    struct ctl_alert *ring;        /* cap entries; oldest at head */
    size_t preloaded, preload_bad; /* records read from the store at start */
    size_t cap, head, n;
    int listening;
};

/* ---- answers ------------------------------------------------------------ */

/* Hand a finished jsonw to the feed (buffer adopted), or a 500. */
static void ctl_send(struct feed_response *rs, int status, struct jsonw *w)
{
    if (jw_failed(w)) {
        jw_fini(w);
        /* Fix (found by fuzzing, gcc -Warray-bounds once inlined): the
         * length was 46 for a 44-byte text, so a NUL and a byte past the
         * literal went out with the answer. */
        static const char oom[] = "{\"error\":\"out of memory\",\"where\":\"response\"}";
        feed_respond(rs, 500, NULL, oom, sizeof(oom) - 1);
        return;
    }
    feed_respond_take(rs, status, NULL, w->buf, w->len);
    w->buf = NULL;                 /* adopted by the feed */
    jw_fini(w);
}

static void ctl_error(struct feed_response *rs, int status, const char *where,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void ctl_error(struct feed_response *rs, int status, const char *where,
                      const char *fmt, ...)
{
    struct jsonw w;
    lq_err_t e;                    /* lq_err_set sanitises quoted input */
    va_list ap;
    char msg[sizeof(e.msg)];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lq_err_set(&e, "%s", msg);
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "error");
    jw_str(&w, e.msg);
    jw_key(&w, "where");
    jw_str(&w, where);
    jw_obj_end(&w);
    ctl_send(rs, status, &w);
}

static void ctl_method(struct feed_response *rs, const struct feed_request *rq,
                       const char *allow)
{
    feed_respond_header(rs, "Allow", allow);
    ctl_error(rs, 405, "method", "%s not allowed on %s (allowed: %s)",
              rq->method_name, rq->path, allow);
}

static int is_get(const struct feed_request *rq)
{
    return rq->method == FEED_METHOD_GET || rq->method == FEED_METHOD_HEAD;
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- arguments ---------------------------------------------------------- */

/* "VENUE:SYMBOL" -> the watched instrument, or NULL. */
static struct mkt_instr *ctl_instr(const control_t *c, const char *key)
{
    const char *colon = strchr(key, ':');
    char venue[64];
    int v;

    if (colon == NULL || (size_t)(colon - key) >= sizeof(venue))
        return NULL;
    memcpy(venue, key, (size_t)(colon - key));
    venue[colon - key] = '\0';
    if ((v = venue_from_name(venue)) < 0)
        return NULL;
    return market_find(c->d.mkt, (enum venue_id)v, colon + 1);
}

/* ?limit=: absent -> def; 1..max; -1 when bad. */
static long ctl_limit(const struct feed_request *rq, long def, long max)
{
    const char *s = feed_request_arg(rq, "limit");
    char *end;
    long v;

    if (s == NULL)
        return def;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 1 || v > max)
        return -1;
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* since=: integer ns since the epoch, or ISO-8601 UTC
 * "YYYY-MM-DDTHH:MM:SS[.frac]Z" (a space for T, "+00:00" for Z).  0 or -1. */
static int ctl_parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, n = 0;
    int64_t frac = 0, scale = 100000000;
    const char *p;
    char *end;

    if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0)
            return -1;
        *out = v;
        return 0;
    }
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
        n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || se < 0 || se > 60)
        return -1;
    p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    /* Fix (found by fuzzing): outside the years 1678-2262 the ns since the
     * epoch overflowed int64 (undefined; in practice a far since= wrapped
     * and filtered the wrong alerts).  Such a time is refused, and so are
     * negative fields ("T-1:00:00", which %2d reads). */
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                   mi * 60 + se, ns;
    if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
        __builtin_add_overflow(ns, frac, &ns))
        return -1;
    *out = ns;
    return 0;
}

/* ---- the alert ring ----------------------------------------------------- */

static void ctl_on_alert(void *arg, const struct alert_record *r)
{
    control_t *c = arg;
    struct jsonw w;
    struct ctl_alert *a;

    jw_init(&w);
    alertlog_record_json(&w, r);
    if (jw_failed(&w)) {
        jw_fini(&w);
        log_msg(LL_WARN, "control", "alert record %" PRIu64 " not kept: out of memory",
                r->id);
        return;
    }
    if (c->n == c->cap) {          /* full: the oldest goes */
        a = &c->ring[c->head];
        free(a->json);
        c->head = (c->head + 1) % c->cap;
        c->n--;
    }
    a = &c->ring[(c->head + c->n) % c->cap];
    a->ts = r->ts;
    a->severity = r->severity;
    snprintf(a->kind, sizeof(a->kind), "%s", r->kind_name ? r->kind_name : "");
    a->json = w.buf;               /* adopted */
    w.buf = NULL;
    jw_fini(&w);
    c->n++;
}

/* A stored record into the ring; its details are parsed first, since the
 * ring's JSON goes out as it is (jw_raw) and a damaged file must not break
 * the API's answers. */
static int ctl_preload_one(const struct alert_record *r, void *arg)
{
    control_t *c = arg;
    json_t *j = json_loads(r->details, JSON_DECODE_ANY, NULL);

    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        c->preload_bad++;
        return 0;
    }
    json_decref(j);
    ctl_on_alert(c, r);
    c->preloaded++;
    return 0;
}

int control_preload_alerts(control_t *c, const char *store_path, lq_err_t *err)
{
    if (store_read_recent_alerts(store_path, c->cap, ctl_preload_one, c, err) < 0)
        return -1;
    if (c->preload_bad > 0)
        log_msg(LL_WARN, "control", "%s: %zu stored alert records skipped (details "
                "not a JSON object)", store_path, c->preload_bad);
    return 0;
}

size_t control_alert_count(const control_t *c)
{
    return c ? c->n : 0;
}

/* ---- GET handlers ------------------------------------------------------- */

static void ctl_status(control_t *c, struct feed_response *rs)
{
    struct render_src src = { c->d.mkt, c->d.eng, c->d.venues, c->d.feed };
    alerts_t *al = c->d.pipe ? pipeline_alerts(c->d.pipe) : NULL;
    store_t *st = c->d.pipe ? pipeline_store(c->d.pipe) : NULL;
    uint64_t total = 0, valid = 0, nlong = 0, nshort = 0;
    int64_t up = now_ns() - c->d.started_ns;
    struct jsonw w;

    for (size_t i = 0; i < market_count(c->d.mkt); i++) {
        struct mkt_instr *in = market_at(c->d.mkt, i);
        pindex_t *ix;
        if (in->retired)
            continue;
        total++;
        valid += in->book_valid != 0;
        if ((ix = engine_pindex(c->d.eng, in)) != NULL) {
            nlong += pindex_count(ix, POS_LONG);
            nshort += pindex_count(ix, POS_SHORT);
        }
    }
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "version");
    jw_str(&w, c->version);
    jw_key(&w, "uptime_s");
    jw_double(&w, up > 0 ? (double)(up / 1000000) / 1000 : 0);
    jw_key(&w, "venues");
    render_venues(&w, src.venues);
    jw_key(&w, "connections");
    render_connections(&w, src.feed);
    jw_key(&w, "instruments");
    jw_obj_begin(&w);
    jw_key(&w, "total");
    jw_u64(&w, total);
    jw_key(&w, "book_valid");
    jw_u64(&w, valid);
    jw_obj_end(&w);
    jw_key(&w, "positions");
    jw_obj_begin(&w);
    jw_key(&w, "total");
    jw_u64(&w, nlong + nshort);
    jw_key(&w, "long");
    jw_u64(&w, nlong);
    jw_key(&w, "short");
    jw_u64(&w, nshort);
    jw_obj_end(&w);
    jw_key(&w, "store");
    if (st != NULL) {
        struct store_stats ss;
        store_get_stats(st, &ss);
        jw_obj_begin(&w);
        jw_key(&w, "queue_depth");
        jw_u64(&w, ss.queue_depth);
        jw_key(&w, "queue_max");
        jw_u64(&w, ss.queue_max);
        jw_key(&w, "rows_written");
        jw_u64(&w, ss.rows_written);
        jw_key(&w, "coalesced");
        jw_u64(&w, ss.coalesced);
        jw_key(&w, "dropped");
        jw_u64(&w, ss.dropped);
        jw_key(&w, "lost");
        jw_u64(&w, ss.lost);
        jw_key(&w, "last_error");
        jw_str(&w, ss.last_error);
        jw_obj_end(&w);
    } else {
        jw_null(&w);
    }
    jw_key(&w, "loop_lag_ms");
    if (c->d.loop_lag_ms != NULL)
        jw_double(&w, c->d.loop_lag_ms(c->d.loop_lag_arg));
    else
        jw_null(&w);
    jw_key(&w, "alerts");
    jw_obj_begin(&w);
    jw_key(&w, "firing");
    if (al != NULL)
        jw_u64(&w, alerts_active_count(al));
    else
        jw_null(&w);
    jw_key(&w, "kept");
    jw_u64(&w, c->n);
    jw_obj_end(&w);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
}

static void ctl_instruments(control_t *c, struct feed_response *rs)
{
    struct render_src src = { c->d.mkt, c->d.eng, c->d.venues, c->d.feed };
    struct jsonw w;

    jw_init(&w);
    render_instruments(&w, &src, 0);
    ctl_send(rs, 200, &w);
}

struct pos_walk {
    struct jsonw *w;
    const char *key;               /* the instrument's "VENUE:SYMBOL" */
    size_t listed, seen, limit;
};

static void pos_json(struct jsonw *w, const char *key, const struct pos_view *v)
{
    jw_obj_begin(w);
    jw_key(w, "instrument");
    jw_str(w, key);
    jw_key(w, "id");
    jw_str(w, v->id);
    jw_key(w, "account");
    jw_str(w, v->account);
    jw_key(w, "side");
    jw_str(w, v->side == POS_LONG ? "long" : "short");
    jw_key(w, "qty");
    jw_dec(w, v->qty);
    jw_key(w, "entry");
    jw_double(w, v->entry > 0 ? v->entry : NAN);
    jw_key(w, "margin");
    jw_double(w, v->has_margin ? v->margin : NAN);
    jw_key(w, "liq_price");
    jw_double(w, v->lp);
    jw_key(w, "in_cascade");
    jw_bool(w, v->in_cascade);
    jw_key(w, "liquidated");
    jw_bool(w, v->liquidated);
    jw_obj_end(w);
}

static int pos_visit(const struct pos_view *v, void *arg)
{
    struct pos_walk *pw = arg;

    pw->seen++;
    if (pw->listed < pw->limit) {
        pos_json(pw->w, pw->key, v);
        pw->listed++;
    }
    return 0;                      /* on: the total counts every one */
}

static void ctl_positions_get(control_t *c, const struct feed_request *rq,
                              struct feed_response *rs)
{
    const char *key = feed_request_arg(rq, "instrument");
    struct mkt_instr *only = NULL;
    long limit = ctl_limit(rq, CTL_LIMIT_DEFAULT, CTL_LIMIT_MAX);
    struct pos_walk pw;
    struct jsonw w;

    if (limit < 0) {
        ctl_error(rs, 400, "limit", "limit must be an integer from 1 to %d",
                  CTL_LIMIT_MAX);
        return;
    }
    if (key != NULL && (only = ctl_instr(c, key)) == NULL) {
        ctl_error(rs, 404, "instrument", "%s is not a watched instrument", key);
        return;
    }
    jw_init(&w);
    memset(&pw, 0, sizeof(pw));
    pw.w = &w;
    pw.limit = (size_t)limit;
    jw_obj_begin(&w);
    jw_key(&w, "instrument");
    if (only)
        jw_str(&w, only->key);
    else
        jw_null(&w);
    jw_key(&w, "positions");
    jw_arr_begin(&w);
    for (size_t i = 0; i < market_count(c->d.mkt); i++) {
        struct mkt_instr *in = market_at(c->d.mkt, i);
        pindex_t *ix;
        if (in->retired || (only && in != only) ||
            (ix = engine_pindex(c->d.eng, in)) == NULL)
            continue;
        pw.key = in->key;
        pindex_foreach(ix, pos_visit, &pw);
    }
    jw_arr_end(&w);
    jw_key(&w, "count");
    jw_u64(&w, pw.listed);
    jw_key(&w, "total");
    jw_u64(&w, pw.seen);
    jw_key(&w, "limit");
    jw_u64(&w, pw.limit);
    jw_key(&w, "truncated");
    jw_bool(&w, pw.seen > pw.listed);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
}

static void ctl_cascade(control_t *c, const struct feed_request *rq,
                        struct feed_response *rs)
{
    const char *vs = rq->path + strlen("/v1/cascade/");
    const char *slash = strchr(vs, '/');
    const struct engine_ladder *l;
    struct mkt_instr *in = NULL;
    char venue[64];
    int v = -1, is_mark = 0;
    double ref;
    struct jsonw w;

    if (slash != NULL && (size_t)(slash - vs) < sizeof(venue) && slash[1] != '\0' &&
        strchr(slash + 1, '/') == NULL) {
        memcpy(venue, vs, (size_t)(slash - vs));
        venue[slash - vs] = '\0';
        if ((v = venue_from_name(venue)) >= 0)
            in = market_find(c->d.mkt, (enum venue_id)v, slash + 1);
    }
    if (in == NULL || (l = engine_ladder(c->d.eng, in)) == NULL) {
        ctl_error(rs, 404, "instrument", "%s is not a watched instrument "
                  "(want /v1/cascade/VENUE/SYMBOL)", vs);
        return;
    }
    ref = engine_ref(c->d.eng, in, &is_mark);
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "instrument");
    jw_str(&w, in->key);
    jw_key(&w, "ref");
    jw_double(&w, ref > 0 ? ref : NAN);
    jw_key(&w, "ref_is_mark");
    jw_bool(&w, is_mark);
    jw_key(&w, "book_valid");
    jw_bool(&w, in->book_valid);
    jw_key(&w, "book_reach_pct");
    jw_obj_begin(&w);
    jw_key(&w, "bid");
    jw_double(&w, render_book_reach_pct(in, BOOK_BID, ref));
    jw_key(&w, "ask");
    jw_double(&w, render_book_reach_pct(in, BOOK_ASK, ref));
    jw_obj_end(&w);
    jw_key(&w, "ladder");
    render_ladder(&w, l);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
}

static int active_visit(const struct alert_active *x, void *arg)
{
    struct jsonw *w = arg;

    jw_obj_begin(w);
    jw_key(w, "kind");
    jw_str(w, alert_kind_name(x->kind));
    jw_key(w, "subject");
    jw_str(w, x->subject);
    jw_key(w, "instrument");
    if (x->instrument)
        jw_str(w, x->instrument);
    else
        jw_null(w);
    jw_key(w, "level");
    jw_str(w, alert_level_name(x->level));
    jw_key(w, "since");
    jw_u64(w, (unsigned long long)(x->since > 0 ? x->since : 0));
    jw_obj_end(w);
    return 0;
}

static void ctl_alerts_active(control_t *c, struct feed_response *rs)
{
    alerts_t *al = c->d.pipe ? pipeline_alerts(c->d.pipe) : NULL;
    struct jsonw w;

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "count");
    jw_u64(&w, al ? alerts_active_count(al) : 0);
    jw_key(&w, "alerts");
    jw_arr_begin(&w);
    if (al)
        alerts_foreach_active(al, active_visit, &w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
}

/* The ring, oldest first, filtered; the first `limit` matches. */
static void ctl_alerts(control_t *c, const struct feed_request *rq,
                       struct feed_response *rs)
{
    const char *since_s = feed_request_arg(rq, "since");
    const char *kind = feed_request_arg(rq, "kind");
    const char *sev_s = feed_request_arg(rq, "severity");
    long limit = ctl_limit(rq, CTL_LIMIT_DEFAULT, (long)c->cap);
    int64_t since = INT64_MIN;
    int sev = -1;
    size_t listed = 0, matched = 0;
    char source[64];
    struct jsonw w;

    if (limit < 0) {
        ctl_error(rs, 400, "limit", "limit must be an integer from 1 to %zu", c->cap);
        return;
    }
    if (since_s != NULL && ctl_parse_time(since_s, &since) != 0) {
        ctl_error(rs, 400, "since", "'%s' is neither ns since the epoch nor "
                  "ISO-8601 UTC (2026-01-31T12:00:00Z)", since_s);
        return;
    }
    if (sev_s != NULL) {
        if (strcmp(sev_s, "warning") == 0)
            sev = ALERT_WARNING;
        else if (strcmp(sev_s, "critical") == 0)
            sev = ALERT_CRITICAL;
        else {
            ctl_error(rs, 400, "severity", "'%s': want warning or critical", sev_s);
            return;
        }
    }
    if (kind != NULL && *kind == '\0') {
        ctl_error(rs, 400, "kind", "kind is empty");
        return;
    }
    /* Where the records come from: this run's, and the store's of earlier
     * runs loaded at start (control_preload_alerts). */
    snprintf(source, sizeof(source), "%s (last %zu)",
             c->preloaded ? "memory, with the store's at start" : "memory", c->cap);
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "source");
    jw_str(&w, source);
    jw_key(&w, "alerts");
    jw_arr_begin(&w);
    for (size_t k = 0; k < c->n; k++) {
        const struct ctl_alert *a = &c->ring[(c->head + k) % c->cap];
        if (a->ts < since || (kind && strcmp(kind, a->kind) != 0) ||
            (sev >= 0 && (int)a->severity != sev))
            continue;
        matched++;
        if (listed < (size_t)limit) {
            jw_raw(&w, a->json);
            listed++;
        }
    }
    jw_arr_end(&w);
    jw_key(&w, "count");
    jw_u64(&w, listed);
    jw_key(&w, "truncated");
    jw_bool(&w, matched > listed);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
}

/* ---- POST /v1/positions ------------------------------------------------- */

enum body_fmt { BODY_JSON, BODY_NDJSON, BODY_CSV };

struct ctl_row {
    size_t line;                   /* posfile's line in the memfd */
    char *id, *account;            /* owned */
    char venue[64], symbol[64];
    struct pos_spec spec;          /* id / account pointers set at use */
    struct mkt_instr *in;
};

struct ctl_problem {
    size_t line;                   /* 0: the body as a whole */
    char msg[400];
};

struct post_ctx {
    control_t *c;
    enum body_fmt fmt;
    int array;                     /* JSON: the body was an array */
    char path[64];                 /* /proc/self/fd/N */
    struct ctl_row *rows;
    size_t nrows, caprows;
    struct ctl_problem *probs;
    size_t nprobs, capprobs, more; /* more: problems past the list's cap */
    int oom;
};

static void post_problem(struct post_ctx *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void post_problem(struct post_ctx *p, size_t line, const char *fmt, ...)
{
    va_list ap;

    if (p->nprobs >= CTL_MAX_PROBLEMS) {
        p->more++;
        return;
    }
    if (p->nprobs == p->capprobs) {
        size_t cap = p->capprobs ? p->capprobs * 2 : 8;
        void *np = realloc(p->probs, cap * sizeof(*p->probs));
        if (np == NULL) {
            p->oom = 1;
            return;
        }
        p->probs = np;
        p->capprobs = cap;
    }
    p->probs[p->nprobs].line = line;
    va_start(ap, fmt);
    vsnprintf(p->probs[p->nprobs].msg, sizeof(p->probs[0].msg), fmt, ap);
    va_end(ap);
    lq_err_sanitize(p->probs[p->nprobs].msg, sizeof(p->probs[0].msg));
    p->nprobs++;
}

/* posfile's "<path>:<line>: <what>": keep the line and the what. */
static void post_on_error(const char *msg, void *arg)
{
    struct post_ctx *p = arg;
    size_t n = strlen(p->path), line = 0;
    const char *s = msg;
    char *end;

    if (strncmp(s, p->path, n) == 0 && s[n] == ':') {
        s += n + 1;
        line = strtoul(s, &end, 10);
        s = end;
        if (*s == ':')
            s++;
        while (*s == ' ')
            s++;
    }
    post_problem(p, line, "%s", s);
}

static int post_on_row(const struct posfile_row *row, void *arg)
{
    struct post_ctx *p = arg;
    struct ctl_row *r;

    if (p->nrows == p->caprows) {
        size_t cap = p->caprows ? p->caprows * 2 : 16;
        void *nr = realloc(p->rows, cap * sizeof(*p->rows));
        if (nr == NULL) {
            p->oom = 1;
            return 1;              /* stop the load */
        }
        p->rows = nr;
        p->caprows = cap;
    }
    r = &p->rows[p->nrows];
    memset(r, 0, sizeof(*r));
    r->line = row->line;
    r->spec = row->spec;
    r->id = strdup(row->id);
    r->account = strdup(row->account ? row->account : "");
    snprintf(r->venue, sizeof(r->venue), "%s", row->venue);
    snprintf(r->symbol, sizeof(r->symbol), "%s", row->symbol);
    p->nrows++;                    /* counted first: freed on every path */
    if (r->id == NULL || r->account == NULL) {
        p->oom = 1;
        return 1;
    }
    return 0;
}

/* Where a memfd line came from, for people: "line 3" (CSV, NDJSON),
 * "[2]" (a JSON array), "object" (one JSON object), "body". */
static void post_where(const struct post_ctx *p, size_t line, char *buf, size_t size)
{
    if (line == 0)
        snprintf(buf, size, "body");
    else if (p->fmt != BODY_JSON)
        snprintf(buf, size, "line %zu", line);
    else if (p->array)
        snprintf(buf, size, "[%zu]", line - 1);
    else
        snprintf(buf, size, "object");
}

/* Write a JSON document as JSON Lines: one top-level element per line.
 * The text was checked by jansson, so only strings and nesting need
 * tracking; raw line ends outside strings are blanks in JSON. */
static int post_json_lines(FILE *out, const char *s, size_t len, int *array,
                           size_t *count)
{
    size_t i = 0, depth = 0;
    int in_str = 0, esc = 0, started = 0;

    while (i < len && isspace((unsigned char)s[i]))
        i++;
    *array = i < len && s[i] == '[';
    *count = 0;
    if (!*array) {
        for (; i < len; i++)
            if (fputc(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i], out) == EOF)
                return -1;
        *count = 1;
        return fputc('\n', out) == EOF ? -1 : 0;
    }
    for (i++; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)        /* the array's own ']' */
                break;
            depth--;
        } else if (ch == ',' && depth == 0) {
            if (fputc('\n', out) == EOF)
                return -1;
            started = 0;
            continue;
        }
        if (ch == '\n' || ch == '\r')
            ch = ' ';
        if (!started && isspace((unsigned char)ch))
            continue;
        if (!started)
            (*count)++;
        started = 1;
        if (fputc(ch, out) == EOF)
            return -1;
    }
    return fputc('\n', out) == EOF ? -1 : 0;
}

static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Read the body into p->rows (and p->probs); 0, or the HTTP status of a
 * failure already answered. */
static int post_read(struct post_ctx *p, const struct feed_request *rq,
                     struct feed_response *rs)
{
    struct posfile_stats st;
    FILE *mf = NULL;
    lq_err_t err;
    size_t i = 0, count = 0;
    int fd, rc = 0;

    /* The format the posfile sniffer will pick must be the one declared:
     * it reads '{' first as JSON Lines, anything else as CSV. */
    if (rq->body_len >= 3 && memcmp(rq->body, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < rq->body_len && isspace((unsigned char)rq->body[i]))
        i++;
    if (i == rq->body_len) {
        ctl_error(rs, 400, "body", "no positions (the body is empty)");
        return 400;
    }
    if (p->fmt == BODY_CSV && rq->body[i] == '{') {
        ctl_error(rs, 400, "body", "Content-Type says text/csv but the body "
                  "starts with '{'");
        return 400;
    }
    if (p->fmt == BODY_NDJSON && rq->body[i] != '{') {
        ctl_error(rs, 400, "body", "Content-Type says JSON Lines but line 1 is "
                  "not a JSON object");
        return 400;
    }
    if (p->fmt == BODY_JSON) {
        json_error_t je;
        json_t *root = json_loadb(rq->body, rq->body_len, 0, &je);
        if (root == NULL) {
            ctl_error(rs, 400, "body", "line %d, column %d: %s", je.line,
                      je.column, je.text);
            return 400;
        }
        rc = 0;
        if (json_is_array(root)) {
            if (json_array_size(root) == 0)
                rc = 1;
            for (size_t k = 0; k < json_array_size(root); k++)
                if (!json_is_object(json_array_get(root, k)))
                    post_problem(p, k + 1, "not a JSON object");
        } else if (!json_is_object(root)) {
            rc = 2;
        }
        json_decref(root);
        if (rc == 1) {
            ctl_error(rs, 400, "body", "no positions (an empty array)");
            return 400;
        }
        if (rc == 2) {
            ctl_error(rs, 400, "body", "want a JSON object or an array of objects");
            return 400;
        }
        p->array = 1;              /* set again below; where() needs it now */
        if (p->nprobs > 0)
            return 0;              /* the caller lists them */
    }

    if ((fd = memfd_create("liqmon-control-post", MFD_CLOEXEC)) < 0 ||
        (mf = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        ctl_error(rs, 500, "body", "cannot buffer the body: %s", strerror(errno));
        return 500;
    }
    if (p->fmt == BODY_JSON)
        rc = post_json_lines(mf, rq->body, rq->body_len, &p->array, &count);
    else
        rc = fwrite(rq->body, 1, rq->body_len, mf) == rq->body_len ? 0 : -1;
    /* The memfd stays open (fileno) while posfile reads it by path. */
    if (rc != 0 || fflush(mf) != 0) {
        fclose(mf);
        ctl_error(rs, 500, "body", "cannot buffer the body");
        return 500;
    }
    snprintf(p->path, sizeof(p->path), "/proc/self/fd/%d", fileno(mf));
    err.msg[0] = '\0';
    rc = posfile_load(p->path, post_on_row, post_on_error, p, &st, &err);
    fclose(mf);
    if (p->oom) {
        ctl_error(rs, 500, "body", "out of memory");
        return 500;
    }
    if (rc == POSFILE_EHEADER) {
        /* "<path>:<line>: header: ..." -> "header: ..." */
        const char *s = strstr(err.msg, ": header");
        ctl_error(rs, 400, "header", "%s", s ? s + 2 : err.msg);
        return 400;
    }
    if (rc != POSFILE_OK) {
        ctl_error(rs, 500, "body", "cannot read the body back: %s", err.msg);
        return 500;
    }
    if (st.rows == 0) {
        ctl_error(rs, 400, "body", "no positions (%s)",
                  st.header_line ? "a header, no rows" : "only blank and comment lines");
        return 400;
    }
    return 0;
}

/* Every row is applicable: a watched instrument, not given twice, and
 * accepted by an index with the instrument's tier table (a scratch one). */
static int post_check(struct post_ctx *p)
{
    size_t ninst = market_count(p->c->d.mkt);
    pindex_t **scratch = calloc(ninst ? ninst : 1, sizeof(*scratch));
    int rc = 0;

    if (scratch == NULL)
        return -1;
    for (size_t k = 0; k < p->nrows; k++) {
        struct ctl_row *r = &p->rows[k];
        int v = venue_from_name(r->venue);
        lq_err_t err;
        int prc;

        r->in = v >= 0 ? market_find(p->c->d.mkt, (enum venue_id)v, r->symbol) : NULL;
        if (r->in == NULL || engine_pindex(p->c->d.eng, r->in) == NULL) {
            post_problem(p, r->line, "venue, symbol: %s:%s is not a watched "
                         "instrument", r->venue, r->symbol);
            continue;
        }
        if (scratch[r->in->idx] == NULL &&
            (scratch[r->in->idx] = pindex_create(&r->in->spec.tiers)) == NULL) {
            rc = -1;
            break;
        }
        r->spec.id = r->id;
        r->spec.account = r->account;
        err.msg[0] = '\0';
        prc = pindex_insert(scratch[r->in->idx], &r->spec, NULL, &err);
        if (prc == PINDEX_EEXIST)
            post_problem(p, r->line, "id: '%s' given twice for %s", r->id, r->in->key);
        else if (prc == PINDEX_ENOMEM) {
            rc = -1;
            break;
        } else if (prc != PINDEX_OK)
            post_problem(p, r->line, "%s", err.msg[0] ? err.msg : "refused by the index");
    }
    for (size_t i = 0; i < ninst; i++)
        pindex_destroy(scratch[i]);
    free(scratch);
    return rc;
}

/* The position as one JSON Lines row of a positions file: what a restart
 * replays over the file (store.h, api_positions).  qty is written as its
 * exact decimal text and the prices in the shortest form that reads back
 * as the same double, so the replayed position is this one exactly. */
static void pos_spec_json(struct jsonw *w, const struct mkt_instr *in,
                          const struct pos_view *v)
{
    jw_obj_begin(w);
    jw_key(w, "id");
    jw_str(w, v->id);
    if (v->account && v->account[0]) {
        jw_key(w, "account");
        jw_str(w, v->account);
    }
    jw_key(w, "venue");
    jw_str(w, venue_name(in->venue));
    jw_key(w, "symbol");
    jw_str(w, in->spec.symbol);
    jw_key(w, "side");
    jw_str(w, v->side == POS_LONG ? "long" : "short");
    jw_key(w, "qty");
    jw_dec(w, v->qty);
    if (v->entry > 0) {
        jw_key(w, "entry");
        jw_double(w, v->entry);
    }
    jw_key(w, v->has_margin ? "margin" : "liq_price");
    jw_double(w, v->has_margin ? v->margin : v->lp);
    jw_obj_end(w);
}

static void store_pos(control_t *c, const struct mkt_instr *in, const struct pos_view *v,
                      const char *change, int64_t ts, size_t *stored, size_t *dropped)
{
    store_t *st = c->d.pipe ? pipeline_store(c->d.pipe) : NULL;
    struct store_position sp;
    struct jsonw w;

    if (st == NULL)
        return;
    jw_init(&w);
    if (strcmp(change, "remove") != 0)
        pos_spec_json(&w, in, v);
    memset(&sp, 0, sizeof(sp));
    sp.ts = ts;
    sp.instrument = in->key;
    sp.pos_id = v->id;
    sp.account = v->account;
    sp.side = v->side == POS_LONG ? "long" : "short";
    sp.qty = dec_to_double(v->qty);
    sp.entry = v->entry;
    sp.margin = v->has_margin ? v->margin : 0;
    sp.liq_price = v->lp;
    sp.change = change;
    sp.source = "api";
    sp.spec = w.len > 0 && !jw_failed(&w) ? w.buf : NULL;
    /* A change with no spec could not be replayed: count it as dropped
     * rather than store half of it. */
    if ((sp.spec != NULL || strcmp(change, "remove") == 0) &&
        store_put_position(st, &sp) == 0)
        (*stored)++;
    else
        (*dropped)++;
    jw_fini(&w);
}

/* The clock a change is recorded at: the pipeline's event clock, the
 * one every other store row uses; the wall clock before the first
 * event. */
static int64_t ctl_clock(const control_t *c)
{
    int64_t t = c->d.pipe ? pipeline_clock(c->d.pipe) : 0;

    return t > 0 ? t : now_ns();
}

static void ctl_positions_post(control_t *c, const struct feed_request *rq,
                               struct feed_response *rs)
{
    struct post_ctx p;
    size_t added = 0, replaced = 0, stored = 0, dropped = 0, failed = 0;
    unsigned char *touched = NULL;
    int64_t ts = ctl_clock(c);
    const char *ct = rq->content_type;
    struct jsonw w;

    memset(&p, 0, sizeof(p));
    p.c = c;
    if (media_is(ct, "application/json"))
        p.fmt = BODY_JSON;
    else if (media_is(ct, "application/x-ndjson") || media_is(ct, "application/ndjson") ||
             media_is(ct, "application/jsonl") || media_is(ct, "application/x-jsonlines"))
        p.fmt = BODY_NDJSON;
    else if (media_is(ct, "text/csv"))
        p.fmt = BODY_CSV;
    else {
        ctl_error(rs, 415, "Content-Type", "'%s': want application/json, "
                  "application/x-ndjson or text/csv", ct);
        return;
    }
    if (post_read(&p, rq, rs) != 0)
        goto out;
    /* Every row is checked, also when posfile refused some: the answer
     * names every problem at once. */
    if (post_check(&p) != 0) {
        ctl_error(rs, 500, "body", "out of memory");
        goto out;
    }
    if (p.nprobs > 0 || p.oom) {
        /* Row order: posfile's problems come first, the checks' after. */
        for (size_t i = 1; i < p.nprobs; i++)
            for (size_t k = i; k > 0 && p.probs[k - 1].line > p.probs[k].line; k--) {
                struct ctl_problem t = p.probs[k];
                p.probs[k] = p.probs[k - 1];
                p.probs[k - 1] = t;
            }
        jw_init(&w);
        jw_obj_begin(&w);
        jw_key(&w, "error");
        jw_str(&w, "rows refused; nothing was applied");
        jw_key(&w, "where");
        jw_str(&w, "body");
        jw_key(&w, "problems");
        jw_arr_begin(&w);
        for (size_t k = 0; k < p.nprobs; k++) {
            char where[48];
            post_where(&p, p.probs[k].line, where, sizeof(where));
            jw_obj_begin(&w);
            jw_key(&w, "where");
            jw_str(&w, where);
            jw_key(&w, "error");
            jw_str(&w, p.probs[k].msg);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "more");
        jw_u64(&w, p.more);
        jw_obj_end(&w);
        ctl_send(rs, 400, &w);
        goto out;
    }

    touched = calloc(market_count(c->d.mkt) + 1, 1);
    if (touched == NULL) {
        ctl_error(rs, 500, "body", "out of memory");
        goto out;
    }
    for (size_t k = 0; k < p.nrows; k++) {
        struct ctl_row *r = &p.rows[k];
        pindex_t *ix = engine_pindex(c->d.eng, r->in);
        struct pos_view v;
        uint32_t h;
        lq_err_t err;
        int is_new = pindex_find(ix, r->id, &h) != PINDEX_OK;
        int prc;

        r->spec.id = r->id;
        r->spec.account = r->account;
        /* A replaced position starts afresh in the alert rules. */
        if (!is_new && c->d.pipe)
            alerts_position_changed(pipeline_alerts(c->d.pipe), r->in, h, ctl_clock(c));
        prc = is_new ? pindex_insert(ix, &r->spec, &h, &err)
                     : pindex_update(ix, h, &r->spec, &err);
        if (prc != PINDEX_OK) {
            /* Checked on the scratch index: only memory can fail here. */
            failed++;
            continue;
        }
        touched[r->in->idx] = 1;
        if (is_new)
            added++;
        else
            replaced++;
        if (pindex_get(ix, h, &v) == PINDEX_OK)
            store_pos(c, r->in, &v, is_new ? "add" : "update", ts, &stored, &dropped);
    }
    /* The ladders must equal a simulation of now (engine.h): re-run them
     * on the new positions rather than wait for the next tick. */
    for (size_t i = 0; i < market_count(c->d.mkt); i++)
        if (touched[i])
            engine_tick(c->d.eng, market_at(c->d.mkt, i), ts);
    if (failed > 0) {
        ctl_error(rs, 500, "body", "%zu of %zu rows could not be applied (out of "
                  "memory); %zu added, %zu replaced", failed, p.nrows, added, replaced);
        goto out;
    }
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "rows");
    jw_u64(&w, p.nrows);
    jw_key(&w, "added");
    jw_u64(&w, added);
    jw_key(&w, "replaced");
    jw_u64(&w, replaced);
    jw_key(&w, "stored");
    if (c->d.pipe && pipeline_store(c->d.pipe))
        jw_u64(&w, stored);
    else
        jw_null(&w);
    jw_key(&w, "store_dropped");
    jw_u64(&w, dropped);
    jw_obj_end(&w);
    ctl_send(rs, 200, &w);
out:
    for (size_t k = 0; k < p.nrows; k++) {
        free(p.rows[k].id);
        free(p.rows[k].account);
    }
    free(p.rows);
    free(p.probs);
    free(touched);
}

/* ---- DELETE /v1/positions/{id} ------------------------------------------ */

static void ctl_positions_delete(control_t *c, const struct feed_request *rq,
                                 struct feed_response *rs)
{
    const char *id = rq->path + strlen("/v1/positions/");
    const char *key = feed_request_arg(rq, "instrument");
    struct mkt_instr *in = NULL, *only = NULL;
    size_t found = 0, stored = 0, dropped = 0;
    char names[256] = "";
    struct pos_view v;
    uint32_t h = 0;
    pindex_t *ix;
    struct jsonw w;

    if (key != NULL && (only = ctl_instr(c, key)) == NULL) {
        ctl_error(rs, 404, "instrument", "%s is not a watched instrument", key);
        return;
    }
    for (size_t i = 0; i < market_count(c->d.mkt); i++) {
        struct mkt_instr *x = market_at(c->d.mkt, i);
        pindex_t *xi;
        uint32_t xh;
        if (x->retired || (only && x != only) ||
            (xi = engine_pindex(c->d.eng, x)) == NULL ||
            pindex_find(xi, id, &xh) != PINDEX_OK)
            continue;
        found++;
        in = x;
        h = xh;
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                 found > 1 ? ", " : "", x->key);
    }
    if (found == 0) {
        ctl_error(rs, 404, "id", "no position '%s'%s%s", id, only ? " on " : "",
                  only ? only->key : "");
        return;
    }
    if (found > 1) {
        ctl_error(rs, 409, "instrument", "position '%s' exists on %zu instruments "
                  "(%s): say which with ?instrument=VENUE:SYMBOL", id, found, names);
        return;
    }
    ix = engine_pindex(c->d.eng, in);
    /* The view (id, terms) is read before it goes: the store row names it. */
    if (pindex_get(ix, h, &v) == PINDEX_OK) {
        int64_t ts = ctl_clock(c);
        store_pos(c, in, &v, "remove", ts, &stored, &dropped);
        jw_init(&w);
        jw_obj_begin(&w);
        jw_key(&w, "removed");
        pos_json(&w, in->key, &v);
        jw_obj_end(&w);
        /* Its alert state goes with it (a reused handle must not inherit
         * it); the view's strings live in the index: render before. */
        if (c->d.pipe)
            alerts_position_changed(pipeline_alerts(c->d.pipe), in, h, ts);
        if (pindex_remove(ix, h) != PINDEX_OK) {
            jw_fini(&w);
            ctl_error(rs, 500, "id", "could not remove '%s'", id);
            return;
        }
        engine_tick(c->d.eng, in, ts);
        ctl_send(rs, 200, &w);
        return;
    }
    ctl_error(rs, 500, "id", "position '%s' could not be read", id);
}

/* ---- GET /v1/map/{venue}/{symbol}.svg|.json ------------------------------ */

/* The liquidation map (mapmodel.h) of an instrument now, drawn (mapsvg.h)
 * or as its JSON with the ladder rows. */
static void ctl_map(control_t *c, const struct feed_request *rq,
                    struct feed_response *rs)
{
    const char *vs = rq->path + strlen("/v1/map/");
    const char *slash = strchr(vs, '/'), *dot;
    struct mkt_instr *in = NULL;
    struct map_model *m = NULL;
    char venue[64], symbol[128];
    int v, svg = 0;
    size_t n;

    if (slash != NULL && (size_t)(slash - vs) < sizeof(venue) &&
        strchr(slash + 1, '/') == NULL && (dot = strrchr(slash + 1, '.')) != NULL &&
        (svg = strcmp(dot, ".svg") == 0, svg || strcmp(dot, ".json") == 0) &&
        (n = (size_t)(dot - slash - 1)) > 0 && n < sizeof(symbol)) {
        memcpy(venue, vs, (size_t)(slash - vs));
        venue[slash - vs] = '\0';
        memcpy(symbol, slash + 1, n);
        symbol[n] = '\0';
        if ((v = venue_from_name(venue)) >= 0)
            in = market_find(c->d.mkt, (enum venue_id)v, symbol);
    }
    if (in == NULL || engine_pindex(c->d.eng, in) == NULL) {
        ctl_error(rs, 404, "instrument", "%s is not a watched instrument "
                  "(want /v1/map/VENUE/SYMBOL.svg or .json)", vs);
        return;
    }
    if ((m = malloc(sizeof(*m))) == NULL ||
        mapmodel_build(m, in, c->d.eng, c->d.pipe ? alerts_config(pipeline_alerts(c->d.pipe))
                                                   : NULL, ctl_clock(c)) != 0) {
        free(m);
        ctl_error(rs, 500, "instrument", "%s: the map could not be built", in->key);
        return;
    }
    if (svg) {
        char *buf;
        size_t len;
        if (mapsvg_render_mem(m, &buf, &len) != 0)
            ctl_error(rs, 500, "map", "out of memory");
        else
            feed_respond_take(rs, 200, "image/svg+xml", buf, len);
    } else {
        struct jsonw w;
        jw_init(&w);
        mapmodel_json(&w, m, 1);
        ctl_send(rs, 200, &w);
    }
    free(m);
}

/* ---- routing ------------------------------------------------------------ */

static void ctl_handler(void *arg, const struct feed_request *rq,
                        struct feed_response *rs)
{
    control_t *c = arg;
    const char *path = rq->path;

    if (strcmp(path, "/v1/status") == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_status(c, rs);
    } else if (strcmp(path, "/v1/instruments") == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_instruments(c, rs);
    } else if (strcmp(path, "/v1/positions") == 0) {
        if (is_get(rq))
            ctl_positions_get(c, rq, rs);
        else if (rq->method == FEED_METHOD_POST)
            ctl_positions_post(c, rq, rs);
        else
            ctl_method(rs, rq, "GET, HEAD, POST");
    } else if (strncmp(path, "/v1/positions/", 14) == 0 && path[14] != '\0') {
        if (rq->method == FEED_METHOD_DELETE)
            ctl_positions_delete(c, rq, rs);
        else
            ctl_method(rs, rq, "DELETE");
    } else if (strncmp(path, "/v1/cascade/", 12) == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_cascade(c, rq, rs);
    } else if (strncmp(path, "/v1/map/", 8) == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_map(c, rq, rs);
    } else if (strcmp(path, "/v1/alerts/active") == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_alerts_active(c, rs);
    } else if (strcmp(path, "/v1/alerts") == 0) {
        if (!is_get(rq))
            ctl_method(rs, rq, "GET, HEAD");
        else
            ctl_alerts(c, rq, rs);
    } else {
        ctl_error(rs, 404, "path", "no such endpoint: %s", path);
    }
}

/* ---- life --------------------------------------------------------------- */

control_t *control_create(const struct control_deps *deps, lq_err_t *err)
{
    control_t *c = NULL;

    if (deps == NULL || deps->mkt == NULL || deps->eng == NULL) {
        lq_err_set(err, "control: a market and an engine are required");
        return NULL;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL)
        goto oom;
    c->d = *deps;
    snprintf(c->version, sizeof(c->version), "%s",
             deps->version ? deps->version : LIQMON_VERSION);
    c->cap = deps->alert_ring ? deps->alert_ring : CONTROL_ALERT_RING;
    if ((c->ring = calloc(c->cap, sizeof(*c->ring))) == NULL)
        goto oom;
    if (deps->pipe != NULL) {
        struct pipeline_listener l = { NULL, ctl_on_alert, c };
        if (pipeline_add_listener(deps->pipe, &l) != 0) {
            lq_err_set(err, "control: cannot attach to the pipeline");
            goto fail;
        }
    }
    return c;
oom:
    lq_err_set(err, "control: out of memory");
fail:
    control_destroy(c);
    return NULL;
}

/* "127.0.0.1:8080", "[::1]:8080" -> address, port.  0 or -1. */
int control_listen(control_t *c, feed_t *f, const char *unix_path,
                   unsigned mode, const char *tcp_listen, size_t max_body,
                   lq_err_t *err)
{
    struct feed_listen_config lc;
    int port = 0;

    if (unix_path == NULL && tcp_listen == NULL)
        return lq_err_set(err, "control: neither a socket path nor a TCP address");
    if (c->listening)
        return lq_err_set(err, "control: already listening");
    if (unix_path != NULL) {
        memset(&lc, 0, sizeof(lc));
        lc.name = "control";
        lc.unix_path = unix_path;
        lc.unix_mode = mode ? mode : 0660;
        lc.max_body = max_body;
        lc.handler = ctl_handler;
        lc.arg = c;
        if (feed_listen(f, &lc, err) < 0) {
            lq_err_prefix(err, "control");
            return -1;
        }
    }
    if (tcp_listen != NULL) {
        char addr[64];
        int want;

        if (feed_parse_listen(tcp_listen, addr, sizeof(addr), &want) != 0)
            return lq_err_set(err, "control: listen '%s': want ADDRESS:PORT "
                              "(127.0.0.1:8080, [::1]:8080)", tcp_listen);
        memset(&lc, 0, sizeof(lc));
        lc.name = "control-tcp";
        lc.address = addr;
        lc.port = want;
        lc.max_body = max_body;
        lc.handler = ctl_handler;
        lc.arg = c;
        if ((port = feed_listen(f, &lc, err)) < 0) {
            lq_err_prefix(err, "control");
            return -1;
        }
    }
    c->listening = 1;
    return port;
}

void control_destroy(control_t *c)
{
    if (c == NULL)
        return;
    /* The pipeline's listener entry is the caller's to remove first when
     * the pipeline outlives us (pipeline_remove_listener: the daemon's
     * stop_control does); a pipeline already closed is not touched. */
    for (size_t k = 0; c->ring && k < c->n; k++)
        free(c->ring[(c->head + k) % c->cap].json);
    free(c->ring);
    free(c);
}
