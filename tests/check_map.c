/*
 * check_map.c - the liquidation map (mapmodel.h) and its SVG (mapsvg.h).
 *
 * Model: on seeded random positions and books, every bucket's notional and
 * count equal a plain loop over the positions (pindex_foreach: in the
 * cascade, LP in [edge i, edge i+1), the last bucket closed), the window's
 * sums plus outside_notional equal the side's total, longs sit only below
 * ref and shorts only above (the engine marked the others liquidated),
 * every edge's depth equals a loop over the book's levels, s* is the alert
 * rule's; the JSON reads back to the same model (9 digits).
 * Renderer: the document is well-formed XML (a small checker in the test:
 * one root, tags nest and close, attributes quoted, entities known), has
 * no script and no external reference, escapes the symbol, and the same
 * model gives the same bytes.  Without a reference price it still draws.
 * Store: a version 2 file (docs/store-schema.sql steps 1 and 2) with rows
 * opens at the current version (3 or later) with the map column, the rows
 * intact, and a snapshot's map is stored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "liqmon/engine.h"
#include "liqmon/mapmodel.h"
#include "liqmon/mapsvg.h"
#include "liqmon/store.h"
#include "suites.h"

struct fx {
    market_t *m;
    struct mkt_instr *in;
    engine_t *e;
};

static void fx_init(struct fx *f, const char *symbol)
{
    struct instrument ins;
    struct engine_config cfg;
    lq_err_t err;

    memset(f, 0, sizeof(*f));
    memset(&ins, 0, sizeof(ins));
    snprintf(ins.venue, sizeof(ins.venue), "binance-usdm");
    snprintf(ins.symbol, sizeof(ins.symbol), "%s", symbol);
    ins.tick_size = 0.1;
    ins.lot_step = 100000;
    ins.contract_value = DEC_SCALE;
    f->m = market_create();
    ck_assert_ptr_nonnull(f->m);
    f->in = market_add(f->m, VENUE_BINANCE, &ins, &err);
    ck_assert_ptr_nonnull(f->in);
    engine_config_default(&cfg);
    f->e = engine_create(f->m, &cfg, &err);
    ck_assert_ptr_nonnull(f->e);
}

static void fx_fini(struct fx *f)
{
    engine_destroy(f->e);
    market_destroy(f->m);
}

static void emit(struct fx *f, enum mev_type t, int64_t ts)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = t;
    ev.venue = VENUE_BINANCE;
    ev.instr = f->in;
    ev.recv_ts = ts;
    engine_on_event(f->e, &ev);
}

/* Random positions around 100 (some past it: liquidated by the engine),
 * a book of nlev levels a side, the mark at 100. */
static void fx_fill(struct fx *f, struct trng *r, int npos, int nlev)
{
    pindex_t *ix = engine_pindex(f->e, f->in);
    struct book_level *bids = calloc((size_t)nlev + 1, sizeof(*bids));
    struct book_level *asks = calloc((size_t)nlev + 1, sizeof(*asks));
    char id[32];

    for (int i = 0; i < npos; i++) {
        struct pos_spec s = { 0 };
        snprintf(id, sizeof(id), "p%d", i);
        s.id = id;
        s.side = trng_below(r, 2) ? POS_LONG : POS_SHORT;
        s.qty = (dec_t)(1 + trng_below(r, 500)) * 1000000;
        s.entry = 100;
        /* 50..150, on a grid that puts some LPs on bucket edges */
        s.liq_price = 50 + trng_below(r, 1000) * 0.1;
        ck_assert_int_eq(pindex_insert(ix, &s, NULL, NULL), PINDEX_OK);
    }
    for (int i = 0; i < nlev; i++) {
        bids[i].price = 99.9 - i * 0.3;
        bids[i].qty = (dec_t)(1 + trng_below(r, 30)) * 10000000;
        asks[i].price = 100.1 + i * 0.3;
        asks[i].qty = (dec_t)(1 + trng_below(r, 30)) * 10000000;
    }
    ck_assert_int_eq(market_apply_snapshot(f->in, bids, (size_t)nlev, asks,
                                           (size_t)nlev, 1), BOOK_OK);
    emit(f, MEV_BOOK_SNAPSHOT, 1);
    f->in->mark = 100;
    emit(f, MEV_MARK, 2);
    free(bids);
    free(asks);
}

/* ---- the reference: plain loops ------------------------------------------ */

struct ref_sums {
    const struct map_model *m;
    double notional[2][MAP_BUCKETS];
    uint64_t count[2][MAP_BUCKETS];
    double total[2];
    int wrong_side;
};

static int ref_visit(const struct pos_view *v, void *arg)
{
    struct ref_sums *rs = arg;
    const struct map_model *m = rs->m;
    int s = v->side == POS_SHORT;
    double n = dec_to_double(v->qty) * v->lp;

    if (!v->in_cascade)
        return 0;
    rs->total[s] += n;
    if (v->lp < m->lo || v->lp > m->hi)
        return 0;
    for (size_t i = 0; i < m->nbuckets; i++) {
        double a = mapmodel_edge(m, i), b = mapmodel_edge(m, i + 1);
        if (v->lp >= a && (v->lp < b || (i + 1 == m->nbuckets && v->lp <= b))) {
            rs->notional[s][i] += n;
            rs->count[s][i]++;
            if ((s == 0 && v->lp >= m->ref) || (s == 1 && v->lp <= m->ref))
                rs->wrong_side = 1;
            return 0;
        }
    }
    ck_abort_msg("LP %.17g in the window but in no bucket", v->lp);
    return 0;
}

static double ref_depth(const book_t *b, enum book_side side, double p)
{
    size_t n = book_level_count(b, side);
    struct book_level *lv = malloc((n ? n : 1) * sizeof(*lv));
    double q = 0;

    n = book_copy_levels(b, side, lv, n);
    for (size_t i = 0; i < n; i++)
        if (side == BOOK_BID ? lv[i].price >= p : lv[i].price <= p)
            q += dec_to_double(lv[i].qty);
    free(lv);
    return q;
}

static void check_model(struct fx *f, const struct map_model *m, uint64_t seed)
{
    struct ref_sums rs;
    struct alert_config ac;
    const struct engine_ladder *l = engine_ladder(f->e, f->in);

    memset(&rs, 0, sizeof(rs));
    rs.m = m;
    ck_assert_uint_eq(m->nbuckets, MAP_BUCKETS);
    ck_assert(m->lo < m->ref && m->ref < m->hi);
    ck_assert(tclose(mapmodel_edge(m, MAP_BUCKETS / 2), m->ref, 1e-12));
    pindex_foreach(engine_pindex(f->e, f->in), ref_visit, &rs);
    ck_assert_msg(!rs.wrong_side, "seed %llu: a long at or above ref, or a "
                  "short at or below it, in the cascade",
                  (unsigned long long)seed);
    for (int s = 0; s < 2; s++) {
        double in_window = 0;
        for (size_t i = 0; i < m->nbuckets; i++) {
            double got = s ? m->short_notional[i] : m->long_notional[i];
            uint64_t c = s ? m->short_count[i] : m->long_count[i];
            TCHECK(c == rs.count[s][i], "seed %llu: side %d bucket %zu: %llu "
                   "positions, want %llu", (unsigned long long)seed, s, i,
                   (unsigned long long)c, (unsigned long long)rs.count[s][i]);
            TCHECK(fabs(got - rs.notional[s][i]) <= 1e-9 * rs.total[s] + 1e-9,
                   "seed %llu: side %d bucket %zu: notional %.17g, want %.17g",
                   (unsigned long long)seed, s, i, got, rs.notional[s][i]);
            /* longs below ref, shorts above */
            TCHECK(s ? !(got > 0) || mapmodel_edge(m, i + 1) > m->ref
                     : !(got > 0) || mapmodel_edge(m, i) < m->ref,
                   "seed %llu: side %d bucket %zu on the wrong side of ref",
                   (unsigned long long)seed, s, i);
            in_window += got;
        }
        TCHECK(tclose(in_window + m->side[s].outside_notional, rs.total[s], 1e-9),
               "seed %llu: side %d: window %.17g + outside %.17g != %.17g",
               (unsigned long long)seed, s, in_window, m->side[s].outside_notional,
               rs.total[s]);
    }
    for (size_t i = 0; i <= m->nbuckets; i++) {
        double e = mapmodel_edge(m, i);
        TCHECK(tclose(m->bid_depth[i], ref_depth(f->in->book, BOOK_BID, e), 1e-12) &&
               tclose(m->ask_depth[i], ref_depth(f->in->book, BOOK_ASK, e), 1e-12),
               "seed %llu: depth at edge %zu", (unsigned long long)seed, i);
    }
    /* s*: the alert rule's, on the engine's ladder */
    alert_config_default(&ac);
    for (int s = 0; s < 2; s++) {
        const struct cascade_row *st = alert_cascade_star(&ac, l->rows, l->nrows,
                                                          (enum cascade_dir)s);
        if (st == NULL)
            ck_assert(isnan(m->side[s].s_star));
        else
            ck_assert(m->side[s].s_star == st->shock);
        ck_assert_uint_eq(m->side[s].nrows, l->nrows / 2);
    }
}

START_TEST(model_buckets)
{
    uint64_t seed = test_seed() + (uint64_t)_i;
    struct trng r;
    struct fx f;
    struct map_model *m = malloc(sizeof(*m));
    char salt[32];

    snprintf(salt, sizeof(salt), "map-%d", _i);
    trng_init(&r, salt);
    fx_init(&f, "TESTUSDT");
    fx_fill(&f, &r, 300 + 200 * _i, 10 + 40 * _i);
    ck_assert(engine_ladder(f.e, f.in)->valid);
    ck_assert_int_eq(mapmodel_build(m, f.in, f.e, NULL, 1234), 0);
    check_model(&f, m, seed);
    ck_assert_int_eq(m->ts, 1234);
    ck_assert_str_eq(m->venue, "binance-usdm");
    ck_assert_str_eq(m->symbol, "TESTUSDT");
    free(m);
    fx_fini(&f);
}
END_TEST

START_TEST(model_json_roundtrip)
{
    struct trng r;
    struct fx f;
    struct map_model *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct jsonw w;
    lq_err_t err = { "" };

    trng_init(&r, "map-json");
    fx_init(&f, "TESTUSDT");
    fx_fill(&f, &r, 500, 30);
    ck_assert_int_eq(mapmodel_build(a, f.in, f.e, NULL, 42), 0);
    for (int rows = 0; rows < 2; rows++) {
        jw_init(&w);
        mapmodel_json(&w, a, rows);
        ck_assert(!jw_failed(&w));
        ck_assert_msg(mapmodel_parse(w.buf, w.len, b, &err) == 0, "%s", err.msg);
        jw_fini(&w);
        ck_assert_str_eq(b->venue, a->venue);
        ck_assert_str_eq(b->symbol, a->symbol);
        ck_assert_int_eq(b->ts, a->ts);
        ck_assert(b->ref == a->ref && b->lo == a->lo && b->hi == a->hi);
        ck_assert_uint_eq(b->nbuckets, a->nbuckets);
        for (size_t i = 0; i < a->nbuckets; i++) {
            ck_assert(tclose(b->long_notional[i], a->long_notional[i], 1e-8));
            ck_assert(tclose(b->short_notional[i], a->short_notional[i], 1e-8));
            ck_assert_uint_eq(b->long_count[i], a->long_count[i]);
            ck_assert_uint_eq(b->short_count[i], a->short_count[i]);
        }
        for (int s = 0; s < 2; s++) {
            ck_assert((isnan(b->side[s].s_star) && isnan(a->side[s].s_star)) ||
                      b->side[s].s_star == a->side[s].s_star);
            ck_assert_uint_eq(b->side[s].nrows, rows ? a->side[s].nrows : 0);
            for (size_t k = 0; rows && k < a->side[s].nrows; k++)
                ck_assert(b->side[s].rows[k].final_price == a->side[s].rows[k].final_price);
        }
    }
    /* Broken input: one line naming the problem. */
    ck_assert_int_eq(mapmodel_parse("{\"venue\":1}", 11, b, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "venue"));
    ck_assert_int_eq(mapmodel_parse("{", 1, b, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1"));
    free(a);
    free(b);
    fx_fini(&f);
}
END_TEST

/* ---- a minimal XML well-formedness check --------------------------------- */

static const char *xml_fail(const char *at, const char *why, const char *doc)
{
    static char msg[200];
    snprintf(msg, sizeof(msg), "offset %ld: %s", (long)(at - doc), why);
    return msg;
}

/* NULL when s is well-formed (as far as an SVG writer needs): a prolog,
 * one root element, elements nested and closed, attribute values quoted
 * and free of '<', text free of '<' and of unknown entities. */
static const char *xml_check(const char *doc)
{
    const char *p = doc, *stack[64];
    size_t lens[64];
    int depth = 0, roots = 0;

    if (strncmp(p, "<?xml ", 6) == 0) {
        if ((p = strstr(p, "?>")) == NULL)
            return "unterminated prolog";
        p += 2;
    }
    while (*p) {
        if (*p == '<') {
            int closing = p[1] == '/';
            const char *n = p + 1 + closing, *e = n;
            while (*e && (isalnum((unsigned char)*e) || *e == '-' || *e == ':'))
                e++;
            if (e == n)
                return xml_fail(p, "empty tag name", doc);
            if (closing) {
                if (depth == 0 || (size_t)(e - n) != lens[depth - 1] ||
                    strncmp(n, stack[depth - 1], lens[depth - 1]) != 0)
                    return xml_fail(p, "closing tag does not match", doc);
                depth--;
                if (*e != '>')
                    return xml_fail(e, "junk in closing tag", doc);
                p = e + 1;
                continue;
            }
            if (depth == 0 && roots++ > 0)
                return xml_fail(p, "second root element", doc);
            /* attributes */
            for (;;) {
                while (*e == ' ' || *e == '\n')
                    e++;
                if (*e == '>' || (e[0] == '/' && e[1] == '>'))
                    break;
                while (*e && (isalnum((unsigned char)*e) || *e == '-' || *e == ':'))
                    e++;
                if (*e != '=' || e[1] != '"')
                    return xml_fail(e, "attribute without a quoted value", doc);
                e += 2;
                while (*e && *e != '"') {
                    if (*e == '<')
                        return xml_fail(e, "'<' in an attribute", doc);
                    e++;
                }
                if (*e != '"')
                    return xml_fail(e, "unterminated attribute", doc);
                e++;
            }
            if (*e == '/') {
                p = e + 2;
                continue;
            }
            if (depth == 64)
                return "too deep";
            stack[depth] = n;
            lens[depth] = (size_t)(strcspn(n, " />\n"));
            depth++;
            p = e + 1;
        } else if (*p == '&') {
            static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
            int ok = 0;
            for (size_t k = 0; k < 5; k++)
                ok |= strncmp(p, ents[k], strlen(ents[k])) == 0;
            if (!ok)
                return xml_fail(p, "unknown entity", doc);
            p++;
        } else {
            if (depth == 0 && !isspace((unsigned char)*p))
                return xml_fail(p, "text outside the root", doc);
            p++;
        }
    }
    if (depth != 0 || roots != 1)
        return "unclosed elements, or no root";
    return NULL;
}

static char *render(const struct map_model *m)
{
    char *buf;
    size_t len;

    ck_assert_int_eq(mapsvg_render_mem(m, &buf, &len), 0);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

START_TEST(svg_wellformed)
{
    struct trng r;
    struct fx f;
    struct map_model *m = malloc(sizeof(*m));
    char *a, *b;
    const char *why;

    trng_init(&r, "map-svg");
    fx_init(&f, "A&B<\"x\">'");
    fx_fill(&f, &r, 400, 20);
    ck_assert_int_eq(mapmodel_build(m, f.in, f.e, NULL, 1796040000000000000LL), 0);
    a = render(m);
    why = xml_check(a);
    ck_assert_msg(why == NULL, "not well-formed: %s", why);
    ck_assert_ptr_nonnull(strstr(a, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_null(strstr(a, "<script"));
    ck_assert_ptr_null(strstr(a, "href"));
    ck_assert_ptr_null(strstr(a, "url("));
    ck_assert_ptr_nonnull(strstr(a, "A&amp;B&lt;&quot;x&quot;&gt;&apos;"));
    ck_assert_ptr_nonnull(strstr(a, "2026-11-30 12:00:00 UTC"));
    b = render(m);
    ck_assert_str_eq(a, b);                /* deterministic */
    free(a);
    free(b);

    /* No reference price: still a document, saying so. */
    memset(m, 0, sizeof(*m));
    snprintf(m->venue, sizeof(m->venue), "okx-swap");
    snprintf(m->symbol, sizeof(m->symbol), "BTC-USDT-SWAP");
    m->side[0].s_star = m->side[1].s_star = NAN;
    a = render(m);
    why = xml_check(a);
    ck_assert_msg(why == NULL, "not well-formed: %s", why);
    ck_assert_ptr_nonnull(strstr(a, "no reference price"));
    free(a);
    free(m);
    fx_fini(&f);
}
END_TEST

/* ---- the store: a version 2 file migrates to 3 ---------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *s;

    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

START_TEST(store_migrate_v2)
{
    char dir[] = "/tmp/check_map.XXXXXX", path[128], *all, *cut;
    struct store_config c;
    struct store_run run = { 0, "test", NULL, "live", "check_map" };
    struct store_snapshot sn;
    lq_err_t err = { "" };
    sqlite3 *db;
    store_t *s;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/v2.db", dir);
    all = slurp("docs/store-schema.sql");
    cut = strstr(all, "-- ---- step 3 ");
    ck_assert_ptr_nonnull(cut);
    *cut = '\0';                           /* steps 1 and 2: a version 2 file */
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, all, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 2; INSERT INTO "
                                  "snapshots (run_id, ts, venue, instrument, ref, "
                                  "book_valid, long_count, long_qty, short_count, "
                                  "short_qty, ladder_valid, bid_reach_pct) VALUES "
                                  "(1, 160, 'okx-swap', 'okx-swap:BTC', 90000, 1, 3, "
                                  "1.5, 4, 2.5, 0, 2.5)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(all);

    store_config_default(&c);
    c.path = path;
    s = store_open(&c, &run, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    memset(&sn, 0, sizeof(sn));
    sn.ts = 200;
    sn.venue = "okx-swap";
    sn.instrument = "okx-swap:BTC";
    sn.ref = 91000;
    sn.map = "{\"version\":1}";
    ck_assert_int_eq(store_put_snapshot(s, &sn), 0);
    ck_assert_int_eq(store_close(s, NULL, &err), 0);

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(q1(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    ck_assert_int_ge(STORE_SCHEMA_VERSION, 3);
    ck_assert_int_eq(q1(db, "SELECT count(*) FROM snapshots WHERE ts = 160 AND "
                            "map IS NULL AND bid_reach_pct = 2.5"), 1);
    ck_assert_int_eq(q1(db, "SELECT count(*) FROM snapshots WHERE ts = 200 AND "
                            "map = '{\"version\":1}'"), 1);
    sqlite3_close(db);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(path), 0);
}
END_TEST

Suite *map_suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("model");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, model_buckets, 0, 4);
    tcase_add_test(tc, model_json_roundtrip);
    suite_add_tcase(s, tc);
    tc = tcase_create("svg");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, svg_wellformed);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, store_migrate_v2);
    suite_add_tcase(s, tc);
    return s;
}
