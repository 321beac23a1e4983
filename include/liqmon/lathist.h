/*
 * lathist.h - a fixed-size latency histogram (log-linear buckets: 16 per
 * power of two, so a percentile is within about 6% of the true value).
 * Recording is a few instructions and never allocates: fit for the hot
 * path.  Values are nanoseconds.
 */
#ifndef LIQMON_LATHIST_H
#define LIQMON_LATHIST_H

#include <stdint.h>

#define LATHIST_SUB 16
#define LATHIST_BUCKETS (64 * LATHIST_SUB)

struct lathist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;               /* of every value (ns): a Prometheus _sum */
    uint64_t b[LATHIST_BUCKETS];
};

void lathist_add(struct lathist *h, uint64_t ns);
/* The value at quantile q (0..1): the upper edge of its bucket; 0 when
 * empty. */
uint64_t lathist_quantile(const struct lathist *h, double q);
/* How many values are <= ns, counting a bucket only when all of it is
 * (so at most one bucket's worth, ~6%, short of the exact count): the
 * cumulative count of a Prometheus histogram bucket. */
uint64_t lathist_count_le(const struct lathist *h, uint64_t ns);

#endif
