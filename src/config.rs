//! Typed configuration: the one TOML file every command reads first.
//!
//! Every section is a `<Name>Config` struct with `deny_unknown_fields`, a `///` line per field
//! and its defaults in `Default`. Errors name the file, the line and column, and the dotted key,
//! so a user can go straight to the mistake. Secrets never live in the file: a field that needs
//! one names an environment variable (`*_env`).

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The embedded default configuration: a demo over the local lab centres.
pub const EMBEDDED: &str = include_str!("../config/raqib.toml");
/// The name under which the embedded default is reported in errors and `--help`.
pub const EMBEDDED_NAME: &str = "<embedded config/raqib.toml>";
/// Where the configuration is looked for when neither `--config` nor `RAQIB_CONFIG` is given.
pub const DEFAULT_PATH: &str = "config/raqib.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A syntax, type or unknown-key error, or a value that `validate()` refused.
    #[error("{file}:{line}:{column}: {key}{sep}{message}", sep = if key.is_empty() { "" } else { ": " })]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        /// Dotted path of the offending key (`web.timeout_ms`), empty when not known.
        key: String,
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where results and evidence are kept.
    pub store: StoreConfig,
    /// The centre registry.
    pub registry: RegistryConfig,
    /// HTTP availability checks of centres' websites.
    pub web: WebConfig,
    /// The browser audit of centres' websites: timings, screenshot, accessibility, Arabic checks.
    pub browser: BrowserConfig,
    /// The simulated centres that `raqib lab` serves on loopback.
    pub lab: LabConfig,
    /// The SIP trunk test calls go out through.
    pub trunk: TrunkConfig,
    /// How a test call is placed and what it does after answer.
    pub call: CallConfig,
    /// What may be dialled, and how often.
    pub guard: GuardConfig,
    /// The methodology's constants (../shared/SCORING.md), each with its documented default.
    pub scoring: ScoringConfig,
    /// How `raqib serve` runs its schedules.
    pub serve: ServeConfig,
    /// The dashboard and API of `raqib serve --listen`: connection limits, sign-in limits, cookies.
    pub server: ServerConfig,
    /// This process as an agent of a shared store.
    pub agent: AgentConfig,
    /// Sweeps `raqib serve` starts on their own (`[[schedule]]` entries).
    pub schedule: Vec<ScheduleConfig>,
    /// Dates without calls, per country (ISO 3166 code, e.g. `JO`) or time zone name:
    /// `JO = ["2026-12-25", "hijri:10-01..10-03"]`; `hijri:MM-DD` (or a run `MM-DD..MM-DD`)
    /// recurs every Hijri year by the Umm al-Qura calendar (Eid al-Fitr, Eid al-Adha).
    pub holidays: std::collections::BTreeMap<String, Vec<HolidayDate>>,
    /// Flags, escalations and resolutions sent to agency leadership.
    pub alerts: AlertsConfig,
    /// The period report's cover, header and footer.
    pub report: ReportConfig,
    /// How long evidence files are kept (`raqib store prune`, run daily by `serve`).
    pub retention: RetentionConfig,
}

/// `[retention]`: days each kind of evidence file is kept after its result, `0` for ever.
/// The result's row, its measurements and the verdicts stay; the row then says which of its
/// evidence expired and when.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Call recordings (WAV, about 16 kB a second).
    pub recordings_days: u32,
    /// SIP traces of calls.
    pub traces_days: u32,
    /// Full-page screenshots of audited pages.
    pub screenshots_days: u32,
}

impl Default for RetentionConfig {
    /// A year and a month: a year's report and the comparison with the year before can still
    /// show the evidence of the period's last calls.
    fn default() -> Self {
        Self {
            recordings_days: 400,
            traces_days: 400,
            screenshots_days: 400,
        }
    }
}

/// `[report]`: who issues the period report and how it is marked.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// The issuing unit, in English, on the cover and every printed page.
    pub issuer: Option<String>,
    /// The issuing unit in Arabic [default: `issuer`].
    pub issuer_ar: Option<String>,
    /// The classification marking (`Official — internal use`), on the cover and every page.
    pub classification: Option<String>,
    /// The classification marking in Arabic [default: `classification`].
    pub classification_ar: Option<String>,
    /// The date of issue is given in this time zone [default: UTC].
    pub timezone: TzName,
}

/// A crontab(5) expression, checked when the config is read.
#[derive(Debug, Clone, PartialEq)]
pub struct CronExpr(pub String);

/// The types read from a string are written back as that string (`raqib config check`).
macro_rules! serialize_as_text {
    ($($t:ty => |$v:ident| $text:expr;)*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                s.serialize_str(&$text)
            }
        }
    )*};
}

serialize_as_text! {
    CronExpr => |v| v.0;
    TzName => |v| v.0.name();
    HolidayDate => |v| v.to_string();
    AfterAnswer => |v| v.to_string();
}

impl<'de> Deserialize<'de> for CronExpr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::cron::CronSchedule::parse(&s, chrono_tz::UTC)
            .map_err(|e| serde::de::Error::custom(e.message))?;
        Ok(CronExpr(s))
    }
}

/// An IANA time zone name, checked when the config is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TzName(pub chrono_tz::Tz);

impl Default for TzName {
    fn default() -> Self {
        TzName(chrono_tz::UTC)
    }
}

impl<'de> Deserialize<'de> for TzName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<chrono_tz::Tz>().map(TzName).map_err(|_| {
            serde::de::Error::custom(format!("'{s}' is not an IANA time zone (e.g. Asia/Amman)"))
        })
    }
}

/// A `[holidays]` entry, checked when the config is read: a `YYYY-MM-DD` date, or a Hijri day
/// or run of days that recurs every year (`hijri:10-01..10-03`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HolidayDate {
    Day(chrono::NaiveDate),
    Hijri(crate::hijri::HijriHoliday),
}

impl fmt::Display for HolidayDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HolidayDate::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            HolidayDate::Hijri(h) => h.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for HolidayDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.starts_with("hijri:") {
            return s
                .parse()
                .map(HolidayDate::Hijri)
                .map_err(|e: crate::hijri::HijriError| serde::de::Error::custom(e.0));
        }
        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(HolidayDate::Day)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{s}' is not a YYYY-MM-DD date or a Hijri day like hijri:10-01"
                ))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleChannel {
    #[default]
    Web,
    Phone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WhenClosedCfg {
    /// No call to a closed centre this run.
    #[default]
    Skip,
    /// Call it in its next opening window.
    Defer,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Names the schedule in sweeps and logs; unique.
    pub name: String,
    /// crontab(5): `m h dom mon dow`, or six fields with seconds first; names allowed.
    pub cron: CronExpr,
    /// The time zone the expression is read in.
    #[serde(default)]
    pub timezone: TzName,
    pub channel: ScheduleChannel,
    /// Centre ids, shell globs, comma-separated.
    #[serde(default = "all_centres")]
    pub centres: String,
    /// Only this agency's centres.
    pub agency: Option<String>,
    /// Only this region's centres.
    pub region: Option<String>,
    /// Only centres carrying every one of these tags (the registry's `tags` column).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Phone: a centre closed when the schedule fires is skipped or deferred to its next window.
    #[serde(default)]
    pub when_closed: WhenClosedCfg,
    /// Phone: calls are spread at random over at most this many minutes of the open window.
    #[serde(default = "default_spread")]
    pub spread_minutes: u64,
    /// Only agents carrying every one of these tags run this schedule's jobs (e.g.
    /// `["carrier=mobile"]`: the same centres called through a mobile gateway).
    #[serde(default)]
    pub agent_tags: Vec<String>,
}

fn all_centres() -> String {
    "*".into()
}

fn default_spread() -> u64 {
    120
}

/// `[alerts]`: what every notifier shares. Each notifier kind's own keys (`[alerts.smtp]`;
/// a contact's `email`, `webhook`, `format`) are typed and checked in its file under
/// `src/alert/`, which reads them from `notifier`; a key no kind claims is refused as unknown.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AlertsConfig {
    /// The sender of alert emails, `Name <address>` or an address.
    pub from: String,
    /// Evidence links: `{id}` is replaced by the result id (e.g. the dashboard's result page).
    /// Without it, alerts name the evidence files in the store.
    pub evidence_url: Option<String>,
    /// `raqib serve` also evaluates alerts on this crontab(5) schedule (besides after each
    /// sweep), in `digest_timezone`.
    pub digest: Option<CronExpr>,
    pub digest_timezone: TzName,
    /// The period `raqib serve` (and `alerts run` without --period) evaluates: the current
    /// `month` or `quarter`.
    pub period: AlertPeriod,
    /// A failed delivery is tried again after `retry_secs`, doubling each time (at most an
    /// hour), up to `retry_attempts` tries in all; then it is recorded as failed.
    pub retry_attempts: u32,
    pub retry_secs: u64,
    /// Who is told: `[[alerts.contact]]` entries.
    pub contact: Vec<ContactConfig>,
    /// The notifier kinds' own tables (`smtp`), as written; `alert::notifier` reads them.
    #[serde(flatten)]
    pub notifier: toml::Table,
}

/// `[alerts]` keys shared by every notifier, in the order an unknown-key error lists them
/// (the notifier kinds' own tables go before `contact`).
const ALERTS_KEYS: [&[&str]; 2] = [
    &[
        "from",
        "evidence_url",
        "digest",
        "digest_timezone",
        "period",
        "retry_attempts",
        "retry_secs",
    ],
    &["contact"],
];

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            from: "raqib <raqib@localhost>".into(),
            evidence_url: None,
            digest: None,
            digest_timezone: TzName::default(),
            period: AlertPeriod::Month,
            retry_attempts: 6,
            retry_secs: 60,
            contact: Vec::new(),
            notifier: toml::Table::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlertPeriod {
    #[default]
    Month,
    Quarter,
}

/// One `[[alerts.contact]]`: who, for which agency, in which language; how to reach them is
/// one notifier kind's address key (`email`, `webhook`) and options, kept in `notifier`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct ContactConfig {
    /// Names the contact in logs and `raqib alerts`.
    pub name: Option<String>,
    /// The agency whose centres this contact hears about, or `*` for all.
    pub agency: String,
    /// `ar`, `en` or `both`.
    #[serde(default)]
    pub lang: AlertLang,
    /// On the escalation list: told only when a follow-up case is overdue.
    #[serde(default)]
    pub escalation: bool,
    /// The notifier kind's keys, as written: exactly one address key (`email = ...` or
    /// `webhook = ...`) and that kind's options (`format`).
    #[serde(flatten)]
    pub notifier: toml::Table,
}

/// Contact keys shared by every notifier, in the order an unknown-key error lists them (the
/// notifier kinds' keys go between the two).
const CONTACT_KEYS: [&[&str]; 2] = [&["name", "agency"], &["lang", "escalation"]];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlertLang {
    #[default]
    Ar,
    En,
    Both,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// A run missed while raqib serve was down is made once at start-up if it fell due within
    /// this many minutes.
    pub grace_minutes: u64,
    /// Phone calls are placed no later than this many seconds before a centre closes.
    pub call_margin_secs: u64,
    /// An agent holds each job it runs under a lease of this many seconds, renewed every third
    /// of it; a job whose agent died is taken by another agent once its lease runs out.
    pub lease_secs: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            grace_minutes: 60,
            call_margin_secs: 120,
            lease_secs: 60,
        }
    }
}

/// The HTTP server of `raqib serve --listen` (and `--metrics-listen`): how long a client may
/// take, how much it may send, how many may connect, and how sign-in failures are slowed.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A request's head (request line and headers) must arrive within this many seconds of the
    /// server starting to wait for it; this also closes a kept-alive connection that sends no
    /// next request for this long.
    pub header_read_timeout_secs: u64,
    /// A request's body must arrive whole within this many seconds of its head.
    pub body_timeout_secs: u64,
    /// A connection with no request in progress and no byte moving either way for this many
    /// seconds is closed (e.g. a client that stops reading its response).
    pub idle_timeout_secs: u64,
    /// The largest request body accepted, in bytes (forms and JSON); larger is refused with 413.
    pub max_body_bytes: usize,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Mark every cookie `Secure` (raqib behind a TLS proxy).
    pub secure_cookies: bool,
    /// Addresses of reverse proxies whose `X-Forwarded-Proto: https` makes cookies `Secure` and
    /// whose `X-Forwarded-For` names the client; from any other address these headers are
    /// ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed sign-ins of one user name within the window before its sign-ins are delayed.
    pub signin_user_failures: u32,
    /// Failed sign-ins from one client address within the window before its sign-ins are
    /// delayed (higher than per user: offices share an address).
    pub signin_address_failures: u32,
    /// How far back failed sign-ins count, in seconds.
    pub signin_window_secs: u64,
    /// The first delay once a limit is reached, in seconds; it doubles with each further failure.
    pub signin_delay_secs: u64,
    /// The longest delay, in seconds.
    pub signin_max_delay_secs: u64,
    /// The dashboard's address as readers reach it (`https://raqib.unit.gov.example`): alerts
    /// link to the flagged result there. `serve` refuses alert contacts without it.
    pub public_url: Option<String>,
    /// The environment variable holding the bearer token `/metrics` then demands (never the
    /// token itself); without it `/metrics` answers anyone who reaches its address.
    pub metrics_token_env: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            body_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_body_bytes: 64 * 1024,
            max_connections: 256,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            signin_user_failures: 5,
            signin_address_failures: 20,
            signin_window_secs: 900,
            signin_delay_secs: 1,
            signin_max_delay_secs: 900,
            public_url: None,
            metrics_token_env: None,
        }
    }
}

/// This process as one of several agents sharing a store (`raqib serve --agent NAME`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The agent's name, unique among the store's agents [default: the host name].
    pub name: Option<String>,
    /// What this agent is: `carrier=mobile`, `region=north`; a schedule's `agent_tags` pick
    /// the agents that run its jobs.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrunkConfig {
    /// Request-URI of a call; `{number}` is the E.164 number, e.g. `sip:{number}@trunk.example`.
    pub uri_template: String,
    /// Send every request to this proxy (`host:port`) instead of the Request-URI's host.
    pub outbound_proxy: Option<String>,
    /// `udp` or `tcp`.
    pub transport: Transport,
    /// Local address for SIP and RTP (port 0: any free port).
    pub bind: SocketAddr,
    /// From URI of test calls.
    pub from: String,
    /// Caller id shown to the centre (the From display name), if any.
    pub caller_id: Option<String>,
    /// Digest authentication user name.
    pub username: Option<String>,
    /// Environment variable that holds the digest password (never the password itself).
    pub password_env: Option<String>,
    /// Register with the trunk before calling, and refresh the registration.
    pub register: bool,
    /// Registration lifetime asked for, in seconds.
    pub register_expires: u32,
    /// Calls in progress at once through this trunk.
    pub max_channels: usize,
    /// The trunk's country calling code (`962`): a national number (`06 500 0131`) in a
    /// target is read in it. Unset: a national number is dialled only when it is one of the
    /// registry's numbers.
    pub country_code: Option<String>,
}

impl Default for TrunkConfig {
    fn default() -> Self {
        Self {
            uri_template: "sip:{number}@127.0.0.1:5070".into(),
            outbound_proxy: None,
            transport: Transport::Udp,
            bind: "127.0.0.1:0".parse().unwrap(),
            from: "sip:raqib@127.0.0.1".into(),
            caller_id: None,
            username: None,
            password_env: None,
            register: false,
            register_expires: 600,
            max_channels: 8,
            country_code: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallConfig {
    /// Seconds of ringing before the call is cancelled as `no_answer`.
    pub ring_timeout_secs: u64,
    /// After answer: `hangup`, `notice`, `listen:SECS` or `ivr:NAME` (a script in probes/calls/).
    pub after_answer: AfterAnswer,
    /// The notice played by `notice` (8 kHz mono 16-bit WAV); unset: the embedded Arabic one.
    pub notice_file: Option<PathBuf>,
    /// Seconds of audio after answer that the answer-type classifier listens to (at most).
    pub classify_secs: u64,
    /// Under this confidence (0–1) a call's answer type is `unknown` and waits for an
    /// auditor's label; `unknown` never counts as reaching a person.
    pub min_confidence: f64,
    /// 3xx redirects followed before the call fails.
    pub max_redirects: u32,
    /// One-way delay assumed by the E-model when RTCP gives none, in milliseconds.
    pub default_delay_ms: f64,
    /// Directory of IVR scripts (`NAME.toml`).
    pub scripts_dir: PathBuf,
    /// SIP timer T1 in milliseconds (RFC 3261: 500): UDP retransmissions start here and an
    /// unanswered INVITE gives up after 64·T1 (`unreachable`).
    pub timer_t1_ms: u64,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            ring_timeout_secs: 60,
            after_answer: AfterAnswer::Notice,
            notice_file: None,
            classify_secs: 60,
            min_confidence: 0.5,
            max_redirects: 3,
            default_delay_ms: 100.0,
            scripts_dir: PathBuf::from("probes/calls"),
            timer_t1_ms: 500,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    /// Ring time (INVITE → 200 OK) with full marks, in seconds.
    pub ring_full_secs: f64,
    /// Ring time with zero marks, in seconds.
    pub ring_zero_secs: f64,
    /// Time from answer to a person with full marks, in seconds.
    pub person_full_secs: f64,
    /// Time from answer to a person with zero marks, in seconds.
    pub person_zero_secs: f64,
    /// MOS with full marks.
    pub mos_full: f64,
    /// MOS with zero marks.
    pub mos_zero: f64,
    /// A call's points: network answer, ring time, reached a person, time to a person, voice
    /// quality (they must sum to 100).
    pub call_weights: [f64; 5],
    /// A call that reached no person scores at most this.
    pub no_person_cap: f64,
    /// Availability (% of good checks) with full marks.
    pub availability_full_pct: f64,
    /// Availability with zero marks.
    pub availability_zero_pct: f64,
    /// Largest Contentful Paint with full marks, in ms.
    pub lcp_full_ms: f64,
    /// Largest Contentful Paint with zero marks, in ms.
    pub lcp_zero_ms: f64,
    /// Web score weights: availability, performance, accessibility (sum 1).
    pub web_weights: [f64; 3],
    /// Overall index weights: phone, web (sum 1).
    pub overall_weights: [f64; 2],
    /// Scores at or above this are "excellent".
    pub band_excellent: f64,
    /// Scores at or below this are "weak".
    pub band_weak: f64,
    /// The gold list's cut-off on every channel.
    pub gold: f64,
    /// The silver list's cut-off on every channel.
    pub silver: f64,
    /// A phone score at or below this flags the centre (inclusive).
    pub threshold: f64,
    /// Confidence of every interval.
    pub confidence: f64,
    /// Valid calls needed in a period of up to 31 days to flag or clear a centre.
    pub min_calls_month: u64,
    /// Valid calls needed in a longer period (a quarter) to flag or clear a centre.
    pub min_calls_quarter: u64,
    /// Valid calls per centre per quarter at most (extra calls for provisional flags stop here).
    pub max_calls_quarter: u64,
    /// Reaching a person within this many seconds of dialling meets the service level.
    pub service_level_secs: f64,
    /// A change of at least this many points (with its interval excluding 0) is a trend.
    pub trend_delta: f64,
    /// Days a follow-up case has before it is overdue.
    pub follow_up_days: i64,
    /// Web downtime longer than this (hours) is a critical flag.
    pub site_down_critical_hours: f64,
    /// Bootstrap resamples per interval.
    pub bootstrap_resamples: usize,
    /// The bootstrap's seed: the same data and seed give the same intervals.
    pub seed: u64,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            ring_full_secs: 20.0,
            ring_zero_secs: 60.0,
            person_full_secs: 60.0,
            person_zero_secs: 300.0,
            mos_full: 4.0,
            mos_zero: 3.1,
            call_weights: [25.0, 15.0, 30.0, 15.0, 15.0],
            no_person_cap: 55.0,
            availability_full_pct: 99.9,
            availability_zero_pct: 98.0,
            lcp_full_ms: 2500.0,
            lcp_zero_ms: 4000.0,
            web_weights: [0.4, 0.3, 0.3],
            overall_weights: [0.6, 0.4],
            band_excellent: 85.0,
            band_weak: 60.0,
            gold: 90.0,
            silver: 80.0,
            threshold: 60.0,
            confidence: 0.95,
            min_calls_month: 5,
            min_calls_quarter: 20,
            max_calls_quarter: 40,
            service_level_secs: 20.0,
            trend_delta: 5.0,
            follow_up_days: 100,
            site_down_critical_hours: 24.0,
            bootstrap_resamples: 2000,
            seed: 6076,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// E.164 prefixes that may be dialled (`+962`); a number matching none is never dialled.
    pub allow_prefixes: Vec<String>,
    /// Calls to one number per day (in the centre's time zone) at most.
    pub max_calls_per_number_per_day: i64,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            allow_prefixes: Vec::new(),
            max_calls_per_number_per_day: 3,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the SQLite file (`raqib.sqlite`) and of evidence files; relative to the
    /// current directory. `--data-dir` and `RAQIB_DATA_DIR` override it.
    pub data_dir: PathBuf,
    /// `postgres://USER@HOST/DB` to keep everything but evidence files in PostgreSQL (several
    /// agents share one); unset: SQLite in `data_dir`. `--store` and `RAQIB_STORE` override it.
    pub url: Option<String>,
    /// The environment variable holding the PostgreSQL password of `url` (never in the file).
    pub password_env: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            url: None,
            password_env: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// CSV of centres that `raqib demo` and `raqib lab` use; unset means the embedded
    /// `config/centres.csv` (sample centres whose numbers and sites point at the lab).
    pub sample_centres: Option<PathBuf>,
}

/// What a page must contain to count as the centre's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContentCheck {
    /// No content check.
    #[default]
    None,
    /// The body must contain the centre's Arabic name.
    NameAr,
    /// The body must contain the centre's English name.
    NameEn,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// A check fails with reason `timeout` when the whole body has not arrived in this time
    /// (redirects included), in milliseconds.
    pub timeout_ms: u64,
    /// Redirects followed before the check fails with reason `http_status`.
    pub max_redirects: u32,
    /// A check that succeeds but takes longer than this (ms, start to end of body) is `degraded`.
    pub slow_ms: u64,
    /// A certificate that expires within this many days makes the check `degraded`.
    pub tls_warn_days: i64,
    /// Checks in flight at once during a sweep.
    pub concurrency: usize,
    /// Bodies are read up to this size; the rest is not downloaded.
    pub max_body_bytes: usize,
    /// `User-Agent` header sent with every check.
    pub user_agent: String,
    /// The content check applied to centres' websites in sweeps and centre probes.
    pub content_check: ContentCheck,
    /// Extra PEM files of certificate authorities to trust beside the system's.
    pub trust_ca_files: Vec<PathBuf>,
    /// Trust the lab's own certificate authority (for demos against `raqib lab`).
    pub trust_lab_ca: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            max_redirects: 10,
            slow_ms: 3_000,
            tls_warn_days: 14,
            concurrency: 16,
            max_body_bytes: 8 * 1024 * 1024,
            user_agent: concat!(
                "raqib/",
                env!("CARGO_PKG_VERSION"),
                " (service-quality audit)"
            )
            .to_string(),
            content_check: ContentCheck::None,
            trust_ca_files: Vec::new(),
            trust_lab_ca: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserConfig {
    /// Open each site in headless Chromium after its HTTP check (`--no-browser` turns it off).
    pub enabled: bool,
    /// The Chromium executable.
    pub path: PathBuf,
    /// Extra Chromium flags, after raqib's own (e.g. `--lang=ar`, `--proxy-server=…`).
    pub args: Vec<String>,
    /// Pages audited at once (tabs of the one browser).
    pub tabs: usize,
    /// A page's whole audit (load, axe, screenshot) must end within this time (ms); a page
    /// that overruns is given up, and a browser that stops answering is restarted.
    pub page_timeout_ms: u64,
    /// The audit waits this long (ms) for the load event, then audits what has arrived.
    pub load_timeout_ms: u64,
    /// Another axe-core's `axe.min.js` instead of the one built into raqib; a relative path is
    /// tried from the current directory, then from raqib's source tree.
    pub axe_path: Option<PathBuf>,
    /// axe-core tags to run: WCAG 2.2 A and AA by default.
    pub axe_tags: Vec<String>,
    /// Pages audited per site besides its home page (sitemap first, else the home page's links).
    pub pages_per_site: usize,
    /// How many links deep the crawl follows from the home page when there is no sitemap.
    pub crawl_depth: u32,
    /// Keep a full-page PNG of each audited page as evidence.
    pub screenshots: bool,
    /// Full-page screenshots are cut at this height in CSS pixels.
    pub max_screenshot_height: u32,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: PathBuf::from("/usr/bin/chromium"),
            args: Vec::new(),
            tabs: 4,
            page_timeout_ms: 30_000,
            load_timeout_ms: 15_000,
            axe_path: None,
            axe_tags: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
                .map(String::from)
                .to_vec(),
            pages_per_site: 10,
            crawl_depth: 1,
            screenshots: true,
            max_screenshot_height: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabConfig {
    /// Plain-HTTP address of the lab's websites (loopback only).
    pub http_listen: SocketAddr,
    /// HTTPS address with a valid lab certificate (loopback only).
    pub https_listen: SocketAddr,
    /// HTTPS address whose certificate expired (loopback only).
    pub expired_https_listen: SocketAddr,
    /// How long the lab's slow pages take before answering, in milliseconds.
    pub slow_ms: u64,
    /// UDP address of the lab's SIP centres (loopback only).
    pub sip_listen: SocketAddr,
    /// Behaviour of each lab number (`"+96265000101" = "answer:1500"`); see `raqib lab --help`.
    pub phones: std::collections::BTreeMap<String, String>,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            http_listen: "127.0.0.1:18080".parse().unwrap(),
            https_listen: "127.0.0.1:18443".parse().unwrap(),
            expired_https_listen: "127.0.0.1:18444".parse().unwrap(),
            slow_ms: 4_000,
            sip_listen: "127.0.0.1:5070".parse().unwrap(),
            phones: Default::default(),
        }
    }
}

/// What a call does once answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAnswer {
    /// Hang up at once.
    Hangup,
    /// Play the notice, then hang up.
    Notice,
    /// Listen this many seconds, then hang up.
    Listen(u64),
    /// Run the IVR script of this name.
    Ivr(String),
}

/// An after-answer policy raqib cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AfterAnswerError {
    #[error("'{0}': listen takes 1 to 600 seconds, e.g. listen:10")]
    ListenSecs(String),
    #[error("'{0}': expected hangup, notice, listen:SECS or ivr:NAME")]
    Unknown(String),
}

/// The one parser of a policy, for the config file (`call.after_answer`) and for the command
/// line (`--after-answer`) alike.
impl std::str::FromStr for AfterAnswer {
    type Err = AfterAnswerError;

    fn from_str(s: &str) -> Result<AfterAnswer, AfterAnswerError> {
        match s.split_once(':') {
            None if s == "hangup" => Ok(AfterAnswer::Hangup),
            None if s == "notice" => Ok(AfterAnswer::Notice),
            Some(("listen", secs)) => match secs.parse::<u64>() {
                Ok(n) if (1..=600).contains(&n) => Ok(AfterAnswer::Listen(n)),
                _ => Err(AfterAnswerError::ListenSecs(s.to_string())),
            },
            Some(("ivr", name))
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Ok(AfterAnswer::Ivr(name.to_string()))
            }
            _ => Err(AfterAnswerError::Unknown(s.to_string())),
        }
    }
}

/// The policy as written in the config, and as each call result records it.
impl fmt::Display for AfterAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AfterAnswer::Hangup => f.write_str("hangup"),
            AfterAnswer::Notice => f.write_str("notice"),
            AfterAnswer::Listen(n) => write!(f, "listen:{n}"),
            AfterAnswer::Ivr(name) => write!(f, "ivr:{name}"),
        }
    }
}

impl<'de> Deserialize<'de> for AfterAnswer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl LabConfig {
    /// Every listener on a free loopback port, no numbers mapped (benchmarks).
    pub fn on_free_ports() -> LabConfig {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        LabConfig {
            http_listen: any,
            https_listen: any,
            expired_https_listen: any,
            sip_listen: any,
            slow_ms: 0,
            phones: Default::default(),
        }
    }
}

/// A validation failure before its position in the file is known.
pub struct Refusal {
    key: &'static str,
    message: String,
    /// Where in the file, when more precise than `key`: `alerts.contact.2.email`.
    at: Option<String>,
}

/// A refusal of the value at dotted `key`.
pub fn refuse(key: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        key,
        message: message.into(),
        at: None,
    }
}

/// A refusal about entry `index` of an array of tables (`[[alerts.contact]]`), pointing at its
/// `field` (or at the entry when `field` is empty).
pub fn refuse_entry(key: &'static str, index: usize, field: &str, message: String) -> Refusal {
    let at = match field {
        "" => format!("{key}.{index}"),
        f => format!("{key}.{index}.{f}"),
    };
    Refusal {
        key,
        message,
        at: Some(at),
    }
}

/// A refusal of `[[alerts.contact]]` entry `index` (`contact 1: ...`), pointing at its `field`
/// (or at the entry when `field` is empty).
pub fn refuse_contact(index: usize, field: &str, message: &str) -> Refusal {
    refuse_entry(
        "alerts.contact",
        index,
        field,
        format!("contact {}: {message}", index + 1),
    )
}

/// The file as parsed, with positions, for the parts of the config typed outside this module
/// (the notifier kinds' keys): what they read is refused at its line like the rest.
pub struct ConfigDoc<'a> {
    text: &'a str,
    file: &'a str,
    doc: Spanned<DeTable<'a>>,
}

impl ConfigDoc<'_> {
    /// The value at dotted `path` (`alerts.smtp`, `alerts.contact.2`) as a `T`; `None` when
    /// the file does not have it.
    pub fn read<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = value_at(self.doc.get_ref(), path) else {
            return Ok(None);
        };
        T::deserialize(toml::de::ValueDeserializer::from(value.clone()))
            .map(Some)
            .map_err(|e| {
                let span = e.span().unwrap_or(0..0);
                let message = with_secret_hint(e.message().trim_end().to_string());
                located(self.text, self.file, span, message)
            })
    }

    /// How many `[[alerts.contact]]` entries the file has.
    pub fn contacts(&self) -> usize {
        match value_at(self.doc.get_ref(), "alerts.contact").map(|v| v.get_ref()) {
            Some(DeValue::Array(items)) => items.len(),
            _ => 0,
        }
    }

    /// `key` at dotted `path` is no key of `expected`: refused as serde refuses an unknown field.
    fn unknown(&self, path: &str, key: &str, expected: &'static [&'static str]) -> ConfigError {
        use serde::de::Error;
        let message = serde::de::value::Error::unknown_field(key, expected).to_string();
        let span = key_span(self.text, path).unwrap_or(0..0);
        located(self.text, self.file, span, with_secret_hint(message))
    }
}

/// An unknown field named like a secret gets a word on where secrets go.
fn with_secret_hint(mut message: String) -> String {
    let secret = ["password", "secret", "token"];
    if message.starts_with("unknown field")
        && secret
            .iter()
            .any(|w| message.split('`').nth(1).is_some_and(|f| f.contains(w)))
    {
        message.push_str(
            "; secrets never go in the file: name an environment variable with a `*_env` key",
        );
    }
    message
}

/// `shared[0]`, then `between`, then `shared[1]`, as one list for serde's unknown-field
/// message, which takes a `'static` list: made (and leaked) only for that refusal, which ends
/// the reading of the file.
fn key_list(shared: [&[&'static str]; 2], between: &[&'static str]) -> &'static [&'static str] {
    let all: Vec<&'static str> = shared[0]
        .iter()
        .chain(between)
        .chain(shared[1])
        .copied()
        .collect();
    Vec::leak(all)
}

/// What reading the config needs of the notifier kinds (email, webhook, …): their keys, their
/// typed reading and their checks. The kinds live in `alert`, above this leaf, so their list
/// comes in from there (`alert::notifier::Kinds`) to `Config::load` and `Config::parse`.
pub trait NotifierKinds {
    /// The `[alerts]` tables the kinds claim (`smtp`).
    fn alerts_keys(&self) -> Vec<&'static str>;
    /// The contact keys the kinds claim: each kind's address key, then its options.
    fn contact_keys(&self) -> Vec<&'static str>;
    /// Every kind reads its keys, typed, so that a wrong value is refused at its line.
    fn read(&self, doc: &ConfigDoc) -> Result<(), ConfigError>;
    /// Every kind checks its `[alerts]` settings.
    fn check(&self, alerts: &AlertsConfig) -> Result<(), Refusal>;
    /// Contact `index` has exactly one kind's address, and that kind accepts it.
    fn check_contact(
        &self,
        alerts: &AlertsConfig,
        index: usize,
        contact: &ContactConfig,
    ) -> Result<(), Refusal>;
}

impl Config {
    /// Loads `path`, or the embedded default when `path` is `None`, with the notifier kinds
    /// `kinds`.
    pub fn load(path: Option<&Path>, kinds: &dyn NotifierKinds) -> Result<Config, ConfigError> {
        match path {
            None => Config::parse(EMBEDDED, EMBEDDED_NAME, kinds),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                Config::parse(&text, &p.display().to_string(), kinds)
            }
        }
    }

    /// Parses and validates `text` with the notifier kinds `kinds`; `file` names it in errors.
    pub fn parse(text: &str, file: &str, kinds: &dyn NotifierKinds) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = with_secret_hint(e.message().trim_end().to_string());
            located(text, file, span, message)
        })?;
        if let Some(doc) = parse_doc(text) {
            config.read_notifiers(&ConfigDoc { text, file, doc }, kinds)?;
        }
        config.validate(kinds).map_err(|r| {
            let span = key_span(text, r.at.as_deref().unwrap_or(r.key)).unwrap_or(0..0);
            let mut err = located(text, file, span, r.message);
            if let ConfigError::Invalid { key, .. } = &mut err {
                *key = r.key.to_string();
            }
            err
        })?;
        Ok(config)
    }

    /// The `[alerts]` and contact keys no notifier kind claims are refused as unknown; each
    /// kind then reads its own keys, typed, so a wrong value is refused at its line.
    fn read_notifiers(
        &self,
        doc: &ConfigDoc,
        kinds: &dyn NotifierKinds,
    ) -> Result<(), ConfigError> {
        // The shared keys are read into fields: only the others reach these tables.
        let tables = kinds.alerts_keys();
        for key in self.alerts.notifier.keys() {
            if !tables.contains(&key.as_str()) {
                let expected = key_list(ALERTS_KEYS, &tables);
                return Err(doc.unknown(&format!("alerts.{key}"), key, expected));
            }
        }
        let contact_keys = kinds.contact_keys();
        for (i, c) in self.alerts.contact.iter().enumerate() {
            for key in c.notifier.keys() {
                if !contact_keys.contains(&key.as_str()) {
                    let path = format!("alerts.contact.{i}.{key}");
                    return Err(doc.unknown(&path, key, key_list(CONTACT_KEYS, &contact_keys)));
                }
            }
        }
        kinds.read(doc)
    }

    fn validate_scoring(&self) -> Result<(), Refusal> {
        let s = &self.scoring;
        let sum = |w: &[f64]| w.iter().sum::<f64>();
        let pairs = [
            ("scoring.ring_zero_secs", s.ring_full_secs, s.ring_zero_secs),
            (
                "scoring.person_zero_secs",
                s.person_full_secs,
                s.person_zero_secs,
            ),
            ("scoring.lcp_zero_ms", s.lcp_full_ms, s.lcp_zero_ms),
        ];
        for (key, full, zero) in pairs {
            if !(full >= 0.0 && zero > full) {
                return Err(refuse(
                    key,
                    format!("must be above its full-marks value {full} (got {zero})"),
                ));
            }
        }
        if !(s.mos_zero >= 1.0 && s.mos_full > s.mos_zero && s.mos_full <= 4.5) {
            return Err(refuse(
                "scoring.mos_zero",
                format!(
                    "must be at least 1 and below mos_full (≤ 4.5): got {} and {}",
                    s.mos_zero, s.mos_full
                ),
            ));
        }
        if !(s.availability_zero_pct < s.availability_full_pct && s.availability_full_pct <= 100.0)
        {
            return Err(refuse(
                "scoring.availability_zero_pct",
                "must be below availability_full_pct (≤ 100)",
            ));
        }
        for (key, w, total) in [
            ("scoring.call_weights", &s.call_weights[..], 100.0),
            ("scoring.web_weights", &s.web_weights[..], 1.0),
            ("scoring.overall_weights", &s.overall_weights[..], 1.0),
        ] {
            if w.iter().any(|x| *x < 0.0) || (sum(w) - total).abs() > 1e-9 {
                return Err(refuse(
                    key,
                    format!("must be non-negative and sum to {total} (got {w:?})"),
                ));
            }
        }
        if !(0.8..=0.999).contains(&s.confidence) {
            return Err(refuse(
                "scoring.confidence",
                format!("must be between 0.8 and 0.999 (got {})", s.confidence),
            ));
        }
        if !((0.0..=100.0).contains(&s.threshold)
            && s.band_weak < s.band_excellent
            && s.band_excellent <= 100.0)
        {
            return Err(refuse(
                "scoring.threshold",
                "threshold and bands must lie in 0–100 with band_weak < band_excellent",
            ));
        }
        if !(100..=100_000).contains(&s.bootstrap_resamples) {
            return Err(refuse(
                "scoring.bootstrap_resamples",
                format!(
                    "must be between 100 and 100000 (got {})",
                    s.bootstrap_resamples
                ),
            ));
        }
        if s.min_calls_month == 0 || s.min_calls_quarter == 0 || s.follow_up_days < 0 {
            return Err(refuse(
                "scoring.min_calls_month",
                "minimum calls must be at least 1 and follow_up_days not negative",
            ));
        }
        Ok(())
    }

    fn validate_alerts(&self, kinds: &dyn NotifierKinds) -> Result<(), Refusal> {
        let a = &self.alerts;
        if a.retry_attempts == 0 || a.retry_attempts > 50 || a.retry_secs == 0 {
            return Err(refuse(
                "alerts.retry_attempts",
                "retry_attempts must be 1 to 50 and retry_secs at least 1",
            ));
        }
        if let Some(u) = &a.evidence_url {
            if !u.contains("{id}") {
                return Err(refuse("alerts.evidence_url", "must contain {id}"));
            }
        }
        kinds.check(a)?;
        for (i, c) in a.contact.iter().enumerate() {
            kinds.check_contact(a, i, c)?;
            if c.agency.trim().is_empty() {
                return Err(refuse_contact(
                    i,
                    "agency",
                    "agency is empty (use \"*\" for every agency)",
                ));
            }
        }
        Ok(())
    }

    fn validate_server(&self) -> Result<(), Refusal> {
        let s = &self.server;
        if let Some(u) = &s.public_url {
            let ok = url::Url::parse(u).is_ok_and(|p| {
                matches!(p.scheme(), "http" | "https")
                    && p.host().is_some()
                    && p.query().is_none()
                    && p.username().is_empty()
            });
            if !ok {
                return Err(refuse(
                    "server.public_url",
                    format!("'{u}' is not an http(s) address without user or query, like 'https://raqib.unit.gov.example'"),
                ));
            }
        }
        for (key, v) in [
            (
                "server.header_read_timeout_secs",
                s.header_read_timeout_secs,
            ),
            ("server.body_timeout_secs", s.body_timeout_secs),
            ("server.idle_timeout_secs", s.idle_timeout_secs),
        ] {
            if !(1..=3600).contains(&v) {
                return Err(refuse(key, format!("must be between 1 and 3600 (got {v})")));
            }
        }
        if !(1024..=64 * 1024 * 1024).contains(&s.max_body_bytes) {
            return Err(refuse(
                "server.max_body_bytes",
                format!(
                    "must be between 1024 and 67108864 (got {})",
                    s.max_body_bytes
                ),
            ));
        }
        if !(1..=100_000).contains(&s.max_connections) {
            return Err(refuse(
                "server.max_connections",
                format!("must be between 1 and 100000 (got {})", s.max_connections),
            ));
        }
        if s.signin_user_failures == 0 || s.signin_address_failures == 0 {
            return Err(refuse(
                "server.signin_user_failures",
                "signin_user_failures and signin_address_failures must be at least 1",
            ));
        }
        if s.signin_window_secs == 0
            || s.signin_delay_secs == 0
            || s.signin_max_delay_secs < s.signin_delay_secs
        {
            return Err(refuse(
                "server.signin_delay_secs",
                "signin_window_secs and signin_delay_secs must be at least 1, and signin_max_delay_secs at least signin_delay_secs",
            ));
        }
        Ok(())
    }

    fn validate_report(&self) -> Result<(), Refusal> {
        let r = &self.report;
        let keys: [(&'static str, &Option<String>, usize); 4] = [
            ("report.issuer", &r.issuer, 200),
            ("report.issuer_ar", &r.issuer_ar, 200),
            ("report.classification", &r.classification, 100),
            ("report.classification_ar", &r.classification_ar, 100),
        ];
        for (key, value, max) in keys {
            let Some(v) = value else { continue };
            // Printed in the PDF's one-line header and footer.
            if v.trim().is_empty() || v.chars().any(char::is_control) {
                return Err(refuse(key, "must be one non-empty line"));
            }
            if v.chars().count() > max {
                return Err(refuse(key, format!("at most {max} characters")));
            }
        }
        Ok(())
    }

    fn validate(&self, kinds: &dyn NotifierKinds) -> Result<(), Refusal> {
        self.validate_scoring()?;
        self.validate_server()?;
        self.validate_report()?;
        if !(3..=3600).contains(&self.serve.lease_secs) {
            return Err(refuse(
                "serve.lease_secs",
                format!("must be between 3 and 3600 (got {})", self.serve.lease_secs),
            ));
        }
        if let Some(n) = &self.agent.name {
            if n.trim().is_empty() || n.chars().any(char::is_whitespace) {
                return Err(refuse("agent.name", "an agent name is one word"));
            }
        }
        for t in &self.agent.tags {
            if t.is_empty() || t.contains([' ', ',', ';']) {
                return Err(refuse(
                    "agent.tags",
                    format!("'{t}': a tag has no spaces, commas or semicolons"),
                ));
            }
        }
        for (i, a) in self.schedule.iter().enumerate() {
            if a.name.trim().is_empty() || self.schedule[..i].iter().any(|b| b.name == a.name) {
                return Err(refuse(
                    "schedule",
                    format!("schedule names must be unique and not empty ('{}')", a.name),
                ));
            }
            if a.spread_minutes == 0 || a.spread_minutes > 24 * 60 {
                return Err(refuse(
                    "schedule",
                    format!(
                        "schedule '{}': spread_minutes must be between 1 and 1440",
                        a.name
                    ),
                ));
            }
        }
        self.validate_alerts(kinds)?;
        let w = &self.web;
        if !(100..=120_000).contains(&w.timeout_ms) {
            return Err(refuse(
                "web.timeout_ms",
                format!("must be between 100 and 120000 (got {})", w.timeout_ms),
            ));
        }
        if w.max_redirects > 50 {
            return Err(refuse(
                "web.max_redirects",
                format!("must be at most 50 (got {})", w.max_redirects),
            ));
        }
        if w.slow_ms == 0 || w.slow_ms > w.timeout_ms {
            return Err(refuse(
                "web.slow_ms",
                format!(
                    "must be between 1 and web.timeout_ms ({}) (got {})",
                    w.timeout_ms, w.slow_ms
                ),
            ));
        }
        if !(0..=365).contains(&w.tls_warn_days) {
            return Err(refuse(
                "web.tls_warn_days",
                format!("must be between 0 and 365 (got {})", w.tls_warn_days),
            ));
        }
        if !(1..=1024).contains(&w.concurrency) {
            return Err(refuse(
                "web.concurrency",
                format!("must be between 1 and 1024 (got {})", w.concurrency),
            ));
        }
        if w.max_body_bytes < 1024 {
            return Err(refuse(
                "web.max_body_bytes",
                format!("must be at least 1024 (got {})", w.max_body_bytes),
            ));
        }
        if w.user_agent.trim().is_empty() || w.user_agent.contains(['\r', '\n']) {
            return Err(refuse("web.user_agent", "must be one non-empty line"));
        }
        for ca in &w.trust_ca_files {
            if !ca.is_file() {
                return Err(refuse(
                    "web.trust_ca_files",
                    format!("{}: no such file", ca.display()),
                ));
            }
        }
        let b = &self.browser;
        if !(1..=32).contains(&b.tabs) {
            return Err(refuse(
                "browser.tabs",
                format!("must be between 1 and 32 (got {})", b.tabs),
            ));
        }
        if !(1_000..=600_000).contains(&b.page_timeout_ms) {
            return Err(refuse(
                "browser.page_timeout_ms",
                format!(
                    "must be between 1000 and 600000 (got {})",
                    b.page_timeout_ms
                ),
            ));
        }
        if b.load_timeout_ms == 0 || b.load_timeout_ms >= b.page_timeout_ms {
            return Err(refuse(
                "browser.load_timeout_ms",
                format!(
                    "must be between 1 and browser.page_timeout_ms ({}) exclusive (got {})",
                    b.page_timeout_ms, b.load_timeout_ms
                ),
            ));
        }
        if b.pages_per_site > 1000 {
            return Err(refuse(
                "browser.pages_per_site",
                format!("must be at most 1000 (got {})", b.pages_per_site),
            ));
        }
        if b.crawl_depth > 10 {
            return Err(refuse(
                "browser.crawl_depth",
                format!("must be at most 10 (got {})", b.crawl_depth),
            ));
        }
        if b.axe_tags.is_empty() || b.axe_tags.iter().any(|t| t.trim().is_empty()) {
            return Err(refuse(
                "browser.axe_tags",
                "must list at least one non-empty axe-core tag",
            ));
        }
        if !(500..=100_000).contains(&b.max_screenshot_height) {
            return Err(refuse(
                "browser.max_screenshot_height",
                format!(
                    "must be between 500 and 100000 (got {})",
                    b.max_screenshot_height
                ),
            ));
        }
        // The lab is a simulation: it must never be reachable from outside the machine.
        for (key, addr) in [
            ("lab.http_listen", self.lab.http_listen),
            ("lab.https_listen", self.lab.https_listen),
            ("lab.expired_https_listen", self.lab.expired_https_listen),
            ("lab.sip_listen", self.lab.sip_listen),
        ] {
            if !addr.ip().is_loopback() {
                return Err(refuse(
                    key,
                    format!("the lab listens on loopback only (got {addr})"),
                ));
            }
        }
        if self.lab.slow_ms > 120_000 {
            return Err(refuse(
                "lab.slow_ms",
                format!("must be at most 120000 (got {})", self.lab.slow_ms),
            ));
        }
        let t = &self.trunk;
        if !t.uri_template.starts_with("sip:") || !t.uri_template.contains("{number}") {
            return Err(refuse(
                "trunk.uri_template",
                format!(
                    "must be a sip: URI containing {{number}} (got '{}')",
                    t.uri_template
                ),
            ));
        }
        if !t.from.starts_with("sip:") {
            return Err(refuse(
                "trunk.from",
                format!("must be a sip: URI (got '{}')", t.from),
            ));
        }
        match (&t.username, &t.password_env) {
            (Some(_), None) => return Err(refuse(
                "trunk.username",
                "needs password_env: the name of the environment variable that holds the password",
            )),
            (None, Some(_)) => return Err(refuse("trunk.password_env", "needs username")),
            _ => {}
        }
        if !(1..=10_000).contains(&t.max_channels) {
            return Err(refuse(
                "trunk.max_channels",
                format!("must be between 1 and 10000 (got {})", t.max_channels),
            ));
        }
        if !(60..=86_400).contains(&t.register_expires) {
            return Err(refuse(
                "trunk.register_expires",
                format!("must be between 60 and 86400 (got {})", t.register_expires),
            ));
        }
        let c = &self.call;
        if !(1..=600).contains(&c.ring_timeout_secs) {
            return Err(refuse(
                "call.ring_timeout_secs",
                format!("must be between 1 and 600 (got {})", c.ring_timeout_secs),
            ));
        }
        if !(10..=2000).contains(&c.timer_t1_ms) {
            return Err(refuse(
                "call.timer_t1_ms",
                format!("must be between 10 and 2000 (got {})", c.timer_t1_ms),
            ));
        }
        if !(1..=600).contains(&c.classify_secs) {
            return Err(refuse(
                "call.classify_secs",
                format!("must be between 1 and 600 (got {})", c.classify_secs),
            ));
        }
        if !(0.0..=1.0).contains(&c.min_confidence) {
            return Err(refuse(
                "call.min_confidence",
                format!("must be between 0 and 1 (got {})", c.min_confidence),
            ));
        }
        if !(0.0..=2000.0).contains(&c.default_delay_ms) {
            return Err(refuse(
                "call.default_delay_ms",
                format!("must be between 0 and 2000 (got {})", c.default_delay_ms),
            ));
        }
        for p in &self.guard.allow_prefixes {
            let digits = p.strip_prefix('+').unwrap_or("");
            if digits.is_empty() || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return Err(refuse(
                    "guard.allow_prefixes",
                    format!("'{p}' is not an E.164 prefix like +962"),
                ));
            }
        }
        if let Some(cc) = &self.trunk.country_code {
            if cc.is_empty()
                || cc.len() > 3
                || cc.starts_with('0')
                || !cc.chars().all(|c| c.is_ascii_digit())
            {
                return Err(refuse(
                    "trunk.country_code",
                    format!("'{cc}' is not a country calling code like 962 (1 to 3 digits, no +)"),
                ));
            }
        }
        if !(0..=1000).contains(&self.guard.max_calls_per_number_per_day) {
            return Err(refuse(
                "guard.max_calls_per_number_per_day",
                format!(
                    "must be between 0 and 1000 (got {})",
                    self.guard.max_calls_per_number_per_day
                ),
            ));
        }
        if self.store.data_dir.as_os_str().is_empty() {
            return Err(refuse("store.data_dir", "must not be empty"));
        }
        if let Some(u) = &self.store.url {
            if let Err(e) = crate::store_url::StoreUrl::parse(u) {
                return Err(refuse("store.url", e.to_string()));
            }
            if url::Url::parse(u).is_ok_and(|p| p.password().is_some()) {
                return Err(refuse(
                    "store.url",
                    "secrets never go in the file: name an environment variable with \
                     store.password_env",
                ));
            }
        }
        Ok(())
    }
}

fn located(text: &str, file: &str, span: Range<usize>, message: String) -> ConfigError {
    let (line, column) = line_col(text, span.start);
    ConfigError::Invalid {
        file: file.to_string(),
        line,
        column,
        key: key_at(text, &span).unwrap_or_default(),
        message,
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

fn parse_doc(text: &str) -> Option<Spanned<DeTable<'_>>> {
    DeTable::parse(text).ok()
}

/// The span of the value (or key) at dotted `path`, for validation errors.
fn key_span(text: &str, path: &str) -> Option<Range<usize>> {
    let doc = parse_doc(text)?;
    let mut table = doc.get_ref();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let (k, mut v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == part)?;
        if parts.peek().is_none() {
            return Some(k.span());
        }
        // An index into an array of tables: `contact.2`.
        let index = parts.peek().and_then(|p| p.parse::<usize>().ok());
        if let (DeValue::Array(items), Some(i)) = (v.get_ref(), index) {
            parts.next();
            v = items.get(i)?;
            if parts.peek().is_none() {
                return Some(v.span());
            }
        }
        match v.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return None,
        }
    }
    None
}

/// The value at dotted `path` (`alerts.contact.2`: an entry of an array of tables).
fn value_at<'d, 'a>(table: &'d DeTable<'a>, path: &str) -> Option<&'d Spanned<DeValue<'a>>> {
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let (_, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == first)?;
    if rest.is_empty() {
        return Some(v);
    }
    let (next, after) = rest.split_once('.').unwrap_or((rest, ""));
    match (v.get_ref(), next.parse::<usize>()) {
        (DeValue::Array(items), Ok(i)) => {
            let item = items.get(i)?;
            match (after, item.get_ref()) {
                ("", _) => Some(item),
                (more, DeValue::Table(t)) => value_at(t, more),
                _ => None,
            }
        }
        (DeValue::Table(t), _) => value_at(t, rest),
        _ => None,
    }
}

/// The dotted key at `span`, from the enclosing `[section]` header and the line's `key =`
/// (serde's spans for keys under a header lie outside the header table's own span, so the
/// document's spans cannot tell).
fn key_at(text: &str, span: &Range<usize>) -> Option<String> {
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[at..].find('\n').map(|i| at + i).unwrap_or(text.len());
    let header = |l: &str| {
        l.starts_with('[')
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    };
    let line = text[line_start..line_end].trim();
    if let Some(h) = header(line) {
        return (!h.is_empty()).then_some(h);
    }
    let section = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(header);
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty());
    let path: Vec<String> = section.into_iter().chain(key).collect();
    (!path.is_empty()).then(|| path.join("."))
}

impl fmt::Display for ContentCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContentCheck::None => "none",
            ContentCheck::NameAr => "name_ar",
            ContentCheck::NameEn => "name_en",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config without notifier kinds: these tests read no contact.
    struct NoKinds;

    impl NotifierKinds for NoKinds {
        fn alerts_keys(&self) -> Vec<&'static str> {
            Vec::new()
        }
        fn contact_keys(&self) -> Vec<&'static str> {
            Vec::new()
        }
        fn read(&self, _doc: &ConfigDoc) -> Result<(), ConfigError> {
            Ok(())
        }
        fn check(&self, _alerts: &AlertsConfig) -> Result<(), Refusal> {
            Ok(())
        }
        fn check_contact(
            &self,
            _alerts: &AlertsConfig,
            index: usize,
            _contact: &ContactConfig,
        ) -> Result<(), Refusal> {
            Err(refuse_contact(index, "", "no notifier kind here"))
        }
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::load(None, &NoKinds).unwrap();
        assert!(c.lab.http_listen.ip().is_loopback());
    }

    #[test]
    fn empty_file_takes_every_default() {
        let c = Config::parse("", "x.toml", &NoKinds).unwrap();
        assert_eq!(c.web.timeout_ms, 10_000);
        assert_eq!(c.web.max_redirects, 10);
    }

    #[test]
    fn validation_error_points_at_the_key() {
        let text = "[store]\ndata_dir = \"d\"\n\n[web]\n  timeout_ms = 5\n";
        let e = Config::parse(text, "c.toml", &NoKinds)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "c.toml:5:3: web.timeout_ms: must be between 100 and 120000 (got 5)"
        );
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = "[web]\ntimeout_ms = 1000\ntimout = 3\n";
        let e = Config::parse(text, "c.toml", &NoKinds)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("c.toml:3:1: web.timout: unknown field `timout`"),
            "{e}"
        );
    }
}
