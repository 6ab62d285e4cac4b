-- PostgreSQL twin of migrations/sqlite/0018_centre_hours_ramadan.sql.
-- The hours a centre keeps in Ramadan (the registry's optional `hours_ramadan` column, written
-- like `hours`); NULL: the same hours all year.
ALTER TABLE centres ADD COLUMN hours_ramadan TEXT;
