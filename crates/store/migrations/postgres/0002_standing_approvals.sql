-- "Approve Always": each row is one template link's sidecar (Cedar templates cannot hold times or
-- counts). Only live rows (not revoked, not expired, uses left) are linked into the policy set.
CREATE TABLE standing_approvals (
    tenant           TEXT NOT NULL REFERENCES tenants(id),
    id               TEXT NOT NULL,
    action           TEXT NOT NULL,
    principal_kind   TEXT NOT NULL,
    principal_id     TEXT NOT NULL,
    resource_kind    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    scope_label      TEXT NOT NULL,
    approver         TEXT NOT NULL,
    source_approval  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    max_uses         BIGINT NOT NULL,
    uses             BIGINT NOT NULL DEFAULT 0,
    revoked_at       TEXT,
    revoked_by       TEXT,
    PRIMARY KEY (tenant, id)
);
