//! The lab: simulated centres on loopback, so that sweeps, demos and benchmarks have
//! something real to probe on any machine. `raqib lab` runs it in the foreground;
//! `raqib demo` runs it inside the sweep's own process.
//!
//! Websites (`web.rs`): `/ok/ID/` a good Arabic page, `/slow/ID/` the same page late,
//! `/error/ID/` a 500, `/moved/ID/` a 301 to `/ok/ID/`; on plain HTTP, on HTTPS with a valid
//! lab certificate, and on HTTPS with an expired one.

pub mod sip;
mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::LabConfig;
use crate::registry::Centre;

pub use web::{LAB_CERT_PEM, LAB_PATHS};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("the lab cannot listen on {addr}: {source} (is another lab running? change [lab] in the config)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the lab's TLS set-up failed: {0}")]
    Tls(String),
    #[error("lab.phones: '{number}' = '{behaviour}': unknown behaviour (answer:MS[~JITTER], human, ivr, music, voicemail, hangup:MS, byecause:CAUSE, busy, unavailable, declined, not_in_service, congested, reject:CODE, cause:STATUS:CAUSE, early, sit_early:CODE, sit_answer:CODE, announcement, never, silent)")]
    Phone { number: String, behaviour: String },
}

/// A running lab; its servers stop when it is dropped.
pub struct Lab {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub expired_https: SocketAddr,
    /// The lab's SIP centres (UDP).
    pub sip: SocketAddr,
    /// When each lab call's INVITE arrived and its 200 OK left.
    pub wire: sip::WireLog,
    tasks: tokio::task::JoinSet<()>,
}

impl Lab {
    /// Binds every lab listener (port 0 picks a free one) and starts serving.
    pub async fn start(cfg: &LabConfig, centres: &[Centre]) -> Result<Lab, LabError> {
        let site = Arc::new(web::Site {
            centres: centres
                .iter()
                .map(|c| (c.id.clone(), c.clone()))
                .collect::<HashMap<_, _>>(),
            slow: std::time::Duration::from_millis(cfg.slow_ms),
            https: false,
        });
        let tls_site = Arc::new(web::Site {
            https: true,
            ..(*site).clone()
        });
        let mut tasks = tokio::task::JoinSet::new();
        let http = web::serve(&mut tasks, cfg.http_listen, None, site.clone()).await?;
        let https = web::serve(
            &mut tasks,
            cfg.https_listen,
            Some(web::tls_acceptor(web::LAB_CERT_PEM, web::LAB_KEY_PEM)?),
            tls_site.clone(),
        )
        .await?;
        let expired_https = web::serve(
            &mut tasks,
            cfg.expired_https_listen,
            Some(web::tls_acceptor(
                web::EXPIRED_CERT_PEM,
                web::EXPIRED_KEY_PEM,
            )?),
            tls_site,
        )
        .await?;
        let mut phones = HashMap::new();
        for (number, behaviour) in &cfg.phones {
            let b = sip::Behaviour::parse(behaviour).ok_or_else(|| LabError::Phone {
                number: number.clone(),
                behaviour: behaviour.clone(),
            })?;
            phones.insert(number.clone(), b);
        }
        let (sip, wire) = sip::serve(&mut tasks, cfg.sip_listen, phones)
            .await
            .map_err(|source| LabError::Bind {
                addr: cfg.sip_listen,
                source,
            })?;
        Ok(Lab {
            http,
            https,
            expired_https,
            sip,
            wire,
            tasks,
        })
    }

    /// One line a script can wait for: the lab is ready and where.
    pub fn ready_line(&self) -> String {
        format!(
            "lab ready: http://{} https://{} expired-https://{} sip://{}",
            self.http, self.https, self.expired_https, self.sip
        )
    }

    pub fn stop(mut self) {
        self.tasks.abort_all();
    }
}
