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

-- Open tasks by due time (overdue) per branch.
CREATE INDEX tasks_branch_due ON tasks(branch_id, status, due);

-- crm_deal_board (local, derived): one row per deal with what the board and
-- the funnel group, filter and sort by, so they read one narrow index instead
-- of a million deals and their histories:
--   reach       the stages the deal ever entered (its stage_history):
--               bits 0..39 the highest position among open stages, bit 40 a
--               won stage, bit 41 a lost stage (stages of its pipeline)
--   entered_at  its latest entry into its current stage (created_at if its
--               history has none)
--   touched_at  its latest activity: the latest of its created_at, its live
--               stage-history entries and its live activities
-- The triggers below keep it on every write path (local edits and applied
-- changes alike, whatever order rows and fields arrive in: each recomputes
-- the deal's derived columns whole).  Nothing here replicates.
CREATE TABLE crm_deal_board (
    deal_id     TEXT PRIMARY KEY NOT NULL,
    pipeline_id TEXT,
    stage_id    TEXT,
    branch_id   TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT,
    currency    TEXT,
    amount      INTEGER,
    reach       INTEGER NOT NULL DEFAULT 0,
    entered_at  TEXT,
    touched_at  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX crm_deal_board_column ON crm_deal_board(pipeline_id, stage_id, deleted, touched_at);
CREATE INDEX crm_deal_board_branch ON crm_deal_board(branch_id, pipeline_id, stage_id, deleted, touched_at);
-- Deals won or lost in a period (plan, losses): per stage, by entry time.
CREATE INDEX crm_deal_board_entered ON crm_deal_board(stage_id, deleted, entered_at);
-- A funnel over a period reads the deals created in it, from the index alone.
CREATE INDEX crm_deal_board_period ON crm_deal_board(pipeline_id, deleted, created_at, stage_id, reach, currency, amount, branch_id);

-- crm_deal_counts (local, derived): live deals (and the sum of their amounts)
-- per pipeline, stage, branch, reach and currency — a few hundred rows that
-- give board columns and the funnel without a period their counts and
-- totals without reading a million deals.  Kept by the triggers on
-- crm_deal_board below (one decrement, one increment per change).  NULL keys
-- are stored as '' (a primary key of a WITHOUT ROWID table cannot be NULL).
CREATE TABLE crm_deal_counts (
    pipeline_id TEXT NOT NULL,
    stage_id    TEXT NOT NULL,
    branch_id   TEXT NOT NULL,
    reach       INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    n           INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, stage_id, branch_id, reach, currency)
) WITHOUT ROWID;
CREATE TRIGGER crm_deal_counts_ai AFTER INSERT ON crm_deal_board WHEN new.deleted = 0 BEGIN
    INSERT INTO crm_deal_counts VALUES (coalesce(new.pipeline_id, ''), coalesce(new.stage_id, ''),
        coalesce(new.branch_id, ''), new.reach, coalesce(new.currency, ''), 1, coalesce(new.amount, 0))
    ON CONFLICT DO UPDATE SET n = n + 1, amount = amount + excluded.amount;
END;
CREATE TRIGGER crm_deal_counts_ad AFTER DELETE ON crm_deal_board WHEN old.deleted = 0 BEGIN
    UPDATE crm_deal_counts SET n = n - 1, amount = amount - coalesce(old.amount, 0)
    WHERE pipeline_id = coalesce(old.pipeline_id, '') AND stage_id = coalesce(old.stage_id, '')
      AND branch_id = coalesce(old.branch_id, '') AND reach = old.reach AND currency = coalesce(old.currency, '');
    DELETE FROM crm_deal_counts WHERE n = 0 AND pipeline_id = coalesce(old.pipeline_id, '')
      AND stage_id = coalesce(old.stage_id, '') AND branch_id = coalesce(old.branch_id, '')
      AND reach = old.reach AND currency = coalesce(old.currency, '');
END;
CREATE TRIGGER crm_deal_counts_au AFTER UPDATE OF pipeline_id, stage_id, branch_id, reach, currency, amount, deleted
ON crm_deal_board BEGIN
    UPDATE crm_deal_counts SET n = n - 1, amount = amount - coalesce(old.amount, 0)
    WHERE old.deleted = 0 AND pipeline_id = coalesce(old.pipeline_id, '') AND stage_id = coalesce(old.stage_id, '')
      AND branch_id = coalesce(old.branch_id, '') AND reach = old.reach AND currency = coalesce(old.currency, '');
    DELETE FROM crm_deal_counts WHERE n = 0 AND pipeline_id = coalesce(old.pipeline_id, '')
      AND stage_id = coalesce(old.stage_id, '') AND branch_id = coalesce(old.branch_id, '')
      AND reach = old.reach AND currency = coalesce(old.currency, '');
    INSERT INTO crm_deal_counts SELECT coalesce(new.pipeline_id, ''), coalesce(new.stage_id, ''),
        coalesce(new.branch_id, ''), new.reach, coalesce(new.currency, ''), 1, coalesce(new.amount, 0)
    WHERE new.deleted = 0
    ON CONFLICT DO UPDATE SET n = n + 1, amount = amount + excluded.amount;
END;

-- Inserting a deal id into the view crm_deal_touch recomputes that deal's
-- derived columns: the one place their definitions live.
CREATE VIEW crm_deal_touch AS SELECT NULL AS deal_id;
CREATE TRIGGER crm_deal_touch_ii INSTEAD OF INSERT ON crm_deal_touch BEGIN
    UPDATE crm_deal_board SET
        reach = (SELECT coalesce(max(CASE WHEN s.kind = 'open' THEN s.position ELSE 0 END), 0)
                        + 1099511627776 * coalesce(max(s.kind = 'won'), 0)
                        + 2199023255552 * coalesce(max(s.kind = 'lost'), 0)
                 FROM stage_history h JOIN stages s ON s.id = h.to_stage_id
                 WHERE h.deal_id = new.deal_id AND h.deleted = 0 AND s.pipeline_id IS crm_deal_board.pipeline_id),
        entered_at = coalesce((SELECT max(at) FROM stage_history
                      WHERE deal_id = new.deal_id AND to_stage_id = crm_deal_board.stage_id AND deleted = 0),
                      crm_deal_board.created_at),
        touched_at = max(coalesce(crm_deal_board.created_at, ''),
            coalesce((SELECT max(at) FROM stage_history WHERE deal_id = new.deal_id AND deleted = 0), ''),
            coalesce((SELECT max(at) FROM activities WHERE deal_id = new.deal_id AND deleted = 0), ''))
    WHERE deal_id = new.deal_id;
END;

CREATE TRIGGER crm_deal_board_ai AFTER INSERT ON deals BEGIN
    INSERT INTO crm_deal_board (deal_id, pipeline_id, stage_id, branch_id, deleted, created_at, currency, amount)
    VALUES (new.id, new.pipeline_id, new.stage_id, new.branch_id, new.deleted, new.created_at, new.currency, new.amount)
    ON CONFLICT (deal_id) DO UPDATE SET pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id,
        branch_id = excluded.branch_id, deleted = excluded.deleted, created_at = excluded.created_at,
        currency = excluded.currency, amount = excluded.amount;
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.id);
END;
CREATE TRIGGER crm_deal_board_au AFTER UPDATE OF pipeline_id, stage_id, branch_id, deleted, created_at, currency, amount
ON deals BEGIN
    UPDATE crm_deal_board SET pipeline_id = new.pipeline_id, stage_id = new.stage_id, branch_id = new.branch_id,
        deleted = new.deleted, created_at = new.created_at, currency = new.currency, amount = new.amount
    WHERE deal_id = new.id;
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.id);
END;
CREATE TRIGGER crm_deal_board_ad AFTER DELETE ON deals BEGIN
    DELETE FROM crm_deal_board WHERE deal_id = old.id;
END;
CREATE TRIGGER crm_deal_board_hi AFTER INSERT ON stage_history BEGIN
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.deal_id);
END;
CREATE TRIGGER crm_deal_board_hu AFTER UPDATE OF deal_id, to_stage_id, at, deleted ON stage_history BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;
CREATE TRIGGER crm_deal_board_vi AFTER INSERT ON activities BEGIN
    INSERT INTO crm_deal_touch (deal_id) VALUES (new.deal_id);
END;
CREATE TRIGGER crm_deal_board_vu AFTER UPDATE OF deal_id, at, deleted ON activities BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;
-- A stage that arrives, moves or changes kind changes the reach of its
-- pipeline's deals (rare: an administrator's edit).
CREATE TRIGGER crm_deal_board_si AFTER INSERT ON stages BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT deal_id FROM crm_deal_board WHERE pipeline_id = new.pipeline_id;
END;
CREATE TRIGGER crm_deal_board_su AFTER UPDATE OF pipeline_id, position, kind ON stages BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT deal_id FROM crm_deal_board
    WHERE pipeline_id IN (new.pipeline_id, old.pipeline_id);
END;

INSERT INTO crm_deal_board (deal_id, pipeline_id, stage_id, branch_id, deleted, created_at, currency, amount)
SELECT id, pipeline_id, stage_id, branch_id, deleted, created_at, currency, amount FROM deals;
INSERT INTO crm_deal_touch (deal_id) SELECT deal_id FROM crm_deal_board;
