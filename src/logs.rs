//! The service's log: one `tracing` subscriber for raqib's own events and for its libraries'
//! (sqlx and rustls write through the `log` crate, bridged here), filtered by `RUST_LOG`,
//! written to stderr as text for a terminal or journald, or as one JSON object a line for a
//! log shipper.
//!
//! Events carry their context as fields (`sweep`, `job`, `centre`, `agent`, `request`), not
//! only in the text, so that a shipper can select one sweep's or one request's lines. No event
//! names a secret: URLs go through `redact`, passwords and tokens are never a field.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::format::FmtSpan;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL target: message field=value …`, for people and journald
    #[default]
    Text,
    /// One JSON object a line (`timestamp`, `level`, `target`, `fields`, `spans`)
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("RUST_LOG: {0} (e.g. RUST_LOG=info or RUST_LOG=raqib=debug,sqlx=warn)")]
    Filter(String),
    #[error("a log subscriber is already installed")]
    Installed,
}

/// The filter when `RUST_LOG` is unset: raqib's events and the libraries' warnings.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the subscriber for this process; `RUST_LOG` (e.g. `raqib=debug,sqlx=warn`)
/// overrides [`DEFAULT_FILTER`].
pub fn init(format: LogFormat) -> Result<(), LogsError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .parse(spec.trim())
            .map_err(|e| LogsError::Filter(e.to_string()))?,
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::NONE);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
    installed.map_err(|_| LogsError::Installed)
}
