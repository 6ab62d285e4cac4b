//! What `/healthz` asks of the store: a read and a write that reach the tables, the SQLite file
//! still at the path it was opened from, and an evidence directory that takes a file.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{now_text, q, Store, StoreError};

/// A file's (device, inode): what stays the same across a rename and changes on a re-create.
pub fn file_id(path: &Path) -> std::io::Result<(u64, u64)> {
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

impl Store {
    /// A read and a write of the `health` row; for SQLite, also that the file at the opened
    /// path is still the one open (not renamed away or deleted).
    pub async fn check_tables(&self) -> Result<(), StoreError> {
        if let Some((path, id)) = &self.sqlite_file {
            let gone = |message: String| StoreError::FileGone {
                path: path.display().to_string(),
                message,
            };
            match file_id(path) {
                Ok(now) if now == *id => {}
                Ok(_) => return Err(gone("another file is there now".into())),
                Err(e) => return Err(gone(e.to_string())),
            }
        }
        sqlx::query("SELECT checked_at FROM health WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(q("health read"))?;
        let done = sqlx::query("UPDATE health SET checked_at = $1 WHERE id = 1")
            .bind(now_text())
            .execute(&self.pool)
            .await
            .map_err(q("health write"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt {
                what: "health",
                message: "the health row is missing".into(),
            });
        }
        Ok(())
    }

    /// The evidence directory exists and takes a new file (written and removed again).
    pub async fn check_evidence_dir(&self) -> Result<(), std::io::Error> {
        let dir = self.evidence_dir.clone();
        tokio::task::spawn_blocking(move || {
            if !std::fs::metadata(&dir)?.is_dir() {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory",
                    dir.display()
                )));
            }
            let probe = dir.join(format!(".healthz-{}", std::process::id()));
            std::fs::write(&probe, b"ok")?;
            std::fs::remove_file(&probe)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}
