ALTER TABLE lake_outbox RESET (toast_tuple_target);
ALTER TABLE lake_outbox ALTER COLUMN events SET STORAGE EXTENDED;
ALTER TABLE event_counters RESET (fillfactor);
