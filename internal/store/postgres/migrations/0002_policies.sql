-- Policy versions (immutable) and each tenant's active policy.
CREATE TABLE policy_versions (
    tenant_id  text   NOT NULL,
    name       text   NOT NULL,
    version    bigint NOT NULL,
    digest     text   NOT NULL,
    source     bytea  NOT NULL,
    author     text   NOT NULL,
    created_us bigint NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
CREATE UNIQUE INDEX policy_versions_by_digest ON policy_versions (tenant_id, name, digest);

CREATE TABLE policy_active (
    tenant_id    text   NOT NULL PRIMARY KEY,
    name         text   NOT NULL,
    version      bigint NOT NULL,
    activated_us bigint NOT NULL,
    activated_by text   NOT NULL
);
