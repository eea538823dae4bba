-- What following a taken ticket up needs: the ticket as taken (sealed with the tenant's key), how
-- far the write-back of the conversation's latest turn got (and for which turn), how many times it
-- was tried, which of the caller's comments were already read, and when the row last changed.
ALTER TABLE ticket_intake ADD COLUMN record TEXT;
ALTER TABLE ticket_intake ADD COLUMN turn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_intake ADD COLUMN written BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_intake ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_intake ADD COLUMN replies_seen TEXT;
ALTER TABLE ticket_intake ADD COLUMN updated_at TEXT;
