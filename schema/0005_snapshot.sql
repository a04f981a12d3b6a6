-- 0005_snapshot.sql — replicas started from a hub snapshot (docs/PROTOCOL.md §6).

-- 0: the batch's changes arrived inside a snapshot; this replica knows the
-- batch (chain position, fork detection) but does not hold its commit.
ALTER TABLE crm_applied ADD COLUMN held INTEGER NOT NULL DEFAULT 1;
