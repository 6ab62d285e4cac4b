-- Centres, sweeps and probe results. Times are RFC 3339 UTC text with milliseconds, so that
-- text order is time order. Never edit an applied migration: add the next one.

CREATE TABLE centres (
    id          TEXT PRIMARY KEY,
    name_ar     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    agency      TEXT NOT NULL,
    region      TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    hours       TEXT NOT NULL,
    phones      TEXT NOT NULL,   -- JSON array of E.164 numbers
    websites    TEXT NOT NULL,   -- JSON array of URLs
    updated_at  TEXT NOT NULL
);

CREATE TABLE sweeps (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT NOT NULL,
    selection    TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    total        BIGINT NOT NULL,
    done         BIGINT NOT NULL DEFAULT 0,
    status       TEXT NOT NULL   -- running | finished | interrupted
);

CREATE TABLE results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    centre_id   TEXT,
    target      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT,
    sweep_id    BIGINT REFERENCES sweeps(id),
    data        TEXT NOT NULL    -- the result's JSON, as `--json` prints it
);

CREATE INDEX results_by_time ON results (started_at);
CREATE INDEX results_by_centre ON results (centre_id, started_at);
