-- What merchants reported about the transactions behind cases (POST /v1/transactions/{id}/outcome),
-- kept where the console reads cases: the velocity store's marker keeps them for days only and the
-- transaction archive only notes them beside an entry that exists by then, for its retention.
-- Written by whichever engine recorded the outcome (its observer `outcomeRecorded`), once per
-- (merchant, transaction, kind): the fraud-relevant kinds always (a case may not be made yet: its
-- flagged decision still queued), the others only for a transaction that has a case. Not personal
-- data: kinds and times. A row whose transaction never got a case is deleted by the retention pass.
CREATE TABLE case_outcomes (
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  -- As recorded (services/core/chargebacks.ts): chargeback (fraud), chargeback_dispute,
  -- chargeback_reversed, challenge_failed, authorized, declined, refund.
  outcome        TEXT NOT NULL,
  at             TIMESTAMPTZ NOT NULL,
  noted_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, transaction_id, outcome)
);
CREATE INDEX case_outcomes_noted ON case_outcomes (noted_at);
