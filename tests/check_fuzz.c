/*
 * check_fuzz.c - venues sending garbage: every adapter fed mutated real
 * frames (bytes flipped, truncated, spans cut or doubled, numbers swapped
 * for huge, negative, non-finite or non-numeric ones, brackets thrown in),
 * interleaved with the good frames they came from.
 *
 * What must hold after every frame, whatever it was: no crash (and, under
 * `make asan`, no memory error), every book's tree invariants, and no book
 * marked valid while crossed.  Rejections are counted, never fatal.
 * Seeded: LIQMON_SEED replays a failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "liqmon/capture.h"
#include "liqmon/config.h"
#include "liqmon/fileio.h"
#include "liqmon/scenario.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"
#include "suites.h"

#define MAXF 4096
#define FRAME_MAX 65536

struct frame {
    enum venue_id venue;
    enum frame_src src;
    char *url;
    char *conn;
    char *data;
    size_t len;
};

static struct frame *frames;
static size_t nframes;

static void add_frame(enum venue_id v, enum frame_src src, const char *url,
                      const char *conn, const char *data, size_t len)
{
    if (nframes == MAXF || len >= FRAME_MAX)
        return;
    struct frame *f = &frames[nframes++];
    f->venue = v;
    f->src = src;
    f->url = url ? strdup(url) : NULL;
    f->conn = conn ? strdup(conn) : NULL;
    f->data = malloc(len + 1);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->len = len;
}

static void load_corpus(void)
{
    static const struct { enum venue_id v; const char *file; } lines[] = {
        { VENUE_BINANCE, "tests/fixtures/venues/binance-usdm/shared.jsonl" },
        { VENUE_BINANCE, "tests/fixtures/venues/binance-usdm/docs.jsonl" },
        { VENUE_BYBIT, "tests/fixtures/venues/bybit-linear/shared.jsonl" },
        { VENUE_BYBIT, "tests/fixtures/venues/bybit-linear/docs.jsonl" },
        { VENUE_BYBIT, "tests/fixtures/venues/bybit-linear/captured.jsonl" },
        { VENUE_OKX, "tests/fixtures/venues/okx-swap/okx-frames.jsonl" },
        { VENUE_HYPERLIQUID, "tests/fixtures/venues/hyperliquid/hl-frames.jsonl" },
    };
    capture_reader_t *r;
    struct capture_frame f;
    lq_err_t err;
    char *line = NULL;
    size_t cap = 0;

    frames = calloc(MAXF, sizeof(*frames));
    ck_assert_ptr_nonnull(frames);
    /* A recording of all four venues: real books that sync. */
    r = capture_open("tests/fixtures/captures/vsim-4venues.jsonl.gz", &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    while (capture_next(r, &f, NULL, NULL, &err) == 1)
        add_frame(f.venue, f.src, f.url, f.conn, f.data, f.len);
    capture_close(r);
    /* Real frames from the venues' docs and public captures, one a line. */
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        FILE *fp = fopen(lines[i].file, "r");
        ssize_t n;
        if (fp == NULL)
            continue;
        while ((n = getline(&line, &cap, fp)) > 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            if (n > 0 && line[0] != '#')
                add_frame(lines[i].v, FRAME_WS, NULL, NULL, line, (size_t)n);
        }
        fclose(fp);
    }
    free(line);
    ck_assert_uint_gt(nframes, 350);
}

static void free_corpus(void)
{
    for (size_t i = 0; i < nframes; i++) {
        free(frames[i].url);
        free(frames[i].conn);
        free(frames[i].data);
    }
    free(frames);
    frames = NULL;
    nframes = 0;
}

/* Apply 1-3 mutations to buf[0..*len) (room for FRAME_MAX). */
static void mutate(struct trng *r, char *buf, size_t *len)
{
    static const char *const nums[] = {
        "1e400", "-5", "0", "99999999999999999999999999", "NaN", "\"x\"",
        "-0.00000000001", "1e-12", "null", "[]", "{}", "\"\"", "\"1e999\"",
        "\"-1\"", "\"0.000000001\"", "18446744073709551616", "true"
    };
    static const char structural[] = "[]{},:\"\\";
    int k = 1 + (int)trng_below(r, 3);

    for (int m = 0; m < k && *len > 0; m++) {
        size_t at = (size_t)trng_below(r, *len);
        switch (trng_below(r, 6)) {
        case 0:                                        /* flip a byte */
            buf[at] = (char)(32 + trng_below(r, 95));
            break;
        case 1:                                        /* truncate */
            *len = at;
            break;
        case 2: {                                      /* cut a span */
            size_t n = 1 + (size_t)trng_below(r, 20);
            if (at + n > *len)
                n = *len - at;
            memmove(buf + at, buf + at + n, *len - at - n);
            *len -= n;
            break;
        }
        case 3: {                                      /* double a span */
            size_t n = 1 + (size_t)trng_below(r, 40);
            if (at + n > *len)
                n = *len - at;
            if (*len + n >= FRAME_MAX)
                break;
            memmove(buf + at + n, buf + at, *len - at);
            *len += n;
            break;
        }
        case 4: {                                      /* swap a number */
            size_t s = at;
            while (s < *len && !(buf[s] >= '0' && buf[s] <= '9'))
                s++;
            if (s == *len)
                break;
            size_t e = s;
            while (e < *len && ((buf[e] >= '0' && buf[e] <= '9') || buf[e] == '.'))
                e++;
            const char *rep = nums[trng_below(r, sizeof(nums) / sizeof(nums[0]))];
            size_t rl = strlen(rep);
            if (*len - (e - s) + rl >= FRAME_MAX)
                break;
            memmove(buf + s + rl, buf + e, *len - e);
            memcpy(buf + s, rep, rl);
            *len = *len - (e - s) + rl;
            break;
        }
        default:                                       /* structure */
            if (*len + 1 >= FRAME_MAX)
                break;
            memmove(buf + at + 1, buf + at, *len - at);
            buf[at] = structural[trng_below(r, sizeof(structural) - 1)];
            (*len)++;
            break;
        }
    }
}

static void check_books(const market_t *m, uint64_t seed, size_t step)
{
    for (size_t i = 0; i < market_count(m); i++) {
        struct mkt_instr *in = market_at(m, i);
        int rc = book_check(in->book);
        ck_assert_msg(rc == 0, "seed %" PRIu64 " step %zu: %s: book_check %d", seed,
                      step, in->key, rc);
        ck_assert_msg(!(in->book_valid && book_is_crossed(in->book)),
                      "seed %" PRIu64 " step %zu: %s valid while crossed", seed,
                      step, in->key);
    }
}

START_TEST(test_adapters_survive_garbage)
{
    struct trng r;
    char *buf = malloc(FRAME_MAX);
    uint64_t fed = 0, rejected = 0;

    log_set_level(LL_ERROR);
    trng_init(&r, "fuzz-adapters");
    load_corpus();
    for (int round = 0; round < 60; round++) {
        market_t *m = market_create();
        venue_t *v[VENUE_COUNT];
        struct venue_io io;
        lq_err_t err;

        ck_assert_int_ge(market_load_dir(m, "conf/instruments", 0, &err), 8);
        memset(&io, 0, sizeof(io));
        ck_assert_int_eq(replay_create_venues(m, &io, v, &err), 0);
        for (size_t i = 0; i < nframes; i++) {
            const struct frame *f = &frames[i];
            venue_t *a = v[f->venue];
            int64_t now = 1700000000000000000LL + (int64_t)(round * nframes + i) * 1000000;
            size_t len = f->len;
            int conn = f->conn ? venue_conn_index(a, f->conn) : -1;

            /* The good frame first, then, often, a mutant of it. */
            venue_on_frame(a, conn, f->src, f->url, f->data, f->len, now);
            fed++;
            if (trng_below(&r, 3) != 0) {
                memcpy(buf, f->data, len);
                mutate(&r, buf, &len);
                venue_on_frame(a, conn, f->src, f->url, buf, len, now + 1);
                fed++;
            }
            if (i % 50 == 0)
                venue_tick(a, now + 2);
            check_books(m, test_seed(), (size_t)round * nframes + i);
        }
        for (int i = 0; i < VENUE_COUNT; i++)
            if (v[i]) {
                const struct venue_stats *st = venue_get_stats(v[i]);
                ck_assert_uint_le(st->rejected, st->frames);
                rejected += st->rejected;
            }
        replay_destroy_venues(v);
        market_destroy(m);
    }
    if (getenv("LIQMON_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: %zu frames in the corpus, %" PRIu64 " fed, %" PRIu64 " rejected\n",
                nframes, fed, rejected);
    /* The mutants were noticed, not silently swallowed. */
    ck_assert_uint_gt(rejected, fed / 10);
    free(buf);
    free_corpus();
    log_set_level(LL_INFO);
}
END_TEST

/* Scenarios: a mutant either parses (then its results are written and
 * are JSON) or is refused with a message; never a crash. */
START_TEST(test_scenarios_survive_garbage)
{
    static const char *const files[] = {
        "tests/fixtures/scenarios/contract-example.json",
        "conf/examples/scenario-btcusdt.json",
    };
    struct trng r;
    char *buf = malloc(FRAME_MAX * 2);
    int parsed = 0, refused = 0;

    trng_init(&r, "fuzz-scenarios");
    for (size_t fi = 0; fi < 2; fi++) {
        char *text;
        size_t len;
        lq_err_t err;
        ck_assert_int_eq(fileio_read_all(files[fi], FRAME_MAX, &text, &len, &err), 0);
        for (int i = 0; i < 1500; i++) {
            struct scenario sc;
            size_t n = len;
            memcpy(buf, text, len);
            mutate(&r, buf, &n);
            err.msg[0] = '\0';
            if (scenario_parse(buf, n, &sc, &err) != 0) {
                ck_assert_msg(err.msg[0] != '\0', "refused without a message");
                refused++;
                continue;
            }
            FILE *out = tmpfile();
            ck_assert_ptr_nonnull(out);
            ck_assert_int_eq(scenario_write_results(&sc, out, i & 1, &err), 0);
            rewind(out);
            json_error_t je;
            json_t *j = json_loadf(out, 0, &je);
            ck_assert_msg(j != NULL, "results are not JSON: %s", je.text);
            ck_assert(json_is_array(json_object_get(j, "results")));
            json_decref(j);
            fclose(out);
            scenario_fini(&sc);
            parsed++;
        }
        free(text);
    }
    ck_assert_int_gt(parsed, 50);
    ck_assert_int_gt(refused, 500);
    free(buf);
}
END_TEST

/* Config files: a mutant loads, or fails naming the file. */
START_TEST(test_config_survives_garbage)
{
    struct trng r;
    char *text, *buf = malloc(FRAME_MAX);
    size_t len;
    lq_err_t err;
    char path[] = "/tmp/liqmon-fuzz-conf-XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    trng_init(&r, "fuzz-config");
    ck_assert_int_eq(fileio_read_all("conf/liqmond.conf", FRAME_MAX, &text, &len, &err), 0);
    for (int i = 0; i < 1500; i++) {
        struct liqmon_config c;
        size_t n = len;
        memcpy(buf, text, len);
        mutate(&r, buf, &n);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
        fclose(f);
        config_default(&c);
        if (config_load(path, &c, &err) != 0)
            ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0,
                          "error does not name the file: %s", err.msg);
    }
    unlink(path);
    free(text);
    free(buf);
}
END_TEST

Suite *fuzz_suite(void)
{
    Suite *s = suite_create("fuzz");
    TCase *tc = tcase_create("adapters");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_adapters_survive_garbage);
    tcase_add_test(tc, test_scenarios_survive_garbage);
    tcase_add_test(tc, test_config_survives_garbage);
    suite_add_tcase(s, tc);
    return s;
}
