-- PostgreSQL twin of migrations/sqlite/0013_verdicts_league.sql.
-- The league table of each period apart from the verdicts' bulk. A refresh after a new result
-- marks its periods' ranks stale; the first read ranks them again from this index alone
-- (reading 452 whole rows, and rewriting every place a move shifts, cost milliseconds a result).
CREATE INDEX verdicts_league ON verdicts (period, overall, phone_score, centre, rank);
ALTER TABLE verdict_periods ADD COLUMN ranks_stale BIGINT NOT NULL DEFAULT 0;
