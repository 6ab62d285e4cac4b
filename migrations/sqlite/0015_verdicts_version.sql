-- A period's verdicts change only with a write that also raises its version (a rebuild, a
-- centre's refresh, a re-ranking): a reader that kept the period's verdicts at a version can
-- reuse them while it is current, rather than read and decode 452 rows again.
ALTER TABLE verdict_periods ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
