//! Where the tables live, as a URL: read, checked and shown without its password. A leaf,
//! so that the config can check `store.url` and the store open it, neither importing the other.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreUrlError {
    #[error("'{0}' names no file")]
    NoFile(String),
    #[error("'{url}': {error}")]
    Unreadable { url: String, error: url::ParseError },
    #[error("'{0}' names no database")]
    NoDatabase(String),
    #[error("'{0}': expected sqlite://PATH or postgres://USER@HOST/DATABASE")]
    Scheme(String),
    #[error("store.url: {0}")]
    NotAUrl(url::ParseError),
    #[error("store.url takes no password")]
    NoPassword,
}

/// Where the tables live: SQLite (`sqlite://PATH`, or the data directory's `raqib.sqlite`) or
/// PostgreSQL (`postgres://…`). Evidence files stay in the data directory either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(url: &str) -> Result<StoreUrl, StoreUrlError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreUrlError::NoFile(url.to_string()));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(
                path.split('?').next().unwrap_or(path),
            )));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(&url.replace("{data_dir}", "d")).map_err(|error| {
                StoreUrlError::Unreadable {
                    url: redact(url),
                    error,
                }
            })?;
            if parsed.path().trim_start_matches('/').is_empty() {
                return Err(StoreUrlError::NoDatabase(redact(url)));
            }
            return Ok(StoreUrl::Postgres(url.to_string()));
        }
        Err(StoreUrlError::Scheme(redact(url)))
    }
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(&url.replace("{data_dir}", "%7Bdata_dir%7D")) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string().replace("%7Bdata_dir%7D", "{data_dir}")
        }
        Ok(_) => url.to_string(),
        // A URL that does not parse (a port out of range, say) may still hold a password:
        // everything before the authority's last '@' is hidden.
        Err(_) => match url.split_once("://") {
            Some((scheme, rest)) => {
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                match rest[..end].rfind('@') {
                    Some(at) => format!("{scheme}://***{}", &rest[at..]),
                    None => url.to_string(),
                }
            }
            None => url.to_string(),
        },
    }
}

/// `url` with `password` set, as `store.password_env` gives it; `{data_dir}` kept as written.
pub fn with_password(url: &str, password: &str) -> Result<String, StoreUrlError> {
    // `{data_dir}` would be percent-encoded by the URL parser: kept aside.
    let mark = "raqib-data-dir-mark";
    let mut parsed =
        url::Url::parse(&url.replace("{data_dir}", mark)).map_err(StoreUrlError::NotAUrl)?;
    parsed
        .set_password(Some(password))
        .map_err(|_| StoreUrlError::NoPassword)?;
    Ok(parsed.to_string().replace(mark, "{data_dir}"))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_is_hidden_even_in_a_url_that_does_not_parse() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
        let bad = redact("postgres://u:secret@h:99999/d");
        assert!(!bad.contains("secret"), "{bad}");
        assert_eq!(bad, "postgres://***@h:99999/d");
        assert_eq!(redact("sqlite:///tmp/x.sqlite"), "sqlite:///tmp/x.sqlite");
        assert_eq!(redact("postgres://h:99999/d"), "postgres://h:99999/d");
    }
}
