//! Agents and the leases they hold on sweep jobs (migration 0010). Several `raqib serve
//! --agent NAME` share one store: an agent claims due jobs (on PostgreSQL with `FOR UPDATE
//! SKIP LOCKED`, so two agents never take the same row), renews its leases while it works,
//! and stores a result only while it still holds the job's lease. A dead agent's leases run
//! out and another agent claims its jobs again: each job ends with exactly one result.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{insert_result_in, now_text, q, this_host, NewResult, Store, StoreError};
use crate::probe::utc_millis;

/// An agent as `raqib agents` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    pub name: String,
    pub tags: Vec<String>,
    pub host: String,
    pub pid: i64,
    pub started_at: String,
    pub heartbeat_at: String,
    /// Results this agent stored.
    pub jobs_done: i64,
}

/// A job an agent holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub sweep_id: i64,
    pub centre: String,
    pub target: String,
    pub not_before: DateTime<Utc>,
    pub attempts: i64,
}

/// A running scheduled sweep and the agent tags it needs.
#[derive(Debug, Clone)]
pub struct OpenSweep {
    pub id: i64,
    pub channel: String,
    pub agent_tags: Vec<String>,
}

impl AgentRow {
    /// Alive: a heartbeat within `lease` of `now` (heartbeats come every third of a lease). An
    /// unreadable heartbeat counts as one at `now`.
    pub fn alive(&self, now: DateTime<Utc>, lease: chrono::Duration) -> bool {
        let beat = DateTime::parse_from_rfc3339(&self.heartbeat_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        now - beat <= lease
    }
}

fn tags_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Store {
    /// The agent row of `name`, if any.
    pub async fn agent(&self, name: &str) -> Result<Option<AgentRow>, StoreError> {
        Ok(self.agents().await?.into_iter().find(|a| a.name == name))
    }

    /// Records this process as agent `name` (with `tags`) and gives back, at once, the jobs a
    /// previous run of the same agent held: that process is gone, since this one has its name.
    /// Refused while another live process has the name: its heartbeat is younger than `lease`
    /// and, on this host, its process still exists.
    pub async fn register_agent(
        &self,
        name: &str,
        tags: &[String],
        lease: chrono::Duration,
    ) -> Result<(), StoreError> {
        if let Some(a) = self.agent(name).await? {
            let fresh = DateTime::parse_from_rfc3339(&a.heartbeat_at)
                .is_ok_and(|t| Utc::now() - t.with_timezone(&Utc) < lease);
            let me = a.host == this_host() && a.pid == i64::from(std::process::id());
            let gone = a.host == this_host()
                && i32::try_from(a.pid).is_ok_and(|pid| {
                    // SAFETY: signal 0 only checks that the process exists.
                    let r = unsafe { libc::kill(pid, 0) };
                    r != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM)
                });
            if fresh && !me && !gone {
                return Err(StoreError::AgentBusy {
                    name: name.to_string(),
                    host: a.host,
                    pid: a.pid,
                });
            }
        }
        let now = now_text();
        sqlx::query(
            "INSERT INTO agents (name, tags, host, pid, started_at, heartbeat_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (name) DO UPDATE SET tags = excluded.tags, host = excluded.host,
                pid = excluded.pid, started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at",
        )
        .bind(name)
        .bind(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
        .bind(this_host())
        .bind(i64::from(std::process::id()))
        .bind(&now)
        .execute(&self.pool)
        .await
        .map_err(q("register agent"))?;
        sqlx::query(
            "UPDATE sweep_jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL
             WHERE lease_owner = $1 AND status = 'running'",
        )
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(q("release old leases"))?;
        Ok(())
    }

    /// Notes that agent `name` is alive and extends the leases of the jobs it runs.
    pub async fn heartbeat(&self, name: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE agents SET heartbeat_at = $1 WHERE name = $2")
            .bind(now_text())
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(q("heartbeat"))?;
        sqlx::query(
            "UPDATE sweep_jobs SET lease_until = $1 WHERE lease_owner = $2 AND status = 'running'",
        )
        .bind(utc_millis::format(&until))
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(q("renew leases"))?;
        Ok(())
    }

    /// Agents seen, by name, with the results each stored.
    pub async fn agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.name, a.tags, a.host, a.pid, a.started_at, a.heartbeat_at,
                    (SELECT COUNT(*) FROM results r WHERE r.agent = a.name)
             FROM agents a ORDER BY a.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list agents"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read agent");
                let tags: String = r.try_get(1).map_err(g())?;
                Ok(AgentRow {
                    name: r.try_get(0).map_err(g())?,
                    tags: tags_of(&tags),
                    host: r.try_get(2).map_err(g())?,
                    pid: r.try_get(3).map_err(g())?,
                    started_at: r.try_get(4).map_err(g())?,
                    heartbeat_at: r.try_get(5).map_err(g())?,
                    jobs_done: r.try_get(6).map_err(g())?,
                })
            })
            .collect()
    }

    /// Scheduled sweeps still running, whoever planned them.
    pub async fn open_sweeps(&self) -> Result<Vec<OpenSweep>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, channel, agent_tags FROM sweeps
             WHERE status = 'running' AND schedule IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("open sweeps"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read open sweep");
                let tags: String = r.try_get(2).map_err(g())?;
                Ok(OpenSweep {
                    id: r.try_get(0).map_err(g())?,
                    channel: r.try_get(1).map_err(g())?,
                    agent_tags: tags_of(&tags),
                })
            })
            .collect()
    }

    /// Claims up to `limit` jobs of `sweeps` due by `now` for `agent` until `lease_until`:
    /// pending ones, and running ones whose lease ran out (their agent died). Earliest first.
    pub async fn claim_jobs(
        &self,
        agent: &str,
        sweeps: &[i64],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        if sweeps.is_empty() || limit < 1 {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..sweeps.len()).map(|i| format!("${}", i + 5)).collect();
        // SKIP LOCKED: rows another agent is claiming right now are passed over, not waited
        // for. SQLite has one writer at a time, which gives the same guarantee.
        let lock = if self.postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE sweep_jobs SET status = 'running', lease_owner = $1, lease_until = $2,
                    attempts = attempts + 1
             WHERE id IN (
                SELECT id FROM sweep_jobs
                WHERE sweep_id IN ({}) AND not_before <= $3
                  AND (status = 'pending'
                       OR (status = 'running' AND (lease_until IS NULL OR lease_until < $3)))
                ORDER BY not_before, id LIMIT $4{lock})
             RETURNING id, sweep_id, centre_id, target, not_before, attempts",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(agent)
            .bind(utc_millis::format(&lease_until))
            .bind(utc_millis::format(&now))
            .bind(limit);
        for s in sweeps {
            query = query.bind(*s);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(q("claim jobs"))?;
        let mut jobs: Vec<ClaimedJob> = rows
            .iter()
            .map(|r| {
                let g = || q("read claimed job");
                let nb: String = r.try_get(4).map_err(g())?;
                Ok(ClaimedJob {
                    id: r.try_get(0).map_err(g())?,
                    sweep_id: r.try_get(1).map_err(g())?,
                    centre: r.try_get(2).map_err(g())?,
                    target: r.try_get(3).map_err(g())?,
                    not_before: DateTime::parse_from_rfc3339(&nb)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(now),
                    attempts: r.try_get(5).map_err(g())?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        // RETURNING gives no order.
        jobs.sort_by(|a, b| a.not_before.cmp(&b.not_before).then(a.id.cmp(&b.id)));
        // The sweeps worked on are this process's now, as `raqib sweeps` tells (its planner may
        // be gone while this agent finishes them).
        let mut worked: Vec<i64> = jobs.iter().map(|j| j.sweep_id).collect();
        worked.dedup();
        for s in worked {
            sqlx::query(
                "UPDATE sweeps SET host = $1, pid = $2
                 WHERE id = $3 AND (host IS NULL OR host <> $1 OR pid IS NULL OR pid <> $2)",
            )
            .bind(this_host())
            .bind(i64::from(std::process::id()))
            .bind(s)
            .execute(&self.pool)
            .await
            .map_err(q("adopt sweep"))?;
        }
        Ok(jobs)
    }

    /// The earliest time a pending job of `sweeps` may start.
    pub async fn next_due(&self, sweeps: &[i64]) -> Result<Option<DateTime<Utc>>, StoreError> {
        if sweeps.is_empty() {
            return Ok(None);
        }
        let list: Vec<String> = (0..sweeps.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "SELECT MIN(not_before) FROM sweep_jobs WHERE status = 'pending' AND sweep_id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in sweeps {
            query = query.bind(*s);
        }
        let row = query.fetch_one(&self.pool).await.map_err(q("next due"))?;
        let t: Option<String> = row.try_get(0).map_err(q("next due"))?;
        Ok(t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Stores a claimed job's result and marks it done, in one transaction, only while
    /// `agent` still holds its lease: `None` (nothing stored) when another agent took it over.
    pub async fn complete_claimed(
        &self,
        job: i64,
        agent: &str,
        r: &NewResult<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin job"))?;
        let held = sqlx::query(
            "UPDATE sweep_jobs SET status = 'done'
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(job)
        .bind(agent)
        .execute(&mut *tx)
        .await
        .map_err(q("complete job"))?;
        if held.rows_affected() != 1 {
            tx.rollback().await.map_err(q("roll back job"))?;
            return Ok(None);
        }
        let id = insert_result_in(&mut tx, r, true).await?;
        sqlx::query("UPDATE sweep_jobs SET result_id = $1 WHERE id = $2")
            .bind(id)
            .bind(job)
            .execute(&mut *tx)
            .await
            .map_err(q("complete job"))?;
        tx.commit().await.map_err(q("commit job"))?;
        Ok(Some(id))
    }

    /// Marks a claimed job done without a result (its centre left the registry).
    pub async fn skip_claimed(&self, job: i64, agent: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sweep_jobs SET status = 'done'
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(job)
        .bind(agent)
        .execute(&self.pool)
        .await
        .map_err(q("skip job"))?;
        Ok(())
    }

    /// Marks a sweep finished when none of its jobs is left; `true` for the one caller that
    /// did (it sends the alerts).
    pub async fn finish_if_done(&self, sweep: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sweeps SET status = 'finished', finished_at = $1
             WHERE id = $2 AND status = 'running'
               AND NOT EXISTS (SELECT 1 FROM sweep_jobs WHERE sweep_id = $2 AND status <> 'done')",
        )
        .bind(now_text())
        .bind(sweep)
        .execute(&self.pool)
        .await
        .map_err(q("finish sweep"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether a sweep of `schedule` is still running (planned by any agent).
    pub async fn schedule_running(&self, schedule: &str) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM sweeps WHERE schedule = $1 AND status = 'running'")
                .bind(schedule)
                .fetch_one(&self.pool)
                .await
                .map_err(q("schedule running"))?;
        let n: i64 = row.try_get(0).map_err(q("schedule running"))?;
        Ok(n > 0)
    }

    /// Takes the named lease for `owner` until `until` if it is free, run out, or already
    /// `owner`'s; `false` while another owner holds it.
    pub async fn take_lease(
        &self,
        name: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
             WHERE leases.until < $4 OR leases.owner = excluded.owner",
        )
        .bind(name)
        .bind(owner)
        .bind(utc_millis::format(&until))
        .bind(now_text())
        .execute(&self.pool)
        .await
        .map_err(q("take lease"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up the named lease if `owner` holds it.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(q("release lease"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_named_lease_has_one_owner_until_it_runs_out_or_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let soon = Utc::now() + chrono::Duration::minutes(10);
        assert!(store.take_lease("alerts", "a", soon).await.unwrap());
        assert!(!store.take_lease("alerts", "b", soon).await.unwrap());
        assert!(
            store.take_lease("alerts", "a", soon).await.unwrap(),
            "renewed by its owner"
        );
        store.release_lease("alerts", "b").await.unwrap();
        assert!(
            !store.take_lease("alerts", "b", soon).await.unwrap(),
            "b cannot give a's back"
        );
        store.release_lease("alerts", "a").await.unwrap();
        assert!(store.take_lease("alerts", "b", soon).await.unwrap());
        // Run out: anyone may take it.
        let past = Utc::now() - chrono::Duration::seconds(1);
        assert!(store.take_lease("other", "b", past).await.unwrap());
        assert!(store.take_lease("other", "c", soon).await.unwrap());
    }
}
