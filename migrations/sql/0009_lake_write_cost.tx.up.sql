-- What the lake's writers pay per event, at tens of thousands a second.

-- Every batch updates today's counter rows: leave room on each page so the
-- update is HOT (the new row version stays on the page and neither index
-- is touched), as member_active_days does.
ALTER TABLE event_counters SET (fillfactor = 80);

-- Outbox rows live until the rules relay hands them on (seconds), then are
-- deleted: compressing them (pglz, the default) only costs the writer CPU.
-- Kept uncompressed and, up to a page's worth, inline (no TOAST rows).
ALTER TABLE lake_outbox ALTER COLUMN events SET STORAGE EXTERNAL;
ALTER TABLE lake_outbox SET (toast_tuple_target = 8160);
