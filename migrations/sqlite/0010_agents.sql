-- Several `raqib serve --agent NAME` processes share one store: each claims due sweep jobs
-- under a lease it renews; a job whose lease ran out (its agent died) is claimed again.
-- Agents carry tags (carrier=mobile, region=north); a schedule's sweep may require some.
CREATE TABLE agents (
    name          TEXT PRIMARY KEY,
    tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array
    host          TEXT NOT NULL,
    pid           BIGINT NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);

ALTER TABLE sweep_jobs ADD COLUMN lease_owner TEXT;   -- the agent running it
ALTER TABLE sweep_jobs ADD COLUMN lease_until TEXT;   -- RFC 3339 UTC: free to claim after
ALTER TABLE sweeps ADD COLUMN agent_tags TEXT NOT NULL DEFAULT '[]';  -- tags an agent needs
ALTER TABLE results ADD COLUMN agent TEXT;            -- the agent that probed

-- One sweep per schedule and fire time, whichever agent plans it first.
CREATE UNIQUE INDEX sweeps_one_per_fire ON sweeps (schedule, fired_at);
CREATE INDEX sweep_jobs_due ON sweep_jobs (status, not_before);
CREATE INDEX results_by_agent ON results (agent);

-- Work only one agent may do at a time (alert evaluation and delivery): held until `until`.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    owner  TEXT NOT NULL,
    until  TEXT NOT NULL
);
