-- The same indexes as on MySQL (see its migration): a month's usage in one range scan, and a
-- batch of companies' members from the index alone, in report order.
CREATE INDEX usage_counters_period ON usage_counters (period_key, subject, used);
CREATE INDEX users_company_members ON users (company_id, id, email, display_name, role);
DROP INDEX users_company;
