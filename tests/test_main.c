/*
 * test_main.c - the one Check runner: every suite, one summary line.
 *
 *   ./build/check_liqmon                      all suites
 *   CK_RUN_SUITE=book ./build/check_liqmon    one suite (Check reads it)
 *   LIQMON_SEED=1234 ./build/check_liqmon     replay a randomized failure
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "suites.h"

#define DEFAULT_SEED 0x6c69716d6f6e3031ULL    /* "liqmon01" */

uint64_t test_seed(void)
{
    static int done;
    static uint64_t seed;

    if (!done) {
        const char *s = getenv("LIQMON_SEED");
        seed = DEFAULT_SEED;
        if (s != NULL && *s != '\0') {
            char *end;
            unsigned long long v = strtoull(s, &end, 0);
            if (*end == '\0')
                seed = (uint64_t)v;
            else
                fprintf(stderr, "LIQMON_SEED=%s: not a number, using %" PRIu64 "\n",
                        s, seed);
        }
        done = 1;
    }
    return seed;
}

int main(void)
{
    SRunner *sr;
    int failed;

    printf("LIQMON_SEED=%" PRIu64 "\n", test_seed());
    sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.list"
#undef SUITE
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
