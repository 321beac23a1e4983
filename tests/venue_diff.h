/*
 * venue_diff.h - two adapters of one venue side by side, one reading depth
 * frames the fast way (src/venue/vscan.h) and one tokenizing everything
 * (venue_fast_paths off), fed the same frames and compared after each:
 * what each returned, its counters, the events it emitted (folded into a
 * hash), what it sent and asked for, and every book of its market, level
 * by level, with its sync state.  And the broken copies of a frame that
 * the comparison is fed: bytes dropped, doubled or replaced, the text cut
 * short, and given substitutions.  For check_venue_okx.c and
 * check_fastpath.c.
 */
#ifndef LIQMON_TESTS_VENUE_DIFF_H
#define LIQMON_TESTS_VENUE_DIFF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/book.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"

struct dside {
    market_t *m;
    venue_t *v;
    uint64_t ev, io;               /* FNV-1a of the events, of the requests */
    int nev;
};

static void d_fold(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ULL;
}

static void d_levels(uint64_t *h, const struct mev_level_span *s)
{
    d_fold(h, &s->n, sizeof(s->n));
    for (size_t i = 0; i < s->n; i++) {
        d_fold(h, &s->levels[i].price, sizeof(double));
        d_fold(h, &s->levels[i].qty, sizeof(dec_t));
    }
}

static void d_emit(void *arg, const struct mkt_event *e)
{
    struct dside *d = arg;
    d->nev++;
    d_fold(&d->ev, &e->type, sizeof(e->type));
    d_fold(&d->ev, &e->ts, sizeof(e->ts));
    if (e->instr)
        d_fold(&d->ev, e->instr->spec.symbol, strlen(e->instr->spec.symbol));
    if (e->type == MEV_BOOK_SNAPSHOT || e->type == MEV_BOOK_DELTA) {
        d_levels(&d->ev, &e->u.book.bids);
        d_levels(&d->ev, &e->u.book.asks);
        d_fold(&d->ev, &e->u.book.seq, sizeof(e->u.book.seq));
    }
}

static int d_send(void *arg, int conn, const char *text, size_t len)
{
    struct dside *d = arg;
    d_fold(&d->io, &conn, sizeof(conn));
    d_fold(&d->io, text, len);
    return 0;
}

static int d_get(void *arg, const char *path)
{
    struct dside *d = arg;
    d_fold(&d->io, path, strlen(path));
    return 0;
}

static int d_reconn(void *arg, int conn, const char *why)
{
    struct dside *d = arg;
    (void)why;
    d_fold(&d->io, &conn, sizeof(conn));
    return 0;
}

/* An adapter of venue id over a market that add() fills, fast or not,
 * its connections open. */
static void d_open(struct dside *d, enum venue_id id, void (*add)(market_t *m), int fast)
{
    struct venue_config cfg;
    lq_err_t err;

    memset(d, 0, sizeof(*d));
    d->ev = d->io = 14695981039346656037ULL;
    d->m = market_create();
    ck_assert_ptr_nonnull(d->m);
    add(d->m);
    venue_config_default(id, &cfg);
    struct venue_io io = { d, d_emit, d_send, d_get, d_reconn };
    d->v = venue_create(&cfg, d->m, &io, &err);
    ck_assert_msg(d->v != NULL, "venue_create: %s", err.msg);
    venue_fast_paths(d->v, fast);
    for (size_t c = 0; c < venue_conn_count(d->v); c++)
        venue_on_open(d->v, (int)c, 0);
}

static void d_close(struct dside *d)
{
    venue_destroy(d->v);
    market_destroy(d->m);
}

/* Everything either adapter did or holds, compared. */
static void d_same(const struct dside *a, const struct dside *b, const char *frame, int step)
{
    static struct book_level la[8192], lb[8192];
    const struct venue_stats *sa = venue_get_stats(a->v), *sb = venue_get_stats(b->v);

    ck_assert_msg(memcmp(sa, sb, sizeof(*sa)) == 0,
                  "step %d: stats differ (rejected %llu/%llu, skipped %llu/%llu) after %.200s",
                  step, (unsigned long long)sa->rejected, (unsigned long long)sb->rejected,
                  (unsigned long long)sa->skipped, (unsigned long long)sb->skipped, frame);
    ck_assert_msg(a->nev == b->nev && a->ev == b->ev && a->io == b->io,
                  "step %d: events or requests differ (%d/%d events) after %.200s",
                  step, a->nev, b->nev, frame);
    ck_assert_uint_eq(market_count(a->m), market_count(b->m));
    for (size_t i = 0; i < market_count(a->m); i++) {
        const struct mkt_instr *x = market_at(a->m, i), *y = market_at(b->m, i);
        ck_assert_msg(strcmp(x->spec.symbol, y->spec.symbol) == 0 &&
                      x->book_valid == y->book_valid && x->book_seq == y->book_seq &&
                      x->book_updates == y->book_updates &&
                      x->book_resyncs == y->book_resyncs &&
                      strcmp(x->invalid_reason, y->invalid_reason) == 0,
                      "step %d: %s: book state differs (%s / %s) after %.200s", step,
                      x->spec.symbol, x->invalid_reason, y->invalid_reason, frame);
        for (int s = 0; s < 2; s++) {
            size_t na = book_copy_levels(x->book, (enum book_side)s, la, 8192);
            size_t nb = book_copy_levels(y->book, (enum book_side)s, lb, 8192);
            ck_assert_msg(na == nb && memcmp(la, lb, na * sizeof(la[0])) == 0,
                          "step %d: %s: levels differ after %.200s", step, x->spec.symbol, frame);
        }
    }
}

/* A frame to both adapters (url: a REST answer's path, else NULL), the
 * results compared. */
static void d_feed(struct dside *a, struct dside *b, const char *url, const char *f,
                   size_t n, int64_t now, int step)
{
    enum frame_src src = url ? FRAME_REST : FRAME_WS;
    int ra = venue_on_frame(a->v, url ? -1 : 0, src, url, f, n, now);
    int rb = venue_on_frame(b->v, url ? -1 : 0, src, url, f, n, now);
    ck_assert_msg(ra == rb, "step %d: returned %d with the tokenizer, %d without, for %.200s",
                  step, ra, rb, f);
    d_same(a, b, f, step);
}

/* The first place of the text lit in f[0..n), or NULL. */
static const char *d_find(const char *f, size_t n, const char *lit)
{
    size_t l = strlen(lit);

    for (size_t i = 0; l <= n && i <= n - l; i++)
        if (memcmp(f + i, lit, l) == 0)
            return f + i;
    return NULL;
}

/* What d_broken changes besides random bytes: each substitution
 * sub[k][0] -> sub[k][1] at its first place; the scalar value after the
 * key val[k][0] (a "key": text) replaced by val[k][1]; the member of each
 * key drop[k] (a "key": text) removed with its value. */
struct d_changes {
    const char *const (*sub)[2];
    size_t nsub;
    const char *const (*val)[2];
    size_t nval;
    const char *const *drop;
    size_t ndrop;
};

/* Broken copies of f[0..n) into both adapters, then f itself: six random
 * ones (a byte dropped, doubled or replaced by one that matters to JSON,
 * the text cut short; *rs is the generator's state), the changes ch, and
 * a negative size in the first level.  *step counts the frames fed. */
static void d_broken(struct dside *a, struct dside *b, const char *f, size_t n,
                     const struct d_changes *ch, uint64_t *rs, int64_t now, int *step)
{
    static const char set[] = "\"{}[],:0123456789.-eE \t\\x";
    char *mut = malloc(n + 256);

    ck_assert_ptr_nonnull(mut);
    for (int k = 0; k < 6 && n > 2; k++) {
        *rs ^= *rs << 13;
        *rs ^= *rs >> 7;
        *rs ^= *rs << 17;
        size_t at = (size_t)(*rs % n), mn = n;
        memcpy(mut, f, n);
        switch (k % 4) {
        case 0:                   /* a byte dropped */
            memmove(mut + at, mut + at + 1, n - at - 1);
            mn = n - 1;
            break;
        case 1:                   /* a byte doubled */
            memmove(mut + at + 1, mut + at, n - at);
            mn = n + 1;
            break;
        case 2:                   /* a byte replaced */
            mut[at] = set[(*rs >> 32) % (sizeof(set) - 1)];
            break;
        default:                  /* cut short */
            mn = at;
            break;
        }
        mut[mn] = '\0';
        d_feed(a, b, NULL, mut, mn, now, (*step)++);
    }
    for (size_t k = 0; k < ch->nsub + ch->nval + ch->ndrop; k++) {
        const char *key = k < ch->nsub ? ch->sub[k][0]
                        : k < ch->nsub + ch->nval ? ch->val[k - ch->nsub][0]
                        : ch->drop[k - ch->nsub - ch->nval];
        const char *at = d_find(f, n, key), *nw = "", *e;
        if (at == NULL)
            continue;
        if (k < ch->nsub) {                        /* the text itself */
            nw = ch->sub[k][1];
            e = at + strlen(key);
        } else {                                   /* its value: to , } ] */
            e = at + strlen(key);
            if (*e == '"')
                e = strchr(e + 1, '"') + 1;
            while (e < f + n && *e != ',' && *e != '}' && *e != ']')
                e++;
            if (k < ch->nsub + ch->nval) {
                nw = ch->val[k - ch->nsub][1];
                at += strlen(key);
            } else if (e < f + n && *e == ',') {
                e++;                               /* the member and its comma */
            } else {
                continue;
            }
        }
        size_t pre = (size_t)(at - f), cut = (size_t)(e - at), nl = strlen(nw);
        if (nl > cut + 200)
            continue;
        memcpy(mut, f, pre);
        memcpy(mut + pre, nw, nl);
        memcpy(mut + pre + nl, e, n - pre - cut);
        mut[n - cut + nl] = '\0';
        d_feed(a, b, NULL, mut, n - cut + nl, now, (*step)++);
    }
    const char *lv0 = d_find(f, n, "[[\"");
    const char *sz0 = lv0 ? d_find(lv0, n - (size_t)(lv0 - f), "\",\"") : NULL;
    if (sz0 != NULL) {
        size_t pre = (size_t)(sz0 - f) + 3;
        memcpy(mut, f, pre);
        mut[pre] = '-';
        memcpy(mut + pre + 1, f + pre, n - pre);
        mut[n + 1] = '\0';
        d_feed(a, b, NULL, mut, n + 1, now, (*step)++);
    }
    free(mut);
    d_feed(a, b, NULL, f, n, now, (*step)++);
}

#endif
