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
static void track(const struct cap_frame *f);

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
    track(f);
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
                    if (p->next.rest)
                        track(&p->next);
                    else
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

/* ---- books as played, for /state ------------------------------------
 * Every book frame dispatched (and every captured REST snapshot, at its
 * place in the capture) is applied here, so /state answers with the book
 * a correct client holds now: prices and sizes as the capture wrote them
 * (venue units), seq = the venue's last update id. */

struct plv {
    double px;
    char p[32], q[40];
};

struct pbook {
    int venue;
    char sym[48];
    struct plv *lv[2];
    int n[2], cap[2];
    uint64_t seq;
};

static struct pbook *books;
static int nbooks, capbooks;

static struct pbook *pbook_get(int venue, const char *sym, size_t len)
{
    if (len == 0 || len >= sizeof(books[0].sym))
        return NULL;
    for (int i = 0; i < nbooks; i++)
        if (books[i].venue == venue && strlen(books[i].sym) == len &&
            !memcmp(books[i].sym, sym, len))
            return &books[i];
    if (nbooks == capbooks) {
        int cap = capbooks ? capbooks * 2 : 8;
        struct pbook *nb = realloc(books, (size_t)cap * sizeof(*nb));
        if (!nb)
            return NULL;
        books = nb;
        capbooks = cap;
    }
    struct pbook *b = &books[nbooks++];
    memset(b, 0, sizeof(*b));
    b->venue = venue;
    memcpy(b->sym, sym, len);
    b->sym[len] = '\0';
    return b;
}

static void pbook_clear(struct pbook *b)
{
    b->n[0] = b->n[1] = 0;
}

/* side 0 bids (descending), 1 asks (ascending); q "0": remove */
static void pbook_set(struct pbook *b, int side, const char *p, size_t pl,
                      const char *q, size_t ql)
{
    double px, qty;
    if (pl >= sizeof(b->lv[0][0].p) || ql >= sizeof(b->lv[0][0].q) ||
        jtok_parse_double(p, pl, &px) || jtok_parse_double(q, ql, &qty))
        return;
    struct plv *l = b->lv[side];
    int n = b->n[side], i = 0;
    while (i < n && (side == 0 ? l[i].px > px : l[i].px < px))
        i++;
    int found = i < n && l[i].px == px;
    if (qty == 0) {
        if (found) {
            memmove(&l[i], &l[i + 1], (size_t)(n - i - 1) * sizeof(*l));
            b->n[side]--;
        }
        return;
    }
    if (!found) {
        if (n == b->cap[side]) {
            int cap = n ? n * 2 : 64;
            struct plv *nl = realloc(l, (size_t)cap * sizeof(*nl));
            if (!nl)
                return;
            b->lv[side] = l = nl;
            b->cap[side] = cap;
        }
        memmove(&l[i + 1], &l[i], (size_t)(n - i) * sizeof(*l));
        b->n[side]++;
        l[i].px = px;
        memcpy(l[i].p, p, pl);
        l[i].p[pl] = '\0';
    }
    memcpy(l[i].q, q, ql);
    l[i].q[ql] = '\0';
}

/* levels array: [[p,q,...],...] or Hyperliquid [{"px","sz","n"},...] */
static void pbook_levels(struct pbook *b, int side, const char *s,
                         const struct jtok *t, int arr)
{
    if (arr < 0 || t[arr].type != JT_ARR)
        return;
    for (int i = jtok_first(t, arr); i >= 0 && i < (int)t[arr].end;
         i = jtok_next(t, i)) {
        int p, q;
        if (t[i].type == JT_ARR) {
            p = jtok_at(t, i, 0);
            q = jtok_at(t, i, 1);
        } else if (t[i].type == JT_OBJ) {
            p = jtok_get(s, t, i, "px");
            q = jtok_get(s, t, i, "sz");
        } else {
            continue;
        }
        if (p < 0 || q < 0 || t[p].type != JT_STR || t[q].type != JT_STR)
            continue;
        pbook_set(b, side, s + t[p].start, t[p].len, s + t[q].start,
                  t[q].len);
    }
}

static uint64_t tok_u64(const char *s, const struct jtok *t, int i)
{
    int64_t v = 0;
    if (i < 0 || jtok_i64(s, t, i, &v) || v < 0)
        return 0;
    return (uint64_t)v;
}

static struct jtok *toks;
static size_t ntoks;

static void track(const struct cap_frame *f)
{
    const char *s = f->data;
    size_t need = f->len / 2 + 64;
    if (need > ntoks) {
        struct jtok *nt = realloc(toks, need * sizeof(*nt));
        if (!nt)
            return;
        toks = nt;
        ntoks = need;
    }
    struct jtok *t = toks;
    if (jtok_parse(s, f->len, t, ntoks, NULL) < 1 || t[0].type != JT_OBJ)
        return;
    struct pbook *b = NULL;
    int k;
    switch (f->venue) {
    case VENUE_BINANCE: {
        if (f->rest) {
            const char *sym = strstr(f->url, "symbol=");
            if (!sym)
                return;
            sym += 7;
            b = pbook_get(f->venue, sym, strcspn(sym, "&"));
            if (!b)
                return;
            pbook_clear(b);
            pbook_levels(b, 0, s, t, jtok_get(s, t, 0, "bids"));
            pbook_levels(b, 1, s, t, jtok_get(s, t, 0, "asks"));
            b->seq = tok_u64(s, t, jtok_get(s, t, 0, "lastUpdateId"));
            return;
        }
        int d = jtok_get(s, t, 0, "data");
        if (d < 0)
            d = 0;
        if (t[d].type != JT_OBJ ||
            !jtok_streq(s, t, jtok_get(s, t, d, "e"), "depthUpdate") ||
            (k = jtok_get(s, t, d, "s")) < 0)
            return;
        b = pbook_get(f->venue, s + t[k].start, t[k].len);
        uint64_t u = tok_u64(s, t, jtok_get(s, t, d, "u"));
        if (!b || (b->seq && u <= b->seq))
            return;
        pbook_levels(b, 0, s, t, jtok_get(s, t, d, "b"));
        pbook_levels(b, 1, s, t, jtok_get(s, t, d, "a"));
        b->seq = u;
        return;
    }
    case VENUE_BYBIT: {
        int tp = jtok_get(s, t, 0, "topic"), d = jtok_get(s, t, 0, "data");
        if (tp < 0 || d < 0 || t[tp].type != JT_STR || t[tp].len < 10 ||
            memcmp(s + t[tp].start, "orderbook.", 10) || t[d].type != JT_OBJ ||
            (k = jtok_get(s, t, d, "s")) < 0)
            return;
        b = pbook_get(f->venue, s + t[k].start, t[k].len);
        if (!b)
            return;
        if (jtok_streq(s, t, jtok_get(s, t, 0, "type"), "snapshot"))
            pbook_clear(b);
        pbook_levels(b, 0, s, t, jtok_get(s, t, d, "b"));
        pbook_levels(b, 1, s, t, jtok_get(s, t, d, "a"));
        b->seq = tok_u64(s, t, jtok_get(s, t, d, "u"));
        return;
    }
    case VENUE_OKX: {
        int d = jtok_get(s, t, 0, "data"), item;
        if (d < 0 || t[d].type != JT_ARR || (item = jtok_at(t, d, 0)) < 0)
            return;
        int snapshot = 1;
        if (f->rest) {
            const char *id = strstr(f->url, "instId=");
            if (!id)
                return;
            id += 7;
            b = pbook_get(f->venue, id, strcspn(id, "&"));
        } else {
            int arg = jtok_get(s, t, 0, "arg"), ch, id;
            if (arg < 0 || (ch = jtok_get(s, t, arg, "channel")) < 0 ||
                t[ch].type != JT_STR || t[ch].len < 5 ||
                memcmp(s + t[ch].start, "books", 5) ||
                (id = jtok_get(s, t, arg, "instId")) < 0)
                return;
            b = pbook_get(f->venue, s + t[id].start, t[id].len);
            snapshot = jtok_streq(s, t, jtok_get(s, t, 0, "action"),
                                  "snapshot");
        }
        if (!b)
            return;
        if (snapshot)
            pbook_clear(b);
        pbook_levels(b, 0, s, t, jtok_get(s, t, item, "bids"));
        pbook_levels(b, 1, s, t, jtok_get(s, t, item, "asks"));
        b->seq = tok_u64(s, t, jtok_get(s, t, item, "seqId"));
        return;
    }
    default: {
        int c = jtok_get(s, t, 0, "channel"), d = jtok_get(s, t, 0, "data"), lv;
        if (!jtok_streq(s, t, c, "l2Book") || d < 0 ||
            (k = jtok_get(s, t, d, "coin")) < 0 ||
            (lv = jtok_get(s, t, d, "levels")) < 0 || t[lv].type != JT_ARR)
            return;
        b = pbook_get(f->venue, s + t[k].start, t[k].len);
        if (!b)
            return;
        pbook_clear(b);
        pbook_levels(b, 0, s, t, jtok_at(t, lv, 0));
        pbook_levels(b, 1, s, t, jtok_at(t, lv, 1));
        b->seq = tok_u64(s, t, jtok_get(s, t, d, "time"));
    }
    }
}

static void tracker_free(void)
{
    for (int i = 0; i < nbooks; i++) {
        free(books[i].lv[0]);
        free(books[i].lv[1]);
    }
    free(books);
    books = NULL;
    nbooks = capbooks = 0;
    free(toks);
    toks = NULL;
    ntoks = 0;
}

int vs_play_state(struct vs_server *s, const char *venue, const char *symbol,
                  struct sb *body)
{
    struct play *p = s->play;
    int v = venue_from_name(venue);
    struct pbook *b = NULL;
    for (int i = 0; v >= 0 && i < nbooks; i++)
        if (books[i].venue == v && !strcmp(books[i].sym, symbol))
            b = &books[i];
    if (!b) {
        sb_printf(body, "{\"error\":\"no book played for %s %s\"}\n",
                  v >= 0 ? venue : "(unknown venue)", symbol);
        return 404;
    }
    sb_printf(body, "{\"venue\":\"%s\",\"symbol\":\"%s\",\"units\":\"%s\","
              "\"seq\":%llu,\"frames_played\":%llu", venue, b->sym,
              v == VENUE_OKX ? "contracts" : "base",
              (unsigned long long)b->seq,
              p ? (unsigned long long)p->frames : 0ULL);
    for (int side = 0; side < 2; side++) {
        sb_adds(body, side ? ",\"asks\":[" : ",\"bids\":[");
        for (int i = 0; i < b->n[side]; i++)
            sb_printf(body, "%s[\"%s\",\"%s\"]", i ? "," : "",
                      b->lv[side][i].p, b->lv[side][i].q);
        sb_adds(body, "]");
    }
    sb_adds(body, "}\n");
    return 200;
}

static void on_closed(uv_handle_t *h)
{
    struct play *p = h->data;
    for (size_t i = 0; i < p->nrest; i++) {
        free(p->rest[i].url);
        free(p->rest[i].body);
    }
    free(p->rest);
    tracker_free();
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
