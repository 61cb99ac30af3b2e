-- Policy change management: approvals of versions, the history of
-- activations, and each tenant's candidate (evaluated in shadow).
CREATE TABLE policy_approvals (
    tenant_id text   NOT NULL,
    name      text   NOT NULL,
    version   bigint NOT NULL,
    key_id    text   NOT NULL,
    time_us   bigint NOT NULL,
    PRIMARY KEY (tenant_id, name, version, key_id)
);

-- The history is append-only; id orders activations recorded within the
-- same microsecond (one tenant's appends are serialized by its log head).
CREATE TABLE policy_activations (
    tenant_id    text      NOT NULL,
    id           bigserial NOT NULL,
    name         text      NOT NULL,
    version      bigint    NOT NULL,
    activated_us bigint    NOT NULL,
    activated_by text      NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX policy_activations_by_time ON policy_activations (tenant_id, activated_us, id);

CREATE TABLE policy_candidate (
    tenant_id text   NOT NULL PRIMARY KEY,
    name      text   NOT NULL,
    version   bigint NOT NULL,
    set_us    bigint NOT NULL,
    set_by    text   NOT NULL
);
