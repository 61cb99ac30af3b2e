-- Approval requests opened by require_approval decisions, written in the
-- decision's transaction, and their votes. The request is kept as the
-- decision entry recorded it (args redacted where the scanners found
-- something) for the time-of-use check.
CREATE TABLE approvals (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    receipt_id   TEXT    NOT NULL,
    digest       TEXT    NOT NULL,
    principal    TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    requester    TEXT    NOT NULL,
    rule         TEXT    NOT NULL,
    groups_json  TEXT    NOT NULL,
    keys_json    TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    resolved_us  INTEGER,
    used_receipt TEXT    NOT NULL DEFAULT '',
    used_us      INTEGER,
    request_json TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX approvals_by_status ON approvals (tenant_id, status, id);

CREATE TABLE approval_votes (
    tenant_id   TEXT    NOT NULL,
    approval_id TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    approve     INTEGER NOT NULL,
    comment     TEXT    NOT NULL,
    time_us     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, approval_id, key_id)
) WITHOUT ROWID;
