-- The receipt index: one row per decision entry, written in the decision's
-- append transaction, updated in its outcome's. The entries stay the record.
CREATE TABLE receipts (
    tenant_id      text   NOT NULL,
    id             text   NOT NULL,
    seq            bigint NOT NULL,
    time_us        bigint NOT NULL,
    agent          text   NOT NULL,
    action         text   NOT NULL,
    decision       text   NOT NULL,
    outcome_seq    bigint,
    outcome_status text,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX receipts_by_seq ON receipts (tenant_id, seq);
CREATE INDEX receipts_by_agent ON receipts (tenant_id, agent, seq);
CREATE INDEX receipts_by_action ON receipts (tenant_id, action, seq);
