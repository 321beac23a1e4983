/*
 * fz_posfile.c - the positions loader (CSV or JSON Lines, sniffed: the
 * input is the file, read by path from memory).
 *
 * Properties:
 *  - every problem is "<path>:<line>: <what>", one line of text, with
 *    line <= the lines read; a header or read error's message too;
 *  - the counts add up: rows = loaded + rejected, every loaded row went
 *    to on_row, every rejected one to on_error; posfile_empty says so
 *    exactly when rows == 0;
 *  - an accepted row keeps the documented invariants: non-empty id,
 *    venue and symbol without '/', '\', ':', blanks or control bytes
 *    (and within the instrument buffers), side long or short, qty > 0,
 *    entry finite > 0, exactly one of margin / liq_price, finite > 0;
 *    line numbers increase;
 *  - an accepted row written back as CSV and as JSON Lines (qty as
 *    dec_format's text, prices as %.17g) loads as the same row;
 *  - the rows go into a position index (with a tier table) that stays
 *    consistent (pindex_check); refusals other than a repeated id carry
 *    a one-line message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/posfile.h"
#include "fuzz.h"

#define MAX_ROWS 32

struct row {
    size_t line;
    char *id, *account, *venue, *symbol;
    struct pos_spec spec;
};

struct ctx {
    const char *path;
    size_t errors, rows, last_line;
    struct row r[MAX_ROWS];
    size_t nr;
    pindex_t *ix;
};

static void on_error(const char *msg, void *arg)
{
    struct ctx *c = arg;
    size_t pl = strlen(c->path);
    char *end;

    FZ_CHECK_MSG("posfile problem", msg);
    FZ_CHECK(strncmp(msg, c->path, pl) == 0 && msg[pl] == ':', "problem '%s': no path", msg);
    FZ_CHECK(strtoul(msg + pl + 1, &end, 10) >= 1 && end[0] == ':' && end[1] == ' ',
             "problem '%s': no line", msg);
    c->errors++;
}

static int name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == 0x7f || ch == '/' || ch == '\\' || ch == ':')
            return 0;
    }
    return 1;
}

static int pos_ok(double v)
{
    return isfinite(v) && v > 0;
}

static int on_row(const struct posfile_row *row, void *arg)
{
    struct ctx *c = arg;
    const struct pos_spec *s = &row->spec;
    lq_err_t err;

    c->rows++;
    FZ_CHECK(row->line > c->last_line, "row line %zu after %zu", row->line, c->last_line);
    c->last_line = row->line;
    FZ_CHECK(row->id && row->id[0] && s->id == row->id, "id");
    FZ_CHECK(row->account && s->account == row->account, "account");
    FZ_CHECK(name_ok(row->venue, INSTRUMENT_VENUE_MAX - 1), "venue '%s'", row->venue);
    FZ_CHECK(name_ok(row->symbol, INSTRUMENT_SYMBOL_MAX - 1), "symbol '%s'", row->symbol);
    FZ_CHECK(s->side == POS_LONG || s->side == POS_SHORT, "side %d", (int)s->side);
    FZ_CHECK(s->qty > 0, "qty <= 0");
    FZ_CHECK(pos_ok(s->entry), "entry %.17g", s->entry);
    if (s->has_margin)
        FZ_CHECK(s->has_margin == 1 && pos_ok(s->margin) && s->liq_price == 0,
                 "margin %.17g liq_price %.17g", s->margin, s->liq_price);
    else
        FZ_CHECK(pos_ok(s->liq_price) && s->margin == 0, "liq_price %.17g margin %.17g",
                 s->liq_price, s->margin);
    if (c->ix) {
        int rc = pindex_insert(c->ix, s, NULL, &err);
        if (rc != PINDEX_OK && rc != PINDEX_EEXIST)
            FZ_CHECK_MSG("pindex_insert", err.msg);
        FZ_CHECK(rc != PINDEX_ENOTIERS && rc != PINDEX_ENOMEM, "pindex_insert %d", rc);
    }
    if (c->nr < MAX_ROWS) {
        struct row *r = &c->r[c->nr++];
        r->line = row->line;
        r->id = strdup(row->id);
        r->account = strdup(row->account);
        r->venue = strdup(row->venue);
        r->symbol = strdup(row->symbol);
        r->spec = *s;
        FZ_CHECK(r->id && r->account && r->venue && r->symbol, "oom");
    }
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static int csv_ok(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int all_utf8(const struct row *r)
{
    const char *s[4] = { r->id, r->account, r->venue, r->symbol };
    for (int i = 0; i < 4; i++)
        if (!fz_utf8_ok(s[i], strlen(s[i])))
            return 0;
    return 1;
}

/* Write row r in one format (0 CSV, 1 JSON Lines) and load it back. */
static void rewrite(const struct row *r, int json)
{
    char *buf = NULL, qty[DEC_STRLEN], price[2][32];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct ctx c;
    struct posfile_stats st;
    lq_err_t err;
    const char *path;

    FZ_CHECK(f != NULL, "oom");
    dec_format(r->spec.qty, qty);
    snprintf(price[0], sizeof(price[0]), "%.17g", r->spec.entry);
    snprintf(price[1], sizeof(price[1]), "%.17g",
             r->spec.has_margin ? r->spec.margin : r->spec.liq_price);
    if (json) {
        fputs("{\"id\":", f);
        json_str(f, r->id);
        fputs(",\"account\":", f);
        json_str(f, r->account);
        fputs(",\"venue\":", f);
        json_str(f, r->venue);
        fputs(",\"symbol\":", f);
        json_str(f, r->symbol);
        fprintf(f, ",\"side\":\"%s\",\"qty\":%s,\"entry\":%s,\"%s\":%s}\n",
                r->spec.side == POS_LONG ? "long" : "short", qty, price[0],
                r->spec.has_margin ? "margin" : "liq_price", price[1]);
    } else {
        fprintf(f, "id,account,venue,symbol,side,qty,entry,%s\n",
                r->spec.has_margin ? "margin" : "liq_price");
        csv_str(f, r->id);
        fputc(',', f);
        csv_str(f, r->account);
        fputc(',', f);
        csv_str(f, r->venue);
        fputc(',', f);
        csv_str(f, r->symbol);
        fprintf(f, ",%s,%s,%s,%s\n", r->spec.side == POS_LONG ? "long" : "short", qty,
                price[0], price[1]);
    }
    FZ_CHECK(fclose(f) == 0, "memstream");
    memset(&c, 0, sizeof(c));
    path = fz_file(1, buf, len);
    c.path = path;
    FZ_CHECK(posfile_load(path, on_row, on_error, &c, &st, &err) == POSFILE_OK,
             "rewritten row does not load: %s", err.msg);
    FZ_CHECK(c.nr == 1 && c.errors == 0, "rewritten row (%s) of line %zu: %zu rows, %zu errors: %s",
             json ? "JSON" : "CSV", r->line, c.nr, c.errors, buf);
    const struct row *g = &c.r[0];
    FZ_CHECK(strcmp(g->id, r->id) == 0 && strcmp(g->account, r->account) == 0 &&
                 strcmp(g->venue, r->venue) == 0 && strcmp(g->symbol, r->symbol) == 0 &&
                 g->spec.side == r->spec.side && g->spec.qty == r->spec.qty &&
                 g->spec.entry == r->spec.entry && g->spec.has_margin == r->spec.has_margin &&
                 g->spec.margin == r->spec.margin && g->spec.liq_price == r->spec.liq_price,
             "row of line %zu changed when written as %s: %s", r->line, json ? "JSON" : "CSV", buf);
    free(g->id);
    free(g->account);
    free(g->venue);
    free(g->symbol);
    free(buf);
}

void fuzz_posfile_one(const uint8_t *data, size_t size)
{
    const struct mkt_instr *tpl;
    struct posfile_stats st;
    struct ctx c;
    lq_err_t err, e2;
    const char *path;
    int rc, empty;

    fz_begin();
    tpl = market_find(fz_instruments(), VENUE_BINANCE, "BTCUSDT");
    FZ_CHECK(tpl != NULL, "no binance-usdm BTCUSDT in conf/instruments");
    memset(&c, 0, sizeof(c));
    path = fz_file(0, data, size);
    c.path = path;
    c.ix = pindex_create(&tpl->spec.tiers);
    FZ_CHECK(c.ix != NULL, "oom");
    err.msg[0] = '\0';
    rc = posfile_load(path, on_row, on_error, &c, &st, &err);
    FZ_CHECK(rc == POSFILE_OK || rc == POSFILE_EHEADER, "posfile_load %d: %s", rc, err.msg);
    if (rc == POSFILE_EHEADER) {
        FZ_CHECK_MSG("header error", err.msg);
        FZ_CHECK(strncmp(err.msg, path, strlen(path)) == 0, "header error '%s': no path", err.msg);
    }
    FZ_CHECK(st.loaded == c.rows && st.rejected == c.errors,
             "stats: loaded %zu rejected %zu; seen %zu rows %zu errors", st.loaded, st.rejected,
             c.rows, c.errors);
    if (rc == POSFILE_OK)
        FZ_CHECK(st.rows == st.loaded + st.rejected, "rows %zu != loaded %zu + rejected %zu",
                 st.rows, st.loaded, st.rejected);
    FZ_CHECK(st.header_line <= st.lines && st.rows <= st.lines, "lines %zu, header %zu, rows %zu",
             st.lines, st.header_line, st.rows);
    FZ_CHECK(c.last_line <= st.lines, "row line %zu of %zu", c.last_line, st.lines);
    empty = posfile_empty(path, &st, &e2);
    FZ_CHECK(empty == (st.rows == 0), "posfile_empty %d with %zu rows", empty, st.rows);
    if (empty)
        FZ_CHECK_MSG("posfile_empty", e2.msg);
    FZ_CHECK(pindex_check(c.ix) == 0, "pindex_check after %zu rows", c.rows);
    pindex_destroy(c.ix);

    for (size_t i = 0; i < c.nr; i++) {
        struct row *r = &c.r[i];
        if (csv_ok(r->id) && csv_ok(r->account))
            rewrite(r, 0);
        if (all_utf8(r))
            rewrite(r, 1);
        free(r->id);
        free(r->account);
        free(r->venue);
        free(r->symbol);
    }
}
