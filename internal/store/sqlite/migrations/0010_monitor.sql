-- Alerts and incidents, written in the transaction of the entry that
-- records each change; data is the JSON of the whole object, and the
-- columns beside it are what listings select and order by (seq: of the
-- alert.raised or incident.opened entry). The objects run to hundreds of
-- bytes, so these are rowid tables.
CREATE TABLE alerts (
    tenant_id TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    status    TEXT    NOT NULL,
    severity  TEXT    NOT NULL,
    agent     TEXT    NOT NULL,
    metric    TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    data      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX alerts_by_seq ON alerts (tenant_id, seq);
CREATE INDEX alerts_by_status ON alerts (tenant_id, status, seq);

CREATE TABLE incidents (
    tenant_id TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    status    TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX incidents_by_seq ON incidents (tenant_id, seq);

-- The monitor job's checkpoint of each tenant: its snapshot and the seq
-- of the first entry the snapshot has not seen.
CREATE TABLE monitor_state (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    next_seq   INTEGER NOT NULL,
    snapshot   BLOB    NOT NULL,
    updated_us INTEGER NOT NULL
);

-- The series the monitor shows, one row per agent and bucket (data is the
-- watch package's JSON, kept byte for byte). Pruning goes by bucket across
-- tenants.
CREATE TABLE monitor_series (
    tenant_id TEXT    NOT NULL,
    agent     TEXT    NOT NULL,
    bucket_us INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, agent, bucket_us)
);
CREATE INDEX monitor_series_by_bucket ON monitor_series (bucket_us);
