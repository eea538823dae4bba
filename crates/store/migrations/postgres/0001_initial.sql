-- The PostgreSQL twin of migrations/sqlite/0001_initial.sql: the same tables, columns and keys
-- (integers are BIGINT, so both read back as i64), for installations with several replicas.

-- Every tenant-owned row carries its tenant; every key starts with it, so no query can reach
-- another tenant's rows by guessing an id.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE conversations (
    tenant      TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    requester   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE conversation_steps (
    tenant        TEXT NOT NULL,
    conversation  TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, conversation, seq),
    FOREIGN KEY (tenant, conversation) REFERENCES conversations(tenant, id)
);

CREATE TABLE approvals (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    id            TEXT NOT NULL,
    conversation  TEXT NOT NULL,
    requester     TEXT NOT NULL,
    action        TEXT NOT NULL,
    status        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    note          TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX approvals_by_status ON approvals (tenant, status);

CREATE TABLE audit_records (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    time          TEXT NOT NULL,
    conversation  TEXT,
    entry         TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX audit_by_conversation ON audit_records (tenant, conversation);
