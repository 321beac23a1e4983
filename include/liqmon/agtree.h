/*
 * agtree.h - an ordered map with subtree sums (augmented B+tree).
 *
 * The one ordered structure behind both the order book (market/book.c) and
 * the position index (risk/pindex.c).  Entries are ordered by (key, tie):
 * key a double (a price, or minus a price), tie a 32-bit handle that makes
 * equal keys distinct.  Each entry carries a weight w (an exact decimal
 * quantity) and a notional n (a double, supplied by the caller, normally
 * |key| * w).  Every node keeps, for its subtree, the entry count, the exact
 * sum of w and the sum of n, so that
 *
 *     "count, qty and notional of all entries with key >= k"
 *     "the entry where the running sum of w, from the largest key down,
 *      first reaches a target"
 *
 * cost one root-to-leaf descent: O(log n), about four node visits at a
 * million entries.  Insert, remove and weight updates are O(B log_B n).
 *
 *      root (internal)     child[i] covers keys >= sep[i] (sep[0] unused)
 *       /     |     \      agg[i] = sums over child[i]'s subtree
 *   leaf <-> leaf <-> leaf   entries sorted ascending, linked both ways
 *
 * Why a B+tree and not a red-black tree: the cascade asks a few of these
 * queries per simulation, dozens per tick; a 32-way node touches 4 cache
 * lines where a binary tree touches 20 (platform-notes: 1.5 us per query
 * for a balanced binary tree at 1e6, far too slow for a 20 us ladder).
 *
 * Invariants (checked by agt_check):
 *   - keys are finite; (key, tie) pairs are unique and ascending across
 *     leaves;
 *   - every node but the root holds between AGT_MIN and AGT_MAX children or
 *     entries;
 *   - each internal node's agg[i] equals the sums recomputed from child[i];
 *   - n sums are recomputed from their parts, never adjusted by +/- deltas,
 *     so they never drift however long the tree lives.
 *
 * Thread-safety: none; one owner thread.
 */
#ifndef LIQMON_AGTREE_H
#define LIQMON_AGTREE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/dec.h"

/* Sums over a set of entries. */
struct agt_sum {
    uint64_t count;
    dec_t w;        /* exact */
    double n;
};

/* One entry, as returned by lookups. */
struct agt_entry {
    double key;
    uint32_t tie;
    dec_t w;
    double n;
    uint64_t aux;   /* the entry's word in an aux tree, else 0 */
};

typedef struct agt agt_t;

enum {
    AGT_OK = 0,
    AGT_ENOMEM = -1,
    AGT_EEXIST = -2,     /* insert of a (key, tie) already present */
    AGT_ENOENT = -3,     /* remove/update of a (key, tie) not present */
    AGT_EINVAL = -4,     /* non-finite key */
};

agt_t *agt_create(void);
/* A tree whose entries each carry one more 64-bit word, aux, that is the
 * caller's: set by agt_set_batch and agt_bulk_load (agt_insert and
 * agt_upsert set 0; agt_update keeps it), returned in agt_entry and, in
 * order, by agt_aux_desc.  It costs 8 bytes an entry, which is why it is
 * not in every tree: an order book keeps a venue's checksum piece there
 * (venue/okx.c), the position index has no use for it. */
agt_t *agt_create_aux(void);
void agt_destroy(agt_t *t);          /* NULL is fine */
void agt_clear(agt_t *t);            /* remove every entry, keep the tree */

/* Insert (key, tie) with weight w and notional n. */
int agt_insert(agt_t *t, double key, uint32_t tie, dec_t w, double n);
/* Insert (key, tie), or overwrite its weight and notional if present: one
 * descent where update-then-insert would take two. */
int agt_upsert(agt_t *t, double key, uint32_t tie, dec_t w, double n);
/* One change for agt_set_batch: w == 0 removes (key, tie), any other w
 * upserts it with weight w and notional n. */
struct agt_set {
    double key;
    uint32_t tie;
    dec_t w;
    double n;
    uint64_t aux;   /* kept only in an aux tree */
};
/* Apply n changes in order, each as agt_upsert or agt_remove (removing an
 * absent entry is not an error) would, leaving the very same tree.
 * Cheaper when consecutive changes fall in one leaf, as the levels of a
 * sorted book diff do: the sums on that leaf's path are repaired once.
 * Stops at the first failure and returns its code, the changes before it
 * applied; AGT_OK otherwise. */
int agt_set_batch(agt_t *t, const struct agt_set *s, size_t n);
/* Remove (key, tie).  If old is not NULL, the removed entry is copied. */
int agt_remove(agt_t *t, double key, uint32_t tie, struct agt_entry *old);
/* Change the weight and notional of an existing (key, tie). */
int agt_update(agt_t *t, double key, uint32_t tie, dec_t w, double n);
/* Look up (key, tie).  Returns AGT_OK or AGT_ENOENT. */
int agt_find(const agt_t *t, double key, uint32_t tie, struct agt_entry *e);

/* Replace the whole content with n entries sorted ascending by (key, tie),
 * unique and finite (checked: AGT_EINVAL otherwise, tree left empty).
 * Builds full leaves bottom-up in O(n). */
int agt_bulk_load(agt_t *t, const struct agt_entry *sorted, size_t n);

size_t agt_count(const agt_t *t);
void agt_total(const agt_t *t, struct agt_sum *s);

/* Sums over entries with key >= k (every tie). */
void agt_sum_ge(const agt_t *t, double k, struct agt_sum *s);
/* Sums over entries with lo <= key <= hi. */
void agt_sum_range(const agt_t *t, double lo, double hi, struct agt_sum *s);

/* The aux words of the max largest entries, largest first, into out;
 * returns how many (0 for a tree that is not an aux tree).  It walks the
 * leaves from the last, without a descent. */
size_t agt_aux_desc(const agt_t *t, uint64_t *out, size_t max);

/* Walking entries from the largest (key, tie) down, find the first one at
 * which the running sum of w (that entry included) is >= target.  On
 * success fills *e and *before (the sums over every entry after it in
 * ascending order, i.e. walked before it) and returns AGT_OK; AGT_ENOENT
 * when the total weight is below target. */
int agt_select_desc(const agt_t *t, dec_t target, struct agt_entry *e,
                    struct agt_sum *before);

/* Smallest / largest entry; AGT_ENOENT when empty. */
int agt_min(const agt_t *t, struct agt_entry *e);
int agt_max(const agt_t *t, struct agt_entry *e);
/* The entry with the largest key < k (ties: its largest tie). */
int agt_max_lt(const agt_t *t, double k, struct agt_entry *e);
/* The entry with the smallest key > k (ties: its smallest tie). */
int agt_min_gt(const agt_t *t, double k, struct agt_entry *e);

/* Copy up to max entries with (key, tie) <= (k, tie), largest first
 * (k = +INFINITY for the top).  Returns how many were copied.  To resume
 * after a batch, call again with the last entry copied minus one tie
 * (or nextafter(key, -INFINITY), UINT32_MAX when its tie is 0). */
size_t agt_copy_desc(const agt_t *t, double k, uint32_t tie,
                     struct agt_entry *out, size_t max);

/* A remembered place in a tree, so that a caller watching a price that
 * moves little between ticks finds its range by walking a few entries
 * instead of descending from the root.  Zero-initialise it; it is used
 * only while the tree has not changed shape since (insert, remove, clear;
 * weight updates keep it good), else the visit descends as usual. */
struct agt_cursor {
    const void *leaf;
    int pos;
    uint64_t gen;
};
/* Visit the entries with lo <= key <= hi in ascending order (fn must not
 * change the tree; non-0 stops), then leave cur at key `at`. */
int agt_visit_range_cur(const agt_t *t, double lo, double hi, double at,
                        struct agt_cursor *cur,
                        int (*fn)(const struct agt_entry *e, void *arg),
                        void *arg);

/* Visit every entry in ascending order; stop early when fn returns non-0. */
typedef int (*agt_visit_fn)(const struct agt_entry *e, void *arg);
int agt_foreach(const agt_t *t, agt_visit_fn fn, void *arg);

/* Verify every invariant listed above; returns 0 or a negative line number
 * of the failed check (for tests). */
int agt_check(const agt_t *t);

/* Bytes of memory held by the tree (nodes only). */
size_t agt_memory(const agt_t *t);

#endif
