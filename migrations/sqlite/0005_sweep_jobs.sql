-- Scheduled sweeps are planned as job rows before any probe runs, so that a sweep killed
-- mid-way is finished by the next `raqib serve` without repeating a job that has its result.

ALTER TABLE sweeps ADD COLUMN schedule TEXT;   -- the [[schedule]] that started it
ALTER TABLE sweeps ADD COLUMN fired_at TEXT;   -- the fire time it was started for

CREATE TABLE sweep_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep_id    BIGINT NOT NULL REFERENCES sweeps(id),
    centre_id   TEXT NOT NULL,
    target      TEXT NOT NULL,          -- an E.164 number (phone) or a URL (web)
    not_before  TEXT NOT NULL,          -- RFC 3339 UTC: not started before this
    status      TEXT NOT NULL,          -- pending | running | done
    result_id   BIGINT REFERENCES results(id),
    attempts    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX sweep_jobs_by_sweep ON sweep_jobs (sweep_id, status, not_before);
