DROP TABLE gateway_workers;
DROP TABLE shard_sessions;
DROP TABLE lake_outbox;
DROP TABLE event_counters;
DROP TABLE event_lake;
