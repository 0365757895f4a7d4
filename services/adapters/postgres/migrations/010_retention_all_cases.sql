-- Retention applies to every case, whatever its status (the retention pass, services/cases/retention.ts):
-- a closed case (fraud, legitimate) from its decision, any other from its creation. A case is
-- retention-done once personal_data_erased_at is set, with or without personal data to erase (its
-- notes go too). The pass's two scans, replacing the closed-only index.
DROP INDEX cases_personal_data_retention;
CREATE INDEX cases_retention_closed ON cases (decided_at)
  WHERE personal_data_erased_at IS NULL AND status IN ('fraud', 'legitimate');
CREATE INDEX cases_retention_unclosed ON cases (created_at)
  WHERE personal_data_erased_at IS NULL AND status NOT IN ('fraud', 'legitimate');
-- Notes still holding their text: the pass erases those of retention-done cases once they are as old.
CREATE INDEX case_events_notes_kept ON case_events (at) WHERE kind = 'note' AND NOT (detail ? 'erasedAt');
