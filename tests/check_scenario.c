/*
 * check_scenario.c - scenario files (scenario.h, cascade-model.md
 * "Scenario files"): the contract's example scenario parses and produces
 * one row per (side, shock), sides outer, equal to cascade_run's; bad
 * scenarios are refused with a message naming the place.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "liqmon/cascade.h"
#include "liqmon/scenario.h"
#include "suites.h"

static const char *EXAMPLE =
    "{\"ref\": 100.0,\n"
    " \"book\": {\"bids\": [[99, 5], [98, 5]], \"asks\": [[101, 5]]},\n"
    " \"tiers\": [{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": 0.004, "
    "\"maint_amount\": 0}],\n"
    " \"positions\": [{\"id\": \"A\", \"side\": \"long\", \"qty\": 4, \"entry\": 105, "
    "\"margin\": 50},\n"
    "               {\"id\": \"B\", \"side\": \"short\", \"qty\": 1, \"liq_price\": 104.2}],\n"
    " \"shocks\": [0, 0.01, 0.02],\n"
    " \"sides\": [\"down\", \"up\"]}\n";

/* The same with an entry for B.  The contract lists entry among a
 * position's fields but its example leaves it out where liq_price is
 * given; the error cases below start from this one so that they test only
 * the fault each one introduces. */
static const char *EXAMPLE_FULL =
    "{\"ref\": 100.0,\n"
    " \"book\": {\"bids\": [[99, 5], [98, 5]], \"asks\": [[101, 5]]},\n"
    " \"tiers\": [{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": 0.004, "
    "\"maint_amount\": 0}],\n"
    " \"positions\": [{\"id\": \"A\", \"side\": \"long\", \"qty\": 4, \"entry\": 105, "
    "\"margin\": 50},\n"
    "               {\"id\": \"B\", \"side\": \"short\", \"qty\": 1, \"entry\": 103, "
    "\"liq_price\": 104.2}],\n"
    " \"shocks\": [0, 0.01, 0.02],\n"
    " \"sides\": [\"down\", \"up\"]}\n";

static json_t *run_to_json(const struct scenario *sc, int with_trace)
{
    char *buf = NULL;
    size_t len = 0;
    lq_err_t err;
    FILE *f = open_memstream(&buf, &len);
    json_error_t jerr;

    ck_assert_ptr_nonnull(f);
    int rc = scenario_write_results(sc, f, with_trace, &err);
    fclose(f);
    ck_assert_msg(rc == 0, "scenario_write_results = %d: %s", rc, err.msg);
    ck_assert_msg(len > 0 && buf[len - 1] == '\n', "output does not end in a newline");
    json_t *root = json_loadb(buf, len, 0, &jerr);
    ck_assert_msg(root != NULL, "output is not JSON (%s): %s", jerr.text, buf);
    free(buf);
    return root;
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_number(v), "field %s missing or not a number", k);
    return json_number_value(v);
}

static void check_example(const char *text)
{
    struct scenario sc;
    lq_err_t err;

    memset(&sc, 0, sizeof(sc));
    int rc = scenario_parse(text, strlen(text), &sc, &err);
    ck_assert_msg(rc == 0, "scenario_parse = %d: %s", rc, err.msg);
    ck_assert(sc.ref == 100);
    ck_assert_uint_eq(sc.nshocks, 3);
    ck_assert_uint_eq(sc.nsides, 2);
    ck_assert_int_eq(sc.sides[0], CASCADE_DOWN);
    ck_assert_int_eq(sc.sides[1], CASCADE_UP);
    ck_assert(sc.shocks[2] == 0.02);
    ck_assert_uint_eq(book_level_count(sc.book, BOOK_BID), 2);
    ck_assert_uint_eq(book_level_count(sc.book, BOOK_ASK), 1);
    ck_assert_uint_eq(pindex_count(sc.ix, POS_LONG), 1);
    ck_assert_uint_eq(pindex_count(sc.ix, POS_SHORT), 1);
    ck_assert_uint_eq(sc.tiers.n, 1);

    json_t *root = run_to_json(&sc, 0);
    json_t *results = json_object_get(root, "results");
    ck_assert_msg(json_is_array(results), "no results array");
    ck_assert_uint_eq(json_array_size(results), 6);
    for (size_t si = 0; si < 2; si++)
        for (size_t k = 0; k < 3; k++) {
            json_t *row = json_array_get(results, si * 3 + k);
            struct cascade_row w;
            ck_assert_int_eq(cascade_run(sc.book, sc.ix, 100, sc.sides[si],
                                         sc.shocks[k], &w, NULL), CASCADE_OK);
            ck_assert_str_eq(json_string_value(json_object_get(row, "side")),
                             si ? "up" : "down");
            ck_assert(num(row, "shock") == sc.shocks[k]);
            ck_assert(tclose(num(row, "start_price"), w.start_price, 1e-12));
            ck_assert(num(row, "rounds") == w.rounds);
            ck_assert(num(row, "liquidated") == (double)w.liquidated);
            ck_assert(tclose(num(row, "liquidated_qty"), dec_to_double(w.liquidated_qty),
                             1e-12));
            ck_assert(tclose(num(row, "liquidated_notional"), w.liquidated_notional,
                             1e-12));
            ck_assert(tclose(num(row, "final_price"), w.final_price, 1e-12));
            ck_assert(tclose(num(row, "move_pct"), w.move_pct, 1e-12));
            json_t *amp = json_object_get(row, "amplification");
            ck_assert_ptr_nonnull(amp);
            if (w.has_amplification)
                ck_assert(tclose(json_number_value(amp), w.amplification, 1e-12));
            else
                ck_assert_msg(json_is_null(amp), "amplification not null at s=0");
            ck_assert(json_is_boolean(json_object_get(row, "exhausted")));
            ck_assert_int_eq(json_is_true(json_object_get(row, "exhausted")),
                             !!w.exhausted);
            ck_assert(tclose(num(row, "unfilled_qty"), dec_to_double(w.unfilled_qty),
                             1e-12));
            json_t *vwap = json_object_get(row, "vwap");
            ck_assert_ptr_nonnull(vwap);
            if (w.has_vwap)
                ck_assert(tclose(json_number_value(vwap), w.vwap, 1e-12));
            else
                ck_assert_msg(json_is_null(vwap), "vwap not null when nothing filled");
        }
    /* s = 0.02 down: p0 98, A's LP (420 - 50) / (4 * 0.996) = 92.87 is not
     * reached; up: p0 102, B (104.2) not reached either */
    json_t *r2 = json_array_get(results, 2);
    ck_assert(num(r2, "rounds") == 0);
    ck_assert(num(r2, "final_price") == 98);

    json_t *pos = json_object_get(root, "positions");
    ck_assert_msg(json_is_array(pos) && json_array_size(pos) == 2, "positions");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pos, 0), "id")), "A");
    ck_assert(tclose(num(json_array_get(pos, 0), "liq_price"),
                     (4.0 * 105 - 50 - 0) / (4.0 * (1 - 0.004)), 1e-12));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pos, 1), "id")), "B");
    ck_assert(num(json_array_get(pos, 1), "liq_price") == 104.2);
    json_decref(root);

    root = run_to_json(&sc, 1);
    ck_assert_msg(json_object_get(root, "traces") != NULL, "no traces with with_trace");
    json_decref(root);
    scenario_fini(&sc);
    scenario_fini(&sc);
}

/* The contract's example scenario, verbatim. */
START_TEST(example_runs)
{
    check_example(EXAMPLE);
}
END_TEST

START_TEST(example_with_entries_runs)
{
    check_example(EXAMPLE_FULL);
}
END_TEST

/* sides default to both; tiers may be left out when every position gives
 * liq_price. */
START_TEST(defaults)
{
    static const char *text =
        "{\"ref\": 100, \"book\": {\"bids\": [[99, 5]], \"asks\": [[101, 5]]},"
        " \"positions\": [{\"id\": \"B\", \"side\": \"short\", \"qty\": 0.1,"
        " \"entry\": 100, \"liq_price\": 101}], \"shocks\": [0.01]}";
    struct scenario sc;
    lq_err_t err;

    memset(&sc, 0, sizeof(sc));
    int rc = scenario_parse(text, strlen(text), &sc, &err);
    ck_assert_msg(rc == 0, "scenario_parse = %d: %s", rc, err.msg);
    ck_assert_uint_eq(sc.nsides, 2);
    ck_assert_int_eq(sc.sides[0], CASCADE_DOWN);
    ck_assert_int_eq(sc.sides[1], CASCADE_UP);
    ck_assert_uint_eq(sc.tiers.n, 0);
    json_t *root = run_to_json(&sc, 0);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "results")), 2);
    json_t *up = json_array_get(json_object_get(root, "results"), 1);
    ck_assert(num(up, "rounds") == 1);
    ck_assert(num(up, "liquidated_qty") == 0.1);
    json_decref(root);
    scenario_fini(&sc);
}
END_TEST

/* Replace the first occurrence of `from` in the example with `to`. */
static char *variant(const char *from, const char *to)
{
    const char *at = strstr(EXAMPLE_FULL, from);
    ck_assert_msg(at != NULL, "test bug: '%s' not in the example", from);
    size_t n = strlen(EXAMPLE_FULL) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    memcpy(s, EXAMPLE_FULL, (size_t)(at - EXAMPLE_FULL));
    strcpy(s + (at - EXAMPLE_FULL), to);
    strcat(s, at + strlen(from));
    return s;
}

static void expect_bad2(const char *from, const char *to, const char *where,
                        const char *field)
{
    char *text = variant(from, to);
    struct scenario sc;
    lq_err_t err;

    memset(&sc, 0, sizeof(sc));
    err.msg[0] = '\0';
    int rc = scenario_parse(text, strlen(text), &sc, &err);
    ck_assert_msg(rc != 0, "accepted a scenario with %s -> %s", from, to);
    ck_assert_msg(strstr(err.msg, where) != NULL,
                  "%s -> %s: message \"%s\" does not name \"%s\"", from, to, err.msg,
                  where);
    if (field != NULL)
        ck_assert_msg(strstr(err.msg + (strstr(err.msg, where) - err.msg), field) != NULL,
                      "%s -> %s: message \"%s\" does not name the field %s", from,
                      to, err.msg, field);
    scenario_fini(&sc);
    free(text);
}

static void expect_bad(const char *from, const char *to, const char *where)
{
    expect_bad2(from, to, where, NULL);
}

START_TEST(bad_scenarios)
{
    expect_bad("\"ref\": 100.0", "\"ref\": 0", "ref");
    expect_bad("\"ref\": 100.0", "\"ref\": -5", "ref");
    expect_bad("\"ref\": 100.0", "\"ref\": \"abc\"", "ref");
    expect_bad("\"ref\": 100.0", "\"ref\": true", "ref");
    expect_bad("\"ref\": 100.0,", "", "ref");
    expect_bad("\"qty\": 4", "\"qty\": 0", "positions[0].qty");
    expect_bad("\"qty\": 1", "\"qty\": -1", "positions[1].qty");
    expect_bad("\"qty\": 4", "\"qty\": 0.000000001", "positions[0].qty");
    expect_bad("\"qty\": 4", "\"qty\": 1e30", "positions[0].qty");
    expect_bad("\"entry\": 105", "\"entry\": 0", "positions[0].entry");
    expect_bad("\"entry\": 103", "\"entry\": -1", "positions[1].entry");
    expect_bad("\"margin\": 50", "\"margin\": -50", "positions[0].margin");
    expect_bad("\"liq_price\": 104.2", "\"liq_price\": 0", "positions[1].liq_price");
    expect_bad("\"side\": \"short\"", "\"side\": \"buy\"", "positions[1].side");
    /* a duplicate id: the message names positions[1] and then id (as
     * "positions[1].id: ..." or "positions[1]: id: ...") */
    expect_bad2("\"id\": \"B\"", "\"id\": \"A\"", "positions[1]", "id");
    expect_bad("\"id\": \"B\"", "\"id\": \"\"", "positions[1].id");
    expect_bad("[0, 0.01, 0.02]", "[0, 0.01, 1]", "shocks[2]");
    expect_bad("[0, 0.01, 0.02]", "[-0.01]", "shocks[0]");
    expect_bad("[\"down\", \"up\"]", "[\"down\", \"sideways\"]", "sides[1]");
    expect_bad("[[99, 5], [98, 5]]", "[[98, 5], [99, 5]]", "bids[1]");
    expect_bad("[[99, 5], [98, 5]]", "[[99, 5], [99, 5]]", "bids[1]");
    expect_bad("[[99, 5], [98, 5]]", "[[99, 5], [-98, 5]]", "bids[1]");
    expect_bad("[[101, 5]]", "[[101, -5]]", "asks[0]");
    expect_bad("\"mmr\": 0.004", "\"mmr\": 1.5", "tiers[0].mmr");
    expect_bad("\"margin\": 50},", "\"margin\": 50, \"liq_price\": 90},", "positions[0]");
    /* margin with no tier table */
    expect_bad("\"tiers\": [{\"notional_floor\": 0, \"notional_cap\": 50000, "
               "\"mmr\": 0.004, \"maint_amount\": 0}],", "", "positions[0]");
    /* JSON syntax: line and column */
    expect_bad("\"shocks\": [0,", "\"shocks\": [0,,", "line 6");
    expect_bad("{\"ref\"", "[\"ref\"", "line");
}
END_TEST

/* Messages are one line without raw control bytes (found by fuzzing):
 * jansson's error text quotes input bytes raw ("invalid escape near
 * '"\<LF>'"), and values decoded from JSON escapes ("b\nuy") can hold
 * control bytes too; liqmonctl sim printed them as they were. */
static void assert_one_line(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p != 0x7f,
                      "raw byte 0x%02x at %zu in message \"%s\"", *p,
                      (size_t)((const char *)p - msg), msg);
}

static void expect_one_line(const char *from, const char *to, const char *where,
                            const char *shown)
{
    char *text = variant(from, to);
    struct scenario sc;
    lq_err_t err;

    memset(&sc, 0, sizeof(sc));
    err.msg[0] = '\0';
    ck_assert_msg(scenario_parse(text, strlen(text), &sc, &err) != 0,
                  "accepted a scenario with %s -> %s", from, to);
    assert_one_line(err.msg);
    ck_assert_msg(strstr(err.msg, where) != NULL, "message \"%s\" does not name \"%s\"",
                  err.msg, where);
    ck_assert_msg(strstr(err.msg, shown) != NULL, "message \"%s\" does not show \"%s\"",
                  err.msg, shown);
    scenario_fini(&sc);
    free(text);
}

START_TEST(messages_one_line)
{
    /* jansson: a raw newline right after a backslash, at the error point */
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\\nshort\"", "line 6",
                    "invalid escape near '\"\\\\n'");
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\\rshort\"", "line 5", "\\r");
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\\tshort\"", "line 5", "\\t");
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\\x1bshort\"", "line 5", "\\x1b");
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\\x7fshort\"", "line 5", "\\x7f");
    expect_one_line("\"ref\": 100.0", "\"ref\": 100.0\x01", "line 1", "\\x01");
    /* scenario.c's own messages quoting a decoded value */
    expect_one_line("\"side\": \"short\"", "\"side\": \"b\\nuy\\u0007\"",
                    "positions[1].side", "'b\\nuy\\x07'");
    expect_one_line("[\"down\", \"up\"]", "[\"down\", \"u\\r\\np\"]", "sides[1]",
                    "'u\\r\\np'");
    /* valid UTF-8 stays as it is; C1 controls and broken UTF-8 do not */
    expect_one_line("\"side\": \"short\"", "\"side\": \"\xc3\xa9t\xc3\xa9\"",
                    "positions[1].side", "'\xc3\xa9t\xc3\xa9'");
    expect_one_line("\"side\": \"short\"", "\"side\": \"\\u0085\\u2028x\"",
                    "positions[1].side", "'\\xc2\\x85\\xe2\\x80\\xa8x'");
}
END_TEST

/* The shared sanitiser and the lq_err functions that apply it. */
START_TEST(err_sanitize)
{
    lq_err_t err;
    char buf[16];

    lq_err_set(&err, "a%sb", "\n\t\r\x01\x7f\\");
    ck_assert_str_eq(err.msg, "a\\n\\t\\r\\x01\\x7f\\b");
    lq_err_prefix(&err, "p\n%d", 1);
    ck_assert_str_eq(err.msg, "p\\n1: a\\n\\t\\r\\x01\\x7f\\b");
    /* idempotent: already clean text is left alone */
    lq_err_prefix(&err, "q");
    ck_assert_str_eq(err.msg, "q: p\\n1: a\\n\\t\\r\\x01\\x7f\\b");
    /* UTF-8: kept when valid and printable; escaped byte by byte when not */
    lq_err_set(&err, "%s", "\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x98\x80|\xff|\xc3|\xed\xa0\x80|\xc2\x9f|\xe2\x80\xa9");
    ck_assert_str_eq(err.msg, "\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x98\x80|\\xff|\\xc3|"
                              "\\xed\\xa0\\x80|\\xc2\\x9f|\\xe2\\x80\\xa9");
    /* a full buffer: truncated between escapes, never inside one */
    strcpy(buf, "abcdefghij\n");
    ck_assert_uint_eq(lq_err_sanitize(buf, sizeof(buf)), 12);
    ck_assert_str_eq(buf, "abcdefghij\\n");
    strcpy(buf, "abcdefghijkl\n");
    ck_assert_uint_eq(lq_err_sanitize(buf, sizeof(buf)), 14);
    ck_assert_str_eq(buf, "abcdefghijkl\\n");
    strcpy(buf, "abcdefghijklmn\n");
    ck_assert_uint_eq(lq_err_sanitize(buf, sizeof(buf)), 14);
    ck_assert_str_eq(buf, "abcdefghijklmn");
    strcpy(buf, "abcdefghijk\x01");
    ck_assert_uint_eq(lq_err_sanitize(buf, sizeof(buf)), 15);
    ck_assert_str_eq(buf, "abcdefghijk\\x01");
    strcpy(buf, "abcdefghijkl\x01");
    ck_assert_uint_eq(lq_err_sanitize(buf, sizeof(buf)), 12);
    ck_assert_str_eq(buf, "abcdefghijkl");
    /* a long message of control bytes fills lq_err_t and stays terminated */
    {
        char raw[600];
        memset(raw, '\x01', sizeof(raw) - 1);
        raw[sizeof(raw) - 1] = '\0';
        lq_err_set(&err, "%s", raw);
        ck_assert_uint_eq(strlen(err.msg), 508);
        assert_one_line(err.msg);
        lq_err_prefix(&err, "x\ty");
        ck_assert_uint_le(strlen(err.msg), sizeof(err.msg) - 1);
        assert_one_line(err.msg);
        ck_assert_int_eq(strncmp(err.msg, "x\\ty: \\x01", 10), 0);
    }
    /* NULL is allowed, as everywhere */
    ck_assert_int_eq(lq_err_set(NULL, "x"), -1);
    lq_err_prefix(NULL, "x");
}
END_TEST

Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, example_runs);
    tcase_add_test(tc, example_with_entries_runs);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, bad_scenarios);
    tcase_add_test(tc, messages_one_line);
    tcase_add_test(tc, err_sanitize);
    suite_add_tcase(s, tc);
    return s;
}
