-- Retention: an entry's data may be pruned (NULL) while its row, seq, id,
-- kind, time and tree hashes stay, so checkpoints and proofs still verify.
ALTER TABLE entries ALTER COLUMN data DROP NOT NULL;

-- The end of each tenant's pruned prefix: entries below through_seq have
-- no data. Written in the transaction of the log.pruned entry.
CREATE TABLE log_prunes (
    tenant_id   text   NOT NULL PRIMARY KEY,
    through_seq bigint NOT NULL
);
