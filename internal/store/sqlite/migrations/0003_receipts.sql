-- The receipt index: one row per decision entry, written in the decision's
-- append transaction, updated in its outcome's. The entries stay the record.
CREATE TABLE receipts (
    tenant_id      TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    time_us        INTEGER NOT NULL,
    agent          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    decision       TEXT    NOT NULL,
    outcome_seq    INTEGER,
    outcome_status TEXT,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX receipts_by_seq ON receipts (tenant_id, seq);
CREATE INDEX receipts_by_agent ON receipts (tenant_id, agent, seq);
CREATE INDEX receipts_by_action ON receipts (tenant_id, action, seq);
