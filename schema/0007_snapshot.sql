-- 0007_snapshot.sql — replicas started from a hub snapshot (docs/PROTOCOL.md §5),
-- and records moved away from a branch (syncd/hub.c, design note 4).

-- 0: the batch's changes arrived inside a snapshot; this replica knows the
-- batch (chain position, fork detection) but does not hold its commit.
ALTER TABLE crm_applied ADD COLUMN held INTEGER NOT NULL DEFAULT 1;

-- Hub only: every batch up to this hub position was applied by the node
-- (the `since` of its latest pull).
ALTER TABLE crm_hub_nodes ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;

-- Hub only: an hq node moved a branch-scoped record away from from_branch
-- when the hub held batches up to after_lseq.
CREATE TABLE crm_hub_moves (
    tbl         TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    from_branch TEXT NOT NULL,
    after_lseq  INTEGER NOT NULL,
    PRIMARY KEY (tbl, row_id, from_branch)
) WITHOUT ROWID;
