-- A webhook subscription belongs to its tenant, and names the API key that made it
-- (docs/webhooks.md): a subscription made with a key that is later revoked (a leaked key, say)
-- stops receiving data. Engines check the creating key against the key store before feeding or
-- sending; once they find it revoked, they disable the subscription here (disabled_at, the reason
-- shown to the tenant): it is not leased, fed or sent again, and its pending deliveries are given
-- up. The tenant deletes it, or subscribes again with a live key. Subscriptions made before this
-- migration name no key (NULL) and are never disabled this way.
ALTER TABLE webhook_subscriptions ADD COLUMN created_by_key_id TEXT;
ALTER TABLE webhook_subscriptions ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE webhook_subscriptions ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_disabled
  CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL));
