DROP TABLE billing_purchases;
DROP TABLE billing_subscriptions;
DROP TABLE billing_customers;
DROP TABLE billing_events;
