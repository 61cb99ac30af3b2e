-- Warden PostgreSQL schema, version 1. Every table's primary key starts
-- with tenant_id and no query of tenant data crosses tenants, so the
-- schema distributes by tenant_id on Citus (see the README).

-- Installation settings shared by every replica (the origin), under the
-- reserved tenant _system.
CREATE TABLE meta (
    tenant_id text NOT NULL,
    key       text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- The head of each tenant's log. Appends lock this row for the life of
-- their transaction: that serializes one tenant's appends across replicas.
CREATE TABLE log_heads (
    tenant_id    text   NOT NULL PRIMARY KEY,
    size         bigint NOT NULL,
    last_hash    bytea  NOT NULL,
    last_time_us bigint NOT NULL
);

-- Ledger entries: data holds the exact canonical bytes that were hashed;
-- hashes the tree hashes appending the entry added (leaf first), 32 bytes
-- each, in sumdb/tlog stored-hash order.
CREATE TABLE entries (
    tenant_id text   NOT NULL,
    seq       bigint NOT NULL,
    id        text   NOT NULL,
    kind      text   NOT NULL,
    time_us   bigint NOT NULL,
    data      bytea  NOT NULL,
    hashes    bytea  NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX entries_by_id ON entries (tenant_id, id);
CREATE INDEX entries_by_time ON entries (tenant_id, time_us);

CREATE TABLE checkpoints (
    tenant_id  text   NOT NULL,
    size       bigint NOT NULL,
    note       bytea  NOT NULL,
    created_us bigint NOT NULL,
    PRIMARY KEY (tenant_id, size)
);

CREATE TABLE tenants (
    tenant_id  text   NOT NULL PRIMARY KEY,
    name       text   NOT NULL,
    status     text   NOT NULL,
    created_us bigint NOT NULL
);

-- API keys: only the hash of the secret is stored. Keys are found by id
-- alone at authentication; on Citus this small table is a reference table.
CREATE TABLE api_keys (
    tenant_id    text   NOT NULL,
    id           text   NOT NULL,
    role         text   NOT NULL,
    name         text   NOT NULL,
    hash         bytea  NOT NULL,
    created_us   bigint NOT NULL,
    expires_us   bigint,
    revoked_us   bigint,
    last_used_us bigint,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_by_id ON api_keys (id);
