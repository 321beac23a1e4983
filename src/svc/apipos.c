/*
 * apipos.c - the control API's position changes survive a restart.
 *
 * Every add, update and remove made through POST/DELETE /v1/positions is
 * kept in the store as the position's standing change (table
 * api_positions, one row per position, store.h).  At start and at every
 * reload, after the positions file is loaded, those changes are replayed
 * over it: an add or update inserts or replaces the position (by id, in
 * its instrument), a remove removes it if the file has it.  So the
 * positions in force are always "the file, then what the API changed",
 * whatever restarted in between.
 *
 * The replayed rows go through posfile, the positions-file parser, from an
 * in-memory file (memfd): a row restored is exactly a row the file or the
 * API would accept, and a row a newer liqmon would refuse is said, not
 * half-applied.  This runs before the loop starts or inside a reload,
 * never on the hot path.
 */
#define _GNU_SOURCE            /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon_int.h"
#include "liqmon/log.h"
#include "liqmon/posfile.h"

struct apipos {
    struct daemon *d;
    engine_t *eng;
    FILE *sets;                    /* the memfd the add/update rows go to */
    size_t nsets;
    size_t removed, absent, added, replaced, refused;
};

static struct mkt_instr *apipos_instr(market_t *mkt, const char *key)
{
    for (size_t i = 0; i < market_count(mkt); i++) {
        struct mkt_instr *in = market_at(mkt, i);
        if (!in->retired && strcmp(in->key, key) == 0)
            return in;
    }
    return NULL;
}

static int apipos_row(const char *instrument, const char *pos_id, const char *change,
                      const char *spec, void *arg)
{
    struct apipos *a = arg;

    if (strcmp(change, "remove") == 0) {
        struct mkt_instr *in = apipos_instr(a->d->mkt, instrument);
        pindex_t *ix = in ? engine_pindex(a->eng, in) : NULL;
        uint32_t h;

        if (ix != NULL && pindex_find(ix, pos_id, &h) == PINDEX_OK &&
            pindex_remove(ix, h) == PINDEX_OK)
            a->removed++;
        else
            a->absent++;               /* not in the file now: nothing to do */
        return 0;
    }
    if (spec == NULL) {
        a->refused++;
        return 0;
    }
    if (fputs(spec, a->sets) == EOF || fputc('\n', a->sets) == EOF)
        return -1;
    a->nsets++;
    return 0;
}

static int apipos_set(const struct posfile_row *row, void *arg)
{
    struct apipos *a = arg;
    int v = venue_from_name(row->venue);
    struct mkt_instr *in = v >= 0 ? market_find(a->d->mkt, (enum venue_id)v, row->symbol) : NULL;
    pindex_t *ix = in && !in->retired ? engine_pindex(a->eng, in) : NULL;
    lq_err_t err;
    uint32_t h;
    int rc;

    if (ix == NULL) {
        /* The config no longer watches it: kept in the store for when it
         * does again. */
        log_msg(LL_WARN, "positions", "api position %s: %s:%s is not watched now "
                "(kept in the store)", row->id, row->venue, row->symbol);
        a->refused++;
        return 0;
    }
    if (pindex_find(ix, row->id, &h) == PINDEX_OK) {
        rc = pindex_update(ix, h, &row->spec, &err);
        a->replaced += rc == PINDEX_OK;
    } else {
        rc = pindex_insert(ix, &row->spec, &h, &err);
        a->added += rc == PINDEX_OK;
    }
    if (rc == PINDEX_ENOMEM)
        return 1;
    if (rc != PINDEX_OK) {
        log_msg(LL_WARN, "positions", "api position %s: %s", row->id, err.msg);
        a->refused++;
    }
    return 0;
}

static void apipos_error(const char *msg, void *arg)
{
    struct apipos *a = arg;

    a->refused++;
    log_msg(LL_WARN, "positions", "api position: %s", msg);
}

int daemon_api_positions(struct daemon *d, engine_t *eng, lq_err_t *err)
{
    const char *path = d->o->store ? d->o->store
                                   : (d->cfg.store_path[0] ? d->cfg.store_path : NULL);
    struct apipos a;
    char fdpath[64];
    int fd = -1, n, rc = -1;

    memset(&a, 0, sizeof(a));
    a.d = d;
    a.eng = eng;
    if (path == NULL || access(path, F_OK) != 0)
        return 0;                      /* no store yet: nothing was changed */
    /* This run's own latest changes too (a reload). */
    if (d->pipe && pipeline_store(d->pipe))
        store_flush(pipeline_store(d->pipe));
    if ((fd = memfd_create("liqmon-api-positions", MFD_CLOEXEC)) < 0 ||
        (a.sets = fdopen(fd, "w+")) == NULL) {
        lq_err_set(err, "api positions: memfd: out of memory");
        goto out;
    }
    fd = -1;                           /* the FILE owns it */
    if ((n = store_read_api_positions(path, apipos_row, &a, err)) < 0)
        goto out;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    if (fflush(a.sets) != 0) {
        lq_err_set(err, "api positions: memfd: out of memory");
        goto out;
    }
    if (a.nsets > 0) {
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fileno(a.sets));
        if (posfile_load(fdpath, apipos_set, apipos_error, &a, NULL, err) != POSFILE_OK) {
            lq_err_prefix(err, "api positions");
            goto out;
        }
    }
    {
        char tail[96] = "";
        size_t t = 0;
        if (a.absent)
            t += (size_t)snprintf(tail + t, sizeof(tail) - t, ", %zu removed already", a.absent);
        if (a.refused && t < sizeof(tail))
            snprintf(tail + t, sizeof(tail) - t, ", %zu refused", a.refused);
        log_msg(LL_INFO, "positions", "%s: %d api change%s replayed over the positions "
                "file: %zu added, %zu replaced, %zu removed%s", path, n, n == 1 ? "" : "s",
                a.added, a.replaced, a.removed, tail);
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (a.sets)
        fclose(a.sets);
    return rc;
}
