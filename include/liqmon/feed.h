/*
 * feed.h - live venue connections: libwebsockets clients on the daemon's
 * own libuv loop.
 *
 * The feed owns the transport and nothing else: it opens each adapter's
 * websocket connections (venue_conn_url), reassembles fragmented messages
 * up to max_message bytes, hands complete frames to venue_on_frame, runs
 * the REST GETs an adapter asks for (answers come back as FRAME_REST
 * frames), and records every frame to a capture writer when recording.
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
 * Feed-level health events (FEED_CONNECTED, FEED_DISCONNECTED,
 * FEED_STALE) go to the same emit callback as market events, with
 * instr == NULL and u.feed.conn naming the connection:
 *   - venue_on_open when a websocket opens (a replacement too: the
 *     adapter subscribes again, and its sends go to the newest socket);
 *   - FEED_CONNECTED with the first message after the connection was
 *     down (not again for a replacement);
 *   - FEED_STALE when the watchdog fires;
 *   - venue_on_close + FEED_DISCONNECTED when a connection that was up
 *     goes down.  Failed attempts of a connection that is down emit
 *     nothing (they are counted: feed_conn_stats.failures).
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

/* Create the lws context on loop (LWS_SERVER_OPTION_LIBUV, foreign loop).
 * Nothing connects until feed_attach. */
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

/* The base URL (scheme://host[:port], no trailing '/') that venue id's
 * http_get paths are appended to: the venue's venue_config.rest_url (the
 * adapter is opaque, so whoever creates it passes this on).  An adapter
 * path that is itself an absolute http:// or https:// URL is fetched as
 * is.  0, or -1 (bad URL, err set). */
int feed_set_rest_url(feed_t *f, enum venue_id id, const char *rest_url,
                      lq_err_t *err);

/* Begin an orderly stop: stop every timer, close our uv handles, drop all
 * connections and requests without calling back, then the first
 * lws_context_destroy.  Safe from any loop callback, a feed callback
 * included (the lws part runs from a zero-delay timer).  uv_run returns
 * once everything the feed put on the loop is closed. */
void feed_stop(feed_t *f);
/* After uv_run returned: the second lws_context_destroy, then free.  The
 * caller then runs uv_run once more (lws closes its last handles) before
 * uv_loop_close.  NULL is fine.  Calling it without feed_stop + uv_run
 * first leaks rather than free memory the loop still points to. */
void feed_destroy(feed_t *f);

/* Connection statistics: up to max entries; returns how many. */
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

#endif
