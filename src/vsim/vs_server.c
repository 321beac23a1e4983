/*
 * vs_server.c - the lws side of liqmon-venue: one protocol handles every
 * websocket path (each venue's URL) and every HTTP GET (REST snapshots,
 * /control, /state, /stats).
 *
 * Writes: each ws client has a FIFO of frames; a WRITEABLE callback sends
 * at most VS_CHUNK bytes (a large frame goes out as continuation
 * fragments over several callbacks) and asks for another callback while
 * the queue is not empty, so the server never starves its own reads
 * (platform-notes).  A stalled venue simply gets no writes; its frames
 * wait in the queues.  A client more than VS_QUEUE_MAX behind is dropped,
 * as a real venue drops a slow consumer.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

struct vs_server *vs;

struct pss {
    struct vs_client *c;          /* ws */
    struct sb body;               /* http: LWS_PRE bytes, then the body */
    size_t off;
    int status;
};

static void client_free_queue(struct vs_client *c)
{
    struct vs_msg *m = c->qhead;
    while (m) {
        struct vs_msg *n = m->next;
        free(m);
        m = n;
    }
    c->qhead = c->qtail = NULL;
    c->qbytes = 0;
}

void vs_client_send(struct vs_client *c, const char *text, size_t len)
{
    if (c->closing)
        return;
    if (c->qbytes + len > VS_QUEUE_MAX) {
        /* too slow: drop it, as venues do */
        vs->dropped_slow++;
        client_free_queue(c);
        c->closing = 1;
        lws_callback_on_writable(c->wsi);
        return;
    }
    struct vs_msg *m = malloc(sizeof(*m) + LWS_PRE + len + 1);
    if (!m)
        return;
    m->next = NULL;
    m->len = len;
    m->off = 0;
    m->binary = 0;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->qtail)
        c->qtail->next = m;
    else
        c->qhead = m;
    c->qtail = m;
    c->qbytes += len;
    if (!vs->vst[c->venue].stalled)
        lws_callback_on_writable(c->wsi);
}

int vs_clients_idle(void)
{
    for (struct vs_client *c = vs->clients; c; c = c->next)
        if (c->qhead)
            return 0;
    return 1;
}

int vs_venue_clients(enum venue_id v)
{
    int n = 0;
    for (struct vs_client *c = vs->clients; c; c = c->next)
        if (c->venue == v && !c->closing)
            n++;
    return n;
}

static int client_write(struct vs_client *c)
{
    if (c->closing) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                         (unsigned char *)"drop", 4);
        return -1;
    }
    if (vs->vst[c->venue].stalled || !c->qhead)
        return 0;
    struct vs_msg *m = c->qhead;
    size_t left = m->len - m->off;
    size_t n = left > VS_CHUNK ? VS_CHUNK : left;
    int first = m->off == 0, last = n == left;
    int flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
                                   first, last);
    /* the LWS_PRE bytes before a later chunk belong to the part already
     * sent: lws may use them as header space */
    int w = lws_write(c->wsi, m->buf + LWS_PRE + m->off, n,
                      (enum lws_write_protocol)flags);
    if (w < (int)n)
        return -1;
    m->off += n;
    if (last) {
        c->qhead = m->next;
        if (!c->qhead)
            c->qtail = NULL;
        c->qbytes -= m->len;
        c->frames_out++;
        c->bytes_out += m->len;
        vs->vst[c->venue].frames_out++;
        vs->vst[c->venue].bytes_out += m->len;
        free(m);
    }
    if (c->qhead)
        lws_callback_on_writable(c->wsi);
    else if (vs->play)
        vs_play_kick(vs);
    return 0;
}

/* Query string of an HTTP request, '&'-joined. */
static void get_query(struct lws *wsi, char *q, size_t size)
{
    size_t len = 0;
    q[0] = '\0';
    for (int i = 0; i < 32; i++) {
        char frag[512];
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
                                      WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0)
            break;
        if (len + (size_t)n + 2 >= size)
            break;
        if (len)
            q[len++] = '&';
        memcpy(q + len, frag, (size_t)n);
        len += (size_t)n;
        q[len] = '\0';
    }
}

static const char *arg(struct lws *wsi, const char *name, char *buf, int len)
{
    const char *v = lws_get_urlarg_by_name(wsi, name, buf, len);
    return v ? v : NULL;
}

static void stats_json(struct sb *b)
{
    int64_t now = vs_now_ms();
    sb_printf(b, "{\"mode\":\"%s\",\"uptime_ms\":%lld,\"port\":%d,"
              "\"clients\":%d,\"http_requests\":%llu,\"dropped_slow\":%llu,"
              "\"source_done\":%s,\"venues\":{",
              vs->opt.mode == MODE_PLAY ? "play" : "generate",
              (long long)(now - vs->start_ms), vs->port, vs->nclients,
              (unsigned long long)vs->http_requests,
              (unsigned long long)vs->dropped_slow,
              vs->source_done ? "true" : "false");
    for (int v = 0; v < VENUE_COUNT; v++) {
        struct vs_venue_state *st = &vs->vst[v];
        sb_printf(b, "%s\"%s\":{\"clients\":%d,\"clients_total\":%llu,"
                  "\"frames_out\":%llu,\"bytes_out\":%llu,"
                  "\"rest_requests\":%llu,\"drops\":%llu,\"stalled\":%s,"
                  "\"instruments\":[",
                  v ? "," : "", venue_name((enum venue_id)v),
                  vs_venue_clients((enum venue_id)v),
                  (unsigned long long)st->clients_total,
                  (unsigned long long)st->frames_out,
                  (unsigned long long)st->bytes_out,
                  (unsigned long long)st->rest_requests,
                  (unsigned long long)st->drops,
                  st->stalled ? "true" : "false");
        if (vs->opt.mode == MODE_GENERATE) {
            for (int i = 0; i < vs->nsyms; i++) {
                struct vs_instr *in = &vs->instr[v][i];
                sb_printf(b, "%s{\"symbol\":\"%s\",\"seq\":%llu,"
                          "\"updates\":%llu,\"mark\":%.8g}",
                          i ? "," : "", in->name,
                          (unsigned long long)in->u,
                          (unsigned long long)in->updates, in->mark);
            }
        }
        sb_adds(b, "]}");
    }
    sb_adds(b, "}}\n");
}

/* GET /control?action=..&venue=.. */
static int control(struct lws *wsi, struct sb *b)
{
    char abuf[128], vbuf[128], sbuf[128];
    const char *action = arg(wsi, "action=", abuf, sizeof(abuf));
    const char *venue = arg(wsi, "venue=", vbuf, sizeof(vbuf));
    const char *symbol = arg(wsi, "symbol=", sbuf, sizeof(sbuf));
    char kbuf[32];
    const char *kind = arg(wsi, "kind=", kbuf, sizeof(kbuf));
    int vmask = 0;
    if (!action) {
        sb_adds(b, "{\"ok\":false,\"error\":\"action= missing\"}\n");
        return 400;
    }
    if (venue && strcmp(venue, "all") != 0) {
        int v = venue_from_name(venue);
        if (v < 0) {
            sb_printf(b, "{\"ok\":false,\"error\":\"unknown venue\"}\n");
            return 400;
        }
        vmask = 1 << v;
    } else {
        vmask = (1 << VENUE_COUNT) - 1;
    }
    int affected = 0;
    if (!strcmp(action, "garbage") && kind && !strcmp(kind, "crossed")) {
        /* the next book update of V (S), in sequence, crossed */
        if (vs->opt.mode != MODE_GENERATE) {
            sb_adds(b, "{\"ok\":false,\"error\":\"only with --generate\"}\n");
            return 409;
        }
        for (int v = 0; v < VENUE_COUNT; v++)
            for (int i = 0; v != VENUE_HYPERLIQUID && (vmask & (1 << v)) &&
                            i < vs->nsyms; i++)
                if (!symbol || !strcmp(symbol, vs->instr[v][i].name)) {
                    vs->instr[v][i].cross_next = 1;
                    affected++;
                }
    } else if (!strcmp(action, "garbage") && kind && strcmp(kind, "json") != 0) {
        for (struct vs_client *c = vs->clients; c; c = c->next) {
            if (!(vmask & (1 << c->venue)) || c->closing)
                continue;
            if (vs_send_garbage_kind(c, kind) != 0) {
                sb_adds(b, "{\"ok\":false,\"error\":\"unknown kind\"}\n");
                return 400;
            }
            affected++;
        }
    } else if (!strcmp(action, "drop") || !strcmp(action, "garbage") ||
        !strcmp(action, "oversize")) {
        for (struct vs_client *c = vs->clients; c; c = c->next) {
            if (!(vmask & (1 << c->venue)) || c->closing)
                continue;
            affected++;
            if (action[0] == 'd') {
                c->closing = 1;
                vs->vst[c->venue].drops++;
                lws_callback_on_writable(c->wsi);
            } else if (action[0] == 'g') {
                vs_send_garbage(c);
            } else {
                vs_send_oversize(c);
            }
        }
    } else if (!strcmp(action, "freeze") || !strcmp(action, "thaw")) {
        vs->frozen = action[0] == 'f';
        affected = 1;
    } else if (!strcmp(action, "stall") || !strcmp(action, "resume")) {
        int stall = action[0] == 's';
        for (int v = 0; v < VENUE_COUNT; v++)
            if (vmask & (1 << v)) {
                vs->vst[v].stalled = stall;
                affected++;
            }
        if (!stall)
            for (struct vs_client *c = vs->clients; c; c = c->next)
                if (c->qhead || c->closing)
                    lws_callback_on_writable(c->wsi);
    } else if (!strcmp(action, "skip-seq") || !strcmp(action, "bad-checksum")) {
        if (vs->opt.mode != MODE_GENERATE) {
            sb_adds(b, "{\"ok\":false,\"error\":\"only with --generate\"}\n");
            return 409;
        }
        int skip = action[0] == 's';
        for (int v = 0; v < VENUE_COUNT; v++) {
            if (!(vmask & (1 << v)))
                continue;
            if (!skip && v != VENUE_OKX)
                continue;
            if (skip && v == VENUE_HYPERLIQUID)
                continue;       /* full snapshots: no sequence to skip */
            for (int i = 0; i < vs->nsyms; i++) {
                struct vs_instr *in = &vs->instr[v][i];
                if (symbol && strcmp(symbol, in->name) != 0)
                    continue;
                if (skip)
                    in->skip_next = 1;
                else
                    in->bad_cksum_next = 1;
                affected++;
            }
        }
    } else {
        sb_printf(b, "{\"ok\":false,\"error\":\"unknown action\"}\n");
        return 400;
    }
    sb_printf(b, "{\"ok\":true,\"action\":\"%s\",\"affected\":%d}\n", action,
              affected);
    if (vs->opt.verbose)
        fprintf(stderr, "liqmon-venue: control %s venue=%s: %d affected\n",
                action, venue ? venue : "all", affected);
    return 200;
}

static int http_route(struct lws *wsi, const char *path, struct sb *b,
                      const char **ctype)
{
    char q[2048], vbuf[128], sbuf[128];
    get_query(wsi, q, sizeof(q));
    *ctype = "application/json";
    if (!strcmp(path, "/control"))
        return control(wsi, b);
    if (!strcmp(path, "/stats")) {
        stats_json(b);
        return 200;
    }
    if (!strcmp(path, "/state")) {
        const char *venue = arg(wsi, "venue=", vbuf, sizeof(vbuf));
        const char *symbol = arg(wsi, "symbol=", sbuf, sizeof(sbuf));
        if (!venue || !symbol) {
            sb_adds(b, "{\"error\":\"venue= and symbol= needed\"}\n");
            return 400;
        }
        if (vs->opt.mode == MODE_PLAY)
            return vs_play_state(vs, venue, symbol, b);
        return vs_state_json(venue, symbol, b);
    }
    if (vs->opt.mode == MODE_PLAY) {
        size_t len;
        const char *body = vs_play_rest(vs, path, q, &len);
        if (body) {
            sb_add(b, body, len);
            return 200;
        }
        sb_printf(b, "{\"error\":\"no captured answer for %s\"}\n", path);
        return 404;
    }
    return vs_rest_answer(path, wsi, b, ctype);
}

static int http_start(struct lws *wsi, struct pss *p, const char *path)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *pp = start,
        *end = hdr + sizeof(hdr) - 1;
    const char *ctype = "application/json";
    struct sb body;
    sb_init(&body);
    vs->http_requests++;
    p->status = http_route(wsi, path, &body, &ctype);
    sb_init(&p->body);
    {
        char pad[LWS_PRE];
        memset(pad, 0, sizeof(pad));
        sb_add(&p->body, pad, LWS_PRE);
    }
    if (body.len)
        sb_add(&p->body, body.p, body.len);
    sb_fini(&body);
    if (p->body.oom)
        return -1;
    p->off = 0;
    if (vs->opt.verbose)
        fprintf(stderr, "liqmon-venue: GET %s -> %d (%zu bytes)\n", path,
                p->status, p->body.len - LWS_PRE);
    if (lws_add_http_common_headers(wsi, (unsigned)p->status, ctype,
                                    p->body.len - LWS_PRE, &pp, end))
        return 1;
    if (lws_finalize_write_http_header(wsi, start, &pp, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

#define VS_HTTP_CHUNK 4096

static int http_write(struct lws *wsi, struct pss *p)
{
    size_t total = p->body.len - LWS_PRE;
    size_t left = total - p->off;
    /* 4 KiB a callback: over TLS a larger HTTP write was cut at 8 KiB and
     * the rest never went out (a /stats or /state answer over ~8 KiB hung) */
    size_t n = left > VS_HTTP_CHUNK ? VS_HTTP_CHUNK : left;
    int last = n == left;
    if (lws_write(wsi, (unsigned char *)p->body.p + LWS_PRE + p->off, n,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    p->off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    sb_fini(&p->body);
    if (lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

static int ws_established(struct lws *wsi, struct pss *p)
{
    char path[512], args[4096];
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
        return -1;
    args[0] = '\0';
    const char *streams = lws_get_urlarg_by_name(wsi, "streams=", args,
                                                 sizeof(args));
    enum vs_conn conn;
    int raw;
    int v = vs_ws_route(path, &conn, &raw);
    if (v < 0)
        return -1;
    struct vs_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->wsi = wsi;
    c->venue = (enum venue_id)v;
    c->conn = conn;
    c->raw = raw;
    vs->conn_seq++;
    snprintf(c->conn_id, sizeof(c->conn_id), "%08llx-vsim-%04llu",
             (unsigned long long)(0x5eed0000ULL + vs->conn_seq),
             (unsigned long long)vs->conn_seq);
    c->next = vs->clients;
    if (vs->clients)
        vs->clients->prev = c;
    vs->clients = c;
    vs->nclients++;
    vs->vst[v].clients_total++;
    p->c = c;
    if (vs->opt.verbose)
        fprintf(stderr, "liqmon-venue: %s client %s on %s%s%s\n",
                venue_name(c->venue), c->conn_id, path, streams ? "?streams=" : "",
                streams ? streams : "");
    vs_venue_open(c, path, streams);
    if (vs->opt.mode == MODE_PLAY)
        vs_play_client(vs);
    return 0;
}

static void ws_closed(struct pss *p)
{
    struct vs_client *c = p->c;
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        vs->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    vs->nclients--;
    client_free_queue(c);
    free(c->rx);
    if (vs->opt.verbose)
        fprintf(stderr, "liqmon-venue: %s client %s closed\n",
                venue_name(c->venue), c->conn_id);
    free(c);
    p->c = NULL;
    if (vs->play)
        vs_play_kick(vs);
}

static int ws_receive(struct lws *wsi, struct pss *p, const void *in,
                      size_t len)
{
    struct vs_client *c = p->c;
    if (!c)
        return -1;
    if (c->rxlen + len > VS_MAX_MSG_IN)
        return -1;
    char *nrx = realloc(c->rx, c->rxlen + len + 1);
    if (!nrx)
        return -1;
    c->rx = nrx;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    c->rx[c->rxlen] = '\0';
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        c->frames_in++;
        size_t n = c->rxlen;
        c->rxlen = 0;
        vs_venue_request(c, c->rx, n);
    }
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    struct pss *p = user;
    char path[512];

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        enum vs_conn conn;
        int raw;
        if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
            vs_ws_route(path, &conn, &raw) < 0)
            return 1;           /* refuse the upgrade */
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(p, 0, sizeof(*p));
        return ws_established(wsi, p);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(wsi, p, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!p->c)
            return 0;
        return client_write(p->c);
    case LWS_CALLBACK_CLOSED:
        ws_closed(p);
        return 0;

    case LWS_CALLBACK_HTTP:
        memset(p, 0, sizeof(*p));
        snprintf(path, sizeof(path), "%s", in ? (const char *)in : "/");
        return http_start(wsi, p, path);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!p || !p->body.p)
            return 0;
        return http_write(wsi, p);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p)
            sb_fini(&p->body);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { "vsim", callback, sizeof(struct pss), 8192, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcmp(addr, "localhost"))
        return 1;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

int vs_server_start(struct vs_server *s)
{
    struct lws_context_creation_info info;
    void *loops[1] = { s->loop };

    if (!s->opt.allow_remote && !is_loopback(s->opt.bind)) {
        fprintf(stderr, "liqmon-venue: refusing to bind %s: not a loopback "
                "address (use --allow-remote)\n", s->opt.bind);
        return -1;
    }
    memset(&info, 0, sizeof(info));
    info.port = s->opt.port;
    info.iface = strcmp(s->opt.bind, "localhost") ? s->opt.bind : "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    if (!strchr(info.iface, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.max_http_header_data = 16384;
    info.timeout_secs = 20;
    if (s->opt.tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->opt.cert;
        info.ssl_private_key_filepath = s->opt.key;
    }
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        fprintf(stderr, "liqmon-venue: cannot create the lws context on "
                "%s:%d (port in use? libwebsockets-evlib-uv installed?%s)\n",
                s->opt.bind, s->opt.port, s->opt.tls ? " cert/key readable?" : "");
        return -1;
    }
    s->vh = lws_get_vhost_by_name(s->ctx, "default");
    s->port = s->vh ? lws_get_vhost_listen_port(s->vh) : s->opt.port;
    return 0;
}

void vs_server_stop(struct vs_server *s)
{
    if (s->ctx)
        lws_context_destroy(s->ctx);
}
