//! The `raqib` command line: parses arguments, loads the config and the store, calls the
//! modules, and prints for people or, with `--json`, for scripts.
//!
//! Exit codes: 0 the command ran (whatever the probes found), 2 bad input (arguments, config,
//! CSV, unknown centre), 1 raqib's own failure.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use raqib::config::{self, Config};
use raqib::lab::Lab;
use raqib::probe::web::{parse_url, WebProbe, WebResult, WebTarget};
use raqib::probe::Channel;
use raqib::registry::{self, Centre};
use raqib::schedule::sweep::{self, ProgressStyle, SweepSummary};
use raqib::store::{NewResult, ResultFilter, Store};

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
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
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
    /// The main job on the embedded default: import the sample centres, start the lab, sweep it
    Demo {
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Measure throughput and print the figures
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Subcommand)]
enum CentresCmd {
    /// Load centres from a CSV file (all rows or none); existing ids are updated
    Import {
        /// CSV with columns id,name_ar,name_en,agency,region,timezone,hours,phones,websites
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
    /// Check a website's availability: a URL, or a centre id for all its websites
    Web {
        /// http(s) URL or centre id
        target: String,
        /// The page must contain this text (default for a centre: the config's content_check)
        #[arg(long, value_name = "TEXT")]
        expect: Option<String>,
        /// One JSON object per line per target
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
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
                    e.downcast_ref::<sweep::SweepError>(),
                    Some(sweep::SweepError::NoCentres(_) | sweep::SweepError::Unsupported(_))
                );
            eprintln!("raqib: {e:#}");
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

struct Ctx {
    config: Config,
    data_dir: PathBuf,
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
        Ok(Ctx { config, data_dir })
    }

    async fn store(&self) -> Result<Store> {
        Ok(Store::open_data_dir(&self.data_dir).await?)
    }

    fn sample_centres(&self) -> Result<Vec<Centre>> {
        Ok(match &self.config.registry.sample_centres {
            Some(p) => registry::read_csv(p)?,
            None => registry::parse_csv(registry::SAMPLE_CSV.as_bytes(), "config/centres.csv")?,
        })
    }
}

async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::load(&cli)?;
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
            json,
        }) => probe_web(&ctx, &target, expect, json).await?,
        Command::Sweep {
            channel,
            centres,
            json,
        } => {
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
                "serving {} sample centres: /ok/ID/, /slow/ID/, /error/ID/, /moved/ID/; Ctrl-C stops",
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
            };
            let results = ctx.store().await?.results(&filter).await?;
            if json {
                for r in &results {
                    println!("{}", r.to_json());
                }
            } else {
                print_results(&results);
            }
        }
        Command::Demo { json } => {
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
            let summary = run_sweep(&ctx, &store, Channel::Web, &centres, "demo").await;
            lab.stop();
            print_summary(&summary?, json)?;
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
        Channel::Phone => return Err(sweep::SweepError::Unsupported(channel).into()),
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

async fn probe_web(ctx: &Ctx, target: &str, expect: Option<String>, json: bool) -> Result<()> {
    let store = ctx.store().await?;
    let targets: Vec<WebTarget> = if target.contains("://") {
        let url = parse_url(target).map_err(bad)?;
        vec![WebTarget {
            url,
            centre: None,
            expect,
        }]
    } else {
        let centre = store.centre(target).await?.ok_or_else(|| {
            bad(format!(
                "'{target}' is neither a URL nor a known centre id (see `raqib centres list`)"
            ))
        })?;
        let mut t = WebTarget::of_centre(&centre, ctx.config.web.content_check);
        if t.is_empty() {
            return Err(bad(format!("centre '{target}' has no website")));
        }
        if expect.is_some() {
            for x in &mut t {
                x.expect = expect.clone();
            }
        }
        t
    };
    let probe = WebProbe::new(&ctx.config.web)?;
    for t in &targets {
        let result = probe.check_or_error(t).await;
        let data = serde_json::to_value(&result)?;
        let id = store
            .insert_result(&NewResult {
                channel: Channel::Web.as_str(),
                centre_id: result.centre.as_deref(),
                target: &result.target,
                started_at: result.started_at,
                outcome: data["outcome"].as_str().unwrap_or_default(),
                reason: data["reason"].as_str(),
                sweep_id: None,
                data: &data,
            })
            .await
            .context("storing the result")?;
        if json {
            let mut out = serde_json::Map::new();
            out.insert("id".into(), id.into());
            if let serde_json::Value::Object(m) = data {
                out.extend(m);
            }
            println!("{}", serde_json::Value::Object(out));
        } else {
            print_web_result(id, &result);
        }
    }
    Ok(())
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1} ms"))
        .unwrap_or_else(|| "-".into())
}

fn print_web_result(id: i64, r: &WebResult) {
    let data = serde_json::to_value(r).unwrap_or_default();
    println!("{}  (result {id})", r.target);
    println!(
        "  outcome    {}{}",
        data["outcome"].as_str().unwrap_or_default(),
        data["reason"]
            .as_str()
            .map(|x| format!(" ({x})"))
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
        println!("{:<24} {}", "", c.name_ar);
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

fn print_results(results: &[raqib::store::StoredResult]) {
    if results.is_empty() {
        println!("no results match");
        return;
    }
    println!(
        "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10}  target",
        "id", "started_at", "chan", "centre", "outcome", "reason", "total"
    );
    for r in results {
        let total = r.data["timings_ms"]["total"].as_f64();
        println!(
            "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10}  {}",
            r.id,
            r.started_at,
            r.channel,
            truncate(r.centre_id.as_deref().unwrap_or("-"), 22),
            r.outcome,
            r.reason.as_deref().unwrap_or("-"),
            fmt_ms(total),
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
    println!(
        "\nsweep {} ({}) {}: {} checks in {:.1} s",
        s.sweep,
        s.channel,
        s.status,
        s.checks,
        s.elapsed_ms / 1000.0
    );
    println!(
        "{:<24} {:>6} {:>4} {:>8} {:>5} {:>5} {:>10}  problem",
        "centre", "checks", "up", "degraded", "down", "error", "median"
    );
    for t in &s.centres {
        let mark = if !color {
            ""
        } else if t.down + t.error > 0 {
            "\x1b[31m"
        } else if t.degraded > 0 {
            "\x1b[33m"
        } else {
            "\x1b[32m"
        };
        let end = if color { "\x1b[0m" } else { "" };
        println!(
            "{mark}{:<24} {:>6} {:>4} {:>8} {:>5} {:>5} {:>10}  {}{end}",
            t.centre,
            t.checks,
            t.up,
            t.degraded,
            t.down,
            t.error,
            fmt_ms(t.median_total_ms),
            t.problem.as_deref().unwrap_or("")
        );
    }
    println!(
        "{:<24} {:>6} {:>4} {:>8} {:>5} {:>5}",
        "total", s.checks, s.up, s.degraded, s.down, s.error
    );
    Ok(())
}
