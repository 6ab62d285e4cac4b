-- Auditors' labels on calls (the latest per result overrides the heuristic; all are kept as
-- history) and follow-up cases opened by flags.

CREATE TABLE labels (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id            BIGINT NOT NULL REFERENCES results(id),
    answer_type          TEXT NOT NULL,
    time_to_person_secs  REAL,
    reason               TEXT NOT NULL,
    labelled_by          TEXT NOT NULL,
    labelled_at          TEXT NOT NULL
);

CREATE INDEX labels_by_result ON labels (result_id, id);

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    centre_id         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    period            TEXT NOT NULL,   -- the period whose flag opened the case
    period_end        TEXT NOT NULL,   -- its end (exclusive), RFC 3339 UTC
    class             TEXT NOT NULL,   -- confirmed | provisional | critical
    score             REAL,
    opened_at         TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    closed_at         TEXT,
    closed_by_period  TEXT
);

-- At most one open case per centre and channel.
CREATE UNIQUE INDEX cases_one_open ON cases (centre_id, channel) WHERE closed_at IS NULL;
