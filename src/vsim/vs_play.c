/*
 * vs_play.c - --play FILE: a capture (docs/capture-format.md, plain or
 * gzip) replayed to the connected clients.
 *
 * Each ws frame of venue V goes to every client of V on the matching
 * connection (Binance: the capture's "conn" if it names public/market,
 * else by content; the other venues have one connection), at the
 * capture's pace divided by --speed (0: as fast as the clients read).
 * Frames that were the venue's answers to the recorder's own requests
 * (subscribe acks, pongs) are not replayed: this server answers requests
 * itself.  REST frames are read up front and served as the answers to
 * matching GETs: the latest one at or before the current play time, else
 * the first one.
 *
 * Backpressure: when a target client has more than PLAY_HIGH_WATER bytes
 * queued, playback waits until a queue drains (vs_play_kick).
 *
 * Frames are read with the daemon's own capture reader (src/feed/capture.c):
 * plain or gzip, bad lines counted and reported, reading goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/capture.h"
#include "liqmon/jtok.h"
#include "vsim.h"

#define PLAY_HIGH_WATER (1u << 20)
#define PLAY_BATCH 512

struct rest_ent {
    char *url;
    char *body;
    size_t len;
    int64_t ts;
};

struct cap_frame {
    int64_t ts;
    int venue;
    int rest;
    char conn[32];
    char url[512];
    char *data;             /* malloc'd, decoded */
    size_t len;
};

struct play {
    capture_reader_t *rd;
    uint64_t bad, frames, skipped_acks, loops;
    uv_timer_t timer;
    int timer_on;
    int started, blocked, eof, prescan;
    int64_t t0_cap;             /* ts of the first frame of this pass */
    uint64_t t0_wall;           /* uv_now at that point */
    int64_t now_cap;            /* ts of the last dispatched frame */
    struct cap_frame next;
    int have_next;
    struct rest_ent *rest;
    size_t nrest, restcap;
};

static void pump(uv_timer_t *t);

static void on_bad(const char *msg, void *arg)
{
    struct play *p = arg;
    if (p->prescan)
        return;
    if (vs->opt.verbose || p->bad < 5)
        fprintf(stderr, "liqmon-venue: %s\n", msg);
    p->bad++;
}

/* Next good frame (a copy).  1, 0 at EOF or on a read error. */
static int next_frame(struct play *p, struct cap_frame *f)
{
    struct capture_frame cf;
    lq_err_t err;
    int r = capture_next(p->rd, &cf, on_bad, p, &err);
    if (r < 0)
        fprintf(stderr, "liqmon-venue: %s\n", err.msg);
    if (r <= 0)
        return 0;
    memset(f, 0, sizeof(*f));
    f->ts = cf.ts;
    f->venue = (int)cf.venue;
    f->rest = cf.src == FRAME_REST;
    snprintf(f->conn, sizeof(f->conn), "%s", cf.conn ? cf.conn : "");
    snprintf(f->url, sizeof(f->url), "%s", cf.url ? cf.url : "");
    f->data = malloc(cf.len + 1);
    if (!f->data)
        return 0;
    memcpy(f->data, cf.data, cf.len);
    f->data[cf.len] = '\0';
    f->len = cf.len;
    return 1;
}

static int reopen(struct play *p)
{
    lq_err_t err;
    capture_close(p->rd);
    p->rd = capture_open(vs->opt.play_file, &err);
    if (!p->rd) {
        fprintf(stderr, "liqmon-venue: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* A frame that answered the recorder's own request. */
static int is_ack(const struct cap_frame *f)
{
    struct jtok t[64];
    if (f->venue == VENUE_OKX && f->len == 4 && !memcmp(f->data, "pong", 4))
        return 1;
    int n = jtok_parse(f->data, f->len, t, 64, NULL);
    if (n == JTOK_ENOTOK)
        return 0;               /* big: data */
    if (n < 1 || t[0].type != JT_OBJ)
        return 0;
    switch (f->venue) {
    case VENUE_BINANCE:
        return jtok_get(f->data, t, 0, "result") >= 0;
    case VENUE_BYBIT:
        return jtok_get(f->data, t, 0, "op") >= 0;
    case VENUE_OKX:
        return jtok_get(f->data, t, 0, "event") >= 0;
    default: {
        int c = jtok_get(f->data, t, 0, "channel");
        return c >= 0 && (jtok_streq(f->data, t, c, "subscriptionResponse") ||
                          jtok_streq(f->data, t, c, "pong"));
    }
    }
}

static enum vs_conn binance_conn(const struct cap_frame *f)
{
    if (strstr(f->conn, "market"))
        return VC_BN_MARKET;
    if (strstr(f->conn, "public"))
        return VC_BN_PUBLIC;
    if (strstr(f->data, "\"depthUpdate\"") || strstr(f->data, "@depth") ||
        strstr(f->data, "\"bookTicker\""))
        return VC_BN_PUBLIC;
    if (strstr(f->data, "\"forceOrder\"") &&
        !strcmp(vs->opt.bn_liq_route, "public"))
        return VC_BN_PUBLIC;
    return VC_BN_MARKET;
}

static int dispatch(struct play *p, const struct cap_frame *f)
{
    enum vs_conn want = f->venue == VENUE_BINANCE ? binance_conn(f) : VC_SINGLE;
    for (struct vs_client *c = vs->clients; c; c = c->next) {
        if ((int)c->venue != f->venue || c->conn != want || c->closing)
            continue;
        vs_client_send(c, f->data, f->len);
    }
    p->frames++;
    p->now_cap = f->ts;
    return 0;
}

static int blocked_by_client(void)
{
    for (struct vs_client *c = vs->clients; c; c = c->next)
        if (c->qbytes > PLAY_HIGH_WATER)
            return 1;
    return 0;
}

static void arm(struct play *p, uint64_t ms)
{
    uv_timer_start(&p->timer, pump, ms, 0);
    p->timer_on = 1;
}

static void pump(uv_timer_t *t)
{
    struct play *p = t->data;
    int batch = 0;
    p->timer_on = 0;
    if (!p->started || vs->stopping)
        return;
    for (;;) {
        if (!p->have_next) {
            int r;
            do {
                r = next_frame(p, &p->next);
                if (r && (p->next.rest || is_ack(&p->next))) {
                    if (!p->next.rest)
                        p->skipped_acks++;
                    free(p->next.data);
                    continue;
                }
                break;
            } while (1);
            if (!r) {
                if (vs->opt.loop && reopen(p) == 0) {
                    p->loops++;
                    p->t0_cap = 0;
                    arm(p, 1);
                    return;
                }
                p->eof = 1;
                vs->source_done = 1;
                return;
            }
            p->have_next = 1;
            if (p->t0_cap == 0) {
                p->t0_cap = p->next.ts;
                p->t0_wall = uv_now(vs->loop);
            }
        }
        if (vs->opt.speed > 0) {
            double due = (double)p->t0_wall +
                (double)(p->next.ts - p->t0_cap) / 1e6 / vs->opt.speed;
            double now = (double)uv_now(vs->loop);
            if (due > now + 0.5) {
                arm(p, (uint64_t)(due - now));
                return;
            }
        }
        if (blocked_by_client()) {
            p->blocked = 1;     /* vs_play_kick resumes */
            return;
        }
        dispatch(p, &p->next);
        free(p->next.data);
        p->next.data = NULL;
        p->have_next = 0;
        if (++batch >= PLAY_BATCH) {
            arm(p, 0);          /* let the loop write and read */
            return;
        }
    }
}

void vs_play_kick(struct vs_server *s)
{
    struct play *p = s->play;
    if (p && p->blocked && !blocked_by_client()) {
        p->blocked = 0;
        if (!p->timer_on)
            arm(p, 0);
    }
}

static void start(struct play *p)
{
    if (p->started)
        return;
    p->started = 1;
    if (vs->opt.verbose)
        fprintf(stderr, "liqmon-venue: playing %s (%zu REST answers)\n",
                vs->opt.play_file, p->nrest);
    arm(p, 0);
}

void vs_play_client(struct vs_server *s)
{
    struct play *p = s->play;
    if (p && !p->started && s->nclients >= s->opt.wait_clients)
        start(p);
}

int vs_play_start(struct vs_server *s)
{
    struct play *p = calloc(1, sizeof(*p));
    struct cap_frame f;
    if (!p)
        return -1;
    s->play = p;
    if (reopen(p))
        return -1;
    p->prescan = 1;
    /* REST answers up front */
    while (next_frame(p, &f)) {
        if (!f.rest) {
            free(f.data);
            continue;
        }
        if (p->nrest == p->restcap) {
            size_t cap = p->restcap ? p->restcap * 2 : 16;
            struct rest_ent *r = realloc(p->rest, cap * sizeof(*r));
            if (!r) {
                free(f.data);
                return -1;
            }
            p->rest = r;
            p->restcap = cap;
        }
        struct rest_ent *e = &p->rest[p->nrest++];
        e->url = strdup(f.url);
        e->body = f.data;
        e->len = f.len;
        e->ts = f.ts;
    }
    if (reopen(p))
        return -1;
    p->bad = 0;
    p->prescan = 0;
    uv_timer_init(s->loop, &p->timer);
    p->timer.data = p;
    if (s->opt.wait_clients <= 0)
        start(p);
    return 0;
}

static int url_match(const char *capt, const char *path, const char *query)
{
    size_t pl = strlen(path);
    if (strncmp(capt, path, pl) != 0 || (capt[pl] != '\0' && capt[pl] != '?'))
        return 0;
    const char *cq = capt[pl] == '?' ? capt + pl + 1 : "";
    if (!strcmp(cq, query))
        return 2;               /* exact */
    /* same instrument: symbol= / instId= / coin= agree */
    static const char *keys[] = { "symbol=", "instId=", "coin=" };
    for (size_t k = 0; k < 3; k++) {
        const char *a = strstr(cq, keys[k]), *b = strstr(query, keys[k]);
        if (!a || !b)
            continue;
        size_t la = strcspn(a, "&"), lb = strcspn(b, "&");
        return la == lb && !strncmp(a, b, la) ? 1 : 0;
    }
    return *cq == '\0' && *query == '\0';
}

const char *vs_play_rest(struct vs_server *s, const char *path,
                         const char *query, size_t *len)
{
    struct play *p = s->play;
    const struct rest_ent *best = NULL, *first = NULL;
    int best_q = 0, first_q = 0;
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->nrest; i++) {
        const struct rest_ent *e = &p->rest[i];
        int q = url_match(e->url, path, query);
        if (!q)
            continue;
        if (!first || q > first_q) {
            first = e;
            first_q = q;
        }
        if (e->ts <= p->now_cap && q >= best_q) {
            best = e;
            best_q = q;
        }
    }
    if (!best)
        best = first;
    if (!best)
        return NULL;
    for (int v = 0; v < VENUE_COUNT; v++)
        if ((v == VENUE_BINANCE && strstr(path, "/fapi/")) ||
            (v == VENUE_OKX && strstr(path, "/api/v5/")))
            s->vst[v].rest_requests++;
    *len = best->len;
    return best->body;
}

int vs_play_state(struct vs_server *s, const char *venue, const char *symbol,
                  struct sb *body)
{
    struct play *p = s->play;
    (void)venue;
    (void)symbol;
    sb_printf(body, "{\"error\":\"books are not tracked in --play mode\","
              "\"frames_played\":%llu,\"bad_lines\":%llu}\n",
              p ? (unsigned long long)p->frames : 0ULL,
              p ? (unsigned long long)p->bad : 0ULL);
    return 501;
}

static void on_closed(uv_handle_t *h)
{
    struct play *p = h->data;
    for (size_t i = 0; i < p->nrest; i++) {
        free(p->rest[i].url);
        free(p->rest[i].body);
    }
    free(p->rest);
    if (p->have_next)
        free(p->next.data);
    free(p);
}

void vs_play_stop(struct vs_server *s)
{
    struct play *p = s->play;
    if (!p)
        return;
    s->play = NULL;
    capture_close(p->rd);
    p->rd = NULL;
    p->timer.data = p;
    if (p->timer.loop) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, on_closed);
    } else {
        on_closed((uv_handle_t *)&p->timer);
    }
}
