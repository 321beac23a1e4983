/*
 * pindex.h - one instrument's tracked positions, ordered by liquidation
 * price.
 *
 * The index owns its positions: a pool of fixed-size records addressed by
 * 32-bit handles, the id and account strings in one arena, a hash from id
 * to handle, and two agtrees (util/agtree.c) that order the positions the
 * cascade can reach:
 *
 *   longs  keyed by  LP     ->  "longs with LP >= p" is a suffix sum
 *   shorts keyed by -LP     ->  "shorts with LP <= p" is the same suffix sum
 *
 * so both sides answer the cascade's question in one O(log n) descent.
 * A position whose LP is not > 0 (or not finite) can never be liquidated
 * (cascade-model.md): it is kept in the pool, reported, and left out of the
 * trees.
 *
 * Liquidation prices: a position gives an explicit liq_price or a margin;
 * with a margin its LP comes from the index's tier table (tiers.h) when the
 * position is inserted or updated, and again when pindex_set_tiers installs
 * a new table.
 *
 * Memory: about 100 bytes per position at 1e6 (bench: bytes/position).
 * Thread-safety: none; one owner (the loop thread, or a CLI).
 */
#ifndef LIQMON_PINDEX_H
#define LIQMON_PINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/dec.h"
#include "liqmon/err.h"
#include "liqmon/tiers.h"

enum pos_side { POS_LONG = 0, POS_SHORT = 1 };

/* What a caller knows about a position; strings borrowed for the call. */
struct pos_spec {
    const char *id;          /* unique within the index, non-empty */
    const char *account;     /* may be NULL or "" */
    enum pos_side side;
    dec_t qty;               /* > 0, base units */
    double entry;            /* > 0; may be 0 (not given) with liq_price */
    int has_margin;          /* 1: margin is used, 0: liq_price is */
    double margin;           /* > 0 when has_margin */
    double liq_price;        /* > 0 when !has_margin */
};

/* A read-only view of a stored position, borrowed until the next change
 * to the index. */
struct pos_view {
    uint32_t handle;
    const char *id;
    const char *account;     /* "" when none */
    enum pos_side side;
    dec_t qty;
    double entry;
    int has_margin;
    double margin;           /* when has_margin */
    double lp;               /* computed or given liquidation price */
    int in_cascade;          /* 0 when LP is not > 0 / not finite, or
                                liquidated */
    int liquidated;          /* the venue closed it (pindex_set_liquidated) */
};

typedef struct pindex pindex_t;

enum {
    PINDEX_OK = 0,
    PINDEX_ENOMEM = -1,
    PINDEX_EEXIST = -2,      /* id already present */
    PINDEX_ENOENT = -3,      /* no such handle / id */
    PINDEX_EINVAL = -4,      /* spec fails validation (err says which field) */
    PINDEX_ENOTIERS = -5,    /* margin given but the index has no tier table */
};

/* tiers may be NULL (then only liq_price positions are accepted); it is
 * copied. */
pindex_t *pindex_create(const struct tier_table *tiers);
void pindex_destroy(pindex_t *ix);               /* NULL is fine */

int pindex_insert(pindex_t *ix, const struct pos_spec *spec,
                  uint32_t *handle_out, lq_err_t *err);
/* Change qty, entry, margin or liq price (and side) of a position; its id
 * stays.  spec->id is ignored. */
int pindex_update(pindex_t *ix, uint32_t handle, const struct pos_spec *spec,
                  lq_err_t *err);
int pindex_remove(pindex_t *ix, uint32_t handle);
int pindex_find(const pindex_t *ix, const char *id, uint32_t *handle_out);
int pindex_get(const pindex_t *ix, uint32_t handle, struct pos_view *out);

/* The venue liquidated the position: it stays tracked (and reported) but
 * leaves the cascade until pindex_update changes it.  Idempotent. */
int pindex_set_liquidated(pindex_t *ix, uint32_t handle);

/* Install a new tier table (copied) and recompute every margin-based LP. */
int pindex_set_tiers(pindex_t *ix, const struct tier_table *tiers);

/* A counter bumped by every change (insert, update, remove, new tiers):
 * callers compare it to know whether cached results are still good. */
uint64_t pindex_version(const pindex_t *ix);

/* The same, not bumped by pindex_set_liquidated: says whether the set of
 * positions or their terms changed (alerts re-scan then). */
uint64_t pindex_spec_version(const pindex_t *ix);

/* Positions tracked on a side (in the cascade or not). */
size_t pindex_count(const pindex_t *ix, enum pos_side side);

/* The cascade's query: sums over the positions of a side that a price p
 * reaches (longs with LP >= p, shorts with LP <= p).  notional is
 * sum(qty * LP). */
struct pindex_sum {
    uint64_t count;
    dec_t qty;
    double notional;
};
void pindex_reached(const pindex_t *ix, enum pos_side side, double p,
                    struct pindex_sum *out);
/* Whether p reaches any position of the side (pindex_reached's count >
 * 0), in O(1): the nearest LP is the tree's extreme key. */
int pindex_any_reached(const pindex_t *ix, enum pos_side side, double p);
/* The next liquidation price beyond p in the direction the price moves
 * (longs: the largest LP < p; shorts: the smallest LP > p).
 * Returns 0, or -1 when there is none. */
int pindex_next_lp(const pindex_t *ix, enum pos_side side, double p,
                   double *lp);

/* Visit the positions a price reaches, nearest LP first (longs: LP from
 * highest down to p; shorts: from lowest up to p), stopping at max_visits
 * or when fn returns non-0.  Used for post-mortem listings. */
typedef int (*pindex_visit_fn)(const struct pos_view *v, void *arg);
int pindex_foreach_reached(const pindex_t *ix, enum pos_side side, double p,
                           pindex_visit_fn fn, void *arg);
/* Visit the positions in the cascade with lo <= LP <= hi, highest LP
 * first for longs, lowest first for shorts; stops when fn returns non-0. */
int pindex_foreach_lp_range(const pindex_t *ix, enum pos_side side, double lo,
                            double hi, pindex_visit_fn fn, void *arg);
/* The same, walking from a cursor left near `at` by the previous call
 * (agtree.h: a price watched tick by tick moves a few entries at most),
 * and leaving it at `at` (an LP) for the next.  The callback gets only
 * the handle and LP (the index's records stay cold; pindex_get for the
 * rest).  Order: ascending keys (longs: LP up; shorts: LP down). */
struct agt_cursor;
typedef int (*pindex_lp_fn)(uint32_t handle, double lp, void *arg);
int pindex_foreach_lp_range_cur(const pindex_t *ix, enum pos_side side,
                                double lo, double hi, double at,
                                struct agt_cursor *cur, pindex_lp_fn fn,
                                void *arg);

/* Visit every position (in the cascade or not) in handle order. */
int pindex_foreach(const pindex_t *ix, pindex_visit_fn fn, void *arg);

/* For tests: trees, pool, hash and counts agree.  0 when fine. */
int pindex_check(const pindex_t *ix);
/* Bytes held (pool, strings, hash, trees). */
size_t pindex_memory(const pindex_t *ix);

#endif
