/*
 * check_agtree.c - the augmented B+tree (agtree.h) against a sorted array.
 *
 * The reference is a plain array of entries sorted by (key, tie) that
 * "tells the truth": every random operation goes to both, results are
 * compared after each one, the full content and agt_check() every few
 * hundred, and everything at the end.  Keys come from a small grid so that
 * many entries share a key and ties are decided by the tie handle; weights
 * come from a small lot grid so that running sums hit select targets
 * exactly.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/agtree.h"
#include "liqmon/dec.h"
#include "suites.h"

/* ---- the reference ------------------------------------------------------ */

struct ref {
    struct agt_entry *e;
    size_t n, cap;
};

static int ent_cmp(double k1, uint32_t t1, double k2, uint32_t t2)
{
    if (k1 < k2)
        return -1;
    if (k1 > k2)
        return 1;
    return t1 < t2 ? -1 : t1 > t2 ? 1 : 0;
}

/* Index of the first entry >= (key, tie). */
static size_t ref_lower(const struct ref *r, double key, uint32_t tie)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ent_cmp(r->e[mid].key, r->e[mid].tie, key, tie) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int ref_find(const struct ref *r, double key, uint32_t tie, size_t *at)
{
    size_t i = ref_lower(r, key, tie);
    *at = i;
    return i < r->n && r->e[i].key == key && r->e[i].tie == tie;
}

static void ref_insert_at(struct ref *r, size_t i, const struct agt_entry *x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->e = realloc(r->e, r->cap * sizeof(*r->e));
        TCHECK(r->e != NULL, "out of memory");
    }
    memmove(r->e + i + 1, r->e + i, (r->n - i) * sizeof(*r->e));
    r->e[i] = *x;
    r->n++;
}

static void ref_remove_at(struct ref *r, size_t i)
{
    memmove(r->e + i, r->e + i + 1, (r->n - i - 1) * sizeof(*r->e));
    r->n--;
}

struct lsum {
    uint64_t count;
    dec_t w;
    long double n;
    long double nabs;
};

static void ref_sum_if(const struct ref *r, double lo, double hi,
                       struct lsum *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].key >= lo && r->e[i].key <= hi) {
            s->count++;
            s->w += r->e[i].w;
            s->n += r->e[i].n;
            s->nabs += fabs(r->e[i].n);
        }
}

/* ---- comparisons -------------------------------------------------------- */

static uint64_t g_seed;
static long g_op;

static void check_sum(const char *what, const struct agt_sum *got,
                      const struct lsum *want)
{
    char b1[64], b2[64];
    TCHECK(got->count == want->count,
                  "seed %" PRIu64 " op %ld: %s count %" PRIu64 ", want %" PRIu64,
                  g_seed, g_op, what, got->count, want->count);
    TCHECK(got->w == want->w,
                  "seed %" PRIu64 " op %ld: %s w %s, want %s", g_seed, g_op,
                  what, tdec_str(got->w, b1), tdec_str(want->w, b2));
    double tol = 1e-12 * (double)want->nabs;
    TCHECK(fabs(got->n - (double)want->n) <= tol,
                  "seed %" PRIu64 " op %ld: %s n %.17g, want %.17Lg", g_seed,
                  g_op, what, got->n, want->n);
}

static void check_entry(const char *what, const struct agt_entry *got,
                        const struct agt_entry *want)
{
    char b1[64], b2[64];
    TCHECK(got->key == want->key && got->tie == want->tie,
                  "seed %" PRIu64 " op %ld: %s (%.17g, %" PRIu32 "), want "
                  "(%.17g, %" PRIu32 ")",
                  g_seed, g_op, what, got->key, got->tie, want->key, want->tie);
    TCHECK(got->w == want->w,
                  "seed %" PRIu64 " op %ld: %s w %s, want %s", g_seed, g_op,
                  what, tdec_str(got->w, b1), tdec_str(want->w, b2));
    TCHECK(got->n == want->n,
                  "seed %" PRIu64 " op %ld: %s n %.17g, want %.17g", g_seed,
                  g_op, what, got->n, want->n);
}

struct collect {
    struct agt_entry *e;
    size_t n, max, stop_at;
};

static int collect_fn(const struct agt_entry *e, void *arg)
{
    struct collect *c = arg;
    if (c->n < c->max)
        c->e[c->n] = *e;
    c->n++;
    return c->stop_at != 0 && c->n == c->stop_at;
}

/* Everything: count, total, the full ascending listing, agt_check. */
static void check_full(const agt_t *t, const struct ref *r)
{
    struct agt_sum s;
    struct lsum ls;
    TCHECK(agt_count(t) == r->n,
                  "seed %" PRIu64 " op %ld: agt_count %zu, want %zu", g_seed,
                  g_op, agt_count(t), r->n);
    agt_total(t, &s);
    ref_sum_if(r, -INFINITY, INFINITY, &ls);
    check_sum("agt_total", &s, &ls);

    struct collect c = {malloc((r->n + 1) * sizeof(struct agt_entry)), 0,
                        r->n + 1, 0};
    ck_assert_ptr_nonnull(c.e);
    int rc = agt_foreach(t, collect_fn, &c);
    TCHECK(rc == 0, "seed %" PRIu64 " op %ld: agt_foreach = %d", g_seed,
                  g_op, rc);
    TCHECK(c.n == r->n,
                  "seed %" PRIu64 " op %ld: agt_foreach visited %zu, want %zu",
                  g_seed, g_op, c.n, r->n);
    for (size_t i = 0; i < r->n; i++)
        check_entry("agt_foreach", &c.e[i], &r->e[i]);
    free(c.e);
    rc = agt_check(t);
    TCHECK(rc == 0, "seed %" PRIu64 " op %ld: agt_check = %d", g_seed,
                  g_op, rc);
}

/* ---- random operations -------------------------------------------------- */

struct gen {
    int nkeys;        /* keys: (i - nkeys/4) * 0.25, i < nkeys */
    uint32_t nties;   /* ties < nties */
};

static double gen_key(struct trng *r, const struct gen *g)
{
    return ((double)trng_below(r, (uint64_t)g->nkeys) - g->nkeys / 4) * 0.25;
}

/* A query key: on the grid, between grid points, or beyond it. */
static double gen_qkey(struct trng *r, const struct gen *g)
{
    switch (trng_below(r, 10)) {
    case 0:
        return (double)(g->nkeys + 5);
    case 1:
        return -(double)(g->nkeys + 5);
    case 2:
        return gen_key(r, g) + 0.125;
    case 3:
        return trng_below(r, 2) ? INFINITY : -INFINITY;
    default:
        return gen_key(r, g);
    }
}

/* Weights on a lot grid (0.001 .. 0.05), sometimes large, always > 0. */
static dec_t gen_w(struct trng *r)
{
    if (trng_below(r, 20) == 0)
        return (dec_t)(1 + trng_below(r, 1000000000000ULL)) * 1000000;
    return (dec_t)(1 + trng_below(r, 50)) * 100000;
}

static void gen_entry(struct trng *r, const struct gen *g, struct agt_entry *x)
{
    x->key = gen_key(r, g);
    x->tie = (uint32_t)trng_below(r, g->nties);
    x->w = gen_w(r);
    x->n = fabs(x->key) * dec_to_double(x->w);
}

/* select_desc targets: a random value, or an exact suffix sum of the
 * reference (a tie between the running sum and the target). */
static dec_t gen_target(struct trng *r, const struct ref *ref)
{
    dec_t total = 0;
    for (size_t i = 0; i < ref->n; i++)
        total += ref->e[i].w;
    switch (trng_below(r, 4)) {
    case 0:
        return total + 1 + (dec_t)trng_below(r, 1000);
    case 1:
        if (ref->n > 0) {
            size_t j = (size_t)trng_below(r, ref->n);
            dec_t s = 0;
            for (size_t i = ref->n; i-- > j;)
                s += ref->e[i].w;
            return s;
        }
        return 1;
    case 2:
        return total > 0 ? total : 1;
    default:
        return 1 + (total > 1 ? (dec_t)(trng_next(r) % (uint64_t)total) : 0);
    }
}

static void op_select(agt_t *t, const struct ref *r, dec_t target)
{
    struct agt_entry e;
    struct agt_sum before;
    struct lsum want;
    char b[64];
    memset(&want, 0, sizeof(want));
    size_t i = r->n;
    int found = 0;
    while (i-- > 0) {
        if (want.w + r->e[i].w >= target) {
            found = 1;
            break;
        }
        want.count++;
        want.w += r->e[i].w;
        want.n += r->e[i].n;
        want.nabs += fabs(r->e[i].n);
    }
    int rc = agt_select_desc(t, target, &e, &before);
    TCHECK(rc == (found ? AGT_OK : AGT_ENOENT),
                  "seed %" PRIu64 " op %ld: agt_select_desc(%s) = %d, want %d",
                  g_seed, g_op, tdec_str(target, b), rc,
                  found ? AGT_OK : AGT_ENOENT);
    if (found) {
        check_entry("agt_select_desc", &e, &r->e[i]);
        check_sum("agt_select_desc before", &before, &want);
    }
}

static void op_queries(struct trng *rng, agt_t *t, const struct ref *r,
                       const struct gen *g)
{
    struct agt_entry e;
    struct agt_sum s;
    struct lsum ls;
    double k = gen_qkey(rng, g), k2 = gen_qkey(rng, g);
    size_t i;
    int rc;

    switch (trng_below(rng, 7)) {
    case 0:
        agt_sum_ge(t, k, &s);
        ref_sum_if(r, k, INFINITY, &ls);
        check_sum("agt_sum_ge", &s, &ls);
        break;
    case 1:
        agt_sum_range(t, k, k2, &s);
        ref_sum_if(r, k, k2, &ls);
        check_sum("agt_sum_range", &s, &ls);
        break;
    case 2:
        op_select(t, r, gen_target(rng, r));
        break;
    case 3:
        rc = agt_min(t, &e);
        TCHECK_INT(rc, r->n ? AGT_OK : AGT_ENOENT);
        if (r->n)
            check_entry("agt_min", &e, &r->e[0]);
        rc = agt_max(t, &e);
        TCHECK_INT(rc, r->n ? AGT_OK : AGT_ENOENT);
        if (r->n)
            check_entry("agt_max", &e, &r->e[r->n - 1]);
        break;
    case 4:
        /* largest key < k, its largest tie */
        i = r->n;
        while (i > 0 && !(r->e[i - 1].key < k))
            i--;
        rc = agt_max_lt(t, k, &e);
        TCHECK(rc == (i ? AGT_OK : AGT_ENOENT),
                      "seed %" PRIu64 " op %ld: agt_max_lt(%g) = %d", g_seed,
                      g_op, k, rc);
        if (i)
            check_entry("agt_max_lt", &e, &r->e[i - 1]);
        /* smallest key > k, its smallest tie */
        i = 0;
        while (i < r->n && !(r->e[i].key > k))
            i++;
        rc = agt_min_gt(t, k, &e);
        TCHECK(rc == (i < r->n ? AGT_OK : AGT_ENOENT),
                      "seed %" PRIu64 " op %ld: agt_min_gt(%g) = %d", g_seed,
                      g_op, k, rc);
        if (i < r->n)
            check_entry("agt_min_gt", &e, &r->e[i]);
        break;
    case 5: {
        /* copy_desc from (k, tie) down, largest (key, tie) first */
        struct agt_entry out[80];
        size_t max = (size_t)trng_below(rng, 80);
        uint32_t tie = (uint32_t)trng_below(rng, g->nties + 1);
        if (trng_below(rng, 4) == 0) {
            k = INFINITY;
            tie = UINT32_MAX;
        } else if (trng_below(rng, 4) == 0) {
            tie = trng_below(rng, 2) ? UINT32_MAX : 0;
        }
        size_t got = agt_copy_desc(t, k, tie, out, max);
        i = r->n;
        while (i > 0 && ent_cmp(r->e[i - 1].key, r->e[i - 1].tie, k, tie) > 0)
            i--;
        size_t want = i < max ? i : max;
        TCHECK(got == want,
                      "seed %" PRIu64 " op %ld: agt_copy_desc(%g, %" PRIu32
                      ", %zu) = %zu, want %zu",
                      g_seed, g_op, k, tie, max, got, want);
        for (size_t j = 0; j < want; j++)
            check_entry("agt_copy_desc", &out[j], &r->e[i - 1 - j]);
        /* resume after the batch as the header says: the last entry minus
         * one tie, or the next key down with UINT32_MAX when its tie is 0 */
        if (want > 0 && want == max) {
            const struct agt_entry *last = &out[want - 1];
            double rk = last->key;
            uint32_t rt = last->tie - 1;
            if (last->tie == 0) {
                rk = nextafter(last->key, -INFINITY);
                rt = UINT32_MAX;
            }
            struct agt_entry more[8];
            size_t got2 = agt_copy_desc(t, rk, rt, more, 8);
            size_t rest = i - want, want2 = rest < 8 ? rest : 8;
            TCHECK(got2 == want2,
                   "seed %" PRIu64 " op %ld: agt_copy_desc resume = %zu, want %zu",
                   g_seed, g_op, got2, want2);
            for (size_t j = 0; j < want2; j++)
                check_entry("agt_copy_desc resume", &more[j], &r->e[rest - 1 - j]);
        }
        break;
    }
    default: {
        /* foreach with an early stop */
        struct agt_entry out[40];
        struct collect c = {out, 0, 40, 1 + (size_t)trng_below(rng, 40)};
        rc = agt_foreach(t, collect_fn, &c);
        size_t want = r->n < c.stop_at ? r->n : c.stop_at;
        TCHECK(c.n == want,
                      "seed %" PRIu64 " op %ld: agt_foreach stop at %zu "
                      "visited %zu, want %zu",
                      g_seed, g_op, c.stop_at, c.n, want);
        TCHECK((rc != 0) == (r->n >= c.stop_at),
                      "seed %" PRIu64 " op %ld: agt_foreach returned %d", g_seed,
                      g_op, rc);
        for (size_t j = 0; j < want; j++)
            check_entry("agt_foreach", &out[j], &r->e[j]);
        break;
    }
    }
}

/* A random sorted, unique set for bulk_load. */
static size_t gen_bulk(struct trng *rng, const struct gen *g,
                       struct agt_entry *out, size_t max)
{
    size_t n = 0;
    uint32_t per = (uint32_t)(trng_below(rng, 3) == 0 ? g->nties : 1 + trng_below(rng, 4));
    for (int k = 0; k < g->nkeys && n < max; k++) {
        if (trng_below(rng, 3) == 0)
            continue;
        double key = ((double)k - g->nkeys / 4) * 0.25;
        for (uint32_t tie = 0; tie < g->nties && n < max; tie++) {
            if (trng_below(rng, g->nties) >= per)
                continue;
            out[n].key = key;
            out[n].tie = tie;
            out[n].w = gen_w(rng);
            out[n].n = fabs(key) * dec_to_double(out[n].w);
            n++;
        }
    }
    return n;
}

static void run_random(const char *salt, struct gen g, long nops, int check_every)
{
    struct trng rng;
    struct ref r = {0};
    agt_t *t = agt_create();
    size_t bulk_max = (size_t)g.nkeys * g.nties;
    struct agt_entry *bulk = malloc(bulk_max * sizeof(*bulk));
    long phase_len = 5000;
    int grow = 1;

    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(bulk);
    g_seed = test_seed();
    trng_init(&rng, salt);

    for (g_op = 0; g_op < nops; g_op++) {
        struct agt_entry x, old, f;
        size_t at;
        int rc, present;

        /* alternate growing and shrinking phases so the tree both splits
         * and merges, at every height */
        if (g_op % phase_len == 0) {
            grow = !grow;
            phase_len = 2000 + (long)trng_below(&rng, 8000);
        }
        unsigned op = (unsigned)trng_below(&rng, 100);
        gen_entry(&rng, &g, &x);
        /* aim at present entries most of the time */
        if (r.n > 0 && op >= 20 && op < 60 && trng_below(&rng, 4) != 0) {
            struct agt_entry *p = &r.e[trng_below(&rng, r.n)];
            x.key = p->key;
            x.tie = p->tie;
            x.n = fabs(x.key) * dec_to_double(x.w);
        }
        present = ref_find(&r, x.key, x.tie, &at);

        if (op < (grow ? 20u : 8u)) {
            rc = agt_insert(t, x.key, x.tie, x.w, x.n);
            TCHECK(rc == (present ? AGT_EEXIST : AGT_OK),
                          "seed %" PRIu64 " op %ld: agt_insert(%g, %" PRIu32
                          ") = %d, present %d",
                          g_seed, g_op, x.key, x.tie, rc, present);
            if (!present)
                ref_insert_at(&r, at, &x);
        } else if (op < 40) {
            if (grow && op >= 32) {
                /* fewer removes while growing */
                op_queries(&rng, t, &r, &g);
                continue;
            }
            int want_old = trng_below(&rng, 4) != 0;
            memset(&old, 0, sizeof(old));
            rc = agt_remove(t, x.key, x.tie, want_old ? &old : NULL);
            TCHECK(rc == (present ? AGT_OK : AGT_ENOENT),
                          "seed %" PRIu64 " op %ld: agt_remove(%g, %" PRIu32
                          ") = %d, present %d",
                          g_seed, g_op, x.key, x.tie, rc, present);
            if (present) {
                if (want_old)
                    check_entry("agt_remove old", &old, &r.e[at]);
                ref_remove_at(&r, at);
            }
        } else if (op < 50) {
            rc = agt_update(t, x.key, x.tie, x.w, x.n);
            TCHECK(rc == (present ? AGT_OK : AGT_ENOENT),
                          "seed %" PRIu64 " op %ld: agt_update(%g, %" PRIu32
                          ") = %d, present %d",
                          g_seed, g_op, x.key, x.tie, rc, present);
            if (present) {
                r.e[at].w = x.w;
                r.e[at].n = x.n;
            }
        } else if (op < 60) {
            rc = agt_find(t, x.key, x.tie, &f);
            TCHECK(rc == (present ? AGT_OK : AGT_ENOENT),
                          "seed %" PRIu64 " op %ld: agt_find(%g, %" PRIu32
                          ") = %d, present %d",
                          g_seed, g_op, x.key, x.tie, rc, present);
            if (present)
                check_entry("agt_find", &f, &r.e[at]);
        } else if (op == 60 && trng_below(&rng, 50) == 0) {
            size_t n = gen_bulk(&rng, &g, bulk, bulk_max);
            rc = agt_bulk_load(t, bulk, n);
            TCHECK(rc == AGT_OK, "seed %" PRIu64 " op %ld: "
                          "agt_bulk_load(%zu) = %d", g_seed, g_op, n, rc);
            r.n = 0;
            for (size_t i = 0; i < n; i++)
                ref_insert_at(&r, r.n, &bulk[i]);
            check_full(t, &r);
        } else if (op == 61 && trng_below(&rng, 200) == 0) {
            agt_clear(t);
            r.n = 0;
            check_full(t, &r);
        } else {
            op_queries(&rng, t, &r, &g);
        }
        TCHECK(agt_count(t) == r.n,
                      "seed %" PRIu64 " op %ld: agt_count %zu, want %zu",
                      g_seed, g_op, agt_count(t), r.n);
        if (check_every && g_op % check_every == 0)
            check_full(t, &r);
    }
    check_full(t, &r);
    /* empty it entry by entry, checking on the way down */
    while (r.n > 0) {
        size_t i = (size_t)trng_below(&rng, r.n);
        TCHECK_INT(agt_remove(t, r.e[i].key, r.e[i].tie, NULL), AGT_OK);
        ref_remove_at(&r, i);
        if (r.n % 97 == 0)
            check_full(t, &r);
    }
    check_full(t, &r);
    agt_destroy(t);
    free(bulk);
    free(r.e);
}

/* Many equal keys: 40 keys x 256 ties. */
START_TEST(random_ops_ties)
{
    struct gen g = {40, 256};
    run_random("agtree.ties", g, 120000, 500);
}
END_TEST

/* Mostly distinct keys, few ties: deeper trees. */
START_TEST(random_ops_wide)
{
    struct gen g = {4000, 4};
    run_random("agtree.wide", g, 100000, 1000);
}
END_TEST

/* Tiny grid: constant EEXIST/ENOENT, a tree around one or two leaves. */
START_TEST(random_ops_small)
{
    struct gen g = {5, 12};
    run_random("agtree.small", g, 60000, 50);
}
END_TEST

/* ---- fixed cases -------------------------------------------------------- */

START_TEST(empty_tree)
{
    agt_t *t = agt_create();
    struct agt_entry e;
    struct agt_sum s;

    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(agt_count(t), 0);
    agt_total(t, &s);
    ck_assert_uint_eq(s.count, 0);
    ck_assert(s.w == 0);
    ck_assert(s.n == 0.0);
    agt_sum_ge(t, -1e300, &s);
    ck_assert_uint_eq(s.count, 0);
    agt_sum_range(t, -1e300, 1e300, &s);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_int_eq(agt_min(t, &e), AGT_ENOENT);
    ck_assert_int_eq(agt_max(t, &e), AGT_ENOENT);
    ck_assert_int_eq(agt_max_lt(t, 1.0, &e), AGT_ENOENT);
    ck_assert_int_eq(agt_min_gt(t, 1.0, &e), AGT_ENOENT);
    ck_assert_int_eq(agt_select_desc(t, 1, &e, &s), AGT_ENOENT);
    ck_assert_uint_eq(agt_copy_desc(t, INFINITY, UINT32_MAX, &e, 1), 0);
    ck_assert_int_eq(agt_find(t, 1.0, 0, &e), AGT_ENOENT);
    ck_assert_int_eq(agt_remove(t, 1.0, 0, NULL), AGT_ENOENT);
    ck_assert_int_eq(agt_update(t, 1.0, 0, 5, 5.0), AGT_ENOENT);
    ck_assert_int_eq(agt_check(t), 0);
    ck_assert_int_eq(agt_bulk_load(t, &e, 0), AGT_OK);
    ck_assert_uint_eq(agt_count(t), 0);
    agt_destroy(t);
    agt_destroy(NULL);
}
END_TEST

START_TEST(bad_keys)
{
    agt_t *t = agt_create();
    struct agt_entry e[3] = {{1.0, 0, 100, 1.0, 0}, {2.0, 0, 100, 2.0, 0},
                             {3.0, 0, 100, 3.0, 0}};

    ck_assert_int_eq(agt_insert(t, NAN, 0, 100, 1.0), AGT_EINVAL);
    ck_assert_int_eq(agt_insert(t, INFINITY, 0, 100, 1.0), AGT_EINVAL);
    ck_assert_int_eq(agt_insert(t, -INFINITY, 0, 100, 1.0), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);

    ck_assert_int_eq(agt_insert(t, 5.0, 1, 100, 5.0), AGT_OK);
    ck_assert_int_eq(agt_insert(t, 5.0, 1, 200, 5.0), AGT_EEXIST);
    ck_assert_int_eq(agt_insert(t, 5.0, 2, 200, 5.0), AGT_OK);
    ck_assert_uint_eq(agt_count(t), 2);

    /* bulk loads that are not sorted, not unique or not finite leave the
     * tree empty */
    ck_assert_int_eq(agt_bulk_load(t, e, 3), AGT_OK);
    ck_assert_uint_eq(agt_count(t), 3);
    e[1].key = 4.0;
    ck_assert_int_eq(agt_bulk_load(t, e, 3), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);
    ck_assert_int_eq(agt_check(t), 0);
    e[1].key = 3.0;   /* duplicate (3.0, 0) */
    ck_assert_int_eq(agt_insert(t, 9.0, 9, 1, 1.0), AGT_OK);
    ck_assert_int_eq(agt_bulk_load(t, e, 3), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);
    e[1].key = NAN;
    ck_assert_int_eq(agt_bulk_load(t, e, 3), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);
    e[1].key = 2.0;
    e[2].key = INFINITY;
    ck_assert_int_eq(agt_bulk_load(t, e, 3), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);
    /* same key, ties descending: not sorted */
    e[1].key = 1.0;
    e[0].tie = 5;
    e[1].tie = 4;
    ck_assert_int_eq(agt_bulk_load(t, e, 2), AGT_EINVAL);
    ck_assert_uint_eq(agt_count(t), 0);
    ck_assert_int_eq(agt_check(t), 0);
    agt_destroy(t);
}
END_TEST

/* Select at equal keys: ties walk from the largest tie down. */
START_TEST(select_ties)
{
    agt_t *t = agt_create();
    struct agt_entry e;
    struct agt_sum before;

    /* key 10: ties 1, 2, 3 with w 1, 2, 3; key 5: tie 7 w 10 */
    ck_assert_int_eq(agt_insert(t, 10.0, 2, 2, 20.0), AGT_OK);
    ck_assert_int_eq(agt_insert(t, 5.0, 7, 10, 50.0), AGT_OK);
    ck_assert_int_eq(agt_insert(t, 10.0, 3, 3, 30.0), AGT_OK);
    ck_assert_int_eq(agt_insert(t, 10.0, 1, 1, 10.0), AGT_OK);

    ck_assert_int_eq(agt_select_desc(t, 3, &e, &before), AGT_OK);
    ck_assert(e.key == 10.0 && e.tie == 3);
    ck_assert_uint_eq(before.count, 0);
    ck_assert(before.w == 0);
    ck_assert_int_eq(agt_select_desc(t, 4, &e, &before), AGT_OK);
    ck_assert(e.key == 10.0 && e.tie == 2);
    ck_assert_uint_eq(before.count, 1);
    ck_assert(before.w == 3);
    ck_assert(before.n == 30.0);
    ck_assert_int_eq(agt_select_desc(t, 6, &e, &before), AGT_OK);
    ck_assert(e.key == 10.0 && e.tie == 1);
    ck_assert(before.w == 5);
    ck_assert_int_eq(agt_select_desc(t, 7, &e, &before), AGT_OK);
    ck_assert(e.key == 5.0 && e.tie == 7);
    ck_assert_uint_eq(before.count, 3);
    ck_assert(before.w == 6);
    ck_assert(before.n == 60.0);
    ck_assert_int_eq(agt_select_desc(t, 16, &e, &before), AGT_OK);
    ck_assert(e.key == 5.0);
    ck_assert_int_eq(agt_select_desc(t, 17, &e, &before), AGT_ENOENT);

    ck_assert_int_eq(agt_max_lt(t, 10.0, &e), AGT_OK);
    ck_assert(e.key == 5.0 && e.tie == 7);
    ck_assert_int_eq(agt_max_lt(t, 10.5, &e), AGT_OK);
    ck_assert(e.key == 10.0 && e.tie == 3);
    ck_assert_int_eq(agt_min_gt(t, 5.0, &e), AGT_OK);
    ck_assert(e.key == 10.0 && e.tie == 1);
    ck_assert_int_eq(agt_min_gt(t, 10.0, &e), AGT_ENOENT);

    struct agt_entry out[4];
    ck_assert_uint_eq(agt_copy_desc(t, 10.0, UINT32_MAX, out, 4), 4);
    ck_assert(out[0].tie == 3 && out[1].tie == 2 && out[2].tie == 1 &&
              out[3].key == 5.0);
    ck_assert_uint_eq(agt_copy_desc(t, 10.0, 2, out, 4), 3);
    ck_assert(out[0].tie == 2 && out[1].tie == 1 && out[2].key == 5.0);
    ck_assert_uint_eq(agt_copy_desc(t, 10.0, 0, out, 4), 1);
    ck_assert(out[0].key == 5.0);
    ck_assert_uint_eq(agt_copy_desc(t, 9.99, UINT32_MAX, out, 4), 1);
    ck_assert(out[0].key == 5.0);
    ck_assert_uint_eq(agt_copy_desc(t, INFINITY, UINT32_MAX, out, 2), 2);
    ck_assert(out[0].tie == 3 && out[1].tie == 2);

    struct agt_sum s;
    agt_sum_ge(t, 10.0, &s);
    ck_assert_uint_eq(s.count, 3);
    ck_assert(s.w == 6);
    agt_sum_range(t, 5.0, 5.0, &s);
    ck_assert_uint_eq(s.count, 1);
    ck_assert(s.w == 10);
    agt_sum_range(t, 10.0, 5.0, &s);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_int_eq(agt_check(t), 0);
    agt_destroy(t);
}
END_TEST

/* A large bulk load, then removals down to nothing and reinsertion:
 * merges and splits at every level; the notional sums never drift. */
START_TEST(bulk_then_churn)
{
    struct trng rng;
    size_t n = 200000;
    struct agt_entry *e = malloc(n * sizeof(*e));
    agt_t *t = agt_create();
    struct agt_sum s;

    g_seed = test_seed();
    trng_init(&rng, "agtree.bulk");
    for (size_t i = 0; i < n; i++) {
        e[i].key = (double)(i / 3) * 0.5;
        e[i].tie = (uint32_t)(i % 3);
        e[i].w = (dec_t)(1 + i % 7) * 1000000;
        e[i].n = 0.1 * (double)(i % 11);
    }
    ck_assert_int_eq(agt_bulk_load(t, e, n), AGT_OK);
    ck_assert_uint_eq(agt_count(t), n);
    ck_assert_int_eq(agt_check(t), 0);
    /* remove three quarters in random order (swap-remove from a list) */
    size_t *idx = malloc(n * sizeof(*idx)), live = n;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    while (live > n / 4) {
        size_t j = (size_t)trng_below(&rng, live);
        size_t i = idx[j];
        idx[j] = idx[--live];
        TCHECK_INT(agt_remove(t, e[i].key, e[i].tie, NULL), AGT_OK);
        e[i].w = 0;    /* mark removed */
        if (live % 20000 == 0)
            TCHECK_INT(agt_check(t), 0);
    }
    dec_t w = 0;
    long double nn = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].w != 0) {
            w += e[i].w;
            nn += e[i].n;
        }
    agt_total(t, &s);
    ck_assert_uint_eq(s.count, live);
    ck_assert(s.w == w);
    TCHECK(fabs(s.n - (double)nn) <= 1e-12 * (double)nn,
                  "seed %" PRIu64 ": total n %.17g, want %.17Lg", g_seed, s.n, nn);
    /* add and remove the same entries many times: the n sums are
     * recomputed, not adjusted, so they come back exactly */
    double n0 = s.n;
    for (int round = 0; round < 20000; round++) {
        TCHECK_INT(agt_insert(t, 1e6 + round % 7, 0, 1, 1e-3 * round), AGT_OK);
        TCHECK_INT(agt_update(t, 1e6 + round % 7, 0, 2, 1e9), AGT_OK);
        TCHECK_INT(agt_remove(t, 1e6 + round % 7, 0, NULL), AGT_OK);
    }
    agt_total(t, &s);
    /* +/- 1e9 deltas would lose ~1e-7 per cycle at this magnitude */
    TCHECK(fabs(s.n - n0) <= 1e-12 * n0, "n drifted: %.17g, was %.17g",
                  s.n, n0);
    ck_assert_int_eq(agt_check(t), 0);
    ck_assert_uint_gt(agt_memory(t), 0);
    agt_destroy(t);
    free(idx);
    free(e);
}
END_TEST

/* agt_set_batch leaves the very tree that the same changes made one at
 * a time leave: same entries, and the same sums bit for bit (it repairs
 * a leaf's path once per run of changes in that leaf, from the leaf's
 * final contents).  Runs are sorted, as a book diff is, with some jumps. */
START_TEST(batch_equals_singles)
{
    struct trng rng;
    agt_t *a = agt_create(), *b = agt_create();
    struct agt_set set[96];
    struct agt_entry *ea = malloc(20000 * sizeof(*ea)), *eb = malloc(20000 * sizeof(*eb));

    g_seed = test_seed();
    trng_init(&rng, "agtree.batch");
    for (int round = 0; round < 3000; round++) {
        int m = 1 + (int)trng_below(&rng, 90), dir = trng_below(&rng, 2) ? 1 : -1;
        double k0 = (double)trng_below(&rng, 4000) * 0.5;
        for (int j = 0; j < m; j++) {
            set[j].key = trng_below(&rng, 8) == 0 ? (double)trng_below(&rng, 4000) * 0.5
                                                  : k0 + dir * 0.5 * j;
            set[j].tie = 0;
            set[j].w = trng_below(&rng, 3) == 0 ? 0 : (dec_t)(1 + trng_below(&rng, 9999)) * 1000;
            set[j].n = set[j].key * (double)set[j].w * 1e-8;
            if (set[j].w == 0)
                (void)agt_remove(a, set[j].key, 0, NULL);
            else
                TCHECK_INT(agt_upsert(a, set[j].key, 0, set[j].w, set[j].n), AGT_OK);
        }
        TCHECK_INT(agt_set_batch(b, set, (size_t)m), AGT_OK);
        if (round % 100 != 99)
            continue;
        TCHECK_INT(agt_check(b), 0);
        size_t na = agt_copy_desc(a, INFINITY, UINT32_MAX, ea, 20000);
        size_t nb = agt_copy_desc(b, INFINITY, UINT32_MAX, eb, 20000);
        TCHECK(na == nb, "seed %" PRIu64 ": %zu entries, want %zu", g_seed, nb, na);
        for (size_t i = 0; i < na; i++) {
            struct agt_sum sa, sb;
            TCHECK(ea[i].key == eb[i].key && ea[i].w == eb[i].w && ea[i].n == eb[i].n,
                   "seed %" PRIu64 ": entry %zu differs", g_seed, i);
            agt_sum_ge(a, ea[i].key, &sa);
            agt_sum_ge(b, ea[i].key, &sb);
            TCHECK(sa.count == sb.count && sa.w == sb.w &&
                   memcmp(&sa.n, &sb.n, sizeof(sa.n)) == 0,
                   "seed %" PRIu64 ": sums from key %g differ (n %.17g, want %.17g)",
                   g_seed, ea[i].key, sb.n, sa.n);
        }
    }
    free(ea);
    free(eb);
    agt_destroy(a);
    agt_destroy(b);
}
END_TEST

/* An aux tree keeps each entry's word with it through every way the tree
 * moves entries: in-leaf shifts, splits, lending to siblings, merges and
 * borrowing on removal, bulk loads.  The batches are those of
 * batch_equals_singles (runs of nearby keys, a third removals), the word
 * is drawn fresh for every change, agt_upsert sets 0, and the reference
 * is one slot per key of the grid. */
START_TEST(aux_follows_entries)
{
    enum { OFF = 200, SLOTS = 8400 };
    struct trng rng;
    agt_t *c = agt_create_aux(), *plain = agt_create();
    struct agt_set set[96];
    static uint64_t want[SLOTS];
    static unsigned char there[SLOTS];
    struct agt_entry *e = malloc(20000 * sizeof(*e)), *bulk = malloc(20000 * sizeof(*bulk));
    uint64_t *aux = malloc(20000 * sizeof(*aux));

    TCHECK(e != NULL && bulk != NULL && aux != NULL, "out of memory");
    memset(want, 0, sizeof(want));
    memset(there, 0, sizeof(there));
    g_seed = test_seed();
    trng_init(&rng, "agtree.aux");
    for (int round = 0; round < 3000; round++) {
        int m = 1 + (int)trng_below(&rng, 90), dir = trng_below(&rng, 2) ? 1 : -1;
        double k0 = (double)trng_below(&rng, 4000) * 0.5;
        for (int j = 0; j < m; j++) {
            set[j].key = trng_below(&rng, 8) == 0 ? (double)trng_below(&rng, 4000) * 0.5
                                                  : k0 + dir * 0.5 * j;
            set[j].tie = 0;
            set[j].w = trng_below(&rng, 3) == 0 ? 0 : (dec_t)(1 + trng_below(&rng, 9999)) * 1000;
            set[j].n = set[j].key * (double)set[j].w * 1e-8;
            set[j].aux = trng_next(&rng) | 1;
            size_t s = (size_t)((long)(set[j].key * 2) + OFF);
            there[s] = set[j].w != 0;
            want[s] = set[j].w != 0 ? set[j].aux : 0;
        }
        TCHECK_INT(agt_set_batch(c, set, (size_t)m), AGT_OK);
        TCHECK_INT(agt_set_batch(plain, set, (size_t)m), AGT_OK);
        if (round % 50 == 25) {
            /* agt_upsert keeps no word: 0 */
            double k = (double)trng_below(&rng, 4000) * 0.5;
            TCHECK_INT(agt_upsert(c, k, 0, 5000, k * 5e-5), AGT_OK);
            there[(size_t)((long)(k * 2) + OFF)] = 1;
            want[(size_t)((long)(k * 2) + OFF)] = 0;
        }
        if (round == 1500) {
            /* a bulk load of the content as it stands, words included */
            size_t n = agt_copy_desc(c, INFINITY, UINT32_MAX, e, 20000);
            for (size_t i = 0; i < n; i++)
                bulk[i] = e[n - 1 - i];
            TCHECK_INT(agt_bulk_load(c, bulk, n), AGT_OK);
        }
        if (round % 100 != 99)
            continue;
        TCHECK_INT(agt_check(c), 0);
        size_t n = agt_copy_desc(c, INFINITY, UINT32_MAX, e, 20000);
        size_t na = agt_aux_desc(c, aux, 20000), live = 0;
        for (size_t s = 0; s < SLOTS; s++)
            live += there[s];
        TCHECK(n == live && na == n, "seed %" PRIu64 ": %zu entries, %zu words, want %zu",
               g_seed, n, na, live);
        for (size_t i = 0; i < n; i++) {
            size_t s = (size_t)((long)(e[i].key * 2) + OFF);
            struct agt_entry f;
            TCHECK(e[i].aux == want[s] && aux[i] == want[s],
                   "seed %" PRIu64 ": key %g has word %" PRIx64 " / %" PRIx64 ", want %" PRIx64,
                   g_seed, e[i].key, e[i].aux, aux[i], want[s]);
            TCHECK_INT(agt_find(c, e[i].key, 0, &f), AGT_OK);
            TCHECK(f.aux == want[s], "seed %" PRIu64 ": agt_find word", g_seed);
        }
        /* the best few, as an OKX checksum reads them */
        TCHECK(agt_aux_desc(c, aux, 25) == (n < 25 ? n : 25), "seed %" PRIu64 ": top 25", g_seed);
        for (size_t i = 0; i < 25 && i < n; i++)
            TCHECK(aux[i] == e[i].aux, "seed %" PRIu64 ": top word %zu", g_seed, i);
        /* a tree made by agt_create keeps none */
        TCHECK(agt_aux_desc(plain, aux, 20000) == 0, "seed %" PRIu64 ": plain tree words", g_seed);
        TCHECK(agt_copy_desc(plain, INFINITY, UINT32_MAX, e, 1) == 1 && e[0].aux == 0,
               "seed %" PRIu64 ": plain tree entry word", g_seed);
    }
    free(e);
    free(bulk);
    free(aux);
    agt_destroy(c);
    agt_destroy(plain);
}
END_TEST

static int count_visit(const struct agt_entry *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

/* A cursor is only ever good for the tree and the shape it was left in:
 * here a tree is freed and another built the same way (same allocations,
 * same number of changes), and the old cursor must not be taken for the
 * new tree's (it found freed leaves once, after a reload swapped the
 * position indexes). */
START_TEST(cursor_other_tree)
{
    struct agt_cursor cur;
    int n;

    memset(&cur, 0, sizeof(cur));
    for (int round = 0; round < 3; round++) {
        agt_t *t = agt_create();
        ck_assert_ptr_nonnull(t);
        for (int i = 0; i < 500; i++)
            ck_assert_int_eq(agt_insert(t, (double)(i % 100), (uint32_t)i,
                                        (dec_t)1, 1.0), AGT_OK);
        n = 0;
        agt_visit_range_cur(t, 10, 19, 15, &cur, count_visit, &n);
        ck_assert_int_eq(n, 50);                 /* keys 10..19, 5 each */
        n = 0;
        agt_visit_range_cur(t, 15, 15, 16, &cur, count_visit, &n);
        ck_assert_int_eq(n, 5);
        agt_destroy(t);                          /* cur now points into it */
    }
}
END_TEST

Suite *agtree_suite(void)
{
    Suite *s = suite_create("agtree");
    TCase *tc = tcase_create("fixed");

    tcase_add_test(tc, empty_tree);
    tcase_add_test(tc, cursor_other_tree);
    tcase_add_test(tc, bad_keys);
    tcase_add_test(tc, select_ties);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_ops_ties);
    tcase_add_test(tc, random_ops_wide);
    tcase_add_test(tc, random_ops_small);
    tcase_add_test(tc, bulk_then_churn);
    tcase_add_test(tc, batch_equals_singles);
    tcase_add_test(tc, aux_follows_entries);
    suite_add_tcase(s, tc);
    return s;
}
