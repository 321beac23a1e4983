/*
 * alert_ref.h - a brute-force reference of the alert rules' state machine,
 * written directly from ../shared/docs/alert-rules.md (version 1) for
 * tests/check_alert.c.  Independent of src/alert/alert.c: nothing here is
 * shared with it.
 *
 * "A level is entered at once (no delay on the way up). A level is left
 * only after the rule has asked for a lower level on every evaluation for
 * at least clear_after: the hold starts at the first evaluation that asks
 * lower, and the record is written at the first evaluation whose time is
 * at least hold start + clear_after, for the highest level asked during the
 * hold (that evaluation included). Asking for the current level or a
 * higher one ends the hold; after a change, a new hold starts at the next
 * evaluation that asks lower."
 */
#ifndef LIQMON_TESTS_ALERT_REF_H
#define LIQMON_TESTS_ALERT_REF_H

#include <stdint.h>

#include "liqmon/alert.h"

/* One subject's state: level none(0) < warning(1) < critical(2). */
struct ref_sm {
    int level;
    int in_hold;
    int64_t hold_start;
    int hold_max;          /* highest level asked during the hold */
};

/* One evaluation asking `asked` at t.  Returns 1 when the level changes
 * (one record: *sev and *resolved say which), else 0. */
static inline int ref_sm_step(struct ref_sm *s, int asked, int64_t t,
                              int64_t clear_after, int *sev, int *resolved)
{
    int old = s->level;

    if (asked >= s->level) {
        s->in_hold = 0;                 /* current or higher ends the hold */
        if (asked == s->level)
            return 0;
        s->level = asked;               /* entered at once */
        *sev = asked;
        *resolved = 0;
        return 1;
    }
    if (!s->in_hold) {                  /* first evaluation asking lower */
        s->in_hold = 1;
        s->hold_start = t;
        s->hold_max = asked;
    } else if (asked > s->hold_max) {
        s->hold_max = asked;
    }
    if (t >= s->hold_start + clear_after) {
        s->level = s->hold_max;
        s->in_hold = 0;                 /* a new hold starts at the NEXT one */
        if (s->level == 0) {
            *sev = old;                 /* resolved, the severity it had */
            *resolved = 1;
        } else {
            *sev = s->level;            /* critical -> warning: firing */
            *resolved = 0;
        }
        return 1;
    }
    return 0;
}

/* position_near: "level X is asked when d <= thr(X) + (X <= current ?
 * margin : 0)"; the asked level is the highest whose threshold holds. */
static inline int ref_near_asked(double d, int cur, double warn, double crit,
                                 double margin)
{
    if (d <= crit + (ALERT_CRITICAL <= cur ? margin : 0))
        return ALERT_CRITICAL;
    if (d <= warn + (ALERT_WARNING <= cur ? margin : 0))
        return ALERT_WARNING;
    return ALERT_NONE;
}

/* long: d = (ref - LP) / ref;  short: d = (LP - ref) / ref */
static inline double ref_d(int is_short, double ref, double lp)
{
    return is_short ? (lp - ref) / ref : (ref - lp) / ref;
}

/* liquidation_cluster: "level X is asked when N >= thr(X) * (X <= current ?
 * 0.5 : 1)", thr(warning) = cluster_notional, thr(critical) = 10 times. */
static inline int ref_cluster_asked(double n, int cur, double cluster_notional)
{
    if (n >= 10 * cluster_notional * (ALERT_CRITICAL <= cur ? 0.5 : 1))
        return ALERT_CRITICAL;
    if (n >= cluster_notional * (ALERT_WARNING <= cur ? 0.5 : 1))
        return ALERT_WARNING;
    return ALERT_NONE;
}

/* book_invalid: warning once invalid for invalid_after, critical after
 * invalid_critical_after; a valid book asks none. */
static inline int ref_book_asked(int valid, int64_t since, int64_t t,
                                 int64_t invalid_after, int64_t crit_after)
{
    if (valid)
        return ALERT_NONE;
    if (t - since >= crit_after)
        return ALERT_CRITICAL;
    if (t - since >= invalid_after)
        return ALERT_WARNING;
    return ALERT_NONE;
}

/* feed_down: down asks warning at once, critical after down_critical_after;
 * connected asks none. */
static inline int ref_feed_asked(int down, int64_t since, int64_t t,
                                 int64_t crit_after)
{
    if (!down)
        return ALERT_NONE;
    return t - since >= crit_after ? ALERT_CRITICAL : ALERT_WARNING;
}

#endif
