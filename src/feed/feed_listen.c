/*
 * feed_listen.c - listening HTTP vhosts on the feed's lws context
 * (feed.h: feed_listen, feed_request_arg, feed_respond*).
 *
 * One struct flisten per feed_listen: the strings lws' vhost points at
 * (lws 4.1 keeps info.vhost_name and info.iface as pointers, and unlinks
 * the Unix socket path when it frees the vhost), its own protocol table
 * (protocols[0] gets every HTTP request; .user points back at the
 * listener), the handler.  All stay until feed_destroy, after the last
 * lws_context_destroy.
 *
 * One struct lreq per request, from LWS_CALLBACK_HTTP to the end of the
 * answer; the wsi's per-session data (lws' pss) points at it, and it is on
 * its listener's list so that feed_destroy frees what lws never closed.
 *
 *   LWS_CALLBACK_HTTP            method, path, args, content type;
 *                                no body: handler, answer
 *                                Content-Length > max_body: 413 now (lws
 *                                then reads and discards the body)
 *                                POST/PUT/PATCH without it: 411, close
 *                                else wait for the body
 *   HTTP_BODY                    accumulate
 *   HTTP_BODY_COMPLETION         handler, answer
 *   HTTP_WRITEABLE               the body in 16 KiB pieces, the last one
 *                                LWS_WRITE_HTTP_FINAL, then
 *                                lws_http_transaction_completed (keep-
 *                                alive) or close
 *   CLOSED_HTTP, DROP_PROTOCOL   free the lreq (a new transaction on a
 *                                kept-alive connection gets a fresh pss)
 *
 * Unix sockets: lws 4.1 unlinks whatever is at the path before binding
 * and sets the mode only when it changes the owner, so the path is
 * checked first (a socket file nobody listens on may be replaced, nothing
 * else) and the mode is set here right after the bind.  Put the socket
 * in a directory only the daemon's user and group can enter (systemd's
 * RuntimeDirectory) if the moment between bind and chmod matters.
 */
#include "feed_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "liqmon/log.h"

#define MOD FEED__MOD

#define LISTEN_MAX_BODY_DEFAULT ((size_t)64 << 10)
#define LISTEN_MAX_HEADERS 8
#define LISTEN_CHUNK 16384

struct lreq;

struct flisten {
    struct flisten *next;
    feed_t *f;
    char *name;
    char *iface;                  /* Unix socket path or address */
    int is_unix;
    unsigned mode;
    int port;                     /* asked for (TCP) */
    int bound;                    /* listening on (TCP) */
    size_t max_body;
    feed_handler_fn handler;
    void *arg;
    struct lws_protocols protocols[2];
    struct lws_vhost *vh;         /* NULL if creating it failed */
    struct lreq *reqs;            /* in flight */
};

struct feed_response {
    int status;                   /* 0: not set */
    char ctype[128];
    char *body;                   /* malloc'd */
    size_t len;
    int nomem;
    int nhdr;
    char hname[LISTEN_MAX_HEADERS][64];
    char hvalue[LISTEN_MAX_HEADERS][256];
};

enum lreq_state { RQ_HEADERS = 0, RQ_BODY, RQ_ANSWERING };

struct lreq {
    struct lreq *prev, *next;     /* on l->reqs */
    struct flisten *l;
    struct lreq **pss_slot;       /* the pss pointer at us */
    enum lreq_state state;
    int close_after;              /* close the connection after the answer */
    int head;                     /* HEAD: no body on the wire */
    struct feed_request rq;
    char method_name[16];
    char *path, *query, *ctype;
    char **args;
    char *body;
    size_t body_len, body_cap;
    struct feed_response res;
    size_t sent;
};

/* The per-session data lws allocates for each connection (and again for
 * each transaction of a kept-alive one). */
struct lpss {
    struct lreq *rq;
};

/* ---- responses ---------------------------------------------------------------- */

static void res_set(struct feed_response *res, int status, const char *ctype,
                    char *body, size_t len)
{
    free(res->body);
    res->status = status;
    snprintf(res->ctype, sizeof(res->ctype), "%s",
             ctype ? ctype : "application/json");
    res->body = body;
    res->len = len;
    res->nomem = 0;
}

int feed_respond_take(struct feed_response *res, int status,
                      const char *content_type, char *body, size_t len)
{
    if (res == NULL || status < 100 || status > 999) {
        free(body);
        return -1;
    }
    if (body == NULL && len > 0) {
        res_set(res, status, content_type, NULL, 0);
        res->nomem = 1;
        return -1;
    }
    res_set(res, status, content_type, body, len);
    return 0;
}

int feed_respond(struct feed_response *res, int status,
                 const char *content_type, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL) {
        if (res)
            res->nomem = 1;
        return -1;
    }
    if (len > 0)
        memcpy(copy, body, len);
    copy[len] = '\0';
    return feed_respond_take(res, status, content_type, copy, len);
}

int feed_respondf(struct feed_response *res, int status,
                  const char *content_type, const char *fmt, ...)
{
    va_list ap;
    char *buf;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
        if (res)
            res->nomem = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return feed_respond_take(res, status, content_type, buf, (size_t)n);
}

int feed_respond_header(struct feed_response *res, const char *name,
                        const char *value)
{
    size_t n;

    if (res == NULL || name == NULL || value == NULL ||
        res->nhdr >= LISTEN_MAX_HEADERS)
        return -1;
    n = strlen(name);
    if (n == 0 || n >= sizeof(res->hname[0]) - 1 ||
        strlen(value) >= sizeof(res->hvalue[0]))
        return -1;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-'))
            return -1;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -1;
    /* lws wants "name:" for HTTP/1 */
    snprintf(res->hname[res->nhdr], sizeof(res->hname[0]), "%s:", name);
    snprintf(res->hvalue[res->nhdr], sizeof(res->hvalue[0]), "%s", value);
    res->nhdr++;
    return 0;
}

const char *feed_request_arg(const struct feed_request *req, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->nargs; i++) {
        const char *a = req->args[i];

        if (strncmp(a, name, n) == 0 && (a[n] == '=' || a[n] == '\0'))
            return a[n] == '=' ? a + n + 1 : a + n;
    }
    return NULL;
}

/* ---- requests ------------------------------------------------------------------ */

static void lreq_free(struct lreq *r)
{
    if (r == NULL)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        r->l->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->pss_slot)
        *r->pss_slot = NULL;
    if (r->args)
        for (size_t i = 0; i < r->rq.nargs; i++)
            free(r->args[i]);
    free(r->args);
    free(r->path);
    free(r->query);
    free(r->ctype);
    free(r->body);
    free(r->res.body);
    free(r);
}

/* A header's value as a malloc'd string ("" when absent), or NULL. */
static char *hdr_dup(struct lws *wsi, enum lws_token_indexes h)
{
    int n = lws_hdr_total_length(wsi, h);
    char *s = malloc(n > 0 ? (size_t)n + 1 : 1);

    if (s == NULL)
        return NULL;
    s[0] = '\0';
    if (n > 0 && lws_hdr_copy(wsi, s, n + 1, h) < 0)
        s[0] = '\0';
    return s;
}

static const struct {
    enum lws_token_indexes tok;
    enum feed_method m;
    const char *name;
} methods[] = {
    { WSI_TOKEN_GET_URI, FEED_METHOD_GET, "GET" },
    { WSI_TOKEN_POST_URI, FEED_METHOD_POST, "POST" },
    { WSI_TOKEN_PUT_URI, FEED_METHOD_PUT, "PUT" },
    { WSI_TOKEN_PATCH_URI, FEED_METHOD_PATCH, "PATCH" },
    { WSI_TOKEN_DELETE_URI, FEED_METHOD_DELETE, "DELETE" },
    { WSI_TOKEN_OPTIONS_URI, FEED_METHOD_OPTIONS, "OPTIONS" },
    { WSI_TOKEN_HEAD_URI, FEED_METHOD_HEAD, "HEAD" },
};

/* Take the request line and headers from lws.  NULL: out of memory. */
static struct lreq *lreq_new(struct flisten *l, struct lws *wsi,
                             const char *path)
{
    struct lreq *r = calloc(1, sizeof(*r));
    size_t qlen = 0;
    int nargs = 0;

    if (r == NULL)
        return NULL;
    r->l = l;
    r->next = l->reqs;
    if (l->reqs)
        l->reqs->prev = r;
    l->reqs = r;

    r->rq.method = FEED_METHOD_OTHER;
    snprintf(r->method_name, sizeof(r->method_name), "?");
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
            r->rq.method = methods[i].m;
            snprintf(r->method_name, sizeof(r->method_name), "%s", methods[i].name);
            break;
        }
    r->head = r->rq.method == FEED_METHOD_HEAD;
    r->path = strdup(path && *path ? path : "/");
    r->ctype = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    while (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, nargs) > 0)
        nargs++;
    r->args = calloc((size_t)nargs + 1, sizeof(char *));
    if (r->path == NULL || r->ctype == NULL || r->args == NULL)
        goto nomem;
    for (int i = 0; i < nargs; i++) {
        int n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);

        r->args[i] = malloc((size_t)n + 1);
        if (r->args[i] == NULL)
            goto nomem;
        r->rq.nargs = (size_t)i + 1;
        if (lws_hdr_copy_fragment(wsi, r->args[i], n + 1,
                                  WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            r->args[i][0] = '\0';
        qlen += strlen(r->args[i]) + 1;
    }
    r->query = malloc(qlen + 1);
    if (r->query == NULL)
        goto nomem;
    r->query[0] = '\0';
    for (size_t i = 0, o = 0; i < r->rq.nargs; i++)
        o += (size_t)sprintf(r->query + o, "%s%s", i ? "&" : "", r->args[i]);

    r->rq.method_name = r->method_name;
    r->rq.path = r->path;
    r->rq.query = r->query;
    r->rq.args = (const char *const *)r->args;
    r->rq.content_type = r->ctype;
    r->rq.body = "";
    r->rq.listener = l->name;
    r->rq.unix_socket = l->is_unix;
    return r;
nomem:
    lreq_free(r);
    return NULL;
}

static int body_append(struct lreq *r, const void *in, size_t len)
{
    if (r->body_len + len > r->l->max_body)
        return -1;
    if (r->body_len + len + 1 > r->body_cap) {
        size_t want = r->body_cap ? r->body_cap : 1024;
        char *nb;

        while (want < r->body_len + len + 1)
            want *= 2;
        nb = realloc(r->body, want);
        if (nb == NULL)
            return -1;
        r->body = nb;
        r->body_cap = want;
    }
    if (len > 0)
        memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

/* ---- answering ----------------------------------------------------------------- */

static void res_error(struct feed_response *res, int status, const char *text)
{
    if (feed_respondf(res, status, NULL, "{\"error\":\"%s\"}", text) != 0)
        res_set(res, status, NULL, NULL, 0);
}

/* Write the status line and headers; the body follows from WRITEABLE.
 * 0, or -1: close the connection. */
static int answer_start(struct lreq *r, struct lws *wsi)
{
    unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
                  *end = buf + sizeof(buf) - 1;
    struct feed_response *res = &r->res;

    if (res->nomem)
        res_error(res, 500, "out of memory");
    r->state = RQ_ANSWERING;
    r->sent = 0;
    if (res->status < 200 || res->status == 204 || res->status == 304) {
        /* no body, and no Content-Length (RFC 9110 8.6) */
        r->head = 1;
        if (lws_add_http_header_status(wsi, (unsigned)res->status, &p, end))
            return -1;
    } else if (lws_add_http_common_headers(wsi, (unsigned)res->status, res->ctype,
                                           res->len, &p, end)) {
        return -1;
    }
    for (int i = 0; i < res->nhdr; i++)
        if (lws_add_http_header_by_name(wsi, (unsigned char *)res->hname[i],
                                        (unsigned char *)res->hvalue[i],
                                        (int)strlen(res->hvalue[i]), &p, end))
            return -1;
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     (unsigned char *)"close", 5, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Call the handler and start the answer. */
static int dispatch(struct lreq *r, struct lws *wsi)
{
    struct flisten *l = r->l;

    r->rq.body = r->body ? r->body : "";
    r->rq.body_len = r->body_len;
    l->handler(l->arg, &r->rq, &r->res);
    if (r->res.status == 0 && !r->res.nomem) {
        log_msg(LL_ERROR, MOD, "listener %s: %s %s: the handler gave no answer",
                l->name, r->method_name, r->path);
        res_error(&r->res, 500, "no answer");
    }
    return answer_start(r, wsi);
}

/* One piece of the body per WRITEABLE; then end the transaction.  0, or
 * -1: close the connection. */
static int answer_more(struct lreq *r, struct lws *wsi)
{
    unsigned char buf[LWS_PRE + LISTEN_CHUNK];
    size_t left = r->head ? 0 : r->res.len - r->sent;
    size_t n = left > LISTEN_CHUNK ? LISTEN_CHUNK : left;
    int close_after = r->close_after;

    if (n > 0) {
        int last = n == left;

        memcpy(buf + LWS_PRE, r->res.body + r->sent, n);
        if (lws_write(wsi, buf + LWS_PRE, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        r->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    /* done: free the request now; a kept-alive connection gets a new pss
     * for its next transaction */
    lreq_free(r);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the listeners' lws callback ------------------------------------------------ */

static int method_wants_body(enum feed_method m)
{
    return m == FEED_METHOD_POST || m == FEED_METHOD_PUT || m == FEED_METHOD_PATCH;
}

static int on_http(struct flisten *l, struct lpss *pss, struct lws *wsi,
                   const char *path)
{
    struct lreq *r;
    char cl[32];
    long long clen = -1;

    lreq_free(pss->rq);       /* a previous transaction's leftover */
    r = lreq_new(l, wsi, path);
    if (r == NULL)
        return -1;
    r->pss_slot = &pss->rq;
    pss->rq = r;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *end;

        errno = 0;
        clen = strtoll(cl, &end, 10);
        if (errno || end == cl || clen < 0)
            clen = -2;
    }
    if (clen == -2) {
        r->close_after = 1;
        res_error(&r->res, 400, "bad Content-Length");
        return answer_start(r, wsi);
    }
    if (clen < 0 && method_wants_body(r->rq.method)) {
        /* lws 4.1 would wait for a 100 MB body: refuse and close */
        r->close_after = 1;
        res_error(&r->res, 411, "Content-Length required");
        return answer_start(r, wsi);
    }
    if (clen > (long long)l->max_body) {
        char what[80];

        /* lws reads and discards the body after our answer */
        snprintf(what, sizeof(what), "request body over %zu bytes", l->max_body);
        res_error(&r->res, 413, what);
        return answer_start(r, wsi);
    }
    if (clen > 0) {
        r->state = RQ_BODY;               /* HTTP_BODY ... COMPLETION follow */
        return 0;
    }
    return dispatch(r, wsi);
}

static int listen_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    const struct lws_protocols *pr = lws_get_protocol(wsi);
    struct flisten *l = pr ? pr->user : NULL;
    struct lpss *pss = user;
    struct lreq *r = pss ? pss->rq : NULL;

    if (l == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (l->f->stopping || pss == NULL)
            return -1;
        return on_http(l, pss, wsi, in);

    case LWS_CALLBACK_HTTP_BODY:
        if (r == NULL || r->state != RQ_BODY)
            return 0;
        if (body_append(r, in, len) != 0) {
            /* more than Content-Length promised, or out of memory */
            r->close_after = 1;
            res_error(&r->res, 413, "request body too large");
            return answer_start(r, wsi);
        }
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (r == NULL || r->state != RQ_BODY)
            return 0;
        if (l->f->stopping)
            return -1;
        return dispatch(r, wsi);

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (r == NULL || r->state != RQ_ANSWERING)
            return 0;
        return answer_more(r, wsi);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1;                        /* no websocket upgrades here */

    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (r)
            lreq_free(r);
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- feed_listen ----------------------------------------------------------------- */

/* After the last lws_context_destroy: lws freed the pss our requests'
 * pss_slot pointed into. */
static void flisten_free(struct flisten *l)
{
    while (l->reqs) {
        l->reqs->pss_slot = NULL;
        lreq_free(l->reqs);
    }
    free(l->name);
    free(l->iface);
    free(l);
}

/* A listener that came up wrong: close it (lws frees the vhost later; l
 * stays on the list, its strings with it). */
static void listen_abandon(struct flisten *l)
{
    lws_vhost_destroy(l->vh);
    l->vh = NULL;
}

/* A Unix socket path lws may bind: its directory exists, and nothing is
 * there but, at most, a socket file nobody listens on (lws unlinks the
 * path before binding). */
static int unix_path_ok(const char *path, lq_err_t *err)
{
    struct sockaddr_un sa;
    struct stat st;
    char dir[sizeof(sa.sun_path)];
    const char *slash;
    int fd, rc;

    if (path[0] == '\0' || path[0] == '@')
        return lq_err_set(err, "%s: not a file system path", path);
    if (strlen(path) >= sizeof(sa.sun_path))
        return lq_err_set(err, "%s: longer than %zu bytes (a Unix socket path's "
                          "limit)", path, sizeof(sa.sun_path) - 1);
    slash = strrchr(path, '/');
    if (slash != NULL) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);

        memcpy(dir, path, n);
        dir[n] = '\0';
        if (stat(dir, &st) != 0)
            return lq_err_set(err, "%s: %s", dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return lq_err_set(err, "%s: not a directory", dir);
    }
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return lq_err_set(err, "%s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return lq_err_set(err, "%s: exists and is not a socket", path);
    /* a socket file: in use, or left behind by a process that died? */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return lq_err_set(err, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc != 0)
        rc = errno;
    close(fd);
    if (rc == 0)
        return lq_err_set(err, "%s: another process listens on this socket", path);
    if (rc != ECONNREFUSED)
        return lq_err_set(err, "%s: %s", path, strerror(rc));
    return 0;                   /* stale: lws replaces it */
}

int feed_listen(feed_t *f, const struct feed_listen_config *lc, lq_err_t *err)
{
    struct lws_context_creation_info info;
    struct flisten *l;
    unsigned char a6[16];
    int v6 = 0, port;

    if (f == NULL || lc == NULL || lc->name == NULL || lc->name[0] == '\0' ||
        lc->handler == NULL)
        return lq_err_set(err, "listener: a name and a handler are required");
    if (f->stopping)
        return lq_err_set(err, "listener %s: feed stopping", lc->name);
    if (lc->unix_path == NULL) {
        const char *a = lc->address ? lc->address : "127.0.0.1";

        if (lc->port < 0 || lc->port > 65535)
            return lq_err_set(err, "listener %s: port %d: must be 0..65535",
                              lc->name, lc->port);
        if (inet_pton(AF_INET6, a, a6) == 1)
            v6 = 1;
        else if (inet_pton(AF_INET, a, a6) != 1)
            return lq_err_set(err, "listener %s: address %s: not a numeric IPv4 "
                              "or IPv6 address", lc->name, a);
    } else if (unix_path_ok(lc->unix_path, err) != 0) {
        lq_err_prefix(err, "listener %s", lc->name);
        return -1;
    }
    for (struct flisten *o = f->listeners; o; o = o->next) {
        if (o->vh == NULL)
            continue;                     /* one that failed */
        if (strcmp(o->name, lc->name) == 0)
            return lq_err_set(err, "listener %s: the name is taken", lc->name);
        if (lc->unix_path && o->is_unix && strcmp(o->iface, lc->unix_path) == 0)
            return lq_err_set(err, "listener %s: %s: already a listener's",
                              lc->name, lc->unix_path);
        /* lws would share the listen socket between the two vhosts */
        if (!lc->unix_path && !o->is_unix && lc->port != 0 && o->bound == lc->port &&
            strcmp(o->iface, lc->address ? lc->address : "127.0.0.1") == 0)
            return lq_err_set(err, "listener %s: %s port %d: already a listener's",
                              lc->name, o->iface, lc->port);
    }

    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return lq_err_set(err, "out of memory");
    l->f = f;
    l->is_unix = lc->unix_path != NULL;
    l->mode = lc->unix_mode ? lc->unix_mode : 0660;
    l->port = lc->port;
    l->max_body = lc->max_body ? lc->max_body : LISTEN_MAX_BODY_DEFAULT;
    l->handler = lc->handler;
    l->arg = lc->arg;
    l->name = strdup(lc->name);
    l->iface = strdup(l->is_unix ? lc->unix_path
                                 : lc->address ? lc->address : "127.0.0.1");
    if (l->name == NULL || l->iface == NULL) {
        flisten_free(l);
        return lq_err_set(err, "out of memory");
    }
    l->protocols[0].name = "liqmon-http";
    l->protocols[0].callback = listen_cb;
    l->protocols[0].per_session_data_size = sizeof(struct lpss);
    l->protocols[0].user = l;
    /* kept (lws points at the strings) until feed_destroy, even on failure */
    l->next = f->listeners;
    f->listeners = l;

    memset(&info, 0, sizeof(info));
    info.vhost_name = l->name;
    info.protocols = l->protocols;
    info.iface = l->iface;
    info.port = l->is_unix ? 0 : l->port;
    /* no DO_SSL_GLOBAL_INIT: no TLS, and no client SSL_CTX for this vhost */
    info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   (l->is_unix ? LWS_SERVER_OPTION_UNIX_SOCK
                               : v6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
    info.user = l;
    l->vh = lws_create_vhost(f->ctx, &info);
    if (l->vh == NULL) {
        if (l->is_unix)
            return lq_err_set(err, "listener %s: cannot listen on unix socket %s",
                              l->name, l->iface);
        return lq_err_set(err, "listener %s: cannot listen on %s port %d (in use? "
                          "not an address of this host?)", l->name, l->iface,
                          l->port);
    }
    if (l->is_unix) {
        struct stat st;

        if (lstat(l->iface, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            listen_abandon(l);
            return lq_err_set(err, "listener %s: %s: the socket was not created",
                              l->name, l->iface);
        }
        if (chmod(l->iface, l->mode) != 0) {
            int e = errno;

            listen_abandon(l);
            return lq_err_set(err, "listener %s: chmod %s: %s", l->name, l->iface,
                              strerror(e));
        }
        log_msg(LL_INFO, MOD, "listener %s: listening on unix socket %s (mode %04o)",
                l->name, l->iface, l->mode);
        return 0;
    }
    port = lws_get_vhost_listen_port(l->vh);
    if (port <= 0) {
        listen_abandon(l);
        return lq_err_set(err, "listener %s: cannot listen on %s port %d",
                          l->name, l->iface, l->port);
    }
    l->bound = port;
    log_msg(LL_INFO, MOD, "listener %s: listening on %s%s%s:%d", l->name,
            v6 ? "[" : "", l->iface, v6 ? "]" : "", port);
    return port;
}

void feed__listen_stop(feed_t *f)
{
    /* lws_context_destroy closes the listen sockets and connections; the
     * callbacks refuse new work from here on (f->stopping) */
    (void)f;
}

void feed__listen_free(feed_t *f)
{
    while (f->listeners) {
        struct flisten *l = f->listeners;

        f->listeners = l->next;
        flisten_free(l);
    }
}

/* "ADDRESS:PORT" with a numeric address, IPv6 in brackets. */
int feed_parse_listen(const char *s, char *addr, size_t size, int *port)
{
    const char *colon;
    const char *a = s;
    size_t n;
    char *end;
    long p;

    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':')
            return -1;
        a = s + 1;
        n = (size_t)(rb - a);
        colon = rb + 1;
    } else {
        if ((colon = strrchr(s, ':')) == NULL)
            return -1;
        n = (size_t)(colon - s);
    }
    if (n == 0 || n >= size)
        return -1;
    memcpy(addr, a, n);
    addr[n] = '\0';
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}
