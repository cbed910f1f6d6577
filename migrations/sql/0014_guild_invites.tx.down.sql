DROP TABLE guild_invites;
