/*
 * feed_int.h - what the feed's modules share (private to src/feed/).
 *
 * The feed (feed.h) is five modules around one struct feed:
 *
 *   feed_ctx.c     the lws context on the caller's libuv loop, its client
 *                  vhost, the one client protocol callback (dispatching to
 *                  links and requests), the two-step teardown, and what
 *                  every connection shares: URL parsing, the lws log bridge,
 *                  connect-failure descriptions
 *   feed_link.c    websocket links: connect, reassembly, the stale
 *                  watchdog, backoff reconnect, make-before-break
 *   feed_http.c    the HTTP GET client (REST snapshots)
 *   feed_venue.c   the venue binding: venue_io, venue ticks, the capture tap
 *   feed_listen.c  listening HTTP vhosts on the same context (control API)
 *
 * Names: feed_* public (feed.h), feed__* shared between these files (here),
 * bare names static.  Each module's objects are opaque to the others; they
 * reach each other through the feed__ functions below.
 *
 * lws knows our client objects only through a wsi's opaque user data,
 * which points at a struct that begins with struct feed__obj (kind tells
 * a link from a request).  Clearing that pointer ("detach") is how a
 * module says it is done with a wsi: whatever lws calls back for it later
 * finds NULL and is ignored.
 *
 * Thread-safety: the loop thread only, like feed.h.
 */
#ifndef LIQMON_FEED_INT_H
#define LIQMON_FEED_INT_H

#include <uv.h>
#include <libwebsockets.h>

#include <stddef.h>
#include <stdint.h>

#include "liqmon/feed.h"

#define FEED__MOD "feed"           /* log module name */

/* lws' context timeout (timeout_secs): a TCP connect that is not answered
 * within it fails ("Unable to connect"), and so does an HTTP request body
 * that stalls this long on a listener.  Set explicitly so that a connect
 * failure can be told a timeout (feed__describe_failure). */
#define FEED__LWS_TIMEOUT_S 5

/* ---- objects lws points at ------------------------------------------------ */

enum feed__obj_kind {
    FEED__OBJ_LINK = 0x4c4e4b31,   /* "LNK1": struct flink, feed_link.c */
    FEED__OBJ_REQ = 0x52455131,    /* "REQ1": struct freq, feed_http.c */
};

/* The first member of every object a client wsi's opaque data points at. */
struct feed__obj {
    int kind;                      /* enum feed__obj_kind */
    uint64_t t_start;              /* uv_now when the attempt started */
    char tls_error[160];           /* why the peer's certificate failed
                                      verification (OpenSSL's text), or "" */
};

/* ---- URLs ------------------------------------------------------------------- */

struct feed__url {
    int tls;
    int port;
    char host[256];                /* without brackets */
    char hostport[272];            /* Host header: host or host:port */
    char path[8192];               /* path and query, starts with '/'
                                      (Binance: every stream in the query) */
    char target[272];              /* host:port always, for messages */
};

/* Parse scheme://host[:port][/path?query]; scheme ws:// or wss://, or with
 * want_http http:// or https://.  0 or -1 (err set). */
int feed__url_parse(const char *url, int want_http, struct feed__url *u,
                    lq_err_t *err);

/* ---- the feed --------------------------------------------------------------- */

struct fconn;          /* feed_link.c */
struct flink;          /* feed_link.c */
struct freq;           /* feed_http.c */
struct vslot;          /* feed_venue.c */
struct flisten;        /* feed_listen.c */

struct feed {
    /* feed_ctx.c */
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws_vhost *client_vh;   /* every outgoing connection's vhost */
    struct feed_config cfg;
    char ca_file[1024];
    uv_timer_t stop_timer;
    int stopping;                  /* feed_stop called */
    int ctx_destroy1;              /* first lws_context_destroy done */
    int handles_open;              /* uv handles not yet closed back */
    int cb_errno;                  /* errno on entry to the lws callback */

    /* feed_link.c */
    struct fconn **conns;
    size_t nconns, capconns;
    struct flink *connecting;      /* link inside lws_client_connect_via_info */
    int connecting_failed;
    uint64_t rng;

    /* feed_http.c */
    struct freq *reqs;             /* in-flight GETs */
    struct freq *connecting_req;   /* the same for a GET */
    int connecting_req_failed;

    /* feed_venue.c */
    struct vslot *vslots;          /* VENUE_COUNT of them */
    uv_timer_t tick_timer;
    int tick_started;

    /* feed_listen.c */
    struct flisten *listeners;
};

/* ---- feed_ctx.c: shared helpers --------------------------------------------- */

int64_t feed__now_ns(void);                          /* CLOCK_REALTIME */
/* Init a timer of the feed's (counted until its close callback). */
void feed__timer_init(feed_t *f, uv_timer_t *t, void *data);
/* Close one of those (idempotent). */
void feed__close_handle(feed_t *f, uv_handle_t *h);

/* Why a client connection attempt failed, in words: "DNS resolution
 * failed", "connection refused", "timeout (no answer in 5 s)", "TLS:
 * certificate verify failed: self-signed certificate", "websocket
 * handshake failed: ..." ...  lws_text: the CONNECTION_ERROR text (may be
 * NULL); o: the object (its TLS verification note and start time); wsi:
 * for an HTTP status, may be NULL.  Reads (and clears) OpenSSL's error
 * queue.  Writes into out; returns out. */
const char *feed__describe_failure(feed_t *f, const struct feed__obj *o,
                                   struct lws *wsi, const char *lws_text,
                                   char *out, size_t size);
/* Whether lws reported a failed name lookup since the last call (lws 4.1
 * then returns NULL from lws_client_connect_via_info without
 * CONNECTION_ERROR).  Clears it. */
int feed__dns_failed_take(void);
/* Format a delay in ms for people: "0.25 s", "1.2 s", "30 s". */
const char *feed__fmt_delay(uint64_t ms, char *out, size_t size);

/* ---- per-module hooks ------------------------------------------------------- */

/* feed_link.c: the lws callback for a link's wsi; feed_stop's part; a
 * handle's connection name (NULL if none). */
int feed__link_callback(struct flink *l, struct lws *wsi,
                        enum lws_callback_reasons reason, void *in, size_t len);
void feed__links_stop(feed_t *f);
void feed__links_free(feed_t *f);
const char *feed__conn_name(feed_t *f, int h);
/* Close connection h for good (feed_detach): no callbacks any more. */
void feed__link_close(feed_t *f, int h);

/* feed_http.c: the same for a GET; start one (report_url is what on_body
 * gets as url). */
int feed__http_callback(struct freq *r, struct lws *wsi,
                        enum lws_callback_reasons reason, void *in, size_t len);
void feed__http_stop(feed_t *f);
/* Drop the GETs started with this on_body arg, without calling back. */
void feed__http_cancel(feed_t *f, void *arg);
int feed__http_start(feed_t *f, const char *url, const char *report_url,
                     feed_body_fn on_body, void *arg, lq_err_t *err);

/* feed_venue.c: slots for every venue (0 or -1, out of memory); the tick
 * timer's part of feed_stop; free. */
int feed__venues_init(feed_t *f);
void feed__venues_stop(feed_t *f);
void feed__venues_free(feed_t *f);

/* feed_listen.c: feed_stop's part; free what lws' vhosts pointed at
 * (after the last lws_context_destroy). */
void feed__listen_stop(feed_t *f);
void feed__listen_free(feed_t *f);

#endif
