-- Console users and their sessions. Passwords: scrypt (memory-hard) with a per-user salt.
CREATE TABLE console_users (
  username        TEXT PRIMARY KEY CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
  role            TEXT NOT NULL CHECK (role IN ('analyst', 'lead', 'admin')),
  password_hash   TEXT NOT NULL,
  totp_secret     TEXT NOT NULL,
  last_totp_step  BIGINT NOT NULL DEFAULT 0,
  disabled        BOOLEAN NOT NULL DEFAULT false,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    TIMESTAMPTZ,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sessions: only the SHA-256 of the cookie's token is stored.
CREATE TABLE console_sessions (
  token_hash   TEXT PRIMARY KEY,
  username     TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_user ON console_sessions (username);
