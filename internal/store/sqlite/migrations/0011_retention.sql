-- Retention: an entry's data may be pruned (NULL) while its row, seq, id,
-- kind, time and tree hashes stay, so checkpoints and proofs still verify.
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt.
CREATE TABLE entries_new (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    id        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    data      BLOB,
    hashes    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
INSERT INTO entries_new (tenant_id, seq, id, kind, time_us, data, hashes)
    SELECT tenant_id, seq, id, kind, time_us, data, hashes FROM entries;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE UNIQUE INDEX entries_by_id ON entries (tenant_id, id);
CREATE INDEX entries_by_time ON entries (tenant_id, time_us);

-- The end of each tenant's pruned prefix: entries below through_seq have
-- no data. Written in the transaction of the log.pruned entry.
CREATE TABLE log_prunes (
    tenant_id   TEXT    NOT NULL PRIMARY KEY,
    through_seq INTEGER NOT NULL
) WITHOUT ROWID;
