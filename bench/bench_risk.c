/*
 * bench_risk - position index and cascade ladder at 1e6 positions per side.
 *
 * Prints each figure beside its target (issue 2).  Figures, not tests:
 * nothing here fails on a slow machine.  Deterministic inputs (seeded).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/book.h"
#include "liqmon/cascade.h"
#include "liqmon/pindex.h"

#define NPOS     1000000
#define NLEVELS  1000
#define REF      90000.0
#define NSHOCKS  9
#define LADDERS  3000

static const double shocks[NSHOCKS] = {
    0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * 4096;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Liquidation prices: denser near the mark, as real books of leveraged
 * positions are (most leverage is 5x-50x). */
static double draw_lp(int side)
{
    double lev = 2 + unif() * 98;                 /* 2x .. 100x */
    double dist = (1.0 / lev) * (0.6 + 0.4 * unif());
    return side == POS_LONG ? REF * (1 - dist) : REF * (1 + dist);
}

static dec_t draw_qty(void)
{
    return (dec_t)(1 + rng() % 2000) * 100000;   /* 0.001 .. 2 BTC */
}

/* The full-rescan simulator: what a per-block liquidation daemon does.
 * Same contract, O(rounds x n) per simulation. */
struct flat { double lp; dec_t qty; };

static void rescan_run(const struct flat *pos, size_t n, unsigned char *taken,
                       const book_t *book, enum cascade_dir dir, double shock,
                       dec_t *v_out, double *p_out)
{
    enum book_side bs = dir == CASCADE_DOWN ? BOOK_BID : BOOK_ASK;
    double p0 = dir == CASCADE_DOWN ? REF * (1 - shock) : REF * (1 + shock);
    double p = p0;
    struct book_ladder lad;
    dec_t v = 0;

    book_ladder(book, bs, p0, &lad);
    memset(taken, 0, n);
    for (;;) {
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            int hit = dir == CASCADE_DOWN ? pos[i].lp >= p : pos[i].lp <= p;
            if (hit && !taken[i]) {
                taken[i] = 1;
                v += pos[i].qty;
                any = 1;
            }
        }
        if (!any)
            break;
        if (v > lad.total)
            p = lad.last_price;
        else
            book_ladder_fill(book, bs, &lad, v, &p);
    }
    *v_out = v;
    *p_out = p;
}

int main(void)
{
    pindex_t *ix = pindex_create(NULL);
    book_t *book = book_create();
    struct flat *flat[2];
    unsigned char *taken = malloc(NPOS);
    double *lat = malloc(LADDERS * sizeof(double));
    char id[32];
    double t0, t1;
    long rss0, rss1;
    enum cascade_dir dirs[2] = { CASCADE_DOWN, CASCADE_UP };
    struct cascade_row rows[2 * NSHOCKS];

    flat[0] = malloc(NPOS * sizeof(struct flat));
    flat[1] = malloc(NPOS * sizeof(struct flat));
    if (!ix || !book || !taken || !lat || !flat[0] || !flat[1]) {
        fprintf(stderr, "bench_risk: out of memory\n");
        return 1;
    }

    /* --- index insert, and bytes per position --- */
    rss0 = rss_bytes();
    t0 = now_ns();
    for (int i = 0; i < 2 * NPOS; i++) {
        struct pos_spec s = { 0 };
        int side = i & 1;
        snprintf(id, sizeof(id), "p%d", i);
        s.id = id;
        s.account = "";
        s.side = side;
        s.qty = draw_qty();
        s.entry = REF;
        s.liq_price = draw_lp(side);
        if (pindex_insert(ix, &s, NULL, NULL) != PINDEX_OK) {
            fprintf(stderr, "bench_risk: insert failed\n");
            return 1;
        }
    }
    t1 = now_ns();
    rss1 = rss_bytes();
    printf("index insert       %8.0f ns/op   (2e6 positions, 1e6 per side)\n",
           (t1 - t0) / (2.0 * NPOS));
    printf("bytes per position %8.1f B       (RSS growth / positions; target <= 128)\n",
           (double)(rss1 - rss0) / (2.0 * NPOS));
    printf("index memory       %8.1f B/pos   (pindex_memory)\n",
           (double)pindex_memory(ix) / (2.0 * NPOS));

    /* --- update / remove+insert / query at 1e6 per side --- */
    int nops = 200000;
    t0 = now_ns();
    for (int i = 0; i < nops; i++) {
        uint32_t h = (uint32_t)(rng() % (2 * NPOS));
        struct pos_view v;
        struct pos_spec s = { 0 };
        pindex_get(ix, h, &v);
        s.side = v.side;
        s.qty = draw_qty();
        s.entry = REF;
        s.liq_price = draw_lp(v.side);
        pindex_update(ix, h, &s, NULL);
    }
    t1 = now_ns();
    printf("index update       %8.0f ns/op   (qty and liq price change)\n",
           (t1 - t0) / nops);

    t0 = now_ns();
    for (int i = 0; i < nops; i++) {
        uint32_t h = (uint32_t)(rng() % (2 * NPOS));
        struct pos_view v;
        struct pos_spec s = { 0 };
        char idcopy[32];
        pindex_get(ix, h, &v);
        snprintf(idcopy, sizeof(idcopy), "%s", v.id);
        s.id = idcopy;
        s.side = v.side;
        s.qty = v.qty;
        s.entry = REF;
        s.liq_price = v.lp;
        pindex_remove(ix, h);
        pindex_insert(ix, &s, NULL, NULL);
    }
    t1 = now_ns();
    printf("index remove+insert %7.0f ns/op\n", (t1 - t0) / nops);

    double sink = 0;
    t0 = now_ns();
    for (int i = 0; i < nops; i++) {
        struct pindex_sum s;
        int side = i & 1;
        pindex_reached(ix, side, side == POS_LONG ? REF * (1 - unif() * 0.3)
                                                  : REF * (1 + unif() * 0.3), &s);
        sink += (double)s.count;
    }
    t1 = now_ns();
    printf("index query        %8.0f ns/op   (count, qty, notional reached at p)\n",
           (t1 - t0) / nops);

    /* Rebuild the flat copy after the updates, for the rescan baseline. */
    size_t nflat[2] = { 0, 0 };
    for (uint32_t h = 0; h < 2 * NPOS; h++) {
        struct pos_view v;
        if (pindex_get(ix, h, &v) == PINDEX_OK) {
            flat[v.side][nflat[v.side]].lp = v.lp;
            flat[v.side][nflat[v.side]++].qty = v.qty;
        }
    }

    /* --- full ladder: 9 shocks x both sides, on two books of 1,000
     * levels per side spanning about 5% each way: a thin one (the
     * cascade exhausts it at once) and a deep one (cascades run many
     * rounds) --- */
    double med = 0, p99;
    for (int deep = 0; deep < 2; deep++) {
        book_clear(book);
        for (int i = 0; i < NLEVELS; i++) {
            double step = REF * 0.05 / NLEVELS;
            dec_t q = deep ? (dec_t)(2000 + rng() % 18000) * DEC_SCALE  /* 2e3 .. 2e4 */
                           : (dec_t)(1 + rng() % 5000) * 1000000;       /* 0.01 .. 50 */
            book_set_level(book, BOOK_BID, round((REF - 0.5 - i * step) * 10) / 10, q);
            book_set_level(book, BOOK_ASK, round((REF + 0.5 + i * step) * 10) / 10, q);
        }
        for (int i = 0; i < LADDERS; i++) {
            t0 = now_ns();
            cascade_ladder(book, ix, REF, dirs, 2, shocks, NSHOCKS, rows);
            t1 = now_ns();
            lat[i] = (t1 - t0) / 1e3;
            sink += rows[0].final_price;
        }
        qsort(lat, LADDERS, sizeof(double), cmp_double);
        unsigned maxrounds = 0, sumrounds = 0;
        for (int i = 0; i < 2 * NSHOCKS; i++) {
            sumrounds += rows[i].rounds;
            if (rows[i].rounds > maxrounds)
                maxrounds = rows[i].rounds;
        }
        printf("ladder, %s book  median %7.2f us  p99 %7.2f us  (target median <= 20 us; "
               "1e6 positions/side, %d levels, %u rounds in all, max %u)\n",
               deep ? "deep" : "thin", lat[LADDERS / 2], lat[LADDERS * 99 / 100],
               NLEVELS, sumrounds, maxrounds);
        if (deep) {
            med = lat[LADDERS / 2];
            p99 = lat[LADDERS * 99 / 100];
        }
    }
    (void)p99;

    /* --- the same ladder by full rescan --- */
    int nres = 3;
    double best = 1e300;
    for (int it = 0; it < nres; it++) {
        t0 = now_ns();
        for (int d = 0; d < 2; d++) {
            for (int s = 0; s < NSHOCKS; s++) {
                dec_t v;
                double p;
                rescan_run(flat[d], nflat[d], taken, book, dirs[d], shocks[s],
                           &v, &p);
                /* Same contract, same answer: check it while we are here. */
                if (v != rows[d * NSHOCKS + s].liquidated_qty ||
                    p != rows[d * NSHOCKS + s].final_price) {
                    fprintf(stderr, "bench_risk: rescan disagrees with the "
                            "index at %s %g\n", cascade_dir_name(dirs[d]), shocks[s]);
                    return 1;
                }
            }
        }
        t1 = now_ns();
        if ((t1 - t0) / 1e3 < best)
            best = (t1 - t0) / 1e3;
    }
    printf("ladder by rescan   best   %9.0f us   ratio %.0fx to the deep-book ladder   "
           "(target >= 100x)\n", best, best / med);

    if (sink == 42)
        printf("\n");
    pindex_destroy(ix);
    book_destroy(book);
    free(flat[0]);
    free(flat[1]);
    free(taken);
    free(lat);
    return 0;
}
