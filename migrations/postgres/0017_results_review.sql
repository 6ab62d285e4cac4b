-- Calls whose answer type the classifier was not sure of: an auditor's label decides them.
-- A column (set when the result is stored) so the review list reads an index, not every call.
ALTER TABLE results ADD COLUMN review BIGINT NOT NULL DEFAULT 0;
UPDATE results SET review = 1
 WHERE channel = 'phone' AND data LIKE '%"answer_type":"unknown"%';
CREATE INDEX results_review ON results (id) WHERE review = 1;
