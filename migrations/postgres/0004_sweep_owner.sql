-- PostgreSQL twin of migrations/sqlite/0004_sweep_owner.sql (same tables; identity ids, double precision).
-- Which process runs a sweep, so that `raqib sweeps` can tell a running sweep from one whose
-- process was killed (its status stays 'running').
ALTER TABLE sweeps ADD COLUMN host TEXT;
ALTER TABLE sweeps ADD COLUMN pid BIGINT;
