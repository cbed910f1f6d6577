-- A lake row's fixed-width columns were 68 bytes: with the 23-byte tuple
-- header and 8-byte alignment, 96 bytes a row. tenant_id as an integer,
-- placed after the bigints so no padding precedes it, makes them 64 and
-- the row 88: 8 bytes (about 5%) less on disk for every event. Tenant ids
-- are issued by tenants.id's identity, capped below at 2^31 so that the
-- limit is met where a tenant is created, never by a lake write.
--
-- Postgres cannot move a column, so the table is rebuilt: each partition
-- is recreated under a new parent with its own bounds and refilled.
ALTER TABLE tenants ALTER COLUMN id SET MAXVALUE 2147483647;

ALTER TABLE event_lake RENAME TO event_lake_old;
ALTER INDEX event_lake_natural_idx RENAME TO event_lake_old_natural_idx;

CREATE TABLE event_lake (
    guild_id    bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    source_id   bigint      NOT NULL, -- Discord snowflake, or one minted for events that have none
    user_id     bigint      NOT NULL DEFAULT 0,
    channel_id  bigint      NOT NULL DEFAULT 0,
    target_id   bigint      NOT NULL DEFAULT 0, -- see engine/lake/event.go for its meaning per type
    tenant_id   integer     NOT NULL,
    counts      integer     NOT NULL DEFAULT 0, -- packed quality counts (code blocks, links, emoji, attachments, mentions)
    magnitude   integer     NOT NULL DEFAULT 0, -- message length, or voice duration in seconds
    event_type  smallint    NOT NULL,
    flags       smallint    NOT NULL DEFAULT 0
) PARTITION BY RANGE (occurred_at);

CREATE UNIQUE INDEX event_lake_natural_idx ON event_lake (source_id, event_type, guild_id, occurred_at) WITH (fillfactor = 100);

DO $$
DECLARE
    p record;
BEGIN
    FOR p IN
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'event_lake_old'::regclass
    LOOP
        EXECUTE format('ALTER TABLE event_lake_old DETACH PARTITION %I', p.name);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', p.name, p.name || '_old');
        EXECUTE format('CREATE TABLE %I PARTITION OF event_lake %s', p.name, p.bound);
        EXECUTE format('INSERT INTO %I (guild_id, occurred_at, source_id, user_id, channel_id, target_id, tenant_id, counts, magnitude, event_type, flags)
            SELECT guild_id, occurred_at, source_id, user_id, channel_id, target_id, tenant_id, counts, magnitude, event_type, flags
            FROM %I ORDER BY source_id', p.name, p.name || '_old');
        EXECUTE format('DROP TABLE %I', p.name || '_old');
    END LOOP;
END $$;

DROP TABLE event_lake_old;

-- The partitions are new relations: the compaction job packs their
-- indexes again once their day is over.
DELETE FROM lake_compactions;
