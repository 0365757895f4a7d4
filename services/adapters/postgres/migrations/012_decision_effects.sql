-- What a decision does outside its own transaction (negative lists and the allow-list in Redis,
-- breach discovery's and backtests' labels): a transactional outbox. The row is written in the
-- decision's transaction, so a decision never commits without it; it is applied right after the
-- commit and, while that fails (Redis down), again by a worker with backoff until it is applied
-- (services/cases/feedback.ts). Applying it twice changes nothing twice.
CREATE TABLE decision_effects (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id         BIGINT NOT NULL REFERENCES cases (id),
  kind            TEXT NOT NULL CHECK (kind IN ('decided', 'reversed')),
  -- What to do: the entities to list and until when, the allow-listing, the label (DecisionEffects).
  effects         JSONB NOT NULL,
  actor           TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Also a lease: the engine applying it right after the decision holds it until then.
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  applied_at      TIMESTAMPTZ
);
CREATE INDEX decision_effects_pending ON decision_effects (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX decision_effects_case ON decision_effects (case_id, id);
