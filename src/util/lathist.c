/* lathist.c - log-linear latency histogram (see lathist.h). */
#include "liqmon/lathist.h"

static unsigned bucket_of(uint64_t v)
{
    unsigned e;

    if (v < LATHIST_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);            /* v >= 2^e */
    /* Top 4 bits below the leading one pick the sub-bucket. */
    return (e - 3) * LATHIST_SUB + (unsigned)((v >> (e - 4)) & (LATHIST_SUB - 1));
}

static uint64_t bucket_top(unsigned b)
{
    unsigned e, sub;

    if (b < LATHIST_SUB)
        return b;
    e = b / LATHIST_SUB + 3;
    sub = b % LATHIST_SUB;
    return ((uint64_t)(LATHIST_SUB + sub + 1) << (e - 4)) - 1;
}

void lathist_add(struct lathist *h, uint64_t ns)
{
    unsigned b = bucket_of(ns);

    if (b >= LATHIST_BUCKETS)
        b = LATHIST_BUCKETS - 1;
    h->b[b]++;
    h->count++;
    h->sum += ns;
    if (ns > h->max)
        h->max = ns;
}

uint64_t lathist_quantile(const struct lathist *h, double q)
{
    uint64_t want, seen = 0;

    if (h->count == 0)
        return 0;
    want = (uint64_t)(q * (double)h->count);
    if (want >= h->count)
        want = h->count - 1;
    for (unsigned b = 0; b < LATHIST_BUCKETS; b++) {
        seen += h->b[b];
        if (seen > want) {
            uint64_t top = bucket_top(b);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

uint64_t lathist_count_le(const struct lathist *h, uint64_t ns)
{
    uint64_t n = 0;

    for (unsigned b = 0; b < LATHIST_BUCKETS && bucket_top(b) <= ns; b++)
        n += h->b[b];
    return n;
}
