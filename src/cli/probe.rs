//! `raqib probe web`, `probe call` and `probe register`: one target now, its result stored.

use anyhow::{Context, Result};
use clap::Subcommand;

use raqib::probe::call::CallProbe;
use raqib::schedule::on_demand;
use raqib::store::with_id;

use super::print::{print_call_result, print_web_result};
use super::{bad, Ctx};

#[derive(Subcommand)]
pub enum ProbeCmd {
    /// Check a website: its availability over HTTP, then a browser audit (timings,
    /// screenshot, axe-core accessibility, Arabic checks) of its home page and more pages
    #[command(after_help = WEB_HELP)]
    Web {
        /// http(s) URL or centre id
        target: String,
        /// The page must contain this text (default for a centre: the config's content_check)
        #[arg(long, value_name = "TEXT")]
        expect: Option<String>,
        /// HTTP check only: no browser audit
        #[arg(long)]
        no_browser: bool,
        /// Pages audited besides the home page [default: the config's browser.pages_per_site]
        #[arg(long, value_name = "N")]
        pages: Option<usize>,
        /// One JSON object per line per target
        #[arg(long)]
        json: bool,
    },
    /// Register with the trunk ([trunk] username, password_env) and report the outcome
    Register {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Place a real test call: an E.164 number, a sip: URI, or a centre id
    #[command(after_help = CALL_HELP)]
    Call {
        /// E.164 number, sip: URI or centre id
        target: String,
        /// Seconds of ringing before CANCEL [default: the config's call.ring_timeout_secs]
        #[arg(long, value_name = "SECS")]
        ring_timeout: Option<u64>,
        /// hangup | notice | listen:SECS | ivr:NAME [default: the config's call.after_answer]
        #[arg(long, value_name = "POLICY")]
        after_answer: Option<raqib::config::AfterAnswer>,
        /// Allow a target that is not in the registry (recorded with the result)
        #[arg(long)]
        unlisted: bool,
        /// One JSON object per line per call
        #[arg(long)]
        json: bool,
    },
}

const WEB_HELP: &str = "\
The browser audit opens the site's final page in headless Chromium ([browser] path), a fresh
profile per page as a citizen's first visit, then up to --pages more pages of the same site:
the sitemap's (robots.txt Sitemap: lines, else /sitemap.xml) or else the home page's links,
never a path robots.txt disallows. Per page: Navigation Timing (TTFB, DOMContentLoaded, load),
Largest Contentful Paint, console errors, failed sub-requests, a full-page PNG kept as
evidence, axe-core on the [browser] axe_tags (WCAG 2.2 A/AA by default: violations apart
from 'needs review'), and the Arabic checks (lang, dir=rtl, language switch, accessibility
statement, published phone numbers against the registry, opening hours). The score is
automated: never a conformance claim.

Examples:
  raqib probe web https://portal.example/ --pages 5
  raqib probe web jo-amman-civil --json
  raqib probe web http://127.0.0.1:18080/ok/jo-amman-civil/ --no-browser";

const CALL_HELP: &str =
    "TARGET is a number (+96265000101, 0096265000101, or national 065000101 with [trunk] \
country_code), a sip: or sips: URI, or a centre id (all its numbers). Every number, also a sip: URI's user \
part in any form, is brought to E.164 and must pass the dialling guard: in the registry (or \
--unlisted), matching [guard] allow_prefixes, under the daily cap. A sip: URI whose user part is no \
number needs --unlisted; a sips: URI (or `;transport=tls`) is dialled over TLS only, never in clear.\n\nOutcomes: answered, busy (486/600), no_answer (ring timeout, \
cancelled), rejected (403/603/other 4xx), not_in_service (404/484), unreachable (no response), \
failed (5xx, 408, protocol errors), refused (the guard), error (raqib's own fault).";

pub async fn exec(ctx: &Ctx, cmd: ProbeCmd) -> Result<()> {
    match cmd {
        ProbeCmd::Web {
            target,
            expect,
            no_browser,
            pages,
            json,
        } => probe_web(ctx, &target, expect, !no_browser, pages, json).await?,
        ProbeCmd::Register { json } => {
            let store = ctx.store().await?;
            let probe = CallProbe::new(&ctx.config, store.evidence_dir()).await?;
            let r = probe
                .register(ctx.config.trunk.register_expires, false)
                .await?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "{} {}: {}{}{}",
                    r.registrar,
                    if r.ok { "registered" } else { "not registered" },
                    r.status
                        .map(|s| format!("{s} {}", r.reason.as_deref().unwrap_or("")))
                        .unwrap_or_else(|| "no response".into()),
                    r.expires
                        .map(|e| format!(", for {e} s"))
                        .unwrap_or_default(),
                    r.detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                );
            }
        }
        ProbeCmd::Call {
            target,
            ring_timeout,
            after_answer,
            unlisted,
            json,
        } => probe_call(ctx, &target, ring_timeout, after_answer, unlisted, json).await?,
    }
    Ok(())
}

async fn probe_web(
    ctx: &Ctx,
    target: &str,
    expect: Option<String>,
    browser: bool,
    pages: Option<usize>,
    json: bool,
) -> Result<()> {
    let store = ctx.store().await?;
    let req = on_demand::WebRequest {
        target: target.to_string(),
        expect,
        no_browser: !browser,
        pages,
    };
    let done = on_demand::web(&ctx.config, &store, &req, |id, result, data| {
        if json {
            println!("{}", with_id(id, data.clone()));
        } else {
            print_web_result(id, result);
        }
    })
    .await;
    on_demand_done(done)
}

/// An on-demand error the user must fix is bad input (exit 2).
fn on_demand_done(done: Result<Vec<i64>, on_demand::OnDemandError>) -> Result<()> {
    match done {
        Err(on_demand::OnDemandError::Bad(m)) => Err(bad(m)),
        Err(on_demand::OnDemandError::Audit(e)) => Err(bad(e.to_string())),
        Err(on_demand::OnDemandError::Probe(e)) => Err(e.into()),
        Err(on_demand::OnDemandError::Store(e)) => Err(e).context("storing the result"),
        Ok(_) => Ok(()),
    }
}

async fn probe_call(
    ctx: &Ctx,
    target: &str,
    ring_timeout: Option<u64>,
    after_answer: Option<raqib::config::AfterAnswer>,
    unlisted: bool,
    json: bool,
) -> Result<()> {
    let store = ctx.store().await?;
    let req = on_demand::CallRequest {
        target: target.to_string(),
        ring_timeout,
        after_answer,
        unlisted,
    };
    let done = on_demand::call(&ctx.config, &store, &req, |id, result, data| {
        if json {
            println!("{}", with_id(id, data.clone()));
        } else {
            print_call_result(id, result);
        }
    })
    .await;
    on_demand_done(done)
}
