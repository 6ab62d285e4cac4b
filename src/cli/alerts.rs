//! The `alerts` commands: list alerts and their deliveries, evaluate and deliver now, and send
//! a test message through every configured contact.

use anyhow::Result;
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use raqib::alert::{self, Notifiers};
use raqib::config::Config;
use raqib::score::period::Period;
use raqib::store::Store;

use super::{bad, Ctx};

/// A delivery failed for good (or a test message failed): exit 1 after printing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryFailed(pub String);

pub async fn list(store: &Store, limit: i64, json: bool) -> Result<()> {
    let alerts = store.alerts(limit).await?;
    if json {
        for a in &alerts {
            println!("{}", serde_json::to_string(a)?);
        }
        return Ok(());
    }
    if alerts.is_empty() {
        println!("no alerts yet");
        return Ok(());
    }
    for a in &alerts {
        println!(
            "{:>5} {:<10} {:<24} {:<6} {:<9} {:<12} {:>6}  {}",
            a.id,
            a.kind,
            a.centre.as_deref().unwrap_or("-"),
            a.channel.as_deref().unwrap_or("-"),
            a.period.as_deref().unwrap_or("-"),
            a.class.as_deref().unwrap_or("-"),
            a.score.map_or("-".into(), |s| format!("{s:.1}")),
            a.created_at
        );
        if a.deliveries.is_empty() {
            println!("        (no contact for this agency)");
        }
        for d in &a.deliveries {
            println!(
                "        {:<8} {} ({} {}){}",
                d.status,
                d.contact,
                d.attempts,
                if d.attempts == 1 { "try" } else { "tries" },
                d.last_error
                    .as_deref()
                    .map_or(String::new(), |e| format!(": {e}"))
            );
        }
    }
    Ok(())
}

/// Evaluates `period` (default: the current `[alerts] period`), stores the alerts it calls for and tries every
/// due delivery once.
pub async fn run(store: &Store, config: &Config, period: Option<Period>, json: bool) -> Result<()> {
    let notifiers = Notifiers::new(config)?;
    let now = Utc::now();
    let period = period.unwrap_or_else(|| alert::default_period(config, now));
    let owner = format!("cli:{}:{}", raqib::store::this_host(), std::process::id());
    let (evaluated, delivered) =
        alert::run_now(store, config, &notifiers, &period, &owner, now).await?;
    if json {
        println!(
            "{}",
            json!({"evaluated": evaluated, "delivered": delivered})
        );
    } else {
        println!(
            "period {}: {} new alerts, {} flags already alerted",
            evaluated.period,
            evaluated.alerts.len(),
            evaluated.unchanged
        );
        for line in &delivered.attempts {
            println!("  {line}");
        }
        println!(
            "deliveries: {} sent, {} to retry, {} failed",
            delivered.sent, delivered.retrying, delivered.failed
        );
    }
    if delivered.failed > 0 {
        return Err(DeliveryFailed(format!(
            "{} deliveries failed for good (see raqib alerts)",
            delivered.failed
        ))
        .into());
    }
    Ok(())
}

pub async fn test(config: &Config, json: bool) -> Result<()> {
    if config.alerts.contact.is_empty() {
        return Err(
            DeliveryFailed("no [[alerts.contact]] in the config: nothing to test".into()).into(),
        );
    }
    let results = alert::test(config).await?;
    let mut failed = 0;
    for (contact, r) in &results {
        if r.is_err() {
            failed += 1;
        }
        if json {
            println!(
                "{}",
                json!({"contact": contact, "ok": r.is_ok(), "error": r.as_ref().err().map(|e| e.to_string())})
            );
        } else {
            match r {
                Ok(()) => println!("ok      {contact}"),
                Err(e) => println!("FAILED  {contact}: {e}"),
            }
        }
    }
    if failed > 0 {
        return Err(
            DeliveryFailed(format!("{failed} of {} contacts failed", results.len())).into(),
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub cmd: Option<AlertsCmd>,
    /// At most this many alerts, newest first
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: i64,
    /// One JSON object per line (each alert with its deliveries)
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum AlertsCmd {
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

pub const HELP: &str = "\
A flag (phone at or under the threshold, confirmed or provisional; or a critical flag) is
alerted once per centre, channel and period, and again only if its score worsens or its class
changes. An overdue follow-up case goes to the escalation contacts; a closed one gets a
\"resolved\" message. Each contact's delivery is retried with back-off ([alerts] retry_secs,
doubling, at most an hour) up to retry_attempts tries, then recorded as failed.
";

/// After the notifier kinds' config example.
pub const EXAMPLES: &str = "\
Examples:
  raqib alerts
  raqib alerts run --period 2026-11
  raqib alerts test";

pub async fn exec(ctx: &Ctx, args: AlertsArgs) -> Result<()> {
    let AlertsArgs { cmd, limit, json } = args;
    match cmd {
        None => {
            if limit < 1 {
                return Err(bad("--limit must be at least 1"));
            }
            list(&ctx.store().await?, limit, json).await?;
        }
        Some(AlertsCmd::Run { period, json }) => {
            let p = match period {
                Some(p) => Some(Period::parse(&p).map_err(|e| bad(e.to_string()))?),
                None => None,
            };
            run(&ctx.store().await?, &ctx.config, p, json).await?;
        }
        Some(AlertsCmd::Test { json }) => test(&ctx.config, json).await?,
    }
    Ok(())
}
