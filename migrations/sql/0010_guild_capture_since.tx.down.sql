ALTER TABLE guilds DROP COLUMN capture_since;
