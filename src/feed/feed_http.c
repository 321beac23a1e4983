/*
 * feed_http.c - the HTTP GET client for REST snapshots (feed.h:
 * feed_http_get; feed_venue.c starts the venues' GETs through
 * feed__http_start).
 *
 * One struct freq per request, on the feed's list until it finishes:
 * lws knows it through the wsi's opaque user data (feed_int.h), and
 * req_finish detaches it before freeing, so a late lws callback for that
 * wsi finds nothing.  on_body is called exactly once per started request
 * (status and body, or status 0 on failure), never after feed_stop.  The
 * body is accumulated (chunked framing removed by lws) up to max_message.
 * HTTP/1.1 only (alpn "http/1.1"); TLS verification as for websockets.
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"

#define MOD FEED__MOD

struct freq {
    struct feed__obj o;           /* kind FEED__OBJ_REQ; must be first */
    feed_t *f;
    struct freq *prev, *next;
    struct lws *wsi;
    char *url;                    /* as reported to on_body */
    char target[272];             /* host:port, for messages */
    feed_body_fn on_body;
    void *arg;
    int status;
    int too_big;
    char *buf;
    size_t len, cap;
};

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
    int64_t ts = feed__now_ns();

    if (f->connecting_req == r) {
        /* inside lws_client_connect_via_info: feed__http_start cleans up */
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

int feed__http_start(feed_t *f, const char *url, const char *report_url,
                     feed_body_fn on_body, void *arg, lq_err_t *err)
{
    struct lws_client_connect_info i;
    struct feed__url u;
    struct freq *r = NULL;
    struct lws *wsi;

    if (f->stopping)
        return lq_err_set(err, "feed stopping");
    if (feed__url_parse(url, 1, &u, err) != 0)
        return -1;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto nomem;
    r->o.kind = FEED__OBJ_REQ;
    r->o.t_start = uv_now(f->loop);
    r->f = f;
    r->on_body = on_body;
    r->arg = arg;
    snprintf(r->target, sizeof(r->target), "%s", u.target);
    r->url = strdup(report_url);
    if (r->url == NULL)
        goto nomem;

    memset(&i, 0, sizeof(i));
    i.context = f->ctx;
    i.vhost = f->client_vh;
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
    feed__dns_failed_take();
    wsi = lws_client_connect_via_info(&i);
    f->connecting_req = NULL;
    if (wsi == NULL || f->connecting_req_failed) {
        int dns = feed__dns_failed_take();

        if (wsi != NULL)
            lws_set_opaque_user_data(wsi, NULL);
        req_unlink(r);
        req_free(r);
        return lq_err_set(err, "GET %s: connect to %s failed%s", url, u.target,
                          dns ? " (DNS resolution failed)" : "");
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
    return feed__http_start(f, url, url, on_body, arg, err);
}

int feed__http_callback(struct freq *r, struct lws *wsi,
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
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char txt[160], why[200];
        size_t n = in ? (len ? len : strnlen(in, sizeof(txt) - 1)) : 0;

        snprintf(txt, sizeof(txt), "%.*s", (int)(n < sizeof(txt) ? n : sizeof(txt) - 1),
                 in ? (const char *)in : "");
        feed__describe_failure(r->f, &r->o, wsi, in ? txt : NULL, why, sizeof(why));
        log_msg(LL_WARN, MOD, "GET %s: connect to %s failed (%s)", r->url,
                r->target, why);
        req_finish(r, 0);
        return 0;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        req_finish(r, 0);           /* closed before COMPLETED */
        return 0;
    default:
        return 0;
    }
}

void feed__http_cancel(feed_t *f, void *arg)
{
    struct freq *r = f->reqs, *next;

    for (; r; r = next) {
        next = r->next;
        if (r->arg != arg)
            continue;
        if (r->wsi) {
            lws_set_opaque_user_data(r->wsi, NULL);
            lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        req_unlink(r);
        req_free(r);
    }
}

void feed__http_stop(feed_t *f)
{
    while (f->reqs) {
        struct freq *r = f->reqs;

        if (r->wsi)
            lws_set_opaque_user_data(r->wsi, NULL);
        req_unlink(r);
        req_free(r);
    }
}
