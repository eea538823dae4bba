-- Escalations: requests Steward handed to a human, each with everything a person needs to take it
-- over (transcript, findings, what was tried and how policy decided, audit record ids, a suggested
-- next step). The bundle is sealed with the tenant's data key; status and times stay readable for
-- the queue.
CREATE TABLE escalations (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    id            TEXT NOT NULL,
    conversation  TEXT NOT NULL,
    requester     TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    closed_at     TEXT,
    closed_by     TEXT,
    bundle        TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX escalations_open ON escalations (tenant, status, created_at);
