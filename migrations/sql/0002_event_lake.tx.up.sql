-- The Event Lake: one row per captured event, metadata only.
--
-- Partitioned by day on occurred_at. A day is the unit of retention (the
-- shortest retention a plan offers is counted in days), of counter
-- reconciliation and of backtests, and keeps each partition's indexes small
-- enough to stay in memory while it is being written. Partitions are created
-- ahead of time by the maintenance job (and on demand by the writer).
--
-- Columns are ordered widest first so the row has no alignment padding:
-- 7×8 + 2×4 + 2×2 bytes of data after the 24-byte tuple header.
CREATE TABLE event_lake (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    source_id   bigint      NOT NULL, -- Discord snowflake, or one minted for events that have none
    user_id     bigint      NOT NULL DEFAULT 0,
    channel_id  bigint      NOT NULL DEFAULT 0,
    target_id   bigint      NOT NULL DEFAULT 0, -- see engine/lake/event.go for its meaning per type
    counts      integer     NOT NULL DEFAULT 0, -- packed quality counts (code blocks, links, emoji, attachments, mentions)
    magnitude   integer     NOT NULL DEFAULT 0, -- message length, or voice duration in seconds
    event_type  smallint    NOT NULL,
    flags       smallint    NOT NULL DEFAULT 0
) PARTITION BY RANGE (occurred_at);

-- Idempotency on the natural id. Snowflakes carry their own time, so the
-- partition key adds nothing to the key's meaning. Leading with the id,
-- which grows with time for every guild alike, makes every insert land at
-- the right edge of the index, whose pages then split full (fillfactor
-- 100) instead of half-full as they would at one insertion point per
-- guild; the same index serves time-range scans (ids are time-ordered).
CREATE UNIQUE INDEX event_lake_natural_idx ON event_lake (source_id, event_type, guild_id, occurred_at) WITH (fillfactor = 100);

-- The guild's AFK channel as Discord last told us (GUILD_CREATE), so a shard
-- resumed on another worker, which gets no GUILD_CREATE, still tags AFK time.
ALTER TABLE guilds ADD COLUMN afk_channel_id bigint NOT NULL DEFAULT 0;

-- Per-day aggregates, updated in the same transaction as the lake rows.
CREATE TABLE event_counters (
    tenant_id  bigint   NOT NULL,
    guild_id   bigint   NOT NULL,
    day        date     NOT NULL,
    event_type smallint NOT NULL,
    user_id    bigint   NOT NULL,
    channel_id bigint   NOT NULL,
    events     bigint   NOT NULL,
    magnitude  bigint   NOT NULL,
    PRIMARY KEY (tenant_id, guild_id, day, event_type, user_id, channel_id)
);
-- A member's totals (milestones, profiles).
CREATE INDEX event_counters_user_idx ON event_counters (tenant_id, guild_id, user_id, event_type, day);

-- Members in voice right now, maintained from the voice events in the same
-- transaction, so whichever worker owns the guild's shard next (a resume
-- after a handover, a restart, a worker killed outright) continues the
-- sessions instead of counting each as a new join.
CREATE TABLE voice_sessions (
    tenant_id  bigint      NOT NULL,
    guild_id   bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    channel_id bigint      NOT NULL,
    started_at timestamptz NOT NULL,
    muted_deaf boolean     NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Committed events waiting to be handed to the rules workers (a transactional
-- outbox: written with the lake rows, so nothing committed is ever skipped).
CREATE TABLE lake_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint      NOT NULL,
    guild_id   bigint      NOT NULL,
    events     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Each shard's gateway session, persisted only after the events up to seq
-- were committed, so a shard moved to another worker resumes exactly there.
-- fence is the lease's fencing token: a worker that lost its lease can no
-- longer commit for the shard.
CREATE TABLE shard_sessions (
    shard_id    integer     NOT NULL,
    shard_count integer     NOT NULL,
    session_id  text        NOT NULL DEFAULT '',
    resume_url  text        NOT NULL DEFAULT '',
    seq         bigint      NOT NULL DEFAULT 0,
    fence       bigint      NOT NULL DEFAULT 0,
    owner       text        NOT NULL DEFAULT '',
    lease_expires_at timestamptz NOT NULL DEFAULT '-infinity',
    state       text        NOT NULL DEFAULT 'unassigned',
    latency_ms  integer     NOT NULL DEFAULT 0,
    last_event_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shard_count, shard_id)
);

-- Live gateway workers; a worker that stops renewing is gone after its TTL
-- and its shards are leased to the others.
CREATE TABLE gateway_workers (
    id         text        PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);
