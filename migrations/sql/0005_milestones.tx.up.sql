-- Milestones v2: per-guild achievement templates (a requirement tree over
-- wallets and the Event Lake's counters, and reward effects) and the awards
-- members earned. Every table carries tenant_id first in its keys.

CREATE TABLE milestone_templates (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    key         text        NOT NULL CHECK (key ~ '^[a-z0-9_.-]{1,64}$'),
    version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    emoji       text        NOT NULL DEFAULT '' CHECK (length(emoji) <= 64),
    icon_url    text        NOT NULL DEFAULT '' CHECK (length(icon_url) <= 500),
    rarity      text        NOT NULL DEFAULT 'common' CHECK (rarity IN ('common', 'uncommon', 'rare', 'epic', 'legendary')),
    hidden      boolean     NOT NULL DEFAULT false,
    repeatable  boolean     NOT NULL DEFAULT false,
    max_awards  integer     NOT NULL DEFAULT 0 CHECK (max_awards >= 0), -- repeatable: 0 = unbounded
    scope       text        NOT NULL DEFAULT 'lifetime' CHECK (scope IN ('lifetime', 'seasonal')),
    enabled     boolean     NOT NULL DEFAULT true,
    requirement jsonb       NOT NULL CHECK (jsonb_typeof(requirement) = 'object'),
    rewards     jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(rewards) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, guild_id, key),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);

-- A guild's template revision, bumped in the transaction of every template
-- change, so a checker's cached templates are revalidated by reading one row.
CREATE TABLE milestone_guild_revisions (
    tenant_id bigint NOT NULL,
    guild_id  bigint NOT NULL,
    revision  bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, guild_id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);

-- One row per award. A slot (template, member, season or none, award
-- number) is taken at most once: concurrent checks that both find a member
-- due insert the same slot and exactly one of them wins (ON CONFLICT DO
-- NOTHING). A revoked award keeps its slot, so the checker does not hand
-- it straight back; an admin grant reinstates it.
CREATE TABLE milestone_awards (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    template_id bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    award_no    integer     NOT NULL DEFAULT 1 CHECK (award_no >= 1),
    season_id   bigint,                           -- seasonal templates: the season it was earned in
    source      text        NOT NULL DEFAULT '', -- the check's idempotency key, or "admin:<actor>"
    awarded_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, template_id) REFERENCES milestone_templates (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX milestone_awards_slot_idx ON milestone_awards (tenant_id, guild_id, template_id, user_id, award_no, season_id) NULLS NOT DISTINCT;
CREATE INDEX milestone_awards_member_idx ON milestone_awards (tenant_id, guild_id, user_id);
CREATE INDEX milestone_awards_source_idx ON milestone_awards (tenant_id, source) WHERE source <> '';

-- A member's counters of closed days (before through_day, UTC), summed by
-- (event type, channel, day) from cutoff_day on and by (event type,
-- channel) before it, so a check reads one row plus the last two days' counters
-- instead of aggregating the member's whole history. Rebuilt from
-- event_counters on the first check of each day (or when the templates
-- need other days); a cache only: deleting it loses nothing.
CREATE TABLE milestone_counter_cache (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    through_day date        NOT NULL,
    cutoff_day  date        NOT NULL,
    rows        bytea       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, guild_id, user_id)
);
