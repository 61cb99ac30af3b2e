-- Kill switches and each tenant's controls version, raised by every
-- change (a decision re-checks when the version moved since it looked).
CREATE TABLE controls (
    tenant_id  TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    session    TEXT    NOT NULL,
    effect     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    expires_us INTEGER,
    created_us INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    cleared_us INTEGER,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE controls_version (
    tenant_id TEXT    NOT NULL PRIMARY KEY,
    version   INTEGER NOT NULL
) WITHOUT ROWID;
