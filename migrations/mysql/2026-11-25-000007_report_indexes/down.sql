CREATE INDEX users_company ON users (company_id);
DROP INDEX users_company_members ON users;
DROP INDEX usage_counters_period ON usage_counters;
