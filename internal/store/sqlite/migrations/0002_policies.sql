-- Policy versions (immutable) and each tenant's active policy.
CREATE TABLE policy_versions (
    tenant_id  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    digest     TEXT    NOT NULL,
    source     BLOB    NOT NULL,
    author     TEXT    NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
) WITHOUT ROWID;
CREATE UNIQUE INDEX policy_versions_by_digest ON policy_versions (tenant_id, name, digest);

CREATE TABLE policy_active (
    tenant_id    TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    activated_us INTEGER NOT NULL,
    activated_by TEXT    NOT NULL
) WITHOUT ROWID;
