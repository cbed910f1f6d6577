-- A tenant's owner adding another server: until the bot's GUILD_CREATE
-- registers the guild (or the invite expires), the gateway puts the guild
-- in that tenant instead of a new unclaimed one. One pending invite per
-- guild; the latest wins.
CREATE TABLE guild_invites (
    guild_id   bigint      PRIMARY KEY,
    tenant_id  bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL,
    expires_at timestamptz NOT NULL
);
