-- 0002_changelog.sql — change log bookkeeping (local) and attachments (replicated).

CREATE TABLE crm_applied (         -- every batch this replica holds, in the order it got them
    lseq INTEGER PRIMARY KEY,       -- local order: the cursor of export-changes --since
    oid  TEXT NOT NULL UNIQUE,      -- git commit id
    node TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    UNIQUE (node, seq)
);

CREATE TABLE crm_heads (           -- newest batch of each node's chain (refs/nodes/* mirror this)
    node TEXT PRIMARY KEY NOT NULL,
    seq  INTEGER NOT NULL,
    oid  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE crm_keys (            -- node keys this replica trusts
    node     TEXT PRIMARY KEY NOT NULL,
    pubkey   TEXT NOT NULL,         -- OpenSSH line "ssh-ed25519 AAAA..."
    name     TEXT,
    source   TEXT NOT NULL,         -- self, trust (crm trust add), hub
    added_at TEXT,
    revoked  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE crm_forks (           -- a node's chain seen with two different batches at one seq
    node        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    known_oid   TEXT NOT NULL,
    other_oid   TEXT NOT NULL,
    detected_at TEXT,
    PRIMARY KEY (node, other_oid)
) WITHOUT ROWID;

CREATE TABLE attachments (         -- files on records; content is a git blob in log.git
    id        TEXT PRIMARY KEY NOT NULL,
    entity_id TEXT,                 -- the company, contact, deal, ... it belongs to
    name      TEXT,                 -- file name as given
    size      INTEGER,
    sha256    TEXT,                 -- integrity of the content (not git's SHA-1)
    blob      TEXT,                 -- git blob id in log.git
    owner_id  TEXT REFERENCES users(id),
    created_at TEXT,
    deleted   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_entity ON attachments(entity_id);

INSERT INTO crm_tables (name, kind) VALUES ('attachments', 'lww');
