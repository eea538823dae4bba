-- Signed checkpoints of each tenant's audit chain: the head (sequence number and hash) signed with
-- the installation's ed25519 key every N records or T seconds. They show a chain cut short at its
-- end, or rewritten whole, which the hash links alone cannot.
CREATE TABLE audit_checkpoints (
    tenant     TEXT NOT NULL REFERENCES tenants(id),
    seq        BIGINT NOT NULL,
    head_hash  TEXT NOT NULL,
    time       TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
