DROP TABLE kv;
DROP TABLE safety_events;
DROP TABLE job_leases;
