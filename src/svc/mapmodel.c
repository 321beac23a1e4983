/*
 * mapmodel.c - the liquidation map of one instrument (see mapmodel.h).
 *
 * Bucket sums from the index's tree sums: with R_long(p) = the longs in
 * the cascade with LP >= p (pindex_reached), the longs of [a, b) are
 * R_long(a) - R_long(b); with R_short(p) = the shorts with LP <= p, the
 * shorts of [a, b) are R_short(b-) - R_short(a-), x- being the double
 * just below x.  The last bucket is closed: its upper bound is hi+ (longs)
 * and hi (shorts).  Differences of double sums can come out a hair below
 * 0 for an empty bucket; they are clamped to 0.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "liqmon/mapmodel.h"
#include "liqmon/render.h"

static const char *const side_key[2] = { "down", "up" };

double mapmodel_edge(const struct map_model *m, size_t i)
{
    if (m->nbuckets == 0 || i == 0)
        return m->lo;
    if (i >= m->nbuckets)
        return m->hi;
    return m->lo + (m->hi - m->lo) * (double)i / (double)m->nbuckets;
}

int mapmodel_add_row(struct map_model *m, int side, const struct map_row *r)
{
    struct map_side *s = &m->side[side ? 1 : 0];

    if (s->nrows >= MAP_MAX_ROWS)
        return -1;
    s->rows[s->nrows++] = *r;
    return 0;
}

/* ---- building from live state ----------------------------------------- */

static void split_key(struct map_model *m, const struct mkt_instr *in)
{
    snprintf(m->venue, sizeof(m->venue), "%s", venue_name(in->venue));
    snprintf(m->symbol, sizeof(m->symbol), "%s", in->spec.symbol);
}

static void reached(const pindex_t *ix, enum pos_side side, double p,
                    double *notional, uint64_t *count)
{
    struct pindex_sum s;

    pindex_reached(ix, side, p, &s);
    *notional = s.notional;
    *count = s.count;
}

int mapmodel_build(struct map_model *m, const struct mkt_instr *in,
                   engine_t *eng, const struct alert_config *rules,
                   int64_t ts)
{
    const struct engine_ladder *l = engine_ladder(eng, in);
    pindex_t *ix = engine_pindex(eng, in);
    struct alert_config defaults;
    double half = 0, tot_n[2];
    int is_mark = 0;

    memset(m, 0, sizeof(*m));
    if (ix == NULL || l == NULL)
        return -1;
    if (rules == NULL) {
        alert_config_default(&defaults);
        rules = &defaults;
    }
    split_key(m, in);
    m->ts = ts;
    m->ref = engine_ref(eng, in, &is_mark);
    m->ref_is_mark = is_mark;
    m->mark = in->mark;
    m->book_valid = in->book_valid;
    m->ladder_valid = l->valid;
    m->amp_threshold = rules->amp;
    for (int d = 0; d < 2; d++) {
        struct map_side *s = &m->side[d];
        const struct cascade_row *star;

        s->s_star = NAN;
        s->reach_pct = render_book_reach_pct(in, d == CASCADE_DOWN ? BOOK_BID
                                                                    : BOOK_ASK,
                                             m->ref);
        if (!l->valid)
            continue;
        for (size_t r = 0; r < l->nrows && s->nrows < MAP_MAX_ROWS; r++) {
            const struct cascade_row *row = &l->rows[r];
            struct map_row *o;
            if (row->side != (enum cascade_dir)d)
                continue;
            o = &s->rows[s->nrows++];
            o->shock = row->shock;
            o->final_price = row->final_price;
            o->move_pct = row->move_pct;
            o->amplification = row->has_amplification ? row->amplification : NAN;
            o->liquidated = row->liquidated;
            o->liquidated_notional = row->liquidated_notional;
            o->exhausted = row->exhausted;
            if (row->shock > half)
                half = row->shock;
            if (row->move_pct / 100 > half)
                half = row->move_pct / 100;
        }
        star = alert_cascade_star(rules, l->rows, l->nrows, (enum cascade_dir)d);
        if (star != NULL)
            s->s_star = star->shock;
    }
    if (!(m->ref > 0))
        return 0;                   /* no window without a price */

    half = half > 0 ? half * 1.1 + 0.01 : MAP_DEFAULT_HALF;
    if (half > MAP_MAX_HALF)
        half = MAP_MAX_HALF;
    m->nbuckets = MAP_BUCKETS;
    m->lo = m->ref * (1 - half);
    m->hi = m->ref * (1 + half);

    /* Longs: R(a) - R(b) over [a, b); the last bucket takes LP == hi. */
    {
        double n0, n1;
        uint64_t c0, c1;
        reached(ix, POS_LONG, m->lo, &n0, &c0);
        tot_n[0] = n0;
        for (size_t i = 0; i < m->nbuckets; i++) {
            double b = i + 1 < m->nbuckets ? mapmodel_edge(m, i + 1)
                                           : nextafter(m->hi, INFINITY);
            reached(ix, POS_LONG, b, &n1, &c1);
            m->long_notional[i] = n0 - n1 > 0 ? n0 - n1 : 0;
            m->long_count[i] = c0 >= c1 ? c0 - c1 : 0;
            n0 = n1;
            c0 = c1;
        }
        /* Every long in the cascade, minus those in the window. */
        reached(ix, POS_LONG, 0, &n1, &c1);
        m->side[CASCADE_DOWN].outside_notional = n1 - (tot_n[0] - n0);
    }
    /* Shorts: R(b-) - R(a-) over [a, b); the last bucket takes LP == hi. */
    {
        double n0, n1, all;
        uint64_t c0, c1, call;
        reached(ix, POS_SHORT, nextafter(m->lo, 0), &n0, &c0);
        tot_n[1] = n0;
        for (size_t i = 0; i < m->nbuckets; i++) {
            double b = i + 1 < m->nbuckets ? nextafter(mapmodel_edge(m, i + 1), 0)
                                           : m->hi;
            reached(ix, POS_SHORT, b, &n1, &c1);
            m->short_notional[i] = n1 - n0 > 0 ? n1 - n0 : 0;
            m->short_count[i] = c1 >= c0 ? c1 - c0 : 0;
            n0 = n1;
            c0 = c1;
        }
        reached(ix, POS_SHORT, INFINITY, &all, &call);
        m->side[CASCADE_UP].outside_notional = all - (n0 - tot_n[1]);
        (void)call;
    }
    for (int d = 0; d < 2; d++)
        if (m->side[d].outside_notional < 0)
            m->side[d].outside_notional = 0;

    for (size_t i = 0; i <= m->nbuckets; i++) {
        double e = mapmodel_edge(m, i);
        m->bid_depth[i] = dec_to_double(book_depth_to(in->book, BOOK_BID, e));
        m->ask_depth[i] = dec_to_double(book_depth_to(in->book, BOOK_ASK, e));
    }
    return 0;
}

/* ---- JSON out ----------------------------------------------------------- */

/* Nine significant digits: enough to draw, a third of the text. */
static void num9(struct jsonw *w, double v)
{
    char buf[40];

    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    snprintf(buf, sizeof(buf), "%.9g", v);
    jw_raw(w, buf);
}

static void arr9(struct jsonw *w, const double *v, size_t n)
{
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        num9(w, v[i]);
    jw_arr_end(w);
}

static void arr_u64(struct jsonw *w, const uint64_t *v, size_t n)
{
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_u64(w, v[i]);
    jw_arr_end(w);
}

void mapmodel_json(struct jsonw *w, const struct map_model *m, int with_rows)
{
    char key[128];

    snprintf(key, sizeof(key), "%s:%s", m->venue, m->symbol);
    jw_obj_begin(w);
    jw_key(w, "version");
    jw_u64(w, 1);
    jw_key(w, "instrument");
    jw_str(w, key);
    jw_key(w, "venue");
    jw_str(w, m->venue);
    jw_key(w, "symbol");
    jw_str(w, m->symbol);
    jw_key(w, "ts");
    jw_u64(w, (unsigned long long)(m->ts > 0 ? m->ts : 0));
    jw_key(w, "ref");
    jw_double(w, m->ref > 0 ? m->ref : NAN);
    jw_key(w, "ref_is_mark");
    jw_bool(w, m->ref_is_mark);
    jw_key(w, "mark");
    jw_double(w, m->mark > 0 ? m->mark : NAN);
    jw_key(w, "book_valid");
    jw_bool(w, m->book_valid);
    jw_key(w, "ladder_valid");
    jw_bool(w, m->ladder_valid);
    jw_key(w, "amp_threshold");
    jw_double(w, m->amp_threshold);
    jw_key(w, "window");
    jw_obj_begin(w);
    jw_key(w, "lo");
    jw_double(w, m->nbuckets ? m->lo : NAN);
    jw_key(w, "hi");
    jw_double(w, m->nbuckets ? m->hi : NAN);
    jw_key(w, "buckets");
    jw_u64(w, m->nbuckets);
    jw_obj_end(w);
    jw_key(w, "long_notional");
    arr9(w, m->long_notional, m->nbuckets);
    jw_key(w, "long_count");
    arr_u64(w, m->long_count, m->nbuckets);
    jw_key(w, "short_notional");
    arr9(w, m->short_notional, m->nbuckets);
    jw_key(w, "short_count");
    arr_u64(w, m->short_count, m->nbuckets);
    jw_key(w, "bid_depth");
    arr9(w, m->bid_depth, m->nbuckets ? m->nbuckets + 1 : 0);
    jw_key(w, "ask_depth");
    arr9(w, m->ask_depth, m->nbuckets ? m->nbuckets + 1 : 0);
    for (int d = 0; d < 2; d++) {
        const struct map_side *s = &m->side[d];
        jw_key(w, side_key[d]);
        jw_obj_begin(w);
        jw_key(w, "s_star");
        jw_double(w, s->s_star);
        jw_key(w, "reach_pct");
        num9(w, s->reach_pct);
        jw_key(w, "outside_notional");
        num9(w, s->outside_notional);
        if (with_rows) {
            jw_key(w, "rows");
            jw_arr_begin(w);
            for (size_t r = 0; r < s->nrows; r++) {
                const struct map_row *x = &s->rows[r];
                jw_obj_begin(w);
                jw_key(w, "shock");
                jw_double(w, x->shock);
                jw_key(w, "final_price");
                jw_double(w, x->final_price);
                jw_key(w, "move_pct");
                jw_double(w, x->move_pct);
                jw_key(w, "amplification");
                jw_double(w, x->amplification);
                jw_key(w, "liquidated");
                jw_u64(w, x->liquidated);
                jw_key(w, "liquidated_notional");
                jw_double(w, x->liquidated_notional);
                jw_key(w, "exhausted");
                jw_bool(w, x->exhausted);
                jw_obj_end(w);
            }
            jw_arr_end(w);
        }
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

/* ---- JSON in ------------------------------------------------------------ */

/* A number (null: NAN when nullable); -1 when absent or of another type. */
static int get_num(json_t *o, const char *k, int nullable, double *out)
{
    json_t *v = json_object_get(o, k);

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (nullable && json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    return -1;
}

static int get_bool(json_t *o, const char *k, int *out)
{
    json_t *v = json_object_get(o, k);

    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static int get_arr(json_t *o, const char *k, double *out, size_t n,
                   lq_err_t *err)
{
    json_t *a = json_object_get(o, k);

    if (!json_is_array(a) || json_array_size(a) != n)
        return lq_err_set(err, "%s: must be an array of %zu numbers", k, n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v))
            return lq_err_set(err, "%s[%zu]: must be a number", k, i);
        out[i] = json_number_value(v);
    }
    return 0;
}

static int get_arr_u64(json_t *o, const char *k, uint64_t *out, size_t n,
                       lq_err_t *err)
{
    json_t *a = json_object_get(o, k);

    if (!json_is_array(a) || json_array_size(a) != n)
        return lq_err_set(err, "%s: must be an array of %zu integers", k, n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return lq_err_set(err, "%s[%zu]: must be an integer >= 0", k, i);
        out[i] = (uint64_t)json_integer_value(v);
    }
    return 0;
}

static int parse_side(json_t *o, int d, struct map_side *s, lq_err_t *err)
{
    json_t *rows;
    const char *k = side_key[d];

    if (!json_is_object(o))
        return lq_err_set(err, "%s: must be an object", k);
    if (get_num(o, "s_star", 1, &s->s_star) != 0)
        return lq_err_set(err, "%s.s_star: must be a number or null", k);
    if (get_num(o, "reach_pct", 0, &s->reach_pct) != 0)
        return lq_err_set(err, "%s.reach_pct: must be a number", k);
    if (get_num(o, "outside_notional", 0, &s->outside_notional) != 0)
        return lq_err_set(err, "%s.outside_notional: must be a number", k);
    rows = json_object_get(o, "rows");
    if (rows == NULL)
        return 0;
    if (!json_is_array(rows) || json_array_size(rows) > MAP_MAX_ROWS)
        return lq_err_set(err, "%s.rows: must be an array of at most %d rows",
                          k, MAP_MAX_ROWS);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i), *lq;
        struct map_row *x = &s->rows[s->nrows];
        if (!json_is_object(r) ||
            get_num(r, "shock", 0, &x->shock) != 0 ||
            get_num(r, "final_price", 0, &x->final_price) != 0 ||
            get_num(r, "move_pct", 0, &x->move_pct) != 0 ||
            get_num(r, "amplification", 1, &x->amplification) != 0 ||
            get_num(r, "liquidated_notional", 0, &x->liquidated_notional) != 0 ||
            get_bool(r, "exhausted", &x->exhausted) != 0 ||
            !json_is_integer(lq = json_object_get(r, "liquidated")) ||
            json_integer_value(lq) < 0)
            return lq_err_set(err, "%s.rows[%zu]: want shock, final_price, "
                              "move_pct, amplification, liquidated, "
                              "liquidated_notional, exhausted", k, i);
        x->liquidated = (uint64_t)json_integer_value(lq);
        s->nrows++;
    }
    return 0;
}

int mapmodel_parse(const char *text, size_t len, struct map_model *m,
                   lq_err_t *err)
{
    json_error_t je;
    json_t *root, *win, *v;
    double nb, ref, mark;
    const char *venue, *symbol;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    if ((root = json_loadb(text, len, 0, &je)) == NULL)
        return lq_err_set(err, "line %d, column %d: %s", je.line, je.column,
                          je.text);
    if (!json_is_object(root)) {
        lq_err_set(err, "not a JSON object");
        goto out;
    }
    venue = json_string_value(json_object_get(root, "venue"));
    symbol = json_string_value(json_object_get(root, "symbol"));
    if (venue == NULL || symbol == NULL || strlen(venue) >= sizeof(m->venue) ||
        strlen(symbol) >= sizeof(m->symbol)) {
        lq_err_set(err, "venue, symbol: must be strings");
        goto out;
    }
    snprintf(m->venue, sizeof(m->venue), "%s", venue);
    snprintf(m->symbol, sizeof(m->symbol), "%s", symbol);
    if (!json_is_integer(v = json_object_get(root, "ts")) ||
        json_integer_value(v) < 0) {
        lq_err_set(err, "ts: must be an integer >= 0");
        goto out;
    }
    m->ts = (int64_t)json_integer_value(v);
    if (get_num(root, "ref", 1, &ref) != 0 || get_num(root, "mark", 1, &mark) != 0) {
        lq_err_set(err, "ref, mark: must be numbers or null");
        goto out;
    }
    m->ref = isnan(ref) ? 0 : ref;
    m->mark = isnan(mark) ? 0 : mark;
    if (get_bool(root, "ref_is_mark", &m->ref_is_mark) != 0 ||
        get_bool(root, "book_valid", &m->book_valid) != 0 ||
        get_bool(root, "ladder_valid", &m->ladder_valid) != 0) {
        lq_err_set(err, "ref_is_mark, book_valid, ladder_valid: must be booleans");
        goto out;
    }
    if (get_num(root, "amp_threshold", 0, &m->amp_threshold) != 0) {
        lq_err_set(err, "amp_threshold: must be a number");
        goto out;
    }
    win = json_object_get(root, "window");
    if (!json_is_object(win) || get_num(win, "buckets", 0, &nb) != 0 ||
        (nb != 0 && nb != MAP_BUCKETS)) {
        lq_err_set(err, "window.buckets: must be 0 or %d", MAP_BUCKETS);
        goto out;
    }
    m->nbuckets = (size_t)nb;
    if (m->nbuckets > 0 &&
        (get_num(win, "lo", 0, &m->lo) != 0 || get_num(win, "hi", 0, &m->hi) != 0 ||
         !(m->lo < m->hi) || !(m->ref > m->lo) || !(m->ref < m->hi))) {
        lq_err_set(err, "window: lo < ref < hi wanted");
        goto out;
    }
    if (get_arr(root, "long_notional", m->long_notional, m->nbuckets, err) != 0 ||
        get_arr(root, "short_notional", m->short_notional, m->nbuckets, err) != 0 ||
        get_arr_u64(root, "long_count", m->long_count, m->nbuckets, err) != 0 ||
        get_arr_u64(root, "short_count", m->short_count, m->nbuckets, err) != 0 ||
        get_arr(root, "bid_depth", m->bid_depth,
                m->nbuckets ? m->nbuckets + 1 : 0, err) != 0 ||
        get_arr(root, "ask_depth", m->ask_depth,
                m->nbuckets ? m->nbuckets + 1 : 0, err) != 0)
        goto out;
    for (int d = 0; d < 2; d++)
        if (parse_side(json_object_get(root, side_key[d]), d, &m->side[d], err) != 0)
            goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}
