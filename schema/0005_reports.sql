-- 0005_reports.sql — what the reports and the kanban board read fast
-- (node/report.c, docs/REPORTS.md).  Indexes and one local derived table:
-- nothing replicated changes, so the wire format, the change log and the
-- state hash are the same as with 0004 (CRM_SCHEMA_VERSION, written into
-- every batch, describes the replicated model and stays 4).

-- A deal's latest entry into a stage, its stage codes for the funnel, and
-- the latest entry into won/lost stages, each from the index alone.
CREATE INDEX stage_history_deal_stage ON stage_history(deal_id, to_stage_id, deleted, at);

-- Leads converted into a deal (a deal's source when it has none of its own).
CREATE INDEX leads_deal ON leads(deal_id);

-- Column counts and totals per currency: an index-only scan of a pipeline.
CREATE INDEX deals_board_totals ON deals(pipeline_id, deleted, stage_id, currency, amount);
CREATE INDEX deals_branch_stage ON deals(branch_id, pipeline_id, deleted, stage_id, currency, amount);

-- Open tasks by due time (overdue) per branch.
CREATE INDEX tasks_branch_due ON tasks(branch_id, status, due);

-- crm_deal_board (local, derived): one row per deal with what the board
-- sorts and filters its cards by.  touched_at is the deal's latest activity:
-- the latest of its created_at, its live stage-history entries and its live
-- activities (calls, meetings, e-mails, notes).  Kept by the triggers below
-- on every write path (local edits and applied changes alike, whatever order
-- rows and fields arrive in: each trigger recomputes the deal's row whole).
CREATE TABLE crm_deal_board (
    deal_id     TEXT PRIMARY KEY NOT NULL,
    pipeline_id TEXT,
    stage_id    TEXT,
    branch_id   TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    touched_at  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX crm_deal_board_column ON crm_deal_board(pipeline_id, stage_id, deleted, touched_at);
CREATE INDEX crm_deal_board_branch ON crm_deal_board(branch_id, pipeline_id, stage_id, deleted, touched_at);

-- Inserting a deal id into the view crm_deal_touch recomputes that deal's
-- touched_at: the one place the definition lives.
CREATE VIEW crm_deal_touch AS SELECT NULL AS deal_id;
CREATE TRIGGER crm_deal_touch_ii INSTEAD OF INSERT ON crm_deal_touch BEGIN
    UPDATE crm_deal_board SET touched_at = max(
        coalesce((SELECT created_at FROM deals WHERE id = new.deal_id), ''),
        coalesce((SELECT max(at) FROM stage_history WHERE deal_id = new.deal_id AND deleted = 0), ''),
        coalesce((SELECT max(at) FROM activities WHERE deal_id = new.deal_id AND deleted = 0), ''))
    WHERE deal_id = new.deal_id;
END;

CREATE TRIGGER crm_deal_board_ai AFTER INSERT ON deals BEGIN
    INSERT OR REPLACE INTO crm_deal_board (deal_id, pipeline_id, stage_id, branch_id, deleted)
    VALUES (new.id, new.pipeline_id, new.stage_id, new.branch_id, new.deleted);
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.id);
END;
CREATE TRIGGER crm_deal_board_au AFTER UPDATE OF pipeline_id, stage_id, branch_id, deleted, created_at ON deals BEGIN
    UPDATE crm_deal_board SET pipeline_id = new.pipeline_id, stage_id = new.stage_id, branch_id = new.branch_id,
        deleted = new.deleted WHERE deal_id = new.id;
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.id);
END;
CREATE TRIGGER crm_deal_board_ad AFTER DELETE ON deals BEGIN
    DELETE FROM crm_deal_board WHERE deal_id = old.id;
END;
CREATE TRIGGER crm_deal_board_hi AFTER INSERT ON stage_history BEGIN
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.deal_id);
END;
CREATE TRIGGER crm_deal_board_hu AFTER UPDATE OF deal_id, at, deleted ON stage_history BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;
CREATE TRIGGER crm_deal_board_vi AFTER INSERT ON activities BEGIN
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.deal_id);
END;
CREATE TRIGGER crm_deal_board_vu AFTER UPDATE OF deal_id, at, deleted ON activities BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;

INSERT INTO crm_deal_board (deal_id, pipeline_id, stage_id, branch_id, deleted)
SELECT id, pipeline_id, stage_id, branch_id, deleted FROM deals;
INSERT INTO crm_deal_touch (deal_id) SELECT id FROM deals;
