-- Rules engine: per-guild rule documents (trigger -> conditions -> effects)
-- with an immutable version history, and zones (named channel groups with
-- per-currency multipliers). Every table carries tenant_id first in its keys.

-- The head of each rule: its current version and document, plus what changes
-- without a new version (enabled, why it was disabled).
CREATE TABLE rules (
    tenant_id       bigint      NOT NULL,
    guild_id        bigint      NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    key             text        CHECK (key IS NULL OR key ~ '^[a-z0-9_.-]{1,64}$'),
    version         integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    module          text        NOT NULL DEFAULT '',
    rule_group      text        NOT NULL DEFAULT '',
    priority        integer     NOT NULL DEFAULT 0,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text        NOT NULL DEFAULT '',
    document        jsonb       NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX rules_guild_key_idx ON rules (tenant_id, guild_id, key) WHERE key IS NOT NULL;
CREATE INDEX rules_guild_idx ON rules (tenant_id, guild_id, priority DESC, id);

-- One row per version of a rule's document; never updated.
CREATE TABLE rule_versions (
    tenant_id   bigint      NOT NULL,
    rule_id     bigint      NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    document    jsonb       NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_id, version),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE
);

-- Zones: the v3 zone system. A channel belongs to at most one zone of a
-- guild (enforced by the store).
CREATE TABLE rule_zones (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    channels    bigint[]    NOT NULL DEFAULT '{}',
    multipliers jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(multipliers) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, guild_id, name),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);
