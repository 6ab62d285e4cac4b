-- The verdict of each centre and period, computed once by the verdict step and read by every
-- surface (CLI, dashboard, API, report, alerts, /metrics). `data` holds the whole verdict
-- (scores, intervals, flags, trend); `samples` what the bootstrap resamples (read only to
-- recompute trends and agency web pools); the columns beside them are what readers filter and
-- sort on.
CREATE TABLE verdicts (
    period       TEXT NOT NULL,
    centre       TEXT NOT NULL,
    agency       TEXT NOT NULL,
    flag         TEXT NOT NULL,
    overall      REAL,
    phone_score  REAL,
    rank         BIGINT,
    data         TEXT NOT NULL,
    samples      TEXT NOT NULL,   -- what the bootstrap resamples: read only to recompute
    computed_at  TEXT NOT NULL,
    PRIMARY KEY (period, centre)
);

-- The periods whose verdicts are stored: their span, the scoring knobs they were computed
-- with (a change of `[scoring]` recomputes them), and whether the registry changed since.
CREATE TABLE verdict_periods (
    period       TEXT PRIMARY KEY,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    stale        BIGINT NOT NULL DEFAULT 0,
    computed_at  TEXT NOT NULL
);

-- Centres with a new result or label since their verdicts were last refreshed: written in the
-- same transaction as the result, so no refresh is lost when a process is killed.
CREATE TABLE verdict_dirty (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    centre      TEXT NOT NULL,
    started_at  TEXT NOT NULL
);
