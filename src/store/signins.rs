//! Sign-in attempts by user name and client address (migration 0011): the sign-in limit
//! counts recent failures from them, and admins read them (`GET /api/signins`).

use serde::Serialize;
use sqlx::Row;

use super::{now_text, q, Store, StoreError};

/// How long sign-in attempts are kept for admins to read.
const KEEP_DAYS: i64 = 90;

/// What became of a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SigninOutcome {
    /// The password was checked and was wrong (or the user is unknown).
    Failed,
    /// Refused unchecked: the user name or address is delayed after failures.
    Refused,
    /// Signed in.
    Ok,
}

impl SigninOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SigninOutcome::Failed => "failed",
            SigninOutcome::Refused => "refused",
            SigninOutcome::Ok => "ok",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigninAttempt {
    pub id: i64,
    pub at: String,
    pub name: String,
    pub address: String,
    #[schema(value_type = SigninOutcome)]
    pub outcome: String,
}

/// Failures counted towards a limit: how many, and the newest one's time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failures {
    pub count: i64,
    pub last_at: Option<String>,
}

impl Store {
    pub async fn record_signin(
        &self,
        name: &str,
        address: &str,
        outcome: SigninOutcome,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signin_attempts (at, name, address, outcome) VALUES ($1, $2, $3, $4)",
        )
        .bind(now_text())
        .bind(name)
        .bind(address)
        .bind(outcome.as_str())
        .execute(&self.pool)
        .await
        .map_err(q("record sign-in"))?;
        if outcome == SigninOutcome::Ok {
            // Old attempts are swept where a sign-in succeeds (rarely, unlike failures).
            let old = crate::probe::utc_millis::format(
                &(chrono::Utc::now() - chrono::Duration::days(KEEP_DAYS)),
            );
            sqlx::query("DELETE FROM signin_attempts WHERE at < $1")
                .bind(old)
                .execute(&self.pool)
                .await
                .map_err(q("sweep sign-ins"))?;
        }
        Ok(())
    }

    /// Failures of user `name` after `since` and after the user's last successful sign-in.
    pub async fn failures_of_name(&self, name: &str, since: &str) -> Result<Failures, StoreError> {
        self.failures(
            "SELECT COUNT(*), MAX(at) FROM signin_attempts
             WHERE name = $1 AND outcome = 'failed' AND at > $2
               AND at > COALESCE((SELECT MAX(at) FROM signin_attempts
                                  WHERE name = $1 AND outcome = 'ok'), '')",
            name,
            since,
        )
        .await
    }

    /// Failures from `address` after `since` (a success from it does not clear them: one
    /// account of its own would otherwise reset an address guessing others').
    pub async fn failures_of_address(
        &self,
        address: &str,
        since: &str,
    ) -> Result<Failures, StoreError> {
        self.failures(
            "SELECT COUNT(*), MAX(at) FROM signin_attempts
             WHERE address = $1 AND outcome = 'failed' AND at > $2",
            address,
            since,
        )
        .await
    }

    async fn failures(
        &self,
        sql: &'static str,
        key: &str,
        since: &str,
    ) -> Result<Failures, StoreError> {
        let r = sqlx::query(sql)
            .bind(key)
            .bind(since)
            .fetch_one(&self.pool)
            .await
            .map_err(q("count sign-in failures"))?;
        Ok(Failures {
            count: r.try_get(0).map_err(q("read sign-in failures"))?,
            last_at: r.try_get(1).map_err(q("read sign-in failures"))?,
        })
    }

    /// The newest `limit` attempts, newest first.
    pub async fn signin_attempts(&self, limit: i64) -> Result<Vec<SigninAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, name, address, outcome FROM signin_attempts
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list sign-ins"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read sign-in");
                Ok(SigninAttempt {
                    id: r.try_get(0).map_err(g())?,
                    at: r.try_get(1).map_err(g())?,
                    name: r.try_get(2).map_err(g())?,
                    address: r.try_get(3).map_err(g())?,
                    outcome: r.try_get(4).map_err(g())?,
                })
            })
            .collect()
    }
}
