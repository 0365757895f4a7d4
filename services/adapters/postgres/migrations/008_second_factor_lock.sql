-- Wrong TOTP codes after a right password, per account across every client address: a stolen
-- password spread over many addresses (IPv6 /64s) must not get 10 code guesses per address
-- (docs/console.md, "Lockout"). Wrong passwords stay counted per address (004).
ALTER TABLE console_users
  ADD COLUMN code_failed_attempts INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN code_locked_until    TIMESTAMPTZ;
