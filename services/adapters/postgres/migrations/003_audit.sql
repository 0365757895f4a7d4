-- The audit log: append-only, each entry chained to the previous one by a SHA-256 hash
-- (hash = SHA-256(prev_hash || canonical entry)). seq is assigned by the writer as the previous
-- seq + 1 under a lock, so a deleted entry leaves a gap as well as a broken link.
CREATE TABLE audit_log (
  seq       BIGINT PRIMARY KEY,
  at        TIMESTAMPTZ NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL DEFAULT '',
  detail    JSONB NOT NULL DEFAULT '{}',
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
