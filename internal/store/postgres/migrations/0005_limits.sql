-- Counts of the limits package, written in decision transactions (which
-- hold the tenant's log head, so every replica counts one decision after
-- another): each counted use of a rate limit or budget (pruned once out of
-- its window), and each action a session took with its running totals.
CREATE TABLE limit_events (
    tenant_id text   NOT NULL,
    counter   text   NOT NULL,
    time_us   bigint NOT NULL,
    amount    bigint NOT NULL
);
CREATE INDEX limit_events_by_counter ON limit_events (tenant_id, counter, time_us);

CREATE TABLE session_totals (
    tenant_id  text   NOT NULL,
    session_id text   NOT NULL,
    actions    bigint NOT NULL,
    risk       bigint NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
);

CREATE TABLE session_actions (
    tenant_id  text   NOT NULL,
    session_id text   NOT NULL,
    n          bigint NOT NULL,
    time_us    bigint NOT NULL,
    action     text   NOT NULL,
    PRIMARY KEY (tenant_id, session_id, n)
);
