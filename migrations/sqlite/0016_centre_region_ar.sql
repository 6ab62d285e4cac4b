-- The region's name in Arabic (the registry's optional `region_ar` column): pages in Arabic
-- show it, and the stored `region` where it is missing.
ALTER TABLE centres ADD COLUMN region_ar TEXT;
