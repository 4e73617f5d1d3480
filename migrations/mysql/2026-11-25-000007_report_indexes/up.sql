-- The report jobs (rollover, report) read a month's usage in one range scan of this index,
-- instead of probing each person's counter. `used` is in the index so the scan never visits
-- the rows; the price is one index update per settled turn.
CREATE INDEX usage_counters_period ON usage_counters (period_key, subject, used);

-- A batch of companies' members, read from the index alone and already in report order. It
-- starts with company_id, so it serves every lookup the index it replaces did.
CREATE INDEX users_company_members ON users (company_id, id, email, display_name, role);
DROP INDEX users_company ON users;
