-- 0003_merge.sql — merge-rule state: the prev clock of every field, every
-- stage write of a deal (the multi-value register), conflict records,
-- duplicate merge records (replicated) and the derived duplicate groups.

ALTER TABLE crm_clock ADD COLUMN prev INTEGER NOT NULL DEFAULT 0;

CREATE TABLE crm_stage_writes (    -- every write to deals.stage_id (local, derived from the log)
    deal_id  TEXT NOT NULL,
    hlc      INTEGER NOT NULL,
    node     TEXT NOT NULL,
    prev     INTEGER NOT NULL,
    stage_id TEXT,
    PRIMARY KEY (deal_id, hlc, node)
) WITHOUT ROWID;

CREATE TABLE crm_conflicts (       -- what automatic merges set aside, and why (local inbox)
    id         INTEGER PRIMARY KEY,
    tbl        TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    col        TEXT NOT NULL,
    kept_value,
    kept_hlc   INTEGER,
    kept_node  TEXT,
    lost_value,
    lost_hlc   INTEGER NOT NULL,
    lost_node  TEXT NOT NULL,
    rule       TEXT NOT NULL,
    detected_at TEXT,
    resolved   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (row_id, col, lost_hlc, lost_node)
);

CREATE TABLE merges (              -- a person's or the rules' decision that two records are one
    id          TEXT PRIMARY KEY NOT NULL,   -- name-based from the pair, so concurrent merges coincide
    loser_id    TEXT,                        -- the higher id of the pair
    survivor_id TEXT,                        -- the lower id of the pair
    entity      TEXT,                        -- company or contact
    undone      INTEGER NOT NULL DEFAULT 0,  -- 1: keep apart (undo, or reject a suggestion)
    deleted     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO crm_tables (name, kind) VALUES ('merges', 'lww');

CREATE TABLE crm_alias (           -- derived: a merged-away record -> the survivor of its group
    id       TEXT PRIMARY KEY NOT NULL,
    survivor TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX crm_alias_survivor ON crm_alias(survivor);
