-- Post-mortem queries over liqmon's store (docs/store-schema.sql, schema
-- version 2; version 1 runs them too).  Read-only, safe while liqmond writes
-- (WAL):
--
--     sqlite3 -readonly -header -column liqmon.db < docs/postmortem.sql
--
-- or paste one query into `sqlite3 -readonly liqmon.db`.  Each query starts
-- with a "-- query: NAME" line (tests/scripts/postmortem_cli.sh runs each one
-- on its own against tests/fixtures/store/fixture.sql).  To narrow one down,
-- add conditions on run_id, instrument or ts where marked.
--
-- Times: ts columns are ns since the epoch (UTC), on the event clock (a
-- replay keeps its capture's times); they are shown as
--     strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1e9, 'unixepoch')
-- (to the millisecond).  To pass a time in: 2026-11-30T12:00:00Z is
--     unixepoch('2026-11-30 12:00:00') * 1000000000     (SQLite >= 3.38)
--     CAST(strftime('%s', '2026-11-30 12:00:00') AS INTEGER) * 1000000000
-- The ladder's side "down" is the longs being liquidated (a print's side
-- "long"), "up" the shorts ("short").  Shocks are fractions (0.02 = 2 %),
-- move_pct is in percent.
--
-- The schema has no index on ts or instrument: each query scans its tables,
-- which is fine for a post-mortem, not for a dashboard.


-- query: largest_cascades
-- The largest predicted cascade of each instrument and side over the whole
-- store: the ladder row with the largest liquidated_notional (ties: the
-- smaller shock, then the earlier snapshot), when it was predicted, and the
-- largest amplification that side ever showed.  Rows with shock 0 predict
-- nothing (their amplification is NULL) and are left out.
WITH ranked AS (
    SELECT s.instrument, r.side, s.run_id, s.ts, s.ref, r.shock,
           r.amplification, r.liquidated, r.liquidated_notional, r.move_pct,
           r.exhausted,
           max(r.amplification) OVER side_rows AS max_amplification,
           row_number() OVER (side_rows ORDER BY r.liquidated_notional DESC,
                              r.shock, s.ts) AS rank
    FROM snapshot_rows AS r
    JOIN snapshots AS s ON s.id = r.snapshot_id
    WHERE r.shock > 0                     -- AND s.run_id = 2 ...
    WINDOW side_rows AS (PARTITION BY s.instrument, r.side)
)
SELECT instrument, side,
       strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1e9, 'unixepoch') AS predicted_at,
       run_id, ref, shock, amplification, liquidated AS positions,
       round(liquidated_notional) AS liquidated_notional,
       round(move_pct, 3) AS move_pct, exhausted, max_amplification
FROM ranked
WHERE rank = 1
ORDER BY liquidated_notional DESC;


-- query: first_alert_to_largest_move
-- Per run and instrument: when its first alert fired, the reference price
-- then (the snapshot nearest before it, else the nearest after), and the
-- snapshot after it whose ref moved furthest from that price: how much
-- warning the first alert gave.  For "the lowest ref" instead of the
-- largest move, order the moves by s.ref.
WITH first_alert AS (
    SELECT run_id, instrument, min(ts) AS alert_ts
    FROM alerts
    WHERE instrument IS NOT NULL AND state = 'firing'
    GROUP BY run_id, instrument
),
base AS (
    SELECT f.run_id, f.instrument, f.alert_ts, s.ref AS ref0,
           row_number() OVER (PARTITION BY f.run_id, f.instrument
                              ORDER BY s.ts > f.alert_ts,
                                       abs(s.ts - f.alert_ts)) AS rank
    FROM first_alert AS f
    JOIN snapshots AS s
      ON s.run_id = f.run_id AND s.instrument = f.instrument
     AND s.ref IS NOT NULL
),
moves AS (
    SELECT b.run_id, b.instrument, b.alert_ts, b.ref0, s.ts, s.ref,
           100.0 * (s.ref - b.ref0) / b.ref0 AS move_pct,
           row_number() OVER (PARTITION BY b.run_id, b.instrument
                              ORDER BY abs(s.ref - b.ref0) DESC, s.ts) AS rank
    FROM base AS b
    JOIN snapshots AS s
      ON s.run_id = b.run_id AND s.instrument = b.instrument
     AND s.ts >= b.alert_ts AND s.ref IS NOT NULL
    WHERE b.rank = 1
)
SELECT m.run_id, m.instrument,
       strftime('%Y-%m-%dT%H:%M:%fZ', m.alert_ts / 1e9, 'unixepoch')
           AS first_alert,
       (SELECT a.kind FROM alerts AS a
         WHERE a.run_id = m.run_id AND a.instrument = m.instrument
           AND a.ts = m.alert_ts AND a.state = 'firing'
         ORDER BY a.id LIMIT 1) AS first_kind,
       m.ref0 AS ref_at_alert,
       strftime('%Y-%m-%dT%H:%M:%fZ', m.ts / 1e9, 'unixepoch') AS largest_move,
       m.ref AS ref_at_move,
       round(m.move_pct, 3) AS move_pct,
       round((m.ts - m.alert_ts) / 1e9, 3) AS seconds_after
FROM moves AS m
WHERE m.rank = 1
ORDER BY m.run_id, m.instrument;


-- query: prints_vs_predictions
-- What the venue printed against what the ladder predicted: per run,
-- instrument, side and minute, the liquidation prints' count and notional,
-- and the prediction nearest the minute's first print (the run's last
-- snapshot with a valid ladder at or before it, else its first after), with
-- its row on that side whose start price is nearest the minute's extreme
-- print price (lowest for longs, highest for shorts): the shock the market
-- actually reached.  snapshot_offset_s < 0: the snapshot came before the
-- first print.  A minute with no such snapshot is left out.  Sampled
-- coverage (Binance, OKX: at most one print per symbol per second) makes
-- print_notional a lower bound.
WITH minutes AS (
    SELECT run_id, instrument, side, ts / 60000000000 AS minute,
           min(ts) AS first_ts, count(*) AS prints,
           sum(notional) AS print_notional,
           CASE side WHEN 'long' THEN min(price) ELSE max(price) END
               AS extreme_price,
           max(coverage = 'sampled') AS sampled
    FROM liq_prints                       -- WHERE run_id = 2 ...
    GROUP BY run_id, instrument, side, minute
),
nearest AS (
    SELECT m.*, s.id AS snapshot_id, s.ts AS snapshot_ts,
           CASE m.side WHEN 'long' THEN 'down' ELSE 'up' END AS ladder_side,
           row_number() OVER (PARTITION BY m.run_id, m.instrument, m.side,
                                           m.minute
                              ORDER BY s.ts > m.first_ts,
                                       abs(s.ts - m.first_ts)) AS rank
    FROM minutes AS m
    JOIN snapshots AS s
      ON s.run_id = m.run_id AND s.instrument = m.instrument
     AND s.ladder_valid
),
reached AS (
    SELECT n.*, r.shock, r.start_price, r.liquidated_notional,
           row_number() OVER (PARTITION BY n.run_id, n.instrument, n.side,
                                           n.minute
                              ORDER BY abs(r.start_price - n.extreme_price),
                                       r.shock) AS row_rank
    FROM nearest AS n
    JOIN snapshot_rows AS r
      ON r.snapshot_id = n.snapshot_id AND r.side = n.ladder_side
     AND r.shock > 0
    WHERE n.rank = 1
)
SELECT run_id, instrument, side,
       strftime('%Y-%m-%dT%H:%M:00Z', minute * 60, 'unixepoch') AS minute,
       prints, round(print_notional) AS print_notional,
       CASE WHEN sampled THEN 'sampled' ELSE 'complete' END AS coverage,
       strftime('%Y-%m-%dT%H:%M:%fZ', snapshot_ts / 1e9, 'unixepoch')
           AS snapshot,
       round((snapshot_ts - first_ts) / 1e9, 3) AS snapshot_offset_s,
       shock, start_price,
       round(liquidated_notional) AS predicted_notional,
       round(print_notional / nullif(liquidated_notional, 0), 3)
           AS printed_over_predicted
FROM reached
WHERE row_rank = 1
ORDER BY run_id, instrument, minute, side;


-- query: alerts_per_run
-- Alerts per run, kind and severity: how many fired and resolved, and the
-- first and last of them.  A kind that fires far more than it resolves was
-- still firing when the run ended (or the run crashed: stopped is NULL).
SELECT a.run_id, r.mode, r.version,
       CASE WHEN r.stopped_ns IS NULL THEN 'running/crashed' ELSE 'stopped' END
           AS run_state,
       a.kind, a.severity,
       sum(a.state = 'firing') AS fired,
       sum(a.state = 'resolved') AS resolved,
       strftime('%Y-%m-%dT%H:%M:%fZ', min(a.ts) / 1e9, 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%fZ', max(a.ts) / 1e9, 'unixepoch') AS last
FROM alerts AS a
LEFT JOIN runs AS r ON r.id = a.run_id
GROUP BY a.run_id, a.kind, a.severity
ORDER BY a.run_id, a.kind, a.severity;
