-- How far each export sink (a SIEM webhook) has received a tenant's audit chain: a restarted
-- exporter resumes after the last record the sink acknowledged, so nothing is skipped.
CREATE TABLE audit_export_cursors (
    tenant      TEXT NOT NULL REFERENCES tenants(id),
    sink        TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, sink)
);
