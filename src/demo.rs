//! `raqib demo`: the sample centres into the store, the lab started in this process, then a
//! phone sweep and a web sweep of it: the whole job on one machine, touching no real centre.

use crate::config::Config;
use crate::lab::{Lab, LabError};
use crate::probe::Channel;
use crate::registry::Centre;
use crate::schedule::sweep::{self, ProgressStyle, SweepError, SweepSummary};
use crate::store::{Store, StoreError, Upserted};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

/// What the two sweeps found.
pub struct Demo {
    pub phone: SweepSummary,
    pub web: SweepSummary,
}

/// Imports `centres`, starts the lab for them and sweeps both channels. `ready` is told what
/// the import changed and where the lab listens, before the sweeps start.
pub async fn run(
    config: &Config,
    store: &Store,
    centres: &[Centre],
    ready: impl FnOnce(&Upserted, &Lab),
) -> Result<Demo, DemoError> {
    let counts = store.upsert_centres(centres).await?;
    let lab = Lab::start(&config.lab, centres).await?;
    ready(&counts, &lab);
    // The lab's centre that never answers would hold the demo for the full minute.
    let mut config = config.clone();
    config.call.ring_timeout_secs = config.call.ring_timeout_secs.min(15);
    let (style, selection) = (ProgressStyle::Auto, "demo");
    let phone = sweep::run_channel(&config, store, Channel::Phone, centres, selection, style).await;
    let web = sweep::run_channel(&config, store, Channel::Web, centres, selection, style).await;
    lab.stop();
    Ok(Demo {
        phone: phone?,
        web: web?,
    })
}
