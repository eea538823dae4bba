-- Events a channel delivered (a Slack event id), so a retry — to this replica or another, before
-- or after a restart — is recognised and dropped instead of worked twice.
CREATE TABLE channel_events (
    tenant    TEXT NOT NULL REFERENCES tenants(id),
    channel   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (tenant, channel, event_id)
);
