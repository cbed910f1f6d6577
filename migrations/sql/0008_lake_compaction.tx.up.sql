-- Closed days of the lake whose indexes were rebuilt packed (see
-- engine/lake/compact.go), with their size before and after. A day is
-- compacted once, after it ended: its partition receives (almost) no
-- inserts any more, so the rebuilt index stays packed.
CREATE TABLE lake_compactions (
    partition    text        PRIMARY KEY,
    compacted_at timestamptz NOT NULL DEFAULT now(),
    bytes_before bigint      NOT NULL,
    bytes_after  bigint      NOT NULL
);
