-- Wrong authenticator codes given with the right password, one row each: counted per account over a
-- rolling window that a successful sign-in does not reset, so a password holder gets no fresh
-- guesses from each genuine sign-in (docs/console.md, "Lockout, wrong codes"). Replaces the count in
-- console_users.code_failed_attempts (008), which a sign-in cleared; that column is no longer used.
CREATE TABLE console_code_failures (
  username TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_code_failures_user_at ON console_code_failures (username, at);

-- Wrong codes since the account's owner last signed in: told to them at their next sign-in, which
-- keeps the number on its session (shown on its pages) and clears this one.
ALTER TABLE console_users ADD COLUMN code_failures_unreported INTEGER NOT NULL DEFAULT 0;
ALTER TABLE console_sessions ADD COLUMN wrong_codes_before INTEGER NOT NULL DEFAULT 0;

-- A decision typed into a session that expired before it was sent: kept on the session the next
-- sign-in creates (card numbers masked), taken once by the case page that fills it in again.
ALTER TABLE console_sessions ADD COLUMN resume_draft JSONB;
