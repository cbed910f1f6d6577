DELETE FROM event_counters WHERE event_type = 11;
TRUNCATE milestone_counter_cache;
DROP TABLE IF EXISTS member_active_days;
DROP INDEX IF EXISTS members_roles_idx;
ALTER TABLE members DROP COLUMN IF EXISTS roles;
DROP TABLE IF EXISTS guild_roles;
DROP TABLE IF EXISTS guild_channels;
