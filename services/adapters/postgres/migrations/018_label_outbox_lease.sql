-- Who publishes the label outbox (labels.published_at IS NULL) now: one engine at a time, so that a
-- label goes to Kafka once per publication rather than once per engine flushing, and a label's
-- withdrawal never overtakes the label it withdraws (services/cases/feedback.ts flushLabels). One
-- row: the holder and until when; an engine that stops while holding it loses it when it runs out.
CREATE TABLE label_outbox_lease (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  owner TEXT NOT NULL DEFAULT '',
  until TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
INSERT INTO label_outbox_lease DEFAULT VALUES;
