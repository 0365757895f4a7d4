-- Degraded scorings in the transaction archive: with Redis unreachable a scoring is answered
-- (degraded) but nothing marks it, so an outcome reported for it later found nothing (404). Its
-- identities and time were known all the same: it is archived with counted = false, and an outcome
-- counts against its entities without labelling a fraud in the merchant's delayed windows. A
-- counted scoring of the same transaction archived later (a retry) sets counted; readers take a
-- counted entry first.
ALTER TABLE transaction_archive ADD COLUMN counted BOOLEAN NOT NULL DEFAULT true;
