-- Approval requests opened by require_approval decisions, written in the
-- decision's transaction, and their votes. The request is kept as the
-- decision entry recorded it (args redacted where the scanners found
-- something) for the time-of-use check.
CREATE TABLE approvals (
    tenant_id    text    NOT NULL,
    id           text    NOT NULL,
    receipt_id   text    NOT NULL,
    digest       text    NOT NULL,
    principal    text    NOT NULL,
    action       text    NOT NULL,
    requester    text    NOT NULL,
    rule         text    NOT NULL,
    groups_json  text    NOT NULL,
    keys_json    text    NOT NULL,
    count        bigint NOT NULL,
    created_us   bigint NOT NULL,
    expires_us   bigint NOT NULL,
    status       text    NOT NULL,
    reason       text    NOT NULL DEFAULT '',
    resolved_us  bigint,
    used_receipt text    NOT NULL DEFAULT '',
    used_us      bigint,
    request_json text    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX approvals_by_status ON approvals (tenant_id, status, id);

CREATE TABLE approval_votes (
    tenant_id   text    NOT NULL,
    approval_id text    NOT NULL,
    key_id      text    NOT NULL,
    approve     boolean NOT NULL,
    comment     text    NOT NULL,
    time_us     bigint NOT NULL,
    PRIMARY KEY (tenant_id, approval_id, key_id)
);
