-- PostgreSQL twin of migrations/sqlite/0002_dial_ledger.sql (same tables; identity ids, double precision).
-- The dialling guard's ledger: calls placed per number per local day. A row is taken
-- (count incremented under the cap in one statement) before a number is dialled, so that the
-- cap holds however many sweeps, probes or agents dial at once.
CREATE TABLE dial_ledger (
    number  TEXT NOT NULL,
    day     TEXT NOT NULL,       -- YYYY-MM-DD in the centre's time zone (UTC if unlisted)
    count   BIGINT NOT NULL,
    PRIMARY KEY (number, day)
);
