CREATE INDEX users_company ON users (company_id);
DROP INDEX users_company_members;
DROP INDEX usage_counters_period;
