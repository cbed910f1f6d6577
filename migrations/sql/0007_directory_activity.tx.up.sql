-- The guild directory (channels, roles, members' roles as Discord last told
-- us), members' active days in the guild's own time zone (streaks), and
-- non-AFK voice seconds as a derived counter. Every table carries tenant_id
-- first in its keys.

-- A guild's channels. A channel Discord deleted stays, flagged, so rules,
-- zones and reports that name it can still show its name.
CREATE TABLE guild_channels (
    tenant_id  bigint      NOT NULL,
    guild_id   bigint      NOT NULL,
    id         bigint      NOT NULL,
    parent_id  bigint      NOT NULL DEFAULT 0, -- the category, 0 for none
    updated_at timestamptz NOT NULL DEFAULT now(),
    position   integer     NOT NULL DEFAULT 0,
    type       smallint    NOT NULL,           -- Discord's channel type
    deleted    boolean     NOT NULL DEFAULT false,
    name       text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, guild_id, id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);

-- A guild's roles (@everyone has the guild's id), deleted ones flagged.
CREATE TABLE guild_roles (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    id          bigint      NOT NULL,
    permissions bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    color       integer     NOT NULL DEFAULT 0,
    position    integer     NOT NULL DEFAULT 0,
    managed     boolean     NOT NULL DEFAULT false, -- owned by an integration (a bot's role, boosters)
    deleted     boolean     NOT NULL DEFAULT false,
    name        text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, guild_id, id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);

-- Members' roles as an array on the member row: "does member M hold R" is
-- the primary-key lookup every rule and milestone check already makes, and
-- "members with role R" is the GIN index (role ids are global snowflakes,
-- so the index alone is selective; the query still filters on the tenant).
ALTER TABLE members ADD COLUMN roles bigint[] NOT NULL DEFAULT '{}';
CREATE INDEX members_roles_idx ON members USING gin (roles);

-- Which guild-local dates a member was active on, by event type: written
-- by the lake writer in the transaction of the lake rows, with the date
-- taken in the guild's time zone (settings.milestones.timezone, else
-- settings.timezone, else UTC) when the event was written. Streaks read
-- these instead of the UTC-day counters; keeping the count per type keeps
-- "what counts as active" (types, minimum events) configurable.
CREATE TABLE member_active_days (
    tenant_id  bigint   NOT NULL,
    guild_id   bigint   NOT NULL,
    user_id    bigint   NOT NULL,
    day        date     NOT NULL,
    events     integer  NOT NULL,
    event_type smallint NOT NULL,
    PRIMARY KEY (tenant_id, guild_id, user_id, day, event_type)
) WITH (fillfactor = 80); -- today's rows are updated by every batch: room for HOT updates

-- History so far, approximated in UTC days (the only days counters have);
-- reactions received are not something a member does, so not activity.
INSERT INTO member_active_days (tenant_id, guild_id, user_id, day, events, event_type)
SELECT tenant_id, guild_id, user_id, day, least(sum(events), 2147483647)::int, event_type
FROM event_counters WHERE event_type <> 10 GROUP BY tenant_id, guild_id, user_id, day, event_type;

-- Non-AFK voice seconds (event type 11, counters only): the seconds of each
-- voice_leave and voice_move whose stretch was not AFK, on the channel the
-- stretch was in. Backfilled exactly from the lake where it still holds
-- the rows, and from the old counters (AFK stretches included, as before)
-- for days it no longer does.
CREATE TEMP TABLE voice_backfill ON COMMIT DROP AS
SELECT tenant_id, guild_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, user_id,
       CASE WHEN event_type = 7 THEN target_id ELSE channel_id END AS channel_id,
       count(*) FILTER (WHERE flags & 4 = 0) AS events,
       coalesce(sum(magnitude) FILTER (WHERE flags & 4 = 0), 0)::bigint AS magnitude
FROM event_lake WHERE event_type IN (6, 7)
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO event_counters (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
SELECT tenant_id, guild_id, day, 11, user_id, channel_id, events, magnitude FROM voice_backfill WHERE events > 0;

INSERT INTO event_counters (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
SELECT c.tenant_id, c.guild_id, c.day, 11, c.user_id, c.channel_id, sum(c.events), sum(c.magnitude)
FROM event_counters c
WHERE c.event_type IN (6, 7) AND NOT EXISTS (
    SELECT 1 FROM voice_backfill v WHERE v.tenant_id = c.tenant_id AND v.guild_id = c.guild_id AND v.day = c.day)
GROUP BY c.tenant_id, c.guild_id, c.day, c.user_id, c.channel_id;

-- Members' cached counters predate both: rebuilt on their next check.
TRUNCATE milestone_counter_cache;
