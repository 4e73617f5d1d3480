-- The current billing period of an individual's subscription (Unix ms), written by payment
-- events only; NULL: the calendar month applies. One statement per migration, so a failure
-- leaves nothing half-done (MySQL DDL is not transactional).
ALTER TABLE users ADD COLUMN billing_period_start BIGINT NULL, ADD COLUMN billing_period_end BIGINT NULL;
