/*
 * bench_live - the daemon live over wss on loopback (issue 3): liqmon-venue
 * plays a generated capture as fast as it can to liqmond, which runs the
 * whole pipeline (TLS, websocket reassembly, adapters, books, the risk
 * engine with 1e5 positions per side on BTCUSDT).  Figures: frames/s
 * sustained, and tick-to-decision latency (frame received -> cascade
 * ladder done) p50 / p99, as liqmond measured them.
 *
 * Run from the repository root (make bench does).  Figures only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "capgen.h"

#define NFRAMES 300000

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_pid(pid_t pid, int timeout_ms)
{
    int status;

    for (int t = 0; t < timeout_ms; t += 20) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int read_port(const char *log)
{
    for (int t = 0; t < 200; t++) {
        FILE *f = fopen(log, "r");
        char line[256];
        int port = 0;
        if (f) {
            while (fgets(line, sizeof(line), f)) {
                char *c = strstr(line, "127.0.0.1:");
                if (c)
                    port = atoi(c + 10);
            }
            fclose(f);
        }
        if (port)
            return port;
        sleep_ms(50);
    }
    return 0;
}

int main(int argc, char **argv)
{
    char bin[2048], dir[] = "/tmp/liqmon-live-XXXXXX", cap[2200], vsim[2200],
         daemon[2200], conf[2200], pos[2200], state[2200], vlog[2200],
         dlog[2200], cert[2200], key[2200];
    ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);
    int port;
    FILE *f;

    (void)argc;
    (void)argv;
    if (n <= 0 || mkdtemp(dir) == NULL)
        return 1;
    bin[n] = '\0';
    *strrchr(bin, '/') = '\0';          /* build/bench */
    *strrchr(bin, '/') = '\0';          /* build */
    snprintf(vsim, sizeof(vsim), "%s/liqmon-venue", bin);
    snprintf(daemon, sizeof(daemon), "%s/liqmond", bin);
    snprintf(cap, sizeof(cap), "%s/capture.jsonl", dir);
    snprintf(conf, sizeof(conf), "%s/liqmond.conf", dir);
    snprintf(pos, sizeof(pos), "%s/positions.csv", dir);
    snprintf(state, sizeof(state), "%s/state.json", dir);
    snprintf(vlog, sizeof(vlog), "%s/vsim.log", dir);
    snprintf(dlog, sizeof(dlog), "%s/liqmond.log", dir);
    snprintf(cert, sizeof(cert), "%s/localhost.crt", dir);
    snprintf(key, sizeof(key), "%s/localhost.key", dir);

    if (capgen_write(cap, NFRAMES, 42) != 0)
        return 1;
    /* 1e5 positions per side on Binance BTCUSDT, LPs within 30%. */
    f = fopen(pos, "w");
    if (f == NULL)
        return 1;
    fprintf(f, "id,venue,symbol,side,qty,entry,liq_price\n");
    for (int i = 0; i < 200000; i++) {
        int lng = i & 1;
        double d = (double)(1 + rnd() % 3000) / 10000;
        fprintf(f, "p%d,binance-usdm,BTCUSDT,%s,%.3f,90000,%.1f\n", i,
                lng ? "long" : "short", (double)(1 + rnd() % 1000) / 1000,
                lng ? 90000 * (1 - d) : 90000 * (1 + d));
    }
    fclose(f);
    {
        char *a[] = { vsim, "--gen-cert", dir, NULL };
        if (wait_pid(spawn(a, vlog), 20000) != 0) {
            fprintf(stderr, "bench_live: liqmon-venue --gen-cert failed (see %s)\n", vlog);
            return 1;
        }
    }
    char *va[] = { vsim, "--play", cap, "--speed", "0", "--wait-clients", "6",
                   "--port", "0", "--tls", "--cert", cert, "--key", key, NULL };
    pid_t vp = spawn(va, vlog);
    port = read_port(vlog);
    if (port == 0) {
        fprintf(stderr, "bench_live: liqmon-venue did not start (see %s)\n", vlog);
        return 1;
    }
    char cwd[2048];
    f = fopen(conf, "w");
    if (f == NULL)
        return 1;
    /* relative paths in a config are relative to its own directory */
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return 1;
    fprintf(f, "[daemon]\ninstruments_dir = %s/conf/instruments\npositions = %s\n"
            "ca_file = %s\nstatus_interval = 0\nstale_after = 30s\n"
            "[venue binance-usdm]\nsymbols = BTCUSDT\n"
            "ws_public_url = wss://localhost:%d/public\n"
            "ws_market_url = wss://localhost:%d/market\n"
            "rest_url = https://localhost:%d\n"
            "[venue bybit-linear]\nsymbols = BTCUSDT\n"
            "ws_url = wss://localhost:%d/v5/public/linear\n"
            "[venue okx-swap]\nsymbols = BTC-USDT-SWAP\n"
            "ws_url = wss://localhost:%d/ws/v5/public\nrest_url = https://localhost:%d\n"
            "[venue hyperliquid]\nsymbols = BTC\nws_url = wss://localhost:%d/ws\n",
            cwd, pos, cert, port, port, port, port, port, port, port);
    fclose(f);
    char *da[] = { daemon, "--config", conf, "--state-out", state, "--run-for",
                   "300", NULL };
    pid_t dp = spawn(da, dlog);
    /* The server exits once the whole capture is sent. */
    if (wait_pid(vp, 240000) != 0)
        fprintf(stderr, "bench_live: liqmon-venue did not finish cleanly (see %s)\n",
                vlog);
    sleep_ms(1000);
    kill(dp, SIGTERM);
    if (wait_pid(dp, 30000) != 0) {
        fprintf(stderr, "bench_live: liqmond failed (see %s)\n", dlog);
        return 1;
    }

    json_error_t je;
    json_t *st = json_load_file(state, 0, &je);
    if (st == NULL) {
        fprintf(stderr, "bench_live: %s: %s\n", state, je.text);
        return 1;
    }
    const json_t *eng = json_object_get(st, "engine");
    const json_t *venues = json_object_get(st, "venues");
    const char *k;
    const json_t *v;
    long long frames = 0, rejected = 0;
    json_object_foreach((json_t *)venues, k, v) {
        frames += json_integer_value(json_object_get(v, "frames"));
        rejected += json_integer_value(json_object_get(v, "rejected"));
    }
    double secs = (double)(json_integer_value(json_object_get(eng, "last_ts")) -
                           json_integer_value(json_object_get(eng, "first_ts"))) / 1e9;
    printf("live wss loopback      %9.0f frames/s  (%lld frames in %.2f s, %lld "
           "rejected; 4 venues, 6 connections)\n", secs > 0 ? frames / secs : 0,
           frames, secs, rejected);
    printf("tick-to-decision       p50 %6.1f us  p99 %6.1f us  max %7.1f us  "
           "(%lld ladders of 18 simulations; frame received -> ladder done)\n",
           json_integer_value(json_object_get(eng, "latency_p50_ns")) / 1e3,
           json_integer_value(json_object_get(eng, "latency_p99_ns")) / 1e3,
           json_integer_value(json_object_get(eng, "latency_max_ns")) / 1e3,
           (long long)json_integer_value(json_object_get(eng, "latency_samples")));
    json_decref(st);
    char cmd[2300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (getenv("LIQMON_KEEP_BENCH") == NULL && system(cmd) != 0)
        fprintf(stderr, "bench_live: could not remove %s\n", dir);
    return 0;
}
