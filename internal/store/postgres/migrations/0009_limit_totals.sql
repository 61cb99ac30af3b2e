-- The running total of each counter's events in its window, so that a
-- check does not read the window: events leave it (pruned, their amounts
-- subtracted) and join it (added) in the decision's transaction.
CREATE TABLE limit_totals (
    tenant_id text   NOT NULL,
    counter   text   NOT NULL,
    used      bigint NOT NULL,
    PRIMARY KEY (tenant_id, counter)
);
INSERT INTO limit_totals (tenant_id, counter, used)
    SELECT tenant_id, counter, SUM(amount) FROM limit_events GROUP BY tenant_id, counter;
