/*
 * feed_link.c - websocket links: connect, reassemble, watch, reconnect,
 * replace (feed.h: feed_open, feed_send, feed_reconnect, feed_get_stats).
 *
 * Objects and who owns them:
 *
 *   feed_t ── conns[h] ── struct fconn      one per logical connection,
 *                          │                 lives until feed_destroy; owns
 *                          │                 two uv timers (retry, watchdog)
 *                          ├── cur  ──┐
 *                          └── next ──┴── struct flink   one per websocket
 *                                            (one lws wsi); malloc'd by us
 *
 * lws knows a link only through its wsi's opaque user data (feed_int.h):
 * to be done with a wsi we first clear that pointer ("detach"), then free
 * the link; whatever lws calls back for that wsi afterwards finds NULL and
 * is ignored, so our memory never depends on lws' close ordering.  A wsi
 * we abandon from outside its own callback is killed with
 * lws_set_timeout(LWS_TO_KILL_ASYNC); from inside, by returning -1.
 *
 * Re-entrancy: a user callback (on_frame, on_event) may call feed_send,
 * feed_reconnect or feed_stop, which may drop the very link being
 * serviced.  While a link is inside a user callback (l->in_cb) a drop
 * only marks it dead; the lws callback frees it after the user callback
 * returns and closes the wsi by returning -1.
 *
 * Health: every failed attempt and every drop is logged once with the
 * venue and connection, the host:port, the reason in words
 * (feed__describe_failure) and when the next attempt is; the backoff
 * doubles from backoff_min_ms to backoff_max_ms with equal jitter and
 * resets only once data flowed.  The watchdog (every stale_ms/4) drops a
 * link silent for stale_ms, and a link not open after stale_ms; a link
 * older than max_age_s gets a replacement, make-before-break.
 *
 * Time: the watchdog and backoff use the loop's monotonic clock (uv_now,
 * ms); frames are stamped with CLOCK_REALTIME ns (the capture clock).
 *
 * Never blocks the loop, except inside lws_client_connect_via_info, where
 * lws 4.1 resolves the host name synchronously (platform-notes).
 */
#include "feed_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"

#define MOD FEED__MOD

#define FEED_TX_MAX_BYTES (1u << 20)   /* queued outgoing bytes per link */

struct txmsg {
    struct txmsg *next;
    size_t len;
    unsigned char buf[];  /* LWS_PRE headroom, then the payload */
};

struct flink {
    struct feed__obj o;           /* kind FEED__OBJ_LINK; must be first */
    struct fconn *c;
    struct lws *wsi;              /* NULL once detached */
    int established;
    int healthy;                  /* delivered a complete message */
    int in_cb;                    /* inside a user callback */
    int dead;                     /* dropped while in_cb: free after it */
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
    char label[72];               /* "venue/name" (or "name") for the log */
    struct feed__url url;
    struct feed_conn_cb cb;
    struct flink *cur;            /* the connection (or its attempt) */
    struct flink *next;           /* planned replacement, or NULL */
    uv_timer_t retry_timer;       /* next connect attempt */
    uv_timer_t dog_timer;         /* watchdog + max-age check */
    unsigned attempts;            /* failures since data last flowed
                                     (the backoff's exponent) */
    unsigned tries;               /* attempts started since data last
                                     flowed (for the log) */
    unsigned replace_attempts;
    uint64_t replace_after;       /* uv_now before which no replacement */
    int up;                       /* a websocket is open */
    int healthy;                  /* data flowed since up */
    int down_said;                /* FEED_EV_DOWN emitted for a connection
                                     that never came up (said once, until
                                     it is healthy) */
    int closed;                   /* feed__link_close: gone for good */
    struct feed_conn_stats st;
    char last_error[160];
    char fail_reason[160];        /* why the attempt failed, in words */
};

/* ---- small helpers -------------------------------------------------------- */

static uint64_t rng_next(feed_t *f)
{
    /* xorshift64*: jitter only, no need for more */
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545F4914F6CDD1DULL;
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

/* The text lws passed with CONNECTION_ERROR (not always NUL-terminated
 * within len). */
static const char *lws_text(const void *in, size_t len, char *buf, size_t size)
{
    if (in == NULL)
        return NULL;
    if (len == 0)
        len = strnlen(in, size - 1);
    snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1),
             (const char *)in);
    return buf;
}

/* "; next attempt in 1.2 s (attempt 4)" */
static const char *next_text(struct fconn *c, int retry, uint64_t delay,
                             char *buf, size_t size)
{
    char d[32];

    if (retry)
        snprintf(buf, size, "; next attempt in %s (attempt %u)",
                 feed__fmt_delay(delay, d, sizeof(d)), c->tries + 1);
    else if (c->cur != NULL && !c->f->stopping)
        snprintf(buf, size, "; its replacement is connecting");
    else
        buf[0] = '\0';
    return buf;
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
    if (c->cb.on_event == NULL || c->f->stopping || c->closed)
        return;
    if (l)
        l->in_cb++;
    c->cb.on_event(c->cb.arg, c->h, ev, reason, feed__now_ns());
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

/* An attempt of a connection that is down failed (c->fail_reason says
 * why): count it, say so (with when the next attempt is), tell the user
 * once, try again after the backoff. */
static void conn_attempt_failed(struct fconn *c)
{
    feed_t *f = c->f;
    int retry = c->cur == NULL && !f->stopping;
    uint64_t delay = retry ? backoff_ms(f, c->attempts) : 0;
    char nt[96];

    c->st.failures++;
    log_msg(LL_WARN, MOD, "%s: connect to %s failed (%s)%s", c->label,
            c->url.target, c->fail_reason, next_text(c, retry, delay, nt, sizeof(nt)));
    if (retry)
        c->attempts++;
    /* A feed that never comes up is down too (alert-rules.md, feed_down):
     * say so once, not on every retry. */
    if (!c->down_said) {
        c->down_said = 1;
        conn_emit(c, NULL, FEED_EV_DOWN, c->last_error);
    }
    if (retry && c->cur == NULL && !f->stopping)
        conn_schedule_retry(c, delay);
}

/* l is gone (closed, failed, dropped): update c and schedule what comes
 * next.  kill: close the wsi too (we are not inside its callback).
 * why/detail: last_error; for a link that never opened, why is the
 * failure in words (fail_reason). */
static void link_lost(struct flink *l, const char *why, const char *detail,
                      int kill)
{
    struct fconn *c = l->c;
    feed_t *f = c->f;
    int was_open = l->established, retry;
    uint64_t delay;
    char nt[96], d[32];

    link_detach(l, kill);
    if (was_open) {
        set_error(c, why, detail);
    } else {
        snprintf(c->fail_reason, sizeof(c->fail_reason), "%s%s%s", why,
                 detail ? ": " : "", detail ? detail : "");
        set_error(c, "connect failed", c->fail_reason);
    }

    if (l == c->next) {
        /* the replacement failed: the current one goes on; try again
         * later */
        c->next = NULL;
        link_release(l);
        delay = backoff_ms(f, c->replace_attempts++);
        c->replace_after = uv_now(f->loop) + delay;
        log_msg(LL_WARN, MOD, "%s: replacement connection to %s lost (%s); the "
                "current one goes on, next replacement in %s", c->label,
                c->url.target, was_open ? c->last_error : c->fail_reason,
                feed__fmt_delay(delay, d, sizeof(d)));
        return;
    }
    if (l != c->cur) {
        log_msg(LL_ERROR, MOD, "%s: lost a link it does not own", c->label);
        link_release(l);
        return;
    }
    c->cur = NULL;
    link_release(l);

    if (c->next) {
        /* promote the replacement, open or not */
        c->cur = c->next;
        c->next = NULL;
        if (c->cur->established) {
            log_msg(LL_INFO, MOD, "%s: lost (%s); the replacement takes over",
                    c->label, c->last_error);
            return;
        }
    }
    if (c->up) {
        retry = c->cur == NULL && !f->stopping;
        delay = retry ? backoff_ms(f, c->attempts) : 0;
        c->up = 0;
        c->healthy = 0;
        c->st.connected = 0;
        c->st.healthy = 0;
        c->st.disconnects++;
        if (!was_open)
            c->st.failures++;
        log_msg(LL_WARN, MOD, "%s: disconnected from %s (%s)%s", c->label,
                c->url.target, c->last_error,
                next_text(c, retry, delay, nt, sizeof(nt)));
        if (retry)
            c->attempts++;
        c->down_said = 1;
        conn_emit(c, NULL, FEED_EV_DOWN, c->last_error);
        if (retry && c->cur == NULL && !f->stopping)
            conn_schedule_retry(c, delay);
    } else if (!was_open) {
        conn_attempt_failed(c);
    } else if (c->cur == NULL && !f->stopping) {
        conn_schedule_retry(c, backoff_ms(f, c->attempts++));
    }
}

static const lws_retry_bo_t no_validity_policy = {
    /* secs_since_valid_hangup == 0: lws' own ping/pong hang-up is off.
     * A PONG is its only proof of life, so a healthy stream from a server
     * slow to answer PINGs would be hung up; our watchdog judges by
     * messages instead (platform-notes). */
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* Start a websocket for c (as cur or as next).  0, or -1 (failed at once,
 * c->fail_reason says why; nothing left allocated). */
static int link_start(struct fconn *c, int as_next)
{
    feed_t *f = c->f;
    struct lws_client_connect_info i;
    struct flink *l;
    struct lws *wsi;

    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(c->fail_reason, sizeof(c->fail_reason), "out of memory");
        set_error(c, "out of memory", NULL);
        return -1;
    }
    l->o.kind = FEED__OBJ_LINK;
    l->o.t_start = uv_now(f->loop);
    l->c = c;

    memset(&i, 0, sizeof(i));
    i.context = f->ctx;
    i.vhost = f->client_vh;
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
    feed__dns_failed_take();
    wsi = lws_client_connect_via_info(&i);
    f->connecting = NULL;
    if (wsi == NULL || f->connecting_failed) {
        if (!f->connecting_failed) {
            snprintf(c->fail_reason, sizeof(c->fail_reason), "%s",
                     feed__dns_failed_take() ? "DNS resolution failed"
                                             : "lws could not start the connection");
            set_error(c, "connect failed", c->fail_reason);
        }
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
    c->tries++;
    if (link_start(c, 0) != 0)
        conn_attempt_failed(c);
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
            if (now - l->o.t_start >= stale) {
                char why[64];

                snprintf(why, sizeof(why), "timeout: not connected after %.1f s",
                         (double)(now - l->o.t_start) / 1000);
                link_lost(l, why, NULL, 1);
            }
        } else if (now - l->t_rx >= stale) {
            c->st.stale++;
            log_msg(LL_WARN, MOD, "%s: stale: no message from %s for %" PRIu64
                    " ms", c->label, c->url.target, now - l->t_rx);
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
                c->label, f->cfg.max_age_s);
        if (link_start(c, 1) != 0) {
            uint64_t delay = backoff_ms(f, c->replace_attempts++);
            char d[32];

            c->replace_after = now + delay;
            log_msg(LL_WARN, MOD, "%s: replacement connection to %s failed (%s); "
                    "the current one goes on, next replacement in %s", c->label,
                    c->url.target, c->fail_reason, feed__fmt_delay(delay, d, sizeof(d)));
        }
    }
}

/* The message in l->rx is complete. */
static void link_deliver(struct flink *l)
{
    struct fconn *c = l->c;
    feed_t *f = c->f;
    int64_t ts = feed__now_ns();

    l->t_rx = uv_now(f->loop);
    c->st.frames++;
    c->st.bytes += l->rx_len;
    c->st.last_frame_ts = ts;
    if (!l->healthy) {
        l->healthy = 1;
        c->attempts = 0;                      /* data flowed: reset backoff */
        c->tries = 0;
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
                    c->label);
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
    if (c->cb.on_frame && !f->stopping && !c->closed) {
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
                c->label, max);
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

int feed__link_callback(struct flink *l, struct lws *wsi,
                        enum lws_callback_reasons reason, void *in, size_t len)
{
    struct fconn *c = l->c;
    feed_t *f = c->f;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char txt[160], why[sizeof(c->fail_reason)];

        feed__describe_failure(f, &l->o, wsi, lws_text(in, len, txt, sizeof(txt)),
                               why, sizeof(why));
        if (f->connecting == l) {
            /* inside lws_client_connect_via_info: link_start cleans up */
            lws_set_opaque_user_data(wsi, NULL);
            f->connecting_failed = 1;
            snprintf(c->fail_reason, sizeof(c->fail_reason), "%s", why);
            set_error(c, "connect failed", why);
            return 0;
        }
        link_lost(l, why, NULL, 0);
        return 0;
    }

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        l->wsi = wsi;
        l->established = 1;
        l->t_open = l->t_rx = uv_now(f->loop);
        c->st.connects++;
        c->st.connected = 1;
        c->last_error[0] = '\0';
        if (!c->up)
            c->up = 1;
        log_msg(LL_INFO, MOD, "%s: connected to %s%s", c->label,
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
        return lws_callback_http_dummy(wsi, reason, NULL, in, len);
    }
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
    if (feed__url_parse(url, 0, &c->url, err) != 0) {
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
    if (c->venue[0])
        snprintf(c->label, sizeof(c->label), "%s/%s", c->venue, c->name);
    else
        snprintf(c->label, sizeof(c->label), "%s", c->name);
    if (cb)
        c->cb = *cb;
    c->st.venue = c->venue;
    c->st.name = c->name;
    c->st.last_error = c->last_error;
    f->conns[f->nconns++] = c;

    feed__timer_init(f, &c->retry_timer, c);
    feed__timer_init(f, &c->dog_timer, c);
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
    if (f == NULL || h < 0 || (size_t)h >= f->nconns || f->conns[h]->closed)
        return NULL;
    return f->conns[h];
}

const char *feed__conn_name(feed_t *f, int h)
{
    struct fconn *c = conn_get(f, h);

    return c ? c->name : NULL;
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
        log_msg(LL_WARN, MOD, "%s: send queue full: message dropped", c->label);
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
    log_msg(LL_INFO, MOD, "%s: %s", c->label, reason);
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
        if (!f->conns[i]->closed)
            out[n++] = f->conns[i]->st;
    return n;
}

void feed__link_close(feed_t *f, int h)
{
    struct fconn *c = conn_get(f, h);

    if (c == NULL)
        return;
    log_msg(LL_INFO, MOD, "%s: closed", c->label);
    c->closed = 1;
    uv_timer_stop(&c->retry_timer);
    uv_timer_stop(&c->dog_timer);
    feed__close_handle(f, (uv_handle_t *)&c->retry_timer);
    feed__close_handle(f, (uv_handle_t *)&c->dog_timer);
    /* kill the websockets; a link inside a user callback is freed by
     * that callback's caller */
    if (c->next) {
        link_detach(c->next, 1);
        link_release(c->next);
        c->next = NULL;
    }
    if (c->cur) {
        link_detach(c->cur, 1);
        link_release(c->cur);
        c->cur = NULL;
    }
    c->up = c->healthy = 0;
    c->st.connected = c->st.healthy = 0;
}

/* ---- feed_stop / feed_destroy ------------------------------------------------ */

void feed__links_stop(feed_t *f)
{
    for (size_t i = 0; i < f->nconns; i++) {
        struct fconn *c = f->conns[i];

        uv_timer_stop(&c->retry_timer);
        uv_timer_stop(&c->dog_timer);
        feed__close_handle(f, (uv_handle_t *)&c->retry_timer);
        feed__close_handle(f, (uv_handle_t *)&c->dog_timer);
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
}

void feed__links_free(feed_t *f)
{
    for (size_t i = 0; i < f->nconns; i++)
        free(f->conns[i]);
    free(f->conns);
    f->conns = NULL;
    f->nconns = f->capconns = 0;
}
