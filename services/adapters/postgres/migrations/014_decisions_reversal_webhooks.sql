-- A merchant told a decision (webhook case.decided) is told when a lead reverses it
-- (case.decision_reversed, docs/webhooks.md): its endpoint may have cancelled the order or blocked
-- the customer on it. The reversal's category is what the merchant is told, never the lead's reason
-- (free text). reversal_webhooks_fed: the reversal has been queued for the subscriptions.
ALTER TABLE labels
  ADD COLUMN withdrawn_category TEXT
    CHECK (withdrawn_category IN ('decision_error', 'new_evidence', 'merchant_request', 'other')),
  ADD COLUMN reversal_webhooks_fed BOOLEAN NOT NULL DEFAULT false;
-- Reversals made before this version are not announced now, weeks late, to receivers that never
-- asked for them: a subscription receives the events that happen after it was created (and this
-- event did not exist).
UPDATE labels SET reversal_webhooks_fed = true WHERE withdrawn_at IS NOT NULL;
CREATE INDEX labels_reversal_unfed ON labels (id)
  WHERE withdrawn_at IS NOT NULL AND webhooks_fed AND NOT reversal_webhooks_fed;
