-- Conversation work (a turn to answer, an approval to run) that any replica may do: claimed with a
-- lease that its worker renews while it works; a replica that dies lets its lease run out, and
-- another replica claims the item again (PostgreSQL: FOR UPDATE SKIP LOCKED, so claimers never
-- wait for each other). The payload and result are sealed with the tenant's key.
CREATE TABLE work_items (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    conversation  TEXT,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    owner         TEXT,
    lease_until   TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    result        TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX work_items_claimable ON work_items (status, created_at);
