ALTER TABLE users DROP COLUMN billing_period_start, DROP COLUMN billing_period_end;
