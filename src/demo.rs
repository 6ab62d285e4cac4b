//! `raqib demo`: the sample centres into the store, the lab started in this process, then a
//! sweep of it on every channel: the whole job on one machine, touching no real centre.

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

/// What the sweeps found: one per channel, in the order of `Channel::ALL`.
pub struct Demo {
    pub sweeps: Vec<SweepSummary>,
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
    let mut sweeps = Vec::new();
    // Every channel is swept even when one fails; the first failure is the answer.
    for channel in Channel::ALL {
        sweeps.push(sweep::run_channel(&config, store, channel, centres, selection, style).await);
    }
    lab.stop();
    Ok(Demo {
        sweeps: sweeps.into_iter().collect::<Result<_, _>>()?,
    })
}
