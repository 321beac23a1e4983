/*
 * check_fastpath.c - the adapters' fast paths for depth frames
 * (src/venue/vscan.h) against their tokenizer paths, Binance and Bybit
 * here (OKX in check_venue_okx.c, with its checksums), on the frames of
 * bench/mixgen.h: realistic books (1,000 levels a side on Binance, 200 on
 * Bybit, 400 on OKX), diffs of 1-10 levels, each venue's wire format,
 * Binance's REST snapshots; then on broken copies of every frame, and on
 * the venues' own example frames from tests/fixtures.  Two adapters per
 * venue, one with the fast path and one without (venue_fast_paths), must
 * return, count, emit and hold the same after every frame
 * (tests/venue_diff.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/instrument.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"
#include "suites.h"
#include "venue_diff.h"
/* the generator is the benchmark's; not all of it is used here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../bench/mixgen.h"
#pragma GCC diagnostic pop

#define T0 ((int64_t)1790000000 * 1000000000)

static int g_venue;

/* The venue's four symbols of the mix (contracts of 1 on OKX: both
 * adapters of a pair see the same, which is all that matters here). */
static void add_mix(market_t *m)
{
    for (int s = 0; s < MIX_NSYM; s++) {
        const struct mix_spec *sp = &mix_specs[g_venue][s];
        struct instrument spec;
        lq_err_t err;
        memset(&spec, 0, sizeof(spec));
        snprintf(spec.venue, sizeof(spec.venue), "%s", venue_name((enum venue_id)g_venue));
        snprintf(spec.symbol, sizeof(spec.symbol), "%s", sp->sym);
        spec.tick_size = 1e-8;
        spec.lot_step = 1;
        spec.contract_value = g_venue == VENUE_OKX ? DEC_SCALE : 0;
        ck_assert_msg(market_add(m, (enum venue_id)g_venue, &spec, &err) != NULL, "%s", err.msg);
    }
}

static void url_of(const struct mix_frame *f, char *url, size_t size)
{
    snprintf(url, size, "/fapi/v1/depth?symbol=%s&limit=1000", mix_specs[f->venue][f->sym].sym);
}

/* A fixture file's lines through both adapters, each after its broken
 * copies; returns the frames fed. */
static int fixture(struct dside *a, struct dside *b, const char *path,
                   const struct d_changes *ch, uint64_t *rs, int step)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0)
            d_broken(a, b, line, (size_t)n, ch, rs, T0 + step, &step);
    }
    free(line);
    fclose(f);
    return step;
}

/* The mix of one venue: every frame as it is (the books must end as the
 * model says and stay valid), then every third frame after its broken
 * copies (and, on Binance, each diff also as a raw payload, the inner
 * object alone, before it). */
static void run_venue(int venue, const struct d_changes *ch, const char *const *fixtures)
{
    struct mix *m = mix_create(7, 2400, 1u << venue, 0);
    struct dside a, b;
    uint64_t rs = 0x2545F4914F6CDD1DULL;
    int step = 0;
    char url[128];

    ck_assert_ptr_nonnull(m);
    g_venue = venue;
    d_open(&a, (enum venue_id)venue, add_mix, 0);
    d_open(&b, (enum venue_id)venue, add_mix, 1);
    for (size_t k = 0; k < m->nfr; k++, step++) {
        const struct mix_frame *f = &m->fr[k];
        if (f->src == FRAME_REST)
            url_of(f, url, sizeof(url));
        d_feed(&a, &b, f->src == FRAME_REST ? url : NULL, mix_text(m, f), f->len, f->ts, step);
    }
    ck_assert_msg(mix_check(m, b.m, 1u << venue) == 0, "the books differ from the model");
    for (size_t i = 0; i < market_count(b.m); i++)
        ck_assert_msg(market_at(b.m, i)->book_valid, "%s: %s", market_at(b.m, i)->spec.symbol,
                      market_at(b.m, i)->invalid_reason);
    for (size_t k = 0; k < m->nfr; k += 3) {
        const struct mix_frame *f = &m->fr[k];
        const char *t = mix_text(m, f);
        if (f->src == FRAME_REST) {
            url_of(f, url, sizeof(url));
            d_feed(&a, &b, url, t, f->len, f->ts, step++);
            continue;
        }
        const char *in = venue == VENUE_BINANCE ? d_find(t, f->len, ",\"data\":") : NULL;
        if (in != NULL) {
            in += 8;
            d_feed(&a, &b, NULL, in, (size_t)(t + f->len - 1 - in), f->ts, step++);
        }
        d_broken(&a, &b, t, f->len, ch, &rs, f->ts, &step);
    }
    for (int i = 0; fixtures[i] != NULL; i++)
        step = fixture(&a, &b, fixtures[i], ch, &rs, step);
    ck_assert_int_gt(step, 5000);
    d_close(&a);
    d_close(&b);
    mix_destroy(m);
}

START_TEST(binance_fast_same_as_tokenizer)
{
    /* a byte after the end, a space before, keys it does not know or sees
     * twice, another event type; an id it must not take, an event time
     * the tokenizer's way reads as 0; the symbol, an id, the time gone */
    static const char *const sub[][2] = {
        { "]]}}", "]]}}}" }, { "]]}}", "]]}} " }, { "{\"stream\"", " {\"stream\"" },
        { "\"pu\"", "\"pv\"" }, { "\"b\":", "\"a\":" }, { "\"T\":", "\"E\":" },
        { "\"depthUpdate\"", "\"depthUpdat\"" }, { "\"s\":", "\"S\":" },
        { "\"data\":{", "\"data\":{\"s\":\"ETHUSDT\"," }, { "\"pu\":", "\"u\":5,\"pu\":" },
    };
    static const char *const val[][2] = {
        { "\"U\":", "1e3" }, { "\"u\":", "\"12\"" }, { "\"E\":", "\"x\"" }, { "\"pu\":", "-1" },
        { "\"s\":", "\"DOGEUSDT\"" },
    };
    static const char *const drop[] = { "\"s\":", "\"pu\":", "\"E\":", "\"T\":" };
    static const struct d_changes ch = { sub, sizeof(sub) / sizeof(sub[0]),
                                         val, sizeof(val) / sizeof(val[0]),
                                         drop, sizeof(drop) / sizeof(drop[0]) };
    static const char *const fix[] = { "tests/fixtures/venues/binance-usdm/docs.jsonl", NULL };

    run_venue(VENUE_BINANCE, &ch, fix);
}
END_TEST

START_TEST(bybit_fast_same_as_tokenizer)
{
    /* a byte after the end, a space before, keys it does not know or sees
     * twice, a snapshot for a delta, depths not subscribed; a u of 1 (a
     * restart), ids and times it must not take; the symbol, seq gone */
    static const char *const sub[][2] = {
        { "}", "} " }, { "{\"topic\"", " {\"topic\"" }, { "\"seq\"", "\"seq2\"" },
        { "\"b\":", "\"a\":" }, { "\"u\":", "\"s\":1,\"u\":" },
        { "\"type\":\"delta\"", "\"type\":\"snapshot\"" }, { "orderbook.200.", "orderbook.50." },
        { "orderbook.200.", "orderbook.2000." }, { "\"type\":\"", "\"type\":\"x" },
        { "\"topic\":\"orderbook.", "\"topic\":\"tickers." }, { "\"seq\":", "\"u\":5,\"seq\":" },
    };
    static const char *const val[][2] = {
        { "\"u\":", "1" }, { "\"u\":", "\"5\"" }, { "\"u\":", "1.5" }, { "\"ts\":", "\"x\"" },
        { "\"ts\":", "-7" }, { "\"seq\":", "[]" },
    };
    static const char *const drop[] = { "\"s\":", "\"seq\":", "\"ts\":", "\"type\":" };
    static const struct d_changes ch = { sub, sizeof(sub) / sizeof(sub[0]),
                                         val, sizeof(val) / sizeof(val[0]),
                                         drop, sizeof(drop) / sizeof(drop[0]) };
    static const char *const fix[] = { "tests/fixtures/venues/bybit-linear/docs.jsonl",
                                       "tests/fixtures/venues/bybit-linear/captured.jsonl", NULL };

    run_venue(VENUE_BYBIT, &ch, fix);
}
END_TEST

START_TEST(okx_mix_fast_same_as_tokenizer)
{
    static const char *const sub[][2] = {
        { "}]}", "}]}}" }, { "\"bids\"", "\"asks\"" }, { "\"0\",\"", "{},\"" },
    };
    static const char *const drop[] = { "\"prevSeqId\":", "\"ts\":" };
    static const struct d_changes ch = { sub, sizeof(sub) / sizeof(sub[0]), NULL, 0,
                                         drop, sizeof(drop) / sizeof(drop[0]) };
    static const char *const fix[] = { NULL };

    run_venue(VENUE_OKX, &ch, fix);
}
END_TEST

Suite *fastpath_suite(void)
{
    Suite *s = suite_create("fastpath");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, binance_fast_same_as_tokenizer);
    tcase_add_test(tc, bybit_fast_same_as_tokenizer);
    tcase_add_test(tc, okx_mix_fast_same_as_tokenizer);
    suite_add_tcase(s, tc);
    return s;
}
