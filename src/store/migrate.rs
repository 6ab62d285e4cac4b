//! `raqib store migrate`: a unit's history from one store to another (SQLite to PostgreSQL, or
//! back), every table with its ids, in one transaction on the target, which must be empty.
//! Counts are compared table by table afterwards; PostgreSQL's id sequences are moved past the
//! copied ids so that new rows do not collide.

use serde::Serialize;
use sqlx::Row;

use super::{q, Store, StoreError};

/// A column's type as the migration reads and binds it.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Text,
}
use Kind::{Float, Int, Text};

/// Tables in an order that keeps references valid, with their columns; the first is the key
/// pages are read by.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "centres",
        &[
            ("id", Text),
            ("name_ar", Text),
            ("name_en", Text),
            ("agency", Text),
            ("region", Text),
            ("timezone", Text),
            ("hours", Text),
            ("phones", Text),
            ("websites", Text),
            ("updated_at", Text),
            ("tags", Text),
            ("agency_ar", Text),
            ("region_ar", Text),
            ("hours_ramadan", Text),
        ],
    ),
    (
        "sweeps",
        &[
            ("id", Int),
            ("channel", Text),
            ("selection", Text),
            ("started_at", Text),
            ("finished_at", Text),
            ("total", Int),
            ("done", Int),
            ("status", Text),
            ("host", Text),
            ("pid", Int),
            ("schedule", Text),
            ("fired_at", Text),
            ("agent_tags", Text),
        ],
    ),
    (
        "results",
        &[
            ("id", Int),
            ("channel", Text),
            ("centre_id", Text),
            ("target", Text),
            ("started_at", Text),
            ("outcome", Text),
            ("reason", Text),
            ("sweep_id", Int),
            ("data", Text),
            ("agent", Text),
            ("review", Int),
        ],
    ),
    (
        "dial_ledger",
        &[("number", Text), ("day", Text), ("count", Int)],
    ),
    (
        "labels",
        &[
            ("id", Int),
            ("result_id", Int),
            ("answer_type", Text),
            ("time_to_person_secs", Float),
            ("reason", Text),
            ("labelled_by", Text),
            ("labelled_at", Text),
        ],
    ),
    (
        "cases",
        &[
            ("id", Int),
            ("centre_id", Text),
            ("channel", Text),
            ("period", Text),
            ("period_end", Text),
            ("class", Text),
            ("score", Float),
            ("opened_at", Text),
            ("due_at", Text),
            ("closed_at", Text),
            ("closed_by_period", Text),
        ],
    ),
    (
        "sweep_jobs",
        &[
            ("id", Int),
            ("sweep_id", Int),
            ("centre_id", Text),
            ("target", Text),
            ("not_before", Text),
            ("status", Text),
            ("result_id", Int),
            ("attempts", Int),
            ("lease_owner", Text),
            ("lease_until", Text),
        ],
    ),
    (
        "alerts",
        &[
            ("id", Int),
            ("kind", Text),
            ("centre_id", Text),
            ("channel", Text),
            ("period", Text),
            ("class", Text),
            ("score", Float),
            ("case_id", Int),
            ("created_at", Text),
            ("payload", Text),
        ],
    ),
    (
        "alert_deliveries",
        &[
            ("id", Int),
            ("alert_id", Int),
            ("contact", Text),
            ("status", Text),
            ("attempts", Int),
            ("next_at", Text),
            ("last_error", Text),
            ("sent_at", Text),
        ],
    ),
    (
        "users",
        &[
            ("id", Int),
            ("name", Text),
            ("role", Text),
            ("created_at", Text),
            ("password", Text),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Int),
            ("user_id", Int),
            ("sha256", Text),
            ("created_at", Text),
            ("last_used_at", Text),
        ],
    ),
    (
        "sessions",
        &[
            ("id", Int),
            ("user_id", Int),
            ("sha256", Text),
            ("created_at", Text),
            ("expires_at", Text),
        ],
    ),
    (
        "signin_attempts",
        &[
            ("id", Int),
            ("at", Text),
            ("name", Text),
            ("address", Text),
            ("outcome", Text),
        ],
    ),
    (
        "agents",
        &[
            ("name", Text),
            ("tags", Text),
            ("host", Text),
            ("pid", Int),
            ("started_at", Text),
            ("heartbeat_at", Text),
        ],
    ),
    (
        "leases",
        &[("name", Text), ("owner", Text), ("until", Text)],
    ),
];

const PAGE: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the target store is not empty ({table} has {rows} rows): migrate into a new one")]
    NotEmpty { table: &'static str, rows: i64 },
    #[error(
        "{table}: {from} rows in the source but {to} in the target after the copy: did the \
         source change meanwhile? Stop every raqib on it and migrate again into a new store"
    )]
    Mismatch {
        table: &'static str,
        from: i64,
        to: i64,
    },
}

/// Rows copied per table.
#[derive(Debug, Default, Serialize)]
pub struct Copied {
    pub tables: Vec<(String, i64)>,
}

async fn count(store: &Store, table: &str) -> Result<i64, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&store.pool)
        .await
        .map_err(q("count rows"))?;
    row.try_get(0).map_err(q("count rows"))
}

/// A value read from a row, as it will be bound.
enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
}

/// Copies every table of `from` into the empty `to`; `progress` hears each table's count.
pub async fn copy(
    from: &Store,
    to: &Store,
    mut progress: impl FnMut(&str, i64),
) -> Result<Copied, MigrateError> {
    for (table, _) in TABLES {
        let rows = count(to, table).await?;
        if rows > 0 {
            return Err(MigrateError::NotEmpty { table, rows });
        }
    }
    let mut copied = Copied::default();
    let mut tx = to.pool.begin().await.map_err(q("begin migrate"))?;
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let key = names[0];
        let select = format!(
            "SELECT {} FROM {table} ORDER BY {key} LIMIT $1 OFFSET $2",
            names.join(", ")
        );
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        );
        let mut offset = 0;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
                .bind(PAGE)
                .bind(offset)
                .fetch_all(&from.pool)
                .await
                .map_err(q("read rows to migrate"))?;
            for row in &rows {
                let mut values = Vec::with_capacity(columns.len());
                for (i, (_, kind)) in columns.iter().enumerate() {
                    let g = || q("read a value to migrate");
                    values.push(match kind {
                        Int => Value::Int(row.try_get(i).map_err(g())?),
                        Float => Value::Float(row.try_get(i).map_err(g())?),
                        Text => Value::Text(row.try_get(i).map_err(g())?),
                    });
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                for v in values {
                    query = match v {
                        Value::Int(x) => query.bind(x),
                        Value::Float(x) => query.bind(x),
                        Value::Text(x) => query.bind(x),
                    };
                }
                // Not kept prepared: see "Nullable floats" in store/mod.rs.
                query
                    .persistent(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(q("write a migrated row"))?;
            }
            offset += rows.len() as i64;
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        if to.postgres && key == "id" && matches!(columns[0].1, Int) {
            // Identity columns do not follow explicit ids: move them past the copied ones.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )))
            .execute(&mut *tx)
            .await
            .map_err(q("move the id sequence"))?;
        }
        progress(table, offset);
        copied.tables.push((table.to_string(), offset));
    }
    tx.commit().await.map_err(q("commit migrate"))?;
    for (table, _) in TABLES {
        let (a, b) = (count(from, table).await?, count(to, table).await?);
        if a != b {
            return Err(MigrateError::Mismatch {
                table,
                from: a,
                to: b,
            });
        }
    }
    Ok(copied)
}
