-- The ticket an escalation was filed as in the tenant's ITSM tool (Jira issue, ServiceNow
-- incident, SysAid service record): `{"system", "key", "url"}` as JSON, or the error that kept
-- it from being filed. Not secret: it names a record, not its content.
ALTER TABLE escalations ADD COLUMN ticket TEXT;
