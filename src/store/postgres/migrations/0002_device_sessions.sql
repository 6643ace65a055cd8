-- A device someone is logged in at (its record's `sessions` not empty) carries the tag
-- 'sessions', so that the hot-desk sweeper reads those rows by records_by_tag instead of every
-- device every half minute. Rows written before this migration are tagged here.
UPDATE records SET tag = 'sessions'
 WHERE tree = 'devices'
   AND convert_from(value, 'UTF8')::jsonb -> 'sessions' <> '{}'::jsonb;
