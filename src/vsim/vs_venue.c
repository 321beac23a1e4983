/*
 * vs_venue.c - the four venues' wire formats as liqmon-venue speaks them:
 * paths, requests (subscribe, ping), pushes and REST answers.  Message
 * shapes follow real frames (README.md names the sources).
 *
 * Book numbering, per instrument (in->u counts for all its clients):
 *   Binance  depthUpdate U = previous u + 1, u = U + k (k >= 0: ids used
 *            by the engine), pu = previous event's u; REST lastUpdateId =
 *            the u of the last event generated.
 *   Bybit    snapshot on subscribe carries the current u; each delta u+1;
 *            seq (cross sequence) grows by 1..5.
 *   OKX      snapshot prevSeqId -1; update prevSeqId = previous seqId,
 *            seqId grows by 1..10; checksum 0 or CRC32 of the top 25.
 *   Hyperliquid  full l2Book snapshots, no numbering: the top
 *            VS_HL_LEVELS levels a side, and for a subscription with
 *            nSigFigs (and mantissa) the same book in price buckets, as
 *            the venue makes them (order_book_server levels.rs: the step
 *            is mantissa * 10^(digits - nSigFigs), bids rounded down,
 *            asks up, VS_HL_LEVELS buckets a side).  Both are pushed
 *            together from the same generated book, which is kept deep
 *            (nlev 400: about +-23% for BTC) so that the buckets reach
 *            far.  /state gives the book liqmond builds from the two:
 *            the full levels, then the buckets beyond the last of them
 *            (src/venue/hyperliquid.c, "THE MERGE").
 * A skipped update (/control skip-seq) is applied to the book and to the
 * numbering but never sent, exactly like a frame lost on the way.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "liqmon/jtok.h"
#include "vsim.h"

/* ---- instruments --------------------------------------------------- */

struct params {
    const char *base;
    double price;
    /* per venue: tick mant/dec, lot mant/dec, ctval */
    struct { int64_t tm; int td; int64_t lm; int ld; double ctval; } v[VENUE_COUNT];
};

/* Values as in conf/instruments/ (2026). */
static const struct params known[] = {
    { "BTC", 90000.0, { { 1, 1, 1, 3, 1.0 }, { 1, 1, 1, 3, 1.0 },
                        { 1, 1, 1, 2, 0.01 }, { 1, 0, 1, 5, 1.0 } } },
    { "ETH", 3000.0, { { 1, 2, 1, 3, 1.0 }, { 1, 2, 1, 2, 1.0 },
                       { 1, 2, 1, 2, 0.1 }, { 1, 1, 1, 4, 1.0 } } },
};
static const struct params other = {
    "", 100.0, { { 1, 2, 1, 2, 1.0 }, { 1, 2, 1, 2, 1.0 },
                 { 1, 2, 1, 2, 1.0 }, { 1, 2, 1, 2, 1.0 } }
};

/* Hyperliquid: deep enough for the aggregated book (VS_HL_LEVELS buckets
 * of 1,000 reach ~22% of BTC); its full book frame is the top
 * VS_HL_LEVELS levels, as the venue sends. */
static const int nlev_of[VENUE_COUNT] = { 100, 50, 100, 400 };

int vs_setup_symbols(struct vs_server *s, const char *list)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", list);
    s->nsyms = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (s->nsyms == VS_MAX_SYMS) {
            fprintf(stderr, "liqmon-venue: at most %d symbols\n", VS_MAX_SYMS);
            return -1;
        }
        char base[16];
        size_t n = strlen(t);
        if (n > 4 && !strcmp(t + n - 4, "USDT"))
            n -= 4;
        if (n == 0 || n >= sizeof(base)) {
            fprintf(stderr, "liqmon-venue: bad symbol '%s'\n", t);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            base[i] = (char)toupper((unsigned char)t[i]);
        base[n] = '\0';
        const struct params *pp = &other;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (!strcmp(known[k].base, base))
                pp = &known[k];
        int si = s->nsyms++;
        struct vs_sym *sym = &s->syms[si];
        snprintf(sym->base, sizeof(sym->base), "%s", base);
        sym->price0 = pp->price;
        for (int v = 0; v < VENUE_COUNT; v++) {
            struct vs_instr *in = &s->instr[v][si];
            memset(in, 0, sizeof(*in));
            in->venue = (enum venue_id)v;
            in->sym = si;
            switch (v) {
            case VENUE_BINANCE:
            case VENUE_BYBIT:
                snprintf(in->name, sizeof(in->name), "%sUSDT", base);
                break;
            case VENUE_OKX:
                snprintf(in->name, sizeof(in->name), "%s-USDT-SWAP", base);
                snprintf(in->family, sizeof(in->family), "%s-USDT", base);
                break;
            default:
                snprintf(in->name, sizeof(in->name), "%s", base);
            }
            for (size_t i = 0; in->name[i]; i++)
                in->lname[i] = (char)tolower((unsigned char)in->name[i]);
            in->tick_mant = pp->v[v].tm;
            in->tick_dec = pp->v[v].td;
            in->lot_mant = pp->v[v].lm;
            in->lot_dec = pp->v[v].ld;
            in->ctval = pp->v[v].ctval;
            in->nlev = nlev_of[v];
            in->bids = calloc((size_t)in->nlev, sizeof(*in->bids));
            in->asks = calloc((size_t)in->nlev, sizeof(*in->asks));
            if (!in->bids || !in->asks)
                return -1;
            sb_init(&in->liq_pending);
        }
    }
    if (s->nsyms == 0) {
        fprintf(stderr, "liqmon-venue: no symbols\n");
        return -1;
    }
    return 0;
}

void vs_free_instruments(struct vs_server *s)
{
    for (int v = 0; v < VENUE_COUNT; v++)
        for (int i = 0; i < s->nsyms; i++) {
            free(s->instr[v][i].bids);
            free(s->instr[v][i].asks);
            sb_fini(&s->instr[v][i].liq_pending);
        }
}

struct vs_instr *vs_find_instr(struct vs_server *s, enum venue_id v,
                               const char *name)
{
    for (int i = 0; i < s->nsyms; i++)
        if (!strcasecmp(s->instr[v][i].name, name))
            return &s->instr[v][i];
    return NULL;
}

/* ---- formatting ---------------------------------------------------- */

void vs_fmt_px(const struct vs_instr *in, int64_t px, char *buf, size_t n)
{
    vs_fmt_fixed(buf, n, px, in->tick_mant, in->tick_dec, 0);
    if (in->venue == VENUE_HYPERLIQUID && in->tick_dec == 0 &&
        strlen(buf) + 3 <= n)
        strcat(buf, ".0");              /* as Hyperliquid prints 79889.0 */
}

void vs_fmt_qty(const struct vs_instr *in, int64_t q, char *buf, size_t n)
{
    /* OKX and Hyperliquid print sizes without trailing zeros */
    int trim = in->venue == VENUE_OKX || in->venue == VENUE_HYPERLIQUID;
    vs_fmt_fixed(buf, n, q, in->lot_mant, in->lot_dec, trim);
}

static void fmt_double(char *buf, size_t n, double v, int dec)
{
    snprintf(buf, n, "%.*f", dec, v);
}

/* [["p","q"],...] from levels, at most max */
static void levels_json(struct sb *b, const struct vs_instr *in,
                        const struct vs_level *l, int n, int max, int okx)
{
    char p[48], q[48];
    sb_adds(b, "[");
    for (int i = 0; i < n && i < max; i++) {
        vs_fmt_px(in, l[i].px, p, sizeof(p));
        vs_fmt_qty(in, l[i].qty, q, sizeof(q));
        if (okx)
            sb_printf(b, "%s[\"%s\",\"%s\",\"0\",\"%d\"]", i ? "," : "", p, q,
                      (int)(1 + (l[i].qty % 7)));
        else
            sb_printf(b, "%s[\"%s\",\"%s\"]", i ? "," : "", p, q);
    }
    sb_adds(b, "]");
}

static void changes_json(struct sb *b, const struct vs_instr *in,
                         const struct vs_change *ch, size_t n, int side, int okx)
{
    char p[48], q[48];
    int first = 1;
    sb_adds(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (ch[i].side != side)
            continue;
        vs_fmt_px(in, ch[i].px, p, sizeof(p));
        vs_fmt_qty(in, ch[i].qty, q, sizeof(q));
        if (okx)
            sb_printf(b, "%s[\"%s\",\"%s\",\"0\",\"%d\"]", first ? "" : ",", p,
                      q, ch[i].qty ? (int)(1 + (ch[i].qty % 7)) : 0);
        else
            sb_printf(b, "%s[\"%s\",\"%s\"]", first ? "" : ",", p, q);
        first = 0;
    }
    sb_adds(b, "]");
}

/* OKX checksum: "bidPx:bidSz:askPx:askSz:..." over the top 25 of each
 * side, interleaved, the longer side's rest appended; CRC32 as a signed
 * 32-bit integer.  Strings exactly as sent. */
int32_t vs_okx_checksum(const struct vs_instr *in)
{
    struct sb s;
    char p[48], q[48];
    sb_init(&s);
    for (int i = 0; i < 25; i++) {
        if (i < in->nb) {
            vs_fmt_px(in, in->bids[i].px, p, sizeof(p));
            vs_fmt_qty(in, in->bids[i].qty, q, sizeof(q));
            sb_printf(&s, "%s%s:%s", s.len ? ":" : "", p, q);
        }
        if (i < in->na) {
            vs_fmt_px(in, in->asks[i].px, p, sizeof(p));
            vs_fmt_qty(in, in->asks[i].qty, q, sizeof(q));
            sb_printf(&s, "%s%s:%s", s.len ? ":" : "", p, q);
        }
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    if (s.len)
        crc = crc32(crc, (const Bytef *)s.p, (uInt)s.len);
    sb_fini(&s);
    return (int32_t)(uint32_t)crc;
}

static int32_t okx_cksum_for_push(struct vs_instr *in)
{
    int32_t real = vs_okx_checksum(in);
    if (in->bad_cksum_next) {
        in->bad_cksum_next = 0;
        int32_t bad = real ^ 0x5a5a5a5a;
        return bad ? bad : 1;
    }
    return vs->opt.okx_checksum ? real : 0;
}

/* ---- paths --------------------------------------------------------- */

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int vs_ws_route(const char *path, enum vs_conn *conn, int *raw)
{
    *conn = VC_SINGLE;
    *raw = 0;
    if (!strcmp(path, "/v5/public/linear"))
        return VENUE_BYBIT;
    if (!strcmp(path, "/ws/v5/public"))
        return VENUE_OKX;
    if (!strcmp(path, "/ws") || !strcmp(path, "/ws/"))
        return VENUE_HYPERLIQUID;
    if (!strcmp(path, "/public/stream") || !strcmp(path, "/stream")) {
        *conn = VC_BN_PUBLIC;
        return VENUE_BINANCE;
    }
    if (!strcmp(path, "/market/stream")) {
        *conn = VC_BN_MARKET;
        return VENUE_BINANCE;
    }
    if (starts(path, "/public/ws") || starts(path, "/ws/")) {
        *conn = VC_BN_PUBLIC;
        *raw = 1;
        return VENUE_BINANCE;
    }
    if (starts(path, "/market/ws")) {
        *conn = VC_BN_MARKET;
        *raw = 1;
        return VENUE_BINANCE;
    }
    return -1;
}

/* ---- initial pushes on subscribe ----------------------------------- */

static void send_sb(struct vs_client *c, struct sb *b)
{
    if (!b->oom && b->len)
        vs_client_send(c, b->p, b->len);
}

static void bybit_book_snapshot(struct vs_client *c, struct vs_instr *in,
                                int depth)
{
    struct sb b;
    int64_t ts = vs_now_ms();
    sb_init(&b);
    sb_printf(&b, "{\"topic\":\"orderbook.%d.%s\",\"type\":\"snapshot\","
              "\"ts\":%lld,\"data\":{\"s\":\"%s\",\"b\":", depth, in->name,
              (long long)ts, in->name);
    levels_json(&b, in, in->bids, in->nb, in->nlev, 0);
    sb_adds(&b, ",\"a\":");
    levels_json(&b, in, in->asks, in->na, in->nlev, 0);
    sb_printf(&b, ",\"u\":%llu,\"seq\":%llu},\"cts\":%lld}",
              (unsigned long long)in->u, (unsigned long long)in->seq,
              (long long)(ts - 2));
    send_sb(c, &b);
    sb_fini(&b);
}

static void bybit_ticker(struct sb *b, struct vs_instr *in, int snapshot,
                         int64_t ts)
{
    char mark[48], idx[48], bp[48], bq[48], ap[48], aq[48], oi[48], oiv[48];
    int64_t mk = llround(in->mark / ((double)in->tick_mant /
                                     pow(10, in->tick_dec)));
    int64_t ix = llround(in->index / ((double)in->tick_mant /
                                      pow(10, in->tick_dec)));
    vs_fmt_px(in, mk, mark, sizeof(mark));
    vs_fmt_px(in, ix, idx, sizeof(idx));
    vs_fmt_px(in, in->nb ? in->bids[0].px : mk, bp, sizeof(bp));
    vs_fmt_qty(in, in->nb ? in->bids[0].qty : 0, bq, sizeof(bq));
    vs_fmt_px(in, in->na ? in->asks[0].px : mk, ap, sizeof(ap));
    vs_fmt_qty(in, in->na ? in->asks[0].qty : 0, aq, sizeof(aq));
    fmt_double(oi, sizeof(oi), in->oi_base, 3);
    fmt_double(oiv, sizeof(oiv), in->oi_base * in->mark, 2);
    int64_t next_funding = (ts / 28800000 + 1) * 28800000;
    if (snapshot)
        sb_printf(b, "{\"topic\":\"tickers.%s\",\"type\":\"snapshot\","
                  "\"data\":{\"symbol\":\"%s\",\"tickDirection\":\"PlusTick\","
                  "\"price24hPcnt\":\"0.001000\",\"lastPrice\":\"%s\","
                  "\"prevPrice24h\":\"%s\",\"highPrice24h\":\"%s\","
                  "\"lowPrice24h\":\"%s\",\"prevPrice1h\":\"%s\","
                  "\"markPrice\":\"%s\",\"indexPrice\":\"%s\","
                  "\"openInterest\":\"%s\",\"openInterestValue\":\"%s\","
                  "\"turnover24h\":\"1000000000.0000\",\"volume24h\":\"10000.000\","
                  "\"nextFundingTime\":\"%lld\",\"fundingRate\":\"0.0001\","
                  "\"bid1Price\":\"%s\",\"bid1Size\":\"%s\",\"ask1Price\":\"%s\","
                  "\"ask1Size\":\"%s\"},\"cs\":%llu,\"ts\":%lld}",
                  in->name, in->name, mark, mark, mark, mark, mark, mark, idx,
                  oi, oiv, (long long)next_funding, bp, bq, ap, aq,
                  (unsigned long long)in->seq, (long long)ts);
    else
        sb_printf(b, "{\"topic\":\"tickers.%s\",\"type\":\"delta\","
                  "\"data\":{\"symbol\":\"%s\",\"lastPrice\":\"%s\","
                  "\"markPrice\":\"%s\",\"indexPrice\":\"%s\","
                  "\"openInterest\":\"%s\",\"openInterestValue\":\"%s\","
                  "\"bid1Price\":\"%s\",\"bid1Size\":\"%s\",\"ask1Price\":\"%s\","
                  "\"ask1Size\":\"%s\"},\"cs\":%llu,\"ts\":%lld}",
                  in->name, in->name, mark, mark, idx, oi, oiv, bp, bq, ap, aq,
                  (unsigned long long)in->seq, (long long)ts);
}

static void okx_book(struct sb *b, struct vs_instr *in, int snapshot,
                     const struct vs_change *ch, size_t n, uint64_t prev,
                     int64_t ts)
{
    sb_printf(b, "{\"arg\":{\"channel\":\"books\",\"instId\":\"%s\"},"
              "\"action\":\"%s\",\"data\":[{\"asks\":", in->name,
              snapshot ? "snapshot" : "update");
    if (snapshot)
        levels_json(b, in, in->asks, in->na, in->nlev, 1);
    else
        changes_json(b, in, ch, n, 1, 1);
    sb_adds(b, ",\"bids\":");
    if (snapshot)
        levels_json(b, in, in->bids, in->nb, in->nlev, 1);
    else
        changes_json(b, in, ch, n, 0, 1);
    sb_printf(b, ",\"ts\":\"%lld\",\"checksum\":%d,\"prevSeqId\":%lld,"
              "\"seqId\":%llu}]}", (long long)ts, (int)okx_cksum_for_push(in),
              snapshot ? -1LL : (long long)prev, (unsigned long long)in->u);
}

static void okx_mark(struct sb *b, struct vs_instr *in, int64_t ts)
{
    char mark[48];
    int64_t mk = llround(in->mark / ((double)in->tick_mant /
                                     pow(10, in->tick_dec)));
    vs_fmt_px(in, mk, mark, sizeof(mark));
    sb_printf(b, "{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"%s\"},"
              "\"data\":[{\"instType\":\"SWAP\",\"instId\":\"%s\","
              "\"markPx\":\"%s\",\"ts\":\"%lld\"}]}", in->name, in->name, mark,
              (long long)ts);
}

static void hl_book(struct sb *b, struct vs_instr *in, int64_t ts)
{
    char p[48], q[48];
    sb_printf(b, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"%s\","
              "\"time\":%lld,\"levels\":[[", in->name, (long long)ts);
    for (int i = 0; i < in->nb && i < VS_HL_LEVELS; i++) {
        vs_fmt_px(in, in->bids[i].px, p, sizeof(p));
        vs_fmt_qty(in, in->bids[i].qty, q, sizeof(q));
        sb_printf(b, "%s{\"px\":\"%s\",\"sz\":\"%s\",\"n\":%d}", i ? "," : "",
                  p, q, (int)(1 + in->bids[i].qty % 9));
    }
    sb_adds(b, "],[");
    for (int i = 0; i < in->na && i < VS_HL_LEVELS; i++) {
        vs_fmt_px(in, in->asks[i].px, p, sizeof(p));
        vs_fmt_qty(in, in->asks[i].qty, q, sizeof(q));
        sb_printf(b, "%s{\"px\":\"%s\",\"sz\":\"%s\",\"n\":%d}", i ? "," : "",
                  p, q, (int)(1 + in->asks[i].qty % 9));
    }
    sb_adds(b, "]]}}");
}

/* ---- Hyperliquid aggregated books ---------------------------------- */

/* One price bucket: price in units of 10^-tick_dec, lots, orders. */
struct hl_bucket {
    int64_t u, qty;
    int n;
};

static int ndigits(int64_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* The bucket of price u (units of 10^-tick_dec), as the venue rounds it
 * (order_book_server levels.rs, bucket()): step mant * 10^(digits - nsig),
 * bids down, asks up.  The step is scale-free, so these units give the
 * venue's buckets whenever u has at least nsig digits. */
static int64_t hl_bucket_of(int64_t u, int side, int nsig, int mant)
{
    int d = ndigits(u);
    int64_t inc = mant > 0 ? mant : 1;
    for (int k = d > nsig ? d - nsig : 0; k > 0; k--)
        inc *= 10;
    return side == 0 ? u / inc * inc : (u + inc - 1) / inc * inc;
}

/* Up to max buckets of one side, best first, grouping the levels as the
 * venue's build_l2_level does: a level beyond the current bucket's price
 * opens the next one. */
static int hl_buckets(const struct vs_instr *in, int side, int nsig, int mant,
                      struct hl_bucket *out, int max)
{
    const struct vs_level *l = side ? in->asks : in->bids;
    int nl = side ? in->na : in->nb, k = -1;
    for (int i = 0; i < nl; i++) {
        int64_t u = l[i].px * in->tick_mant;
        if (k < 0 || (side == 0 ? u < out[k].u : u > out[k].u)) {
            if (k + 1 == max)
                break;
            k++;
            out[k].u = hl_bucket_of(u, side, nsig, mant);
            out[k].qty = 0;
            out[k].n = 0;
        }
        out[k].qty += l[i].qty;
        out[k].n += (int)(1 + l[i].qty % 9);
    }
    return k + 1;
}

/* A bucket price as Hyperliquid prints it ("90000.0", "3000.0"). */
static void hl_fmt_units(const struct vs_instr *in, int64_t u, char *buf,
                         size_t n)
{
    vs_fmt_fixed(buf, n, u, 1, in->tick_dec, 0);
    if (in->tick_dec == 0 && strlen(buf) + 3 <= n)
        strcat(buf, ".0");
}

static void hl_book_agg(struct sb *b, struct vs_instr *in, int64_t ts,
                        int nsig, int mant)
{
    struct hl_bucket bk[VS_HL_LEVELS];
    char p[48], q[48];
    sb_printf(b, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"%s\","
              "\"time\":%lld,\"levels\":[", in->name, (long long)ts);
    for (int side = 0; side < 2; side++) {
        int n = hl_buckets(in, side, nsig, mant, bk, VS_HL_LEVELS);
        sb_adds(b, side ? ",[" : "[");
        for (int i = 0; i < n; i++) {
            hl_fmt_units(in, bk[i].u, p, sizeof(p));
            vs_fmt_qty(in, bk[i].qty, q, sizeof(q));
            sb_printf(b, "%s{\"px\":\"%s\",\"sz\":\"%s\",\"n\":%d}",
                      i ? "," : "", p, q, bk[i].n);
        }
        sb_adds(b, "]");
    }
    sb_adds(b, "]}}");
}

/* a is further from the top than b on this side */
static int hl_beyond(int side, int64_t a, int64_t b)
{
    return side == 0 ? a < b : a > b;
}

/* One side of the book liqmond merges from the full and the aggregated
 * frames (src/venue/hyperliquid.c, "THE MERGE"), as [["p","q"],...]. */
static void hl_merged_side(struct sb *b, const struct vs_instr *in, int side)
{
    const struct vs_level *l = side ? in->asks : in->bids;
    int nf = side ? in->na : in->nb;
    struct hl_bucket bk[VS_HL_LEVELS];
    char p[48], q[48];
    if (nf > VS_HL_LEVELS)
        nf = VS_HL_LEVELS;
    sb_adds(b, "[");
    for (int i = 0; i < nf; i++) {
        vs_fmt_px(in, l[i].px, p, sizeof(p));
        vs_fmt_qty(in, l[i].qty, q, sizeof(q));
        sb_printf(b, "%s[\"%s\",\"%s\"]", i ? "," : "", p, q);
    }
    if (nf > 0) {
        int na = hl_buckets(in, side, VS_HL_AGG_SIGFIGS, 0, bk, VS_HL_LEVELS);
        int64_t last = l[nf - 1].px * in->tick_mant, upper = 0;
        int have_upper = 0, i = 0;
        for (; i < na && !hl_beyond(side, bk[i].u, last); i++) {
            upper = bk[i].u;
            have_upper = 1;
        }
        for (int first = 1; i < na; i++, first = 0) {
            int64_t qty = bk[i].qty;
            if (first)
                for (int k = 0; k < nf; k++)
                    if (!have_upper || hl_beyond(side, l[k].px * in->tick_mant, upper))
                        qty -= l[k].qty;
            if (qty <= 0)
                continue;
            hl_fmt_units(in, bk[i].u, p, sizeof(p));
            vs_fmt_qty(in, qty, q, sizeof(q));
            sb_printf(b, ",[\"%s\",\"%s\"]", p, q);
        }
    }
    sb_adds(b, "]");
}

static void hl_ctx(struct sb *b, struct vs_instr *in)
{
    char mark[48], oracle[48], mid[48], bp[48], ap[48];
    int64_t mk = llround(in->mark / ((double)in->tick_mant /
                                     pow(10, in->tick_dec)));
    int64_t ix = llround(in->index / ((double)in->tick_mant /
                                      pow(10, in->tick_dec)));
    vs_fmt_px(in, mk, mark, sizeof(mark));
    vs_fmt_px(in, ix, oracle, sizeof(oracle));
    vs_fmt_px(in, in->nb ? in->bids[0].px : mk, bp, sizeof(bp));
    vs_fmt_px(in, in->na ? in->asks[0].px : mk, ap, sizeof(ap));
    double midv = in->nb && in->na
        ? (double)(in->bids[0].px + in->asks[0].px) / 2.0 *
          ((double)in->tick_mant / pow(10, in->tick_dec)) : in->mark;
    snprintf(mid, sizeof(mid), "%.1f", midv);
    double prem = in->index > 0 ? (in->mark - in->index) / in->index : 0;
    sb_printf(b, "{\"channel\":\"activeAssetCtx\",\"data\":{\"coin\":\"%s\","
              "\"ctx\":{\"funding\":\"0.0000125\",\"openInterest\":\"%.5f\","
              "\"prevDayPx\":\"%s\",\"dayNtlVlm\":\"845822222.75\","
              "\"premium\":\"%.10f\",\"oraclePx\":\"%s\",\"markPx\":\"%s\","
              "\"midPx\":\"%s\",\"impactPxs\":[\"%s\",\"%s\"],"
              "\"dayBaseVlm\":\"10601.61339\"}}}", in->name, in->oi_base,
              oracle, prem, oracle, mark, mid, bp, ap);
}

/* ---- requests ------------------------------------------------------ */

/* Binance stream "<sym>@<kind>..." on this connection's route. */
static int binance_stream(struct vs_client *c, const char *st, size_t n,
                          int on)
{
    char s[96], *at;
    if (n == 0 || n >= sizeof(s))
        return -1;
    memcpy(s, st, n);
    s[n] = '\0';
    at = strchr(s, '@');
    if (!at)
        return -1;
    *at = '\0';
    struct vs_instr *in = vs_find_instr(vs, VENUE_BINANCE, s);
    if (!in)
        return -1;
    const char *kind = at + 1;
    int ch = 0;
    int liq_public = !strcmp(vs->opt.bn_liq_route, "public");
    if (starts(kind, "depth"))
        ch = c->conn == VC_BN_PUBLIC ? CH_BOOK : 0;
    else if (starts(kind, "markPrice"))
        ch = c->conn == VC_BN_MARKET ? CH_MARK : 0;
    else if (!strcmp(kind, "forceOrder"))
        ch = (c->conn == VC_BN_PUBLIC) == liq_public ? CH_LIQ : 0;
    else
        return -1;
    /* a stream on the wrong route is accepted and never pushes, as the
     * 2026 routed endpoints behave */
    if (ch == CH_BOOK)
        snprintf(c->depth_suffix[in->sym], sizeof(c->depth_suffix[0]), "@%s",
                 kind);
    if (ch == CH_MARK)
        snprintf(c->mark_suffix[in->sym], sizeof(c->mark_suffix[0]), "@%s",
                 kind);
    if (on)
        c->subs[in->sym] |= (uint8_t)ch;
    else
        c->subs[in->sym] &= (uint8_t)~ch;
    return 0;
}

void vs_venue_open(struct vs_client *c, const char *path, const char *args)
{
    if (c->venue != VENUE_BINANCE)
        return;
    const char *list = args;
    if (c->raw) {
        const char *p = strstr(path, "/ws/");
        list = p ? p + 4 : NULL;
    }
    if (!list)
        return;
    while (*list) {
        const char *e = strchr(list, '/');
        size_t n = e ? (size_t)(e - list) : strlen(list);
        binance_stream(c, list, n, 1);
        list += n;
        if (*list == '/')
            list++;
    }
}

/* 2048: an OKX subscribe of 50 instruments x 3 channels is ~750 tokens */
#define NTOK 2048

static void reply(struct vs_client *c, const char *s)
{
    vs_client_send(c, s, strlen(s));
}

static void binance_request(struct vs_client *c, const char *s,
                            const struct jtok *t, int n)
{
    char out[256];
    (void)n;
    int m = jtok_get(s, t, 0, "method"), pa = jtok_get(s, t, 0, "params"),
        id = jtok_get(s, t, 0, "id");
    int64_t idv = 0;
    if (id < 0 || jtok_i64(s, t, id, &idv))
        idv = 0;
    if (m < 0) {
        snprintf(out, sizeof(out), "{\"error\":{\"code\":2,\"msg\":\"Invalid "
                 "request: method is missing\"},\"id\":%lld}", (long long)idv);
        reply(c, out);
        return;
    }
    int on = jtok_streq(s, t, m, "SUBSCRIBE");
    if (on || jtok_streq(s, t, m, "UNSUBSCRIBE")) {
        if (pa >= 0 && t[pa].type == JT_ARR)
            for (int i = jtok_first(t, pa); i >= 0 && i < (int)t[pa].end;
                 i = jtok_next(t, i))
                if (t[i].type == JT_STR)
                    binance_stream(c, s + t[i].start, t[i].len, on);
        snprintf(out, sizeof(out), "{\"result\":null,\"id\":%lld}",
                 (long long)idv);
        reply(c, out);
        return;
    }
    snprintf(out, sizeof(out), "{\"error\":{\"code\":2,\"msg\":\"Invalid "
             "request: unknown method\"},\"id\":%lld}", (long long)idv);
    reply(c, out);
}

static void bybit_request(struct vs_client *c, const char *s,
                          const struct jtok *t, int n)
{
    struct sb b;
    char req_id[64] = "";
    (void)n;
    int op = jtok_get(s, t, 0, "op"), args = jtok_get(s, t, 0, "args"),
        rid = jtok_get(s, t, 0, "req_id");
    if (rid >= 0)
        jtok_strcpy(s, t, rid, req_id, sizeof(req_id));
    sb_init(&b);
    if (op >= 0 && jtok_streq(s, t, op, "ping")) {
        sb_printf(&b, "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"%s\","
                  "%s%s%s\"op\":\"ping\"}", c->conn_id,
                  rid >= 0 ? "\"req_id\":\"" : "", req_id,
                  rid >= 0 ? "\"," : "");
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    int on = op >= 0 && jtok_streq(s, t, op, "subscribe");
    if (!on && !(op >= 0 && jtok_streq(s, t, op, "unsubscribe"))) {
        sb_printf(&b, "{\"success\":false,\"ret_msg\":\"error:unknown op\","
                  "\"conn_id\":\"%s\",\"op\":\"\"}", c->conn_id);
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    struct sb bad;
    sb_init(&bad);
    struct { struct vs_instr *in; int depth; int ch; } todo[64];
    int ntodo = 0;
    if (args >= 0 && t[args].type == JT_ARR)
        for (int i = jtok_first(t, args); i >= 0 && i < (int)t[args].end;
             i = jtok_next(t, i)) {
            char topic[96], *dot;
            if (jtok_strcpy(s, t, i, topic, sizeof(topic)))
                continue;
            struct vs_instr *in = NULL;
            int ch = 0, depth = 0;
            if (!strcmp(topic, "adlAlert.USDT") || !strcmp(topic, "adlAlert.USDC")) {
                /* every symbol of the coin (vsim's are all USDT) */
                for (int k = 0; k < vs->nsyms; k++)
                    if (on && topic[12] == 'T')
                        c->subs[k] |= CH_ADL;
                    else
                        c->subs[k] &= (uint8_t)~CH_ADL;
                continue;
            }
            if (starts(topic, "tickers.")) {
                in = vs_find_instr(vs, VENUE_BYBIT, topic + 8);
                ch = CH_MARK;
            } else if (starts(topic, "allLiquidation.")) {
                in = vs_find_instr(vs, VENUE_BYBIT, topic + 15);
                ch = CH_LIQ;
            } else if (starts(topic, "orderbook.") &&
                       (dot = strchr(topic + 10, '.'))) {
                depth = atoi(topic + 10);
                if (depth == 1 || depth == 50 || depth == 200 || depth == 500)
                    in = vs_find_instr(vs, VENUE_BYBIT, dot + 1);
                ch = CH_BOOK;
            }
            if (!in) {
                sb_printf(&bad, "%s%s", bad.len ? "," : "", topic);
                continue;
            }
            if (on) {
                c->subs[in->sym] |= (uint8_t)ch;
                if (ch == CH_BOOK)
                    c->bybit_depth[in->sym] = depth;
                if (ntodo < 64) {
                    todo[ntodo].in = in;
                    todo[ntodo].depth = depth;
                    todo[ntodo].ch = ch;
                    ntodo++;
                }
            } else {
                c->subs[in->sym] &= (uint8_t)~ch;
            }
        }
    if (bad.len)
        sb_printf(&b, "{\"success\":false,\"ret_msg\":\"error:handler not "
                  "found,topic:%s\",\"conn_id\":\"%s\",\"req_id\":\"%s\","
                  "\"op\":\"%s\"}", bad.p, c->conn_id, req_id,
                  on ? "subscribe" : "unsubscribe");
    else
        sb_printf(&b, "{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"%s\","
                  "%s%s%s\"op\":\"%s\"}", c->conn_id,
                  rid >= 0 ? "\"req_id\":\"" : "", req_id,
                  rid >= 0 ? "\"," : "", on ? "subscribe" : "unsubscribe");
    send_sb(c, &b);
    sb_reset(&b);
    if (vs->opt.mode == MODE_GENERATE)
        for (int i = 0; i < ntodo; i++) {
            if (todo[i].ch == CH_BOOK) {
                bybit_book_snapshot(c, todo[i].in, todo[i].depth);
            } else if (todo[i].ch == CH_MARK) {
                sb_reset(&b);
                bybit_ticker(&b, todo[i].in, 1, vs_now_ms());
                send_sb(c, &b);
            }
        }
    sb_fini(&bad);
    sb_fini(&b);
}

static void okx_request(struct vs_client *c, const char *s,
                        const struct jtok *t, int n)
{
    struct sb b;
    (void)n;
    int op = jtok_get(s, t, 0, "op"), args = jtok_get(s, t, 0, "args");
    sb_init(&b);
    int on = op >= 0 && jtok_streq(s, t, op, "subscribe");
    if (!on && !(op >= 0 && jtok_streq(s, t, op, "unsubscribe"))) {
        sb_printf(&b, "{\"event\":\"error\",\"code\":\"60012\",\"msg\":"
                  "\"Invalid request: unknown op\",\"connId\":\"%s\"}", c->conn_id);
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    if (args < 0 || t[args].type != JT_ARR) {
        sb_printf(&b, "{\"event\":\"error\",\"code\":\"60012\",\"msg\":"
                  "\"Invalid request: args missing\",\"connId\":\"%s\"}",
                  c->conn_id);
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    for (int i = jtok_first(t, args); i >= 0 && i < (int)t[args].end;
         i = jtok_next(t, i)) {
        char chan[48] = "", inst[48] = "", itype[16] = "";
        int k;
        if (t[i].type != JT_OBJ)
            continue;
        if ((k = jtok_get(s, t, i, "channel")) >= 0)
            jtok_strcpy(s, t, k, chan, sizeof(chan));
        if ((k = jtok_get(s, t, i, "instId")) >= 0)
            jtok_strcpy(s, t, k, inst, sizeof(inst));
        if ((k = jtok_get(s, t, i, "instType")) >= 0)
            jtok_strcpy(s, t, k, itype, sizeof(itype));
        sb_reset(&b);
        if (!strcmp(chan, "adl-warning")) {
            char fam[48] = "";
            if ((k = jtok_get(s, t, i, "instFamily")) >= 0)
                jtok_strcpy(s, t, k, fam, sizeof(fam));
            if (strcmp(itype, "SWAP") && strcmp(itype, "FUTURES") && strcmp(itype, "OPTION")) {
                sb_printf(&b, "{\"event\":\"error\",\"code\":\"60018\",\"msg\":"
                          "\"Wrong URL or channel:%s,instType:%s doesn't exist. "
                          "Please use the correct URL, channel and parameters "
                          "referring to API document.\",\"connId\":\"%s\"}",
                          chan, itype, c->conn_id);
            } else {
                for (int k2 = 0; k2 < vs->nsyms; k2++) {
                    const struct vs_instr *in = &vs->instr[VENUE_OKX][k2];
                    if (fam[0] && strcmp(fam, in->family) != 0)
                        continue;
                    if (on && !strcmp(itype, "SWAP"))
                        c->subs[k2] |= CH_ADL;
                    else if (!on)
                        c->subs[k2] &= (uint8_t)~CH_ADL;
                }
                sb_printf(&b, "{\"event\":\"%s\",\"arg\":{\"channel\":\"adl-warning\","
                          "\"instType\":\"%s\"%s%s%s},\"connId\":\"%s\"}",
                          on ? "subscribe" : "unsubscribe", itype,
                          fam[0] ? ",\"instFamily\":\"" : "", fam, fam[0] ? "\"" : "",
                          c->conn_id);
            }
            send_sb(c, &b);
            continue;
        }
        if (!strcmp(chan, "liquidation-orders")) {
            if (strcmp(itype, "SWAP") != 0) {
                sb_printf(&b, "{\"event\":\"error\",\"code\":\"60018\",\"msg\":"
                          "\"Wrong URL or channel:%s,instType:%s doesn't exist. "
                          "Please use the correct URL, channel and parameters "
                          "referring to API document.\",\"connId\":\"%s\"}",
                          chan, itype, c->conn_id);
            } else {
                c->okx_liq = on;
                sb_printf(&b, "{\"event\":\"%s\",\"arg\":{\"channel\":"
                          "\"liquidation-orders\",\"instType\":\"SWAP\"},"
                          "\"connId\":\"%s\"}", on ? "subscribe" : "unsubscribe",
                          c->conn_id);
            }
            send_sb(c, &b);
            continue;
        }
        struct vs_instr *in = vs_find_instr(vs, VENUE_OKX, inst);
        int ch = !strcmp(chan, "books") ? CH_BOOK
               : !strcmp(chan, "mark-price") ? CH_MARK : 0;
        if (!in || !ch) {
            sb_printf(&b, "{\"event\":\"error\",\"code\":\"60018\",\"msg\":"
                      "\"Wrong URL or channel:%s,instId:%s doesn't exist. "
                      "Please use the correct URL, channel and parameters "
                      "referring to API document.\",\"connId\":\"%s\"}",
                      chan, inst, c->conn_id);
            send_sb(c, &b);
            continue;
        }
        sb_printf(&b, "{\"event\":\"%s\",\"arg\":{\"channel\":\"%s\","
                  "\"instId\":\"%s\"},\"connId\":\"%s\"}",
                  on ? "subscribe" : "unsubscribe", chan, inst, c->conn_id);
        send_sb(c, &b);
        if (!on) {
            c->subs[in->sym] &= (uint8_t)~ch;
            continue;
        }
        c->subs[in->sym] |= (uint8_t)ch;
        if (vs->opt.mode != MODE_GENERATE)
            continue;
        sb_reset(&b);
        if (ch == CH_BOOK && vs->opt.okx_push_snapshot) {
            okx_book(&b, in, 1, NULL, 0, 0, vs_now_ms());
            send_sb(c, &b);
        } else if (ch == CH_MARK && in->mark > 0) {
            okx_mark(&b, in, vs_now_ms());
            send_sb(c, &b);
        }
    }
    sb_fini(&b);
}

static void hl_request(struct vs_client *c, const char *s,
                       const struct jtok *t, int n)
{
    struct sb b;
    (void)n;
    int m = jtok_get(s, t, 0, "method"), sub = jtok_get(s, t, 0, "subscription");
    sb_init(&b);
    if (m >= 0 && jtok_streq(s, t, m, "ping")) {
        reply(c, "{\"channel\":\"pong\"}");
        sb_fini(&b);
        return;
    }
    int on = m >= 0 && jtok_streq(s, t, m, "subscribe");
    if ((!on && !(m >= 0 && jtok_streq(s, t, m, "unsubscribe"))) || sub < 0 ||
        t[sub].type != JT_OBJ) {
        sb_printf(&b, "{\"channel\":\"error\",\"data\":\"Error parsing JSON "
                  "into valid websocket request: %.200s\"}", "");
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    char type[32] = "", coin[32] = "";
    int k;
    if ((k = jtok_get(s, t, sub, "type")) >= 0)
        jtok_strcpy(s, t, k, type, sizeof(type));
    if ((k = jtok_get(s, t, sub, "coin")) >= 0)
        jtok_strcpy(s, t, k, coin, sizeof(coin));
    struct vs_instr *in = vs_find_instr(vs, VENUE_HYPERLIQUID, coin);
    int ch = !strcmp(type, "l2Book") ? CH_BOOK
           : !strcmp(type, "activeAssetCtx") ? CH_MARK
           : !strcmp(type, "trades") ? CH_TRADES : 0;
    /* l2Book: nSigFigs 2..5 (aggregated), mantissa 1, 2 or 5 with
     * nSigFigs 5 only; absent or null: full precision.  The venue closes
     * the socket on a bad combination; this server answers an error. */
    int64_t nsig = 0, mant = 0;
    int bad = 0;
    if (ch == CH_BOOK) {
        int ks = jtok_get(s, t, sub, "nSigFigs"), km = jtok_get(s, t, sub, "mantissa");
        if (ks >= 0 && t[ks].type != JT_NULL &&
            (jtok_i64(s, t, ks, &nsig) != 0 || nsig < 2 || nsig > 5))
            bad = 1;
        if (km >= 0 && t[km].type != JT_NULL &&
            (jtok_i64(s, t, km, &mant) != 0 || nsig != 5 ||
             (mant != 1 && mant != 2 && mant != 5)))
            bad = 1;
        if (nsig)
            ch = CH_BOOK_AGG;
    }
    if (!in || !ch || bad) {
        sb_printf(&b, "{\"channel\":\"error\",\"data\":\"Invalid subscription "
                  "{\\\"type\\\":\\\"%s\\\",\\\"coin\\\":\\\"%s\\\"}\"}", type,
                  coin);
        send_sb(c, &b);
        sb_fini(&b);
        return;
    }
    if (ch == CH_BOOK || ch == CH_BOOK_AGG) {
        char ns[8] = "null", ms[8] = "null";
        if (nsig)
            snprintf(ns, sizeof(ns), "%d", (int)nsig);
        if (mant)
            snprintf(ms, sizeof(ms), "%d", (int)mant);
        /* echoed with the defaults filled in, as the venue does (2026) */
        sb_printf(&b, "{\"channel\":\"subscriptionResponse\",\"data\":{"
                  "\"method\":\"%s\",\"subscription\":{\"type\":\"l2Book\","
                  "\"coin\":\"%s\",\"nSigFigs\":%s,\"mantissa\":%s,"
                  "\"fast\":false}}}", on ? "subscribe" : "unsubscribe", in->name,
                  ns, ms);
    } else
        sb_printf(&b, "{\"channel\":\"subscriptionResponse\",\"data\":{"
                  "\"method\":\"%s\",\"subscription\":{\"type\":\"%s\","
                  "\"coin\":\"%s\"}}}", on ? "subscribe" : "unsubscribe", type,
                  in->name);
    send_sb(c, &b);
    if (!on) {
        c->subs[in->sym] &= (uint8_t)~ch;
        sb_fini(&b);
        return;
    }
    c->subs[in->sym] |= (uint8_t)ch;
    if (ch == CH_BOOK_AGG) {
        /* one aggregated book per coin and client: the latest asked */
        c->hl_sigfigs[in->sym] = (uint8_t)nsig;
        c->hl_mantissa[in->sym] = (uint8_t)mant;
    }
    if (vs->opt.mode == MODE_GENERATE) {
        sb_reset(&b);
        if (ch == CH_BOOK)
            hl_book(&b, in, vs_now_ms());
        else if (ch == CH_BOOK_AGG)
            hl_book_agg(&b, in, vs_now_ms(), (int)nsig, (int)mant);
        else if (ch == CH_MARK)
            hl_ctx(&b, in);
        if (b.len)
            send_sb(c, &b);
    }
    sb_fini(&b);
}

void vs_venue_request(struct vs_client *c, const char *text, size_t len)
{
    struct jtok t[NTOK];
    if (c->venue == VENUE_OKX && len == 4 && !memcmp(text, "ping", 4)) {
        reply(c, "pong");
        return;
    }
    int n = jtok_parse(text, len, t, NTOK, NULL);
    if (n < 1 || t[0].type != JT_OBJ) {
        switch (c->venue) {
        case VENUE_BINANCE:
            reply(c, "{\"error\":{\"code\":3,\"msg\":\"Invalid JSON\"},"
                  "\"id\":null}");
            break;
        case VENUE_BYBIT:
            reply(c, "{\"success\":false,\"ret_msg\":\"error:request not "
                  "json\",\"op\":\"\"}");
            break;
        case VENUE_OKX:
            reply(c, "{\"event\":\"error\",\"code\":\"60012\",\"msg\":"
                  "\"Invalid request\"}");
            break;
        default:
            reply(c, "{\"channel\":\"error\",\"data\":\"Error parsing JSON "
                  "into valid websocket request\"}");
        }
        return;
    }
    switch (c->venue) {
    case VENUE_BINANCE: binance_request(c, text, t, n); break;
    case VENUE_BYBIT: bybit_request(c, text, t, n); break;
    case VENUE_OKX: okx_request(c, text, t, n); break;
    default: hl_request(c, text, t, n); break;
    }
}

/* ---- pushes -------------------------------------------------------- */

static void binance_push(struct vs_instr *in, int ch, const char *data,
                         size_t dlen, const char *kind)
{
    struct sb b;
    sb_init(&b);
    for (struct vs_client *c = vs->clients; c; c = c->next) {
        if (c->venue != VENUE_BINANCE || !(c->subs[in->sym] & ch))
            continue;
        if (c->raw) {
            vs_client_send(c, data, dlen);
            continue;
        }
        const char *suffix = ch == CH_BOOK ? c->depth_suffix[in->sym]
                           : ch == CH_MARK ? c->mark_suffix[in->sym] : kind;
        sb_reset(&b);
        sb_printf(&b, "{\"stream\":\"%s%s\",\"data\":", in->lname, suffix);
        sb_add(&b, data, dlen);
        sb_adds(&b, "}");
        send_sb(c, &b);
    }
    sb_fini(&b);
}

static void push_all(struct vs_instr *in, int ch, struct sb *b)
{
    if (b->oom || !b->len)
        return;
    for (struct vs_client *c = vs->clients; c; c = c->next)
        if (c->venue == in->venue && (c->subs[in->sym] & ch))
            vs_client_send(c, b->p, b->len);
}

void vs_pub_book(struct vs_instr *in, const struct vs_change *ch, size_t n,
                 int64_t ts, uint64_t u_first, uint64_t prev_u)
{
    struct sb b;
    if (in->cross_next && in->venue != VENUE_HYPERLIQUID && in->na > 0) {
        /* /control garbage&kind=crossed: this update, in sequence, also
         * carries a bid one tick above the best ask; the server's own book
         * does not get it (a resync gives the client the true book) */
        struct vs_change *x = malloc((n + 1) * sizeof(*x));
        in->cross_next = 0;
        if (x) {
            memcpy(x, ch, n * sizeof(*x));
            x[n].side = 0;
            x[n].px = in->asks[0].px + 1;
            x[n].qty = in->asks[0].qty;
            vs_pub_book(in, x, n + 1, ts, u_first, prev_u);
            free(x);
            return;
        }
    }
    sb_init(&b);
    switch (in->venue) {
    case VENUE_BINANCE:
        sb_printf(&b, "{\"e\":\"depthUpdate\",\"E\":%lld,\"T\":%lld,"
                  "\"s\":\"%s\",\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":",
                  (long long)ts, (long long)(ts - 3), in->name,
                  (unsigned long long)u_first, (unsigned long long)in->u,
                  (unsigned long long)prev_u);
        changes_json(&b, in, ch, n, 0, 0);
        sb_adds(&b, ",\"a\":");
        changes_json(&b, in, ch, n, 1, 0);
        sb_adds(&b, "}");
        if (!b.oom)
            binance_push(in, CH_BOOK, b.p, b.len, "@depth");
        break;
    case VENUE_BYBIT: {
        struct sb d;
        sb_init(&d);
        sb_printf(&d, "\"type\":\"delta\",\"ts\":%lld,\"data\":{\"s\":\"%s\","
                  "\"b\":", (long long)ts, in->name);
        changes_json(&d, in, ch, n, 0, 0);
        sb_adds(&d, ",\"a\":");
        changes_json(&d, in, ch, n, 1, 0);
        sb_printf(&d, ",\"u\":%llu,\"seq\":%llu},\"cts\":%lld}",
                  (unsigned long long)in->u, (unsigned long long)in->seq,
                  (long long)(ts - 2));
        for (struct vs_client *c = vs->clients; c; c = c->next) {
            if (c->venue != VENUE_BYBIT || !(c->subs[in->sym] & CH_BOOK))
                continue;
            sb_reset(&b);
            sb_printf(&b, "{\"topic\":\"orderbook.%d.%s\",",
                      c->bybit_depth[in->sym], in->name);
            if (!d.oom)
                sb_add(&b, d.p, d.len);
            send_sb(c, &b);
        }
        sb_fini(&d);
        break;
    }
    case VENUE_OKX:
        okx_book(&b, in, 0, ch, n, prev_u, ts);
        push_all(in, CH_BOOK, &b);
        break;
    default: {
        hl_book(&b, in, ts);
        push_all(in, CH_BOOK, &b);
        /* the aggregated books of the same moment, one per precision asked */
        struct sb agg[8];
        int key[8], nagg = 0;
        for (struct vs_client *c = vs->clients; c; c = c->next) {
            if (c->venue != VENUE_HYPERLIQUID || !(c->subs[in->sym] & CH_BOOK_AGG))
                continue;
            int k = c->hl_sigfigs[in->sym] * 10 + c->hl_mantissa[in->sym], i = 0;
            while (i < nagg && key[i] != k)
                i++;
            if (i == nagg) {
                if (nagg == 8)
                    continue;
                key[nagg] = k;
                sb_init(&agg[nagg]);
                hl_book_agg(&agg[nagg], in, ts, c->hl_sigfigs[in->sym],
                            c->hl_mantissa[in->sym]);
                nagg++;
            }
            send_sb(c, &agg[i]);
        }
        for (int i = 0; i < nagg; i++)
            sb_fini(&agg[i]);
    }
    }
    sb_fini(&b);
}

void vs_pub_mark(struct vs_instr *in, int64_t ts)
{
    struct sb b;
    sb_init(&b);
    switch (in->venue) {
    case VENUE_BINANCE: {
        char p[48], i[48], P[48];
        fmt_double(p, sizeof(p), in->mark, 8);
        fmt_double(i, sizeof(i), in->index, 8);
        fmt_double(P, sizeof(P), (in->mark + in->index) / 2, 8);
        int64_t next_funding = (ts / 28800000 + 1) * 28800000;
        sb_printf(&b, "{\"e\":\"markPriceUpdate\",\"E\":%lld,\"s\":\"%s\","
                  "\"p\":\"%s\",\"i\":\"%s\",\"P\":\"%s\",\"r\":\"0.00010000\","
                  "\"T\":%lld}", (long long)ts, in->name, p, i, P,
                  (long long)next_funding);
        if (!b.oom)
            binance_push(in, CH_MARK, b.p, b.len, "@markPrice");
        break;
    }
    case VENUE_BYBIT:
        bybit_ticker(&b, in, 0, ts);
        push_all(in, CH_MARK, &b);
        break;
    case VENUE_OKX:
        okx_mark(&b, in, ts);
        push_all(in, CH_MARK, &b);
        break;
    default:
        hl_ctx(&b, in);
        push_all(in, CH_MARK, &b);
    }
    sb_fini(&b);
}

void vs_liq_add(struct vs_instr *in, int long_liq, int64_t bk_px, int64_t qty,
                double avg, int64_t ts)
{
    if (in->venue == VENUE_BYBIT) {
        char p[48], q[48];
        vs_fmt_px(in, bk_px, p, sizeof(p));
        vs_fmt_qty(in, qty, q, sizeof(q));
        /* S: side of the liquidated position (Buy: a long) */
        sb_printf(&in->liq_pending, "%s{\"T\":%lld,\"s\":\"%s\",\"S\":\"%s\","
                  "\"v\":\"%s\",\"p\":\"%s\"}", in->liq_count ? "," : "",
                  (long long)ts, in->name, long_liq ? "Buy" : "Sell", q, p);
        in->liq_count++;
        return;
    }
    if (in->venue == VENUE_HYPERLIQUID) {
        vs_pub_trade(in, !long_liq, bk_px, qty, 1, ts);
        return;
    }
    /* Binance, OKX: the latest print of each second is pushed (a sample) */
    in->has_last_liq = 1;
    in->liq_side_long = long_liq;
    in->liq_px = bk_px;
    in->liq_qty = qty;
    in->liq_avg = avg;
    in->liq_ts = ts;
    in->liq_count++;
}

void vs_pub_liq_flush(struct vs_instr *in, int64_t ts)
{
    struct sb b;
    char p[48], q[48], ap[48];
    sb_init(&b);
    if (in->venue == VENUE_BYBIT) {
        if (in->liq_count) {
            sb_printf(&b, "{\"topic\":\"allLiquidation.%s\",\"type\":"
                      "\"snapshot\",\"ts\":%lld,\"data\":[", in->name,
                      (long long)ts);
            if (!in->liq_pending.oom && in->liq_pending.len)
                sb_add(&b, in->liq_pending.p, in->liq_pending.len);
            sb_adds(&b, "]}");
            push_all(in, CH_LIQ, &b);
        }
        sb_reset(&in->liq_pending);
        in->liq_count = 0;
    } else if (in->has_last_liq) {
        vs_fmt_px(in, in->liq_px, p, sizeof(p));
        vs_fmt_qty(in, in->liq_qty, q, sizeof(q));
        if (in->venue == VENUE_BINANCE) {
            fmt_double(ap, sizeof(ap), in->liq_avg, in->tick_dec + 1);
            /* S: side of the liquidation order (SELL: a long) */
            sb_printf(&b, "{\"e\":\"forceOrder\",\"E\":%lld,\"o\":{\"s\":\"%s\","
                      "\"S\":\"%s\",\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"%s\","
                      "\"p\":\"%s\",\"ap\":\"%s\",\"X\":\"FILLED\",\"l\":\"%s\","
                      "\"z\":\"%s\",\"T\":%lld}}", (long long)ts, in->name,
                      in->liq_side_long ? "SELL" : "BUY", q, p, ap, q, q,
                      (long long)in->liq_ts);
            if (!b.oom)
                binance_push(in, CH_LIQ, b.p, b.len, "@forceOrder");
        } else if (in->venue == VENUE_OKX) {
            sb_printf(&b, "{\"arg\":{\"channel\":\"liquidation-orders\","
                      "\"instType\":\"SWAP\"},\"data\":[{\"details\":[{"
                      "\"bkLoss\":\"0\",\"bkPx\":\"%s\",\"ccy\":\"\","
                      "\"posSide\":\"%s\",\"side\":\"%s\",\"sz\":\"%s\","
                      "\"ts\":\"%lld\"}],\"instFamily\":\"%s\",\"instId\":\"%s\","
                      "\"instType\":\"SWAP\",\"uly\":\"%s\"}]}", p,
                      in->liq_side_long ? "long" : "short",
                      in->liq_side_long ? "sell" : "buy", q,
                      (long long)in->liq_ts, in->family, in->name, in->family);
            if (!b.oom)
                for (struct vs_client *c = vs->clients; c; c = c->next)
                    if (c->venue == VENUE_OKX && c->okx_liq)
                        vs_client_send(c, b.p, b.len);
        }
        in->has_last_liq = 0;
        in->liq_count = 0;
    }
    sb_fini(&b);
}

void vs_pub_trade(struct vs_instr *in, int buy, int64_t px, int64_t qty,
                  int liquidation, int64_t ts)
{
    static uint64_t tid = 226388921035269ULL;
    char p[48], q[48];
    struct sb b;
    if (in->venue != VENUE_HYPERLIQUID)
        return;
    vs_fmt_px(in, px, p, sizeof(p));
    vs_fmt_qty(in, qty, q, sizeof(q));
    sb_init(&b);
    tid++;
    sb_printf(&b, "{\"channel\":\"trades\",\"data\":[{\"coin\":\"%s\","
              "\"side\":\"%s\",\"px\":\"%s\",\"sz\":\"%s\",\"time\":%lld,"
              "\"hash\":\"0x%064llx\",\"tid\":%llu,\"users\":["
              "\"0x%040llx\",\"0x%040llx\"]}]}", in->name, buy ? "B" : "A", p,
              q, (long long)ts,
              liquidation ? 0ULL : (unsigned long long)(tid * 2654435761ULL),
              (unsigned long long)tid, (unsigned long long)(tid * 31),
              (unsigned long long)(tid * 17));
    push_all(in, CH_TRADES, &b);
    sb_fini(&b);
}

/* ---- ADL warnings (--adl-at) ------------------------------------------
 *
 * The script: from adl_at for adl_secs, the first half "warning", the
 * second "adl"; the fund balance falls from 2.5M to 0.5M USDT over it.
 * OKX (adl-warning, per family) pushes only inside the window, once a
 * second, with the deprecated fields as "" (as OKX since 2026).  Bybit
 * (adlAlert.USDT) pushes every second: pr 0 outside, -0.27 (past the
 * stop ratio -0.25) in the warning half, -0.35 (past the trigger -0.3) in
 * the adl half. */
void vs_pub_adl(struct vs_server *s, double secs, int64_t ts)
{
    const struct vs_options *o = &s->opt;
    int in_win = o->adl_at >= 0 && secs >= o->adl_at && secs < o->adl_at + o->adl_secs;
    int adl = in_win && secs >= o->adl_at + o->adl_secs / 2;
    double frac = in_win ? (secs - o->adl_at) / o->adl_secs : 0;
    double bal = in_win ? 2500000 - 2000000 * frac : 3000000;
    struct sb b;
    int any = 0;

    sb_init(&b);
    if (in_win)
        for (int i = 0; i < s->nsyms; i++) {
            struct vs_instr *in = &s->instr[VENUE_OKX][i];
            sb_reset(&b);
            sb_printf(&b, "{\"arg\":{\"channel\":\"adl-warning\",\"instType\":\"SWAP\","
                      "\"instFamily\":\"%s\"},\"data\":[{\"instType\":\"SWAP\","
                      "\"instFamily\":\"%s\",\"state\":\"%s\",\"bal\":\"%.8f\","
                      "\"ccy\":\"\",\"maxBal\":\"\",\"maxBalTs\":\"\",\"adlType\":\"\","
                      "\"adlBal\":\"\",\"adlRecBal\":\"\",\"ts\":\"%lld\",\"decRate\":\"\","
                      "\"adlRate\":\"\",\"adlRecRate\":\"\"}]}", in->family, in->family,
                      adl ? "adl" : "warning", bal, (long long)ts);
            push_all(in, CH_ADL, &b);
        }
    sb_reset(&b);
    sb_printf(&b, "{\"topic\":\"adlAlert.USDT\",\"type\":\"snapshot\",\"ts\":%lld,"
              "\"data\":[", (long long)ts);
    for (int i = 0; i < s->nsyms; i++)
        sb_printf(&b, "%s{\"c\":\"USDT\",\"s\":\"%s\",\"b\":\"%.8f\",\"mb\":\"\","
                  "\"i_pr\":\"-0.3\",\"pr\":\"%s\",\"adl_tt\":\"10000\","
                  "\"adl_sr\":\"-0.25\"}", i ? "," : "", s->instr[VENUE_BYBIT][i].name, bal,
                  adl ? "-0.35" : in_win ? "-0.27" : "0");
    sb_adds(&b, "]}");
    for (struct vs_client *c = s->clients; c && !b.oom; c = c->next) {
        any = 0;
        for (int i = 0; i < s->nsyms && !any; i++)
            any = c->subs[i] & CH_ADL;
        if (c->venue == VENUE_BYBIT && any)
            vs_client_send(c, b.p, b.len);
    }
    sb_fini(&b);
}

/* ---- misbehaviour -------------------------------------------------- */

void vs_send_garbage(struct vs_client *c)
{
    static const char junk[] = "this is not JSON {\"stream\":";
    reply(c, junk);
    switch (c->venue) {
    case VENUE_BINANCE:
        reply(c, "{\"stream\":\"btcusdt@vsimUnknown\",\"data\":{\"e\":"
              "\"vsimUnknown\",\"E\":1700000000000,\"s\":\"BTCUSDT\"}}");
        break;
    case VENUE_BYBIT:
        reply(c, "{\"topic\":\"vsimUnknown.BTCUSDT\",\"type\":\"snapshot\","
              "\"ts\":1700000000000,\"data\":{}}");
        break;
    case VENUE_OKX:
        reply(c, "{\"arg\":{\"channel\":\"vsim-unknown\",\"instId\":"
              "\"BTC-USDT-SWAP\"},\"data\":[{}]}");
        break;
    default:
        reply(c, "{\"channel\":\"vsimUnknown\",\"data\":{}}");
    }
}

/* A frame of one garbage kind, about the client's venue's first symbol. */
int vs_send_garbage_kind(struct vs_client *c, const char *kind)
{
    const struct vs_instr *in = &vs->instr[c->venue][0];
    struct sb b;
    const char *bad = NULL;         /* the bad number, as a JSON value */

    if (!strcmp(kind, "json")) {
        vs_send_garbage(c);
        return 0;
    }
    if (!strcmp(kind, "huge")) {     /* 16 MiB of valid JSON */
        size_t total = 16u << 20;
        char *p = malloc(total);
        static const char head[] = "{\"vsim\":\"huge\",\"pad\":\"";
        if (!p)
            return 0;
        memcpy(p, head, sizeof(head) - 1);
        memset(p + sizeof(head) - 1, 'x', total - (sizeof(head) - 1) - 2);
        memcpy(p + total - 2, "\"}", 2);
        vs_client_send(c, p, total);
        free(p);
        return 0;
    }
    if (!strcmp(kind, "deep")) {     /* 10,000 nested arrays */
        char *p = malloc(20000);
        if (!p)
            return 0;
        memset(p, '[', 10000);
        memset(p + 10000, ']', 10000);
        vs_client_send(c, p, 20000);
        free(p);
        return 0;
    }
    if (!strcmp(kind, "binary")) {   /* a binary frame */
        static const char bin[] = "\x00\x01\x02\xff\xfe{\"stream\":\x80\x81";
        struct vs_msg *t = c->qtail;
        vs_client_send(c, bin, sizeof(bin) - 1);
        if (c->qtail && c->qtail != t)
            c->qtail->binary = 1;
        return 0;
    }
    if (!strcmp(kind, "letters"))
        bad = "\"abc.def\"";
    else if (!strcmp(kind, "nan"))
        bad = "\"NaN\"";
    else if (!strcmp(kind, "inf"))
        bad = "\"Infinity\"";
    else if (strcmp(kind, "shape") != 0)
        return -1;
    sb_init(&b);
    if (bad) {
        /* the venue's mark price message with the bad number in it, and
         * the same number bare (NaN, Infinity, 1e999: JSON has no such
         * literal, or it overflows a double) */
        const char *bare = !strcmp(kind, "nan") ? "NaN" : !strcmp(kind, "inf")
                           ? "1e999" : "abc";
        for (int k = 0; k < 2; k++) {
            const char *x = k ? bare : bad;
            sb_reset(&b);
            switch (c->venue) {
            case VENUE_BINANCE:
                sb_printf(&b, "{\"stream\":\"%s@markPrice@1s\",\"data\":{\"e\":"
                          "\"markPriceUpdate\",\"E\":%lld,\"s\":\"%s\",\"p\":%s,"
                          "\"i\":%s,\"P\":%s,\"r\":\"0\",\"T\":%lld}}", in->lname,
                          (long long)vs_now_ms(), in->name, x, x, x,
                          (long long)vs_now_ms());
                break;
            case VENUE_BYBIT:
                sb_printf(&b, "{\"topic\":\"tickers.%s\",\"type\":\"delta\","
                          "\"data\":{\"symbol\":\"%s\",\"markPrice\":%s,"
                          "\"indexPrice\":%s},\"cs\":1,\"ts\":%lld}", in->name,
                          in->name, x, x, (long long)vs_now_ms());
                break;
            case VENUE_OKX:
                sb_printf(&b, "{\"arg\":{\"channel\":\"mark-price\",\"instId\":"
                          "\"%s\"},\"data\":[{\"instId\":\"%s\",\"instType\":"
                          "\"SWAP\",\"markPx\":%s,\"ts\":\"%lld\"}]}", in->name,
                          in->name, x, (long long)vs_now_ms());
                break;
            default:
                sb_printf(&b, "{\"channel\":\"activeAssetCtx\",\"data\":{\"coin\":"
                          "\"%s\",\"ctx\":{\"funding\":\"0\",\"openInterest\":%s,"
                          "\"prevDayPx\":%s,\"dayNtlVlm\":\"0\",\"premium\":\"0\","
                          "\"oraclePx\":%s,\"markPx\":%s,\"midPx\":%s}}}", in->name,
                          x, x, x, x, x);
            }
            if (!b.oom)
                vs_client_send(c, b.p, b.len);
        }
    } else {
        /* valid JSON of the wrong shape on the book channel */
        switch (c->venue) {
        case VENUE_BINANCE:
            sb_printf(&b, "{\"stream\":\"%s@depth@100ms\",\"data\":{\"e\":"
                      "\"depthUpdate\",\"E\":\"soon\",\"s\":\"%s\",\"U\":[],"
                      "\"u\":{},\"pu\":null,\"b\":\"none\",\"a\":7}}", in->lname,
                      in->name);
            break;
        case VENUE_BYBIT:
            sb_printf(&b, "{\"topic\":\"orderbook.50.%s\",\"type\":\"delta\","
                      "\"ts\":1,\"data\":[1,2,3]}", in->name);
            break;
        case VENUE_OKX:
            sb_printf(&b, "{\"arg\":{\"channel\":\"books\",\"instId\":\"%s\"},"
                      "\"action\":\"update\",\"data\":{\"asks\":1}}", in->name);
            break;
        default:
            sb_printf(&b, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"%s\","
                      "\"levels\":\"none\",\"time\":1}}", in->name);
        }
        if (!b.oom)
            vs_client_send(c, b.p, b.len);
    }
    sb_fini(&b);
    return 0;
}

void vs_send_oversize(struct vs_client *c)
{
    size_t total = 5u << 20;
    char *p = malloc(total);
    if (!p)
        return;
    static const char head[] = "{\"vsim\":\"oversize\",\"pad\":\"";
    memcpy(p, head, sizeof(head) - 1);
    memset(p + sizeof(head) - 1, 'x', total - (sizeof(head) - 1) - 2);
    memcpy(p + total - 2, "\"}", 2);
    vs_client_send(c, p, total);
    free(p);
}

/* ---- REST and /state ----------------------------------------------- */

static int query_int(struct lws *wsi, const char *name, int def)
{
    char buf[64];
    const char *v = lws_get_urlarg_by_name(wsi, name, buf, sizeof(buf));
    return v && *v ? atoi(v) : def;
}

int vs_rest_answer(const char *path, struct lws *wsi, struct sb *b,
                   const char **ctype)
{
    char buf[128];
    *ctype = "application/json";
    if (!strcmp(path, "/fapi/v1/depth")) {
        const char *sym = lws_get_urlarg_by_name(wsi, "symbol=", buf,
                                                 sizeof(buf));
        struct vs_instr *in = sym ? vs_find_instr(vs, VENUE_BINANCE, sym) : NULL;
        vs->vst[VENUE_BINANCE].rest_requests++;
        if (!in) {
            sb_adds(b, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
            return 400;
        }
        int limit = query_int(wsi, "limit=", 500);
        int64_t ts = vs_now_ms();
        sb_printf(b, "{\"lastUpdateId\":%llu,\"E\":%lld,\"T\":%lld,\"bids\":",
                  (unsigned long long)in->u, (long long)ts, (long long)(ts - 3));
        levels_json(b, in, in->bids, in->nb, limit, 0);
        sb_adds(b, ",\"asks\":");
        levels_json(b, in, in->asks, in->na, limit, 0);
        sb_adds(b, "}");
        return 200;
    }
    if (!strcmp(path, "/api/v5/market/books")) {
        const char *id = lws_get_urlarg_by_name(wsi, "instId=", buf,
                                                sizeof(buf));
        struct vs_instr *in = id ? vs_find_instr(vs, VENUE_OKX, id) : NULL;
        vs->vst[VENUE_OKX].rest_requests++;
        if (!in) {
            sb_adds(b, "{\"code\":\"51001\",\"msg\":\"Instrument ID does not "
                    "exist\",\"data\":[]}");
            return 200;
        }
        int sz = query_int(wsi, "sz=", 1);
        sb_adds(b, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":");
        levels_json(b, in, in->asks, in->na, sz, 1);
        sb_adds(b, ",\"bids\":");
        levels_json(b, in, in->bids, in->nb, sz, 1);
        sb_printf(b, ",\"ts\":\"%lld\",\"seqId\":%llu}]}", (long long)vs_now_ms(),
                  (unsigned long long)in->u);
        return 200;
    }
    sb_printf(b, "{\"error\":\"no route for %s\"}\n", path);
    return 404;
}

int vs_state_json(const char *venue, const char *symbol, struct sb *b)
{
    int v = venue_from_name(venue);
    struct vs_instr *in = v >= 0 ? vs_find_instr(vs, (enum venue_id)v, symbol)
                                 : NULL;
    if (!in) {
        sb_adds(b, "{\"error\":\"unknown venue or symbol\"}\n");
        return 404;
    }
    sb_printf(b, "{\"venue\":\"%s\",\"symbol\":\"%s\",\"units\":\"%s\","
              "\"seq\":%llu,\"cross_seq\":%llu,\"updates\":%llu,"
              "\"mark\":%.10g,\"bids\":", venue, in->name,
              in->venue == VENUE_OKX ? "contracts" : "base",
              (unsigned long long)in->u, (unsigned long long)in->seq,
              (unsigned long long)in->updates, in->mark);
    if (in->venue == VENUE_HYPERLIQUID) {
        /* the book liqmond holds: full levels, then aggregated beyond */
        hl_merged_side(b, in, 0);
        sb_adds(b, ",\"asks\":");
        hl_merged_side(b, in, 1);
        sb_adds(b, "}\n");
        return 200;
    }
    levels_json(b, in, in->bids, in->nb, in->nlev, 0);
    sb_adds(b, ",\"asks\":");
    levels_json(b, in, in->asks, in->na, in->nlev, 0);
    sb_adds(b, "}\n");
    return 200;
}
