/*
 * vs_main.c - liqmon-venue: options, the uv loop we own, signals, exit.
 *
 * Shutdown (platform-notes, two-step lws teardown on a foreign loop):
 * a uv callback (signal, or the end of the source) stops the sources,
 * closes our handles and makes the first lws_context_destroy(); when
 * uv_run() returns, main makes the second one, runs the loop once more to
 * close what is left, and closes the loop.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

static const char usage_text[] =
"usage: liqmon-venue (--generate | --play FILE) [options]\n"
"       liqmon-venue --probe URL [--send TEXT]... [--count N] [--timeout S]\n"
"       liqmon-venue --gen-cert DIR\n"
"\n"
"A local venue server: Binance USD-M, Bybit v5 linear, OKX v5 and\n"
"Hyperliquid, each in its real wire format, on one port (loopback).\n"
"\n"
"Paths:  Binance  ws /public/stream?streams=btcusdt@depth@100ms/...\n"
"                 ws /market/stream?streams=btcusdt@markPrice@1s/btcusdt@forceOrder\n"
"                 (also /public/ws/<stream>, /market/ws/<stream>; legacy\n"
"                 /stream and /ws/<stream> act as /public)\n"
"                 GET /fapi/v1/depth?symbol=BTCUSDT&limit=1000\n"
"        Bybit    ws /v5/public/linear\n"
"        OKX      ws /ws/v5/public;  GET /api/v5/market/books?instId=..&sz=..\n"
"        Hyperliquid ws /ws\n"
"        control  GET /control?action=drop|stall|resume|freeze|thaw|skip-seq|bad-checksum|\n"
"                     garbage|oversize[&venue=<venue-id>][&symbol=S]\n"
"                 GET /state?venue=<venue-id>&symbol=<venue symbol>\n"
"                 GET /stats\n"
"  venue ids: binance-usdm bybit-linear okx-swap hyperliquid\n"
"\n"
"Modes:\n"
"  --generate            synthetic market for every venue (seeded walk, books\n"
"                        10 updates/s, marks 1/s, liquidation prints)\n"
"    --seed N            PRNG seed (default 1)\n"
"    --symbols LIST      BTCUSDT,ETHUSDT (default); Bybit/Binance symbols,\n"
"                        OKX BASE-USDT-SWAP, Hyperliquid BASE\n"
"    --duration S        stop generating after S seconds, exit when sent\n"
"                        (default 0: run until a signal)\n"
"    --crash-at S        start a crash S seconds in (default: none)\n"
"    --crash-pct P       the crash takes P% off (default 10)\n"
"    --crash-secs S      over S seconds (default 60)\n"
"  --play FILE           replay a capture (.jsonl or .jsonl.gz)\n"
"    --speed X           capture pace divided by X (default 1; 0: as fast\n"
"                        as the clients read)\n"
"    --loop              start again at the end\n"
"    --wait-clients N    start playing once N ws clients are connected\n"
"    --linger S          after everything is sent, wait S s before exiting\n"
"\n"
"Venue behaviour:\n"
"  --okx-checksum MODE   zero (default: production since 23 Jun 2026) or crc\n"
"                        (CRC32 of the top 25 levels, OKX's string rule)\n"
"  --okx-no-snapshot     books: no snapshot on subscribe (seed from REST),\n"
"                        as OKX announced for production in 2026\n"
"  --binance-liq-route R @forceOrder served on 'market' (default) or 'public'\n"
"\n"
"Transport:\n"
"  --port P              listen port (default 0: pick one; printed)\n"
"  --bind ADDR           default 127.0.0.1; non-loopback needs --allow-remote\n"
"  --allow-remote\n"
"  --tls --cert C --key K   wss/https instead of ws/http\n"
"  --gen-cert DIR        write DIR/localhost.crt and DIR/localhost.key\n"
"                        (self-signed, CN=localhost, SAN DNS:localhost,\n"
"                        IP:127.0.0.1) and exit\n"
"  -v, --verbose         log connections and requests to stderr\n"
"  -h, --help\n"
"\n"
"Probe (a client, for tests and operators):\n"
"  --probe URL           ws://, wss://, http:// or https:// URL\n"
"    --send TEXT         send TEXT after connecting (repeatable)\n"
"    --count N           print the first N messages, one per line (default 1)\n"
"    --timeout S         give up after S seconds (default 10; exit 1)\n"
"    --max-print N       print at most N bytes of a message, then\n"
"                        ' ...(<len> bytes)'\n"
"    --insecure          accept a self-signed certificate\n"
"  An http(s) URL prints the response body; exit 0 for a 2xx status.\n"
"\n"
"At start prints 'liqmon-venue: listening on ADDR:PORT (ws|wss)' to stdout.\n"
"SIGINT/SIGTERM: clean exit.\n";

enum {
    O_PLAY = 256, O_SPEED, O_LOOP, O_LINGER, O_WAIT, O_GENERATE, O_SEED,
    O_SYMBOLS, O_DURATION, O_CRASH_AT, O_CRASH_PCT, O_CRASH_SECS, O_PORT,
    O_BIND, O_ALLOW_REMOTE, O_TLS, O_CERT, O_KEY, O_GEN_CERT, O_OKX_CK,
    O_OKX_NOSNAP, O_BN_LIQ,
};

static const struct option longopts[] = {
    { "play", required_argument, NULL, O_PLAY },
    { "speed", required_argument, NULL, O_SPEED },
    { "loop", no_argument, NULL, O_LOOP },
    { "linger", required_argument, NULL, O_LINGER },
    { "wait-clients", required_argument, NULL, O_WAIT },
    { "generate", no_argument, NULL, O_GENERATE },
    { "seed", required_argument, NULL, O_SEED },
    { "symbols", required_argument, NULL, O_SYMBOLS },
    { "duration", required_argument, NULL, O_DURATION },
    { "crash-at", required_argument, NULL, O_CRASH_AT },
    { "crash-pct", required_argument, NULL, O_CRASH_PCT },
    { "crash-secs", required_argument, NULL, O_CRASH_SECS },
    { "port", required_argument, NULL, O_PORT },
    { "bind", required_argument, NULL, O_BIND },
    { "allow-remote", no_argument, NULL, O_ALLOW_REMOTE },
    { "tls", no_argument, NULL, O_TLS },
    { "cert", required_argument, NULL, O_CERT },
    { "key", required_argument, NULL, O_KEY },
    { "gen-cert", required_argument, NULL, O_GEN_CERT },
    { "okx-checksum", required_argument, NULL, O_OKX_CK },
    { "okx-no-snapshot", no_argument, NULL, O_OKX_NOSNAP },
    { "binance-liq-route", required_argument, NULL, O_BN_LIQ },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
};

static uv_signal_t sig_int, sig_term;
static uv_timer_t exit_timer;
static uint64_t linger_until;
static int exit_rc;

static int num(const char *s, double *out, const char *what)
{
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end) {
        fprintf(stderr, "liqmon-venue: %s: not a number: '%s'\n", what, s);
        return -1;
    }
    return 0;
}

static void shutdown_now(struct vs_server *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    vs_gen_stop(s);
    vs_play_stop(s);
    uv_signal_stop(&sig_int);
    uv_signal_stop(&sig_term);
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_timer_stop(&exit_timer);
    uv_close((uv_handle_t *)&exit_timer, NULL);
    vs_server_stop(s);              /* first lws_context_destroy */
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct vs_server *s = h->data;
    if (s->opt.verbose)
        fprintf(stderr, "liqmon-venue: signal %d, exiting\n", signum);
    shutdown_now(s);
}

/* The source is done: exit once every client has been sent everything
 * (and --linger has passed). */
static void on_exit_check(uv_timer_t *t)
{
    struct vs_server *s = t->data;
    if (!s->source_done || !vs_clients_idle()) {
        linger_until = 0;
        return;
    }
    uint64_t now = uv_now(s->loop);
    if (!linger_until) {
        linger_until = now + (uint64_t)(s->opt.linger_s * 1000.0) + 1;
        if (s->opt.verbose)
            fprintf(stderr, "liqmon-venue: source done, all sent\n");
    }
    if (now >= linger_until)
        shutdown_now(s);
}

int main(int argc, char **argv)
{
    static struct vs_server server;
    struct vs_server *s = &server;
    const char *symbols = "BTCUSDT,ETHUSDT";
    uv_loop_t loop;
    double d;
    int c;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--probe"))
            return vs_probe_main(argc, argv);

    memset(s, 0, sizeof(*s));
    s->opt.speed = 1.0;
    s->opt.seed = 1;
    s->opt.crash_at = -1;
    s->opt.crash_pct = 10;
    s->opt.crash_secs = 60;
    s->opt.bind = "127.0.0.1";
    s->opt.okx_push_snapshot = 1;
    snprintf(s->opt.bn_liq_route, sizeof(s->opt.bn_liq_route), "market");

    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'v': s->opt.verbose = 1; break;
        case O_PLAY: s->opt.mode = MODE_PLAY; s->opt.play_file = optarg; break;
        case O_GENERATE: s->opt.mode = MODE_GENERATE; break;
        case O_SPEED:
            if (num(optarg, &s->opt.speed, "--speed") || s->opt.speed < 0)
                return 2;
            break;
        case O_LOOP: s->opt.loop = 1; break;
        case O_LINGER:
            if (num(optarg, &s->opt.linger_s, "--linger")) return 2;
            break;
        case O_WAIT:
            if (num(optarg, &d, "--wait-clients")) return 2;
            s->opt.wait_clients = (int)d;
            break;
        case O_SEED:
            s->opt.seed = strtoull(optarg, NULL, 0);
            break;
        case O_SYMBOLS: symbols = optarg; break;
        case O_DURATION:
            if (num(optarg, &s->opt.duration_s, "--duration")) return 2;
            break;
        case O_CRASH_AT:
            if (num(optarg, &s->opt.crash_at, "--crash-at")) return 2;
            break;
        case O_CRASH_PCT:
            if (num(optarg, &s->opt.crash_pct, "--crash-pct")) return 2;
            break;
        case O_CRASH_SECS:
            if (num(optarg, &s->opt.crash_secs, "--crash-secs")) return 2;
            break;
        case O_PORT:
            if (num(optarg, &d, "--port") || d < 0 || d > 65535) return 2;
            s->opt.port = (int)d;
            break;
        case O_BIND: s->opt.bind = optarg; break;
        case O_ALLOW_REMOTE: s->opt.allow_remote = 1; break;
        case O_TLS: s->opt.tls = 1; break;
        case O_CERT: s->opt.cert = optarg; break;
        case O_KEY: s->opt.key = optarg; break;
        case O_GEN_CERT:
            return vs_gen_cert(optarg) ? 1 : 0;
        case O_OKX_CK:
            if (!strcmp(optarg, "zero") || !strcmp(optarg, "0"))
                s->opt.okx_checksum = 0;
            else if (!strcmp(optarg, "crc") || !strcmp(optarg, "crc32"))
                s->opt.okx_checksum = 1;
            else {
                fprintf(stderr, "liqmon-venue: --okx-checksum: zero or crc\n");
                return 2;
            }
            break;
        case O_OKX_NOSNAP: s->opt.okx_push_snapshot = 0; break;
        case O_BN_LIQ:
            if (strcmp(optarg, "market") && strcmp(optarg, "public")) {
                fprintf(stderr, "liqmon-venue: --binance-liq-route: market "
                        "or public\n");
                return 2;
            }
            snprintf(s->opt.bn_liq_route, sizeof(s->opt.bn_liq_route), "%s",
                     optarg);
            break;
        default:
            fputs("try liqmon-venue --help\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "liqmon-venue: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (s->opt.mode == MODE_NONE) {
        fputs("liqmon-venue: choose --generate or --play FILE (see --help)\n",
              stderr);
        return 2;
    }
    if (s->opt.tls && (!s->opt.cert || !s->opt.key)) {
        fputs("liqmon-venue: --tls needs --cert and --key\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(s->opt.verbose ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);

    vs = s;
    if (vs_setup_symbols(s, symbols)) {
        vs_free_instruments(s);
        return 2;
    }
    if (uv_loop_init(&loop)) {
        vs_free_instruments(s);
        return 1;
    }
    s->loop = &loop;
    s->start_ms = vs_now_ms();

    int rc = 0;
    if (vs_server_start(s)) {
        rc = 1;
        goto out_loop;
    }
    if ((s->opt.mode == MODE_GENERATE ? vs_gen_start(s) : vs_play_start(s))) {
        rc = 1;
        vs_gen_stop(s);
        vs_play_stop(s);
        vs_server_stop(s);
        uv_run(&loop, UV_RUN_DEFAULT);
        vs_server_stop(s);
        goto out_loop;
    }
    uv_signal_init(&loop, &sig_int);
    uv_signal_init(&loop, &sig_term);
    sig_int.data = sig_term.data = s;
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_timer_init(&loop, &exit_timer);
    exit_timer.data = s;
    uv_timer_start(&exit_timer, on_exit_check, 100, 100);

    printf("liqmon-venue: listening on %s:%d (%s)\n", s->opt.bind, s->port,
           s->opt.tls ? "wss" : "ws");
    fflush(stdout);

    uv_run(&loop, UV_RUN_DEFAULT);
    vs_server_stop(s);              /* second lws_context_destroy */
    s->ctx = NULL;
    rc = exit_rc;
out_loop:
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop))
        fprintf(stderr, "liqmon-venue: loop not closed cleanly\n");
    vs_free_instruments(s);
    return rc;
}
