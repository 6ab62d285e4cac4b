//! The `alerts` commands: list alerts and their deliveries, evaluate and deliver now, and send
//! a test message through every configured contact.

use anyhow::Result;
use chrono::Utc;
use serde_json::json;

use raqib::alert::{self, Notifiers};
use raqib::config::Config;
use raqib::score::period::Period;
use raqib::store::Store;

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
    // The agents' `alerts` lease: no alert made or sent twice while a serve evaluates too.
    let owner = format!("cli:{}:{}", raqib::store::this_host(), std::process::id());
    if !store
        .take_lease("alerts", &owner, now + chrono::Duration::minutes(10))
        .await?
    {
        anyhow::bail!("an agent is evaluating or sending alerts right now: try again in a minute");
    }
    let work = async {
        let evaluated = alert::evaluate(store, config, &period, now).await?;
        let delivered = alert::deliver_due(store, config, &notifiers, Utc::now()).await?;
        anyhow::Ok((evaluated, delivered))
    }
    .await;
    store.release_lease("alerts", &owner).await?;
    let (evaluated, delivered) = work?;
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
                json!({"contact": contact, "ok": r.is_ok(), "error": r.as_ref().err()})
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
