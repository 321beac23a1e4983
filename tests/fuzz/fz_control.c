/*
 * fz_control.c - the control API's request handling (src/svc/control.c),
 * without a socket: requests go straight to its handler.
 *
 * control.c's handler is reached only through feed_listen, which needs
 * an lws context; so this file compiles control.c itself (its globals
 * made local to this object by fuzz.mk, so they do not clash with the
 * library's copy) with the feed's answer functions replaced by a
 * recorder.  What is fuzzed is the
 * real code: routing, query arguments (limit, instrument, since, kind,
 * severity), POST bodies (JSON, JSON Lines, CSV through posfile and a
 * memfd), DELETE.
 *
 * Input: requests separated by a line "%%", each
 *
 *   METHOD /path[?a=1&b]          (the query split at '&', not decoded)
 *   [Content-Type: type]
 *   <blank line>
 *   body
 *
 * on a market of conf/instruments' instruments (binance-usdm:BTCUSDT
 * with a book and a mark, so a POST runs a real ladder) and an engine
 * with no positions at the start.  Properties, after every request:
 *  - the handler answered: a known status (200, 400, 404, 405, 409,
 *    415; never 500), a JSON object body; an error carries "error" and
 *    "where", one line of text each; a 405 an Allow header;
 *  - all or nothing: only a 200 POST or DELETE changes the positions;
 *    a POST's "rows" = "added" + "replaced" and the count grows by
 *    "added"; a DELETE removes exactly one; every index checks.
 */
#define _GNU_SOURCE

/* This copy of control.c must not clash with the library's: fuzz.mk
 * makes every global of this object but fuzz_control_one local
 * (objcopy --keep-global-symbol), whatever control.c adds.  The feed's
 * answer functions are replaced by the recorder below. */
#define feed_respond fzc_respond
#define feed_respond_take fzc_respond_take
#define feed_respondf fzc_respondf
#define feed_respond_header fzc_respond_header

#include "../../src/svc/control.c"

#include "fuzz.h"

#define FZC_MAX_HEADERS 8

struct feed_response {
    int status;                   /* 0: no answer */
    char *body;
    size_t len;
    int nhdr;
    char hname[FZC_MAX_HEADERS][64];
    char hvalue[FZC_MAX_HEADERS][256];
};

int fzc_respond_take(struct feed_response *res, int status, const char *content_type,
                     char *body, size_t len)
{
    (void)content_type;
    free(res->body);
    res->status = status;
    res->body = body;
    res->len = len;
    return 0;
}

int fzc_respond(struct feed_response *res, int status, const char *content_type,
                const char *body, size_t len)
{
    char *b = malloc(len + 1);

    FZ_CHECK(b != NULL, "oom");
    memcpy(b, body, len);
    b[len] = '\0';
    return fzc_respond_take(res, status, content_type, b, len);
}

int fzc_respondf(struct feed_response *res, int status, const char *content_type,
                 const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    FZ_CHECK(n >= 0 && (size_t)n < sizeof(buf), "feed_respondf: too long");
    return fzc_respond(res, status, content_type, buf, (size_t)n);
}

int fzc_respond_header(struct feed_response *res, const char *name, const char *value)
{
    FZ_CHECK(res->nhdr < FZC_MAX_HEADERS, "more than %d headers", FZC_MAX_HEADERS);
    FZ_CHECK(strlen(name) < 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(name),
             "header name '%s'", name);
    FZ_CHECK_MSG("header value", value);
    snprintf(res->hname[res->nhdr], sizeof(res->hname[0]), "%s", name);
    snprintf(res->hvalue[res->nhdr], sizeof(res->hvalue[0]), "%s", value);
    res->nhdr++;
    return 0;
}

/* ---- the state the API works on ------------------------------------------ */

static size_t count_positions(market_t *m, engine_t *e)
{
    size_t n = 0;

    for (size_t i = 0; i < market_count(m); i++) {
        pindex_t *ix = engine_pindex(e, market_at(m, i));
        if (ix == NULL)
            continue;
        FZ_CHECK(pindex_check(ix) == 0, "%s: pindex_check", market_at(m, i)->key);
        n += pindex_count(ix, POS_LONG) + pindex_count(ix, POS_SHORT);
    }
    return n;
}

static enum feed_method method_of(const char *s)
{
    static const struct { const char *name; enum feed_method m; } t[] = {
        { "GET", FEED_METHOD_GET }, { "HEAD", FEED_METHOD_HEAD },
        { "POST", FEED_METHOD_POST }, { "PUT", FEED_METHOD_PUT },
        { "PATCH", FEED_METHOD_PATCH }, { "DELETE", FEED_METHOD_DELETE },
        { "OPTIONS", FEED_METHOD_OPTIONS },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(s, t[i].name) == 0)
            return t[i].m;
    return FEED_METHOD_OTHER;
}

static const char *json_str_member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)
               ? json_string_value(v) : NULL;
}

/* One request: text[0..n) is "METHOD /path?query\n[Content-Type: x\n]\nbody". */
static void request(control_t *c, market_t *m, engine_t *e, char *text, size_t n)
{
    char *nl = memchr(text, '\n', n), *line = text, *sp, *q, *ctype = "";
    char *body = (char *)"", *args[32];
    size_t body_len = 0, nargs = 0, before, after;
    struct feed_request rq;
    struct feed_response rs;
    char path[1024], method[16];
    json_error_t je;
    json_t *root;

    if (nl == NULL)
        nl = text + n;
    *nl = '\0';
    if ((sp = strchr(line, ' ')) == NULL)
        return;
    *sp = '\0';
    snprintf(method, sizeof(method), "%s", line);
    /* lws hands a path that starts with '/' */
    snprintf(path, sizeof(path), "%s%s", sp[1] == '/' ? "" : "/", sp + 1);
    if ((q = strchr(path, '?')) != NULL) {
        *q++ = '\0';
        for (char *a = strtok(q, "&"); a && nargs < 32; a = strtok(NULL, "&"))
            args[nargs++] = a;
    }
    if (nl < text + n) {
        char *h = nl + 1, *hn = memchr(h, '\n', (size_t)(text + n - h));
        if (hn && strncasecmp(h, "Content-Type: ", 14) == 0) {
            *hn = '\0';
            ctype = h + 14;
            h = hn + 1;
            hn = memchr(h, '\n', (size_t)(text + n - h));
        }
        if (hn && hn == h) {           /* the blank line, then the body */
            body = hn + 1;
            body_len = (size_t)(text + n - body);
        }
    }
    memset(&rq, 0, sizeof(rq));
    rq.method = method_of(method);
    rq.method_name = method;
    rq.path = path;
    rq.query = q ? q : "";
    rq.args = (const char *const *)args;
    rq.nargs = nargs;
    rq.content_type = ctype;
    rq.body = body;
    rq.body_len = body_len;
    rq.listener = "control";
    memset(&rs, 0, sizeof(rs));

    before = count_positions(m, e);
    ctl_handler(c, &rq, &rs);
    after = count_positions(m, e);

    FZ_CHECK(rs.status != 0, "%s %s: no answer", method, path);
    FZ_CHECK(rs.status == 200 || rs.status == 400 || rs.status == 404 || rs.status == 405 ||
                 rs.status == 409 || rs.status == 415,
             "%s %s: status %d: %.*s", method, path, rs.status, (int)rs.len, rs.body);
    root = json_loadb(rs.body, rs.len, 0, &je);
    FZ_CHECK(json_is_object(root), "%s %s: answer is not a JSON object (%s): %.*s", method, path,
             je.text, (int)rs.len, rs.body);
    if (rs.status != 200) {
        const char *err = json_str_member(root, "error"), *where = json_str_member(root, "where");
        FZ_CHECK(err && fz_text_ok(err, strlen(err)) && where && fz_text_ok(where, strlen(where)),
                 "%s %s: error answer without a one-line error/where: %.*s", method, path,
                 (int)rs.len, rs.body);
        FZ_CHECK(after == before, "%s %s: %d changed the positions (%zu -> %zu)", method, path,
                 rs.status, before, after);
        if (rs.status == 405)
            FZ_CHECK(rs.nhdr == 1 && strcmp(rs.hname[0], "Allow") == 0, "405 without Allow");
        /* each listed problem: one line too */
        json_t *pr = json_object_get(root, "problems");
        for (size_t i = 0; json_is_array(pr) && i < json_array_size(pr); i++) {
            const char *pe = json_str_member(json_array_get(pr, i), "error");
            FZ_CHECK(pe && fz_text_ok(pe, strlen(pe)), "problem %zu: not one line", i);
        }
    } else if (rq.method == FEED_METHOD_POST) {
        json_int_t rows = json_integer_value(json_object_get(root, "rows"));
        json_int_t added = json_integer_value(json_object_get(root, "added"));
        json_int_t replaced = json_integer_value(json_object_get(root, "replaced"));
        FZ_CHECK(rows >= 1 && rows == added + replaced, "POST: rows %lld, added %lld, replaced %lld",
                 (long long)rows, (long long)added, (long long)replaced);
        FZ_CHECK(after == before + (size_t)added, "POST: %zu -> %zu positions, added %lld", before,
                 after, (long long)added);
    } else if (rq.method == FEED_METHOD_DELETE) {
        FZ_CHECK(after + 1 == before, "DELETE: %zu -> %zu positions", before, after);
    } else {
        FZ_CHECK(after == before, "%s: changed the positions", method);
    }
    json_decref(root);
    free(rs.body);
}

void fuzz_control_one(const uint8_t *data, size_t size)
{
    static const struct book_level bids[] = { { 89990, 100000000 }, { 89900, 500000000 },
                                              { 85000, 2000000000 } };
    static const struct book_level asks[] = { { 90010, 100000000 }, { 90100, 500000000 },
                                              { 95000, 2000000000 } };
    const market_t *tm;
    struct control_deps d;
    struct engine_config ec;
    struct mkt_instr *btc;
    market_t *m;
    engine_t *e;
    control_t *c;
    lq_err_t err;
    char *text, *p, *end;

    fz_begin();
    tm = fz_instruments();
    m = market_create();
    FZ_CHECK(m != NULL, "oom");
    for (size_t i = 0; i < market_count(tm); i++)
        FZ_CHECK(market_add(m, market_at(tm, i)->venue, &market_at(tm, i)->spec, &err), "%s", err.msg);
    btc = market_find(m, VENUE_BINANCE, "BTCUSDT");
    FZ_CHECK(btc != NULL, "no binance-usdm BTCUSDT");
    FZ_CHECK(market_apply_snapshot(btc, bids, 3, asks, 3, 1) == BOOK_OK, "book");
    btc->mark = 90000;
    engine_config_default(&ec);
    e = engine_create(m, &ec, &err);
    FZ_CHECK(e != NULL, "engine_create: %s", err.msg);
    memset(&d, 0, sizeof(d));
    d.mkt = m;
    d.eng = e;
    d.started_ns = 1795573929000000000LL;
    d.alert_ring = 16;
    c = control_create(&d, &err);
    FZ_CHECK(c != NULL, "control_create: %s", err.msg);

    text = fz_strndup(data, size);
    for (p = text, end = text + size; p < end;) {
        char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
        char *re = sep ? sep : end;
        *re = '\0';
        request(c, m, e, p, (size_t)(re - p));
        p = sep ? sep + 4 : end;
    }
    free(text);
    control_destroy(c);
    engine_destroy(e);
    market_destroy(m);
}
