-- Alerts and incidents, written in the transaction of the entry that
-- records each change; data is the JSON of the whole object, and the
-- columns beside it are what listings select and order by (seq: of the
-- alert.raised or incident.opened entry). data is text, not jsonb: jsonb
-- refuses the \u0000 that encoding/json writes for a NUL in a message.
CREATE TABLE alerts (
    tenant_id text   NOT NULL,
    id        text   NOT NULL,
    seq       bigint NOT NULL,
    status    text   NOT NULL,
    severity  text   NOT NULL,
    agent     text   NOT NULL,
    metric    text   NOT NULL,
    time_us   bigint NOT NULL,
    data      text   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX alerts_by_seq ON alerts (tenant_id, seq);
CREATE INDEX alerts_by_status ON alerts (tenant_id, status, seq);

CREATE TABLE incidents (
    tenant_id text   NOT NULL,
    id        text   NOT NULL,
    seq       bigint NOT NULL,
    status    text   NOT NULL,
    data      text   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX incidents_by_seq ON incidents (tenant_id, seq);

-- The monitor job's checkpoint of each tenant: its snapshot and the seq
-- of the first entry the snapshot has not seen.
CREATE TABLE monitor_state (
    tenant_id  text   NOT NULL PRIMARY KEY,
    next_seq   bigint NOT NULL,
    snapshot   bytea  NOT NULL,
    updated_us bigint NOT NULL
);

-- The series the monitor shows, one row per agent and bucket (data is the
-- watch package's JSON, kept byte for byte). Agents are listed in byte
-- order, as SQLite and Go order them, whatever the database's collation.
-- Pruning goes by bucket across tenants: on Citus, a multi-shard delete.
CREATE TABLE monitor_series (
    tenant_id text   NOT NULL,
    agent     text   COLLATE "C" NOT NULL,
    bucket_us bigint NOT NULL,
    data      bytea  NOT NULL,
    PRIMARY KEY (tenant_id, agent, bucket_us)
);
CREATE INDEX monitor_series_by_bucket ON monitor_series (bucket_us);
