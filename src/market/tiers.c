/* tiers.c - tier tables and the liquidation price (see tiers.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/tiers.h"

/* Read obj[name] as a finite number; 1 if present, 0 if absent, -1 bad. */
static int get_num(const json_t *obj, const char *name, double *out,
                   size_t i, lq_err_t *err)
{
    const json_t *v = json_object_get(obj, name);

    if (v == NULL)
        return 0;
    if (!json_is_number(v)) {
        lq_err_set(err, "[%zu].%s: must be a number", i, name);
        return -1;
    }
    *out = json_number_value(v);
    if (!isfinite(*out)) {
        lq_err_set(err, "[%zu].%s: must be finite", i, name);
        return -1;
    }
    return 1;
}

int tiers_from_json(const json_t *arr, struct tier_table *out, lq_err_t *err)
{
    size_t i, n;
    struct tier *t = NULL;

    out->n = 0;
    out->t = NULL;
    if (!json_is_array(arr))
        return lq_err_set(err, "must be an array of tier objects");
    n = json_array_size(arr);
    if (n == 0)
        return lq_err_set(err, "must hold at least one tier");
    t = calloc(n, sizeof(*t));
    if (t == NULL)
        return lq_err_set(err, "out of memory");
    for (i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        static const char *const req[] = {
            "notional_floor", "notional_cap", "mmr", "maint_amount"
        };
        double *dst[] = {
            &t[i].notional_floor, &t[i].notional_cap, &t[i].mmr,
            &t[i].maint_amount
        };
        if (!json_is_object(o)) {
            lq_err_set(err, "[%zu]: must be an object", i);
            goto fail;
        }
        for (size_t k = 0; k < 4; k++) {
            int rc = get_num(o, req[k], dst[k], i, err);
            if (rc < 0)
                goto fail;
            if (rc == 0) {
                lq_err_set(err, "[%zu].%s: missing", i, req[k]);
                goto fail;
            }
        }
        if (get_num(o, "max_leverage", &t[i].max_leverage, i, err) < 0)
            goto fail;
        if (t[i].notional_floor < 0) {
            lq_err_set(err, "[%zu].notional_floor: must be >= 0", i);
            goto fail;
        }
        if (!(t[i].notional_cap > t[i].notional_floor)) {
            lq_err_set(err, "[%zu].notional_cap: must be > notional_floor (%g)",
                       i, t[i].notional_floor);
            goto fail;
        }
        /* mmr >= 1 would make a long's LP divide by zero or flip sign. */
        if (t[i].mmr < 0 || t[i].mmr >= 1) {
            lq_err_set(err, "[%zu].mmr: must be in [0, 1)", i);
            goto fail;
        }
        if (t[i].maint_amount < 0) {
            lq_err_set(err, "[%zu].maint_amount: must be >= 0", i);
            goto fail;
        }
        if (i > 0 && !(t[i].notional_floor > t[i - 1].notional_floor)) {
            lq_err_set(err, "[%zu].notional_floor: tiers must be in ascending "
                       "order of notional_floor", i);
            goto fail;
        }
    }
    out->n = n;
    out->t = t;
    return 0;
fail:
    free(t);
    return -1;
}

void tiers_fini(struct tier_table *tt)
{
    free(tt->t);
    tt->t = NULL;
    tt->n = 0;
}

int tiers_copy(const struct tier_table *src, struct tier_table *dst)
{
    dst->n = 0;
    dst->t = NULL;
    if (src == NULL || src->n == 0)
        return 0;
    dst->t = malloc(src->n * sizeof(*dst->t));
    if (dst->t == NULL)
        return -1;
    memcpy(dst->t, src->t, src->n * sizeof(*dst->t));
    dst->n = src->n;
    return 0;
}

/* The formula, exactly as cascade-model.md writes it (operation order
 * included, so that two implementations round alike). */
static double lp_formula(const struct tier *t, int is_short, double qty,
                         double entry, double margin)
{
    if (is_short)
        return (qty * entry + margin + t->maint_amount) / (qty * (1 + t->mmr));
    return (qty * entry - margin - t->maint_amount) / (qty * (1 - t->mmr));
}

double tiers_liq_price(const struct tier_table *tt, int is_short, double qty,
                       double entry, double margin, size_t *tier_out)
{
    size_t i;
    double lp = NAN;

    for (i = 0; i < tt->n; i++) {
        double notional;
        lp = lp_formula(&tt->t[i], is_short, qty, entry, margin);
        notional = qty * lp;
        if (notional >= tt->t[i].notional_floor &&
            notional < tt->t[i].notional_cap) {
            if (tier_out)
                *tier_out = i;
            return lp;
        }
    }
    /* No bracket holds its own notional: the highest tier (its LP is the
     * last one computed). */
    if (tier_out)
        *tier_out = tt->n ? tt->n - 1 : 0;
    return lp;
}
