-- PostgreSQL twin of migrations/sqlite/0013_verdicts_by_centre.sql.
-- A centre's verdicts of every period, read together when a new result refreshes them.
CREATE INDEX verdicts_by_centre ON verdicts (centre, period);
