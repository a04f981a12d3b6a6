-- 0004_hub.sql — hub bookkeeping (local to crm-syncd's replica; empty on nodes)
-- and a node's view of its hub.

CREATE TABLE crm_hub_tokens (      -- one-time join tokens
    secret     TEXT PRIMARY KEY NOT NULL,   -- hex; stored only as given to the admin
    branch     TEXT NOT NULL,               -- branch code
    role       TEXT NOT NULL CHECK (role IN ('laptop', 'branch', 'hq')),
    name       TEXT,
    created_at TEXT,
    used_by    TEXT                         -- node id that enrolled with it
) WITHOUT ROWID;

CREATE TABLE crm_hub_nodes (       -- enrolled nodes
    node        TEXT PRIMARY KEY NOT NULL,
    pubkey      TEXT NOT NULL,
    name        TEXT,
    branch      TEXT NOT NULL,              -- branch code
    role        TEXT NOT NULL,
    enrolled_at TEXT,
    last_sync   TEXT,
    state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked', 'forked')),
    reason      TEXT                        -- why the last push was refused, or the fork
) WITHOUT ROWID;

CREATE TABLE crm_hub_nonces (      -- replay protection of signed requests
    node  TEXT NOT NULL,
    nonce TEXT NOT NULL,
    at    INTEGER NOT NULL,                 -- ms
    PRIMARY KEY (node, nonce)
) WITHOUT ROWID;
CREATE INDEX crm_hub_nonces_at ON crm_hub_nonces(at);

-- Payload size of each batch, to cut sync chunks to a byte budget.
ALTER TABLE crm_applied ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
