ALTER TABLE companies DROP COLUMN billing_period_end;
ALTER TABLE companies DROP COLUMN billing_period_start;
