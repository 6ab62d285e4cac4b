//! `raqib lab` and `raqib demo`: the simulated centres, and a sweep of them.

use anyhow::Result;

use raqib::lab::Lab;

use super::print::print_summary;
use super::scores::print_flags;
use super::Ctx;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Web: HTTP checks only, no browser audit
    #[arg(long)]
    pub no_browser: bool,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn lab(ctx: &Ctx) -> Result<()> {
    let centres = ctx.sample_centres()?;
    let lab = Lab::start(&ctx.config.lab, &centres).await?;
    println!("{}", lab.ready_line());
    println!(
        "serving {} sample centres: /ok/ID/, /slow/ID/, /error/ID/, /moved/ID/, /a11y/ID/, /hang/ID/, /loop/ID/; Ctrl-C stops",
        centres.len()
    );
    tokio::signal::ctrl_c().await?;
    lab.stop();
    Ok(())
}

pub async fn demo(mut ctx: Ctx, args: DemoArgs) -> Result<()> {
    let DemoArgs { no_browser, json } = args;
    if no_browser {
        ctx.config.browser.enabled = false;
    }
    let centres = ctx.sample_centres()?;
    let store = ctx.store().await?;
    let started = std::time::Instant::now();
    let d = raqib::demo::run(
        &ctx.config,
        &store,
        &centres,
        &ctx.data_dir,
        |counts, lab, rounds| {
            if !json {
                eprintln!(
                    "demo: {} sample centres in {} ({} added, {} updated); {}\n\
                     demo: the lab's centres are open around the clock ({}), so every call \
                     counts; {rounds} rounds of calls (a month's verdict needs {rounds} valid \
                     calls per centre), then the websites",
                    centres.len(),
                    ctx.data_dir.display(),
                    counts.added,
                    counts.updated,
                    lab.ready_line(),
                    raqib::demo::LAB_HOURS,
                );
            }
        },
    )
    .await?;
    let k = &ctx.config.scoring;
    let (user, password) = &d.user;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "phone": d.phone,
                "web": d.web,
                "period": d.period.label,
                "flagged": d.flagged.iter().map(|c| serde_json::json!({
                    "centre": c.centre,
                    "class": c.flag,
                    "critical": !c.critical.is_empty(),
                    "phone": c.phone.score,
                    "valid_calls": c.phone.valid_calls,
                })).collect::<Vec<_>>(),
                "reports": d.reports,
                "user": user,
                "password": password,
            })
        );
        return Ok(());
    }
    for (i, round) in d.phone.iter().enumerate() {
        let counts: Vec<String> = round
            .outcomes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(o, n)| format!("{n} {o}"))
            .collect();
        println!(
            "phone round {} (sweep {}): {} calls in {:.1} s: {}",
            i + 1,
            round.sweep,
            round.checks,
            round.elapsed_ms / 1000.0,
            counts.join(", ")
        );
    }
    print_summary(&d.web, false)?;
    println!();
    let refs: Vec<&raqib::score::CentreScores> = d.flagged.iter().collect();
    print_flags(&refs, &d.period, k, false);
    // The verdict step opened a follow-up case for each of them as the calls were stored.
    let due = (chrono::Utc::now() + chrono::Duration::days(k.follow_up_days)).date_naive();
    println!(
        "what happens next: each flagged centre has an open follow-up case (raqib cases): its \
         agency owes an improvement plan by {due} ({} days); raqib alerts run tells the \
         agencies' [[alerts.contact]]",
        k.follow_up_days
    );
    println!();
    for path in &d.reports {
        println!("report written: {}", path.display());
    }
    if !ctx.config.browser.enabled {
        println!("(no PDF: --no-browser)");
    }
    println!(
        "\nthe dashboard: raqib --data-dir {} serve --listen 127.0.0.1:8080\n\
         then open http://127.0.0.1:8080/ and sign in as '{user}' with the password {password}\n\
         (new each demo run; set your own with: raqib users password {user})",
        ctx.data_dir.display()
    );
    eprintln!("demo finished in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
