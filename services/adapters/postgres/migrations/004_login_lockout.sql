-- Failed sign-ins per (user, client address): failures lock an account for the address they come
-- from only, so that nobody can lock an analyst out from elsewhere (docs/console.md, "Login").
-- The account-wide counters they replace are dropped (a lock in force at the upgrade is lifted).
CREATE TABLE console_login_failures (
  username        TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  address         TEXT NOT NULL,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    TIMESTAMPTZ,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (username, address)
);
ALTER TABLE console_users DROP COLUMN failed_attempts, DROP COLUMN locked_until;
