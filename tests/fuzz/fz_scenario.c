/*
 * fz_scenario.c - the scenario parser (cascade-model.md, "Scenario
 * files"), and the simulation of what it accepts.
 *
 * Properties:
 *  - a refusal leaves the scenario empty (safe to fini) and says why in
 *    one line of text;
 *  - an accepted scenario keeps its invariants: ref finite > 0, a book
 *    whose trees check, positions in an index that checks (one per
 *    position of the input at most), shocks finite in [0, 1), sides
 *    down or up (the contract lets either list be empty);
 *  - scenario_write_results writes one JSON document (jansson reads
 *    it) ending in a newline, whose "results" has nshocks * nsides rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "liqmon/scenario.h"
#include "fuzz.h"

void fuzz_scenario_one(const uint8_t *data, size_t size)
{
    struct scenario sc;
    lq_err_t err;
    char *text = malloc(size ? size : 1), *out = NULL;
    size_t outlen = 0;
    int rc;

    fz_begin();
    FZ_CHECK(text != NULL, "oom");
    memcpy(text, data, size);
    memset(&sc, 0x5a, sizeof(sc));         /* the parser must set it all */
    err.msg[0] = '\0';
    rc = scenario_parse(text, size, &sc, &err);
    if (rc != 0) {
        FZ_CHECK_MSG("scenario error", err.msg);
        FZ_CHECK(sc.book == NULL && sc.ix == NULL && sc.shocks == NULL && sc.sides == NULL &&
                     sc.tiers.n == 0,
                 "a refused scenario is not empty: %s", err.msg);
        scenario_fini(&sc);
        free(text);
        return;
    }
    FZ_CHECK(isfinite(sc.ref) && sc.ref > 0, "ref %.17g", sc.ref);
    FZ_CHECK(sc.book != NULL && book_check(sc.book) == 0, "book_check");
    FZ_CHECK(sc.ix != NULL && pindex_check(sc.ix) == 0, "pindex_check");
    FZ_CHECK(sc.shocks != NULL, "%zu shocks", sc.nshocks);
    for (size_t i = 0; i < sc.nshocks; i++)
        FZ_CHECK(isfinite(sc.shocks[i]) && sc.shocks[i] >= 0 && sc.shocks[i] < 1,
                 "shock %zu: %.17g", i, sc.shocks[i]);
    FZ_CHECK(sc.sides != NULL, "%zu sides", sc.nsides);
    for (size_t i = 0; i < sc.nsides; i++)
        FZ_CHECK(sc.sides[i] == CASCADE_DOWN || sc.sides[i] == CASCADE_UP, "side %d",
                 (int)sc.sides[i]);
    /* Simulate (bounded: a big ladder on a big book is slow, not wrong). */
    if (sc.nshocks * sc.nsides <= 64) {
        FILE *f = open_memstream(&out, &outlen);
        json_error_t je;
        json_t *root;
        FZ_CHECK(f != NULL, "oom");
        rc = scenario_write_results(&sc, f, size % 2, &err);
        FZ_CHECK(fclose(f) == 0, "memstream");
        if (rc != 0) {
            FZ_CHECK_MSG("scenario_write_results", err.msg);
            FZ_CHECK(outlen == 0, "a failed write wrote %zu bytes", outlen);
        } else {
            FZ_CHECK(outlen > 0 && out[outlen - 1] == '\n', "results do not end in a newline");
            root = json_loadb(out, outlen, 0, &je);
            FZ_CHECK(root != NULL, "results are not JSON: %s", je.text);
            json_t *res = json_object_get(root, "results");
            FZ_CHECK(json_is_array(res) && json_array_size(res) == sc.nshocks * sc.nsides,
                     "results: %zu rows for %zu shocks x %zu sides",
                     json_is_array(res) ? json_array_size(res) : 0, sc.nshocks, sc.nsides);
            FZ_CHECK(json_is_array(json_object_get(root, "positions")), "positions missing");
            json_decref(root);
        }
        free(out);
    }
    scenario_fini(&sc);
    free(text);
}
