-- Rotating a subscription's signing secret (POST /v1/webhooks/{id}/secret/rotate, docs/webhooks.md):
-- the secret it replaced, sealed like the current one (under the data key, bound to its
-- subscription as its previous secret), signs every delivery beside the new one until
-- previous_secret_until, retries of deliveries queued before the rotation included; then it is
-- dropped. A subscription holds two secrets at most: rotating again replaces the previous one with
-- the current one.
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret_until TIMESTAMPTZ;
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_previous_secret_until
  CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL));
CREATE INDEX webhook_subscriptions_previous_secret_until ON webhook_subscriptions (previous_secret_until)
  WHERE previous_secret_until IS NOT NULL;
