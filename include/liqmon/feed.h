/*
 * feed.h - live venue connections, and HTTP listeners, on the daemon's own
 * libuv loop (libwebsockets 4.1; nothing of lws shows here).
 *
 * The feed owns the transport and nothing else: it opens each adapter's
 * websocket connections (venue_conn_url), reassembles fragmented messages
 * up to max_message bytes, hands complete frames to venue_on_frame, runs
 * the REST GETs an adapter asks for (answers come back as FRAME_REST
 * frames), and records every frame to a capture writer when recording.
 * On the same lws context it can also serve HTTP (feed_listen): a Unix
 * socket or a loopback port with a plain request handler, for a control
 * API and metrics.
 *
 * TLS: wss and https verify the certificate and host name against the
 * system CA store, always.  ca_file adds a CA (a private endpoint, the
 * test server's self-signed certificate); nothing turns verification off.
 *
 * Health, per connection:
 *   - reconnect with exponential backoff and jitter, capped; the backoff
 *     resets only once data has flowed on the new connection;
 *   - a watchdog marks a connection stale when no message arrived for
 *     stale_ms, emits FEED_STALE and reconnects it;
 *   - a message larger than max_message is counted, the connection
 *     dropped and reconnected;
 *   - a connection older than max_age_s is replaced make-before-break: a
 *     new one is opened first and the old one closed once the new one has
 *     delivered data, so the adapter (which drops duplicate updates) sees
 *     no gap.  Binance closes connections at 24 h: the default is 23 h.
 *
 * Diagnostics: every failed attempt and every drop is logged (warning)
 * once, naming the venue and connection, the host:port, the reason in
 * words and when the next attempt is:
 *   "binance-usdm/public: connect to fstream.binance.com:443 failed
 *    (connection refused); next attempt in 1.2 s (attempt 4)"
 * Reasons: "DNS resolution failed", "connection refused", "timeout: no
 * answer in 5.0 s", "TLS: certificate verify failed: <OpenSSL's X509
 * reason> (depth N)", "TLS: <OpenSSL's reason>", "websocket handshake
 * failed: ...".  (lws 4.1 keeps no errno for a failed TCP connect; where
 * none is left to read, "connection refused or unreachable".)
 * feed_conn_stats.last_error holds "connect failed: <reason>" then.
 *
 * Feed-level health events (FEED_CONNECTED, FEED_DISCONNECTED,
 * FEED_STALE) go to the same emit callback as market events, with
 * instr == NULL and u.feed.conn naming the connection:
 *   - venue_on_open when a websocket opens (a replacement too: the
 *     adapter subscribes again, and its sends go to the newest socket);
 *   - FEED_CONNECTED with the first message after the connection was
 *     down (not again for a replacement);
 *   - FEED_STALE when the watchdog fires;
 *   - venue_on_close + FEED_DISCONNECTED when a connection that was up
 *     goes down; a connection that never came up says FEED_DISCONNECTED
 *     once, at its first failed attempt, and its later failures are
 *     counted (feed_conn_stats.failures).
 * Every frame (ws and REST) is given to capture_writer_submit before
 * venue_on_frame when recording.  REST answers other than 2xx are logged
 * and dropped (the adapter retries from venue_tick).  venue_tick runs for
 * every attached adapter about once a second.
 *
 * feed_create routes lws' own log (errors and warnings only; a process-
 * wide lws setting) to log.h.
 *
 * Thread-safety: the loop thread only.  Nothing here blocks the loop,
 * except lws' name lookups (platform-notes: lws 4.1 resolves
 * synchronously); venues are few and resolve once per (re)connect.
 */
#ifndef LIQMON_FEED_H
#define LIQMON_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "liqmon/capture.h"
#include "liqmon/err.h"
#include "liqmon/venue.h"

struct feed_config {
    const char *ca_file;          /* extra trusted CA (PEM), or NULL */
    size_t max_message;           /* bytes; default 4 MiB */
    int stale_ms;                 /* watchdog; default 30000 */
    int backoff_min_ms;           /* default 250 */
    int backoff_max_ms;           /* default 30000 */
    int max_age_s;                /* planned replacement; default 82800 */
    capture_writer_t *recorder;   /* borrowed; NULL: not recording */
};
void feed_config_default(struct feed_config *cfg);

struct feed_conn_stats {
    const char *venue;            /* venue name */
    const char *name;             /* connection name */
    int connected;                /* 1 while open */
    int healthy;                  /* data has flowed since it opened */
    uint64_t frames;
    uint64_t bytes;
    uint64_t connects;
    uint64_t disconnects;
    uint64_t stale;               /* watchdog firings */
    uint64_t oversized;           /* messages over max_message */
    int64_t last_frame_ts;        /* ns */
    /* Added after the first draft (append only): */
    uint64_t failures;            /* connection attempts that failed
                                     before the websocket opened (refused,
                                     TLS verification, handshake) */
    uint64_t replacements;        /* planned make-before-break swaps done */
    const char *last_error;       /* why the last attempt or connection
                                     ended; "" if none.  Borrowed until the
                                     next feed call. */
};

typedef struct feed feed_t;

/* Create the lws context on loop (LWS_SERVER_OPTION_LIBUV, foreign loop)
 * with its client vhost.  Nothing connects until feed_attach / feed_open;
 * nothing listens until feed_listen. */
feed_t *feed_create(uv_loop_t *loop, const struct feed_config *cfg,
                    lq_err_t *err);

/* The venue_io an adapter for venue id must be created with: its send /
 * http_get / reconnect go through this feed; its emit calls emit(arg, ev)
 * (the engine), and health events go there too.  io.arg is the feed's
 * slot for the venue: valid until feed_destroy. */
struct venue_io feed_venue_io(feed_t *f, enum venue_id id,
                              void (*emit)(void *arg, const struct mkt_event *ev),
                              void *arg);
/* Start v's connections (v must have been created with feed_venue_io for
 * its venue).  The adapter is borrowed until feed_destroy. */
int feed_attach(feed_t *f, venue_t *v, lq_err_t *err);

/* Undo feed_attach (a reload that recreates the adapter): v's websockets
 * are closed and its GETs in flight dropped, without calling back (no
 * venue_on_close, no FEED_DISCONNECTED); its connections leave
 * feed_get_stats.  v may be destroyed once this returns; the venue's slot
 * takes a new adapter (feed_venue_io, then feed_attach) like a fresh one.
 * Safe from the adapter's own callbacks.  0, or -1 (v not attached). */
int feed_detach(feed_t *f, venue_t *v);

/* The base URL (scheme://host[:port], no trailing '/') that venue id's
 * http_get paths are appended to: the venue's venue_config.rest_url (the
 * adapter is opaque, so whoever creates it passes this on).  An adapter
 * path that is itself an absolute http:// or https:// URL is fetched as
 * is.  0, or -1 (bad URL, err set). */
int feed_set_rest_url(feed_t *f, enum venue_id id, const char *rest_url,
                      lq_err_t *err);

/* Begin an orderly stop: stop every timer, close our uv handles, drop all
 * connections and requests without calling back, stop serving listeners
 * (their handlers are not called again; Unix socket files are removed),
 * then the first lws_context_destroy.  Safe from any loop callback, a feed callback
 * included (the lws part runs from a zero-delay timer).  uv_run returns
 * once everything the feed put on the loop is closed. */
void feed_stop(feed_t *f);
/* After uv_run returned: the second lws_context_destroy, then free.  The
 * caller then runs uv_run once more (lws closes its last handles) before
 * uv_loop_close.  NULL is fine.  Calling it without feed_stop + uv_run
 * first leaks rather than free memory the loop still points to. */
void feed_destroy(feed_t *f);

/* Connection statistics, in feed_open order (handle order while nothing
 * was detached): up to max entries; returns how many. */
size_t feed_get_stats(const feed_t *f, struct feed_conn_stats *out, size_t max);

/* ---- the generic connection layer ----------------------------------------
 *
 * feed_attach is built on these: each venue connection is one feed_open
 * with callbacks that call venue_on_open / venue_on_frame / venue_on_close,
 * record frames and emit FEED_* events.  Everything else (TLS, reassembly,
 * the size limit, backoff, the watchdog, make-before-break) is here and is
 * the same for both, so tests drive the real code path without an adapter.
 *
 * A connection is a logical link with a handle (>= 0): at most two
 * websockets serve it at a time (the current one and, during a planned
 * replacement, the next).  It is "up" while at least one of them is open.
 */
enum feed_conn_event {
    FEED_EV_OPEN = 0,     /* a websocket opened (a replacement too): send
                             subscriptions now; feed_send goes to it */
    FEED_EV_HEALTHY,      /* the first message since the link went up */
    FEED_EV_STALE,        /* watchdog fired; FEED_EV_DOWN or a reconnect
                             follows */
    FEED_EV_DOWN,         /* the link went down (close, error, stale,
                             oversized, feed_reconnect); a reconnect is
                             scheduled with backoff */
};

struct feed_conn_cb {
    /* One complete message (all fragments joined), NUL-terminated after
     * len; data is borrowed for the call.  now: CLOCK_REALTIME ns. */
    void (*on_frame)(void *arg, int h, const char *data, size_t len,
                     int64_t now);
    /* reason: short text, may be NULL. */
    void (*on_event)(void *arg, int h, enum feed_conn_event ev,
                     const char *reason, int64_t now);
    void *arg;
};

/* Open a ws:// or wss:// URL and keep it open until feed_stop.  name and
 * venue label the statistics (venue may be NULL).  cb is copied.  The
 * first attempt starts at once (from a timer, not inside this call).
 * Returns the handle, or -1 (bad URL, err set). */
int feed_open(feed_t *f, const char *url, const char *name, const char *venue,
              const struct feed_conn_cb *cb, lq_err_t *err);
/* Queue a text message on h's newest open websocket; written from its
 * WRITEABLE callback, one message per callback.  0, or -1 (not open, or
 * too much queued). */
int feed_send(feed_t *f, int h, const char *text, size_t len);
/* Drop h's websockets and connect again after the backoff delay.  0 or
 * -1 (bad handle). */
int feed_reconnect(feed_t *f, int h, const char *why);

/* GET an http:// or https:// URL (HTTP/1.1, same TLS rules).  on_body is
 * called exactly once, unless feed_stop comes first: status is the HTTP
 * status (body complete) or 0 when the request failed (body NULL); a body
 * over max_message fails.  url is the one given.  0, or -1 (could not
 * start, err set; on_body is not called). */
typedef void (*feed_body_fn)(void *arg, const char *url, int status,
                             const char *body, size_t len, int64_t now);
int feed_http_get(feed_t *f, const char *url, feed_body_fn on_body, void *arg,
                  lq_err_t *err);

/* ---- listening: HTTP servers on the same loop --------------------------------
 *
 * feed_listen adds a listening vhost to the feed's lws context: a Unix
 * socket (its file mode set to unix_mode) or a TCP address and port.
 * Every HTTP/1.1 request it accepts goes to the listener's handler, on the
 * loop thread, one at a time; the handler fills in the answer with the
 * feed_respond* functions before it returns (no deferred answers).
 * Keep-alive works; 1xx, 204 and 304 answers go without a body.
 *
 * The feed answers by itself, without calling the handler:
 *   413  a body over max_body (Content-Length says so; the body is read
 *        and discarded, the connection stays usable);
 *   411  POST, PUT or PATCH without Content-Length (chunked bodies are
 *        not accepted); the connection is closed;
 *   500  the handler set no answer (a bug: logged), or out of memory.
 * lws itself refuses requests whose headers are over its limits.  Errors
 * the feed makes are JSON: {"error":"<text>"}.
 *
 * A handler sketch (a control API):
 *
 *   static void api(void *arg, const struct feed_request *rq,
 *                   struct feed_response *rs)
 *   {
 *       if (strcmp(rq->path, "/v1/state") == 0) {
 *           if (rq->method != FEED_METHOD_GET) {
 *               feed_respond_header(rs, "Allow", "GET");
 *               feed_respond(rs, 405, NULL, "{\"error\":\"method\"}", 18);
 *               return;
 *           }
 *           struct jsonw w; jw_init(&w); ...;
 *           feed_respond_take(rs, 200, NULL, w.buf, w.len);  (w.buf adopted)
 *       } else {
 *           feed_respond(rs, 404, NULL, "{\"error\":\"not found\"}", 23);
 *       }
 *   }
 */
enum feed_method {
    FEED_METHOD_GET = 0,
    FEED_METHOD_HEAD,             /* answer it as GET: the feed sends the
                                     headers only */
    FEED_METHOD_POST,
    FEED_METHOD_PUT,
    FEED_METHOD_PATCH,
    FEED_METHOD_DELETE,
    FEED_METHOD_OPTIONS,
    FEED_METHOD_OTHER,            /* see method_name */
};

/* One request, borrowed for the handler call. */
struct feed_request {
    enum feed_method method;
    const char *method_name;      /* "GET", "POST", ... */
    const char *path;             /* without the query; %XX decoded and
                                     normalised by lws ("//", "/./" and
                                     "/../" resolved); starts with '/' */
    const char *query;            /* what followed '?', as lws decoded it
                                     ('+' is a space), the arguments joined
                                     with '&' again; "" if none.  For
                                     display: feed_request_arg reads one
                                     argument exactly */
    const char *const *args;      /* the decoded arguments, "name=value"
                                     or "name", in order */
    size_t nargs;
    const char *content_type;     /* the request's Content-Type, or "" */
    const char *body;             /* the body (any bytes, a NUL after
                                     body_len), "" when there is none */
    size_t body_len;
    const char *listener;         /* feed_listen_config.name */
    int unix_socket;              /* 1: came in on the Unix socket */
};

/* The value of query argument name ("name=value" -> "value", a bare
 * "name" -> ""), the first if repeated; NULL when absent.  Borrowed as
 * req. */
const char *feed_request_arg(const struct feed_request *req, const char *name);

/* The answer being built (opaque).  Each feed_respond* call replaces the
 * status, content type and body set before; content_type NULL means
 * "application/json".  0, or -1 when out of memory (the client then gets
 * a 500). */
struct feed_response;
int feed_respond(struct feed_response *res, int status,
                 const char *content_type, const char *body, size_t len);
/* The same, adopting body (malloc'd; freed by the feed, also on failure):
 * a jsonw buffer needs no copy. */
int feed_respond_take(struct feed_response *res, int status,
                      const char *content_type, char *body, size_t len);
int feed_respondf(struct feed_response *res, int status,
                  const char *content_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Add a header to the answer ("Allow", "GET, POST"); at most 8; name is
 * letters, digits and '-', value one line.  0, or -1 (refused). */
int feed_respond_header(struct feed_response *res, const char *name,
                        const char *value);

typedef void (*feed_handler_fn)(void *arg, const struct feed_request *req,
                                struct feed_response *res);

struct feed_listen_config {
    const char *name;             /* the vhost's name: unique among this
                                     feed's listeners; for the log too */
    const char *unix_path;        /* listen on this Unix socket path (an
                                     old socket file there is replaced; any
                                     other file, or a socket someone still
                                     listens on, is an error); NULL: TCP */
    unsigned unix_mode;           /* the socket file's mode; 0: 0660 */
    const char *address;          /* TCP: a numeric IPv4 or IPv6 address;
                                     NULL: "127.0.0.1" */
    int port;                     /* TCP: 0 picks a free port */
    size_t max_body;              /* bytes; 0: 64 KiB */
    feed_handler_fn handler;      /* required */
    void *arg;
};

/* Start listening (strings are copied).  Returns the TCP port listened on
 * (the one picked when port was 0), 0 for a Unix socket, or -1 (err set:
 * bad config, a name or address already used by this feed, the address
 * or path not usable, the port in use).  feed_stop closes every listener
 * (Unix socket files are removed). */
int feed_listen(feed_t *f, const struct feed_listen_config *lc, lq_err_t *err);
/* Split "127.0.0.1:9464" or "[::1]:9464" into the address (into addr,
 * size bytes) and the port (0-65535).  0, or -1 when s is not of that
 * form.  The address itself is checked by feed_listen. */
int feed_parse_listen(const char *s, char *addr, size_t size, int *port);

#endif
