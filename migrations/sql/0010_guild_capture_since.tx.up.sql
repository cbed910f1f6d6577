-- When Synapse began capturing the guild, on Discord's clock: the newest
-- time its first GUILD_CREATE attests. A member who joined before it was
-- in the guild before capture, like one who joined before the bot did, and
-- a GUILD_MEMBER_ADD Discord sends again for them is no join. NULL for
-- guilds registered before this column: bot_joined_at alone applies.
ALTER TABLE guilds ADD COLUMN capture_since timestamptz;
