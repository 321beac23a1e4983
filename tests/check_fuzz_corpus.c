/*
 * check_fuzz_corpus.c - the fuzz targets' inputs as regression tests.
 *
 * Every file of tests/fuzz/corpus/<target>/ (the seeds) and
 * tests/fuzz/regress/<target>/ (inputs that once failed) goes through
 * fuzz_<target>_one, the same body and the same checks the libFuzzer
 * binaries run (tests/fuzz/README.md), here built with gcc and without
 * libFuzzer.  A failed property fails the test with the file's name.
 * One test per target (a loop test); files in name order.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"
#include "fuzz/fuzz.h"
#include "suites.h"

struct target {
    const char *name;
    void (*one)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
#define FUZZ_ENTRY(n) { #n, fuzz_##n##_one },
    FUZZ_TARGET_LIST(FUZZ_ENTRY)
#undef FUZZ_ENTRY
};
#define NTARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

static const char *current;        /* the file being replayed */

static void fail_hook(const char *msg)
{
    ck_abort_msg("%s: %s", current, msg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of dir; returns how many. */
static size_t replay_dir(const struct target *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
            ck_assert_ptr_nonnull(names);
        }
        names[n] = strdup(de->d_name);
        ck_assert_ptr_nonnull(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        FILE *f;
        uint8_t *buf;
        long len;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s: cannot open", path);
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(len > 0 ? (size_t)len : 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_msg(len == 0 || fread(buf, 1, (size_t)len, f) == (size_t)len, "%s: short read", path);
        fclose(f);
        current = path;
        t->one(buf, (size_t)len);
        current = NULL;
        free(buf);
        free(names[i]);
    }
    free(names);
    return n;
}

START_TEST(test_replay)
{
    const struct target *t = &targets[_i];
    char dir[256];
    size_t seeds, regress;

    fz_set_fail_hook(fail_hook);
    snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", t->name);
    seeds = replay_dir(t, dir);
    snprintf(dir, sizeof(dir), "tests/fuzz/regress/%s", t->name);
    regress = replay_dir(t, dir);
    fz_set_fail_hook(NULL);
    log_set_hook(NULL, NULL);
    log_set_level(LL_INFO);
    /* Every target keeps seeds in the repository. */
    ck_assert_msg(seeds > 0, "tests/fuzz/corpus/%s: no seeds", t->name);
    (void)regress;
}
END_TEST

Suite *fuzz_corpus_suite(void)
{
    Suite *s = suite_create("fuzz_corpus");
    TCase *tc = tcase_create("replay");

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_replay, 0, NTARGETS);
    suite_add_tcase(s, tc);
    return s;
}
