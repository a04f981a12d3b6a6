-- 0008_trigger_when.sql — derived data is recomputed only when its inputs change.
-- The merge writes an existing row's winners with one UPDATE that names most
-- columns ("c = iif(?won, ?value, c)", node/write.c update_row), and an
-- AFTER UPDATE OF trigger fires when its column is named, changed or not: every
-- merged deal recomputed its board row (four subqueries) and moved its counters
-- out and back, even when only its amount or title had changed, and every full-text column named re-indexed its document.  Each
-- trigger below is the one it replaces with a WHEN that compares old and new.
-- The derived rows end the same; like 0005 and 0006 this replicates nothing.

DROP TRIGGER contacts_fts_au;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF first_name, last_name, title ON contacts
WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.title IS NOT new.title
BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, first_name, last_name, title)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.title);
    INSERT INTO contacts_fts(rowid, first_name, last_name, title)
    VALUES (new.rowid, new.first_name, new.last_name, new.title);
END;

DROP TRIGGER companies_fts_au;
CREATE TRIGGER companies_fts_au AFTER UPDATE OF name, tax_id ON companies
WHEN old.name IS NOT new.name OR old.tax_id IS NOT new.tax_id
BEGIN
    INSERT INTO companies_fts(companies_fts, rowid, name, tax_id)
    VALUES ('delete', old.rowid, old.name, old.tax_id);
    INSERT INTO companies_fts(rowid, name, tax_id) VALUES (new.rowid, new.name, new.tax_id);
END;

DROP TRIGGER deals_fts_au;
CREATE TRIGGER deals_fts_au AFTER UPDATE OF title ON deals
WHEN old.title IS NOT new.title
BEGIN
    INSERT INTO deals_fts(deals_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO deals_fts(rowid, title) VALUES (new.rowid, new.title);
END;

DROP TRIGGER channels_fts_au;
CREATE TRIGGER channels_fts_au AFTER UPDATE OF normalized ON channels
WHEN old.normalized IS NOT new.normalized
BEGIN
    INSERT INTO channels_fts(channels_fts, rowid, normalized)
    VALUES ('delete', old.rowid, old.normalized);
    INSERT INTO channels_fts(rowid, normalized) VALUES (new.rowid, new.normalized);
END;

DROP TRIGGER crm_deal_board_au;
CREATE TRIGGER crm_deal_board_au AFTER UPDATE OF pipeline_id, stage_id, branch_id, deleted, created_at, currency, amount
ON deals
WHEN old.pipeline_id IS NOT new.pipeline_id OR old.stage_id IS NOT new.stage_id OR old.branch_id IS NOT new.branch_id
  OR old.deleted IS NOT new.deleted OR old.created_at IS NOT new.created_at OR old.currency IS NOT new.currency
  OR old.amount IS NOT new.amount
BEGIN
    UPDATE crm_deal_board SET pipeline_id = new.pipeline_id, stage_id = new.stage_id, branch_id = new.branch_id,
        deleted = new.deleted, created_at = new.created_at, currency = new.currency, amount = new.amount
    WHERE deal_id = new.id;
    -- reach, entered_at and touched_at read only these three of the deal's columns
    INSERT INTO crm_deal_touch (deal_id) SELECT new.id
    WHERE old.pipeline_id IS NOT new.pipeline_id OR old.stage_id IS NOT new.stage_id
       OR old.created_at IS NOT new.created_at;
END;

DROP TRIGGER crm_deal_counts_au;
CREATE TRIGGER crm_deal_counts_au AFTER UPDATE OF pipeline_id, stage_id, branch_id, reach, currency, amount, deleted
ON crm_deal_board
WHEN old.pipeline_id IS NOT new.pipeline_id OR old.stage_id IS NOT new.stage_id OR old.branch_id IS NOT new.branch_id
  OR old.reach IS NOT new.reach OR old.currency IS NOT new.currency OR old.amount IS NOT new.amount
  OR old.deleted IS NOT new.deleted
BEGIN
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

DROP TRIGGER crm_deal_board_hu;
CREATE TRIGGER crm_deal_board_hu AFTER UPDATE OF deal_id, to_stage_id, at, deleted ON stage_history
WHEN old.deal_id IS NOT new.deal_id OR old.to_stage_id IS NOT new.to_stage_id OR old.at IS NOT new.at
  OR old.deleted IS NOT new.deleted
BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;

DROP TRIGGER crm_deal_board_vu;
CREATE TRIGGER crm_deal_board_vu AFTER UPDATE OF deal_id, at, deleted ON activities
WHEN old.deal_id IS NOT new.deal_id OR old.at IS NOT new.at OR old.deleted IS NOT new.deleted
BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT new.deal_id UNION SELECT old.deal_id;
END;

DROP TRIGGER crm_deal_board_su;
CREATE TRIGGER crm_deal_board_su AFTER UPDATE OF pipeline_id, position, kind ON stages
WHEN old.pipeline_id IS NOT new.pipeline_id OR old.position IS NOT new.position OR old.kind IS NOT new.kind
BEGIN
    INSERT INTO crm_deal_touch (deal_id) SELECT deal_id FROM crm_deal_board
    WHERE pipeline_id IN (new.pipeline_id, old.pipeline_id);
END;
