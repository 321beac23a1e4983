/*
 * okx.c - OKX v5 public websocket, USDT swaps (venue "okx-swap").
 *
 * One connection, "public" (cfg.ws_url).  On open it subscribes, per
 * watched instrument, "mark-price" and "books", plus the venue-wide
 * "liquidation-orders" (instType SWAP) once, and (cfg.adl_warnings)
 * "adl-warning" per family of the watched swaps in a second message
 * (on_adl: ADL early warnings).
 *
 * Units: OKX quotes every swap size in CONTRACTS; each level and each
 * liquidation is converted with market_to_base (contracts x ctVal).
 * Liquidation prints carry bkPx, the bankruptcy price, and OKX pushes at
 * most one per instrument per second: they are a sample (LIQ_SAMPLED).
 *
 * Book sync, per instrument (struct okx_book):
 *
 *                 on_open / resync (unsubscribe + subscribe "books")
 *                                   |
 *                                   v
 *     +-------------------> WAIT_SNAP ----- pushed snapshot ----------+
 *     |                      |     |                                  |
 *     |      first update    |     | no snapshot and no update        |
 *     |      (buffered)      |     | for OKX_SNAP_WAIT: tick          |
 *     |                      v     v                                  v
 *     |                 SEEDING: GET /api/v5/market/books?...&sz=400  |
 *     |                 buffer updates; retry every OKX_REST_RETRY;   |
 *     |                 REST answer (or a pushed snapshot) -> seed,   |
 *     |                 replay the buffer (bridge, below) ----------> LIVE
 *     |                                                               |
 *     +--- gap, checksum mismatch, crossed book, bad level, ----------+
 *          buffer overflow, OKX_REST_TRIES unanswered requests
 *     (on_close: every book -> WAIT_SNAP, invalid)
 *
 * Continuity (OKX "Order book channel", seqId/prevSeqId): an update
 * applies when its prevSeqId equals the last applied seqId.  The two
 * documented exceptions both satisfy that rule: a no-change heartbeat
 * has asks = bids = [] and prevSeqId == seqId == last, and after a
 * maintenance reset seqId is LOWER than prevSeqId (prevSeqId still
 * equals the last seqId).  An update with seqId <= last and prevSeqId <
 * last was already applied (an overlapping connection, a replay): it is
 * skipped (venue.h: duplicate), never a gap; right after a REST seed with
 * a seqId, an update the snapshot already holds (seqId <= the snapshot's)
 * is skipped as older_than_snapshot.  Anything else is a gap.  Frames without seqId (captures from before OKX added it)
 * are not sequence-checked; their non-zero checksum is the check.
 *
 * Checksum: since 23 June 2026 production sends checksum 0 (deprecation
 * notice, venues README).  A non-zero value is validated: OKX's rule is
 * the signed CRC32 of "bid1Px:bid1Sz:ask1Px:ask1Sz:..." over the top 25
 * levels of each side, interleaved, with the venue's ORIGINAL strings
 * (a side that runs out simply stops contributing).  The book stores
 * doubles and base-unit decimals, from which the strings cannot be
 * rebuilt for sure ("8477" vs "8477.0", contracts vs base), so each
 * level keeps its strings in the book itself, as their CRC and length in
 * the level's aux word (book.h; piece_aux), and a checksum reads the top
 * 25 of them in the book's own order.  The pieces are kept only while
 * checksums matter: the first frame after a seed with checksum 0 stops
 * them (production), a non-zero one turns validation on (older captures,
 * other environments).
 *
 * REST seed and bridge: OKX announced that "books" stops pushing the
 * initial snapshot (production, August 2026).  Updates that arrive
 * without a snapshot are buffered and GET /api/v5/market/books?instId=
 * X&sz=400 is requested (400 is the endpoint's maximum).  The documented
 * response is {"code":"0","msg":"","data":[{"asks":[[px,sz,"0",n]...],
 * "bids":[...],"ts":"<ms>"}]}: it has NO seqId.  Two cases:
 *  - the answer carries seqId S (as the 2026 announcement implies):
 *    buffered updates with seqId <= S are dropped, the first one kept
 *    must satisfy prevSeqId <= S < seqId, then the chain continues.
 *  - no seqId (the documented shape): OKX updates carry absolute level
 *    sizes, not increments, so replaying EVERY buffered update onto the
 *    snapshot converges to the right book as long as the snapshot was
 *    taken after the first buffered update: a level touched in the
 *    buffer ends at its last value, an untouched one had the same value
 *    at the snapshot time as now.  The snapshot's ts (venue clock) must
 *    therefore be >= the first buffered update's ts, else the answer is
 *    too old (e.g. answers a request from before a resync) and a new one
 *    is requested.  The request is only sent after the first update was
 *    buffered (or after OKX_SNAP_WAIT of silence, when the buffer is
 *    empty and the next update starts the chain).
 * Intermediate crossings during the replay are expected (old levels on
 * a newer snapshot); only the final book is checked.
 *
 * Application ping (OKX: the server drops a connection idle for 30 s):
 * the text "ping" when nothing arrived for cfg.ping_interval_s (< 30);
 * the answer is the text "pong", not JSON.  No data for another
 * interval after a ping: reconnect.
 *
 * Thread-safety: the loop thread only.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "liqmon/log.h"
#include "venue_int.h"
#include "vscan.h"

#define OKX_NS 1000000000LL
#define OKX_SNAP_WAIT (3 * OKX_NS)      /* wait for a pushed snapshot */
#define OKX_REST_RETRY (5 * OKX_NS)     /* REST seed answer timeout */
#define OKX_REST_TRIES 5                /* then resubscribe */
#define OKX_BUF_MAX_UPD 4096            /* buffered updates while seeding */
#define OKX_BUF_MAX_LV 200000           /* buffered levels while seeding */
#define OKX_STR_MAX 32                  /* price / size text kept, with NUL */
#define OKX_CS_LEVELS 25

enum okx_state { OKX_WAIT_SNAP = 0, OKX_SEEDING, OKX_LIVE };
enum okx_cs { OKX_CS_UNKNOWN = 0, OKX_CS_ON, OKX_CS_OFF };

/* A buffered level: base-unit qty plus the original text. */
struct okx_blv {
    double px;
    dec_t base;
    uint8_t side, plen, slen;
    char pxs[OKX_STR_MAX - 1];
    char szs[OKX_STR_MAX - 1];
};

struct okx_bupd {
    int64_t seq, prev, ts_ms;
    int has_seq;
    int32_t checksum;
    uint32_t first, n;
};

struct okx_book {
    struct mkt_instr *in;          /* NULL: not an OKX instrument */
    enum okx_state st;
    int has_seq;                   /* seq below is known */
    int64_t seq;                   /* last applied seqId */
    int bridge;                    /* next update: prevSeqId <= seq < seqId */
    int64_t wait_since, rest_sent;
    int rest_tries;
    enum okx_cs cs;
    struct okx_bupd *bu;
    size_t nbu, capbu;
    struct okx_blv *bl;
    size_t nbl, capbl;
};

struct okx {
    struct okx_book *b;            /* indexed by mkt_instr.idx */
    size_t nb;
    uint64_t *aux[2];              /* a frame's pieces per side (piece_aux); owned */
    size_t auxcap[2];
    struct vscan_txt *txt[2];      /* a frame's level texts per side; owned */
    size_t txtcap[2];
    int clmul;                     /* checksums multiply with PCLMULQDQ */
    int open;
    int64_t last_rx, ping_sent;
    int ping_out;
};

/* ---- CRC32 (IEEE, as zlib) ------------------------------------------- */

/*
 * OKX's checksum is zlib's CRC-32 (IEEE 802.3, reflected, initial value
 * and final xor ~0) of "bid1Px:bid1Sz:ask1Px:ask1Sz:...".  Building that
 * text (up to 3 KB) and running a CRC over it was most of what a
 * checksummed frame cost, so the text is never built: each level keeps
 * the CRC of its own piece, and the 50 pieces are combined.
 *
 * The algebra (all in GF(2)[x] modulo the CRC polynomial P, registers in
 * zlib's reflected form).  R(c, M) is the register after the bytes M from
 * c; zlib's crc32(M) = ~R(~0, M).  R is affine in c:
 *     R(c, M) = L(M) ^ Z(c, |M|),  L(M) = R(0, M),  Z(c, n) = R(c, 0^n),
 * and Z(c, n) = c * x^(8n) mod P, linear in c.  L of a concatenation is
 * the XOR of each part's L shifted by the bytes after it.  With each
 * level's piece taken with the separator in front, ":px:sz", the pieces
 * make ':' M, so, with a(i) the bytes after piece i,
 *     L(':' M) = XOR_i Z(L(piece i), a(i))
 *     R(~0, M) = L(':' M) ^ Z(L(":"), |M|) ^ Z(~0, |M|).
 * Each Z is one carry-less multiply by the constant K[n] = x^(8n) mod P
 * (crc_k), the products are XORed unreduced (64 bits, linear), and
 * crc_reduce brings the sum to a register once.  In the reflected form a
 * 32 x 32 product p (bit k: x^(62-k)) is reduced as v = p << 1 (bit m:
 * x^(63-m)): its high half is already a register, its low half is that
 * register times x^32, i.e. four zero bytes through the table.
 * crc_selftest checks the whole against zlib at startup of every
 * adapter, and every checksummed frame of the tests is checked against
 * checksums made with zlib from the text.
 *
 * The multiply is PCLMULQDQ on x86-64 that has it (every such CPU since
 * 2010), else a portable 4-bit-window multiply; both are tested.
 */
#define OKX_PIECE_MAX (1 + 2 * (OKX_STR_MAX - 1) + 1)   /* ":px:sz" */
#define OKX_K_MAX (2 * OKX_CS_LEVELS * OKX_PIECE_MAX)

static uint32_t crc_tab[256];        /* zlib's byte table */
static uint32_t crc_k[OKX_K_MAX + 1];   /* x^(8n) mod P, reflected */
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_ok;                   /* crc_setup's self-test passed */

static void crc_init(void)
{
    for (uint32_t j = 0; j < 256; j++) {
        uint32_t c = j;
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_tab[j] = c;
    }
    crc_k[0] = 0x80000000u;          /* x^0: the top bit, reflected */
    for (size_t n = 1; n <= OKX_K_MAX; n++)
        crc_k[n] = (crc_k[n - 1] >> 8) ^ crc_tab[crc_k[n - 1] & 0xff];
}

static inline uint32_t crc_bytes(uint32_t c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        c = (c >> 8) ^ crc_tab[(c ^ (unsigned char)p[i]) & 0xff];
    return c;
}

/* L(":px:sz"): a level's piece. */
static uint32_t crc_piece(const char *px, size_t pl, const char *sz, size_t sl)
{
    uint32_t c = crc_tab[':'];       /* L(":") */

    c = crc_bytes(c, px, pl);
    c = (c >> 8) ^ crc_tab[(c ^ ':') & 0xff];
    return crc_bytes(c, sz, sl);
}

/* A price or size text whose piece a level can keep. */
#define PIECE_FITS(pl, sl) ((pl) < OKX_STR_MAX && (sl) < OKX_STR_MAX)

/* A level's piece as its aux word in the book: the CRC in the low 32 bits,
 * the length of ":px:sz" above (never 0: a level stored with aux 0 was
 * set while checksums were off, and fails the next checksum).  The caller
 * checked PIECE_FITS. */
static inline uint64_t piece_aux(const char *px, size_t pl, const char *sz,
                                 size_t sl)
{
    return (uint64_t)(pl + sl + 2) << 32 | crc_piece(px, pl, sz, sl);
}

static inline uint32_t crc_reduce(uint64_t p)
{
    uint64_t v = p << 1;             /* p < 2^63 */
    uint32_t lo = (uint32_t)v;

    for (int i = 0; i < 4; i++)
        lo = (lo >> 8) ^ crc_tab[lo & 0xff];
    return (uint32_t)(v >> 32) ^ lo;
}

static inline uint64_t clmul_portable(uint32_t a, uint32_t b)
{
    uint64_t w[16], r = 0;

    /* a times every 4-bit polynomial, then b four bits at a time, top
     * first. */
    w[0] = 0;
    w[1] = a;
    for (int i = 2; i < 16; i += 2) {
        w[i] = w[i / 2] << 1;
        w[i + 1] = w[i] ^ a;
    }
    for (int s = 28; s >= 0; s -= 4)
        r = (r << 4) ^ w[(b >> s) & 0xf];
    return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define OKX_CLMUL 1
__attribute__((target("pclmul,sse2")))
static inline uint64_t clmul_hw(uint32_t a, uint32_t b)
{
    __m128i p = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)a),
                                     _mm_cvtsi32_si128((int)b), 0x00);
    return (uint64_t)_mm_cvtsi128_si64(p);
}
#endif

/* a times b, carry-less: PCLMULQDQ when hw (the callers are built for
 * it then), else the portable multiply. */
static inline __attribute__((always_inline)) uint64_t clmul(uint32_t a, uint32_t b, int hw)
{
#ifdef OKX_CLMUL
    if (hw)
        return clmul_hw(a, b);
#endif
    (void)hw;
    return clmul_portable(a, b);
}

/* The best OKX_CS_LEVELS pieces of each side, best first (piece_aux). */
struct okx_tops {
    uint64_t pc[2][OKX_CS_LEVELS];     /* bids, asks */
    size_t n[2];
};

/* zlib's crc32 of the checksum text of the two sides' best OKX_CS_LEVELS
 * levels, interleaved.  The pieces are taken last first, bid and ask of
 * rank 24 down to rank 0, as the offsets a(i) grow from the end. */
static inline __attribute__((always_inline)) uint32_t
crc_tops_body(const struct okx_tops *t, int hw)
{
    uint64_t acc = 0;
    size_t after = 0;

    for (size_t i = OKX_CS_LEVELS; i-- > 0;) {
        for (int s = 1; s >= 0; s--) {
            if (i >= t->n[s])
                continue;
            acc ^= clmul((uint32_t)t->pc[s][i], crc_k[after], hw);
            after += (size_t)(t->pc[s][i] >> 32);
        }
    }
    if (after == 0)
        return 0;                  /* no levels: the empty text */
    /* after = |':' M|; Z(L(":") ^ ~0, |M|) */
    acc ^= clmul(crc_tab[':'] ^ 0xFFFFFFFFu, crc_k[after - 1], hw);
    return ~crc_reduce(acc);
}

static uint32_t crc_tops_portable(const struct okx_tops *t)
{
    return crc_tops_body(t, 0);
}

#ifdef OKX_CLMUL
__attribute__((target("pclmul,sse2")))
static uint32_t crc_tops_hw(const struct okx_tops *t)
{
    return crc_tops_body(t, 1);
}
#endif

static uint32_t crc_tops(int hw, const struct okx_tops *t)
{
#ifdef OKX_CLMUL
    if (hw)
        return crc_tops_hw(t);
#else
    (void)hw;
#endif
    return crc_tops_portable(t);
}

/* The combination against zlib on a few books, both multiplies: 0, or -1
 * (init then fails: a wrong CRC would reject every good book).  Run once,
 * by crc_setup. */
static int crc_selftest(void)
{
    static const char *const px[] = { "8476.98", "415", "0.00001234", "1e-5", "", "3" };
    static const char *const sz[] = { "1", "0.4", "12345.678", "", "7", "" };
    struct okx_tops t;
    char text[256];
    size_t o = 0;

    memset(&t, 0, sizeof(t));
    for (int i = 0; i <= 6; i++) {
        uint32_t want = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)o);
        if (crc_tops(0, &t) != want)
            return -1;
#ifdef OKX_CLMUL
        if (__builtin_cpu_supports("pclmul") && crc_tops(1, &t) != want)
            return -1;
#endif
        if (i == 6)
            break;
        /* the next piece: a bid, then an ask, of the next rank */
        int s = i % 2;
        o += (size_t)sprintf(text + o, "%s%s:%s", i ? ":" : "", px[i], sz[i]);
        t.pc[s][t.n[s]++] = piece_aux(px[i], strlen(px[i]), sz[i], strlen(sz[i]));
    }
    return 0;
}

/* The tables, then the self-test, once per process (pthread_once). */
static void crc_setup(void)
{
    crc_init();
    crc_ok = crc_selftest() == 0;
}

/* ---- small helpers ------------------------------------------------------ */

static struct okx_book *book_of(struct okx *o, const struct mkt_instr *in)
{
    return in->idx < o->nb && o->b[in->idx].in == in ? &o->b[in->idx] : NULL;
}

static void buf_clear(struct okx_book *b)
{
    b->nbu = b->nbl = 0;
}

static void cs_off(struct okx_book *b)
{
    b->cs = OKX_CS_OFF;
}

static void send_books_sub(venue_t *v, const struct mkt_instr *in, const char *op)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg),
                     "{\"op\":\"%s\",\"args\":[{\"channel\":\"books\",\"instId\":\"%s\"}]}",
                     op, in->spec.symbol);
    if (n > 0 && (size_t)n < sizeof(msg))
        venue__send(v, 0, msg, (size_t)n);
}

/* Invalidate, forget the sync state, resubscribe the books channel. */
static void resync(venue_t *v, struct okx_book *b, const char *why, int64_t now)
{
    struct okx *o = v->priv;

    venue__invalidate(v, b->in, why, now);
    buf_clear(b);
    b->st = OKX_WAIT_SNAP;
    b->wait_since = now;
    b->rest_sent = 0;
    b->rest_tries = 0;
    b->has_seq = 0;
    b->bridge = 0;
    b->cs = OKX_CS_UNKNOWN;
    if (o->open) {
        send_books_sub(v, b->in, "unsubscribe");
        send_books_sub(v, b->in, "subscribe");
    }
}

static void request_rest(venue_t *v, struct okx_book *b, int64_t now)
{
    char path[256];
    int n = snprintf(path, sizeof(path), "/api/v5/market/books?instId=%s&sz=400",
                     b->in->spec.symbol);

    b->st = OKX_SEEDING;
    b->rest_sent = now;
    b->rest_tries++;
    if (n > 0 && (size_t)n < sizeof(path))
        venue__http_get(v, path);
}

/* buf (owned, *cap elements of elem bytes) with room for n: itself, or
 * a larger one (doubling) that replaces it, *cap updated; NULL when out of
 * memory (buf and *cap kept). */
static void *room(void *buf, size_t *cap, size_t n, size_t elem)
{
    size_t nc = *cap ? *cap : 64;

    if (n <= *cap)
        return buf;
    while (nc < n)
        nc *= 2;
    if ((buf = realloc(buf, nc * elem)) != NULL)
        *cap = nc;
    return buf;
}

/* Room for n level texts of a side in o->txt[side]: the array, or NULL. */
static struct vscan_txt *txt_room(struct okx *o, int side, size_t n)
{
    struct vscan_txt *t = room(o->txt[side], &o->txtcap[side], n, sizeof(*t));

    if (t != NULL)
        o->txt[side] = t;
    return t;
}

/* Parse one side ([[px, sz, "0", n], ...], sizes in contracts) into the
 * scratch array of that side, and where each level's texts lie into
 * o->txt[side].  Returns the count, or -1. */
static long parse_side(venue_t *v, const struct mkt_instr *in, const char *d,
                       int arr, int side)
{
    const struct jtok *t = v->tok;
    struct book_level *lv;
    struct vscan_txt *tx;
    long n = venue__parse_levels(v, d, arr, side, in, &lv);
    long k = 0;

    if (n < 0 || (tx = txt_room(v->priv, side, (size_t)n + 1)) == NULL)
        return -1;
    for (int e = jtok_first(t, arr); e >= 0 && k < n; e = jtok_next(t, e), k++) {
        int p = e + 1, z = (int)t[p].end;
        tx[k] = (struct vscan_txt){ t[p].start, t[p].len, t[z].start, t[z].len };
    }
    return n;
}

/* The pieces of a side's n parsed levels lv (texts in o->txt[side]) into
 * o->aux[side]: 0, or -1 when a text is too long to keep or there is no
 * memory (checksums then go off: they cannot be validated). */
static int levels_aux(struct okx *o, const char *d, int side,
                      const struct book_level *lv, size_t n)
{
    const struct vscan_txt *tx = o->txt[side];

    uint64_t *aux = room(o->aux[side], &o->auxcap[side], n, sizeof(*aux));

    if (aux == NULL)
        return -1;
    o->aux[side] = aux;
    for (size_t k = 0; k < n; k++) {
        if (lv[k].qty == 0) {
            o->aux[side][k] = 0;       /* a removal: no piece to keep */
            continue;
        }
        if (!PIECE_FITS(tx[k].pl, tx[k].sl))
            return -1;
        o->aux[side][k] = piece_aux(d + tx[k].px, tx[k].pl, d + tx[k].sz, tx[k].sl);
    }
    return 0;
}

/* Signed CRC32 of the book's top 25 levels per side, from their pieces. */
static int32_t book_checksum(const struct okx *o, const struct okx_book *b)
{
    struct okx_tops t;

    for (int s = 0; s < 2; s++)
        t.n[s] = book_top_aux(b->in->book, (enum book_side)s, t.pc[s], OKX_CS_LEVELS);
    return (int32_t)crc_tops(o->clmul, &t);
}

/* Checksum policy after a frame was applied: NULL when fine, else the
 * reason to resync. */
static const char *check_sum(const struct okx *o, struct okx_book *b, int32_t cs)
{
    if (cs == 0) {
        if (b->cs == OKX_CS_UNKNOWN)
            cs_off(b);   /* production since 2026-06-23: not validated */
        return NULL;
    }
    if (b->cs == OKX_CS_UNKNOWN)
        b->cs = OKX_CS_ON;
    if (b->cs != OKX_CS_ON)
        return NULL;
    return book_checksum(o, b) != cs ? "checksum mismatch" : NULL;
}

/* Whether a frame's levels need their pieces: checksums are on, or
 * undecided and this frame's non-zero checksum turns them on (a zero one
 * turns them off in check_sum, so its pieces would never be read). */
static int wants_pieces(const struct okx_book *b, int32_t frame_cs)
{
    return b->cs == OKX_CS_ON || (b->cs == OKX_CS_UNKNOWN && frame_cs != 0);
}

/* Emit a snapshot event of the whole (final) book. */
static void emit_full_book(venue_t *v, struct okx_book *b, int64_t ts, int64_t now)
{
    struct mkt_instr *in = b->in;
    size_t cb = book_level_count(in->book, BOOK_BID);
    size_t ca = book_level_count(in->book, BOOK_ASK);
    struct book_level *bids = venue__levels(v, 0, cb ? cb : 1);
    struct book_level *asks = venue__levels(v, 1, ca ? ca : 1);

    if (bids == NULL || asks == NULL)
        return;
    cb = book_copy_levels(in->book, BOOK_BID, bids, cb);
    ca = book_copy_levels(in->book, BOOK_ASK, asks, ca);
    venue__emit_book(v, in, 1, bids, cb, asks, ca, b->has_seq ? (uint64_t)b->seq : 0,
                     ts, now);
}

/* ---- buffering while seeding ------------------------------------------- */

/* Buffer an update (levels already parsed into the scratch arrays).
 * 0, or -1 (overflow). */
static int buffer_update(venue_t *v, struct okx_book *b, const char *d,
                         const size_t n[2], int has_seq, int64_t seq,
                         int64_t prev, int64_t ts_ms, int32_t cs)
{
    const struct okx *o = v->priv;

    if (b->nbu > 0 && has_seq && b->bu[b->nbu - 1].has_seq &&
        prev != b->bu[b->nbu - 1].seq) {
        /* A break inside the buffer: start it again here.  The snapshot
         * age check (ts) rejects an answer older than the new start. */
        if (seq <= b->bu[b->nbu - 1].seq && prev < b->bu[b->nbu - 1].seq)
            return 0;   /* already buffered */
        buf_clear(b);
    }
    if (b->nbu == OKX_BUF_MAX_UPD || b->nbl + n[0] + n[1] > OKX_BUF_MAX_LV)
        return -1;
    if (b->nbu == b->capbu) {
        size_t nc = b->capbu ? b->capbu * 2 : 64;
        struct okx_bupd *nu = realloc(b->bu, nc * sizeof(*nu));
        if (nu == NULL)
            return -1;
        b->bu = nu;
        b->capbu = nc;
    }
    if (b->nbl + n[0] + n[1] > b->capbl) {
        size_t nc = b->capbl ? b->capbl : 256;
        while (nc < b->nbl + n[0] + n[1])
            nc *= 2;
        struct okx_blv *nl = realloc(b->bl, nc * sizeof(*nl));
        if (nl == NULL)
            return -1;
        b->bl = nl;
        b->capbl = nc;
    }
    struct okx_bupd *u = &b->bu[b->nbu++];
    u->seq = seq;
    u->prev = prev;
    u->has_seq = has_seq;
    u->ts_ms = ts_ms;
    u->checksum = cs;
    u->first = (uint32_t)b->nbl;
    u->n = (uint32_t)(n[0] + n[1]);
    for (int s = 0; s < 2; s++) {
        for (size_t k = 0; k < n[s]; k++) {
            struct okx_blv *l = &b->bl[b->nbl++];
            const struct vscan_txt *x = &o->txt[s][k];
            l->px = v->lv[s][k].price;
            l->base = v->lv[s][k].qty;
            l->side = (uint8_t)s;
            /* a text too long for a piece is kept as none (replay_one
             * then turns checksums off, as a live frame's would) */
            l->plen = (uint8_t)(x->pl < OKX_STR_MAX ? x->pl : 0);
            l->slen = (uint8_t)(x->sl < OKX_STR_MAX ? x->sl : 0);
            memcpy(l->pxs, d + x->px, l->plen);
            memcpy(l->szs, d + x->sz, l->slen);
        }
    }
    return 0;
}

/* Replay one buffered update onto the book. */
static void replay_one(struct okx_book *b, const struct okx_bupd *u)
{
    for (uint32_t i = 0; i < u->n; i++) {
        const struct okx_blv *l = &b->bl[u->first + i];
        struct book_level lv = { l->px, l->base };
        uint64_t aux = 0;
        if (b->cs != OKX_CS_OFF && l->base != 0) {
            if (l->plen == 0 || l->slen == 0)
                cs_off(b);   /* the text was too long to keep */
            else
                aux = piece_aux(l->pxs, l->plen, l->szs, l->slen);
        }
        /* Crossings midway are expected (see the top of the file). */
        (void)book_set_levels_aux(b->in->book, (enum book_side)l->side, &lv, &aux, 1);
    }
}

/* ---- seeding ------------------------------------------------------------ */

/* A full book (pushed snapshot or REST answer) whose levels sit in the
 * scratch arrays: apply it, replay the buffer, go LIVE. */
static void seed(venue_t *v, struct okx_book *b, const char *d,
                 const size_t n[2], int has_seq, int64_t seq, int64_t ts_ms,
                 int32_t cs, int from_rest, int64_t now)
{
    struct mkt_instr *in = b->in;
    size_t first = 0;

    if (from_rest && b->nbu > 0) {
        if (has_seq) {
            while (first < b->nbu && b->bu[first].has_seq && b->bu[first].seq <= seq)
                first++;
            if (first < b->nbu && b->bu[first].has_seq && b->bu[first].prev > seq) {
                request_rest(v, b, now);   /* snapshot older than the buffer */
                return;
            }
        } else if (ts_ms < b->bu[0].ts_ms) {
            request_rest(v, b, now);       /* may predate the buffer */
            return;
        }
    } else if (!from_rest && has_seq) {
        while (first < b->nbu && b->bu[first].has_seq && b->bu[first].seq <= seq)
            first++;
    }
    int was_valid = in->book_valid;
    /* A REST answer carries no checksum: its pieces are kept until the
     * buffered or next updates decide. */
    struct okx *o = v->priv;
    int pieces = from_rest || cs != 0, rc;
    if (pieces && (levels_aux(o, d, 0, v->lv[0], n[0]) != 0 ||
                   levels_aux(o, d, 1, v->lv[1], n[1]) != 0))
        pieces = 0;
    rc = market_apply_snapshot_aux(in, v->lv[0], pieces ? o->aux[0] : NULL, n[0],
                                   v->lv[1], pieces ? o->aux[1] : NULL, n[1],
                                   has_seq ? (uint64_t)seq : 0);
    if (rc != BOOK_OK) {
        resync(v, b, rc == BOOK_CROSSED ? "crossed book in snapshot"
                                        : "bad level in snapshot", now);
        return;
    }
    in->last_ts = now;
    b->has_seq = has_seq;
    b->seq = seq;
    b->bridge = from_rest && has_seq;
    b->cs = OKX_CS_UNKNOWN;
    if (!pieces)
        cs_off(b);   /* a checksum of 0, or texts that cannot be kept */
    const char *why;
    if (!from_rest && (why = check_sum(v->priv, b, cs)) != NULL) {
        resync(v, b, why, now);
        return;
    }
    /* Replay what was buffered. */
    for (size_t i = first; i < b->nbu; i++) {
        const struct okx_bupd *u = &b->bu[i];
        if (u->has_seq && b->has_seq) {
            int ok = b->bridge ? (u->prev <= b->seq && b->seq < u->seq)
                               : u->prev == b->seq;
            if (!ok) {
                resync(v, b, "sequence gap in buffered updates", now);
                return;
            }
        }
        replay_one(b, u);
        if (u->has_seq) {
            b->has_seq = 1;
            b->seq = u->seq;
            b->bridge = 0;
        }
        if (b->cs != OKX_CS_OFF && (why = check_sum(v->priv, b, u->checksum)) != NULL) {
            resync(v, b, why, now);
            return;
        }
    }
    if (book_is_crossed(in->book)) {
        resync(v, b, "crossed book after replay", now);
        return;
    }
    if (b->nbu > first && b->cs == OKX_CS_UNKNOWN && from_rest)
        cs_off(b);   /* buffered updates carried checksum 0 */
    in->book_seq = b->has_seq ? (uint64_t)b->seq : 0;
    buf_clear(b);
    b->st = OKX_LIVE;
    b->rest_tries = 0;
    emit_full_book(v, b, venue__ms(ts_ms), now);
    if (!was_valid)
        venue__book_valid(v, in, now);
}

/* ---- channels ----------------------------------------------------------- */

/* The fields of a books data[0] object. */
struct okx_bookmsg {
    size_t n[2];          /* levels in v->lv, texts in o->txt: bids, asks */
    int has_seq;
    int64_t seq, prev, ts_ms;
    int32_t cs;
};

/* rest: a REST answer, whose seqId (if any) comes without prevSeqId. */
static int parse_bookmsg(venue_t *v, const struct mkt_instr *in, const char *d,
                         int obj, int rest, struct okx_bookmsg *m)
{
    const struct jtok *t = v->tok;
    int i;
    int64_t x;

    if (obj < 0 || t[obj].type != JT_OBJ)
        return -1;
    int arr[2] = { jtok_get(d, t, obj, "bids"), jtok_get(d, t, obj, "asks") };
    for (int s = 0; s < 2; s++) {
        long n = parse_side(v, in, d, arr[s], s);
        if (n < 0)
            return -1;
        m->n[s] = (size_t)n;
    }
    m->ts_ms = 0;
    if ((i = jtok_get(d, t, obj, "ts")) >= 0 && jtok_i64(d, t, i, &m->ts_ms) != 0)
        return -1;
    m->cs = 0;
    if ((i = jtok_get(d, t, obj, "checksum")) >= 0) {
        if (jtok_i64(d, t, i, &x) != 0 || x < INT32_MIN || x > UINT32_MAX)
            return -1;
        m->cs = (int32_t)(uint32_t)(int64_t)x;
    }
    int si = jtok_get(d, t, obj, "seqId"), pi = jtok_get(d, t, obj, "prevSeqId");
    m->has_seq = si >= 0 && (pi >= 0 || rest);
    m->seq = m->prev = 0;
    if (m->has_seq && (jtok_i64(d, t, si, &m->seq) != 0 ||
                       (pi >= 0 && jtok_i64(d, t, pi, &m->prev) != 0)))
        return -1;
    return 0;
}

static int apply_update(venue_t *v, struct okx_book *b, const char *d,
                        const struct okx_bookmsg *m, int64_t now)
{
    struct mkt_instr *in = b->in;

    if (m->has_seq && b->has_seq) {
        if (b->bridge) {
            if (m->seq <= b->seq)
                return venue__skip(v, VSKIP_OLDER_THAN_SNAPSHOT);
            if (m->prev > b->seq) {
                resync(v, b, "sequence gap after snapshot", now);
                return 0;
            }
        } else if (m->prev != b->seq) {
            if (m->seq <= b->seq && m->prev < b->seq)
                return venue__skip(v, VSKIP_DUPLICATE);
            resync(v, b, "sequence gap", now);
            return 0;
        }
    }
    struct okx *o = v->priv;
    int pieces = wants_pieces(b, m->cs);
    if (pieces && (levels_aux(o, d, 0, v->lv[0], m->n[0]) != 0 ||
                   levels_aux(o, d, 1, v->lv[1], m->n[1]) != 0)) {
        cs_off(b);   /* cannot keep the text: stop validating */
        pieces = 0;
    }
    int rc = market_apply_delta_aux(in, v->lv[0], pieces ? o->aux[0] : NULL, m->n[0],
                                    v->lv[1], pieces ? o->aux[1] : NULL, m->n[1],
                                    m->has_seq ? (uint64_t)m->seq : in->book_seq);
    if (rc < 0) {
        resync(v, b, "bad level in update", now);
        return 0;
    }
    if (rc == BOOK_CROSSED) {
        resync(v, b, "crossed book", now);
        return 0;
    }
    const char *why = check_sum(v->priv, b, m->cs);
    if (why != NULL) {
        resync(v, b, why, now);
        return 0;
    }
    if (m->has_seq) {
        b->has_seq = 1;
        b->seq = m->seq;
        b->bridge = 0;
    }
    in->last_ts = now;
    venue__emit_book(v, in, 0, v->lv[0], m->n[0], v->lv[1], m->n[1],
                     m->has_seq ? (uint64_t)m->seq : 0, venue__ms(m->ts_ms), now);
    return 0;
}

/* A parsed books frame: seed from a snapshot, buffer an update while
 * seeding, apply it when live. */
static int books_msg(venue_t *v, struct okx_book *b, const char *d, int snap,
                     const struct okx_bookmsg *m, int64_t now)
{
    struct okx *o = v->priv;

    if (snap) {
        seed(v, b, d, m->n, m->has_seq, m->seq, m->ts_ms, m->cs, 0, now);
        return 0;
    }
    switch (b->st) {
    case OKX_WAIT_SNAP:
    case OKX_SEEDING:
        if (buffer_update(v, b, d, m->n, m->has_seq, m->seq, m->prev, m->ts_ms,
                          m->cs) != 0) {
            resync(v, b, "update buffer overflow while seeding", now);
            return 0;
        }
        if (b->st == OKX_WAIT_SNAP && o->open)
            request_rest(v, b, now);   /* updates without a snapshot */
        return 0;
    case OKX_LIVE:
        return apply_update(v, b, d, m, now);
    }
    return 0;
}

static int on_books(venue_t *v, const char *d, size_t len, int arg, int64_t now)
{
    struct okx *o = v->priv;
    const struct jtok *t = v->tok;
    int id = jtok_get(d, t, arg, "instId");
    struct okx_bookmsg m;

    if (id < 0 || t[id].type != JT_STR)
        return venue__reject(v, VREJ_SCHEMA, "books: no instId", d, len, now);
    struct mkt_instr *in = venue__find(v, d + t[id].start, t[id].len);
    struct okx_book *b = in ? book_of(o, in) : NULL;
    if (b == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "books", d, len, now);
    int act = jtok_get(d, t, 0, "action");
    int snap = jtok_streq(d, t, act, "snapshot");
    if (!snap && !jtok_streq(d, t, act, "update"))
        return venue__reject(v, VREJ_SCHEMA, "books: action", d, len, now);
    int data = jtok_get(d, t, 0, "data");
    if (parse_bookmsg(v, in, d, jtok_at(t, data, 0), 0, &m) != 0)
        return venue__reject(v, VREJ_NUMBER, "books: level or field", d, len, now);
    return books_msg(v, b, d, snap, &m, now);
}

/* ---- books frames without the tokenizer --------------------------------- */

/*
 * Nearly every frame is a books update of one shape:
 *
 *   {"arg":{"channel":"books","instId":"X"},"action":"update",
 *    "data":[{"asks":[["px","sz","0","n"],...],"bids":[...],"ts":"ms",
 *             "checksum":c,"prevSeqId":p,"seqId":s}]}
 *
 * fast_books reads it in one pass (vscan.h) into the same message, levels
 * and texts as the tokenizer's path (on_books, parse_bookmsg); a frame of
 * any other shape goes that way.  The keys of data[0] may come in any
 * order, each once.
 */

/* The shape above: 0 with *bp, *snap and m filled (levels in v->lv, texts
 * in o->txt), or -1 (the tokenizer's way then). */
static int fast_books(venue_t *v, const char *d, size_t len, struct okx_book **bp,
                      int *snap, struct okx_bookmsg *m)
{
    enum { F_ASKS = 1, F_BIDS = 2, F_TS = 4, F_CS = 8, F_SEQ = 16, F_PREV = 32 };
    struct vscan c = { d, d, d + len };
    struct jtok tk, key;
    int seen = 0;
    int64_t x, seq = 0, prev = 0;

    if (vscan_lit(&c, "{\"arg\":{\"channel\":\"books\",\"instId\":\"") ||
        vscan_str(&c, &tk) || vscan_lit(&c, "},\"action\":\""))
        return -1;
    /* known already (vscan.h: a new one is the tokenizer's way to discover) */
    struct mkt_instr *in = market_findn(v->mkt, VENUE_OKX, d + tk.start, tk.len);
    struct okx_book *b = in ? book_of(v->priv, in) : NULL;
    if (b == NULL)
        return -1;
    if (vscan_lit(&c, "update\"") == 0)
        *snap = 0;
    else if (vscan_lit(&c, "snapshot\"") == 0)
        *snap = 1;
    else
        return -1;
    if (vscan_lit(&c, ",\"data\":[{"))
        return -1;
    m->ts_ms = 0;
    m->cs = 0;
    do {
        long n;
        int bit;
        if (vscan_key(&c, &key))
            return -1;
        if (vscan_is(&c, &key, "asks") || vscan_is(&c, &key, "bids")) {
            int side = d[key.start] == 'a' ? BOOK_ASK : BOOK_BID;
            struct vscan_txt *tx = txt_room(v->priv, side, vscan_room(&c));
            bit = side == BOOK_ASK ? F_ASKS : F_BIDS;
            if ((seen & bit) || tx == NULL || (n = vscan_levels(v, &c, in, side, tx)) < 0)
                return -1;
            m->n[side] = (size_t)n;
        } else if (vscan_is(&c, &key, "ts")) {
            bit = F_TS;
            if (vscan_i64(&c, &m->ts_ms))
                return -1;
        } else if (vscan_is(&c, &key, "checksum")) {
            bit = F_CS;
            if (vscan_i64(&c, &x) ||
                x < INT32_MIN || x > UINT32_MAX)
                return -1;
            m->cs = (int32_t)(uint32_t)(int64_t)x;
        } else if (vscan_is(&c, &key, "seqId")) {
            bit = F_SEQ;
            if (vscan_i64(&c, &seq))
                return -1;
        } else if (vscan_is(&c, &key, "prevSeqId")) {
            bit = F_PREV;
            if (vscan_i64(&c, &prev))
                return -1;
        } else {
            return -1;
        }
        if (vscan_once(&seen, bit))
            return -1;
    } while (vscan_lit(&c, ",") == 0);
    if (vscan_lit(&c, "}]}") || c.p != c.end ||
        (seen & (F_ASKS | F_BIDS)) != (F_ASKS | F_BIDS))
        return -1;
    m->has_seq = (seen & (F_SEQ | F_PREV)) == (F_SEQ | F_PREV);
    m->seq = m->has_seq ? seq : 0;
    m->prev = m->has_seq ? prev : 0;
    *bp = b;
    return 0;
}


static int on_mark(venue_t *v, const char *d, size_t len, int64_t now)
{
    const struct jtok *t = v->tok;
    int data = jtok_get(d, t, 0, "data"), used = 0;

    if (data < 0 || t[data].type != JT_ARR)
        return venue__reject(v, VREJ_SCHEMA, "mark-price: data", d, len, now);
    for (int e = jtok_first(t, data); e >= 0 && e < (int)t[data].end; e = jtok_next(t, e)) {
        int id = jtok_get(d, t, e, "instId");
        double px;
        int64_t ts = 0;
        if (id < 0 || t[id].type != JT_STR ||
            jtok_double(d, t, jtok_get(d, t, e, "markPx"), &px) != 0 || !(px > 0))
            return venue__reject(v, VREJ_SCHEMA, "mark-price: fields", d, len, now);
        int ti = jtok_get(d, t, e, "ts");
        if (ti >= 0 && jtok_i64(d, t, ti, &ts) != 0)
            return venue__reject(v, VREJ_NUMBER, "mark-price: ts", d, len, now);
        struct mkt_instr *in = venue__find(v, d + t[id].start, t[id].len);
        if (in == NULL)
            continue;
        venue__mark(v, in, px, 0, venue__ms(ts), now);
        used++;
    }
    return used ? 0 : venue__reject(v, VREJ_UNKNOWN_SYMBOL, "mark-price", d, len, now);
}

/* liquidation-orders is venue-wide: prints for instruments we do not
 * watch are passed over silently (a replay that discovers adds them). */
static int on_liq(venue_t *v, const char *d, size_t len, int64_t now)
{
    const struct jtok *t = v->tok;
    int data = jtok_get(d, t, 0, "data");

    if (data < 0 || t[data].type != JT_ARR)
        return venue__reject(v, VREJ_SCHEMA, "liquidation-orders: data", d, len, now);
    for (int e = jtok_first(t, data); e >= 0 && e < (int)t[data].end; e = jtok_next(t, e)) {
        int id = jtok_get(d, t, e, "instId"), det = jtok_get(d, t, e, "details");
        if (id < 0 || t[id].type != JT_STR || det < 0 || t[det].type != JT_ARR)
            return venue__reject(v, VREJ_SCHEMA, "liquidation-orders: item", d, len, now);
        struct mkt_instr *in = venue__find(v, d + t[id].start, t[id].len);
        if (in == NULL)
            continue;
        for (int x = jtok_first(t, det); x >= 0 && x < (int)t[det].end; x = jtok_next(t, x)) {
            int ps = jtok_get(d, t, x, "posSide"), sd = jtok_get(d, t, x, "side");
            int ti = jtok_get(d, t, x, "ts");
            double px;
            dec_t sz;
            int64_t ts = 0;
            int liq_long;
            /* A bankruptcy price must be a price (> 0, finite), as every
             * adapter requires of a print; fuzzing sent "bkPx":"0". */
            if (jtok_double(d, t, jtok_get(d, t, x, "bkPx"), &px) != 0 ||
                !(px > 0) || !isfinite(px) ||
                jtok_dec(d, t, jtok_get(d, t, x, "sz"), &sz) != 0 || sz <= 0 ||
                (ti >= 0 && jtok_i64(d, t, ti, &ts) != 0))
                return venue__reject(v, VREJ_NUMBER, "liquidation-orders: detail", d, len, now);
            /* posSide is the liquidated position's side; in net mode it
             * is "net" and side is the liquidation order's: a sell
             * closes a long. */
            if (jtok_streq(d, t, ps, "long"))
                liq_long = 1;
            else if (jtok_streq(d, t, ps, "short"))
                liq_long = 0;
            else if (jtok_streq(d, t, sd, "sell"))
                liq_long = 1;
            else if (jtok_streq(d, t, sd, "buy"))
                liq_long = 0;
            else
                return venue__reject(v, VREJ_SCHEMA, "liquidation-orders: side", d, len, now);
            struct mkt_event ev;
            venue__event(&ev, MEV_LIQUIDATION, in, venue__ms(ts), now);
            ev.u.liq.liquidated_long = liq_long;
            ev.u.liq.price = px;
            ev.u.liq.price_kind = LIQ_PX_BANKRUPTCY;
            ev.u.liq.qty = market_to_base(in, sz);
            ev.u.liq.coverage = LIQ_SAMPLED;
            in->last_ts = now;
            venue__emit(v, &ev);
        }
    }
    return 0;
}

/* ---- adl-warning (OKX "ADL warning channel", public, /ws/v5/public) ----
 *
 * Subscribed per instrument family of the watched swaps ({"channel":
 * "adl-warning","instType":"SWAP","instFamily":"BTC-USDT"}).  Since 2026
 * OKX pushes only in the "warning" and "adl" states, once a second, and
 * nothing in "normal" (older captures do carry "normal"): silence is how
 * a warning ends, which the alert rule reads as such (alert.c).  bal (the
 * security fund's real-time balance) is required and >= 0; maxBal,
 * adlBal, decRate, adlRate, adlRecRate and ccy are deprecated and sent as
 * "", used when a (older) frame has them.  A frame is checked whole
 * before any of its entries is emitted; one event per entry, scope
 * "instType:instFamily", the instrument being the family's swap when it
 * is watched (never discovered: a fund is not an instrument). */

/* The fund's currency from a family: "BTC-USDT" -> USDT, "BTC-USD" (coin
 * margined) -> BTC. */
static void family_ccy(const char *fam, char *out, size_t size)
{
    const char *dash = strrchr(fam, '-');

    if (dash == NULL)
        snprintf(out, size, "%s", fam);
    else if (strcmp(dash + 1, "USD") == 0)
        snprintf(out, size, "%.*s", (int)(dash - fam), fam);
    else
        snprintf(out, size, "%s", dash + 1);
}

static int on_adl(venue_t *v, const char *d, size_t len, int64_t now)
{
    const struct jtok *t = v->tok;
    int data = jtok_get(d, t, 0, "data");

    if (data < 0 || t[data].type != JT_ARR || t[data].size == 0)
        return venue__reject(v, VREJ_SCHEMA, "adl-warning: data", d, len, now);
    for (int pass = 0; pass < 2; pass++) {
        for (int e = jtok_first(t, data); e >= 0 && e < (int)t[data].end; e = jtok_next(t, e)) {
            static const char *const opt[5] = { "maxBal", "adlBal", "decRate", "adlRate",
                                                "adlRecRate" };
            double x[5], bal;
            int64_t ts = 0;
            enum adl_level lv;
            char fam[48], typ[16], ccy[48], scope[80], sym[80];
            if (t[e].type != JT_OBJ)
                return venue__reject(v, VREJ_SCHEMA, "adl-warning: entry", d, len, now);
            int fi = jtok_get(d, t, e, "instFamily"), ty = jtok_get(d, t, e, "instType");
            int st = jtok_get(d, t, e, "state"), ci = jtok_get(d, t, e, "ccy");
            int ti = jtok_get(d, t, e, "ts");
            if (fi < 0 || t[fi].type != JT_STR || !venue_symbol_ok(d + t[fi].start, t[fi].len) ||
                jtok_strcpy(d, t, fi, fam, sizeof(fam)) != 0)
                return venue__reject(v, VREJ_SCHEMA, "adl-warning: instFamily", d, len, now);
            if (ty >= 0 && (t[ty].type != JT_STR || !venue_symbol_ok(d + t[ty].start, t[ty].len) ||
                            jtok_strcpy(d, t, ty, typ, sizeof(typ)) != 0))
                return venue__reject(v, VREJ_SCHEMA, "adl-warning: instType", d, len, now);
            if (ty < 0)
                snprintf(typ, sizeof(typ), "SWAP");
            if (jtok_streq(d, t, st, "warning"))
                lv = ADL_WARNING;
            else if (jtok_streq(d, t, st, "adl"))
                lv = ADL_ACTIVE;
            else if (jtok_streq(d, t, st, "normal"))
                lv = ADL_NORMAL;
            else
                return venue__reject(v, VREJ_SCHEMA, "adl-warning: state", d, len, now);
            if (jtok_double(d, t, jtok_get(d, t, e, "bal"), &bal) != 0 || !isfinite(bal) ||
                bal < 0)
                return venue__reject(v, VREJ_NUMBER, "adl-warning: bal", d, len, now);
            for (int k = 0; k < 5; k++)
                if (venue__opt_double(d, t, jtok_get(d, t, e, opt[k]), &x[k]) != 0)
                    return venue__reject(v, VREJ_NUMBER, "adl-warning: balance or rate",
                                         d, len, now);
            if (ti >= 0 && !(t[ti].type == JT_STR && t[ti].len == 0) &&
                jtok_i64(d, t, ti, &ts) != 0)
                return venue__reject(v, VREJ_NUMBER, "adl-warning: ts", d, len, now);
            if (ci >= 0 && t[ci].type != JT_STR && t[ci].type != JT_NULL)
                return venue__reject(v, VREJ_SCHEMA, "adl-warning: ccy", d, len, now);
            if (pass == 0)
                continue;
            if (ci >= 0 && t[ci].type == JT_STR && t[ci].len > 0 &&
                venue_symbol_ok(d + t[ci].start, t[ci].len) && t[ci].len < sizeof(ccy))
                jtok_strcpy(d, t, ci, ccy, sizeof(ccy));
            else
                family_ccy(fam, ccy, sizeof(ccy));
            snprintf(scope, sizeof(scope), "%s:%s", typ, fam);
            snprintf(sym, sizeof(sym), "%s-%s", fam, typ);
            struct mkt_event ev;
            venue__event(&ev, MEV_ADL_WARNING,
                         strcmp(typ, "SWAP") == 0 ? market_findn(v->mkt, VENUE_OKX, sym,
                                                                 strlen(sym)) : NULL,
                         venue__ms(ts), now);
            ev.u.adl.level = lv;
            ev.u.adl.scope = scope;
            ev.u.adl.ccy = ccy;
            ev.u.adl.state = adl_level_name(lv);
            ev.u.adl.balance = bal;
            ev.u.adl.max_balance = x[0];
            ev.u.adl.threshold = x[1];
            ev.u.adl.ratio = x[2];
            ev.u.adl.ratio_trigger = x[3];
            ev.u.adl.ratio_stop = x[4];
            venue__emit(v, &ev);
        }
    }
    return 0;
}

/* Subscribe adl-warning for the family of every watched swap (one
 * message). */
static void send_adl_sub(venue_t *v)
{
    struct okx *o = v->priv;
    size_t cap = 64, len;
    char *msg;
    int n = 0;

    if (!v->cfg.adl_warnings)
        return;
    for (size_t i = 0; i < o->nb; i++)
        if (o->b[i].in)
            cap += 80 + strlen(o->b[i].in->spec.symbol);
    if ((msg = malloc(cap)) == NULL)
        return;
    len = (size_t)snprintf(msg, cap, "{\"op\":\"subscribe\",\"args\":[");
    for (size_t i = 0; i < o->nb; i++) {
        const struct mkt_instr *in = o->b[i].in;
        size_t sl = in ? strlen(in->spec.symbol) : 0;
        if (in == NULL || sl <= 5 || strcmp(in->spec.symbol + sl - 5, "-SWAP") != 0)
            continue;   /* one swap per family: no duplicates */
        len += (size_t)snprintf(msg + len, cap - len, "%s{\"channel\":\"adl-warning\","
                                "\"instType\":\"SWAP\",\"instFamily\":\"%.*s\"}",
                                n++ ? "," : "", (int)(sl - 5), in->spec.symbol);
    }
    len += (size_t)snprintf(msg + len, cap - len, "]}");
    if (n > 0 && len < cap)
        venue__send(v, 0, msg, len);
    free(msg);
}

static int on_event(venue_t *v, const char *d, size_t len, int ev, int64_t now)
{
    const struct jtok *t = v->tok;

    if (jtok_streq(d, t, ev, "subscribe") || jtok_streq(d, t, ev, "unsubscribe") ||
        jtok_streq(d, t, ev, "channel-conn-count"))
        return 0;
    if (jtok_streq(d, t, ev, "notice")) {
        /* e.g. 64008: the connection will close for a service upgrade;
         * the transport reconnects when it does. */
        log_msg(LL_INFO, "okx-swap", "notice: %.*s", (int)(len > 200 ? 200 : len), d);
        return 0;
    }
    if (jtok_streq(d, t, ev, "error"))
        return venue__reject(v, VREJ_VENUE_ERROR, "event error", d, len, now);
    return venue__reject(v, VREJ_UNKNOWN_TYPE, "event", d, len, now);
}

/* GET /api/v5/market/books?instId=X&sz=400 answer. */
static int on_rest(venue_t *v, const char *url, const char *d, size_t len, int64_t now)
{
    struct okx *o = v->priv;
    const char *p = url ? strstr(url, "instId=") : NULL;
    struct okx_bookmsg m;

    if (url == NULL || strstr(url, "/api/v5/market/books") == NULL || p == NULL)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "rest: url", d, len, now);
    p += 7;
    size_t il = strcspn(p, "&");
    struct mkt_instr *in = venue__find(v, p, il);
    struct okx_book *b = in ? book_of(o, in) : NULL;
    if (b == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "rest books", d, len, now);
    if (venue__tokens(v, d, len) < 0)
        return venue__reject(v, VREJ_JSON, "rest books", d, len, now);
    const struct jtok *t = v->tok;
    int code = jtok_get(d, t, 0, "code");
    if (code >= 0 && !jtok_streq(d, t, code, "0"))
        return venue__reject(v, VREJ_VENUE_ERROR, "rest books", d, len, now);
    int data = jtok_get(d, t, 0, "data");
    if (parse_bookmsg(v, in, d, jtok_at(t, data, 0), 1, &m) != 0)
        return venue__reject(v, VREJ_SCHEMA, "rest books: body", d, len, now);
    if (b->st == OKX_LIVE)     /* a request overtaken by a pushed snapshot */
        return venue__skip(v, VSKIP_LATE_SNAPSHOT);
    /* The documented answer has no seqId (has_seq 0): see the header. */
    seed(v, b, d, m.n, m.has_seq, m.seq, m.ts_ms, 0, 1, now);
    return 0;
}

static int on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                    const char *d, size_t len, int64_t now)
{
    struct okx *o = v->priv;

    (void)conn;
    if (src == FRAME_REST)
        return on_rest(v, url, d, len, now);
    o->last_rx = now;
    o->ping_out = 0;
    if (len == 4 && memcmp(d, "pong", 4) == 0)
        return 0;
    if (!v->fast_off) {
        struct okx_book *b;
        struct okx_bookmsg m;
        int snap;
        if (fast_books(v, d, len, &b, &snap, &m) == 0)
            return books_msg(v, b, d, snap, &m, now);
    }
    if (venue__tokens(v, d, len) < 0)
        return venue__reject(v, VREJ_JSON, NULL, d, len, now);
    const struct jtok *t = v->tok;
    if (t[0].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "not an object", d, len, now);
    int ev = jtok_get(d, t, 0, "event");
    if (ev >= 0)
        return on_event(v, d, len, ev, now);
    int arg = jtok_get(d, t, 0, "arg");
    int ch = jtok_get(d, t, arg, "channel");
    if (ch < 0)
        return venue__reject(v, VREJ_SCHEMA, "no arg.channel", d, len, now);
    if (jtok_streq(d, t, ch, "books"))
        return on_books(v, d, len, arg, now);
    if (jtok_streq(d, t, ch, "mark-price"))
        return on_mark(v, d, len, now);
    if (jtok_streq(d, t, ch, "liquidation-orders"))
        return on_liq(v, d, len, now);
    if (jtok_streq(d, t, ch, "adl-warning"))
        return on_adl(v, d, len, now);
    return venue__reject(v, VREJ_UNKNOWN_TYPE, "channel", d, len, now);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void reset_book(struct okx_book *b, int64_t now)
{
    buf_clear(b);
    b->st = OKX_WAIT_SNAP;
    b->wait_since = now;
    b->rest_sent = 0;
    b->rest_tries = 0;
    b->has_seq = 0;
    b->bridge = 0;
    b->cs = OKX_CS_UNKNOWN;
}

static int init(venue_t *v, lq_err_t *err)
{
    struct okx *o = calloc(1, sizeof(*o));
    size_t n = market_count(v->mkt);

    if (o == NULL)
        return lq_err_set(err, "out of memory");
    if (pthread_once(&crc_once, crc_setup) != 0 || !crc_ok) {
        free(o);
        return lq_err_set(err, "okx: the checksum combination disagrees with zlib "
                          "(self-test at start-up failed)");
    }
#ifdef OKX_CLMUL
    o->clmul = __builtin_cpu_supports("pclmul");
#endif
    o->nb = n;
    o->b = calloc(n ? n : 1, sizeof(*o->b));
    if (o->b == NULL) {
        free(o);
        return lq_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue == VENUE_OKX && !in->retired && in->idx < n)
            o->b[in->idx].in = in;
    }
    if (v->cfg.ping_interval_s <= 0 || v->cfg.ping_interval_s >= 30)
        v->cfg.ping_interval_s = 25;   /* OKX drops a link idle for 30 s */
    snprintf(v->conns[0].name, sizeof(v->conns[0].name), "public");
    snprintf(v->conns[0].url, sizeof(v->conns[0].url), "%s", v->cfg.ws_url);
    v->nconns = 1;
    v->priv = o;
    return 0;
}

void venue_okx_portable_crc(venue_t *v, int on)
{
    struct okx *o = v->priv;

    if (v->cfg.id != VENUE_OKX || o == NULL)
        return;
    o->clmul = 0;
#ifdef OKX_CLMUL
    o->clmul = !on && __builtin_cpu_supports("pclmul");
#else
    (void)on;
#endif
}

/* venue_add_instrument: books are indexed by mkt_instr.idx. */
static int add_instrument(venue_t *v, struct mkt_instr *in, lq_err_t *err)
{
    struct okx *o = v->priv;

    if (in->idx >= o->nb) {
        size_t n = in->idx + 1, cap = o->nb ? o->nb : 1;
        while (cap < n)
            cap *= 2;
        struct okx_book *nb = realloc(o->b, cap * sizeof(*nb));
        if (nb == NULL)
            return lq_err_set(err, "out of memory");
        memset(nb + o->nb, 0, (cap - o->nb) * sizeof(*nb));
        o->b = nb;
        o->nb = cap;
    }
    if (o->b[in->idx].in == in)
        return 0;
    o->b[in->idx].in = in;
    /* As at creation: waiting for a snapshot since the last frame (a
     * replay's clock), which tick times. */
    reset_book(&o->b[in->idx], o->last_rx);
    if (o->open) {
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"args\":[{\"channel\":"
                         "\"mark-price\",\"instId\":\"%s\"},{\"channel\":\"books\","
                         "\"instId\":\"%s\"}]}", in->spec.symbol, in->spec.symbol);
        if (n > 0 && (size_t)n < sizeof(msg))
            venue__send(v, 0, msg, (size_t)n);
        size_t sl = strlen(in->spec.symbol);
        if (v->cfg.adl_warnings && sl > 5 && strcmp(in->spec.symbol + sl - 5, "-SWAP") == 0) {
            n = snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"args\":[{\"channel\":"
                         "\"adl-warning\",\"instType\":\"SWAP\",\"instFamily\":\"%.*s\"}]}",
                         (int)(sl - 5), in->spec.symbol);
            if (n > 0 && (size_t)n < sizeof(msg))
                venue__send(v, 0, msg, (size_t)n);
        }
    }
    return 0;
}

static void fini(venue_t *v)
{
    struct okx *o = v->priv;

    if (o == NULL)
        return;
    for (size_t i = 0; i < o->nb; i++) {
        free(o->b[i].bu);
        free(o->b[i].bl);
    }
    free(o->b);
    free(o->aux[0]);
    free(o->aux[1]);
    free(o->txt[0]);
    free(o->txt[1]);
    free(o);
}

static void on_open(venue_t *v, int conn, int64_t now)
{
    struct okx *o = v->priv;
    size_t cap = 128, len = 0, nin = 0;
    char *msg;

    (void)conn;
    o->open = 1;
    o->last_rx = now;
    o->ping_out = 0;
    for (size_t i = 0; i < o->nb; i++)
        if (o->b[i].in) {
            reset_book(&o->b[i], now);
            cap += 2 * (64 + strlen(o->b[i].in->spec.symbol));
            nin++;
        }
    msg = malloc(cap);
    if (msg == NULL)
        return;
    len = (size_t)snprintf(msg, cap, "{\"op\":\"subscribe\",\"args\":[");
    for (size_t i = 0; i < o->nb; i++) {
        const struct mkt_instr *in = o->b[i].in;
        if (in == NULL)
            continue;
        len += (size_t)snprintf(msg + len, cap - len,
                                "{\"channel\":\"mark-price\",\"instId\":\"%s\"},"
                                "{\"channel\":\"books\",\"instId\":\"%s\"},",
                                in->spec.symbol, in->spec.symbol);
    }
    len += (size_t)snprintf(msg + len, cap - len,
                            "{\"channel\":\"liquidation-orders\",\"instType\":\"SWAP\"}]}");
    (void)nin;
    if (len < cap)
        venue__send(v, 0, msg, len);
    free(msg);
    send_adl_sub(v);
}

static void on_close(venue_t *v, int conn, int64_t now)
{
    struct okx *o = v->priv;

    (void)conn;
    o->open = 0;
    o->ping_out = 0;
    for (size_t i = 0; i < o->nb; i++)
        if (o->b[i].in) {
            venue__invalidate(v, o->b[i].in, "connection closed", now);
            reset_book(&o->b[i], now);
        }
}

static void tick(venue_t *v, int64_t now)
{
    struct okx *o = v->priv;
    int64_t iv = (int64_t)v->cfg.ping_interval_s * OKX_NS;

    if (!o->open)
        return;
    for (size_t i = 0; i < o->nb; i++) {
        struct okx_book *b = &o->b[i];
        if (b->in == NULL)
            continue;
        if (b->st == OKX_WAIT_SNAP && now - b->wait_since >= OKX_SNAP_WAIT) {
            request_rest(v, b, now);
        } else if (b->st == OKX_SEEDING && now - b->rest_sent >= OKX_REST_RETRY) {
            if (b->rest_tries >= OKX_REST_TRIES)
                resync(v, b, "no snapshot", now);
            else
                request_rest(v, b, now);
        }
    }
    if (o->ping_out) {
        if (now - o->ping_sent >= iv) {
            o->ping_out = 0;
            o->last_rx = now;
            venue__reconnect(v, 0, "no pong");
        }
    } else if (now - o->last_rx >= iv) {
        venue__send(v, 0, "ping", 4);
        o->ping_out = 1;
        o->ping_sent = now;
    }
}

const struct venue_ops venue_okx_ops = {
    .id = VENUE_OKX,
    .init = init, .fini = fini, .on_open = on_open, .on_close = on_close,
    .on_frame = on_frame, .tick = tick,
    .add_instrument = add_instrument,
    .finds_own = 1,
};
