/*
 * agtree.c - augmented B+tree (see include/liqmon/agtree.h).
 *
 * Layout.  Leaves hold up to AGT_B entries in parallel arrays, sorted
 * ascending by (key, tie).  Inner nodes hold up to AGT_B children and, for
 * each child i, the exact minimum (key[i], tie[i]) of that child's subtree
 * and its sums (cnt[i], w[i], nn[i]).  Keeping the sums in the parent means
 * a query reads one node per level and never touches the siblings it adds
 * up.
 *
 * Invariants (agt_check verifies them):
 *   I1 every node but the root holds >= AGT_MIN and <= AGT_B items;
 *   I2 inner->key/tie[i] is exactly the smallest entry under child[i];
 *   I3 inner->cnt/w/nn[i] are the sums recomputed from child[i];
 *   I4 all leaves are at the same depth and are linked in order.
 * I2 and I3 are restored by refresh() on every node a change passes
 * through, bottom-up; sums are recomputed, never patched, so the double
 * sums cannot drift.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/agtree.h"

#define AGT_B   32
#define AGT_MIN (AGT_B / 4)
#define AGT_MAXH 24

struct hdr {
    uint16_t n;
    uint8_t leaf;
    uint8_t aux;            /* a leaf of a tree made by agt_create_aux */
};

/* A leaf of an aux tree is allocated with aux[AGT_B] at its end (see
 * leaf_bytes), and its entries move with it in leaf_shift / leaf_copy;
 * other trees' leaves end at next, which keeps the position index's
 * memory per position where it was. */
struct leaf {
    struct hdr h;
    dec_t w[AGT_B];
    double key[AGT_B];
    double nn[AGT_B];
    uint32_t tie[AGT_B];
    struct leaf *prev, *next;
    uint64_t aux[];
};

struct inner {
    struct hdr h;
    dec_t w[AGT_B];
    double key[AGT_B];
    double nn[AGT_B];
    uint64_t cnt[AGT_B];
    struct hdr *child[AGT_B];
    uint32_t tie[AGT_B];
};

struct agt {
    struct hdr *root;       /* never NULL: an empty tree is an empty leaf */
    size_t count;
    size_t bytes;
    size_t leaf_bytes;      /* every leaf's allocation (aux or not) */
    int aux;                /* made by agt_create_aux */
    struct leaf *first, *last;
    /* A new value at every change of shape (insert, remove, clear), drawn
     * from one process-wide sequence (new_gen): a cursor (agt_cursor) is
     * good only while it matches, and no two trees, nor a tree freed and
     * another allocated at its address, ever share a value. */
    uint64_t gen;
    /* Nodes set aside before an insert starts, so that the splits it may
     * cause (one leaf, at most one inner node per level, a new root)
     * cannot fail half-way: an insert either fails up front with
     * AGT_ENOMEM, tree untouched, or completes. */
    struct inner *spare[AGT_MAXH + 1];
    int nspare;
    struct leaf *spare_leaf;
};

/* ---- small helpers ---------------------------------------------------- */

static inline int cmp(double k1, uint32_t t1, double k2, uint32_t t2)
{
    if (k1 < k2) return -1;
    if (k1 > k2) return 1;
    return (t1 > t2) - (t1 < t2);
}

static struct leaf *leaf_new(agt_t *t)
{
    struct leaf *l = calloc(1, t->leaf_bytes);
    if (l) {
        l->h.leaf = 1;
        l->h.aux = (uint8_t)t->aux;
        t->bytes += t->leaf_bytes;
    }
    return l;
}

static struct inner *inner_new(agt_t *t)
{
    struct inner *in = calloc(1, sizeof(*in));
    if (in)
        t->bytes += sizeof(*in);
    return in;
}

static void node_free(agt_t *t, struct hdr *h)
{
    if (h == NULL)
        return;
    if (!h->leaf) {
        struct inner *in = (struct inner *)h;
        for (int i = 0; i < in->h.n; i++)
            node_free(t, in->child[i]);
        t->bytes -= sizeof(struct inner);
    } else {
        t->bytes -= t->leaf_bytes;
    }
    free(h);
}

/* Make sure an insert's splits have their nodes (see struct agt). */
static int reserve(agt_t *t)
{
    int h = 0;

    for (const struct hdr *x = t->root; !x->leaf;
         x = ((const struct inner *)x)->child[0])
        h++;
    if (h + 1 > AGT_MAXH)
        return AGT_ENOMEM;
    while (t->nspare < h + 1) {
        struct inner *in = calloc(1, sizeof(*in));
        if (in == NULL)
            return AGT_ENOMEM;
        t->spare[t->nspare++] = in;
    }
    if (t->spare_leaf == NULL) {
        t->spare_leaf = calloc(1, t->leaf_bytes);
        if (t->spare_leaf == NULL)
            return AGT_ENOMEM;
        t->spare_leaf->h.leaf = 1;
        t->spare_leaf->h.aux = (uint8_t)t->aux;
    }
    return AGT_OK;
}

static struct leaf *take_leaf(agt_t *t)
{
    struct leaf *l = t->spare_leaf;

    t->spare_leaf = NULL;
    t->bytes += t->leaf_bytes;
    return l;
}

static struct inner *take_inner(agt_t *t)
{
    struct inner *in = t->spare[--t->nspare];

    t->bytes += sizeof(*in);
    return in;
}

static void node_sum(const struct hdr *h, struct agt_sum *s)
{
    uint64_t c = 0;
    dec_t w = 0;
    double n = 0;

    if (h->leaf) {
        const struct leaf *l = (const struct leaf *)h;
        for (int i = 0; i < l->h.n; i++) {
            w += l->w[i];
            n += l->nn[i];
        }
        c = l->h.n;
    } else {
        const struct inner *in = (const struct inner *)h;
        for (int i = 0; i < in->h.n; i++) {
            c += in->cnt[i];
            w += in->w[i];
            n += in->nn[i];
        }
    }
    s->count = c;
    s->w = w;
    s->n = n;
}

static void node_min(const struct hdr *h, double *k, uint32_t *tie)
{
    if (h->leaf) {
        const struct leaf *l = (const struct leaf *)h;
        *k = l->key[0];
        *tie = l->tie[0];
    } else {
        const struct inner *in = (const struct inner *)h;
        *k = in->key[0];
        *tie = in->tie[0];
    }
}

/* Restore I2 and I3 for child i of in. */
static void refresh(struct inner *in, int i)
{
    struct agt_sum s;

    node_sum(in->child[i], &s);
    in->cnt[i] = s.count;
    in->w[i] = s.w;
    in->nn[i] = s.n;
    node_min(in->child[i], &in->key[i], &in->tie[i]);
}

/* Index of the child of in whose range holds (k, tie): the last child
 * whose minimum is <= (k, tie), or 0. */
static int inner_pick(const struct inner *in, double k, uint32_t tie)
{
    int i = in->h.n - 1;

    while (i > 0 && cmp(in->key[i], in->tie[i], k, tie) > 0)
        i--;
    return i;
}

/* First position in leaf with entry >= (k, tie).  A scan down from the
 * largest entry, as inner_pick's: a book's changes are nearly all at its
 * best levels, the largest keys, and a binary search's halvings there
 * are branches no predictor learns (about 2.5 mispredictions a lookup,
 * against one at the scan's exit; measured: a 5-level book diff 275 ->
 * 250 ns in the tree alone). */
static int leaf_lower(const struct leaf *l, double k, uint32_t tie)
{
    int pos = l->h.n;

    while (pos > 0 && cmp(l->key[pos - 1], l->tie[pos - 1], k, tie) >= 0)
        pos--;
    return pos;
}

/* Move items [from, n) of a node to [to, ...) within the same node. */
static void leaf_shift(struct leaf *l, int from, int to, int count)
{
    memmove(&l->w[to], &l->w[from], (size_t)count * sizeof(l->w[0]));
    memmove(&l->key[to], &l->key[from], (size_t)count * sizeof(l->key[0]));
    memmove(&l->nn[to], &l->nn[from], (size_t)count * sizeof(l->nn[0]));
    memmove(&l->tie[to], &l->tie[from], (size_t)count * sizeof(l->tie[0]));
    if (l->h.aux)
        memmove(&l->aux[to], &l->aux[from], (size_t)count * sizeof(l->aux[0]));
}

static void leaf_copy(struct leaf *dst, int to, const struct leaf *src,
                      int from, int count)
{
    memcpy(&dst->w[to], &src->w[from], (size_t)count * sizeof(dst->w[0]));
    memcpy(&dst->key[to], &src->key[from], (size_t)count * sizeof(dst->key[0]));
    memcpy(&dst->nn[to], &src->nn[from], (size_t)count * sizeof(dst->nn[0]));
    memcpy(&dst->tie[to], &src->tie[from], (size_t)count * sizeof(dst->tie[0]));
    if (dst->h.aux)
        memcpy(&dst->aux[to], &src->aux[from], (size_t)count * sizeof(dst->aux[0]));
}

static void inner_shift(struct inner *in, int from, int to, int count)
{
    memmove(&in->w[to], &in->w[from], (size_t)count * sizeof(in->w[0]));
    memmove(&in->key[to], &in->key[from], (size_t)count * sizeof(in->key[0]));
    memmove(&in->nn[to], &in->nn[from], (size_t)count * sizeof(in->nn[0]));
    memmove(&in->cnt[to], &in->cnt[from], (size_t)count * sizeof(in->cnt[0]));
    memmove(&in->child[to], &in->child[from], (size_t)count * sizeof(in->child[0]));
    memmove(&in->tie[to], &in->tie[from], (size_t)count * sizeof(in->tie[0]));
}

static void inner_copy(struct inner *dst, int to, const struct inner *src,
                       int from, int count)
{
    memcpy(&dst->w[to], &src->w[from], (size_t)count * sizeof(dst->w[0]));
    memcpy(&dst->key[to], &src->key[from], (size_t)count * sizeof(dst->key[0]));
    memcpy(&dst->nn[to], &src->nn[from], (size_t)count * sizeof(dst->nn[0]));
    memcpy(&dst->cnt[to], &src->cnt[from], (size_t)count * sizeof(dst->cnt[0]));
    memcpy(&dst->child[to], &src->child[from], (size_t)count * sizeof(dst->child[0]));
    memcpy(&dst->tie[to], &src->tie[from], (size_t)count * sizeof(dst->tie[0]));
}

/* ---- create / destroy ------------------------------------------------- */

static uint64_t new_gen(void)
{
    static uint64_t seq;

    return __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
}

static agt_t *create(int aux)
{
    agt_t *t = calloc(1, sizeof(*t));
    struct leaf *l = NULL;

    if (t == NULL)
        goto fail;
    t->aux = aux;
    t->leaf_bytes = sizeof(struct leaf) + (aux ? AGT_B * sizeof(uint64_t) : 0);
    l = leaf_new(t);
    if (l == NULL)
        goto fail;
    t->root = &l->h;
    t->first = t->last = l;
    t->gen = new_gen();
    return t;
fail:
    free(t);
    return NULL;
}

agt_t *agt_create(void)
{
    return create(0);
}

agt_t *agt_create_aux(void)
{
    return create(1);
}

void agt_destroy(agt_t *t)
{
    if (t == NULL)
        return;
    while (t->nspare > 0)
        free(t->spare[--t->nspare]);
    free(t->spare_leaf);
    node_free(t, t->root);
    free(t);
}

/* Give a tree whose nodes were all freed an empty root leaf.  Called
 * right after freeing at least one node of at least that size, so the
 * allocation reuses that memory; the spare leaf is the fallback; only
 * when both fail is there no way to keep the tree valid. */
static void empty_root(agt_t *t)
{
    struct leaf *l = calloc(1, t->leaf_bytes);

    if (l == NULL && t->spare_leaf != NULL) {
        l = t->spare_leaf;
        t->spare_leaf = NULL;
    }
    if (l == NULL)
        abort();
    l->h.leaf = 1;
    l->h.aux = (uint8_t)t->aux;
    t->bytes += t->leaf_bytes;
    t->root = &l->h;
    t->first = t->last = l;
}

void agt_clear(agt_t *t)
{
    if (t->root->leaf) {
        t->root->n = 0;
    } else {
        node_free(t, t->root);
        empty_root(t);
    }
    t->count = 0;
    t->gen = new_gen();
}

size_t agt_count(const agt_t *t) { return t->count; }
size_t agt_memory(const agt_t *t)
{
    return t->bytes + sizeof(*t) + (size_t)t->nspare * sizeof(struct inner) +
           (t->spare_leaf ? t->leaf_bytes : 0);
}

void agt_total(const agt_t *t, struct agt_sum *s)
{
    node_sum(t->root, s);
}

/* After a weight change under child i: the exact sums move by the exact
 * difference (count and minimum are unchanged), while the notional sum is
 * recomputed from the child's parts, as I3 wants, so it cannot drift. */
static void refresh_weight(struct inner *in, int i, dec_t dw)
{
    const struct hdr *c = in->child[i];
    double n = 0;

    in->w[i] += dw;
    if (c->leaf) {
        const struct leaf *l = (const struct leaf *)c;
        for (int k = 0; k < l->h.n; k++)
            n += l->nn[k];
    } else {
        const struct inner *ci = (const struct inner *)c;
        for (int k = 0; k < ci->h.n; k++)
            n += ci->nn[k];
    }
    in->nn[i] = n;
}

/* ---- insert ----------------------------------------------------------- */

/* A split hands back the new right sibling. */
struct split {
    struct hdr *right;
};

/* Insert, or with upsert set, overwrite an existing entry (returning 1
 * instead of AGT_OK so the caller knows the count did not change). */
static int ins_rec(agt_t *t, struct hdr *h, double k, uint32_t tie, dec_t w,
                   double n, uint64_t aux, int upsert, dec_t *dw,
                   struct split *sp)
{
    sp->right = NULL;
    if (h->leaf) {
        struct leaf *l = (struct leaf *)h, *r;
        int pos = leaf_lower(l, k, tie);

        if (pos < l->h.n && cmp(l->key[pos], l->tie[pos], k, tie) == 0) {
            if (!upsert)
                return AGT_EEXIST;
            *dw = w - l->w[pos];
            l->w[pos] = w;
            l->nn[pos] = n;
            if (l->h.aux)
                l->aux[pos] = aux;
            return 1;
        }
        if (l->h.n == AGT_B) {
            int half = AGT_B / 2;
            r = take_leaf(t);           /* reserved: cannot fail */
            leaf_copy(r, 0, l, half, AGT_B - half);
            r->h.n = AGT_B - half;
            l->h.n = half;
            r->next = l->next;
            r->prev = l;
            if (l->next)
                l->next->prev = r;
            else
                t->last = r;
            l->next = r;
            sp->right = &r->h;
            if (pos > half) {
                pos -= half;
                l = r;
            }
        }
        leaf_shift(l, pos, pos + 1, l->h.n - pos);
        l->key[pos] = k;
        l->tie[pos] = tie;
        l->w[pos] = w;
        l->nn[pos] = n;
        if (l->h.aux)
            l->aux[pos] = aux;
        l->h.n++;
        return AGT_OK;
    }

    struct inner *in = (struct inner *)h, *r;
    struct split csp;
    int i = inner_pick(in, k, tie);

    /* A full leaf first lends an entry to a sibling with room: leaves then
     * stay ~90% full under random inserts instead of ~70%, which is most
     * of the index's memory per position. */
    if (in->child[i]->leaf && in->child[i]->n == AGT_B) {
        struct leaf *c = (struct leaf *)in->child[i];
        if (i + 1 < in->h.n && in->child[i + 1]->n < AGT_B - 1) {
            struct leaf *nb = (struct leaf *)in->child[i + 1];
            leaf_shift(nb, 0, 1, nb->h.n);
            leaf_copy(nb, 0, c, c->h.n - 1, 1);
            nb->h.n++;
            c->h.n--;
            refresh(in, i);
            refresh(in, i + 1);
            i = inner_pick(in, k, tie);
        } else if (i > 0 && in->child[i - 1]->n < AGT_B - 1) {
            struct leaf *pb = (struct leaf *)in->child[i - 1];
            leaf_copy(pb, pb->h.n, c, 0, 1);
            pb->h.n++;
            leaf_shift(c, 1, 0, c->h.n - 1);
            c->h.n--;
            refresh(in, i - 1);
            refresh(in, i);
            i = inner_pick(in, k, tie);
        }
    }
    int rc = ins_rec(t, in->child[i], k, tie, w, n, aux, upsert, dw, &csp);

    if (rc == 1) {
        /* Overwritten in place: only the weight moved (as in agt_update). */
        refresh_weight(in, i, *dw);
        return 1;
    }
    /* Refresh even when the insert failed (a duplicate): the lending above
     * may have moved entries, and double sums depend on their grouping. */
    refresh(in, i);
    if (rc != AGT_OK)
        return rc;
    if (csp.right == NULL)
        return AGT_OK;
    /* Place the child's new right sibling at i + 1, splitting us first
     * when full. */
    int pos = i + 1;
    if (in->h.n == AGT_B) {
        int half = AGT_B / 2;
        r = take_inner(t);              /* reserved: cannot fail */
        inner_copy(r, 0, in, half, AGT_B - half);
        r->h.n = AGT_B - half;
        in->h.n = half;
        sp->right = &r->h;
        if (pos > half) {
            pos -= half;
            in = r;
        }
    }
    inner_shift(in, pos, pos + 1, in->h.n - pos);
    in->child[pos] = csp.right;
    in->h.n++;
    refresh(in, pos);
    return AGT_OK;
}

/* ---- changes inside one leaf (the fast paths) ---------------------------
 *
 * Most changes to a book touch one leaf and move no entry between nodes:
 * a level's qty changes, or a level appears in or leaves a leaf that has
 * room for it.  For those, one descent records the path, the leaf is
 * changed in place, and the path is repaired bottom-up.  What the repair
 * leaves is exactly what refresh() / refresh_weight() leave on the
 * recursive paths: cnt and w move by the exact change (integers, so equal
 * to their recomputed sums by I3), nn and the minimum (I2) are recomputed
 * from the child, summed in the same order as node_sum.  The recursive
 * paths remain for everything else (splits, lending, underflow), and the
 * fast paths decline exactly the cases where those would act, so the tree
 * has the same shape, and the same double sums, as before they existed.
 */

static void leaf_entry(const struct leaf *l, int i, struct agt_entry *e);

struct agt_path {
    struct inner *node[AGT_MAXH];   /* node[0] is the root */
    int idx[AGT_MAXH];              /* child taken in node[d] */
    int depth;                      /* inner nodes on the path */
};

/* The leaf whose range holds (k, tie), as the recursive paths pick it. */
static struct leaf *descend(const agt_t *t, double k, uint32_t tie,
                            struct agt_path *p)
{
    struct hdr *h = t->root;

    p->depth = 0;
    while (!h->leaf) {
        struct inner *in = (struct inner *)h;
        int i = inner_pick(in, k, tie);
        p->node[p->depth] = in;
        p->idx[p->depth++] = i;
        h = in->child[i];
    }
    return (struct leaf *)h;
}

/* Sum of the notionals of a node's items, as node_sum adds them. */
static inline double nn_sum(const struct hdr *h)
{
    const double *nn = h->leaf ? ((const struct leaf *)h)->nn
                               : ((const struct inner *)h)->nn;
    double n = 0;

    for (int k = 0; k < h->n; k++)
        n += nn[k];
    return n;
}

/* Repair I2 along p after the minimum of its leaf may have changed.
 * Descents (inner_pick) read the minima, so a batch repairs them at once;
 * the sums below may wait. */
static void path_mins(const struct agt_path *p)
{
    for (int d = p->depth - 1; d >= 0; d--) {
        struct inner *in = p->node[d];
        node_min(in->child[p->idx[d]], &in->key[p->idx[d]], &in->tie[p->idx[d]]);
    }
}

/* Repair I3 along p after changes inside its leaf that added dcount
 * entries and dw of weight in all. */
static void path_sums(const struct agt_path *p, int64_t dcount, dec_t dw)
{
    for (int d = p->depth - 1; d >= 0; d--) {
        struct inner *in = p->node[d];
        int i = p->idx[d];
        in->cnt[i] += (uint64_t)dcount;
        in->w[i] += dw;
        in->nn[i] = nn_sum(in->child[i]);
    }
}

/* Upsert into leaf l (found by descend into p) without structural change:
 * AGT_OK with *dcount (0 or 1) and *dw, the minima on p repaired and the
 * sums left to path_sums; or 1 when it declines: (k, tie) is absent and
 * l is full (the recursive path then lends or splits), or l is full and
 * the recursive path would lend from it before looking inside. */
static int leaf_upsert(agt_t *t, const struct agt_path *p, struct leaf *l,
                       double k, uint32_t tie, dec_t w, double n, uint64_t aux,
                       int *dcount, dec_t *dw)
{
    int pos = leaf_lower(l, k, tie);

    if (l->h.n == AGT_B && p->depth > 0) {
        /* ins_rec lends from a full leaf before it looks inside it. */
        const struct inner *in = p->node[p->depth - 1];
        int i = p->idx[p->depth - 1];
        if ((i + 1 < in->h.n && in->child[i + 1]->n < AGT_B - 1) ||
            (i > 0 && in->child[i - 1]->n < AGT_B - 1))
            return 1;
    }
    if (pos < l->h.n && cmp(l->key[pos], l->tie[pos], k, tie) == 0) {
        /* Overwrite: the shape is unchanged, cursors stay good (as with
         * agt_update), t->gen is kept. */
        *dcount = 0;
        *dw = w - l->w[pos];
        l->w[pos] = w;
        l->nn[pos] = n;
        if (l->h.aux)
            l->aux[pos] = aux;
        return AGT_OK;
    }
    if (l->h.n == AGT_B)
        return 1;
    t->gen = new_gen();
    leaf_shift(l, pos, pos + 1, l->h.n - pos);
    l->key[pos] = k;
    l->tie[pos] = tie;
    l->w[pos] = w;
    l->nn[pos] = n;
    if (l->h.aux)
        l->aux[pos] = aux;
    l->h.n++;
    t->count++;
    if (pos == 0)
        path_mins(p);
    *dcount = 1;
    *dw = w;
    return AGT_OK;
}

/* Remove (k, tie) from leaf l (found by descend into p) in place:
 * AGT_ENOENT when absent (nothing changes), AGT_OK with *dw (dcount is
 * -1) when l keeps AGT_MIN entries or more or is the root, as rem_rec
 * would with no underflow to fix anywhere; else 1 (declined). */
static int leaf_remove(agt_t *t, const struct agt_path *p, struct leaf *l,
                       double k, uint32_t tie, struct agt_entry *old, dec_t *dw)
{
    int pos = leaf_lower(l, k, tie);

    if (pos >= l->h.n || cmp(l->key[pos], l->tie[pos], k, tie) != 0)
        return AGT_ENOENT;
    if (p->depth > 0 && l->h.n <= AGT_MIN)
        return 1;
    *dw = -l->w[pos];
    if (old)
        leaf_entry(l, pos, old);
    t->gen = new_gen();
    leaf_shift(l, pos + 1, pos, l->h.n - pos - 1);
    l->h.n--;
    t->count--;
    if (pos == 0)
        path_mins(p);
    return AGT_OK;
}

static int insert_top(agt_t *t, double k, uint32_t tie, dec_t w, double n,
                      uint64_t aux, int upsert)
{
    t->gen = new_gen();   /* even a failed insert may have reserved nodes */
    struct split sp;
    dec_t dw = 0;
    int rc;

    if (!isfinite(k))
        return AGT_EINVAL;
    if ((rc = reserve(t)) != AGT_OK)
        return rc;
    rc = ins_rec(t, t->root, k, tie, w, n, aux, upsert, &dw, &sp);
    if (rc == 1)
        return AGT_OK;            /* overwritten in place */
    if (rc != AGT_OK)
        return rc;
    if (sp.right) {
        struct inner *nr = take_inner(t);
        nr->child[0] = t->root;
        nr->child[1] = sp.right;
        nr->h.n = 2;
        refresh(nr, 0);
        refresh(nr, 1);
        t->root = &nr->h;
    }
    t->count++;
    return AGT_OK;
}

int agt_insert(agt_t *t, double k, uint32_t tie, dec_t w, double n)
{
    return insert_top(t, k, tie, w, n, 0, 0);
}

int agt_upsert(agt_t *t, double k, uint32_t tie, dec_t w, double n)
{
    struct agt_path p;
    struct leaf *l;
    int dcount;
    dec_t dw;

    if (isfinite(k)) {
        l = descend(t, k, tie, &p);
        if (leaf_upsert(t, &p, l, k, tie, w, n, 0, &dcount, &dw) == AGT_OK) {
            path_sums(&p, dcount, dw);
            return AGT_OK;
        }
    }
    return insert_top(t, k, tie, w, n, 0, 1);
}

/* One leaf's path repair is pending while consecutive changes fall in
 * that leaf: the sums on its path are recomputed from the final leaf,
 * which gives what recomputing after each change gives (cnt and w are
 * exact; nn is a function of the leaf's final contents).  Everything
 * that reads sums, and every recursive path, runs only after a flush. */
int agt_set_batch(agt_t *t, const struct agt_set *s, size_t n)
{
    struct agt_path p, q;
    struct leaf *pend = NULL;       /* leaf of p, whose sums are pending */
    int64_t pcount = 0;
    dec_t pw = 0;
    int rc = AGT_OK;

    for (size_t i = 0; i < n; i++) {
        const struct agt_set *c = &s[i];
        struct leaf *l;
        int dcount = -1;
        dec_t dw = 0;

        if (!isfinite(c->key))
            goto general;
        l = descend(t, c->key, c->tie, &q);
        if (l != pend && pend != NULL) {
            path_sums(&p, pcount, pw);
            pend = NULL;
        }
        rc = c->w == 0 ? leaf_remove(t, &q, l, c->key, c->tie, NULL, &dw)
                       : leaf_upsert(t, &q, l, c->key, c->tie, c->w, c->n,
                                     c->aux, &dcount, &dw);
        if (rc == AGT_ENOENT)
            continue;
        if (rc == AGT_OK) {
            if (pend == NULL) {
                p = q;
                pend = l;
                pcount = 0;
                pw = 0;
            }
            pcount += dcount;
            pw += dw;
            continue;
        }
general:
        if (pend != NULL) {
            path_sums(&p, pcount, pw);
            pend = NULL;
        }
        rc = c->w == 0 ? agt_remove(t, c->key, c->tie, NULL)
                       : insert_top(t, c->key, c->tie, c->w, c->n, c->aux, 1);
        if (rc == AGT_ENOENT)
            continue;
        if (rc != AGT_OK)
            break;
    }
    if (pend != NULL)
        path_sums(&p, pcount, pw);
    return rc == AGT_ENOENT ? AGT_OK : rc;
}

/* ---- remove ----------------------------------------------------------- */

/* Child i of in has fewer than AGT_MIN items: borrow one from a sibling
 * that can spare it, or merge with a sibling. */
static void fix_underflow(agt_t *t, struct inner *in, int i)
{
    int li = i > 0 ? i - 1 : i;     /* the pair (li, li + 1) */
    struct hdr *a = in->child[li], *b = in->child[li + 1];

    if (in->h.n < 2)
        return;
    if (a->n + b->n <= AGT_B) {
        /* Merge b into a, drop child li + 1. */
        if (a->leaf) {
            struct leaf *la = (struct leaf *)a, *lb = (struct leaf *)b;
            leaf_copy(la, la->h.n, lb, 0, lb->h.n);
            la->h.n += lb->h.n;
            la->next = lb->next;
            if (lb->next)
                lb->next->prev = la;
            else
                t->last = la;
            t->bytes -= t->leaf_bytes;
            free(lb);
        } else {
            struct inner *ia = (struct inner *)a, *ib = (struct inner *)b;
            inner_copy(ia, ia->h.n, ib, 0, ib->h.n);
            ia->h.n += ib->h.n;
            t->bytes -= sizeof(*ib);
            free(ib);
        }
        inner_shift(in, li + 2, li + 1, in->h.n - li - 2);
        in->h.n--;
        refresh(in, li);
        return;
    }
    /* Borrow one item across the pair, toward the short side. */
    if (a->leaf) {
        struct leaf *la = (struct leaf *)a, *lb = (struct leaf *)b;
        if (la->h.n < lb->h.n) {
            leaf_copy(la, la->h.n, lb, 0, 1);
            la->h.n++;
            leaf_shift(lb, 1, 0, lb->h.n - 1);
            lb->h.n--;
        } else {
            leaf_shift(lb, 0, 1, lb->h.n);
            leaf_copy(lb, 0, la, la->h.n - 1, 1);
            lb->h.n++;
            la->h.n--;
        }
    } else {
        struct inner *ia = (struct inner *)a, *ib = (struct inner *)b;
        if (ia->h.n < ib->h.n) {
            inner_copy(ia, ia->h.n, ib, 0, 1);
            ia->h.n++;
            inner_shift(ib, 1, 0, ib->h.n - 1);
            ib->h.n--;
        } else {
            inner_shift(ib, 0, 1, ib->h.n);
            inner_copy(ib, 0, ia, ia->h.n - 1, 1);
            ib->h.n++;
            ia->h.n--;
        }
    }
    refresh(in, li);
    refresh(in, li + 1);
}

static int rem_rec(agt_t *t, struct hdr *h, double k, uint32_t tie,
                   struct agt_entry *old)
{
    if (h->leaf) {
        struct leaf *l = (struct leaf *)h;
        int pos = leaf_lower(l, k, tie);

        if (pos >= l->h.n || cmp(l->key[pos], l->tie[pos], k, tie) != 0)
            return AGT_ENOENT;
        if (old) {
            leaf_entry(l, pos, old);
        }
        leaf_shift(l, pos + 1, pos, l->h.n - pos - 1);
        l->h.n--;
        return AGT_OK;
    }

    struct inner *in = (struct inner *)h;
    int i = inner_pick(in, k, tie);
    int rc = rem_rec(t, in->child[i], k, tie, old);

    if (rc != AGT_OK)
        return rc;
    if (in->child[i]->n > 0)
        refresh(in, i);
    if (in->child[i]->n < AGT_MIN)
        fix_underflow(t, in, i);
    return AGT_OK;
}

int agt_remove(agt_t *t, double k, uint32_t tie, struct agt_entry *old)
{
    struct agt_path p;
    struct leaf *l = descend(t, k, tie, &p);
    dec_t dw;
    int rc = leaf_remove(t, &p, l, k, tie, old, &dw);

    if (rc == AGT_OK)
        path_sums(&p, -1, dw);
    if (rc != 1)
        return rc;
    t->gen = new_gen();
    rc = rem_rec(t, t->root, k, tie, old);

    if (rc != AGT_OK)
        return rc;
    t->count--;
    /* A root with one child hands the root down. */
    while (!t->root->leaf && t->root->n == 1) {
        struct inner *in = (struct inner *)t->root;
        t->root = in->child[0];
        t->bytes -= sizeof(*in);
        free(in);
    }
    return AGT_OK;
}

/* ---- update / find ---------------------------------------------------- */

static int upd_rec(struct hdr *h, double k, uint32_t tie, dec_t w, double n,
                   dec_t *dw)
{
    if (h->leaf) {
        struct leaf *l = (struct leaf *)h;
        int pos = leaf_lower(l, k, tie);

        if (pos >= l->h.n || cmp(l->key[pos], l->tie[pos], k, tie) != 0)
            return AGT_ENOENT;
        *dw = w - l->w[pos];
        l->w[pos] = w;
        l->nn[pos] = n;
        return AGT_OK;
    }
    struct inner *in = (struct inner *)h;
    int i = inner_pick(in, k, tie);
    int rc = upd_rec(in->child[i], k, tie, w, n, dw);
    if (rc == AGT_OK)
        refresh_weight(in, i, *dw);
    return rc;
}

int agt_update(agt_t *t, double k, uint32_t tie, dec_t w, double n)
{
    dec_t dw;

    return upd_rec(t->root, k, tie, w, n, &dw);
}

int agt_find(const agt_t *t, double k, uint32_t tie, struct agt_entry *e)
{
    const struct hdr *h = t->root;

    while (!h->leaf) {
        const struct inner *in = (const struct inner *)h;
        h = in->child[inner_pick(in, k, tie)];
    }
    const struct leaf *l = (const struct leaf *)h;
    int pos = leaf_lower(l, k, tie);
    if (pos >= l->h.n || cmp(l->key[pos], l->tie[pos], k, tie) != 0)
        return AGT_ENOENT;
    if (e)
        leaf_entry(l, pos, e);
    return AGT_OK;
}

/* ---- bulk load -------------------------------------------------------- */

int agt_bulk_load(agt_t *t, const struct agt_entry *e, size_t n)
{
    struct hdr **level = NULL, **next = NULL;
    size_t nl, i, pos;
    int rc = AGT_ENOMEM;

    agt_clear(t);
    for (i = 0; i < n; i++) {
        if (!isfinite(e[i].key) ||
            (i > 0 && cmp(e[i - 1].key, e[i - 1].tie, e[i].key, e[i].tie) >= 0))
            return AGT_EINVAL;
    }
    if (n <= AGT_B) {
        struct leaf *l = (struct leaf *)t->root;
        for (i = 0; i < n; i++) {
            l->key[i] = e[i].key;
            l->tie[i] = e[i].tie;
            l->w[i] = e[i].w;
            l->nn[i] = e[i].n;
            if (l->h.aux)
                l->aux[i] = e[i].aux;
        }
        l->h.n = (uint16_t)n;
        t->count = n;
        return AGT_OK;
    }
    /* Leaves: spread n entries evenly over ceil(n / B) leaves, so every
     * leaf holds at least B/2 >= AGT_MIN. */
    nl = (n + AGT_B - 1) / AGT_B;
    level = calloc(nl, sizeof(*level));
    if (level == NULL)
        goto fail;
    free(t->root);
    t->bytes -= t->leaf_bytes;
    t->root = NULL;
    struct leaf *prev = NULL;
    for (i = 0, pos = 0; i < nl; i++) {
        size_t cnt = n / nl + (i < n % nl);
        struct leaf *l = leaf_new(t);
        if (l == NULL)
            goto fail_partial;
        for (size_t j = 0; j < cnt; j++, pos++) {
            l->key[j] = e[pos].key;
            l->tie[j] = e[pos].tie;
            l->w[j] = e[pos].w;
            l->nn[j] = e[pos].n;
            if (l->h.aux)
                l->aux[j] = e[pos].aux;
        }
        l->h.n = (uint16_t)cnt;
        l->prev = prev;
        if (prev)
            prev->next = l;
        else
            t->first = l;
        prev = l;
        level[i] = &l->h;
    }
    t->last = prev;
    /* Inner levels, likewise spread evenly. */
    while (nl > 1) {
        size_t np = (nl + AGT_B - 1) / AGT_B;
        next = calloc(np, sizeof(*next));
        if (next == NULL)
            goto fail_partial;
        for (i = 0, pos = 0; i < np; i++) {
            size_t cnt = nl / np + (i < nl % np);
            struct inner *in = inner_new(t);
            if (in == NULL) {
                /* Free the nodes not yet adopted by a parent. */
                for (size_t j = pos; j < nl; j++)
                    node_free(t, level[j]);
                for (size_t j = 0; j < i; j++)
                    node_free(t, next[j]);
                free(next);
                next = NULL;
                nl = 0;
                goto fail_partial;
            }
            for (size_t j = 0; j < cnt; j++, pos++) {
                in->child[j] = level[pos];
                in->h.n = (uint16_t)(j + 1);
                refresh(in, (int)j);
            }
            next[i] = &in->h;
        }
        free(level);
        level = next;
        next = NULL;
        nl = np;
    }
    t->root = level[0];
    t->count = n;
    free(level);
    return AGT_OK;

fail_partial:
    for (i = 0; i < nl; i++)
        if (level[i])
            node_free(t, level[i]);
fail:
    free(level);
    /* Leave a valid empty tree behind. */
    if (t->root == NULL)
        empty_root(t);
    t->count = 0;
    return rc;
}

/* ---- queries ---------------------------------------------------------- */

void agt_sum_ge(const agt_t *t, double k, struct agt_sum *s)
{
    const struct hdr *h = t->root;
    uint64_t c = 0;
    dec_t w = 0;
    double n = 0;

    while (!h->leaf) {
        const struct inner *in = (const struct inner *)h;
        int i = in->h.n - 1;
        /* Children whose minimum key is >= k lie wholly in the range. */
        while (i > 0 && in->key[i] >= k) {
            c += in->cnt[i];
            w += in->w[i];
            n += in->nn[i];
            i--;
        }
        if (i == 0 && in->key[0] >= k) {
            c += in->cnt[0];
            w += in->w[0];
            n += in->nn[0];
            goto out;
        }
        h = in->child[i];
    }
    const struct leaf *l = (const struct leaf *)h;
    for (int i = l->h.n - 1; i >= 0 && l->key[i] >= k; i--) {
        c++;
        w += l->w[i];
        n += l->nn[i];
    }
out:
    s->count = c;
    s->w = w;
    s->n = n;
}

/* Sums over entries of h with lo <= key <= hi, given that every key in h
 * is <= nhi. */
static void range_rec(const struct hdr *h, double nhi, double lo, double hi,
                      struct agt_sum *s)
{
    if (h->leaf) {
        const struct leaf *l = (const struct leaf *)h;
        for (int i = 0; i < l->h.n; i++) {
            if (l->key[i] < lo)
                continue;
            if (l->key[i] > hi)
                break;
            s->count++;
            s->w += l->w[i];
            s->n += l->nn[i];
        }
        return;
    }
    const struct inner *in = (const struct inner *)h;
    for (int i = 0; i < in->h.n; i++) {
        /* Keys under child i lie in [its minimum, the next minimum]. */
        double clo = in->key[i];
        double chi = i + 1 < in->h.n ? in->key[i + 1] : nhi;
        if (chi < lo)
            continue;
        if (clo > hi)
            break;
        if (clo >= lo && chi <= hi) {
            s->count += in->cnt[i];
            s->w += in->w[i];
            s->n += in->nn[i];
        } else {
            range_rec(in->child[i], chi, lo, hi, s);
        }
    }
}

void agt_sum_range(const agt_t *t, double lo, double hi, struct agt_sum *s)
{
    s->count = 0;
    s->w = 0;
    s->n = 0;
    if (lo > hi)
        return;
    range_rec(t->root, INFINITY, lo, hi, s);
}

static void leaf_entry(const struct leaf *l, int i, struct agt_entry *e)
{
    e->key = l->key[i];
    e->tie = l->tie[i];
    e->w = l->w[i];
    e->n = l->nn[i];
    e->aux = l->h.aux ? l->aux[i] : 0;
}

int agt_select_desc(const agt_t *t, dec_t target, struct agt_entry *e,
                    struct agt_sum *before)
{
    const struct hdr *h = t->root;
    struct agt_sum acc = { 0, 0, 0 };

    while (!h->leaf) {
        const struct inner *in = (const struct inner *)h;
        int i = in->h.n - 1;
        while (i >= 0 && acc.w + in->w[i] < target) {
            acc.count += in->cnt[i];
            acc.w += in->w[i];
            acc.n += in->nn[i];
            i--;
        }
        if (i < 0)
            return AGT_ENOENT;
        h = in->child[i];
    }
    const struct leaf *l = (const struct leaf *)h;
    for (int i = l->h.n - 1; i >= 0; i--) {
        if (acc.w + l->w[i] >= target) {
            leaf_entry(l, i, e);
            if (before)
                *before = acc;
            return AGT_OK;
        }
        acc.count++;
        acc.w += l->w[i];
        acc.n += l->nn[i];
    }
    return AGT_ENOENT;
}

int agt_min(const agt_t *t, struct agt_entry *e)
{
    if (t->count == 0)
        return AGT_ENOENT;
    leaf_entry(t->first, 0, e);
    return AGT_OK;
}

int agt_max(const agt_t *t, struct agt_entry *e)
{
    if (t->count == 0)
        return AGT_ENOENT;
    leaf_entry(t->last, t->last->h.n - 1, e);
    return AGT_OK;
}

/* The leaf and position of the first entry with key >= k (pos may be
 * l->h.n: past the end of that leaf). */
static const struct leaf *seek_ge(const agt_t *t, double k, int *pos)
{
    const struct hdr *h = t->root;

    while (!h->leaf) {
        const struct inner *in = (const struct inner *)h;
        /* The last child whose minimum key is < k holds the boundary. */
        int i = in->h.n - 1;
        while (i > 0 && in->key[i] >= k)
            i--;
        h = in->child[i];
    }
    const struct leaf *l = (const struct leaf *)h;
    int i = 0;
    while (i < l->h.n && l->key[i] < k)
        i++;
    *pos = i;
    return l;
}

int agt_max_lt(const agt_t *t, double k, struct agt_entry *e)
{
    int pos;
    const struct leaf *l;

    if (t->count == 0)
        return AGT_ENOENT;
    l = seek_ge(t, k, &pos);
    if (pos > 0) {
        leaf_entry(l, pos - 1, e);
        return AGT_OK;
    }
    if (l->prev == NULL)
        return AGT_ENOENT;
    leaf_entry(l->prev, l->prev->h.n - 1, e);
    return AGT_OK;
}

int agt_min_gt(const agt_t *t, double k, struct agt_entry *e)
{
    int pos;
    const struct leaf *l;

    if (t->count == 0)
        return AGT_ENOENT;
    l = seek_ge(t, k, &pos);
    for (;;) {
        while (pos < l->h.n && l->key[pos] <= k)
            pos++;
        if (pos < l->h.n) {
            leaf_entry(l, pos, e);
            return AGT_OK;
        }
        l = l->next;
        if (l == NULL)
            return AGT_ENOENT;
        pos = 0;
    }
}

size_t agt_copy_desc(const agt_t *t, double k, uint32_t tie,
                     struct agt_entry *out, size_t max)
{
    const struct hdr *h = t->root;
    const struct leaf *l;
    size_t n = 0;
    int pos;

    if (t->count == 0 || max == 0)
        return 0;
    while (!h->leaf) {
        const struct inner *in = (const struct inner *)h;
        h = in->child[inner_pick(in, k, tie)];
    }
    l = (const struct leaf *)h;
    /* pos: one past the last entry <= (k, tie) in this leaf; entries of
     * earlier leaves are all smaller. */
    pos = 0;
    while (pos < l->h.n && cmp(l->key[pos], l->tie[pos], k, tie) <= 0)
        pos++;
    while (l && n < max) {
        while (pos > 0 && n < max)
            leaf_entry(l, --pos, &out[n++]);
        l = l->prev;
        if (l)
            pos = l->h.n;
    }
    return n;
}

size_t agt_aux_desc(const agt_t *t, uint64_t *out, size_t max)
{
    size_t n = 0;

    if (!t->aux)
        return 0;
    for (const struct leaf *l = t->last; l != NULL && n < max; l = l->prev) {
        size_t k = l->h.n < max - n ? l->h.n : max - n;
        const uint64_t *a = l->aux + l->h.n - 1;   /* the leaf's largest */
        for (size_t j = 0; j < k; j++)
            out[n + j] = a[-(ptrdiff_t)j];
        n += k;
    }
    return n;
}

int agt_foreach(const agt_t *t, agt_visit_fn fn, void *arg)
{
    for (const struct leaf *l = t->first; l; l = l->next) {
        for (int i = 0; i < l->h.n; i++) {
            struct agt_entry e;
            int rc;
            leaf_entry(l, i, &e);
            rc = fn(&e, arg);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- invariants ------------------------------------------------------- */

#define CHECK(cond) do { if (!(cond)) return -__LINE__; } while (0)

static int check_rec(const struct hdr *h, int is_root, int depth, int *leaf_depth,
                     const struct leaf **prev_leaf, size_t *count)
{
    if (!is_root)
        CHECK(h->n >= AGT_MIN && h->n <= AGT_B);
    if (h->leaf) {
        const struct leaf *l = (const struct leaf *)h;
        if (*leaf_depth < 0)
            *leaf_depth = depth;
        CHECK(*leaf_depth == depth);                        /* I4 */
        CHECK(l->prev == *prev_leaf);
        if (*prev_leaf && (*prev_leaf)->h.n > 0 && l->h.n > 0) {
            const struct leaf *p = *prev_leaf;
            CHECK(cmp(p->key[p->h.n - 1], p->tie[p->h.n - 1],
                      l->key[0], l->tie[0]) < 0);
        }
        for (int i = 0; i < l->h.n; i++) {
            CHECK(isfinite(l->key[i]));
            if (i > 0)
                CHECK(cmp(l->key[i - 1], l->tie[i - 1], l->key[i], l->tie[i]) < 0);
        }
        *prev_leaf = l;
        *count += l->h.n;
        return 0;
    }
    const struct inner *in = (const struct inner *)h;
    CHECK(in->h.n >= (is_root ? 2 : AGT_MIN));
    for (int i = 0; i < in->h.n; i++) {
        struct agt_sum s;
        double k;
        uint32_t tie;
        int rc;

        rc = check_rec(in->child[i], 0, depth + 1, leaf_depth, prev_leaf, count);
        if (rc)
            return rc;
        node_sum(in->child[i], &s);                         /* I3 */
        CHECK(s.count == in->cnt[i] && s.w == in->w[i]);
        CHECK(s.n == in->nn[i]);
        node_min(in->child[i], &k, &tie);                   /* I2 */
        CHECK(k == in->key[i] && tie == in->tie[i]);
    }
    return 0;
}

int agt_check(const agt_t *t)
{
    int leaf_depth = -1, rc;
    const struct leaf *prev = NULL;
    size_t count = 0;

    rc = check_rec(t->root, 1, 0, &leaf_depth, &prev, &count);
    if (rc)
        return rc;
    CHECK(prev == t->last);
    CHECK(count == t->count);
    if (t->root->leaf)
        CHECK((const struct leaf *)t->root == t->first);
    return 0;
}

/* ---- cursors ---------------------------------------------------------- */

/* The insertion point of k: the first entry with key > k, as (leaf, index
 * 0..n).  From a valid cursor it walks (a watched price moves little
 * between ticks, so this is a few steps); otherwise one descent. */
static void seek_gt(const agt_t *t, struct agt_cursor *c, double k)
{
    const struct leaf *l;
    int i;

    if (c->leaf != NULL && c->gen == t->gen) {
        l = c->leaf;
        i = c->pos;
        for (;;) {                  /* back while the entry before is > k */
            if (i > 0 && l->key[i - 1] > k) {
                i--;
            } else if (i == 0 && l->prev != NULL &&
                       l->prev->key[l->prev->h.n - 1] > k) {
                l = l->prev;
                i = l->h.n - 1;
            } else {
                break;
            }
        }
        for (;;) {                  /* forward while the entry at is <= k */
            if (i < l->h.n && l->key[i] <= k)
                i++;
            else if (i == l->h.n && l->next != NULL && l->next->key[0] <= k)
                l = l->next, i = 0;
            else
                break;
        }
    } else {
        const struct hdr *h = t->root;
        while (!h->leaf) {
            const struct inner *in = (const struct inner *)h;
            h = in->child[inner_pick(in, k, UINT32_MAX)];
        }
        l = (const struct leaf *)h;
        i = 0;
        while (i < l->h.n && l->key[i] <= k)
            i++;
        /* an insertion point at a leaf's end is the next leaf's start;
         * keep it here (both walks above handle either) */
    }
    c->leaf = l;
    c->pos = i;
    c->gen = t->gen;
}

int agt_visit_range_cur(const agt_t *t, double lo, double hi, double at,
                        struct agt_cursor *cur, agt_visit_fn fn, void *arg)
{
    const struct leaf *l;
    int i, rc = 0;

    if (t->count == 0) {
        cur->leaf = NULL;
        return 0;
    }
    seek_gt(t, cur, nextafter(lo, -INFINITY));   /* first entry >= lo */
    l = cur->leaf;
    i = cur->pos;
    while (l != NULL && rc == 0) {
        struct agt_entry e;
        if (i == l->h.n) {
            l = l->next;
            i = 0;
            continue;
        }
        if (l->key[i] > hi)
            break;
        leaf_entry(l, i, &e);
        rc = fn(&e, arg);
        i++;
    }
    seek_gt(t, cur, at);
    return rc;
}
