-- A gap a shard's backfill has not finished reading: when it began. Saved
-- with the shard's checkpoint, so that a worker taking the shard over
-- (resuming the session that followed the gap) reads it again instead of
-- leaving its messages behind. NULL: no gap pending.
ALTER TABLE shard_sessions ADD COLUMN gap_since timestamptz;
