DROP TABLE IF EXISTS billing_purchases;
DROP TABLE IF EXISTS billing_subscriptions;
DROP TABLE IF EXISTS billing_customers;
DROP TABLE IF EXISTS billing_events;
