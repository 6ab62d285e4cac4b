//! `raqib lab` and `raqib demo`: the simulated centres, and a sweep of them.

use anyhow::Result;

use raqib::lab::Lab;

use super::print::print_summary;
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
    let raqib::demo::Demo { sweeps } =
        raqib::demo::run(&ctx.config, &store, &centres, |counts, lab| {
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
        })
        .await?;
    if json {
        let by_channel: serde_json::Map<String, serde_json::Value> = sweeps
            .iter()
            .map(|s| Ok((s.channel.as_str().to_string(), serde_json::to_value(s)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        println!("{}", serde_json::Value::Object(by_channel));
    } else {
        for s in &sweeps {
            print_summary(s, false)?;
        }
    }
    Ok(())
}
