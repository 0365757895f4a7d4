-- Signed webhooks (docs/webhooks.md): subscriptions per issuer (watchlist hits) and per merchant
-- (case decisions), and the durable outbox of their deliveries with every attempt. Delivery is in
-- order per subscription: only the oldest pending delivery of a subscription is attempted, by the
-- engine holding the subscription's lease (lease_owner, lease_until), so two engines never send the
-- same subscription's deliveries at once.
CREATE TABLE webhook_subscriptions (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id            TEXT PRIMARY KEY,
  tenant_kind   TEXT NOT NULL CHECK (tenant_kind IN ('issuer', 'merchant')),
  tenant_id     TEXT NOT NULL,
  url           TEXT NOT NULL,
  event_types   TEXT[] NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  secret        TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Watchlist hits: those recorded since the subscription was made (ms since the epoch) are its
  -- own; those at or after the cursor are still to be fed.
  hits_since_ms  BIGINT NOT NULL,
  hits_cursor_ms BIGINT NOT NULL,
  lease_owner   TEXT,
  lease_until   TIMESTAMPTZ,
  -- When an engine last released it: the least recently served are taken first (none starves).
  served_at     TIMESTAMPTZ
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_kind, tenant_id, seq);

CREATE TABLE webhook_deliveries (
  seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  -- The Standard Webhooks webhook-id: the same on every attempt and on a re-send.
  message_id      TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  -- The source event (a hit's merchant and transaction, a decided case): fed once per subscription.
  event_key       TEXT,
  data            JSONB NOT NULL,
  occurred_at     TIMESTAMPTZ NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Its first attempt (one queued behind a failing delivery waits; its retry window runs from created_at).
  first_attempt_at TIMESTAMPTZ,
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at    TIMESTAMPTZ,
  resend_of       TEXT,
  CONSTRAINT webhook_deliveries_event_once UNIQUE (subscription_id, event_key)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, seq);
CREATE INDEX webhook_deliveries_completed ON webhook_deliveries (completed_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_seq BIGINT NOT NULL REFERENCES webhook_deliveries (seq) ON DELETE CASCADE,
  at           TIMESTAMPTZ NOT NULL,
  duration_ms  INTEGER NOT NULL,
  status_code  INTEGER,
  error        TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_seq, id);

-- Case decisions reach the outbox through this flag: a label is written with the decision (same
-- transaction), and the feeder turns unfed labels into deliveries and sets the flag in one
-- transaction, so that a crash in between loses nothing and feeds nothing twice. Labels decided
-- before webhooks existed count as fed.
ALTER TABLE labels ADD COLUMN webhooks_fed BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE labels ALTER COLUMN webhooks_fed SET DEFAULT false;
CREATE INDEX labels_webhooks_unfed ON labels (id) WHERE NOT webhooks_fed;
