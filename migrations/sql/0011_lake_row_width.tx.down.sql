-- Back to tenant_id as the first column, a bigint (see the up migration).
ALTER TABLE event_lake RENAME TO event_lake_old;
ALTER INDEX event_lake_natural_idx RENAME TO event_lake_old_natural_idx;

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

DELETE FROM lake_compactions;

ALTER TABLE tenants ALTER COLUMN id SET MAXVALUE 9223372036854775807;
