-- One-time enrolment (docs/console.md, "Accounts"): an account an admin creates or resets has no
-- password and no second factor until its user sets their own with the enrolment code the admin
-- was given. Only the code's SHA-256 is stored, with its expiry; using it clears both.
ALTER TABLE console_users
  ADD COLUMN enrolment_hash       TEXT,
  ADD COLUMN enrolment_expires_at TIMESTAMPTZ;
