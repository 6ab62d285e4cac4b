//! `raqib store migrate` and `raqib agents`: the store itself and the agents sharing it.

use anyhow::Result;
use chrono::Utc;
use clap::Subcommand;

use raqib::store::Store;

use super::{bad, Ctx};

#[derive(Subcommand)]
pub enum StoreCmd {
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
    /// Delete recordings, SIP traces and screenshots older than [retention] keeps them; each
    /// result keeps its row, measurements and verdicts, and says its evidence expired.
    /// `serve` runs this daily
    Prune {
        /// Count what would go, delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Prune as on this day (UTC, YYYY-MM-DD) instead of today: with --dry-run, what a
        /// prune then will delete
        #[arg(long, value_name = "DAY")]
        as_of: Option<chrono::NaiveDate>,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
}

async fn prune(
    ctx: &Ctx,
    dry_run: bool,
    as_of: Option<chrono::NaiveDate>,
    json: bool,
) -> Result<()> {
    let now = match as_of {
        Some(day) => day.and_hms_opt(12, 0, 0).expect("noon exists").and_utc(),
        None => Utc::now(),
    };
    let store = ctx.store().await?;
    let p = store
        .prune_evidence(&ctx.config.retention, now, dry_run)
        .await?;
    if json {
        println!("{}", serde_json::to_string(&p)?);
        return Ok(());
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    for (kind, t) in &p.deleted {
        let kept = match p.before.get(kind) {
            Some(day) => format!("evidence of results before {day} (UTC)"),
            None => "kept for ever ([retention] 0)".into(),
        };
        println!(
            "{:<12} {verb} {:>7} files, {:>10}: {kept}",
            kind.as_str(),
            t.files,
            raqib::store::retention::size(t.bytes)
        );
    }
    println!(
        "{} results {} their evidence expired",
        p.results_marked,
        if dry_run { "would say" } else { "now say" }
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct AgentsArgs {
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

pub async fn exec(ctx: &Ctx, cmd: StoreCmd) -> Result<()> {
    let (from, to, json) = match cmd {
        StoreCmd::Migrate { from, to, json } => (from, to, json),
        StoreCmd::Prune {
            dry_run,
            as_of,
            json,
        } => return prune(ctx, dry_run, as_of, json).await,
    };
    use raqib::store::migrate;
    use raqib::store_url::{redact, StoreUrl};
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
    Ok(())
}

pub async fn agents(ctx: &Ctx, args: AgentsArgs) -> Result<()> {
    let AgentsArgs { json } = args;
    let store = ctx.store().await?;
    let lease = chrono::Duration::seconds(ctx.config.serve.lease_secs as i64);
    let now = Utc::now();
    for a in store.agents().await? {
        let alive = a.alive(now, lease);
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
    Ok(())
}
