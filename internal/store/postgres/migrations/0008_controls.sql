-- Kill switches and each tenant's controls version, raised by every
-- change (a decision re-checks when the version moved since it looked).
CREATE TABLE controls (
    tenant_id  text   NOT NULL,
    id         text   NOT NULL,
    agent      text   NOT NULL,
    action     text   NOT NULL,
    session    text   NOT NULL,
    effect     text   NOT NULL,
    reason     text   NOT NULL,
    expires_us bigint,
    created_us bigint NOT NULL,
    created_by text   NOT NULL,
    cleared_us bigint,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE controls_version (
    tenant_id text   NOT NULL PRIMARY KEY,
    version   bigint NOT NULL
);
