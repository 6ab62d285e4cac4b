//! The call probe: a real SIP test call to a centre's number — its timeline, outcome, the
//! audio heard (G.711 decoded, kept as WAV evidence with the SIP trace), RTP quality and a
//! heuristic guess of what answered.
//!
//! The call's life is a state machine (`uac.rs`): Dialing → Proceeding → Ringing → Answered →
//! Hangup(reason), each state carrying the instants reached, taken where the message left or
//! reached the socket; every timing in the result is the difference of two of them. Below it,
//! the SIP layers (`sip/`): transport, client transactions, dialog. The after-answer policy
//! arrives typed (`config::AfterAnswer`), parsed once where the config or the command line
//! is read.

pub mod audio;
pub mod g711;
pub mod ivr;
pub mod media;
pub mod q850;
pub mod quality;
pub mod register;
pub mod rtcp;
pub mod rtp;
pub mod sip;
pub mod srtp;
mod uac;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use self::audio::AnswerType;
use self::sip::transport::UdpEndpoint;
use super::{Channel, ProbeError};
use crate::config::{AfterAnswer, Config, Transport};

/// The embedded notice: "an automated service-quality test call" in Arabic, 8 kHz mono.
pub const NOTICE_WAV: &[u8] = include_bytes!("../../../probes/calls/notice.wav");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Answered,
    Busy,
    NoAnswer,
    Rejected,
    NotInService,
    Unreachable,
    Failed,
    /// The dialling guard refused the number: never dialled.
    Refused,
    /// raqib could not place the call (no socket, no route): never counts.
    Error,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Rejected => "rejected",
            CallOutcome::NotInService => "not_in_service",
            CallOutcome::Unreachable => "unreachable",
            CallOutcome::Failed => "failed",
            CallOutcome::Refused => "refused",
            CallOutcome::Error => "error",
        }
    }

    /// The outcome of a final status (RFC 3261 §21; unknown codes as the x00 of their class).
    pub fn of_status(status: u16) -> CallOutcome {
        match status {
            200..=299 => CallOutcome::Answered,
            486 | 600 => CallOutcome::Busy,
            404 | 484 | 410 | 604 => CallOutcome::NotInService,
            408 => CallOutcome::Failed,
            400..=499 => CallOutcome::Rejected,
            500..=599 => CallOutcome::Failed,
            603 => CallOutcome::Rejected,
            601..=699 => CallOutcome::Busy, // unknown 6xx: as 600 Busy Everywhere
            _ => CallOutcome::Failed,
        }
    }
}

/// Milliseconds from the first INVITE sent; `first_audio` from answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallTimings {
    pub first_response: Option<f64>,
    pub ringing: Option<f64>,
    pub answer: Option<f64>,
    pub first_audio: Option<f64>,
    /// When a person began to speak, after any menu or music (the classifier's finding).
    pub person: Option<f64>,
    pub total: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RtpSummary {
    pub packets: u64,
    pub lost: u64,
    pub loss_pct: f64,
    pub jitter_ms: f64,
    pub mos: f64,
    /// Round trip measured by RTCP (median of the far end's reports), in ms.
    #[serde(default)]
    pub rtt_ms: Option<f64>,
    /// Where the E-model's delay came from: `rtcp`, `rtcp_xr` or `configured`.
    #[serde(default)]
    pub rtt_source: Option<String>,
    /// The one-way delay the MOS was computed with, in ms.
    #[serde(default)]
    pub delay_ms: Option<f64>,
    /// What the far end's RTCP reported about raqib's stream.
    #[serde(default)]
    pub far_end: Option<rtcp::FarEndReport>,
    /// The far end's RTCP-XR VoIP metrics, when it sent them.
    #[serde(default)]
    pub xr: Option<rtcp::XrVoip>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallResult {
    pub channel: Channel,
    pub centre: Option<String>,
    pub target: String,
    #[serde(with = "crate::probe::utc_millis")]
    pub started_at: DateTime<Utc>,
    pub outcome: CallOutcome,
    pub sip_status: Option<u16>,
    pub sip_reason: Option<String>,
    pub timings_ms: CallTimings,
    pub answer_type: Option<AnswerType>,
    pub rtp: Option<RtpSummary>,
    pub recording: Option<String>,
    pub sip_trace: Option<String>,
    /// The E.164 number dialled, when the target was one.
    pub number: Option<String>,
    /// Dialled on demand although not in the registry (`--unlisted`).
    pub unlisted: bool,
    /// How `answer_type` was decided: `heuristic` (audio), later `label` (an auditor).
    pub answer_type_source: Option<String>,
    /// How sure the classifier was of its answer type, 0–1.
    pub answer_type_confidence: Option<f64>,
    /// The classifier's guess when it was too unsure to give it (`answer_type` is `unknown`).
    pub answer_type_guess: Option<AnswerType>,
    /// RTP arrived before the answer (ringback or an announcement as early media).
    pub early_media: bool,
    /// Who ended an answered call: `raqib` or `remote`.
    pub hangup_by: Option<String>,
    /// The policy applied after answer.
    pub after_answer: String,
    /// Each URI a 3xx sent the call to, in order.
    pub redirects: Vec<String>,
    /// The IVR script that ran after answer, if any.
    pub ivr: Option<ivr::IvrReport>,
    /// Whether the centre was open (its hours, its time zone) when the call started; `null`
    /// without a centre. A call outside the hours never counts against a centre.
    pub in_hours: Option<bool>,
    /// A sentence for people: what happened and why it was classified so.
    pub detail: Option<String>,
    /// Special information tones heard (early media or after answer) and what they said.
    #[serde(default)]
    pub sit: Option<audio::sit::SitDetection>,
    /// The Q.850 cause the far end gave (`Reason: Q.850;cause=N`), if any.
    #[serde(default)]
    pub q850: Option<q850::Q850>,
    /// The SIP transport the call went over: `udp`, `tcp` or `tls` (unset before a link).
    #[serde(default)]
    pub transport: Option<String>,
    /// The call's media was SRTP (SDES keys exchanged over TLS, RFC 4568).
    #[serde(default)]
    pub srtp: bool,
}

impl CallResult {
    pub fn counts(&self) -> bool {
        !matches!(self.outcome, CallOutcome::Refused | CallOutcome::Error)
    }
}

/// Whom to call.
#[derive(Debug, Clone)]
pub struct CallTarget {
    /// The Request-URI.
    pub uri: String,
    pub number: Option<String>,
    pub centre: Option<String>,
    pub unlisted: bool,
}

#[derive(Debug, Clone)]
pub struct CallOptions {
    pub ring_timeout: Duration,
    pub after_answer: AfterAnswer,
    /// The script of `ivr:NAME`, loaded before any call is placed.
    pub ivr: Option<Arc<ivr::IvrScript>>,
}

impl CallOptions {
    /// Options with the IVR script of `ivr:NAME` loaded from `scripts_dir`.
    pub fn new(
        ring_timeout: Duration,
        after_answer: AfterAnswer,
        scripts_dir: &Path,
    ) -> Result<CallOptions, ivr::IvrError> {
        let ivr = match &after_answer {
            AfterAnswer::Ivr(name) => Some(Arc::new(ivr::IvrScript::load(name, scripts_dir)?)),
            _ => None,
        };
        Ok(CallOptions {
            ring_timeout,
            after_answer,
            ivr,
        })
    }
}

/// Settings a call needs, resolved once from the config.
pub(crate) struct Settings {
    pub uri_template: String,
    pub outbound_proxy: Option<String>,
    pub transport: Transport,
    pub bind: std::net::SocketAddr,
    pub from: String,
    pub caller_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub classify: Duration,
    /// Under this confidence the answer type is `unknown` (an auditor decides).
    pub min_confidence: f64,
    pub max_redirects: u32,
    pub default_delay_ms: f64,
    pub t1: Duration,
    pub notice: Vec<i16>,
    pub evidence_dir: PathBuf,
    /// Extra CAs trusted for SIP over TLS.
    pub trust_ca_files: Vec<PathBuf>,
    /// Offer and insist on SRTP (only ever over TLS).
    pub srtp: bool,
    /// The TLS client set-up: made at start for a TLS trunk, else on the first TLS call.
    pub tls: tokio::sync::OnceCell<Arc<rustls::ClientConfig>>,
}

/// Places test calls through the configured trunk; clone it freely.
#[derive(Clone)]
pub struct CallProbe {
    settings: Arc<Settings>,
    /// The trunk's UDP socket: bound at start for a UDP trunk, else on the first call whose
    /// Request-URI asks for `transport=udp`.
    udp: Arc<tokio::sync::OnceCell<UdpEndpoint>>,
}

impl CallProbe {
    /// Binds the trunk's UDP socket (for UDP) and loads the notice.
    pub async fn new(config: &Config, evidence_dir: &Path) -> Result<CallProbe, ProbeError> {
        let trunk = &config.trunk;
        let password = match &trunk.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| ProbeError::Secret {
                variable: var.clone(),
            })?),
            None => None,
        };
        let notice_bytes = match &config.call.notice_file {
            Some(p) => std::fs::read(p).map_err(|e| ProbeError::Notice {
                path: p.display().to_string(),
                message: e.to_string(),
            })?,
            None => NOTICE_WAV.to_vec(),
        };
        let notice = read_wav_8k(&notice_bytes).map_err(|e| ProbeError::Notice {
            path: config
                .call
                .notice_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "probes/calls/notice.wav".into()),
            message: e.to_string(),
        })?;
        let udp = match trunk.transport {
            Transport::Udp => {
                tokio::sync::OnceCell::new_with(Some(UdpEndpoint::bind(trunk.bind).await.map_err(
                    |source| ProbeError::Bind {
                        addr: trunk.bind,
                        source,
                    },
                )?))
            }
            Transport::Tcp | Transport::Tls => tokio::sync::OnceCell::new(),
        };
        // A TLS trunk whose trust settings cannot be read does not start.
        let tls = match trunk.transport {
            Transport::Tls => tokio::sync::OnceCell::new_with(Some(sip::tls::client_config(
                &trunk.trust_ca_files,
            )?)),
            _ => tokio::sync::OnceCell::new(),
        };
        Ok(CallProbe {
            settings: Arc::new(Settings {
                uri_template: trunk.uri_template.clone(),
                outbound_proxy: trunk.outbound_proxy.clone(),
                transport: trunk.transport,
                bind: trunk.bind,
                from: trunk.from.clone(),
                caller_id: trunk.caller_id.clone(),
                username: trunk.username.clone(),
                password,
                classify: Duration::from_secs(config.call.classify_secs),
                min_confidence: config.call.min_confidence,
                max_redirects: config.call.max_redirects,
                default_delay_ms: config.call.default_delay_ms,
                t1: Duration::from_millis(config.call.timer_t1_ms),
                notice,
                evidence_dir: evidence_dir.to_path_buf(),
                trust_ca_files: trunk.trust_ca_files.clone(),
                srtp: trunk.srtp,
                tls,
            }),
            udp: Arc::new(udp),
        })
    }

    /// Registers with the trunk once; with `refresh`, keeps the registration alive (at 80 %
    /// of the granted time) for as long as this probe lives.
    pub async fn register(
        &self,
        expires: u32,
        refresh: bool,
    ) -> Result<register::Registration, ProbeError> {
        let Some(udp) = self.udp.get() else {
            return Err(ProbeError::Register(
                "REGISTER is sent over UDP only".into(),
            ));
        };
        let call_id = format!("{}@raqib-register", sip::random::token());
        let mut cseq = 0;
        let first = register::register(&self.settings, udp, &call_id, &mut cseq, expires).await;
        if first.ok && refresh {
            let (settings, udp) = (self.settings.clone(), udp.clone());
            let mut granted = first.expires.unwrap_or(expires);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs((granted as u64 * 4 / 5).max(1))).await;
                    let r = register::register(&settings, &udp, &call_id, &mut cseq, expires).await;
                    if !r.ok {
                        tracing::warn!(
                            "registration refresh failed: {}",
                            r.detail.unwrap_or_default()
                        );
                    }
                    granted = r.expires.unwrap_or(60);
                }
            });
        }
        Ok(first)
    }

    /// The Request-URI for an E.164 number through the trunk.
    pub fn uri_for(&self, number: &str) -> String {
        self.settings.uri_template.replace("{number}", number)
    }

    /// Places one call. A centre that does not answer is a result; so is raqib's own failure
    /// (outcome `error`), which never counts against a centre.
    pub async fn call(&self, target: &CallTarget, opts: &CallOptions) -> CallResult {
        uac::place(&self.settings, &self.udp, target, opts).await
    }

    /// A stored result for a number the guard refused: it was never dialled.
    pub fn refused(
        &self,
        target: &CallTarget,
        why: String,
        after_answer: &AfterAnswer,
    ) -> CallResult {
        let mut r = CallResult::start(target, after_answer.to_string());
        r.outcome = CallOutcome::Refused;
        r.detail = Some(why);
        r
    }
}

impl CallResult {
    /// A result for `target` before anything happened (outcome `error` until decided).
    pub fn start(target: &CallTarget, after_answer: String) -> CallResult {
        CallResult {
            channel: Channel::Phone,
            centre: target.centre.clone(),
            target: target.uri.clone(),
            started_at: Utc::now(),
            outcome: CallOutcome::Error,
            sip_status: None,
            sip_reason: None,
            timings_ms: CallTimings::default(),
            answer_type: None,
            rtp: None,
            recording: None,
            sip_trace: None,
            number: target.number.clone(),
            unlisted: target.unlisted,
            answer_type_source: None,
            answer_type_confidence: None,
            answer_type_guess: None,
            early_media: false,
            hangup_by: None,
            after_answer,
            redirects: Vec::new(),
            ivr: None,
            in_hours: None,
            detail: None,
            sit: None,
            q850: None,
            transport: None,
            srtp: false,
        }
    }

    /// Notes whether `centre` was open when the call started.
    pub fn mark_hours(&mut self, centre: Option<&crate::registry::Centre>) {
        self.in_hours = centre.map(|c| c.is_open_at(self.started_at));
    }
}

/// Reads a WAV as 8 kHz mono 16-bit samples (other rates and widths are refused).
pub fn read_wav_8k(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes))?;
    let spec = reader.spec();
    if spec.sample_rate != 8000 || spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(WavError::Format {
            rate: spec.sample_rate,
            channels: spec.channels,
            bits: spec.bits_per_sample,
        });
    }
    Ok(reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()?)
}

/// A WAV that cannot be played into a call.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{0}")]
    Read(#[from] hound::Error),
    #[error("must be 8 kHz mono 16-bit (is {rate} Hz, {channels} channel(s), {bits} bits)")]
    Format { rate: u32, channels: u16, bits: u16 },
}
