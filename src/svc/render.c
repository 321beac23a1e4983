/*
 * render.c - the daemon's state as JSON and text (see render.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/lathist.h"
#include "liqmon/render.h"

void render_ladder(struct jsonw *w, const struct engine_ladder *l)
{
    jw_obj_begin(w);
    jw_key(w, "valid");
    jw_bool(w, l->valid);
    jw_key(w, "why_invalid");
    if (l->valid || l->why_invalid == NULL)
        jw_null(w);
    else
        jw_str(w, l->why_invalid);
    jw_key(w, "ref");
    jw_double(w, l->valid ? l->ref : NAN);
    jw_key(w, "ref_is_mark");
    jw_bool(w, l->ref_is_mark);
    jw_key(w, "ts");
    jw_u64(w, (unsigned long long)(l->ts > 0 ? l->ts : 0));
    jw_key(w, "runs");
    jw_u64(w, l->runs);
    jw_key(w, "rows");
    jw_arr_begin(w);
    for (size_t r = 0; l->valid && r < l->nrows; r++)
        cascade_row_json(w, &l->rows[r]);
    jw_arr_end(w);
    jw_obj_end(w);
}

double render_book_reach_pct(const struct mkt_instr *in, enum book_side side,
                             double ref)
{
    struct book_ladder lad;

    if (book_level_count(in->book, side) == 0 || !(ref > 0))
        return 0;
    book_ladder(in->book, side, side == BOOK_BID ? INFINITY : 0, &lad);
    return fabs(lad.last_price - ref) / ref * 100;
}

static void levels(struct jsonw *w, const struct mkt_instr *in, enum book_side side)
{
    size_t n = book_level_count(in->book, side);
    struct book_level *lv = malloc((n ? n : 1) * sizeof(*lv));

    jw_arr_begin(w);
    if (lv != NULL) {
        n = book_copy_levels(in->book, side, lv, n);
        for (size_t k = 0; k < n; k++) {
            jw_arr_begin(w);
            jw_double(w, lv[k].price);
            jw_dec(w, lv[k].qty);
            jw_arr_end(w);
        }
    }
    free(lv);
    jw_arr_end(w);
}

void render_instrument(struct jsonw *w, const struct render_src *s,
                       struct mkt_instr *in, int with_levels)
{
    const struct engine_ladder *l = s->eng ? engine_ladder(s->eng, in) : NULL;
    pindex_t *ix = s->eng ? engine_pindex(s->eng, in) : NULL;
    struct book_level best;
    double ref = s->eng ? engine_ref(s->eng, in, NULL) : in->mark;

    jw_obj_begin(w);
    jw_key(w, "mark");
    jw_double(w, in->mark > 0 ? in->mark : NAN);
    jw_key(w, "best_bid");
    jw_double(w, book_best(in->book, BOOK_BID, &best) == 0 ? best.price : NAN);
    jw_key(w, "best_ask");
    jw_double(w, book_best(in->book, BOOK_ASK, &best) == 0 ? best.price : NAN);
    jw_key(w, "book_valid");
    jw_bool(w, in->book_valid);
    jw_key(w, "invalid_reason");
    jw_str(w, in->invalid_reason);
    jw_key(w, "seq");
    jw_u64(w, in->book_seq);
    jw_key(w, "resyncs");
    jw_u64(w, in->book_resyncs);
    jw_key(w, "bid_levels");
    jw_u64(w, book_level_count(in->book, BOOK_BID));
    jw_key(w, "ask_levels");
    jw_u64(w, book_level_count(in->book, BOOK_ASK));
    /* A cascade figure beyond the visible book is a lower bound. */
    jw_key(w, "book_reach_pct");
    jw_obj_begin(w);
    jw_key(w, "bid");
    jw_double(w, render_book_reach_pct(in, BOOK_BID, ref));
    jw_key(w, "ask");
    jw_double(w, render_book_reach_pct(in, BOOK_ASK, ref));
    jw_obj_end(w);
    jw_key(w, "open_interest");
    if (in->open_interest > 0)
        jw_dec(w, in->open_interest);
    else
        jw_null(w);
    if (ix != NULL) {
        jw_key(w, "positions");
        jw_obj_begin(w);
        jw_key(w, "long");
        jw_u64(w, pindex_count(ix, POS_LONG));
        jw_key(w, "short");
        jw_u64(w, pindex_count(ix, POS_SHORT));
        jw_obj_end(w);
    }
    if (l != NULL) {
        jw_key(w, "ladder");
        render_ladder(w, l);
    }
    if (with_levels) {
        jw_key(w, "bids");
        levels(w, in, BOOK_BID);
        jw_key(w, "asks");
        levels(w, in, BOOK_ASK);
    }
    jw_obj_end(w);
}

void render_instruments(struct jsonw *w, const struct render_src *s, int with_levels)
{
    jw_obj_begin(w);
    for (size_t i = 0; s->mkt && i < market_count(s->mkt); i++) {
        struct mkt_instr *in = market_at(s->mkt, i);
        if (in->retired)
            continue;
        jw_key(w, in->key);
        render_instrument(w, s, in, with_levels);
    }
    jw_obj_end(w);
}

void render_connections(struct jsonw *w, const feed_t *f)
{
    struct feed_conn_stats cs[64];
    size_t n = f ? feed_get_stats(f, cs, 64) : 0;

    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_begin(w);
        jw_key(w, "venue");
        jw_str(w, cs[i].venue);
        jw_key(w, "name");
        jw_str(w, cs[i].name);
        jw_key(w, "connected");
        jw_bool(w, cs[i].connected);
        jw_key(w, "healthy");
        jw_bool(w, cs[i].healthy);
        jw_key(w, "frames");
        jw_u64(w, cs[i].frames);
        jw_key(w, "bytes");
        jw_u64(w, cs[i].bytes);
        jw_key(w, "connects");
        jw_u64(w, cs[i].connects);
        jw_key(w, "disconnects");
        jw_u64(w, cs[i].disconnects);
        jw_key(w, "failures");
        jw_u64(w, cs[i].failures);
        jw_key(w, "stale");
        jw_u64(w, cs[i].stale);
        jw_key(w, "oversized");
        jw_u64(w, cs[i].oversized);
        jw_key(w, "replacements");
        jw_u64(w, cs[i].replacements);
        jw_key(w, "last_error");
        jw_str(w, cs[i].last_error ? cs[i].last_error : "");
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

void render_venues(struct jsonw *w, venue_t *const *venues)
{
    jw_obj_begin(w);
    for (int v = 0; venues && v < VENUE_COUNT; v++) {
        const struct venue_stats *vs;
        if (venues[v] == NULL)
            continue;
        vs = venue_get_stats(venues[v]);
        jw_key(w, venue_name((enum venue_id)v));
        jw_obj_begin(w);
        jw_key(w, "frames");
        jw_u64(w, vs->frames);
        jw_key(w, "rejected");
        jw_u64(w, vs->rejected);
        venue_stats_json(vs, w, 0);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static void engine_counters(struct jsonw *w, engine_t *e)
{
    const struct engine_stats *es = engine_get_stats(e);
    const struct lathist *lh = engine_latency(e);

    jw_obj_begin(w);
    jw_key(w, "events");
    jw_u64(w, es->events);
    jw_key(w, "ladders");
    jw_u64(w, es->ladders);
    jw_key(w, "skipped");
    jw_u64(w, es->skipped);
    jw_key(w, "invalid");
    jw_u64(w, es->invalid);
    jw_key(w, "liquidated");
    jw_u64(w, es->liquidated);
    jw_key(w, "first_ts");
    jw_u64(w, (unsigned long long)es->first_ts);
    jw_key(w, "last_ts");
    jw_u64(w, (unsigned long long)es->last_ts);
    jw_key(w, "latency_samples");
    jw_u64(w, lh->count);
    jw_key(w, "latency_p50_ns");
    jw_u64(w, lathist_quantile(lh, 0.50));
    jw_key(w, "latency_p99_ns");
    jw_u64(w, lathist_quantile(lh, 0.99));
    jw_key(w, "latency_max_ns");
    jw_u64(w, lh->max);
    jw_obj_end(w);
}

void render_state(struct jsonw *w, const struct render_src *s)
{
    jw_obj_begin(w);
    jw_key(w, "instruments");
    render_instruments(w, s, 1);
    if (s->eng) {
        jw_key(w, "engine");
        engine_counters(w, s->eng);
    }
    jw_key(w, "venues");
    render_venues(w, s->venues);
    if (s->feed) {
        jw_key(w, "connections");
        render_connections(w, s->feed);
    }
    jw_obj_end(w);
}

void render_replay_json(struct jsonw *w, const struct render_src *s,
                        const struct replay_stats *st)
{
    jw_obj_begin(w);
    jw_key(w, "frames");
    jw_u64(w, st->frames);
    jw_key(w, "bad_lines");
    jw_u64(w, st->bad_lines);
    if (s->eng) {
        jw_key(w, "ladders");
        jw_u64(w, engine_get_stats(s->eng)->ladders);
        jw_key(w, "engine");
        engine_counters(w, s->eng);
    }
    jw_key(w, "venues");
    render_venues(w, s->venues);
    jw_key(w, "instruments");
    render_instruments(w, s, 0);
    jw_obj_end(w);
}

void render_replay_text(FILE *out, const struct render_src *s,
                        const struct replay_stats *st)
{
    const struct engine_stats *es = engine_get_stats(s->eng);

    fprintf(out, "replayed %llu frames (%llu bad lines) in %.2f s: %.0f frames/s\n",
            (unsigned long long)st->frames, (unsigned long long)st->bad_lines,
            st->wall_s, st->wall_s > 0 ? (double)st->frames / st->wall_s : 0);
    fprintf(out, "risk engine: %llu events, %llu ladders, %llu unchanged ticks "
            "skipped, %llu ticks on an invalid book, %llu positions liquidated\n",
            (unsigned long long)es->events, (unsigned long long)es->ladders,
            (unsigned long long)es->skipped, (unsigned long long)es->invalid,
            (unsigned long long)es->liquidated);
    for (int v = 0; s->venues && v < VENUE_COUNT; v++) {
        const struct venue_stats *vs;
        if (s->venues[v] == NULL || st->venue_frames[v] == 0)
            continue;
        vs = venue_get_stats(s->venues[v]);
        fprintf(out, "%s: %llu frames, %llu rejected, %llu skipped by the venue's "
                "sync rules, %llu liquidation prints%s\n",
                venue_name((enum venue_id)v), (unsigned long long)st->venue_frames[v],
                (unsigned long long)vs->rejected, (unsigned long long)vs->skipped,
                (unsigned long long)vs->events[MEV_LIQUIDATION],
                v == VENUE_BINANCE || v == VENUE_OKX ? " (sampled: at most one per "
                "symbol per second)" : v == VENUE_HYPERLIQUID ? " (the venue "
                "publishes none)" : " (complete)");
    }
    for (size_t i = 0; i < market_count(s->mkt); i++) {
        struct mkt_instr *in = market_at(s->mkt, i);
        const struct engine_ladder *l = engine_ladder(s->eng, in);
        pindex_t *ix = engine_pindex(s->eng, in);
        double ref = engine_ref(s->eng, in, NULL);
        fprintf(out, "\n%s  mark %.10g  book %s (reaches -%.2f%% / +%.2f%%)  "
                "positions %zu long / %zu short  ladders %llu\n", in->key, in->mark,
                in->book_valid ? "valid" : in->invalid_reason,
                render_book_reach_pct(in, BOOK_BID, ref),
                render_book_reach_pct(in, BOOK_ASK, ref), pindex_count(ix, POS_LONG),
                pindex_count(ix, POS_SHORT), (unsigned long long)l->runs);
        if (!l->valid)
            continue;
        fprintf(out, "  %-5s %7s %6s %10s %14s %14s %8s %s\n", "side", "shock",
                "rounds", "liquidated", "qty", "final", "move%", "exhausted");
        for (size_t r = 0; r < l->nrows; r++) {
            const struct cascade_row *row = &l->rows[r];
            char q[DEC_STRLEN];
            dec_format(row->liquidated_qty, q);
            fprintf(out, "  %-5s %7.4g %6u %10llu %14s %14.10g %8.3f %s\n",
                    cascade_dir_name(row->side), row->shock, row->rounds,
                    (unsigned long long)row->liquidated, q, row->final_price,
                    row->move_pct, row->exhausted ? "yes (a lower bound)" : "no");
        }
    }
}

void render_side_headline(const struct engine_ladder *l, enum cascade_dir dir,
                          char *buf, size_t size)
{
    const struct cascade_row *best = NULL;

    for (size_t r = 0; r < l->nrows; r++) {
        const struct cascade_row *row = &l->rows[r];
        if (row->side != dir || !row->has_amplification || row->liquidated == 0)
            continue;
        if (best == NULL || row->amplification > best->amplification)
            best = row;
    }
    if (best == NULL) {
        snprintf(buf, size, "%s: no liquidations", cascade_dir_name(dir));
        return;
    }
    snprintf(buf, size, "%s: %.3g%% shock -> %.3g%% move (x%.2f), %llu liquidated%s",
             cascade_dir_name(dir), best->shock * 100, best->move_pct,
             best->amplification, (unsigned long long)best->liquidated,
             best->exhausted ? ", book exhausted" : "");
}
