//! The `raqib` command line: parses arguments, loads the config and the store, calls the
//! modules, and prints for people or, with `--json`, for scripts.
//!
//! Exit codes: 0 the command ran (whatever the probes found), 2 bad input (arguments, config,
//! CSV, unknown centre), 1 raqib's own failure.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod alerts_cmd;
mod scoring_cmd;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use raqib::config::{self, Config};
use raqib::lab::Lab;
use raqib::probe::call::{CallProbe, CallResult};
use raqib::probe::web::{parse_url, WebResult};
use raqib::probe::Channel;
use raqib::registry::{self, Centre};
use raqib::schedule::on_demand;
use raqib::schedule::sweep::{self, ProgressStyle, SweepSummary};
use raqib::score::period::Period;
use raqib::store::{with_id, ResultFilter, Store};
use scoring_cmd::Select;

#[derive(Parser)]
#[command(
    name = "raqib",
    version,
    about = "raqib (رقيب): an audit robot for government service centres",
    long_about = "raqib places real test calls and visits websites of government service centres, \
stores what it measured as evidence, and scores each centre per channel and period.\n\n\
Start with `raqib demo` (a sweep of the local lab's sample centres), then \
`raqib centres import YOUR.csv` and `raqib sweep`."
)]
struct Cli {
    /// Configuration file [default: config/raqib.toml if present, else the embedded default]
    #[arg(long, global = true, env = "RAQIB_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Directory of the SQLite store and evidence [default: the config's store.data_dir]
    #[arg(long, global = true, env = "RAQIB_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where the tables live: postgres://USER@HOST/DB (several agents share one) or
    /// sqlite://PATH [default: the config's store.url, else SQLite in the data directory]
    #[arg(
        long,
        global = true,
        env = "RAQIB_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the centre registry
    #[command(subcommand)]
    Centres(CentresCmd),
    /// Probe one target now and store the result
    #[command(subcommand)]
    Probe(ProbeCmd),
    /// Probe every target of the selected centres on one channel
    Sweep {
        /// Channel to sweep
        #[arg(long, value_enum, default_value = "web")]
        channel: Channel,
        /// Centre ids to include: shell globs, comma-separated (e.g. 'jo-*,sa-riyadh-*')
        #[arg(long, value_name = "GLOB", default_value = "*")]
        centres: String,
        /// Web: HTTP checks only, no browser audit
        #[arg(long)]
        no_browser: bool,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Run the [[schedule]] entries until SIGTERM or Ctrl-C: sweeps planned as jobs in the
    /// store, phone calls inside each centre's hours, a killed run finished at the next start
    #[command(after_help = SERVE_HELP)]
    Serve {
        /// Also fire this schedule once at start-up (repeatable)
        #[arg(long, value_name = "NAME")]
        run: Vec<String>,
        /// Also serve the dashboard and JSON API here (e.g. 127.0.0.1:8080): sign in with
        /// `raqib users password`, API tokens from `raqib users token`
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Also serve Prometheus /metrics here, without auth: a private scrape address
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// This process's agent name among those sharing the store [default: [agent] name,
        /// else the host name]
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// A tag of this agent (repeatable, e.g. carrier=mobile) [default: [agent] tags]
        #[arg(long = "agent-tag", value_name = "TAG")]
        agent_tags: Vec<String>,
    },
    /// The store itself: `store migrate` moves a unit's history to another store
    #[command(subcommand)]
    Store(StoreCmd),
    /// Agents that ran `raqib serve` on this store: their tags, last heartbeat and the results
    /// each stored
    Agents {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Users of the API and their tokens (roles viewer, auditor, admin)
    #[command(subcommand)]
    Users(UsersCmd),
    /// The stored verdicts (score, interval, band, flag, rank, trend, case per centre and
    /// period) that every surface reads
    #[command(subcommand)]
    Verdicts(VerdictsCmd),
    /// Past and running sweeps, newest first, with their progress
    Sweeps {
        /// At most this many
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: i64,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Alerts to agency leadership and their deliveries; `alerts run` evaluates and delivers
    /// now, `alerts test` sends a test message through every contact
    #[command(after_help = ALERTS_HELP)]
    Alerts {
        #[command(subcommand)]
        cmd: Option<AlertsCmd>,
        /// At most this many alerts, newest first
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: i64,
        /// One JSON object per line (each alert with its deliveries)
        #[arg(long)]
        json: bool,
    },
    /// A period's report for leadership: summary, bands, flagged centres, trends against the
    /// period before, per-agency table and a row per centre
    #[command(after_help = REPORT_HELP)]
    Report {
        #[command(flatten)]
        period: PeriodArgs,
        /// html, pdf (printed by the configured Chromium), csv (UTF-8 with BOM: opens in
        /// Excel with Arabic intact) or json
        #[arg(long, value_enum)]
        format: ReportFormat,
        /// Language of the HTML, PDF and CSV (Arabic is right to left)
        #[arg(long, value_enum, default_value = "ar")]
        lang: ReportLang,
        /// Write to this file instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Serve the simulated lab centres on loopback until interrupted
    Lab,
    /// Show stored results, oldest first
    Results {
        /// Only this centre
        #[arg(long, value_name = "ID")]
        centre: Option<String>,
        /// Only results started at or after this date (YYYY-MM-DD, UTC) or RFC 3339 time
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only this channel
        #[arg(long, value_enum)]
        channel: Option<Channel>,
        /// Only this sweep
        #[arg(long, value_name = "ID")]
        sweep: Option<i64>,
        /// At most this many results
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// The main job on the embedded default: import the sample centres, start the lab, sweep
    /// its phones and websites
    Demo {
        /// Web: HTTP checks only, no browser audit
        #[arg(long)]
        no_browser: bool,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Scores per centre and channel for a period: components, counts, 95 % intervals, bands,
    /// gold/silver lists and the overall index (../shared/SCORING.md)
    #[command(after_help = PERIOD_HELP)]
    Scores {
        #[command(flatten)]
        period: PeriodArgs,
        /// Only this channel's figures
        #[arg(long, value_enum)]
        channel: Option<Channel>,
        /// Only this centre
        #[arg(long, value_name = "ID")]
        centre: Option<String>,
        /// One JSON object per line per centre
        #[arg(long)]
        json: bool,
    },
    /// Centres at or under the phone threshold (confirmed, provisional, insufficient data),
    /// critical flags first; a flag opens a follow-up case
    #[command(after_help = PERIOD_HELP)]
    Flags {
        #[command(flatten)]
        period: PeriodArgs,
        /// One JSON object per line per flagged centre
        #[arg(long)]
        json: bool,
    },
    /// Improved, declined or unchanged per centre against an earlier period, and the counts
    /// per agency
    #[command(after_help = PERIOD_HELP)]
    Trends {
        #[command(flatten)]
        period: PeriodArgs,
        /// The period compared with [default: the one before --period]
        #[arg(long, value_name = "PERIOD")]
        against: Option<String>,
        /// One JSON object per line per centre, then one with the agencies' counts
        #[arg(long)]
        json: bool,
    },
    /// Follow-up cases: opened by flags, closed by a later clear period, overdue after
    /// [scoring] follow_up_days
    #[command(after_help = PERIOD_HELP)]
    Cases {
        #[command(flatten)]
        period: PeriodArgs,
        /// One JSON object per line per case
        #[arg(long)]
        json: bool,
    },
    /// Label a call as an auditor heard it: overrides the answer-type heuristic in scores;
    /// every label is kept with who, when and why
    Label {
        /// The call's result id (from `raqib results`)
        result_id: i64,
        /// human | ivr | voicemail | announcement | music | silence | unknown
        #[arg(long, value_name = "TYPE")]
        answer_type: String,
        /// Why: what the auditor heard (required)
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Seconds from answer until a person spoke
        #[arg(long, value_name = "SECS")]
        time_to_person: Option<f64>,
        /// Who labels [default: $USER]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Print the label as JSON
        #[arg(long)]
        json: bool,
    },
    /// Measure throughput and print the figures
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(clap::Args)]
struct PeriodArgs {
    /// 2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-01..2026-11-30 (UTC days) [default: this month]
    #[arg(long, value_name = "PERIOD")]
    period: Option<String>,
    /// Only this agency's centres
    #[arg(long, value_name = "NAME")]
    agency: Option<String>,
}

impl PeriodArgs {
    fn period(&self) -> Result<Period> {
        match &self.period {
            Some(p) => Period::parse(p).map_err(|e| bad(e.to_string())),
            None => Ok(Period::month_of(Utc::now())),
        }
    }

    fn select(&self, centre: Option<String>) -> Select {
        Select {
            agency: self.agency.clone(),
            centre,
        }
    }
}

const SERVE_HELP: &str = "\
Each [[schedule]] has a crontab(5) expression read in its time zone (0 and 7 are Sunday, names
allowed, day-of-month OR day-of-week as crontab, six fields for seconds). A fire plans a sweep
as job rows in the store: web jobs at once; phone jobs at random instants inside each centre's
opening hours in its own time zone (spread over spread_minutes, never on a [holidays] date; a
closed centre is skipped or deferred to its next window). Jobs run within [web] concurrency and
[trunk] max_channels; each result is stored and its job marked done in one transaction.

SIGTERM or Ctrl-C: no new job starts, calls in progress end and are stored, and the sweep stays
running for the next start. A sweep whose process was killed is finished by the next
`raqib serve` on that host, without repeating a job that has its result. A run missed while
raqib serve was down is made once at start-up if it fell due within [serve] grace_minutes.

Example config:
  [[schedule]]
  name = \"nightly-web\"
  cron = \"0 2 * * *\"
  timezone = \"Asia/Amman\"
  channel = \"web\"

  [[schedule]]
  name = \"calls-jo\"
  cron = \"0 9 * * SUN-THU\"
  timezone = \"Asia/Amman\"
  channel = \"phone\"
  centres = \"jo-*\"        # also agency = .., region = .., tags = [..]
  when_closed = \"defer\"";

const PERIOD_HELP: &str = "\
Scores are computed from the stored results and auditors' labels each time (nothing is cached),
so they reproduce exactly; intervals come from a seeded bootstrap ([scoring] seed). Results that
do not count (raqib's faults, network faults, guard refusals, calls outside opening hours) are
counted apart and never lower a score.

Examples:
  raqib scores --period 2026-Q4 --agency 'Civil Status Department'
  raqib flags --period 2026-11 --json
  raqib trends --period 2026-Q4 --against 2026-Q3
  raqib label 42 --answer-type human --reason 'a clerk answered after the IVR'";

#[derive(Subcommand)]
enum CentresCmd {
    /// Load centres from a CSV file (all rows or none); existing ids are updated
    Import {
        /// CSV with columns id,name_ar,name_en,agency,region,timezone,hours,phones,websites[,tags]
        file: PathBuf,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the registry
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProbeCmd {
    /// Check a website: its availability over HTTP, then a browser audit (timings,
    /// screenshot, axe-core accessibility, Arabic checks) of its home page and more pages
    #[command(after_help = WEB_HELP)]
    Web {
        /// http(s) URL or centre id
        target: String,
        /// The page must contain this text (default for a centre: the config's content_check)
        #[arg(long, value_name = "TEXT")]
        expect: Option<String>,
        /// HTTP check only: no browser audit
        #[arg(long)]
        no_browser: bool,
        /// Pages audited besides the home page [default: the config's browser.pages_per_site]
        #[arg(long, value_name = "N")]
        pages: Option<usize>,
        /// One JSON object per line per target
        #[arg(long)]
        json: bool,
    },
    /// Register with the trunk ([trunk] username, password_env) and report the outcome
    Register {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Place a real test call: an E.164 number, a sip: URI, or a centre id
    #[command(after_help = CALL_HELP)]
    Call {
        /// E.164 number, sip: URI or centre id
        target: String,
        /// Seconds of ringing before CANCEL [default: the config's call.ring_timeout_secs]
        #[arg(long, value_name = "SECS")]
        ring_timeout: Option<u64>,
        /// hangup | notice | listen:SECS | ivr:NAME [default: the config's call.after_answer]
        #[arg(long, value_name = "POLICY")]
        after_answer: Option<config::AfterAnswer>,
        /// Allow a target that is not in the registry (recorded with the result)
        #[arg(long)]
        unlisted: bool,
        /// One JSON object per line per call
        #[arg(long)]
        json: bool,
    },
}

const WEB_HELP: &str = "\
The browser audit opens the site's final page in headless Chromium ([browser] path), a fresh
profile per page as a citizen's first visit, then up to --pages more pages of the same site:
the sitemap's (robots.txt Sitemap: lines, else /sitemap.xml) or else the home page's links,
never a path robots.txt disallows. Per page: Navigation Timing (TTFB, DOMContentLoaded, load),
Largest Contentful Paint, console errors, failed sub-requests, a full-page PNG kept as
evidence, axe-core on the [browser] axe_tags (WCAG 2.2 A/AA by default: violations apart
from 'needs review'), and the Arabic checks (lang, dir=rtl, language switch, accessibility
statement, published phone numbers against the registry, opening hours). The score is
automated: never a conformance claim.

Examples:
  raqib probe web https://portal.example/ --pages 5
  raqib probe web jo-amman-civil --json
  raqib probe web http://127.0.0.1:18080/ok/jo-amman-civil/ --no-browser";

const CALL_HELP: &str =
    "TARGET is a number (+96265000101, 0096265000101, or national 065000101 with [trunk] \
country_code), a sip: URI, or a centre id (all its numbers). Every number, also a sip: URI's user \
part in any form, is brought to E.164 and must pass the dialling guard: in the registry (or \
--unlisted), matching [guard] allow_prefixes, under the daily cap. A sip: URI whose user part is no \
number needs --unlisted; sips: (TLS) is refused.\n\nOutcomes: answered, busy (486/600), no_answer (ring timeout, \
cancelled), rejected (403/603/other 4xx), not_in_service (404/484), unreachable (no response), \
failed (5xx, 408, protocol errors), refused (the guard), error (raqib's own fault).";

#[derive(Subcommand)]
enum VerdictsCmd {
    /// Rebuild verdicts from the stored results and labels. They are kept fresh on their own
    /// (a new result or label refreshes its centre on the next read; a registry import or a
    /// change of [scoring] rebuilds a period when it is next read): this is for a repair or
    /// after restoring a backup. Without --period or --all: this month.
    Refresh {
        /// One period (2026-11, 2026-Q4, 2026-W47, 2026, FROM..TO)
        #[arg(long, value_name = "PERIOD", conflicts_with = "all")]
        period: Option<String>,
        /// Every stored period, and every month and quarter that holds results
        #[arg(long)]
        all: bool,
        /// One JSON object per period
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum StoreCmd {
    /// Copy every table (ids kept) from one store into another, empty one, in one
    /// transaction, and compare the counts: e.g. --from sqlite://data/raqib.sqlite --to
    /// postgres://raqib@db/raqib. Evidence files stay in the data directory. Stop every raqib
    /// using the source first.
    Migrate {
        /// The store to read: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
        #[arg(long, value_name = "URL")]
        from: String,
        /// The empty store to fill (migrated to the current schema first)
        #[arg(long, value_name = "URL")]
        to: String,
        /// Print the rows copied per table as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsersCmd {
    /// Add a user
    Add {
        name: String,
        /// viewer (reads), auditor (also probes and labels), admin (also manages users)
        #[arg(long, value_enum)]
        role: UserRole,
    },
    /// Remove a user and revoke their tokens and sessions
    Remove { name: String },
    /// Set a user's dashboard password (at least 12 characters), read from standard input
    /// (without echo on a terminal), never from the command line; ends their sessions
    Password { name: String },
    /// Make a new API token for a user: printed once, stored only as its SHA-256
    Token {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Users with their roles and token counts
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum UserRole {
    Viewer,
    Auditor,
    Admin,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Html,
    Pdf,
    Csv,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportLang {
    Ar,
    En,
}

const REPORT_HELP: &str = "\
Reads scores, trends and cases as stored (it never opens or closes a case). \"Improved after
feedback\" counts centres with a follow-up case for an earlier period whose phone score
improved against the period before.

Examples:
  raqib report --period 2026-Q4 --format pdf --lang ar --out q4.pdf
  raqib report --period 2026-Q4 --format csv --lang en --out q4.csv
  raqib report --period 2026-11 --agency 'Civil Status Department' --format json";

#[derive(Subcommand)]
enum AlertsCmd {
    /// Evaluate a period's flags and cases now and try every due delivery once (raqib serve
    /// does this after each sweep, on [alerts] digest, and retries on its own)
    Run {
        /// 2026-11, 2026-Q4, ... [default: the current [alerts] period]
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// Print what was decided and delivered as JSON
        #[arg(long)]
        json: bool,
    },
    /// Send a test message through every [[alerts.contact]] and report each (exit 1 if any
    /// failed); nothing is stored
    Test {
        /// One JSON object per contact
        #[arg(long)]
        json: bool,
    },
}

const ALERTS_HELP: &str = "\
A flag (phone at or under the threshold, confirmed or provisional; or a critical flag) is
alerted once per centre, channel and period, and again only if its score worsens or its class
changes. An overdue follow-up case goes to the escalation contacts; a closed one gets a
\"resolved\" message. Each contact's delivery is retried with back-off ([alerts] retry_secs,
doubling, at most an hour) up to retry_attempts tries, then recorded as failed.

Config:
  [alerts]
  from = \"raqib <raqib@unit.gov.example>\"
  evidence_url = \"https://raqib.unit.gov.example/results/{id}\"
  digest = \"0 8 * * 0\"            # also evaluate Sundays 08:00 in digest_timezone
  digest_timezone = \"Asia/Amman\"
  [alerts.smtp]
  host = \"smtp.unit.gov.example\"  # security = starttls (default) | tls | none
  username = \"raqib\"
  password_env = \"RAQIB_SMTP_PASSWORD\"
  [[alerts.contact]]
  agency = \"Civil Status Department\"   # or \"*\"
  email = \"director@csd.gov.example\"
  lang = \"ar\"                         # ar | en | both
  [[alerts.contact]]
  agency = \"*\"
  webhook = \"https://hooks.slack.com/services/...\"
  format = \"slack\"                    # json | slack | teams
  [[alerts.contact]]
  agency = \"*\"
  email = \"minister-office@gov.example\"
  escalation = true                    # only overdue cases

Examples:
  raqib alerts
  raqib alerts run --period 2026-11
  raqib alerts test";

#[derive(Subcommand)]
enum BenchCmd {
    /// Test calls against the lab: answer-time accuracy, calls/s, memory with media
    Calls {
        /// Number of calls
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// Calls in flight at once
        #[arg(long, default_value_t = 200)]
        concurrency: usize,
        /// The lab answers this many ms after the INVITE arrives
        #[arg(long, default_value_t = 500)]
        answer_ms: u64,
        /// After answer, listen (and record) this long; 0 hangs up at once
        #[arg(long, default_value_t = 0)]
        listen_secs: u64,
        /// Call a separately running `raqib lab` at this SIP address instead of an
        /// in-process one (memory is then raqib's alone; no wire record)
        #[arg(long, value_name = "ADDR")]
        external_lab: Option<std::net::SocketAddr>,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Browser audits per minute (load, axe-core, screenshot) with a pool of tabs
    Browser {
        /// Pages audited (the lab's pages, cycled, unless --urls)
        #[arg(long, default_value_t = 50)]
        pages: usize,
        /// Tabs of the one browser
        #[arg(long, default_value_t = 4)]
        tabs: usize,
        /// A file of URLs to audit instead, one per line
        #[arg(long, value_name = "FILE")]
        urls: Option<PathBuf>,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Sweep jobs claimed and completed per second by several agents sharing the store (the
    /// global --store; with `{data_dir}` a fresh PostgreSQL database), probes replaced by an
    /// instant answer; in a temporary data directory
    Agents {
        /// Agents, each with its own connections
        #[arg(long, default_value_t = 4)]
        agents: usize,
        /// Jobs in the sweep
        #[arg(long, default_value_t = 2000)]
        jobs: usize,
        /// Jobs an agent claims at once
        #[arg(long, default_value_t = 8)]
        batch: i64,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// The stored verdicts at a ministry's scale: a store of CENTRES × 3 numbers × MONTHS of
    /// calls and a daily check per site (the global --store; with `{data_dir}` a fresh
    /// PostgreSQL database; else SQLite in a temporary directory), then the time to rebuild
    /// every period, to read a period (in process, /api/scores, the dashboard overview,
    /// /metrics over HTTP), to refresh after one new result, and the memory held
    Verdicts {
        /// Centres in the registry
        #[arg(long, default_value_t = 452)]
        centres: usize,
        /// Months of results, ending with this one
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Calls per number per month
        #[arg(long, default_value_t = 24)]
        calls: usize,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Availability checks per second against a local server, a fresh connection each
    Web {
        /// Number of checks
        #[arg(long, default_value_t = 1000)]
        urls: usize,
        /// Checks in flight at once
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Check the lab's HTTPS page: a full TLS handshake per check
        #[arg(long)]
        tls: bool,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
}

/// Input the user must fix: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

fn bad(msg: impl Into<String>) -> anyhow::Error {
    BadInput(msg.into()).into()
}

fn main() -> ExitCode {
    // `raqib results | head` should end quietly when head closes the pipe, as Unix tools do,
    // not panic on the next print. Rust starts with SIGPIPE ignored; restore the default.
    // SAFETY: called before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("raqib: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let input = e.downcast_ref::<BadInput>().is_some()
                || e.downcast_ref::<config::ConfigError>().is_some()
                || e.downcast_ref::<registry::RegistryError>().is_some()
                || matches!(
                    e.downcast_ref::<raqib::alert::AlertError>(),
                    Some(raqib::alert::AlertError::Setup(_))
                )
                || matches!(
                    e.downcast_ref::<raqib::probe::ProbeError>(),
                    Some(
                        raqib::probe::ProbeError::Secret { .. }
                            | raqib::probe::ProbeError::Notice { .. }
                    )
                )
                || matches!(
                    e.downcast_ref::<sweep::SweepError>(),
                    Some(
                        sweep::SweepError::NoCentres(_)
                            | sweep::SweepError::Script(_)
                            | sweep::SweepError::Audit(_)
                            | sweep::SweepError::Alerts(_)
                    )
                );
            eprintln!("raqib: {}", message_of(&e));
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

/// The error and its causes, each said once: many errors already name their source in
/// their own text (`{path}: {source}`), and the chain would repeat it.
fn message_of(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

struct Ctx {
    config: Config,
    data_dir: PathBuf,
    store_url: Option<String>,
}

impl Ctx {
    fn load(cli: &Cli) -> Result<Ctx> {
        let path = match &cli.config {
            Some(p) => Some(p.clone()),
            None => {
                let p = PathBuf::from(config::DEFAULT_PATH);
                p.is_file().then_some(p)
            }
        };
        let config = Config::load(path.as_deref())?;
        let data_dir = cli
            .data_dir
            .clone()
            .unwrap_or_else(|| config.store.data_dir.clone());
        let store_url = match (&cli.store, &config.store.url) {
            (Some(u), _) => Some(u.clone()),
            (None, Some(u)) => Some(match &config.store.password_env {
                None => u.clone(),
                Some(var) => {
                    let password = std::env::var(var).map_err(|_| {
                        bad(format!("store.password_env names {var}, which is not set"))
                    })?;
                    // `{data_dir}` would be percent-encoded by the URL parser: kept aside.
                    let mark = "raqib-data-dir-mark";
                    let mut parsed = url::Url::parse(&u.replace("{data_dir}", mark))
                        .map_err(|e| bad(format!("store.url: {e}")))?;
                    parsed
                        .set_password(Some(&password))
                        .map_err(|_| bad("store.url takes no password"))?;
                    parsed.to_string().replace(mark, "{data_dir}")
                }
            }),
            (None, None) => None,
        };
        if let Some(u) = &store_url {
            raqib::store::StoreUrl::parse(u).map_err(|e| bad(format!("--store {e}")))?;
        }
        Ok(Ctx {
            config,
            data_dir,
            store_url,
        })
    }

    async fn store(&self) -> Result<Store> {
        Ok(Store::open(&self.data_dir, self.store_url.as_deref()).await?)
    }

    fn sample_centres(&self) -> Result<Vec<Centre>> {
        Ok(match &self.config.registry.sample_centres {
            Some(p) => registry::read_csv(p)?,
            None => registry::parse_csv(registry::SAMPLE_CSV.as_bytes(), "config/centres.csv")?,
        })
    }
}

async fn run(cli: Cli) -> Result<()> {
    let mut ctx = Ctx::load(&cli)?;
    match cli.command {
        Command::Centres(CentresCmd::Import { file, json }) => {
            let centres = match registry::read_csv(&file) {
                Err(registry::RegistryError::Rows { path, rows }) if json => {
                    println!(
                        "{}",
                        serde_json::json!({"file": path, "imported": 0, "bad_rows": rows})
                    );
                    return Err(registry::RegistryError::Rows { path, rows }.into());
                }
                other => other?,
            };
            let store = ctx.store().await?;
            let counts = store.upsert_centres(&centres).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"file": file, "added": counts.added, "updated": counts.updated})
                );
            } else {
                println!(
                    "{}: {} centres imported ({} added, {} updated)",
                    file.display(),
                    centres.len(),
                    counts.added,
                    counts.updated
                );
            }
        }
        Command::Centres(CentresCmd::List { json }) => {
            let centres = ctx.store().await?.centres().await?;
            if json {
                for c in &centres {
                    println!("{}", serde_json::to_string(c)?);
                }
            } else {
                print_centres(&centres);
            }
        }
        Command::Probe(ProbeCmd::Web {
            target,
            expect,
            no_browser,
            pages,
            json,
        }) => probe_web(&ctx, &target, expect, !no_browser, pages, json).await?,
        Command::Probe(ProbeCmd::Register { json }) => {
            let store = ctx.store().await?;
            let probe = CallProbe::new(&ctx.config, store.evidence_dir()).await?;
            let r = probe
                .register(ctx.config.trunk.register_expires, false)
                .await?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "{} {}: {}{}{}",
                    r.registrar,
                    if r.ok { "registered" } else { "not registered" },
                    r.status
                        .map(|s| format!("{s} {}", r.reason.as_deref().unwrap_or("")))
                        .unwrap_or_else(|| "no response".into()),
                    r.expires
                        .map(|e| format!(", for {e} s"))
                        .unwrap_or_default(),
                    r.detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Probe(ProbeCmd::Call {
            target,
            ring_timeout,
            after_answer,
            unlisted,
            json,
        }) => probe_call(&ctx, &target, ring_timeout, after_answer, unlisted, json).await?,
        Command::Sweep {
            channel,
            centres,
            no_browser,
            json,
        } => {
            if no_browser {
                ctx.config.browser.enabled = false;
            }
            let store = ctx.store().await?;
            let selected: Vec<Centre> = store
                .centres()
                .await?
                .into_iter()
                .filter(|c| registry::glob_match(&centres, &c.id))
                .collect();
            let summary = run_sweep(&ctx, &store, channel, &selected, &centres).await?;
            print_summary(&summary, json)?;
        }
        Command::Lab => {
            let centres = ctx.sample_centres()?;
            let lab = Lab::start(&ctx.config.lab, &centres).await?;
            println!("{}", lab.ready_line());
            println!(
                "serving {} sample centres: /ok/ID/, /slow/ID/, /error/ID/, /moved/ID/, /a11y/ID/, /hang/ID/, /loop/ID/; Ctrl-C stops",
                centres.len()
            );
            tokio::signal::ctrl_c().await?;
            lab.stop();
        }
        Command::Results {
            centre,
            since,
            channel,
            sweep,
            limit,
            json,
        } => {
            let since = since.map(|s| parse_since(&s)).transpose()?;
            let filter = ResultFilter {
                centre_id: centre,
                channel: channel.map(|c| c.as_str().to_string()),
                since,
                sweep_id: sweep,
                limit,
                ..ResultFilter::default()
            };
            let store = ctx.store().await?;
            let results = store.results(&filter).await?;
            let scoring =
                raqib::verdict::result_scoring(&store, &ctx.config.scoring, &results).await?;
            if json {
                for (r, s) in results.iter().zip(&scoring) {
                    let mut v = r.to_json();
                    v["scoring"] = serde_json::to_value(s)?;
                    println!("{v}");
                }
            } else {
                print_results(&results, &scoring);
            }
        }
        Command::Users(cmd) => users_cmd(&ctx.store().await?, cmd).await?,
        Command::Serve {
            run,
            listen,
            metrics_listen,
            agent,
            agent_tags,
        } => {
            if let Some(a) = &agent {
                if a.trim().is_empty() || a.chars().any(char::is_whitespace) {
                    return Err(bad("--agent: an agent name is one word"));
                }
                ctx.config.agent.name = Some(a.clone());
            }
            if !agent_tags.is_empty() {
                if let Some(t) = agent_tags
                    .iter()
                    .find(|t| t.is_empty() || t.contains([' ', ',', ';']))
                {
                    return Err(bad(format!(
                        "--agent-tag '{t}': a tag has no spaces, commas or semicolons"
                    )));
                }
                ctx.config.agent.tags = agent_tags;
            }
            for name in &run {
                if !ctx.config.schedule.iter().any(|s| &s.name == name) {
                    return Err(bad(format!("--run '{name}': no [[schedule]] of that name")));
                }
            }
            if ctx.config.schedule.is_empty() {
                eprintln!(
                    "serve: no [[schedule]] in the config: only unfinished sweeps are resumed"
                );
            }
            let store = ctx.store().await?;
            raqib::schedule::serve::check_selectors(&ctx.config.schedule, &store.centres().await?)
                .map_err(bad)?;
            let heartbeat = Arc::new(raqib::schedule::serve::Heartbeat::new(&ctx.config));
            if let Some(addr) = listen {
                let bound = raqib::server::start(
                    addr,
                    ctx.config.clone(),
                    store.clone(),
                    Some(heartbeat.clone()),
                )
                .await?;
                eprintln!("serve: dashboard and API on http://{bound}");
            }
            if let Some(addr) = metrics_listen {
                let bound =
                    raqib::server::metrics::start(addr, ctx.config.clone(), store.clone()).await?;
                eprintln!("serve: metrics on http://{bound}/metrics");
            }
            let server = raqib::schedule::serve::Server::new(ctx.config.clone(), store)
                .await?
                .with_heartbeat(heartbeat);
            let stop = async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            };
            server.run(&run, stop).await?;
        }
        Command::Report {
            period,
            format,
            lang,
            out,
        } => {
            let p = period.period()?;
            let store = ctx.store().await?;
            scoring_cmd::check_agency(&store, period.agency.as_deref()).await?;
            let r = raqib::report::build(
                &store,
                &ctx.config,
                &p,
                period.agency.as_deref(),
                Utc::now(),
            )
            .await?;
            let lang = match lang {
                ReportLang::Ar => raqib::report::Lang::Ar,
                ReportLang::En => raqib::report::Lang::En,
            };
            let bytes = match format {
                ReportFormat::Html => raqib::report::html::render(&r, lang).into_bytes(),
                ReportFormat::Pdf => {
                    let html = raqib::report::html::render(&r, lang);
                    raqib::report::pdf::print(&ctx.config.browser.path, &html).await?
                }
                ReportFormat::Json => {
                    let mut b = serde_json::to_vec_pretty(&r)?;
                    b.push(b'\n');
                    b
                }
                ReportFormat::Csv => raqib::report::csv(&r, lang)?,
            };
            match out {
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
                Some(path) => {
                    // Written beside the target and renamed: a reader never sees half a report.
                    let tmp = path.with_extension("partial");
                    std::fs::write(&tmp, &bytes)
                        .with_context(|| format!("cannot write {}", tmp.display()))?;
                    std::fs::rename(&tmp, &path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "report {}: {} centres, {} flagged → {}",
                        r.period,
                        r.summary.centres,
                        r.summary.flagged,
                        path.display()
                    );
                }
            }
        }
        Command::Alerts { cmd, limit, json } => match cmd {
            None => {
                if limit < 1 {
                    return Err(bad("--limit must be at least 1"));
                }
                alerts_cmd::list(&ctx.store().await?, limit, json).await?;
            }
            Some(AlertsCmd::Run { period, json }) => {
                let p = match period {
                    Some(p) => Some(Period::parse(&p).map_err(|e| bad(e.to_string()))?),
                    None => None,
                };
                alerts_cmd::run(&ctx.store().await?, &ctx.config, p, json).await?;
            }
            Some(AlertsCmd::Test { json }) => alerts_cmd::test(&ctx.config, json).await?,
        },
        Command::Verdicts(VerdictsCmd::Refresh { period, all, json }) => {
            let store = ctx.store().await?;
            let verdicts = raqib::verdict::Verdicts::new(&store, &ctx.config);
            let periods = match (period, all) {
                (Some(p), _) => vec![Period::parse(&p).map_err(|e| bad(e.to_string()))?],
                (None, true) => verdicts.all_periods().await?,
                (None, false) => vec![Period::month_of(Utc::now())],
            };
            let started = std::time::Instant::now();
            for p in &periods {
                let t = std::time::Instant::now();
                let centres = verdicts.rebuild(p).await?;
                let secs = t.elapsed().as_secs_f64();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"period": p.label, "centres": centres, "seconds": secs})
                    );
                } else {
                    println!("{:<22} {centres:>5} centres  {secs:>7.2} s", p.label);
                }
            }
            if !json && periods.len() > 1 {
                println!(
                    "{} periods rebuilt in {:.1} s",
                    periods.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Command::Store(StoreCmd::Migrate { from, to, json }) => {
            use raqib::store::{migrate, redact, StoreUrl};
            let source = StoreUrl::parse(&from).map_err(|e| bad(format!("--from {e}")))?;
            StoreUrl::parse(&to).map_err(|e| bad(format!("--to {e}")))?;
            if let StoreUrl::Sqlite(path) = &source {
                // Opening a missing SQLite file would make an empty one.
                if !path.is_file() {
                    return Err(bad(format!("--from: no SQLite file at {}", path.display())));
                }
            }
            if from == to {
                return Err(bad("--from and --to are the same store"));
            }
            let a = Store::open(&ctx.data_dir, Some(&from)).await?;
            let b = Store::open(&ctx.data_dir, Some(&to)).await?;
            let copied = match migrate::copy(&a, &b, |table, n| {
                if !json {
                    eprintln!("{table}: {n} rows");
                }
            })
            .await
            {
                Err(e @ migrate::MigrateError::NotEmpty { .. }) => return Err(bad(e.to_string())),
                other => other?,
            };
            if json {
                let tables: serde_json::Map<String, serde_json::Value> = copied
                    .tables
                    .iter()
                    .map(|(t, n)| (t.clone(), (*n).into()))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"from": redact(&from), "to": redact(&to), "tables": tables})
                );
            } else {
                let rows: i64 = copied.tables.iter().map(|(_, n)| n).sum();
                println!(
                    "{} → {}: {rows} rows in {} tables, counts checked",
                    redact(&from),
                    redact(&to),
                    copied.tables.len()
                );
            }
        }
        Command::Agents { json } => {
            let store = ctx.store().await?;
            let lease = chrono::Duration::seconds(ctx.config.serve.lease_secs as i64);
            let now = Utc::now();
            for a in store.agents().await? {
                let beat = DateTime::parse_from_rfc3339(&a.heartbeat_at)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(now);
                // Alive: a heartbeat within a lease (they come every third of one).
                let alive = now - beat <= lease;
                if json {
                    let mut v = serde_json::to_value(&a)?;
                    v["alive"] = alive.into();
                    println!("{v}");
                } else {
                    println!(
                        "{:<20} {:<5} {:<24} {:>8} jobs  last seen {}  {}@{}",
                        a.name,
                        if alive { "alive" } else { "gone" },
                        if a.tags.is_empty() {
                            "-".to_string()
                        } else {
                            a.tags.join(",")
                        },
                        a.jobs_done,
                        a.heartbeat_at,
                        a.pid,
                        a.host
                    );
                }
            }
        }
        Command::Sweeps { limit, json } => {
            if limit < 1 {
                return Err(bad("--limit must be at least 1"));
            }
            let sweeps = ctx.store().await?.sweeps(None, limit).await?;
            print_sweeps(&sweeps, json)?;
        }
        Command::Scores {
            period,
            channel,
            centre,
            json,
        } => {
            let p = period.period()?;
            let store = ctx.store().await?;
            if let Some(id) = &centre {
                if store.centre(id).await?.is_none() {
                    return Err(bad(format!("no centre '{id}' in the registry")));
                }
            }
            let all =
                scoring_cmd::period_scores(&store, &p, &period.select(centre), &ctx.config).await?;
            scoring_cmd::print_scores(&all, channel.map(|c| c.as_str()), json);
        }
        Command::Flags { period, json } => {
            let p = period.period()?;
            let k = &ctx.config.scoring;
            let store = ctx.store().await?;
            let all =
                scoring_cmd::period_scores(&store, &p, &period.select(None), &ctx.config).await?;
            let list = scoring_cmd::flagged(&all, k);
            scoring_cmd::print_flags(&list, &p, k, json);
        }
        Command::Trends {
            period,
            against,
            json,
        } => {
            let p = period.period()?;
            let q = match &against {
                Some(a) => Period::parse(a).map_err(|e| bad(e.to_string()))?,
                None => p.previous(),
            };
            let k = &ctx.config.scoring;
            let store = ctx.store().await?;
            let select = period.select(None);
            let after = scoring_cmd::period_samples(&store, &p, &select, &ctx.config).await?;
            let before = scoring_cmd::period_samples(&store, &q, &select, &ctx.config).await?;
            let (rows, agencies) = scoring_cmd::trends(&after, &before, k);
            scoring_cmd::print_trends(&rows, &agencies, json);
        }
        Command::Cases { period, json } => {
            // The verdict of the period is brought up to date (cases open and close there);
            // then the cases are listed as stored.
            let p = period.period()?;
            let store = ctx.store().await?;
            scoring_cmd::period_scores(&store, &p, &period.select(None), &ctx.config).await?;
            scoring_cmd::cases_cmd(&store, json).await?;
        }
        Command::Label {
            result_id,
            answer_type,
            reason,
            time_to_person,
            by,
            json,
        } => {
            let store = ctx.store().await?;
            let req = raqib::score::load::LabelRequest {
                result_id,
                answer_type,
                reason,
                time_to_person_secs: time_to_person,
                by: by
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "auditor".into()),
            };
            let l = match raqib::score::load::label_call(&store, &ctx.config.scoring, &req).await {
                Err(raqib::score::load::LabelError::Bad(m)) => return Err(bad(m)),
                other => other?,
            };
            if json {
                println!("{}", serde_json::to_string(&l)?);
            } else {
                println!(
                    "result {result_id} labelled {} by {} (label {}); its call score is now {}",
                    req.answer_type,
                    l.by,
                    l.label,
                    l.score.map_or("-".into(), |s| format!("{s:.1}"))
                );
            }
        }
        Command::Demo { no_browser, json } => {
            if no_browser {
                ctx.config.browser.enabled = false;
            }
            let centres = ctx.sample_centres()?;
            let store = ctx.store().await?;
            let counts = store.upsert_centres(&centres).await?;
            let lab = Lab::start(&ctx.config.lab, &centres).await?;
            if !json {
                eprintln!(
                    "demo: {} sample centres in {} ({} added, {} updated); {}",
                    centres.len(),
                    ctx.data_dir.display(),
                    counts.added,
                    counts.updated,
                    lab.ready_line()
                );
            }
            // The lab's centre that never answers would hold the demo for the full minute.
            let mut demo = Ctx {
                config: ctx.config.clone(),
                data_dir: ctx.data_dir.clone(),
                store_url: ctx.store_url.clone(),
            };
            demo.config.call.ring_timeout_secs = demo.config.call.ring_timeout_secs.min(15);
            let phone = run_sweep(&demo, &store, Channel::Phone, &centres, "demo").await;
            let web = run_sweep(&demo, &store, Channel::Web, &centres, "demo").await;
            lab.stop();
            let (phone, web) = (phone?, web?);
            if json {
                println!("{}", serde_json::json!({"phone": phone, "web": web}));
            } else {
                print_summary(&phone, false)?;
                print_summary(&web, false)?;
            }
        }
        Command::Bench(BenchCmd::Calls {
            calls,
            concurrency,
            answer_ms,
            listen_secs,
            external_lab,
            json,
        }) => {
            let b = raqib::bench::calls(
                &ctx.config,
                calls,
                concurrency,
                answer_ms,
                listen_secs,
                external_lab,
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                let wire = match (
                    b.error_vs_wire_p50_ms,
                    b.error_vs_wire_p99_ms,
                    b.error_vs_wire_max_ms,
                ) {
                    (Some(p50), Some(p99), Some(max)) => {
                        format!("p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms")
                    }
                    _ => "not available (external lab)".into(),
                };
                println!(
                    "calls: {} calls, {} in flight, answer after {} ms, listen {} s: {:.1} s, {:.1} calls/s, {} answered",
                    b.calls, b.concurrency, b.answer_ms, b.listen_secs, b.elapsed_s, b.calls_per_s, b.answered
                );
                println!("answer time vs the lab's wire record: {wire}");
                println!(
                    "answer time vs the scripted delay:    p50 {:.3} ms, p99 {:.3} ms",
                    b.error_vs_script_p50_ms, b.error_vs_script_p99_ms
                );
                println!(
                    "RTP: {} packets received, {} lost; peak RSS {:.1} MB{}",
                    b.rtp_packets,
                    b.rtp_lost,
                    b.peak_rss_mb,
                    if wire.starts_with("not") {
                        " (raqib alone)"
                    } else {
                        " (raqib and the lab in one process)"
                    }
                );
            }
        }
        Command::Bench(BenchCmd::Browser {
            pages,
            tabs,
            urls,
            json,
        }) => {
            if pages == 0 || !(1..=32).contains(&tabs) {
                return Err(bad(
                    "--pages must be at least 1 and --tabs between 1 and 32",
                ));
            }
            let list = match urls {
                None => Vec::new(),
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let mut list = Vec::new();
                    for (i, line) in text.lines().enumerate() {
                        let line = line.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        list.push(
                            parse_url(line)
                                .map_err(|e| bad(format!("{}:{}: {e}", path.display(), i + 1)))?,
                        );
                    }
                    if list.is_empty() {
                        return Err(bad(format!("{}: no URL", path.display())));
                    }
                    list
                }
            };
            let b = raqib::bench::browser(&ctx.config, pages, tabs, list).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "browser audit: {} pages, {} tabs, {:.1} s: {:.0} pages/min; page mean {:.0} ms, p95 {:.0} ms; axe mean {:.0} ms, p95 {:.0} ms; browser peak RSS {:.0} MiB; {} not ok, {} restarts",
                    b.pages, b.tabs, b.elapsed_s, b.pages_per_min, b.page_mean_ms, b.page_p95_ms,
                    b.axe_mean_ms, b.axe_p95_ms, b.browser_peak_rss_mib, b.not_ok, b.restarts
                );
                let phases: Vec<String> = b
                    .phases_mean_ms
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.0}"))
                    .collect();
                println!("  page phases, mean ms: {}", phases.join(" · "));
            }
        }
        Command::Bench(BenchCmd::Verdicts {
            centres,
            months,
            calls,
            json,
        }) => {
            if !(1..=10_000).contains(&centres) || !(1..=36).contains(&months) || calls > 1000 {
                return Err(bad("--centres 1–10000, --months 1–36, --calls 0–1000"));
            }
            let b = raqib::verdict::bench::run(ctx.store_url.as_deref(), centres, months, calls)
                .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "verdicts on {}: {} centres, {} months, {} results (loaded in {:.1} s)\n\
                     rebuild every period ({}): {:.1} s\n\
                     read a month:      p50 {:.1} ms  p99 {:.1} ms (in process)\n\
                     report/overview:   p50 {:.1} ms  p99 {:.1} ms (in process)\n\
                     raqib serve, over loopback HTTP:\n\
                     GET /api/scores:   p50 {:.1} ms  p99 {:.1} ms\n\
                     GET / (overview):  p50 {:.1} ms  p99 {:.1} ms\n\
                     GET /metrics:      p50 {:.1} ms  p99 {:.1} ms (first scrape {:.0} ms)\n\
                     serve's memory after the views: {:.0} MB\n\
                     refresh after one new result: p50 {:.1} ms  p99 {:.1} ms\n\
                     this bench process's memory: {:.0} MB",
                    b.store,
                    b.centres,
                    b.months,
                    b.results,
                    b.load_s,
                    b.periods_rebuilt,
                    b.rebuild_all_s,
                    b.read_p50_ms,
                    b.read_p99_ms,
                    b.report_p50_ms,
                    b.report_p99_ms,
                    b.api_scores_p50_ms,
                    b.api_scores_p99_ms,
                    b.overview_p50_ms,
                    b.overview_p99_ms,
                    b.metrics_p50_ms,
                    b.metrics_p99_ms,
                    b.metrics_first_ms,
                    b.serve_rss_mb,
                    b.refresh_one_p50_ms,
                    b.refresh_one_p99_ms,
                    b.rss_mb
                );
            }
        }
        Command::Bench(BenchCmd::Agents {
            agents,
            jobs,
            batch,
            json,
        }) => {
            if !(1..=64).contains(&agents)
                || !(1..=1_000_000).contains(&jobs)
                || !(1..=1000).contains(&batch)
            {
                return Err(bad("--agents 1–64, --jobs 1–1000000, --batch 1–1000"));
            }
            let b = raqib::bench::agents(ctx.store_url.as_deref(), agents, jobs, batch).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "agents on {}: {} agents, {} jobs (claimed {} at a time) in {:.3} s: {:.0} jobs/s; per agent {:?}; {} results",
                    b.store, b.agents, b.jobs, b.batch, b.elapsed_s, b.jobs_per_s, b.per_agent, b.results
                );
            }
        }
        Command::Bench(BenchCmd::Web {
            urls,
            concurrency,
            tls,
            json,
        }) => {
            let b = raqib::bench::web(&ctx.config, urls, concurrency, tls).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "web availability{}: {} checks, {} in flight, {:.3} s: {:.0} checks/s; total p50 {:.3} ms, p99 {:.3} ms; {} not up",
                    if b.tls { " (https)" } else { "" },
                    b.checks, b.concurrency, b.elapsed_s, b.checks_per_s, b.p50_ms, b.p99_ms, b.failed
                );
            }
        }
    }
    Ok(())
}

async fn run_sweep(
    ctx: &Ctx,
    store: &Store,
    channel: Channel,
    centres: &[Centre],
    selection: &str,
) -> Result<SweepSummary> {
    if centres.is_empty() {
        return Err(sweep::SweepError::NoCentres(selection.to_string()).into());
    }
    let summary = match channel {
        Channel::Web => {
            sweep::run_web(&ctx.config, store, centres, selection, ProgressStyle::Auto).await?
        }
        Channel::Phone => {
            sweep::run_phone(&ctx.config, store, centres, selection, ProgressStyle::Auto).await?
        }
    };
    Ok(summary)
}

fn parse_since(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(format!(
                "--since '{s}': expected YYYY-MM-DD or an RFC 3339 time"
            ))
        })
}

async fn probe_web(
    ctx: &Ctx,
    target: &str,
    expect: Option<String>,
    browser: bool,
    pages: Option<usize>,
    json: bool,
) -> Result<()> {
    let store = ctx.store().await?;
    let req = on_demand::WebRequest {
        target: target.to_string(),
        expect,
        no_browser: !browser,
        pages,
    };
    let done = on_demand::web(&ctx.config, &store, &req, |id, result, data| {
        if json {
            println!("{}", with_id(id, data.clone()));
        } else {
            print_web_result(id, result);
        }
    })
    .await;
    on_demand_done(done)
}

/// An on-demand error the user must fix is bad input (exit 2).
fn on_demand_done(done: Result<Vec<i64>, on_demand::OnDemandError>) -> Result<()> {
    match done {
        Err(on_demand::OnDemandError::Bad(m)) => Err(bad(m)),
        Err(on_demand::OnDemandError::Audit(e)) => Err(bad(e.to_string())),
        Err(on_demand::OnDemandError::Probe(e)) => Err(e.into()),
        Err(on_demand::OnDemandError::Store(e)) => Err(e).context("storing the result"),
        Ok(_) => Ok(()),
    }
}

async fn probe_call(
    ctx: &Ctx,
    target: &str,
    ring_timeout: Option<u64>,
    after_answer: Option<config::AfterAnswer>,
    unlisted: bool,
    json: bool,
) -> Result<()> {
    let store = ctx.store().await?;
    let req = on_demand::CallRequest {
        target: target.to_string(),
        ring_timeout,
        after_answer,
        unlisted,
    };
    let done = on_demand::call(&ctx.config, &store, &req, |id, result, data| {
        if json {
            println!("{}", with_id(id, data.clone()));
        } else {
            print_call_result(id, result);
        }
    })
    .await;
    on_demand_done(done)
}

fn print_call_result(id: i64, r: &CallResult) {
    println!("{}  (result {id})", r.target);
    println!(
        "  outcome    {}{}",
        r.outcome.as_str(),
        r.sip_status
            .map(|s| format!(" ({s} {})", r.sip_reason.as_deref().unwrap_or("")))
            .unwrap_or_default()
    );
    if let Some(d) = &r.detail {
        println!("  detail     {d}");
    }
    let t = &r.timings_ms;
    println!(
        "  timeline   first response {} · ringing {} · answer {} · first audio {} after answer · total {:.1} ms",
        fmt_ms(t.first_response),
        fmt_ms(t.ringing),
        fmt_ms(t.answer),
        fmt_ms(t.first_audio),
        t.total
    );
    if let Some(a) = &r.answer_type {
        println!(
            "  heard      {} ({})",
            serde_json::to_value(a)
                .unwrap_or_default()
                .as_str()
                .unwrap_or(""),
            r.answer_type_source.as_deref().unwrap_or("heuristic")
        );
    }
    if let Some(q) = &r.rtp {
        println!(
            "  rtp        {} packets, {} lost ({:.2} %), jitter {:.2} ms, MOS {:.2}",
            q.packets, q.lost, q.loss_pct, q.jitter_ms, q.mos
        );
    }
    if let Some(p) = &r.recording {
        println!("  recording  {p}");
    }
    if let Some(p) = &r.sip_trace {
        println!("  sip trace  {p}");
    }
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1} ms"))
        .unwrap_or_else(|| "-".into())
}

fn print_web_result(id: i64, r: &WebResult) {
    println!("{}  (result {id})", r.target);
    println!(
        "  outcome    {}{}",
        r.outcome.as_str(),
        r.reason
            .as_ref()
            .map(|x| format!(" ({})", raqib::probe::code_of(x)))
            .unwrap_or_default()
    );
    if let Some(d) = &r.detail {
        println!("  detail     {d}");
    }
    if let Some(s) = r.http_status {
        println!("  status     {s}");
    }
    let t = &r.timings_ms;
    println!(
        "  timings    dns {} · connect {} · tls {} · ttfb {} · total {:.1} ms",
        fmt_ms(t.dns),
        fmt_ms(t.connect),
        fmt_ms(t.tls),
        fmt_ms(t.ttfb),
        t.total
    );
    if let Some(days) = r.tls_days_left {
        println!("  cert       expires in {days} days");
    }
    for (i, u) in r.redirects.iter().enumerate() {
        println!("  redirect {} → {u}", i + 1);
    }
    if let Some(b) = r.body_bytes {
        println!("  body       {b} bytes");
    }
    print_browser_audit(r);
}

fn print_browser_audit(r: &WebResult) {
    let Some(b) = &r.browser else {
        return;
    };
    println!(
        "  browser    {}{}",
        raqib::probe::code_of(&b.outcome),
        b.detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    );
    let t = &b.timings_ms;
    println!(
        "  page       ttfb {} · DOMContentLoaded {} · load {} · LCP {} · {} console errors · {} failed requests",
        fmt_ms(t.ttfb),
        fmt_ms(t.dom_content_loaded),
        fmt_ms(t.load),
        fmt_ms(t.lcp),
        b.console_errors,
        b.failed_requests
    );
    if let Some(s) = &b.screenshot {
        println!("  screenshot {s}");
    }
    if let Some(a) = &r.a11y {
        println!(
            "  a11y       {:.1}/100 (automated, {}, {} page{}) · {} violation{} · {} to review",
            a.score,
            a.engine,
            a.pages,
            if a.pages == 1 { "" } else { "s" },
            a.violations.len(),
            if a.violations.len() == 1 { "" } else { "s" },
            a.needs_review
        );
        for v in &a.violations {
            println!(
                "    {:<9} {:<28} WCAG {:<10} {} element{} on {} page{}{}",
                v.impact,
                v.id,
                if v.wcag.is_empty() {
                    "-".to_string()
                } else {
                    v.wcag.join(",")
                },
                v.nodes,
                if v.nodes == 1 { "" } else { "s" },
                v.pages,
                if v.pages == 1 { "" } else { "s" },
                v.selector
                    .as_ref()
                    .map(|s| format!(" · e.g. {s}"))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(a) = &r.arabic {
        let mark = |ok: bool| if ok { "yes" } else { "NO" };
        println!(
            "  arabic     lang {} · rtl {} · language switch {} · accessibility statement {} · phones {} · hours {}",
            mark(a.lang_ok),
            mark(a.rtl_ok),
            mark(a.language_switch),
            mark(a.accessibility_statement),
            match a.phone_matches {
                None => "n/a".to_string(),
                Some(true) => "yes".to_string(),
                Some(false) => format!("NO (missing {})", a.phones_missing.join(", ")),
            },
            mark(a.hours_published)
        );
    }
    for p in r.pages.iter().skip(1) {
        println!(
            "  page {}  {} · a11y {}",
            p.url,
            raqib::probe::code_of(&p.outcome),
            p.a11y
                .as_ref()
                .map(|a| format!("{:.1}", a.score))
                .unwrap_or_else(|| "-".into())
        );
    }
}

fn print_centres(centres: &[Centre]) {
    if centres.is_empty() {
        println!("no centres yet: raqib centres import FILE.csv");
        return;
    }
    println!(
        "{:<24} {:<40} {:<18} {:>6} {:>5}  hours",
        "id", "name", "timezone", "phones", "sites"
    );
    for c in centres {
        println!(
            "{:<24} {:<40} {:<18} {:>6} {:>5}  {}",
            c.id,
            truncate(&c.name_en, 40),
            c.timezone,
            c.phones.len(),
            c.websites.len(),
            c.hours
        );
        match c.tags.is_empty() {
            true => println!("{:<24} {}", "", c.name_ar),
            false => println!("{:<24} {}  [{}]", "", c.name_ar, c.tags.join(";")),
        }
    }
    println!("{} centres", centres.len());
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

async fn users_cmd(store: &Store, cmd: UsersCmd) -> Result<()> {
    match cmd {
        UsersCmd::Add { name, role } => {
            if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
                return Err(bad("a user name is one word"));
            }
            let role = match role {
                UserRole::Viewer => "viewer",
                UserRole::Auditor => "auditor",
                UserRole::Admin => "admin",
            };
            if !store.add_user(&name, role).await? {
                return Err(bad(format!("user '{name}' exists")));
            }
            println!("user {name} added ({role})");
        }
        UsersCmd::Remove { name } => {
            if !store.remove_user(&name).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            println!("user {name} removed; their tokens no longer work");
        }
        UsersCmd::Password { name } => {
            if !store_has_user(store, &name).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            let password = read_password(&format!("password for {name}: "))?;
            let hashed = match raqib::server::auth::hash_password(&password) {
                Err(raqib::server::auth::AuthError::ShortPassword) => {
                    return Err(bad("a password has at least 12 characters"))
                }
                other => other?,
            };
            if !store.set_password(&name, &hashed).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            eprintln!("password of {name} set; their dashboard sessions ended");
        }
        UsersCmd::Token { name, json } => {
            let token = raqib::server::auth::new_secret("rq_")?;
            if !store.add_token(&name, &token).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            if json {
                println!("{}", serde_json::json!({"user": name, "token": token}));
            } else {
                println!("{token}");
                eprintln!("(shown once: raqib keeps only its SHA-256)");
            }
        }
        UsersCmd::List { json } => {
            for u in store.users().await? {
                if json {
                    println!("{}", serde_json::to_string(&u)?);
                } else {
                    println!("{:<24} {:<8} {} tokens", u.name, u.role, u.tokens);
                }
            }
        }
    }
    Ok(())
}

async fn store_has_user(store: &Store, name: &str) -> Result<bool> {
    Ok(store.users().await?.iter().any(|u| u.name == name))
}

/// One line from standard input; on a terminal, prompted on stderr with echo off.
fn read_password(prompt: &str) -> Result<String> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    // SAFETY: termios calls on fd 0 with a zeroed struct filled by tcgetattr.
    let saved = tty.then(|| unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then(|| {
            let mut quiet = t;
            quiet.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &quiet);
            t
        })
    });
    if tty {
        eprint!("{prompt}");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(Some(t)) = saved {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        eprintln!();
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn print_sweeps(sweeps: &[raqib::store::Sweep], json: bool) -> Result<()> {
    if json {
        for s in sweeps {
            let mut v = serde_json::to_value(s)?;
            v["status"] = s.live_status().into();
            println!("{v}");
        }
        return Ok(());
    }
    if sweeps.is_empty() {
        println!("no sweeps yet");
        return Ok(());
    }
    println!(
        "{:>5} {:<6} {:<11} {:>11} {:<24} {:<24} selection",
        "id", "chan", "status", "done/total", "started_at", "finished_at"
    );
    for s in sweeps {
        println!(
            "{:>5} {:<6} {:<11} {:>11} {:<24} {:<24} {}",
            s.id,
            s.channel,
            s.live_status(),
            format!("{}/{}", s.done, s.total),
            s.started_at,
            s.finished_at.as_deref().unwrap_or("-"),
            s.selection
        );
    }
    Ok(())
}

fn print_results(
    results: &[raqib::store::StoredResult],
    scoring: &[raqib::verdict::ResultScoring],
) {
    if results.is_empty() {
        println!("no results match");
        return;
    }
    println!(
        "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10} {:<14}  target",
        "id", "started_at", "chan", "centre", "outcome", "reason", "total", "score"
    );
    for (r, s) in results.iter().zip(scoring) {
        let total = match &r.probe {
            raqib::store::Probe::Call(c) => Some(c.timings_ms.total),
            raqib::store::Probe::Web(w) => Some(w.timings_ms.total),
            raqib::store::Probe::Unreadable => None,
        };
        // A call's score, a check's availability verdict, or why it does not count.
        let score = match (&s.excluded, &s.call, &s.web) {
            (Some(why), _, _) => format!("({})", raqib::probe::code_of(why)),
            (_, Some(c), _) => format!("{:.1}", c.score),
            (_, _, Some(w)) => if w.good { "good" } else { "bad" }.to_string(),
            _ => "-".into(),
        };
        println!(
            "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10} {:<14}  {}",
            r.id,
            r.started_at,
            r.channel,
            truncate(r.centre_id.as_deref().unwrap_or("-"), 22),
            r.outcome,
            r.reason.as_deref().unwrap_or("-"),
            fmt_ms(total),
            score,
            r.target
        );
    }
    println!("{} results", results.len());
}

fn print_summary(s: &SweepSummary, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let color = std::io::stdout().is_terminal();
    let names = sweep::outcomes_of(s.channel);
    // Only the outcomes that occurred get a column, so the table stays narrow.
    let shown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|o| s.outcomes.get(*o).copied().unwrap_or(0) > 0)
        .collect();
    println!(
        "\nsweep {} ({}) {}: {} checks in {:.1} s",
        s.sweep,
        s.channel,
        s.status,
        s.checks,
        s.elapsed_ms / 1000.0
    );
    let mut header = format!("{:<24} {:>6}", "centre", "checks");
    for o in &shown {
        header += &format!(" {:>w$}", o, w = o.len().max(4));
    }
    let a11y = s.centres.iter().any(|t| t.a11y.is_some());
    header += &format!(" {:>10}", "median");
    if a11y {
        header += &format!(" {:>5}", "a11y");
    }
    header += "  problem";
    println!("{header}");
    for t in &s.centres {
        let fine = t.outcomes.get(names[0]).copied().unwrap_or(0) == t.checks;
        let mark = match (color, fine) {
            (false, _) => "",
            (true, true) => "\x1b[32m",
            (true, false) => "\x1b[31m",
        };
        let end = if color { "\x1b[0m" } else { "" };
        let mut row = format!("{mark}{:<24} {:>6}", t.centre, t.checks);
        for o in &shown {
            row += &format!(
                " {:>w$}",
                t.outcomes.get(*o).copied().unwrap_or(0),
                w = o.len().max(4)
            );
        }
        row += &format!(" {:>10}", fmt_ms(t.median_ms));
        if a11y {
            row += &format!(
                " {:>5}",
                t.a11y
                    .map(|x| format!("{x:.0}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        row += &format!("  {}{end}", t.problem.as_deref().unwrap_or(""));
        println!("{row}");
    }
    let mut total = format!("{:<24} {:>6}", "total", s.checks);
    for o in &shown {
        total += &format!(
            " {:>w$}",
            s.outcomes.get(*o).copied().unwrap_or(0),
            w = o.len().max(4)
        );
    }
    println!("{total}");
    Ok(())
}
