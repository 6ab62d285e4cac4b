//! The stored verdicts: one row per centre and period, the periods they were computed for,
//! and the queue of centres whose verdicts a new result or label has made old. The verdict
//! step (`crate::verdict`) is their only writer; every surface reads them.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{now_text, q, Store, StoreError};

/// One centre's verdict for one period, as stored.
#[derive(Debug, Clone)]
pub struct VerdictRow {
    pub period: String,
    pub centre: String,
    pub agency: String,
    pub flag: String,
    pub overall: Option<f64>,
    pub phone_score: Option<f64>,
    pub rank: Option<i64>,
    /// The whole verdict as JSON (`crate::verdict::Stored`).
    pub data: String,
    /// The channels' samples as JSON; `None` when read without them.
    pub samples: Option<String>,
    pub computed_at: String,
}

/// A period whose verdicts are stored.
#[derive(Debug, Clone)]
pub struct VerdictPeriod {
    pub period: String,
    pub starts_at: String,
    pub ends_at: String,
    /// The `[scoring]` knobs the verdicts were computed with.
    pub fingerprint: String,
    /// The registry changed since: recompute before reading.
    pub stale: bool,
    pub computed_at: String,
}

/// A centre whose verdicts a result or label started at `started_at` has made old.
#[derive(Debug, Clone)]
pub struct Dirty {
    pub id: i64,
    pub centre: String,
    pub started_at: String,
}

/// A SELECT of every verdict column, then `$rest` (kept a literal: no SQL is built at run time).
macro_rules! select_verdicts {
    ($rest:literal) => {
        concat!(
            "SELECT period, centre, agency, flag, overall, phone_score, rank, data, computed_at, \
             samples FROM verdicts ",
            $rest
        )
    };
}

/// The same without the samples, for readers that only show the verdicts.
macro_rules! select_shown_verdicts {
    ($rest:literal) => {
        concat!(
            "SELECT period, centre, agency, flag, overall, phone_score, rank, data, computed_at \
             FROM verdicts ",
            $rest
        )
    };
}

fn verdict_from_row(r: &sqlx::any::AnyRow) -> Result<VerdictRow, StoreError> {
    let g = || q("read verdict");
    Ok(VerdictRow {
        period: r.try_get(0).map_err(g())?,
        centre: r.try_get(1).map_err(g())?,
        agency: r.try_get(2).map_err(g())?,
        flag: r.try_get(3).map_err(g())?,
        overall: r.try_get(4).map_err(g())?,
        phone_score: r.try_get(5).map_err(g())?,
        rank: r.try_get(6).map_err(g())?,
        data: r.try_get(7).map_err(g())?,
        computed_at: r.try_get(8).map_err(g())?,
        samples: if r.columns().len() > 9 {
            Some(r.try_get(9).map_err(g())?)
        } else {
            None
        },
    })
}

fn period_from_row(r: &sqlx::any::AnyRow) -> Result<VerdictPeriod, StoreError> {
    let g = || q("read verdict period");
    Ok(VerdictPeriod {
        period: r.try_get(0).map_err(g())?,
        starts_at: r.try_get(1).map_err(g())?,
        ends_at: r.try_get(2).map_err(g())?,
        fingerprint: r.try_get(3).map_err(g())?,
        stale: r.try_get::<i64, _>(4).map_err(g())? != 0,
        computed_at: r.try_get(5).map_err(g())?,
    })
}

/// The upsert of verdict rows whose `VALUES` are `values`: ten placeholders a row, bound by
/// `bind_verdict`.
fn upsert_sql(values: &str) -> String {
    format!(
        "INSERT INTO verdicts (period, centre, agency, flag, overall, phone_score, rank, data,
           computed_at, samples) VALUES {values}
         ON CONFLICT (period, centre) DO UPDATE SET agency = excluded.agency, flag = excluded.flag,
           overall = excluded.overall, phone_score = excluded.phone_score, rank = excluded.rank,
           data = excluded.data, computed_at = excluded.computed_at, samples = excluded.samples"
    )
}

/// A refresh's rows, each verdict once (a statement may write a row once: the later of two
/// writes is kept, as one write after the other would leave it), and the statement that
/// upserts them all with placeholders from `mark`.
fn upsert_once<'a>(
    rows: &'a [VerdictRow],
    mark: &mut dyn FnMut() -> String,
) -> (Vec<&'a VerdictRow>, String) {
    let once = each_once(rows);
    let values: Vec<String> = once
        .iter()
        .map(|_| {
            let row: Vec<String> = (0..10).map(|_| mark()).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    (once, upsert_sql(&values.join(", ")))
}

/// Each verdict of `rows` once, the later of two writes of it kept.
fn each_once(rows: &[VerdictRow]) -> Vec<&VerdictRow> {
    let mut last: BTreeMap<(&str, &str), &VerdictRow> = BTreeMap::new();
    for v in rows {
        last.insert((v.period.as_str(), v.centre.as_str()), v);
    }
    last.into_values().collect()
}

/// The periods a refresh writes to: those of its rows and those it re-ranks.
fn touched_periods<'a>(rows: &'a [VerdictRow], reranked: &'a [String]) -> Vec<&'a str> {
    let mut touched: Vec<&str> = rows
        .iter()
        .map(|v| v.period.as_str())
        .chain(reranked.iter().map(String::as_str))
        .collect();
    touched.sort_unstable();
    touched.dedup();
    touched
}

/// One UPDATE that raises the version of the `touched` periods and marks the `reranked`
/// ones' ranks stale (one statement: a PostgreSQL statement may update a row once). Its
/// placeholders, from `mark`, take the touched periods, then the reranked ones.
fn mark_periods_sql(
    touched: &[&str],
    reranked: &[String],
    mark: &mut impl FnMut() -> String,
) -> String {
    let touched: Vec<String> = touched.iter().map(|_| mark()).collect();
    let reranked: Vec<String> = reranked.iter().map(|_| mark()).collect();
    let ranks = if reranked.is_empty() {
        "ranks_stale".to_string()
    } else {
        format!(
            "CASE WHEN period IN ({}) THEN 1 ELSE ranks_stale END",
            reranked.join(", ")
        )
    };
    format!(
        "UPDATE verdict_periods SET version = version + 1, ranks_stale = {ranks}
         WHERE period IN ({})",
        touched.join(", ")
    )
}

/// A verdict row as `REFRESH_AT_ONCE` reads it from its JSON parameter.
#[derive(serde::Serialize)]
struct RowJson<'a> {
    period: &'a str,
    centre: &'a str,
    agency: &'a str,
    flag: &'a str,
    overall: Option<f64>,
    phone_score: Option<f64>,
    rank: Option<i64>,
    data: &'a str,
    computed_at: &'a str,
    samples: &'a str,
}

/// A refresh's writes on PostgreSQL (`put_refresh_at_once`): $1 the verdicts as a JSON array of
/// `RowJson`, $2 the periods to re-rank as a JSON array, $3 the last queue entry done. It
/// upserts the verdicts, raises the version of every period written or re-ranked and marks the
/// re-ranked ones' ranks stale, and empties the queue up to $3. `set_config(…, true)` is
/// `SET LOCAL` inside the statement: its own transaction commits without waiting for the WAL
/// to reach the disk (pg_stat_wal: 4 syncs for 100 such statements, 103 without it). The
/// final SELECT reads `quick`: a plain CTE no one reads is not run; the writing ones always are.
const REFRESH_AT_ONCE: &str =
    "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)),
  fresh AS (SELECT * FROM json_to_recordset($1::json) AS r(period text, centre text,
    agency text, flag text, overall double precision, phone_score double precision,
    rank bigint, data text, computed_at text, samples text)),
  up AS (INSERT INTO verdicts (period, centre, agency, flag, overall, phone_score, rank, data,
      computed_at, samples)
    SELECT period, centre, agency, flag, overall, phone_score, rank, data, computed_at, samples
    FROM fresh
    ON CONFLICT (period, centre) DO UPDATE SET agency = excluded.agency, flag = excluded.flag,
      overall = excluded.overall, phone_score = excluded.phone_score, rank = excluded.rank,
      data = excluded.data, computed_at = excluded.computed_at, samples = excluded.samples
    RETURNING 1),
  reranked AS (SELECT value AS period FROM json_array_elements_text($2::json)),
  marked AS (UPDATE verdict_periods SET version = version + 1,
      ranks_stale = CASE WHEN period IN (SELECT period FROM reranked) THEN 1 ELSE ranks_stale END
    WHERE period IN (SELECT period FROM fresh UNION SELECT period FROM reranked)
    RETURNING 1),
  cleared AS (DELETE FROM verdict_dirty WHERE id <= $3 RETURNING 1)
SELECT 1 FROM quick";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds `v` to the next ten placeholders of an `upsert_sql`.
fn bind_verdict<'q>(query: AnyQuery<'q>, v: &'q VerdictRow) -> AnyQuery<'q> {
    query
        .bind(&v.period)
        .bind(&v.centre)
        .bind(&v.agency)
        .bind(&v.flag)
        .bind(v.overall)
        .bind(v.phone_score)
        .bind(v.rank)
        .bind(&v.data)
        .bind(&v.computed_at)
        .bind(v.samples.as_deref().unwrap_or("{}"))
}

async fn upsert_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    v: &VerdictRow,
) -> Result<(), StoreError> {
    // Fixed text only: the values are bound.
    let sql = upsert_sql("($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    bind_verdict(sqlx::query(sqlx::AssertSqlSafe(sql)), v)
        // A nullable float: not kept prepared (see "Nullable floats" in store/mod.rs).
        .persistent(false)
        .execute(&mut **tx)
        .await
        .map_err(q("store verdict"))?;
    Ok(())
}

impl Store {
    /// The stored period `label`, if its verdicts were ever computed.
    pub async fn verdict_period(&self, label: &str) -> Result<Option<VerdictPeriod>, StoreError> {
        let row = sqlx::query(
            "SELECT period, starts_at, ends_at, fingerprint, stale, computed_at
             FROM verdict_periods WHERE period = $1",
        )
        .bind(label)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("read verdict period"))?;
        row.as_ref().map(period_from_row).transpose()
    }

    /// Every verdict of `period`, by centre, without the samples (what readers show).
    pub async fn verdicts(&self, period: &str) -> Result<Vec<VerdictRow>, StoreError> {
        let rows = sqlx::query(select_shown_verdicts!("WHERE period = $1 ORDER BY centre"))
            .bind(period)
            .fetch_all(&self.pool)
            .await
            .map_err(q("list verdicts"))?;
        rows.iter().map(verdict_from_row).collect()
    }

    /// Every verdict of `period`, by centre, with the samples (to recompute trends).
    pub async fn verdicts_with_samples(&self, period: &str) -> Result<Vec<VerdictRow>, StoreError> {
        let rows = sqlx::query(select_verdicts!("WHERE period = $1 ORDER BY centre"))
            .bind(period)
            .fetch_all(&self.pool)
            .await
            .map_err(q("list verdicts"))?;
        rows.iter().map(verdict_from_row).collect()
    }

    /// The verdicts of `period` for one agency's centres.
    pub async fn agency_verdicts(
        &self,
        period: &str,
        agency: &str,
    ) -> Result<Vec<VerdictRow>, StoreError> {
        let rows = sqlx::query(select_verdicts!(
            "WHERE period = $1 AND agency = $2 ORDER BY centre"
        ))
        .bind(period)
        .bind(agency)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list verdicts"))?;
        rows.iter().map(verdict_from_row).collect()
    }

    /// One centre's verdict of `period`.
    pub async fn verdict(
        &self,
        period: &str,
        centre: &str,
    ) -> Result<Option<VerdictRow>, StoreError> {
        let row = sqlx::query(select_verdicts!("WHERE period = $1 AND centre = $2"))
            .bind(period)
            .bind(centre)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read verdict"))?;
        row.as_ref().map(verdict_from_row).transpose()
    }

    /// One centre's verdicts of `periods`, with the samples.
    pub async fn centre_verdicts(
        &self,
        centre: &str,
        periods: &[String],
    ) -> Result<Vec<VerdictRow>, StoreError> {
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..periods.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "{} WHERE centre = $1 AND period IN ({}) ORDER BY period",
            select_verdicts!(""),
            marks.join(", ")
        );
        // Only `$n` placeholders are built above; the values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(centre);
        for p in periods {
            query = query.bind(p);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list a centre's verdicts"))?;
        rows.iter().map(verdict_from_row).collect()
    }

    /// Replaces every verdict of `p.period` by `rows` and records the period, in one
    /// transaction: a reader sees the old set or the new one, never half of each.
    pub async fn replace_verdicts(
        &self,
        p: &VerdictPeriod,
        rows: &[VerdictRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin verdicts"))?;
        sqlx::query("DELETE FROM verdicts WHERE period = $1")
            .bind(&p.period)
            .execute(&mut *tx)
            .await
            .map_err(q("clear verdicts"))?;
        for v in rows {
            upsert_in(&mut tx, v).await?;
        }
        sqlx::query(
            "INSERT INTO verdict_periods (period, starts_at, ends_at, fingerprint, stale, computed_at,
               version)
             VALUES ($1, $2, $3, $4, 0, $5, 1)
             ON CONFLICT (period) DO UPDATE SET starts_at = excluded.starts_at,
               ends_at = excluded.ends_at, fingerprint = excluded.fingerprint, stale = 0,
               ranks_stale = 0, computed_at = excluded.computed_at,
               version = verdict_periods.version + 1",
        )
        .bind(&p.period)
        .bind(&p.starts_at)
        .bind(&p.ends_at)
        .bind(&p.fingerprint)
        .bind(&p.computed_at)
        .execute(&mut *tx)
        .await
        .map_err(q("record verdict period"))?;
        tx.commit().await.map_err(q("commit verdicts"))
    }

    /// Writes a centre's refresh in one transaction: its verdicts and what they moved
    /// (`rows`, in order), the league tables of `reranked` periods marked to be ranked again
    /// before they are read (`rerank_if_stale`), and, when `queue_done` is given, the removal
    /// of the refresh queue up to that entry. One commit: on a store that syncs each commit to
    /// disk, the refresh costs one sync.
    pub async fn put_refresh(
        &self,
        rows: &[VerdictRow],
        reranked: &[String],
        queue_done: Option<i64>,
    ) -> Result<(), StoreError> {
        if self.postgres {
            return self.put_refresh_at_once(rows, reranked, queue_done).await;
        }
        let mut tx = self.pool.begin().await.map_err(q("begin verdicts"))?;
        // The rows in one statement: each is a round trip to the connection's thread.
        if !rows.is_empty() {
            let mut n = 0;
            let (once, sql) = upsert_once(rows, &mut || {
                n += 1;
                format!("${n}")
            });
            // Only `$n` placeholders and fixed text are put together above; values are bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in once {
                query = bind_verdict(query, v);
            }
            // Nullable floats: not kept prepared (see "Nullable floats" in store/mod.rs).
            query
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(q("store verdicts"))?;
        }
        let touched = touched_periods(rows, reranked);
        if !touched.is_empty() {
            let mut n = 0;
            let sql = mark_periods_sql(&touched, reranked, &mut || {
                n += 1;
                format!("${n}")
            });
            // Only `$n` placeholders are built above; the values are bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for period in touched
                .iter()
                .copied()
                .chain(reranked.iter().map(String::as_str))
            {
                query = query.bind(period);
            }
            query.execute(&mut *tx).await.map_err(q("mark ranks"))?;
        }
        if let Some(up_to) = queue_done {
            sqlx::query("DELETE FROM verdict_dirty WHERE id <= $1")
                .bind(up_to)
                .execute(&mut *tx)
                .await
                .map_err(q("clear verdict queue"))?;
        }
        tx.commit().await.map_err(q("commit verdicts"))
    }

    /// `put_refresh` on PostgreSQL: its writes in one statement, which is its own transaction,
    /// so the refresh costs one round trip to the server (not a BEGIN, a SET, the writes and a
    /// COMMIT); and its commit does not wait for the disk. Verdicts are derived: a commit lost
    /// in a crash loses the queue's removal with it, and the next catch-up computes the same
    /// verdicts again.
    ///
    /// The rows go as one JSON parameter, so the statement's text is the same for every
    /// refresh and stays prepared on the connection: built per refresh with a placeholder per
    /// value, the server parsed and planned it each time (0.7–0.8 ms of its 1.1 ms).
    async fn put_refresh_at_once(
        &self,
        rows: &[VerdictRow],
        reranked: &[String],
        queue_done: Option<i64>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() && reranked.is_empty() && queue_done.is_none() {
            return Ok(());
        }
        let once = each_once(rows);
        let json = |what: &'static str, e: serde_json::Error| StoreError::Corrupt {
            what,
            message: e.to_string(),
        };
        let rows_json = serde_json::to_string(
            &once
                .iter()
                .map(|v| RowJson {
                    period: &v.period,
                    centre: &v.centre,
                    agency: &v.agency,
                    flag: &v.flag,
                    overall: v.overall,
                    phone_score: v.phone_score,
                    rank: v.rank,
                    data: &v.data,
                    computed_at: &v.computed_at,
                    samples: v.samples.as_deref().unwrap_or("{}"),
                })
                .collect::<Vec<_>>(),
        )
        .map_err(|e| json("verdicts to store", e))?;
        let reranked_json =
            serde_json::to_string(reranked).map_err(|e| json("periods to re-rank", e))?;
        sqlx::query(REFRESH_AT_ONCE)
            .bind(rows_json)
            .bind(reranked_json)
            // Queue ids start at 1: 0 removes none.
            .bind(queue_done.unwrap_or(0))
            .execute(&self.pool)
            .await
            .map_err(q("store verdicts"))?;
        Ok(())
    }

    /// Ranks `period`'s league table again if a refresh moved a centre since it was last
    /// ranked. A move changes the places of every centre between its old and new place: they
    /// are written once, when the table is next read, not after each new result.
    ///
    /// Returns the period's version after (`None` for a period never stored): read before the
    /// verdicts, it names a set no older than the one read.
    pub async fn rerank_if_stale(&self, period: &str) -> Result<Option<i64>, StoreError> {
        let version = || async {
            sqlx::query("SELECT version, ranks_stale FROM verdict_periods WHERE period = $1")
                .bind(period)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read ranks"))?
                .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)? != 0)))
                .transpose()
                .map_err(q("read ranks"))
        };
        match version().await? {
            None => return Ok(None),
            Some((v, false)) => return Ok(Some(v)),
            Some((_, true)) => {}
        }
        // The mark is taken first: a refresh committing meanwhile waits for this transaction
        // and marks the table again, rather than having its move ranked from an older view.
        let mut tx = self.pool.begin().await.map_err(q("begin ranks"))?;
        let taken = sqlx::query(
            "UPDATE verdict_periods SET ranks_stale = 0, version = version + 1
             WHERE period = $1 AND ranks_stale = 1",
        )
        .bind(period)
        .execute(&mut *tx)
        .await
        .map_err(q("mark ranks"))?
        .rows_affected();
        if taken > 0 {
            self.rerank_in(&mut tx, period).await?;
        }
        tx.commit().await.map_err(q("commit ranks"))?;
        Ok(version().await?.map(|(v, _)| v))
    }

    /// Sets the league places of `period` from the stored indices, in the database: scored
    /// centres only, by overall index, then phone score (none last), then id in byte order,
    /// as `score::rank` orders them; only the places that changed are written. Reading the
    /// 452 places out to rank them cost more than the rest of a refresh.
    async fn rerank_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        period: &str,
    ) -> Result<(), StoreError> {
        // The window runs in the database; only the places that moved come out (a few).
        let query = if self.postgres {
            sqlx::query(
                "SELECT centre, place FROM
                   (SELECT centre, rank, ROW_NUMBER() OVER (ORDER BY overall DESC,
                           phone_score DESC NULLS LAST, centre COLLATE \"C\") AS place
                    FROM verdicts WHERE period = $1 AND overall IS NOT NULL) r
                 WHERE rank IS DISTINCT FROM place",
            )
        } else {
            sqlx::query(
                "SELECT centre, place FROM
                   (SELECT centre, rank, ROW_NUMBER() OVER (ORDER BY overall DESC,
                           phone_score DESC NULLS LAST, centre COLLATE BINARY) AS place
                    FROM verdicts WHERE period = $1 AND overall IS NOT NULL)
                 WHERE rank IS NOT place",
            )
        };
        let moved = query
            .bind(period)
            .fetch_all(&mut **tx)
            .await
            .map_err(q("rank verdicts"))?;
        for row in &moved {
            let centre: String = row.try_get(0).map_err(q("rank verdicts"))?;
            let place: i64 = row.try_get(1).map_err(q("rank verdicts"))?;
            sqlx::query("UPDATE verdicts SET rank = $1 WHERE period = $2 AND centre = $3")
                .bind(place)
                .bind(period)
                .bind(centre)
                .execute(&mut **tx)
                .await
                .map_err(q("set rank"))?;
        }
        sqlx::query(
            "UPDATE verdicts SET rank = NULL
             WHERE period = $1 AND overall IS NULL AND rank IS NOT NULL",
        )
        .bind(period)
        .execute(&mut **tx)
        .await
        .map_err(q("unrank verdicts"))?;
        Ok(())
    }

    /// Every stored period, by label.
    pub async fn verdict_periods(&self) -> Result<Vec<VerdictPeriod>, StoreError> {
        let rows = sqlx::query(
            "SELECT period, starts_at, ends_at, fingerprint, stale, computed_at
             FROM verdict_periods ORDER BY starts_at, period",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list verdict periods"))?;
        rows.iter().map(period_from_row).collect()
    }

    /// Gathers the tables' statistics for the query planner. PostgreSQL's autovacuum does this
    /// on its own some time after a bulk load; the bench asks at once, so that its figures are
    /// those of a store at rest rather than of one being analysed.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .map_err(q("analyze"))?;
        Ok(())
    }

    /// The first and last start of a result with a centre, if any.
    pub async fn result_span(&self) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(started_at), MAX(started_at) FROM results WHERE centre_id IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(q("read result span"))?;
        let first: Option<String> = row.try_get(0).map_err(q("read result span"))?;
        let last: Option<String> = row.try_get(1).map_err(q("read result span"))?;
        Ok(first.zip(last))
    }

    /// The oldest `limit` entries of the refresh queue.
    pub async fn dirty_verdicts(&self, limit: i64) -> Result<Vec<Dirty>, StoreError> {
        let rows =
            sqlx::query("SELECT id, centre, started_at FROM verdict_dirty ORDER BY id LIMIT $1")
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read verdict queue"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read verdict queue");
                Ok(Dirty {
                    id: r.try_get(0).map_err(g())?,
                    centre: r.try_get(1).map_err(g())?,
                    started_at: r.try_get(2).map_err(g())?,
                })
            })
            .collect()
    }

    /// Removes the queue's entries up to `id`, once their refresh is stored.
    pub async fn clear_dirty(&self, up_to: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM verdict_dirty WHERE id <= $1")
            .bind(up_to)
            .execute(&self.pool)
            .await
            .map_err(q("clear verdict queue"))?;
        Ok(())
    }

    /// Whether any centre waits for a refresh.
    pub async fn any_dirty(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM verdict_dirty LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read verdict queue"))?
            .is_some())
    }
}

/// Queues `centre` for a refresh in the transaction that stores its new result.
pub(super) async fn mark_dirty_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    centre: &str,
    started_at: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO verdict_dirty (centre, started_at) VALUES ($1, $2)")
        .bind(centre)
        .bind(started_at)
        .execute(&mut **tx)
        .await
        .map_err(q("queue verdict refresh"))?;
    Ok(())
}

/// When `computed_at` is worth recording: now, as every other stored time.
pub fn stamp() -> String {
    now_text()
}
