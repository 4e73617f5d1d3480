ALTER TABLE companies DROP COLUMN billing_period_start, DROP COLUMN billing_period_end;
