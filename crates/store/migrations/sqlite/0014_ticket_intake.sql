-- Tickets taken from the ITSM tool's queue as requests: one row per ticket, claimed by a
-- conditional insert before any work, so no ticket is ever picked twice (by this replica or
-- another, before or after a restart); the newest creation time is the intake's cursor.
CREATE TABLE ticket_intake (
    tenant        TEXT NOT NULL REFERENCES tenants(id),
    system        TEXT NOT NULL,
    ticket        TEXT NOT NULL,
    created       TEXT NOT NULL,
    picked_at     TEXT NOT NULL,
    conversation  TEXT,
    outcome       TEXT,
    PRIMARY KEY (tenant, system, ticket)
);
