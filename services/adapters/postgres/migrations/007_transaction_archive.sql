-- The transaction archive (docs/capacity.md, "Redis memory"): what a merchant's outcome needs of a
-- scored transaction once Redis's marker has gone — its counting time and the keyed identities
-- (never a card number: the card is its HMAC fingerprint) of the entities the outcome reaches.
-- Written in batches behind the scoring path by engines and stream processors; read only by an
-- outcome that finds no marker; pruned by archived_at (LEAKGUARD_ARCHIVE_RETENTION_DAYS).
CREATE TABLE transaction_archive (
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  counted_at_ms  BIGINT NOT NULL,
  card           TEXT NOT NULL,
  device         TEXT,
  ip             TEXT,
  email          TEXT,
  shipping       TEXT,
  -- Outcomes reported after the marker had gone (or noted beside it): kind -> ms since the epoch.
  outcomes       JSONB NOT NULL DEFAULT '{}'::jsonb,
  archived_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, transaction_id)
);
-- Rows arrive in archived_at order and are pruned by it: a BRIN index (a few pages for millions of
-- rows) finds the old ones where a B-tree would add ~30 bytes to every row.
CREATE INDEX transaction_archive_archived_at ON transaction_archive USING brin (archived_at);
