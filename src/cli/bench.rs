//! `raqib bench`: throughput figures for calls, browser audits, agents, verdicts and web checks.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use super::{bad, Ctx};

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Test calls against the lab: answer-time accuracy, calls/s, memory with media
    Calls {
        /// Number of calls
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// Calls in flight at once
        #[arg(long, default_value_t = 200)]
        concurrency: usize,
        /// The lab answers this many ms after the INVITE arrives
        #[arg(long, default_value_t = 500)]
        answer_ms: u64,
        /// After answer, listen (and record) this long; 0 hangs up at once
        #[arg(long, default_value_t = 0)]
        listen_secs: u64,
        /// Call a separately running `raqib lab` at this SIP address instead of an
        /// in-process one (memory is then raqib's alone; no wire record)
        #[arg(long, value_name = "ADDR")]
        external_lab: Option<std::net::SocketAddr>,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Browser audits per minute (load, axe-core, screenshot) with a pool of tabs
    Browser {
        /// Pages audited (the lab's pages, cycled, unless --urls)
        #[arg(long, default_value_t = 50)]
        pages: usize,
        /// Tabs of the one browser
        #[arg(long, default_value_t = 4)]
        tabs: usize,
        /// A file of URLs to audit instead, one per line (the first of each origin as a first
        /// visit, the others continuing it)
        #[arg(long, value_name = "FILE")]
        urls: Option<PathBuf>,
        /// Audit the same pages with pa11y-ci too (axe runner, WCAG2AA; both tools then run
        /// the same axe tags) and compare speed, memory and findings
        #[arg(long)]
        pa11y: bool,
        /// pa11y-ci's executable [default: probes/bench/node_modules/.bin/pa11y-ci, installed
        /// by scripts/setup]
        #[arg(long, value_name = "PATH", requires = "pa11y")]
        pa11y_ci: Option<PathBuf>,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Sweep jobs claimed and completed per second by several agents sharing the store (the
    /// global --store; with `{data_dir}` a fresh PostgreSQL database), probes replaced by an
    /// instant answer; in a temporary data directory
    Agents {
        /// Agents, each with its own connections
        #[arg(long, default_value_t = 4)]
        agents: usize,
        /// Jobs in the sweep
        #[arg(long, default_value_t = 2000)]
        jobs: usize,
        /// Jobs an agent claims at once
        #[arg(long, default_value_t = 8)]
        batch: i64,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// The stored verdicts at a ministry's scale: a store of CENTRES × 3 numbers × MONTHS of
    /// calls and a daily check per site (the global --store; with `{data_dir}` a fresh
    /// PostgreSQL database; else SQLite in a temporary directory), then the time to rebuild
    /// every period, to read a period (in process, /api/scores, the dashboard overview,
    /// /metrics over HTTP), to refresh after one new result, and the memory held
    Verdicts {
        /// Centres in the registry
        #[arg(long, default_value_t = 452)]
        centres: usize,
        /// Months of results, ending with this one
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Calls per number per month (25: with 12 months, over half a million results)
        #[arg(long, default_value_t = 25)]
        calls: usize,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// The answer-type classifier on a labelled corpus (scripts/audio-corpus): its confusion
    /// matrix beside the first rule's, per part (`tune`, on which the model was fitted, and
    /// `held`, which it never saw), after G.711 round trips and packet loss
    AnswerType {
        /// The corpus directory (made by `scripts/audio-corpus DIR` when it has no manifest)
        #[arg(long, default_value = "target/audio-corpus")]
        corpus: PathBuf,
        /// Under this confidence an answer is `unknown` (default: the config's
        /// call.min_confidence)
        #[arg(long)]
        min_confidence: Option<f64>,
        /// Fit the frame model on the `tune` part and write it to this Rust file (the
        /// repository's is src/probe/call/audio/model.rs), then evaluate with it after a rebuild
        #[arg(long, value_name = "FILE")]
        train: Option<PathBuf>,
        /// List every clip whose answer was not its class
        #[arg(long)]
        misses: bool,
        /// Write every clip's frame features and training labels to this file (JSON lines)
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Availability checks per second against a local server, a fresh connection each
    Web {
        /// Number of checks
        #[arg(long, default_value_t = 1000)]
        urls: usize,
        /// Checks in flight at once
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Check the lab's HTTPS page: a full TLS handshake per check
        #[arg(long)]
        tls: bool,
        /// Print the figures as JSON
        #[arg(long)]
        json: bool,
    },
}

pub async fn exec(ctx: &Ctx, cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::AnswerType {
            corpus,
            min_confidence,
            train,
            misses,
            dump,
            json,
        } => answer_type(ctx, &corpus, min_confidence, train, misses, dump, json)?,
        BenchCmd::Calls {
            calls,
            concurrency,
            answer_ms,
            listen_secs,
            external_lab,
            json,
        } => {
            let b = raqib::bench::calls(
                &ctx.config,
                calls,
                concurrency,
                answer_ms,
                listen_secs,
                external_lab,
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                let wire = match (
                    b.error_vs_wire_p50_ms,
                    b.error_vs_wire_p99_ms,
                    b.error_vs_wire_max_ms,
                ) {
                    (Some(p50), Some(p99), Some(max)) => {
                        format!("p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms")
                    }
                    _ => "not available (external lab)".into(),
                };
                println!(
            "calls: {} calls, {} in flight, answer after {} ms, listen {} s: {:.1} s, {:.1} calls/s, {} answered",
            b.calls, b.concurrency, b.answer_ms, b.listen_secs, b.elapsed_s, b.calls_per_s, b.answered
        );
                println!("answer time vs the lab's wire record: {wire}");
                println!(
                    "answer time vs the scripted delay:    p50 {:.3} ms, p99 {:.3} ms",
                    b.error_vs_script_p50_ms, b.error_vs_script_p99_ms
                );
                println!(
                    "RTP: {} packets received, {} lost; peak RSS {:.1} MB{}",
                    b.rtp_packets,
                    b.rtp_lost,
                    b.peak_rss_mb,
                    if wire.starts_with("not") {
                        " (raqib alone)"
                    } else {
                        " (raqib and the lab in one process)"
                    }
                );
            }
        }
        BenchCmd::Browser {
            pages,
            tabs,
            urls,
            pa11y,
            pa11y_ci,
            json,
        } => {
            if pages == 0 || !(1..=32).contains(&tabs) {
                return Err(bad(
                    "--pages must be at least 1 and --tabs between 1 and 32",
                ));
            }
            let list = match urls {
                None => Vec::new(),
                Some(path) => raqib::bench::read_urls(&path)?,
            };
            let pa11y_ci = match (pa11y, pa11y_ci) {
                (false, _) => None,
                (true, Some(p)) => Some(p),
                (true, None) => Some(default_pa11y_ci().ok_or_else(|| {
                    bad(
                        "pa11y-ci is not installed: run scripts/setup (npm ci in probes/bench), \
                         or give --pa11y-ci PATH",
                    )
                })?),
            };
            let b =
                raqib::bench::browser(&ctx.config, pages, tabs, list, pa11y_ci.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
            "browser audit: {} pages, {} tabs, {:.1} s: {:.0} pages/min; page mean {:.0} ms, p95 {:.0} ms; axe mean {:.0} ms, p95 {:.0} ms; browser peak RSS {:.0} MiB; {} not ok, {} restarts",
            b.pages, b.tabs, b.elapsed_s, b.pages_per_min, b.page_mean_ms, b.page_p95_ms,
            b.axe_mean_ms, b.axe_p95_ms, b.browser_peak_rss_mib, b.not_ok, b.restarts
        );
                let phases: Vec<String> = b
                    .phases_mean_ms
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.0}"))
                    .collect();
                println!("  page phases, mean ms: {}", phases.join(" · "));
                println!(
                    "  browser memory, peak: {:.0} MiB proportional (PSS), {:.0} MiB resident (RSS, shared pages counted per process)",
                    b.browser_peak_pss_mib, b.browser_peak_rss_mib
                );
                if let Some(p) = &b.pa11y {
                    println!(
                        "pa11y-ci {}: {} pages, {:.1} s ({:.1} s of it starting): {:.0} pages/min after start-up; peak {:.0} MiB PSS, {:.0} MiB RSS",
                        p.version, p.pages, p.elapsed_s, p.startup_s, p.pages_per_min, p.peak_pss_mib, p.peak_rss_mib
                    );
                    println!("  raqib is {:.2} times as fast", p.speedup);
                    match p.findings_identical {
                        true => println!("  axe findings: identical on every page"),
                        false => {
                            println!("  axe findings differ on {} point(s):", p.mismatches.len());
                            for m in &p.mismatches {
                                println!("    {m}");
                            }
                        }
                    }
                }
            }
        }
        BenchCmd::Verdicts {
            centres,
            months,
            calls,
            json,
        } => {
            if !(1..=10_000).contains(&centres) || !(1..=36).contains(&months) || calls > 1000 {
                return Err(bad("--centres 1–10000, --months 1–36, --calls 0–1000"));
            }
            let b = raqib::bench::verdicts::run(ctx.store_url.as_deref(), centres, months, calls)
                .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "verdicts on {}: {} centres, {} months, {} results (loaded in {:.1} s)\n\
             rebuild every period ({}): {:.1} s\n\
             read a month:      p50 {:.1} ms  p99 {:.1} ms (in process)\n\
             report/overview:   p50 {:.1} ms  p99 {:.1} ms (in process)\n\
             raqib serve, over loopback HTTP:\n\
             GET /api/scores:   p50 {:.1} ms  p99 {:.1} ms\n\
             GET / (overview):  p50 {:.1} ms  p99 {:.1} ms\n\
             GET /metrics:      p50 {:.1} ms  p99 {:.1} ms (first scrape {:.0} ms)\n\
             serve's memory after the views: {:.0} MB\n\
             refresh after one new result: p50 {:.1} ms  p99 {:.1} ms ({})\n\
             this bench process's memory: {:.0} MB",
                    b.store,
                    b.centres,
                    b.months,
                    b.results,
                    b.load_s,
                    b.periods_rebuilt,
                    b.rebuild_all_s,
                    b.read_p50_ms,
                    b.read_p99_ms,
                    b.report_p50_ms,
                    b.report_p99_ms,
                    b.api_scores_p50_ms,
                    b.api_scores_p99_ms,
                    b.overview_p50_ms,
                    b.overview_p99_ms,
                    b.metrics_p50_ms,
                    b.metrics_p99_ms,
                    b.metrics_first_ms,
                    b.serve_rss_mb,
                    b.refresh_one_p50_ms,
                    b.refresh_one_p99_ms,
                    if b.refresh_differs.is_empty() {
                        "the refreshed verdicts equal a rebuild".to_string()
                    } else {
                        format!("differs from a rebuild: {}", b.refresh_differs.join("; "))
                    },
                    b.rss_mb
                );
            }
        }
        BenchCmd::Agents {
            agents,
            jobs,
            batch,
            json,
        } => {
            if !(1..=64).contains(&agents)
                || !(1..=1_000_000).contains(&jobs)
                || !(1..=1000).contains(&batch)
            {
                return Err(bad("--agents 1–64, --jobs 1–1000000, --batch 1–1000"));
            }
            let b = raqib::bench::agents(ctx.store_url.as_deref(), agents, jobs, batch).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
            "agents on {}: {} agents, {} jobs (claimed {} at a time) in {:.3} s: {:.0} jobs/s; per agent {:?}; {} results",
            b.store, b.agents, b.jobs, b.batch, b.elapsed_s, b.jobs_per_s, b.per_agent, b.results
        );
            }
        }
        BenchCmd::Web {
            urls,
            concurrency,
            tls,
            json,
        } => {
            let b = raqib::bench::web(&ctx.config, urls, concurrency, tls).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
            "web availability{}: {} checks, {} in flight, {:.3} s: {:.0} checks/s; total p50 {:.3} ms, p99 {:.3} ms; {} not up",
            if b.tls { " (https)" } else { "" },
            b.checks, b.concurrency, b.elapsed_s, b.checks_per_s, b.p50_ms, b.p99_ms, b.failed
        );
            }
        }
    }
    Ok(())
}

fn answer_type(
    ctx: &Ctx,
    corpus: &std::path::Path,
    min_confidence: Option<f64>,
    train: Option<PathBuf>,
    misses: bool,
    dump: Option<PathBuf>,
    json: bool,
) -> Result<()> {
    use raqib::bench::answer_type as at;
    let min_confidence = min_confidence.unwrap_or(ctx.config.call.min_confidence);
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(bad("--min-confidence is between 0 and 1"));
    }
    if !corpus.join("manifest.tsv").exists() {
        let script = std::path::Path::new("scripts/audio-corpus");
        if !script.exists() {
            return Err(bad(format!(
                "{} has no manifest.tsv, and scripts/audio-corpus is not here to make it: \
                 run it from the repository, or pass --corpus",
                corpus.display()
            )));
        }
        eprintln!("making the corpus in {} …", corpus.display());
        let status = std::process::Command::new("bash")
            .arg(script)
            .arg(corpus)
            .status()?;
        if !status.success() {
            return Err(bad(format!("scripts/audio-corpus failed ({status})")));
        }
    }
    let clips = at::read_corpus(corpus)?;
    if let Some(path) = dump {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        at::dump(&clips, &mut out)?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    if let Some(out) = train {
        eprintln!("fitting the frame model on the tune part …");
        let model = at::train(&clips, 15)?;
        let tune = clips.iter().filter(|c| c.split == "tune").count();
        std::fs::write(
            &out,
            model.to_rust(&format!(
                "Fitted on the {tune} clips of the corpus' tune part (scripts/audio-corpus), 15 epochs."
            )),
        )?;
        eprintln!("wrote {}: rebuild raqib to use it", out.display());
        return Ok(());
    }
    let outcomes = at::evaluate(&clips, min_confidence)?;
    let reports: Vec<at::Report> = ["tune", "held", "lab"]
        .iter()
        .map(|s| at::report(&outcomes, s))
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "min_confidence": min_confidence,
                "reports": reports,
                "clips": outcomes,
            }))?
        );
        return Ok(());
    }
    for r in &reports {
        println!(
            "## {} part: {} clips (rows: the truth; columns: the answer)\n\nclassifier (unknown under confidence {min_confidence}):\n\n{}\nthe first rule, for comparison:\n\n{}",
            r.split,
            r.classifier.clips,
            r.classifier.table(),
            r.heuristic.table()
        );
        println!(
            "music answered `human`: classifier {} of {}, first rule {} of {}",
            r.music_as_human.0,
            r.classifier
                .total(raqib::probe::call::audio::AnswerType::Music),
            r.music_as_human.1,
            r.heuristic
                .total(raqib::probe::call::audio::AnswerType::Music)
        );
        println!(
            "special information tones: heard in {} of {} clips that hold one, in {} of {} that do not; decoded as {:?}",
            r.sit.detected, r.sit.with, r.sit.false_detections, r.sit.without, r.sit.variants
        );
        if let Some((median, max)) = r.person_error_ms {
            println!("start of the person's speech, heard against true: median error {median:.0} ms, largest {max:.0} ms");
        }
        println!();
    }
    if misses {
        for o in outcomes.iter().filter(|o| o.classified != o.class) {
            println!(
                "{} {}: {} (guess {}, confidence {:.2}; {} {}% loss)",
                o.split,
                o.file,
                o.classified.code(),
                o.guess.code(),
                o.confidence,
                o.channel.law,
                o.channel.loss_pct
            );
        }
    }
    Ok(())
}

/// pa11y-ci as scripts/setup installs it, from the current directory or raqib's source tree.
fn default_pa11y_ci() -> Option<PathBuf> {
    let rel = std::path::Path::new("probes/bench/node_modules/.bin/pa11y-ci");
    [
        rel.to_path_buf(),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel),
    ]
    .into_iter()
    .find(|p| p.is_file())
}
