/* jsonval.c - checked numbers from jansson values (see jsonval.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jsonval.h"

int jsonval_double(const json_t *v, const char *path, double *out, lq_err_t *err)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        dec_t dummy;
        if (dec_parse(s, json_string_length(v), &dummy) == DEC_ESYNTAX)
            return lq_err_set(err, "%s: '%s' is not a decimal number", path, s);
        *out = strtod(s, NULL);
    } else {
        return lq_err_set(err, "%s: must be a number or a decimal string", path);
    }
    if (!isfinite(*out))
        return lq_err_set(err, "%s: must be finite", path);
    return 0;
}

int jsonval_price(const json_t *v, const char *path, double *out, lq_err_t *err)
{
    if (jsonval_double(v, path, out, err) != 0)
        return -1;
    if (!(*out > 0))
        return lq_err_set(err, "%s: must be > 0", path);
    return 0;
}

int jsonval_qty(const json_t *v, const char *path, dec_t *out, lq_err_t *err)
{
    int rc;

    if (json_is_integer(v))
        rc = dec_from_int(json_integer_value(v), out);
    else if (json_is_real(v))
        rc = dec_from_double(json_real_value(v), out);
    else if (json_is_string(v))
        rc = dec_parse(json_string_value(v), json_string_length(v), out);
    else
        return lq_err_set(err, "%s: must be a number or a decimal string", path);
    if (rc == DEC_ERANGE)
        return lq_err_set(err, "%s: too large (at most 1e24)", path);
    if (rc != DEC_OK && json_is_string(v))
        return lq_err_set(err, "%s: '%s' is not a decimal number", path,
                          json_string_value(v));
    if (rc != DEC_OK)
        return lq_err_set(err, "%s: must be finite", path);
    if (*out <= 0) {
        /* Say so when the value was positive but below 1e-8. */
        if ((json_is_real(v) && json_real_value(v) > 0) ||
            (json_is_string(v) && json_string_value(v)[0] != '-' &&
             strspn(json_string_value(v), "0.") != json_string_length(v)))
            return lq_err_set(err, "%s: must be > 0 (it rounds to 0 at 8 "
                              "decimal places)", path);
        return lq_err_set(err, "%s: must be > 0", path);
    }
    return 0;
}
