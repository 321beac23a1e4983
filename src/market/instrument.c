/*
 * instrument.c - instrument files (see instrument.h).
 *
 * Syntax is jansson's job (duplicate keys rejected, since a second "tiers"
 * silently winning would be a table nobody reviewed); meaning is checked
 * here field by field, every error "<path>: <field>: <what>".
 * Sizes (lot_step, contract_value) are quantities, so they are exact
 * decimals like any qty: a decimal string is parsed as written, a JSON
 * number goes through dec_from_double, which recovers the text jansson
 * read for up to 15 significant digits.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "liqmon/fileio.h"
#include "liqmon/instrument.h"
#include "liqmon/jsonval.h"

/* Instrument files are a few kilobytes; anything near this is not one. */
#define INSTRUMENT_MAX_BYTES ((size_t)16 << 20)

/* A required string field that must fit buf (NUL included). */
static int get_name(const json_t *root, const char *key, char *buf,
                    size_t size, lq_err_t *err)
{
    const json_t *v = json_object_get(root, key);
    size_t n;

    if (v == NULL)
        return lq_err_set(err, "%s: missing", key);
    if (!json_is_string(v))
        return lq_err_set(err, "%s: must be a string", key);
    n = json_string_length(v);
    if (n == 0)
        return lq_err_set(err, "%s: must not be empty", key);
    if (n >= size)
        return lq_err_set(err, "%s: longer than %zu bytes", key, size - 1);
    /* The name becomes part of a file name (instrument_load_dir) and of
     * "venue:symbol" keys: no separators, no NULs. */
    if (strlen(json_string_value(v)) != n ||
        strpbrk(json_string_value(v), "/:\\") != NULL)
        return lq_err_set(err, "%s: '%s' must not contain '/', '\\', ':' or "
                          "NUL", key, json_string_value(v));
    memcpy(buf, json_string_value(v), n + 1);
    return 0;
}

/* A size: exact decimal > 0 from a number or a decimal string.  Returns 1
 * when present, 0 when absent, -1 when bad. */
static int get_size(const json_t *root, const char *key, dec_t *out,
                    lq_err_t *err)
{
    const json_t *v = json_object_get(root, key);

    if (v == NULL)
        return 0;
    return jsonval_qty(v, key, out, err) == 0 ? 1 : -1;
}

/* A price-like double > 0 from a number or a decimal string. */
static int get_price(const json_t *root, const char *key, double *out,
                     lq_err_t *err)
{
    const json_t *v = json_object_get(root, key);

    if (v == NULL)
        return lq_err_set(err, "%s: missing", key);
    return jsonval_price(v, key, out, err);
}

/* Everything but syntax; err without the path (the caller prefixes it). */
static int instrument_from_json(const json_t *root, struct instrument *out,
                                lq_err_t *err)
{
    const json_t *tiers;
    lq_err_t terr = { "" };
    int rc;

    if (!json_is_object(root))
        return lq_err_set(err, "must be a JSON object");
    if (get_name(root, "venue", out->venue, sizeof(out->venue), err) != 0 ||
        get_name(root, "symbol", out->symbol, sizeof(out->symbol), err) != 0 ||
        get_price(root, "tick_size", &out->tick_size, err) != 0)
        return -1;
    rc = get_size(root, "lot_step", &out->lot_step, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return lq_err_set(err, "lot_step: missing");
    rc = get_size(root, "contract_value", &out->contract_value, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        out->contract_value = DEC_SCALE;        /* 1 base unit per unit */
    tiers = json_object_get(root, "tiers");
    if (tiers == NULL)
        return lq_err_set(err, "tiers: missing");
    if (tiers_from_json(tiers, &out->tiers, &terr) != 0) {
        /* "[3].mmr: ..." continues the path: "tiers[3].mmr: ...". */
        return lq_err_set(err, "tiers%s%s", terr.msg[0] == '[' ? "" : ": ",
                          terr.msg);
    }
    return 0;
}

int instrument_load_file(const char *path, struct instrument *out,
                         lq_err_t *err)
{
    char *text = NULL;
    size_t len;
    json_t *root = NULL;
    json_error_t jerr;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (fileio_read_all(path, INSTRUMENT_MAX_BYTES, &text, &len, err) != 0)
        return -1;            /* err already names the file */
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        lq_err_set(err, "%s: line %d, column %d: %s", path, jerr.line,
                   jerr.column, jerr.text);
        goto out;
    }
    if (instrument_from_json(root, out, err) != 0) {
        lq_err_prefix(err, "%s", path);
        instrument_fini(out);
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    free(text);
    return rc;
}

void instrument_fini(struct instrument *in)
{
    if (in == NULL)
        return;
    tiers_fini(&in->tiers);
}

int instrument_load_dir(const char *dir, const char *venue,
                        const char *symbol, struct instrument *out,
                        lq_err_t *err)
{
    char path[4096];
    struct stat st;
    int n;

    memset(out, 0, sizeof(*out));
    /* venue and symbol come from positions files: keep them from naming
     * a file outside dir. */
    if (strchr(venue, '/') != NULL || strchr(symbol, '/') != NULL)
        return lq_err_set(err, "%s:%s: '/' in a venue or symbol name",
                          venue, symbol);
    n = snprintf(path, sizeof(path), "%s/%s-%s.json", dir, venue, symbol);
    if (n < 0 || (size_t)n >= sizeof(path))
        return lq_err_set(err, "%s/%s-%s.json: path too long", dir, venue,
                          symbol);
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            lq_err_set(err, "%s: no such file", path);
            return 1;
        }
        return lq_err_set(err, "%s: %s", path, strerror(errno));
    }
    if (instrument_load_file(path, out, err) != 0)
        return -1;
    /* The file name is how the instrument is found: a file whose content
     * names another instrument would give it the wrong tiers. */
    if (strcmp(out->venue, venue) != 0 || strcmp(out->symbol, symbol) != 0) {
        lq_err_set(err, "%s: venue/symbol: the file says %s:%s, its name "
                   "says %s:%s", path, out->venue, out->symbol, venue, symbol);
        instrument_fini(out);
        return -1;
    }
    return 0;
}
