-- Alerts to agency leadership. An alert is what was decided (a flag, an escalation, a
-- resolution) and is never sent twice for the same state; each contact it goes to is a
-- delivery row that is retried with back-off and ends `sent` or `failed`, never dropped.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,          -- flag | escalation | resolved | test
    centre_id   TEXT,
    channel     TEXT,                   -- phone | web
    period      TEXT,
    class       TEXT,                   -- confirmed | provisional | critical | ...
    score       DOUBLE PRECISION,
    case_id     BIGINT REFERENCES cases(id),
    created_at  TEXT NOT NULL,
    payload     TEXT NOT NULL           -- the alert as JSON: what every message is made from
);

CREATE INDEX alerts_by_key ON alerts (kind, centre_id, channel, period);

CREATE TABLE alert_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    BIGINT NOT NULL REFERENCES alerts(id),
    contact     TEXT NOT NULL,          -- email:ADDRESS | webhook:URL
    status      TEXT NOT NULL,          -- pending | sent | failed
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,          -- RFC 3339 UTC: not tried before this
    last_error  TEXT,
    sent_at     TEXT
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_at);
