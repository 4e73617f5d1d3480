-- The current billing period of a company's subscription; its members' allowances follow it.
ALTER TABLE companies ADD COLUMN billing_period_start BIGINT;
ALTER TABLE companies ADD COLUMN billing_period_end BIGINT;
