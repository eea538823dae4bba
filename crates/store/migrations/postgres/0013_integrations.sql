-- Integrations imported from an API description (`steward integrations import`): the operations
-- (sealed: the document may describe internal systems), the policies Steward proposed for them,
-- and whether an admin accepted those (only then are the actions offered and decided).
CREATE TABLE integrations (
    tenant       TEXT NOT NULL REFERENCES tenants(id),
    name         TEXT NOT NULL,
    definition   TEXT NOT NULL,
    policy       TEXT NOT NULL,
    status       TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    accepted_by  TEXT,
    accepted_at  TEXT,
    PRIMARY KEY (tenant, name)
);
