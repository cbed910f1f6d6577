-- Schema v1: tenants and what they own. Every tenant-owned table carries
-- tenant_id first in its keys, so a later move to a distributed Postgres
-- (distribution column tenant_id) needs no redesign.

CREATE TABLE tenants (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    plan        text        NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'business', 'enterprise')),
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unclaimed', 'suspended', 'deleted')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- People (Discord users) who operate a tenant, and their tenant-wide role.
CREATE TABLE tenant_members (
    tenant_id   bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL,
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_members_user_idx ON tenant_members (user_id);

-- A Discord guild belongs to exactly one tenant at a time.
CREATE TABLE guilds (
    tenant_id     bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint      NOT NULL,
    name          text        NOT NULL DEFAULT '',
    settings      jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    bot_joined_at timestamptz,
    bot_left_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX guilds_discord_id_idx ON guilds (id);

CREATE TABLE members (
    tenant_id    bigint      NOT NULL,
    guild_id     bigint      NOT NULL,
    user_id      bigint      NOT NULL,
    display_name text        NOT NULL DEFAULT '',
    joined_at    timestamptz,
    left_at      timestamptz,
    flags        integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, guild_id, user_id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);

-- Append-only record of every admin change, with the state before and after.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id   bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    guild_id    bigint,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    target      text        NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb,
    request_id  text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, guild_id, at DESC);
