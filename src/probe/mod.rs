//! Probes: the things raqib does to a centre, one folder per channel. This file is the one
//! place that lists the channels (`Channel`: its stored name, its words, its outcomes); adding
//! a probe kind adds a variant here and its folder, and the compiler then names each match
//! that must learn it (the kit in `schedule::kit`, the stored result in `store::Probe`).
//!
//! A centre that does not answer is a *result* with an outcome and a reason. `Err` is kept for
//! when raqib itself could not run the probe, which never counts against a centre.

pub mod call;
pub mod web;

use serde::{Deserialize, Serialize};

/// The channels raqib audits. Every place whose behaviour depends on the channel matches on
/// this enum, so a new variant makes the compiler name each of them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Test calls over SIP.
    Phone,
    /// Website checks.
    Web,
}

impl Channel {
    /// Every channel, in the order surfaces show them.
    pub const ALL: [Channel; 2] = [Channel::Phone, Channel::Web];

    /// The stored `channel` text of its results, sweeps and verdicts.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Web => "web",
        }
    }

    /// The channel whose stored text is `s`.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The stored names of all channels, for a refusal: `phone or web`.
    pub fn names() -> String {
        let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// Its name in English, as a column or label.
    pub fn en(self) -> &'static str {
        match self {
            Channel::Phone => "Phone",
            Channel::Web => "Web",
        }
    }

    /// Its name in Arabic, in running text (alerts, reports).
    pub fn ar(self) -> &'static str {
        match self {
            Channel::Phone => "الهاتف",
            Channel::Web => "الموقع الإلكتروني",
        }
    }

    /// Its short Arabic name, as a column or label (the dashboard).
    pub fn ar_label(self) -> &'static str {
        match self {
            Channel::Phone => "الهاتف",
            Channel::Web => "الموقع",
        }
    }

    /// The channel a `[[schedule]]` names (the config, a leaf, has its own copy of the list).
    pub fn of_schedule(c: crate::config::ScheduleChannel) -> Channel {
        match c {
            crate::config::ScheduleChannel::Phone => Channel::Phone,
            crate::config::ScheduleChannel::Web => Channel::Web,
        }
    }

    /// The outcomes its results can have, in the order summaries show them.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            Channel::Web => &["up", "degraded", "down", "error"],
            Channel::Phone => &[
                "answered",
                "busy",
                "no_answer",
                "rejected",
                "not_in_service",
                "unreachable",
                "failed",
                "refused",
                "error",
            ],
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
