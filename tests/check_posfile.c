/*
 * check_posfile.c - positions files (posfile.h) and instrument files
 * (instrument.h).
 *
 * Core: both formats give the same rows; quantities are exact decimals
 * (0.1 three times is 0.3; 1e12-scale quantities with 15 digits; JSON
 * integers past int64); CRLF, a BOM, no final newline; RFC 4180 quoting
 * (quoted header and fields, embedded commas, "" escapes, and what is not
 * quoting); files with no positions (posfile_empty); every
 * kind of bad row with its exact message (file, line, column); lines
 * longer than POSFILE_LINE_MAX; lines across read-buffer boundaries.
 * JSON: escapes, nesting, and a seeded fuzz that holds the fast scanner to
 * jansson's verdict on every mutated line.
 * Instruments: every conf/instruments/ file loads; bad files say what and
 * where.
 *
 * Files are written into a fresh directory per test (checked fixture).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "liqmon/instrument.h"
#include "liqmon/posfile.h"
#include "suites.h"

/* ---- a scratch directory per test ----------------------------------------- */

static char tmpdir[4096];

static void tmp_setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/liqmon-posfile-XXXXXX",
             t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s failed", tmpdir);
}

static void tmp_teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[8192];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* Write n bytes to tmpdir/name; returns the path (static buffer). */
static const char *put_file(const char *name, const char *data, size_t n)
{
    static char path[8192];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fwrite(data, 1, n, f) == n);
    ck_assert(fclose(f) == 0);
    return path;
}

static const char *put_str(const char *name, const char *s)
{
    return put_file(name, s, strlen(s));
}

/* ---- collecting what a load reports ----------------------------------------- */

#define MAXKEEP 256

struct row_copy {
    size_t line;
    char id[80], account[80], venue[40], symbol[56];
    struct pos_spec spec;
};

struct got {
    struct row_copy r[MAXKEEP];
    size_t nrows;           /* rows seen (kept: the first MAXKEEP) */
    char *err[MAXKEEP];
    size_t nerr;
    dec_t sum;              /* of every row's qty */
    size_t stop_at;         /* on_row returns 5 at this row (0: never) */
    struct posfile_stats st;
    lq_err_t e;
    char path[8192];
};

static struct got *G;

static int keep_row(const struct posfile_row *row, void *arg)
{
    struct got *g = arg;

    if (g->nrows < MAXKEEP) {
        struct row_copy *c = &g->r[g->nrows];
        c->line = row->line;
        snprintf(c->id, sizeof(c->id), "%s", row->id);
        snprintf(c->account, sizeof(c->account), "%s", row->account);
        snprintf(c->venue, sizeof(c->venue), "%s", row->venue);
        snprintf(c->symbol, sizeof(c->symbol), "%s", row->symbol);
        c->spec = row->spec;
        ck_assert_ptr_eq(row->spec.id, row->id);
        ck_assert_ptr_eq(row->spec.account, row->account);
    }
    g->sum += row->spec.qty;
    g->nrows++;
    if (g->stop_at && g->nrows == g->stop_at)
        return 5;
    return 0;
}

static void keep_err(const char *msg, void *arg)
{
    struct got *g = arg;

    if (g->nerr < MAXKEEP)
        g->err[g->nerr] = strdup(msg);
    g->nerr++;
}

static void got_setup(void)
{
    tmp_setup();
    G = calloc(1, sizeof(*G));
    ck_assert(G != NULL);
}

static void got_teardown(void)
{
    if (G != NULL) {
        for (size_t i = 0; i < G->nerr && i < MAXKEEP; i++)
            free(G->err[i]);
        free(G);
        G = NULL;
    }
    tmp_teardown();
}

/* Reset G and load a file. */
static int load_path(const char *path)
{
    for (size_t i = 0; i < G->nerr && i < MAXKEEP; i++)
        free(G->err[i]);
    size_t stop = G->stop_at;
    memset(G, 0, sizeof(*G));
    G->stop_at = stop;
    snprintf(G->path, sizeof(G->path), "%s", path);
    return posfile_load(path, keep_row, keep_err, G, &G->st, &G->e);
}

static int load_str(const char *name, const char *content)
{
    return load_path(put_str(name, content));
}

/* Error i is "<path><suffix>" exactly; or, when suffix ends in '*',
 * starts with it. */
static void err_is(size_t i, const char *suffix)
{
    char want[9000];
    size_t n;

    ck_assert_msg(i < G->nerr, "error %zu of %zu expected: %s", i, G->nerr,
                  suffix);
    snprintf(want, sizeof(want), "%s%s", G->path, suffix);
    n = strlen(want);
    if (n > 0 && want[n - 1] == '*')
        ck_assert_msg(strncmp(G->err[i], want, n - 1) == 0,
                      "error %zu: got '%s', want prefix '%.*s'", i, G->err[i],
                      (int)(n - 1), want);
    else
        ck_assert_msg(strcmp(G->err[i], want) == 0,
                      "error %zu: got '%s', want '%s'", i, G->err[i], want);
}

static dec_t D(const char *s)
{
    dec_t v;

    ck_assert_msg(dec_parse(s, strlen(s), &v) == DEC_OK, "bad test value %s", s);
    return v;
}

#define ck_dec_eq(got, want)                                                   \
    do {                                                                       \
        char b1_[64], b2_[64];                                                 \
        dec_t g_ = (got), w_ = (want);                                         \
        ck_assert_msg(g_ == w_, "%s = %s, want %s", #got, tdec_str(g_, b1_),   \
                      tdec_str(w_, b2_));                                      \
    } while (0)

/* ---- Core ----------------------------------------------------------------- */

static const char *good_csv =
    "# a comment before the header\n"
    "symbol,venue,id,side,qty,entry,liq_price,margin,note,account\n"
    "BTCUSDT,binance-usdm,a1,long,0.1,90000,,900,x,acct-a\n"
    "\n"
    "BTCUSDT,binance-usdm,a2,short, 0.25 ,91000.5,92500,,,\n"
    "   # an indented comment\n"
    "ETHUSDT,binance-usdm,a3,long,1e-3,3000.25,,3.5,,acct-c\n";

static const char *good_jsonl =
    "{\"symbol\":\"BTCUSDT\",\"venue\":\"binance-usdm\",\"id\":\"a1\","
    "\"side\":\"long\",\"qty\":0.1,\"entry\":90000,\"margin\":900,"
    "\"note\":\"x\",\"account\":\"acct-a\"}\n"
    "\n"
    "{ \"id\" : \"a2\" , \"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\","
    "\"side\":\"short\",\"qty\":\"0.25\",\"entry\":\"91000.5\","
    "\"liq_price\":92500, \"margin\": null}\n"
    "\t{\"id\":\"a3\",\"venue\":\"binance-usdm\",\"symbol\":\"ETHUSDT\","
    "\"side\":\"long\",\"qty\":1e-3,\"entry\":3000.25,\"margin\":3.5,"
    "\"account\":\"acct-c\"}  \n";

static void check_good_rows(size_t l1, size_t l2, size_t l3)
{
    ck_assert_uint_eq(G->nrows, 3);
    ck_assert_uint_eq(G->nerr, 0);
    ck_assert_uint_eq(G->st.rows, 3);
    ck_assert_uint_eq(G->st.loaded, 3);
    ck_assert_uint_eq(G->st.rejected, 0);

    ck_assert_uint_eq(G->r[0].line, l1);
    ck_assert_str_eq(G->r[0].id, "a1");
    ck_assert_str_eq(G->r[0].account, "acct-a");
    ck_assert_str_eq(G->r[0].venue, "binance-usdm");
    ck_assert_str_eq(G->r[0].symbol, "BTCUSDT");
    ck_assert_int_eq(G->r[0].spec.side, POS_LONG);
    ck_dec_eq(G->r[0].spec.qty, D("0.1"));
    ck_assert(G->r[0].spec.entry == 90000.0);
    ck_assert_int_eq(G->r[0].spec.has_margin, 1);
    ck_assert(G->r[0].spec.margin == 900.0);

    ck_assert_uint_eq(G->r[1].line, l2);
    ck_assert_str_eq(G->r[1].id, "a2");
    ck_assert_str_eq(G->r[1].account, "");
    ck_assert_int_eq(G->r[1].spec.side, POS_SHORT);
    ck_dec_eq(G->r[1].spec.qty, D("0.25"));
    ck_assert(G->r[1].spec.entry == 91000.5);
    ck_assert_int_eq(G->r[1].spec.has_margin, 0);
    ck_assert(G->r[1].spec.liq_price == 92500.0);

    ck_assert_uint_eq(G->r[2].line, l3);
    ck_assert_str_eq(G->r[2].symbol, "ETHUSDT");
    ck_dec_eq(G->r[2].spec.qty, D("0.001"));
    ck_assert(G->r[2].spec.entry == 3000.25);
    ck_assert(G->r[2].spec.margin == 3.5);
}

START_TEST(test_csv_any_column_order)
{
    ck_assert_int_eq(load_str("good.csv", good_csv), 0);
    check_good_rows(3, 5, 7);
    ck_assert_uint_eq(G->st.lines, 7);
}
END_TEST

START_TEST(test_jsonl_same_rows)
{
    ck_assert_int_eq(load_str("good.jsonl", good_jsonl), 0);
    check_good_rows(1, 3, 4);
    ck_assert_uint_eq(G->st.lines, 4);
}
END_TEST

/* The contract's reason for exact decimals: in doubles 0.1 + 0.1 + 0.1 !=
 * 0.3.  The JSON reader must keep the number's text, not a double. */
START_TEST(test_exact_decimal_sum)
{
    const char *csv =
        "id,venue,symbol,side,qty,entry,liq_price\n"
        "a,v,S,long,0.1,1,1\nb,v,S,long,0.1,1,1\nc,v,S,long,0.1,1,1\n";
    const char *jsonl =
        "{\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":0.1,\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"b\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":0.1,\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"c\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":0.1,\"entry\":1,\"liq_price\":1}\n";

    ck_assert(0.1 + 0.1 + 0.1 != 0.3);      /* why this test exists */
    ck_assert_int_eq(load_str("p.csv", csv), 0);
    ck_assert_uint_eq(G->nrows, 3);
    ck_dec_eq(G->sum, D("0.3"));
    ck_assert_int_eq(load_str("p.jsonl", jsonl), 0);
    ck_assert_uint_eq(G->nrows, 3);
    ck_dec_eq(G->sum, D("0.3"));
    ck_dec_eq(G->sum, (dec_t)30000000);
}
END_TEST

/* 1e12 base units with 15 significant digits; sums stay exact; JSON
 * integers beyond int64; rounding to 8 places half to even. */
START_TEST(test_big_and_rounded_quantities)
{
    char *buf = malloc(1 << 20);
    size_t n = 0;
    int fmt;

    ck_assert(buf != NULL);
    for (fmt = 0; fmt < 2; fmt++) {
        n = 0;
        if (fmt == 0)
            n += (size_t)sprintf(buf + n, "id,venue,symbol,side,qty,entry,"
                                 "liq_price\n");
        for (int i = 0; i < 1000; i++) {
            const char *q = i % 2 ? "999999999999.999" : "123456789012345";
            if (fmt == 0)
                n += (size_t)sprintf(buf + n, "p%d,v,S,short,%s,1,2\n", i, q);
            else
                n += (size_t)sprintf(buf + n, "{\"id\":\"p%d\",\"venue\":\"v\","
                                     "\"symbol\":\"S\",\"side\":\"short\","
                                     "\"qty\":%s,\"entry\":1,\"liq_price\":2}\n",
                                     i, q);
        }
        ck_assert_int_eq(load_path(put_file(fmt ? "big.jsonl" : "big.csv",
                                            buf, n)), 0);
        ck_assert_uint_eq(G->nrows, 1000);
        ck_assert_uint_eq(G->nerr, 0);
        /* 500 * (999999999999.999 + 123456789012345) exactly. */
        ck_dec_eq(G->sum, D("62228394506172499.5"));
        ck_dec_eq(G->r[1].spec.qty, D("999999999999.999"));
    }
    free(buf);

    ck_assert_int_eq(load_str("r.jsonl",
        "{\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":123456789012345678901,\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"b\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":0.000000015,\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"c\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":\"0.000000025\",\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"d\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":1.000000005,\"entry\":1,\"liq_price\":1}\n"
        "{\"id\":\"e\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":12345678901234.567890125,\"entry\":1,\"liq_price\":1}\n"), 0);
    ck_assert_uint_eq(G->nrows, 5);
    ck_dec_eq(G->r[0].spec.qty, D("123456789012345678901"));
    ck_dec_eq(G->r[1].spec.qty, (dec_t)2);         /* 1.5 units -> 2 */
    ck_dec_eq(G->r[2].spec.qty, (dec_t)2);         /* 2.5 units -> 2 */
    ck_dec_eq(G->r[3].spec.qty, D("1"));           /* 100000000.5 -> even */
    ck_dec_eq(G->r[4].spec.qty, D("12345678901234.56789012"));  /* ..125 */
}
END_TEST

START_TEST(test_crlf_bom_no_final_newline)
{
    ck_assert_int_eq(load_str("crlf.csv",
        "\xef\xbb\xbfid,venue,symbol,side,qty,entry,margin,liq_price\r\n"
        "a,v,S,long,1.5,100,10,\r\n"
        "\r\n"
        "b,v,S,short,2.5,100,,110"), 0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_uint_eq(G->nerr, 0);
    ck_assert_str_eq(G->r[0].id, "a");
    ck_assert(G->r[0].spec.margin == 10.0);
    ck_assert_str_eq(G->r[1].id, "b");
    ck_assert_uint_eq(G->r[1].line, 4);
    ck_assert(G->r[1].spec.liq_price == 110.0);       /* no '\r' left over */
    ck_assert_uint_eq(G->st.lines, 4);

    ck_assert_int_eq(load_str("crlf.jsonl",
        "\xef\xbb\xbf{\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\","
        "\"side\":\"long\",\"qty\":1.5,\"entry\":100,\"margin\":10}\r\n"
        "{\"id\":\"b\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"short\","
        "\"qty\":2.5,\"entry\":100,\"liq_price\":110}"), 0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_uint_eq(G->nerr, 0);
    ck_dec_eq(G->sum, D("4"));
    ck_assert(G->r[1].spec.liq_price == 110.0);

    /* A BOM on a file of unknown type: still sniffed as JSON Lines. */
    ck_assert_int_eq(load_str("pos.txt",
        "\xef\xbb\xbf  {\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\","
        "\"side\":\"long\",\"qty\":1,\"entry\":100,\"margin\":10}"), 0);
    ck_assert_uint_eq(G->nrows, 1);
}
END_TEST

START_TEST(test_empty_files)
{
    ck_assert_int_eq(load_str("e.csv", ""), 0);
    ck_assert_uint_eq(G->st.lines, 0);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_int_eq(load_str("e.jsonl", ""), 0);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_int_eq(load_str("e.txt", "\n\n  \r\n"), 0);
    ck_assert_uint_eq(G->st.lines, 3);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_int_eq(load_str("c.csv", "# only a comment\n\n# and another"), 0);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_int_eq(load_str("h.csv", "id,venue,symbol,side,qty,entry,margin\n"),
                     0);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_uint_eq(G->nerr, 0);
    ck_assert_int_eq(load_str("bom.csv", "\xef\xbb\xbf"), 0);
    ck_assert_uint_eq(G->st.rows, 0);
}
END_TEST

/* A file without a single row loads nothing, returns POSFILE_OK (the
 * caller decides), and posfile_empty says which kind of nothing. */
static void empty_is(const char *name, const char *content, const char *why)
{
    lq_err_t e = { "" };
    char want[9000];

    ck_assert_int_eq(load_str(name, content), POSFILE_OK);
    ck_assert_uint_eq(G->st.rows, 0);
    ck_assert_uint_eq(G->st.loaded, 0);
    ck_assert_uint_eq(G->st.rejected, 0);
    ck_assert_uint_eq(G->nerr, 0);
    ck_assert_int_eq(posfile_empty(G->path, &G->st, &e), 1);
    snprintf(want, sizeof(want), "%s: no positions (%s)", G->path, why);
    ck_assert_str_eq(e.msg, want);
}

START_TEST(test_no_positions)
{
    lq_err_t e = { "" };

    empty_is("e.csv", "", "the file is empty");
    ck_assert_uint_eq(G->st.header_line, 0);
    empty_is("e.jsonl", "", "the file is empty");
    empty_is("b.txt", "\n\n  \r\n", "only blank and comment lines");
    empty_is("c.csv", "# only a comment\n\n# and another",
             "only blank and comment lines");
    empty_is("bom.csv", "\xef\xbb\xbf", "only blank and comment lines");
    empty_is("h.csv", "id,venue,symbol,side,qty,entry,margin\n",
             "a header on line 1, no rows");
    ck_assert_uint_eq(G->st.header_line, 1);
    empty_is("hq.csv", "\xef\xbb\xbf# exported\r\n\"id\",\"venue\",\"symbol\","
             "\"side\",\"qty\",\"entry\",\"margin\"\r\n\r\n",
             "a header on line 2, no rows");
    ck_assert_uint_eq(G->st.header_line, 2);
    empty_is("hc.csv", "id,venue,symbol,side,qty,entry,liq_price\n# none\n",
             "a header on line 1, no rows");

    /* Rows that are all bad: not "no positions" (on_error said why). */
    ck_assert_int_eq(load_str("bad.csv", "id,venue,symbol,side,qty,entry,"
                              "margin\na,v,S,buy,1,1,1\n"), POSFILE_OK);
    ck_assert_uint_eq(G->st.rows, 1);
    ck_assert_uint_eq(G->st.loaded, 0);
    ck_assert_uint_eq(G->nerr, 1);
    ck_assert_int_eq(posfile_empty(G->path, &G->st, &e), 0);
    /* One good row. */
    ck_assert_int_eq(load_str("one.csv", "id,venue,symbol,side,qty,entry,"
                              "margin\na,v,S,long,1,100,10"), POSFILE_OK);
    ck_assert_uint_eq(G->st.loaded, 1);
    ck_assert_uint_eq(G->st.header_line, 1);
    ck_assert_int_eq(posfile_empty(G->path, &G->st, &e), 0);
    /* stdin is named so. */
    {
        struct posfile_stats st = { 0 };
        ck_assert_int_eq(posfile_empty("-", &st, &e), 1);
        ck_assert_str_eq(e.msg, "stdin: no positions (the file is empty)");
    }
}
END_TEST

/* RFC 4180: what spreadsheets export. */
START_TEST(test_csv_quoting)
{
    /* Every field quoted, header too; CRLF and a BOM, as Excel writes. */
    ck_assert_int_eq(load_str("x.csv",
        "\xef\xbb\xbf\"id\",\"account\",\"venue\",\"symbol\",\"side\",\"qty\","
        "\"entry\",\"margin\",\"liq_price\"\r\n"
        "\"p1\",\"Acme, Inc.\",\"binance-usdm\",\"BTCUSDT\",\"long\",\"0.5\","
        "\"90000\",\"4500\",\"\"\r\n"
        "\"p\"\"2\"\"\",\"say \"\"hi\"\", then, go\",\"binance-usdm\",\"BTCUSDT\","
        "\"short\",\"1.25\",\"90000\",\"\",\"95000\"\r\n"
        "\"\",\"x\",\"binance-usdm\",\"BTCUSDT\",\"long\",\"1\",\"1\",\"1\",\"\"\r\n"),
        0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_uint_eq(G->nerr, 1);
    err_is(0, ":4: id: missing");               /* "" is an empty field */
    ck_assert_uint_eq(G->st.header_line, 1);
    ck_assert_str_eq(G->r[0].id, "p1");
    ck_assert_str_eq(G->r[0].account, "Acme, Inc.");
    ck_assert_str_eq(G->r[0].venue, "binance-usdm");
    ck_dec_eq(G->r[0].spec.qty, D("0.5"));
    ck_assert_int_eq(G->r[0].spec.has_margin, 1);
    ck_assert(G->r[0].spec.margin == 4500.0);
    ck_assert_str_eq(G->r[1].id, "p\"2\"");
    ck_assert_str_eq(G->r[1].account, "say \"hi\", then, go");
    ck_assert_int_eq(G->r[1].spec.side, POS_SHORT);
    ck_assert_int_eq(G->r[1].spec.has_margin, 0);
    ck_assert(G->r[1].spec.liq_price == 95000.0);

    /* Quoted and plain mixed; blanks around quotes dropped, inside kept;
     * a quoted column name; no final newline. */
    ck_assert_int_eq(load_str("m.csv",
        "id, \"venue\" ,symbol,side,qty,entry,margin\n"
        "a,  \"binance-usdm\"  ,BTCUSDT,long,\"2\",90000,900\n"
        "b,binance-usdm,BTCUSDT,long,\" 2\",90000,900\n"
        "\"c,d\",binance-usdm,BTCUSDT,long,1,90000,\"900\""), 0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_str_eq(G->r[0].venue, "binance-usdm");
    ck_dec_eq(G->r[0].spec.qty, D("2"));
    ck_assert_str_eq(G->r[1].id, "c,d");
    ck_assert(G->r[1].spec.margin == 900.0);
    ck_assert_uint_eq(G->nerr, 1);
    err_is(0, ":3: qty: ' 2' is not a decimal number");

    /* What is not quoting, each on its own line, the rest loads. */
    ck_assert_int_eq(load_str("bad.csv",
        "id,venue,symbol,side,qty,entry,margin,note\n"
        "\"a,binance-usdm,BTCUSDT,long,1,90000,900,\n"
        "b,binance-usdm,BTCUSDT,long,1,90000,900,\"x\"y\n"
        "c,binance-usdm,BTCUSDT,long,1\"5,90000,900,\n"
        "d,binance-usdm,BTCUSDT,long,1,90000,900,\"ok, \"\"really\"\"\"\n"
        "e,binance-usdm,BTCUSDT,long,1,90000,900,\"a\",\"b\"\n"), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert_str_eq(G->r[0].id, "d");
    ck_assert_uint_eq(G->nerr, 4);
    err_is(0, ":2: id: '\"a,binance-usdm,BTCUSDT,long,1,90000,900...': a "
           "quoted field without its closing quote (a field cannot span "
           "lines)");
    err_is(1, ":3: field 8: '\"x\"y': text after the closing quote (double "
           "a '\"' inside a quoted field)");
    err_is(2, ":4: qty: '1\"5': a '\"' inside an unquoted field (quote the "
           "whole field and double the '\"')");
    err_is(3, ":6: 9 fields, but the header (line 1) has 8");

    /* The header: quoting errors say so, quoted names count. */
    ck_assert_int_eq(load_str("h.csv", "\"id\",\"venue,symbol,side,qty,entry,"
                              "margin\n"), POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, "h.csv:1: header: field 2: '\"venue,symbol,"
                         "side,qty,entry,margin': a quoted field without its "
                         "closing quote") != NULL, "%s", G->e.msg);
    ck_assert_int_eq(load_str("h2.csv", "\"id\",\"venue\",\"symbol\",\"side\","
                              "\"qty\",\"entry\",\"id\",\"margin\"\n"),
                     POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, "h2.csv:1: header: column 'id' appears "
                         "twice (fields 1 and 7)") != NULL, "%s", G->e.msg);
    /* A comma inside a quoted header name is one unknown column. */
    ck_assert_int_eq(load_str("h3.csv", "id,\"venue,x\",venue,symbol,side,qty,"
                              "entry,margin\na,\"1,2\",v,S,long,1,100,10\n"), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert_str_eq(G->r[0].venue, "v");

    /* CRLF inside quotes cannot happen (a line ends first): a quoted '\r'
     * at the end of a line is the line end, dropped like any CRLF. */
    ck_assert_int_eq(load_str("cr.csv", "id,venue,symbol,side,qty,entry,"
                              "margin\r\n\"a\",\"v\",\"S\",\"long\",\"1\",\"100\","
                              "\"10\"\r\n"), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert(G->r[0].spec.margin == 10.0);
}
END_TEST

START_TEST(test_header_errors)
{
    ck_assert_int_eq(load_str("h.csv", "id,venue,symbol,side,entry,margin\n"
                              "a,v,S,long,1,1\n"), POSFILE_EHEADER);
    snprintf(G->path + strlen(G->path), 100, "%s",
             ":1: header: missing column 'qty'");
    ck_assert_str_eq(G->e.msg, G->path);
    ck_assert_uint_eq(G->nrows, 0);
    ck_assert_uint_eq(G->nerr, 0);       /* err, not on_error */

    ck_assert_int_eq(load_str("h.csv", "id,venue,symbol,side,qty,entry\n"),
                     POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, "h.csv:1: header: missing column 'margin' "
                         "or 'liq_price' (at least one)") != NULL, "%s",
                  G->e.msg);

    ck_assert_int_eq(load_str("h.csv", "# c\n\nid,venue,symbol,side,qty,"
                              "entry,qty,margin\n"), POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, "h.csv:3: header: column 'qty' appears "
                         "twice (fields 5 and 7)") != NULL, "%s", G->e.msg);

    /* No header at all: the first row is taken for one, and says so. */
    ck_assert_int_eq(load_str("h.csv", "# c\na,binance-usdm,BTCUSDT,long,1,"
                              "2,3\n"), POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, "h.csv:2: header: missing column 'id' "
                         "(the first line that is not blank or a comment "
                         "names the columns)") != NULL, "%s", G->e.msg);

    /* A CSV file that starts with '{' is still CSV when its name says so. */
    ck_assert_int_eq(load_str("x.csv", "{\"id\":\"a\"}\n"), POSFILE_EHEADER);
}
END_TEST

struct bad_case {
    const char *row;
    const char *msg;        /* after "<path>:<line>"; '*' at the end: prefix */
};

/* One file of rows, each bad in one way (good ones mixed in, msg NULL);
 * the errors come back in order, each naming its line. */
static void run_bad(const char *name, const char *head,
                    const struct bad_case *c, size_t n)
{
    size_t len = head ? strlen(head) : 0, cap = 1 << 16, line0;
    char *buf = malloc(cap);
    size_t good = 0, e = 0;

    ck_assert(buf != NULL);
    if (head)
        memcpy(buf, head, len);
    for (size_t i = 0; i < n; i++) {
        size_t rl = strlen(c[i].row);
        ck_assert(len + rl + 2 < cap);
        memcpy(buf + len, c[i].row, rl);
        len += rl;
        buf[len++] = '\n';
        good += c[i].msg == NULL;
    }
    ck_assert_int_eq(load_path(put_file(name, buf, len)), 0);
    free(buf);
    ck_assert_uint_eq(G->nrows, good);
    ck_assert_uint_eq(G->nerr, n - good);
    ck_assert_uint_eq(G->st.rejected, n - good);
    ck_assert_uint_eq(G->st.rows, n);
    line0 = head ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        char want[512];
        if (c[i].msg == NULL)
            continue;
        snprintf(want, sizeof(want), ":%zu: %s", line0 + i, c[i].msg);
        err_is(e++, want);
    }
}

START_TEST(test_csv_row_errors)
{
    static const struct bad_case c[] = {
        { "ok1,a,binance-usdm,BTCUSDT,long,0.5,90000,4500,", NULL },
        { "f1,a,binance-usdm,BTCUSDT,long,0.5,90000,4500",
          "8 fields, but the header (line 1) has 9" },
        { "f2,a,binance-usdm,BTCUSDT,long,0.5,90000,4500,,",
          "10 fields, but the header (line 1) has 9" },
        { ",a,binance-usdm,BTCUSDT,long,0.5,90000,4500,", "id: missing" },
        { "  ,a,binance-usdm,BTCUSDT,long,0.5,90000,4500,", "id: missing" },
        { "v1,a,,BTCUSDT,long,0.5,90000,4500,", "venue: missing" },
        { "v2,a,binance-usdm,,long,0.5,90000,4500,", "symbol: missing" },
        { "v3,a,bin/ance,BTCUSDT,long,0.5,90000,4500,",
          "venue: 'bin/ance' must not contain spaces, control characters, "
          "'/', '\\' or ':'" },
        { "v4,a,binance-usdm,BTC:USDT,long,0.5,90000,4500,",
          "symbol: 'BTC:USDT' must not contain*" },
        { "v5,a,binance-usdm-with-a-very-long-venue-name,BTCUSDT,long,0.5,"
          "90000,4500,",
          "venue: 'binance-usdm-with-a-very-long-venue-name' is longer than "
          "31 bytes" },
        { "s1,a,binance-usdm,BTCUSDT,buy,0.5,90000,4500,",
          "side: unknown side 'buy' (expected long or short)" },
        { "s2,a,binance-usdm,BTCUSDT,,0.5,90000,4500,", "side: missing" },
        { "q1,a,binance-usdm,BTCUSDT,long,abc,90000,4500,",
          "qty: 'abc' is not a decimal number" },
        { "q2,a,binance-usdm,BTCUSDT,long,0,90000,4500,", "qty: must be > 0" },
        { "q3,a,binance-usdm,BTCUSDT,long,-1,90000,4500,", "qty: must be > 0" },
        { "q4,a,binance-usdm,BTCUSDT,long,0.000000004,90000,4500,",
          "qty: must be > 0 ('0.000000004' rounds to 0 at 8 decimal places)" },
        { "q5,a,binance-usdm,BTCUSDT,long,2e24,90000,4500,",
          "qty: '2e24' is too large (at most 1e24)" },
        { "q6,a,binance-usdm,BTCUSDT,long,,90000,4500,", "qty: missing" },
        { "q7,a,binance-usdm,BTCUSDT,long,1 000,90000,4500,",
          "qty: '1 000' is not a decimal number" },
        { "q8,a,binance-usdm,BTCUSDT,long,+1,90000,4500,",
          "qty: '+1' is not a decimal number" },
        { "e1,a,binance-usdm,BTCUSDT,long,0.5,0x10,4500,",
          "entry: '0x10' is not a number" },
        { "e2,a,binance-usdm,BTCUSDT,long,0.5,inf,4500,",
          "entry: 'inf' is not a number" },
        { "e3,a,binance-usdm,BTCUSDT,long,0.5,0,4500,", "entry: must be > 0" },
        { "e4,a,binance-usdm,BTCUSDT,long,0.5,,4500,", "entry: missing" },
        { "e5,a,binance-usdm,BTCUSDT,long,0.5,1e400,4500,",
          "entry: '1e400' is out of range" },
        { "m1,a,binance-usdm,BTCUSDT,long,0.5,90000,4500,85000",
          "margin, liq_price: give exactly one" },
        { "m2,a,binance-usdm,BTCUSDT,long,0.5,90000,,",
          "margin, liq_price: give exactly one" },
        { "m3,a,binance-usdm,BTCUSDT,long,0.5,90000,-5,",
          "margin: must be > 0" },
        { "l1,a,binance-usdm,BTCUSDT,short,0.5,90000,,x",
          "liq_price: 'x' is not a number" },
        { "qq,a,binance-usdm,\"BTCUSDT\",long,0.5,90000,4500,", NULL },
        { "qb,a,binance-usdm,\"BTC\"USDT,long,0.5,90000,4500,",
          "symbol: '\"BTC\"USDT': text after the closing quote (double a "
          "'\"' inside a quoted field)" },
        { "qc,a,binance-usdm,BTC\"USDT,long,0.5,90000,4500,",
          "symbol: 'BTC\"USDT': a '\"' inside an unquoted field (quote the "
          "whole field and double the '\"')" },
        { "ok2,,binance-usdm,BTCUSDT,short,0.5,90000,,95000", NULL },
        /* A long bad value is quoted short, control bytes escaped. */
        { "s3,a,binance-usdm,BTCUSDT,lo\001ng-and-then-some-more-text-to-"
          "make-it-long,0.5,90000,4500,",
          "side: unknown side 'lo\\x01ng-and-then-some-more-text-to-make-it...' "
          "(expected long or short)" },
        /* ... never cut inside a UTF-8 sequence (the 40th byte starts one) */
        { "s4,a,binance-usdm,BTCUSDT,0123456789012345678901234567890123456789\xc3\xa9"
          "x,0.5,90000,4500,",
          "side: unknown side '0123456789012345678901234567890123456789...' "
          "(expected long or short)" },
        { "s5,a,binance-usdm,BTCUSDT,012345678901234567890123456789012345678\xc3\xa9"
          "x,0.5,90000,4500,",
          "side: unknown side '012345678901234567890123456789012345678...' "
          "(expected long or short)" },
    };

    run_bad("bad.csv", "id,account,venue,symbol,side,qty,entry,margin,"
            "liq_price\n", c, sizeof(c) / sizeof(c[0]));
}
END_TEST

#define JROW(id, rest)                                                         \
    "{\"id\":" id ",\"venue\":\"binance-usdm\",\"symbol\":\"BTCUSDT\"" rest "}"

START_TEST(test_jsonl_row_errors)
{
    static const struct bad_case c[] = {
        { JROW("\"ok\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"), NULL },
        { "{\"id\":\"j1\",\"qty\":0.5", "line 1, column *" },
        { JROW("\"j2\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,"),
          "line 1, column *" },
        { JROW("\"j3\"", ",\"side\":\"long\",\"qty\":.5,\"entry\":9,"
               "\"margin\":1"), "line 1, column 74: invalid token near '.'" },
        { JROW("\"j4\"", ",\"side\":\"long\",\"qty\":01,\"entry\":9,"
               "\"margin\":1"), "line 1, column *" },
        { JROW("\"j5\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":NaN,"
               "\"margin\":1"), "line 1, column *" },
        { "[\"j6\", 1]", "must be a JSON object (one per line)" },
        { "\"j7\"", "must be a JSON object (one per line)" },
        { JROW("\"j8\"", ",\"side\":\"long\",\"qty\":0.5,\"qty\":0.6,"
               "\"entry\":9,\"margin\":1"), "qty: given twice" },
        { JROW("\"j8b\"", ",\"side\":\"long\",\"qty\":0.5,\"x\":1,\"x\":2,"
               "\"entry\":9,\"margin\":1"), NULL },
        { JROW("\"j9\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"x\":[1,,2]"), "line 1, column *" },
        { JROW("17", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"), "id: must be a string" },
        { JROW("null", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"), "id: missing" },
        { JROW("\"\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"), "id: must not be empty" },
        { JROW("\"s1\"", ",\"side\":\"LONG\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"),
          "side: unknown side 'LONG' (expected long or short)" },
        { JROW("\"s2\"", ",\"side\":true,\"qty\":0.5,\"entry\":9,"
               "\"margin\":1"), "side: must be a string" },
        { JROW("\"q1\"", ",\"side\":\"long\",\"qty\":{\"v\":1},\"entry\":9,"
               "\"margin\":1"), "qty: must be a number or a decimal string" },
        { JROW("\"q2\"", ",\"side\":\"long\",\"qty\":\"0.5 BTC\",\"entry\":9,"
               "\"margin\":1"), "qty: '0.5 BTC' is not a decimal number" },
        { JROW("\"q3\"", ",\"side\":\"long\",\"qty\":-0.5,\"entry\":9,"
               "\"margin\":1"), "qty: must be > 0" },
        { JROW("\"q4\"", ",\"side\":\"long\",\"entry\":9,\"margin\":1"),
          "qty: missing" },
        { JROW("\"e1\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":\"\","
               "\"margin\":1"), "entry: '' is not a number" },
        { JROW("\"m1\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"liq_price\":2"),
          "margin, liq_price: give exactly one" },
        { JROW("\"m2\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":null,\"liq_price\":null"),
          "margin, liq_price: give exactly one" },
        { JROW("\"m3\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":false"), "margin: must be a number or a decimal "
          "string" },
        { JROW("\"a1\"", ",\"account\":7,\"side\":\"long\",\"qty\":0.5,"
               "\"entry\":9,\"margin\":1"), "account: must be a string" },
        { JROW("\"u1\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"x\":\"\\u0000\""), "line 1, column *" },
        { JROW("\"u2\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"x\":\"\\udc00\""), "line 1, column *" },
        { JROW("\"u3\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"x\":\"\xc3\""), "line 1, column *" },
        { JROW("\"u4\"", ",\"side\":\"long\",\"qty\":0.5,\"entry\":9,"
               "\"margin\":1,\"x\":\"a\tb\""), "line 1, column *" },
        { JROW("\"ok2\"", ",\"side\":\"short\",\"qty\":0.5,\"entry\":9,"
               "\"liq_price\":10"), NULL },
        { "# not a comment in JSON Lines", "line 1, column *" },
    };

    run_bad("bad.jsonl", NULL, c, sizeof(c) / sizeof(c[0]));
}
END_TEST

/* Messages are one line without raw control bytes (found by fuzzing):
 * jansson's diagnosis of a JSON Lines row quotes input bytes raw ("invalid
 * escape near '"\<ESC>'"), and a value or a file name can carry them too.
 * They come out escaped (\t, \x1b), like every lq_err message. */
START_TEST(test_messages_one_line)
{
    static const char rows[] =
        /* jansson's text quotes the raw byte after the backslash */
        "{\"id\":\"\\\x1b\"}\n"
        "{\"id\":\"\\\t\",\"venue\":\"v\"}\n"
        "{\"id\":\"\\\x0b\"}\n"
        "{\"id\":\"\\\x7f\"}\n"
        /* ... or after a number */
        "{\"id\":1\x01}\n"
        /* a raw CR inside a line (only a final one ends it) */
        "{\"id\":\"\\\r\"}\n"
        /* decoded values quoted by the row checks */
        "{\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"lo\\nng\"}\n"
        "{\"id\":\"a\",\"venue\":\"v\\u001b[2J\",\"symbol\":\"S\"}\n";
    static const char *const want[] = {
        ":1: line 1, column 9: invalid escape near '\"\\\\x1b'",
        ":2: line 1, column 9: invalid escape near '\"\\\\t'",
        ":3: line 1, column 9: invalid escape near '\"\\\\x0b'",
        ":4: line 1, column 9: invalid escape near '\"\\\\x7f'",
        ":5: line 1, column *",
        ":6: line 1, column 9: invalid escape near '\"\\\\r'",
        ":7: side: unknown side 'lo\\nng' (expected long or short)",
        ":8: venue: 'v\\x1b[2J' must not contain spaces, control characters, "
        "'/', '\\' or ':'",
    };

    ck_assert_int_eq(load_str("ctl.jsonl", rows), 0);
    ck_assert_uint_eq(G->nrows, 0);
    ck_assert_uint_eq(G->nerr, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < G->nerr; i++) {
        for (const unsigned char *p = (const unsigned char *)G->err[i]; *p; p++)
            ck_assert_msg(*p >= 0x20 && *p != 0x7f, "error %zu: raw byte 0x%02x in '%s'",
                          i, *p, G->err[i]);
        err_is(i, want[i]);
    }
    ck_assert_msg(strstr(G->err[4], "\\x01") != NULL, "%s", G->err[4]);

    /* A file name with a control byte is shown escaped too. */
    ck_assert_int_eq(load_str("a\tb.jsonl", "{\"id\":\"x\"}\n"), 0);
    ck_assert_uint_eq(G->nerr, 1);
    ck_assert_msg(strstr(G->err[0], "a\\tb.jsonl:1: venue: missing") != NULL, "%s",
                  G->err[0]);
    ck_assert_ptr_null(strchr(G->err[0], '\t'));
}
END_TEST

START_TEST(test_json_strings_and_nesting)
{
    ck_assert_int_eq(load_str("s.jsonl",
        /* escapes in values and in a key ("q\u0074y" is "qty") */
        "{\"id\":\"g\\u0035\\\"\\\\\\/\",\"account\":\"acct-\\u00e9\\ud83d"
        "\\ude00\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"q\\u0074y\":2,\"entry\":3000,\"margin\":6000}\n"
        /* raw UTF-8; nested values under unknown keys; bools and nulls */
        "{\"id\":\"\xc3\xa9t\xc3\xa9\",\"tags\":[\"a\",{\"b\":[1,2,{}]},[]],"
        "\"meta\":{\"k\":\"}]\"},\"venue\":\"v\",\"symbol\":\"S\","
        "\"side\":\"short\",\"qty\":1,\"entry\":1,\"liq_price\":2,"
        "\"hedged\":false,\"account\":null}\n"
        "{}\n"), 0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_str_eq(G->r[0].id, "g5\"\\/");
    ck_assert_str_eq(G->r[0].account, "acct-\xc3\xa9\xf0\x9f\x98\x80");
    ck_dec_eq(G->r[0].spec.qty, D("2"));
    ck_assert_str_eq(G->r[1].id, "\xc3\xa9t\xc3\xa9");
    ck_assert_str_eq(G->r[1].account, "");
    ck_assert_uint_eq(G->nerr, 1);
    err_is(0, ":3: id: missing");
}
END_TEST

START_TEST(test_long_lines)
{
    size_t cap = 4 * POSFILE_LINE_MAX, n = 0;
    char *buf = malloc(cap);
    const char *row = "a,v,S,long,1,2,3,";
    size_t rl = strlen(row);

    ck_assert(buf != NULL);
    n += (size_t)sprintf(buf, "id,venue,symbol,side,qty,entry,margin,note\n");
    /* line 2: exactly POSFILE_LINE_MAX bytes: fine */
    memcpy(buf + n, row, rl);
    memset(buf + n + rl, 'x', POSFILE_LINE_MAX - rl);
    n += POSFILE_LINE_MAX;
    buf[n++] = '\n';
    /* line 3: one byte more: skipped, whole */
    buf[n++] = 'b';
    memcpy(buf + n, row + 1, rl - 1);
    memset(buf + n + rl - 1, 'x', POSFILE_LINE_MAX + 1 - rl);
    n += POSFILE_LINE_MAX + 1 - 1;
    buf[n++] = '\n';
    n += (size_t)sprintf(buf + n, "c,v,S,long,1,2,3,\n");   /* line 4 */
    /* line 5: far too long, and the last, without '\n' */
    memset(buf + n, 'y', 3 * POSFILE_LINE_MAX / 2);
    n += 3 * POSFILE_LINE_MAX / 2;

    ck_assert_int_eq(load_path(put_file("long.csv", buf, n)), 0);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_str_eq(G->r[0].id, "a");
    ck_assert_str_eq(G->r[1].id, "c");
    ck_assert_uint_eq(G->r[1].line, 4);
    ck_assert_uint_eq(G->nerr, 2);
    err_is(0, ":3: line too long (more than 65536 bytes); skipped");
    err_is(1, ":5: line too long (more than 65536 bytes); skipped");
    ck_assert_uint_eq(G->st.lines, 5);
    ck_assert_uint_eq(G->st.rows, 4);

    /* JSON Lines: a long string value under an unknown key. */
    n = (size_t)sprintf(buf, "{\"pad\":\"");
    memset(buf + n, 'z', POSFILE_LINE_MAX);
    n += POSFILE_LINE_MAX;
    n += (size_t)sprintf(buf + n, "\",\"id\":\"a\"}\n"
                         "{\"id\":\"b\",\"venue\":\"v\",\"symbol\":\"S\","
                         "\"side\":\"long\",\"qty\":1,\"entry\":1,"
                         "\"margin\":1}\n");
    ck_assert_int_eq(load_path(put_file("long.jsonl", buf, n)), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert_uint_eq(G->r[0].line, 2);
    err_is(0, ":1: line too long (more than 65536 bytes); skipped");

    /* A header too long to be one. */
    memset(buf, 'h', POSFILE_LINE_MAX + 10);
    ck_assert_int_eq(load_path(put_file("longh.csv", buf,
                                        POSFILE_LINE_MAX + 10)),
                     POSFILE_EHEADER);
    ck_assert_msg(strstr(G->e.msg, ":1: header: line too long") != NULL, "%s",
                  G->e.msg);
    free(buf);
}
END_TEST

/* Many rows, so that lines straddle the 1 MiB reads; one bad row far in. */
START_TEST(test_buffer_boundaries)
{
    const size_t rows = 60000, bad = 45678;
    size_t cap = rows * 200, n;
    char *buf = malloc(cap);
    dec_t want = 0;

    ck_assert(buf != NULL);
    for (int fmt = 0; fmt < 2; fmt++) {
        struct trng r;
        trng_init(&r, "posfile-boundaries");
        want = 0;
        n = fmt ? 0 : (size_t)sprintf(buf, "id,venue,symbol,side,qty,entry,"
                                      "liq_price\r\n");
        for (size_t i = 0; i < rows; i++) {
            unsigned q = 1 + (unsigned)trng_below(&r, 99999999);
            int pad = (int)trng_below(&r, 40);
            if (i + (fmt ? 1 : 2) == bad) {
                n += (size_t)sprintf(buf + n, fmt ? "{\"id\":\"bad\"}\n"
                                     : "bad,v,S,long,-1,1,2\n");
                continue;
            }
            want += (dec_t)q * 100000;       /* q thousandths, in 1e-8 units */
            if (fmt)
                n += (size_t)sprintf(buf + n, "{\"id\":\"p%zu%.*s\","
                                     "\"venue\":\"v\",\"symbol\":\"S\","
                                     "\"side\":\"long\",\"qty\":%u.%03u,"
                                     "\"entry\":1,\"liq_price\":2}\n", i, pad,
                                     "----------------------------------------",
                                     q / 1000, q % 1000);
            else
                n += (size_t)sprintf(buf + n, "p%zu%.*s,v,S,long,%u.%03u,1,2"
                                     "\r\n", i, pad,
                                     "----------------------------------------",
                                     q / 1000, q % 1000);
        }
        ck_assert(n < cap);
        ck_assert_int_eq(load_path(put_file(fmt ? "many.jsonl" : "many.csv",
                                            buf, n)), 0);
        ck_assert_uint_eq(G->nrows, rows - 1);
        ck_dec_eq(G->sum, want);
        ck_assert_uint_eq(G->nerr, 1);
        err_is(0, fmt ? ":45678: venue: missing" : ":45678: qty: must be > 0");
        ck_assert_uint_eq(G->r[MAXKEEP - 1].line, MAXKEEP + (fmt ? 0 : 1));
    }
    free(buf);
}
END_TEST

START_TEST(test_stop_nul_and_unreadable)
{
    char path[8192];

    G->stop_at = 2;
    ck_assert_int_eq(load_str("stop.csv", good_csv), 5);
    ck_assert_uint_eq(G->nrows, 2);
    ck_assert_uint_eq(G->st.loaded, 2);
    G->stop_at = 0;

    static const char nul[] = "id,venue,symbol,side,qty,entry,margin\n"
                              "a,v,S,lo\0ng,1,1,1\nb,v,S,long,1,1,1\n";

    ck_assert_int_eq(load_path(put_file("nul.csv", nul, sizeof(nul) - 1)), 0);
    ck_assert_uint_eq(G->nrows, 1);
    err_is(0, ":2: contains a NUL byte");

    snprintf(path, sizeof(path), "%s/nonexistent.csv", tmpdir);
    ck_assert_int_eq(load_path(path), POSFILE_EREAD);
    snprintf(path + strlen(path), 100, ": No such file or directory");
    ck_assert_str_eq(G->e.msg, path);

    ck_assert_int_eq(load_path(tmpdir), POSFILE_EREAD);
    ck_assert_msg(strstr(G->e.msg, "read error") != NULL, "%s", G->e.msg);

    /* NULL callbacks and stats are allowed. */
    ck_assert_int_eq(posfile_load(put_str("n.csv", good_csv), NULL, NULL,
                                  NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_format_from_name)
{
    const char *csv_as_json = "{\"id\":\"a\",\"venue\":\"v\",\"symbol\":\"S\","
        "\"side\":\"long\",\"qty\":1,\"entry\":1,\"margin\":1}\n";

    ck_assert_int_eq(load_str("P.NDJSON", csv_as_json), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert_int_eq(load_str("p.dat", csv_as_json), 0);
    ck_assert_uint_eq(G->nrows, 1);
    ck_assert_int_eq(load_str("p.dat", good_csv), 0);
    ck_assert_uint_eq(G->nrows, 3);
    ck_assert_int_eq(load_str("P.CSV", good_csv), 0);
    ck_assert_uint_eq(G->nrows, 3);
    /* A .jsonl file of CSV: every line a JSON error, nothing loads. */
    ck_assert_int_eq(load_str("p.jsonl", good_csv), 0);
    ck_assert_uint_eq(G->nrows, 0);
    ck_assert_uint_eq(G->nerr, 6);
}
END_TEST

struct fuzz {
    size_t pathlen;
    char **msg;             /* msg[line]: the message after "<file>:<line>: " */
    int n;
};

static int count_row(const struct posfile_row *row, void *arg)
{
    (void)row;
    (void)arg;
    return 0;
}

static void fuzz_err(const char *msg, void *arg)
{
    struct fuzz *fz = arg;
    char *end;
    unsigned long line = strtoul(msg + fz->pathlen + 1, &end, 10);

    ck_assert_msg(line >= 1 && line <= (unsigned long)fz->n &&
                  end[0] == ':' && end[1] == ' ', "odd message %s", msg);
    ck_assert_msg(fz->msg[line] == NULL, "two messages for line %lu", line);
    fz->msg[line] = strdup(end + 2);
}

/* Mutate valid lines at random; whatever the scanner makes of a line must
 * agree with jansson: jansson refuses it <=> the row's message is
 * jansson's ("line 1, column ..."). */
START_TEST(test_json_scanner_agrees_with_jansson)
{
    static const char *const base[] = {
        "{\"id\":\"a1\",\"venue\":\"v\",\"symbol\":\"S\",\"side\":\"long\","
        "\"qty\":0.5,\"entry\":9e4,\"margin\":-1.5E+2,\"x\":[1,{\"y\":null}]}",
        "{ \"id\" : \"\\u00e9\\n\" , \"qty\" : \"12\" , \"t\" : true , "
        "\"f\" : false , \"n\" : null , \"entry\" : 0 }",
        "{\"id\":\"\xc3\xa9\xe2\x82\xac\",\"qty\":10,\"o\":{},\"a\":[]}",
    };
    static const char alphabet[] = "{}[]\",:\\ 0123456789.eE-+tfnul\x80\xc3"
                                   "\xff\x01ax";
    const int n = 6000;
    struct trng r;
    char *buf = malloc((size_t)n * 256);
    size_t len = 0, *off = malloc((size_t)(n + 1) * sizeof(size_t));
    int *refused = malloc((size_t)n * sizeof(int));
    struct fuzz fz = { 0, NULL, n };
    struct posfile_stats st;

    ck_assert(buf && off && refused);
    trng_init(&r, "posfile-json-fuzz");
    for (int i = 0; i < n; i++) {
        const char *b = base[trng_below(&r, 3)];
        char tmp[256];
        size_t tl = strlen(b), k;
        memcpy(tmp, b, tl);
        for (int m = 1 + (int)trng_below(&r, 3); m > 0; m--) {
            size_t at = (size_t)trng_below(&r, tl);
            char ch = alphabet[trng_below(&r, sizeof(alphabet) - 1)];
            switch (trng_below(&r, 3)) {
            case 0:                          /* delete */
                memmove(tmp + at, tmp + at + 1, tl - at - 1);
                tl--;
                break;
            case 1:                          /* insert */
                if (tl < 200) {
                    memmove(tmp + at + 1, tmp + at, tl - at);
                    tmp[at] = ch;
                    tl++;
                }
                break;
            default:                         /* replace */
                tmp[at] = ch;
                break;
            }
        }
        /* Keep one line per record, no NUL (other tests cover those). */
        for (k = 0; k < tl; k++)
            if (tmp[k] == '\n' || tmp[k] == '\r' || tmp[k] == '\0')
                tmp[k] = ' ';
        if (tl == 0 || strspn(tmp, " ") == tl)
            tmp[0] = '{', tl = tl ? tl : 1;
        off[i] = len;
        memcpy(buf + len, tmp, tl);
        {
            json_error_t je;
            json_t *j = json_loadb(tmp, tl, JSON_DECODE_ANY, &je);
            /* jansson stops at its limits on valid JSON (huge numbers),
             * which are not syntax: no verdict on the rest (-1, skipped). */
            refused[i] = j != NULL ? 0
                       : strstr(je.text, "too big") != NULL ||
                         strstr(je.text, "overflow") != NULL ? -1 : 1;
            json_decref(j);
        }
        len += tl;
        buf[len++] = '\n';
    }
    off[n] = len;
    fz.pathlen = strlen(tmpdir) + strlen("/fuzz.jsonl");
    fz.msg = calloc((size_t)n + 1, sizeof(char *));
    ck_assert(fz.msg != NULL);
    ck_assert_int_eq(posfile_load(put_file("fuzz.jsonl", buf, len), count_row,
                                  fuzz_err, &fz, &st, NULL), 0);
    ck_assert_uint_eq(st.rows, (size_t)n);
    ck_assert_uint_eq(st.loaded + st.rejected, (size_t)n);
    for (int i = 0; i < n; i++) {
        const char *m = fz.msg[i + 1];
        int jansson_msg = m != NULL && strncmp(m, "line 1, column ", 15) == 0;
        ck_assert_msg(m == NULL || strstr(m, "cannot read this object") == NULL,
                      "seed %" PRIu64 ": line %d: %s (%.*s)", test_seed(),
                      i + 1, m, (int)(off[i + 1] - off[i] - 1), buf + off[i]);
        if (refused[i] < 0)
            continue;
        ck_assert_msg(jansson_msg == refused[i],
                      "seed %" PRIu64 ": line %d: jansson %s it, posfile: %s "
                      "(%.*s)", test_seed(), i + 1,
                      refused[i] ? "refuses" : "accepts",
                      m ? m : "loads it", (int)(off[i + 1] - off[i] - 1),
                      buf + off[i]);
    }
    for (int i = 0; i <= n; i++)
        free(fz.msg[i]);
    free(fz.msg);
    free(buf);
    free(off);
    free(refused);
}
END_TEST

/* ---- Instruments ----------------------------------------------------------- */

START_TEST(test_every_conf_instrument_loads)
{
    DIR *d = opendir("conf/instruments");
    struct dirent *de;
    int files = 0;

    ck_assert_msg(d != NULL, "conf/instruments: run from the repo root");
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        char path[1024], name[1024];
        struct instrument in, in2;
        lq_err_t err = { "" };

        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        files++;
        snprintf(path, sizeof(path), "conf/instruments/%s", de->d_name);
        ck_assert_msg(instrument_load_file(path, &in, &err) == 0, "%s",
                      err.msg);
        snprintf(name, sizeof(name), "%s-%s.json", in.venue, in.symbol);
        ck_assert_msg(strcmp(name, de->d_name) == 0,
                      "%s names %s:%s", path, in.venue, in.symbol);
        ck_assert_msg(in.tiers.n >= 1, "%s", path);
        ck_assert(in.tick_size > 0);
        ck_assert(in.lot_step > 0);
        ck_assert(in.contract_value > 0);
        ck_assert_int_eq(instrument_load_dir("conf/instruments", in.venue,
                                             in.symbol, &in2, &err), 0);
        ck_assert_uint_eq(in2.tiers.n, in.tiers.n);
        ck_assert(memcmp(in2.tiers.t, in.tiers.t,
                         in.tiers.n * sizeof(*in.tiers.t)) == 0);
        instrument_fini(&in);
        instrument_fini(&in2);
    }
    closedir(d);
    ck_assert_msg(files >= 2, "only %d instrument files", files);
}
END_TEST

START_TEST(test_instrument_values)
{
    struct instrument in;
    lq_err_t err = { "" };

    ck_assert_int_eq(instrument_load_dir("conf/instruments", "binance-usdm",
                                         "BTCUSDT", &in, &err), 0);
    ck_assert(in.tick_size == 0.1);
    ck_dec_eq(in.lot_step, D("0.001"));
    ck_dec_eq(in.contract_value, D("1"));
    ck_assert(in.tiers.t[0].notional_floor == 0);
    instrument_fini(&in);
    instrument_fini(&in);                       /* safe twice */

    ck_assert_int_eq(instrument_load_dir("conf/instruments", "okx-swap",
                                         "BTC-USDT-SWAP", &in, &err), 0);
    ck_dec_eq(in.contract_value, D("0.01"));
    instrument_fini(&in);

    ck_assert_int_eq(instrument_load_dir("conf/instruments", "binance-usdm",
                                         "NOPEUSDT", &in, &err), 1);
    ck_assert_str_eq(err.msg, "conf/instruments/binance-usdm-NOPEUSDT.json: "
                     "no such file");
    ck_assert_int_eq(instrument_load_dir("conf/instruments", "..",
                                         "x/../../etc", &in, &err), -1);
    instrument_fini(NULL);
}
END_TEST

static const char *tiers_ok =
    "\"tiers\":[{\"notional_floor\":0,\"notional_cap\":50000,\"mmr\":0.004,"
    "\"maint_amount\":0},{\"notional_floor\":50000,\"notional_cap\":1e6,"
    "\"mmr\":0.005,\"maint_amount\":50}]";

START_TEST(test_instrument_bad_files)
{
    static const struct { const char *body; const char *msg; } c[] = {
        { "{\"venue\":\"v\",", "line 1, column *" },
        { "[1]", "must be a JSON object" },
        { "{\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,%s}",
          "venue: missing" },
        { "{\"venue\":7,\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,%s}",
          "venue: must be a string" },
        { "{\"venue\":\"\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,%s}",
          "venue: must not be empty" },
        { "{\"venue\":\"v\",\"symbol\":\"SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS"
          "SSSSSSSSSSSSSSSSSSSS\",\"tick_size\":1,\"lot_step\":1,%s}",
          "symbol: longer than 47 bytes" },
        { "{\"venue\":\"a/b\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "%s}", "venue: 'a/b' must not contain*" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"lot_step\":1,%s}",
          "tick_size: missing" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":\"0\","
          "\"lot_step\":1,%s}", "tick_size: must be > 0" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":\"0x1\","
          "\"lot_step\":1,%s}", "tick_size: '0x1' is not a decimal number" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":true,"
          "\"lot_step\":1,%s}",
          "tick_size: must be a number or a decimal string" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,%s}",
          "lot_step: missing" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,"
          "\"lot_step\":\"0.000000001\",%s}",
          "lot_step: must be > 0 (it rounds to 0 at 8 decimal places)" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "\"contract_value\":-1,%s}", "contract_value: must be > 0" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "\"contract_value\":\"one\",%s}",
          "contract_value: 'one' is not a decimal number" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1}",
          "tiers: missing" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "\"tiers\":[]}", "tiers: must hold at least one tier" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "\"tiers\":{}}", "tiers: must be an array of tier objects" },
        { "{\"venue\":\"v\",\"symbol\":\"S\",\"tick_size\":1,\"lot_step\":1,"
          "\"tiers\":[{\"notional_floor\":0,\"notional_cap\":1,\"mmr\":0,"
          "\"maint_amount\":0},{\"notional_floor\":1,\"notional_cap\":2,"
          "\"mmr\":0,\"maint_amount\":0},{\"notional_floor\":2,"
          "\"notional_cap\":3,\"mmr\":0,\"maint_amount\":0},"
          "{\"notional_floor\":3,\"notional_cap\":4,\"mmr\":1,"
          "\"maint_amount\":0}]}", "tiers[3].mmr: must be in [0, 1)" },
        { "{\"venue\":\"v\",\"venue\":\"w\",\"symbol\":\"S\",\"tick_size\":1,"
          "\"lot_step\":1,%s}", "line 1, column *" },
    };
    char body[2048], want[9000];
    struct instrument in;
    lq_err_t err;

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        const char *path;
        size_t n;
        snprintf(body, sizeof(body), c[i].body, tiers_ok);
        path = put_str("v-S.json", body);
        ck_assert_msg(instrument_load_file(path, &in, &err) == -1,
                      "case %zu loaded", i);
        ck_assert_ptr_null(in.tiers.t);
        snprintf(want, sizeof(want), "%s: %s", path, c[i].msg);
        n = strlen(want);
        if (want[n - 1] == '*')
            ck_assert_msg(strncmp(err.msg, want, n - 1) == 0,
                          "case %zu: got '%s', want '%s'", i, err.msg, want);
        else
            ck_assert_msg(strcmp(err.msg, want) == 0,
                          "case %zu: got '%s', want '%s'", i, err.msg, want);
    }

    /* contract_value defaults to 1; numbers as well as strings. */
    snprintf(body, sizeof(body), "{\"venue\":\"v\",\"symbol\":\"S\","
             "\"tick_size\":0.5,\"lot_step\":0.001,\"extra\":[1],%s}",
             tiers_ok);
    put_str("v-S.json", body);
    ck_assert_int_eq(instrument_load_dir(tmpdir, "v", "S", &in, &err), 0);
    ck_dec_eq(in.contract_value, D("1"));
    ck_dec_eq(in.lot_step, D("0.001"));
    ck_assert(in.tick_size == 0.5);
    ck_assert_uint_eq(in.tiers.n, 2);
    instrument_fini(&in);

    /* The file must name the instrument its file name names. */
    put_str("w-S.json", body);
    ck_assert_int_eq(instrument_load_dir(tmpdir, "w", "S", &in, &err), -1);
    ck_assert_msg(strstr(err.msg, "w-S.json: venue/symbol: the file says v:S, "
                         "its name says w:S") != NULL, "%s", err.msg);

    snprintf(want, sizeof(want), "%s/none.json", tmpdir);
    ck_assert_int_eq(instrument_load_file(want, &in, &err), -1);
    ck_assert_msg(strstr(err.msg, "none.json: No such file or directory") != NULL,
                  "%s", err.msg);
}
END_TEST

Suite *posfile_suite(void)
{
    Suite *s = suite_create("posfile");
    TCase *tc = tcase_create("Core");
    TCase *ti = tcase_create("Instruments");

    tcase_add_checked_fixture(tc, got_setup, got_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_csv_any_column_order);
    tcase_add_test(tc, test_jsonl_same_rows);
    tcase_add_test(tc, test_exact_decimal_sum);
    tcase_add_test(tc, test_big_and_rounded_quantities);
    tcase_add_test(tc, test_crlf_bom_no_final_newline);
    tcase_add_test(tc, test_empty_files);
    tcase_add_test(tc, test_no_positions);
    tcase_add_test(tc, test_csv_quoting);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_csv_row_errors);
    tcase_add_test(tc, test_jsonl_row_errors);
    tcase_add_test(tc, test_messages_one_line);
    tcase_add_test(tc, test_json_strings_and_nesting);
    tcase_add_test(tc, test_long_lines);
    tcase_add_test(tc, test_buffer_boundaries);
    tcase_add_test(tc, test_stop_nul_and_unreadable);
    tcase_add_test(tc, test_format_from_name);
    tcase_add_test(tc, test_json_scanner_agrees_with_jansson);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(ti, tmp_setup, tmp_teardown);
    tcase_set_timeout(ti, 30);
    tcase_add_test(ti, test_every_conf_instrument_loads);
    tcase_add_test(ti, test_instrument_values);
    tcase_add_test(ti, test_instrument_bad_files);
    suite_add_tcase(s, ti);
    return s;
}
