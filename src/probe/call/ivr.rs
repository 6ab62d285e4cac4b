//! IVR scripts (`probes/calls/NAME.toml`): what to press, and when, to get through a centre's
//! menu — after the prompt falls silent or after a fixed pause — sent as RFC 4733 events.
//!
//! ```toml
//! description = "Arabic, then an agent"
//! reaches_agent = true          # the script's end is a person (SCORING.md §2)
//! [[step]]
//! after = "silence"             # the prompt stopped for silence_ms; or "1500ms" / "2s"
//! digits = "1"
//! [[step]]
//! after = "2s"
//! digits = "0"
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Scripts that ship inside the binary, for the lab.
const EMBEDDED: &[(&str, &str)] = &[(
    "lab-agent",
    include_str!("../../../probes/calls/lab-agent.toml"),
)];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IvrScript {
    /// What the script is for.
    #[serde(default)]
    pub description: String,
    /// Whether the end of the script is a person.
    #[serde(default)]
    pub reaches_agent: bool,
    /// Silence that counts as "the prompt stopped", in ms.
    #[serde(default = "default_silence")]
    pub silence_ms: u64,
    /// Longest wait for a step's condition before its digits are sent anyway, in seconds.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: u64,
    /// Seconds to listen after the last step.
    #[serde(default = "default_listen")]
    pub listen_secs: u64,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `silence`, or a pause like `1500ms` or `2s` (from the previous step or the answer).
    pub after: String,
    /// DTMF digits: 0-9, *, #, A-D.
    pub digits: String,
}

fn default_silence() -> u64 {
    800
}
fn default_max_wait() -> u64 {
    20
}
fn default_listen() -> u64 {
    8
}

/// A step's `after` that says neither silence nor a pause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("after = '{0}': use \"silence\", \"1500ms\" or \"2s\"")]
pub struct BadAfter(pub String);

/// An IVR script that cannot be used; each names where it came from.
#[derive(Debug, thiserror::Error)]
pub enum IvrError {
    #[error("no IVR script {0} (and none embedded)")]
    NotFound(String),
    #[error("{origin}: {source}")]
    Toml {
        origin: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{0}: no [[step]]")]
    NoSteps(String),
    #[error("{origin}: {source}")]
    After {
        origin: String,
        #[source]
        source: BadAfter,
    },
    #[error("{origin}: digits = '{digits}': 0-9, *, #, A-D")]
    Digits { origin: String, digits: String },
}

/// A step's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Silence,
    Pause(Duration),
}

impl Step {
    pub fn condition(&self) -> Result<After, BadAfter> {
        let a = self.after.trim();
        if a == "silence" {
            return Ok(After::Silence);
        }
        let ms = if let Some(n) = a.strip_suffix("ms") {
            n.trim().parse::<u64>().ok()
        } else if let Some(n) = a.strip_suffix('s') {
            n.trim().parse::<f64>().ok().map(|s| (s * 1000.0) as u64)
        } else {
            None
        };
        ms.filter(|m| *m <= 120_000)
            .map(|m| After::Pause(Duration::from_millis(m)))
            .ok_or_else(|| BadAfter(a.to_string()))
    }
}

/// What the result says about the script that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IvrReport {
    pub script: String,
    pub digits_sent: String,
    pub reaches_agent: bool,
    /// Why digits could not be sent (no telephone-event in the answer), if so.
    pub problem: Option<String>,
}

impl IvrScript {
    /// Loads `DIR/NAME.toml`, else an embedded script of that name.
    pub fn load(name: &str, dir: &Path) -> Result<IvrScript, IvrError> {
        let path = dir.join(format!("{name}.toml"));
        let (text, origin) = match std::fs::read_to_string(&path) {
            Ok(t) => (t, path.display().to_string()),
            Err(_) => match EMBEDDED.iter().find(|(n, _)| *n == name) {
                Some((_, t)) => (t.to_string(), format!("<embedded {name}>")),
                None => return Err(IvrError::NotFound(path.display().to_string())),
            },
        };
        let script: IvrScript = match toml::from_str(&text) {
            Ok(s) => s,
            Err(source) => return Err(IvrError::Toml { origin, source }),
        };
        if script.steps.is_empty() {
            return Err(IvrError::NoSteps(origin));
        }
        for s in &script.steps {
            if let Err(source) = s.condition() {
                return Err(IvrError::After { origin, source });
            }
            if s.digits.is_empty()
                || !s
                    .digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c))
            {
                return Err(IvrError::Digits {
                    origin,
                    digits: s.digits.clone(),
                });
            }
        }
        Ok(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_lab_script_loads() {
        let s = IvrScript::load("lab-agent", Path::new("/nonexistent")).unwrap();
        assert!(s.reaches_agent);
        assert_eq!(s.steps[0].condition().unwrap(), After::Silence);
        assert!(IvrScript::load("nope", Path::new("/nonexistent")).is_err());
        let step = Step {
            after: "1.5s".into(),
            digits: "1".into(),
        };
        assert_eq!(
            step.condition().unwrap(),
            After::Pause(Duration::from_millis(1500))
        );
    }
}
