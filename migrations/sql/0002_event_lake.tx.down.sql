DROP TABLE gateway_workers;
DROP TABLE shard_sessions;
DROP TABLE lake_outbox;
DROP TABLE voice_sessions;
DROP TABLE event_counters;
DROP TABLE event_lake;
ALTER TABLE guilds DROP COLUMN afk_channel_id;
