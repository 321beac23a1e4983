/*
 * mapsvg.c - a liquidation map as SVG (see mapsvg.h).
 *
 * Coordinates are in a fixed 1000 x 760 user space (the viewBox), so the
 * browser scales the drawing and the text with it.  Numbers go out with
 * fixed precision ("%.1f" for coordinates) so output is byte-stable.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/mapsvg.h"

#define W 1000
#define H 760
/* The top panel. */
#define PX0 90.0
#define PX1 910.0
#define PY0 96.0
#define PY1 400.0
/* The ladder panels. */
#define LY0 520.0
#define LY1 690.0
static const double lx0[2] = { 90.0, 540.0 };
static const double lx1[2] = { 460.0, 910.0 };

#define C_LONG "#3b7dd8"
#define C_SHORT "#e8743b"
#define C_BID "#2e9e44"
#define C_ASK "#c7332f"
#define C_STAR "#8e0b3e"
#define C_AXIS "#444444"
#define C_GRID "#e4e4e4"
#define C_TEXT "#222222"
#define C_MUTED "#777777"
/* Text over the drawing: a white outline under the glyphs. */
#define HALO "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\""

static const char *const side_name[2] = { "down", "up" };

/* ---- text --------------------------------------------------------------- */

/* s with &, <, >, " and ' escaped; control characters as '?'. */
static void xml_text(FILE *o, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&apos;", o); break;
        default:
            fputc(c < 0x20 || c == 0x7f ? '?' : c, o);
        }
    }
}

/* <text> at (x, y) with the given anchor, size and fill, escaped. */
static void text_at(FILE *o, double x, double y, const char *anchor, int size,
                    const char *fill, const char *extra, const char *s)
{
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" "
            "fill=\"%s\"%s%s>", x, y, anchor, size, fill, extra ? " " : "",
            extra ? extra : "");
    xml_text(o, s);
    fputs("</text>\n", o);
}

/* 1234567 -> "1.23M"; 950 -> "950"; 0.5 -> "0.5". */
static void fmt_si(double v, char *buf, size_t size)
{
    static const char *const suf[] = { "", "k", "M", "B", "T" };
    double a = fabs(v);
    int k = 0;

    while (a >= 1000 && k < 4) {
        a /= 1000;
        v /= 1000;
        k++;
    }
    snprintf(buf, size, "%.3g%s", v, suf[k]);
}

/* A price with as many decimals as step needs. */
static void fmt_price(double p, double step, char *buf, size_t size)
{
    int dec = 0;

    if (step > 0 && step < 1)
        dec = (int)ceil(-log10(step) - 1e-9);
    if (dec > 8)
        dec = 8;
    snprintf(buf, size, "%.*f", dec, p);
}

/* UTC "2026-11-30 12:00:05 UTC" of ns. */
static void fmt_utc(int64_t ns, char *buf, size_t size)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;

    if (ns <= 0 || gmtime_r(&t, &tm) == NULL)
        snprintf(buf, size, "time unknown");
    else
        strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A step of 1, 2, 2.5 or 5 x 10^k so that range / step <= n. */
static double nice_step(double range, int n)
{
    static const double m[] = { 1, 2, 2.5, 5, 10 };
    double raw, p;

    if (!(range > 0))
        return 1;
    raw = range / n;
    p = pow(10, floor(log10(raw)));
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (m[i] * p >= raw * (1 - 1e-9))
            return m[i] * p;
    return 10 * p;
}

/* ---- the top panel ------------------------------------------------------ */

struct frame {
    const struct map_model *m;
    double ymax_n, ymax_d;          /* left and right axes' tops */
};

static double px(const struct map_model *m, double p)
{
    return PX0 + (p - m->lo) / (m->hi - m->lo) * (PX1 - PX0);
}

static double yn(const struct frame *f, double v)
{
    return PY1 - v / f->ymax_n * (PY1 - PY0);
}

static double yd(const struct frame *f, double v)
{
    return PY1 - v / f->ymax_d * (PY1 - PY0);
}

static int edge_on_side(const struct map_model *m, size_t i, int bids)
{
    double e = mapmodel_edge(m, i), tol = m->ref * 1e-12;

    return bids ? e <= m->ref + tol : e >= m->ref - tol;
}

static void top_axes(FILE *o, const struct frame *f)
{
    const struct map_model *m = f->m;
    double half = (m->hi - m->ref) / m->ref * 100, step_pct, sn, sd;
    char a[64], b[64];
    int k0, k1;

    /* Left axis: notional; right axis: depth. */
    sn = f->ymax_n / 4;
    sd = f->ymax_d / 4;
    for (int i = 0; i <= 4; i++) {
        double y = PY1 - i * (PY1 - PY0) / 4;
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\"/>\n", PX0, y, PX1, y, i ? C_GRID : C_AXIS);
        fmt_si(sn * i, a, sizeof(a));
        text_at(o, PX0 - 6, y + 4, "end", 11, C_LONG, NULL, a);
        fmt_si(sd * i, a, sizeof(a));
        text_at(o, PX1 + 6, y + 4, "start", 11, C_BID, NULL, a);
    }
    fprintf(o, "<text transform=\"translate(24 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">positions' "
            "notional per bucket (quote units)</text>\n", (PY0 + PY1) / 2, C_TEXT);
    fprintf(o, "<text transform=\"translate(%d %.1f) rotate(90)\" "
            "text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">book depth from "
            "the top, cumulative (base units)</text>\n", W - 24, (PY0 + PY1) / 2,
            C_TEXT);

    /* Price ticks at round percentages from ref. */
    step_pct = nice_step(2 * half, 8);
    k0 = (int)ceil(-half / step_pct - 1e-9);
    k1 = (int)floor(half / step_pct + 1e-9);
    for (int k = k0; k <= k1; k++) {
        double pct = k * step_pct, p = m->ref * (1 + pct / 100), x = px(m, p);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\"/>\n", x, PY1, x, PY1 + 5, C_AXIS);
        fmt_price(p, m->ref * step_pct / 100, a, sizeof(a));
        text_at(o, x, PY1 + 18, "middle", 11, C_TEXT, NULL, a);
        if (k == 0)
            snprintf(b, sizeof(b), "ref");
        else
            snprintf(b, sizeof(b), "%+.4g%%", pct);
        text_at(o, x, PY1 + 32, "middle", 11, C_MUTED, NULL, b);
    }
    text_at(o, (PX0 + PX1) / 2, PY1 + 50, "middle", 12, C_TEXT, NULL,
            "price (liquidation price for the bars)");
}

static void top_bars(FILE *o, const struct frame *f)
{
    const struct map_model *m = f->m;
    char lo_s[48], hi_s[48], n_s[32];
    double step = (m->hi - m->lo) / (double)m->nbuckets;

    for (size_t i = 0; i < m->nbuckets; i++) {
        double x0 = px(m, mapmodel_edge(m, i)), x1 = px(m, mapmodel_edge(m, i + 1));
        double wd = x1 - x0 - 1 > 0.5 ? x1 - x0 - 1 : 0.5;
        double base = 0;
        for (int s = 0; s < 2; s++) {
            double v = s ? m->short_notional[i] : m->long_notional[i];
            uint64_t c = s ? m->short_count[i] : m->long_count[i];
            if (!(v > 0) && c == 0)
                continue;
            fmt_price(mapmodel_edge(m, i), step, lo_s, sizeof(lo_s));
            fmt_price(mapmodel_edge(m, i + 1), step, hi_s, sizeof(hi_s));
            fmt_si(v, n_s, sizeof(n_s));
            fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>%s liquidating at %s..%s: %llu positions, "
                    "%s notional</title></rect>\n", x0 + 0.5, yn(f, base + v), wd,
                    yn(f, base) - yn(f, base + v), s ? C_SHORT : C_LONG,
                    s ? "shorts" : "longs", lo_s, hi_s, (unsigned long long)c, n_s);
            base += v;
        }
    }
}

static void top_depth(FILE *o, const struct frame *f)
{
    const struct map_model *m = f->m;

    for (int s = 0; s < 2; s++) {
        const double *d = s ? m->ask_depth : m->bid_depth;
        int first = 1;
        fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "points=\"", s ? C_ASK : C_BID);
        for (size_t i = 0; i <= m->nbuckets; i++) {
            if (!edge_on_side(m, i, s == 0))
                continue;
            fprintf(o, "%s%.1f,%.1f", first ? "" : " ", px(m, mapmodel_edge(m, i)),
                    yd(f, d[i]));
            first = 0;
        }
        fputs("\"/>\n", o);
    }
}

/* The visible book's edge per side: a dashed line, or a note when it is
 * beyond the window or the side is empty. */
static void top_reach(FILE *o, const struct frame *f, double *note_y)
{
    const struct map_model *m = f->m;
    char buf[160];

    for (int s = 0; s < 2; s++) {
        double r = m->side[s].reach_pct;
        double p = m->ref * (s ? 1 + r / 100 : 1 - r / 100);
        const char *c = s ? C_ASK : C_BID;
        const char *who = s ? "asks" : "bids";

        if (!(r > 0)) {
            snprintf(buf, sizeof(buf), "no %s in the book", who);
        } else if (p >= m->lo && p <= m->hi) {
            double x = px(m, p);
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                    x, PY0, x, PY1, c);
            snprintf(buf, sizeof(buf), "visible %s end %s%.2f%%", who,
                     s ? "+" : "-", r);
            /* Outward from ref, on rows of their own: never over each other. */
            text_at(o, s ? x + 4 : x - 4, (PY0 + PY1) / 2 + 16 * s,
                    s ? "start" : "end", 11, c, HALO, buf);
            continue;
        } else {
            snprintf(buf, sizeof(buf), "visible %s reach %s%.2f%% (beyond the "
                     "window)", who, s ? "+" : "-", r);
        }
        text_at(o, s ? PX1 - 4 : PX0 + 4, *note_y, s ? "end" : "start", 11, c,
                HALO, buf);
    }
    *note_y += 14;
}

/* s*: a dotted line at its start price and an arrow to the final price. */
static void top_star(FILE *o, const struct frame *f)
{
    const struct map_model *m = f->m;

    for (int s = 0; s < 2; s++) {
        const struct map_side *sd = &m->side[s];
        const struct map_row *row = NULL;
        double p0, x0, x1, y = PY0 + 14 + 18 * s;
        char buf[160], amp[32];

        if (isnan(sd->s_star))
            continue;
        for (size_t r = 0; r < sd->nrows; r++)
            if (sd->rows[r].shock == sd->s_star)
                row = &sd->rows[r];
        p0 = m->ref * (s ? 1 + sd->s_star : 1 - sd->s_star);
        if (p0 < m->lo || p0 > m->hi)
            continue;
        x0 = px(m, p0);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n",
                x0, PY0, x0, PY1, C_STAR);
        if (row == NULL)
            continue;
        x1 = px(m, row->final_price < m->lo ? m->lo : row->final_price > m->hi
                                                       ? m->hi : row->final_price);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"2\"/>\n", x0, y, x1, y, C_STAR);
        fprintf(o, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n",
                x1, y, x1 + (s ? -7 : 7), y - 4, x1 + (s ? -7 : 7), y + 4, C_STAR);
        if (isnan(row->amplification))
            snprintf(amp, sizeof(amp), "-");
        else
            snprintf(amp, sizeof(amp), "x%.2f", row->amplification);
        snprintf(buf, sizeof(buf), "s* %s%.3g%% → %s%.2f%% (%s%s)",
                 s ? "+" : "-", sd->s_star * 100, s ? "+" : "-", row->move_pct,
                 amp, row->exhausted ? ", book exhausted" : "");
        if (s == 0)
            text_at(o, (x1 < x0 ? x1 : x0) - 10, y + 4, "end", 11, C_STAR,
                    HALO " font-weight=\"bold\"", buf);
        else
            text_at(o, (x1 > x0 ? x1 : x0) + 10, y + 4, "start", 11, C_STAR,
                    HALO " font-weight=\"bold\"", buf);
    }
}

static void legend(FILE *o)
{
    double x = PX0, y = 78;

    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>\n",
            x, y - 9, C_LONG);
    text_at(o, x + 16, y, "start", 11, C_TEXT, NULL, "longs (liquidated on the way down)");
    x += 215;
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>\n",
            x, y - 9, C_SHORT);
    text_at(o, x + 16, y, "start", 11, C_TEXT, NULL, "shorts (on the way up)");
    x += 150;
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"2\"/>\n", x, y - 4, x + 16, y - 4, C_BID);
    text_at(o, x + 20, y, "start", 11, C_TEXT, NULL, "bid depth");
    x += 80;
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"2\"/>\n", x, y - 4, x + 16, y - 4, C_ASK);
    text_at(o, x + 20, y, "start", 11, C_TEXT, NULL, "ask depth");
    x += 80;
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-dasharray=\"6 4\"/>\n", x, y - 4, x + 16, y - 4, C_AXIS);
    text_at(o, x + 20, y, "start", 11, C_TEXT, NULL, "visible book ends");
    x += 125;
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n", x, y - 4, x + 16,
            y - 4, C_STAR);
    text_at(o, x + 20, y, "start", 11, C_TEXT, NULL, "s* (tripping shock)");
}

static void top_panel(FILE *o, const struct map_model *m)
{
    struct frame f = { m, 0, 0 };
    double note_y = PY0 + 52, xr;
    char buf[200], a[32], b[32];

    if (m->nbuckets == 0) {
        fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"none\" stroke=\"%s\"/>\n", PX0, PY0, PX1 - PX0, PY1 - PY0,
                C_GRID);
        text_at(o, (PX0 + PX1) / 2, (PY0 + PY1) / 2, "middle", 16, C_MUTED, NULL,
                "no reference price (no mark, no valid book): nothing to place");
        return;
    }
    for (size_t i = 0; i < m->nbuckets; i++)
        if (m->long_notional[i] + m->short_notional[i] > f.ymax_n)
            f.ymax_n = m->long_notional[i] + m->short_notional[i];
    for (size_t i = 0; i <= m->nbuckets; i++) {
        if (edge_on_side(m, i, 1) && m->bid_depth[i] > f.ymax_d)
            f.ymax_d = m->bid_depth[i];
        if (edge_on_side(m, i, 0) && m->ask_depth[i] > f.ymax_d)
            f.ymax_d = m->ask_depth[i];
    }
    f.ymax_n = f.ymax_n > 0 ? nice_step(f.ymax_n, 4) * 4 : 1;
    f.ymax_d = f.ymax_d > 0 ? nice_step(f.ymax_d, 4) * 4 : 1;

    legend(o);
    top_axes(o, &f);
    top_bars(o, &f);
    top_depth(o, &f);
    xr = px(m, m->ref);
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1.5\"/>\n", xr, PY0 - 2, xr, PY1, C_TEXT);
    top_reach(o, &f, &note_y);
    top_star(o, &f);
    fmt_si(m->side[0].outside_notional, a, sizeof(a));
    fmt_si(m->side[1].outside_notional, b, sizeof(b));
    if (m->side[0].outside_notional > 0 || m->side[1].outside_notional > 0) {
        snprintf(buf, sizeof(buf), "beyond the window: longs %s, shorts %s", a, b);
        text_at(o, PX0 + 4, note_y, "start", 11, C_MUTED, HALO, buf);
    }
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"none\" stroke=\"%s\"/>\n", PX0, PY0, PX1 - PX0, PY1 - PY0, C_AXIS);
}

/* ---- the ladder panels ------------------------------------------------------ */

static void ladder_panel(FILE *o, const struct map_model *m, int s)
{
    const struct map_side *sd = &m->side[s];
    double x0 = lx0[s], x1 = lx1[s], xmax = 0, ymax = 0, sx, sy;
    const char *c = s ? C_SHORT : C_LONG;
    const char *sign = s ? "+" : "-";
    const struct map_row *star = NULL;
    char buf[200], a[32];
    int first = 1;

    for (size_t r = 0; r < sd->nrows; r++) {
        if (sd->rows[r].shock * 100 > xmax)
            xmax = sd->rows[r].shock * 100;
        if (sd->rows[r].move_pct > ymax)
            ymax = sd->rows[r].move_pct;
        if (sd->rows[r].shock == sd->s_star)
            star = &sd->rows[r];
    }
    if (!isnan(sd->s_star) && star != NULL) {
        snprintf(a, sizeof(a), isnan(star->amplification) ? "-" : "x%.2f",
                 star->amplification);
        snprintf(buf, sizeof(buf), "%s ladder (%s): s* = %.3g%% → %s%.2f%% (%s)",
                 side_name[s], s ? "shorts into the asks" : "longs into the bids",
                 sd->s_star * 100, sign, star->move_pct, a);
    } else {
        snprintf(buf, sizeof(buf), "%s ladder (%s): no shock trips (x%.3g)",
                 side_name[s], s ? "shorts into the asks" : "longs into the bids",
                 m->amp_threshold);
    }
    text_at(o, x0, LY0 - 10, "start", 12, C_TEXT, "font-weight=\"bold\"", buf);
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"none\" stroke=\"%s\"/>\n", x0, LY0, x1 - x0, LY1 - LY0, C_AXIS);
    if (!m->ladder_valid || sd->nrows == 0) {
        text_at(o, (x0 + x1) / 2, (LY0 + LY1) / 2, "middle", 13, C_MUTED, NULL,
                m->ladder_valid ? "no rows for this side"
                                : "no ladder (book not valid, or no reference price)");
        return;
    }
    if (ymax < xmax)
        ymax = xmax;
    sx = nice_step(xmax > 0 ? xmax : 1, 5);
    sy = nice_step(ymax > 0 ? ymax : 1, 4);
    xmax = ceil(xmax / sx - 1e-9) * sx;
    ymax = ceil(ymax / sy - 1e-9) * sy;
    if (xmax <= 0)
        xmax = sx;
    if (ymax <= 0)
        ymax = sy;
#define LX(v) (x0 + (v) / xmax * (x1 - x0))
#define LYY(v) (LY1 - (v) / ymax * (LY1 - LY0))
    for (double v = 0; v <= ymax * (1 + 1e-9); v += sy) {
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\"/>\n", x0, LYY(v), x1, LYY(v), v > 0 ? C_GRID : C_AXIS);
        snprintf(a, sizeof(a), "%s%.4g%%", v > 0 ? sign : "", v);
        text_at(o, x0 - 5, LYY(v) + 4, "end", 11, C_TEXT, NULL, a);
    }
    for (double v = 0; v <= xmax * (1 + 1e-9); v += sx) {
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\"/>\n", LX(v), LY1, LX(v), LY1 + 4, C_AXIS);
        snprintf(a, sizeof(a), "%.4g%%", v);
        text_at(o, LX(v), LY1 + 16, "middle", 11, C_TEXT, NULL, a);
    }
    text_at(o, (x0 + x1) / 2, LY1 + 32, "middle", 11, C_TEXT, NULL,
            "shock (price pushed this far from ref)");
    fprintf(o, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
            "text-anchor=\"middle\" font-size=\"11\" fill=\"%s\">final move</text>\n",
            x0 - 48, (LY0 + LY1) / 2, C_TEXT);
    /* y = x: the shock alone, no cascade; y = amp x: the alert threshold. */
    {
        double e = xmax < ymax ? xmax : ymax;
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-dasharray=\"4 4\"/>\n", LX(0), LYY(0), LX(e),
                LYY(e), C_MUTED);
        if (m->amp_threshold > 0) {
            double ex = xmax, ey = m->amp_threshold * xmax;
            if (ey > ymax) {
                ey = ymax;
                ex = ymax / m->amp_threshold;
            }
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-dasharray=\"1 3\" stroke-width=\"1.5\"/>\n",
                    LX(0), LYY(0), LX(ex), LYY(ey), C_STAR);
            snprintf(a, sizeof(a), "x%.3g alert", m->amp_threshold);
            text_at(o, LX(ex) - 4, LYY(ey) + 12, "end", 10, C_STAR, NULL, a);
        }
        text_at(o, LX(e) - 4, LYY(e) + 14, "end", 10, C_MUTED, NULL, "x1");
    }
    if (!isnan(sd->s_star) && sd->s_star * 100 <= xmax) {
        double x = LX(sd->s_star * 100);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n",
                x, LY0, x, LY1, C_STAR);
        snprintf(a, sizeof(a), "s* %.3g%%", sd->s_star * 100);
        text_at(o, x + 4, LY0 + 13, "start", 11, C_STAR, "font-weight=\"bold\"", a);
    }
    fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
    for (size_t r = 0; r < sd->nrows; r++) {
        fprintf(o, "%s%.1f,%.1f", first ? "" : " ", LX(sd->rows[r].shock * 100),
                LYY(sd->rows[r].move_pct));
        first = 0;
    }
    fputs("\"/>\n", o);
    for (size_t r = 0; r < sd->nrows; r++) {
        const struct map_row *x = &sd->rows[r];
        char amp[32], n[32];
        snprintf(amp, sizeof(amp), isnan(x->amplification) ? "-" : "x%.2f",
                 x->amplification);
        fmt_si(x->liquidated_notional, n, sizeof(n));
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                "stroke=\"%s\" stroke-width=\"1.5\"><title>shock %.4g%% → %s%.2f%% "
                "(%s), %llu liquidated, %s notional%s</title></circle>\n",
                LX(x->shock * 100), LYY(x->move_pct), x->exhausted ? 4.5 : 3.5,
                x->exhausted ? "#ffffff" : c, x->exhausted ? C_STAR : c,
                x->shock * 100, sign, x->move_pct, amp,
                (unsigned long long)x->liquidated, n,
                x->exhausted ? ", book exhausted" : "");
    }
#undef LX
#undef LYY
}

/* ---- the document ----------------------------------------------------------- */

int mapsvg_render(const struct map_model *m, FILE *o)
{
    char when[64], buf[400], ref[64], key[128];
    int exhausted = 0;

    snprintf(key, sizeof(key), "%s:%s", m->venue, m->symbol);
    fmt_utc(m->ts, when, sizeof(when));
    if (m->ref > 0)
        snprintf(ref, sizeof(ref), "%.10g (%s)", m->ref, m->ref_is_mark ? "mark" : "book mid");
    else
        snprintf(ref, sizeof(ref), "none");
    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\">\n", W, H, W, H);
    fputs("<title>", o);
    snprintf(buf, sizeof(buf), "liquidation map %s at %s", key, when);
    xml_text(o, buf);
    fputs("</title>\n", o);
    fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
            W, H);
    snprintf(buf, sizeof(buf), "%s — liquidation map", key);
    text_at(o, 20, 30, "start", 20, C_TEXT, "font-weight=\"bold\"", buf);
    for (int s = 0; s < 2; s++)
        for (size_t r = 0; r < m->side[s].nrows; r++)
            exhausted |= m->side[s].rows[r].exhausted;
    if (m->nbuckets > 0)
        snprintf(buf, sizeof(buf), "%s · ref %s · book %s · window %.4g .. %.4g "
                 "(±%.3g%%, %zu buckets)", when, ref,
                 m->book_valid ? "valid" : "NOT valid", m->lo, m->hi,
                 (m->hi - m->ref) / m->ref * 100, m->nbuckets);
    else
        snprintf(buf, sizeof(buf), "%s · ref %s · book %s", when, ref,
                 m->book_valid ? "valid" : "NOT valid");
    text_at(o, 20, 52, "start", 13, C_MUTED, NULL, buf);
    top_panel(o, m);
    for (int s = 0; s < 2; s++)
        ladder_panel(o, m, s);
    if (exhausted)
        text_at(o, W - 20, H - 12, "end", 10, C_MUTED, NULL,
                "hollow points: the cascade ran past the visible book (exhausted)");
    text_at(o, 20, H - 12, "start", 10, C_MUTED, NULL,
            "liqmon · tracked positions only · s*: smallest shock that trips the "
            "cascade_risk rule");
    fputs("</svg>\n", o);
    return fflush(o) != 0 || ferror(o) ? -1 : 0;
}

int mapsvg_render_mem(const struct map_model *m, char **buf, size_t *len)
{
    FILE *f;
    int rc;

    *buf = NULL;
    *len = 0;
    if ((f = open_memstream(buf, len)) == NULL)
        return -1;
    rc = mapsvg_render(m, f);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}
