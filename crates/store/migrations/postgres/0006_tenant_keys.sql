-- Each tenant's data key, wrapped by the installation's master key (never stored in the clear).
-- Deleting a tenant destroys its key (`wrapped` emptied, `destroyed_at` set): everything sealed with
-- it, in this database or in any backup of it, is unreadable from then on.
CREATE TABLE tenant_keys (
    tenant         TEXT PRIMARY KEY NOT NULL REFERENCES tenants(id),
    master_key_id  TEXT NOT NULL,
    wrapped        TEXT,
    created_at     TEXT NOT NULL,
    rotated_at     TEXT,
    destroyed_at   TEXT
);
