-- Every change Steward starts, keyed by the idempotency key it sends to the platform (Graph's
-- client-request-id). A row is written before the connector is called and closed after; one left
-- 'pending' past its lease belongs to a process that died mid-call: it is "in doubt" until a
-- reconciler reads the target's state and records whether the change happened. A second attempt
-- with the same key finds the row and never repeats the call blindly.
CREATE TABLE intents (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    key           TEXT NOT NULL,
    conversation  TEXT NOT NULL,
    action        TEXT NOT NULL,
    call          TEXT NOT NULL,
    status        TEXT NOT NULL,
    owner         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    lease_until   TEXT NOT NULL,
    resolved_at   TEXT,
    resolution    TEXT,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX intents_by_status ON intents (tenant, status, lease_until);
