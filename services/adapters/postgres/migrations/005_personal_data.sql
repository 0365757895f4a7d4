-- Personal data (customer id, email, phone, billing and shipping addresses, IP, device id, user
-- agent) leave the transaction JSON: a case keeps them only sealed, AES-256-GCM under
-- LEAKGUARD_DATA_KEY (never in the database) and bound to its merchant and transaction, in
-- personal_data. A closed case's are erased once the retention period is over: personal_data
-- nulled, the erasure and the retention then in force recorded.
ALTER TABLE cases
  ADD COLUMN personal_data TEXT,
  ADD COLUMN personal_data_erased_at TIMESTAMPTZ,
  ADD COLUMN personal_data_retention_days INTEGER,
  ADD CONSTRAINT cases_personal_data_erased CHECK (personal_data IS NULL OR personal_data_erased_at IS NULL);
-- The retention pass: closed cases still holding personal data, oldest decision first.
CREATE INDEX cases_personal_data_retention ON cases (decided_at) WHERE personal_data IS NOT NULL AND status IN ('fraud', 'legitimate');
-- Cases an older version stored with personal data in clear: the engine seals them at start (the key
-- is not here). Empty once that is done; new rows never enter it.
CREATE INDEX cases_personal_data_in_clear ON cases (id)
  WHERE (transaction ?| ARRAY['device', 'billingAddress', 'shippingAddress'] OR transaction -> 'customer' ?| ARRAY['id', 'email', 'phone']);
