/*
 * ctl.c - liqmonctl commands that talk to a running liqmond over its
 * control API (include/liqmon/control.h), on the Unix socket:
 *
 *   liqmonctl status [--socket PATH] [--json]
 *   liqmonctl positions ls [--instrument V:S] [--limit N] [--socket PATH] [--json]
 *   liqmonctl positions add FILE|- [--socket PATH]
 *   liqmonctl positions rm ID [--instrument V:S] [--socket PATH]
 *   liqmonctl cascade VENUE SYMBOL [--socket PATH] [--json]
 *   liqmonctl alerts --active [--socket PATH] [--json]
 *
 * The socket: --socket, else $LIQMON_SOCKET, else CTL_DEFAULT_SOCKET.
 * A minimal HTTP/1.1 client: one request with Content-Length and
 * "Connection: close", the answer read until the peer closes.
 *
 * Exit (cli.h): 0 ok; 64 usage; 65 the daemon refused the request (400,
 * 404, 409, 413, 415: its error's message on one line); 66 FILE cannot be
 * read; 69 the socket cannot be reached; 70 a 5xx or a reply that cannot
 * be understood; 74 write error on stdout.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "liqmon/err.h"
#include "liqmon/fileio.h"
#include "cli.h"

#define CTL_DEFAULT_SOCKET "/run/liqmon/liqmond.sock"
#define CTL_MAX_REPLY ((size_t)256 << 20)
#define CTL_MAX_UPLOAD ((size_t)64 << 20)

struct reply {
    int status;
    char *body;                 /* NUL-terminated */
    size_t len;
    json_t *json;               /* parsed body, or NULL */
};

static const char *ctl_socket(const char *opt)
{
    const char *e;

    if (opt != NULL)
        return opt;
    if ((e = getenv("LIQMON_SOCKET")) != NULL && *e != '\0')
        return e;
    return CTL_DEFAULT_SOCKET;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Decode a chunked body in place; -1 if malformed. */
static int dechunk(char *b, size_t *len)
{
    size_t in = 0, out = 0, n = *len;

    for (;;) {
        char *end;
        unsigned long sz;
        char *eol;
        if (in >= n)
            return -1;
        sz = strtoul(b + in, &end, 16);
        if (end == b + in || (eol = strstr(end, "\r\n")) == NULL)
            return -1;
        in = (size_t)(eol - b) + 2;
        if (sz == 0)
            break;
        if (sz > n - in)
            return -1;
        memmove(b + out, b + in, sz);
        out += sz;
        in += sz + 2;
    }
    b[out] = '\0';
    *len = out;
    return 0;
}

/* One request; 0 with *r filled, or the exit code with the line printed. */
static int ctl_http(const char *cmd, const char *sock, const char *method,
                    const char *path, const char *ctype, const char *body,
                    size_t blen, struct reply *r)
{
    struct sockaddr_un sa;
    char head[2048], *buf = NULL, *hend, *p;
    size_t len = 0, cap = 0, hlen;
    int fd, n;

    memset(r, 0, sizeof(*r));
    if (strlen(sock) >= sizeof(sa.sun_path))
        return cli_fail(cmd, CLI_EX_UNAVAILABLE, "%s: socket path too long "
                        "(is liqmond running? its [control] socket)", sock);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return cli_fail(cmd, CLI_EX_UNAVAILABLE, "%s: %s", sock, strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return cli_fail(cmd, CLI_EX_UNAVAILABLE, "cannot connect to %s: %s "
                        "(is liqmond running? its [control] socket)", sock,
                        strerror(e));
    }
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: liqmond\r\nConnection: close\r\n"
                 "%s%s%sContent-Length: %zu\r\n\r\n", method, path,
                 ctype ? "Content-Type: " : "", ctype ? ctype : "",
                 ctype ? "\r\n" : "", blen);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        close(fd);
        return cli_fail(cmd, CLI_EX_USAGE, "request too long");
    }
    if (write_all(fd, head, (size_t)n) != 0 ||
        (blen > 0 && write_all(fd, body, blen) != 0)) {
        /* The daemon may answer (413) and close before reading it all. */
        if (errno != EPIPE && errno != ECONNRESET) {
            int e = errno;
            close(fd);
            return cli_fail(cmd, CLI_EX_UNAVAILABLE, "%s: write: %s", sock,
                            strerror(e));
        }
    }
    for (;;) {
        ssize_t k;
        if (cap - len < 65536 + 1) {
            char *nb;
            if (cap >= CTL_MAX_REPLY) {
                close(fd);
                free(buf);
                return cli_fail(cmd, CLI_EX_SOFTWARE, "%s: reply too large", sock);
            }
            cap = cap ? cap * 2 : 131072;
            if ((nb = realloc(buf, cap)) == NULL) {
                close(fd);
                free(buf);
                return cli_fail(cmd, CLI_EX_SOFTWARE, "out of memory");
            }
            buf = nb;
        }
        k = read(fd, buf + len, cap - len - 1);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECONNRESET && len > 0)
                break;
            int e = errno;
            close(fd);
            free(buf);
            return cli_fail(cmd, CLI_EX_UNAVAILABLE, "%s: read: %s", sock,
                            strerror(e));
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    if (buf == NULL || len == 0) {
        free(buf);
        return cli_fail(cmd, CLI_EX_UNAVAILABLE, "%s: the daemon closed the "
                        "connection without an answer", sock);
    }
    buf[len] = '\0';
    if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12 ||
        sscanf(buf + 9, "%3d", &r->status) != 1 ||
        (hend = strstr(buf, "\r\n\r\n")) == NULL) {
        free(buf);
        return cli_fail(cmd, CLI_EX_SOFTWARE, "%s: not an HTTP answer", sock);
    }
    hlen = (size_t)(hend - buf) + 4;
    /* Chunked?  Look in the headers (case-insensitively). */
    {
        int chunked = 0;
        *hend = '\0';
        for (p = strstr(buf, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
            if (strncasecmp(p + 2, "transfer-encoding:", 18) == 0 &&
                strstr(p + 2, "chunked") != NULL)
                chunked = 1;
        memmove(buf, buf + hlen, len - hlen + 1);
        len -= hlen;
        if (chunked && dechunk(buf, &len) != 0) {
            free(buf);
            return cli_fail(cmd, CLI_EX_SOFTWARE, "%s: bad chunked body", sock);
        }
    }
    r->body = buf;
    r->len = len;
    r->json = json_loadb(buf, len, 0, NULL);
    return 0;
}

static void reply_fini(struct reply *r)
{
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* A non-2xx answer: its error on one line; the exit code. */
static int ctl_http_error(const char *cmd, struct reply *r)
{
    const char *msg = NULL, *where = NULL;
    json_t *probs;
    int code;

    if (r->status == 400 || r->status == 404 || r->status == 409 ||
        r->status == 413 || r->status == 415)
        code = CLI_EX_DATAERR;
    else if (r->status == 405)
        code = CLI_EX_USAGE;
    else
        code = CLI_EX_SOFTWARE;
    if (json_is_object(r->json)) {
        msg = json_string_value(json_object_get(r->json, "error"));
        where = json_string_value(json_object_get(r->json, "where"));
        probs = json_object_get(r->json, "problems");
        if (json_is_array(probs) && json_array_size(probs) > 0) {
            json_t *p0 = json_array_get(probs, 0);
            const char *pw = json_string_value(json_object_get(p0, "where"));
            const char *pe = json_string_value(json_object_get(p0, "error"));
            size_t more = json_array_size(probs) - 1 +
                          (size_t)json_integer_value(json_object_get(r->json, "more"));
            cli_fail(cmd, code, "%s: %s: %s%s%.0zu%s", msg ? msg : "refused",
                     pw ? pw : "?", pe ? pe : "?", more ? " (and " : "",
                     more, more ? " more)" : "");
            reply_fini(r);
            return code;
        }
    }
    if (msg != NULL)
        cli_fail(cmd, code, "%s", msg);
    else
        cli_fail(cmd, code, "HTTP %d from the daemon%s%.80s", r->status,
                 r->len ? ": " : "", r->body ? r->body : "");
    (void)where;
    reply_fini(r);
    return code;
}

/* GET/POST/DELETE and check: 0 with a 2xx JSON reply, or the exit code. */
static int ctl_call(const char *cmd, const char *sock, const char *method,
                    const char *path, const char *ctype, const char *body,
                    size_t blen, struct reply *r)
{
    int rc = ctl_http(cmd, sock, method, path, ctype, body, blen, r);

    if (rc != 0)
        return rc;
    if (r->status < 200 || r->status > 299)
        return ctl_http_error(cmd, r);
    if (r->json == NULL) {
        reply_fini(r);
        return cli_fail(cmd, CLI_EX_SOFTWARE, "the daemon's answer is not JSON");
    }
    return 0;
}

static int ctl_flush(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(cmd, CLI_EX_IOERR, "stdout: write error");
    return 0;
}

static int print_raw(const char *cmd, struct reply *r)
{
    fwrite(r->body, 1, r->len, stdout);
    if (r->len == 0 || r->body[r->len - 1] != '\n')
        putchar('\n');
    reply_fini(r);
    return ctl_flush(cmd);
}

/* Percent-encode s (everything but unreserved characters and ':'). */
void cli_url_encode(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~:", c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

static void fmt_num(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.10g", v);
}

static void fmt_ns(char *out, size_t size, double ns)
{
    time_t t = (time_t)(ns / 1e9);
    struct tm tm;

    if (!(ns > 0) || gmtime_r(&t, &tm) == NULL)
        snprintf(out, size, "-");
    else
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Common options: --socket PATH, --json, --help; plus per command. */
enum { O_SOCKET = 's', O_JSON = 'j', O_HELP = 'h', O_INSTR = 'i',
       O_LIMIT = 'l', O_ACTIVE = 'a' };

/* ---- status ---------------------------------------------------------------- */

static void status_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl status [--socket PATH] [--json]\n"
"\n"
"Ask a running liqmond (GET /v1/status on its control socket) how it is:\n"
"version, uptime, connections up, books valid, positions, alerts firing,\n"
"the store's queue.\n"
"\n"
"  --socket PATH  the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                 else " CTL_DEFAULT_SOCKET ")\n"
"  --json         the daemon's JSON as is\n"
"\n"
"Exit status: 0 ok, 64 usage error, 69 the socket cannot be reached,\n"
"70 the daemon failed, 74 write error.\n");
}

int cli_ctl_status(int argc, char **argv)
{
    static const struct option lo[] = {
        { "socket", required_argument, NULL, O_SOCKET },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    const char *sock = NULL;
    int json = 0, c, rc;
    struct reply r;
    json_t *j, *conns, *o;
    size_t up = 0, nconn = 0;
    double upt;
    char a[64], b[64];

    optind = 0;
    while ((c = cli_getopt("status", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_SOCKET: sock = optarg; break;
        case O_JSON: json = 1; break;
        case O_HELP: status_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind < argc)
        return cli_unexpected("status", argv[optind]);
    if ((rc = ctl_call("status", ctl_socket(sock), "GET", "/v1/status", NULL,
                       NULL, 0, &r)) != 0)
        return rc;
    if (json)
        return print_raw("status", &r);
    j = r.json;
    conns = json_object_get(j, "connections");
    if (json_is_array(conns)) {
        nconn = json_array_size(conns);
        for (size_t i = 0; i < nconn; i++)
            up += json_is_true(json_object_get(json_array_get(conns, i),
                                               "connected"));
    }
    upt = jnum(j, "uptime_s");
    printf("liqmond %s, up %s\n", jstr(j, "version", "?"),
           isnan(upt) ? "?" : (snprintf(a, sizeof(a), "%ldd %02ld:%02ld:%02ld",
                                        (long)upt / 86400, (long)upt / 3600 % 24,
                                        (long)upt / 60 % 60, (long)upt % 60), a));
    printf("connections  %zu up / %zu\n", up, nconn);
    o = json_object_get(j, "instruments");
    printf("books        %.0f valid / %.0f\n", jnum(o, "book_valid"),
           jnum(o, "total"));
    o = json_object_get(j, "positions");
    printf("positions    %.0f (%.0f long, %.0f short)\n", jnum(o, "total"),
           jnum(o, "long"), jnum(o, "short"));
    o = json_object_get(j, "alerts");
    fmt_num(a, sizeof(a), jnum(o, "firing"));
    printf("alerts       %s firing\n", a);
    o = json_object_get(j, "store");
    if (json_is_object(o)) {
        fmt_num(a, sizeof(a), jnum(o, "queue_depth"));
        fmt_num(b, sizeof(b), jnum(o, "queue_max"));
        printf("store queue  %s / %s (dropped %.0f, lost %.0f)\n", a, b,
               jnum(o, "dropped"), jnum(o, "lost"));
    } else {
        printf("store queue  - (no store)\n");
    }
    if (json_is_number(json_object_get(j, "loop_lag_ms")))
        printf("loop lag     %.1f ms\n", jnum(j, "loop_lag_ms"));
    reply_fini(&r);
    return ctl_flush("status");
}

/* ---- positions ls | add | rm ------------------------------------------------ */

static void ls_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl positions ls [--instrument VENUE:SYMBOL] [--limit N]\n"
"                              [--socket PATH] [--json]\n"
"\n"
"The positions a running liqmond holds (GET /v1/positions): a table of\n"
"instrument, id, account, side, qty, entry, liquidation price and whether\n"
"it is in the cascade; the daemon lists at most --limit (default 1000).\n"
"\n"
"  --instrument V:S  only that instrument's\n"
"  --limit N         at most N (1..100000)\n"
"  --socket PATH     the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                    else " CTL_DEFAULT_SOCKET ")\n"
"  --json            the daemon's JSON as is\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 the daemon refused (an unknown\n"
"instrument), 69 the socket cannot be reached, 70 the daemon failed.\n");
}

static void add_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl positions add [--socket PATH] FILE\n"
"\n"
"Add positions to a running liqmond, or replace them by id (POST\n"
"/v1/positions), all or nothing.  FILE ('-' for stdin) is a positions file:\n"
"CSV with the positions-file header, JSON Lines, or a JSON object or array;\n"
"told apart by the extension (.csv, .jsonl/.ndjson, .json), else by the\n"
"content.\n"
"\n"
"  --socket PATH  the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                 else " CTL_DEFAULT_SOCKET ")\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 rows refused (the first problem\n"
"printed), 66 cannot read FILE, 69 the socket cannot be reached, 70 the\n"
"daemon failed.\n");
}

static void rm_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl positions rm [--instrument VENUE:SYMBOL] [--socket PATH] ID\n"
"\n"
"Remove position ID from a running liqmond (DELETE /v1/positions/ID).\n"
"--instrument says which when the id exists on more than one.\n"
"\n"
"  --instrument V:S  the instrument holding it\n"
"  --socket PATH     the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                    else " CTL_DEFAULT_SOCKET ")\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 no such position or instrument, or\n"
"ambiguous, 69 the socket cannot be reached, 70 the daemon failed.\n");
}

#define LS_NCOL 8

int cli_ctl_positions_ls(int argc, char **argv)
{
    static const struct option lo[] = {
        { "instrument", required_argument, NULL, O_INSTR },
        { "limit", required_argument, NULL, O_LIMIT },
        { "socket", required_argument, NULL, O_SOCKET },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    static const char *const head[LS_NCOL] = {
        "instrument", "id", "account", "side", "qty", "entry", "liq_price",
        "in_cascade"
    };
    const char *cmd = "positions ls", *sock = NULL, *instr = NULL;
    long limit = 0;
    int json = 0, c, rc, w[LS_NCOL];
    char path[512], enc[300], *end;
    struct reply r;
    json_t *arr;
    size_t n;
    char (*cells)[LS_NCOL][96];

    optind = 0;
    while ((c = cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_INSTR: instr = optarg; break;
        case O_LIMIT:
            errno = 0;
            limit = strtol(optarg, &end, 10);
            if (*end != '\0' || errno != 0 || limit < 1 || limit > 100000)
                return cli_fail(cmd, CLI_EX_USAGE, "--limit: must be an integer "
                                "1..100000 (got '%.64s')", optarg);
            break;
        case O_SOCKET: sock = optarg; break;
        case O_JSON: json = 1; break;
        case O_HELP: ls_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind < argc)
        return cli_unexpected(cmd, argv[optind]);
    snprintf(path, sizeof(path), "/v1/positions");
    if (instr) {
        cli_url_encode(instr, enc, sizeof(enc));
        snprintf(path + strlen(path), sizeof(path) - strlen(path),
                 "?instrument=%s", enc);
    }
    if (limit > 0)
        snprintf(path + strlen(path), sizeof(path) - strlen(path),
                 "%climit=%ld", instr ? '&' : '?', limit);
    if ((rc = ctl_call(cmd, ctl_socket(sock), "GET", path, NULL, NULL, 0, &r)) != 0)
        return rc;
    if (json)
        return print_raw(cmd, &r);
    arr = json_object_get(r.json, "positions");
    n = json_array_size(arr);
    if ((cells = calloc(n ? n : 1, sizeof(*cells))) == NULL) {
        reply_fini(&r);
        return cli_fail(cmd, CLI_EX_SOFTWARE, "out of memory");
    }
    for (int k = 0; k < LS_NCOL; k++)
        w[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(arr, i);
        snprintf(cells[i][0], 96, "%s", jstr(p, "instrument", "?"));
        snprintf(cells[i][1], 96, "%s", jstr(p, "id", "?"));
        snprintf(cells[i][2], 96, "%s", *jstr(p, "account", "") ? jstr(p, "account", "") : "-");
        snprintf(cells[i][3], 96, "%s", jstr(p, "side", "?"));
        fmt_num(cells[i][4], 96, jnum(p, "qty"));
        fmt_num(cells[i][5], 96, jnum(p, "entry"));
        fmt_num(cells[i][6], 96, jnum(p, "liq_price"));
        snprintf(cells[i][7], 96, "%s",
                 json_is_true(json_object_get(p, "liquidated")) ? "liquidated" :
                 json_is_true(json_object_get(p, "in_cascade")) ? "yes" : "no");
        for (int k = 0; k < LS_NCOL; k++)
            if ((int)strlen(cells[i][k]) > w[k])
                w[k] = (int)strlen(cells[i][k]);
    }
    for (int k = 0; k < LS_NCOL; k++)
        printf(k < 4 ? "%s%-*s" : "%s%*s", k ? "  " : "", k == LS_NCOL - 1 ? 0 : w[k], head[k]);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < LS_NCOL; k++)
            printf(k < 4 ? "%s%-*s" : "%s%*s", k ? "  " : "",
                   k == LS_NCOL - 1 ? 0 : w[k], cells[i][k]);
        printf("\n");
    }
    printf("%.0f of %.0f positions%s\n", jnum(r.json, "count"),
           jnum(r.json, "total"),
           json_is_true(json_object_get(r.json, "truncated"))
               ? " (truncated: --limit, --instrument)" : "");
    free(cells);
    reply_fini(&r);
    return ctl_flush(cmd);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static const char *body_type(const char *path, const char *text, size_t len)
{
    const char *p = text;
    json_t *j;

    if (ends_with(path, ".csv"))
        return "text/csv";
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
        return "application/x-ndjson";
    if (ends_with(path, ".json"))
        return "application/json";
    while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p < text + len && *p == '[')
        return "application/json";
    if (p < text + len && *p == '{') {
        /* One JSON value in all: JSON; more: JSON Lines. */
        if ((j = json_loadb(text, len, 0, NULL)) != NULL) {
            json_decref(j);
            return "application/json";
        }
        return "application/x-ndjson";
    }
    return "text/csv";
}

int cli_ctl_positions_add(int argc, char **argv)
{
    static const struct option lo[] = {
        { "socket", required_argument, NULL, O_SOCKET },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    const char *cmd = "positions add", *sock = NULL, *file;
    char *text = NULL;
    size_t len = 0;
    int c, rc;
    struct reply r;
    lq_err_t err = { "" };

    optind = 0;
    while ((c = cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_SOCKET: sock = optarg; break;
        case O_HELP: add_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind >= argc)
        return cli_missing(cmd, "FILE");
    if (optind + 1 < argc)
        return cli_unexpected(cmd, argv[optind + 1]);
    file = argv[optind];
    if (fileio_read_all(file, CTL_MAX_UPLOAD, &text, &len, &err) != 0)
        return cli_fail(cmd, CLI_EX_NOINPUT, "%s", err.msg);
    rc = ctl_call(cmd, ctl_socket(sock), "POST", "/v1/positions",
                  body_type(file, text, len), text, len, &r);
    free(text);
    if (rc != 0)
        return rc;
    printf("%.0f rows: %.0f added, %.0f replaced\n", jnum(r.json, "rows"),
           jnum(r.json, "added"), jnum(r.json, "replaced"));
    reply_fini(&r);
    return ctl_flush(cmd);
}

int cli_ctl_positions_rm(int argc, char **argv)
{
    static const struct option lo[] = {
        { "instrument", required_argument, NULL, O_INSTR },
        { "socket", required_argument, NULL, O_SOCKET },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    const char *cmd = "positions rm", *sock = NULL, *instr = NULL;
    char path[1024], enc[600];
    int c, rc;
    struct reply r;
    json_t *p;

    optind = 0;
    while ((c = cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_INSTR: instr = optarg; break;
        case O_SOCKET: sock = optarg; break;
        case O_HELP: rm_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind >= argc)
        return cli_missing(cmd, "ID");
    if (optind + 1 < argc)
        return cli_unexpected(cmd, argv[optind + 1]);
    if (strlen(argv[optind]) > 128 || argv[optind][0] == '\0')
        return cli_fail(cmd, CLI_EX_USAGE, "ID: must be 1..128 characters");
    cli_url_encode(argv[optind], enc, sizeof(enc));
    snprintf(path, sizeof(path), "/v1/positions/%s", enc);
    if (instr) {
        cli_url_encode(instr, enc, sizeof(enc));
        snprintf(path + strlen(path), sizeof(path) - strlen(path),
                 "?instrument=%s", enc);
    }
    if ((rc = ctl_call(cmd, ctl_socket(sock), "DELETE", path, NULL, NULL, 0,
                       &r)) != 0)
        return rc;
    p = json_object_get(r.json, "removed");
    printf("removed %s from %s\n", jstr(p, "id", argv[optind]),
           jstr(p, "instrument", "?"));
    reply_fini(&r);
    return ctl_flush(cmd);
}

/* ---- cascade ------------------------------------------------------------------ */

static void cascade_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl cascade [--socket PATH] [--json] VENUE SYMBOL\n"
"\n"
"The latest cascade ladder a running liqmond holds for VENUE:SYMBOL (GET\n"
"/v1/cascade/VENUE/SYMBOL): per side and shock the cascade rounds,\n"
"positions liquidated, their qty, the final price, the move from ref, the\n"
"amplification (move / shock) and whether the book ran out; above it the\n"
"reference price and how far the visible book reaches.\n"
"\n"
"  --socket PATH  the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                 else " CTL_DEFAULT_SOCKET ")\n"
"  --json         the daemon's JSON as is\n"
"\n"
"Exit status: 0 ok, 64 usage error, 65 not a watched instrument, 69 the\n"
"socket cannot be reached, 70 the daemon failed.\n");
}

#define CC_N 9

int cli_ctl_cascade(int argc, char **argv)
{
    static const struct option lo[] = {
        { "socket", required_argument, NULL, O_SOCKET },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    static const char *const head[CC_N] = {
        "side", "shock", "rounds", "liquidated", "qty", "final price", "move",
        "amplification", "exhausted"
    };
    const char *cmd = "cascade", *sock = NULL;
    char path[512], ev[200], es[200];
    int json = 0, c, rc, w[CC_N];
    struct reply r;
    json_t *lad, *rows, *reach;
    size_t n;
    char (*cells)[CC_N][64];
    double ref;

    optind = 0;
    while ((c = cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_SOCKET: sock = optarg; break;
        case O_JSON: json = 1; break;
        case O_HELP: cascade_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind >= argc)
        return cli_missing(cmd, "VENUE");
    if (optind + 1 >= argc)
        return cli_missing(cmd, "SYMBOL");
    if (optind + 2 < argc)
        return cli_unexpected(cmd, argv[optind + 2]);
    cli_url_encode(argv[optind], ev, sizeof(ev));
    cli_url_encode(argv[optind + 1], es, sizeof(es));
    snprintf(path, sizeof(path), "/v1/cascade/%s/%s", ev, es);
    if ((rc = ctl_call(cmd, ctl_socket(sock), "GET", path, NULL, NULL, 0, &r)) != 0)
        return rc;
    if (json)
        return print_raw(cmd, &r);
    lad = json_object_get(r.json, "ladder");
    rows = json_object_get(lad, "rows");
    reach = json_object_get(r.json, "book_reach_pct");
    ref = jnum(r.json, "ref");
    printf("%s: ref %s%.10g (%s), book %s; reach: bids -%.2f%%, asks +%.2f%%\n",
           jstr(r.json, "instrument", "?"), isnan(ref) ? "- " : "",
           isnan(ref) ? 0.0 : ref,
           json_is_true(json_object_get(r.json, "ref_is_mark")) ? "mark" : "mid",
           json_is_true(json_object_get(r.json, "book_valid")) ? "valid" : "NOT valid",
           jnum(reach, "bid"), jnum(reach, "ask"));
    if (!json_is_true(json_object_get(lad, "valid"))) {
        printf("no ladder: %s\n", jstr(lad, "why_invalid", "not computed yet"));
        reply_fini(&r);
        return ctl_flush(cmd);
    }
    n = json_array_size(rows);
    if ((cells = calloc(n ? n : 1, sizeof(*cells))) == NULL) {
        reply_fini(&r);
        return cli_fail(cmd, CLI_EX_SOFTWARE, "out of memory");
    }
    for (int k = 0; k < CC_N; k++)
        w[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(rows, i);
        const char *side = jstr(x, "side", "?");
        double mv = jnum(x, "move_pct"), amp = jnum(x, "amplification");
        snprintf(cells[i][0], 64, "%s", side);
        snprintf(cells[i][1], 64, "%.4g%%", jnum(x, "shock") * 100.0);
        snprintf(cells[i][2], 64, "%.0f", jnum(x, "rounds"));
        snprintf(cells[i][3], 64, "%.0f", jnum(x, "liquidated"));
        fmt_num(cells[i][4], 64, jnum(x, "liquidated_qty"));
        fmt_num(cells[i][5], 64, jnum(x, "final_price"));
        snprintf(cells[i][6], 64, "%s%.2f%%",
                 mv == 0 ? "" : strcmp(side, "down") == 0 ? "-" : "+", mv);
        if (isnan(amp))
            snprintf(cells[i][7], 64, "-");
        else
            snprintf(cells[i][7], 64, "x%.2f", amp);
        if (json_is_true(json_object_get(x, "exhausted"))) {
            char q[40];
            fmt_num(q, sizeof(q), jnum(x, "unfilled_qty"));
            snprintf(cells[i][8], 64, "yes (%s unfilled)", q);
        } else {
            snprintf(cells[i][8], 64, "no");
        }
        for (int k = 0; k < CC_N; k++)
            if ((int)strlen(cells[i][k]) > w[k])
                w[k] = (int)strlen(cells[i][k]);
    }
    printf("\n");
    for (int k = 0; k < CC_N; k++)
        printf(k == 0 ? "%-*s" : k == CC_N - 1 ? "  %-*s" : "  %*s",
               k == CC_N - 1 ? 0 : w[k], head[k]);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < CC_N; k++)
            printf(k == 0 ? "%-*s" : k == CC_N - 1 ? "  %-*s" : "  %*s",
                   k == CC_N - 1 ? 0 : w[k], cells[i][k]);
        printf("\n");
    }
    free(cells);
    reply_fini(&r);
    return ctl_flush(cmd);
}

/* ---- alerts --active ------------------------------------------------------------ */

static void active_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl alerts --active [--socket PATH] [--json]\n"
"\n"
"What a running liqmond has firing now (GET /v1/alerts/active): kind,\n"
"level, instrument, subject and since when.  (Without --active, liqmonctl\n"
"alerts reads the store: liqmonctl alerts --help.)\n"
"\n"
"  --socket PATH  the daemon's [control] socket (default $LIQMON_SOCKET,\n"
"                 else " CTL_DEFAULT_SOCKET ")\n"
"  --json         the daemon's JSON as is\n"
"\n"
"Exit status: 0 ok (also when nothing fires), 64 usage error, 69 the\n"
"socket cannot be reached, 70 the daemon failed.\n");
}

int cli_ctl_alerts_active(int argc, char **argv)
{
    static const struct option lo[] = {
        { "active", no_argument, NULL, O_ACTIVE },
        { "socket", required_argument, NULL, O_SOCKET },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    const char *cmd = "alerts", *sock = NULL;
    int json = 0, c, rc;
    struct reply r;
    json_t *arr;
    size_t n;

    optind = 0;
    while ((c = cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case O_ACTIVE: break;
        case O_SOCKET: sock = optarg; break;
        case O_JSON: json = 1; break;
        case O_HELP: active_usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind < argc)
        return cli_unexpected(cmd, argv[optind]);
    if ((rc = ctl_call(cmd, ctl_socket(sock), "GET", "/v1/alerts/active", NULL,
                       NULL, 0, &r)) != 0)
        return rc;
    if (json)
        return print_raw(cmd, &r);
    arr = json_object_get(r.json, "alerts");
    n = json_array_size(arr);
    if (n == 0)
        printf("nothing firing\n");
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(arr, i);
        char since[40];
        fmt_ns(since, sizeof(since), jnum(a, "since"));
        printf("%-8s  %-20s  %-24s  since %s  %s\n", jstr(a, "level", "?"),
               jstr(a, "kind", "?"), jstr(a, "instrument", "-"), since,
               jstr(a, "subject", ""));
    }
    if (n > 0)
        printf("%zu firing\n", n);
    reply_fini(&r);
    return ctl_flush(cmd);
}

/* ---- for other commands (map.c) ------------------------------------------------ */

const char *cli_ctl_socket(const char *opt)
{
    return ctl_socket(opt);
}

int cli_ctl_get(const char *cmd, const char *sock, const char *path,
                char **body, size_t *len)
{
    struct reply r;
    int rc = ctl_http(cmd, sock, "GET", path, NULL, NULL, 0, &r);

    if (rc != 0)
        return rc;
    if (r.status < 200 || r.status > 299)
        return ctl_http_error(cmd, &r);
    *body = r.body;                 /* adopted */
    *len = r.len;
    r.body = NULL;
    reply_fini(&r);
    return 0;
}
