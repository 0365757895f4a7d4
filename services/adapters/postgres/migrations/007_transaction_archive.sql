-- The transaction archive (docs/capacity.md, "Redis memory"): what a merchant's outcome needs of a
-- scored transaction once Redis's marker has gone — its counting time and the keyed identities
-- (never a card number: the card is its HMAC fingerprint) of the entities the outcome reaches.
-- Written in batches behind the scoring path by engines and stream processors; read only by an
-- outcome that finds no marker.
--
-- One partition per day of archiving: retention drops a day's partition whole (no row deletes, no
-- bloat: millions of rows a day at real rates). A transaction archived again on a later day (a
-- replay after its marker has gone) has a row in each; readers take the first.
CREATE TABLE transaction_archive (
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  archived_on    DATE NOT NULL DEFAULT current_date,
  counted_at_ms  BIGINT NOT NULL,
  card           TEXT NOT NULL,
  device         TEXT,
  ip             TEXT,
  email          TEXT,
  shipping       TEXT,
  -- Outcomes reported after the marker had gone (or noted beside it): kind -> ms since the epoch.
  outcomes       JSONB NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (merchant_id, transaction_id, archived_on)
) PARTITION BY RANGE (archived_on);

-- Creates the partitions of today and the next three days and drops those older than keep_days;
-- returns how many it dropped. SECURITY DEFINER: the engine calls it as the application's role,
-- which owns nothing and may not create or drop tables (docs/console.md); it runs as the tables'
-- owner, on this schema only, one caller at a time.
CREATE FUNCTION transaction_archive_maintain(keep_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  day date;
  oldest text := 'transaction_archive_' || to_char(current_date - keep_days, 'YYYYMMDD');
  part record;
  dropped integer := 0;
BEGIN
  IF keep_days IS NULL OR keep_days < 1 THEN
    RAISE EXCEPTION 'keep_days must be at least 1';
  END IF;
  PERFORM pg_advisory_xact_lock(7166232002);
  FOR ahead IN 0..3 LOOP
    day := current_date + ahead;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF transaction_archive FOR VALUES FROM (%L) TO (%L)',
                   'transaction_archive_' || to_char(day, 'YYYYMMDD'), day, day + 1);
  END LOOP;
  FOR part IN
    SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'transaction_archive'::regclass AND c.relname < oldest
  LOOP
    EXECUTE format('DROP TABLE %I', part.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END
$$;
-- Only the owner and the application's role (granted by npm run db -- migrate: grantApplicationRole)
-- may run it: any other role of the database (a read-only reporting role) could drop the archive's days.
REVOKE ALL ON FUNCTION transaction_archive_maintain(integer) FROM PUBLIC;

SELECT transaction_archive_maintain(180);
