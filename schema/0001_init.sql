-- 0001_init.sql — the replicated CRM model, version 1.
--
-- Conventions (docs/ARCHITECTURE.md explains them):
--  * Every replicated table has `id TEXT PRIMARY KEY` (UUIDv7, made where the row
--    was created) and `deleted` (an ordinary last-writer-wins field: a tombstone).
--  * Replicated tables are listed in crm_tables; only they and their columns
--    enter the change log and the state hash.  Tables named crm_* and *_fts
--    are local: replication metadata, settings, cursors, search indexes.
--  * No column default depends on time or randomness: a row created on two
--    replicas from the same writes must be byte-identical.
--  * REFERENCES clauses document links and drive validation of local writes;
--    foreign keys are not enforced by SQLite, because replication may deliver
--    a child before its parent.
--  * Money is integer minor units plus an ISO 4217 code; times are UTC
--    ISO-8601 text ("2026-11-23T13:05:00Z"); dates "YYYY-MM-DD".
--  * Rows with fixed ids below (default pipeline, stages) are the genesis:
--    every replica creates them identically, with clock 0, so they need not
--    travel; any real edit wins over them.

-- ---------------------------------------------------------------- local ----

CREATE TABLE crm_meta (            -- settings of this replica (local)
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT
) WITHOUT ROWID;

CREATE TABLE crm_tables (          -- which tables replicate, and how
    name TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('lww', 'grow'))
) WITHOUT ROWID;

CREATE TABLE crm_clock (           -- current clock of every replicated field
    row_id TEXT NOT NULL,
    col    TEXT NOT NULL,
    hlc    INTEGER NOT NULL,
    node   TEXT NOT NULL,
    PRIMARY KEY (row_id, col)
) WITHOUT ROWID;

CREATE TABLE crm_pending (         -- local writes not yet sealed into the log
    seq      INTEGER PRIMARY KEY,
    tbl      TEXT NOT NULL,
    row_id   TEXT NOT NULL,
    col      TEXT NOT NULL,
    value,
    hlc      INTEGER NOT NULL,
    prev_hlc INTEGER NOT NULL
);

CREATE TABLE crm_extra (           -- fields of tables/columns this version does not know
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    col    TEXT NOT NULL,
    value,
    hlc    INTEGER NOT NULL,
    node   TEXT NOT NULL,
    PRIMARY KEY (tbl, row_id, col)
) WITHOUT ROWID;

-- ---------------------------------------------------------- replicated ----

CREATE TABLE branches (
    id      TEXT PRIMARY KEY NOT NULL,
    code    TEXT,
    name    TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (               -- sales reps and managers
    id         TEXT PRIMARY KEY NOT NULL,
    login      TEXT,
    name       TEXT,
    email      TEXT,
    branch_id  TEXT REFERENCES branches(id),
    manager_id TEXT REFERENCES users(id),
    deleted    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE companies (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT,
    tax_id     TEXT,
    industry   TEXT,
    website    TEXT,
    address    TEXT,
    branch_id  TEXT REFERENCES branches(id),
    owner_id   TEXT REFERENCES users(id),
    created_at TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX companies_tax_id ON companies(tax_id);

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY NOT NULL,
    first_name TEXT,
    last_name  TEXT,
    title      TEXT,
    birthday   TEXT,
    company_id TEXT REFERENCES companies(id),   -- the main company; more in contact_companies
    branch_id  TEXT REFERENCES branches(id),
    owner_id   TEXT REFERENCES users(id),
    next_contact TEXT,
    created_at TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX contacts_company ON contacts(company_id);

CREATE TABLE contact_companies (   -- a person can work for several companies
    id         TEXT PRIMARY KEY NOT NULL,
    contact_id TEXT REFERENCES contacts(id),
    company_id TEXT REFERENCES companies(id),
    role       TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX contact_companies_contact ON contact_companies(contact_id);
CREATE INDEX contact_companies_company ON contact_companies(company_id);

CREATE TABLE channels (            -- e-mail addresses, phones, messengers of a contact or company
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT,                -- a contacts.id or companies.id
    kind       TEXT CHECK (kind IN ('email', 'phone', 'web', 'messenger')),
    value      TEXT,                -- as typed
    normalized TEXT,                -- e-mail lower-cased, phone E.164
    label      TEXT,                -- work, mobile, home, ...
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channels_owner ON channels(owner_id);
CREATE INDEX channels_normalized ON channels(normalized);

CREATE TABLE leads (
    id           TEXT PRIMARY KEY NOT NULL,
    title        TEXT,
    first_name   TEXT,
    last_name    TEXT,
    company_name TEXT,
    email        TEXT,
    phone        TEXT,
    source       TEXT,
    status       TEXT,              -- new, working, converted, disqualified
    contact_id   TEXT REFERENCES contacts(id),   -- set on conversion
    company_id   TEXT REFERENCES companies(id),
    deal_id      TEXT REFERENCES deals(id),
    branch_id    TEXT REFERENCES branches(id),
    owner_id     TEXT REFERENCES users(id),
    created_at   TEXT,
    deleted      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE pipelines (
    id       TEXT PRIMARY KEY NOT NULL,
    name     TEXT,
    position INTEGER,
    deleted  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE stages (
    id          TEXT PRIMARY KEY NOT NULL,
    pipeline_id TEXT REFERENCES pipelines(id),
    name        TEXT,
    position    INTEGER,
    kind        TEXT CHECK (kind IN ('open', 'won', 'lost')),
    probability INTEGER,            -- percent
    max_days    INTEGER,            -- a deal older than this in the stage is overdue
    deleted     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE deals (
    id             TEXT PRIMARY KEY NOT NULL,
    title          TEXT,
    company_id     TEXT REFERENCES companies(id),
    contact_id     TEXT REFERENCES contacts(id),
    pipeline_id    TEXT REFERENCES pipelines(id),
    stage_id       TEXT REFERENCES stages(id),
    amount         INTEGER,         -- minor units of currency
    currency       TEXT,
    probability    INTEGER,         -- percent; NULL means the stage's
    expected_close TEXT,
    source         TEXT,
    lost_reason    TEXT,
    owner_id       TEXT REFERENCES users(id),
    branch_id      TEXT REFERENCES branches(id),
    created_at     TEXT,
    deleted        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deals_stage ON deals(pipeline_id, stage_id);
CREATE INDEX deals_company ON deals(company_id);
CREATE INDEX deals_contact ON deals(contact_id);

CREATE TABLE stage_history (       -- grow-only: every stage a deal entered
    id            TEXT PRIMARY KEY NOT NULL,
    deal_id       TEXT REFERENCES deals(id),
    from_stage_id TEXT REFERENCES stages(id),
    to_stage_id   TEXT REFERENCES stages(id),
    at            TEXT,
    user_id       TEXT REFERENCES users(id),
    deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stage_history_deal ON stage_history(deal_id);

CREATE TABLE activities (          -- calls, meetings, e-mails, notes
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT CHECK (kind IN ('call', 'meeting', 'email', 'note')),
    subject      TEXT,
    body         TEXT,
    at           TEXT,
    done         INTEGER NOT NULL DEFAULT 0,
    result       TEXT,
    next_contact TEXT,
    company_id   TEXT REFERENCES companies(id),
    contact_id   TEXT REFERENCES contacts(id),
    deal_id      TEXT REFERENCES deals(id),
    owner_id     TEXT REFERENCES users(id),
    branch_id    TEXT REFERENCES branches(id),
    created_at   TEXT,
    deleted      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX activities_company ON activities(company_id);
CREATE INDEX activities_contact ON activities(contact_id);
CREATE INDEX activities_deal ON activities(deal_id);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT,
    body        TEXT,
    due         TEXT,
    reminder_at TEXT,
    priority    TEXT CHECK (priority IN ('low', 'normal', 'high')),
    status      TEXT CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    assignee_id TEXT REFERENCES users(id),
    company_id  TEXT REFERENCES companies(id),
    contact_id  TEXT REFERENCES contacts(id),
    deal_id     TEXT REFERENCES deals(id),
    branch_id   TEXT REFERENCES branches(id),
    created_at  TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_due ON tasks(status, due);

CREATE TABLE task_history (        -- grow-only: every status a task took
    id      TEXT PRIMARY KEY NOT NULL,
    task_id TEXT REFERENCES tasks(id),
    status  TEXT,
    at      TEXT,
    user_id TEXT REFERENCES users(id),
    deleted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE notes (
    id         TEXT PRIMARY KEY NOT NULL,
    body       TEXT,
    company_id TEXT REFERENCES companies(id),
    contact_id TEXT REFERENCES contacts(id),
    deal_id    TEXT REFERENCES deals(id),
    owner_id   TEXT REFERENCES users(id),
    branch_id  TEXT REFERENCES branches(id),
    created_at TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE plans (               -- sales targets per user or branch per month
    id        TEXT PRIMARY KEY NOT NULL,
    month     TEXT,                 -- YYYY-MM
    user_id   TEXT REFERENCES users(id),
    branch_id TEXT REFERENCES branches(id),
    amount    INTEGER,
    currency  TEXT,
    deleted   INTEGER NOT NULL DEFAULT 0
);

INSERT INTO crm_tables (name, kind) VALUES
    ('branches', 'lww'), ('users', 'lww'), ('companies', 'lww'),
    ('contacts', 'lww'), ('contact_companies', 'lww'), ('channels', 'lww'),
    ('leads', 'lww'), ('pipelines', 'lww'), ('stages', 'lww'), ('deals', 'lww'),
    ('stage_history', 'grow'), ('activities', 'lww'), ('tasks', 'lww'),
    ('task_history', 'grow'), ('notes', 'lww'), ('plans', 'lww');

-- ------------------------------------------------------- search (local) ----

CREATE VIRTUAL TABLE contacts_fts USING fts5(
    first_name, last_name, title,
    content='contacts', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts(rowid, first_name, last_name, title)
    VALUES (new.rowid, new.first_name, new.last_name, new.title);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, first_name, last_name, title)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.title);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF first_name, last_name, title ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, first_name, last_name, title)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.title);
    INSERT INTO contacts_fts(rowid, first_name, last_name, title)
    VALUES (new.rowid, new.first_name, new.last_name, new.title);
END;

CREATE VIRTUAL TABLE companies_fts USING fts5(
    name, tax_id,
    content='companies', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER companies_fts_ai AFTER INSERT ON companies BEGIN
    INSERT INTO companies_fts(rowid, name, tax_id) VALUES (new.rowid, new.name, new.tax_id);
END;
CREATE TRIGGER companies_fts_ad AFTER DELETE ON companies BEGIN
    INSERT INTO companies_fts(companies_fts, rowid, name, tax_id)
    VALUES ('delete', old.rowid, old.name, old.tax_id);
END;
CREATE TRIGGER companies_fts_au AFTER UPDATE OF name, tax_id ON companies BEGIN
    INSERT INTO companies_fts(companies_fts, rowid, name, tax_id)
    VALUES ('delete', old.rowid, old.name, old.tax_id);
    INSERT INTO companies_fts(rowid, name, tax_id) VALUES (new.rowid, new.name, new.tax_id);
END;

CREATE VIRTUAL TABLE deals_fts USING fts5(
    title,
    content='deals', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER deals_fts_ai AFTER INSERT ON deals BEGIN
    INSERT INTO deals_fts(rowid, title) VALUES (new.rowid, new.title);
END;
CREATE TRIGGER deals_fts_ad AFTER DELETE ON deals BEGIN
    INSERT INTO deals_fts(deals_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
END;
CREATE TRIGGER deals_fts_au AFTER UPDATE OF title ON deals BEGIN
    INSERT INTO deals_fts(deals_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO deals_fts(rowid, title) VALUES (new.rowid, new.title);
END;

-- Channels are searched by substring (a phone's digits typed from the middle,
-- part of an e-mail), so they use the trigram tokenizer over `normalized`.
CREATE VIRTUAL TABLE channels_fts USING fts5(
    normalized,
    content='channels', content_rowid='rowid',
    tokenize='trigram');
CREATE TRIGGER channels_fts_ai AFTER INSERT ON channels BEGIN
    INSERT INTO channels_fts(rowid, normalized) VALUES (new.rowid, new.normalized);
END;
CREATE TRIGGER channels_fts_ad AFTER DELETE ON channels BEGIN
    INSERT INTO channels_fts(channels_fts, rowid, normalized)
    VALUES ('delete', old.rowid, old.normalized);
END;
CREATE TRIGGER channels_fts_au AFTER UPDATE OF normalized ON channels BEGIN
    INSERT INTO channels_fts(channels_fts, rowid, normalized)
    VALUES ('delete', old.rowid, old.normalized);
    INSERT INTO channels_fts(rowid, normalized) VALUES (new.rowid, new.normalized);
END;

-- -------------------------------------------------------------- genesis ----

INSERT INTO pipelines (id, name, position) VALUES
    ('00000000-0000-8000-8000-000000000001', 'Sales', 1);
INSERT INTO stages (id, pipeline_id, name, position, kind, probability, max_days) VALUES
    ('00000000-0000-8000-8000-000000000101', '00000000-0000-8000-8000-000000000001', 'New',         1, 'open', 10, 7),
    ('00000000-0000-8000-8000-000000000102', '00000000-0000-8000-8000-000000000001', 'Qualified',   2, 'open', 25, 14),
    ('00000000-0000-8000-8000-000000000103', '00000000-0000-8000-8000-000000000001', 'Proposal',    3, 'open', 50, 14),
    ('00000000-0000-8000-8000-000000000104', '00000000-0000-8000-8000-000000000001', 'Negotiation', 4, 'open', 75, 21),
    ('00000000-0000-8000-8000-000000000105', '00000000-0000-8000-8000-000000000001', 'Won',         5, 'won', 100, NULL),
    ('00000000-0000-8000-8000-000000000106', '00000000-0000-8000-8000-000000000001', 'Lost',        6, 'lost',  0, NULL);
