/*
 * feed_venue.c - the venue binding (feed.h: feed_venue_io, feed_attach,
 * feed_set_rest_url): a venue adapter on top of the generic links and
 * GETs.
 *
 * One struct vslot per venue id, created with the feed.  It is the
 * adapter's venue_io (io.arg points at it): the adapter's sends,
 * reconnects and GETs go through it to feed_link.c / feed_http.c, and
 * what comes back goes to the adapter:
 *
 *   link frame   -> capture tap (recording) -> venue_on_frame(conn)
 *   FEED_EV_OPEN -> venue_on_open;  HEALTHY/STALE/DOWN -> MEV_FEED events
 *                   (FEED_CONNECTED, FEED_STALE, venue_on_close +
 *                   FEED_DISCONNECTED) through emit
 *   GET body     -> capture tap -> venue_on_frame(FRAME_REST); non-2xx
 *                   answers are logged and dropped (the adapter retries)
 *
 * The capture tap hands every frame to capture_writer_submit before the
 * adapter sees it (a copy into the writer's queue; never blocks).  The
 * 1 Hz tick timer runs venue_tick for every attached adapter.
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"

#define MOD FEED__MOD

#define FEED_VENUE_MAX_CONNS 8
#define FEED_TICK_MS 1000

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

int feed__venues_init(feed_t *f)
{
    f->vslots = calloc(VENUE_COUNT, sizeof(*f->vslots));
    if (f->vslots == NULL)
        return -1;
    for (int i = 0; i < VENUE_COUNT; i++) {
        f->vslots[i].f = f;
        f->vslots[i].id = (enum venue_id)i;
    }
    return 0;
}

void feed__venues_free(feed_t *f)
{
    free(f->vslots);
    f->vslots = NULL;
}

/* ---- ticks -------------------------------------------------------------------- */

static void tick_cb(uv_timer_t *t)
{
    feed_t *f = t->data;
    int64_t now = feed__now_ns();

    if (f->stopping)
        return;
    for (int i = 0; i < VENUE_COUNT; i++)
        if (f->vslots[i].v)
            venue_tick(f->vslots[i].v, now);
}

void feed__venues_stop(feed_t *f)
{
    uv_timer_stop(&f->tick_timer);
    feed__close_handle(f, (uv_handle_t *)&f->tick_timer);
}

/* ---- from the links and GETs to the adapter ---------------------------------- */

static void vslot_emit(struct vslot *s, int h, enum mev_feed_kind k,
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
    ev.u.feed.conn = feed__conn_name(s->f, h);
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

    if (s->f->cfg.recorder)             /* the capture tap */
        capture_writer_submit(s->f->cfg.recorder, now, s->id, FRAME_WS,
                              feed__conn_name(s->f, h), NULL, data, len);
    venue_on_frame(s->v, conn, FRAME_WS, NULL, data, len, now);
}

static void venue_event_cb(void *arg, int h, enum feed_conn_event ev,
                           const char *reason, int64_t now)
{
    struct vslot *s = arg;
    int conn = vslot_conn_index(s, h);

    switch (ev) {
    case FEED_EV_OPEN:
        venue_on_open(s->v, conn, now);
        break;
    case FEED_EV_HEALTHY:
        vslot_emit(s, h, FEED_CONNECTED, reason, now);
        break;
    case FEED_EV_STALE:
        vslot_emit(s, h, FEED_STALE, reason, now);
        break;
    case FEED_EV_DOWN:
        venue_on_close(s->v, conn, now);
        vslot_emit(s, h, FEED_DISCONNECTED, reason, now);
        break;
    }
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
    if (s->f->cfg.recorder)             /* the capture tap */
        capture_writer_submit(s->f->cfg.recorder, now, s->id, FRAME_REST, NULL,
                              url, body, len);
    venue_on_frame(s->v, -1, FRAME_REST, url, body, len, now);
}

/* ---- venue_io: from the adapter to the feed ------------------------------------ */

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
    if (feed__http_start(s->f, url, path, venue_body_cb, s, &err) != 0) {
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
    f->vslots[id].bound = 1;
    f->vslots[id].emit = emit;
    f->vslots[id].emit_arg = arg;
    /* one arg for all four callbacks: the slot; vio_emit passes events
     * on to emit(arg) */
    io.arg = &f->vslots[id];
    io.emit = vio_emit;
    io.send = vio_send;
    io.http_get = vio_http_get;
    io.reconnect = vio_reconnect;
    return io;
}

int feed_detach(feed_t *f, venue_t *v)
{
    struct vslot *s = NULL;

    for (int i = 0; f && v && i < VENUE_COUNT; i++)
        if (f->vslots[i].v == v)
            s = &f->vslots[i];
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < s->nconn; i++)
        feed__link_close(f, s->h[i]);
    feed__http_cancel(f, s);
    s->v = NULL;
    s->nconn = 0;
    return 0;
}

int feed_set_rest_url(feed_t *f, enum venue_id id, const char *rest_url,
                      lq_err_t *err)
{
    struct feed__url u;
    struct vslot *s;
    size_t n;

    if ((unsigned)id >= VENUE_COUNT)
        return lq_err_set(err, "unknown venue id %d", (int)id);
    s = &f->vslots[id];
    if (rest_url == NULL || *rest_url == '\0') {
        s->rest_url[0] = '\0';
        return 0;
    }
    if (feed__url_parse(rest_url, 1, &u, err) != 0)
        return -1;
    n = strlen(rest_url);
    while (n > 0 && rest_url[n - 1] == '/')
        n--;
    if (n >= sizeof(s->rest_url))
        return lq_err_set(err, "%s: too long", rest_url);
    memcpy(s->rest_url, rest_url, n);
    s->rest_url[n] = '\0';
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
    s = &f->vslots[id];
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
        struct feed__url u;

        if (feed__url_parse(venue_conn_url(v, i), 0, &u, err) != 0) {
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
