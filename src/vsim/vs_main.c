/*
 * vs_main.c - liqmon-venue: options, the uv loop we own, signals, exit.
 *
 * Shutdown (platform-notes, two-step lws teardown on a foreign loop):
 * a uv callback (signal, or the end of the source) stops the sources,
 * closes our handles and makes the first lws_context_destroy(); when
 * uv_run() returns, main makes the second one, runs the loop once more to
 * close what is left, and closes the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
"                 garbage&kind=json|shape|letters|nan|inf|deep|binary|huge|crossed\n"
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
"    --adl-at S          an ADL warning from S seconds in (OKX adl-warning,\n"
"                        Bybit adlAlert): warning for the first half of\n"
"                        --adl-secs, ADL for the second (default: none)\n"
"    --adl-secs S        how long (default 20)\n"
"    --book-rate N       book updates per instrument per second, a multiple\n"
"                        of 10 (default 10; the walk, marks and prints keep\n"
"                        their pace: make load)\n"
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
"SIGINT/SIGTERM: clean exit.\n"
"\n"
"Exit status (sysexits): 0 ok, 64 usage error, 65 --play FILE is not a\n"
"readable capture, 66 cannot open --play FILE, --cert or --key, 69 cannot\n"
"listen (port in use, non-loopback address), 70 internal error, 74 --gen-cert\n"
"cannot write.  --probe keeps its own: 0 ok, 1 failure, 2 usage.\n";

/* sysexits.h values (as liqmonctl's cli.h). */
enum {
    VS_EX_USAGE = 64, VS_EX_DATAERR = 65, VS_EX_NOINPUT = 66,
    VS_EX_UNAVAILABLE = 69, VS_EX_SOFTWARE = 70, VS_EX_IOERR = 74,
};

enum {
    O_PLAY = 256, O_SPEED, O_LOOP, O_LINGER, O_WAIT, O_GENERATE, O_SEED,
    O_SYMBOLS, O_DURATION, O_CRASH_AT, O_CRASH_PCT, O_CRASH_SECS, O_PORT,
    O_BIND, O_ALLOW_REMOTE, O_TLS, O_CERT, O_KEY, O_GEN_CERT, O_OKX_CK,
    O_OKX_NOSNAP, O_BN_LIQ, O_ADL_AT, O_ADL_SECS, O_BOOK_RATE,
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
    { "adl-at", required_argument, NULL, O_ADL_AT },
    { "adl-secs", required_argument, NULL, O_ADL_SECS },
    { "book-rate", required_argument, NULL, O_BOOK_RATE },
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

/* One line on stderr, "liqmon-venue: WHAT", control characters shown as
 * '?'; usage errors add " (see liqmon-venue --help)" as liqmonctl's do
 * (src/cli/cli.h: the same mistake, the same words).  Returns code. */
static int say(int code, int see_help, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(int code, int see_help, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(stderr, "liqmon-venue: %s%s\n", msg,
            see_help ? " (see liqmon-venue --help)" : "");
    return code;
}

/* A number for opt in [min, max] (bounds inclusive or not); integer: no
 * fraction.  0, or 64 with "OPT: must be ... (got 'S')". */
static int num(const char *opt, const char *s, double min, int min_incl,
               double max, int max_incl, int integer, double *out)
{
    char *end, range[96];
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end != s && *end == '\0' && isfinite(v) && errno != ERANGE &&
        (min_incl ? v >= min : v > min) &&
        (max_incl ? v <= max : v < max) && (!integer || v == floor(v))) {
        *out = v;
        return 0;
    }
    if (integer && min_incl && max_incl && isfinite(max))
        snprintf(range, sizeof(range), "%.0f..%.0f", min, max);
    else if (isfinite(max))
        snprintf(range, sizeof(range), "a number %s %g and %s %g",
                 min_incl ? ">=" : ">", min, max_incl ? "<=" : "<", max);
    else
        snprintf(range, sizeof(range), "%s %s %g",
                 integer ? "an integer" : "a number", min_incl ? ">=" : ">",
                 min);
    return say(VS_EX_USAGE, 0, "%s: must be %s (got '%.64s')", opt, range, s);
}

/* An input file given to opt: 0, or 66 naming it. */
static int readable(const char *opt, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return say(VS_EX_NOINPUT, 0, "%s %s: %s", opt, path, strerror(errno));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return say(VS_EX_NOINPUT, 0, "%s %s: is a directory", opt, path);
    }
    close(fd);
    return 0;
}

static const char *long_name(int val)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == val)
            return o->name;
    return NULL;
}

/* getopt_long's mistakes in liqmonctl's words (cli_getopt). */
static int getopt_fail(int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    const char *name = long_name(optopt);
    size_t n = strcspn(arg, "=");

    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0 && name)
            return say(VS_EX_USAGE, 1, "--%s: missing value", name);
        return say(VS_EX_USAGE, 1, "-%c: missing value", optopt);
    }
    if (strncmp(arg, "--", 2) == 0) {
        int k = 0;
        if (optopt != 0 && arg[n] == '=' && name)
            return say(VS_EX_USAGE, 1, "--%s: takes no value", name);
        for (const struct option *o = longopts; o->name; o++)
            k += n > 2 && strncmp(o->name, arg + 2, n - 2) == 0;
        return say(VS_EX_USAGE, 1, "%s option '%.*s'",
                   k > 1 ? "ambiguous" : "unknown", (int)(n > 64 ? 64 : n),
                   arg);
    }
    if (optopt > ' ' && optopt < 0x7f)
        return say(VS_EX_USAGE, 1, "unknown option '-%c'", optopt);
    return say(VS_EX_USAGE, 1, "unknown option '%.64s'", arg);
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
    const char *symbols = "BTCUSDT,ETHUSDT", *gen_cert = NULL;
    uv_loop_t loop;
    double d;
    int c, rc;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--probe"))
            return vs_probe_main(argc, argv);

    memset(s, 0, sizeof(*s));
    s->opt.speed = 1.0;
    s->opt.seed = 1;
    s->opt.crash_at = -1;
    s->opt.crash_pct = 10;
    s->opt.crash_secs = 60;
    s->opt.book_per_step = 1;
    s->opt.adl_at = -1;
    s->opt.adl_secs = 20;
    s->opt.bind = "127.0.0.1";
    s->opt.okx_push_snapshot = 1;
    snprintf(s->opt.bn_liq_route, sizeof(s->opt.bn_liq_route), "market");

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return getopt_fail(c, argv);
        /* A separate value that is another long option: forgotten
         * ("--play --speed 2"). */
        if (optarg != NULL &&
            (*optarg == '\0' || (optarg == argv[optind - 1] &&
                                 strncmp(optarg, "--", 2) == 0)))
            return say(VS_EX_USAGE, 1, "--%s: missing value",
                       long_name(c) ? long_name(c) : "?");
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'v': s->opt.verbose = 1; break;
        case O_PLAY:
            if (s->opt.mode == MODE_GENERATE)
                return say(VS_EX_USAGE, 1, "--generate and --play: give one");
            s->opt.mode = MODE_PLAY;
            s->opt.play_file = optarg;
            break;
        case O_GENERATE:
            if (s->opt.mode == MODE_PLAY)
                return say(VS_EX_USAGE, 1, "--generate and --play: give one");
            s->opt.mode = MODE_GENERATE;
            break;
        case O_SPEED:
            if ((rc = num("--speed", optarg, 0, 1, INFINITY, 0, 0,
                          &s->opt.speed)))
                return rc;
            break;
        case O_LOOP: s->opt.loop = 1; break;
        case O_LINGER:
            if ((rc = num("--linger", optarg, 0, 1, INFINITY, 0, 0,
                          &s->opt.linger_s)))
                return rc;
            break;
        case O_WAIT:
            if ((rc = num("--wait-clients", optarg, 0, 1, 1e6, 1, 1, &d)))
                return rc;
            s->opt.wait_clients = (int)d;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            s->opt.seed = strtoull(optarg, &end, 0);
            if (end == optarg || *end != '\0' || errno == ERANGE ||
                optarg[0] == '-')
                return say(VS_EX_USAGE, 0, "--seed: must be an integer >= 0 "
                           "(got '%.64s')", optarg);
            break;
        }
        case O_SYMBOLS: symbols = optarg; break;
        case O_DURATION:
            if ((rc = num("--duration", optarg, 0, 1, INFINITY, 0, 0,
                          &s->opt.duration_s)))
                return rc;
            break;
        case O_CRASH_AT:
            if ((rc = num("--crash-at", optarg, 0, 1, INFINITY, 0, 0,
                          &s->opt.crash_at)))
                return rc;
            break;
        case O_CRASH_PCT:
            if ((rc = num("--crash-pct", optarg, 0, 0, 100, 0, 0,
                          &s->opt.crash_pct)))
                return rc;
            break;
        case O_CRASH_SECS:
            if ((rc = num("--crash-secs", optarg, 0, 0, INFINITY, 0, 0,
                          &s->opt.crash_secs)))
                return rc;
            break;
        case O_BOOK_RATE: {
            double r;
            if ((rc = num("--book-rate", optarg, 10, 1, 1000, 1, 1, &r)))
                return rc;
            if ((int)r % 10)
                return say(VS_EX_USAGE, 1, "--book-rate: must be a multiple of 10 "
                           "(got '%.64s')", optarg);
            s->opt.book_per_step = (int)r / 10;
            break;
        }
        case O_ADL_AT:
            if ((rc = num("--adl-at", optarg, 0, 1, INFINITY, 0, 0, &s->opt.adl_at)))
                return rc;
            break;
        case O_ADL_SECS:
            if ((rc = num("--adl-secs", optarg, 0, 0, INFINITY, 0, 0, &s->opt.adl_secs)))
                return rc;
            break;
        case O_PORT:
            if ((rc = num("--port", optarg, 0, 1, 65535, 1, 1, &d)))
                return rc;
            s->opt.port = (int)d;
            break;
        case O_BIND: s->opt.bind = optarg; break;
        case O_ALLOW_REMOTE: s->opt.allow_remote = 1; break;
        case O_TLS: s->opt.tls = 1; break;
        case O_CERT: s->opt.cert = optarg; break;
        case O_KEY: s->opt.key = optarg; break;
        case O_GEN_CERT: gen_cert = optarg; break;
        case O_OKX_CK:
            if (!strcmp(optarg, "zero") || !strcmp(optarg, "0"))
                s->opt.okx_checksum = 0;
            else if (!strcmp(optarg, "crc") || !strcmp(optarg, "crc32"))
                s->opt.okx_checksum = 1;
            else
                return say(VS_EX_USAGE, 0, "--okx-checksum: must be zero or "
                           "crc (got '%.64s')", optarg);
            break;
        case O_OKX_NOSNAP: s->opt.okx_push_snapshot = 0; break;
        case O_BN_LIQ:
            if (strcmp(optarg, "market") && strcmp(optarg, "public"))
                return say(VS_EX_USAGE, 0, "--binance-liq-route: must be "
                           "market or public (got '%.64s')", optarg);
            snprintf(s->opt.bn_liq_route, sizeof(s->opt.bn_liq_route), "%s",
                     optarg);
            break;
        default:
            return say(VS_EX_SOFTWARE, 0, "option %d not handled", c);
        }
    }
    if (optind < argc)
        return say(VS_EX_USAGE, 1, "unexpected argument '%.64s'",
                   argv[optind]);
    if (gen_cert != NULL) {
        if (s->opt.mode != MODE_NONE)
            return say(VS_EX_USAGE, 1, "--gen-cert: give it alone (it writes "
                       "the files and exits)");
        return vs_gen_cert(gen_cert) ? VS_EX_IOERR : 0;
    }
    if (s->opt.mode == MODE_NONE)
        return say(VS_EX_USAGE, 1, "missing --generate or --play FILE");
    if (s->opt.tls && (!s->opt.cert || !s->opt.key))
        return say(VS_EX_USAGE, 1, "--tls: needs --cert and --key");
    if ((!s->opt.tls && (s->opt.cert || s->opt.key)))
        return say(VS_EX_USAGE, 1, "--%s: needs --tls",
                   s->opt.cert ? "cert" : "key");
    if (s->opt.mode == MODE_PLAY &&
        (rc = readable("--play", s->opt.play_file)) != 0)
        return rc;
    if (s->opt.tls && ((rc = readable("--cert", s->opt.cert)) != 0 ||
                       (rc = readable("--key", s->opt.key)) != 0))
        return rc;
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(s->opt.verbose ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);

    vs = s;
    if (vs_setup_symbols(s, symbols)) {     /* said which symbol */
        vs_free_instruments(s);
        return VS_EX_USAGE;
    }
    if (uv_loop_init(&loop)) {
        vs_free_instruments(s);
        return say(VS_EX_SOFTWARE, 0, "cannot start the event loop");
    }
    s->loop = &loop;
    s->start_ms = vs_now_ms();

    rc = 0;
    if (vs_server_start(s)) {               /* said why */
        rc = VS_EX_UNAVAILABLE;
        goto out_loop;
    }
    /* lws makes its context even when the listening socket could not be
     * bound (the port is taken, the address is not ours): no vhost, or
     * no port, then. */
    if (s->vh == NULL || s->port <= 0) {
        say(0, 0, "cannot listen on %s:%d (port in use? address not on "
            "this host?)", s->opt.bind, s->opt.port);
        /* No teardown: lws's foreign-loop teardown of a context whose
         * vhost failed crashes in uv_run, so end here (_exit: nothing
         * at exit walks the half-made context). */
        fflush(stdout);
        _exit(VS_EX_UNAVAILABLE);
    }
    if ((s->opt.mode == MODE_GENERATE ? vs_gen_start(s) : vs_play_start(s))) {
        /* play: the capture opened (checked above), so it did not read */
        rc = s->opt.mode == MODE_PLAY ? VS_EX_DATAERR : VS_EX_SOFTWARE;
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
