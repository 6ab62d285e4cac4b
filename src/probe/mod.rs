//! Probes: the things raqib does to a centre, one folder per channel. This file is the one
//! place that lists the channels; adding a probe kind adds a variant here and its folder.
//!
//! A centre that does not answer is a *result* with an outcome and a reason. `Err` is kept for
//! when raqib itself could not run the probe, which never counts against a centre.

pub mod call;
pub mod web;

use serde::{Deserialize, Serialize};

/// The channels raqib audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Test calls over SIP.
    Phone,
    /// Website checks.
    Web,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Web => "web",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot load trusted certificates from {path}: {message}")]
    TrustStore { path: String, message: String },
    #[error("TLS set-up failed: {0}")]
    TlsSetup(String),
    #[error("the environment variable {variable} (named by password_env) is not set")]
    Secret { variable: String },
    #[error("registration with the trunk failed: {0}")]
    Register(String),
    #[error("cannot use the notice {path}: {message}")]
    Notice { path: String, message: String },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("local resource exhausted while probing {target}: {source}")]
    Local {
        target: String,
        #[source]
        source: std::io::Error,
    },
}

/// Timestamps in results: RFC 3339, UTC, milliseconds.
pub mod utc_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Milliseconds with microsecond resolution, as results report durations.
/// The stored code of a value (an outcome, a reason: how serde writes it), for printing.
pub fn code_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
