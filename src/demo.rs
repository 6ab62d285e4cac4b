//! `raqib demo`: the sample centres into the store, the lab started in this process, then
//! enough phone rounds and one web sweep that the period's verdicts stand on valid calls,
//! the flagged list, the period's report and a dashboard user: the whole job on one
//! machine, touching no real centre.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::config::Config;
use crate::lab::{Lab, LabError};
use crate::probe::Channel;
use crate::registry::{Centre, OpeningHours};
use crate::report::{self, Format, Lang, ReportError};
use crate::schedule::sweep::{self, ProgressStyle, SweepError, SweepSummary};
use crate::score::period::Period;
use crate::score::{flagged, CentreScores};
use crate::server::auth::{self, AuthError};
use crate::store::{Store, StoreError, Upserted};
use crate::verdict::{VerdictError, Verdicts};

/// The lab's centres keep these hours in the demo, so that every demo call is placed in
/// opening hours whenever the demo runs (their published hours would exclude most of them).
pub const LAB_HOURS: &str = "Sun-Sat 00:00-24:00";

/// The dashboard user the demo (re)creates, with a new password each run.
pub const DEMO_USER: &str = "demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Verdict(#[from] VerdictError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// What the demo did and found.
pub struct Demo {
    /// One phone sweep per round: every sample number once each.
    pub phone: Vec<SweepSummary>,
    pub web: SweepSummary,
    pub period: Period,
    /// The period's flagged centres (critical first, then confirmed, provisional).
    pub flagged: Vec<CentreScores>,
    /// The report files written (HTML, and PDF unless the browser is off).
    pub reports: Vec<PathBuf>,
    /// The dashboard user and its new password.
    pub user: (String, String),
}

/// The sample centres as the lab keeps them: open around the clock.
pub fn lab_centres(centres: &[Centre]) -> Vec<Centre> {
    let hours: OpeningHours = LAB_HOURS.parse().expect("LAB_HOURS parses");
    centres
        .iter()
        .map(|c| Centre {
            hours: hours.clone(),
            hours_ramadan: None,
            ..c.clone()
        })
        .collect()
}

/// Imports `centres` (with the lab's hours), starts the lab for them, places
/// `[scoring] min_calls_month` rounds of calls and one web sweep, then reads the flagged
/// verdicts, writes the report into `out_dir` and sets the demo user's password.
/// `ready` is told what the import changed and where the lab listens, before the calls.
pub async fn run(
    config: &Config,
    store: &Store,
    centres: &[Centre],
    out_dir: &Path,
    ready: impl FnOnce(&Upserted, &Lab, usize),
) -> Result<Demo, DemoError> {
    let centres = lab_centres(centres);
    let counts = store.upsert_centres(&centres).await?;
    let lab = Lab::start(&config.lab, &centres).await?;
    // A month's verdict needs this many valid calls: fewer and nobody is flagged.
    let rounds = config.scoring.min_calls_month.clamp(1, 10) as usize;
    ready(&counts, &lab, rounds);
    // The lab's centre that never answers would hold the demo for the full minute.
    let mut config = config.clone();
    config.call.ring_timeout_secs = config.call.ring_timeout_secs.min(15);
    // The rounds run side by side (the lab answers each call on its own) to keep the demo
    // near a minute; each is its own sweep, as a scheduled round would be.
    let selection = "demo";
    let phone = futures::future::join_all((0..rounds).map(|i| {
        let style = match i {
            0 => ProgressStyle::Auto,
            _ => ProgressStyle::Quiet,
        };
        sweep::run_channel(&config, store, Channel::Phone, &centres, selection, style)
    }))
    .await;
    let web = sweep::run_channel(
        &config,
        store,
        Channel::Web,
        &centres,
        selection,
        ProgressStyle::Auto,
    )
    .await;
    lab.stop();
    let phone = phone.into_iter().collect::<Result<Vec<_>, _>>()?;
    let web = web?;

    let now = Utc::now();
    let period = Period::month_of(now);
    let all = Verdicts::new(store, &config).scores(&period).await?;
    let flagged = flagged(&all, &config.scoring)
        .into_iter()
        .cloned()
        .collect();

    let r = report::build_with_history(store, &config, &period, None, now).await?;
    let mut reports = Vec::new();
    let mut formats = vec![(Format::Html, "html")];
    if config.browser.enabled {
        formats.push((Format::Pdf, "pdf"));
    }
    for (format, ext) in formats {
        let path = out_dir.join(format!("report-{}-ar.{ext}", period.label));
        let bytes = report::render(&r, format, Lang::Ar, &config.browser.path).await?;
        report::write(&path, &bytes)?;
        reports.push(path);
    }

    let password = auth::new_secret("")?;
    store.add_user(DEMO_USER, "viewer").await?;
    store
        .set_password(DEMO_USER, &auth::hash_password(&password)?)
        .await?;
    Ok(Demo {
        phone,
        web,
        period,
        flagged,
        reports,
        user: (DEMO_USER.to_string(), password),
    })
}
