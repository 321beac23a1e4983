/*
 * positions.c - liqmonctl positions check [--config FILE] [--tiers DIR]
 *               [--json] [FILE]
 *
 * Loads a positions file the way the daemon will: every row through
 * posfile_load, every good row into the pindex of its instrument
 * (venue:symbol), so that what the index refuses (a duplicate id, a
 * margin with no tier table) is reported here with file and line, before
 * the daemon meets it.  Then prints per instrument and side the count,
 * the exact total qty, the range of liquidation prices in the cascade
 * and how many positions can never be liquidated.
 *
 * With --config, the file is checked against what that liqmond config
 * watches: a row whose venue has no [venue ...] section, or whose symbol
 * is not in that section's symbols, is an error (the daemon would refuse
 * it), and the tier tables come from the config's instruments_dir.  FILE
 * then defaults to the config's positions file.
 *
 * Tier tables come from DIR/<venue>-<symbol>.json (instrument.h), loaded
 * once per instrument on its first row; DIR is --tiers, else the
 * config's instruments_dir, else cli_default_instruments_dir()
 * (conf/instruments in a source tree, else the installed copy) when that
 * directory exists.
 *
 * Exit (cli.h): 0 all rows good; 65 some row (or an instrument file, or
 * the CSV header) bad, or no positions at all, the figures still
 * printed; 66 FILE, --tiers DIR or --config FILE cannot be read; 78 the
 * config does not parse; 64 usage; 70 out of memory; 74 a read error
 * or a stdout write error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liqmon/config.h"
#include "liqmon/instrument.h"
#include "liqmon/jsonw.h"
#include "liqmon/pindex.h"
#include "liqmon/posfile.h"
#include "cli.h"

enum tiers_state { TIERS_OK, TIERS_NODIR, TIERS_NOFILE, TIERS_BAD };

struct side_sum {
    uint64_t count;
    uint64_t never;            /* LP not > 0: never liquidated */
    uint64_t reached;          /* in the cascade */
    dec_t qty;
    double min_lp, max_lp;     /* over the positions in the cascade */
};

struct inst {
    char venue[INSTRUMENT_VENUE_MAX];
    char symbol[INSTRUMENT_SYMBOL_MAX];
    pindex_t *ix;
    enum tiers_state tiers;
    char tiers_path[512];      /* the file used or looked for */
    char unwatched[400];       /* --config: why it is not watched; "" */
    uint32_t *line_of;         /* line_of[handle]: where the id was first */
    uint32_t nlines, caplines;
    struct side_sum side[2];
};

#define CMD "positions check"

struct check {
    const char *file;          /* as messages name it */
    const char *tiers_dir;     /* NULL: none */
    const struct liqmon_config *cfg;   /* --config, else NULL */
    const char *cfg_path;
    struct inst **inst;        /* in order of first appearance */
    size_t ninst, capinst;
    size_t *hash;              /* index into inst + 1, or 0 */
    size_t hashcap;            /* power of two, load <= 1/2 */
    size_t last;               /* last instrument used + 1 (rows cluster) */
    size_t loaded, rejected;   /* rows in an index / refused here */
    int bad_inst;              /* instrument files that failed to load */
    int nomem;
};

static void say(const char *msg, void *arg)
{
    (void)arg;
    fprintf(stderr, "liqmonctl " CMD ": %s\n", msg);
}

/* ---- instruments ---------------------------------------------------------- */

static uint64_t inst_hash(const char *venue, const char *symbol)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *p = venue; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ ':') * 1099511628211ull;
    for (const char *p = symbol; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h ^ (h >> 31);
}

static int inst_is(const struct inst *in, const char *venue,
                   const char *symbol)
{
    return strcmp(in->venue, venue) == 0 && strcmp(in->symbol, symbol) == 0;
}

static void inst_destroy(struct inst *in)
{
    if (in == NULL)
        return;
    pindex_destroy(in->ix);
    free(in->line_of);
    free(in);
}

static int hash_put(struct check *ck, size_t idx)
{
    const struct inst *in = ck->inst[idx];
    size_t m = ck->hashcap - 1;
    size_t s = inst_hash(in->venue, in->symbol) & m;

    while (ck->hash[s])
        s = (s + 1) & m;
    ck->hash[s] = idx + 1;
    return 0;
}

static int hash_grow(struct check *ck)
{
    size_t ncap = ck->hashcap ? ck->hashcap * 2 : 64;
    size_t *nh = calloc(ncap, sizeof(*nh));

    if (nh == NULL)
        return -1;
    free(ck->hash);
    ck->hash = nh;
    ck->hashcap = ncap;
    for (size_t i = 0; i < ck->ninst; i++)
        hash_put(ck, i);
    return 0;
}

/* --config: "" into out when the config watches venue:symbol, else why
 * not (the rest of "<file>:<line>: venue, symbol: "). */
static void why_unwatched(const struct check *ck, const char *venue,
                          const char *symbol, char *out, size_t size)
{
    int v = venue_from_name(venue);
    const struct config_venue *cv;
    size_t n;

    out[0] = '\0';
    if (v < 0) {
        char all[128];
        venue_names_join(all, sizeof(all));
        snprintf(out, size, "%s:%s is not watched by %s (no venue '%s'; "
                 "liqmond knows %s)", venue, symbol, ck->cfg_path, venue, all);
        return;
    }
    cv = &ck->cfg->venues[v];
    if (!cv->enabled) {
        snprintf(out, size, "%s:%s is not watched by %s (no [venue %s] "
                 "section)", venue, symbol, ck->cfg_path, venue);
        return;
    }
    for (size_t i = 0; i < cv->nsymbols; i++)
        if (strcmp(cv->symbols[i], symbol) == 0)
            return;
    n = (size_t)snprintf(out, size, "%s:%s is not watched by %s ([venue %s] "
                         "symbols:", venue, symbol, ck->cfg_path, venue);
    for (size_t i = 0; i < cv->nsymbols && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, " %s", cv->symbols[i]);
    if (n < size)
        snprintf(out + n, size - n, ")");
}

/* A new instrument: its tier table (if any) and its index.  Reports an
 * instrument file that exists but does not load, once. */
static struct inst *inst_new(struct check *ck, const char *venue,
                             const char *symbol)
{
    struct inst *in = calloc(1, sizeof(*in));
    struct instrument ins;
    lq_err_t err = { "" };
    int rc;

    memset(&ins, 0, sizeof(ins));
    if (in == NULL)
        return NULL;
    /* posfile_load checked the lengths against these very buffers. */
    snprintf(in->venue, sizeof(in->venue), "%s", venue);
    snprintf(in->symbol, sizeof(in->symbol), "%s", symbol);
    in->tiers = TIERS_NODIR;
    if (ck->cfg != NULL)
        why_unwatched(ck, venue, symbol, in->unwatched,
                      sizeof(in->unwatched));
    if (ck->tiers_dir != NULL && in->unwatched[0] == '\0') {
        snprintf(in->tiers_path, sizeof(in->tiers_path), "%s/%s-%s.json",
                 ck->tiers_dir, venue, symbol);
        rc = instrument_load_dir(ck->tiers_dir, venue, symbol, &ins, &err);
        if (rc == 0) {
            in->tiers = TIERS_OK;
        } else if (rc > 0) {
            in->tiers = TIERS_NOFILE;
        } else {
            in->tiers = TIERS_BAD;
            ck->bad_inst++;
            say(err.msg, NULL);
        }
    }
    in->ix = pindex_create(in->tiers == TIERS_OK ? &ins.tiers : NULL);
    instrument_fini(&ins);
    if (in->ix == NULL) {
        free(in);
        return NULL;
    }
    return in;
}

static struct inst *inst_get(struct check *ck, const char *venue,
                             const char *symbol)
{
    struct inst *in;
    size_t m, s;

    if (ck->last && inst_is(ck->inst[ck->last - 1], venue, symbol))
        return ck->inst[ck->last - 1];
    if (ck->hashcap) {
        m = ck->hashcap - 1;
        for (s = inst_hash(venue, symbol) & m; ck->hash[s]; s = (s + 1) & m) {
            if (inst_is(ck->inst[ck->hash[s] - 1], venue, symbol)) {
                ck->last = ck->hash[s];
                return ck->inst[ck->last - 1];
            }
        }
    }
    if (ck->ninst == ck->capinst) {
        size_t ncap = ck->capinst ? ck->capinst * 2 : 8;
        struct inst **nv = realloc(ck->inst, ncap * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        ck->inst = nv;
        ck->capinst = ncap;
    }
    if ((ck->ninst + 1) * 2 > ck->hashcap && hash_grow(ck) != 0)
        return NULL;
    if ((in = inst_new(ck, venue, symbol)) == NULL)
        return NULL;
    ck->inst[ck->ninst++] = in;
    hash_put(ck, ck->ninst - 1);
    ck->last = ck->ninst;
    return in;
}

/* ---- rows ------------------------------------------------------------------ */

static int remember_line(struct inst *in, uint32_t h, size_t line)
{
    if (h >= in->caplines) {
        uint32_t ncap = in->caplines ? in->caplines : 1024;
        uint32_t *nl;
        while (ncap <= h)
            ncap *= 2;
        nl = realloc(in->line_of, (size_t)ncap * sizeof(*nl));
        if (nl == NULL)
            return -1;
        in->line_of = nl;
        in->caplines = ncap;
    }
    in->line_of[h] = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    return 0;
}

static int on_row(const struct posfile_row *row, void *arg)
{
    struct check *ck = arg;
    struct inst *in = inst_get(ck, row->venue, row->symbol);
    lq_err_t err = { "" };
    uint32_t h;
    int rc;

    if (in == NULL) {
        ck->nomem = 1;
        return 1;
    }
    if (in->unwatched[0] != '\0') {
        fprintf(stderr, "liqmonctl " CMD ": %s:%zu: venue, symbol: %s\n",
                ck->file, row->line, in->unwatched);
        ck->rejected++;
        return 0;
    }
    if (row->spec.has_margin && in->tiers != TIERS_OK) {
        const char *why =
            in->tiers == TIERS_NODIR ? "no instrument directory; give "
                                       "--tiers DIR" :
            in->tiers == TIERS_NOFILE ? "looked for" : "could not load";
        fprintf(stderr, "liqmonctl " CMD ": %s:%zu: margin: no tier table "
                "for %s:%s "
                "(%s%s%s)\n", ck->file, row->line, row->venue, row->symbol,
                why, in->tiers == TIERS_NODIR ? "" : " ",
                in->tiers == TIERS_NODIR ? "" : in->tiers_path);
        ck->rejected++;
        return 0;
    }
    rc = pindex_insert(in->ix, &row->spec, &h, &err);
    if (rc == PINDEX_OK) {
        if (remember_line(in, h, row->line) != 0) {
            ck->nomem = 1;
            return 1;
        }
        ck->loaded++;
        return 0;
    }
    if (rc == PINDEX_ENOMEM) {
        ck->nomem = 1;
        return 1;
    }
    if (rc == PINDEX_EEXIST && pindex_find(in->ix, row->id, &h) == PINDEX_OK &&
        h < in->caplines)
        fprintf(stderr, "liqmonctl " CMD ": %s:%zu: %s (first on line %u)\n",
                ck->file, row->line, err.msg, in->line_of[h]);
    else
        fprintf(stderr, "liqmonctl " CMD ": %s:%zu: %s\n", ck->file,
                row->line, err.msg);
    ck->rejected++;
    return 0;
}

/* ---- figures ---------------------------------------------------------------- */

static int sum_one(const struct pos_view *v, void *arg)
{
    struct inst *in = arg;
    struct side_sum *s = &in->side[v->side];

    s->count++;
    s->qty += v->qty;
    if (!v->in_cascade) {
        s->never++;
        return 0;
    }
    if (s->reached == 0 || v->lp < s->min_lp)
        s->min_lp = v->lp;
    if (s->reached == 0 || v->lp > s->max_lp)
        s->max_lp = v->lp;
    s->reached++;
    return 0;
}

static int inst_cmp(const void *a, const void *b)
{
    const struct inst *x = *(const struct inst *const *)a;
    const struct inst *y = *(const struct inst *const *)b;
    int c = strcmp(x->venue, y->venue);

    return c ? c : strcmp(x->symbol, y->symbol);
}

static const char *side_name(int s)
{
    return s == POS_LONG ? "long" : "short";
}

static void print_text(const struct check *ck, const struct posfile_stats *st)
{
    int w = (int)strlen("instrument");
    char key[INSTRUMENT_VENUE_MAX + INSTRUMENT_SYMBOL_MAX + 1];
    size_t shown = 0;

    for (size_t i = 0; i < ck->ninst; i++) {
        int n = (int)(strlen(ck->inst[i]->venue) +
                      strlen(ck->inst[i]->symbol) + 1);
        if (ck->inst[i]->unwatched[0] != '\0')
            continue;
        shown++;
        if (n > w)
            w = n;
    }
    if (shown > 0)
        printf("%-*s  %-5s  %8s  %20s  %14s  %14s  %9s\n", w, "instrument",
               "side", "count", "total_qty", "min_liq_price", "max_liq_price",
               "never_liq");
    for (size_t i = 0; i < ck->ninst; i++) {
        const struct inst *in = ck->inst[i];
        if (in->unwatched[0] != '\0')
            continue;               /* its rows were all refused */
        snprintf(key, sizeof(key), "%s:%s", in->venue, in->symbol);
        for (int s = 0; s < 2; s++) {
            const struct side_sum *ss = &in->side[s];
            char q[DEC_STRLEN], lo[32] = "-", hi[32] = "-";
            dec_format(ss->qty, q);
            if (ss->reached) {
                snprintf(lo, sizeof(lo), "%.10g", ss->min_lp);
                snprintf(hi, sizeof(hi), "%.10g", ss->max_lp);
            }
            printf("%-*s  %-5s  %8llu  %20s  %14s  %14s  %9llu\n", w, key,
                   side_name(s), (unsigned long long)ss->count, q, lo, hi,
                   (unsigned long long)ss->never);
        }
    }
    printf("%srows %zu  loaded %zu  rejected %zu\n", shown ? "\n" : "",
           st->rows, ck->loaded, st->rejected + ck->rejected);
}

static int print_json(const struct check *ck, const struct posfile_stats *st)
{
    struct jsonw w;
    int rc = 0;

    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "file");
    jw_str(&w, ck->file);
    jw_key(&w, "rows");
    jw_u64(&w, st->rows);
    jw_key(&w, "loaded");
    jw_u64(&w, ck->loaded);
    jw_key(&w, "rejected");
    jw_u64(&w, st->rejected + ck->rejected);
    jw_key(&w, "instruments");
    jw_arr_begin(&w);
    for (size_t i = 0; i < ck->ninst; i++) {
        const struct inst *in = ck->inst[i];
        if (in->unwatched[0] != '\0')
            continue;
        jw_obj_begin(&w);
        jw_key(&w, "venue");
        jw_str(&w, in->venue);
        jw_key(&w, "symbol");
        jw_str(&w, in->symbol);
        jw_key(&w, "tiers");
        if (in->tiers == TIERS_OK)
            jw_str(&w, in->tiers_path);
        else
            jw_null(&w);
        for (int s = 0; s < 2; s++) {
            const struct side_sum *ss = &in->side[s];
            jw_key(&w, side_name(s));
            jw_obj_begin(&w);
            jw_key(&w, "count");
            jw_u64(&w, ss->count);
            jw_key(&w, "qty");
            jw_dec(&w, ss->qty);
            jw_key(&w, "min_liq_price");
            if (ss->reached)
                jw_double(&w, ss->min_lp);
            else
                jw_null(&w);
            jw_key(&w, "max_liq_price");
            if (ss->reached)
                jw_double(&w, ss->max_lp);
            else
                jw_null(&w);
            jw_key(&w, "never_liquidatable");
            jw_u64(&w, ss->never);
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (jw_failed(&w))
        rc = -1;
    else
        printf("%s\n", w.buf);
    jw_fini(&w);
    return rc;
}

/* ---- the command ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl positions check [--config FILE] [--tiers DIR] [--json]\n"
"                                 [FILE]\n"
"\n"
"Load FILE (CSV or JSON Lines; '-' for stdin) as the daemon would, report\n"
"every bad row on stderr as FILE:LINE: COLUMN: WHAT, and print per\n"
"instrument and side: count, total qty, liquidation price range, and how\n"
"many positions can never be liquidated.  A file without a single\n"
"position (empty, or a header alone) is an error.\n"
"\n"
"  --config FILE  check against what this liqmond config watches: every\n"
"                 row of a venue or symbol it does not watch is an error;\n"
"                 tier tables from its instruments_dir; FILE defaults to\n"
"                 its positions file\n"
"  --tiers DIR    tier tables from DIR/<venue>-<symbol>.json (default: the\n"
"                 config's instruments_dir, else conf/instruments in a\n"
"                 source tree, else the installed copy)\n"
"  --json         the figures as one JSON object\n"
"\n"
"CSV: a header naming the columns (id,account,venue,symbol,side,qty,entry,\n"
"margin,liq_price, any order), fields plain or \"quoted\" as spreadsheets\n"
"export them; a UTF-8 BOM and CRLF line ends are fine.\n"
"\n"
"Exit status: 0 every row good, 64 usage error, 65 some rows bad or no\n"
"positions, 66 cannot read FILE, DIR or the config, 74 read or write\n"
"error, 78 the config does not parse.\n");
}

static void positions_usage(FILE *f)
{
    fprintf(f,
"usage: liqmonctl positions check [--config FILE] [--tiers DIR] [--json]\n"
"                                 [FILE]\n"
"\n"
"Subcommands:\n"
"  check   validate a positions file (liqmonctl positions check --help)\n");
}

/* --config: 66 when it cannot be read, 78 when it does not parse. */
static int load_config(const char *path, struct liqmon_config *cfg)
{
    lq_err_t err = { "" };
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return cli_fail(CMD, CLI_EX_NOINPUT, "--config %s: %s", path,
                        strerror(errno));
    fclose(f);
    config_default(cfg);
    if (config_load(path, cfg, &err) != 0)
        return cli_fail(CMD, CLI_EX_CONFIG, "--config: %s", err.msg);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option lo[] = {
        { "tiers", required_argument, NULL, 't' },
        { "config", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct check ck;
    struct posfile_stats st;
    struct liqmon_config *cfg = NULL;
    lq_err_t err = { "" };
    const char *path = NULL, *why, *cfg_path = NULL;
    int as_json = 0, rc, ex, c, empty = 0;

    memset(&ck, 0, sizeof(ck));
    memset(&st, 0, sizeof(st));
    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 't': ck.tiers_dir = optarg; break;
        case 'c': cfg_path = optarg; break;
        case 'j': as_json = 1; break;
        case 'h': usage(stdout); return 0;
        default: return CLI_EX_USAGE;
        }
    }
    if (optind + 1 < argc)
        return cli_unexpected(CMD, argv[optind + 1]);
    if (optind < argc)
        path = argv[optind];
    if (path == NULL && cfg_path == NULL)
        return cli_missing(CMD, "FILE");
    if (ck.tiers_dir != NULL && (why = cli_not_dir(ck.tiers_dir)) != NULL)
        return cli_fail(CMD, CLI_EX_NOINPUT, "--tiers %s: %s", ck.tiers_dir,
                        why);
    if (cfg_path != NULL) {
        if ((cfg = malloc(sizeof(*cfg))) == NULL)
            return cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
        if ((ex = load_config(cfg_path, cfg)) != 0) {
            free(cfg);
            return ex;
        }
        ck.cfg = cfg;
        ck.cfg_path = cfg_path;
        if (path == NULL && cfg->positions[0] == '\0') {
            free(cfg);
            return cli_missing(CMD, "FILE: the config names no positions "
                               "file");
        }
        if (path == NULL)
            path = cfg->positions;
        /* Where the daemon will look, even if it is not there. */
        if (ck.tiers_dir == NULL)
            ck.tiers_dir = cfg->instruments_dir;
    }
    if (ck.tiers_dir == NULL &&
        cli_not_dir(cli_default_instruments_dir()) == NULL)
        ck.tiers_dir = cli_default_instruments_dir();
    ck.file = cli_file_name(path);

    rc = posfile_load(path, on_row, say, &ck, &st, &err);
    if (ck.nomem) {
        ex = cli_fail(CMD, CLI_EX_SOFTWARE, "%s: out of memory", ck.file);
        goto out;
    }
    if (rc == POSFILE_EREAD) {
        /* Opened but failed while reading: an I/O error, not a missing
         * file (posfile names the line in that case). */
        ex = cli_fail(CMD, strstr(err.msg, ": read error: ") != NULL
                               ? CLI_EX_IOERR : CLI_EX_NOINPUT,
                      "%s", err.msg);
        goto out;
    }
    if (rc == POSFILE_EHEADER)
        say(err.msg, NULL);
    else if (posfile_empty(path, &st, &err)) {
        say(err.msg, NULL);
        empty = 1;
    }
    for (size_t i = 0; i < ck.ninst; i++)
        pindex_foreach(ck.inst[i]->ix, sum_one, ck.inst[i]);
    if (ck.ninst > 1)
        qsort(ck.inst, ck.ninst, sizeof(*ck.inst), inst_cmp);
    if (as_json) {
        if (print_json(&ck, &st) != 0) {
            ex = cli_fail(CMD, CLI_EX_SOFTWARE, "out of memory");
            goto out;
        }
    } else {
        print_text(&ck, &st);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ex = cli_fail(CMD, CLI_EX_IOERR, "stdout: write error");
        goto out;
    }
    ex = rc != 0 || empty || st.rejected + ck.rejected > 0 || ck.bad_inst > 0
             ? CLI_EX_DATAERR : 0;
out:
    for (size_t i = 0; i < ck.ninst; i++)
        inst_destroy(ck.inst[i]);
    free(ck.inst);
    free(ck.hash);
    free(cfg);
    return ex;
}

int cli_positions(int argc, char **argv)
{
    static const struct option lo[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    /* '+': stop at the subcommand, whose options come after it. */
    optind = 0;
    while ((c = cli_getopt("positions", argc, argv, "+h", lo)) != -1) {
        if (c != 'h')
            return CLI_EX_USAGE;
        positions_usage(stdout);
        return 0;
    }
    if (optind >= argc)
        return cli_missing("positions", "SUBCOMMAND");
    if (strcmp(argv[optind], "check") == 0)
        return cmd_check(argc - optind, argv + optind);
    return cli_usage_fail("positions", "unknown subcommand '%.64s'",
                          argv[optind]);
}
