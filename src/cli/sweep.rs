//! `raqib sweep`, `sweeps` and `results`: probe the selected centres now, and what sweeps
//! left behind.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use raqib::probe::Channel;
use raqib::registry::{self, Centre};
use raqib::schedule::sweep::{self, ProgressStyle};
use raqib::store::ResultFilter;

use super::print::{print_results, print_summary, print_sweeps};
use super::{bad, Ctx};

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Channel to sweep
    #[arg(long, value_enum, default_value = "web")]
    pub channel: Channel,
    /// Centre ids to include: shell globs, comma-separated (e.g. 'jo-*,sa-riyadh-*')
    #[arg(long, value_name = "GLOB", default_value = "*")]
    pub centres: String,
    /// Web: HTTP checks only, no browser audit
    #[arg(long)]
    pub no_browser: bool,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct SweepsArgs {
    /// At most this many
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: i64,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ResultsArgs {
    /// Only this centre
    #[arg(long, value_name = "ID")]
    pub centre: Option<String>,
    /// Only results started at or after this date (YYYY-MM-DD, UTC) or RFC 3339 time
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only this channel
    #[arg(long, value_enum)]
    pub channel: Option<Channel>,
    /// Only this sweep
    #[arg(long, value_name = "ID")]
    pub sweep: Option<i64>,
    /// At most this many results
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
    /// Only calls waiting for an auditor: the classifier was unsure of the answer type
    /// (`unknown`, its guess and confidence shown) and no label decides it yet; label one
    /// with `raqib label`
    #[arg(long)]
    pub needs_review: bool,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

pub async fn sweep(mut ctx: Ctx, args: SweepArgs) -> Result<()> {
    let SweepArgs {
        channel,
        centres,
        no_browser,
        json,
    } = args;
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
    let summary = sweep::run_channel(
        &ctx.config,
        &store,
        channel,
        &selected,
        &centres,
        ProgressStyle::Auto,
    )
    .await?;
    print_summary(&summary, json)?;
    Ok(())
}

pub async fn sweeps(ctx: &Ctx, args: SweepsArgs) -> Result<()> {
    let SweepsArgs { limit, json } = args;
    if limit < 1 {
        return Err(bad("--limit must be at least 1"));
    }
    let sweeps = ctx.store().await?.sweeps(None, limit).await?;
    print_sweeps(&sweeps, json)?;
    Ok(())
}

pub async fn results(ctx: &Ctx, args: ResultsArgs) -> Result<()> {
    let ResultsArgs {
        centre,
        since,
        channel,
        sweep,
        limit,
        needs_review,
        json,
    } = args;
    let since = since.map(|s| parse_since(&s)).transpose()?;
    let filter = ResultFilter {
        centre_id: centre,
        channel: channel.map(|c| c.as_str().to_string()),
        since,
        sweep_id: sweep,
        limit,
        needs_review,
        ..ResultFilter::default()
    };
    let store = ctx.store().await?;
    let results = store.results(&filter).await?;
    let scoring = raqib::verdict::result_scoring(&store, &ctx.config.scoring, &results).await?;
    if json {
        for (r, s) in results.iter().zip(&scoring) {
            let mut v = r.to_json();
            v["scoring"] = serde_json::to_value(s)?;
            println!("{v}");
        }
    } else {
        print_results(&results, &scoring);
    }
    Ok(())
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
