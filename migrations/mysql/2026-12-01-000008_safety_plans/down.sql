DROP TABLE IF EXISTS safety_plans;
