//! `raqib report`: a period's report for leadership in HTML, PDF, CSV or JSON.

use std::path::PathBuf;

use anyhow::Result;
use chrono::Utc;

use super::{scores, Ctx, PeriodArgs};

#[derive(clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// html, pdf (printed by the configured Chromium), csv (UTF-8 with BOM: opens in
    /// Excel with Arabic intact) or json
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// Language of the HTML, PDF and CSV (Arabic is right to left)
    #[arg(long, value_enum, default_value = "ar")]
    pub lang: ReportLang,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Pdf,
    Csv,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ReportLang {
    Ar,
    En,
}

pub const HELP: &str = "\
Reads scores, trends and cases as stored (it never opens or closes a case). \"Improved after
feedback\" counts centres with a follow-up case for an earlier period whose phone score
improved against the period before.

Examples:
  raqib report --period 2026-Q4 --format pdf --lang ar --out q4.pdf
  raqib report --period 2026-Q4 --format csv --lang en --out q4.csv
  raqib report --period 2026-11 --agency 'Civil Status Department' --format json";

pub async fn exec(ctx: &Ctx, args: ReportArgs) -> Result<()> {
    let ReportArgs {
        period,
        format,
        lang,
        out,
    } = args;
    let p = period.period()?;
    let store = ctx.store().await?;
    scores::check_agency(&store, period.agency.as_deref()).await?;
    let r = raqib::report::build_with_history(
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
    let format = match format {
        ReportFormat::Html => raqib::report::Format::Html,
        ReportFormat::Pdf => raqib::report::Format::Pdf,
        ReportFormat::Csv => raqib::report::Format::Csv,
        ReportFormat::Json => raqib::report::Format::Json,
    };
    let bytes = raqib::report::render(&r, format, lang, &ctx.config.browser.path).await?;
    match out {
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
        Some(path) => {
            raqib::report::write(&path, &bytes)?;
            eprintln!(
                "report {}: {} centres, {} flagged → {}",
                r.period,
                r.summary.centres,
                r.summary.flagged,
                path.display()
            );
        }
    }
    Ok(())
}
