/*
 * metrics.c - GET /metrics: the daemon's state in the Prometheus text
 * format (metrics.h; every family in docs/metrics.md).
 *
 * A scrape walks the modules' own counters and renders them into one
 * buffer; the only state kept here is the alert-record counts, which no
 * module keeps by severity and state.  A scrape costs O(connections +
 * instruments * ladder rows + alerts firing): a few hundred microseconds
 * at the sizes liqmon runs, on the loop, every scrape interval (15 s by
 * default), which is below the loop lag we alert on by orders of
 * magnitude.
 *
 * Exposition rules followed here (Prometheus text format 0.0.4): one
 * HELP and one TYPE line per family, before its samples, and every sample
 * of a family together; label values escape backslash, double quote and
 * newline; floats as Go would read them (NaN, +Inf); histograms give
 * cumulative _bucket{le} counts ending in le="+Inf" equal to _count.
 */
#include "liqmon/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/numfmt.h"
#include "liqmon/pindex.h"
#include "liqmon/version.h"

/* Alert kinds by name: the contract's, liqmon's own (config_rejected,
 * venue_adl_warning ...) and whatever a later version adds, without a
 * table to keep in step.  More than this many distinct kinds are summed
 * into "other" (there are under ten). */
#define METRICS_MAX_KINDS 24
#define METRICS_MAX_CONNS 512

struct kind_count {
    char name[40];
    uint64_t n[2][2];                /* [critical?][resolved?] */
};

struct metrics {
    struct metrics_deps d;
    struct kind_count kinds[METRICS_MAX_KINDS];
    size_t nkinds;
    int listening;
};

/* ---- the output buffer ---------------------------------------------------
 * Out of memory is sticky: the scrape then answers 500 rather than a
 * truncated page, which Prometheus would take as every other series
 * vanishing. */
struct mbuf {
    char *buf;
    size_t len, cap;
    int oom;
};

static void mb_grow(struct mbuf *b, size_t need)
{
    size_t cap;
    char *nb;

    if (b->oom || b->len + need + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 16384;
    while (cap < b->len + need + 1)
        cap *= 2;
    if ((nb = realloc(b->buf, cap)) == NULL) {
        b->oom = 1;
        return;
    }
    b->buf = nb;
    b->cap = cap;
}

static void mb_printf(struct mbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->buf ? b->buf + b->len : NULL, b->buf ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if (b->buf == NULL || b->len + (size_t)n + 1 > b->cap) {
        mb_grow(b, (size_t)n);
        if (b->oom)
            return;
        va_start(ap, fmt);
        vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

static void mb_family(struct mbuf *b, const char *name, const char *type,
                      const char *help)
{
    mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format says. */
static void mb_label(struct mbuf *b, const char *key, const char *val, int first)
{
    mb_printf(b, "%s%s=\"", first ? "" : ",", key);
    for (const char *p = val ? val : ""; *p; p++) {
        if (*p == '\\')
            mb_printf(b, "\\\\");
        else if (*p == '"')
            mb_printf(b, "\\\"");
        else if (*p == '\n')
            mb_printf(b, "\\n");
        else
            mb_printf(b, "%c", *p);
    }
    mb_printf(b, "\"");
}

static void mb_double(struct mbuf *b, double v)
{
    char tmp[40];

    if (isnan(v))
        mb_printf(b, "NaN");
    else if (isinf(v))
        mb_printf(b, v > 0 ? "+Inf" : "-Inf");
    else {
        numfmt_shortest(v, tmp, sizeof(tmp));
        mb_printf(b, "%s", tmp);
    }
}

/* name{labels} value: labels is a NULL-terminated list of key, value. */
static void mb_sample_u(struct mbuf *b, const char *name, const char *const *labels,
                        unsigned long long v)
{
    mb_printf(b, "%s", name);
    if (labels && labels[0]) {
        mb_printf(b, "{");
        for (size_t i = 0; labels[i]; i += 2)
            mb_label(b, labels[i], labels[i + 1], i == 0);
        mb_printf(b, "}");
    }
    mb_printf(b, " %llu\n", v);
}

static void mb_sample_d(struct mbuf *b, const char *name, const char *const *labels,
                        double v)
{
    mb_printf(b, "%s", name);
    if (labels && labels[0]) {
        mb_printf(b, "{");
        for (size_t i = 0; labels[i]; i += 2)
            mb_label(b, labels[i], labels[i + 1], i == 0);
        mb_printf(b, "}");
    }
    mb_printf(b, " ");
    mb_double(b, v);
    mb_printf(b, "\n");
}

/* A latency histogram (ns) as a Prometheus histogram in seconds.  The
 * cumulative counts come from lathist_count_le, which counts a bucket of
 * the log-linear histogram only when all of it is under the edge, so a
 * count is at most one lathist bucket (~6%) behind. */
static void mb_histogram(struct mbuf *b, const char *name, const char *help,
                         const struct lathist *h, const double *edges, size_t nedges)
{
    char bucket[96], sum[96], count[96], le[40];

    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    snprintf(sum, sizeof(sum), "%s_sum", name);
    snprintf(count, sizeof(count), "%s_count", name);
    mb_family(b, name, "histogram", help);
    for (size_t i = 0; i < nedges; i++) {
        const char *l[] = { "le", le, NULL };
        numfmt_shortest(edges[i], le, sizeof(le));
        mb_sample_u(b, bucket, l, (unsigned long long)lathist_count_le(h, (uint64_t)llround(edges[i] * 1e9)));
    }
    {
        const char *l[] = { "le", "+Inf", NULL };
        mb_sample_u(b, bucket, l, (unsigned long long)h->count);
    }
    mb_sample_d(b, sum, NULL, (double)h->sum / 1e9);
    mb_sample_u(b, count, NULL, (unsigned long long)h->count);
}

/* ---- the families --------------------------------------------------------- */

static void render_process(metrics_t *m, struct mbuf *b)
{
    const char *l[] = { "version", m->d.version ? m->d.version : LIQMON_VERSION, NULL };

    mb_family(b, "liqmon_build_info", "gauge", "Always 1; the version in a label.");
    mb_sample_u(b, "liqmon_build_info", l, 1);
    mb_family(b, "liqmon_start_time_seconds", "gauge",
              "When the daemon started, seconds since the epoch.");
    mb_sample_d(b, "liqmon_start_time_seconds", NULL, (double)m->d.started_ns / 1e9);
}

static void render_feed(metrics_t *m, struct mbuf *b)
{
    static const struct {
        const char *name, *type, *help;
        int field;
    } fam[] = {
        { "liqmon_feed_connection_up", "gauge",
          "1 while the websocket connection is open.", 0 },
        { "liqmon_feed_frames_received_total", "counter",
          "Complete websocket messages received.", 1 },
        { "liqmon_feed_bytes_received_total", "counter",
          "Bytes of websocket messages received.", 2 },
        { "liqmon_feed_connects_total", "counter",
          "Websocket connections opened.", 3 },
        { "liqmon_feed_reconnects_total", "counter",
          "Websocket connections opened after the first (reconnects and "
          "planned replacements).", 4 },
        { "liqmon_feed_connect_failures_total", "counter",
          "Connection attempts that failed before the websocket opened.", 5 },
        { "liqmon_feed_disconnects_total", "counter", "Connections that went down.", 6 },
        { "liqmon_feed_stale_total", "counter",
          "Times the staleness watchdog fired.", 7 },
        { "liqmon_feed_oversized_total", "counter",
          "Messages over the size limit (the connection is dropped).", 8 },
        { "liqmon_feed_last_frame_timestamp_seconds", "gauge",
          "Receive time of the last message, seconds since the epoch.", 9 },
    };
    struct feed_conn_stats *st;
    size_t n;

    if (m->d.feed == NULL)
        return;
    if ((st = calloc(METRICS_MAX_CONNS, sizeof(*st))) == NULL) {
        b->oom = 1;
        return;
    }
    n = feed_get_stats(m->d.feed, st, METRICS_MAX_CONNS);
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        mb_family(b, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < n; i++) {
            const char *l[] = { "venue", st[i].venue ? st[i].venue : "", "conn",
                                st[i].name, NULL };
            uint64_t v = 0;
            switch (fam[f].field) {
            case 0: v = (uint64_t)st[i].connected; break;
            case 1: v = st[i].frames; break;
            case 2: v = st[i].bytes; break;
            case 3: v = st[i].connects; break;
            case 4: v = st[i].connects > 0 ? st[i].connects - 1 : 0; break;
            case 5: v = st[i].failures; break;
            case 6: v = st[i].disconnects; break;
            case 7: v = st[i].stale; break;
            case 8: v = st[i].oversized; break;
            case 9:
                mb_sample_d(b, fam[f].name, l, (double)st[i].last_frame_ts / 1e9);
                continue;
            }
            mb_sample_u(b, fam[f].name, l, (unsigned long long)v);
        }
    }
    free(st);
}

static void render_venues(metrics_t *m, struct mbuf *b)
{
    if (m->d.venues == NULL)
        return;
    mb_family(b, "liqmon_venue_frames_total", "counter",
              "Messages the venue adapter was given.");
    for (int v = 0; v < VENUE_COUNT; v++)
        if (m->d.venues[v]) {
            const char *l[] = { "venue", venue_name((enum venue_id)v), NULL };
            mb_sample_u(b, "liqmon_venue_frames_total", l,
                        (unsigned long long)venue_get_stats(m->d.venues[v])->frames);
        }
    mb_family(b, "liqmon_venue_frames_rejected_total", "counter",
              "Messages the venue sent that could not be used, by reason.");
    for (int v = 0; v < VENUE_COUNT; v++)
        if (m->d.venues[v])
            for (int r = 0; r < VREJ_COUNT; r++) {
                const char *l[] = { "venue", venue_name((enum venue_id)v), "reason",
                                    venue_reject_name((enum venue_reject)r), NULL };
                mb_sample_u(b, "liqmon_venue_frames_rejected_total", l,
                            (unsigned long long)venue_get_stats(m->d.venues[v])->by_reason[r]);
            }
    mb_family(b, "liqmon_venue_frames_skipped_total", "counter",
              "Messages dropped by the venue's own book-sync rules, by rule.");
    for (int v = 0; v < VENUE_COUNT; v++)
        if (m->d.venues[v])
            for (int r = 0; r < VSKIP_COUNT; r++) {
                const char *l[] = { "venue", venue_name((enum venue_id)v), "rule",
                                    venue_skip_name((enum venue_skip)r), NULL };
                mb_sample_u(b, "liqmon_venue_frames_skipped_total", l,
                            (unsigned long long)venue_get_stats(m->d.venues[v])->skipped_by_rule[r]);
            }
}

/* The ladder row a side is judged by: the largest amplification. */
static const struct cascade_row *worst_row(const struct engine_ladder *l,
                                           enum cascade_dir dir)
{
    const struct cascade_row *best = NULL;

    for (size_t r = 0; r < l->nrows; r++) {
        const struct cascade_row *row = &l->rows[r];
        if (row->side != dir || !row->has_amplification)
            continue;
        if (best == NULL || row->amplification > best->amplification)
            best = row;
    }
    return best;
}

static void render_instruments(metrics_t *m, struct mbuf *b)
{
    /* One family at a time, all instruments under it (the format wants a
     * family's samples together). */
    enum { F_VALID, F_RESYNCS, F_UPDATES, F_MARK, F_POS, F_LADDER, F_AMP, F_SHOCK,
           F_MOVE, F_LIQ, F_N };
    static const struct {
        const char *name, *type, *help;
    } fam[F_N] = {
        [F_VALID] = { "liqmon_book_valid", "gauge", "1 while the order book is in sync." },
        [F_RESYNCS] = { "liqmon_book_resyncs_total", "counter",
                        "Times the book was invalidated (gap, checksum, crossed, "
                        "connection lost) and had to resync." },
        [F_UPDATES] = { "liqmon_book_updates_total", "counter",
                        "Snapshots and deltas applied to the book." },
        [F_MARK] = { "liqmon_mark_price", "gauge",
                     "The venue's last mark price (quote currency)." },
        [F_POS] = { "liqmon_positions", "gauge", "Tracked positions, by side." },
        [F_LADDER] = { "liqmon_cascade_ladder_valid", "gauge",
                       "1 when the latest cascade ladder was computed on a valid "
                       "book and a reference price." },
        [F_AMP] = { "liqmon_cascade_worst_amplification", "gauge",
                    "Largest amplification (final move / shock) in the latest "
                    "ladder, per direction." },
        [F_SHOCK] = { "liqmon_cascade_worst_shock_ratio", "gauge",
                      "The shock (fraction of the reference price) of that row." },
        [F_MOVE] = { "liqmon_cascade_worst_move_ratio", "gauge",
                     "The final price move (fraction of the reference price) of "
                     "that row." },
        [F_LIQ] = { "liqmon_cascade_worst_liquidated_notional", "gauge",
                    "Notional liquidated in that row (quote currency)." },
    };
    size_t n = market_count(m->d.mkt);
    uint64_t invalid = 0;

    for (int f = 0; f < F_N; f++) {
        mb_family(b, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < n; i++) {
            const struct mkt_instr *in = market_at(m->d.mkt, i);
            const char *vn = venue_name(in->venue);
            const char *l[] = { "venue", vn, "instrument", in->spec.symbol, NULL };
            const struct engine_ladder *lad;

            if (in->retired)
                continue;
            switch (f) {
            case F_VALID:
                mb_sample_u(b, fam[f].name, l, (unsigned long long)(in->book_valid != 0));
                invalid += !in->book_valid;
                break;
            case F_RESYNCS:
                mb_sample_u(b, fam[f].name, l, (unsigned long long)in->book_resyncs);
                break;
            case F_UPDATES:
                mb_sample_u(b, fam[f].name, l, (unsigned long long)in->book_updates);
                break;
            case F_MARK:
                if (in->mark > 0)
                    mb_sample_d(b, fam[f].name, l, in->mark);
                break;
            case F_POS: {
                pindex_t *ix = engine_pindex(m->d.eng, in);
                const char *ll[] = { "venue", vn, "instrument", in->spec.symbol, "side",
                                     "long", NULL };
                if (ix == NULL)
                    break;
                mb_sample_u(b, fam[f].name, ll, (unsigned long long)pindex_count(ix, POS_LONG));
                ll[5] = "short";
                mb_sample_u(b, fam[f].name, ll, (unsigned long long)pindex_count(ix, POS_SHORT));
                break;
            }
            case F_LADDER:
                lad = engine_ladder(m->d.eng, in);
                mb_sample_u(b, fam[f].name, l, (unsigned long long)(lad && lad->valid));
                break;
            default:
                lad = engine_ladder(m->d.eng, in);
                if (lad == NULL || !lad->valid)
                    break;
                for (int dir = 0; dir < 2; dir++) {
                    enum cascade_dir cd = dir ? CASCADE_UP : CASCADE_DOWN;
                    const struct cascade_row *row = worst_row(lad, cd);
                    const char *ll[] = { "venue", vn, "instrument", in->spec.symbol,
                                         "side", cascade_dir_name(cd), NULL };
                    if (row == NULL)
                        continue;
                    if (f == F_AMP)
                        mb_sample_d(b, fam[f].name, ll, row->amplification);
                    else if (f == F_SHOCK)
                        mb_sample_d(b, fam[f].name, ll, row->shock);
                    else if (f == F_MOVE)
                        mb_sample_d(b, fam[f].name, ll, row->move_pct / 100.0);
                    else
                        mb_sample_d(b, fam[f].name, ll, row->liquidated_notional);
                }
            }
        }
    }
    mb_family(b, "liqmon_books_invalid", "gauge",
              "Watched instruments whose book is not in sync now.");
    mb_sample_u(b, "liqmon_books_invalid", NULL, (unsigned long long)invalid);
}

static void render_engine(metrics_t *m, struct mbuf *b)
{
    static const double edges[] = { 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4,
                                    2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
                                    5e-2, 0.1, 0.25, 0.5, 1 };
    const struct engine_stats *es = engine_get_stats(m->d.eng);

    mb_family(b, "liqmon_events_total", "counter",
              "Normalised market events processed by the risk engine.");
    mb_sample_u(b, "liqmon_events_total", NULL, (unsigned long long)es->events);
    mb_family(b, "liqmon_ladders_total", "counter", "Cascade ladders computed.");
    mb_sample_u(b, "liqmon_ladders_total", NULL, (unsigned long long)es->ladders);
    mb_family(b, "liqmon_ladders_skipped_total", "counter",
              "Ticks whose inputs had not changed (no ladder needed).");
    mb_sample_u(b, "liqmon_ladders_skipped_total", NULL, (unsigned long long)es->skipped);
    mb_family(b, "liqmon_ladder_rows_kept_total", "counter",
              "Ladder rows a book delta could not reach, kept without a simulation.");
    mb_sample_u(b, "liqmon_ladder_rows_kept_total", NULL,
                (unsigned long long)es->rows_reused);
    mb_family(b, "liqmon_positions_liquidated_total", "counter",
              "Tracked positions marked liquidated (the price crossed their "
              "liquidation price).");
    mb_sample_u(b, "liqmon_positions_liquidated_total", NULL,
                (unsigned long long)es->liquidated);
    mb_histogram(b, "liqmon_tick_to_decision_seconds",
                 "From a frame's receive time to the alert decision on it.",
                 engine_latency(m->d.eng), edges, sizeof(edges) / sizeof(edges[0]));
}

struct firing {
    uint64_t n[ALERT_KIND_COUNT][2];
};

static int count_firing(const struct alert_active *x, void *arg)
{
    struct firing *f = arg;

    if ((int)x->kind < ALERT_KIND_COUNT)
        f->n[x->kind][x->level == ALERT_CRITICAL]++;
    return 0;
}

static void render_alerts(metrics_t *m, struct mbuf *b)
{
    static const char *const sev[2] = { "warning", "critical" };
    static const char *const state[2] = { "firing", "resolved" };

    mb_family(b, "liqmon_alerts_written_total", "counter",
              "Alert records written (alert log and store), by kind, severity "
              "and state.");
    for (size_t k = 0; k < m->nkinds; k++)
        for (int s = 0; s < 2; s++)
            for (int r = 0; r < 2; r++) {
                const char *l[] = { "kind", m->kinds[k].name, "severity", sev[s],
                                    "state", state[r], NULL };
                if (m->kinds[k].n[s][r] > 0)
                    mb_sample_u(b, "liqmon_alerts_written_total", l,
                                (unsigned long long)m->kinds[k].n[s][r]);
            }
    if (m->d.alerts) {
        struct firing f;
        memset(&f, 0, sizeof(f));
        alerts_foreach_active(m->d.alerts, count_firing, &f);
        mb_family(b, "liqmon_alerts_firing", "gauge",
                  "Alerts firing now, by kind and severity.");
        for (int k = 0; k < ALERT_KIND_COUNT; k++)
            for (int s = 0; s < 2; s++) {
                const char *l[] = { "kind", alert_kind_name((enum alert_kind)k),
                                    "severity", sev[s], NULL };
                mb_sample_u(b, "liqmon_alerts_firing", l, (unsigned long long)f.n[k][s]);
            }
    }
}

static void render_store(metrics_t *m, struct mbuf *b)
{
    struct store_stats st;

    if (m->d.store == NULL)
        return;
    store_get_stats(m->d.store, &st);
    mb_family(b, "liqmon_store_queue_depth", "gauge",
              "Messages waiting for the SQLite writer thread.");
    mb_sample_u(b, "liqmon_store_queue_depth", NULL, (unsigned long long)st.queue_depth);
    mb_family(b, "liqmon_store_queue_capacity", "gauge",
              "The writer queue's bound (beyond it snapshots coalesce and "
              "prints drop; alerts never drop).");
    mb_sample_u(b, "liqmon_store_queue_capacity", NULL, (unsigned long long)st.queue_max);
    mb_family(b, "liqmon_store_rows_written_total", "counter",
              "Rows committed to the store, all tables.");
    mb_sample_u(b, "liqmon_store_rows_written_total", NULL,
                (unsigned long long)st.rows_written);
    mb_family(b, "liqmon_store_batches_total", "counter", "Transactions committed.");
    mb_sample_u(b, "liqmon_store_batches_total", NULL, (unsigned long long)st.batches);
    mb_family(b, "liqmon_store_snapshots_coalesced_total", "counter",
              "Snapshots replaced in a full queue by a newer one of the same "
              "instrument.");
    mb_sample_u(b, "liqmon_store_snapshots_coalesced_total", NULL,
                (unsigned long long)st.coalesced);
    mb_family(b, "liqmon_store_dropped_total", "counter",
              "Prints and feed events dropped because the queue was full.");
    mb_sample_u(b, "liqmon_store_dropped_total", NULL, (unsigned long long)st.dropped);
    mb_family(b, "liqmon_store_errors_total", "counter",
              "Failed batches (rolled back and retried: disk full, busy).");
    mb_sample_u(b, "liqmon_store_errors_total", NULL, (unsigned long long)st.errors);
    mb_family(b, "liqmon_store_lost_total", "counter",
              "Rows accepted but never stored.");
    mb_sample_u(b, "liqmon_store_lost_total", NULL, (unsigned long long)st.lost);
    mb_family(b, "liqmon_store_rows_pruned_total", "counter",
              "Rows deleted by retention.");
    mb_sample_u(b, "liqmon_store_rows_pruned_total", NULL, (unsigned long long)st.pruned);
}

static void render_loop(metrics_t *m, struct mbuf *b)
{
    static const double edges[] = { 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
                                    2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5 };

    if (m->d.loop_lag == NULL)
        return;
    mb_histogram(b, "liqmon_loop_lag_seconds",
                 "How late the event loop ran a timer due every 100 ms: time "
                 "the loop was busy or blocked.",
                 m->d.loop_lag, edges, sizeof(edges) / sizeof(edges[0]));
    mb_family(b, "liqmon_loop_lag_max_seconds", "gauge", "The largest loop lag seen.");
    mb_sample_d(b, "liqmon_loop_lag_max_seconds", NULL, (double)m->d.loop_lag->max / 1e9);
}

char *metrics_render(metrics_t *m, size_t *len)
{
    struct mbuf b = { NULL, 0, 0, 0 };

    mb_grow(&b, 0);
    render_process(m, &b);
    render_feed(m, &b);
    render_venues(m, &b);
    render_instruments(m, &b);
    render_engine(m, &b);
    render_alerts(m, &b);
    render_store(m, &b);
    render_loop(m, &b);
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    *len = b.len;
    return b.buf;
}

/* ---- the listener ----------------------------------------------------------- */

void metrics_on_alert(void *arg, const struct alert_record *r)
{
    metrics_t *m = arg;
    struct kind_count *k = NULL;
    const char *name = r->kind_name ? r->kind_name : "unknown";

    for (size_t i = 0; i < m->nkinds; i++)
        if (strcmp(m->kinds[i].name, name) == 0) {
            k = &m->kinds[i];
            break;
        }
    if (k == NULL) {
        /* The last slot is "other" once the table is full. */
        if (m->nkinds == METRICS_MAX_KINDS - 1)
            name = "other";
        k = &m->kinds[m->nkinds < METRICS_MAX_KINDS ? m->nkinds++ : METRICS_MAX_KINDS - 1];
        snprintf(k->name, sizeof(k->name), "%s", name);
    }
    k->n[r->severity == ALERT_CRITICAL][r->resolved != 0]++;
}

static void metrics_handler(void *arg, const struct feed_request *rq,
                            struct feed_response *rs)
{
    metrics_t *m = arg;
    char *text;
    size_t len = 0;

    if (strcmp(rq->path, "/metrics") != 0) {
        /* Fix (found beside the control API's, fuzzing): the length was 25
         * for a 24-byte text, so the body ended in a NUL byte. */
        feed_respond(rs, 404, "text/plain; charset=utf-8", "not found: try /metrics\n", 24);
        return;
    }
    if (rq->method != FEED_METHOD_GET && rq->method != FEED_METHOD_HEAD) {
        feed_respond_header(rs, "Allow", "GET, HEAD");
        feed_respond(rs, 405, "text/plain; charset=utf-8", "method not allowed\n", 19);
        return;
    }
    if ((text = metrics_render(m, &len)) == NULL) {
        feed_respond(rs, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
        return;
    }
    feed_respond_take(rs, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

metrics_t *metrics_create(const struct metrics_deps *deps, lq_err_t *err)
{
    metrics_t *m;

    if (deps->mkt == NULL || deps->eng == NULL) {
        lq_err_set(err, "metrics: no market or engine");
        return NULL;
    }
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        lq_err_set(err, "metrics: out of memory");
        return NULL;
    }
    m->d = *deps;
    return m;
}

int metrics_listen(metrics_t *m, feed_t *f, const char *listen, lq_err_t *err)
{
    struct feed_listen_config lc;
    char addr[64];
    int port, got;

    if (m->listening)
        return lq_err_set(err, "metrics: already listening");
    if (feed_parse_listen(listen, addr, sizeof(addr), &port) != 0)
        return lq_err_set(err, "metrics: listen '%s': want ADDRESS:PORT "
                          "(127.0.0.1:9464, [::1]:9464)", listen);
    memset(&lc, 0, sizeof(lc));
    lc.name = "metrics";
    lc.address = addr;
    lc.port = port;
    /* Scrapes have no body: the smallest limit the feed allows. */
    lc.max_body = 1024;
    lc.handler = metrics_handler;
    lc.arg = m;
    if ((got = feed_listen(f, &lc, err)) < 0) {
        lq_err_prefix(err, "metrics");
        return -1;
    }
    m->listening = 1;
    return got;
}

void metrics_destroy(metrics_t *m)
{
    free(m);
}
