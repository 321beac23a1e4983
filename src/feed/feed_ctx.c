/*
 * feed_ctx.c - the feed's libwebsockets 4.1 context on the caller's libuv
 * loop, and its two-step teardown (feed.h, feed_int.h).
 *
 *   feed_create   lws_create_context with LWS_SERVER_OPTION_LIBUV on the
 *                 caller's loop (foreign loop: only the caller's uv_run
 *                 drives it) and LWS_SERVER_OPTION_EXPLICIT_VHOSTS, then
 *                 one client vhost ("liqmon-client") that every outgoing
 *                 connection uses; listening vhosts join the same context
 *                 later (feed_listen.c)
 *   feed_stop     every module drops its connections and closes its uv
 *                 handles, then the first lws_context_destroy runs from a
 *                 zero-delay timer (never inside an lws callback); uv_run
 *                 returns once lws' handles and ours are closed
 *   feed_destroy  the second lws_context_destroy (frees the context; with
 *                 one call about 1 MB stays allocated, platform-notes),
 *                 then our memory
 *
 * Also here, because every connection needs them: the client protocol's
 * one lws callback (it dispatches on the object a wsi's opaque data points
 * at: a link or a GET), URL parsing, the bridge from lws' log to log.h,
 * and the words for why a connection attempt failed.
 */
#include "feed_int.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/log.h"

#define MOD FEED__MOD

/* ---- small shared helpers -------------------------------------------------- */

int64_t feed__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void handle_closed(uv_handle_t *h)
{
    feed_t *f = h->data;

    f->handles_open--;
}

void feed__timer_init(feed_t *f, uv_timer_t *t, void *data)
{
    uv_timer_init(f->loop, t);
    t->data = data;
    f->handles_open++;
}

void feed__close_handle(feed_t *f, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        h->data = f;
        uv_close(h, handle_closed);
    }
}

const char *feed__fmt_delay(uint64_t ms, char *out, size_t size)
{
    if (ms < 1000)
        snprintf(out, size, "%.2f s", (double)ms / 1000);
    else if (ms < 10000)
        snprintf(out, size, "%.1f s", (double)ms / 1000);
    else
        snprintf(out, size, "%.0f s", (double)ms / 1000);
    return out;
}

int feed__url_parse(const char *url, int want_http, struct feed__url *u,
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
    if (strchr(u->host, ':'))
        snprintf(u->target, sizeof(u->target), "[%s]:%d", u->host, u->port);
    else
        snprintf(u->target, sizeof(u->target), "%s:%d", u->host, u->port);
    if ((u->tls && u->port == 443) || (!u->tls && u->port == 80))
        snprintf(u->hostport, sizeof(u->hostport), "%s", u->host);
    else
        snprintf(u->hostport, sizeof(u->hostport), "%s", u->target);
    return 0;
}

/* ---- why a connection attempt failed ------------------------------------- */

/* What lws drops on the way, caught where it happens (the loop thread):
 *   - a failed name lookup: lws 4.1 then returns NULL from
 *     lws_client_connect_via_info without CONNECTION_ERROR, and says so
 *     only in a notice ("lws_getaddrinfo46 failed"), which the log bridge
 *     watches for;
 *   - OpenSSL's reason for a failed handshake: lws empties the error queue
 *     before CONNECTION_ERROR, so an info callback on the client SSL_CTX
 *     reads it when SSL_connect fails (and an alert the server sent). */
static _Thread_local int dns_failed;
static _Thread_local struct {
    const SSL *ssl;
    char text[160];
} tls_fail;

int feed__dns_failed_take(void)
{
    int d = dns_failed;

    dns_failed = 0;
    return d;
}

static void tls_info_cb(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
        tls_fail.ssl = ssl;
        snprintf(tls_fail.text, sizeof(tls_fail.text), "the server sent alert \"%s\"",
                 SSL_alert_desc_string_long(ret));
    } else if ((where & SSL_CB_EXIT) && ret <= 0 && ERR_peek_last_error() != 0) {
        unsigned long e = ERR_peek_last_error();
        const char *r = ERR_reason_error_string(e);

        if (tls_fail.ssl == ssl && tls_fail.text[0])
            return;                     /* the alert says more */
        tls_fail.ssl = ssl;
        if (r)
            snprintf(tls_fail.text, sizeof(tls_fail.text), "%s", r);
        else
            ERR_error_string_n(e, tls_fail.text, sizeof(tls_fail.text));
    }
}

static int has(const char *s, const char *what)
{
    return s != NULL && strstr(s, what) != NULL;
}

/* lws' own log lines (errors and warnings; notices are only watched) into
 * log.h.  lws' "SSL error: ..." names no host; the feed reports the same
 * failure with the host and the connection (feed__describe_failure), so
 * that line is only kept at debug. */
static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    enum log_level lv = level & LLL_ERR ? LL_WARN : LL_INFO;

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_NOTICE) {
        /* notices only for what lws says nowhere else */
        if (strstr(line, "getaddrinfo46 failed") != NULL)
            dns_failed = 1;
        return;
    }
    if (strncmp(line, "SSL error: ", 11) == 0)
        lv = LL_DEBUG;
    log_msg(lv, "lws", "%.*s", (int)n, line);
}

/* OpenSSL's reason for wsi's failed handshake ("wrong version number",
 * "the server sent alert ..."), or NULL. */
static const char *openssl_reason(struct lws *wsi, char *buf, size_t size)
{
    SSL *ssl = wsi ? lws_get_ssl(wsi) : NULL;
    unsigned long e;
    const char *r;

    if (ssl != NULL && tls_fail.ssl == ssl && tls_fail.text[0]) {
        snprintf(buf, size, "%s", tls_fail.text);
        tls_fail.ssl = NULL;
        tls_fail.text[0] = '\0';
        return buf;
    }
    e = ERR_peek_last_error();          /* in case lws left it there */
    ERR_clear_error();
    if (e == 0)
        return NULL;
    r = ERR_reason_error_string(e);
    if (r == NULL) {
        ERR_error_string_n(e, buf, size);
        return buf;
    }
    snprintf(buf, size, "%s", r);
    return buf;
}

/* The pending error of wsi's socket when lws has not closed (or read) it
 * yet: a failed connect that lws noticed as a hang-up reports it here. */
static int sock_error(struct lws *wsi)
{
    lws_sockfd_type fd = wsi ? lws_get_socket_fd(wsi) : LWS_SOCK_INVALID;
    socklen_t sl = sizeof(int);
    int e = 0;

    if (fd == LWS_SOCK_INVALID || fd < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
        return 0;
    return e;
}

/*
 * lws 4.1 reports a failed attempt with a short text in CLIENT_CONNECTION_ERROR
 * and drops the details: the errno of a failed TCP connect is gone ("Unable
 * to connect" for refused, unreachable and timed out alike), a TLS failure
 * comes as "connect SSL err 1: error:00000001:lib(0)::reason(1)" (it
 * formats SSL_get_error()'s code as an error-queue code).  So:
 *   - getaddrinfo: lws resolves synchronously; a failure is the DNS;
 *   - "Unable to connect", "closed before established": the socket's
 *     pending error when lws has not read it yet (a refused connect that
 *     lws saw as a hang-up), else a timeout when it took lws' connect
 *     timeout, else the errno lws left (when it is a connect error), else
 *     "refused or unreachable";
 *   - TLS: the certificate verification failure the verify callback noted
 *     on the object (OpenSSL's X509 text), else OpenSSL's error queue;
 *   - "HS: ...": the websocket upgrade, with the HTTP status when known.
 */
const char *feed__describe_failure(feed_t *f, const struct feed__obj *o,
                                   struct lws *wsi, const char *lws_text,
                                   char *out, size_t size)
{
    uint64_t took = o ? uv_now(f->loop) - o->t_start : 0;
    const char *t = lws_text ? lws_text : "";
    char ossl[160];

    if (o && o->tls_error[0]) {
        snprintf(out, size, "TLS: certificate verify failed: %s", o->tls_error);
        ERR_clear_error();
    } else if (has(t, "getaddrinfo")) {
        snprintf(out, size, "DNS resolution failed");
    } else if (has(t, "Unable to connect") || has(t, "closed before established")) {
        int e = sock_error(wsi);

        if (e == 0)
            e = f->cb_errno;
        if (e == ECONNREFUSED)
            snprintf(out, size, "connection refused");
        else if (took + 250 >= (uint64_t)FEED__LWS_TIMEOUT_S * 1000)
            snprintf(out, size, "timeout: no answer in %.1f s", (double)took / 1000);
        else if (e == ENETUNREACH || e == EHOSTUNREACH || e == ETIMEDOUT ||
                 e == ECONNRESET || e == EADDRNOTAVAIL)
            snprintf(out, size, "%s", strerror(e));
        else if (has(t, "closed before"))
            snprintf(out, size, "connection closed before it was established");
        else
            snprintf(out, size, "connection refused or unreachable");
    } else if (has(t, "SSL") || has(t, "ssl") || has(t, "cert") ||
               has(t, "SYSCALL")) {
        const char *r = openssl_reason(wsi, ossl, sizeof(ossl));
        const char *sc = strstr(t, "SYSCALL ");
        int e = sc ? atoi(sc + 8) : 0;

        if (has(t, "Timed out"))
            snprintf(out, size, "TLS: handshake timeout");
        else if (r != NULL)
            snprintf(out, size, "TLS: %s", r);
        else if (sc && e > 0)
            snprintf(out, size, "TLS: %s during the handshake", strerror(e));
        else if (sc)
            snprintf(out, size, "TLS: the server closed the connection during "
                     "the handshake");
        else
            snprintf(out, size, "TLS: handshake failed (%s)", t);
    } else if (has(t, "Peer hung up")) {
        snprintf(out, size, "the server closed the connection during the "
                 "handshake");
    } else if (strncmp(t, "HS: ", 4) == 0) {
        unsigned st = wsi ? lws_http_client_http_response(wsi) : 0;

        if (st > 0)
            snprintf(out, size, "websocket handshake failed: HTTP %u (%s)", st, t + 4);
        else
            snprintf(out, size, "websocket handshake failed: %s", t + 4);
    } else if (*t) {
        snprintf(out, size, "%s", t);
    } else {
        snprintf(out, size, "failed");
    }
    return out;
}

/* ---- the client protocol's lws callback ------------------------------------- */

/* OpenSSL's verify callback runs this through lws with preverify_ok in
 * len: note why the chain or the host name did not verify, on the object,
 * for the failure report.  Returns 0: the verification result stands. */
static void note_cert_failure(struct feed__obj *o, void *x509_ctx, size_t ok)
{
    X509_STORE_CTX *xs = x509_ctx;
    int e;

    if (ok || xs == NULL || o->tls_error[0])
        return;
    e = X509_STORE_CTX_get_error(xs);
    if (e == X509_V_OK)
        return;
    snprintf(o->tls_error, sizeof(o->tls_error), "%s (depth %d)",
             X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(xs));
}

static int feed_lws_cb(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    int saved_errno = errno;      /* before anything of ours runs */
    struct feed__obj *o;
    feed_t *f;

    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
        /* the client vhost's SSL_CTX, once, at its creation */
        if (user)
            SSL_CTX_set_info_callback(user, tls_info_cb);
        return 0;
    }
    o = wsi ? lws_get_opaque_user_data(wsi) : NULL;

    if (o == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) {
        note_cert_failure(o, user, len);
        return 0;
    }
    f = lws_context_user(lws_get_context(wsi));
    f->cb_errno = saved_errno;
    if (o->kind == FEED__OBJ_REQ)
        return feed__http_callback((struct freq *)o, wsi, reason, in, len);
    return feed__link_callback((struct flink *)o, wsi, reason, in, len);
}

static const struct lws_protocols feed_protocols[] = {
    { "liqmon-feed", feed_lws_cb, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- create / stop / destroy ----------------------------------------------- */

void feed_config_default(struct feed_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_message = 4u << 20;
    cfg->stale_ms = 30000;
    cfg->backoff_min_ms = 250;
    cfg->backoff_max_ms = 30000;
    cfg->max_age_s = 23 * 3600;
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
    f->rng = (uint64_t)feed__now_ns() ^ (uint64_t)(uintptr_t)f ^
             0x9E3779B97F4A7C15ULL;
    if (f->rng == 0)
        f->rng = 1;
    if (feed__venues_init(f) != 0) {
        lq_err_set(err, "out of memory");
        goto fail;
    }

    /* lws logs errors and warnings through our log; notices only reach
     * the bridge (a failed name lookup, see above) */
    lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, lws_log_bridge);

    memset(&info, 0, sizeof(info));
    loops[0] = loop;
    info.foreign_loops = loops;      /* only read during create */
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.timeout_secs = FEED__LWS_TIMEOUT_S;
    /* lws builds a client's handshake (the GET line with its URL) in this
     * buffer: a Binance URL with 200 streams is ~7 KB, past the default
     * 4 KB (the connection would fail before it is sent). */
    info.pt_serv_buf_size = 16384;
    info.user = f;
    f->ctx = lws_create_context(&info);
    if (f->ctx == NULL) {
        lq_err_set(err, "lws_create_context failed (is the libuv event-lib "
                        "plugin libwebsockets-evlib-uv installed?)");
        goto fail;
    }

    /* The client vhost: no listener; DO_SSL_GLOBAL_INIT gives it the
     * client SSL_CTX (system CA store plus ca_file).  First in the
     * context's list, so its protocol also gets OpenSSL's verify callback
     * (lws calls the context's first protocol). */
    memset(&info, 0, sizeof(info));
    info.vhost_name = "liqmon-client";
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = feed_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = f->cfg.ca_file;  /* added to the system store */
    info.user = f;
    f->client_vh = lws_create_vhost(f->ctx, &info);
    if (f->client_vh == NULL) {
        /* Out of memory: the context's handles are on the loop now and
         * only uv_run can close them.  Start that and leak the rest. */
        lq_err_set(err, "lws_create_vhost failed for the client vhost%s",
                   f->cfg.ca_file ? " (is ca_file readable PEM?)" : "");
        lws_context_destroy(f->ctx);
        return NULL;
    }
    feed__timer_init(f, &f->tick_timer, f);
    feed__timer_init(f, &f->stop_timer, f);
    return f;
fail:
    feed__venues_free(f);
    free(f);
    return NULL;
}

static void stop_cb(uv_timer_t *t)
{
    feed_t *f = t->data;

    feed__close_handle(f, (uv_handle_t *)&f->stop_timer);
    if (!f->ctx_destroy1) {
        f->ctx_destroy1 = 1;
        /* first step: lws closes its wsi, listeners and uv handles; uv_run
         * returns once they (and ours) are closed */
        lws_context_destroy(f->ctx);
    }
}

void feed_stop(feed_t *f)
{
    if (f == NULL || f->stopping)
        return;
    f->stopping = 1;

    /* our timers first: nothing may reconnect behind our back */
    feed__venues_stop(f);
    feed__links_stop(f);
    feed__http_stop(f);
    feed__listen_stop(f);
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
    /* second step: frees the context and its vhosts (platform-notes: with
     * one call about 1 MB stays allocated) */
    lws_context_destroy(f->ctx);
    f->ctx = NULL;
    feed__links_free(f);
    feed__listen_free(f);        /* lws' vhosts pointed at its strings */
    feed__venues_free(f);
    free(f);
}
