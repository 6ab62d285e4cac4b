//! `raqib serve`: the scheduler and agent, with the dashboard, API and /metrics if asked.

use std::sync::Arc;

use anyhow::Result;

use super::{bad, Ctx};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Also fire this schedule once at start-up (repeatable)
    #[arg(long, value_name = "NAME")]
    pub run: Vec<String>,
    /// Also serve the dashboard and JSON API here (e.g. 127.0.0.1:8080): sign in with
    /// `raqib users password`, API tokens from `raqib users token`
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Also serve Prometheus /metrics here, without auth: a private scrape address
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// This process's agent name among those sharing the store [default: [agent] name,
    /// else the host name]
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// A tag of this agent (repeatable, e.g. carrier=mobile) [default: [agent] tags]
    #[arg(long = "agent-tag", value_name = "TAG")]
    pub agent_tags: Vec<String>,
}

pub const HELP: &str = "\
Each [[schedule]] has a crontab(5) expression read in its time zone (0 and 7 are Sunday, names
allowed, day-of-month OR day-of-week as crontab, six fields for seconds). A fire plans a sweep
as job rows in the store: web jobs at once; phone jobs at random instants inside each centre's
opening hours in its own time zone (its hours_ramadan in Ramadan, by the Umm al-Qura calendar;
spread over spread_minutes, never on a [holidays] date — YYYY-MM-DD, or hijri:MM-DD[..MM-DD]
every Hijri year; a closed centre is skipped or deferred to its next window). Jobs run within [web] concurrency and
[trunk] max_channels; each result is stored and its job marked done in one transaction.

SIGTERM or Ctrl-C: no new job starts, calls in progress end and are stored, and the sweep stays
running for the next start. A sweep whose process was killed is finished by the next
`raqib serve` on that host, without repeating a job that has its result. A run missed while
raqib serve was down is made once at start-up if it fell due within [serve] grace_minutes.

Example config:
  [[schedule]]
  name = \"nightly-web\"
  cron = \"0 2 * * *\"
  timezone = \"Asia/Amman\"
  channel = \"web\"

  [[schedule]]
  name = \"calls-jo\"
  cron = \"0 9 * * SUN-THU\"
  timezone = \"Asia/Amman\"
  channel = \"phone\"
  centres = \"jo-*\"        # also agency = .., region = .., tags = [..]
  when_closed = \"defer\"";

/// `store prune` a minute after start, then every day: evidence never outgrows [retention]
/// for more than a day.
async fn prune_daily(store: raqib::store::Store, retention: raqib::config::RetentionConfig) {
    let mut wait = std::time::Duration::from_secs(60);
    loop {
        tokio::time::sleep(wait).await;
        wait = std::time::Duration::from_secs(24 * 3600);
        match store
            .prune_evidence(&retention, chrono::Utc::now(), false)
            .await
        {
            Ok(p) => {
                let (files, bytes) = p
                    .deleted
                    .values()
                    .fold((0, 0), |(f, b), t| (f + t.files, b + t.bytes));
                tracing::info!(
                    files,
                    bytes,
                    results = p.results_marked,
                    "retention: {files} evidence files deleted ({}), {} results marked",
                    raqib::store::retention::size(bytes),
                    p.results_marked
                );
            }
            Err(e) => tracing::error!("retention: {e}"),
        }
    }
}

pub async fn exec(mut ctx: Ctx, args: ServeArgs) -> Result<()> {
    let ServeArgs {
        run,
        listen,
        metrics_listen,
        agent,
        agent_tags,
    } = args;
    if let Some(a) = &agent {
        if a.trim().is_empty() || a.chars().any(char::is_whitespace) {
            return Err(bad("--agent: an agent name is one word"));
        }
        ctx.config.agent.name = Some(a.clone());
    }
    if !agent_tags.is_empty() {
        if let Some(t) = agent_tags
            .iter()
            .find(|t| t.is_empty() || t.contains([' ', ',', ';']))
        {
            return Err(bad(format!(
                "--agent-tag '{t}': a tag has no spaces, commas or semicolons"
            )));
        }
        ctx.config.agent.tags = agent_tags;
    }
    for name in &run {
        if !ctx.config.schedule.iter().any(|s| &s.name == name) {
            return Err(bad(format!("--run '{name}': no [[schedule]] of that name")));
        }
    }
    startable(&ctx.config)?;
    if ctx.config.schedule.is_empty() {
        tracing::warn!("no [[schedule]] in the config: only unfinished sweeps are resumed");
    }
    let store = ctx.store().await?;
    let store_for_reload = store.clone();
    raqib::schedule::serve::check_selectors(&ctx.config.schedule, &store.centres().await?)
        .map_err(|e| bad(e.to_string()))?;
    let heartbeat = Arc::new(raqib::schedule::serve::Heartbeat::new(&ctx.config));
    // Before anything answers: a SIGTERM right after the first healthy /healthz (systemd
    // stopping a service that just started) must end it cleanly, not by the default action.
    let (mut term, mut int, mut hup) = {
        use tokio::signal::unix::{signal, SignalKind};
        let handler = |kind, name: &str| {
            signal(kind).map_err(|e| anyhow::anyhow!("cannot handle {name}: {e}"))
        };
        (
            handler(SignalKind::terminate(), "SIGTERM")?,
            handler(SignalKind::interrupt(), "SIGINT")?,
            handler(SignalKind::hangup(), "SIGHUP")?,
        )
    };
    if let Some(addr) = listen {
        let bound = raqib::server::start(
            addr,
            ctx.config.clone(),
            store.clone(),
            Some(heartbeat.clone()),
        )
        .await?;
        tracing::info!("dashboard and API on http://{bound}");
    }
    if let Some(addr) = metrics_listen {
        let bound = raqib::server::metrics::start(addr, ctx.config.clone(), store.clone()).await?;
        tracing::info!("metrics on http://{bound}/metrics");
    }
    tokio::spawn(prune_daily(store.clone(), ctx.config.retention.clone()));
    let server = raqib::schedule::serve::Server::new(ctx.config.clone(), store)
        .await?
        .with_heartbeat(heartbeat);
    let reload = std::sync::atomic::AtomicBool::new(false);
    let stop = async {
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = int.recv() => return,
                _ = hup.recv() => match reloadable(&ctx, &store_for_reload).await {
                    Ok(()) => {
                        tracing::info!(
                            "SIGHUP: the config and registry check out: reloading once the \
                             calls in progress end"
                        );
                        reload.store(true, std::sync::atomic::Ordering::SeqCst);
                        return;
                    }
                    Err(e) => tracing::error!(
                        "SIGHUP: reload refused, still running as before: {}",
                        super::message_of(&e)
                    ),
                },
            }
        }
    };
    server.run(&run, stop).await?;
    if reload.load(std::sync::atomic::Ordering::SeqCst) {
        store_for_reload.close().await;
        return Err(reexec());
    }
    Ok(())
}

/// What `serve` refuses to start with, beyond what reading the config checks: at start, on
/// SIGHUP and in `config check` alike.
pub fn startable(config: &raqib::config::Config) -> Result<()> {
    // An alert's button leads to the result on the dashboard: without the dashboard's public
    // address it would lead nowhere a director can open.
    if !config.alerts.contact.is_empty() && config.server.public_url.is_none() {
        return Err(bad(
            "[[alerts.contact]] needs [server] public_url (the dashboard's address as readers \
             reach it, e.g. https://raqib.unit.gov.example): alerts link to the result there",
        ));
    }
    raqib::server::metrics::token(config)?;
    Ok(())
}

/// Whether the config file, read again, and the registry in the store would start `serve`:
/// the checks `exec` makes before it starts anything.
async fn reloadable(ctx: &Ctx, store: &raqib::store::Store) -> Result<()> {
    let config =
        raqib::config::Config::load(ctx.config_path.as_deref(), &raqib::alert::notifier::Kinds)?;
    startable(&config)?;
    raqib::schedule::serve::check_selectors(&config.schedule, &store.centres().await?)
        .map_err(|e| bad(e.to_string()))?;
    Ok(())
}

/// Starts this same binary again in this process (same PID, so systemd sees a reload, not a
/// restart), with the same arguments but `--run`: a reload fires no schedule by itself. The
/// scheduler has stopped as on SIGTERM; a sweep in progress goes on in the new image. Every
/// descriptor raqib opens is close-on-exec, so the data directory's lock and the listening
/// sockets are free for it. Returns only if the exec failed.
fn reexec() -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os().skip(1).peekable();
    let mut kept = Vec::new();
    while let Some(a) = args.next() {
        if a == "--run" {
            args.next();
        } else if !a.to_string_lossy().starts_with("--run=") {
            kept.push(a);
        }
    }
    let argv0 = std::env::args_os().next().unwrap_or_else(|| "raqib".into());
    let err = std::process::Command::new("/proc/self/exe")
        .arg0(argv0)
        .args(kept)
        .exec();
    anyhow::anyhow!("SIGHUP: cannot start raqib again: {err}")
}
