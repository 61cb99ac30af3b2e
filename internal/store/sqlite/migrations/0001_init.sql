-- Warden SQLite schema, version 1. Every table's primary key starts with
-- tenant_id, as in the PostgreSQL schema, so no query crosses tenants.

-- Installation settings that every replica shares (the origin), kept
-- under the reserved tenant _system.
CREATE TABLE meta (
    tenant_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;

-- One row per tenant that has a log.
CREATE TABLE logs (
    tenant_id  TEXT NOT NULL PRIMARY KEY,
    created_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Ledger entries: data holds the exact canonical bytes that were hashed;
-- hashes holds the tree hashes appending the entry added (leaf first),
-- 32 bytes each, in sumdb/tlog stored-hash order.
CREATE TABLE entries (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    id        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    hashes    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX entries_by_id ON entries (tenant_id, id);
CREATE INDEX entries_by_time ON entries (tenant_id, time_us);

-- Signed checkpoints (C2SP tlog-checkpoint notes).
CREATE TABLE checkpoints (
    tenant_id  TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    note       BLOB    NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, size)
) WITHOUT ROWID;

CREATE TABLE tenants (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_us INTEGER NOT NULL
) WITHOUT ROWID;

-- API keys: only the hash of the secret is stored.
CREATE TABLE api_keys (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER,
    revoked_us   INTEGER,
    last_used_us INTEGER,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_by_id ON api_keys (id);
