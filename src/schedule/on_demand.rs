//! Probes an auditor asks for now (`raqib probe`, the dashboard's "probe now", `POST
//! /api/probe`): one number, URI, page or centre, through the same dialling guard as sweeps,
//! each result stored as soon as it ends.

use chrono_tz::Tz;

use crate::config::{AfterAnswer, Config};
use crate::probe::call::{CallOptions, CallProbe, CallResult, CallTarget};
use crate::probe::web::audit::{AuditError, Auditor};
use crate::probe::web::{parse_url, WebProbe, WebResult, WebTarget};
use crate::probe::{Channel, ProbeError};
use crate::registry::Centre;
use crate::schedule::guard::{dial_number, DialNumber, DiallingGuard};
use crate::schedule::sweep::Done;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OnDemandError {
    /// The request itself is wrong: the user must fix it.
    #[error("{0}")]
    Bad(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

fn bad(msg: impl Into<String>) -> OnDemandError {
    OnDemandError::Bad(msg.into())
}

/// A call asked for: `target` is an E.164 number, a sip: URI or a centre id.
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    pub target: String,
    /// Seconds of ringing before CANCEL [default: the config's].
    pub ring_timeout: Option<u64>,
    /// The policy after answer [default: the config's].
    pub after_answer: Option<AfterAnswer>,
    /// Allow a target outside the registry (recorded with the result).
    pub unlisted: bool,
}

/// Places the calls of `req` one after another; `each` sees every stored result (its id, the
/// call, and the JSON stored) as soon as it is written.
pub async fn call(
    config: &Config,
    store: &Store,
    req: &CallRequest,
    mut each: impl FnMut(i64, &CallResult, &serde_json::Value),
) -> Result<Vec<i64>, OnDemandError> {
    let after = req
        .after_answer
        .clone()
        .unwrap_or_else(|| config.call.after_answer.clone());
    let ring = req.ring_timeout.unwrap_or(config.call.ring_timeout_secs);
    if !(1..=600).contains(&ring) {
        return Err(bad("ring-timeout must be between 1 and 600 seconds"));
    }
    let target = req.target.trim();
    let centres = store.centres().await?;
    let owner = |number: &str| {
        centres
            .iter()
            .find(|c| c.phones.iter().any(|p| p == number))
    };
    let probe = CallProbe::new(config, store.evidence_dir()).await?;
    let registry_numbers: Vec<String> = centres.iter().flat_map(|c| c.phones.clone()).collect();
    let country_code = config.trunk.country_code.as_deref();
    // (target, time zone for the daily cap, the centre it belongs to, why it is never dialled)
    let mut targets: Vec<(CallTarget, Tz, Option<Centre>, Option<String>)> = Vec::new();
    let scheme = target
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    if scheme == "tel" {
        return Err(bad(format!(
            "'{target}': raqib places calls over sip: or sips: URIs; a tel: number is given as +CC…"
        )));
    }
    if scheme == "sip" || scheme == "sips" {
        // The scheme is case-insensitive (RFC 3261 §19.1.4): one spelling from here on. A
        // sips: number passes exactly the same guard as a sip: one.
        let uri = format!("{scheme}:{}", &target[scheme.len() + 1..]);
        let user = crate::probe::call::sip::message::uri_user(&uri).unwrap_or("");
        let (number, refuse) = match dial_number(user, &registry_numbers, country_code) {
            DialNumber::E164(n) => (Some(n), None),
            DialNumber::NotANumber if req.unlisted => (None, None),
            DialNumber::NotANumber => {
                return Err(bad(format!(
                    "'{target}' is not a number of the registry: add --unlisted to call it"
                )))
            }
            DialNumber::Unclear(why) => (None, Some(why)),
        };
        let c = number.as_deref().and_then(owner);
        targets.push((
            CallTarget {
                uri,
                number,
                centre: c.map(|c| c.id.clone()),
                unlisted: c.is_none(),
            },
            c.map(|c| c.tz()).unwrap_or(chrono_tz::UTC),
            c.cloned(),
            refuse,
        ));
    } else if let Some(c) = store.centre(target).await? {
        if c.phones.is_empty() {
            return Err(bad(format!("centre '{target}' has no phone number")));
        }
        for n in &c.phones {
            targets.push((
                CallTarget {
                    uri: probe.uri_for(n),
                    number: Some(n.clone()),
                    centre: Some(c.id.clone()),
                    unlisted: false,
                },
                c.tz(),
                Some(c.clone()),
                None,
            ));
        }
    } else {
        let n = match dial_number(target, &registry_numbers, country_code) {
            DialNumber::E164(n) => n,
            DialNumber::Unclear(why) => return Err(bad(why)),
            DialNumber::NotANumber => {
                return Err(bad(format!(
                    "'{target}' is neither a number, a sip: URI nor a known centre id"
                )))
            }
        };
        let c = owner(&n);
        targets.push((
            CallTarget {
                uri: probe.uri_for(&n),
                number: Some(n.clone()),
                centre: c.map(|c| c.id.clone()),
                unlisted: c.is_none(),
            },
            c.map(|c| c.tz()).unwrap_or(chrono_tz::UTC),
            c.cloned(),
            None,
        ));
    }
    // Registration only once the request is known to be sound.
    if config.trunk.register {
        let r = probe.register(config.trunk.register_expires, true).await?;
        if !r.ok {
            return Err(OnDemandError::Probe(ProbeError::Register(format!(
                "{}: {}",
                r.registrar,
                r.detail.unwrap_or_default()
            ))));
        }
    }
    let opts = CallOptions::new(
        std::time::Duration::from_secs(ring),
        after,
        &config.call.scripts_dir,
    )
    .map_err(|e| bad(e.to_string()))?;
    let guard = DiallingGuard::new(&config.guard, store);
    let mut ids = Vec::with_capacity(targets.len());
    for (t, tz, centre, refuse) in &targets {
        let mut result = match (&t.number, refuse) {
            (_, Some(why)) => probe.refused(t, why.clone(), &opts.after_answer),
            (Some(n), None) => match guard
                .admit(n, centre.is_some(), req.unlisted, *tz, chrono::Utc::now())
                .await?
            {
                Ok(()) => probe.call(t, &opts).await,
                Err(why) => probe.refused(t, why.to_string(), &opts.after_answer),
            },
            // A sip: URI that is no phone number (a lab or PBX extension), allowed above.
            (None, None) => probe.call(t, &opts).await,
        };
        result.mark_hours(centre.as_ref());
        let done = Done::call(&result);
        let id = store.insert_result(&done.stored(None)).await?;
        each(id, &result, &done.data);
        ids.push(id);
    }
    Ok(ids)
}

/// A site check asked for: `target` is an http(s) URL or a centre id (all its sites).
#[derive(Debug, Clone, Default)]
pub struct WebRequest {
    pub target: String,
    /// The page must contain this text (default for a centre: the config's content check).
    pub expect: Option<String>,
    /// HTTP check only, no browser audit.
    pub no_browser: bool,
    /// Pages audited besides the home page [default: the config's].
    pub pages: Option<usize>,
}

/// Checks the sites of `req` one after another; `each` sees every stored result.
pub async fn web(
    config: &Config,
    store: &Store,
    req: &WebRequest,
    mut each: impl FnMut(i64, &WebResult, &serde_json::Value),
) -> Result<Vec<i64>, OnDemandError> {
    let pages = req.pages.unwrap_or(config.browser.pages_per_site);
    if pages > 1000 {
        return Err(bad("pages must be at most 1000"));
    }
    let target = req.target.trim();
    let targets: Vec<WebTarget> = if target.contains("://") {
        vec![WebTarget {
            url: parse_url(target).map_err(|e| bad(e.to_string()))?,
            centre: None,
            expect: req.expect.clone(),
            phones: Vec::new(),
        }]
    } else {
        let centre = store.centre(target).await?.ok_or_else(|| {
            bad(format!(
                "'{target}' is neither a URL nor a known centre id (see `raqib centres list`)"
            ))
        })?;
        let mut t = WebTarget::of_centre(&centre, config.web.content_check);
        if t.is_empty() {
            return Err(bad(format!("centre '{target}' has no website")));
        }
        if req.expect.is_some() {
            for x in &mut t {
                x.expect = req.expect.clone();
            }
        }
        t
    };
    let probe = WebProbe::new(&config.web)?;
    let auditor = if !req.no_browser && config.browser.enabled {
        Some(
            Auditor::new(&config.browser, &config.web, store.evidence_dir())
                .map_err(|e| bad(e.to_string()))?,
        )
    } else {
        None
    };
    let mut ids = Vec::with_capacity(targets.len());
    for t in &targets {
        let result = probe.check_site(t, auditor.as_ref(), pages).await;
        let done = Done::web(&result);
        let id = store.insert_result(&done.stored(None)).await?;
        each(id, &result, &done.data);
        ids.push(id);
    }
    Ok(ids)
}

/// A probe asked for with the channel's defaults (the dashboard's "probe now", `POST
/// /api/probe`): the options that only one channel reads are ignored by the others.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    pub channel: Channel,
    pub target: String,
    /// Calls: allow a number outside the registry.
    pub unlisted: bool,
    /// Sites: HTTP check only.
    pub no_browser: bool,
    /// Sites: pages audited besides the home page.
    pub pages: Option<usize>,
}

/// Runs `req` on its channel; the ids of the stored results.
pub async fn probe(
    config: &Config,
    store: &Store,
    req: &ProbeRequest,
) -> Result<Vec<i64>, OnDemandError> {
    match req.channel {
        Channel::Phone => {
            let req = CallRequest {
                target: req.target.clone(),
                unlisted: req.unlisted,
                ..CallRequest::default()
            };
            call(config, store, &req, |_, _, _| {}).await
        }
        Channel::Web => {
            let req = WebRequest {
                target: req.target.clone(),
                no_browser: req.no_browser,
                pages: req.pages,
                ..WebRequest::default()
            };
            web(config, store, &req, |_, _, _| {}).await
        }
    }
}
