-- Delegated credentials (an admin's refresh token and the scopes it was granted), sealed with the
-- tenant's data key: unreadable at rest, and gone with the tenant's key when it is deleted.
CREATE TABLE credentials (
    tenant      TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    owner       TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
