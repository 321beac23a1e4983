/*
 * vs_probe.c - liqmon-venue --probe URL: a small lws client on its own uv
 * loop.  ws(s): sends each --send text once connected, prints the first
 * --count messages one per line, exits 0.  http(s): prints the body,
 * exits 0 on a 2xx status.  Timeout, refusal or an early close: exit 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

#define MAX_SENDS 16
#define MAX_RX (16u << 20)

static struct probe {
    uv_loop_t loop;
    uv_timer_t timeout, quit;
    struct lws_context *ctx;
    const char *sends[MAX_SENDS];
    int nsends, sent;
    long count, got;
    long max_print;
    int http, status, done, rc, insecure;
    struct sb rx;
    struct sb body;
} P;

static void print_msg(const char *s, size_t len)
{
    if (P.max_print > 0 && len > (size_t)P.max_print) {
        fwrite(s, 1, (size_t)P.max_print, stdout);
        printf(" ...(%zu bytes)\n", len);
    } else {
        fwrite(s, 1, len, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
}

static void on_quit(uv_timer_t *t)
{
    (void)t;
    uv_timer_stop(&P.timeout);
    uv_close((uv_handle_t *)&P.timeout, NULL);
    uv_close((uv_handle_t *)&P.quit, NULL);
    if (P.ctx)
        lws_context_destroy(P.ctx);         /* first step */
}

static void finish(int rc)
{
    if (P.done)
        return;
    P.done = 1;
    P.rc = rc;
    uv_timer_start(&P.quit, on_quit, 0, 0);
}

static void on_timeout(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "liqmon-venue: probe: timeout (%ld of %ld messages)\n",
            P.got, P.count);
    finish(1);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
              void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "liqmon-venue: probe: connection error: %s\n",
                in ? (const char *)in : "(none)");
        finish(1);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (P.nsends)
            lws_callback_on_writable(wsi);
        if (P.count == 0)
            finish(0);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (P.done) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (P.sent >= P.nsends)
            return 0;
        const char *t = P.sends[P.sent++];
        size_t n = strlen(t);
        unsigned char *buf = malloc(LWS_PRE + n + 1);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, t, n);
        int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
        free(buf);
        if (w < (int)n)
            return -1;
        if (P.sent < P.nsends)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (P.done)
            return 0;
        if (P.rx.len + len > MAX_RX) {
            fprintf(stderr, "liqmon-venue: probe: message over %u bytes\n",
                    MAX_RX);
            finish(1);
            return -1;
        }
        sb_add(&P.rx, in, len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            print_msg(P.rx.p ? P.rx.p : "", P.rx.len);
            sb_reset(&P.rx);
            if (++P.got >= P.count) {
                finish(0);
                lws_callback_on_writable(wsi);
            }
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!P.done) {
            fprintf(stderr, "liqmon-venue: probe: closed by the server after "
                    "%ld messages\n", P.got);
            finish(1);
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        P.status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
        int lenx = (int)sizeof(buf) - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        sb_add(&P.body, in, len);
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (P.body.len)
            fwrite(P.body.p, 1, P.body.len, stdout);
        fflush(stdout);
        if (P.status < 200 || P.status > 299)
            fprintf(stderr, "liqmon-venue: probe: HTTP %d\n", P.status);
        finish(P.status >= 200 && P.status <= 299 ? 0 : 2);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (!P.done) {
            if (P.body.len)
                fwrite(P.body.p, 1, P.body.len, stdout);
            finish(P.status >= 200 && P.status <= 299 ? 0 : 2);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { "vsim-probe", cb, 0, 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct option longopts[] = {
    { "probe", required_argument, NULL, 'u' },
    { "send", required_argument, NULL, 's' },
    { "count", required_argument, NULL, 'n' },
    { "timeout", required_argument, NULL, 't' },
    { "max-print", required_argument, NULL, 'm' },
    { "insecure", no_argument, NULL, 'k' },
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 }
};

int vs_probe_main(int argc, char **argv)
{
    const char *url = NULL;
    double timeout = 10;
    int c, verbose = 0;
    memset(&P, 0, sizeof(P));
    P.count = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 's':
            if (P.nsends == MAX_SENDS) {
                fprintf(stderr, "liqmon-venue: at most %d --send\n", MAX_SENDS);
                return 2;
            }
            P.sends[P.nsends++] = optarg;
            break;
        case 'n': P.count = atol(optarg); break;
        case 't': timeout = atof(optarg); break;
        case 'm': P.max_print = atol(optarg); break;
        case 'k': P.insecure = 1; break;
        case 'v': verbose = 1; break;
        default:
            fputs("liqmon-venue --probe URL [--send TEXT]... [--count N] "
                  "[--timeout S] [--max-print N] [--insecure]\n", stderr);
            return 2;
        }
    }
    if (!url)
        return 2;
    char ubuf[2048], path[2048];
    const char *prot, *addr, *p;
    int port;
    snprintf(ubuf, sizeof(ubuf), "%s", url);
    if (lws_parse_uri(ubuf, &prot, &addr, &port, &p)) {
        fprintf(stderr, "liqmon-venue: probe: bad URL %s\n", url);
        return 2;
    }
    snprintf(path, sizeof(path), "/%s", p);
    int tls = !strcmp(prot, "wss") || !strcmp(prot, "https");
    P.http = !strcmp(prot, "http") || !strcmp(prot, "https");
    if (!P.http && strcmp(prot, "ws") && strcmp(prot, "wss")) {
        fprintf(stderr, "liqmon-venue: probe: scheme %s not supported\n", prot);
        return 2;
    }

    lws_set_log_level(verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
    if (uv_loop_init(&P.loop))
        return 1;
    uv_timer_init(&P.loop, &P.timeout);
    uv_timer_init(&P.loop, &P.quit);
    uv_timer_start(&P.timeout, on_timeout, (uint64_t)(timeout * 1000), 0);

    struct lws_context_creation_info info;
    void *loops[1] = { &P.loop };
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.fd_limit_per_thread = 8;
    P.ctx = lws_create_context(&info);
    if (!P.ctx) {
        fprintf(stderr, "liqmon-venue: probe: lws context failed\n");
        P.rc = 1;
        on_quit(NULL);
        goto out;
    }

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = P.ctx;
    ci.address = addr;
    ci.port = port;
    ci.path = path;
    ci.host = addr;
    ci.origin = addr;
    ci.local_protocol_name = "vsim-probe";
    if (tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (P.insecure)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
                                 LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED;
    }
    if (P.http) {
        ci.method = "GET";
        ci.alpn = "http/1.1";
    }
    if (!lws_client_connect_via_info(&ci)) {
        fprintf(stderr, "liqmon-venue: probe: cannot connect to %s\n", url);
        finish(1);
    }
    uv_run(&P.loop, UV_RUN_DEFAULT);
    lws_context_destroy(P.ctx);             /* second step */
out:
    uv_run(&P.loop, UV_RUN_DEFAULT);
    uv_loop_close(&P.loop);
    sb_fini(&P.rx);
    sb_fini(&P.body);
    return P.rc;
}
