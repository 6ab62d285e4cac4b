//! The `scores`, `flags`, `trends`, `cases`, `label` and `verdicts` commands: read a period's
//! stored verdicts and print tables or JSON; label a call; rebuild the verdicts.

use anyhow::Result;
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use raqib::config::{Config, ScoringConfig};
use raqib::probe::Channel;
use raqib::score::cases::{self, CaseStatus};
use raqib::score::period::Period;
use raqib::score::stats::Estimate;
use raqib::score::{self, CentreScores, FlagClass};
use raqib::store::Store;
use raqib::verdict::Verdicts;

use super::{bad, Ctx, PeriodArgs};

/// Which centres a command looks at.
pub struct Select {
    pub agency: Option<String>,
    pub centre: Option<String>,
}

/// Every centre's stored verdict for `period`, of the selected centres.
pub async fn period_scores(
    store: &Store,
    period: &Period,
    select: &Select,
    config: &Config,
) -> Result<Vec<CentreScores>> {
    period_scores_of(store, period, select, config, false).await
}

/// `period_scores` with the samples the bootstrap of a trend resamples.
pub async fn period_samples(
    store: &Store,
    period: &Period,
    select: &Select,
    config: &Config,
) -> Result<Vec<CentreScores>> {
    period_scores_of(store, period, select, config, true).await
}

async fn period_scores_of(
    store: &Store,
    period: &Period,
    select: &Select,
    config: &Config,
    samples: bool,
) -> Result<Vec<CentreScores>> {
    check_agency(store, select.agency.as_deref()).await?;
    let verdicts = Verdicts::new(store, config);
    let mut all = match samples {
        true => verdicts.scores_with_samples(period).await?,
        false => verdicts.scores(period).await?,
    };
    all.retain(|c| {
        select.agency.as_ref().is_none_or(|a| &c.agency == a)
            && select.centre.as_ref().is_none_or(|id| &c.centre == id)
    });
    Ok(all)
}

/// An agency filter must name an agency of the registry (`registry::check_agency`).
pub async fn check_agency(store: &Store, agency: Option<&str>) -> Result<()> {
    let Some(agency) = agency else {
        return Ok(());
    };
    raqib::registry::check_agency(&store.centres().await?, agency).map_err(|e| bad(e.to_string()))
}

fn est(e: &Option<Estimate>) -> String {
    match e {
        Some(e) => format!("{:.1} [{:.1}–{:.1}]", e.value, e.low, e.high),
        None => "-".into(),
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.1}"))
}

fn json_of(c: &CentreScores) -> serde_json::Value {
    serde_json::to_value(c).expect("scores serialise")
}

pub fn print_scores(all: &[CentreScores], channel: Option<Channel>, json: bool) {
    if json {
        for c in all {
            let mut v = json_of(c);
            if let Some(ch) = channel {
                for other in Channel::ALL.into_iter().filter(|c| *c != ch) {
                    v.as_object_mut().unwrap().remove(other.as_str());
                }
            }
            println!("{v}");
        }
        return;
    }
    let Some(first) = all.first() else {
        println!("no centres");
        return;
    };
    println!("period {}", first.period);
    println!(
        "{:<24} {:>9} {:<22} {:<22} {:>7} {:<9} {:<6} flag",
        "centre", "calls", "phone", "web", "overall", "band", "list"
    );
    for c in all {
        let web = match &c.web.inherited_from {
            Some(_) => format!("{} (agency)", opt(c.web.score.map(|e| e.value))),
            None => est(&c.web.score),
        };
        let excluded: u64 = c.phone.excluded.values().sum();
        let calls = match excluded {
            0 => c.phone.valid_calls.to_string(),
            x => format!("{} (+{x})", c.phone.valid_calls),
        };
        println!(
            "{:<24} {:>9} {:<22} {:<22} {:>7} {:<9} {:<6} {}{}",
            c.centre,
            calls,
            if channel.is_some_and(|c| c != Channel::Phone) {
                "".into()
            } else {
                est(&c.phone.score)
            },
            if channel.is_some_and(|c| c != Channel::Web) {
                "".into()
            } else {
                web
            },
            opt(c.overall),
            c.band
                .map_or("-".into(), |b| format!("{b:?}").to_lowercase()),
            c.list.as_deref().unwrap_or("-"),
            flag_word(c.flag),
            if c.critical.is_empty() {
                ""
            } else {
                " · CRITICAL"
            },
        );
    }
    let unscored: Vec<&CentreScores> = all.iter().filter(|c| !c.unscored.is_empty()).collect();
    if !unscored.is_empty() {
        println!("no overall index (not ranked):");
        for c in unscored {
            println!(
                "  {:<24} {}",
                c.centre,
                raqib::report::unscored_words(&c.unscored, raqib::report::Lang::En)
            );
        }
    }
    println!(
        "calls: valid (+ not counted: raqib or network faults, guard refusals, outside hours)\n\
         phone: mean call score [95 % bootstrap interval]; web: 0.4 availability + 0.3 LCP + \
         0.3 accessibility (automated)"
    );
}

pub fn flag_word(f: FlagClass) -> &'static str {
    match f {
        FlagClass::Confirmed => "confirmed",
        FlagClass::Provisional => "provisional",
        FlagClass::InsufficientData => "insufficient data",
        FlagClass::Clear => "clear",
    }
}

pub use raqib::score::flagged;

pub fn print_flags(list: &[&CentreScores], period: &Period, k: &ScoringConfig, json: bool) {
    if json {
        for c in list {
            println!(
                "{}",
                json!({
                    "period": period.label,
                    "centre": c.centre,
                    "agency": c.agency,
                    "class": c.flag,
                    "critical": c.critical,
                    "phone": {
                        "score": c.phone.score,
                        "valid_calls": c.phone.valid_calls,
                        "min_calls": c.phone.min_calls,
                        "answer_rate": c.phone.answer_rate,
                        "reached_person": c.phone.reached_person,
                    },
                })
            );
        }
        return;
    }
    println!(
        "period {}: {} centres at or under {} on the phone, or with a critical flag",
        period.label,
        list.len(),
        k.threshold
    );
    for c in list {
        println!(
            "{:<24} {:<18} phone {:<22} {} valid calls (min {}){}",
            c.centre,
            flag_word(c.flag),
            est(&c.phone.score),
            c.phone.valid_calls,
            c.phone.min_calls,
            if c.critical.is_empty() {
                ""
            } else {
                " · CRITICAL"
            }
        );
        for x in &c.critical {
            println!("    critical: {} (results {:?})", x.detail, x.results);
        }
    }
}

/// Trends of every centre between two periods, and the counts per agency.
pub fn trend_rows(
    after: &[CentreScores],
    before: &[CentreScores],
    k: &ScoringConfig,
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let trends = score::centre_trends(after, before, k);
    let agencies = score::agency::trend_counts(&trends);
    (trends.iter().map(|t| json!(t)).collect(), json!(agencies))
}

pub fn print_trends(rows: &[serde_json::Value], agencies: &serde_json::Value, json: bool) {
    if json {
        for r in rows {
            println!("{r}");
        }
        println!("{}", json!({ "agencies": agencies }));
        return;
    }
    println!(
        "{:<24} {:>8} {:>8} {:<24} {:<10} web",
        "centre", "before", "after", "change [95 %]", "phone"
    );
    for r in rows {
        let p = &r["phone"];
        let num = |v: &serde_json::Value| v.as_f64().map_or("-".into(), |x| format!("{x:.1}"));
        let change = match p["change"].is_null() {
            true => "-".into(),
            false => format!(
                "{:+.1} [{:+.1}, {:+.1}]",
                p["change"]["value"].as_f64().unwrap_or_default(),
                p["change"]["low"].as_f64().unwrap_or_default(),
                p["change"]["high"].as_f64().unwrap_or_default()
            ),
        };
        println!(
            "{:<24} {:>8} {:>8} {:<24} {:<10} {}",
            r["centre"].as_str().unwrap_or_default(),
            num(&p["before"]),
            num(&p["after"]),
            change,
            p["trend"].as_str().unwrap_or("-"),
            r["web"]["trend"].as_str().unwrap_or("-"),
        );
    }
    for a in agencies.as_array().into_iter().flatten() {
        println!(
            "{}: {} improved, {} declined, {} unchanged (phone)",
            a["agency"].as_str().unwrap_or_default(),
            a["improved"],
            a["declined"],
            a["unchanged"]
        );
    }
}

/// Syncs the cases with `period`'s flags, then prints every case.
/// The follow-up cases as the verdict step keeps them: this command only reads.
pub async fn print_cases(store: &Store, json: bool) -> Result<()> {
    let now = Utc::now();
    let list = store.cases().await?;
    if json {
        for c in &list {
            let mut v = serde_json::to_value(c)?;
            v["status"] = json!(cases::status(c, now));
            println!("{v}");
        }
        return Ok(());
    }
    println!(
        "{:>4} {:<24} {:<12} {:<10} {:>6} {:<10} {:<10} closed by",
        "id", "centre", "class", "period", "score", "due", "status"
    );
    for c in &list {
        let status = match cases::status(c, now) {
            CaseStatus::Open => "open",
            CaseStatus::Overdue => "OVERDUE",
            CaseStatus::Closed => "closed",
        };
        println!(
            "{:>4} {:<24} {:<12} {:<10} {:>6} {:<10} {:<10} {}",
            c.id,
            c.centre,
            c.class,
            c.period,
            opt(c.score),
            &c.due_at[..10.min(c.due_at.len())],
            status,
            c.closed_by_period.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ScoresArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Only this channel's figures
    #[arg(long, value_enum)]
    pub channel: Option<Channel>,
    /// Only this centre
    #[arg(long, value_name = "ID")]
    pub centre: Option<String>,
    /// One JSON object per line per centre
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct FlagsArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// One JSON object per line per flagged centre
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct TrendsArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// The period compared with [default: the one before --period]
    #[arg(long, value_name = "PERIOD")]
    pub against: Option<String>,
    /// One JSON object per line per centre, then one with the agencies' counts
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct CasesArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// One JSON object per line per case
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct LabelArgs {
    /// The call's result id (from `raqib results`)
    pub result_id: i64,
    /// human | ivr | voicemail | announcement | music | tone | silence | unknown
    #[arg(long, value_name = "TYPE")]
    pub answer_type: String,
    /// Why: what the auditor heard (required)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Seconds from answer until a person spoke
    #[arg(long, value_name = "SECS")]
    pub time_to_person: Option<f64>,
    /// Who labels [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Print the label as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum VerdictsCmd {
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

pub const PERIOD_HELP: &str = "\
Scores are computed from the stored results and auditors' labels each time (nothing is cached),
so they reproduce exactly; intervals come from a seeded bootstrap ([scoring] seed). Results that
do not count (raqib's faults, network faults, guard refusals, calls outside opening hours) are
counted apart and never lower a score.

Examples:
  raqib scores --period 2026-Q4 --agency 'Civil Status Department'
  raqib flags --period 2026-11 --json
  raqib trends --period 2026-Q4 --against 2026-Q3
  raqib label 42 --answer-type human --reason 'a clerk answered after the IVR'";

pub async fn scores(ctx: &Ctx, args: ScoresArgs) -> Result<()> {
    let ScoresArgs {
        period,
        channel,
        centre,
        json,
    } = args;
    let p = period.period()?;
    let store = ctx.store().await?;
    if let Some(id) = &centre {
        if store.centre(id).await?.is_none() {
            return Err(bad(format!("no centre '{id}' in the registry")));
        }
    }
    let all = period_scores(&store, &p, &period.select(centre), &ctx.config).await?;
    print_scores(&all, channel, json);
    Ok(())
}

pub async fn flags(ctx: &Ctx, args: FlagsArgs) -> Result<()> {
    let FlagsArgs { period, json } = args;
    let p = period.period()?;
    let k = &ctx.config.scoring;
    let store = ctx.store().await?;
    let all = period_scores(&store, &p, &period.select(None), &ctx.config).await?;
    let list = flagged(&all, k);
    print_flags(&list, &p, k, json);
    Ok(())
}

pub async fn trends(ctx: &Ctx, args: TrendsArgs) -> Result<()> {
    let TrendsArgs {
        period,
        against,
        json,
    } = args;
    let p = period.period()?;
    let q = match &against {
        Some(a) => Period::parse(a).map_err(|e| bad(e.to_string()))?,
        None => p.previous(),
    };
    let k = &ctx.config.scoring;
    let store = ctx.store().await?;
    let select = period.select(None);
    let after = period_samples(&store, &p, &select, &ctx.config).await?;
    let before = period_samples(&store, &q, &select, &ctx.config).await?;
    let (rows, agencies) = trend_rows(&after, &before, k);
    print_trends(&rows, &agencies, json);
    Ok(())
}

pub async fn cases(ctx: &Ctx, args: CasesArgs) -> Result<()> {
    let CasesArgs { period, json } = args;
    // The verdict of the period is brought up to date (cases open and close there);
    // then the cases are listed as stored.
    let p = period.period()?;
    let store = ctx.store().await?;
    period_scores(&store, &p, &period.select(None), &ctx.config).await?;
    print_cases(&store, json).await?;
    Ok(())
}

pub async fn label(ctx: &Ctx, args: LabelArgs) -> Result<()> {
    let LabelArgs {
        result_id,
        answer_type,
        reason,
        time_to_person,
        by,
        json,
    } = args;
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
    Ok(())
}

pub async fn verdicts(ctx: &Ctx, cmd: VerdictsCmd) -> Result<()> {
    let VerdictsCmd::Refresh { period, all, json } = cmd;
    let store = ctx.store().await?;
    let verdicts = raqib::verdict::Verdicts::new(&store, &ctx.config);
    let periods = match (period, all) {
        (Some(p), _) => vec![Period::parse(&p).map_err(|e| bad(e.to_string()))?],
        (None, true) => verdicts.all_periods().await?,
        (None, false) => vec![Period::month_of(Utc::now())],
    };
    let started = std::time::Instant::now();
    verdicts
        .rebuild_all(&periods, |p, centres, took| {
            let secs = took.as_secs_f64();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"period": p.label, "centres": centres, "seconds": secs})
                );
            } else {
                println!("{:<22} {centres:>5} centres  {secs:>7.2} s", p.label);
            }
        })
        .await?;
    if !json && periods.len() > 1 {
        println!(
            "{} periods rebuilt in {:.1} s",
            periods.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
