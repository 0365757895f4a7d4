-- A decided case can be reversed by a lead (docs/console.md, "Reversing a decision"): what the
-- decision added must then go, and only that.
--
-- list_entries: who put an entity on a negative list (or a card on a merchant's allow-list), one
-- row per deciding case. Redis holds one key per entity (its value: one case id, its TTL: one
-- expiry); the key is what the live rows say: set to the furthest expiry while one is live,
-- deleted when none is. A reversal withdraws its own rows only, so an entity another fraud
-- decision listed stays listed, until that decision's own expiry.
CREATE TABLE list_entries (
  list         TEXT NOT NULL CHECK (list IN ('device', 'ip', 'email', 'shipping', 'allow')),
  -- The allow-list's merchant; '' for the negative lists (every merchant).
  merchant_id  TEXT NOT NULL DEFAULT '',
  -- The entity's pseudonym (negative lists) or the card's fingerprint (allow-list).
  identity     TEXT NOT NULL,
  case_id      BIGINT NOT NULL REFERENCES cases (id),
  expires_at   TIMESTAMPTZ NOT NULL,
  withdrawn_at TIMESTAMPTZ,
  PRIMARY KEY (list, merchant_id, identity, case_id)
);
CREATE INDEX list_entries_case ON list_entries (case_id);

-- Entries written before this version, from their audit entries (what was listed, when, for how long).
INSERT INTO list_entries (list, merchant_id, identity, case_id, expires_at)
SELECT k.kind, '',
       CASE k.kind WHEN 'device' THEN c.device_key WHEN 'ip' THEN c.ip_key WHEN 'email' THEN c.email_key ELSE c.shipping_key END,
       c.id, a.at + make_interval(days => COALESCE((a.detail->>'ttlDays')::int, 180))
FROM audit_log a
JOIN cases c ON a.target = 'case:' || c.id::text
CROSS JOIN LATERAL jsonb_array_elements_text(a.detail->'kinds') AS k(kind)
WHERE a.action = 'negative_list_add'
  AND k.kind IN ('device', 'ip', 'email', 'shipping')
  AND (CASE k.kind WHEN 'device' THEN c.device_key WHEN 'ip' THEN c.ip_key WHEN 'email' THEN c.email_key ELSE c.shipping_key END) IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO list_entries (list, merchant_id, identity, case_id, expires_at)
SELECT 'allow', a.detail->>'merchantId', c.card_fingerprint, c.id, a.at + make_interval(days => (a.detail->>'days')::int)
FROM audit_log a
JOIN cases c ON a.target = 'case:' || c.id::text
WHERE a.action = 'allowlist_card' AND a.detail->>'merchantId' IS NOT NULL AND a.detail->>'days' IS NOT NULL
ON CONFLICT DO NOTHING;

-- A reversed decision's label is withdrawn, not deleted: the export and the learners leave it out,
-- the Kafka topic gets the withdrawal (published_at cleared), and the case can be decided again.
ALTER TABLE labels
  ADD COLUMN withdrawn_at TIMESTAMPTZ,
  ADD COLUMN withdrawn_by TEXT;
ALTER TABLE labels DROP CONSTRAINT labels_case_id_key;
CREATE UNIQUE INDEX labels_case_current ON labels (case_id) WHERE withdrawn_at IS NULL;
CREATE INDEX labels_case ON labels (case_id);
