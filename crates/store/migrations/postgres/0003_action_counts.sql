-- Rate counters for the runtime policy layer: one row per reservation of a change (units = the
-- number of targets it touches). Cedar is stateless, so the count a decision sees is reserved
-- here atomically before the query, and released again if the change does not run.
CREATE TABLE action_reservations (
    tenant     TEXT NOT NULL REFERENCES tenants(id),
    id         TEXT NOT NULL,
    principal  TEXT NOT NULL,
    action     TEXT NOT NULL,
    at         TEXT NOT NULL,
    units      BIGINT NOT NULL CHECK (units > 0),
    PRIMARY KEY (tenant, id)
);
CREATE INDEX action_reservations_by_principal ON action_reservations (tenant, principal, action, at);
