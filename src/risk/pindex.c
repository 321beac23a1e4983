/*
 * pindex.c - positions of one instrument, ordered by liquidation price
 * (see pindex.h).
 *
 * Storage, per position (about 100 bytes at 1e6, see bench):
 *   pool[handle]   a 48-byte record: qty, entry, margin, lp, flags and
 *                  the offset of "id\0account\0" in the string arena;
 *   hash           open addressing, linear probing, slot = handle + 1,
 *                  load <= 1/2, deletion by backward shift (no tombstones);
 *   trees          one agtree per side: longs keyed by lp, shorts by -lp,
 *                  tie = handle, weight = qty, notional = qty * lp.
 *
 * Invariants (pindex_check):
 *   P1 a live record is in the hash exactly once, under its id;
 *   P2 a live record is in its side's tree iff its lp is finite and > 0
 *      (flag IN_TREE), with key, weight and notional matching the record;
 *   P3 count[side] counts the live records of that side.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/agtree.h"
#include "liqmon/pindex.h"

#define F_SHORT   0x1u
#define F_MARGIN  0x2u
#define F_INTREE  0x4u
#define F_LIVE    0x8u
#define F_LIQ     0x10u    /* liquidated by the venue: out of the trees */

struct prec {
    dec_t qty;
    double entry;
    double margin;
    double lp;
    uint32_t str;      /* offset of "id\0account\0" in the arena */
    uint32_t flags;
};

struct pindex {
    struct tier_table tiers;       /* owned copy; n == 0: none */
    struct prec *pool;             /* pool[0..npool) */
    uint32_t npool, cappool;
    uint32_t *freelist;            /* handles of dead records */
    uint32_t nfree, capfree;
    char *arena;                   /* id/account strings */
    size_t narena, caparena, garbage;
    uint32_t *hash;                /* handle + 1, or 0 */
    size_t hashcap;                /* power of two */
    size_t live;
    size_t count[2];
    agt_t *tree[2];
    uint64_t version;              /* bumped by every change */
    uint64_t spec_version;         /* the same, but not by liquidations */
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a, then a mix */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static inline const char *rec_id(const pindex_t *ix, const struct prec *r)
{
    return ix->arena + r->str;
}

static inline double tree_key(const struct prec *r)
{
    return (r->flags & F_SHORT) ? -r->lp : r->lp;
}

static inline int side_of(const struct prec *r)
{
    return (r->flags & F_SHORT) ? POS_SHORT : POS_LONG;
}

/* Slot holding id, or the empty slot where it would go. */
static size_t hash_slot(const pindex_t *ix, const char *id, uint64_t h)
{
    size_t mask = ix->hashcap - 1, i = h & mask;

    while (ix->hash[i] &&
           strcmp(rec_id(ix, &ix->pool[ix->hash[i] - 1]), id) != 0)
        i = (i + 1) & mask;
    return i;
}

static int hash_grow(pindex_t *ix)
{
    size_t ncap = ix->hashcap ? ix->hashcap * 2 : 1024, i;
    uint32_t *old = ix->hash, *nh = calloc(ncap, sizeof(*nh));
    size_t oldcap = ix->hashcap;

    if (nh == NULL)
        return -1;
    ix->hash = nh;
    ix->hashcap = ncap;
    for (i = 0; i < oldcap; i++) {
        if (old[i]) {
            const char *id = rec_id(ix, &ix->pool[old[i] - 1]);
            nh[hash_slot(ix, id, hash_str(id))] = old[i];
        }
    }
    free(old);
    return 0;
}

/* Backward-shift deletion keeps probe chains unbroken. */
static void hash_delete(pindex_t *ix, size_t i)
{
    size_t mask = ix->hashcap - 1, j = i;

    ix->hash[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (ix->hash[j] == 0)
            return;
        size_t home = hash_str(rec_id(ix, &ix->pool[ix->hash[j] - 1])) & mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) ||
            (j < i && (home <= i && home > j))) {
            ix->hash[i] = ix->hash[j];
            ix->hash[j] = 0;
            i = j;
        }
    }
}

static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need)
{
    uint32_t ncap;
    void *np;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > UINT32_MAX / 2)
            return -1;
        ncap *= 2;
    }
    np = realloc(*p, (size_t)ncap * elem);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Append "id\0account\0"; returns the offset or -1. */
static int64_t arena_put(pindex_t *ix, const char *id, const char *acct)
{
    size_t li = strlen(id) + 1, la = strlen(acct) + 1, need;

    need = ix->narena + li + la;
    if (need > UINT32_MAX)
        return -1;
    if (need > ix->caparena) {
        size_t ncap = ix->caparena ? ix->caparena : 4096;
        char *na;
        while (ncap < need)
            ncap *= 2;
        na = realloc(ix->arena, ncap);
        if (na == NULL)
            return -1;
        ix->arena = na;
        ix->caparena = ncap;
    }
    memcpy(ix->arena + ix->narena, id, li);
    memcpy(ix->arena + ix->narena + li, acct, la);
    ix->narena += li + la;
    return (int64_t)(need - li - la);
}

static size_t rec_strlen(const pindex_t *ix, const struct prec *r)
{
    const char *id = rec_id(ix, r);
    size_t li = strlen(id) + 1;
    return li + strlen(id + li) + 1;
}

/* Rewrite the arena with only live strings once garbage dominates. */
static void arena_compact(pindex_t *ix)
{
    char *na;
    size_t n = 0;

    if (ix->garbage < 65536 || ix->garbage < ix->narena / 2)
        return;
    na = malloc(ix->narena - ix->garbage + 1);
    if (na == NULL)
        return;                           /* try again next time */
    for (uint32_t h = 0; h < ix->npool; h++) {
        struct prec *r = &ix->pool[h];
        if (!(r->flags & F_LIVE))
            continue;
        size_t l = rec_strlen(ix, r);
        memcpy(na + n, ix->arena + r->str, l);
        r->str = (uint32_t)n;
        n += l;
    }
    free(ix->arena);
    ix->arena = na;
    ix->narena = n;
    ix->caparena = n + 1;
    ix->garbage = 0;
}

/* ---- validation and LP ------------------------------------------------- */

static int spec_check(const pindex_t *ix, const struct pos_spec *s,
                      int need_id, lq_err_t *err)
{
    if (need_id && (s->id == NULL || s->id[0] == '\0'))
        return lq_err_set(err, "id: must be a non-empty string"), PINDEX_EINVAL;
    if (s->side != POS_LONG && s->side != POS_SHORT)
        return lq_err_set(err, "side: must be long or short"), PINDEX_EINVAL;
    if (s->qty <= 0)
        return lq_err_set(err, "qty: must be > 0"), PINDEX_EINVAL;
    /* entry is needed by the margin formula only; 0 means "not given". */
    if (!isfinite(s->entry) || s->entry < 0 || (s->has_margin && s->entry <= 0))
        return lq_err_set(err, "entry: must be a finite number > 0"), PINDEX_EINVAL;
    if (s->has_margin) {
        if (!isfinite(s->margin) || s->margin <= 0)
            return lq_err_set(err, "margin: must be a finite number > 0"),
                   PINDEX_EINVAL;
        if (ix->tiers.n == 0)
            return lq_err_set(err, "margin: no tier table for this instrument "
                              "to compute a liquidation price"), PINDEX_ENOTIERS;
    } else if (!isfinite(s->liq_price) || s->liq_price <= 0) {
        return lq_err_set(err, "liq_price: must be a finite number > 0"),
               PINDEX_EINVAL;
    }
    return PINDEX_OK;
}

static double rec_lp(const pindex_t *ix, const struct prec *r)
{
    if (!(r->flags & F_MARGIN))
        return r->lp;
    return tiers_liq_price(&ix->tiers, (r->flags & F_SHORT) != 0,
                           dec_to_double(r->qty), r->entry, r->margin, NULL);
}

static int tree_add(pindex_t *ix, uint32_t h)
{
    struct prec *r = &ix->pool[h];
    int rc;

    r->flags &= ~F_INTREE;
    if (!isfinite(r->lp) || r->lp <= 0)
        return 0;            /* never liquidated: tracked, not indexed */
    if (r->flags & F_LIQ)
        return 0;            /* already closed by the venue */
    rc = agt_insert(ix->tree[side_of(r)], tree_key(r), h, r->qty,
                    dec_to_double(r->qty) * r->lp);
    if (rc != AGT_OK)
        return -1;
    r->flags |= F_INTREE;
    return 0;
}

static void tree_del(pindex_t *ix, uint32_t h)
{
    struct prec *r = &ix->pool[h];

    if (r->flags & F_INTREE)
        agt_remove(ix->tree[side_of(r)], tree_key(r), h, NULL);
    r->flags &= ~F_INTREE;
}

/* A changed position starts afresh: F_LIQ is not kept (pindex.h). */
static void rec_fill(struct prec *r, const struct pos_spec *s)
{
    r->qty = s->qty;
    r->entry = s->entry;
    r->flags = (r->flags & F_LIVE) | (s->side == POS_SHORT ? F_SHORT : 0) |
               (s->has_margin ? F_MARGIN : 0);
    r->margin = s->has_margin ? s->margin : 0;
    r->lp = s->has_margin ? 0 : s->liq_price;
}

/* ---- public ------------------------------------------------------------ */

pindex_t *pindex_create(const struct tier_table *tiers)
{
    pindex_t *ix = calloc(1, sizeof(*ix));

    if (ix == NULL)
        goto fail;
    if (tiers_copy(tiers, &ix->tiers) != 0)
        goto fail;
    ix->tree[POS_LONG] = agt_create();
    ix->tree[POS_SHORT] = agt_create();
    if (ix->tree[POS_LONG] == NULL || ix->tree[POS_SHORT] == NULL)
        goto fail;
    if (hash_grow(ix) != 0)
        goto fail;
    return ix;
fail:
    pindex_destroy(ix);
    return NULL;
}

void pindex_destroy(pindex_t *ix)
{
    if (ix == NULL)
        return;
    tiers_fini(&ix->tiers);
    agt_destroy(ix->tree[POS_LONG]);
    agt_destroy(ix->tree[POS_SHORT]);
    free(ix->pool);
    free(ix->freelist);
    free(ix->arena);
    free(ix->hash);
    free(ix);
}

int pindex_insert(pindex_t *ix, const struct pos_spec *spec,
                  uint32_t *handle_out, lq_err_t *err)
{
    uint64_t hv;
    size_t slot;
    int64_t off;
    uint32_t h;
    int rc;
    struct prec *r;

    rc = spec_check(ix, spec, 1, err);
    if (rc != PINDEX_OK)
        return rc;
    if ((ix->live + 1) * 2 > ix->hashcap && hash_grow(ix) != 0)
        goto nomem;
    hv = hash_str(spec->id);
    slot = hash_slot(ix, spec->id, hv);
    if (ix->hash[slot])
        return lq_err_set(err, "id: duplicate position id '%s'", spec->id),
               PINDEX_EEXIST;
    /* Strings first: nothing to undo if they fail. */
    off = arena_put(ix, spec->id, spec->account ? spec->account : "");
    if (off < 0)
        goto nomem;
    if (ix->nfree > 0) {
        h = ix->freelist[--ix->nfree];
    } else {
        if (ix->npool == UINT32_MAX - 1 ||
            grow((void **)&ix->pool, &ix->cappool, sizeof(*ix->pool),
                 ix->npool + 1) != 0) {
            ix->narena = (size_t)off;
            goto nomem;
        }
        h = ix->npool++;
    }
    r = &ix->pool[h];
    memset(r, 0, sizeof(*r));
    r->flags = F_LIVE;
    r->str = (uint32_t)off;
    rec_fill(r, spec);
    r->lp = rec_lp(ix, r);
    if (tree_add(ix, h) != 0) {
        ix->garbage += rec_strlen(ix, r);
        r->flags = 0;
        if (grow((void **)&ix->freelist, &ix->capfree, sizeof(uint32_t),
                 ix->nfree + 1) == 0)
            ix->freelist[ix->nfree++] = h;
        goto nomem;
    }
    ix->hash[slot] = h + 1;
    ix->version++;
    ix->spec_version++;
    ix->live++;
    ix->count[side_of(r)]++;
    if (handle_out)
        *handle_out = h;
    return PINDEX_OK;
nomem:
    return lq_err_set(err, "out of memory"), PINDEX_ENOMEM;
}

static struct prec *live_rec(const pindex_t *ix, uint32_t h)
{
    if (h >= ix->npool || !(ix->pool[h].flags & F_LIVE))
        return NULL;
    return &ix->pool[h];
}

int pindex_update(pindex_t *ix, uint32_t h, const struct pos_spec *spec,
                  lq_err_t *err)
{
    struct prec *r = live_rec(ix, h);
    int rc;

    if (r == NULL)
        return lq_err_set(err, "no position with handle %u", h), PINDEX_ENOENT;
    rc = spec_check(ix, spec, 0, err);
    if (rc != PINDEX_OK)
        return rc;
    tree_del(ix, h);
    ix->version++;
    ix->spec_version++;
    ix->count[side_of(r)]--;
    rec_fill(r, spec);
    r->lp = rec_lp(ix, r);
    ix->count[side_of(r)]++;
    if (tree_add(ix, h) != 0)
        return lq_err_set(err, "out of memory"), PINDEX_ENOMEM;
    return PINDEX_OK;
}

int pindex_remove(pindex_t *ix, uint32_t h)
{
    struct prec *r = live_rec(ix, h);
    const char *id;

    if (r == NULL)
        return PINDEX_ENOENT;
    if (grow((void **)&ix->freelist, &ix->capfree, sizeof(uint32_t),
             ix->nfree + 1) != 0)
        return PINDEX_ENOMEM;
    id = rec_id(ix, r);
    hash_delete(ix, hash_slot(ix, id, hash_str(id)));
    tree_del(ix, h);
    ix->version++;
    ix->spec_version++;
    ix->count[side_of(r)]--;
    ix->live--;
    ix->garbage += rec_strlen(ix, r);
    r->flags = 0;
    ix->freelist[ix->nfree++] = h;
    arena_compact(ix);
    return PINDEX_OK;
}

int pindex_find(const pindex_t *ix, const char *id, uint32_t *handle_out)
{
    size_t slot = hash_slot(ix, id, hash_str(id));

    if (ix->hash[slot] == 0)
        return PINDEX_ENOENT;
    if (handle_out)
        *handle_out = ix->hash[slot] - 1;
    return PINDEX_OK;
}

int pindex_get(const pindex_t *ix, uint32_t h, struct pos_view *v)
{
    const struct prec *r = live_rec(ix, h);

    if (r == NULL)
        return PINDEX_ENOENT;
    v->handle = h;
    v->id = rec_id(ix, r);
    v->account = v->id + strlen(v->id) + 1;
    v->side = side_of(r);
    v->qty = r->qty;
    v->entry = r->entry;
    v->has_margin = (r->flags & F_MARGIN) != 0;
    v->margin = r->margin;
    v->lp = r->lp;
    v->in_cascade = (r->flags & F_INTREE) != 0;
    v->liquidated = (r->flags & F_LIQ) != 0;
    return PINDEX_OK;
}

int pindex_set_liquidated(pindex_t *ix, uint32_t h)
{
    struct prec *r = live_rec(ix, h);

    if (r == NULL)
        return PINDEX_ENOENT;
    if (r->flags & F_LIQ)
        return PINDEX_OK;
    tree_del(ix, h);
    r->flags |= F_LIQ;
    ix->version++;
    return PINDEX_OK;
}

int pindex_set_tiers(pindex_t *ix, const struct tier_table *tiers)
{
    struct tier_table nt;

    if (tiers_copy(tiers, &nt) != 0)
        return PINDEX_ENOMEM;
    tiers_fini(&ix->tiers);
    ix->tiers = nt;
    ix->version++;
    ix->spec_version++;
    for (uint32_t h = 0; h < ix->npool; h++) {
        struct prec *r = &ix->pool[h];
        if (!(r->flags & F_LIVE) || !(r->flags & F_MARGIN))
            continue;
        tree_del(ix, h);
        /* Without a table a margin position cannot be placed: keep it
         * tracked, out of the cascade, until a table comes back. */
        r->lp = ix->tiers.n ? rec_lp(ix, r) : NAN;
        if (tree_add(ix, h) != 0)
            return PINDEX_ENOMEM;
    }
    return PINDEX_OK;
}

uint64_t pindex_version(const pindex_t *ix)
{
    return ix->version;
}

uint64_t pindex_spec_version(const pindex_t *ix)
{
    return ix->spec_version;
}

size_t pindex_count(const pindex_t *ix, enum pos_side side)
{
    return ix->count[side];
}

void pindex_reached(const pindex_t *ix, enum pos_side side, double p,
                    struct pindex_sum *out)
{
    struct agt_sum s;

    /* shorts are keyed by -lp: lp <= p  <=>  -lp >= -p */
    agt_sum_ge(ix->tree[side], side == POS_LONG ? p : -p, &s);
    out->count = s.count;
    out->qty = s.w;
    out->notional = s.n;
}

int pindex_any_reached(const pindex_t *ix, enum pos_side side, double p)
{
    struct agt_entry e;

    return agt_max(ix->tree[side], &e) == AGT_OK &&
           e.key >= (side == POS_LONG ? p : -p);
}

int pindex_next_lp(const pindex_t *ix, enum pos_side side, double p,
                   double *lp)
{
    struct agt_entry e;

    if (agt_max_lt(ix->tree[side], side == POS_LONG ? p : -p, &e) != AGT_OK)
        return -1;
    *lp = side == POS_LONG ? e.key : -e.key;
    return 0;
}

/* Visit a side's tree entries with kmin <= key <= kmax, largest key
 * first.  Batches start small and grow: a range holding none or a few
 * (the common case on every tick: alerts, liquidation marking) costs one
 * descent and copies no more than a handful. */
static int visit_keys(const pindex_t *ix, enum pos_side side, double kmin,
                      double kmax, pindex_visit_fn fn, void *arg)
{
    struct agt_entry buf[128];
    double k = kmax;
    uint32_t tie = UINT32_MAX;
    size_t want = 4;

    for (;;) {
        size_t got = agt_copy_desc(ix->tree[side], k, tie, buf, want);
        for (size_t i = 0; i < got; i++) {
            struct pos_view v;
            int rc;
            if (buf[i].key < kmin)
                return 0;
            pindex_get(ix, buf[i].tie, &v);
            rc = fn(&v, arg);
            if (rc)
                return rc;
        }
        if (got < want)
            return 0;
        k = buf[got - 1].key;
        tie = buf[got - 1].tie;
        if (tie > 0) {
            tie--;
        } else {
            k = nextafter(k, -INFINITY);
            tie = UINT32_MAX;
        }
        if (want < 128)
            want *= 2;
    }
}

int pindex_foreach_reached(const pindex_t *ix, enum pos_side side, double p,
                           pindex_visit_fn fn, void *arg)
{
    return visit_keys(ix, side, side == POS_LONG ? p : -p, INFINITY, fn, arg);
}

struct cur_ctx {
    enum pos_side side;
    pindex_lp_fn fn;
    void *arg;
};

static int cur_visit(const struct agt_entry *e, void *arg)
{
    struct cur_ctx *c = arg;

    return c->fn(e->tie, c->side == POS_LONG ? e->key : -e->key, c->arg);
}

int pindex_foreach_lp_range_cur(const pindex_t *ix, enum pos_side side,
                                double lo, double hi, double at,
                                struct agt_cursor *cur, pindex_lp_fn fn,
                                void *arg)
{
    struct cur_ctx c = { side, fn, arg };

    if (!(lo <= hi))
        return 0;
    /* shorts are keyed by -lp: the range flips */
    return side == POS_LONG
           ? agt_visit_range_cur(ix->tree[side], lo, hi, at, cur, cur_visit, &c)
           : agt_visit_range_cur(ix->tree[side], -hi, -lo, -at, cur, cur_visit, &c);
}

int pindex_foreach_lp_range(const pindex_t *ix, enum pos_side side, double lo,
                            double hi, pindex_visit_fn fn, void *arg)
{
    if (!(lo <= hi))
        return 0;
    /* shorts are keyed by -lp: the range flips */
    return side == POS_LONG ? visit_keys(ix, side, lo, hi, fn, arg)
                            : visit_keys(ix, side, -hi, -lo, fn, arg);
}

int pindex_foreach(const pindex_t *ix, pindex_visit_fn fn, void *arg)
{
    for (uint32_t h = 0; h < ix->npool; h++) {
        struct pos_view v;
        int rc;
        if (pindex_get(ix, h, &v) != PINDEX_OK)
            continue;
        rc = fn(&v, arg);
        if (rc)
            return rc;
    }
    return 0;
}

#define CHECK(c) do { if (!(c)) return -__LINE__; } while (0)

int pindex_check(const pindex_t *ix)
{
    size_t live = 0, count[2] = { 0, 0 }, intree[2] = { 0, 0 };

    CHECK(agt_check(ix->tree[0]) == 0 && agt_check(ix->tree[1]) == 0);
    for (uint32_t h = 0; h < ix->npool; h++) {
        const struct prec *r = &ix->pool[h];
        uint32_t found;
        struct agt_entry e;
        if (!(r->flags & F_LIVE))
            continue;
        live++;
        count[side_of(r)]++;
        CHECK(pindex_find(ix, rec_id(ix, r), &found) == 0 && found == h); /* P1 */
        int want = isfinite(r->lp) && r->lp > 0 && !(r->flags & F_LIQ);
        CHECK(want == ((r->flags & F_INTREE) != 0));                     /* P2 */
        if (want) {
            intree[side_of(r)]++;
            CHECK(agt_find(ix->tree[side_of(r)], tree_key(r), h, &e) == 0);
            CHECK(e.w == r->qty);
        }
        if (r->flags & F_MARGIN)
            CHECK(ix->tiers.n == 0 || r->lp == rec_lp(ix, r));
    }
    CHECK(live == ix->live);
    CHECK(count[0] == ix->count[0] && count[1] == ix->count[1]);          /* P3 */
    CHECK(intree[0] == agt_count(ix->tree[0]));
    CHECK(intree[1] == agt_count(ix->tree[1]));
    return 0;
}

size_t pindex_memory(const pindex_t *ix)
{
    return sizeof(*ix) + (size_t)ix->cappool * sizeof(*ix->pool) +
           (size_t)ix->capfree * sizeof(uint32_t) + ix->caparena +
           ix->hashcap * sizeof(uint32_t) + agt_memory(ix->tree[0]) +
           agt_memory(ix->tree[1]);
}
