/*
 * store.c - the SQLite store (see store.h; docs/store.md describes every
 * table and column, docs/store-schema.sql is the schema applied below).
 *
 * Threads, and what each one owns:
 *
 *   loop thread    store_put_* build one heap message (the struct, its
 *                  ladder rows and every string in one allocation) and
 *                  append it to the queue.  The instrument table (itab) is
 *                  the loop's alone: only store_put_snapshot touches it.
 *   writer         the main connection (db), its prepared statements and
 *                  the retention walks, from the moment store_open starts
 *                  it until store_close has joined it.  store_open uses db
 *                  before the thread exists and store_close after it is
 *                  gone, never both at once.
 *   checkpointer   its own connection (ckdb) and the WAL's size; it runs
 *                  the checkpoints the writer's WAL hook asks for.
 *
 * Fields marked (mu) are read and written only with s->mu held, (ck_mu)
 * likewise.  The writer takes mu once per taken queue and once per
 * transaction, never around SQLite work: a thread preempted while holding
 * the loop's lock stalls the loop for a scheduler tick.
 *
 * Queue invariants (mu):
 *   Q1  q_head..q_tail is a FIFO of qlen messages.  The writer takes the
 *       whole queue in one move (so the loop never waits on a lock held
 *       for more than a few pointer writes), then writes what it took in
 *       transactions of at most batch_max rows.
 *   Q2  Every message appended gets the next seq (1, 2, 3 ...), so seq
 *       grows along the queue; enq_count is the last seq given, taken_seq
 *       the seq of the last message the writer took, done_count how many
 *       the writer has finished (committed, or lost): done_count <=
 *       taken_seq <= enq_count.  store_flush waits for done_count to reach
 *       enq_count as it was at the call.  A coalesced snapshot takes the
 *       slot and the seq of the one it replaces, so coalescing moves no
 *       counter.
 *   Q3  (loop thread only) inst->queued is the newest snapshot of that
 *       instrument appended, and inst->queued_seq its seq; it is still in
 *       the queue, and safe to touch, exactly when queued_seq > taken_seq.
 *   Q4  qlen <= queue_max, except that alerts are appended regardless.
 *   Q5  Messages are malloc'd and freed on the loop thread only: the
 *       writer hands what it has written back on done_head, and each put
 *       frees a few of them.  A free on another thread locks the arena
 *       the block came from, the loop's, thousands of times a batch.
 *
 * Writer error states (one log line per change, never one per retry):
 *
 *       ok --transient failure--> retrying --commit--> ok
 *       ok / retrying --fatal failure, or close's grace over--> failed
 *
 * transient: busy, locked, full, I/O, no memory, read-only, can't open:
 * the batch is rolled back, kept, and retried after 100 ms .. 2 s.
 * data: a row SQLite refuses (constraint, type, too big): the batch is
 * retried one message per transaction and the refused messages are lost
 * (counted).  fatal: anything else (corrupt file, schema gone): the writer
 * stops writing, discards what comes (counted lost), store_flush returns -1.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "liqmon/dec.h"
#include "liqmon/log.h"
#include "liqmon/store.h"
#include "liqmon/version.h"

#define STORE_MOD "store"

/* Retention deletes at most this many rows per statement, so one statement
 * never holds the write lock for long nor grows the WAL by much. */
#define STORE_PRUNE_CHUNK 2000
/* Chunk statements per retention transaction (one transaction after each
 * batch; back to back when the queue is empty). */
#define STORE_PRUNE_STEPS 8
/* A new retention pass starts when the cutoff has moved by this fraction
 * of the retention period since the last pass (1 h for 30 days). */
#define STORE_PRUNE_EVERY 720

#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 2000
/* How long store_close keeps retrying a failing batch before it gives up
 * and reports the records it could not write. */
#define STORE_CLOSE_GRACE_NS ((int64_t)10 * 1000000000)
/* The checkpointer copies the WAL back once it holds this many frames
 * (SQLite's own autocheckpoint default, which the writer turns off). */
#define STORE_CKPT_FRAMES 1000
/* When the WAL file passes wal_max_bytes the checkpointer tries a TRUNCATE
 * checkpoint, once a second at most.  It blocks the writer while it waits
 * for readers, so it waits only this long each time: a reader that stays
 * costs the writer a few percent, readers that come and go leave gaps. */
#define STORE_TRUNCATE_WAIT_MS 20
#define STORE_RETRY_NS ((int64_t)1000000000)

#define STORE_NS_PER_DAY ((int64_t)86400 * 1000000000)
/* Rows per INSERT for alerts and prints (store_exec_rows). */
#define STORE_MULTI 16

/* ---- the schema --------------------------------------------------------
 * store_steps[i] brings user_version i to i + 1.  The text is
 * docs/store-schema.sql, step for step and byte for byte (comments
 * included: SQLite keeps a CREATE statement's text in sqlite_master, and
 * the store suite compares that with the file's).  A new step is appended
 * here and there, and STORE_SCHEMA_VERSION moves with it; a step that has
 * shipped is never edited. */
static const char *const store_steps[] = {
    /* step 1: user_version 0 -> 1 */
    "-- ---- step 1 (user_version 1) ---------------------------------------------\n"
    "CREATE TABLE runs (\n"
    "    id            INTEGER PRIMARY KEY,      -- run id\n"
    "    started_ns    INTEGER NOT NULL,         -- wall clock, ns since epoch\n"
    "    stopped_ns    INTEGER,                  -- NULL: running, or crashed\n"
    "    version       TEXT NOT NULL,\n"
    "    config_hash   TEXT,                     -- hex FNV-1a 64 of the config file\n"
    "    mode          TEXT NOT NULL CHECK (mode IN ('live', 'replay')),\n"
    "    argv          TEXT,\n"
    "    summary       TEXT                      -- JSON counters at stop\n"
    ");\n"
    "CREATE TABLE alerts (\n"
    "    run_id        INTEGER NOT NULL,\n"
    "    id            INTEGER NOT NULL,         -- the record's id in its run\n"
    "    ts            INTEGER NOT NULL,         -- ns, event clock\n"
    "    kind          TEXT NOT NULL,\n"
    "    subject       TEXT NOT NULL,\n"
    "    venue         TEXT NOT NULL,\n"
    "    instrument    TEXT,                     -- NULL for a connection\n"
    "    severity      TEXT NOT NULL,            -- warning | critical\n"
    "    state         TEXT NOT NULL,            -- firing | resolved\n"
    "    message       TEXT NOT NULL,\n"
    "    details       TEXT NOT NULL,            -- JSON object\n"
    "    PRIMARY KEY (run_id, id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE snapshots (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    run_id        INTEGER NOT NULL,\n"
    "    ts            INTEGER NOT NULL,\n"
    "    venue         TEXT NOT NULL,\n"
    "    instrument    TEXT NOT NULL,\n"
    "    ref           REAL,                     -- NULL: no reference price\n"
    "    ref_is_mark   INTEGER,\n"
    "    mark          REAL,\n"
    "    idx_price     REAL,\n"
    "    best_bid      REAL,\n"
    "    best_ask      REAL,\n"
    "    book_valid    INTEGER NOT NULL,\n"
    "    bid_depth_0_5 REAL, bid_depth_1 REAL, bid_depth_2 REAL, bid_depth_5 REAL,\n"
    "    ask_depth_0_5 REAL, ask_depth_1 REAL, ask_depth_2 REAL, ask_depth_5 REAL,\n"
    "    long_count    INTEGER NOT NULL,\n"
    "    long_qty      REAL NOT NULL,\n"
    "    short_count   INTEGER NOT NULL,\n"
    "    short_qty     REAL NOT NULL,\n"
    "    ladder_valid  INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE snapshot_rows (\n"
    "    snapshot_id   INTEGER NOT NULL,\n"
    "    side          TEXT NOT NULL,            -- down | up\n"
    "    shock         REAL NOT NULL,\n"
    "    start_price   REAL NOT NULL,\n"
    "    rounds        INTEGER NOT NULL,\n"
    "    liquidated    INTEGER NOT NULL,\n"
    "    liquidated_qty REAL NOT NULL,\n"
    "    liquidated_notional REAL NOT NULL,\n"
    "    final_price   REAL NOT NULL,\n"
    "    move_pct      REAL NOT NULL,\n"
    "    amplification REAL,                     -- NULL as in the contract\n"
    "    exhausted     INTEGER NOT NULL,\n"
    "    unfilled_qty  REAL NOT NULL,\n"
    "    vwap          REAL,                     -- NULL: nothing filled\n"
    "    PRIMARY KEY (snapshot_id, side, shock)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE liq_prints (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    run_id        INTEGER NOT NULL,\n"
    "    ts            INTEGER NOT NULL,         -- receive time\n"
    "    venue_ts      INTEGER,\n"
    "    venue         TEXT NOT NULL,\n"
    "    instrument    TEXT NOT NULL,\n"
    "    side          TEXT NOT NULL,            -- long | short: the side liquidated\n"
    "    price         REAL NOT NULL,\n"
    "    price_kind    TEXT NOT NULL,            -- order | avg_fill | bankruptcy\n"
    "    qty           REAL NOT NULL,            -- base units\n"
    "    notional      REAL NOT NULL,            -- qty * price\n"
    "    coverage      TEXT NOT NULL             -- sampled | complete\n"
    ");\n"
    "CREATE TABLE feed_events (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    run_id        INTEGER NOT NULL,\n"
    "    ts            INTEGER NOT NULL,\n"
    "    venue         TEXT NOT NULL,\n"
    "    conn          TEXT,\n"
    "    instrument    TEXT,\n"
    "    kind          TEXT NOT NULL,\n"
    "    reason        TEXT\n"
    ");\n"
    "CREATE TABLE positions (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    run_id        INTEGER NOT NULL,\n"
    "    ts            INTEGER NOT NULL,\n"
    "    instrument    TEXT NOT NULL,\n"
    "    pos_id        TEXT NOT NULL,\n"
    "    account       TEXT NOT NULL,\n"
    "    side          TEXT NOT NULL,\n"
    "    qty           REAL NOT NULL,\n"
    "    entry         REAL,\n"
    "    margin        REAL,\n"
    "    liq_price     REAL,\n"
    "    change        TEXT NOT NULL,            -- load add update remove liquidated\n"
    "    source        TEXT NOT NULL             -- file api engine\n"
    ");\n"
    ,
    /* step 2: user_version 1 -> 2 */
    "-- ---- step 2 (user_version 2) ---------------------------------------------\n"
    "-- How far the visible book reaches, open interest, and reject counts.\n"
    "ALTER TABLE snapshots ADD COLUMN bid_reach_pct REAL;\n"
    "ALTER TABLE snapshots ADD COLUMN ask_reach_pct REAL;\n"
    "ALTER TABLE snapshots ADD COLUMN open_interest REAL;   -- NULL: not published\n"
    "ALTER TABLE feed_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;\n"
    ,
    /* step 3: user_version 2 -> 3 */
    "-- ---- step 3 (user_version 3) ---------------------------------------------\n"
    "-- The liquidation map of each snapshot (mapmodel.h JSON, without the ladder\n"
    "-- rows, which are in snapshot_rows).\n"
    "ALTER TABLE snapshots ADD COLUMN map TEXT;              -- NULL: none\n"
    ,
    /* step 4: user_version 3 -> 4 */
    "-- ---- step 4 (user_version 4) ---------------------------------------------\n"
    "-- The control API's position changes as they stand: the latest per\n"
    "-- position, replayed over the positions file at every start and reload,\n"
    "-- so that what the API changed survives a restart.  Never pruned.\n"
    "CREATE TABLE api_positions (\n"
    "    instrument    TEXT NOT NULL,            -- VENUE:SYMBOL\n"
    "    pos_id        TEXT NOT NULL,\n"
    "    ts            INTEGER NOT NULL,         -- ns, of the latest change\n"
    "    change        TEXT NOT NULL,            -- add | update | remove\n"
    "    spec          TEXT,                     -- the position as one JSON Lines\n"
    "                                            -- row of a positions file (exact\n"
    "                                            -- qty); NULL for remove\n"
    "    PRIMARY KEY (instrument, pos_id)\n"
    ") WITHOUT ROWID;\n"
    ,
};

_Static_assert(sizeof(store_steps) / sizeof(store_steps[0]) == STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* ---- messages ---------------------------------------------------------- */

enum store_msg_kind {
    STORE_MSG_ALERT,
    STORE_MSG_SNAPSHOT,
    STORE_MSG_PRINT,
    STORE_MSG_FEED,
    STORE_MSG_POSITION,
};

struct store_inst;

/* One queued record.  Its strings and ladder rows live in the same
 * allocation, after the struct: the put that builds it copies everything,
 * one free() on the loop thread ends it (Q5). */
struct store_msg {
    struct store_msg *prev, *next;  /* (mu) while queued; then next links
                                       what the writer took, then done_head */
    struct store_inst *inst;        /* snapshots: their instrument */
    uint64_t seq;                   /* its queue slot (Q2) */
    enum store_msg_kind kind;
    size_t rows;                    /* rows it writes: 1 + ladder rows */
    int64_t ts;                     /* event clock, for retention */
    union {
        struct alert_record alert;
        struct store_snapshot snap;
        struct store_print print;
        struct store_feed_event feed;
        struct store_position pos;
    } u;
};

/* The instrument table: one entry per instrument ever snapshotted, so a
 * full queue can find the snapshot to replace without a scan.  The table
 * itself is the loop's (only store_put_snapshot reads or grows it);
 * entries never move or go before store_close, so a queued message may
 * point at one. */
struct store_inst {
    char *name;
    uint64_t hash;
    struct store_msg *queued;       /* Q3: may have gone; see queued_seq */
    uint64_t queued_seq;
};

/* ---- retention walks -----------------------------------------------------
 * A walk visits a table in primary-key order, STORE_PRUNE_CHUNK rows per
 * step: it finds the key of the 2000th row from lo (and of the row after
 * it), then deletes the old rows of [lo, hi] in one statement.  So each
 * statement reads and deletes at most 2000 rows through the primary key,
 * whatever the table's size, and no index on ts is needed.  alerts and
 * snapshot_rows are WITHOUT ROWID: their keys are row values.
 * snapshot_rows is walked after snapshots and deletes the rows whose
 * snapshot is gone (crash leftovers included). */
#define STORE_WALK_MAXKEY 3

struct store_walk {
    const char *table;
    const char *key;                /* "id", "run_id, id", ... */
    int nkey;
    const char *cond;               /* which rows of a chunk are old */
    sqlite3_stmt *first, *keys, *del, *del_tail;
    sqlite3_value *lo[STORE_WALK_MAXKEY]; /* NULL before the first step */
    int done;
};

static const struct {
    const char *table, *key;
    int nkey;
    const char *cond;
} store_walk_defs[] = {
    { "snapshots", "id", 1, "ts < ?7" },
    { "snapshot_rows", "snapshot_id, side, shock", 3,
      "NOT EXISTS (SELECT 1 FROM snapshots WHERE snapshots.id = "
      "snapshot_rows.snapshot_id)" },
    { "alerts", "run_id, id", 2, "ts < ?7" },
    { "liq_prints", "id", 1, "ts < ?7" },
    { "feed_events", "id", 1, "ts < ?7" },
    { "positions", "id", 1, "ts < ?7" },
};
#define STORE_NWALKS (sizeof(store_walk_defs) / sizeof(store_walk_defs[0]))

/* ---- the store ---------------------------------------------------------- */

struct store {
    /* Set by store_open, read-only afterwards. */
    char *path;
    char *wal_path;
    size_t queue_max, batch_max;
    int busy_timeout_ms;
    int64_t retention_ns;           /* 0: keep everything */
    int64_t wal_max_bytes;
    int ck_frames;                  /* WAL frames that call the checkpointer:
                                       STORE_CKPT_FRAMES, or fewer when
                                       wal_max_bytes holds fewer */
    int64_t run_id;
    pthread_t thread, ck_thread;
    int thread_started, ck_started;
    int sync_init;                  /* the mutexes and conditions exist */

    /* The loop thread's. */
    struct store_inst **itab;       /* open addressing, cap a power of 2 */
    size_t itab_cap, itab_n;
    struct store_msg *reclaim;      /* taken from done_head, to free (Q5) */

    pthread_mutex_t mu;
    pthread_cond_t wake;            /* the writer: work, unpause, stop */
    pthread_cond_t done_cv;         /* flushers: done_count moved, failed */
    /* The checkpointer's own lock, so the writer's WAL hook never takes
     * the loop's. */
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;           /* the checkpointer: request, stop */
    struct store_msg *q_head, *q_tail;  /* (mu) Q1 */
    size_t qlen;                        /* (mu) */
    uint64_t enq_count, taken_seq, done_count;  /* (mu) Q2 */
    int paused, stopping;               /* (mu) */
    int failed;                         /* (mu): published by store_write */
    int fatal;                          /* the writer's own: store_fail */
    int64_t stop_deadline;              /* (mu) monotonic ns */
    struct store_stats st;              /* (mu) but queue_depth, queue_max */
    int ck_request, ck_stop;            /* (ck_mu) */
    struct store_msg *done_head;        /* (mu) written, for the loop (Q5) */

    /* The writer's (see the top comment). */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *ins_alert, *ins_snap, *ins_row, *ins_print, *ins_feed,
                 *ins_pos, *ups_api;
    sqlite3_stmt *ins_alert_n, *ins_print_n;    /* STORE_MULTI rows each */
    struct store_walk walks[STORE_NWALKS];
    size_t walk_cur;                /* walk in progress; STORE_NWALKS: none */
    int64_t max_ts;                 /* newest ts taken; INT64_MIN: none yet */
    int64_t pass_cutoff;            /* cutoff of the pass running or last */
    int have_pass;
    int64_t prune_next_try;         /* monotonic ns; after a failed prune */
    uint64_t w_rows, w_batches;     /* committed, not yet in st */
    int in_error;                   /* batches failing (logged once) */
    int prune_error;                /* retention failing (logged once) */
    char errbuf[200];               /* the last SQLite failure, for st */

    /* The checkpointer's: its own connection, so the fsyncs of a
     * checkpoint never hold up a commit. */
    sqlite3 *ckdb;
    int wal_over;                   /* WAL above wal_max_bytes (logged once) */
    int64_t wal_next_try;           /* monotonic ns of the next TRUNCATE */
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t store_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t store_wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void store_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void store_config_default(struct store_config *c)
{
    memset(c, 0, sizeof(*c));
    c->queue_max = 65536;
    c->batch_max = 4096;
    c->busy_timeout_ms = 5000;
    c->retention_days = 30;
    c->wal_max_bytes = (int64_t)64 << 20;
}

int64_t store_run_id(const store_t *s)
{
    return s->run_id;
}

/* ---- building messages (loop thread) ----------------------------------- */

static size_t store_strsize(const char *p)
{
    return p ? strlen(p) + 1 : 0;
}

/* Copy p to *cur and move *cur past it; NULL stays NULL. */
static const char *store_strcopy(char **cur, const char *p)
{
    size_t n;
    char *out = *cur;

    if (p == NULL)
        return NULL;
    n = strlen(p) + 1;
    memcpy(out, p, n);
    *cur += n;
    return out;
}

/* One allocation: the message, then nrows ladder rows (aligned for their
 * __int128 fields), then strbytes of strings at *strings. */
static struct store_msg *store_msg_new(enum store_msg_kind kind, size_t nrows,
                                       size_t strbytes, int64_t ts,
                                       char **strings)
{
    const size_t ra = alignof(struct cascade_row);
    size_t off = (sizeof(struct store_msg) + ra - 1) / ra * ra;
    size_t rowbytes = nrows * sizeof(struct cascade_row);
    struct store_msg *m;

    if (nrows > (SIZE_MAX - off - strbytes) / sizeof(struct cascade_row))
        return NULL;
    /* malloc's alignment (max_align_t) covers the rows' alignment. */
    _Static_assert(alignof(struct cascade_row) <= alignof(max_align_t),
                   "malloc aligns ladder rows");
    m = malloc(off + rowbytes + strbytes);
    if (m == NULL)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->rows = 1 + nrows;
    m->ts = ts;
    *strings = (char *)m + off + rowbytes;
    return m;
}

static struct cascade_row *store_msg_rows(struct store_msg *m)
{
    const size_t ra = alignof(struct cascade_row);

    return (struct cascade_row *)((char *)m + (sizeof(struct store_msg) + ra - 1) / ra * ra);
}

static uint64_t store_hash(const char *p)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* The entry of instrument name, created if new; NULL when out of memory.
 * Loop thread only (Q3). */
static struct store_inst *store_inst_get(store_t *s, const char *name)
{
    uint64_t h = store_hash(name);
    struct store_inst *e;
    size_t i, mask;

    if (s->itab_n * 2 >= s->itab_cap) {
        size_t ncap = s->itab_cap ? s->itab_cap * 2 : 64;
        struct store_inst **nt = calloc(ncap, sizeof(*nt));

        if (nt == NULL)
            return NULL;
        for (i = 0; i < s->itab_cap; i++) {
            size_t j;

            if (s->itab[i] == NULL)
                continue;
            for (j = s->itab[i]->hash & (ncap - 1); nt[j]; j = (j + 1) & (ncap - 1))
                ;
            nt[j] = s->itab[i];
        }
        free(s->itab);
        s->itab = nt;
        s->itab_cap = ncap;
    }
    mask = s->itab_cap - 1;
    for (i = h & mask; (e = s->itab[i]) != NULL; i = (i + 1) & mask)
        if (e->hash == h && strcmp(e->name, name) == 0)
            return e;
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->name = strdup(name)) == NULL) {
        free(e);
        return NULL;
    }
    e->hash = h;
    s->itab[i] = e;
    s->itab_n++;
    return e;
}

/* Free a few written messages (Q5).  A put adds at most one message, so
 * freeing more than one per put keeps the written lists from growing;
 * what is left when the loop goes quiet waits for the next put or for
 * store_close. */
#define STORE_FREE_PER_PUT 16

static void store_reclaim(store_t *s)
{
    for (int i = 0; i < STORE_FREE_PER_PUT && s->reclaim != NULL; i++) {
        struct store_msg *m = s->reclaim;

        s->reclaim = m->next;
        free(m);
    }
}

/* Queue m (the store owns it from here, whatever happens).  droppable:
 * subject to the bound (Q4).  0 when queued, -1 when not. */
static int store_push(store_t *s, struct store_msg *m, int droppable)
{
    struct store_msg *old = NULL;
    int ret = 0;

    pthread_mutex_lock(&s->mu);
    if (s->reclaim == NULL) {
        s->reclaim = s->done_head;
        s->done_head = NULL;
    }
    if (s->failed || s->stopping) {
        s->st.lost++;
        ret = -1;
    } else if (droppable && s->qlen >= s->queue_max) {
        if (m->inst && m->inst->queued && m->inst->queued_seq > s->taken_seq)
            old = m->inst->queued;                      /* Q3 */
        if (old != NULL) {
            /* Coalesce: m takes old's slot and seq (Q2). */
            m->seq = old->seq;
            m->prev = old->prev;
            m->next = old->next;
            if (m->prev)
                m->prev->next = m;
            else
                s->q_head = m;
            if (m->next)
                m->next->prev = m;
            else
                s->q_tail = m;
            m->inst->queued = m;
            s->st.coalesced++;
            s->st.queued++;
            m = NULL;
        } else {
            s->st.dropped++;
            ret = -1;
        }
    } else {
        m->prev = s->q_tail;
        m->next = NULL;
        if (s->q_tail)
            s->q_tail->next = m;
        else
            s->q_head = m;
        s->q_tail = m;
        m->seq = ++s->enq_count;
        if (m->inst) {
            m->inst->queued = m;
            m->inst->queued_seq = m->seq;
        }
        s->qlen++;
        s->st.queued++;
        pthread_cond_signal(&s->wake);
        m = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(old);          /* replaced: never taken, so still the loop's */
    free(m);            /* refused */
    store_reclaim(s);
    return ret;
}

/* A put that cannot even build its message counts it lost. */
static int store_refuse(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->st.lost++;
    pthread_mutex_unlock(&s->mu);
    return -1;
}

int store_put_alert(store_t *s, const struct alert_record *r)
{
    const char *details, *kind;
    struct store_msg *m;
    char *cur;

    if (s == NULL || r == NULL || r->subject == NULL || r->venue == NULL ||
        r->message == NULL)
        return -1;
    details = r->details ? r->details : "{}";
    kind = r->kind_name ? r->kind_name : alert_kind_name(r->kind);
    m = store_msg_new(STORE_MSG_ALERT, 0,
                      store_strsize(kind) + store_strsize(r->subject) +
                      store_strsize(r->venue) + store_strsize(r->instrument) +
                      store_strsize(r->message) + store_strsize(details), r->ts, &cur);
    if (m == NULL)
        return store_refuse(s);
    m->u.alert = *r;
    /* an extra kind (alerts_raise_extra) has only its name */
    m->u.alert.kind_name = store_strcopy(&cur, kind);
    m->u.alert.subject = store_strcopy(&cur, r->subject);
    m->u.alert.venue = store_strcopy(&cur, r->venue);
    m->u.alert.instrument = store_strcopy(&cur, r->instrument);
    m->u.alert.message = store_strcopy(&cur, r->message);
    m->u.alert.details = store_strcopy(&cur, details);
    return store_push(s, m, 0);         /* alerts are never dropped */
}

int store_put_snapshot(store_t *s, const struct store_snapshot *sn)
{
    struct store_inst *inst;
    struct store_msg *m;
    size_t nrows;
    char *cur;

    if (s == NULL || sn == NULL || sn->venue == NULL || sn->instrument == NULL)
        return -1;
    nrows = sn->ladder_valid ? sn->nrows : 0;
    if (nrows > 0 && sn->rows == NULL)
        return -1;
    inst = store_inst_get(s, sn->instrument);
    m = inst ? store_msg_new(STORE_MSG_SNAPSHOT, nrows,
                             store_strsize(sn->venue) +
                             store_strsize(sn->instrument) +
                             store_strsize(sn->map), sn->ts, &cur)
             : NULL;
    if (m == NULL)
        return store_refuse(s);
    m->inst = inst;
    m->u.snap = *sn;
    m->u.snap.venue = store_strcopy(&cur, sn->venue);
    m->u.snap.instrument = store_strcopy(&cur, sn->instrument);
    m->u.snap.map = store_strcopy(&cur, sn->map);
    m->u.snap.nrows = nrows;
    m->u.snap.rows = nrows ? store_msg_rows(m) : NULL;
    if (nrows)
        memcpy(store_msg_rows(m), sn->rows, nrows * sizeof(*sn->rows));
    return store_push(s, m, 1);
}

int store_put_print(store_t *s, const struct store_print *p)
{
    struct store_msg *m;
    char *cur;

    if (s == NULL || p == NULL || p->venue == NULL || p->instrument == NULL ||
        p->price_kind == NULL || p->coverage == NULL)
        return -1;
    m = store_msg_new(STORE_MSG_PRINT, 0,
                      store_strsize(p->venue) + store_strsize(p->instrument) +
                      store_strsize(p->price_kind) + store_strsize(p->coverage),
                      p->ts, &cur);
    if (m == NULL)
        return store_refuse(s);
    m->u.print = *p;
    m->u.print.venue = store_strcopy(&cur, p->venue);
    m->u.print.instrument = store_strcopy(&cur, p->instrument);
    m->u.print.price_kind = store_strcopy(&cur, p->price_kind);
    m->u.print.coverage = store_strcopy(&cur, p->coverage);
    return store_push(s, m, 1);
}

int store_put_feed_event(store_t *s, const struct store_feed_event *f)
{
    struct store_msg *m;
    char *cur;

    if (s == NULL || f == NULL || f->venue == NULL || f->kind == NULL)
        return -1;
    m = store_msg_new(STORE_MSG_FEED, 0,
                      store_strsize(f->venue) + store_strsize(f->conn) +
                      store_strsize(f->instrument) + store_strsize(f->kind) +
                      store_strsize(f->reason), f->ts, &cur);
    if (m == NULL)
        return store_refuse(s);
    m->u.feed = *f;
    m->u.feed.venue = store_strcopy(&cur, f->venue);
    m->u.feed.conn = store_strcopy(&cur, f->conn);
    m->u.feed.instrument = store_strcopy(&cur, f->instrument);
    m->u.feed.kind = store_strcopy(&cur, f->kind);
    m->u.feed.reason = store_strcopy(&cur, f->reason);
    return store_push(s, m, 1);
}

int store_put_position(store_t *s, const struct store_position *p)
{
    const char *account;
    struct store_msg *m;
    char *cur;

    if (s == NULL || p == NULL || p->instrument == NULL || p->pos_id == NULL ||
        p->side == NULL || p->change == NULL || p->source == NULL)
        return -1;
    account = p->account ? p->account : "";
    m = store_msg_new(STORE_MSG_POSITION, 0,
                      store_strsize(p->instrument) + store_strsize(p->pos_id) +
                      store_strsize(account) + store_strsize(p->side) +
                      store_strsize(p->change) + store_strsize(p->source) +
                      store_strsize(p->spec), p->ts, &cur);
    if (m == NULL)
        return store_refuse(s);
    m->u.pos = *p;
    m->u.pos.instrument = store_strcopy(&cur, p->instrument);
    m->u.pos.pos_id = store_strcopy(&cur, p->pos_id);
    m->u.pos.account = store_strcopy(&cur, account);
    m->u.pos.side = store_strcopy(&cur, p->side);
    m->u.pos.change = store_strcopy(&cur, p->change);
    m->u.pos.source = store_strcopy(&cur, p->source);
    m->u.pos.spec = store_strcopy(&cur, p->spec);
    return store_push(s, m, 1);
}

int store_flush(store_t *s)
{
    uint64_t target;
    int ret;

    pthread_mutex_lock(&s->mu);
    target = s->enq_count;
    while (s->done_count < target && !s->failed)
        pthread_cond_wait(&s->done_cv, &s->mu);
    ret = s->failed ? -1 : 0;
    pthread_mutex_unlock(&s->mu);
    return ret;
}

void store_get_stats(store_t *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->queue_depth = s->qlen;
    out->queue_max = s->queue_max;
    pthread_mutex_unlock(&s->mu);
}

/* A read-only connection of its own to the file at path (the readers
 * below run beside the writer: WAL readers never block it).  0, or -1
 * with err naming the file; *db is then closed or NULL. */
static int store_open_ro(const char *path, sqlite3 **db, lq_err_t *err)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        lq_err_set(err, "%s: cannot open the store read-only: %s", path,
                   *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    return 0;
}

/* The newest max alert records of every run, oldest first: the PK walked
 * backwards (run_id, id), so the cost is the rows read, not the table. */
int store_read_recent_alerts(const char *path, size_t max, store_alert_fn fn,
                             void *arg, lq_err_t *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc, n = 0;

    if (store_open_ro(path, &db, err) != 0)
        goto fail;
    if (sqlite3_prepare_v2(db, "SELECT id, ts, kind, subject, venue, instrument, "
                           "severity, state, message, details FROM (SELECT * FROM "
                           "alerts ORDER BY run_id DESC, id DESC LIMIT ?) ORDER BY "
                           "run_id, id", -1, &st, NULL) != SQLITE_OK) {
        lq_err_set(err, "%s: alerts: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(max > (size_t)INT64_MAX ? (size_t)INT64_MAX : max));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct alert_record r;
        const char *sev = (const char *)sqlite3_column_text(st, 6);
        const char *state = (const char *)sqlite3_column_text(st, 7);
        int k;

        memset(&r, 0, sizeof(r));
        r.id = (uint64_t)sqlite3_column_int64(st, 0);
        r.ts = sqlite3_column_int64(st, 1);
        r.kind_name = (const char *)sqlite3_column_text(st, 2);
        k = r.kind_name ? alert_kind_from_name(r.kind_name) : -1;
        r.kind = k >= 0 ? (enum alert_kind)k : ALERT_KIND_COUNT;
        r.subject = (const char *)sqlite3_column_text(st, 3);
        r.venue = (const char *)sqlite3_column_text(st, 4);
        r.instrument = (const char *)sqlite3_column_text(st, 5);
        r.severity = sev && strcmp(sev, "critical") == 0 ? ALERT_CRITICAL : ALERT_WARNING;
        r.resolved = state && strcmp(state, "resolved") == 0;
        r.message = (const char *)sqlite3_column_text(st, 8);
        r.details = (const char *)sqlite3_column_text(st, 9);
        if (r.kind_name == NULL || r.subject == NULL || r.venue == NULL ||
            r.message == NULL || r.details == NULL)
            continue;                  /* NOT NULL columns: a damaged file */
        if (fn(&r, arg) != 0)
            break;
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        lq_err_set(err, "%s: alerts: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
fail:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return -1;
}

/* A connection of its own, read-only: callable while the writer runs
 * (WAL readers never block it).  Called at start and on reload, never on
 * the hot path. */
int store_read_api_positions(const char *path, store_api_fn fn, void *arg,
                             lq_err_t *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc, n = 0;

    if (store_open_ro(path, &db, err) != 0)
        goto fail;
    rc = sqlite3_prepare_v2(db, "SELECT instrument, pos_id, change, spec FROM "
                            "api_positions ORDER BY ts, instrument, pos_id", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* A store from before schema version 4 has no overlay yet. */
        if (strstr(sqlite3_errmsg(db), "no such table") != NULL)
            goto done;
        lq_err_set(err, "%s: api_positions: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *spec = (const char *)sqlite3_column_text(st, 3);
        if (fn((const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1),
               (const char *)sqlite3_column_text(st, 2), spec, arg) != 0)
            break;
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        lq_err_set(err, "%s: api_positions: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
fail:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return -1;
}

void store_debug_pause(store_t *s, int paused)
{
    pthread_mutex_lock(&s->mu);
    s->paused = paused != 0;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

/* ---- writing (writer thread) --------------------------------------------- */

/* Binding a statement's parameters in order; the first failure sticks. */
struct store_bind {
    sqlite3_stmt *st;
    int i;
    int rc;
};

static void sb_int(struct store_bind *b, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_int64(b->st, ++b->i, v);
}

static void sb_null(struct store_bind *b)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_null(b->st, ++b->i);
}

/* A real, or NULL when absent; NaN is always NULL (SQLite has no NaN). */
static void sb_real_if(struct store_bind *b, int present, double v)
{
    if (!present || isnan(v))
        sb_null(b);
    else if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_double(b->st, ++b->i, v);
}

static void sb_real(struct store_bind *b, double v)
{
    sb_real_if(b, 1, v);
}

/* Text, or NULL for NULL.  SQLITE_STATIC: the message outlives the step
 * (store_exec_batch resets every statement before freeing anything). */
static void sb_text(struct store_bind *b, const char *p)
{
    if (p == NULL)
        sb_null(b);
    else if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_text(b->st, ++b->i, p, -1, SQLITE_STATIC);
}

/* Step an insert once and reset it: SQLITE_OK or the failure. */
static int sb_step(struct store_bind *b)
{
    int rc = b->rc;

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(b->st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_reset(b->st);
    return rc;
}

/* An alert's 11 parameters, from b's next one on. */
static void store_bind_alert(struct store_bind *b, const store_t *s,
                             const struct alert_record *r)
{
    sb_int(b, s->run_id);
    sb_int(b, (int64_t)r->id);
    sb_int(b, r->ts);
    sb_text(b, r->kind_name);
    sb_text(b, r->subject);
    sb_text(b, r->venue);
    sb_text(b, r->instrument);
    sb_text(b, alert_level_name(r->severity));
    sb_text(b, r->resolved ? "resolved" : "firing");
    sb_text(b, r->message);
    sb_text(b, r->details);
}

static int store_exec_snapshot(store_t *s, const struct store_snapshot *sn)
{
    struct store_bind b = { s->ins_snap, 0, SQLITE_OK };
    int64_t snapshot_id;
    int rc, has_ref = sn->ref != 0;

    sb_int(&b, s->run_id);
    sb_int(&b, sn->ts);
    sb_text(&b, sn->venue);
    sb_text(&b, sn->instrument);
    sb_real_if(&b, has_ref, sn->ref);
    if (has_ref)
        sb_int(&b, sn->ref_is_mark != 0);
    else
        sb_null(&b);
    sb_real_if(&b, sn->mark != 0, sn->mark);
    sb_real_if(&b, sn->index != 0, sn->index);
    sb_real_if(&b, sn->best_bid != 0, sn->best_bid);
    sb_real_if(&b, sn->best_ask != 0, sn->best_ask);
    sb_int(&b, sn->book_valid != 0);
    for (int i = 0; i < 4; i++)
        sb_real(&b, sn->bid_depth[i]);
    for (int i = 0; i < 4; i++)
        sb_real(&b, sn->ask_depth[i]);
    sb_int(&b, (int64_t)sn->long_count);
    sb_real(&b, sn->long_qty);
    sb_int(&b, (int64_t)sn->short_count);
    sb_real(&b, sn->short_qty);
    sb_int(&b, sn->ladder_valid != 0);
    sb_real(&b, sn->bid_reach_pct);
    sb_real(&b, sn->ask_reach_pct);
    sb_real_if(&b, sn->open_interest >= 0, sn->open_interest);
    sb_text(&b, sn->map);
    if ((rc = sb_step(&b)) != SQLITE_OK)
        return rc;
    /* The row just inserted, on this connection: nobody else writes. */
    snapshot_id = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; i < sn->nrows; i++) {
        const struct cascade_row *r = &sn->rows[i];
        struct store_bind rb = { s->ins_row, 0, SQLITE_OK };

        sb_int(&rb, snapshot_id);
        sb_text(&rb, cascade_dir_name(r->side));
        sb_real(&rb, r->shock);
        sb_real(&rb, r->start_price);
        sb_int(&rb, r->rounds);
        sb_int(&rb, (int64_t)r->liquidated);
        sb_real(&rb, dec_to_double(r->liquidated_qty));
        sb_real(&rb, r->liquidated_notional);
        sb_real(&rb, r->final_price);
        sb_real(&rb, r->move_pct);
        sb_real_if(&rb, r->has_amplification, r->amplification);
        sb_int(&rb, r->exhausted != 0);
        sb_real(&rb, dec_to_double(r->unfilled_qty));
        sb_real_if(&rb, r->has_vwap, r->vwap);
        if ((rc = sb_step(&rb)) != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* A print's 11 parameters, from b's next one on. */
static void store_bind_print(struct store_bind *b, const store_t *s,
                             const struct store_print *p)
{
    sb_int(b, s->run_id);
    sb_int(b, p->ts);
    if (p->venue_ts != 0)
        sb_int(b, p->venue_ts);
    else
        sb_null(b);
    sb_text(b, p->venue);
    sb_text(b, p->instrument);
    sb_text(b, p->liquidated_long ? "long" : "short");
    sb_real(b, p->price);
    sb_text(b, p->price_kind);
    sb_real(b, p->qty);
    sb_real(b, p->qty * p->price);
    sb_text(b, p->coverage);
}

/* Alerts and prints, the kinds that come in floods, are inserted
 * STORE_MULTI rows to a statement (ins_alert_n, ins_print_n): stepping a
 * statement costs about as much as binding its row, so this saves a
 * third of the writer's time on them (bench_store).  v[0..n) are of one
 * kind; n is 1 or STORE_MULTI. */
static int store_exec_rows(store_t *s, enum store_msg_kind kind,
                           const struct store_msg *const *v, size_t n)
{
    struct store_bind b = { NULL, 0, SQLITE_OK };

    if (kind == STORE_MSG_ALERT)
        b.st = n == 1 ? s->ins_alert : s->ins_alert_n;
    else
        b.st = n == 1 ? s->ins_print : s->ins_print_n;
    for (size_t i = 0; i < n; i++) {
        if (kind == STORE_MSG_ALERT)
            store_bind_alert(&b, s, &v[i]->u.alert);
        else
            store_bind_print(&b, s, &v[i]->u.print);
    }
    return sb_step(&b);
}

static int store_exec_feed(store_t *s, const struct store_feed_event *f)
{
    struct store_bind b = { s->ins_feed, 0, SQLITE_OK };

    sb_int(&b, s->run_id);
    sb_int(&b, f->ts);
    sb_text(&b, f->venue);
    sb_text(&b, f->conn);
    sb_text(&b, f->instrument);
    sb_text(&b, f->kind);
    sb_text(&b, f->reason);
    sb_int(&b, (int64_t)f->count);
    return sb_step(&b);
}

static int store_exec_position(store_t *s, const struct store_position *p)
{
    struct store_bind b = { s->ins_pos, 0, SQLITE_OK };
    int rc;

    sb_int(&b, s->run_id);
    sb_int(&b, p->ts);
    sb_text(&b, p->instrument);
    sb_text(&b, p->pos_id);
    sb_text(&b, p->account);
    sb_text(&b, p->side);
    sb_real(&b, p->qty);
    sb_real(&b, p->entry);
    sb_real_if(&b, p->margin != 0, p->margin);
    sb_real(&b, p->liq_price);
    sb_text(&b, p->change);
    sb_text(&b, p->source);
    if ((rc = sb_step(&b)) != SQLITE_OK || strcmp(p->source, "api") != 0)
        return rc;
    /* The API's change also replaces the position's standing change, in
     * the same transaction: history and overlay never disagree. */
    b.st = s->ups_api;
    b.i = 0;
    sb_text(&b, p->instrument);
    sb_text(&b, p->pos_id);
    sb_int(&b, p->ts);
    sb_text(&b, p->change);
    sb_text(&b, strcmp(p->change, "remove") == 0 ? NULL : p->spec);
    return sb_step(&b);
}

static const char *store_msg_table(enum store_msg_kind k)
{
    switch (k) {
    case STORE_MSG_ALERT: return "alerts";
    case STORE_MSG_SNAPSHOT: return "snapshots";
    case STORE_MSG_PRINT: return "liq_prints";
    case STORE_MSG_FEED: return "feed_events";
    case STORE_MSG_POSITION: return "positions";
    }
    return "?";
}

/* One snapshot, feed event or position. */
static int store_exec_msg(store_t *s, const struct store_msg *m)
{
    switch (m->kind) {
    case STORE_MSG_SNAPSHOT: return store_exec_snapshot(s, &m->u.snap);
    case STORE_MSG_FEED: return store_exec_feed(s, &m->u.feed);
    case STORE_MSG_POSITION: return store_exec_position(s, &m->u.pos);
    case STORE_MSG_ALERT:
    case STORE_MSG_PRINT:
        break;
    }
    return SQLITE_MISUSE;
}

/* Step a statement that returns no row (BEGIN, COMMIT...) and reset it. */
static int store_step_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Roll back whatever is open; after some errors (full, I/O) SQLite has
 * rolled back already and a ROLLBACK would only fail. */
static void store_rollback(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)store_step_once(s->rollback);
}

/* Keep the failure's text (before a rollback replaces it). */
static void store_note_sqlite(store_t *s, const char *what, int rc)
{
    snprintf(s->errbuf, sizeof(s->errbuf), "%s: %s (%s)", what,
             sqlite3_errmsg(s->db), sqlite3_errstr(rc));
}

/* n messages from first, in one transaction.  SQLITE_OK when committed;
 * otherwise rolled back, errbuf says what failed. */
static int store_exec_batch(store_t *s, const struct store_msg *first, size_t n)
{
    static const enum store_msg_kind multi[] = { STORE_MSG_ALERT,
                                                 STORE_MSG_PRINT };
    const struct store_msg *group[STORE_MULTI];
    const struct store_msg *m;
    size_t i, k;
    int rc;

    if ((rc = store_step_once(s->begin)) != SQLITE_OK) {
        store_note_sqlite(s, "begin", rc);
        goto fail;
    }
    /* Alerts, then prints, STORE_MULTI at a time, then the rest one by
     * one.  Each kind keeps its order (the rowids of prints follow the
     * queue); the order across kinds does not matter inside one
     * transaction. */
    for (size_t t = 0; t < sizeof(multi) / sizeof(multi[0]); t++) {
        for (m = first, i = 0, k = 0; i < n; i++, m = m->next) {
            if (m->kind != multi[t])
                continue;
            group[k++] = m;
            if (k == STORE_MULTI) {
                if ((rc = store_exec_rows(s, multi[t], group, k)) != SQLITE_OK)
                    goto fail_kind;
                k = 0;
            }
        }
        for (i = 0; i < k; i++)
            if ((rc = store_exec_rows(s, multi[t], &group[i], 1)) != SQLITE_OK)
                goto fail_kind;
        continue;
fail_kind:
        store_note_sqlite(s, store_msg_table(multi[t]), rc);
        goto fail;
    }
    for (m = first, i = 0; i < n; i++, m = m->next) {
        if (m->kind == STORE_MSG_ALERT || m->kind == STORE_MSG_PRINT)
            continue;
        if ((rc = store_exec_msg(s, m)) != SQLITE_OK) {
            store_note_sqlite(s, store_msg_table(m->kind), rc);
            goto fail;
        }
    }
    if ((rc = store_step_once(s->commit)) != SQLITE_OK) {
        store_note_sqlite(s, "commit", rc);
        goto fail;
    }
    return SQLITE_OK;
fail:
    store_rollback(s);
    return rc;
}

enum store_class { STORE_TRANSIENT, STORE_DATA, STORE_FATAL };

static enum store_class store_classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
        return STORE_TRANSIENT;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return STORE_DATA;
    default:
        return STORE_FATAL;
    }
}

/* Count a failed transaction (mu taken here). */
static void store_count_error(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->st.errors++;
    snprintf(s->st.last_error, sizeof(s->st.last_error), "%s: %s", s->path,
             s->errbuf);
    pthread_mutex_unlock(&s->mu);
}

/* The writer gives up for good: every later message is lost, flushers are
 * released with -1.  Logged once. */
static void store_fail(store_t *s, const char *why)
{
    int was = s->fatal;

    /* Published (failed, under the lock) by store_write together with the
     * batch's lost count, so that a flusher released by the failure
     * already sees every record it lost in the stats. */
    s->fatal = 1;
    if (!was)
        log_msg(LL_ERROR, STORE_MOD, "%s: writer stopped, records from now "
                "on are lost: %s: %s", s->path, why, s->errbuf);
}

/* fatal is the writer's own (store_fail), read without the lock. */
static int store_has_failed(const store_t *s)
{
    return s->fatal;
}

/* Commit n messages from first, retrying transient failures with backoff.
 * Returns STORE_TRANSIENT (meaning: committed), STORE_DATA (SQLite refused
 * a row; nothing committed) or STORE_FATAL (the writer has failed). */
static enum store_class store_commit(store_t *s, const struct store_msg *first,
                                     size_t n)
{
    int backoff = STORE_BACKOFF_MIN_MS, attempts = 0;
    size_t rows = 0;
    const struct store_msg *m = first;

    for (size_t i = 0; i < n; i++, m = m->next)
        rows += m->rows;
    for (;;) {
        int rc, give_up;
        enum store_class cls;

        if (store_has_failed(s))
            return STORE_FATAL;
        rc = store_exec_batch(s, first, n);
        if (rc == SQLITE_OK) {
            s->w_rows += rows;          /* published by store_write */
            s->w_batches++;
            if (s->in_error) {
                log_msg(LL_INFO, STORE_MOD, "%s: writing again after %d "
                        "failed attempts", s->path, attempts);
                s->in_error = 0;
            }
            return STORE_TRANSIENT;
        }
        store_count_error(s);
        attempts++;
        cls = store_classify(rc);
        if (cls == STORE_DATA)
            return STORE_DATA;
        if (cls == STORE_FATAL) {
            store_fail(s, "cannot write");
            return STORE_FATAL;
        }
        if (!s->in_error) {
            log_msg(LL_ERROR, STORE_MOD, "%s: %s; keeping the records and "
                    "retrying", s->path, s->errbuf);
            s->in_error = 1;
        }
        pthread_mutex_lock(&s->mu);
        give_up = s->stopping && store_mono_ns() >= s->stop_deadline;
        pthread_mutex_unlock(&s->mu);
        if (give_up) {
            store_fail(s, "still failing when closing");
            return STORE_FATAL;
        }
        store_sleep_ms(backoff);
        backoff = backoff * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS
                                                     : backoff * 2;
    }
}

/* Write a batch the writer has taken, free it, and mark it done (Q2). */
static void store_write(store_t *s, struct store_msg *batch, size_t n)
{
    enum store_class cls;
    uint64_t lost = 0;
    struct store_msg *m;
    size_t i;

    for (m = batch, i = 0; i < n; i++, m = m->next)
        if (m->ts > s->max_ts)
            s->max_ts = m->ts;
    cls = store_commit(s, batch, n);
    if (cls == STORE_DATA) {
        /* Isolate the rows SQLite refuses: one message per transaction;
         * the refused ones are lost, the others written. */
        for (m = batch, i = 0; i < n; i++, m = m->next) {
            cls = store_commit(s, m, 1);
            if (cls == STORE_DATA) {
                log_msg(LL_WARN, STORE_MOD, "%s: record refused, not "
                        "stored: %s", s->path, s->errbuf);
                lost++;
            } else if (cls == STORE_FATAL) {
                lost += n - i;
                break;
            }
        }
    } else if (cls == STORE_FATAL) {
        lost = n;
    }
    /* Hand the messages back to the loop to free (Q5). */
    for (m = batch; m->next != NULL; m = m->next)
        ;
    /* The one lock of a transaction (the loop must find it free). */
    pthread_mutex_lock(&s->mu);
    m->next = s->done_head;
    s->done_head = batch;
    s->st.rows_written += s->w_rows;
    s->st.batches += s->w_batches;
    s->w_rows = s->w_batches = 0;
    s->st.lost += lost;
    s->done_count += n;
    if (s->fatal)
        s->failed = 1;
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- retention (writer thread) -------------------------------------------- */

static void store_walk_reset(struct store_walk *w)
{
    for (int k = 0; k < STORE_WALK_MAXKEY; k++) {
        sqlite3_value_free(w->lo[k]);
        w->lo[k] = NULL;
    }
    w->done = 0;
}

/* Copy the key columns of st's current row into v[]. */
static int store_walk_keep(sqlite3_stmt *st, int nkey, sqlite3_value **v)
{
    for (int k = 0; k < nkey; k++) {
        sqlite3_value_free(v[k]);
        v[k] = sqlite3_value_dup(sqlite3_column_value(st, k));
        if (v[k] == NULL)
            return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

/* Bind v[0..nkey) to ?base+1 .. ?base+nkey. */
static int store_walk_bind(sqlite3_stmt *st, int base, int nkey,
                           sqlite3_value **v)
{
    int rc = SQLITE_OK;

    for (int k = 0; k < nkey && rc == SQLITE_OK; k++)
        rc = sqlite3_bind_value(st, base + k + 1, v[k]);
    return rc;
}

/* One chunk of walk w: delete the rows of [lo, hi] (2,000 rows, or fewer
 * at the end of the table) that cond calls old.  *deleted: how many. */
static int store_walk_step(store_t *s, struct store_walk *w, int64_t cutoff,
                           int *deleted)
{
    sqlite3_value *hi[STORE_WALK_MAXKEY] = { 0 }, *next[STORE_WALK_MAXKEY] = { 0 };
    sqlite3_stmt *del;
    int rc, nrow = 0;

    *deleted = 0;
    if (w->lo[0] == NULL) {
        rc = sqlite3_step(w->first);
        if (rc == SQLITE_ROW)
            rc = store_walk_keep(w->first, w->nkey, w->lo);
        else if (rc == SQLITE_DONE)
            w->done = 1;            /* empty table */
        sqlite3_reset(w->first);
        if (rc != SQLITE_OK && rc != SQLITE_DONE) {
            store_note_sqlite(s, w->table, rc);
            goto out;
        }
        rc = SQLITE_OK;
        if (w->done)
            goto out;
    }
    /* keys: the 2,000th row from lo and the one after it. */
    rc = store_walk_bind(w->keys, 0, w->nkey, w->lo);
    while (rc == SQLITE_OK && (rc = sqlite3_step(w->keys)) == SQLITE_ROW) {
        rc = store_walk_keep(w->keys, w->nkey, nrow == 0 ? hi : next);
        nrow++;
    }
    sqlite3_reset(w->keys);
    if (rc != SQLITE_DONE) {
        store_note_sqlite(s, w->table, rc);
        goto out;
    }
    del = nrow > 0 ? w->del : w->del_tail;
    rc = store_walk_bind(del, 0, w->nkey, w->lo);
    if (rc == SQLITE_OK && nrow > 0)
        rc = store_walk_bind(del, 3, w->nkey, hi);
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(del) >= 7)
        rc = sqlite3_bind_int64(del, 7, cutoff);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(del);
    sqlite3_reset(del);
    if (rc != SQLITE_DONE) {
        store_note_sqlite(s, w->table, rc);
        goto out;
    }
    rc = SQLITE_OK;
    *deleted = sqlite3_changes(s->db);
    if (*deleted > 0)
        log_msg(LL_DEBUG, STORE_MOD, "%s: retention: %d rows from %s",
                s->path, *deleted, w->table);
    if (nrow == 2) {
        /* The row after hi is the next chunk's lo. */
        for (int k = 0; k < w->nkey; k++) {
            sqlite3_value_free(w->lo[k]);
            w->lo[k] = next[k];
            next[k] = NULL;
        }
    } else {
        w->done = 1;
    }
out:
    for (int k = 0; k < STORE_WALK_MAXKEY; k++) {
        sqlite3_value_free(hi[k]);
        sqlite3_value_free(next[k]);
    }
    return rc;
}

/* Retention work between batches: start a pass when the cutoff has moved
 * enough, then run one transaction of up to STORE_PRUNE_STEPS chunks.  A
 * failed transaction is rolled back and its pass starts over (the walks'
 * positions are not transactional) a second later. */
static void store_prune(store_t *s)
{
    int64_t cutoff, step = s->retention_ns / STORE_PRUNE_EVERY;
    uint64_t pruned = 0;
    int rc, steps = 0;

    if (s->max_ts == INT64_MIN || s->max_ts < INT64_MIN + s->retention_ns)
        return;
    cutoff = s->max_ts - s->retention_ns;
    if (s->walk_cur == STORE_NWALKS) {
        if (s->have_pass && cutoff - s->pass_cutoff < step)
            return;
        s->pass_cutoff = cutoff;
        s->have_pass = 1;
        s->walk_cur = 0;
        for (size_t i = 0; i < STORE_NWALKS; i++)
            store_walk_reset(&s->walks[i]);
    }
    if (store_mono_ns() < s->prune_next_try)
        return;
    if ((rc = store_step_once(s->begin)) != SQLITE_OK) {
        store_note_sqlite(s, "retention: begin", rc);
        goto fail;
    }
    while (s->walk_cur < STORE_NWALKS && steps < STORE_PRUNE_STEPS) {
        struct store_walk *w = &s->walks[s->walk_cur];
        int deleted;

        if ((rc = store_walk_step(s, w, s->pass_cutoff, &deleted)) != SQLITE_OK)
            goto fail;
        pruned += (uint64_t)deleted;
        steps++;
        if (w->done)
            s->walk_cur++;
    }
    if ((rc = store_step_once(s->commit)) != SQLITE_OK) {
        store_note_sqlite(s, "retention: commit", rc);
        goto fail;
    }
    pthread_mutex_lock(&s->mu);
    s->st.pruned += pruned;
    pthread_mutex_unlock(&s->mu);
    if (s->prune_error) {
        log_msg(LL_INFO, STORE_MOD, "%s: retention working again", s->path);
        s->prune_error = 0;
    }
    return;
fail:
    store_rollback(s);
    store_count_error(s);
    if (!s->prune_error) {
        log_msg(LL_ERROR, STORE_MOD, "%s: retention failed, retrying: %s",
                s->path, s->errbuf);
        s->prune_error = 1;
    }
    s->walk_cur = 0;
    for (size_t i = 0; i < STORE_NWALKS; i++)
        store_walk_reset(&s->walks[i]);
    s->prune_next_try = store_mono_ns() + STORE_RETRY_NS;
}

/* ---- the WAL (checkpointer thread) ----------------------------------------
 * The writer's connection does no checkpoint: with synchronous=NORMAL a
 * checkpoint is where the fsyncs are, and a commit that ran one would wait
 * for the disk.  Instead the writer's WAL hook asks the checkpointer once
 * the WAL holds ck_frames frames (1,000 as SQLite's autocheckpoint, fewer
 * if wal_max_bytes is smaller), and the checkpointer runs PASSIVE
 * checkpoints on its own connection, beside the writer's commits.
 *
 * PASSIVE never waits, so a reader that always holds an old snapshot (or
 * a writer that never pauses) keeps the WAL from restarting and the file
 * grows.  journal_size_limit truncates it when it restarts; past
 * wal_max_bytes the checkpointer also tries a TRUNCATE checkpoint, which
 * waits up to STORE_TRUNCATE_WAIT_MS for readers and the writer, once a
 * second until the file is back under the limit. */
static int store_wal_hook(void *arg, sqlite3 *db, const char *name, int nframes)
{
    store_t *s = arg;

    (void)db;
    (void)name;
    if (nframes >= s->ck_frames) {
        pthread_mutex_lock(&s->ck_mu);
        s->ck_request = 1;
        pthread_cond_signal(&s->ck_cv);
        pthread_mutex_unlock(&s->ck_mu);
    }
    return SQLITE_OK;
}

/* One round: PASSIVE, then TRUNCATE if the file is over the limit. */
static void store_checkpoint(store_t *s)
{
    int64_t now;
    struct stat sb;
    int rc;

    rc = sqlite3_wal_checkpoint_v2(s->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                   NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_msg(LL_DEBUG, STORE_MOD, "%s: checkpoint: %s", s->path,
                sqlite3_errmsg(s->ckdb));
    now = store_mono_ns();
    if (stat(s->wal_path, &sb) != 0 || sb.st_size <= s->wal_max_bytes) {
        if (s->wal_over)
            log_msg(LL_INFO, STORE_MOD, "%s: WAL back under %" PRId64
                    " bytes", s->path, s->wal_max_bytes);
        s->wal_over = 0;
        return;
    }
    if (now < s->wal_next_try)
        return;
    s->wal_next_try = now + STORE_RETRY_NS;
    rc = sqlite3_wal_checkpoint_v2(s->ckdb, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                   NULL, NULL);
    if (rc == SQLITE_OK) {
        if (s->wal_over)
            log_msg(LL_INFO, STORE_MOD, "%s: WAL truncated", s->path);
        s->wal_over = 0;
    } else if (!s->wal_over) {
        log_msg(LL_WARN, STORE_MOD, "%s: WAL is %lld bytes, over %" PRId64
                ", and cannot be truncated yet (%s: a reader on an old "
                "snapshot, or a writer that never pauses); retrying every "
                "second", s->path,
                (long long)sb.st_size, s->wal_max_bytes, sqlite3_errstr(rc));
        s->wal_over = 1;
    }
}

static void *store_ck_main(void *arg)
{
    store_t *s = arg;

    pthread_mutex_lock(&s->ck_mu);
    while (!s->ck_stop) {
        if (!s->ck_request) {
            if (s->wal_over) {
                int64_t due = s->wal_next_try;
                struct timespec ts = { due / 1000000000, due % 1000000000 };

                if (pthread_cond_timedwait(&s->ck_cv, &s->ck_mu, &ts) != ETIMEDOUT)
                    continue;
            } else {
                pthread_cond_wait(&s->ck_cv, &s->ck_mu);
                continue;
            }
        }
        s->ck_request = 0;
        pthread_mutex_unlock(&s->ck_mu);
        store_checkpoint(s);
        pthread_mutex_lock(&s->ck_mu);
    }
    pthread_mutex_unlock(&s->ck_mu);
    return NULL;
}

/* Work the writer does without a batch.  0: none pending; otherwise the
 * monotonic time it is due (<= now: now). */
static int64_t store_idle_due(const store_t *s)
{
    int64_t due = 0;

    /* store_prune does nothing once the writer has failed: no spinning. */
    if (s->retention_ns > 0 && s->walk_cur < STORE_NWALKS && !s->fatal)
        due = s->prune_next_try > 0 ? s->prune_next_try : 1;
    return due;
}

/* ---- the writer thread ------------------------------------------------- */

/* (mu) Take the whole queue (Q1); taken_seq moves past it (Q2, Q3). */
static struct store_msg *store_take(store_t *s)
{
    struct store_msg *all = s->q_head;

    if (all != NULL)
        s->taken_seq = s->q_tail->seq;
    s->q_head = s->q_tail = NULL;
    s->qlen = 0;
    return all;
}

/* Cut the first transaction's worth off list: up to batch_max rows, but
 * at least one message (a ladder longer than batch_max still goes).
 * Returns how many; *rest is what follows. */
static size_t store_cut(const store_t *s, struct store_msg *list,
                        struct store_msg **rest)
{
    struct store_msg *m = list, *last = NULL;
    size_t n = 0, rows = 0;

    while (m && (n == 0 || rows + m->rows <= s->batch_max)) {
        rows += m->rows;
        n++;
        last = m;
        m = m->next;
    }
    if (last)
        last->next = NULL;
    *rest = m;
    return n;
}

static void *store_writer_main(void *arg)
{
    store_t *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct store_msg *taken, *rest;
        int64_t due;

        for (;;) {
            if (s->stopping) {
                if (s->qlen == 0)
                    goto out;
                break;
            }
            if (s->paused) {
                pthread_cond_wait(&s->wake, &s->mu);
                continue;
            }
            if (s->qlen > 0)
                break;
            due = store_idle_due(s);
            if (due != 0 && due <= store_mono_ns())
                break;
            if (due == 0) {
                pthread_cond_wait(&s->wake, &s->mu);
            } else {
                struct timespec ts = { due / 1000000000, due % 1000000000 };

                pthread_cond_timedwait(&s->wake, &s->mu, &ts);
            }
        }
        taken = store_take(s);
        pthread_mutex_unlock(&s->mu);

        /* One transaction per cut, retention work between them (and once
         * when there was nothing to write). */
        do {
            if (taken != NULL) {
                size_t n = store_cut(s, taken, &rest);

                store_write(s, taken, n);
                taken = rest;
            }
            if (s->retention_ns > 0 && !store_has_failed(s))
                store_prune(s);
        } while (taken != NULL);
        pthread_mutex_lock(&s->mu);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- open and close ---------------------------------------------------- */

/* sqlite3_exec with the failure as "<path>: <what>: <message>". */
static int store_exec(store_t *s, const char *sql, const char *what,
                      lq_err_t *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK)
        lq_err_set(err, "%s: %s: %s", s->path, what,
                   msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

/* The first column of sql's first row as text into buf. */
static int store_query_text(store_t *s, const char *sql, char *buf,
                            size_t size, lq_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);

            snprintf(buf, size, "%s", t ? (const char *)t : "");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            buf[0] = '\0';
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK)
        lq_err_set(err, "%s: %s: %s", s->path, sql, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : -1;
}

static int store_user_version(store_t *s, long *v, lq_err_t *err)
{
    char buf[32];

    if (store_query_text(s, "PRAGMA user_version", buf, sizeof(buf), err) != 0)
        return -1;
    *v = strtol(buf, NULL, 10);
    return 0;
}

static int store_page_size(store_t *s, long *page, lq_err_t *err)
{
    char buf[32];

    if (store_query_text(s, "PRAGMA page_size", buf, sizeof(buf), err) != 0)
        return -1;
    *page = strtol(buf, NULL, 10);
    if (*page < 512)
        return lq_err_set(err, "%s: page size %s", s->path, buf);
    return 0;
}

static int store_refuse_newer(store_t *s, long v, lq_err_t *err)
{
    return lq_err_set(err, "%s: schema version %ld is newer than this "
                      "liqmon's %d (written by a newer release?); refusing "
                      "to open it", s->path, v, STORE_SCHEMA_VERSION);
}

/* Check the version, set the pragmas (every open: none of them but the
 * journal mode is stored in the file), migrate one step per transaction. */
static int store_schema(store_t *s, lq_err_t *err)
{
    char buf[64], sql[80];
    long v, from;

    /* Before anything writes: a newer file is left exactly as it is. */
    if (store_user_version(s, &v, err) != 0)
        return -1;
    from = v;
    if (v > STORE_SCHEMA_VERSION)
        return store_refuse_newer(s, v, err);
    if (v < 0)
        return lq_err_set(err, "%s: schema version %ld is not one of "
                          "liqmon's", s->path, v);
    if (store_query_text(s, "PRAGMA journal_mode=WAL", buf, sizeof(buf), err) != 0)
        return -1;
    if (strcmp(buf, "wal") != 0)
        return lq_err_set(err, "%s: cannot use WAL (journal_mode is '%s')",
                          s->path, buf);
    if (store_exec(s, "PRAGMA synchronous=NORMAL", "synchronous", err) != 0 ||
        store_query_text(s, "PRAGMA synchronous", buf, sizeof(buf), err) != 0)
        return -1;
    if (strcmp(buf, "1") != 0)
        return lq_err_set(err, "%s: synchronous is %s, not NORMAL (1)",
                          s->path, buf);
    snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%" PRId64,
             s->wal_max_bytes);
    if (store_exec(s, sql, "journal_size_limit", err) != 0)
        return -1;

    while (v < STORE_SCHEMA_VERSION) {
        long cur;
        char what[64];

        snprintf(what, sizeof(what), "migrating to schema version %ld", v + 1);
        if (store_exec(s, "BEGIN IMMEDIATE", what, err) != 0)
            return -1;
        /* Another process may have migrated while we waited for the lock. */
        if (store_user_version(s, &cur, err) != 0)
            goto fail;
        if (cur > STORE_SCHEMA_VERSION) {
            store_refuse_newer(s, cur, err);
            goto fail;
        }
        if (cur == v) {
            snprintf(sql, sizeof(sql), "PRAGMA user_version=%ld", v + 1);
            if (store_exec(s, store_steps[v], what, err) != 0 ||
                store_exec(s, sql, what, err) != 0)
                goto fail;
        }
        if (store_exec(s, "COMMIT", what, err) != 0)
            goto fail;
        /* A new file is created, not migrated: no line per step. */
        if (cur == v && from > 0)
            log_msg(LL_INFO, STORE_MOD, "%s: schema version %ld -> %ld",
                    s->path, v, v + 1);
        v = cur == v ? v + 1 : cur;
    }
    if (from == 0)
        log_msg(LL_INFO, STORE_MOD, "%s: new store, schema version %d",
                s->path, STORE_SCHEMA_VERSION);
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int store_prepare1(store_t *s, const char *sql, sqlite3_stmt **st,
                          lq_err_t *err)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                           NULL) != SQLITE_OK)
        return lq_err_set(err, "%s: %s: %s", s->path, sql,
                          sqlite3_errmsg(s->db));
    return 0;
}

/* "(?b+1, ?b+2, ...)" for nkey parameters. */
static void store_params(char *buf, size_t size, int base, int nkey)
{
    int n = snprintf(buf, size, "(");

    for (int k = 0; k < nkey; k++)
        n += snprintf(buf + n, size - (size_t)n, "%s?%d", k ? ", " : "",
                      base + k + 1);
    snprintf(buf + n, size - (size_t)n, ")");
}

static int store_prepare_walk(store_t *s, struct store_walk *w, size_t i,
                              lq_err_t *err)
{
    char sql[512], lo[32], hi[32];

    w->table = store_walk_defs[i].table;
    w->key = store_walk_defs[i].key;
    w->nkey = store_walk_defs[i].nkey;
    w->cond = store_walk_defs[i].cond;
    store_params(lo, sizeof(lo), 0, w->nkey);
    store_params(hi, sizeof(hi), 3, w->nkey);
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s LIMIT 1",
             w->key, w->table, w->key);
    if (store_prepare1(s, sql, &w->first, err) != 0)
        return -1;
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE (%s) >= %s ORDER BY "
             "%s LIMIT 2 OFFSET %d", w->key, w->table, w->key, lo, w->key,
             STORE_PRUNE_CHUNK - 1);
    if (store_prepare1(s, sql, &w->keys, err) != 0)
        return -1;
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE (%s) >= %s AND (%s) <= "
             "%s AND %s", w->table, w->key, lo, w->key, hi, w->cond);
    if (store_prepare1(s, sql, &w->del, err) != 0)
        return -1;
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE (%s) >= %s AND %s",
             w->table, w->key, lo, w->cond);
    return store_prepare1(s, sql, &w->del_tail, err);
}

#define STORE_INS_ALERT "INSERT INTO alerts (run_id, id, ts, kind, subject, " \
    "venue, instrument, severity, state, message, details) VALUES "
#define STORE_ROW_ALERT "(?,?,?,?,?,?,?,?,?,?,?)"
#define STORE_INS_PRINT "INSERT INTO liq_prints (run_id, ts, venue_ts, venue, " \
    "instrument, side, price, price_kind, qty, notional, coverage) VALUES "
#define STORE_ROW_PRINT "(?,?,?,?,?,?,?,?,?,?,?)"

/* head then STORE_MULTI copies of row, comma separated. */
static int store_prepare_multi(store_t *s, const char *head, const char *row,
                               sqlite3_stmt **st, lq_err_t *err)
{
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "%s", head);

    for (int i = 0; i < STORE_MULTI && n < sizeof(sql); i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", i ? "," : "", row);
    if (n >= sizeof(sql))
        return lq_err_set(err, "%s: multi-row insert too long", s->path);
    return store_prepare1(s, sql, st, err);
}

static int store_prepare(store_t *s, lq_err_t *err)
{
    if (store_prepare_multi(s, STORE_INS_ALERT, STORE_ROW_ALERT,
                            &s->ins_alert_n, err) != 0 ||
        store_prepare_multi(s, STORE_INS_PRINT, STORE_ROW_PRINT,
                            &s->ins_print_n, err) != 0 ||
        store_prepare1(s, "BEGIN IMMEDIATE", &s->begin, err) != 0 ||
        store_prepare1(s, "COMMIT", &s->commit, err) != 0 ||
        store_prepare1(s, "ROLLBACK", &s->rollback, err) != 0 ||
        store_prepare1(s, STORE_INS_ALERT STORE_ROW_ALERT, &s->ins_alert,
                       err) != 0 ||
        store_prepare1(s, "INSERT INTO snapshots (run_id, ts, venue, "
                       "instrument, ref, ref_is_mark, mark, idx_price, "
                       "best_bid, best_ask, book_valid, bid_depth_0_5, "
                       "bid_depth_1, bid_depth_2, bid_depth_5, ask_depth_0_5, "
                       "ask_depth_1, ask_depth_2, ask_depth_5, long_count, "
                       "long_qty, short_count, short_qty, ladder_valid, "
                       "bid_reach_pct, ask_reach_pct, open_interest, map) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                       "?,?,?,?)",
                       &s->ins_snap, err) != 0 ||
        store_prepare1(s, "INSERT INTO snapshot_rows (snapshot_id, side, "
                       "shock, start_price, rounds, liquidated, liquidated_qty, "
                       "liquidated_notional, final_price, move_pct, "
                       "amplification, exhausted, unfilled_qty, vwap) VALUES "
                       "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &s->ins_row, err) != 0 ||
        store_prepare1(s, STORE_INS_PRINT STORE_ROW_PRINT, &s->ins_print,
                       err) != 0 ||
        store_prepare1(s, "INSERT INTO feed_events (run_id, ts, venue, conn, "
                       "instrument, kind, reason, count) VALUES "
                       "(?,?,?,?,?,?,?,?)", &s->ins_feed, err) != 0 ||
        store_prepare1(s, "INSERT INTO positions (run_id, ts, instrument, "
                       "pos_id, account, side, qty, entry, margin, liq_price, "
                       "change, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       &s->ins_pos, err) != 0 ||
        store_prepare1(s, "INSERT INTO api_positions (instrument, pos_id, ts, "
                       "change, spec) VALUES (?,?,?,?,?) ON CONFLICT (instrument, "
                       "pos_id) DO UPDATE SET ts = excluded.ts, change = "
                       "excluded.change, spec = excluded.spec", &s->ups_api, err) != 0)
        return -1;
    for (size_t i = 0; i < STORE_NWALKS; i++)
        if (store_prepare_walk(s, &s->walks[i], i, err) != 0)
            return -1;
    return 0;
}

/* The runs row, written now so the run id is known to every later row. */
static int store_run_begin(store_t *s, const struct store_run *run,
                           lq_err_t *err)
{
    static const struct store_run none = { 0, NULL, NULL, NULL, NULL };
    const char *mode;
    sqlite3_stmt *st = NULL;
    struct store_bind b;
    int rc;

    if (run == NULL)
        run = &none;
    mode = run->mode ? run->mode : "live";
    if (strcmp(mode, "live") != 0 && strcmp(mode, "replay") != 0)
        return lq_err_set(err, "%s: run mode '%s': must be live or replay",
                          s->path, mode);
    if (store_prepare1(s, "INSERT INTO runs (started_ns, version, "
                       "config_hash, mode, argv) VALUES (?,?,?,?,?)", &st,
                       err) != 0)
        return -1;
    b = (struct store_bind){ st, 0, SQLITE_OK };
    sb_int(&b, run->started_ns ? run->started_ns : store_wall_ns());
    sb_text(&b, run->version ? run->version : LIQMON_VERSION);
    sb_text(&b, run->config_hash);
    sb_text(&b, mode);
    sb_text(&b, run->argv);
    rc = sb_step(&b);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return lq_err_set(err, "%s: recording the run: %s", s->path,
                          sqlite3_errmsg(s->db));
    s->run_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* The runs row's end (store_close, writer gone). */
static int store_run_end(store_t *s, const char *summary, lq_err_t *err)
{
    sqlite3_stmt *st = NULL;
    struct store_bind b;
    int rc;

    if (store_prepare1(s, "UPDATE runs SET stopped_ns = ?, summary = ? "
                       "WHERE id = ?", &st, err) != 0)
        return -1;
    b = (struct store_bind){ st, 0, SQLITE_OK };
    sb_int(&b, store_wall_ns());
    sb_text(&b, summary);
    sb_int(&b, s->run_id);
    rc = sb_step(&b);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return lq_err_set(err, "%s: ending the run: %s", s->path,
                          sqlite3_errmsg(s->db));
    return 0;
}

/* Finalize every prepared statement (NULL ones are fine) and free the
 * walks' keys. */
static void store_finalize(store_t *s)
{
    sqlite3_stmt **stmts[] = {
        &s->begin, &s->commit, &s->rollback, &s->ins_alert, &s->ins_snap,
        &s->ins_row, &s->ins_print, &s->ins_feed, &s->ins_pos, &s->ups_api,
        &s->ins_alert_n, &s->ins_print_n,
    };

    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        sqlite3_finalize(*stmts[i]);
        *stmts[i] = NULL;
    }
    for (size_t i = 0; i < STORE_NWALKS; i++) {
        struct store_walk *w = &s->walks[i];

        store_walk_reset(w);
        sqlite3_finalize(w->first);
        sqlite3_finalize(w->keys);
        sqlite3_finalize(w->del);
        sqlite3_finalize(w->del_tail);
        w->first = w->keys = w->del = w->del_tail = NULL;
    }
}

/* Everything store_open may have made; any subset is fine.  The writer
 * must not be running. */
static void store_free_list(struct store_msg *m)
{
    while (m != NULL) {
        struct store_msg *next = m->next;

        free(m);
        m = next;
    }
}

static void store_free(store_t *s)
{
    store_free_list(s->q_head);
    store_free_list(s->done_head);
    store_free_list(s->reclaim);
    store_finalize(s);
    /* _v2: a connection that cannot close now goes when it can. */
    sqlite3_close_v2(s->ckdb);
    sqlite3_close_v2(s->db);
    for (size_t i = 0; i < s->itab_cap; i++) {
        if (s->itab[i]) {
            free(s->itab[i]->name);
            free(s->itab[i]);
        }
    }
    free(s->itab);
    if (s->sync_init) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->wake);
        pthread_cond_destroy(&s->done_cv);
        pthread_cond_destroy(&s->ck_cv);
        pthread_mutex_destroy(&s->ck_mu);
    }
    free(s->wal_path);
    free(s->path);
    free(s);
}

/* The checkpointer's connection (the file exists and is migrated). */
static int store_open_ckdb(store_t *s, lq_err_t *err)
{
    char sql[128];
    char *msg = NULL;
    int rc;

    rc = sqlite3_open_v2(s->path, &s->ckdb, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(s->ckdb, STORE_TRUNCATE_WAIT_MS);
        snprintf(sql, sizeof(sql), "PRAGMA synchronous=NORMAL; "
                 "PRAGMA journal_size_limit=%" PRId64, s->wal_max_bytes);
        rc = sqlite3_exec(s->ckdb, sql, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK)
        lq_err_set(err, "%s: checkpoint connection: %s", s->path,
                   msg ? msg : s->ckdb ? sqlite3_errmsg(s->ckdb)
                                       : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Stop and join the checkpointer, if it runs. */
static void store_stop_ck(store_t *s)
{
    if (!s->ck_started)
        return;
    pthread_mutex_lock(&s->ck_mu);
    s->ck_stop = 1;
    pthread_cond_signal(&s->ck_cv);
    pthread_mutex_unlock(&s->ck_mu);
    pthread_join(s->ck_thread, NULL);
    s->ck_started = 0;
}

static int store_sync_init(store_t *s)
{
    pthread_condattr_t ca;
    int ok;

    /* The writer's timed waits use the monotonic clock (wall-clock steps
     * must not stretch or skip them). */
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
    if (ok && pthread_mutex_init(&s->mu, NULL) != 0)
        ok = 0;
    if (ok && pthread_cond_init(&s->wake, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        ok = 0;
    }
    if (ok && pthread_cond_init(&s->done_cv, NULL) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        ok = 0;
    }
    if (ok && pthread_mutex_init(&s->ck_mu, NULL) != 0) {
        pthread_cond_destroy(&s->done_cv);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        ok = 0;
    }
    if (ok && pthread_cond_init(&s->ck_cv, &ca) != 0) {
        pthread_mutex_destroy(&s->ck_mu);
        pthread_cond_destroy(&s->done_cv);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        ok = 0;
    }
    pthread_condattr_destroy(&ca);
    s->sync_init = ok;
    return ok ? 0 : -1;
}

store_t *store_open(const struct store_config *cfg, const struct store_run *run,
                    lq_err_t *err)
{
    store_t *s = NULL;
    const char *wal;
    long page;
    sigset_t all, old;
    int rc;

    if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0') {
        lq_err_set(err, "store.path: not set");
        goto fail;
    }
    if (cfg->queue_max == 0 || cfg->batch_max == 0 || cfg->busy_timeout_ms < 0 ||
        cfg->retention_days < 0 || cfg->wal_max_bytes <= 0 ||
        cfg->retention_days > 100000) {
        lq_err_set(err, "%s: bad store configuration (queue_max and batch_max "
                   "must be > 0, busy_timeout_ms >= 0, retention_days 0 .. "
                   "100000, wal_max_bytes > 0)", cfg->path);
        goto fail;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->path = strdup(cfg->path)) == NULL) {
        lq_err_set(err, "%s: out of memory", cfg->path);
        goto fail;
    }
    s->queue_max = cfg->queue_max;
    s->batch_max = cfg->batch_max;
    s->busy_timeout_ms = cfg->busy_timeout_ms;
    s->retention_ns = (int64_t)cfg->retention_days * STORE_NS_PER_DAY;
    s->wal_max_bytes = cfg->wal_max_bytes;
    s->walk_cur = STORE_NWALKS;
    s->max_ts = INT64_MIN;
    if (store_sync_init(s) != 0) {
        lq_err_set(err, "%s: cannot create the writer's mutex", s->path);
        goto fail;
    }

    /* NOMUTEX: one thread at a time uses the connection (top comment). */
    rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        lq_err_set(err, "%s: %s", s->path, s->db ? sqlite3_errmsg(s->db)
                                                 : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
    if (store_schema(s, err) != 0 || store_prepare(s, err) != 0 ||
        store_run_begin(s, run, err) != 0)
        goto fail;
    wal = sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
    if ((s->wal_path = strdup(wal ? wal : "")) == NULL) {
        lq_err_set(err, "%s: out of memory", s->path);
        goto fail;
    }
    if (store_open_ckdb(s, err) != 0 || store_page_size(s, &page, err) != 0)
        goto fail;
    /* A frame is a page and a 24-byte header. */
    s->ck_frames = STORE_CKPT_FRAMES;
    if (s->wal_max_bytes / (page + 24) < s->ck_frames)
        s->ck_frames = (int)(s->wal_max_bytes / (page + 24)) + 1;
    /* From here every commit of the writer's reports the WAL's size (and
     * SQLite's autocheckpoint is off on this connection). */
    sqlite3_wal_hook(s->db, store_wal_hook, s);

    /* The threads take no signals: they are the loop's to handle. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->ck_thread, NULL, store_ck_main, s);
    if (rc == 0) {
        s->ck_started = 1;
        rc = pthread_create(&s->thread, NULL, store_writer_main, s);
        s->thread_started = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        lq_err_set(err, "%s: cannot start the store's threads: %s", s->path,
                   strerror(rc));
        goto fail;
    }
    return s;
fail:
    if (s) {
        store_stop_ck(s);
        store_free(s);
    }
    return NULL;
}

int store_close(store_t *s, const char *run_summary_json, lq_err_t *err)
{
    uint64_t lost;
    int ret = 0, rc;

    if (s == NULL)
        return 0;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        s->paused = 0;
        s->stop_deadline = store_mono_ns() + STORE_CLOSE_GRACE_NS;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    store_stop_ck(s);
    /* The threads are gone: s is this thread's alone from here. */
    lost = s->st.lost;
    if (s->failed || lost > 0)
        ret = lq_err_set(err, "%s: %" PRIu64 " records not stored%s%s",
                         s->path, lost, s->st.last_error[0] ? "; last error: "
                                                            : "",
                         s->st.last_error);
    /* End the run even after a failure: the file may still take it. */
    if (store_run_end(s, run_summary_json, ret == 0 ? err : NULL) != 0 && ret == 0)
        ret = -1;
    /* Leave no WAL behind if no reader needs it (BUSY is not an error, and
     * a reader is given only a moment). */
    sqlite3_busy_timeout(s->db, STORE_TRUNCATE_WAIT_MS);
    rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                   NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && ret == 0)
        ret = lq_err_set(err, "%s: final checkpoint: %s", s->path,
                         sqlite3_errmsg(s->db));
    store_finalize(s);
    sqlite3_close_v2(s->ckdb);
    s->ckdb = NULL;
    if (sqlite3_close(s->db) != SQLITE_OK) {
        if (ret == 0)
            ret = lq_err_set(err, "%s: close: %s", s->path,
                             sqlite3_errmsg(s->db));
        sqlite3_close_v2(s->db);
    }
    s->db = NULL;
    store_free(s);
    return ret;
}
