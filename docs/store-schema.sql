-- liqmon store schema (the writer applies these steps in order; see
-- docs/store.md for every column).  PRAGMA user_version = the last step.

-- ---- step 1 (user_version 1) ---------------------------------------------
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,      -- run id
    started_ns    INTEGER NOT NULL,         -- wall clock, ns since epoch
    stopped_ns    INTEGER,                  -- NULL: running, or crashed
    version       TEXT NOT NULL,
    config_hash   TEXT,                     -- hex FNV-1a 64 of the config file
    mode          TEXT NOT NULL CHECK (mode IN ('live', 'replay')),
    argv          TEXT,
    summary       TEXT                      -- JSON counters at stop
);
CREATE TABLE alerts (
    run_id        INTEGER NOT NULL,
    id            INTEGER NOT NULL,         -- the record's id in its run
    ts            INTEGER NOT NULL,         -- ns, event clock
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    venue         TEXT NOT NULL,
    instrument    TEXT,                     -- NULL for a connection
    severity      TEXT NOT NULL,            -- warning | critical
    state         TEXT NOT NULL,            -- firing | resolved
    message       TEXT NOT NULL,
    details       TEXT NOT NULL,            -- JSON object
    PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE TABLE snapshots (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    ts            INTEGER NOT NULL,
    venue         TEXT NOT NULL,
    instrument    TEXT NOT NULL,
    ref           REAL,                     -- NULL: no reference price
    ref_is_mark   INTEGER,
    mark          REAL,
    idx_price     REAL,
    best_bid      REAL,
    best_ask      REAL,
    book_valid    INTEGER NOT NULL,
    bid_depth_0_5 REAL, bid_depth_1 REAL, bid_depth_2 REAL, bid_depth_5 REAL,
    ask_depth_0_5 REAL, ask_depth_1 REAL, ask_depth_2 REAL, ask_depth_5 REAL,
    long_count    INTEGER NOT NULL,
    long_qty      REAL NOT NULL,
    short_count   INTEGER NOT NULL,
    short_qty     REAL NOT NULL,
    ladder_valid  INTEGER NOT NULL
);
CREATE TABLE snapshot_rows (
    snapshot_id   INTEGER NOT NULL,
    side          TEXT NOT NULL,            -- down | up
    shock         REAL NOT NULL,
    start_price   REAL NOT NULL,
    rounds        INTEGER NOT NULL,
    liquidated    INTEGER NOT NULL,
    liquidated_qty REAL NOT NULL,
    liquidated_notional REAL NOT NULL,
    final_price   REAL NOT NULL,
    move_pct      REAL NOT NULL,
    amplification REAL,                     -- NULL as in the contract
    exhausted     INTEGER NOT NULL,
    unfilled_qty  REAL NOT NULL,
    vwap          REAL,                     -- NULL: nothing filled
    PRIMARY KEY (snapshot_id, side, shock)
) WITHOUT ROWID;
CREATE TABLE liq_prints (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    ts            INTEGER NOT NULL,         -- receive time
    venue_ts      INTEGER,
    venue         TEXT NOT NULL,
    instrument    TEXT NOT NULL,
    side          TEXT NOT NULL,            -- long | short: the side liquidated
    price         REAL NOT NULL,
    price_kind    TEXT NOT NULL,            -- order | avg_fill | bankruptcy
    qty           REAL NOT NULL,            -- base units
    notional      REAL NOT NULL,            -- qty * price
    coverage      TEXT NOT NULL             -- sampled | complete
);
CREATE TABLE feed_events (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    ts            INTEGER NOT NULL,
    venue         TEXT NOT NULL,
    conn          TEXT,
    instrument    TEXT,
    kind          TEXT NOT NULL,
    reason        TEXT
);
CREATE TABLE positions (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    ts            INTEGER NOT NULL,
    instrument    TEXT NOT NULL,
    pos_id        TEXT NOT NULL,
    account       TEXT NOT NULL,
    side          TEXT NOT NULL,
    qty           REAL NOT NULL,
    entry         REAL,
    margin        REAL,
    liq_price     REAL,
    change        TEXT NOT NULL,            -- load add update remove liquidated
    source        TEXT NOT NULL             -- file api engine
);

-- ---- step 2 (user_version 2) ---------------------------------------------
-- How far the visible book reaches, open interest, and reject counts.
ALTER TABLE snapshots ADD COLUMN bid_reach_pct REAL;
ALTER TABLE snapshots ADD COLUMN ask_reach_pct REAL;
ALTER TABLE snapshots ADD COLUMN open_interest REAL;   -- NULL: not published
ALTER TABLE feed_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;

-- ---- step 3 (user_version 3) ---------------------------------------------
-- The liquidation map of each snapshot (mapmodel.h JSON, without the ladder
-- rows, which are in snapshot_rows).
ALTER TABLE snapshots ADD COLUMN map TEXT;              -- NULL: none

-- ---- step 4 (user_version 4) ---------------------------------------------
-- The control API's position changes as they stand: the latest per
-- position, replayed over the positions file at every start and reload,
-- so that what the API changed survives a restart.  Never pruned.
CREATE TABLE api_positions (
    instrument    TEXT NOT NULL,            -- VENUE:SYMBOL
    pos_id        TEXT NOT NULL,
    ts            INTEGER NOT NULL,         -- ns, of the latest change
    change        TEXT NOT NULL,            -- add | update | remove
    spec          TEXT,                     -- the position as one JSON Lines
                                            -- row of a positions file (exact
                                            -- qty); NULL for remove
    PRIMARY KEY (instrument, pos_id)
) WITHOUT ROWID;
