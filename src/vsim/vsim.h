/*
 * vsim.h - liqmon-venue internals: a local venue server that speaks the
 * real wire formats of Binance USD-M, Bybit v5 linear, OKX v5 and
 * Hyperliquid on loopback (README.md in this directory).
 *
 *   vs_main.c    options, the uv loop, signals, exit rules
 *   vs_server.c  lws protocol callback: ws clients and their send queues,
 *                HTTP routes (REST, /control, /state, /stats)
 *   vs_venue.c   each venue's requests (subscribe, ping) and message
 *                formats; the per-instrument book and its sequence numbers
 *   vs_gen.c     --generate: seeded random walk, crash, books, prints
 *   vs_play.c    --play: a capture file replayed to the connected clients
 *   vs_probe.c   --probe: a small ws / http client for tests and operators
 *   vs_cert.c    --gen-cert: self-signed certificate for wss on localhost
 *   vs_util.c    string builder, PRNG, clocks
 *
 * Everything runs on one thread, inside uv callbacks.
 */
#ifndef LIQMON_VSIM_H
#define LIQMON_VSIM_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>
#include <libwebsockets.h>

#include "liqmon/market.h"

#define VS_MAX_SYMS 64        /* make load: 50 symbols x 4 venues */
#define VS_MAX_MSG_IN (64 * 1024)      /* largest request a client may send */
#define VS_CHUNK (32 * 1024)           /* ws/http bytes per WRITEABLE */
#define VS_QUEUE_MAX (64u << 20)       /* a client further behind is dropped */

/* ---- vs_util.c ----------------------------------------------------- */

/* Growable string.  p is NUL-terminated when len > 0. */
struct sb {
    char *p;
    size_t len, cap;
    int oom;
};
void sb_init(struct sb *b);
void sb_fini(struct sb *b);
void sb_reset(struct sb *b);
void sb_add(struct sb *b, const char *s, size_t n);
void sb_adds(struct sb *b, const char *s);
void sb_printf(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append a JSON string literal (quotes and escapes). */
void sb_json_str(struct sb *b, const char *s, size_t n);

/* splitmix64-seeded xoshiro256** */
struct rng { uint64_t s[4]; };
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_unif(struct rng *r);              /* [0,1) */
double rng_norm(struct rng *r);              /* N(0,1) */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);   /* [lo,hi] */

int64_t vs_now_ms(void);                     /* wall clock */
/* Fixed-point text: v * mant / 10^dec with dec decimals.  trim: drop
 * trailing zeros (and the dot). */
int vs_fmt_fixed(char *buf, size_t size, int64_t v, int64_t mant, int dec,
                 int trim);

/* ---- instruments and books (vs_venue.c) ---------------------------- */

enum vs_chan {
    CH_BOOK = 1,     /* depth / orderbook / books / l2Book */
    CH_MARK = 2,     /* markPrice / tickers / mark-price / activeAssetCtx */
    CH_LIQ = 4,      /* forceOrder / allLiquidation / liquidation-orders */
    CH_TRADES = 8,   /* Hyperliquid trades */
    CH_BOOK_AGG = 16,/* Hyperliquid l2Book with nSigFigs (price buckets) */
    CH_ADL = 32,     /* OKX adl-warning (per family), Bybit adlAlert.USDT */
};

/* Hyperliquid l2Book: levels a side in a frame (the venue's default), and
 * the significant figures of the aggregated book liqmond subscribes (what
 * /state merges, as liqmond does). */
#define VS_HL_LEVELS 20
#define VS_HL_AGG_SIGFIGS 2

struct vs_level {
    int64_t px;      /* ticks */
    int64_t qty;     /* lots (venue quantity units / lot) */
};

struct vs_change {
    int side;        /* 0 bid, 1 ask */
    int64_t px, qty; /* qty 0: level removed */
};

struct vs_instr {
    enum venue_id venue;
    int sym;                      /* index in vs_server.syms */
    char name[32];                /* BTCUSDT, BTC-USDT-SWAP, BTC */
    char lname[32];               /* lowercase (Binance stream names) */
    char family[32];              /* OKX instFamily BTC-USDT */
    int64_t tick_mant; int tick_dec;
    int64_t lot_mant; int lot_dec;
    double ctval;                 /* base units per venue unit */
    int nlev;                     /* levels kept per side */

    struct vs_level *bids, *asks; /* best first */
    int nb, na;
    uint64_t u;                   /* Binance u, Bybit u, OKX seqId */
    uint64_t seq;                 /* Bybit cross sequence */
    uint64_t updates;             /* deltas generated */

    double mark, index;           /* current (generate mode) */
    double oi_base;               /* open interest, base units */

    /* misbehaviour armed by /control */
    int skip_next;
    int bad_cksum_next;
    int cross_next;               /* next book update sent crossed (not applied) */

    /* prints waiting for the venue's push period */
    struct sb liq_pending;        /* Bybit: JSON objects, comma separated */
    int liq_count;
    int has_last_liq;             /* Binance/OKX: latest print in the second */
    int liq_side_long;            /* liquidated position was long */
    int64_t liq_px, liq_qty, liq_ts;
    double liq_avg;
};

/* ---- server (vs_server.c) ------------------------------------------ */

struct vs_msg {
    struct vs_msg *next;
    size_t len, off;
    int binary;
    unsigned char buf[];          /* LWS_PRE + len */
};

enum vs_conn {
    VC_SINGLE = 0,                /* Bybit, OKX, Hyperliquid */
    VC_BN_PUBLIC,                 /* Binance /public */
    VC_BN_MARKET,                 /* Binance /market */
};

struct vs_client {
    struct vs_client *next, *prev;
    struct lws *wsi;
    enum venue_id venue;
    enum vs_conn conn;
    int raw;                      /* Binance /ws/<stream>: no wrapper */
    char conn_id[40];
    uint8_t subs[VS_MAX_SYMS];    /* enum vs_chan bits per symbol */
    char depth_suffix[VS_MAX_SYMS][16]; /* Binance "@depth@100ms" */
    char mark_suffix[VS_MAX_SYMS][16];  /* Binance "@markPrice@1s" */
    int bybit_depth[VS_MAX_SYMS];
    uint8_t hl_sigfigs[VS_MAX_SYMS];    /* Hyperliquid CH_BOOK_AGG: nSigFigs */
    uint8_t hl_mantissa[VS_MAX_SYMS];   /* ... and mantissa (0: none) */
    int okx_liq;                  /* liquidation-orders SWAP */
    uint64_t okx_last_seq[VS_MAX_SYMS];
    struct vs_msg *qhead, *qtail;
    size_t qbytes;
    int closing;
    /* request reassembly */
    char *rx;
    size_t rxlen;
    uint64_t frames_out, bytes_out, frames_in;
};

struct vs_sym {
    char base[16];                /* BTC */
    double price0;
};

enum vs_mode { MODE_NONE = 0, MODE_GENERATE, MODE_PLAY };

struct vs_venue_state {
    int stalled;
    uint64_t frames_out, bytes_out, rest_requests, drops;
    uint64_t clients_total;
};

struct vs_options {
    enum vs_mode mode;
    const char *play_file;
    double speed;
    int loop;
    double linger_s;
    int wait_clients;
    uint64_t seed;
    double duration_s;
    double crash_at, crash_pct, crash_secs;
    double adl_at, adl_secs;      /* scripted ADL warning (OKX, Bybit) */
    int book_per_step;            /* --book-rate / 10: book updates a step */
    int port;
    const char *bind;
    int allow_remote;
    int tls;
    const char *cert, *key;
    int okx_checksum;             /* 0: always 0 (2026), 1: real CRC32 */
    int okx_push_snapshot;        /* 1: snapshot on subscribe */
    char bn_liq_route[16];        /* "market" | "public" */
    int verbose;
};

struct vs_server {
    struct vs_options opt;
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int port;
    int64_t start_ms;
    int stopping;

    struct vs_sym syms[VS_MAX_SYMS];
    int nsyms;
    struct vs_instr instr[VENUE_COUNT][VS_MAX_SYMS];

    struct vs_client *clients;
    int nclients;
    struct vs_venue_state vst[VENUE_COUNT];
    uint64_t conn_seq;
    uint64_t http_requests, dropped_slow;

    void *gen;                    /* vs_gen.c state */
    void *play;                   /* vs_play.c state */
    int source_done;              /* generator / capture finished */
    int frozen;                   /* /control freeze: the market stands still */
};

extern struct vs_server *vs;      /* the one server (single thread) */

int vs_server_start(struct vs_server *s);
void vs_server_stop(struct vs_server *s);        /* first destroy step */
/* Queue a text frame (copied) for client c. */
void vs_client_send(struct vs_client *c, const char *text, size_t len);
int vs_clients_idle(void);        /* every queue empty */
int vs_venue_clients(enum venue_id v);

/* ---- venues (vs_venue.c) ------------------------------------------- */

/* Symbols: "BTCUSDT,ETHUSDT" -> syms[] and instr[][] with each venue's
 * parameters and empty books.  0 or -1 (message printed). */
int vs_setup_symbols(struct vs_server *s, const char *list);
void vs_free_instruments(struct vs_server *s);
struct vs_instr *vs_find_instr(struct vs_server *s, enum venue_id v,
                               const char *name);

/* Classify a ws path.  Returns the venue, or -1; *conn, *raw set. */
int vs_ws_route(const char *path, enum vs_conn *conn, int *raw);
/* New connection (Binance: the streams of the URL). */
void vs_venue_open(struct vs_client *c, const char *path, const char *args);
/* A complete request text from a client. */
void vs_venue_request(struct vs_client *c, const char *text, size_t len);

/* Generated changes to broadcast (book already updated). */
void vs_pub_book(struct vs_instr *in, const struct vs_change *ch, size_t n,
                 int64_t ts_ms, uint64_t u_first, uint64_t prev_u);
void vs_pub_mark(struct vs_instr *in, int64_t ts_ms);
void vs_pub_liq_flush(struct vs_instr *in, int64_t ts_ms);
void vs_pub_trade(struct vs_instr *in, int buy, int64_t px, int64_t qty,
                  int liquidation, int64_t ts_ms);
/* Record a liquidation print (sent at the venue's push period). */
void vs_liq_add(struct vs_instr *in, int long_liquidated, int64_t bk_px,
                int64_t qty, double avg, int64_t ts_ms);

/* HTTP: REST answers and /state.  Return the HTTP status; body filled. */
int vs_rest_answer(const char *path, struct lws *wsi, struct sb *body,
                   const char **ctype);
int vs_state_json(const char *venue, const char *symbol, struct sb *body);
/* Misbehaviour that applies to frames (garbage, oversize). */
void vs_send_garbage(struct vs_client *c);
/* Once a second (--generate): the ADL warning frames of the script
 * (--adl-at): OKX adl-warning while warning/adl (silent otherwise, as
 * OKX since 2026), Bybit adlAlert.USDT always (its rule decides). */
void vs_pub_adl(struct vs_server *s, double secs, int64_t ts_ms);
void vs_send_oversize(struct vs_client *c);
/* garbage&kind=K (shape, letters, nan, inf, deep, binary, huge): one frame
 * of that kind; -1 for an unknown kind. */
int vs_send_garbage_kind(struct vs_client *c, const char *kind);
void vs_fmt_px(const struct vs_instr *in, int64_t px, char *buf, size_t n);
void vs_fmt_qty(const struct vs_instr *in, int64_t q, char *buf, size_t n);
int32_t vs_okx_checksum(const struct vs_instr *in);

/* ---- sources ------------------------------------------------------- */

int vs_gen_start(struct vs_server *s);
void vs_gen_stop(struct vs_server *s);
int vs_play_start(struct vs_server *s);
void vs_play_stop(struct vs_server *s);
void vs_play_kick(struct vs_server *s);   /* queues drained: go on */
/* --play REST: the latest captured body for path?query, or NULL. */
const char *vs_play_rest(struct vs_server *s, const char *path,
                         const char *query, size_t *len);
int vs_play_state(struct vs_server *s, const char *venue, const char *symbol,
                  struct sb *body);
/* New client of a venue in --play mode: nothing to send (the capture has
 * it all) but it may start the playback (--wait-clients). */
void vs_play_client(struct vs_server *s);

/* ---- tools --------------------------------------------------------- */

int vs_probe_main(int argc, char **argv);
int vs_gen_cert(const char *dir);

#endif
