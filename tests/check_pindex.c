/*
 * check_pindex.c - the position index (pindex.h) against a plain list.
 *
 * The reference is an array of records indexed by id number ("p17"), each
 * live or not, with the liquidation price computed by the contract's
 * formula (suites.h, tref_liq_price, qty taken as dec_to_double(qty)).
 * Random inserts (duplicates included), updates of qty / entry / margin /
 * liq price / side, removals, finds and gets go to both; after each the
 * counts are compared, and the cascade queries (pindex_reached for both
 * sides at random p, pindex_next_lp, the visits) are compared with loops
 * over the list.  LPs sit on a coarse grid (explicit liq_price) so p == LP
 * ties are frequent; margin positions use a tier table, which is replaced
 * now and then; some longs are over-collateralised (LP <= 0): tracked,
 * never reached.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/dec.h"
#include "liqmon/agtree.h"
#include "liqmon/pindex.h"
#include "liqmon/tiers.h"
#include "suites.h"

static uint64_t g_seed;
static long g_op;

#define NID 3000

struct rpos {
    int live;
    uint32_t handle;
    char id[16];
    char account[16];
    enum pos_side side;
    dec_t qty;
    double entry;
    int has_margin;
    double margin;
    double liq_price;
    double lp;          /* expected */
};

struct ref {
    struct rpos p[NID];
    const struct tier_table *tt;
};

static double ref_lp(const struct ref *r, const struct rpos *p)
{
    if (!p->has_margin)
        return p->liq_price;
    return tref_liq_price(r->tt, p->side == POS_SHORT, dec_to_double(p->qty),
                          p->entry, p->margin, NULL);
}

static int in_cascade(double lp)
{
    return isfinite(lp) && lp > 0;
}

static int reaches(enum pos_side side, double lp, double p)
{
    return in_cascade(lp) && (side == POS_LONG ? lp >= p : lp <= p);
}

/* ---- tier tables -------------------------------------------------------- */

/* Notional scale of these positions: qty up to 100, prices ~100. */
static struct tier tiers_a[4] = {
    {0, 1000, 0.004, 0, 0},
    {1000, 5000, 0.01, 6, 0},
    {5000, 20000, 0.025, 81, 0},
    {20000, 1e9, 0.05, 581, 0},
};
static struct tier tiers_b[3] = {
    {0, 500, 0.02, 0, 0},
    {800, 3000, 0.05, 24, 0},           /* a gap: [500, 800) in no bracket */
    {3000, 10000, 0.1, 174, 0},
};
static const struct tier_table TT_A = {4, tiers_a};
static const struct tier_table TT_B = {3, tiers_b};

/* ---- random specs ------------------------------------------------------- */

static void gen_spec(struct trng *r, struct rpos *p)
{
    p->side = (enum pos_side)trng_below(r, 2);
    p->qty = (dec_t)(1 + trng_below(r, 100000)) * 100000;     /* 0.001 .. 100 */
    p->entry = 50 + 0.5 * (double)trng_below(r, 201);
    p->has_margin = trng_below(r, 2) == 0;
    if (p->has_margin) {
        double notional = dec_to_double(p->qty) * p->entry;
        if (p->side == POS_LONG && trng_below(r, 12) == 0)
            p->margin = notional * (1 + trng_unit(r));          /* LP <= 0 */
        else
            p->margin = notional / (1 + trng_unit(r) * 49);
        if (!(p->margin > 0))
            p->margin = 1;
        p->liq_price = 0;
    } else {
        p->margin = 0;
        p->liq_price = 40 + 0.5 * (double)trng_below(r, 241);   /* grid */
    }
    switch (trng_below(r, 3)) {
    case 0:
        p->account[0] = '\0';
        break;
    default:
        snprintf(p->account, sizeof(p->account), "acct%u",
                 (unsigned)trng_below(r, 50));
    }
}

static void to_spec(const struct rpos *p, struct pos_spec *s, int null_account)
{
    s->id = p->id;
    s->account = null_account && p->account[0] == '\0' ? NULL : p->account;
    s->side = p->side;
    s->qty = p->qty;
    s->entry = p->entry;
    s->has_margin = p->has_margin;
    s->margin = p->margin;
    s->liq_price = p->liq_price;
}

/* Break one field of a spec. */
static const char *break_spec(struct trng *r, struct pos_spec *s)
{
    switch (trng_below(r, 7)) {
    case 0:
        s->qty = 0;
        return "qty";
    case 1:
        s->qty = -(dec_t)(1 + trng_below(r, 1000));
        return "qty";
    case 2:
        /* 0 means "not given", which only a margin position cannot be. */
        s->entry = s->has_margin && trng_below(r, 2) ? 0 : NAN;
        return "entry";
    case 3:
        s->entry = -1;
        return "entry";
    case 4:
        s->has_margin = 1;
        s->margin = trng_below(r, 2) ? 0 : -5;
        return "margin";
    case 5:
        s->has_margin = 0;
        s->liq_price = trng_below(r, 2) ? 0 : -3;
        return "liq_price";
    default:
        s->has_margin = 0;
        s->liq_price = trng_below(r, 2) ? NAN : INFINITY;
        return "liq_price";
    }
}

/* ---- comparisons -------------------------------------------------------- */

static void check_view(const struct pos_view *v, const struct rpos *p)
{
    char b1[64], b2[64];
    TCHECK(v->handle == p->handle && strcmp(v->id, p->id) == 0,
           "seed %" PRIu64 " op %ld: view of %s: handle %" PRIu32 " id %s", g_seed,
           g_op, p->id, v->handle, v->id);
    TCHECK(v->account != NULL && strcmp(v->account, p->account) == 0,
           "seed %" PRIu64 " op %ld: %s account \"%s\", want \"%s\"", g_seed, g_op,
           p->id, v->account ? v->account : "(null)", p->account);
    TCHECK(v->side == p->side && v->qty == p->qty && v->entry == p->entry &&
               v->has_margin == p->has_margin,
           "seed %" PRIu64 " op %ld: %s side %d qty %s entry %.17g has_margin %d, "
           "want side %d qty %s entry %.17g has_margin %d",
           g_seed, g_op, p->id, v->side, tdec_str(v->qty, b1), v->entry,
           v->has_margin, p->side, tdec_str(p->qty, b2), p->entry, p->has_margin);
    if (p->has_margin)
        TCHECK(v->margin == p->margin, "seed %" PRIu64 " op %ld: %s margin %.17g",
               g_seed, g_op, p->id, v->margin);
    TCHECK(v->lp == p->lp || (isnan(v->lp) && isnan(p->lp)),
           "seed %" PRIu64 " op %ld: %s (%s qty %s entry %.17g %s %.17g) LP %.17g, "
           "want %.17g",
           g_seed, g_op, p->id, p->side == POS_LONG ? "long" : "short",
           tdec_str(p->qty, b1), p->entry, p->has_margin ? "margin" : "liq_price",
           p->has_margin ? p->margin : p->liq_price, v->lp, p->lp);
    TCHECK(!!v->in_cascade == in_cascade(p->lp),
           "seed %" PRIu64 " op %ld: %s LP %.17g in_cascade %d", g_seed, g_op,
           p->id, v->lp, v->in_cascade);
}

static void check_counts(const pindex_t *ix, const struct ref *r)
{
    size_t n[2] = {0, 0};
    for (int i = 0; i < NID; i++)
        if (r->p[i].live)
            n[r->p[i].side]++;
    for (int s = 0; s < 2; s++) {
        size_t got = pindex_count(ix, (enum pos_side)s);
        TCHECK(got == n[s], "seed %" PRIu64 " op %ld: pindex_count(%s) = %zu, want %zu",
               g_seed, g_op, s ? "short" : "long", got, n[s]);
    }
}

static void check_reached(const pindex_t *ix, const struct ref *r,
                          enum pos_side side, double p)
{
    struct pindex_sum got;
    uint64_t count = 0;
    dec_t qty = 0;
    long double notional = 0;
    char b1[64], b2[64];

    for (int i = 0; i < NID; i++) {
        const struct rpos *x = &r->p[i];
        if (x->live && x->side == side && reaches(side, x->lp, p)) {
            count++;
            qty += x->qty;
            notional += (long double)dec_to_double(x->qty) * x->lp;
        }
    }
    memset(&got, 0xa5, sizeof(got));
    pindex_reached(ix, side, p, &got);
    TCHECK(got.count == count && got.qty == qty,
           "seed %" PRIu64 " op %ld: pindex_reached(%s, %.17g): count %" PRIu64
           " qty %s, want %" PRIu64 " qty %s",
           g_seed, g_op, side ? "short" : "long", p, got.count,
           tdec_str(got.qty, b1), count, tdec_str(qty, b2));
    TCHECK(tclose(got.notional, (double)notional, 1e-12),
           "seed %" PRIu64 " op %ld: pindex_reached(%s, %.17g): notional %.17g, "
           "want %.17Lg",
           g_seed, g_op, side ? "short" : "long", p, got.notional, notional);
}

static void check_next(const pindex_t *ix, const struct ref *r,
                       enum pos_side side, double p)
{
    int found = 0;
    double best = 0, lp = -12345;
    for (int i = 0; i < NID; i++) {
        const struct rpos *x = &r->p[i];
        if (!x->live || x->side != side || !in_cascade(x->lp))
            continue;
        if (side == POS_LONG ? x->lp < p : x->lp > p) {
            if (!found || (side == POS_LONG ? x->lp > best : x->lp < best))
                best = x->lp;
            found = 1;
        }
    }
    int rc = pindex_next_lp(ix, side, p, &lp);
    TCHECK(rc == (found ? 0 : -1),
           "seed %" PRIu64 " op %ld: pindex_next_lp(%s, %.17g) = %d, want %d",
           g_seed, g_op, side ? "short" : "long", p, rc, found ? 0 : -1);
    if (found)
        TCHECK(lp == best,
               "seed %" PRIu64 " op %ld: pindex_next_lp(%s, %.17g) = %.17g, want %.17g",
               g_seed, g_op, side ? "short" : "long", p, lp, best);
}

struct visit {
    const struct ref *r;
    enum pos_side side;
    double p;
    size_t n, stop_at;
    double last_lp;
    uint32_t last_handle;
    int bad;
    char why[200];
};

static int visit_reached(const struct pos_view *v, void *arg)
{
    struct visit *vs = arg;
    int idx = atoi(v->id + 1);
    const struct rpos *x = idx >= 0 && idx < NID ? &vs->r->p[idx] : NULL;

    if (!vs->bad) {
        if (x == NULL || !x->live || strcmp(x->id, v->id) != 0) {
            vs->bad = 1;
            snprintf(vs->why, sizeof(vs->why), "visited unknown id %s", v->id);
        } else if (x->side != vs->side || !reaches(vs->side, x->lp, vs->p)) {
            vs->bad = 1;
            snprintf(vs->why, sizeof(vs->why), "visited %s (LP %.17g) not reached",
                     v->id, x->lp);
        } else if (vs->n > 0 && (vs->side == POS_LONG ? v->lp > vs->last_lp
                                                      : v->lp < vs->last_lp)) {
            vs->bad = 1;
            snprintf(vs->why, sizeof(vs->why), "%s (LP %.17g) after LP %.17g: not "
                     "nearest first", v->id, v->lp, vs->last_lp);
        }
    }
    vs->last_lp = v->lp;
    vs->n++;
    return vs->stop_at != 0 && vs->n == vs->stop_at;
}

static int visit_all(const struct pos_view *v, void *arg)
{
    struct visit *vs = arg;
    int idx = atoi(v->id + 1);
    const struct rpos *x = idx >= 0 && idx < NID ? &vs->r->p[idx] : NULL;

    if (!vs->bad) {
        if (x == NULL || !x->live || x->handle != v->handle) {
            vs->bad = 1;
            snprintf(vs->why, sizeof(vs->why), "visited %s handle %" PRIu32
                     ": not live", v->id, v->handle);
        } else if (vs->n > 0 && v->handle <= vs->last_handle) {
            vs->bad = 1;
            snprintf(vs->why, sizeof(vs->why), "handle %" PRIu32 " after %" PRIu32
                     ": not in handle order", v->handle, vs->last_handle);
        } else {
            check_view(v, x);
        }
    }
    vs->last_handle = v->handle;
    vs->n++;
    return 0;
}

static void check_visits(struct trng *rng, const pindex_t *ix, const struct ref *r,
                         enum pos_side side, double p)
{
    struct pindex_sum sum;
    struct visit vs;

    pindex_reached(ix, side, p, &sum);
    memset(&vs, 0, sizeof(vs));
    vs.r = r;
    vs.side = side;
    vs.p = p;
    vs.stop_at = trng_below(rng, 3) == 0 ? 1 + (size_t)trng_below(rng, 20) : 0;
    pindex_foreach_reached(ix, side, p, visit_reached, &vs);
    TCHECK(!vs.bad, "seed %" PRIu64 " op %ld: pindex_foreach_reached(%s, %.17g): %s",
           g_seed, g_op, side ? "short" : "long", p, vs.why);
    size_t want = (size_t)sum.count;
    if (vs.stop_at && vs.stop_at < want)
        want = vs.stop_at;
    TCHECK(vs.n == want,
           "seed %" PRIu64 " op %ld: pindex_foreach_reached(%s, %.17g) visited %zu, "
           "want %zu",
           g_seed, g_op, side ? "short" : "long", p, vs.n, want);
}

static void check_all(const pindex_t *ix, const struct ref *r)
{
    struct visit vs;
    size_t live = 0;

    for (int i = 0; i < NID; i++)
        live += r->p[i].live;
    memset(&vs, 0, sizeof(vs));
    vs.r = r;
    pindex_foreach(ix, visit_all, &vs);
    TCHECK(!vs.bad, "seed %" PRIu64 " op %ld: pindex_foreach: %s", g_seed, g_op, vs.why);
    TCHECK(vs.n == live, "seed %" PRIu64 " op %ld: pindex_foreach visited %zu, want %zu",
           g_seed, g_op, vs.n, live);
    int rc = pindex_check(ix);
    TCHECK(rc == 0, "seed %" PRIu64 " op %ld: pindex_check = %d", g_seed, g_op, rc);
    check_counts(ix, r);
}

/* A query price: an LP present in the index (ties), on the grid, random,
 * or out of range (<= 0 included). */
static double gen_p(struct trng *rng, const struct ref *r)
{
    switch (trng_below(rng, 8)) {
    case 0:
    case 1:
    case 2:
        for (int k = 0; k < 20; k++) {
            const struct rpos *x = &r->p[trng_below(rng, NID)];
            if (x->live)
                return x->lp;
        }
        return 100;
    case 3:
        return 40 + 0.5 * (double)trng_below(rng, 241);
    case 4:
        return trng_below(rng, 2) ? 0.0 : -1e300;
    case 5:
        return 1e300;
    default:
        return 30 + trng_unit(rng) * 140;
    }
}

START_TEST(random_ops)
{
    struct trng rng;
    struct ref *r = calloc(1, sizeof(*r));
    pindex_t *ix;
    lq_err_t err;
    uint32_t h;
    int nlive = 0;

    ck_assert_ptr_nonnull(r);
    g_seed = test_seed();
    trng_init(&rng, "pindex.random");
    r->tt = &TT_A;
    ix = pindex_create(r->tt);
    ck_assert_ptr_nonnull(ix);
    for (int i = 0; i < NID; i++)
        snprintf(r->p[i].id, sizeof(r->p[i].id), "p%d", i);

    for (g_op = 0; g_op < 120000; g_op++) {
        unsigned op = (unsigned)trng_below(&rng, 1000);
        int i = (int)trng_below(&rng, NID);
        struct rpos *x = &r->p[i];
        struct pos_spec spec;
        uint64_t v0 = pindex_version(ix);
        int rc;

        /* keep the population between a few hundred and NID */
        int bias = nlive < 300 ? 200 : nlive > 2500 ? -150 : 0;
        if ((int)op < 300 + bias) {
            /* insert (duplicates when x is live) */
            struct rpos nx = *x;
            gen_spec(&rng, &nx);
            to_spec(&nx, &spec, (int)trng_below(&rng, 2));
            const char *field = NULL;
            if (!x->live && trng_below(&rng, 25) == 0)
                field = break_spec(&rng, &spec);
            err.msg[0] = '\0';
            h = 0xdeadbeef;
            rc = pindex_insert(ix, &spec, &h, &err);
            int want = field ? PINDEX_EINVAL : x->live ? PINDEX_EEXIST : PINDEX_OK;
            TCHECK(rc == want, "seed %" PRIu64 " op %ld: pindex_insert(%s) = %d, "
                   "want %d (%s)", g_seed, g_op, nx.id, rc, want, err.msg);
            if (field)
                TCHECK(strstr(err.msg, field) != NULL,
                       "seed %" PRIu64 " op %ld: insert with bad %s: message \"%s\"",
                       g_seed, g_op, field, err.msg);
            if (rc == PINDEX_OK) {
                nx.live = 1;
                nx.handle = h;
                nx.lp = ref_lp(r, &nx);
                *x = nx;
                nlive++;
                TCHECK(pindex_version(ix) > v0, "seed %" PRIu64 " op %ld: version "
                       "not bumped by insert", g_seed, g_op);
            }
        } else if (op < 550) {
            /* update a live position */
            if (!x->live)
                continue;
            struct rpos nx = *x;
            gen_spec(&rng, &nx);
            memcpy(nx.account, x->account, sizeof(nx.account));   /* stays */
            switch (trng_below(&rng, 4)) {   /* often change one thing only */
            case 0:
                nx.side = x->side;
                nx.has_margin = x->has_margin;
                nx.margin = x->margin;
                nx.liq_price = x->liq_price;
                nx.entry = x->entry;
                break;                      /* qty only */
            case 1:
                nx.qty = x->qty;
                break;
            default:
                break;
            }
            nx.lp = ref_lp(r, &nx);
            to_spec(&nx, &spec, 0);
            spec.id = trng_below(&rng, 2) ? "ignored" : NULL;
            const char *field = NULL;
            if (trng_below(&rng, 25) == 0)
                field = break_spec(&rng, &spec);
            rc = pindex_update(ix, x->handle, &spec, &err);
            int want = field ? PINDEX_EINVAL : PINDEX_OK;
            TCHECK(rc == want, "seed %" PRIu64 " op %ld: pindex_update(%s) = %d, "
                   "want %d", g_seed, g_op, x->id, rc, want);
            if (rc == PINDEX_OK) {
                *x = nx;
                TCHECK(pindex_version(ix) > v0, "seed %" PRIu64 " op %ld: version "
                       "not bumped by update", g_seed, g_op);
            }
            struct pos_view v;
            TCHECK(pindex_get(ix, x->handle, &v) == PINDEX_OK,
                   "seed %" PRIu64 " op %ld: pindex_get after update", g_seed, g_op);
            check_view(&v, x);
        } else if (op < 650) {
            if (!x->live)
                continue;
            rc = pindex_remove(ix, x->handle);
            TCHECK(rc == PINDEX_OK, "seed %" PRIu64 " op %ld: pindex_remove(%s) = %d",
                   g_seed, g_op, x->id, rc);
            x->live = 0;
            nlive--;
            rc = pindex_remove(ix, x->handle);
            TCHECK(rc == PINDEX_ENOENT, "seed %" PRIu64 " op %ld: second "
                   "pindex_remove(%s) = %d", g_seed, g_op, x->id, rc);
            struct pos_view v;
            rc = pindex_get(ix, x->handle, &v);
            TCHECK(rc == PINDEX_ENOENT, "seed %" PRIu64 " op %ld: pindex_get of "
                   "removed %s = %d", g_seed, g_op, x->id, rc);
        } else if (op < 720) {
            rc = pindex_find(ix, x->id, &h);
            TCHECK(rc == (x->live ? PINDEX_OK : PINDEX_ENOENT),
                   "seed %" PRIu64 " op %ld: pindex_find(%s) = %d, live %d", g_seed,
                   g_op, x->id, rc, x->live);
            if (x->live) {
                TCHECK(h == x->handle, "seed %" PRIu64 " op %ld: pindex_find(%s) "
                       "handle %" PRIu32 ", want %" PRIu32, g_seed, g_op, x->id, h,
                       x->handle);
                struct pos_view v;
                TCHECK(pindex_get(ix, h, &v) == PINDEX_OK, "pindex_get");
                check_view(&v, x);
            }
        } else if (op < 880) {
            enum pos_side side = (enum pos_side)trng_below(&rng, 2);
            double p = gen_p(&rng, r);
            check_reached(ix, r, side, p);
            check_reached(ix, r, !side, p);
        } else if (op < 950) {
            check_next(ix, r, (enum pos_side)trng_below(&rng, 2), gen_p(&rng, r));
        } else if (op < 985) {
            check_visits(&rng, ix, r, (enum pos_side)trng_below(&rng, 2),
                         gen_p(&rng, r));
        } else if (op < 998) {
            check_all(ix, r);
        } else {
            /* a new tier table: every margin LP is recomputed */
            r->tt = r->tt == &TT_A ? &TT_B : &TT_A;
            rc = pindex_set_tiers(ix, r->tt);
            TCHECK(rc == PINDEX_OK, "seed %" PRIu64 " op %ld: pindex_set_tiers = %d",
                   g_seed, g_op, rc);
            for (int k = 0; k < NID; k++)
                if (r->p[k].live)
                    r->p[k].lp = ref_lp(r, &r->p[k]);
            TCHECK(pindex_version(ix) > v0, "seed %" PRIu64 " op %ld: version not "
                   "bumped by set_tiers", g_seed, g_op);
            check_all(ix, r);
        }
        check_counts(ix, r);
        if (g_op % 1000 == 0)
            check_all(ix, r);
    }
    check_all(ix, r);
    pindex_destroy(ix);
    free(r);
}
END_TEST

/* ---- fixed cases -------------------------------------------------------- */

static struct pos_spec S(const char *id, enum pos_side side, double qty,
                         double entry, int has_margin, double m_or_lp)
{
    struct pos_spec s;
    memset(&s, 0, sizeof(s));
    s.id = id;
    s.side = side;
    ck_assert_int_eq(dec_from_double(qty, &s.qty), DEC_OK);
    s.entry = entry;
    s.has_margin = has_margin;
    if (has_margin)
        s.margin = m_or_lp;
    else
        s.liq_price = m_or_lp;
    return s;
}

START_TEST(validation)
{
    pindex_t *ix = pindex_create(NULL);
    lq_err_t err;
    uint32_t h;
    struct pos_spec s;

    ck_assert_ptr_nonnull(ix);
    s = S("A", POS_LONG, 1, 100, 1, 10);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_ENOTIERS);
    s = S("A", POS_LONG, 1, 100, 0, 90);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_OK);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EEXIST);
    s.id = "";
    err.msg[0] = '\0';
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);
    ck_assert_msg(strstr(err.msg, "id") != NULL, "empty id: \"%s\"", err.msg);
    s.id = NULL;
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);

    static const struct {
        double qty, entry;
        int has_margin;
        double v;
        const char *field;
    } bad[] = {
        {0, 100, 0, 90, "qty"},
        {-1, 100, 0, 90, "qty"},
        {1, 0, 1, 90, "entry"},        /* margin needs an entry */
        {1, -100, 0, 90, "entry"},
        {1, NAN, 0, 90, "entry"},
        {1, INFINITY, 0, 90, "entry"},
        {1, 100, 0, 0, "liq_price"},
        {1, 100, 0, -90, "liq_price"},
        {1, 100, 0, NAN, "liq_price"},
        {1, 100, 0, INFINITY, "liq_price"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = S("B", POS_SHORT, 1, bad[i].entry, bad[i].has_margin, bad[i].v);
        if (bad[i].qty <= 0)
            s.qty = bad[i].qty < 0 ? -(dec_t)DEC_SCALE : 0;
        err.msg[0] = '\0';
        ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);
        ck_assert_msg(strstr(err.msg, bad[i].field) != NULL,
                      "case %zu: message \"%s\" does not name %s", i, err.msg,
                      bad[i].field);
        ck_assert_int_eq(pindex_insert(ix, &s, &h, NULL), PINDEX_EINVAL);
    }
    ck_assert_uint_eq(pindex_count(ix, POS_LONG), 1);
    ck_assert_uint_eq(pindex_count(ix, POS_SHORT), 0);
    ck_assert_int_eq(pindex_find(ix, "B", &h), PINDEX_ENOENT);
    ck_assert_int_eq(pindex_check(ix), 0);

    /* margin errors need a table */
    struct tier_table tt = TT_A;
    ck_assert_int_eq(pindex_set_tiers(ix, &tt), PINDEX_OK);
    s = S("C", POS_LONG, 1, 100, 1, 0);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);
    ck_assert_msg(strstr(err.msg, "margin") != NULL, "\"%s\"", err.msg);
    s = S("C", POS_LONG, 1, 100, 1, -1);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);
    s = S("C", POS_LONG, 1, 100, 1, NAN);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_EINVAL);
    s = S("C", POS_LONG, 1, 100, 1, 10);
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_OK);
    ck_assert_int_eq(pindex_remove(ix, h), PINDEX_OK);
    ck_assert_int_eq(pindex_remove(ix, h), PINDEX_ENOENT);
    ck_assert_int_eq(pindex_find(ix, "C", &h), PINDEX_ENOENT);
    /* an id freed by a removal can be used again */
    ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_OK);
    ck_assert_int_eq(pindex_check(ix), 0);
    pindex_destroy(ix);
    pindex_destroy(NULL);
}
END_TEST

/* A long whose margin exceeds its notional has LP <= 0: kept, reported,
 * never reached, at any price. */
START_TEST(nonpositive_lp)
{
    struct tier_table tt = TT_A;
    pindex_t *ix = pindex_create(&tt);
    lq_err_t err;
    uint32_t ha, hb;
    struct pos_view v;
    struct pindex_sum sum;
    double lp;

    struct pos_spec a = S("rich", POS_LONG, 1, 100, 1, 150);
    ck_assert_int_eq(pindex_insert(ix, &a, &ha, &err), PINDEX_OK);
    struct pos_spec b = S("edge", POS_LONG, 2, 100, 1, 200);    /* LP == 0 */
    ck_assert_int_eq(pindex_insert(ix, &b, &hb, &err), PINDEX_OK);
    ck_assert_uint_eq(pindex_count(ix, POS_LONG), 2);
    ck_assert_int_eq(pindex_get(ix, ha, &v), PINDEX_OK);
    ck_assert_int_eq(v.in_cascade, 0);
    ck_assert_msg(v.lp < 0, "LP %.17g", v.lp);
    ck_assert_int_eq(pindex_get(ix, hb, &v), PINDEX_OK);
    ck_assert_int_eq(v.in_cascade, 0);
    ck_assert_msg(v.lp <= 0, "LP %.17g", v.lp);
    static const double ps[] = {100, 1, 1e-300, 0, -1, -1e300, -INFINITY};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        pindex_reached(ix, POS_LONG, ps[i], &sum);
        ck_assert_msg(sum.count == 0 && sum.qty == 0,
                      "LP <= 0 long reached at p = %g", ps[i]);
    }
    ck_assert_int_eq(pindex_next_lp(ix, POS_LONG, 1e300, &lp), -1);
    /* made reachable by an update, and back */
    struct pos_spec a2 = S("x", POS_LONG, 1, 100, 1, 10);
    ck_assert_int_eq(pindex_update(ix, ha, &a2, &err), PINDEX_OK);
    ck_assert_int_eq(pindex_get(ix, ha, &v), PINDEX_OK);
    ck_assert_str_eq(v.id, "rich");
    ck_assert_int_eq(v.in_cascade, 1);
    pindex_reached(ix, POS_LONG, 0.0, &sum);
    ck_assert_uint_eq(sum.count, 1);
    ck_assert_int_eq(pindex_update(ix, ha, &a, &err), PINDEX_OK);
    pindex_reached(ix, POS_LONG, -1e300, &sum);
    ck_assert_uint_eq(sum.count, 0);
    /* a short by margin is always reachable */
    struct pos_spec c = S("s", POS_SHORT, 1, 100, 1, 1000);
    ck_assert_int_eq(pindex_insert(ix, &c, &hb, &err), PINDEX_OK);
    ck_assert_int_eq(pindex_get(ix, hb, &v), PINDEX_OK);
    ck_assert_int_eq(v.in_cascade, 1);
    pindex_reached(ix, POS_SHORT, 1e300, &sum);
    ck_assert_uint_eq(sum.count, 1);
    ck_assert_int_eq(pindex_check(ix), 0);
    pindex_destroy(ix);
}
END_TEST

/* Equal LPs, both sides, inclusive comparisons. */
START_TEST(ties_inclusive)
{
    pindex_t *ix = pindex_create(NULL);
    lq_err_t err;
    uint32_t h;
    struct pindex_sum sum;
    double lp;
    char id[24];

    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "L%d", i);
        struct pos_spec s = S(id, POS_LONG, 0.1, 100, 0, 95 + (i % 3));
        ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_OK);
        snprintf(id, sizeof(id), "S%d", i);
        s = S(id, POS_SHORT, 0.2, 100, 0, 105 - (i % 3));
        ck_assert_int_eq(pindex_insert(ix, &s, &h, &err), PINDEX_OK);
    }
    /* longs at 95 (4), 96 (3), 97 (3) */
    pindex_reached(ix, POS_LONG, 97, &sum);
    ck_assert_uint_eq(sum.count, 3);
    ck_assert(sum.qty == 3 * (dec_t)10000000);
    pindex_reached(ix, POS_LONG, 96, &sum);
    ck_assert_uint_eq(sum.count, 6);
    ck_assert(sum.qty == 6 * (dec_t)10000000);   /* exactly 0.6 */
    ck_assert_msg(tclose(sum.notional, 0.3 * 97 + 0.3 * 96, 1e-12), "%.17g",
                  sum.notional);
    pindex_reached(ix, POS_LONG, 95, &sum);
    ck_assert_uint_eq(sum.count, 10);
    ck_assert(sum.qty == (dec_t)DEC_SCALE);      /* 10 x 0.1 == 1 exactly */
    ck_assert_int_eq(pindex_next_lp(ix, POS_LONG, 97, &lp), 0);
    ck_assert(lp == 96);
    ck_assert_int_eq(pindex_next_lp(ix, POS_LONG, 96.5, &lp), 0);
    ck_assert(lp == 96);
    ck_assert_int_eq(pindex_next_lp(ix, POS_LONG, 95, &lp), -1);
    /* shorts at 105 (4), 104 (3), 103 (3) */
    pindex_reached(ix, POS_SHORT, 103, &sum);
    ck_assert_uint_eq(sum.count, 3);
    pindex_reached(ix, POS_SHORT, 104, &sum);
    ck_assert_uint_eq(sum.count, 6);
    pindex_reached(ix, POS_SHORT, 102.99, &sum);
    ck_assert_uint_eq(sum.count, 0);
    ck_assert_int_eq(pindex_next_lp(ix, POS_SHORT, 103, &lp), 0);
    ck_assert(lp == 104);
    ck_assert_int_eq(pindex_next_lp(ix, POS_SHORT, 105, &lp), -1);
    ck_assert_int_eq(pindex_next_lp(ix, POS_SHORT, 0, &lp), 0);
    ck_assert(lp == 103);
    ck_assert_int_eq(pindex_check(ix), 0);
    pindex_destroy(ix);
}
END_TEST

struct seen {
    uint32_t h[4096];
    double lp[4096];
    size_t n;
};

static int note_lp(uint32_t h, double lp, void *arg)
{
    struct seen *s = arg;

    ck_assert(s->n < 4096);
    s->h[s->n] = h;
    s->lp[s->n++] = lp;
    return 0;
}

/* A position the venue liquidated leaves the cascade and the ranges, stays
 * tracked, and comes back when changed; range visits from a cursor equal
 * a brute-force filter, whatever the tree did in between. */
START_TEST(liquidated_and_ranges)
{
    pindex_t *ix = pindex_create(NULL);
    struct trng r;
    lq_err_t err;
    uint32_t h[600];
    double lps[600];
    int side_of[600], liq[600] = { 0 };
    struct agt_cursor cur[2];
    char id[24];

    memset(cur, 0, sizeof(cur));
    trng_init(&r, "pindex_liq_ranges");
    for (int i = 0; i < 600; i++) {
        side_of[i] = (int)trng_below(&r, 2);
        /* on a grid half the time: ties */
        lps[i] = trng_below(&r, 2) ? 90 + (double)trng_below(&r, 20)
                                   : 90 + 20 * trng_unit(&r);
        snprintf(id, sizeof(id), "p%d", i);
        struct pos_spec s = S(id, side_of[i] ? POS_SHORT : POS_LONG, 0.5, 100, 0, lps[i]);
        ck_assert_int_eq(pindex_insert(ix, &s, &h[i], &err), PINDEX_OK);
    }
    for (int round = 0; round < 400; round++) {
        int k = (int)trng_below(&r, 600);
        uint64_t v = pindex_version(ix), sv = pindex_spec_version(ix);
        struct pos_view pv;
        if (trng_below(&r, 3) == 0) {
            ck_assert_int_eq(pindex_set_liquidated(ix, h[k]), PINDEX_OK);
            ck_assert(pindex_version(ix) == v + !liq[k]);
            ck_assert(pindex_spec_version(ix) == sv);    /* not a change of terms */
            liq[k] = 1;
            ck_assert_int_eq(pindex_get(ix, h[k], &pv), PINDEX_OK);
            ck_assert(pv.liquidated && !pv.in_cascade);
        } else if (trng_below(&r, 4) == 0) {
            snprintf(id, sizeof(id), "p%d", k);
            lps[k] = 90 + 20 * trng_unit(&r);
            struct pos_spec s = S(id, side_of[k] ? POS_SHORT : POS_LONG, 0.5, 100, 0,
                                  lps[k]);
            ck_assert_int_eq(pindex_update(ix, h[k], &s, &err), PINDEX_OK);
            ck_assert(pindex_spec_version(ix) == sv + 1);
            liq[k] = 0;                               /* changed: back in */
            ck_assert_int_eq(pindex_get(ix, h[k], &pv), PINDEX_OK);
            ck_assert(!pv.liquidated && pv.in_cascade);
        }
        ck_assert_int_eq(pindex_check(ix), 0);
        /* a range near the previous one (a walking price) or anywhere */
        for (int side = 0; side < 2; side++) {
            double lo = 89 + 22 * trng_unit(&r), hi = lo + 3 * trng_unit(&r);
            double at = lo + (hi - lo) * trng_unit(&r);
            struct seen got = { .n = 0 };
            size_t want = 0;
            struct pindex_sum sum;
            if (trng_below(&r, 5) == 0)
                hi = lo;                              /* a single price */
            if (trng_below(&r, 5) == 0)
                lo = hi = 90 + (double)trng_below(&r, 20);  /* exactly a tie */
            pindex_foreach_lp_range_cur(ix, side ? POS_SHORT : POS_LONG, lo, hi, at,
                                        &cur[side], note_lp, &got);
            for (int i = 0; i < 600; i++)
                want += side_of[i] == side && !liq[i] && lps[i] >= lo && lps[i] <= hi;
            TCHECK(got.n == want, "seed %llu round %d side %d [%.17g, %.17g]: %zu "
                   "visited, %zu in range", (unsigned long long)test_seed(), round,
                   side, lo, hi, got.n, want);
            for (size_t i = 0; i < got.n; i++) {
                int k2 = -1;
                for (int j = 0; j < 600; j++)
                    if (h[j] == got.h[i])
                        k2 = j;
                TCHECK(k2 >= 0 && !liq[k2] && side_of[k2] == side && lps[k2] == got.lp[i],
                       "seed %llu: visited a position out of range or liquidated",
                       (unsigned long long)test_seed());
            }
            /* the reached sums leave liquidated positions out too */
            pindex_reached(ix, side ? POS_SHORT : POS_LONG, side ? 1e9 : 0, &sum);
            want = 0;
            for (int i = 0; i < 600; i++)
                want += side_of[i] == side && !liq[i];
            TCHECK(sum.count == want, "seed %llu: reached %llu, want %zu",
                   (unsigned long long)test_seed(), (unsigned long long)sum.count, want);
        }
    }
    pindex_destroy(ix);
}
END_TEST

Suite *pindex_suite(void)
{
    Suite *s = suite_create("pindex");
    TCase *tc = tcase_create("fixed");

    tcase_add_test(tc, validation);
    tcase_add_test(tc, nonpositive_lp);
    tcase_add_test(tc, ties_inclusive);
    tcase_add_test(tc, liquidated_and_ranges);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_ops);
    suite_add_tcase(s, tc);
    return s;
}
