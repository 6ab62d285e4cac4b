//! The store: centres, sweeps and results in SQLite (the embedded default) behind one
//! interface that a PostgreSQL backend joins later. Queries go through sqlx's `Any` driver
//! with `$n` placeholders, which both backends accept; each backend keeps its own migrations.
//!
//! Each result is written in its own transaction as soon as its probe ends, so a killed
//! process loses nothing already measured; SQLite runs in WAL mode so that `raqib results`
//! reads while a sweep writes.

pub mod agents;
pub mod alerts;
pub mod health;
pub mod migrate;
pub mod retention;
pub mod signins;
pub mod users;
pub mod verdicts;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

use crate::probe::call::CallResult;
use crate::probe::utc_millis;
use crate::probe::web::WebResult;
use crate::registry::{Centre, FieldError};
pub use crate::store_url::{redact, StoreUrl};

/// A PostgreSQL connection idle this long is pinged before it is used again.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "agent '{name}' is running as process {pid} on {host}: give this one another name \
         (--agent), or wait until that one's lease runs out"
    )]
    AgentBusy {
        name: String,
        host: String,
        pid: i64,
    },
    #[error("store.url {message}")]
    Url { message: String },
    #[error("cannot migrate the store: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed ({what}): {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored row is unreadable ({what}): {message}")]
    Corrupt { what: &'static str, message: String },
    #[error("the store file {path} is no longer where it was opened: {message}")]
    FileGone { path: String, message: String },
}

// Nullable floats: a statement that binds a float that may be null runs unkept
// (`.persistent(false)`). sqlx 0.9's `Any` driver declares a null double to PostgreSQL as a
// 4-byte float, and a statement kept prepared from a null then refuses every 8-byte value after
// it ("incorrect binary data format"). An unkept statement is prepared again with each call's
// own types.

fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

// Rows as one JSON array: on SQLite the hot read of the verdict refresh (a centre's results)
// asks the database for a single row holding every row as JSON. sqlx's SQLite driver hands
// each row across threads on its own (about 10 µs a row here), which made reading a centre's
// quarter cost more than scoring it. PostgreSQL's driver has no such hop: plain rows there.

/// A result as the store keeps it: its id, indexed columns, and the probe's JSON.
#[derive(Debug, Clone)]
pub struct StoredResult {
    pub id: i64,
    pub channel: String,
    pub centre_id: Option<String>,
    pub target: String,
    pub started_at: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub sweep_id: Option<i64>,
    /// The result's JSON text as the probe wrote it (what `--json` prints), kept as text:
    /// scoring reads `probe`, and only a listing needs the tree (`to_json`).
    pub json: String,
    pub agent: Option<String>,
    /// The same result decoded once, typed: readers use this, never `data` by key.
    pub probe: Probe,
}

/// A stored result as its probe wrote it, decoded once when read from the store.
#[derive(Debug, Clone)]
pub enum Probe {
    Call(Box<CallResult>),
    Web(Box<WebResult>),
    /// Not readable as the channel's result (damaged, or written by another version).
    Unreadable,
}

impl Probe {
    /// Decodes the stored text of `channel`'s result (no JSON tree in between).
    pub fn from_text(channel: &str, text: &str) -> Probe {
        match crate::probe::Channel::parse(channel) {
            Some(crate::probe::Channel::Phone) => serde_json::from_str::<CallResult>(text)
                .map(|c| Probe::Call(Box::new(c)))
                .unwrap_or(Probe::Unreadable),
            Some(crate::probe::Channel::Web) | None => serde_json::from_str::<WebResult>(text)
                .map(|w| Probe::Web(Box::new(w)))
                .unwrap_or(Probe::Unreadable),
        }
    }

    pub fn call(&self) -> Option<&CallResult> {
        match self {
            Probe::Call(c) => Some(c),
            _ => None,
        }
    }

    pub fn web(&self) -> Option<&WebResult> {
        match self {
            Probe::Web(w) => Some(w),
            _ => None,
        }
    }
}

impl StoredResult {
    /// The result's JSON with `id` in front (and `sweep` when part of one).
    pub fn to_json(&self) -> serde_json::Value {
        // Text that is not JSON (a hand-edited row) is shown as it is, not hidden.
        let data = serde_json::from_str(&self.json)
            .unwrap_or_else(|_| serde_json::json!({ "unreadable": self.json }));
        let mut out = with_id(self.id, data);
        if let (Some(s), serde_json::Value::Object(m)) = (self.sweep_id, &mut out) {
            m.insert("sweep".into(), s.into());
        }
        if let (Some(a), serde_json::Value::Object(m)) = (&self.agent, &mut out) {
            m.insert("agent".into(), a.clone().into());
        }
        out
    }
}

/// A result's columns but `data`, in table order (id, channel, centre_id, target, started_at,
/// outcome, reason, sweep_id, agent).
type ResultHead = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// A result from its columns and its probe's JSON: the one place its probe is decoded.
fn stored_result_of(head: ResultHead, json: String) -> StoredResult {
    let (id, channel, centre_id, target, started_at, outcome, reason, sweep_id, agent) = head;
    StoredResult {
        probe: Probe::from_text(&channel, &json),
        id,
        channel,
        centre_id,
        target,
        started_at,
        outcome,
        reason,
        sweep_id,
        json,
        agent,
    }
}

/// A result from a row of its columns in table order (`data` ninth).
fn stored_result(r: &sqlx::any::AnyRow) -> Result<StoredResult, StoreError> {
    let e = || q("read result");
    let head = (
        r.try_get(0).map_err(e())?,
        r.try_get(1).map_err(e())?,
        r.try_get(2).map_err(e())?,
        r.try_get(3).map_err(e())?,
        r.try_get(4).map_err(e())?,
        r.try_get(5).map_err(e())?,
        r.try_get(6).map_err(e())?,
        r.try_get(7).map_err(e())?,
        r.try_get(9).map_err(e())?,
    );
    Ok(stored_result_of(head, r.try_get(8).map_err(e())?))
}

/// A result's JSON with its store id first, as `--json` prints it.
pub fn with_id(id: i64, data: serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("id".into(), id.into());
    if let serde_json::Value::Object(m) = data {
        out.extend(m);
    }
    serde_json::Value::Object(out)
}

/// A result about to be stored.
pub struct NewResult<'a> {
    pub channel: &'a str,
    pub centre_id: Option<&'a str>,
    pub target: &'a str,
    pub started_at: DateTime<Utc>,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub sweep_id: Option<i64>,
    pub data: &'a serde_json::Value,
    /// The `raqib serve --agent` that probed (`None`: a command run by hand).
    pub agent: Option<&'a str>,
}

/// A call the classifier was not sure of: it waits for an auditor's label.
fn needs_review(r: &NewResult<'_>) -> bool {
    r.channel == "phone" && r.data.get("answer_type").and_then(|t| t.as_str()) == Some("unknown")
}

#[derive(Debug, Default, Clone)]
pub struct ResultFilter {
    pub centre_id: Option<String>,
    pub channel: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only results started before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only the result with this id.
    pub id: Option<i64>,
    pub sweep_id: Option<i64>,
    pub limit: Option<i64>,
    /// Skip this many (only with `limit`).
    pub offset: Option<i64>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
    /// Only results with a greater id, then in id order (not time order): a cursor for
    /// reading what was stored since, page by page, without missing a row between pages.
    pub after_id: Option<i64>,
    /// Only calls waiting for an auditor: answer type `unknown` and no label yet.
    pub needs_review: bool,
}

/// An auditor's label about to be stored.
pub struct NewLabel<'a> {
    pub answer_type: &'a str,
    pub time_to_person_secs: Option<f64>,
    pub reason: &'a str,
    pub by: &'a str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredLabel {
    pub id: i64,
    pub result_id: i64,
    #[schema(value_type = crate::probe::call::audio::AnswerType)]
    pub answer_type: String,
    pub time_to_person_secs: Option<f64>,
    pub reason: String,
    pub by: String,
    pub at: String,
}

/// Which follow-up cases a read wants.
enum CasesOf<'a> {
    All,
    Open,
    OpenOf(&'a str),
    PeriodOrOpen(&'a str),
}

/// A scheduled sweep's job about to be planned.
pub struct NewJob<'a> {
    pub centre: &'a str,
    pub target: &'a str,
    pub not_before: DateTime<Utc>,
}

/// A planned job without its result yet.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub centre: String,
    pub target: String,
    pub not_before: DateTime<Utc>,
    pub attempts: i64,
}

/// A follow-up case as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub id: i64,
    pub centre: String,
    #[schema(value_type = crate::probe::Channel)]
    pub channel: String,
    pub period: String,
    pub period_end: String,
    pub class: String,
    pub score: Option<f64>,
    pub opened_at: String,
    pub due_at: String,
    pub closed_at: Option<String>,
    pub closed_by_period: Option<String>,
}

pub struct NewCase<'a> {
    pub centre: &'a str,
    pub channel: &'a str,
    pub period: &'a str,
    pub period_end: DateTime<Utc>,
    pub class: &'a str,
    pub score: Option<f64>,
    pub opened_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sweep {
    pub id: i64,
    pub channel: String,
    pub selection: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub total: i64,
    pub done: i64,
    /// `running`, `finished` or `interrupted` as stored; the API says `abandoned` for a running
    /// one whose process is gone.
    pub status: String,
    /// The host and process that ran it (`null` for sweeps stored before they were recorded).
    pub host: Option<String>,
    pub pid: Option<i64>,
    /// The `[[schedule]]` that started it (`null`: started by hand).
    pub schedule: Option<String>,
}

impl Sweep {
    /// `running` as stored, unless its process on this host is gone: then `abandoned` (killed
    /// without finishing; its results so far are kept).
    pub fn live_status(&self) -> String {
        if self.status == "running" && self.host.as_deref() == Some(this_host().as_str()) {
            if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
                // SAFETY: signal 0 only checks that the process exists.
                let alive = unsafe { libc::kill(pid, 0) } == 0
                    || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
                if !alive {
                    return "abandoned".into();
                }
            }
        }
        self.status.clone()
    }
}

/// This machine's name, for telling whose sweep is whose.
pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// How an import changed the registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Upserted {
    pub added: usize,
    pub updated: usize,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    evidence_dir: PathBuf,
    postgres: bool,
    /// The SQLite file's path and its (device, inode) when opened: a renamed or deleted file
    /// keeps taking writes through the open handle, so health compares the path with them.
    sqlite_file: Option<(PathBuf, (u64, u64))>,
    /// This handle among the process's stores: what readers key what they keep of it by.
    id: u64,
}

/// An exclusive lock on `DIR/raqib.lock`, held until dropped.
async fn lock_data_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    let lock_path = dir.join("raqib.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|source| StoreError::DataDir {
        path: lock_path.display().to_string(),
        source,
    })?;
    tokio::task::spawn_blocking(move || lock.lock().map(|_| lock))
        .await
        .map_err(|e| StoreError::DataDir {
            path: lock_path.display().to_string(),
            source: std::io::Error::other(e),
        })?
        .map_err(|source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        })
}

/// `url` with `{data_dir}` replaced by the database of `data_dir`.
pub fn resolved_url(url: &str, data_dir: &Path) -> String {
    url.replace("{data_dir}", &database_of(data_dir))
}

/// The PostgreSQL database name for a data directory: `raqib_` and 16 hex digits of the
/// SHA-256 of its absolute path.
fn database_of(data_dir: &Path) -> String {
    let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let hash = users::token_hash(&abs.display().to_string());
    format!("raqib_{}", &hash[..16])
}

/// Drops the database a `{data_dir}` URL made for `data_dir` (a benchmark's or a test's, once
/// done with). Any other URL names a database someone keeps: it is left alone.
pub async fn drop_database_of(data_dir: &Path, url: &str) -> Result<(), StoreError> {
    if !url.contains("{data_dir}") || url.starts_with("sqlite:") {
        return Ok(());
    }
    let (pool, name) = admin_pool(&resolved_url(url, data_dir)).await?;
    // The name is ours (raqib_ and hex), so it can be spliced in.
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&pool)
    .await
    .map_err(q("drop database"));
    pool.close().await;
    dropped.map(|_| ())
}

/// A connection to the server's `postgres` database, and the database `url` names.
async fn admin_pool(url: &str) -> Result<(AnyPool, String), StoreError> {
    sqlx::any::install_default_drivers();
    let mut admin = url::Url::parse(url).map_err(|e| StoreError::Url {
        message: e.to_string(),
    })?;
    let name = admin.path().trim_start_matches('/').to_string();
    admin.set_path("/postgres");
    let opened = |source| StoreError::Open {
        url: redact(admin.as_str()),
        source,
    };
    let options = AnyConnectOptions::from_str(admin.as_str()).map_err(opened)?;
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(opened)?;
    Ok((pool, name))
}

/// Creates the database `url` names unless it exists (connecting to `postgres` to do so).
async fn create_database(url: &str) -> Result<(), StoreError> {
    let (pool, name) = admin_pool(url).await?;
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&pool)
        .await
        .map_err(q("find database"))?
        .is_some();
    if !exists {
        // The name is ours (raqib_ and hex), so it can be spliced in. C collation: text
        // timestamps sort as their characters, as in SQLite.
        let made = sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )))
        .execute(&pool)
        .await;
        // Another process (another data directory's lock) may have made it meanwhile.
        if let Err(e) = made {
            let text = e.to_string();
            if !text.contains("already exists") && !text.contains("pg_database_datname_index") {
                return Err(StoreError::Query {
                    what: "create database",
                    source: e,
                });
            }
        }
    }
    pool.close().await;
    Ok(())
}

fn now_text() -> String {
    utc_millis::format(&Utc::now())
}

impl Store {
    /// Opens the store at `url` (default: SQLite in `data_dir`), with evidence files in
    /// `data_dir/evidence/`. In a PostgreSQL URL, `{data_dir}` stands for a database named
    /// after the data directory, made when missing: one server, a database per directory (how
    /// the test suite runs on PostgreSQL).
    pub async fn open(data_dir: &Path, url: Option<&str>) -> Result<Store, StoreError> {
        let parsed = match url {
            None => return Store::open_data_dir(data_dir).await,
            Some(u) => StoreUrl::parse(u).map_err(|e| StoreError::Url {
                message: e.to_string(),
            })?,
        };
        let evidence_dir = data_dir.join("evidence");
        std::fs::create_dir_all(&evidence_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        match parsed {
            StoreUrl::Sqlite(path) => {
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Store::open_url(&url, evidence_dir).await
            }
            StoreUrl::Postgres(url) => {
                let url = match url.contains("{data_dir}") {
                    false => url,
                    true => {
                        // Processes sharing the data directory make its database once.
                        let locked = lock_data_dir(data_dir).await?;
                        let url = resolved_url(&url, data_dir);
                        let made = create_database(&url).await;
                        drop(locked);
                        made?;
                        url
                    }
                };
                Store::open_url(&url, evidence_dir).await
            }
        }
    }

    /// Whether the tables are in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Opens (creating if needed) `DIR/raqib.sqlite` and `DIR/evidence/`, and migrates.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        let evidence_dir = dir.join("evidence");
        std::fs::create_dir_all(&evidence_dir).map_err(|source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        // Two processes opening a new store at once would both run the first migration: a
        // file lock makes the second wait until the first has migrated.
        let locked = lock_data_dir(dir).await?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("raqib.sqlite").display());
        let store = Store::open_url(&url, evidence_dir).await;
        drop(locked);
        store
    }

    async fn open_url(url: &str, evidence_dir: PathBuf) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let opened = |source| StoreError::Open {
            url: redact(url),
            source,
        };
        let options = AnyConnectOptions::from_str(url).map_err(opened)?;
        // A SQLite connection is a file handle that does not go stale: pinging it before each
        // use (the pool's default) only doubled the round trips to its worker thread. A
        // PostgreSQL one can (the server restarted, an idle timeout), but not while in use:
        // only one idle for a while is pinged, not each of a refresh's ten reads and writes.
        let mut pool = AnyPoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false);
        if !url.starts_with("sqlite:") {
            pool = pool.before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        }
        let pool = pool.connect_with(options).await.map_err(opened)?;
        if url.starts_with("sqlite:") {
            // WAL lets readers work while a sweep writes; it is a property of the file, so
            // one connection sets it for all. The `Any` driver does not apply sqlx's default.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(q("pragma"))?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        } else {
            // sqlx holds an advisory lock while it migrates: agents starting together wait.
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        }
        let sqlite_file = url
            .strip_prefix("sqlite://")
            .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)))
            .and_then(|p| health::file_id(&p).ok().map(|id| (p, id)));
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Store {
            pool,
            evidence_dir,
            postgres: !url.starts_with("sqlite:"),
            sqlite_file,
            id: OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Distinct for each store opened in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn evidence_dir(&self) -> &Path {
        &self.evidence_dir
    }

    /// The SQLite journal mode, for tests and `doctor`-style checks.
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await
            .map_err(q("journal mode"))?;
        row.try_get::<String, _>(0).map_err(q("journal mode"))
    }

    /// Adds or updates centres in one transaction: all of them or none.
    pub async fn upsert_centres(&self, centres: &[Centre]) -> Result<Upserted, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin import"))?;
        let mut counts = Upserted::default();
        let now = now_text();
        for c in centres {
            let exists = sqlx::query("SELECT 1 FROM centres WHERE id = $1")
                .bind(&c.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(q("look up centre"))?
                .is_some();
            sqlx::query(
                "INSERT INTO centres (id, name_ar, name_en, agency, region, timezone, hours, phones, websites, updated_at, tags, agency_ar, region_ar, hours_ramadan)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (id) DO UPDATE SET name_ar = excluded.name_ar, name_en = excluded.name_en,
                   agency = excluded.agency, region = excluded.region, timezone = excluded.timezone,
                   hours = excluded.hours, phones = excluded.phones, websites = excluded.websites,
                   updated_at = excluded.updated_at, tags = excluded.tags, agency_ar = excluded.agency_ar,
                   region_ar = excluded.region_ar, hours_ramadan = excluded.hours_ramadan",
            )
            .bind(&c.id)
            .bind(&c.name_ar)
            .bind(&c.name_en)
            .bind(&c.agency)
            .bind(&c.region)
            .bind(&c.timezone)
            .bind(c.hours.to_string())
            .bind(serde_json::to_string(&c.phones).unwrap_or_default())
            .bind(serde_json::to_string(&c.websites).unwrap_or_default())
            .bind(&now)
            .bind(serde_json::to_string(&c.tags).unwrap_or_default())
            .bind(&c.agency_ar)
            .bind(&c.region_ar)
            .bind(c.hours_ramadan.as_ref().map(|h| h.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(q("upsert centre"))?;
            if exists {
                counts.updated += 1;
            } else {
                counts.added += 1;
            }
        }
        // A centre's agency, name or sites changed: every stored verdict is recomputed
        // before it is read again.
        sqlx::query("UPDATE verdict_periods SET stale = 1")
            .execute(&mut *tx)
            .await
            .map_err(q("mark verdicts stale"))?;
        tx.commit().await.map_err(q("commit import"))?;
        Ok(counts)
    }

    pub async fn centres(&self) -> Result<Vec<Centre>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name_ar, name_en, agency, region, timezone, hours, phones, websites, tags, agency_ar,
                    region_ar, hours_ramadan
             FROM centres ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list centres"))?;
        rows.iter().map(centre_from_row).collect()
    }

    /// Each agency's Arabic name, where one of its centres gives one (the least, should
    /// they differ): what a page in Arabic names agencies by, without reading every centre.
    pub async fn agency_names_ar(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT agency, MIN(agency_ar) FROM centres
             WHERE agency_ar IS NOT NULL AND agency_ar <> '' GROUP BY agency",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list agencies"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(q("read agencies"))
    }

    pub async fn centre(&self, id: &str) -> Result<Option<Centre>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name_ar, name_en, agency, region, timezone, hours, phones, websites, tags, agency_ar,
                    region_ar, hours_ramadan
             FROM centres WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("get centre"))?;
        row.as_ref().map(centre_from_row).transpose()
    }

    pub async fn start_sweep(
        &self,
        channel: &str,
        selection: &str,
        total: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sweeps (channel, selection, started_at, total, done, status, host, pid)
             VALUES ($1, $2, $3, $4, 0, 'running', $5, $6) RETURNING id",
        )
        .bind(channel)
        .bind(selection)
        .bind(now_text())
        .bind(total)
        .bind(this_host())
        .bind(i64::from(std::process::id()))
        .fetch_one(&self.pool)
        .await
        .map_err(q("start sweep"))?;
        row.try_get::<i64, _>(0).map_err(q("start sweep"))
    }

    pub async fn finish_sweep(&self, id: i64, status: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sweeps SET finished_at = $1, status = $2 WHERE id = $3")
            .bind(now_text())
            .bind(status)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(q("finish sweep"))?;
        Ok(())
    }

    pub async fn sweep(&self, id: i64) -> Result<Option<Sweep>, StoreError> {
        Ok(self.sweeps(Some(id), 1).await?.pop())
    }

    /// Sweeps, newest first (or the one with `id`).
    pub async fn sweeps(&self, id: Option<i64>, limit: i64) -> Result<Vec<Sweep>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, channel, selection, started_at, finished_at, total, done, status, host, pid,
                    schedule
             FROM sweeps WHERE ($1 IS NULL OR id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list sweeps"))?;
        rows.iter().map(sweep_from_row).collect()
    }

    /// Sweeps stored as `running`, oldest first (some may be abandoned: see `live_status`).
    pub async fn running_sweeps(&self) -> Result<Vec<Sweep>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, channel, selection, started_at, finished_at, total, done, status, host, pid,
                    schedule
             FROM sweeps WHERE status = 'running' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("running sweeps"))?;
        rows.iter().map(sweep_from_row).collect()
    }

    /// Stores one result (and counts it on its sweep) in its own transaction.
    pub async fn insert_result(&self, r: &NewResult<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin result"))?;
        let id = insert_result_in(&mut tx, r, true).await?;
        tx.commit().await.map_err(q("commit result"))?;
        Ok(id)
    }

    /// Plans a scheduled sweep: the sweep row and all its jobs, in one transaction. `None`
    /// when a sweep for this schedule and fire time exists (another agent planned it).
    /// Stores many results in one transaction without queueing verdict refreshes: for bulk
    /// loads (a benchmark, an import) after which the periods are rebuilt whole.
    pub async fn insert_results_unqueued(&self, rs: &[NewResult<'_>]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin results"))?;
        for r in rs {
            insert_result_in(&mut tx, r, false).await?;
        }
        tx.commit().await.map_err(q("commit results"))
    }

    pub async fn plan_sweep(
        &self,
        channel: &str,
        schedule: &str,
        fired_at: DateTime<Utc>,
        agent_tags: &[String],
        jobs: &[NewJob<'_>],
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin plan"))?;
        let row = sqlx::query(
            "INSERT INTO sweeps (channel, selection, started_at, total, done, status, host, pid,
                                 schedule, fired_at, agent_tags)
             VALUES ($1, $2, $3, $4, 0, 'running', $5, $6, $7, $8, $9)
             ON CONFLICT (schedule, fired_at) DO NOTHING RETURNING id",
        )
        .bind(channel)
        .bind(format!("schedule:{schedule}"))
        .bind(now_text())
        .bind(jobs.len() as i64)
        .bind(this_host())
        .bind(i64::from(std::process::id()))
        .bind(schedule)
        .bind(utc_millis::format(&fired_at))
        .bind(serde_json::to_string(agent_tags).unwrap_or_else(|_| "[]".into()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(q("plan sweep"))?;
        let Some(row) = row else {
            tx.rollback().await.map_err(q("roll back plan"))?;
            return Ok(None);
        };
        let sweep: i64 = row.try_get(0).map_err(q("plan sweep"))?;
        for j in jobs {
            sqlx::query(
                "INSERT INTO sweep_jobs (sweep_id, centre_id, target, not_before, status)
                 VALUES ($1, $2, $3, $4, 'pending')",
            )
            .bind(sweep)
            .bind(j.centre)
            .bind(j.target)
            .bind(utc_millis::format(&j.not_before))
            .execute(&mut *tx)
            .await
            .map_err(q("plan job"))?;
        }
        tx.commit().await.map_err(q("commit plan"))?;
        Ok(Some(sweep))
    }

    /// The last fire time a schedule started a sweep for.
    pub async fn last_fired(&self, schedule: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT MAX(fired_at) FROM sweeps WHERE schedule = $1")
            .bind(schedule)
            .fetch_one(&self.pool)
            .await
            .map_err(q("last fired"))?;
        let t: Option<String> = row.try_get(0).map_err(q("last fired"))?;
        Ok(t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// A sweep's jobs without a result, earliest first.
    pub async fn open_jobs(&self, sweep: i64) -> Result<Vec<JobRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, centre_id, target, not_before, attempts FROM sweep_jobs
             WHERE sweep_id = $1 AND status <> 'done' ORDER BY not_before, id",
        )
        .bind(sweep)
        .fetch_all(&self.pool)
        .await
        .map_err(q("open jobs"))?;
        rows.iter()
            .map(|r| -> Result<JobRow, sqlx::Error> {
                let nb: String = r.try_get(3)?;
                Ok(JobRow {
                    id: r.try_get(0)?,
                    centre: r.try_get(1)?,
                    target: r.try_get(2)?,
                    not_before: DateTime::parse_from_rfc3339(&nb)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or_else(|_| Utc::now()),
                    attempts: r.try_get(4)?,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(q("read job"))
    }

    /// Results matching `f`, oldest first (in id order with `after_id`).
    pub async fn results(&self, f: &ResultFilter) -> Result<Vec<StoredResult>, StoreError> {
        let mut sql = String::from(
            "SELECT id, channel, centre_id, target, started_at, outcome, reason, sweep_id, data, agent
             FROM results WHERE 1 = 1",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if f.centre_id.is_some() {
            sql += &format!(" AND centre_id = {}", next());
        }
        if f.channel.is_some() {
            sql += &format!(" AND channel = {}", next());
        }
        if f.since.is_some() {
            sql += &format!(" AND started_at >= {}", next());
        }
        if f.until.is_some() {
            sql += &format!(" AND started_at < {}", next());
        }
        if f.id.is_some() {
            sql += &format!(" AND id = {}", next());
        }
        if f.sweep_id.is_some() {
            sql += &format!(" AND sweep_id = {}", next());
        }
        if f.after_id.is_some() {
            sql += &format!(" AND id > {}", next());
        }
        if f.needs_review {
            sql += " AND review = 1 AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.result_id = results.id)";
        }
        sql += match (f.after_id, f.newest_first) {
            (Some(_), _) => " ORDER BY id",
            (None, true) => " ORDER BY started_at DESC, id DESC",
            (None, false) => " ORDER BY started_at, id",
        };
        if f.limit.is_some() {
            sql += &format!(" LIMIT {}", next());
            if f.offset.is_some() {
                sql += &format!(" OFFSET {}", next());
            }
        }
        // Only fixed fragments and `$n` placeholders are appended above; values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(c) = &f.centre_id {
            query = query.bind(c);
        }
        if let Some(c) = &f.channel {
            query = query.bind(c);
        }
        if let Some(s) = &f.since {
            query = query.bind(utc_millis::format(s));
        }
        if let Some(u) = &f.until {
            query = query.bind(utc_millis::format(u));
        }
        if let Some(i) = f.id {
            query = query.bind(i);
        }
        if let Some(s) = f.sweep_id {
            query = query.bind(s);
        }
        if let Some(a) = f.after_id {
            query = query.bind(a);
        }
        if let Some(l) = f.limit {
            query = query.bind(l);
            if let Some(o) = f.offset {
                query = query.bind(o);
            }
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list results"))?;
        rows.iter().map(stored_result).collect()
    }

    /// One centre's results started in `[since, until)`, in time order: what a verdict
    /// refresh scores.
    pub async fn results_of_centre(
        &self,
        centre: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<StoredResult>, StoreError> {
        let mut out = self
            .scoring_results(Some(centre), since, until, None)
            .await?;
        // The aggregate's order is the database's: time order is restored here.
        out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The results started in `[since, until)` with an id after `page.0`, the first `page.1`
    /// of them by id: a period's results a page at a time, for a rebuild to score.
    pub async fn results_page(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredResult>, StoreError> {
        let mut out = self
            .scoring_results(None, since, until, Some((after_id, limit)))
            .await?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Results as scoring reads them (on SQLite from one row: see "Rows as one JSON array"):
    /// of one centre or all, started in `[since, until)`, optionally a page by id.
    async fn scoring_results(
        &self,
        centre: Option<&str>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        page: Option<(i64, i64)>,
    ) -> Result<Vec<StoredResult>, StoreError> {
        let mut inner = String::from(
            "SELECT id, channel, centre_id, target, started_at, outcome, reason, sweep_id, data,
                    agent FROM results WHERE started_at >= $1 AND started_at < $2",
        );
        if centre.is_some() {
            inner += " AND centre_id = $3";
        }
        if page.is_some() {
            inner += if centre.is_some() {
                " AND id > $4 ORDER BY id LIMIT $5"
            } else {
                " AND id > $3 ORDER BY id LIMIT $4"
            };
        }
        // PostgreSQL's driver reads rows on the connection's own task: plain rows cost it
        // less than building one text of them (1.3–2.4 ms against 3.2–3.9 ms for a quarter's
        // 290 results, in pgbench).
        let sql = if self.postgres {
            inner
        } else {
            // SQLite: the small columns as one JSON array, the probes' JSON as another
            // (`data` spliced as it is stored: the probe wrote it as JSON). Two aggregates of
            // one query take the rows in the same order. Splicing each row's columns into one
            // text instead copied it once per `||`: 1.9–2.4 ms against 1.0–1.1 ms for a
            // quarter's 290 results (SQLite 3.40), 2.0 ms against 1.7 ms through sqlx.
            format!(
                "SELECT '[' || group_concat(json_array(id, channel, centre_id, target,
                        started_at, outcome, reason, sweep_id, agent), ',') || ']',
                        '[' || group_concat(data, ',') || ']' FROM ({inner})"
            )
        };
        // Only fixed fragments and `$n` placeholders are put together above; values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(utc_millis::format(&since))
            .bind(utc_millis::format(&until));
        if let Some(c) = centre {
            query = query.bind(c.to_string());
        }
        if let Some((after, limit)) = page {
            query = query.bind(after).bind(limit);
        }
        let what = "list results to score";
        if self.postgres {
            let rows = query.fetch_all(&self.pool).await.map_err(q(what))?;
            return rows.iter().map(stored_result).collect();
        }
        let row = query.fetch_one(&self.pool).await.map_err(q(what))?;
        // No rows: both aggregates are NULL.
        let (Some(heads), Some(datas)): (Option<String>, Option<String>) = (
            row.try_get(0).map_err(q(what))?,
            row.try_get(1).map_err(q(what))?,
        ) else {
            return Ok(Vec::new());
        };
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            what,
            message: e.to_string(),
        };
        let heads: Vec<ResultHead> = serde_json::from_str(&heads).map_err(corrupt)?;
        let datas: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(&datas).map_err(corrupt)?;
        if heads.len() != datas.len() {
            return Err(StoreError::Corrupt {
                what,
                message: format!("{} rows but {} results' data", heads.len(), datas.len()),
            });
        }
        Ok(heads
            .into_iter()
            .zip(datas)
            .map(|(head, data)| stored_result_of(head, data.get().to_string()))
            .collect())
    }

    /// Takes one call from `number`'s cap for `day`; `false` (and nothing taken) when the cap
    /// is reached. One statement, so concurrent dialers cannot both take the last call.
    pub async fn take_dial(&self, number: &str, day: &str, cap: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "INSERT INTO dial_ledger (number, day, count) SELECT $1, $2, 1 WHERE $3 > 0
             ON CONFLICT (number, day) DO UPDATE SET count = dial_ledger.count + 1
             WHERE dial_ledger.count < $3
             RETURNING count",
        )
        .bind(number)
        .bind(day)
        .bind(cap)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("take dial"))?;
        Ok(row.is_some())
    }

    /// Calls already taken from `number`'s cap on `day`.
    pub async fn dials(&self, number: &str, day: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT count FROM dial_ledger WHERE number = $1 AND day = $2")
            .bind(number)
            .bind(day)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("count dials"))?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>(0).map_err(q("count dials"))?,
            None => 0,
        })
    }

    /// Keeps an auditor's label on a result; earlier labels stay as history.
    pub async fn add_label(&self, result_id: i64, l: &NewLabel<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin label"))?;
        let row = sqlx::query(
            "INSERT INTO labels (result_id, answer_type, time_to_person_secs, reason, labelled_by, labelled_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(result_id)
        .bind(l.answer_type)
        .bind(l.time_to_person_secs)
        .bind(l.reason)
        .bind(l.by)
        .bind(now_text())
        .persistent(false)
        .fetch_one(&mut *tx)
        .await
        .map_err(q("insert label"))?;
        let id = row.try_get::<i64, _>(0).map_err(q("insert label"))?;
        // The label changes its call's score: its centre's verdicts are refreshed.
        sqlx::query(
            "INSERT INTO verdict_dirty (centre, started_at)
             SELECT centre_id, started_at FROM results WHERE id = $1 AND centre_id IS NOT NULL",
        )
        .bind(result_id)
        .execute(&mut *tx)
        .await
        .map_err(q("queue verdict refresh"))?;
        tx.commit().await.map_err(q("commit label"))?;
        Ok(id)
    }

    /// Every label, oldest first (the last one of a result is the one in force).
    pub async fn labels(&self) -> Result<Vec<StoredLabel>, StoreError> {
        self.labels_where(None).await
    }

    /// The labels of one result, oldest first.
    pub async fn labels_of(&self, result: i64) -> Result<Vec<StoredLabel>, StoreError> {
        self.labels_where(Some(result)).await
    }

    /// The labels of one centre's results started in `[since, until)`, oldest first.
    pub async fn labels_of_centre(
        &self,
        centre: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<StoredLabel>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.result_id, l.answer_type, l.time_to_person_secs, l.reason,
                    l.labelled_by, l.labelled_at
             FROM labels l JOIN results r ON r.id = l.result_id
             WHERE r.centre_id = $1 AND r.started_at >= $2 AND r.started_at < $3 ORDER BY l.id",
        )
        .bind(centre)
        .bind(utc_millis::format(&since))
        .bind(utc_millis::format(&until))
        .fetch_all(&self.pool)
        .await
        .map_err(q("list labels"))?;
        rows.iter().map(label_from_row).collect()
    }

    async fn labels_where(&self, result: Option<i64>) -> Result<Vec<StoredLabel>, StoreError> {
        let query = match result {
            None => sqlx::query(
                "SELECT id, result_id, answer_type, time_to_person_secs, reason, labelled_by,
                        labelled_at FROM labels ORDER BY id",
            ),
            Some(r) => sqlx::query(
                "SELECT id, result_id, answer_type, time_to_person_secs, reason, labelled_by,
                        labelled_at FROM labels WHERE result_id = $1 ORDER BY id",
            )
            .bind(r),
        };
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list labels"))?;
        rows.iter().map(label_from_row).collect()
    }

    /// One result by id.
    pub async fn result(&self, id: i64) -> Result<Option<StoredResult>, StoreError> {
        let filter = ResultFilter {
            id: Some(id),
            ..ResultFilter::default()
        };
        Ok(self.results(&filter).await?.pop())
    }

    pub async fn cases(&self) -> Result<Vec<Case>, StoreError> {
        self.cases_where(CasesOf::All).await
    }

    /// The cases not closed yet (a few per flagged centre, where all cases grow for years).
    pub async fn open_cases(&self) -> Result<Vec<Case>, StoreError> {
        self.cases_where(CasesOf::Open).await
    }

    /// One centre's cases not closed yet (what a refresh of that centre may close).
    pub async fn open_cases_of(&self, centre: &str) -> Result<Vec<Case>, StoreError> {
        self.cases_where(CasesOf::OpenOf(centre)).await
    }

    /// The cases opened for `period` and those not closed yet: what a period's report shows.
    pub async fn cases_of_period_or_open(&self, period: &str) -> Result<Vec<Case>, StoreError> {
        self.cases_where(CasesOf::PeriodOrOpen(period)).await
    }

    /// The centres with a case whose period ended by `end` (RFC 3339 UTC): those that had
    /// feedback before a period starting then.
    pub async fn centres_with_case_ended_by(
        &self,
        end: &str,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT centre_id FROM cases WHERE period_end <= $1")
            .bind(end)
            .fetch_all(&self.pool)
            .await
            .map_err(q("list cases"))?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(q("read case")))
            .collect()
    }

    async fn cases_where(&self, of: CasesOf<'_>) -> Result<Vec<Case>, StoreError> {
        let query = match of {
            CasesOf::OpenOf(c) => sqlx::query(
                "SELECT id, centre_id, channel, period, period_end, class, score, opened_at, due_at,
                        closed_at, closed_by_period
                 FROM cases WHERE closed_at IS NULL AND centre_id = $1 ORDER BY id",
            )
            .bind(c),
            CasesOf::Open => sqlx::query(
                "SELECT id, centre_id, channel, period, period_end, class, score, opened_at, due_at,
                        closed_at, closed_by_period
                 FROM cases WHERE closed_at IS NULL ORDER BY id",
            ),
            CasesOf::PeriodOrOpen(p) => sqlx::query(
                "SELECT id, centre_id, channel, period, period_end, class, score, opened_at, due_at,
                        closed_at, closed_by_period
                 FROM cases WHERE period = $1 OR closed_at IS NULL ORDER BY id",
            )
            .bind(p),
            CasesOf::All => sqlx::query(
                "SELECT id, centre_id, channel, period, period_end, class, score, opened_at, due_at,
                        closed_at, closed_by_period
                 FROM cases ORDER BY id",
            ),
        };
        let rows = query.fetch_all(&self.pool).await.map_err(q("list cases"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read case");
                Ok(Case {
                    id: r.try_get(0).map_err(g())?,
                    centre: r.try_get(1).map_err(g())?,
                    channel: r.try_get(2).map_err(g())?,
                    period: r.try_get(3).map_err(g())?,
                    period_end: r.try_get(4).map_err(g())?,
                    class: r.try_get(5).map_err(g())?,
                    score: r.try_get(6).map_err(g())?,
                    opened_at: r.try_get(7).map_err(g())?,
                    due_at: r.try_get(8).map_err(g())?,
                    closed_at: r.try_get(9).map_err(g())?,
                    closed_by_period: r.try_get(10).map_err(g())?,
                })
            })
            .collect()
    }

    /// Opens a case unless the centre has one open on that channel; `true` when opened.
    pub async fn open_case(&self, c: &NewCase<'_>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO cases (centre_id, channel, period, period_end, class, score, opened_at, due_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8
             WHERE NOT EXISTS (SELECT 1 FROM cases WHERE centre_id = $1 AND channel = $2 AND closed_at IS NULL)",
        )
        .bind(c.centre)
        .bind(c.channel)
        .bind(c.period)
        .bind(utc_millis::format(&c.period_end))
        .bind(c.class)
        .bind(c.score)
        .bind(utc_millis::format(&c.opened_at))
        .bind(utc_millis::format(&c.due_at))
        .persistent(false)
        .execute(&self.pool)
        .await
        .map_err(q("open case"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn close_case(
        &self,
        id: i64,
        at: DateTime<Utc>,
        period: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cases SET closed_at = $1, closed_by_period = $2 WHERE id = $3 AND closed_at IS NULL",
        )
        .bind(utc_millis::format(&at))
        .bind(period)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("close case"))?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Stores `r` in `tx`; `queue`: and queues its centre's verdicts for a refresh.
async fn insert_result_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &NewResult<'_>,
    queue: bool,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO results (channel, centre_id, target, started_at, outcome, reason, sweep_id, data, agent, review)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(r.channel)
    .bind(r.centre_id)
    .bind(r.target)
    .bind(utc_millis::format(&r.started_at))
    .bind(r.outcome)
    .bind(r.reason)
    .bind(r.sweep_id)
    .bind(r.data.to_string())
    .bind(r.agent)
    .bind(needs_review(r) as i64)
    .fetch_one(&mut **tx)
    .await
    .map_err(q("insert result"))?;
    let id = row.try_get::<i64, _>(0).map_err(q("insert result"))?;
    if let (Some(centre), true) = (r.centre_id, queue) {
        verdicts::mark_dirty_in(tx, centre, &utc_millis::format(&r.started_at)).await?;
    }
    if let Some(sweep) = r.sweep_id {
        sqlx::query("UPDATE sweeps SET done = done + 1 WHERE id = $1")
            .bind(sweep)
            .execute(&mut **tx)
            .await
            .map_err(q("count sweep progress"))?;
    }
    Ok(id)
}

/// What `/metrics` counts of a result, read without decoding its JSON in Rust.
#[derive(Debug, Clone)]
pub struct ResultTiming {
    pub id: i64,
    pub channel: String,
    pub outcome: String,
    /// `timings_ms.total` and `timings_ms.answer`, as stored.
    pub total_ms: Option<f64>,
    pub answer_ms: Option<f64>,
    pub centre_id: Option<String>,
    pub target: String,
    pub started_at: String,
    /// A web check's `tls_days_left`.
    pub tls_days_left: Option<f64>,
}

impl Store {
    /// Up to `limit` results with an id above `after`, in id order, with their timings taken
    /// out of the stored JSON by the database (a scrape after a restart reads every result).
    pub async fn result_timings(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ResultTiming>, StoreError> {
        let query = if self.is_postgres() {
            sqlx::query(
                "SELECT id, channel, outcome,
                        CAST(CAST(data AS json) #>> '{timings_ms,total}' AS DOUBLE PRECISION),
                        CAST(CAST(data AS json) #>> '{timings_ms,answer}' AS DOUBLE PRECISION),
                        centre_id, target, started_at,
                        CAST(CAST(data AS json) #>> '{tls_days_left}' AS DOUBLE PRECISION)
                 FROM results WHERE id > $1 ORDER BY id LIMIT $2",
            )
        } else {
            sqlx::query(
                "SELECT id, channel, outcome,
                        CAST(json_extract(data, '$.timings_ms.total') AS REAL),
                        CAST(json_extract(data, '$.timings_ms.answer') AS REAL),
                        centre_id, target, started_at,
                        CAST(json_extract(data, '$.tls_days_left') AS REAL)
                 FROM results WHERE id > $1 ORDER BY id LIMIT $2",
            )
        };
        let rows = query
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(q("list result timings"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read result timings");
                Ok(ResultTiming {
                    id: r.try_get(0).map_err(g())?,
                    channel: r.try_get(1).map_err(g())?,
                    outcome: r.try_get(2).map_err(g())?,
                    total_ms: r.try_get(3).map_err(g())?,
                    answer_ms: r.try_get(4).map_err(g())?,
                    centre_id: r.try_get(5).map_err(g())?,
                    target: r.try_get(6).map_err(g())?,
                    started_at: r.try_get(7).map_err(g())?,
                    tls_days_left: r.try_get(8).map_err(g())?,
                })
            })
            .collect()
    }
}

fn label_from_row(r: &sqlx::any::AnyRow) -> Result<StoredLabel, StoreError> {
    Ok(StoredLabel {
        id: r.try_get(0).map_err(q("read label"))?,
        result_id: r.try_get(1).map_err(q("read label"))?,
        answer_type: r.try_get(2).map_err(q("read label"))?,
        time_to_person_secs: r.try_get(3).map_err(q("read label"))?,
        reason: r.try_get(4).map_err(q("read label"))?,
        by: r.try_get(5).map_err(q("read label"))?,
        at: r.try_get(6).map_err(q("read label"))?,
    })
}

fn sweep_from_row(r: &sqlx::any::AnyRow) -> Result<Sweep, StoreError> {
    let g = || q("read sweep");
    Ok(Sweep {
        id: r.try_get(0).map_err(g())?,
        channel: r.try_get(1).map_err(g())?,
        selection: r.try_get(2).map_err(g())?,
        started_at: r.try_get(3).map_err(g())?,
        finished_at: r.try_get(4).map_err(g())?,
        total: r.try_get(5).map_err(g())?,
        done: r.try_get(6).map_err(g())?,
        status: r.try_get(7).map_err(g())?,
        host: r.try_get(8).map_err(g())?,
        pid: r.try_get(9).map_err(g())?,
        schedule: r.try_get(10).map_err(g())?,
    })
}

fn centre_from_row(r: &sqlx::any::AnyRow) -> Result<Centre, StoreError> {
    let get = |i: usize| r.try_get::<String, _>(i).map_err(q("read centre"));
    let corrupt = |message: String| StoreError::Corrupt {
        what: "centre",
        message,
    };
    Ok(Centre {
        id: get(0)?,
        name_ar: get(1)?,
        name_en: get(2)?,
        agency: get(3)?,
        region: get(4)?,
        timezone: get(5)?,
        hours: get(6)?.parse().map_err(|e: FieldError| corrupt(e.0))?,
        phones: serde_json::from_str(&get(7)?).map_err(|e| corrupt(e.to_string()))?,
        websites: serde_json::from_str(&get(8)?).map_err(|e| corrupt(e.to_string()))?,
        tags: serde_json::from_str(&get(9)?).map_err(|e| corrupt(e.to_string()))?,
        agency_ar: r.try_get(10).map_err(q("read centre"))?,
        region_ar: r.try_get(11).map_err(q("read centre"))?,
        hours_ramadan: r
            .try_get::<Option<String>, _>(12)
            .map_err(q("read centre"))?
            .map(|h| h.parse())
            .transpose()
            .map_err(|e: FieldError| corrupt(e.0))?,
    })
}
