/*
 * bench_posfile.c - how long reading a positions file takes (posfile.h
 * promises 1e6 rows well under 3 s), then how long loading the rows into
 * a pindex takes on top.
 *
 * Writes a 1e6-row CSV and the same rows as JSON Lines into a fresh
 * directory under $TMPDIR (or /tmp), times posfile_load over each (best
 * of a few runs, so the page cache is warm for all but the first), and
 * removes the files.  Prints figures beside the target; asserts nothing.
 *
 *   build/bench/bench_posfile [ROWS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liqmon/pindex.h"
#include "liqmon/posfile.h"
#include "liqmon/tiers.h"

#define RUNS 3

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Rows like a desk's export: BTC near 90,000, 5x-100x margin, one in ten
 * with an explicit liq_price. */
static int write_files(const char *csv, const char *jsonl, size_t rows)
{
    FILE *c = fopen(csv, "w"), *j = fopen(jsonl, "w");
    uint64_t s = 42;
    int rc = -1;

    if (c == NULL || j == NULL)
        goto out;
    fprintf(c, "id,account,venue,symbol,side,qty,entry,margin,liq_price\n");
    for (size_t i = 0; i < rows; i++) {
        int is_long = rng(&s) & 1;
        unsigned lots = 1 + (unsigned)(rng(&s) % 5000);      /* 0.001 BTC */
        unsigned entry10 = 850000 + (unsigned)(rng(&s) % 100000);
        unsigned lev = 5 + (unsigned)(rng(&s) % 96);
        double notional = lots * 0.001 * entry10 / 10.0;
        char margin[32] = "", lp[32] = "";

        if (rng(&s) % 10 == 0)
            snprintf(lp, sizeof(lp), "%.1f", entry10 / 10.0 *
                     (is_long ? 1 - 0.9 / lev : 1 + 0.9 / lev));
        else
            snprintf(margin, sizeof(margin), "%.2f", notional / lev);
        fprintf(c, "p%zu,acct-%u,binance-usdm,BTCUSDT,%s,%u.%03u,%u.%u,%s,%s\n",
                i, (unsigned)(i % 97), is_long ? "long" : "short",
                lots / 1000, lots % 1000, entry10 / 10, entry10 % 10, margin, lp);
        fprintf(j, "{\"id\":\"p%zu\",\"account\":\"acct-%u\",\"venue\":"
                "\"binance-usdm\",\"symbol\":\"BTCUSDT\",\"side\":\"%s\","
                "\"qty\":%u.%03u,\"entry\":%u.%u,\"%s\":%s}\n",
                i, (unsigned)(i % 97), is_long ? "long" : "short",
                lots / 1000, lots % 1000, entry10 / 10, entry10 % 10,
                lp[0] ? "liq_price" : "margin", lp[0] ? lp : margin);
    }
    rc = 0;
out:
    if (c != NULL && fclose(c) != 0)
        rc = -1;
    if (j != NULL && fclose(j) != 0)
        rc = -1;
    return rc;
}

struct sink {
    pindex_t *ix;         /* NULL: read only */
    dec_t qty;
    size_t bad;
};

static int on_row(const struct posfile_row *row, void *arg)
{
    struct sink *k = arg;

    k->qty += row->spec.qty;
    if (k->ix != NULL && pindex_insert(k->ix, &row->spec, NULL, NULL) != 0)
        k->bad++;
    return 0;
}

static void on_error(const char *msg, void *arg)
{
    struct sink *k = arg;

    if (k->bad++ < 3)
        fprintf(stderr, "bench_posfile: %s\n", msg);
}

/* Best time of RUNS loads; with_index: into a fresh pindex each run. */
static int time_load(const char *path, const char *fmt, size_t rows,
                     const struct tier_table *tt, int with_index)
{
    double best = 1e30;
    struct posfile_stats st;
    lq_err_t err = { "" };

    for (int r = 0; r < RUNS; r++) {
        struct sink k = { NULL, 0, 0 };
        double t0, t1;

        if (with_index && (k.ix = pindex_create(tt)) == NULL) {
            fprintf(stderr, "bench_posfile: out of memory\n");
            return -1;
        }
        t0 = now();
        if (posfile_load(path, on_row, on_error, &k, &st, &err) != 0) {
            fprintf(stderr, "bench_posfile: %s\n", err.msg);
            pindex_destroy(k.ix);
            return -1;
        }
        t1 = now();
        pindex_destroy(k.ix);
        if (st.loaded != rows || k.bad != 0) {
            fprintf(stderr, "bench_posfile: %s: loaded %zu of %zu rows, %zu "
                    "bad\n", path, st.loaded, rows, k.bad);
            return -1;
        }
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("posfile load %-5s %s %7zu rows  %5.2f s  %4.0f ns/row%s\n", fmt,
           with_index ? "+pindex" : "       ", rows, best,
           best * 1e9 / (double)rows,
           with_index ? "  (reading and pindex_insert)" : "  (target <= 3 s)");
    return 0;
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096], csv[4200], jsonl[4200];
    /* A one-tier stand-in: the bench measures loading, not tier search
     * (conf/instruments holds the real tables). */
    struct tier tier = { 0, 1e12, 0.004, 0, 125 };
    struct tier_table tt = { 1, &tier };
    int rc = 1;
    double t0;

    if (rows == 0)
        rows = 1000000;
    snprintf(dir, sizeof(dir), "%s/liqmon-bench-XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("bench_posfile: mkdtemp");
        return 1;
    }
    snprintf(csv, sizeof(csv), "%s/positions.csv", dir);
    snprintf(jsonl, sizeof(jsonl), "%s/positions.jsonl", dir);
    t0 = now();
    if (write_files(csv, jsonl, rows) != 0) {
        perror("bench_posfile: writing the files");
        goto out;
    }
    printf("generated %zu rows in each format in %.2f s (%s)\n", rows,
           now() - t0, dir);
    if (time_load(csv, "csv", rows, &tt, 0) != 0 ||
        time_load(jsonl, "jsonl", rows, &tt, 0) != 0 ||
        time_load(csv, "csv", rows, &tt, 1) != 0 ||
        time_load(jsonl, "jsonl", rows, &tt, 1) != 0)
        goto out;
    rc = 0;
out:
    unlink(csv);
    unlink(jsonl);
    rmdir(dir);
    return rc;
}
