-- PostgreSQL twin of migrations/sqlite/0007_centre_tags.sql (same tables; identity ids, double precision).
-- Free labels on centres (`urban`, `pilot`, ...) that schedules select on: a JSON array.
ALTER TABLE centres ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
