ALTER TABLE users DROP COLUMN billing_period_end;
ALTER TABLE users DROP COLUMN billing_period_start;
