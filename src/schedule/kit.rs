//! The probe kinds as the scheduler drives them: per channel a kit, built once per sweep (or
//! per `raqib serve`), that lists a centre's targets and runs one. The sweep and the agent's
//! worker go through it and never name a channel; adding a channel adds an arm to each match
//! here (the compiler names them). On-demand probes take each kind's own request
//! (`on_demand`).

use std::sync::Arc;

use chrono::Utc;

use crate::config::Config;
use crate::probe::call::{CallOptions, CallProbe, CallTarget};
use crate::probe::web::audit::Auditor;
use crate::probe::web::{WebProbe, WebTarget};
use crate::probe::{Channel, ProbeError};
use crate::registry::Centre;
use crate::schedule::guard::DiallingGuard;
use crate::schedule::sweep::{Done, SweepError};
use crate::store::Store;

/// One channel's kit.
#[derive(Clone)]
pub enum Kit {
    Phone(PhoneKit),
    Web(WebKit),
}

/// One thing a kit probes: a centre's number, or one of its sites with its content check.
#[derive(Debug, Clone)]
pub enum Target {
    Phone(String),
    Web(WebTarget),
}

impl Target {
    /// The job's stored target text (a number, a URL).
    pub fn text(&self) -> String {
        match self {
            Target::Phone(n) => n.clone(),
            Target::Web(t) => t.url.to_string(),
        }
    }
}

impl Kit {
    /// Builds `channel`'s kit: a bad trunk or browser set-up is an error here.
    pub async fn new(channel: Channel, config: &Config, store: &Store) -> Result<Kit, SweepError> {
        Ok(match channel {
            Channel::Phone => Kit::Phone(PhoneKit::new(config, store).await?),
            Channel::Web => Kit::Web(WebKit::new(config, store)?),
        })
    }

    pub fn channel(&self) -> Channel {
        match self {
            Kit::Phone(_) => Channel::Phone,
            Kit::Web(_) => Channel::Web,
        }
    }

    /// How many of `channel`'s probes may run at once (`[trunk] max_channels`,
    /// `[web] concurrency`).
    pub fn concurrency(channel: Channel, config: &Config) -> usize {
        match channel {
            Channel::Phone => config.trunk.max_channels,
            Channel::Web => config.web.concurrency,
        }
    }

    /// Whether `centre` has anything to probe on `channel` (a sweep lists it even with no
    /// result).
    pub fn has_targets(channel: Channel, centre: &Centre) -> bool {
        !Kit::planned(channel, centre).is_empty()
    }

    /// The target texts a planned sweep stores as jobs for `centre` (its numbers, its sites
    /// as the registry spells them).
    pub fn planned(channel: Channel, centre: &Centre) -> &[String] {
        match channel {
            Channel::Phone => &centre.phones,
            Channel::Web => &centre.websites,
        }
    }

    /// `centre`'s targets, in the order a sweep probes them.
    pub fn targets(&self, centre: &Centre) -> Vec<Target> {
        match self {
            Kit::Phone(_) => centre.phones.iter().cloned().map(Target::Phone).collect(),
            Kit::Web(k) => k.targets(centre).into_iter().map(Target::Web).collect(),
        }
    }

    /// The target of a stored job's text: the centre's own when it still lists it (with its
    /// content check), else the text as it stands.
    pub fn target_of(&self, centre: &Centre, text: &str) -> Target {
        match self {
            Kit::Phone(_) => Target::Phone(text.to_string()),
            Kit::Web(k) => Target::Web(
                k.targets(centre)
                    .into_iter()
                    .find(|t| {
                        t.url.as_str() == text
                            || t.url.as_str().trim_end_matches('/') == text.trim_end_matches('/')
                    })
                    .unwrap_or_else(|| WebTarget {
                        url: url::Url::parse(text).expect("a stored URL"),
                        centre: Some(centre.id.clone()),
                        expect: None,
                        phones: centre.phones.clone(),
                    }),
            ),
        }
    }

    /// Probes one of `centre`'s targets: a failed probe is a result.
    pub async fn run(&self, centre: &Centre, target: &Target) -> Done {
        match (self, target) {
            (Kit::Phone(k), Target::Phone(number)) => k.call(centre, number).await,
            (Kit::Web(k), Target::Web(t)) => k.check(t).await,
            // Targets come from the same kit: a mismatch is a bug, shown as the kit's own
            // target of the text rather than a panic in a probe task.
            (kit, t) => Box::pin(kit.run(centre, &kit.target_of(centre, &t.text()))).await,
        }
    }

    /// Ends what the kit started (the browser).
    pub async fn shutdown(&self) {
        match self {
            Kit::Phone(_) => {}
            Kit::Web(k) => k.shutdown().await,
        }
    }
}

/// What a web probe needs, built once per sweep (or per `raqib serve`).
#[derive(Clone)]
pub struct WebKit {
    probe: WebProbe,
    auditor: Option<Arc<Auditor>>,
    pages: usize,
    check: crate::config::ContentCheck,
}

impl WebKit {
    pub fn new(config: &Config, store: &Store) -> Result<WebKit, SweepError> {
        Ok(WebKit {
            probe: WebProbe::new(&config.web)?,
            auditor: match config.browser.enabled {
                true => Some(Arc::new(Auditor::new(
                    &config.browser,
                    &config.web,
                    store.evidence_dir(),
                )?)),
                false => None,
            },
            pages: config.browser.pages_per_site,
            check: config.web.content_check,
        })
    }

    /// The centre's targets on this kit's content check.
    pub fn targets(&self, centre: &Centre) -> Vec<WebTarget> {
        WebTarget::of_centre(centre, self.check)
    }

    pub async fn check(&self, target: &WebTarget) -> Done {
        Done::web(
            &self
                .probe
                .check_site(target, self.auditor.as_deref(), self.pages)
                .await,
        )
    }

    pub async fn shutdown(&self) {
        if let Some(a) = &self.auditor {
            a.shutdown().await;
        }
    }
}

/// What a test call needs, built once per sweep (or per `raqib serve`).
#[derive(Clone)]
pub struct PhoneKit {
    probe: CallProbe,
    opts: CallOptions,
    guard: Arc<crate::config::GuardConfig>,
    store: Store,
}

impl PhoneKit {
    pub async fn new(config: &Config, store: &Store) -> Result<PhoneKit, SweepError> {
        let probe = CallProbe::new(config, store.evidence_dir()).await?;
        if config.trunk.register {
            let r = probe.register(config.trunk.register_expires, true).await?;
            if !r.ok {
                return Err(ProbeError::Register(format!(
                    "{}: {}",
                    r.registrar,
                    r.detail.unwrap_or_default()
                ))
                .into());
            }
        }
        let opts = CallOptions::new(
            std::time::Duration::from_secs(config.call.ring_timeout_secs),
            config.call.after_answer.clone(),
            &config.call.scripts_dir,
        )
        .map_err(SweepError::Script)?;
        Ok(PhoneKit {
            probe,
            opts,
            guard: Arc::new(config.guard.clone()),
            store: store.clone(),
        })
    }

    /// Calls one of `centre`'s numbers. The guard is asked now, when the call is about to be
    /// placed, not when the sweep was planned, so an interrupted sweep spends no number's
    /// daily cap on calls it never made.
    pub async fn call(&self, centre: &Centre, number: &str) -> Done {
        let target = CallTarget {
            uri: self.probe.uri_for(number),
            number: Some(number.to_string()),
            centre: Some(centre.id.clone()),
            unlisted: false,
        };
        let guard = DiallingGuard::new(&self.guard, &self.store);
        let mut r = match guard
            .admit(number, true, false, centre.tz(), Utc::now())
            .await
        {
            Ok(Ok(())) => self.probe.call(&target, &self.opts).await,
            Ok(Err(why)) => self
                .probe
                .refused(&target, why.to_string(), &self.opts.after_answer),
            // Without the ledger nothing is dialled: raqib's fault, never the centre's.
            Err(e) => {
                let mut r = self.probe.refused(
                    &target,
                    format!("dialling guard unavailable: {e}"),
                    &self.opts.after_answer,
                );
                r.outcome = crate::probe::call::CallOutcome::Error;
                r
            }
        };
        r.mark_hours(Some(centre));
        Done::call(&r)
    }
}
