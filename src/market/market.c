/*
 * market.c - instruments' live state (see market.h).
 *
 * Lookup by (venue, symbol) runs on every frame (often twice: the adapter
 * and replay's discovery), so it is a hash table: open addressing over
 * indexes into m->in, at most half full.  A linear scan was as cheap at a
 * dozen instruments, but at the 200 of `make load` it compared 200
 * strings a frame.  Retired instruments stay in the table (they stay in
 * m->in) and lookups pass over them, so a symbol retired and added again
 * finds its live instrument.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/market.h"

#define MARKET_MAX 4096

struct market {
    struct mkt_instr **in;
    size_t n, cap;
    uint32_t *slot;                /* index into in + 1; 0: empty */
    size_t nslot;                  /* a power of two, >= 2 * n */
};

static uint64_t sym_hash(enum venue_id v, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)v;   /* FNV-1a */

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void slot_put(uint32_t *slot, size_t nslot, const struct mkt_instr *in, uint32_t idx)
{
    size_t i = (size_t)sym_hash(in->venue, in->spec.symbol, strlen(in->spec.symbol)) &
               (nslot - 1);

    while (slot[i] != 0)
        i = (i + 1) & (nslot - 1);
    slot[i] = idx + 1;
}

/* Room for n instruments; 0 or -1 (no memory, table unchanged). */
static int slots_reserve(market_t *m, size_t n)
{
    size_t want = m->nslot ? m->nslot : 32;

    while (want < 2 * n)
        want *= 2;
    if (want == m->nslot)
        return 0;
    uint32_t *ns = calloc(want, sizeof(*ns));
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < m->n; i++)
        slot_put(ns, want, m->in[i], (uint32_t)i);
    free(m->slot);
    m->slot = ns;
    m->nslot = want;
    return 0;
}

/* Each name with its length (venue_from_span compares lengths first). */
#define VN(s) { s, sizeof(s) - 1 }
static const struct {
    const char *s;
    size_t n;
} venue_names[VENUE_COUNT] = {
    VN("binance-usdm"), VN("bybit-linear"), VN("okx-swap"), VN("hyperliquid")
};
#undef VN

const char *venue_name(enum venue_id v)
{
    return (unsigned)v < VENUE_COUNT ? venue_names[v].s : "unknown";
}

int venue_from_name(const char *name)
{
    return venue_from_span(name, strlen(name));
}

void venue_names_join(char *out, size_t size)
{
    size_t o = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    for (int i = 0; i < VENUE_COUNT && o < size; i++) {
        const char *sep = i == 0 ? "" : i == VENUE_COUNT - 1 ? " or " : ", ";
        int n = snprintf(out + o, size - o, "%s%s", sep, venue_names[i].s);
        if (n < 0)
            return;
        o += (size_t)n;
    }
}

int venue_from_span(const char *s, size_t n)
{
    /* Lengths first: every capture line names a venue, and this is
     * cheaper than a strcmp per venue. */
    for (int i = 0; i < VENUE_COUNT; i++)
        if (n == venue_names[i].n && memcmp(s, venue_names[i].s, n) == 0)
            return i;
    return -1;
}

market_t *market_create(void)
{
    return calloc(1, sizeof(market_t));
}

static void instr_free(struct mkt_instr *in)
{
    if (in == NULL)
        return;
    book_destroy(in->book);
    instrument_fini(&in->spec);
    free(in);
}

void market_destroy(market_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        instr_free(m->in[i]);
    free(m->in);
    free(m->slot);
    free(m);
}

struct mkt_instr *market_add(market_t *m, enum venue_id v,
                             const struct instrument *spec, lq_err_t *err)
{
    struct mkt_instr *in = NULL;

    if (market_find(m, v, spec->symbol)) {
        lq_err_set(err, "%s:%s: instrument listed twice", venue_name(v),
                   spec->symbol);
        return NULL;
    }
    if (m->n == MARKET_MAX) {
        lq_err_set(err, "more than %d instruments", MARKET_MAX);
        return NULL;
    }
    if (slots_reserve(m, m->n + 1) != 0)
        goto nomem;
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        struct mkt_instr **nin = realloc(m->in, ncap * sizeof(*nin));
        if (nin == NULL)
            goto nomem;
        m->in = nin;
        m->cap = ncap;
    }
    in = calloc(1, sizeof(*in));
    if (in == NULL)
        goto nomem;
    in->venue = v;
    in->spec = *spec;
    if (tiers_copy(&spec->tiers, &in->spec.tiers) != 0) {
        in->spec.tiers.t = NULL;
        in->spec.tiers.n = 0;
        goto nomem;
    }
    in->book = book_create();
    if (in->book == NULL)
        goto nomem;
    snprintf(in->key, sizeof(in->key), "%s:%s", venue_name(v), spec->symbol);
    snprintf(in->invalid_reason, sizeof(in->invalid_reason), "no snapshot yet");
    in->idx = (uint32_t)m->n;
    m->in[m->n++] = in;
    slot_put(m->slot, m->nslot, in, in->idx);
    return in;
nomem:
    instr_free(in);
    lq_err_set(err, "out of memory");
    return NULL;
}

struct mkt_instr *market_findn(const market_t *m, enum venue_id v,
                               const char *symbol, size_t len)
{
    if (m->nslot == 0)
        return NULL;
    for (size_t i = (size_t)sym_hash(v, symbol, len) & (m->nslot - 1); m->slot[i] != 0;
         i = (i + 1) & (m->nslot - 1)) {
        struct mkt_instr *in = m->in[m->slot[i] - 1];
        if (!in->retired && in->venue == v &&
            strncmp(in->spec.symbol, symbol, len) == 0 &&
            in->spec.symbol[len] == '\0')
            return in;
    }
    return NULL;
}

struct mkt_instr *market_find(const market_t *m, enum venue_id v,
                              const char *symbol)
{
    return market_findn(m, v, symbol, strlen(symbol));
}

void market_retire(struct mkt_instr *in)
{
    in->retired = 1;
    in->book_valid = 0;
    book_clear(in->book);
    snprintf(in->invalid_reason, sizeof(in->invalid_reason), "removed from the config");
}

size_t market_count(const market_t *m)
{
    return m->n;
}

struct mkt_instr *market_at(const market_t *m, size_t i)
{
    return i < m->n ? m->in[i] : NULL;
}

int market_apply_snapshot(struct mkt_instr *in, const struct book_level *bids,
                          size_t nb, const struct book_level *asks,
                          size_t na, uint64_t seq)
{
    return market_apply_snapshot_aux(in, bids, NULL, nb, asks, NULL, na, seq);
}

int market_apply_snapshot_aux(struct mkt_instr *in,
                              const struct book_level *bids,
                              const uint64_t *bid_aux, size_t nb,
                              const struct book_level *asks,
                              const uint64_t *ask_aux, size_t na, uint64_t seq)
{
    int rc = book_apply_snapshot_aux(in->book, bids, bid_aux, nb, asks,
                                     ask_aux, na, NULL);

    in->book_seq = seq;
    in->book_updates++;
    if (rc == BOOK_OK) {
        in->book_valid = 1;
        in->invalid_reason[0] = '\0';
    }
    return rc;
}

int market_apply_delta(struct mkt_instr *in, const struct book_level *bids,
                       size_t nb, const struct book_level *asks, size_t na,
                       uint64_t seq)
{
    return market_apply_delta_aux(in, bids, NULL, nb, asks, NULL, na, seq);
}

int market_apply_delta_aux(struct mkt_instr *in, const struct book_level *bids,
                           const uint64_t *bid_aux, size_t nb,
                           const struct book_level *asks,
                           const uint64_t *ask_aux, size_t na, uint64_t seq)
{
    int rc;

    /* Counted first, even if a level fails: the engine compares this
     * counter to know whether the book may have changed. */
    in->book_updates++;
    in->book_seq = seq;
    if ((rc = book_set_levels_aux(in->book, BOOK_BID, bids, bid_aux, nb)) < 0)
        return rc;
    return book_set_levels_aux(in->book, BOOK_ASK, asks, ask_aux, na);
}

int market_apply_level(struct mkt_instr *in, enum book_side side,
                       double price, dec_t qty)
{
    struct book_level l = { price, qty };

    return side == BOOK_BID ? market_apply_delta(in, &l, 1, NULL, 0, in->book_seq)
                            : market_apply_delta(in, NULL, 0, &l, 1, in->book_seq);
}

void market_invalidate(struct mkt_instr *in, const char *reason)
{
    if (in->book_valid)
        in->book_resyncs++;
    in->book_valid = 0;
    snprintf(in->invalid_reason, sizeof(in->invalid_reason), "%s", reason);
}

/* q * cv / 1e8, rounded half to even: both are 1e-8 units.  Out of line
 * (market_to_base in market.h is the inline front) so that the common
 * case, no conversion, saves no registers. */
dec_t market_to_base_scaled(dec_t q, dec_t cv)
{
    /* Every OKX level with a ctVal comes through here.  When the product
     * fits in 64 bits (a book level's size in contracts times a ctVal such
     * as 0.01: always, in practice), the same arithmetic in int64_t gives
     * the same quotient and remainder (C division truncates toward zero at
     * either width), and a 64-bit division by a constant is a multiply,
     * where the 128-bit one is a call to libgcc's __divmodti4. */
    int64_t p64;
    if (q >= INT64_MIN && q <= INT64_MAX && cv >= INT64_MIN && cv <= INT64_MAX &&
        !__builtin_mul_overflow((int64_t)q, (int64_t)cv, &p64)) {
        int64_t r64 = p64 % DEC_SCALE, o64 = p64 / DEC_SCALE;
        const int64_t half64 = DEC_SCALE / 2;
        if (r64 < 0) {
            r64 = -r64;
            if (r64 > half64 || (r64 == half64 && (o64 & 1)))
                o64--;
        } else if (r64 > half64 || (r64 == half64 && (o64 & 1))) {
            o64++;
        }
        return o64;
    }
    dec_t prod = q * cv;
    dec_t r = prod % DEC_SCALE, out = prod / DEC_SCALE;
    dec_t half = DEC_SCALE / 2;
    if (r < 0) {
        r = -r;
        if (r > half || (r == half && (out & 1)))
            out--;
    } else if (r > half || (r == half && (out & 1))) {
        out++;
    }
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int market_load_dir(market_t *m, const char *dir, unsigned venues_mask,
                    lq_err_t *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int added = 0, rc = -1;

    if (d == NULL)
        return lq_err_set(err, "%s: cannot open directory", dir);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof(*nn));
            if (nn == NULL)
                goto nomem;
            names = nn;
            cap = ncap;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        char path[4096];
        struct instrument ins;
        int v;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (instrument_load_file(path, &ins, err) != 0)
            goto out;
        v = venue_from_name(ins.venue);
        if (v < 0) {
            lq_err_set(err, "%s: venue: unknown venue '%s'", path, ins.venue);
            instrument_fini(&ins);
            goto out;
        }
        if (venues_mask == 0 || (venues_mask & (1u << v))) {
            if (market_add(m, (enum venue_id)v, &ins, err) == NULL) {
                instrument_fini(&ins);
                goto out;
            }
            added++;
        }
        instrument_fini(&ins);
    }
    rc = added;
    goto out;
nomem:
    lq_err_set(err, "out of memory");
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}
