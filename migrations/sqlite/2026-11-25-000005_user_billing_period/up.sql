-- The current billing period of an individual's subscription (Unix ms), written by payment
-- events only; NULL: the calendar month applies.
ALTER TABLE users ADD COLUMN billing_period_start BIGINT;
ALTER TABLE users ADD COLUMN billing_period_end BIGINT;
