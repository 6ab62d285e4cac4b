//! Users and their API tokens (migration 0008). Tokens are random, shown once, and stored
//! only as their SHA-256: a copy of the store gives no way in.

use serde::Serialize;
use sqlx::Row;

use super::{now_text, q, Store, StoreError};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub name: String,
    #[schema(value_type = crate::server::Role)]
    pub role: String,
    pub created_at: String,
    pub tokens: i64,
}

/// The hex SHA-256 of a token.
pub fn token_hash(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Adds a user; `false` when the name is taken.
    pub async fn add_user(&self, name: &str, role: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO users (name, role, created_at) SELECT $1, $2, $3
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE name = $1)",
        )
        .bind(name)
        .bind(role)
        .bind(now_text())
        .execute(&self.pool)
        .await
        .map_err(q("add user"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a user and revokes their tokens; `false` when there is no such user.
    pub async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin remove user"))?;
        for sql in [
            "DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
        ] {
            sqlx::query(sql)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(q("revoke tokens and sessions"))?;
        }
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(q("remove user"))?;
        tx.commit().await.map_err(q("commit remove user"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.name, u.role, u.created_at,
                    (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id)
             FROM users u ORDER BY u.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list users"))?;
        rows.iter()
            .map(|r| {
                let g = || q("read user");
                Ok(User {
                    id: r.try_get(0).map_err(g())?,
                    name: r.try_get(1).map_err(g())?,
                    role: r.try_get(2).map_err(g())?,
                    created_at: r.try_get(3).map_err(g())?,
                    tokens: r.try_get(4).map_err(g())?,
                })
            })
            .collect()
    }

    /// Stores the hash of a new token for `name`; `false` when there is no such user.
    pub async fn add_token(&self, name: &str, token: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO api_tokens (user_id, sha256, created_at)
             SELECT id, $2, $3 FROM users WHERE name = $1",
        )
        .bind(name)
        .bind(token_hash(token))
        .bind(now_text())
        .execute(&self.pool)
        .await
        .map_err(q("add token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The user (name, role) a token belongs to, noting its use.
    pub async fn user_of_token(&self, token: &str) -> Result<Option<(String, String)>, StoreError> {
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.sha256 = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("look up token"))?;
        let Some(r) = row else { return Ok(None) };
        // At most one write a minute per token, not one per request.
        let stale =
            crate::probe::utc_millis::format(&(chrono::Utc::now() - chrono::Duration::minutes(1)));
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1
             WHERE sha256 = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now_text())
        .bind(&hash)
        .bind(stale)
        .execute(&self.pool)
        .await
        .map_err(q("note token use"))?;
        Ok(Some((
            r.try_get(0).map_err(q("read token"))?,
            r.try_get(1).map_err(q("read token"))?,
        )))
    }

    /// Sets a user's password (its PBKDF2 text) and ends their sessions; `false` when there is
    /// no such user.
    pub async fn set_password(&self, name: &str, hashed: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin set password"))?;
        let done = sqlx::query("UPDATE users SET password = $1 WHERE name = $2")
            .bind(hashed)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(q("set password"))?;
        sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(q("end sessions"))?;
        tx.commit().await.map_err(q("commit set password"))?;
        Ok(done.rows_affected() == 1)
    }

    /// A user's stored password text and role; `None` without such a user or password.
    pub async fn password_of(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT password, role FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("look up password"))?;
        let Some(r) = row else { return Ok(None) };
        let password: Option<String> = r.try_get(0).map_err(q("read password"))?;
        let role: String = r.try_get(1).map_err(q("read password"))?;
        Ok(password.map(|p| (p, role)))
    }

    /// Stores the hash of a new session cookie for `name`, valid until `expires`.
    pub async fn add_session(
        &self,
        name: &str,
        token: &str,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let now = now_text();
        // Expired sessions are swept here, where new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(&now)
            .execute(&self.pool)
            .await
            .map_err(q("sweep sessions"))?;
        let done = sqlx::query(
            "INSERT INTO sessions (user_id, sha256, created_at, expires_at)
             SELECT id, $2, $3, $4 FROM users WHERE name = $1",
        )
        .bind(name)
        .bind(token_hash(token))
        .bind(now)
        .bind(crate::probe::utc_millis::format(&expires))
        .execute(&self.pool)
        .await
        .map_err(q("add session"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The user (name, role) of a live session cookie.
    pub async fn user_of_session(
        &self,
        token: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.sha256 = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now_text())
        .fetch_optional(&self.pool)
        .await
        .map_err(q("look up session"))?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((
            r.try_get(0).map_err(q("read session"))?,
            r.try_get(1).map_err(q("read session"))?,
        )))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE sha256 = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await
            .map_err(q("end session"))?;
        Ok(())
    }
}
