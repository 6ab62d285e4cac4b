//! Alerts and their deliveries (migration 0006): what was decided once, and each contact's
//! delivery tried until it is sent or has failed for good.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{now_text, q, Store, StoreError};
use crate::probe::utc_millis;

/// An alert about to be stored, with the contacts it goes to.
pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub centre: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub period: Option<&'a str>,
    pub class: Option<&'a str>,
    pub score: Option<f64>,
    pub case_id: Option<i64>,
    pub payload: &'a serde_json::Value,
    pub contacts: &'a [String],
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub kind: String,
    pub centre: Option<String>,
    pub channel: Option<String>,
    pub period: Option<String>,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub case_id: Option<i64>,
    pub created_at: String,
    #[serde(skip)]
    pub payload: serde_json::Value,
    pub deliveries: Vec<Delivery>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    #[serde(skip)]
    pub alert_id: i64,
    pub contact: String,
    pub status: String,
    pub attempts: i64,
    pub next_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

fn delivery(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    let g = || q("read delivery");
    Ok(Delivery {
        id: r.try_get(0).map_err(g())?,
        alert_id: r.try_get(1).map_err(g())?,
        contact: r.try_get(2).map_err(g())?,
        status: r.try_get(3).map_err(g())?,
        attempts: r.try_get(4).map_err(g())?,
        next_at: r.try_get(5).map_err(g())?,
        last_error: r.try_get(6).map_err(g())?,
        sent_at: r.try_get(7).map_err(g())?,
    })
}

impl Store {
    /// Stores an alert and a pending delivery per contact in one transaction: an alert is
    /// never recorded without the deliveries that will carry it.
    pub async fn add_alert(&self, a: &NewAlert<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin alert"))?;
        let now = now_text();
        let row = sqlx::query(
            "INSERT INTO alerts (kind, centre_id, channel, period, class, score, case_id, created_at, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(a.kind)
        .bind(a.centre)
        .bind(a.channel)
        .bind(a.period)
        .bind(a.class)
        .bind(a.score)
        .bind(a.case_id)
        .bind(&now)
        .bind(a.payload.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(q("add alert"))?;
        let id: i64 = row.try_get(0).map_err(q("add alert"))?;
        for c in a.contacts {
            sqlx::query(
                "INSERT INTO alert_deliveries (alert_id, contact, status, next_at)
                 VALUES ($1, $2, 'pending', $3)",
            )
            .bind(id)
            .bind(c)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(q("add delivery"))?;
        }
        tx.commit().await.map_err(q("commit alert"))?;
        Ok(id)
    }

    /// Every alert, newest first (at most `limit`), with its deliveries.
    pub async fn alerts(&self, limit: i64) -> Result<Vec<StoredAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, centre_id, channel, period, class, score, case_id, created_at, payload
             FROM alerts ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list alerts"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let g = || q("read alert");
            let payload: String = r.try_get(9).map_err(g())?;
            out.push(StoredAlert {
                id: r.try_get(0).map_err(g())?,
                kind: r.try_get(1).map_err(g())?,
                centre: r.try_get(2).map_err(g())?,
                channel: r.try_get(3).map_err(g())?,
                period: r.try_get(4).map_err(g())?,
                class: r.try_get(5).map_err(g())?,
                score: r.try_get(6).map_err(g())?,
                case_id: r.try_get(7).map_err(g())?,
                created_at: r.try_get(8).map_err(g())?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                deliveries: Vec::new(),
            });
        }
        if let (Some(last), Some(first)) = (out.last(), out.first()) {
            let rows = sqlx::query(
                "SELECT id, alert_id, contact, status, attempts, next_at, last_error, sent_at
                 FROM alert_deliveries WHERE alert_id BETWEEN $1 AND $2 ORDER BY id",
            )
            .bind(last.id)
            .bind(first.id)
            .fetch_all(&self.pool)
            .await
            .map_err(q("list deliveries"))?;
            for r in &rows {
                let d = delivery(r)?;
                if let Some(a) = out.iter_mut().find(|a| a.id == d.alert_id) {
                    a.deliveries.push(d);
                }
            }
        }
        Ok(out)
    }

    /// The newest alert of `kind` for a centre, channel and period (flags), or for a case
    /// (escalations, resolutions).
    pub async fn last_alert(
        &self,
        kind: &str,
        centre: &str,
        channel: &str,
        period: Option<&str>,
        case_id: Option<i64>,
    ) -> Result<Option<(Option<String>, Option<f64>)>, StoreError> {
        // One query per key (not `$4 IS NULL OR ...`): PostgreSQL cannot type a NULL parameter.
        let (extra, key): (&str, Result<&str, i64>) = match (period, case_id) {
            (_, Some(case)) => ("case_id = $4", Err(case)),
            (Some(p), None) => ("period = $4", Ok(p)),
            (None, None) => ("period IS NULL AND $4 = ''", Ok("")),
        };
        let text = format!(
            "SELECT class, score FROM alerts
             WHERE kind = $1 AND centre_id = $2 AND channel = $3 AND {extra}
             ORDER BY id DESC LIMIT 1"
        );
        // Only the fixed `extra` fragments above are interpolated; values are bound.
        let query = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(kind)
            .bind(centre)
            .bind(channel);
        let query = match key {
            Ok(p) => query.bind(p),
            Err(case) => query.bind(case),
        };
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(q("last alert"))?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((
                r.try_get(0).map_err(q("read alert"))?,
                r.try_get(1).map_err(q("read alert"))?,
            ))),
        }
    }

    /// Pending deliveries due at `now`, with their alerts' payloads and kinds.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Delivery, String, serde_json::Value)>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.alert_id, d.contact, d.status, d.attempts, d.next_at, d.last_error,
                    d.sent_at, a.kind, a.payload
             FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE d.status = 'pending' AND d.next_at <= $1 ORDER BY d.id",
        )
        .bind(utc_millis::format(&now))
        .fetch_all(&self.pool)
        .await
        .map_err(q("due deliveries"))?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(8).map_err(q("read delivery"))?;
                let payload: String = r.try_get(9).map_err(q("read delivery"))?;
                Ok((
                    delivery(r)?,
                    kind,
                    serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                ))
            })
            .collect()
    }

    /// How many deliveries are in each status (`pending`, `sent`, `failed`), by status.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) FROM alert_deliveries GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("count deliveries"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read delivery count");
                Ok((r.try_get(0).map_err(g())?, r.try_get(1).map_err(g())?))
            })
            .collect()
    }

    /// Records one attempt: sent, tried again at `retry_at`, or failed for good (`None`).
    pub async fn record_attempt(
        &self,
        id: i64,
        outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
    ) -> Result<(), StoreError> {
        let now = now_text();
        let query = match outcome {
            Ok(()) => sqlx::query(
                "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = $1
                 WHERE id = $2",
            )
            .bind(now)
            .bind(id),
            Err((error, Some(at))) => sqlx::query(
                "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $1, next_at = $2
                 WHERE id = $3",
            )
            .bind(error.to_string())
            .bind(utc_millis::format(&at))
            .bind(id),
            Err((error, None)) => sqlx::query(
                "UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1, last_error = $1
                 WHERE id = $2",
            )
            .bind(error.to_string())
            .bind(id),
        };
        query
            .execute(&self.pool)
            .await
            .map_err(q("record delivery"))?;
        Ok(())
    }
}
