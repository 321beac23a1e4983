/*
 * scenario.c - scenario files for the simulator (see scenario.h and
 * cascade-model.md, "Scenario files").
 *
 * Syntax is jansson's job (with duplicate keys rejected); meaning is
 * checked here field by field, each error naming its JSON path.
 * Quantities may be JSON numbers or decimal strings; a number goes
 * through dec_from_double, which recovers the decimal text jansson read
 * (exact for up to 15 significant digits, the contract's range), and is
 * then rounded to 8 places as the contract says.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "liqmon/jsonval.h"
#include "liqmon/jsonw.h"
#include "liqmon/scenario.h"

static const json_t *need(const json_t *obj, const char *key,
                          const char *path, lq_err_t *err)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        lq_err_set(err, "%s%s%s: missing", path, *path ? "." : "", key);
    return v;
}

static int parse_levels(const json_t *arr, const char *name,
                        enum book_side side, struct book_level **out,
                        size_t *n, lq_err_t *err)
{
    char path[64];
    size_t i, cnt;
    struct book_level *lv;

    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return lq_err_set(err, "book.%s: must be an array of [price, qty]", name);
    cnt = json_array_size(arr);
    lv = calloc(cnt ? cnt : 1, sizeof(*lv));
    if (lv == NULL)
        return lq_err_set(err, "out of memory");
    for (i = 0; i < cnt; i++) {
        const json_t *l = json_array_get(arr, i);
        snprintf(path, sizeof(path), "book.%s[%zu]", name, i);
        if (!json_is_array(l) || json_array_size(l) != 2) {
            lq_err_set(err, "%s: must be [price, qty]", path);
            goto fail;
        }
        snprintf(path, sizeof(path), "book.%s[%zu].price", name, i);
        if (jsonval_price(json_array_get(l, 0), path, &lv[i].price, err) != 0)
            goto fail;
        snprintf(path, sizeof(path), "book.%s[%zu].qty", name, i);
        if (jsonval_qty(json_array_get(l, 1), path, &lv[i].qty, err) != 0)
            goto fail;
        if (i > 0 && (side == BOOK_BID ? !(lv[i].price < lv[i - 1].price)
                                       : !(lv[i].price > lv[i - 1].price))) {
            lq_err_set(err, "book.%s[%zu]: prices must be strictly %s "
                       "(%.17g after %.17g)", name, i,
                       side == BOOK_BID ? "descending" : "ascending",
                       lv[i].price, lv[i - 1].price);
            goto fail;
        }
    }
    *out = lv;
    *n = cnt;
    return 0;
fail:
    free(lv);
    return -1;
}

static int parse_book(const json_t *root, struct scenario *sc, lq_err_t *err)
{
    const json_t *book, *bids, *asks;
    struct book_level *b = NULL, *a = NULL;
    size_t nb = 0, na = 0;
    int rc = -1;

    if ((book = need(root, "book", "", err)) == NULL)
        return -1;
    if (!json_is_object(book))
        return lq_err_set(err, "book: must be an object with bids and asks");
    if ((bids = need(book, "bids", "book", err)) == NULL ||
        (asks = need(book, "asks", "book", err)) == NULL)
        return -1;
    if (parse_levels(bids, "bids", BOOK_BID, &b, &nb, err) != 0 ||
        parse_levels(asks, "asks", BOOK_ASK, &a, &na, err) != 0)
        goto out;
    sc->book = book_create();
    if (sc->book == NULL) {
        lq_err_set(err, "out of memory");
        goto out;
    }
    /* A crossed book is still a book: the contract simulates each side
     * against its own levels, so it is accepted as given. */
    if (book_apply_snapshot(sc->book, b, nb, a, na, err) < 0) {
        lq_err_prefix(err, "book");
        goto out;
    }
    rc = 0;
out:
    free(b);
    free(a);
    return rc;
}

static int parse_position(const json_t *o, size_t i, struct scenario *sc,
                          lq_err_t *err)
{
    char path[64], fpath[96];
    const json_t *v;
    struct pos_spec s;
    const char *side;

    memset(&s, 0, sizeof(s));
    snprintf(path, sizeof(path), "positions[%zu]", i);
    if (!json_is_object(o))
        return lq_err_set(err, "%s: must be an object", path);
    if ((v = need(o, "id", path, err)) == NULL)
        return -1;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return lq_err_set(err, "%s.id: must be a non-empty string", path);
    s.id = json_string_value(v);
    if ((v = need(o, "side", path, err)) == NULL)
        return -1;
    side = json_is_string(v) ? json_string_value(v) : NULL;
    if (side && strcmp(side, "long") == 0)
        s.side = POS_LONG;
    else if (side && strcmp(side, "short") == 0)
        s.side = POS_SHORT;
    else if (side)
        return lq_err_set(err, "%s.side: unknown side '%s' (expected long "
                          "or short)", path, side);
    else
        return lq_err_set(err, "%s.side: must be \"long\" or \"short\"", path);
    if ((v = need(o, "qty", path, err)) == NULL)
        return -1;
    snprintf(fpath, sizeof(fpath), "%s.qty", path);
    if (jsonval_qty(v, fpath, &s.qty, err) != 0)
        return -1;
    const json_t *m = json_object_get(o, "margin");
    const json_t *lp = json_object_get(o, "liq_price");

    /* entry feeds only the margin formula: the contract's own example
     * gives a liq_price position without one. */
    v = json_object_get(o, "entry");
    if (v == NULL && m != NULL)
        return lq_err_set(err, "%s.entry: missing (needed with margin)", path);
    snprintf(fpath, sizeof(fpath), "%s.entry", path);
    if (v != NULL && jsonval_price(v, fpath, &s.entry, err) != 0)
        return -1;

    if (m && lp)
        return lq_err_set(err, "%s: give either margin or liq_price, not "
                          "both", path);
    if (!m && !lp)
        return lq_err_set(err, "%s: missing margin or liq_price", path);
    if (m) {
        s.has_margin = 1;
        snprintf(fpath, sizeof(fpath), "%s.margin", path);
        if (jsonval_price(m, fpath, &s.margin, err) != 0)
            return -1;
        if (sc->tiers.n == 0)
            return lq_err_set(err, "%s.margin: the scenario has no tiers to "
                              "compute a liquidation price with", path);
    } else {
        snprintf(fpath, sizeof(fpath), "%s.liq_price", path);
        if (jsonval_price(lp, fpath, &s.liq_price, err) != 0)
            return -1;
    }
    if (pindex_insert(sc->ix, &s, NULL, err) != PINDEX_OK) {
        lq_err_prefix(err, "%s", path);
        return -1;
    }
    return 0;
}

static int parse_shocks_sides(const json_t *root, struct scenario *sc,
                              lq_err_t *err)
{
    const json_t *arr;
    char path[32];
    size_t i;

    if ((arr = need(root, "shocks", "", err)) == NULL)
        return -1;
    if (!json_is_array(arr))
        return lq_err_set(err, "shocks: must be an array of numbers");
    sc->nshocks = json_array_size(arr);
    sc->shocks = calloc(sc->nshocks ? sc->nshocks : 1, sizeof(double));
    if (sc->shocks == NULL)
        return lq_err_set(err, "out of memory");
    for (i = 0; i < sc->nshocks; i++) {
        snprintf(path, sizeof(path), "shocks[%zu]", i);
        if (jsonval_double(json_array_get(arr, i), path, &sc->shocks[i], err) != 0)
            return -1;
        if (!(sc->shocks[i] >= 0 && sc->shocks[i] < 1))
            return lq_err_set(err, "%s: must be >= 0 and < 1", path);
    }

    arr = json_object_get(root, "sides");
    if (arr == NULL) {
        sc->sides = malloc(2 * sizeof(*sc->sides));
        if (sc->sides == NULL)
            return lq_err_set(err, "out of memory");
        sc->sides[0] = CASCADE_DOWN;
        sc->sides[1] = CASCADE_UP;
        sc->nsides = 2;
        return 0;
    }
    if (!json_is_array(arr))
        return lq_err_set(err, "sides: must be an array of \"down\" / \"up\"");
    sc->nsides = json_array_size(arr);
    sc->sides = calloc(sc->nsides ? sc->nsides : 1, sizeof(*sc->sides));
    if (sc->sides == NULL)
        return lq_err_set(err, "out of memory");
    for (i = 0; i < sc->nsides; i++) {
        const json_t *v = json_array_get(arr, i);
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (s && strcmp(s, "down") == 0)
            sc->sides[i] = CASCADE_DOWN;
        else if (s && strcmp(s, "up") == 0)
            sc->sides[i] = CASCADE_UP;
        else if (s)
            return lq_err_set(err, "sides[%zu]: unknown side '%s' (expected "
                              "down or up)", i, s);
        else
            return lq_err_set(err, "sides[%zu]: must be \"down\" or \"up\"", i);
    }
    return 0;
}

int scenario_parse(const char *text, size_t len, struct scenario *sc,
                   lq_err_t *err)
{
    json_error_t jerr;
    json_t *root = NULL;
    const json_t *v;
    size_t i;

    memset(sc, 0, sizeof(*sc));
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jansson's text quotes input bytes raw ("invalid escape near
         * '"\<LF>'"); lq_err_set escapes them (lq_err_sanitize), so the
         * message stays one line. */
        lq_err_set(err, "line %d, column %d: %s", jerr.line, jerr.column,
                   jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        lq_err_set(err, "the scenario must be a JSON object");
        goto fail;
    }
    if ((v = need(root, "ref", "", err)) == NULL ||
        jsonval_price(v, "ref", &sc->ref, err) != 0)
        goto fail;
    if (parse_book(root, sc, err) != 0)
        goto fail;
    v = json_object_get(root, "tiers");
    if (v != NULL && tiers_from_json(v, &sc->tiers, err) != 0) {
        /* tiers_from_json says "[3].mmr: ..." or "must be ...". */
        if (err && err->msg[0] == '[') {
            char tmp[sizeof(err->msg)];
            snprintf(tmp, sizeof(tmp), "%s", err->msg);
            lq_err_set(err, "tiers%s", tmp);
        } else {
            lq_err_prefix(err, "tiers");
        }
        goto fail;
    }
    sc->ix = pindex_create(&sc->tiers);
    if (sc->ix == NULL) {
        lq_err_set(err, "out of memory");
        goto fail;
    }
    if ((v = need(root, "positions", "", err)) == NULL)
        goto fail;
    if (!json_is_array(v)) {
        lq_err_set(err, "positions: must be an array of objects");
        goto fail;
    }
    for (i = 0; i < json_array_size(v); i++)
        if (parse_position(json_array_get(v, i), i, sc, err) != 0)
            goto fail;
    if (parse_shocks_sides(root, sc, err) != 0)
        goto fail;
    json_decref(root);
    return 0;
fail:
    json_decref(root);
    scenario_fini(sc);
    return -1;
}

void scenario_fini(struct scenario *sc)
{
    book_destroy(sc->book);
    pindex_destroy(sc->ix);
    tiers_fini(&sc->tiers);
    free(sc->shocks);
    free(sc->sides);
    memset(sc, 0, sizeof(*sc));
}

static void write_trace(struct jsonw *w, const struct cascade_row *r,
                        const struct cascade_trace *tr)
{
    jw_obj_begin(w);
    jw_key(w, "side");
    jw_str(w, cascade_dir_name(r->side));
    jw_key(w, "shock");
    jw_double(w, r->shock);
    jw_key(w, "rounds");
    jw_arr_begin(w);
    for (size_t i = 0; i < tr->n; i++) {
        const struct cascade_round *c = &tr->rounds[i];
        jw_obj_begin(w);
        jw_key(w, "round");
        jw_u64(w, i + 1);
        jw_key(w, "price_before");
        jw_double(w, c->price_before);
        jw_key(w, "new_positions");
        jw_u64(w, c->new_positions);
        jw_key(w, "new_qty");
        jw_dec(w, c->new_qty);
        jw_key(w, "volume");
        jw_dec(w, c->volume);
        jw_key(w, "price_after");
        jw_double(w, c->price_after);
        jw_key(w, "exhausted");
        jw_bool(w, c->exhausted);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

static int write_position(const struct pos_view *v, void *arg)
{
    struct jsonw *w = arg;

    jw_obj_begin(w);
    jw_key(w, "id");
    jw_str(w, v->id);
    jw_key(w, "liq_price");
    jw_double(w, v->lp);
    jw_obj_end(w);
    return 0;
}

int scenario_write_results(const struct scenario *sc, FILE *out,
                           int with_trace, lq_err_t *err)
{
    size_t nrows = sc->nsides * sc->nshocks, i;
    struct cascade_row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
    struct cascade_trace *traces = NULL;
    struct jsonw w;
    int rc = -1;

    jw_init(&w);
    if (rows == NULL)
        goto nomem;
    if (with_trace && (traces = calloc(nrows ? nrows : 1, sizeof(*traces))) == NULL)
        goto nomem;
    for (i = 0; i < nrows; i++) {
        int crc = cascade_run(sc->book, sc->ix, sc->ref,
                              sc->sides[i / sc->nshocks],
                              sc->shocks[i % sc->nshocks], &rows[i],
                              traces ? &traces[i] : NULL);
        if (crc == CASCADE_ENOMEM)
            goto nomem;
        if (crc != CASCADE_OK) {
            lq_err_set(err, "results[%zu]: invalid simulation input", i);
            goto out;
        }
    }
    jw_obj_begin(&w);
    jw_key(&w, "results");
    jw_arr_begin(&w);
    for (i = 0; i < nrows; i++)
        cascade_row_json(&w, &rows[i]);
    jw_arr_end(&w);
    jw_key(&w, "positions");
    jw_arr_begin(&w);
    pindex_foreach(sc->ix, write_position, &w);
    jw_arr_end(&w);
    if (with_trace) {
        jw_key(&w, "traces");
        jw_arr_begin(&w);
        for (i = 0; i < nrows; i++)
            write_trace(&w, &rows[i], &traces[i]);
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    if (jw_failed(&w))
        goto nomem;
    if (fwrite(w.buf, 1, w.len, out) != w.len || fputc('\n', out) == EOF) {
        lq_err_set(err, "write error on output");
        goto out;
    }
    rc = 0;
    goto out;
nomem:
    lq_err_set(err, "out of memory");
out:
    if (traces)
        for (i = 0; i < nrows; i++)
            cascade_trace_fini(&traces[i]);
    free(traces);
    free(rows);
    jw_fini(&w);
    return rc;
}
