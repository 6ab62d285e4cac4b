//! Evidence retention: recordings, SIP traces and screenshots older than `[retention]` allows
//! are deleted; the result's row, its measurements and the verdicts stay, and the row says
//! which evidence expired and when (`evidence_expired` in its JSON).
//!
//! A row is marked before its files go, so a prune killed in between leaves files that the
//! next prune deletes, never a row that points at nothing without saying so. Files no row
//! names (a process killed before it stored its result) go by the day directory they sit in.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{q, Store, StoreError};
use crate::config::RetentionConfig;
use crate::probe::utc_millis;

/// The kinds of evidence file, as `[retention]` and `/metrics` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceKind {
    Recordings,
    Traces,
    Screenshots,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 3] = [
        EvidenceKind::Recordings,
        EvidenceKind::Traces,
        EvidenceKind::Screenshots,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Recordings => "recordings",
            EvidenceKind::Traces => "traces",
            EvidenceKind::Screenshots => "screenshots",
        }
    }

    /// The key a result's JSON names such a file under.
    fn key(self) -> &'static str {
        match self {
            EvidenceKind::Recordings => "recording",
            EvidenceKind::Traces => "sip_trace",
            EvidenceKind::Screenshots => "screenshot",
        }
    }

    fn of_key(key: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The kind of a file in the evidence directory, by its name.
    pub fn of_file(name: &str) -> Option<EvidenceKind> {
        if name.ends_with(".wav") {
            Some(EvidenceKind::Recordings)
        } else if name.ends_with(".sip.txt") {
            Some(EvidenceKind::Traces)
        } else if name.ends_with(".png") {
            Some(EvidenceKind::Screenshots)
        } else {
            None
        }
    }

    fn days(self, cfg: &RetentionConfig) -> u32 {
        match self {
            EvidenceKind::Recordings => cfg.recordings_days,
            EvidenceKind::Traces => cfg.traces_days,
            EvidenceKind::Screenshots => cfg.screenshots_days,
        }
    }
}

/// Files and bytes of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

/// What a prune deleted (or, dry, would delete).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    pub dry_run: bool,
    /// Evidence of results started before this day (UTC) expired, per kind; absent: kept for
    /// ever.
    pub before: BTreeMap<EvidenceKind, NaiveDate>,
    pub deleted: BTreeMap<EvidenceKind, Tally>,
    /// Results whose rows now say their evidence expired.
    pub results_marked: u64,
}

/// Rows read per round trip.
const PAGE: i64 = 500;

impl Store {
    /// Deletes the evidence `cfg` no longer keeps as of `now`; with `dry_run`, only counts it.
    pub async fn prune_evidence(
        &self,
        cfg: &RetentionConfig,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        let mut out = Pruned {
            dry_run,
            ..Pruned::default()
        };
        for kind in EvidenceKind::ALL {
            let days = kind.days(cfg);
            if days > 0 {
                let day = now.date_naive() - chrono::Days::new(days.into());
                out.before.insert(kind, day);
            }
            out.deleted.insert(kind, Tally::default());
        }
        let Some(latest) = out.before.values().max().copied() else {
            return Ok(out);
        };
        let stamp = utc_millis::format(&now);
        let mut counted: HashSet<PathBuf> = HashSet::new();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, started_at, data FROM results
                 WHERE id > $1 AND started_at < $2
                   AND (data LIKE '%\"recording\":\"%' OR data LIKE '%\"sip_trace\":\"%'
                        OR data LIKE '%\"screenshot\":\"%')
                 ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(utc_millis::format(
                &latest.and_time(chrono::NaiveTime::MIN).and_utc(),
            ))
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await
            .map_err(q("results with evidence"))?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0).map_err(q("results with evidence"))?;
            for row in &rows {
                let id: i64 = row.try_get(0).map_err(q("results with evidence"))?;
                let started: String = row.try_get(1).map_err(q("results with evidence"))?;
                let data: String = row.try_get(2).map_err(q("results with evidence"))?;
                let Ok(started) = DateTime::parse_from_rfc3339(&started) else {
                    continue;
                };
                let Ok(mut json) = serde_json::from_str::<serde_json::Value>(&data) else {
                    continue;
                };
                let mut files = Vec::new();
                expire(
                    &mut json,
                    &|k: EvidenceKind| {
                        out.before
                            .get(&k)
                            .is_some_and(|day| started.date_naive() < *day)
                    },
                    &mut files,
                );
                if files.is_empty() {
                    continue;
                }
                let expired = json
                    .as_object_mut()
                    .expect("a result is a JSON object")
                    .entry("evidence_expired")
                    .or_insert_with(|| serde_json::json!({}));
                for (kind, _) in &files {
                    expired[kind.key()] = stamp.clone().into();
                }
                if !dry_run {
                    sqlx::query("UPDATE results SET data = $1 WHERE id = $2")
                        .bind(json.to_string())
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(q("mark expired evidence"))?;
                }
                out.results_marked += 1;
                for (kind, stored) in files {
                    let path = self.evidence_path(&stored);
                    if let Some(size) = remove(&path, dry_run) {
                        let t = out.deleted.entry(kind).or_default();
                        t.files += 1;
                        t.bytes += size;
                    }
                    counted.insert(path);
                }
            }
        }
        // Files no row names, by the day directory they were written in.
        for (top, kinds) in [
            (
                "calls",
                &[EvidenceKind::Recordings, EvidenceKind::Traces][..],
            ),
            ("web", &[EvidenceKind::Screenshots][..]),
        ] {
            for (day, dir) in day_dirs(&self.evidence_dir.join(top)) {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let Some(kind) = EvidenceKind::of_file(&name).filter(|k| kinds.contains(k))
                    else {
                        continue;
                    };
                    if out.before.get(&kind).is_none_or(|b| day >= *b) {
                        continue;
                    }
                    let path = entry.path();
                    if counted.contains(&path) {
                        continue;
                    }
                    if let Some(size) = remove(&path, dry_run) {
                        let t = out.deleted.entry(kind).or_default();
                        t.files += 1;
                        t.bytes += size;
                    }
                }
                if !dry_run {
                    // Only when empty: what is kept longer stays.
                    let _ = std::fs::remove_dir(&dir);
                }
            }
        }
        Ok(out)
    }

    /// Where a stored evidence path is now: as stored when absolute, else the part after the
    /// data directory's `evidence/` under this store's evidence directory.
    fn evidence_path(&self, stored: &str) -> PathBuf {
        let p = Path::new(stored);
        if p.is_absolute() || p.exists() {
            return p.to_path_buf();
        }
        match stored.rfind("evidence/") {
            Some(i) => self.evidence_dir.join(&stored[i + "evidence/".len()..]),
            None => p.to_path_buf(),
        }
    }

    /// The evidence on disk now, per kind (what `/metrics` exports).
    pub fn evidence_on_disk(&self) -> BTreeMap<EvidenceKind, Tally> {
        let mut out: BTreeMap<EvidenceKind, Tally> = EvidenceKind::ALL
            .into_iter()
            .map(|k| (k, Tally::default()))
            .collect();
        for top in ["calls", "web"] {
            for (_, dir) in day_dirs(&self.evidence_dir.join(top)) {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let (Some(kind), Ok(meta)) = (EvidenceKind::of_file(&name), entry.metadata())
                    {
                        let t = out.entry(kind).or_default();
                        t.files += 1;
                        t.bytes += meta.len();
                    }
                }
            }
        }
        out
    }
}

/// Sets every evidence path of a kind `expires` says to null, collecting (kind, path).
fn expire(
    v: &mut serde_json::Value,
    expires: &dyn Fn(EvidenceKind) -> bool,
    files: &mut Vec<(EvidenceKind, String)>,
) {
    match v {
        serde_json::Value::Object(map) => {
            // `evidence_expired` names kinds with the time they went: no paths.
            for (key, item) in map.iter_mut().filter(|(k, _)| *k != "evidence_expired") {
                match (EvidenceKind::of_key(key), item.as_str()) {
                    (Some(kind), Some(path)) if expires(kind) => {
                        files.push((kind, path.to_string()));
                        *item = serde_json::Value::Null;
                    }
                    _ => expire(item, expires, files),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                expire(item, expires, files);
            }
        }
        _ => {}
    }
}

/// Bytes as people read them: `1.5 MB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Deletes `path` (or, dry, only looks); its size if it was there.
fn remove(path: &Path, dry_run: bool) -> Option<u64> {
    let size = std::fs::symlink_metadata(path).ok()?.len();
    match dry_run {
        true => Some(size),
        false => std::fs::remove_file(path).ok().map(|()| size),
    }
}

/// The `YYYY-MM-DD` directories under `dir`, with their day.
fn day_dirs(dir: &Path) -> Vec<(NaiveDate, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let day =
                NaiveDate::parse_from_str(&e.file_name().to_string_lossy(), "%Y-%m-%d").ok()?;
            Some((day, e.path()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_string_paths_of_expiring_kinds_are_taken() {
        let mut v = serde_json::json!({
            "recording": "/d/evidence/calls/2026-01-01/a.wav",
            "sip_trace": "/d/evidence/calls/2026-01-01/a.sip.txt",
            "timings_ms": {"screenshot": 70.0},
            "pages": [{"browser": {"screenshot": "/d/evidence/web/2026-01-01/p.png"}}],
        });
        let mut files = Vec::new();
        expire(&mut v, &|k| k != EvidenceKind::Traces, &mut files);
        assert_eq!(files.len(), 2);
        assert!(v["recording"].is_null());
        assert!(v["sip_trace"].is_string());
        assert_eq!(v["timings_ms"]["screenshot"], 70.0);
        assert!(v["pages"][0]["browser"]["screenshot"].is_null());
    }
}
