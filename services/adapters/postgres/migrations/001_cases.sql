-- Cases: one per flagged decision, keyed by (merchant, transaction). Card data: BIN, last 4,
-- key id and keyed fingerprint only. Entity keys are the engine's keyed pseudonyms.
CREATE TABLE cases (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id      TEXT NOT NULL,
  transaction_id   TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_review', 'fraud', 'legitimate', 'escalated')),
  decision         TEXT NOT NULL CHECK (decision IN ('approve', 'challenge', 'review', 'decline')),
  score            INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
  reasons          JSONB NOT NULL,
  reason_codes     TEXT[] NOT NULL,
  watchlist_events TEXT[] NOT NULL DEFAULT '{}',
  amount           BIGINT NOT NULL,
  currency         TEXT NOT NULL,
  channel          TEXT NOT NULL,
  card_bin         TEXT NOT NULL CHECK (card_bin ~ '^[0-9]{6,8}$'),
  card_last4       TEXT NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
  card_key_id      TEXT NOT NULL,
  card_fingerprint TEXT NOT NULL,
  device_key       TEXT,
  ip_key           TEXT,
  email_key        TEXT,
  shipping_key     TEXT,
  transaction      JSONB NOT NULL,
  features         JSONB NOT NULL,
  degraded         BOOLEAN NOT NULL DEFAULT false,
  assignee         TEXT,
  occurred_at      TIMESTAMPTZ NOT NULL,
  flagged_at       TIMESTAMPTZ NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  decided_at       TIMESTAMPTZ,
  decided_by       TEXT,
  CONSTRAINT cases_transaction_unique UNIQUE (merchant_id, transaction_id)
);
CREATE INDEX cases_queue ON cases (status, score DESC, created_at);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_card ON cases (card_fingerprint);
CREATE INDEX cases_device ON cases (device_key) WHERE device_key IS NOT NULL;
CREATE INDEX cases_ip ON cases (ip_key) WHERE ip_key IS NOT NULL;
CREATE INDEX cases_email ON cases (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX cases_shipping ON cases (shipping_key) WHERE shipping_key IS NOT NULL;
CREATE INDEX cases_reason_codes ON cases USING GIN (reason_codes);
CREATE INDEX cases_watchlist_events ON cases USING GIN (watchlist_events);

-- A case's history: creation, assignments, status changes, notes.
CREATE TABLE case_events (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id BIGINT NOT NULL REFERENCES cases (id),
  at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor   TEXT NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('created', 'assigned', 'status', 'note')),
  detail  JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Labels for training: one per decided case. published_at: sent to Kafka (outbox).
CREATE TABLE labels (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id        BIGINT NOT NULL UNIQUE REFERENCES cases (id),
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  label          TEXT NOT NULL CHECK (label IN ('fraud', 'legitimate')),
  decided_by     TEXT NOT NULL,
  decided_at     TIMESTAMPTZ NOT NULL,
  published_at   TIMESTAMPTZ
);
CREATE INDEX labels_unpublished ON labels (id) WHERE published_at IS NULL;
