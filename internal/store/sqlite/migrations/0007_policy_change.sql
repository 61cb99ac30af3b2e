-- Policy change management: approvals of versions, the history of
-- activations, and each tenant's candidate (evaluated in shadow).
CREATE TABLE policy_approvals (
    tenant_id TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, version, key_id)
) WITHOUT ROWID;

CREATE TABLE policy_activations (
    tenant_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    activated_us INTEGER NOT NULL,
    activated_by TEXT    NOT NULL
);
CREATE INDEX policy_activations_by_time ON policy_activations (tenant_id, activated_us);

CREATE TABLE policy_candidate (
    tenant_id TEXT    NOT NULL PRIMARY KEY,
    name      TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    set_us    INTEGER NOT NULL,
    set_by    TEXT    NOT NULL
) WITHOUT ROWID;
