/*
 * alert.c - the alert rules of ../shared/docs/alert-rules.md, version 1
 * (see alert.h for the shape of the module).
 *
 * Layout: the level machine every rule shares (lvl_step), then one part
 * per kind in the contract's order, then the evaluation passes (one
 * instrument, one venue's connections, everything) that collect records,
 * sort them and hand them to the sink.
 *
 * Invariants, each enforced where written:
 *  - the clock never goes back: every evaluation runs at max(t, last t)
 *    (clock_at), so holds and windows only move forward;
 *  - a subject with level none and no hold has no state worth keeping:
 *    position states are freed then (pos_forget), so the table holds only
 *    positions with an alert open or a hold running;
 *  - records of one evaluation are written only at its end (flush), sorted
 *    by (kind, subject), so their order never depends on the order in
 *    which this file happens to visit subjects.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/alert.h"
#include "liqmon/jsonw.h"
#include "liqmon/numfmt.h"
#include "liqmon/pindex.h"

#define NS 1000000000LL
/* How long after a position's liquidation a venue print counts as "the
 * venue printed it" (position_liquidated details). */
#define PRINT_LOOKBACK (5 * NS)

static const char *const kind_names[ALERT_KIND_COUNT] = {
    "position_near", "position_liquidated", "cascade_risk", "book_invalid",
    "feed_down", "liquidation_cluster", "venue_adl_warning",
};

const char *alert_kind_name(enum alert_kind k)
{
    return (unsigned)k < ALERT_KIND_COUNT ? kind_names[k] : "?";
}

int alert_kind_from_name(const char *name)
{
    for (int k = 0; k < ALERT_KIND_COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

const char *alert_level_name(enum alert_level l)
{
    return l == ALERT_CRITICAL ? "critical" : l == ALERT_WARNING ? "warning" : "none";
}

void alert_config_default(struct alert_config *c)
{
    memset(c, 0, sizeof(*c));
    c->warn = 0.05;
    c->crit = 0.02;
    c->margin = 0.005;
    c->clear_after = 30 * NS;
    c->amp = 2.0;
    c->notional = 0;
    c->exhausted_trips = 0;
    c->crit_shock = 0.02;
    c->warn_shock = 0.05;
    c->invalid_after = 5 * NS;
    c->invalid_critical_after = 60 * NS;
    c->down_critical_after = 60 * NS;
    c->cluster_window = 60 * NS;
    c->cluster_notional = 1e6;
    c->adl_quiet = 10 * NS;
}

int alert_config_check(const struct alert_config *c, lq_err_t *err)
{
    struct { const char *key; double v; } nonneg[] = {
        { "warn", c->warn }, { "crit", c->crit }, { "margin", c->margin },
        { "amp", c->amp }, { "notional", c->notional },
        { "crit_shock", c->crit_shock }, { "warn_shock", c->warn_shock },
        { "cluster_notional", c->cluster_notional },
    };

    for (size_t i = 0; i < sizeof(nonneg) / sizeof(nonneg[0]); i++)
        if (!(isfinite(nonneg[i].v) && nonneg[i].v >= 0))
            return lq_err_set(err, "alerts.%s: must be a finite number >= 0",
                              nonneg[i].key);
    if (c->crit > c->warn)
        return lq_err_set(err, "alerts.crit: must not exceed warn");
    if (c->crit_shock > c->warn_shock)
        return lq_err_set(err, "alerts.crit_shock: must not exceed warn_shock");
    if (!(c->cluster_notional > 0))
        return lq_err_set(err, "alerts.cluster_notional: must be > 0");
    {
        struct { const char *key; int64_t v, min; } durs[] = {
            { "clear_after", c->clear_after, 0 },
            { "invalid_after", c->invalid_after, 0 },
            { "invalid_critical_after", c->invalid_critical_after, 0 },
            { "down_critical_after", c->down_critical_after, 0 },
            { "cluster_window", c->cluster_window, 1 },
            { "adl_quiet", c->adl_quiet, 1 },
        };
        for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
            if (durs[i].v < durs[i].min)
                return lq_err_set(err, "alerts.%s: must be a duration %s", durs[i].key,
                                  durs[i].min ? "> 0" : ">= 0");
    }
    if (c->invalid_critical_after < c->invalid_after)
        return lq_err_set(err, "alerts.invalid_critical_after: must not be "
                          "below invalid_after");
    return 0;
}

/* ---- the level machine ------------------------------------------------ */

/* One subject's state: alert-rules.md, Records. */
struct lvl {
    unsigned char level;        /* enum alert_level held */
    unsigned char hold_max;     /* highest level asked during the hold */
    int64_t hold_start;         /* -1: no hold running */
    int64_t since;              /* ts of the record that set level */
};

static void lvl_init(struct lvl *m)
{
    m->level = ALERT_NONE;
    m->hold_max = ALERT_NONE;
    m->hold_start = -1;
    m->since = 0;
}

/* One evaluation asking `asked` at t.  Returns the level before when the
 * level changed (a record is due), else -1.  Up at once; down only after
 * every evaluation for clear_after asked lower, to the highest level asked
 * in that hold; asking the current level or higher ends a hold; the
 * evaluation that changes the level does not start a new hold. */
static int lvl_step(struct lvl *m, int asked, int64_t t, int64_t clear_after)
{
    int before = m->level;

    if (asked >= m->level) {
        m->hold_start = -1;
        if (asked == m->level)
            return -1;
        m->level = (unsigned char)asked;
        m->since = t;
        return before;
    }
    if (m->hold_start < 0) {
        m->hold_start = t;
        m->hold_max = (unsigned char)asked;
    } else if (asked > m->hold_max) {
        m->hold_max = (unsigned char)asked;
    }
    if (t - m->hold_start < clear_after)
        return -1;
    m->level = m->hold_max;
    m->hold_start = -1;
    m->since = t;
    return before;
}

/* Level X asked when value <= thr(X) + (X <= current ? margin : 0), for
 * rules where smaller is worse (position_near).  thr[] by level. */
static int ask_below(double v, const double thr[3], double margin, int current)
{
    for (int x = ALERT_CRITICAL; x > ALERT_NONE; x--)
        if (v <= thr[x] + (x <= current ? margin : 0))
            return x;
    return ALERT_NONE;
}

/* ---- pending records of one evaluation -------------------------------- */

/* A record of the running evaluation.  Its texts are offsets into the
 * alerts' text arena (struct alerts: text), which add_record appends to
 * and flush empties: in a move that writes thousands of records a second,
 * five mallocs and frees per record (its texts and a 4 KiB details
 * buffer) kept malloc consolidating and searching its bins for a third of
 * the rules' time. */
#define PEND_NONE ((size_t)-1)
/* Past these, flush lets the arena and the queue go: a full scan (the
 * first evaluation) queues one record per position near its price, a
 * hundred thousand at 1e5 positions, and the evaluations after it a few. */
#define PEND_TEXT_KEEP (1u << 20)
#define PEND_KEEP 4096
struct pending {
    enum alert_kind kind;
    int severity;
    int resolved;
    const char *venue;          /* static strings */
    const char *instrument;     /* borrowed from the market, or NULL */
    size_t subject, message, details;
    size_t kind_name;           /* for extra kinds; PEND_NONE otherwise */
    const char *subj;           /* subject's text, set by flush to sort */
};

/* ---- per-subject state ------------------------------------------------ */

/* A position with an alert open or a hold running. */
struct pstate {
    uint32_t handle;
    unsigned char used;         /* slot in use */
    unsigned char in_next;      /* listed in ainstr.next */
    unsigned char unsettled;    /* no hold, but the level it asked last
                                   differs from the one it holds (it just
                                   stepped down): the next evaluation
                                   starts a hold */
    uint64_t epoch;             /* evaluation that last looked at it */
    struct lvl m;
};

/* A time-ordered window of one side's liquidation prints. */
struct prints {
    int64_t *ts;
    double *notional;
    size_t head, n, cap;        /* ring buffer */
    int seen;                   /* any print ever (coverage known) */
    enum liq_coverage coverage;
    struct lvl m;
};

struct ainstr {
    struct mkt_instr *in;
    const char *quote;          /* "USDT", "USDC", "USD" or "quote" */
    /* Positions: open addressing on handle, power-of-two capacity. */
    struct pstate *pos;
    size_t poscap, posn;
    /* A byte per position handle mirroring its state (PB_*), so that the
     * band visits, which mostly meet positions whose crossing changes
     * nothing, decide that from a small dense array instead of the
     * table: at 1e5 positions it stays in cache where the table does
     * not.  Kept in step with pos by pos_add / pos_forget / pb_sync. */
    unsigned char *pb;
    size_t npb;
    /* Unsettled states: evaluated at the next evaluation. */
    uint32_t *next;
    size_t nnext, capnext;
    /* Running holds by the time they may end (hold start + clear_after):
     * holds start at evaluation times, which only grow, so a FIFO is in
     * deadline order.  Entries of holds that ended early stay until
     * popped (checked against the state's hold start). */
    struct due { uint32_t handle; int64_t at; } *dues;
    size_t duehead, nodues, capdues;
    /* The previous evaluation of the positions: ref 0 means "none yet, or
     * something changed that needs a full scan" (see eval_positions). */
    double last_ref;
    uint64_t last_spec_version;
    /* Per side and breakpoint: where in the index the breakpoint sat at
     * the previous evaluation, so the next band is a walk of a few
     * entries, not a descent (pindex_foreach_lp_range_cur). */
    struct agt_cursor cursor[2][4];
    struct lvl cascade[2];      /* down, up */
    struct lvl book;
    int64_t invalid_since;      /* -1: valid */
    struct prints side[2];      /* [0] longs liquidated, [1] shorts */
    /* position_liquidated is terminal: firing until the position is
     * changed or reloaded (alerts_foreach_active lists it). */
    struct liqd { uint32_t handle; int64_t since; } *liqd;
    size_t nliqd, capliqd;
    int evaluated;              /* at least once */
};

#define MAX_CONNS 64
struct aconn {
    enum venue_id venue;
    char subject[96];           /* "VENUE/CONN" */
    int down;                   /* disconnected or stale */
    int stale;
    int64_t since;              /* when it went down */
    char reason[96];
    struct lvl m;
};

/* A venue's insurance fund (venue_adl_warning). */
#define ADL_MAX_SUBJECTS 1024
struct aadl {
    enum venue_id venue;
    char subject[112];          /* "VENUE:SCOPE" */
    char ccy[48], state[32];
    const struct mkt_instr *in; /* the watched instrument it covers, or NULL */
    int level;                  /* enum adl_level of the last push */
    int64_t last;               /* clock of the last push */
    double balance, max_balance, threshold, ratio, ratio_trigger, ratio_stop;
    struct lvl m;
};

struct alerts {
    struct alert_config cfg;
    market_t *mkt;
    engine_t *eng;
    alert_sink_fn sink;
    void *arg;
    struct ainstr *ai;
    size_t n;
    struct aconn conns[MAX_CONNS];
    size_t nconns;
    int64_t clock;
    uint64_t next_id;
    uint64_t epoch;
    struct pending *pend;
    size_t npend, cappend;
    char *text;                 /* the pending records' texts (owned) */
    size_t ntext, captext;
    char *dbuf;                 /* a details writer's buffer, between */
    size_t dcap;                /* records (details_begin, add_record) */
    struct alert_stats st;
    int full_scan;              /* alerts_debug_full_scan */
    struct aadl *adl;           /* venue_adl_warning subjects */
    size_t nadl, capadl;
};

/* ---- helpers ---------------------------------------------------------- */

static const char *quote_of(const struct mkt_instr *in)
{
    const char *s = in->spec.symbol;
    size_t n = strlen(s);

    if (in->venue == VENUE_HYPERLIQUID)
        return "USDC";
    if (strstr(s, "USDT") != NULL)
        return "USDT";
    if (strstr(s, "USDC") != NULL)
        return "USDC";
    if (n >= 3 && strstr(s, "USD") != NULL)
        return "USD";
    return "quote";
}

/* 12.3M, 950K, 1.2B, 512: what a person reads at a glance. */
static void fmt_amount(double v, char *buf, size_t size)
{
    double a = fabs(v);

    if (a >= 1e9)
        snprintf(buf, size, "%.3gB", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, size, "%.3gM", v / 1e6);
    else if (a >= 1e3)
        snprintf(buf, size, "%.3gK", v / 1e3);
    else
        snprintf(buf, size, "%.3g", v);
}

static int64_t clock_at(alerts_t *a, int64_t t)
{
    if (t > a->clock)
        a->clock = t;
    return a->clock;
}

/* Append s and its NUL to the text arena: its offset, or PEND_NONE (no
 * memory). */
static size_t text_put(alerts_t *a, const char *s)
{
    size_t n = strlen(s) + 1, at = a->ntext;

    if (a->ntext + n > a->captext) {
        size_t cap = a->captext ? a->captext : 4096;
        while (cap < a->ntext + n)
            cap *= 2;
        char *nt = realloc(a->text, cap);
        if (nt == NULL)
            return PEND_NONE;
        a->text = nt;
        a->captext = cap;
    }
    memcpy(a->text + at, s, n);
    a->ntext += n;
    return at;
}

/* Queue one record of the running evaluation.  details: the writer with
 * one open object (closed here; its buffer is kept for the next record's
 * details, see details_begin).  On out of memory the record is lost and
 * counted as such in the log, never half-written. */
static void add_record(alerts_t *a, enum alert_kind kind, const char *kind_name,
                       const char *subject, enum venue_id venue,
                       const char *instrument, int severity, int resolved,
                       const char *message, struct jsonw *details)
{
    struct pending *p;
    size_t mark = a->ntext;

    jw_obj_end(details);
    if (a->npend == a->cappend) {
        size_t cap = a->cappend ? 2 * a->cappend : 16;
        struct pending *np = realloc(a->pend, cap * sizeof(*np));
        if (np == NULL)
            goto nomem;
        a->pend = np;
        a->cappend = cap;
    }
    p = &a->pend[a->npend];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->severity = severity;
    p->resolved = resolved;
    p->venue = venue_name(venue);
    p->instrument = instrument;
    p->subject = text_put(a, subject);
    p->message = text_put(a, message);
    p->details = jw_failed(details) ? PEND_NONE : text_put(a, details->buf);
    p->kind_name = kind_name ? text_put(a, kind_name) : PEND_NONE;
    if (p->subject == PEND_NONE || p->message == PEND_NONE ||
        p->details == PEND_NONE || (kind_name && p->kind_name == PEND_NONE)) {
        a->ntext = mark;
        goto nomem;
    }
    a->npend++;
    goto out;
nomem:
    fprintf(stderr, "alerts: out of memory: a %s record for %s was lost\n",
            kind_name ? kind_name : alert_kind_name(kind), subject);
out:
    /* the buffer goes back for the next record's details */
    if (!jw_failed(details) && a->dbuf == NULL) {
        a->dbuf = details->buf;
        a->dcap = details->cap;
        details->buf = NULL;
    }
    jw_fini(details);
}

static int pending_cmp(const void *x, const void *y)
{
    const struct pending *p = x, *q = y;

    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    return strcmp(p->subj, q->subj);
}

/* End of an evaluation: sort (kind, subject), number, write. */
static void flush(alerts_t *a, int64_t t)
{
    for (size_t i = 0; i < a->npend; i++)
        a->pend[i].subj = a->text + a->pend[i].subject;
    if (a->npend > 1)
        qsort(a->pend, a->npend, sizeof(*a->pend), pending_cmp);
    for (size_t i = 0; i < a->npend; i++) {
        struct pending *p = &a->pend[i];
        struct alert_record r;

        r.id = ++a->next_id;
        r.ts = t;
        r.kind = p->kind;
        r.kind_name = p->kind_name != PEND_NONE ? a->text + p->kind_name
                                                : alert_kind_name(p->kind);
        r.subject = p->subj;
        r.venue = p->venue;
        r.instrument = p->instrument;
        r.severity = (enum alert_level)p->severity;
        r.resolved = p->resolved;
        r.message = a->text + p->message;
        r.details = a->text + p->details;
        a->st.records++;
        if (p->kind < ALERT_KIND_COUNT) {
            if (p->resolved)
                a->st.resolved[p->kind]++;
            else
                a->st.by_kind[p->kind][p->severity]++;
        }
        if (a->sink)
            a->sink(a->arg, &r);
    }
    a->npend = 0;
    a->ntext = 0;
    if (a->captext > PEND_TEXT_KEEP) {
        free(a->text);
        a->text = NULL;
        a->captext = 0;
    }
    if (a->cappend > PEND_KEEP) {
        free(a->pend);
        a->pend = NULL;
        a->cappend = 0;
    }
}

/* The record for a change from `before` to m->level. */
static void level_record(alerts_t *a, enum alert_kind kind, const char *subject,
                         enum venue_id venue, const char *instrument, int before,
                         const struct lvl *m, const char *message,
                         struct jsonw *details)
{
    int resolved = m->level == ALERT_NONE;

    add_record(a, kind, NULL, subject, venue, instrument,
               resolved ? before : m->level, resolved, message, details);
}

/* A details writer, on the buffer the last record's details left
 * (add_record gives it back): no allocation per record once it has grown
 * to the largest details written. */
static void details_begin(alerts_t *a, struct jsonw *w, int level_asked)
{
    jw_init(w);
    if (a->dbuf != NULL) {
        w->buf = a->dbuf;
        w->cap = a->dcap;
        w->buf[0] = '\0';
        a->dbuf = NULL;
        a->dcap = 0;
    }
    jw_obj_begin(w);
    jw_key(w, "asked");
    jw_str(w, alert_level_name((enum alert_level)level_asked));
}

/* ---- positions: position_near, position_liquidated -------------------- */

static struct pstate *pos_find(struct ainstr *ai, uint32_t h)
{
    if (ai->poscap == 0)
        return NULL;
    for (size_t i = (h * 2654435761u) & (ai->poscap - 1);;
         i = (i + 1) & (ai->poscap - 1)) {
        if (!ai->pos[i].used)
            return NULL;
        if (ai->pos[i].handle == h)
            return &ai->pos[i];
    }
}

static struct pstate *pos_add(struct ainstr *ai, uint32_t h)
{
    if (2 * (ai->posn + 1) > ai->poscap) {
        size_t cap = ai->poscap ? 2 * ai->poscap : 64;
        struct pstate *np = calloc(cap, sizeof(*np)), *old = ai->pos;
        size_t oldcap = ai->poscap;
        if (np == NULL)
            return NULL;
        ai->pos = np;
        ai->poscap = cap;
        ai->posn = 0;
        for (size_t i = 0; i < oldcap; i++) {
            if (old[i].used) {
                struct pstate *p = pos_add(ai, old[i].handle);
                *p = old[i];
            }
        }
        free(old);
    }
    for (size_t i = (h * 2654435761u) & (ai->poscap - 1);;
         i = (i + 1) & (ai->poscap - 1)) {
        if (!ai->pos[i].used) {
            /* A slot keeps what its last occupant left (pos_forget only
             * clears used): start from zero, or a stale in_next or epoch
             * would keep the new state off the lists. */
            memset(&ai->pos[i], 0, sizeof(ai->pos[i]));
            ai->pos[i].used = 1;
            ai->pos[i].handle = h;
            lvl_init(&ai->pos[i].m);
            ai->posn++;
            return &ai->pos[i];
        }
    }
}

#define PB_STATE 0x4          /* a state exists (table entry) */
#define PB_BUSY  0x8          /* a hold runs or it is unsettled */
#define PB_LEVEL 0x3          /* its level */

/* Mirror p's state into its byte.  On out of memory the byte map is
 * dropped and every visit goes through the table (pb == NULL). */
static void pb_sync(struct ainstr *ai, const struct pstate *p, int exists)
{
    uint32_t h = p->handle;

    if (h >= ai->npb) {
        size_t n = ai->npb ? ai->npb : 1024;
        unsigned char *nb;
        while (n <= h)
            n *= 2;
        nb = ai->pb || ai->npb == 0 ? realloc(ai->pb, n) : NULL;
        if (nb == NULL) {
            free(ai->pb);
            ai->pb = NULL;
            ai->npb = (size_t)-1;      /* never again: table only */
            return;
        }
        memset(nb + ai->npb, 0, n - ai->npb);
        ai->pb = nb;
        ai->npb = n;
    }
    if (ai->pb == NULL)
        return;
    ai->pb[h] = !exists ? 0 : (unsigned char)(PB_STATE | (p->m.level & PB_LEVEL) |
                                              (p->m.hold_start >= 0 || p->unsettled
                                               ? PB_BUSY : 0));
}

/* Remove with backward-shift deletion (linear probing stays valid). */
static void pos_forget(struct ainstr *ai, struct pstate *p)
{
    size_t mask = ai->poscap - 1, i = (size_t)(p - ai->pos), j = i;

    pb_sync(ai, p, 0);
    ai->pos[i].used = 0;
    ai->posn--;
    for (;;) {
        size_t k;
        j = (j + 1) & mask;
        if (!ai->pos[j].used)
            return;
        k = (ai->pos[j].handle * 2654435761u) & mask;
        /* j's entry may move to i when its home k is not in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        ai->pos[i] = ai->pos[j];
        ai->pos[j].used = 0;
        i = j;
    }
}

static void next_add(struct ainstr *ai, struct pstate *p)
{
    if (ai->nnext == ai->capnext) {
        size_t cap = ai->capnext ? 2 * ai->capnext : 16;
        uint32_t *nn = realloc(ai->next, cap * sizeof(*nn));
        if (nn == NULL) {
            ai->last_ref = 0;       /* cannot track it: scan in full next */
            return;
        }
        ai->next = nn;
        ai->capnext = cap;
    }
    ai->next[ai->nnext++] = p->handle;
    p->in_next = 1;
}

static void due_push(struct ainstr *ai, uint32_t h, int64_t at)
{
    if (ai->nodues == ai->capdues) {
        size_t cap = ai->capdues ? 2 * ai->capdues : 16;
        struct due *nd = malloc(cap * sizeof(*nd));
        if (nd == NULL) {
            ai->last_ref = 0;
            return;
        }
        for (size_t i = 0; i < ai->nodues; i++)
            nd[i] = ai->dues[(ai->duehead + i) % ai->capdues];
        free(ai->dues);
        ai->dues = nd;
        ai->capdues = cap;
        ai->duehead = 0;
    }
    ai->dues[(ai->duehead + ai->nodues++) % ai->capdues] = (struct due){ h, at };
}

static double pos_d(const struct pos_view *v, double ref)
{
    return v->side == POS_LONG ? (ref - v->lp) / ref : (v->lp - ref) / ref;
}

static void pos_details(alerts_t *a, struct jsonw *w, int asked,
                        const struct pos_view *v, double ref, double d)
{
    details_begin(a, w, asked);
    jw_key(w, "d");
    jw_double(w, d);
    jw_key(w, "ref");
    jw_double(w, ref);
    jw_key(w, "liq_price");
    jw_double(w, v->lp);
    jw_key(w, "side");
    jw_str(w, v->side == POS_LONG ? "long" : "short");
    jw_key(w, "qty");
    jw_dec(w, v->qty);
    jw_key(w, "account");
    jw_str(w, v->account);
}

/* One position_near evaluation of the position with handle h (state p
 * may be NULL: none).  Only (side, LP) decide; the position itself is
 * read from the index only when a record is written, since most
 * evaluations change nothing and the index's records are cold. */
static void eval_position(alerts_t *a, struct ainstr *ai, const pindex_t *ix,
                          uint32_t h, enum pos_side side, double lp,
                          struct pstate *p, double ref, int64_t t)
{
    const struct alert_config *c = &a->cfg;
    const double thr[3] = { 0, c->warn, c->crit };
    double d = side == POS_LONG ? (ref - lp) / ref : (lp - ref) / ref;
    int current = p ? p->m.level : ALERT_NONE;
    int asked = ask_below(d, thr, c->margin, current), before;
    int64_t hold_was;
    char msg[400], qty[DEC_STRLEN];
    struct pos_view pv;
    const struct pos_view *v = &pv;
    struct jsonw w;

    if (p == NULL) {
        if (asked == ALERT_NONE)
            return;                 /* nothing held, nothing to hold */
        p = pos_add(ai, h);
        if (p == NULL)
            return;
    }
    p->epoch = a->epoch;
    hold_was = p->m.hold_start;
    before = lvl_step(&p->m, asked, t, c->clear_after);
    if (hold_was < 0 && p->m.hold_start >= 0)
        due_push(ai, p->handle, p->m.hold_start + c->clear_after);
    p->unsettled = p->m.hold_start < 0 && asked != p->m.level;
    if (p->unsettled && !p->in_next)
        next_add(ai, p);
    pb_sync(ai, p, 1);
    if (before >= 0 && pindex_get(ix, h, &pv) == PINDEX_OK) {
        /* The numbers as "%.2f" and "%.10g" would print them, without
         * printf: a start or a cascade writes these by the hundred
         * thousand (numfmt.h). */
        char pct[32], lpt[32], reft[32], thr[32];
        dec_format(v->qty, qty);
        numfmt_f(d * 100, 2, pct, sizeof(pct));
        numfmt_g(v->lp, 10, lpt, sizeof(lpt));
        numfmt_g(ref, 10, reft, sizeof(reft));
        if (p->m.level == ALERT_NONE) {
            numfmt_f((c->warn + c->margin) * 100, 2, thr, sizeof(thr));
            snprintf(msg, sizeof(msg), "%s %s %s (qty %s): %s%% from its "
                     "liquidation price %s (ref %s), more than %s%%; "
                     "%s resolved", ai->in->key,
                     v->side == POS_LONG ? "long" : "short", v->id, qty, pct,
                     lpt, reft, thr, alert_level_name((enum alert_level)before));
        } else {
            numfmt_f((p->m.level == ALERT_CRITICAL ? c->crit : c->warn) * 100, 2, thr,
                     sizeof(thr));
            snprintf(msg, sizeof(msg), "%s %s %s (qty %s): %s%% from its "
                     "liquidation price %s (ref %s); %s at %s%%",
                     ai->in->key, v->side == POS_LONG ? "long" : "short", v->id,
                     qty, pct, lpt, reft,
                     alert_level_name((enum alert_level)p->m.level), thr);
        }
        pos_details(a, &w, asked, v, ref, d);
        jw_key(&w, "threshold");
        jw_double(&w, p->m.level == ALERT_CRITICAL ? c->crit :
                      p->m.level == ALERT_WARNING ? c->warn : c->warn + c->margin);
        jw_key(&w, "margin");
        jw_double(&w, c->margin);
        level_record(a, ALERT_POSITION_NEAR, v->id, ai->in->venue, ai->in->key,
                     before, &p->m, msg, &w);
    }
    if (p->m.level == ALERT_NONE && p->m.hold_start < 0)
        pos_forget(ai, p);
}

/* Whether the venue printed a liquidation of that side in the lookback. */
static int printed_recently(const struct prints *pr, int64_t t)
{
    for (size_t i = 0; i < pr->n; i++) {
        size_t k = (pr->head + i) % pr->cap;
        if (pr->ts[k] > t - PRINT_LOOKBACK && pr->ts[k] <= t)
            return 1;
    }
    return 0;
}

static void eval_liquidated(alerts_t *a, struct ainstr *ai, const pindex_t *ix,
                            uint32_t h, double ref, int64_t t)
{
    struct pos_view v;
    struct pstate *p = pos_find(ai, h);
    const struct prints *pr;
    char msg[400], qty[DEC_STRLEN], reft[32], lpt[32];
    struct jsonw w;
    double d;

    if (pindex_get(ix, h, &v) != PINDEX_OK)
        return;
    d = pos_d(&v, ref);
    pr = &ai->side[v.side == POS_LONG ? 0 : 1];
    /* Its position_near state resolves at once, without the hold. */
    if (p != NULL) {
        if (p->m.level != ALERT_NONE) {
            int before = p->m.level;
            p->m.level = ALERT_NONE;
            p->m.hold_start = -1;
            numfmt_g(ref, 10, reft, sizeof(reft));
            numfmt_g(v.lp, 10, lpt, sizeof(lpt));
            snprintf(msg, sizeof(msg), "%s %s %s: liquidated (ref %s crossed "
                     "its liquidation price %s); %s resolved", ai->in->key,
                     v.side == POS_LONG ? "long" : "short", v.id, reft, lpt,
                     alert_level_name((enum alert_level)before));
            pos_details(a, &w, ALERT_NONE, &v, ref, d);
            level_record(a, ALERT_POSITION_NEAR, v.id, ai->in->venue, ai->in->key,
                         before, &p->m, msg, &w);
        }
        pos_forget(ai, p);
    }
    dec_format(v.qty, qty);
    numfmt_g(ref, 10, reft, sizeof(reft));
    numfmt_g(v.lp, 10, lpt, sizeof(lpt));
    snprintf(msg, sizeof(msg), "%s %s %s (qty %s) liquidated: ref %s crossed its "
             "liquidation price %s; %s", ai->in->key,
             v.side == POS_LONG ? "long" : "short", v.id, qty, reft, lpt,
             ai->in->venue == VENUE_HYPERLIQUID ? "the venue publishes no "
             "liquidation prints" : printed_recently(pr, t) ? "the venue printed "
             "a liquidation of that side in the 5 s before" : "no venue print of "
             "that side in the 5 s before");
    pos_details(a, &w, ALERT_CRITICAL, &v, ref, d);
    jw_key(&w, "venue_printed");
    if (ai->in->venue == VENUE_HYPERLIQUID)
        jw_null(&w);
    else
        jw_bool(&w, printed_recently(pr, t));
    add_record(a, ALERT_POSITION_LIQUIDATED, NULL, v.id, ai->in->venue, ai->in->key,
               ALERT_CRITICAL, 0, msg, &w);
    if (ai->nliqd == ai->capliqd) {
        size_t cap = ai->capliqd ? 2 * ai->capliqd : 16;
        struct liqd *nl = realloc(ai->liqd, cap * sizeof(*nl));
        if (nl == NULL)
            return;                 /* only the active list misses it */
        ai->liqd = nl;
        ai->capliqd = cap;
    }
    ai->liqd[ai->nliqd++] = (struct liqd){ h, t };
}

struct zone_ctx {
    alerts_t *a;
    struct ainstr *ai;
    const pindex_t *ix;
    enum pos_side side;         /* for band_visit */
    double ref;
    int64_t t;
};

static int zone_visit(const struct pos_view *v, void *arg)
{
    struct zone_ctx *z = arg;
    struct pstate *p = pos_find(z->ai, v->handle);

    if (p == NULL || p->epoch != z->a->epoch)   /* bands may overlap */
        eval_position(z->a, z->ai, z->ix, v->handle, v->side, v->lp, p, z->ref, z->t);
    return 0;
}

static int band_visit(uint32_t h, double lp, void *arg)
{
    struct zone_ctx *z = arg;
    struct pstate *p;

    /* Most positions a band meets crossed a breakpoint that does not
     * matter at their level (crit while critical, warn + margin while
     * none ...): settled, they ask their own level again and nothing
     * changes.  Decide that from the byte map; only the rest go to the
     * table and eval_position. */
    if (z->ai->pb != NULL) {
        unsigned b = h < z->ai->npb ? z->ai->pb[h] : 0;
        if (!(b & PB_BUSY)) {
            const struct alert_config *c = &z->a->cfg;
            const double thr[3] = { 0, c->warn, c->crit };
            double d = z->side == POS_LONG ? (z->ref - lp) / z->ref
                                           : (lp - z->ref) / z->ref;
            int current = (b & PB_STATE) ? (int)(b & PB_LEVEL) : ALERT_NONE;
            if (ask_below(d, thr, c->margin, current) == current)
                return 0;
        }
    }
    p = pos_find(z->ai, h);

    if (p == NULL || p->epoch != z->a->epoch)
        eval_position(z->a, z->ai, z->ix, h, z->side, lp, p, z->ref, z->t);
    return 0;
}

/* from_event: the evaluation follows an event of the instrument, so the
 * engine's list of positions that event liquidated is new (a tick must not
 * see it a second time). */
/* Every position that can ask a level (d <= warn + margin) and every
 * position holding state: the reference evaluation, run when nothing is
 * known about the previous one. */
static void scan_full(alerts_t *a, struct ainstr *ai, pindex_t *ix,
                      struct zone_ctx *z)
{
    /* The index query uses a bound a hair wider than warn + margin (the
     * exact test is pos_d's, on each candidate): nothing missed by
     * rounding. */
    double span = (a->cfg.warn + a->cfg.margin) * (1 + 1e-9) + 1e-12;

    pindex_foreach_reached(ix, POS_LONG, z->ref * (1 - span), zone_visit, z);
    pindex_foreach_reached(ix, POS_SHORT, z->ref * (1 + span), zone_visit, z);
    for (size_t i = 0; i < ai->poscap; i++) {
        struct pstate *p = &ai->pos[i];
        struct pos_view v;
        if (!p->used || p->epoch == a->epoch)
            continue;
        if (pindex_get(ix, p->handle, &v) != PINDEX_OK || v.liquidated ||
            !(isfinite(v.lp) && v.lp > 0)) {
            /* Gone, closed by the venue or without an LP any more: a
             * changed position starts afresh, so its state goes too. */
            pos_forget(ai, p);
            i--;                /* backward shift may have moved one here */
            continue;
        }
        eval_position(a, ai, ix, v.handle, v.side, v.lp, p, z->ref, z->t);
        if (ai->pos[i].used && ai->pos[i].epoch != a->epoch)
            i--;                /* eval_position forgot it; slot refilled */
    }
}

/* Evaluate a state found through a list, unless gone or seen already. */
static void eval_known(alerts_t *a, struct ainstr *ai, pindex_t *ix,
                       struct pstate *p, struct zone_ctx *z)
{
    struct pos_view v;

    if (p == NULL || p->epoch == a->epoch)
        return;
    if (pindex_get(ix, p->handle, &v) != PINDEX_OK || v.liquidated ||
        !(isfinite(v.lp) && v.lp > 0)) {
        pos_forget(ai, p);
        return;
    }
    eval_position(a, ai, ix, v.handle, v.side, v.lp, p, z->ref, z->t);
}

/* Since the previous evaluation (at ref r0, same positions, same
 * thresholds), a position's asked level can only have changed if its d
 * crossed one of the rule's breakpoints (crit, crit + margin, warn,
 * warn + margin: ask_below's), i.e. if its LP lies between where that
 * breakpoint sat at r0 and where it sits at r1.  A settled position (no
 * hold, and it asked its own level last time: pstate.unsettled) asks the
 * same again unless it is in a band, so nothing changes for it; a
 * position without state asked none and likewise.  So the only positions
 * whose evaluation can write or change anything are those in the bands
 * and the unsettled ones.  Visiting only them gives exactly the full
 * scan's records at O(log n + k) instead of O(positions near their LP). */
static void scan_bands(alerts_t *a, struct ainstr *ai, pindex_t *ix,
                       struct zone_ctx *z)
{
    const struct alert_config *c = &a->cfg;
    const double x[4] = { c->crit, c->crit + c->margin, c->warn, c->warn + c->margin };
    double r0 = ai->last_ref, r1 = z->ref;
    double lo = r0 < r1 ? r0 : r1, hi = r0 < r1 ? r1 : r0;
    const double w = 1e-9;     /* widening: rounding never hides a crossing */
    /* The unsettled states listed before this evaluation: those listed
     * during it (by the bands below) wait for the next one. */
    size_t n = ai->nnext;

    for (int i = 0; r0 != r1 && i < 4; i++) {
        for (int side = 0; side < 2; side++) {
            double f = side == POS_LONG ? 1 - x[i] : 1 + x[i];
            z->side = (enum pos_side)side;
            pindex_foreach_lp_range_cur(ix, (enum pos_side)side, lo * f * (1 - w),
                                        hi * f * (1 + w), r1 * f,
                                        &ai->cursor[side][i], band_visit, z);
        }
    }
    /* Unsettled states: their hold starts now. */
    for (size_t i = 0; i < n; i++) {
        struct pstate *p = pos_find(ai, ai->next[i]);
        if (p != NULL)
            p->in_next = 0;
        eval_known(a, ai, ix, p, z);
    }
    if (n > 0) {
        memmove(ai->next, ai->next + n, (ai->nnext - n) * sizeof(*ai->next));
        ai->nnext -= n;
    }
    /* Holds whose clear_after has run out by now. */
    while (ai->nodues > 0) {
        struct due d = ai->dues[ai->duehead];
        struct pstate *p;
        if (d.at > z->t)
            break;
        ai->duehead = (ai->duehead + 1) % ai->capdues;
        ai->nodues--;
        p = pos_find(ai, d.handle);
        if (p != NULL && p->m.hold_start >= 0 &&
            p->m.hold_start + c->clear_after == d.at)
            eval_known(a, ai, ix, p, z);
    }
}

/* After a full scan: the lists from the states themselves. */
static int due_cmp(const void *x, const void *y)
{
    const struct due *p = x, *q = y;

    return (p->at > q->at) - (p->at < q->at);
}

static void lists_rebuild(alerts_t *a, struct ainstr *ai)
{
    ai->nnext = 0;
    ai->duehead = ai->nodues = 0;
    for (size_t i = 0; i < ai->poscap; i++) {
        struct pstate *p = &ai->pos[i];
        p->in_next = 0;
        if (!p->used)
            continue;
        if (p->unsettled)
            next_add(ai, p);
        if (p->m.hold_start >= 0)
            due_push(ai, p->handle, p->m.hold_start + a->cfg.clear_after);
    }
    if (ai->nodues > 1)
        qsort(ai->dues, ai->nodues, sizeof(*ai->dues), due_cmp);
}

/* from_event: the evaluation follows an event of the instrument, so the
 * engine's list of positions that event liquidated is new (a tick must not
 * see it a second time). */
static void eval_positions(alerts_t *a, struct ainstr *ai, int64_t t,
                           int from_event)
{
    pindex_t *ix = engine_pindex(a->eng, ai->in);
    double ref = engine_ref(a->eng, ai->in, NULL);
    const uint32_t *liq;
    size_t nliq;
    struct zone_ctx z = { a, ai, ix, POS_LONG, ref, t };

    if (ix == NULL || !(ref > 0))
        return;
    liq = engine_liquidated(a->eng, ai->in, &nliq);
    for (size_t i = 0; from_event && i < nliq; i++)
        eval_liquidated(a, ai, ix, liq[i], ref, t);
    a->epoch++;
    if (!a->full_scan && ai->last_ref > 0 &&
        pindex_spec_version(ix) == ai->last_spec_version) {
        scan_bands(a, ai, ix, &z);
    } else {
        /* First time, or positions / thresholds changed: in full. */
        scan_full(a, ai, ix, &z);
        /* Liquidated positions that were changed since are no longer
         * firing (and would otherwise pile up over a long run). */
        for (size_t k = 0; k < ai->nliqd;) {
            struct pos_view pv;
            if (pindex_get(ix, ai->liqd[k].handle, &pv) == PINDEX_OK && pv.liquidated)
                k++;
            else
                ai->liqd[k] = ai->liqd[--ai->nliqd];
        }
        lists_rebuild(a, ai);
    }
    ai->last_ref = ref;
    ai->last_spec_version = pindex_spec_version(ix);
}

/* ---- cascade_risk ----------------------------------------------------- */

static void eval_cascade(alerts_t *a, struct ainstr *ai, int64_t t)
{
    const struct engine_ladder *l = engine_ladder(a->eng, ai->in);
    const struct alert_config *c = &a->cfg;
    pindex_t *ix = engine_pindex(a->eng, ai->in);

    /* An invalid ladder is not evaluated: unknown is not clear. */
    if (l == NULL || !l->valid)
        return;
    for (int side = 0; side < 2; side++) {
        const struct cascade_row *star = NULL;
        int asked, before;
        struct lvl *m = &ai->cascade[side];
        char subject[160], msg[512], amt[32], thr[64];
        struct jsonw w;
        int seen = 0;

        for (size_t r = 0; r < l->nrows; r++) {
            const struct cascade_row *row = &l->rows[r];
            int trips;
            if (row->side != (enum cascade_dir)side)
                continue;
            seen = 1;
            trips = row->shock > 0 &&
                    ((row->has_amplification && row->amplification >= c->amp) ||
                     (c->notional > 0 && row->liquidated_notional >= c->notional) ||
                     (c->exhausted_trips && row->exhausted));
            if (trips && (star == NULL || row->shock < star->shock))
                star = row;
        }
        if (!seen)
            continue;               /* side not in the configured ladder */
        asked = star == NULL ? ALERT_NONE : star->shock <= c->crit_shock
                ? ALERT_CRITICAL : star->shock <= c->warn_shock ? ALERT_WARNING
                : ALERT_NONE;
        before = lvl_step(m, asked, t, c->clear_after);
        if (before < 0)
            continue;
        snprintf(subject, sizeof(subject), "%s:%s", ai->in->key,
                 cascade_dir_name((enum cascade_dir)side));
        if (c->notional > 0) {
            fmt_amount(c->notional, amt, sizeof(amt));
            snprintf(thr, sizeof(thr), "threshold x%.1f or %s %s", c->amp, amt,
                     ai->quote);
        } else {
            snprintf(thr, sizeof(thr), "threshold x%.1f", c->amp);
        }
        if (star != NULL) {
            char ampx[32];
            fmt_amount(star->liquidated_notional, amt, sizeof(amt));
            if (star->has_amplification)
                snprintf(ampx, sizeof(ampx), " (x%.1f)", star->amplification);
            else
                ampx[0] = '\0';
            snprintf(msg, sizeof(msg), "%s %s: a %.3g%% %s would cascade to "
                     "%+.3g%%%s, %llu positions, %s %s%s; %s%s%s", ai->in->key,
                     cascade_dir_name((enum cascade_dir)side), star->shock * 100,
                     side == CASCADE_DOWN ? "drop" : "rise",
                     /* move_pct is a magnitude (cascade-model.md); the
                      * message gives the move's direction, as a risk desk
                      * reads it: -3.4% down, +3.4% up. */
                     side == CASCADE_DOWN ? -star->move_pct : star->move_pct, ampx,
                     (unsigned long long)star->liquidated, amt, ai->quote,
                     star->exhausted ? ", book exhausted" : "", thr,
                     m->level == ALERT_NONE ? "; " : "",
                     m->level == ALERT_NONE ? "resolved" : "");
        } else {
            snprintf(msg, sizeof(msg), "%s %s: no shock up to %.3g%% trips now "
                     "(%s); %s resolved", ai->in->key,
                     cascade_dir_name((enum cascade_dir)side), c->warn_shock * 100,
                     thr, alert_level_name((enum alert_level)before));
        }
        details_begin(a, &w, asked);
        jw_key(&w, "side");
        jw_str(&w, cascade_dir_name((enum cascade_dir)side));
        jw_key(&w, "s_star");
        if (star)
            jw_double(&w, star->shock);
        else
            jw_null(&w);
        jw_key(&w, "row");
        if (star)
            cascade_row_json(&w, star);
        else
            jw_null(&w);
        jw_key(&w, "ref");
        jw_double(&w, l->ref);
        jw_key(&w, "ref_is_mark");
        jw_bool(&w, l->ref_is_mark);
        jw_key(&w, "amp");
        jw_double(&w, c->amp);
        jw_key(&w, "notional");
        jw_double(&w, c->notional);
        jw_key(&w, "exhausted_trips");
        jw_bool(&w, c->exhausted_trips);
        jw_key(&w, "crit_shock");
        jw_double(&w, c->crit_shock);
        jw_key(&w, "warn_shock");
        jw_double(&w, c->warn_shock);
        /* How much of the venue's open interest the tracked positions of
         * this side cover (null where the venue publishes none). */
        jw_key(&w, "oi_coverage");
        if (ix && ai->in->open_interest > 0) {
            struct pindex_sum s;
            if (side == CASCADE_DOWN)
                pindex_reached(ix, POS_LONG, 0, &s);
            else
                pindex_reached(ix, POS_SHORT, INFINITY, &s);
            jw_double(&w, dec_to_double(s.qty) / dec_to_double(ai->in->open_interest));
        } else {
            jw_null(&w);
        }
        level_record(a, ALERT_CASCADE_RISK, subject, ai->in->venue, ai->in->key,
                     before, m, msg, &w);
    }
}

/* ---- book_invalid ----------------------------------------------------- */

static void eval_book(alerts_t *a, struct ainstr *ai, int64_t t)
{
    const struct alert_config *c = &a->cfg;
    struct mkt_instr *in = ai->in;
    int asked = ALERT_NONE, before;
    char msg[400];
    struct jsonw w;
    double for_s;

    if (in->book_valid) {
        ai->invalid_since = -1;
    } else {
        /* Invalid since the first evaluation that saw it so (a book never
         * valid: the instrument's first evaluation). */
        if (ai->invalid_since < 0)
            ai->invalid_since = t;
        if (t - ai->invalid_since >= c->invalid_critical_after)
            asked = ALERT_CRITICAL;
        else if (t - ai->invalid_since >= c->invalid_after)
            asked = ALERT_WARNING;
    }
    before = lvl_step(&ai->book, asked, t, c->clear_after);
    if (before < 0)
        return;
    for_s = ai->invalid_since < 0 ? 0 : (double)(t - ai->invalid_since) / 1e9;
    if (ai->book.level == ALERT_NONE)
        snprintf(msg, sizeof(msg), "%s book valid again; %s resolved", in->key,
                 alert_level_name((enum alert_level)before));
    else
        snprintf(msg, sizeof(msg), "%s book invalid for %.1f s (%s); warning "
                 "after %.0f s, critical after %.0f s", in->key, for_s,
                 in->invalid_reason[0] ? in->invalid_reason : "no snapshot yet",
                 (double)c->invalid_after / 1e9,
                 (double)c->invalid_critical_after / 1e9);
    details_begin(a, &w, asked);
    jw_key(&w, "book_valid");
    jw_bool(&w, in->book_valid);
    jw_key(&w, "invalid_for_s");
    jw_double(&w, for_s);
    jw_key(&w, "reason");
    jw_str(&w, in->invalid_reason);
    jw_key(&w, "resyncs");
    jw_u64(&w, in->book_resyncs);
    jw_key(&w, "invalid_after_s");
    jw_double(&w, (double)c->invalid_after / 1e9);
    jw_key(&w, "invalid_critical_after_s");
    jw_double(&w, (double)c->invalid_critical_after / 1e9);
    level_record(a, ALERT_BOOK_INVALID, in->key, in->venue, in->key, before,
                 &ai->book, msg, &w);
}

/* ---- liquidation_cluster ---------------------------------------------- */

static int prints_push(struct prints *pr, int64_t ts, double notional)
{
    if (pr->n == pr->cap) {
        size_t cap = pr->cap ? 2 * pr->cap : 64;
        int64_t *nt = malloc(cap * sizeof(*nt));
        double *nn = malloc(cap * sizeof(*nn));
        if (nt == NULL || nn == NULL) {
            free(nt);
            free(nn);
            return -1;
        }
        for (size_t i = 0; i < pr->n; i++) {
            nt[i] = pr->ts[(pr->head + i) % pr->cap];
            nn[i] = pr->notional[(pr->head + i) % pr->cap];
        }
        free(pr->ts);
        free(pr->notional);
        pr->ts = nt;
        pr->notional = nn;
        pr->cap = cap;
        pr->head = 0;
    }
    pr->ts[(pr->head + pr->n) % pr->cap] = ts;
    pr->notional[(pr->head + pr->n) % pr->cap] = notional;
    pr->n++;
    return 0;
}

/* Drop what no rule can see any more: older than the cluster window and
 * than the position_liquidated lookback. */
static void prints_expire(struct prints *pr, int64_t t, int64_t window)
{
    int64_t keep = window > PRINT_LOOKBACK ? window : PRINT_LOOKBACK;

    while (pr->n > 0 && pr->ts[pr->head] <= t - keep) {
        pr->head = (pr->head + 1) % pr->cap;
        pr->n--;
    }
}

static void eval_cluster(alerts_t *a, struct ainstr *ai, int64_t t)
{
    const struct alert_config *c = &a->cfg;

    for (int s = 0; s < 2; s++) {
        struct prints *pr = &ai->side[s];
        double sum = 0;
        size_t count = 0;
        int asked = ALERT_NONE, before;
        char subject[160], msg[400], amt[32], thr[32];
        struct jsonw w;

        if (!pr->seen && pr->m.level == ALERT_NONE)
            continue;               /* no print ever: nothing to ask */
        prints_expire(pr, t, c->cluster_window);
        /* N over (t - window, t], summed oldest first (one fixed order, so
         * every evaluation of the same window gives the same double). */
        for (size_t i = 0; i < pr->n; i++) {
            size_t k = (pr->head + i) % pr->cap;
            if (pr->ts[k] > t - c->cluster_window && pr->ts[k] <= t) {
                sum += pr->notional[k];
                count++;
            }
        }
        for (int x = ALERT_CRITICAL; x > ALERT_NONE; x--) {
            double th = x == ALERT_CRITICAL ? 10 * c->cluster_notional
                                            : c->cluster_notional;
            if (sum >= th * (x <= pr->m.level ? 0.5 : 1)) {
                asked = x;
                break;
            }
        }
        before = lvl_step(&pr->m, asked, t, c->clear_after);
        if (before < 0)
            continue;
        snprintf(subject, sizeof(subject), "%s:%s", ai->in->key,
                 s == 0 ? "long" : "short");
        fmt_amount(sum, amt, sizeof(amt));
        fmt_amount(pr->m.level == ALERT_CRITICAL ? 10 * c->cluster_notional
                   : c->cluster_notional, thr, sizeof(thr));
        snprintf(msg, sizeof(msg), "%s %s liquidations: %s %s in %.0f s (%zu "
                 "prints, %s); threshold %s %s%s%s", ai->in->key,
                 s == 0 ? "long" : "short", amt, ai->quote,
                 (double)c->cluster_window / 1e9, count,
                 pr->coverage == LIQ_COMPLETE ? "complete" : "sampled", thr,
                 ai->quote, pr->m.level == ALERT_NONE ? "; " : "",
                 pr->m.level == ALERT_NONE
                     ? alert_level_name((enum alert_level)before) : "");
        if (pr->m.level == ALERT_NONE)
            strncat(msg, " resolved", sizeof(msg) - strlen(msg) - 1);
        details_begin(a, &w, asked);
        jw_key(&w, "notional");
        jw_double(&w, sum);
        jw_key(&w, "prints");
        jw_u64(&w, count);
        jw_key(&w, "window_s");
        jw_double(&w, (double)c->cluster_window / 1e9);
        jw_key(&w, "threshold");
        jw_double(&w, c->cluster_notional);
        jw_key(&w, "coverage");
        jw_str(&w, pr->coverage == LIQ_COMPLETE ? "complete" : "sampled");
        jw_key(&w, "quote");
        jw_str(&w, ai->quote);
        level_record(a, ALERT_LIQUIDATION_CLUSTER, subject, ai->in->venue,
                     ai->in->key, before, &pr->m, msg, &w);
    }
}

/* ---- feed_down -------------------------------------------------------- */

static struct aconn *conn_get(alerts_t *a, enum venue_id v, const char *name)
{
    char subject[96];

    snprintf(subject, sizeof(subject), "%s/%s", venue_name(v),
             name && *name ? name : "main");
    for (size_t i = 0; i < a->nconns; i++)
        if (strcmp(a->conns[i].subject, subject) == 0)
            return &a->conns[i];
    if (a->nconns == MAX_CONNS)
        return NULL;
    struct aconn *c = &a->conns[a->nconns++];
    memset(c, 0, sizeof(*c));
    c->venue = v;
    memcpy(c->subject, subject, sizeof(subject));
    lvl_init(&c->m);
    return c;
}

static void eval_conn(alerts_t *a, struct aconn *cn, int64_t t)
{
    const struct alert_config *c = &a->cfg;
    int asked = ALERT_NONE, before;
    char msg[400];
    struct jsonw w;

    if (cn->down)
        asked = t - cn->since >= c->down_critical_after ? ALERT_CRITICAL
                                                        : ALERT_WARNING;
    before = lvl_step(&cn->m, asked, t, c->clear_after);
    if (before < 0)
        return;
    if (cn->m.level == ALERT_NONE)
        snprintf(msg, sizeof(msg), "%s connected, data flowing; %s resolved",
                 cn->subject, alert_level_name((enum alert_level)before));
    else
        snprintf(msg, sizeof(msg), "%s %s for %.1f s%s%s; critical after %.0f s",
                 cn->subject, cn->stale ? "stale" : "disconnected",
                 (double)(t - cn->since) / 1e9, cn->reason[0] ? ": " : "",
                 cn->reason, (double)c->down_critical_after / 1e9);
    details_begin(a, &w, asked);
    jw_key(&w, "state");
    jw_str(&w, !cn->down ? "connected" : cn->stale ? "stale" : "disconnected");
    jw_key(&w, "down_for_s");
    jw_double(&w, cn->down ? (double)(t - cn->since) / 1e9 : 0);
    jw_key(&w, "reason");
    jw_str(&w, cn->reason);
    jw_key(&w, "down_critical_after_s");
    jw_double(&w, (double)c->down_critical_after / 1e9);
    level_record(a, ALERT_FEED_DOWN, cn->subject, cn->venue, NULL, before, &cn->m,
                 msg, &w);
}

static void eval_venue_conns(alerts_t *a, enum venue_id v, int64_t t)
{
    for (size_t i = 0; i < a->nconns; i++)
        if (a->conns[i].venue == v)
            eval_conn(a, &a->conns[i], t);
}

/* ---- venue_adl_warning (liqmon's kind, beside the contract's) ----------
 *
 * Subject "VENUE:SCOPE" (okx-swap:SWAP:BTC-USDT, bybit-linear:USDT:BTCUSDT):
 * one insurance fund as the venue's ADL warning names it (event.h,
 * MEV_ADL_WARNING).  Each push records the venue's level and numbers;
 * every evaluation of that venue (and every tick) asks:
 *   critical  the venue says ADL is on (OKX "adl"; Bybit balance <= 0 or
 *             drawdown past the trigger), or the balance is at or below
 *             the venue's ADL threshold where it sends one;
 *   warning   the venue says warning (OKX "warning"; Bybit drawdown past
 *             the stop ratio);
 *   none      the venue says normal, or nothing came for adl_quiet
 *             (OKX pushes only while warning or adl, once a second:
 *             silence is its "normal").
 * Then the level machine as every kind (clear_after on the way down). */

static struct aadl *adl_get(alerts_t *a, enum venue_id v, const char *scope)
{
    char subject[sizeof(a->adl[0].subject)];

    snprintf(subject, sizeof(subject), "%s:%s", venue_name(v), scope);
    for (size_t i = 0; i < a->nadl; i++)
        if (strcmp(a->adl[i].subject, subject) == 0)
            return &a->adl[i];
    if (a->nadl == ADL_MAX_SUBJECTS)
        return NULL;
    if (a->nadl == a->capadl) {
        size_t cap = a->capadl ? 2 * a->capadl : 8;
        struct aadl *na = realloc(a->adl, cap * sizeof(*na));
        if (na == NULL)
            return NULL;
        a->adl = na;
        a->capadl = cap;
    }
    struct aadl *x = &a->adl[a->nadl++];
    memset(x, 0, sizeof(*x));
    x->venue = v;
    memcpy(x->subject, subject, sizeof(subject));
    lvl_init(&x->m);
    return x;
}

static void adl_push(alerts_t *a, const struct mkt_event *ev, int64_t t)
{
    struct aadl *x = adl_get(a, ev->venue, ev->u.adl.scope ? ev->u.adl.scope : "?");

    if (x == NULL) {
        fprintf(stderr, "alerts: a venue_adl_warning subject was not kept (out of "
                "memory, or %d subjects)\n", ADL_MAX_SUBJECTS);
        return;
    }
    x->in = ev->instr;
    x->level = (int)ev->u.adl.level;
    x->last = t;
    snprintf(x->ccy, sizeof(x->ccy), "%s", ev->u.adl.ccy ? ev->u.adl.ccy : "");
    snprintf(x->state, sizeof(x->state), "%s", ev->u.adl.state ? ev->u.adl.state : "");
    x->balance = ev->u.adl.balance;
    x->max_balance = ev->u.adl.max_balance;
    x->threshold = ev->u.adl.threshold;
    x->ratio = ev->u.adl.ratio;
    x->ratio_trigger = ev->u.adl.ratio_trigger;
    x->ratio_stop = ev->u.adl.ratio_stop;
}

static void eval_adl(alerts_t *a, struct aadl *x, int64_t t)
{
    const struct alert_config *c = &a->cfg;
    int quiet = t - x->last >= c->adl_quiet, asked = ALERT_NONE, before;
    int below = isfinite(x->threshold) && x->balance <= x->threshold;
    char msg[480], bal[32], thr[48], rat[96] = "", why[64];
    struct jsonw w;

    if (!quiet && (x->level == ADL_ACTIVE || below))
        asked = ALERT_CRITICAL;
    else if (!quiet && x->level == ADL_WARNING)
        asked = ALERT_WARNING;
    before = lvl_step(&x->m, asked, t, c->clear_after);
    if (before < 0)
        return;
    fmt_amount(x->balance, bal, sizeof(bal));
    if (isfinite(x->threshold)) {
        char tv[32];
        fmt_amount(x->threshold, tv, sizeof(tv));
        snprintf(thr, sizeof(thr), "ADL at <= %s", tv);
    } else {
        snprintf(thr, sizeof(thr), "no threshold published");
    }
    if (isfinite(x->ratio))
        snprintf(rat, sizeof(rat), "; ratio %.4g (trigger %.4g, stop %.4g)", x->ratio,
                 x->ratio_trigger, x->ratio_stop);
    if (quiet)
        snprintf(why, sizeof(why), "no ADL warning pushed for %.1f s",
                 (double)(t - x->last) / 1e9);
    else
        snprintf(why, sizeof(why), "venue state normal (%s)", x->state);
    if (x->m.level == ALERT_NONE)
        snprintf(msg, sizeof(msg), "%s insurance fund (%s): %s; %s resolved", x->subject,
                 x->ccy, why, alert_level_name((enum alert_level)before));
    else
        snprintf(msg, sizeof(msg), "%s insurance fund (%s): %s (%s); balance %s %s, %s%s",
                 x->subject, x->ccy, x->level == ADL_ACTIVE || below ? "ADL active"
                 : "ADL warning", x->state, bal, x->ccy, thr, rat);
    details_begin(a, &w, asked);
    jw_key(&w, "scope");
    jw_str(&w, x->subject + strlen(venue_name(x->venue)) + 1);
    jw_key(&w, "ccy");
    jw_str(&w, x->ccy);
    jw_key(&w, "venue_level");
    jw_str(&w, adl_level_name((enum adl_level)x->level));
    jw_key(&w, "state");
    jw_str(&w, x->state);
    jw_key(&w, "balance");
    jw_double(&w, x->balance);
    jw_key(&w, "max_balance");
    jw_double(&w, x->max_balance);
    jw_key(&w, "threshold");
    jw_double(&w, x->threshold);
    jw_key(&w, "ratio");
    jw_double(&w, x->ratio);
    jw_key(&w, "ratio_trigger");
    jw_double(&w, x->ratio_trigger);
    jw_key(&w, "ratio_stop");
    jw_double(&w, x->ratio_stop);
    jw_key(&w, "last_push_age_s");
    jw_double(&w, (double)(t - x->last) / 1e9);
    jw_key(&w, "adl_quiet_s");
    jw_double(&w, (double)c->adl_quiet / 1e9);
    level_record(a, ALERT_VENUE_ADL_WARNING, x->subject, x->venue,
                 x->in ? x->in->key : NULL, before, &x->m, msg, &w);
}

static void eval_venue_adl(alerts_t *a, enum venue_id v, int64_t t)
{
    for (size_t i = 0; i < a->nadl; i++)
        if (a->adl[i].venue == v)
            eval_adl(a, &a->adl[i], t);
}

/* ---- evaluations ------------------------------------------------------ */

static void eval_instrument(alerts_t *a, struct ainstr *ai, int64_t t,
                            int from_event)
{
    if (ai->in->retired)
        return;                 /* removed by a reload */
    ai->evaluated = 1;
    eval_positions(a, ai, t, from_event);
    eval_cascade(a, ai, t);
    eval_book(a, ai, t);
    eval_cluster(a, ai, t);
}

static struct ainstr *ai_of(alerts_t *a, const struct mkt_instr *in)
{
    if (in == NULL || in->idx >= a->n || a->ai[in->idx].in != in)
        return NULL;
    return &a->ai[in->idx];
}

void alerts_on_event(alerts_t *a, const struct mkt_event *ev)
{
    struct ainstr *ai = ai_of(a, ev->instr);
    int64_t t = clock_at(a, ev->recv_ts);

    a->st.evaluations++;
    if (ev->type == MEV_FEED && ev->instr == NULL) {
        struct aconn *cn = conn_get(a, ev->venue, ev->u.feed.conn);
        if (cn != NULL) {
            switch (ev->u.feed.kind) {
            case FEED_CONNECTED:
                cn->down = 0;
                cn->stale = 0;
                cn->reason[0] = '\0';
                break;
            case FEED_DISCONNECTED:
            case FEED_STALE:
                if (!cn->down)
                    cn->since = t;
                cn->down = 1;
                cn->stale = ev->u.feed.kind == FEED_STALE;
                snprintf(cn->reason, sizeof(cn->reason), "%s",
                         ev->u.feed.reason ? ev->u.feed.reason : "");
                break;
            default:
                break;
            }
        }
    }
    if (ai != NULL && ev->type == MEV_LIQUIDATION) {
        struct prints *pr = &ai->side[ev->u.liq.liquidated_long ? 0 : 1];
        double notional = dec_to_double(ev->u.liq.qty) * ev->u.liq.price;
        pr->seen = 1;
        pr->coverage = ev->u.liq.coverage;
        if (isfinite(notional) && notional > 0 && prints_push(pr, t, notional) != 0)
            fprintf(stderr, "alerts: out of memory: a %s print was not counted\n",
                    ai->in->key);
    }
    if (ai != NULL)
        eval_instrument(a, ai, t, 1);
    if (ev->type == MEV_ADL_WARNING)
        adl_push(a, ev, t);
    eval_venue_conns(a, ev->venue, t);
    eval_venue_adl(a, ev->venue, t);
    flush(a, t);
}

void alerts_tick(alerts_t *a, int64_t t)
{
    t = clock_at(a, t);
    a->st.evaluations++;
    for (size_t i = 0; i < a->n; i++)
        eval_instrument(a, &a->ai[i], t, 0);
    for (size_t i = 0; i < a->nconns; i++)
        eval_conn(a, &a->conns[i], t);
    for (size_t i = 0; i < a->nadl; i++)
        eval_adl(a, &a->adl[i], t);
    flush(a, t);
}

void alerts_raise_extra(alerts_t *a, int64_t t, const char *kind,
                        const char *subject, enum alert_level sev, int resolved,
                        const char *message, const char *details_json)
{
    struct alert_record r;

    t = clock_at(a, t);
    r.id = ++a->next_id;
    r.ts = t;
    r.kind = ALERT_KIND_COUNT;          /* an extra kind: see kind_name */
    r.kind_name = kind;
    r.subject = subject;
    r.venue = "liqmon";
    r.instrument = NULL;
    r.severity = sev;
    r.resolved = resolved;
    r.message = message;
    r.details = details_json ? details_json : "{}";
    a->st.records++;
    if (a->sink)
        a->sink(a->arg, &r);
}

void alerts_position_changed(alerts_t *a, const struct mkt_instr *in, uint32_t h,
                             int64_t t)
{
    struct ainstr *ai = ai_of(a, in);
    struct pstate *p = ai ? pos_find(ai, h) : NULL;
    pindex_t *ix = engine_pindex(a->eng, in);
    struct pos_view v;

    t = clock_at(a, t);
    if (ai == NULL)
        return;
    /* a liquidated position changed: it is back in, not firing any more */
    for (size_t k = 0; k < ai->nliqd; k++) {
        if (ai->liqd[k].handle == h) {
            ai->liqd[k] = ai->liqd[--ai->nliqd];
            break;
        }
    }
    if (p == NULL)
        return;
    if (p->m.level != ALERT_NONE) {
        char msg[400], subject[160];
        struct jsonw w;
        int before = p->m.level;
        if (ix && pindex_get(ix, h, &v) == PINDEX_OK)
            snprintf(subject, sizeof(subject), "%s", v.id);
        else
            snprintf(subject, sizeof(subject), "handle-%u", h);
        p->m.level = ALERT_NONE;
        snprintf(msg, sizeof(msg), "%s position %s: changed or removed; %s resolved",
                 in->key, subject, alert_level_name((enum alert_level)before));
        details_begin(a, &w, ALERT_NONE);
        jw_key(&w, "reason");
        jw_str(&w, "position changed or removed");
        level_record(a, ALERT_POSITION_NEAR, subject, in->venue, in->key, before,
                     &p->m, msg, &w);
    }
    pos_forget(ai, p);
    ai->last_ref = 0;           /* the positions changed: scan in full next */
    flush(a, t);
}

/* A firing position state ended by a reload of the positions: its
 * resolution record (subject: the id in ix, the handle when ix no longer
 * has it), why saying how. */
static void pos_resolve_reload(alerts_t *a, struct ainstr *ai, struct pstate *p,
                               pindex_t *ix, const char *why)
{
    char msg[400], subject[160];
    struct jsonw w;
    struct pos_view v;
    int before = p->m.level;

    if (ix && pindex_get(ix, p->handle, &v) == PINDEX_OK)
        snprintf(subject, sizeof(subject), "%s", v.id);
    else
        snprintf(subject, sizeof(subject), "handle-%u", p->handle);
    p->m.level = ALERT_NONE;
    snprintf(msg, sizeof(msg), "%s position %s: %s; %s resolved", ai->in->key, subject,
             why, alert_level_name((enum alert_level)before));
    details_begin(a, &w, ALERT_NONE);
    jw_key(&w, "reason");
    jw_str(&w, "positions reloaded");
    level_record(a, ALERT_POSITION_NEAR, subject, ai->in->venue, ai->in->key, before,
                 &p->m, msg, &w);
}

void alerts_positions_replaced(alerts_t *a, engine_t *old, int64_t t)
{
    t = clock_at(a, t);
    for (size_t i = 0; i < a->n; i++) {
        struct ainstr *ai = &a->ai[i];
        pindex_t *oix = engine_pindex(old, ai->in), *nix = engine_pindex(a->eng, ai->in);
        struct pstate *keep = NULL;
        size_t nkeep = 0;

        if (ai->poscap > 0)
            keep = calloc(ai->posn ? ai->posn : 1, sizeof(*keep));
        for (size_t k = 0; k < ai->poscap; k++) {
            struct pstate *p = &ai->pos[k];
            struct pos_view ov, nv;
            uint32_t nh;
            if (!p->used)
                continue;
            if (keep != NULL && oix && nix && pindex_get(oix, p->handle, &ov) == PINDEX_OK &&
                pindex_find(nix, ov.id, &nh) == PINDEX_OK &&
                pindex_get(nix, nh, &nv) == PINDEX_OK && nv.side == ov.side &&
                nv.qty == ov.qty && nv.lp == ov.lp && nv.in_cascade) {
                keep[nkeep] = *p;
                keep[nkeep].handle = nh;
                keep[nkeep].in_next = 0;
                nkeep++;
            } else if (p->m.level != ALERT_NONE) {
                pos_resolve_reload(a, ai, p, oix, "gone or changed in the reloaded positions");
            }
        }
        /* A fresh table holding the kept states under their new handles;
         * the next evaluation scans in full and rebuilds the lists. */
        free(ai->pos);
        ai->pos = NULL;
        ai->poscap = ai->posn = 0;
        if (ai->pb != NULL)
            memset(ai->pb, 0, ai->npb);
        for (size_t k = 0; k < nkeep; k++) {
            struct pstate *p = pos_add(ai, keep[k].handle);
            if (p == NULL)
                break;
            *p = keep[k];
            pb_sync(ai, p, 1);
        }
        free(keep);
        ai->nnext = 0;
        ai->duehead = ai->nodues = 0;
        ai->nliqd = 0;
        ai->last_ref = 0;
    }
    flush(a, t);
}

void alerts_positions_reset(alerts_t *a, int64_t t)
{
    t = clock_at(a, t);
    for (size_t i = 0; i < a->n; i++) {
        struct ainstr *ai = &a->ai[i];
        for (size_t k = 0; k < ai->poscap; k++) {
            struct pstate *p = &ai->pos[k];
            if (p->used && p->m.level != ALERT_NONE)
                pos_resolve_reload(a, ai, p, engine_pindex(a->eng, ai->in),
                                   "positions reloaded");
        }
        free(ai->pos);
        ai->pos = NULL;
        ai->poscap = ai->posn = 0;
        if (ai->pb != NULL)
            memset(ai->pb, 0, ai->npb);
        ai->nliqd = 0;
        ai->nnext = 0;
        ai->duehead = ai->nodues = 0;
        ai->last_ref = 0;
    }
    flush(a, t);
}

/* ---- lifecycle and queries -------------------------------------------- */

static void ainstr_init(struct ainstr *ai, struct mkt_instr *in)
{
    memset(ai, 0, sizeof(*ai));
    ai->in = in;
    ai->quote = quote_of(in);
    ai->invalid_since = -1;
    lvl_init(&ai->cascade[0]);
    lvl_init(&ai->cascade[1]);
    lvl_init(&ai->book);
    lvl_init(&ai->side[0].m);
    lvl_init(&ai->side[1].m);
}

alerts_t *alerts_create(const struct alert_config *cfg, market_t *mkt,
                        engine_t *eng, alert_sink_fn sink, void *arg,
                        lq_err_t *err)
{
    alerts_t *a;

    if (alert_config_check(cfg, err) != 0)
        return NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        goto nomem;
    a->cfg = *cfg;
    a->mkt = mkt;
    a->eng = eng;
    a->sink = sink;
    a->arg = arg;
    a->n = market_count(mkt);
    a->ai = calloc(a->n ? a->n : 1, sizeof(*a->ai));
    if (a->ai == NULL)
        goto nomem;
    for (size_t i = 0; i < a->n; i++)
        ainstr_init(&a->ai[i], market_at(mkt, i));
    return a;
nomem:
    lq_err_set(err, "out of memory");
    alerts_destroy(a);
    return NULL;
}

void alerts_destroy(alerts_t *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; a->ai && i < a->n; i++) {
        free(a->ai[i].pos);
        free(a->ai[i].next);
        free(a->ai[i].liqd);
        free(a->ai[i].pb);
        free(a->ai[i].dues);
        for (int s = 0; s < 2; s++) {
            free(a->ai[i].side[s].ts);
            free(a->ai[i].side[s].notional);
        }
    }
    free(a->ai);
    free(a->pend);
    free(a->text);
    free(a->dbuf);
    free(a->adl);
    free(a);
}

int alerts_sync(alerts_t *a, int64_t t, lq_err_t *err)
{
    size_t n = market_count(a->mkt);

    t = clock_at(a, t);
    /* Retired instruments: what was firing resolves now (the instrument
     * is no longer watched), and the state goes. */
    for (size_t i = 0; i < a->n; i++) {
        struct ainstr *ai = &a->ai[i];
        struct lvl *ms[5] = { &ai->cascade[0], &ai->cascade[1], &ai->book,
                              &ai->side[0].m, &ai->side[1].m };
        static const enum alert_kind kinds[5] = {
            ALERT_CASCADE_RISK, ALERT_CASCADE_RISK, ALERT_BOOK_INVALID,
            ALERT_LIQUIDATION_CLUSTER, ALERT_LIQUIDATION_CLUSTER };
        static const char *const sfx[5] = { ":down", ":up", "", ":long", ":short" };
        if (!ai->in->retired || ai->evaluated < 0)
            continue;
        for (int k = 0; k < 5; k++) {
            char subject[160], msg[256];
            struct jsonw w;
            int before = ms[k]->level;
            if (before == ALERT_NONE)
                continue;
            ms[k]->level = ALERT_NONE;
            snprintf(subject, sizeof(subject), "%s%s", ai->in->key, sfx[k]);
            snprintf(msg, sizeof(msg), "%s removed from the config; %s resolved",
                     subject, alert_level_name((enum alert_level)before));
            details_begin(a, &w, ALERT_NONE);
            jw_key(&w, "reason");
            jw_str(&w, "instrument removed by a reload");
            level_record(a, kinds[k], subject, ai->in->venue, ai->in->key, before,
                         ms[k], msg, &w);
        }
        ai->evaluated = -1;         /* done: never again */
    }
    flush(a, t);
    if (n > a->n) {
        struct ainstr *nai = realloc(a->ai, n * sizeof(*nai));
        if (nai == NULL)
            return lq_err_set(err, "out of memory");
        a->ai = nai;
        for (size_t i = a->n; i < n; i++)
            ainstr_init(&a->ai[i], market_at(a->mkt, i));
        a->n = n;
    }
    return 0;
}

void alerts_set_config(alerts_t *a, const struct alert_config *cfg)
{
    a->cfg = *cfg;
    for (size_t i = 0; i < a->n; i++)
        a->ai[i].last_ref = 0;      /* new breakpoints: scan in full */
}

void alerts_debug_full_scan(alerts_t *a, int on)
{
    a->full_scan = on;
}

const struct alert_stats *alerts_get_stats(const alerts_t *a)
{
    return &a->st;
}

const struct alert_config *alerts_config(const alerts_t *a)
{
    return &a->cfg;
}

const struct cascade_row *alert_cascade_star(const struct alert_config *c,
                                             const struct cascade_row *rows,
                                             size_t n, enum cascade_dir dir)
{
    const struct cascade_row *star = NULL;

    for (size_t r = 0; r < n; r++) {
        const struct cascade_row *row = &rows[r];
        int trips;
        if (row->side != dir)
            continue;
        trips = row->shock > 0 &&
                ((row->has_amplification && row->amplification >= c->amp) ||
                 (c->notional > 0 && row->liquidated_notional >= c->notional) ||
                 (c->exhausted_trips && row->exhausted));
        if (trips && (star == NULL || row->shock < star->shock))
            star = row;
    }
    return star;
}

struct active_item {
    struct alert_active x;
    char subject[160];
};

static int active_cmp(const void *p, const void *q)
{
    const struct active_item *a = p, *b = q;

    if (a->x.kind != b->x.kind)
        return a->x.kind < b->x.kind ? -1 : 1;
    return strcmp(a->subject, b->subject);
}

static int push_active(struct active_item **v, size_t *n, size_t *cap,
                       enum alert_kind k, const char *subject,
                       const char *instrument, const struct lvl *m)
{
    if (m->level == ALERT_NONE)
        return 0;
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 32;
        struct active_item *nv = realloc(*v, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = nc;
    }
    struct active_item *it = &(*v)[(*n)++];
    snprintf(it->subject, sizeof(it->subject), "%s", subject);
    it->x.kind = k;
    it->x.subject = NULL;       /* set after the items stop moving */
    it->x.instrument = instrument;
    it->x.level = (enum alert_level)m->level;
    it->x.since = m->since;
    return 0;
}

int alerts_foreach_active(const alerts_t *a, alert_active_fn fn, void *arg)
{
    struct active_item *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; i < a->n && rc == 0; i++) {
        const struct ainstr *ai = &a->ai[i];
        pindex_t *ix = engine_pindex(a->eng, ai->in);
        char subject[160];
        for (size_t k = 0; k < ai->poscap && rc == 0; k++) {
            struct pos_view pv;
            if (!ai->pos[k].used)
                continue;
            if (ix && pindex_get(ix, ai->pos[k].handle, &pv) == PINDEX_OK)
                snprintf(subject, sizeof(subject), "%s", pv.id);
            else
                snprintf(subject, sizeof(subject), "handle-%u", ai->pos[k].handle);
            rc = push_active(&v, &n, &cap, ALERT_POSITION_NEAR, subject,
                             ai->in->key, &ai->pos[k].m);
        }
        for (int s = 0; s < 2 && rc == 0; s++) {
            snprintf(subject, sizeof(subject), "%s:%s", ai->in->key,
                     cascade_dir_name((enum cascade_dir)s));
            rc = push_active(&v, &n, &cap, ALERT_CASCADE_RISK, subject,
                             ai->in->key, &ai->cascade[s]);
            if (rc == 0) {
                snprintf(subject, sizeof(subject), "%s:%s", ai->in->key,
                         s == 0 ? "long" : "short");
                rc = push_active(&v, &n, &cap, ALERT_LIQUIDATION_CLUSTER, subject,
                                 ai->in->key, &ai->side[s].m);
            }
        }
        if (rc == 0)
            rc = push_active(&v, &n, &cap, ALERT_BOOK_INVALID, ai->in->key,
                             ai->in->key, &ai->book);
        for (size_t k = 0; k < ai->nliqd && rc == 0; k++) {
            struct pos_view pv;
            struct lvl m;
            /* still the same closed position (not changed since) */
            if (ix == NULL || pindex_get(ix, ai->liqd[k].handle, &pv) != PINDEX_OK ||
                !pv.liquidated)
                continue;
            lvl_init(&m);
            m.level = ALERT_CRITICAL;
            m.since = ai->liqd[k].since;
            rc = push_active(&v, &n, &cap, ALERT_POSITION_LIQUIDATED, pv.id,
                             ai->in->key, &m);
        }
    }
    for (size_t i = 0; i < a->nadl && rc == 0; i++)
        rc = push_active(&v, &n, &cap, ALERT_VENUE_ADL_WARNING, a->adl[i].subject,
                         a->adl[i].in ? a->adl[i].in->key : NULL, &a->adl[i].m);
    for (size_t i = 0; i < a->nconns && rc == 0; i++)
        rc = push_active(&v, &n, &cap, ALERT_FEED_DOWN, a->conns[i].subject, NULL,
                         &a->conns[i].m);
    if (rc != 0) {
        free(v);
        return -1;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), active_cmp);
    for (size_t i = 0; i < n; i++) {
        v[i].x.subject = v[i].subject;
        if ((rc = fn(&v[i].x, arg)) != 0)
            break;
    }
    free(v);
    return rc;
}

static int count_one(const struct alert_active *x, void *arg)
{
    (void)x;
    (*(size_t *)arg)++;
    return 0;
}

size_t alerts_active_count(const alerts_t *a)
{
    size_t n = 0;

    alerts_foreach_active(a, count_one, &n);
    return n;
}
