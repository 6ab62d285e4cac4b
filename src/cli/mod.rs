//! The command line's commands, one file per group: each declares its arguments (whose doc
//! comments are the --help texts) and an `exec` that calls the library and prints, for people
//! or, with `--json`, for scripts. `print.rs` holds the tables shared by several commands.

pub mod alerts;
pub mod bench;
pub mod centres;
pub mod lab;
pub mod operator;
pub mod print;
pub mod probe;
pub mod report;
pub mod scores;
pub mod serve;
pub mod store;
pub mod sweep;
pub mod users;

use std::path::PathBuf;

use anyhow::Result;
use chrono::Utc;
use clap::{Parser, Subcommand};

use raqib::bench::BenchError;
use raqib::config::{self, Config};
use raqib::probe::ProbeError;
use raqib::registry::{self, Centre};
use raqib::schedule::sweep::SweepError;
use raqib::score::period::Period;
use raqib::store::Store;
use raqib::store_url::{self, StoreUrl};

use scores::Select;

#[derive(Parser)]
#[command(
    name = "raqib",
    version = concat!(
        env!("CARGO_PKG_VERSION"),
        " (axe-core ",
        env!("RAQIB_AXE_VERSION"),
        ")"
    ),
    about = "raqib (رقيب): an audit robot for government service centres",
    long_about = "raqib places real test calls and visits websites of government service centres, \
stores what it measured as evidence, and scores each centre per channel and period.\n\n\
Start with `raqib demo` (a sweep of the local lab's sample centres), then \
`raqib centres import YOUR.csv` and `raqib sweep`."
)]
pub struct Cli {
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
    /// How `serve` and long commands write their log on stderr: text, or one JSON object a
    /// line. The level comes from RUST_LOG (default info; e.g. RUST_LOG=raqib=debug,sqlx=warn)
    #[arg(
        long,
        global = true,
        env = "RAQIB_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: raqib::logs::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Manage the centre registry
    #[command(subcommand)]
    Centres(centres::CentresCmd),
    /// Probe one target now and store the result
    #[command(subcommand)]
    Probe(probe::ProbeCmd),
    /// Probe every target of the selected centres on one channel
    Sweep(sweep::SweepArgs),
    /// Run the [[schedule]] entries until SIGTERM or Ctrl-C: sweeps planned as jobs in the
    /// store, phone calls inside each centre's hours, a killed run finished at the next start
    #[command(after_help = serve::HELP)]
    Serve(serve::ServeArgs),
    /// The store itself: `store migrate` moves a unit's history to another store
    #[command(subcommand)]
    Store(store::StoreCmd),
    /// Agents that ran `raqib serve` on this store: their tags, last heartbeat and the results
    /// each stored
    Agents(store::AgentsArgs),
    /// Users of the API and their tokens (roles viewer, auditor, admin)
    #[command(subcommand)]
    Users(users::UsersCmd),
    /// The stored verdicts (score, interval, band, flag, rank, trend, case per centre and
    /// period) that every surface reads
    #[command(subcommand)]
    Verdicts(scores::VerdictsCmd),
    /// Past and running sweeps, newest first, with their progress
    Sweeps(sweep::SweepsArgs),
    /// Alerts to agency leadership and their deliveries; `alerts run` evaluates and delivers
    /// now, `alerts test` sends a test message through every contact
    #[command(after_help = format!(
        "{}\nConfig:\n{}\n\n{}",
        alerts::HELP,
        raqib::alert::notifier::config_example(),
        alerts::EXAMPLES
    ))]
    Alerts(alerts::AlertsArgs),
    /// A period's report for leadership: summary, bands, flagged centres, trends against the
    /// period before, per-agency table and a row per centre
    #[command(after_help = report::HELP)]
    Report(report::ReportArgs),
    /// Serve the simulated lab centres on loopback until interrupted
    Lab,
    /// Show stored results, oldest first
    Results(sweep::ResultsArgs),
    /// The main job on the embedded default: import the sample centres, start the lab, sweep
    /// its phones and websites
    Demo(lab::DemoArgs),
    /// Scores per centre and channel for a period: components, counts, 95 % intervals, bands,
    /// gold/silver lists and the overall index (../shared/SCORING.md)
    #[command(after_help = scores::PERIOD_HELP)]
    Scores(scores::ScoresArgs),
    /// Centres at or under the phone threshold (confirmed, provisional, insufficient data),
    /// critical flags first; a flag opens a follow-up case
    #[command(after_help = scores::PERIOD_HELP)]
    Flags(scores::FlagsArgs),
    /// Improved, declined or unchanged per centre against an earlier period, and the counts
    /// per agency
    #[command(after_help = scores::PERIOD_HELP)]
    Trends(scores::TrendsArgs),
    /// Follow-up cases: opened by flags, closed by a later clear period, overdue after
    /// [scoring] follow_up_days
    #[command(after_help = scores::PERIOD_HELP)]
    Cases(scores::CasesArgs),
    /// Label a call as an auditor heard it: overrides the answer-type heuristic in scores;
    /// every label is kept with who, when and why
    Label(scores::LabelArgs),
    /// Measure throughput and print the figures
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// The configuration: `config check` prints the effective config, secrets redacted
    #[command(subcommand, after_help = operator::CONFIG_HELP)]
    Config(operator::ConfigCmd),
    /// Print a shell's completion script
    #[command(after_help = operator::COMPLETIONS_HELP)]
    Completions(operator::CompletionsArgs),
    /// Print the manual page (roff), or write one per command into a directory
    #[command(after_help = operator::MAN_HELP)]
    Man(operator::ManArgs),
}

#[derive(clap::Args)]
pub struct PeriodArgs {
    /// 2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-01..2026-11-30 (UTC days) [default: this month]
    #[arg(long, value_name = "PERIOD")]
    period: Option<String>,
    /// Only this agency's centres
    #[arg(long, value_name = "NAME")]
    agency: Option<String>,
}

impl PeriodArgs {
    pub fn period(&self) -> Result<Period> {
        match &self.period {
            Some(p) => Period::parse(p).map_err(|e| bad(e.to_string())),
            None => Ok(Period::month_of(Utc::now())),
        }
    }

    pub fn select(&self, centre: Option<String>) -> Select {
        Select {
            agency: self.agency.clone(),
            centre,
        }
    }
}

/// Input the user must fix: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(String);

pub fn bad(msg: impl Into<String>) -> anyhow::Error {
    BadInput(msg.into()).into()
}

/// Whether `e` is input the user must fix (exit 2) rather than raqib's own failure (exit 1).
pub fn is_bad_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<BadInput>().is_some()
        || e.downcast_ref::<config::ConfigError>().is_some()
        || e.downcast_ref::<registry::RegistryError>().is_some()
        || matches!(
            e.downcast_ref::<raqib::server::ServerError>(),
            Some(raqib::server::ServerError::MetricsToken(_))
        )
        || matches!(
            e.downcast_ref::<raqib::alert::AlertError>(),
            Some(raqib::alert::AlertError::Setup(_))
        )
        || e.downcast_ref::<ProbeError>().is_some_and(probe_input)
        || e.downcast_ref::<SweepError>().is_some_and(sweep_input)
        || e.downcast_ref::<BenchError>().is_some_and(bench_input)
        || matches!(
            e.downcast_ref::<raqib::demo::DemoError>(),
            Some(raqib::demo::DemoError::Sweep(s)) if sweep_input(s)
        )
}

fn probe_input(e: &ProbeError) -> bool {
    matches!(e, ProbeError::Secret { .. } | ProbeError::Notice { .. })
}

fn bench_input(e: &BenchError) -> bool {
    match e {
        BenchError::BadUrl { .. } | BenchError::NoUrl { .. } | BenchError::Registry(_) => true,
        BenchError::Probe(p) => probe_input(p),
        _ => false,
    }
}

fn sweep_input(e: &SweepError) -> bool {
    matches!(
        e,
        SweepError::NoCentres(_)
            | SweepError::Script(_)
            | SweepError::Audit(_)
            | SweepError::Alerts(_)
    )
}

/// The error and its causes, each said once: many errors already name their source in
/// their own text (`{path}: {source}`), and the chain would repeat it.
pub fn message_of(e: &anyhow::Error) -> String {
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

/// What every command starts from: the config, the data directory and the store's URL.
pub struct Ctx {
    pub config: Config,
    /// The file the config came from (`None`: the embedded default): what `serve` reads again
    /// on SIGHUP.
    pub config_path: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub store_url: Option<String>,
}

impl Ctx {
    pub fn load(cli: &Cli) -> Result<Ctx> {
        let path = match &cli.config {
            Some(p) => Some(p.clone()),
            None => {
                let p = PathBuf::from(config::DEFAULT_PATH);
                p.is_file().then_some(p)
            }
        };
        let config = Config::load(path.as_deref(), &raqib::alert::notifier::Kinds)?;
        let config_path = path;
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
                    store_url::with_password(u, &password).map_err(|e| bad(e.to_string()))?
                }
            }),
            (None, None) => None,
        };
        if let Some(u) = &store_url {
            StoreUrl::parse(u).map_err(|e| bad(format!("--store {e}")))?;
        }
        Ok(Ctx {
            config,
            config_path,
            data_dir,
            store_url,
        })
    }

    pub async fn store(&self) -> Result<Store> {
        Ok(Store::open(&self.data_dir, self.store_url.as_deref()).await?)
    }

    pub fn sample_centres(&self) -> Result<Vec<Centre>> {
        Ok(match &self.config.registry.sample_centres {
            Some(p) => registry::read_csv(p)?,
            None => registry::parse_csv(registry::SAMPLE_CSV.as_bytes(), "config/centres.csv")?,
        })
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    // These need no config: they must work where the config is broken or absent.
    let cli = match cli.command {
        Command::Completions(args) => {
            operator::completions(args);
            return Ok(());
        }
        Command::Man(args) => return operator::man(args),
        command => Cli { command, ..cli },
    };
    let ctx = Ctx::load(&cli)?;
    match cli.command {
        Command::Centres(cmd) => centres::exec(&ctx, cmd).await,
        Command::Probe(cmd) => probe::exec(&ctx, cmd).await,
        Command::Sweep(args) => sweep::sweep(ctx, args).await,
        Command::Serve(args) => serve::exec(ctx, args).await,
        Command::Store(cmd) => store::exec(&ctx, cmd).await,
        Command::Agents(args) => store::agents(&ctx, args).await,
        Command::Users(cmd) => users::exec(&ctx, cmd).await,
        Command::Verdicts(cmd) => scores::verdicts(&ctx, cmd).await,
        Command::Sweeps(args) => sweep::sweeps(&ctx, args).await,
        Command::Alerts(args) => alerts::exec(&ctx, args).await,
        Command::Report(args) => report::exec(&ctx, args).await,
        Command::Lab => lab::lab(&ctx).await,
        Command::Results(args) => sweep::results(&ctx, args).await,
        Command::Demo(args) => lab::demo(ctx, args).await,
        Command::Scores(args) => scores::scores(&ctx, args).await,
        Command::Flags(args) => scores::flags(&ctx, args).await,
        Command::Trends(args) => scores::trends(&ctx, args).await,
        Command::Cases(args) => scores::cases(&ctx, args).await,
        Command::Label(args) => scores::label(&ctx, args).await,
        Command::Bench(cmd) => bench::exec(&ctx, cmd).await,
        Command::Config(cmd) => {
            operator::config(&ctx, cmd, &operator::source_of(cli.config.as_deref()))
        }
        Command::Completions(_) | Command::Man(_) => unreachable!("answered above"),
    }
}
