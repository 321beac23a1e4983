/*
 * feed.c - live venue connections: libwebsockets 4.1 clients on the
 * caller's libuv loop (feed.h).
 *
 * Objects and who owns them:
 *
 *   feed_t ── conns[h] ── struct fconn      one per logical connection,
 *   │                      │                 lives until feed_destroy; owns
 *   │                      │                 two uv timers (retry, watchdog)
 *   │                      ├── cur  ──┐
 *   │                      └── next ──┴── struct flink   one per websocket
 *   │                                        (one lws wsi); malloc'd by us
 *   ├── vslot[venue]   the venue_io binding: adapter, emit, rest base,
 *   │                  venue conn index -> handle
 *   └── reqs           in-flight HTTP GETs (struct freq)
 *
 * lws knows our objects only through the wsi's opaque user data.  When we
 * are done with a wsi we first clear that pointer ("detach"), then free
 * our object; whatever lws calls back for that wsi afterwards finds NULL
 * and is ignored.  So our memory never depends on lws' close ordering.
 * A wsi we abandon from outside its own callback is killed with
 * lws_set_timeout(LWS_TO_KILL_ASYNC); from inside, by returning -1.
 *
 * Re-entrancy: a user callback (on_frame, on_event) may call feed_send,
 * feed_reconnect or feed_stop, which may drop the very link being
 * serviced.  While a link is inside a user callback (l->in_cb) a drop
 * only marks it dead; the lws callback frees it after the user callback
 * returns and closes the wsi by returning -1.
 *
 * Time: the watchdog and backoff use the loop's monotonic clock
 * (uv_now, ms); frames are stamped with CLOCK_REALTIME ns (the capture
 * clock).
 *
 * Never blocks the loop, except inside lws_client_connect_via_info, where
 * lws 4.1 resolves the host name synchronously (platform-notes).
 */
#include <uv.h>
#include <libwebsockets.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/feed.h"
#include "liqmon/log.h"

#define MOD "feed"

#define FEED_VENUE_MAX_CONNS 8
#define FEED_TX_MAX_BYTES (1u << 20)   /* queued outgoing bytes per link */
#define FEED_TICK_MS 1000

/* ---- types ---------------------------------------------------------------- */

enum { OBJ_LINK = 0x4c4e4b31, OBJ_REQ = 0x52455131 };   /* "LNK1" "REQ1" */

struct furl {
    int tls;
    int port;
    char host[256];       /* without brackets */
    char hostport[272];   /* Host header: host or host:port */
    char path[1024];      /* path and query, starts with '/' */
};

struct txmsg {
    struct txmsg *next;
    size_t len;
    unsigned char buf[];  /* LWS_PRE headroom, then the payload */
};

struct fconn;

struct flink {
    int kind;                     /* OBJ_LINK */
    struct fconn *c;
    struct lws *wsi;              /* NULL once detached */
    int established;
    int healthy;                  /* delivered a complete message */
    int in_cb;                    /* inside a user callback */
    int dead;                     /* dropped while in_cb: free after it */
    uint64_t t_start;             /* uv_now at connect */
    uint64_t t_open;              /* uv_now at ESTABLISHED */
    uint64_t t_rx;                /* uv_now of the last message (or open) */
    char *rx;                     /* message being reassembled */
    size_t rx_len, rx_cap;
    struct txmsg *tx_head, *tx_tail;
    size_t tx_bytes;
};

struct fconn {
    feed_t *f;
    int h;
    char name[32];
    char venue[32];
    struct furl url;
    struct feed_conn_cb cb;
    struct flink *cur;            /* the connection (or its attempt) */
    struct flink *next;           /* planned replacement, or NULL */
    uv_timer_t retry_timer;       /* next connect attempt */
    uv_timer_t dog_timer;         /* watchdog + max-age check */
    unsigned attempts;            /* failures since data last flowed */
    unsigned replace_attempts;
    uint64_t replace_after;       /* uv_now before which no replacement */
    int up;                       /* a websocket is open */
    int healthy;                  /* data flowed since up */
    int down_said;                /* FEED_EV_DOWN emitted for a connection
                                     that never came up (said once, until
                                     it is healthy) */
    struct feed_conn_stats st;
    char last_error[160];
};

struct freq {
    int kind;                     /* OBJ_REQ */
    feed_t *f;
    struct freq *prev, *next;
    struct lws *wsi;
    char *url;                    /* as reported to on_body */
    feed_body_fn on_body;
    void *arg;
    int status;
    int too_big;
    char *buf;
    size_t len, cap;
};

struct vslot {
    feed_t *f;
    enum venue_id id;
    int bound;                    /* feed_venue_io was called */
    venue_t *v;                   /* attached adapter, borrowed */
    void (*emit)(void *arg, const struct mkt_event *ev);
    void *emit_arg;
    char rest_url[256];
    int h[FEED_VENUE_MAX_CONNS];  /* venue conn index -> feed handle */
    size_t nconn;
};

struct feed {
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct feed_config cfg;
    char ca_file[1024];
    struct fconn **conns;
    size_t nconns, capconns;
    struct freq *reqs;            /* in-flight GETs */
    struct vslot vslot[VENUE_COUNT];
    uv_timer_t tick_timer;
    uv_timer_t stop_timer;
    int tick_started;
    int stopping;                 /* feed_stop called */
    int ctx_destroy1;             /* first lws_context_destroy done */
    int handles_open;             /* uv handles not yet closed back */
    struct flink *connecting;     /* link inside lws_client_connect_via_info */
    int connecting_failed;
    struct freq *connecting_req;  /* the same for a GET */
    int connecting_req_failed;
    uint64_t rng;
};

/* ---- small helpers -------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rng_next(feed_t *f)
{
    /* xorshift64*: jitter only, no need for more */
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545F4914F6CDD1DULL;
}

static void set_error(struct fconn *c, const char *what, const char *detail)
{
    const char *parts[3] = { what, detail && *detail ? ": " : "",
                             detail ? detail : "" };
    size_t o = 0;

    /* "what: detail", truncated to fit */
    for (int k = 0; k < 3; k++)
        for (const char *p = parts[k]; *p && o + 1 < sizeof(c->last_error); p++)
            c->last_error[o++] = *p;
    c->last_error[o] = '\0';
}

/* Backoff before attempt n+1 after n consecutive failures: base doubles
 * from backoff_min_ms up to backoff_max_ms, then "equal jitter": half
 * fixed, half random, so reconnecting clients spread out. */
static uint64_t backoff_ms(feed_t *f, unsigned n)
{
    uint64_t base = (uint64_t)f->cfg.backoff_min_ms;
    uint64_t max = (uint64_t)f->cfg.backoff_max_ms;

    for (unsigned i = 0; i < n && base < max; i++)
        base *= 2;
    if (base > max)
        base = max;
    return base / 2 + rng_next(f) % (base / 2 + 1);
}

/* Parse scheme://host[:port][/path?query]; scheme one of ws, wss, http,
 * https (want_http picks the pair). */
static int url_parse(const char *url, int want_http, struct furl *u,
                     lq_err_t *err)
{
    const char *p, *hs, *he, *ps;
    size_t n;

    memset(u, 0, sizeof(*u));
    if (url == NULL)
        return lq_err_set(err, "no URL");
    if (!want_http && strncmp(url, "wss://", 6) == 0) {
        u->tls = 1; u->port = 443; p = url + 6;
    } else if (!want_http && strncmp(url, "ws://", 5) == 0) {
        u->port = 80; p = url + 5;
    } else if (want_http && strncmp(url, "https://", 8) == 0) {
        u->tls = 1; u->port = 443; p = url + 8;
    } else if (want_http && strncmp(url, "http://", 7) == 0) {
        u->port = 80; p = url + 7;
    } else {
        return lq_err_set(err, "%s: scheme must be %s", url,
                          want_http ? "http:// or https://" : "ws:// or wss://");
    }
    if (*p == '[') {                          /* [v6 literal] */
        hs = p + 1;
        he = strchr(hs, ']');
        if (he == NULL)
            return lq_err_set(err, "%s: unterminated '['", url);
        ps = he + 1;
    } else {
        hs = p;
        he = hs + strcspn(hs, ":/?#");
        ps = he;
    }
    n = (size_t)(he - hs);
    if (n == 0 || n >= sizeof(u->host))
        return lq_err_set(err, "%s: bad host", url);
    memcpy(u->host, hs, n);
    u->host[n] = '\0';
    if (*ps == ':') {
        char *end;
        long port;

        errno = 0;
        port = strtol(ps + 1, &end, 10);
        if (end == ps + 1 || errno != 0 || port <= 0 || port > 65535)
            return lq_err_set(err, "%s: bad port", url);
        u->port = (int)port;
        ps = end;
    }
    if (*ps != '\0' && *ps != '/' && *ps != '?')
        return lq_err_set(err, "%s: junk after host", url);
    if (*ps == '?')
        n = (size_t)snprintf(u->path, sizeof(u->path), "/%s", ps);
    else
        n = (size_t)snprintf(u->path, sizeof(u->path), "%s", *ps ? ps : "/");
    if (n >= sizeof(u->path))
        return lq_err_set(err, "%s: path too long", url);
    if ((u->tls && u->port == 443) || (!u->tls && u->port == 80))
        snprintf(u->hostport, sizeof(u->hostport), "%s", u->host);
    else if (strchr(u->host, ':'))
        snprintf(u->hostport, sizeof(u->hostport), "[%s]:%d", u->host, u->port);
    else
        snprintf(u->hostport, sizeof(u->hostport), "%s:%d", u->host, u->port);
    return 0;
}

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level & LLL_ERR ? LL_WARN : LL_INFO, "lws", "%.*s", (int)n, line);
}

static void handle_closed(uv_handle_t *h)
{
    feed_t *f = h->data;

    f->handles_open--;
}

static void close_handle(feed_t *f, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        h->data = f;
        uv_close(h, handle_closed);
    }
}

/* ---- links: one websocket each ------------------------------------------- */

static void link_free(struct flink *l)
{
    struct txmsg *m, *n;

    if (l == NULL)
        return;
    for (m = l->tx_head; m; m = n) {
        n = m->next;
        free(m);
    }
    free(l->rx);
    free(l);
}

/* Forget l's wsi: lws calls back nothing of ours for it any more.  kill:
 * also close it (when not inside its own callback). */
static void link_detach(struct flink *l, int kill)
{
    struct lws *wsi = l->wsi;

    l->wsi = NULL;
    if (wsi == NULL)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    if (kill)
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Free l unless it is inside a user callback (then the callback's caller
 * frees it). */
static void link_release(struct flink *l)
{
    if (l->in_cb)
        l->dead = 1;
    else
        link_free(l);
}

static void conn_emit(struct fconn *c, struct flink *l, enum feed_conn_event ev,
                      const char *reason)
{
    if (c->cb.on_event == NULL || c->f->stopping)
        return;
    if (l)
        l->in_cb++;
    c->cb.on_event(c->cb.arg, c->h, ev, reason, now_ns());
    if (l)
        l->in_cb--;
}

static void retry_cb(uv_timer_t *t);

static void conn_schedule_retry(struct fconn *c, uint64_t delay_ms)
{
    if (c->f->stopping)
        return;
    uv_timer_start(&c->retry_timer, retry_cb, delay_ms, 0);
}

/* l is gone (closed, failed, dropped): update c and schedule what comes
 * next.  kill: close the wsi too (we are not inside its callback).
 * stale: the watchdog dropped it. */
static void link_lost(struct flink *l, const char *why, const char *detail,
                      int kill)
{
    struct fconn *c = l->c;
    feed_t *f = c->f;
    int was_open = l->established;

    link_detach(l, kill);
    set_error(c, why, detail);

    if (l == c->next) {
        /* the replacement failed: the current one goes on; try again
         * later */
        c->next = NULL;
        link_release(l);
        c->replace_after = uv_now(f->loop) + backoff_ms(f, c->replace_attempts++);
        log_msg(LL_WARN, MOD, "%s: replacement connection lost (%s)", c->name,
                c->last_error);
        return;
    }
    if (l != c->cur) {
        log_msg(LL_ERROR, MOD, "%s: lost a link it does not own", c->name);
        link_release(l);
        return;
    }
    c->cur = NULL;
    link_release(l);
    if (!was_open)
        c->st.failures++;

    if (c->next) {
        /* promote the replacement, open or not */
        c->cur = c->next;
        c->next = NULL;
        if (c->cur->established) {
            log_msg(LL_INFO, MOD, "%s: lost (%s); the replacement takes over",
                    c->name, c->last_error);
            return;
        }
    }
    if (c->up) {
        c->up = 0;
        c->healthy = 0;
        c->st.connected = 0;
        c->st.healthy = 0;
        c->st.disconnects++;
        log_msg(LL_WARN, MOD, "%s: disconnected (%s)", c->name, c->last_error);
        c->down_said = 1;
        conn_emit(c, NULL, FEED_EV_DOWN, c->last_error);
    } else if (!was_open) {
        log_msg(LL_INFO, MOD, "%s: connect failed (%s)", c->name,
                c->last_error);
        /* A feed that never comes up is down too (alert-rules.md,
         * feed_down): say so once, not on every retry. */
        if (!c->down_said) {
            c->down_said = 1;
            conn_emit(c, NULL, FEED_EV_DOWN, c->last_error);
        }
    }
    if (c->cur == NULL && !f->stopping)
        conn_schedule_retry(c, backoff_ms(f, c->attempts++));
}

static const lws_retry_bo_t no_validity_policy = {
    /* secs_since_valid_hangup == 0: lws' own ping/pong hang-up is off.
     * A PONG is its only proof of life, so a healthy stream from a server
     * slow to answer PINGs would be hung up; our watchdog judges by
     * messages instead (platform-notes). */
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* Start a websocket for c (as cur or as next).  0, or -1 (failed at once;
 * nothing left allocated). */
static int link_start(struct fconn *c, int as_next)
{
    feed_t *f = c->f;
    struct lws_client_connect_info i;
    struct flink *l;
    struct lws *wsi;

    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        set_error(c, "out of memory", NULL);
        return -1;
    }
    l->kind = OBJ_LINK;
    l->c = c;
    l->t_start = uv_now(f->loop);

    memset(&i, 0, sizeof(i));
    i.context = f->ctx;
    i.address = c->url.host;
    i.port = c->url.port;
    i.ssl_connection = c->url.tls ? LCCSCF_USE_SSL : 0;  /* verify: always */
    i.path = c->url.path;
    i.host = c->url.hostport;
    i.origin = c->url.host;
    i.protocol = NULL;                                   /* no subprotocol */
    i.local_protocol_name = "liqmon-feed";
    i.opaque_user_data = l;
    i.retry_and_idle_policy = &no_validity_policy;

    /* lws may call CLIENT_CONNECTION_ERROR for this wsi before returning
     * NULL: the callback sees f->connecting and leaves l to us. */
    f->connecting = l;
    f->connecting_failed = 0;
    wsi = lws_client_connect_via_info(&i);
    f->connecting = NULL;
    if (wsi == NULL || f->connecting_failed) {
        if (!f->connecting_failed)
            set_error(c, "connect failed", c->url.host);
        link_free(l);
        return -1;
    }
    l->wsi = wsi;
    if (as_next)
        c->next = l;
    else
        c->cur = l;
    return 0;
}

static void retry_cb(uv_timer_t *t)
{
    struct fconn *c = t->data;
    feed_t *f = c->f;

    if (f->stopping || c->cur != NULL)
        return;
    if (link_start(c, 0) != 0) {
        c->st.failures++;
        log_msg(LL_WARN, MOD, "%s: %s", c->name, c->last_error);
        conn_schedule_retry(c, backoff_ms(f, c->attempts++));
    }
}

/* Watchdog: runs every stale_ms/4 (10 ms .. 1 s). */
static void dog_cb(uv_timer_t *t)
{
    struct fconn *c = t->data;
    feed_t *f = c->f;
    uint64_t now = uv_now(f->loop);
    uint64_t stale = (uint64_t)f->cfg.stale_ms;
    struct flink *ls[2];

    if (f->stopping)
        return;
    ls[0] = c->next;    /* the replacement first: dropping cur may promote */
    ls[1] = c->cur;
    for (int k = 0; k < 2; k++) {
        struct flink *l = ls[k];

        if (l == NULL || (l != c->cur && l != c->next))
            continue;
        if (!l->established) {
            if (now - l->t_start >= stale)
                link_lost(l, "connect timeout", NULL, 1);
        } else if (now - l->t_rx >= stale) {
            c->st.stale++;
            log_msg(LL_WARN, MOD, "%s: stale: no message for %" PRIu64 " ms",
                    c->name, now - l->t_rx);
            conn_emit(c, l, FEED_EV_STALE, "no message");
            if (l->dead)            /* dropped by the callback */
                link_free(l);
            else if (!f->stopping)
                link_lost(l, "stale", NULL, 1);
            if (f->stopping)
                return;
        }
    }
    /* planned replacement, make-before-break */
    if (f->cfg.max_age_s > 0 && c->cur && c->cur->established && !c->next &&
        now - c->cur->t_open >= (uint64_t)f->cfg.max_age_s * 1000 &&
        now >= c->replace_after && !f->stopping) {
        log_msg(LL_INFO, MOD, "%s: connection %d s old: opening its replacement",
                c->name, f->cfg.max_age_s);
        if (link_start(c, 1) != 0)
            c->replace_after = now + backoff_ms(f, c->replace_attempts++);
    }
}

/* The message in l->rx is complete. */
static void link_deliver(struct flink *l)
{
    struct fconn *c = l->c;
    feed_t *f = c->f;
    int64_t ts = now_ns();

    l->t_rx = uv_now(f->loop);
    c->st.frames++;
    c->st.bytes += l->rx_len;
    c->st.last_frame_ts = ts;
    if (!l->healthy) {
        l->healthy = 1;
        c->attempts = 0;                      /* data flowed: reset backoff */
        if (l == c->next) {
            /* the replacement delivers: retire the old connection */
            struct flink *old = c->cur;

            c->cur = l;
            c->next = NULL;
            c->replace_attempts = 0;
            c->st.replacements++;
            if (old) {
                link_detach(old, 1);
                link_release(old);
            }
            log_msg(LL_INFO, MOD, "%s: replacement delivers; old connection closed",
                    c->name);
        }
        if (!c->healthy && l == c->cur) {
            c->healthy = 1;
            c->down_said = 0;
            c->st.healthy = 1;
            conn_emit(c, l, FEED_EV_HEALTHY, NULL);
            if (l->dead)
                return;
        }
    }
    if (c->cb.on_frame && !f->stopping) {
        l->in_cb++;
        c->cb.on_frame(c->cb.arg, c->h, l->rx, l->rx_len, ts);
        l->in_cb--;
    }
    l->rx_len = 0;
}

/* Append a received chunk; deliver when the message is complete.  0, or
 * -1: the link was dropped (the wsi must be closed). */
static int link_rx(struct flink *l, struct lws *wsi, const void *in, size_t len)
{
    struct fconn *c = l->c;
    size_t max = c->f->cfg.max_message;

    if (l->rx_len + len > max) {
        c->st.oversized++;
        log_msg(LL_WARN, MOD, "%s: message over %zu bytes: dropped, reconnecting",
                c->name, max);
        link_lost(l, "oversized message", NULL, 0);
        return -1;
    }
    if (l->rx_len + len + 1 > l->rx_cap) {
        size_t want = l->rx_cap ? l->rx_cap : 4096;
        char *nb;

        while (want < l->rx_len + len + 1)
            want *= 2;
        if (want > max + 1)
            want = max + 1;
        nb = realloc(l->rx, want);
        if (nb == NULL) {
            link_lost(l, "out of memory", NULL, 0);
            return -1;
        }
        l->rx = nb;
        l->rx_cap = want;
    }
    if (len > 0)
        memcpy(l->rx + l->rx_len, in, len);
    l->rx_len += len;
    l->rx[l->rx_len] = '\0';
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
        return 0;
    link_deliver(l);
    if (l->dead) {
        link_free(l);
        return -1;
    }
    return 0;
}

static int link_writeable(struct flink *l, struct lws *wsi)
{
    struct txmsg *m = l->tx_head;
    int n;

    if (m == NULL)
        return 0;
    l->tx_head = m->next;
    if (l->tx_head == NULL)
        l->tx_tail = NULL;
    l->tx_bytes -= m->len;
    n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (n < 0) {
        link_lost(l, "write failed", NULL, 0);
        return -1;
    }
    /* lws buffers a partial send itself; the next WRITEABLE comes after
     * it drained.  One write per callback. */
    if (l->tx_head)
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---- HTTP GET ------------------------------------------------------------ */

static void req_unlink(struct freq *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->f->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void req_free(struct freq *r)
{
    free(r->url);
    free(r->buf);
    free(r);
}

/* Deliver the result once, forget the wsi, free r. */
static void req_finish(struct freq *r, int ok)
{
    feed_t *f = r->f;
    int64_t ts = now_ns();

    if (f->connecting_req == r) {
        /* inside lws_client_connect_via_info: http_start cleans up */
        if (r->wsi)
            lws_set_opaque_user_data(r->wsi, NULL);
        r->wsi = NULL;
        f->connecting_req_failed = 1;
        return;
    }
    if (r->wsi) {
        lws_set_opaque_user_data(r->wsi, NULL);
        r->wsi = NULL;
    }
    req_unlink(r);
    if (!f->stopping && r->on_body) {
        if (ok && !r->too_big)
            r->on_body(r->arg, r->url, r->status, r->buf ? r->buf : "", r->len, ts);
        else
            r->on_body(r->arg, r->url, 0, NULL, 0, ts);
    }
    req_free(r);
}

static int req_append(struct freq *r, const void *in, size_t len)
{
    size_t max = r->f->cfg.max_message;

    if (r->too_big)
        return 0;
    if (r->len + len > max) {
        log_msg(LL_WARN, MOD, "GET %s: body over %zu bytes", r->url, max);
        r->too_big = 1;
        return -1;
    }
    if (r->len + len + 1 > r->cap) {
        size_t want = r->cap ? r->cap : 4096;
        char *nb;

        while (want < r->len + len + 1)
            want *= 2;
        nb = realloc(r->buf, want);
        if (nb == NULL) {
            r->too_big = 1;
            return -1;
        }
        r->buf = nb;
        r->cap = want;
    }
    memcpy(r->buf + r->len, in, len);
    r->len += len;
    r->buf[r->len] = '\0';
    return 0;
}

static int http_start(feed_t *f, const char *url, const char *report_url,
                      feed_body_fn on_body, void *arg, lq_err_t *err)
{
    struct lws_client_connect_info i;
    struct furl u;
    struct freq *r = NULL;
    struct lws *wsi;

    if (f->stopping)
        return lq_err_set(err, "feed stopping");
    if (url_parse(url, 1, &u, err) != 0)
        return -1;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto nomem;
    r->kind = OBJ_REQ;
    r->f = f;
    r->on_body = on_body;
    r->arg = arg;
    r->url = strdup(report_url);
    if (r->url == NULL)
        goto nomem;

    memset(&i, 0, sizeof(i));
    i.context = f->ctx;
    i.address = u.host;
    i.port = u.port;
    i.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
    i.path = u.path;
    i.host = u.hostport;
    i.origin = u.host;
    i.method = "GET";
    i.alpn = "http/1.1";
    i.protocol = NULL;
    i.local_protocol_name = "liqmon-feed";
    i.opaque_user_data = r;

    /* lws may call CONNECTION_ERROR for this wsi before returning NULL:
     * req_finish sees connecting_req and leaves r to us */
    r->next = f->reqs;
    if (f->reqs)
        f->reqs->prev = r;
    f->reqs = r;
    f->connecting_req = r;
    f->connecting_req_failed = 0;
    wsi = lws_client_connect_via_info(&i);
    f->connecting_req = NULL;
    if (wsi == NULL || f->connecting_req_failed) {
        if (wsi != NULL)
            lws_set_opaque_user_data(wsi, NULL);
        req_unlink(r);
        req_free(r);
        return lq_err_set(err, "GET %s: connect failed", url);
    }
    r->wsi = wsi;
    return 0;
nomem:
    if (r)
        req_free(r);
    return lq_err_set(err, "out of memory");
}

int feed_http_get(feed_t *f, const char *url, feed_body_fn on_body, void *arg,
                  lq_err_t *err)
{
    return http_start(f, url, url, on_body, arg, err);
}

static int req_callback(struct freq *r, struct lws *wsi,
                        enum lws_callback_reasons reason, void *in, size_t len)
{
    r->wsi = wsi;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        r->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        /* a piece of the body, chunked framing removed */
        if (req_append(r, in, len) != 0) {
            req_finish(r, 0);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 16384];
        char *p = buf + LWS_PRE;
        int n = (int)sizeof(buf) - LWS_PRE;

        /* drain what arrived; calls RECEIVE_CLIENT_HTTP_READ (which may
         * finish r and close: then opaque is NULL and lws returns < 0) */
        if (lws_http_client_read(wsi, &p, &n) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        req_finish(r, 1);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        log_msg(LL_WARN, MOD, "GET %s: %s", r->url, in ? (const char *)in : "error");
        req_finish(r, 0);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        req_finish(r, 0);           /* closed before COMPLETED */
        return 0;
    default:
        return 0;
    }
}

/* ---- the one lws protocol callback ---------------------------------------- */

static int feed_lws_cb(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    void *obj = lws_get_opaque_user_data(wsi);
    struct flink *l;
    struct fconn *c;

    if (obj == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (*(int *)obj == OBJ_REQ) {
        int rc = req_callback(obj, wsi, reason, in, len);

        return rc;
    }
    l = obj;
    c = l->c;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c->f->connecting == l) {
            /* inside lws_client_connect_via_info: link_start cleans up */
            lws_set_opaque_user_data(wsi, NULL);
            c->f->connecting_failed = 1;
            set_error(c, "connect failed", in ? (const char *)in : NULL);
            return 0;
        }
        link_lost(l, "connect failed", in ? (const char *)in : NULL, 0);
        return 0;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        l->wsi = wsi;
        l->established = 1;
        l->t_open = l->t_rx = uv_now(c->f->loop);
        c->st.connects++;
        c->st.connected = 1;
        c->last_error[0] = '\0';
        if (!c->up)
            c->up = 1;
        log_msg(LL_INFO, MOD, "%s: connected to %s%s", c->name,
                c->url.hostport, l == c->next ? " (replacement)" : "");
        conn_emit(c, l, FEED_EV_OPEN, l == c->next ? "replacement" : NULL);
        if (l->dead) {
            link_free(l);
            return -1;
        }
        if (l->tx_head)
            lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        return link_rx(l, wsi, in, len);

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return link_writeable(l, wsi);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *b = in;
            char why[64];

            snprintf(why, sizeof(why), "peer closed, code %u",
                     (unsigned)(b[0] << 8 | b[1]));
            set_error(c, why, NULL);
        }
        return 0;      /* lws answers the close, then CLIENT_CLOSED */

    case LWS_CALLBACK_CLIENT_CLOSED: {
        char why[sizeof(c->last_error)];

        snprintf(why, sizeof(why), "%s", c->last_error[0] ? c->last_error : "closed");
        link_lost(l, why, NULL, 0);
        return 0;
    }

    case LWS_CALLBACK_WSI_DESTROY:
        link_lost(l, "closed", NULL, 0);
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols feed_protocols[] = {
    { "liqmon-feed", feed_lws_cb, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- create / stop / destroy ---------------------------------------------- */

void feed_config_default(struct feed_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_message = 4u << 20;
    cfg->stale_ms = 30000;
    cfg->backoff_min_ms = 250;
    cfg->backoff_max_ms = 30000;
    cfg->max_age_s = 23 * 3600;
}

static void tick_cb(uv_timer_t *t)
{
    feed_t *f = t->data;
    int64_t now = now_ns();

    if (f->stopping)
        return;
    for (int i = 0; i < VENUE_COUNT; i++)
        if (f->vslot[i].v)
            venue_tick(f->vslot[i].v, now);
}

feed_t *feed_create(uv_loop_t *loop, const struct feed_config *cfg,
                    lq_err_t *err)
{
    struct lws_context_creation_info info;
    void *loops[1];
    feed_t *f = NULL;

    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        lq_err_set(err, "out of memory");
        return NULL;
    }
    f->loop = loop;
    if (cfg)
        f->cfg = *cfg;
    else
        feed_config_default(&f->cfg);
    if (f->cfg.max_message == 0)
        f->cfg.max_message = 4u << 20;
    if (f->cfg.stale_ms <= 0)
        f->cfg.stale_ms = 30000;
    if (f->cfg.backoff_min_ms <= 0)
        f->cfg.backoff_min_ms = 250;
    if (f->cfg.backoff_max_ms < f->cfg.backoff_min_ms)
        f->cfg.backoff_max_ms = f->cfg.backoff_min_ms;
    if (f->cfg.ca_file) {
        if (snprintf(f->ca_file, sizeof(f->ca_file), "%s", f->cfg.ca_file) >=
            (int)sizeof(f->ca_file)) {
            lq_err_set(err, "ca_file: path too long");
            goto fail;
        }
        f->cfg.ca_file = f->ca_file;
    }
    f->rng = (uint64_t)now_ns() ^ (uint64_t)(uintptr_t)f ^ 0x9E3779B97F4A7C15ULL;
    if (f->rng == 0)
        f->rng = 1;
    for (int i = 0; i < VENUE_COUNT; i++) {
        f->vslot[i].f = f;
        f->vslot[i].id = (enum venue_id)i;
    }

    /* lws logs errors and warnings only, through our log */
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);

    memset(&info, 0, sizeof(info));
    loops[0] = loop;
    info.foreign_loops = loops;      /* only read during create */
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = feed_protocols;
    info.client_ssl_ca_filepath = f->cfg.ca_file;  /* added to the system store */
    info.user = f;
    f->ctx = lws_create_context(&info);
    if (f->ctx == NULL) {
        lq_err_set(err, "lws_create_context failed (is the libuv event-lib "
                        "plugin libwebsockets-evlib-uv installed?%s)",
                   f->cfg.ca_file ? " is ca_file readable PEM?" : "");
        goto fail;
    }
    uv_timer_init(loop, &f->tick_timer);
    uv_timer_init(loop, &f->stop_timer);
    f->tick_timer.data = f;
    f->stop_timer.data = f;
    f->handles_open += 2;
    return f;
fail:
    free(f);
    return NULL;
}

static void stop_cb(uv_timer_t *t)
{
    feed_t *f = t->data;

    close_handle(f, (uv_handle_t *)&f->stop_timer);
    if (!f->ctx_destroy1) {
        f->ctx_destroy1 = 1;
        /* first step: lws closes its wsi and uv handles; uv_run returns
         * once they (and ours) are closed */
        lws_context_destroy(f->ctx);
    }
}

void feed_stop(feed_t *f)
{
    if (f == NULL || f->stopping)
        return;
    f->stopping = 1;

    /* our timers first: nothing may reconnect behind our back */
    uv_timer_stop(&f->tick_timer);
    close_handle(f, (uv_handle_t *)&f->tick_timer);
    for (size_t i = 0; i < f->nconns; i++) {
        struct fconn *c = f->conns[i];

        uv_timer_stop(&c->retry_timer);
        uv_timer_stop(&c->dog_timer);
        close_handle(f, (uv_handle_t *)&c->retry_timer);
        close_handle(f, (uv_handle_t *)&c->dog_timer);
        /* forget the websockets: lws_context_destroy closes them */
        if (c->next) {
            link_detach(c->next, 0);
            link_release(c->next);
            c->next = NULL;
        }
        if (c->cur) {
            link_detach(c->cur, 0);
            link_release(c->cur);
            c->cur = NULL;
        }
        c->up = c->healthy = 0;
        c->st.connected = c->st.healthy = 0;
    }
    while (f->reqs) {
        struct freq *r = f->reqs;

        if (r->wsi)
            lws_set_opaque_user_data(r->wsi, NULL);
        req_unlink(r);
        req_free(r);
    }
    /* lws_context_destroy must not run inside an lws callback (we may be
     * in one): do it from a timer */
    uv_timer_start(&f->stop_timer, stop_cb, 0, 0);
}

void feed_destroy(feed_t *f)
{
    if (f == NULL)
        return;
    if (!f->stopping || f->handles_open != 0) {
        /* the loop still points into f: leaking beats a use after free */
        log_msg(LL_ERROR, MOD, "feed_destroy before feed_stop + uv_run "
                "(%d handles open): leaking the feed", f->handles_open);
        return;
    }
    /* second step: frees the context (platform-notes: with one call about
     * 1 MB stays allocated) */
    lws_context_destroy(f->ctx);
    f->ctx = NULL;
    for (size_t i = 0; i < f->nconns; i++)
        free(f->conns[i]);
    free(f->conns);
    free(f);
}

/* ---- connections ------------------------------------------------------------ */

int feed_open(feed_t *f, const char *url, const char *name, const char *venue,
              const struct feed_conn_cb *cb, lq_err_t *err)
{
    struct fconn *c = NULL;
    uint64_t period;

    if (f->stopping)
        return lq_err_set(err, "feed stopping");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return lq_err_set(err, "out of memory");
    if (url_parse(url, 0, &c->url, err) != 0) {
        free(c);
        return -1;
    }
    if (f->nconns == f->capconns) {
        size_t want = f->capconns ? f->capconns * 2 : 8;
        struct fconn **nc = realloc(f->conns, want * sizeof(*nc));

        if (nc == NULL) {
            free(c);
            return lq_err_set(err, "out of memory");
        }
        f->conns = nc;
        f->capconns = want;
    }
    c->f = f;
    c->h = (int)f->nconns;
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "conn");
    snprintf(c->venue, sizeof(c->venue), "%s", venue ? venue : "");
    if (cb)
        c->cb = *cb;
    c->st.venue = c->venue;
    c->st.name = c->name;
    c->st.last_error = c->last_error;
    f->conns[f->nconns++] = c;

    uv_timer_init(f->loop, &c->retry_timer);
    uv_timer_init(f->loop, &c->dog_timer);
    c->retry_timer.data = c;
    c->dog_timer.data = c;
    f->handles_open += 2;
    period = (uint64_t)f->cfg.stale_ms / 4;
    if (period < 10)
        period = 10;
    if (period > 1000)
        period = 1000;
    uv_timer_start(&c->dog_timer, dog_cb, period, period);
    uv_timer_start(&c->retry_timer, retry_cb, 0, 0);   /* connect now */
    return c->h;
}

static struct fconn *conn_get(feed_t *f, int h)
{
    if (f == NULL || h < 0 || (size_t)h >= f->nconns)
        return NULL;
    return f->conns[h];
}

int feed_send(feed_t *f, int h, const char *text, size_t len)
{
    struct fconn *c = conn_get(f, h);
    struct flink *l;
    struct txmsg *m;

    if (c == NULL || f->stopping)
        return -1;
    /* the newest open websocket: a replacement that just opened gets the
     * subscriptions its on-open callback sends */
    l = c->next && c->next->established ? c->next : c->cur;
    if (l == NULL || !l->established || l->dead || l->wsi == NULL)
        return -1;
    if (l->tx_bytes + len > FEED_TX_MAX_BYTES) {
        log_msg(LL_WARN, MOD, "%s: send queue full: message dropped", c->name);
        return -1;
    }
    m = malloc(sizeof(*m) + LWS_PRE + len);
    if (m == NULL)
        return -1;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (l->tx_tail)
        l->tx_tail->next = m;
    else
        l->tx_head = m;
    l->tx_tail = m;
    l->tx_bytes += len;
    lws_callback_on_writable(l->wsi);
    return 0;
}

int feed_reconnect(feed_t *f, int h, const char *why)
{
    struct fconn *c = conn_get(f, h);
    char reason[96];

    if (c == NULL || f->stopping)
        return -1;
    snprintf(reason, sizeof(reason), "reconnect: %s", why ? why : "asked");
    log_msg(LL_INFO, MOD, "%s: %s", c->name, reason);
    if (c->next)
        link_lost(c->next, reason, NULL, 1);
    if (c->cur)
        link_lost(c->cur, reason, NULL, 1);
    else if (!f->stopping)
        /* between attempts: try now rather than after the backoff */
        conn_schedule_retry(c, 0);
    return 0;
}

size_t feed_get_stats(const feed_t *f, struct feed_conn_stats *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < f->nconns && n < max; i++)
        out[n++] = f->conns[i]->st;
    return n;
}

/* ---- venue attachment -------------------------------------------------------- */

static void vslot_emit(struct vslot *s, struct fconn *c, enum mev_feed_kind k,
                       const char *reason, int64_t now)
{
    struct mkt_event ev;

    if (s->emit == NULL)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_FEED;
    ev.venue = s->id;
    ev.instr = NULL;
    ev.recv_ts = now;
    ev.u.feed.kind = k;
    ev.u.feed.conn = c->name;
    ev.u.feed.reason = reason;
    s->emit(s->emit_arg, &ev);
}

static int vslot_conn_index(const struct vslot *s, int h)
{
    for (size_t i = 0; i < s->nconn; i++)
        if (s->h[i] == h)
            return (int)i;
    return -1;
}

static void venue_frame_cb(void *arg, int h, const char *data, size_t len,
                           int64_t now)
{
    struct vslot *s = arg;
    int conn = vslot_conn_index(s, h);
    struct fconn *c = conn_get(s->f, h);

    if (s->f->cfg.recorder)
        capture_writer_submit(s->f->cfg.recorder, now, s->id, FRAME_WS,
                              c ? c->name : NULL, NULL, data, len);
    venue_on_frame(s->v, conn, FRAME_WS, NULL, data, len, now);
}

static void venue_event_cb(void *arg, int h, enum feed_conn_event ev,
                           const char *reason, int64_t now)
{
    struct vslot *s = arg;
    int conn = vslot_conn_index(s, h);
    struct fconn *c = conn_get(s->f, h);

    switch (ev) {
    case FEED_EV_OPEN:
        venue_on_open(s->v, conn, now);
        break;
    case FEED_EV_HEALTHY:
        vslot_emit(s, c, FEED_CONNECTED, reason, now);
        break;
    case FEED_EV_STALE:
        vslot_emit(s, c, FEED_STALE, reason, now);
        break;
    case FEED_EV_DOWN:
        venue_on_close(s->v, conn, now);
        vslot_emit(s, c, FEED_DISCONNECTED, reason, now);
        break;
    }
}

static void vio_emit(void *arg, const struct mkt_event *ev)
{
    struct vslot *s = arg;

    if (s->emit)
        s->emit(s->emit_arg, ev);
}

static int vio_send(void *arg, int conn, const char *text, size_t len)
{
    struct vslot *s = arg;

    if (s->v == NULL || conn < 0 || (size_t)conn >= s->nconn)
        return -1;
    return feed_send(s->f, s->h[conn], text, len);
}

static int vio_reconnect(void *arg, int conn, const char *why)
{
    struct vslot *s = arg;

    if (s->v == NULL || conn < 0 || (size_t)conn >= s->nconn)
        return -1;
    return feed_reconnect(s->f, s->h[conn], why);
}

static void venue_body_cb(void *arg, const char *url, int status,
                          const char *body, size_t len, int64_t now)
{
    struct vslot *s = arg;

    if (s->v == NULL)
        return;
    if (status < 200 || status > 299) {
        if (status == 0)
            log_msg(LL_WARN, MOD, "%s: GET %s failed", venue_name(s->id), url);
        else
            log_msg(LL_WARN, MOD, "%s: GET %s: HTTP %d: %.*s", venue_name(s->id),
                    url, status, len > 200 ? 200 : (int)len, body ? body : "");
        return;         /* the adapter retries from venue_tick */
    }
    if (s->f->cfg.recorder)
        capture_writer_submit(s->f->cfg.recorder, now, s->id, FRAME_REST, NULL,
                              url, body, len);
    venue_on_frame(s->v, -1, FRAME_REST, url, body, len, now);
}

static int vio_http_get(void *arg, const char *path)
{
    struct vslot *s = arg;
    char url[2048];
    lq_err_t err;

    if (path == NULL)
        return -1;
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
        snprintf(url, sizeof(url), "%s", path);
    } else {
        if (s->rest_url[0] == '\0') {
            log_msg(LL_WARN, MOD, "%s: GET %s: no REST base URL "
                    "(feed_set_rest_url)", venue_name(s->id), path);
            return -1;
        }
        if (snprintf(url, sizeof(url), "%s%s%s", s->rest_url,
                     path[0] == '/' ? "" : "/", path) >= (int)sizeof(url))
            return -1;
    }
    if (http_start(s->f, url, path, venue_body_cb, s, &err) != 0) {
        log_msg(LL_WARN, MOD, "%s: %s", venue_name(s->id), err.msg);
        return -1;
    }
    return 0;
}

struct venue_io feed_venue_io(feed_t *f, enum venue_id id,
                              void (*emit)(void *arg, const struct mkt_event *ev),
                              void *arg)
{
    struct venue_io io;

    memset(&io, 0, sizeof(io));
    if (f == NULL || (unsigned)id >= VENUE_COUNT)
        return io;
    f->vslot[id].bound = 1;
    f->vslot[id].emit = emit;
    f->vslot[id].emit_arg = arg;
    /* one arg for all four callbacks: the slot; vio_emit passes events
     * on to emit(arg) */
    io.arg = &f->vslot[id];
    io.emit = vio_emit;
    io.send = vio_send;
    io.http_get = vio_http_get;
    io.reconnect = vio_reconnect;
    return io;
}

int feed_set_rest_url(feed_t *f, enum venue_id id, const char *rest_url,
                      lq_err_t *err)
{
    struct furl u;
    size_t n;

    if ((unsigned)id >= VENUE_COUNT)
        return lq_err_set(err, "unknown venue id %d", (int)id);
    if (rest_url == NULL || *rest_url == '\0') {
        f->vslot[id].rest_url[0] = '\0';
        return 0;
    }
    if (url_parse(rest_url, 1, &u, err) != 0)
        return -1;
    n = strlen(rest_url);
    while (n > 0 && rest_url[n - 1] == '/')
        n--;
    if (n >= sizeof(f->vslot[id].rest_url))
        return lq_err_set(err, "%s: too long", rest_url);
    memcpy(f->vslot[id].rest_url, rest_url, n);
    f->vslot[id].rest_url[n] = '\0';
    return 0;
}

int feed_attach(feed_t *f, venue_t *v, lq_err_t *err)
{
    enum venue_id id = venue_id_of(v);
    struct vslot *s;
    struct feed_conn_cb cb;
    size_t n = venue_conn_count(v);

    if ((unsigned)id >= VENUE_COUNT)
        return lq_err_set(err, "unknown venue id %d", (int)id);
    s = &f->vslot[id];
    if (!s->bound)
        return lq_err_set(err, "%s: adapter not created with feed_venue_io",
                          venue_name(id));
    if (s->v != NULL)
        return lq_err_set(err, "%s: already attached", venue_name(id));
    if (n > FEED_VENUE_MAX_CONNS)
        return lq_err_set(err, "%s: %zu connections (at most %d)",
                          venue_name(id), n, FEED_VENUE_MAX_CONNS);
    /* check every URL before opening any */
    for (size_t i = 0; i < n; i++) {
        struct furl u;

        if (url_parse(venue_conn_url(v, i), 0, &u, err) != 0) {
            lq_err_prefix(err, "%s: %s", venue_name(id), venue_conn_name(v, i));
            return -1;
        }
    }
    s->v = v;
    memset(&cb, 0, sizeof(cb));
    cb.on_frame = venue_frame_cb;
    cb.on_event = venue_event_cb;
    cb.arg = s;
    for (size_t i = 0; i < n; i++) {
        int h = feed_open(f, venue_conn_url(v, i), venue_conn_name(v, i),
                          venue_name(id), &cb, err);
        if (h < 0)      /* only out of memory: URLs were checked */
            return -1;
        s->h[i] = h;
        s->nconn = i + 1;
    }
    if (!f->tick_started) {
        f->tick_started = 1;
        uv_timer_start(&f->tick_timer, tick_cb, FEED_TICK_MS, FEED_TICK_MS);
    }
    return 0;
}
