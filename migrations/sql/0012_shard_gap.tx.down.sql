ALTER TABLE shard_sessions DROP COLUMN gap_since;
