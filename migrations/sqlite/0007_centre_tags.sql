-- Free labels on centres (`urban`, `pilot`, ...) that schedules select on: a JSON array.
ALTER TABLE centres ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
