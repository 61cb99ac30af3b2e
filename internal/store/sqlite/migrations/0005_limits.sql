-- Counts of the limits package, written in decision transactions: each
-- counted use of a rate limit or budget (pruned once out of its window),
-- and each action a session took with its running totals.
CREATE TABLE limit_events (
    tenant_id TEXT    NOT NULL,
    counter   TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    amount    INTEGER NOT NULL
);
CREATE INDEX limit_events_by_counter ON limit_events (tenant_id, counter, time_us);

CREATE TABLE session_totals (
    tenant_id  TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    actions    INTEGER NOT NULL,
    risk       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
) WITHOUT ROWID;

CREATE TABLE session_actions (
    tenant_id  TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    time_us    INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, session_id, n)
) WITHOUT ROWID;
