-- Each state of a suspected event is sent once per compromise.suspected subscription (docs/webhooks.md),
-- whenever it comes to concern the subscription (the issuer's BIN ranges set or widened later, a
-- scan adding one of its BINs to a long-open event). The delivery log cannot be that record: it
-- drops rows after LEAKGUARD_WEBHOOK_LOG_DAYS. This one is kept as long as the subscription: one
-- row per state queued (its event key, cpp:<event>:<status>:<confidence>).
CREATE TABLE webhook_suspected_fed (
  subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_key       TEXT NOT NULL,
  PRIMARY KEY (subscription_id, event_key)
);
INSERT INTO webhook_suspected_fed (subscription_id, event_key)
  SELECT DISTINCT subscription_id, event_key FROM webhook_deliveries
  WHERE event_type = 'compromise.suspected' AND event_key IS NOT NULL;
-- A subscription made before this record existed: what its log had already dropped is not in it.
-- A state that began more than the log's retention before this moment, for a subscription as old,
-- counts as sent (the rule before this migration); any later state is known exactly. NULL: the
-- record is complete since the subscription was made.
ALTER TABLE webhook_subscriptions ADD COLUMN suspected_fed_since_ms BIGINT;
UPDATE webhook_subscriptions SET suspected_fed_since_ms = (EXTRACT(EPOCH FROM now()) * 1000)::bigint;
