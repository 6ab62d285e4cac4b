-- PostgreSQL twin of migrations/sqlite/0014_centre_agency_ar.sql.
-- The agency's name in Arabic (the registry's optional `agency_ar` column): pages in Arabic
-- show it, and the stored `agency` where it is missing.
ALTER TABLE centres ADD COLUMN agency_ar TEXT;
